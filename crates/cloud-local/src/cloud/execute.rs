//! The handlers: what a create, update or delete does inside the caller's
//! transaction once Cloud Control has accepted it, and every way it can end
//! `FAILED` (invalid properties, duplicates, create-only or read-only paths
//! in a patch, what the service refuses). A failed request changes nothing.

use infraguard_core::pointer::{pointer_touches, pointer_under};
use infraguard_core::{
    CloudError, ErrorCode, Operation, OperationStatus, ResourceSchema, ResourceType,
};
use infraguard_schema::{is_intrinsic, validate_create, validate_state};
use json_patch::PatchOperation;
use rusqlite::Connection;
use serde_json::{Map, Value};

use crate::attributes::{self, Context};
use crate::db::{self, RequestRow};
use crate::refusals;
use infraguard_core::pointer;

use super::internal;
use super::request::{Mutation, parse_patch, short};

/// How a handler ended.
pub(super) struct Outcome {
    status: OperationStatus,
    identifier: Option<String>,
    error_code: Option<ErrorCode>,
    message: Option<String>,
    model: Option<Value>,
}

impl Outcome {
    fn success(identifier: String, model: Option<Value>) -> Outcome {
        Outcome {
            status: OperationStatus::Success,
            identifier: Some(identifier),
            error_code: None,
            message: None,
            model,
        }
    }

    fn failed(code: ErrorCode, identifier: Option<String>, message: String) -> Outcome {
        Outcome {
            status: OperationStatus::Failed,
            identifier,
            error_code: Some(code),
            message: Some(message),
            model: None,
        }
    }

    pub(super) fn record(self, row: &mut RequestRow) {
        row.status = self.status;
        if self.identifier.is_some() {
            row.identifier = self.identifier;
        }
        row.error_code = self.error_code;
        row.status_message = self.message;
        row.resource_model = self.model.map(|m| m.to_string());
        row.pending_input = None;
        row.polls_left = 0;
    }
}

/// Remove everything the schema marks write-only: AWS never returns those
/// (passwords, code archives), and secrets must not leave the store.
pub(super) fn visible(schema: &ResourceSchema, props: &Value) -> Value {
    let mut out = props.clone();
    for pattern in &schema.write_only {
        pointer::remove_all(&mut out, pattern);
    }
    out
}

