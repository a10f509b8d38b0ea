//! A mutation as the caller sent it: the API-level shape checks, the hash
//! that makes a client token idempotent, and the event a stored request
//! shows.

use infraguard_core::{CloudError, ErrorCode, Operation, ProgressEvent, ResourceType};
use json_patch::PatchOperation;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::RequestRow;

use super::internal;

/// Seconds a client should wait before polling an `IN_PROGRESS` request.
const RETRY_AFTER_SECS: u64 = 1;

/// A mutation as the caller sent it.
pub(super) struct Mutation<'a> {
    pub(super) operation: Operation,
    pub(super) type_name: &'a ResourceType,
    pub(super) identifier: Option<&'a str>,
    /// Desired state (create) or patch document (update).
    pub(super) input: Option<&'a Value>,
}

impl Mutation<'_> {
    /// API-level checks: the request must be well-formed to be accepted.
    pub(super) fn check_shape(&self) -> Result<(), CloudError> {
        match (self.operation, self.input) {
            (Operation::Create, Some(Value::Object(_) | Value::Null)) => Ok(()),
            (Operation::Create, Some(other)) => Err(CloudError::service(
                ErrorCode::InvalidRequest,
                format!(
                    "DesiredState for {} must be a JSON object of properties, got `{}`",
                    self.type_name,
                    short(other)
                ),
            )),
            (Operation::Update, Some(patch)) => parse_patch(patch).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// What makes two requests "the same" for a client token.
    pub(super) fn hash(&self) -> String {
        let mut text = String::new();
        text.push_str(self.operation.as_str());
        text.push('\n');
        text.push_str(self.type_name.as_str());
        text.push('\n');
        text.push_str(self.identifier.unwrap_or(""));
        text.push('\n');
        if let Some(input) = self.input {
            canonical(input, &mut text);
        }
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// JSON with object keys sorted, whatever map order serde_json was built
/// with, so that the same request always hashes the same.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                canonical(&map[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A value cut short for an error message.
pub(super) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

pub(super) fn parse_patch(patch: &Value) -> Result<Vec<PatchOperation>, CloudError> {
    if !patch.is_array() {
        return Err(CloudError::service(
            ErrorCode::InvalidRequest,
            format!(
                "PatchDocument must be a JSON array of RFC 6902 operations, got `{}`",
                short(patch)
            ),
        ));
    }
    serde_json::from_value::<json_patch::Patch>(patch.clone())
        .map(|p| p.0)
        .map_err(|e| {
            CloudError::service(
                ErrorCode::InvalidRequest,
                format!(
                    "PatchDocument is not a valid RFC 6902 JSON Patch ({e}); each operation needs `op` (add, remove, replace, move, copy, test) and a `path`: `{}`",
                    short(patch)
                ),
            )
        })
}

/// The event a stored request shows now.
pub(super) fn original_event(row: &RequestRow) -> Result<ProgressEvent, CloudError> {
    let type_name = ResourceType::new(&row.type_name).map_err(internal)?;
    Ok(ProgressEvent {
        type_name,
        identifier: row.identifier.clone(),
        request_token: row.request_token.clone(),
        operation: row.operation,
        operation_status: row.status,
        event_time: row.event_time.clone(),
        resource_model: row.resource_model.clone(),
        status_message: row.status_message.clone(),
        error_code: row.error_code.clone(),
        retry_after: (!row.status.is_terminal()).then_some(RETRY_AFTER_SECS),
    })
}
