//! The `impl Cloud` of [`LocalCloud`]: each port call as one transaction,
//! and `list`'s continuation tokens and `ResourceModel` filter.

use infraguard_core::{
    Cloud, CloudError, ErrorCode, Identity, ListPage, Operation, OperationStatus, ProgressEvent,
    ResourceDescription, ResourceSchema, ResourceType,
};
use serde_json::{Map, Value};

use crate::db;

use super::execute::{execute, visible};
use super::request::{Mutation, original_event, short};
use super::{LocalCloud, internal};

/// `list` continuation tokens: hex of `type \n last identifier`. Opaque to
/// callers; carrying the type lets a token from another type be refused.
fn encode_token(t: &ResourceType, last_id: &str) -> String {
    hex::encode(format!("{}\n{last_id}", t.as_str()))
}

fn decode_token(t: &ResourceType, token: &str) -> Result<String, CloudError> {
    let bad = || {
        CloudError::service(
            ErrorCode::InvalidRequest,
            format!(
                "NextToken `{}` was not issued by this cloud for {t}; start the listing again without a token",
                token.chars().take(64).collect::<String>()
            ),
        )
    };
    let bytes = hex::decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    match text.split_once('\n') {
        Some((ty, last)) if ty == t.as_str() => Ok(last.to_string()),
        _ => Err(bad()),
    }
}

/// Whether a resource matches a `list` filter: every top-level property of
/// the filter equal in the resource (how Cloud Control uses ResourceModel to
/// scope a listing to a parent, e.g. a user pool's clients).
fn matches_model(props: &Value, model: &Map<String, Value>) -> bool {
    model.iter().all(|(k, v)| props.get(k) == Some(v))
}

impl Cloud for LocalCloud {
    fn create(
        &self,
        type_name: &ResourceType,
        desired_state: &Value,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError> {
        self.mutate(
            Mutation {
                operation: Operation::Create,
                type_name,
                identifier: None,
                input: Some(desired_state),
            },
            client_token,
        )
    }

    fn get(
        &self,
        type_name: &ResourceType,
        identifier: &str,
    ) -> Result<ResourceDescription, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        let schema = Self::schema_of(type_name)?;
        let found = db::get_resource(&call.tx, type_name.as_str(), identifier)?;
        call.tx.commit().map_err(internal)?;
        match found {
            Some(props) => Ok(ResourceDescription {
                identifier: identifier.to_string(),
                properties: visible(schema, &props),
            }),
            None => Err(CloudError::service(
                ErrorCode::NotFound,
                format!(
                    "{type_name} `{identifier}` does not exist in this account; list the type to see what does"
                ),
            )),
        }
    }

    fn update(
        &self,
        type_name: &ResourceType,
        identifier: &str,
        patch: &Value,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError> {
        self.mutate(
            Mutation {
                operation: Operation::Update,
                type_name,
                identifier: Some(identifier),
                input: Some(patch),
            },
            client_token,
        )
    }

    fn delete(
        &self,
        type_name: &ResourceType,
        identifier: &str,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError> {
        self.mutate(
            Mutation {
                operation: Operation::Delete,
                type_name,
                identifier: Some(identifier),
                input: None,
            },
            client_token,
        )
    }

    fn list(
        &self,
        type_name: &ResourceType,
        next_token: Option<&str>,
        resource_model: Option<&Value>,
    ) -> Result<ListPage, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        let schema = Self::schema_of(type_name)?;
        let filter = match resource_model {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) if m.is_empty() => None,
            Some(Value::Object(m)) => Some(m),
            Some(other) => {
                return Err(CloudError::service(
                    ErrorCode::InvalidRequest,
                    format!(
                        "ResourceModel for {type_name} must be a JSON object, got `{}`",
                        short(other)
                    ),
                ));
            }
        };
        let mut after = next_token
            .filter(|t| !t.is_empty())
            .map(|t| decode_token(type_name, t))
            .transpose()?;
        let page = self.page_size;
        let mut resources = Vec::with_capacity(page.min(1024));
        let mut more = false;
        // One extra row tells whether another page exists, so the last page
        // carries no token. With a filter, keep reading batches until the
        // page is full or the type is exhausted.
        loop {
            let batch = db::list_after(&call.tx, type_name.as_str(), after.as_deref(), page + 1)?;
            let exhausted = batch.len() <= page;
            for (id, props) in batch {
                after = Some(id.clone());
                if filter.is_some_and(|f| !matches_model(&props, f)) {
                    continue;
                }
                if resources.len() == page {
                    more = true;
                    break;
                }
                resources.push(ResourceDescription {
                    identifier: id,
                    properties: visible(schema, &props),
                });
            }
            if more || exhausted {
                break;
            }
        }
        call.tx.commit().map_err(internal)?;
        let next_token = if more {
            resources
                .last()
                .map(|r| encode_token(type_name, &r.identifier))
        } else {
            None
        };
        Ok(ListPage {
            type_name: type_name.clone(),
            resources,
            next_token,
        })
    }

    fn request_status(&self, request_token: &str) -> Result<ProgressEvent, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        // ErrorCode::NotFound rather than Other("RequestTokenNotFound"): the
        // engine handles one code for "no such thing"; the wire layer maps it
        // to AWS's RequestTokenNotFoundException for this operation.
        let Some(mut row) = db::request_by_token(&call.tx, request_token).map_err(internal)? else {
            return Err(CloudError::service(
                ErrorCode::NotFound,
                format!(
                    "request token `{request_token}` is unknown to this cloud; it comes from the event a create, update or delete returned"
                ),
            ));
        };
        if row.status == OperationStatus::InProgress {
            row.polls_left = row.polls_left.saturating_sub(1);
            if row.polls_left == 0 {
                let type_name = ResourceType::new(&row.type_name).map_err(internal)?;
                let schema = Self::schema_of(&type_name)?;
                let input: Option<Value> = row
                    .pending_input
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(internal)?;
                let req = Mutation {
                    operation: row.operation,
                    type_name: &type_name,
                    identifier: row
                        .identifier
                        .as_deref()
                        .filter(|_| row.operation != Operation::Create),
                    input: input.as_ref(),
                };
                let mut ctx = self.context(call.rng);
                let outcome = execute(&call.tx, schema, &req, row.inject_failure, &mut ctx)?;
                row.event_time = ctx.now.rfc3339();
                outcome.record(&mut row);
            }
            db::save_request(&call.tx, &row).map_err(internal)?;
        }
        call.tx.commit().map_err(internal)?;
        original_event(&row)
    }

    fn schema(&self, type_name: &ResourceType) -> Result<ResourceSchema, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        call.tx.commit().map_err(internal)?;
        Self::schema_of(type_name).cloned()
    }

    fn identity(&self) -> Result<Identity, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        call.tx.commit().map_err(internal)?;
        Ok(Identity {
            account_id: self.account_id.clone(),
            arn: format!("arn:aws:iam::{}:user/infraguard-local", self.account_id),
            region: self.account.region.clone(),
            profile: None,
            auth_kind: "local (embedded cloud)".into(),
        })
    }
}