/// Every place in `props` that holds an unresolved intrinsic function.
/// Cloud Control takes literal values only; a `{"Ref": …}` reaching it is a
/// bug upstream that would otherwise be stored as an odd object.
fn intrinsics(props: &Value, here: &str, out: &mut Vec<String>) {
    if is_intrinsic(props) {
        out.push(format!(
            "`{}` holds the unresolved intrinsic function {}; Cloud Control takes literal values, resolve it first",
            if here.is_empty() { "/" } else { here },
            short(props)
        ));
        return;
    }
    match props {
        Value::Object(map) => {
            for (k, v) in map {
                intrinsics(
                    v,
                    &format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                intrinsics(v, &format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn problems_message(type_name: &ResourceType, messages: &[String]) -> String {
    let n = messages.len();
    format!(
        "{n} problem{} with the properties of {type_name}: {}",
        if n == 1 { "" } else { "s" },
        messages.join("; ")
    )
}

/// Run a mutation's handler inside the caller's transaction.
pub(super) fn execute(
    tx: &Connection,
    schema: &ResourceSchema,
    req: &Mutation<'_>,
    inject_failure: bool,
    ctx: &mut Context<'_>,
) -> Result<Outcome, CloudError> {
    let t = req.type_name;
    if inject_failure {
        let id = req
            .identifier
            .map(str::to_string)
            .or_else(|| req.input.and_then(|d| schema.identifier_of(d)));
        return Ok(Outcome::failed(
            ErrorCode::ServiceInternalError,
            id,
            format!(
                "{} of {t} failed inside the service (fault injected by the local cloud: fail_next); nothing was changed, retry with a new client token",
                req.operation.cloud_control_name()
            ),
        ));
    }
    let now = ctx.now.rfc3339();
    match req.operation {
        Operation::Create => {
            let empty = Value::Object(Map::new());
            let desired = match req.input {
                Some(Value::Null) | None => &empty,
                Some(d) => d,
            };
            let mut messages: Vec<String> = validate_create(schema, desired)
                .into_iter()
                .map(|p| p.message)
                .collect();
            intrinsics(desired, "", &mut messages);
            if !messages.is_empty() {
                return Ok(Outcome::failed(
                    ErrorCode::InvalidRequest,
                    schema.identifier_of(desired),
                    problems_message(t, &messages),
                ));
            }
            // The service's own refusals come after the schema's, as the
            // handler only calls the service with a valid model.
            if let Some(r) = refusals::create(t.as_str(), desired) {
                return Ok(Outcome::failed(
                    r.code,
                    schema.identifier_of(desired),
                    r.message,
                ));
            }
            let mut props = desired.clone();
            attributes::generate(schema, &mut props, ctx);
            let Some(id) = schema.identifier_of(&props) else {
                return Ok(Outcome::failed(
                    ErrorCode::InvalidRequest,
                    None,
                    format!(
                        "cannot form the identifier of {t} from {}: each of {} must be a string or number",
                        short(&props),
                        schema.primary_identifier.join(", ")
                    ),
                ));
            };
            if db::get_resource(tx, t.as_str(), &id)?.is_some() {
                return Ok(Outcome::failed(
                    ErrorCode::AlreadyExists,
                    Some(id.clone()),
                    format!(
                        "{t} `{id}` already exists; choose another name or update the existing resource"
                    ),
                ));
            }
            db::insert_resource(tx, t.as_str(), &id, &props, &now).map_err(internal)?;
            Ok(Outcome::success(id, Some(visible(schema, &props))))
        }
        Operation::Update => {
            let id = req.identifier.unwrap_or_default().to_string();
            let Some(current) = db::get_resource(tx, t.as_str(), &id)? else {
                return Ok(not_found(t, &id));
            };
            let patch = parse_patch(req.input.unwrap_or(&Value::Null))?;
            if let Some(refusal) = check_patch_paths(schema, &id, &patch) {
                return Ok(refusal);
            }
            let mut next = current.clone();
            if let Err(e) = json_patch::patch(&mut next, &patch) {
                return Ok(Outcome::failed(
                    ErrorCode::InvalidRequest,
                    Some(id.clone()),
                    format!(
                        "the patch does not apply to {t} `{id}`: operation {} at `{}`: {}; read the resource again and build the patch from its current properties",
                        e.operation, e.path, e.kind
                    ),
                ));
            }
            if !next.is_object() {
                return Ok(Outcome::failed(
                    ErrorCode::InvalidRequest,
                    Some(id.clone()),
                    format!(
                        "the patch turns the properties of {t} `{id}` into `{}`, not an object",
                        short(&next)
                    ),
                ));
            }
            attributes::keep_read_only(schema, &current, &mut next);
            let mut messages: Vec<String> = validate_state(schema, &next)
                .into_iter()
                .map(|p| p.message)
                .collect();
            intrinsics(&next, "", &mut messages);
            if !messages.is_empty() {
                return Ok(Outcome::failed(
                    ErrorCode::InvalidRequest,
                    Some(id.clone()),
                    problems_message(t, &messages),
                ));
            }
            attributes::refresh_on_update(schema, &current, &mut next, ctx);
            db::update_resource(tx, t.as_str(), &id, &next, &now).map_err(internal)?;
            Ok(Outcome::success(id, Some(visible(schema, &next))))
        }
        Operation::Delete => {
            let id = req.identifier.unwrap_or_default().to_string();
            let Some(current) = db::get_resource(tx, t.as_str(), &id)? else {
                return Ok(not_found(t, &id));
            };
            if let Some(r) = refusals::delete(t.as_str(), &id, &current) {
                return Ok(Outcome::failed(r.code, Some(id), r.message));
            }
            if db::delete_resource(tx, t.as_str(), &id).map_err(internal)? {
                Ok(Outcome::success(id, None))
            } else {
                Ok(not_found(t, &id))
            }
        }
    }
}

fn not_found(t: &ResourceType, id: &str) -> Outcome {
    Outcome::failed(
        ErrorCode::NotFound,
        Some(id.to_string()),
        format!("{t} `{id}` does not exist in this account; list the type to see what does"),
    )
}

/// Refuse a patch that writes a create-only property (`NotUpdatable`) or a
/// read-only one (`InvalidRequest`).
fn check_patch_paths(
    schema: &ResourceSchema,
    id: &str,
    patch: &[PatchOperation],
) -> Option<Outcome> {
    let t = &schema.type_name;
    let mut create_only = Vec::new();
    let mut read_only = Vec::new();
    for op in patch {
        let written: Vec<&str> = match op {
            PatchOperation::Add(o) => vec![o.path.as_str()],
            PatchOperation::Remove(o) => vec![o.path.as_str()],
            PatchOperation::Replace(o) => vec![o.path.as_str()],
            // A move also removes its source.
            PatchOperation::Move(o) => vec![o.path.as_str(), o.from.as_str()],
            PatchOperation::Copy(o) => vec![o.path.as_str()],
            PatchOperation::Test(_) => vec![],
        };
        for p in written {
            // Writing a parent of a create-only property may change it, so
            // that counts too.
            if let Some(co) = schema.create_only.iter().find(|co| pointer_touches(co, p)) {
                create_only.push(format!("`{p}` (create-only `{co}`)"));
            // A parent of a read-only property may be rewritten: the
            // read-only values are carried over from the current state.
            } else if let Some(ro) = schema.read_only.iter().find(|ro| pointer_under(ro, p)) {
                read_only.push(format!("`{p}` (read-only `{ro}`)"));
            }
        }
    }
    if !create_only.is_empty() {
        return Some(Outcome::failed(
            ErrorCode::NotUpdatable,
            Some(id.to_string()),
            format!(
                "{t} `{id}` cannot change {} after creation: the patch writes {}; replace the resource (delete and create) to change it",
                if create_only.len() == 1 {
                    "this property"
                } else {
                    "these properties"
                },
                create_only.join(", ")
            ),
        ));
    }
    if !read_only.is_empty() {
        return Some(Outcome::failed(
            ErrorCode::InvalidRequest,
            Some(id.to_string()),
            format!(
                "the patch for {t} `{id}` writes {}, which the cloud sets; remove those operations",
                read_only.join(", ")
            ),
        ));
    }
    None
}
