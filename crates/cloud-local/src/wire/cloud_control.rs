//! The Cloud Control operations: reading a request body (`DesiredState`,
//! `PatchDocument` and `ResourceModel` are JSON inside JSON strings),
//! calling the port, rendering events with epoch-second times, and mapping
//! port errors to Cloud Control's exception names.

use infraguard_core::{Cloud, CloudError, ErrorCode, ProgressEvent, ResourceType, Timestamp};
use infraguard_schema::Catalog;
use serde_json::{Map, Value, json};

const TARGET_PREFIX: &str = "CloudApiService.";

/// An error reply: HTTP status, AWS exception name, message.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct WireError {
    pub(super) status: u16,
    pub(super) kind: String,
    pub(super) message: String,
}

impl WireError {
    fn validation(message: impl Into<String>) -> WireError {
        WireError {
            status: 400,
            kind: "ValidationException".into(),
            message: message.into(),
        }
    }
}

/// Map a port error to Cloud Control's exception for `operation`.
fn cloud_error(e: CloudError, operation: &str, type_name: Option<&ResourceType>) -> WireError {
    match e {
        CloudError::Service { code, message } => {
            let kind = match &code {
                ErrorCode::NotFound if operation == "GetResourceRequestStatus" => {
                    "RequestTokenNotFoundException".to_string()
                }
                ErrorCode::NotFound => "ResourceNotFoundException".into(),
                ErrorCode::InvalidRequest
                    if type_name.is_some_and(|t| Catalog::builtin().get(t).is_err()) =>
                {
                    "TypeNotFoundException".into()
                }
                ErrorCode::InternalFailure => "HandlerInternalFailureException".into(),
                ErrorCode::GeneralServiceException => "GeneralServiceException".into(),
                ErrorCode::ServiceTimeout => "ServiceInternalErrorException".into(),
                ErrorCode::ServiceInternalError => "ServiceInternalErrorException".into(),
                other => format!("{}Exception", other.as_str()),
            };
            WireError {
                status: 400,
                kind,
                message,
            }
        }
        CloudError::Transport(m) | CloudError::Internal(m) => WireError {
            status: 500,
            kind: "InternalFailure".into(),
            message: m,
        },
    }
}

/// The JSON object of a request body (an empty body is `{}`).
fn input(body: &[u8]) -> Result<Map<String, Value>, WireError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(WireError {
            status: 400,
            kind: "SerializationException".into(),
            message: format!(
                "the request body must be a JSON object, got {}",
                kind_of(&other)
            ),
        }),
        Err(e) => Err(WireError {
            status: 400,
            kind: "SerializationException".into(),
            message: format!("the request body is not valid JSON: {e}"),
        }),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn opt_str<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, WireError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(WireError::validation(format!(
            "{key} must be a string, got {}",
            kind_of(other)
        ))),
    }
}

fn req_str<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a str, WireError> {
    opt_str(m, key)?.ok_or_else(|| WireError::validation(format!("{key} is required")))
}

/// A field that carries a JSON document as a string (DesiredState, …).
fn json_doc(m: &Map<String, Value>, key: &str) -> Result<Option<Value>, WireError> {
    opt_str(m, key)?
        .map(|s| {
            serde_json::from_str(s).map_err(|e| {
                WireError::validation(format!("{key} must hold a JSON document as a string: {e}"))
            })
        })
        .transpose()
}

fn type_name(m: &Map<String, Value>) -> Result<ResourceType, WireError> {
    let raw = req_str(m, "TypeName")?;
    ResourceType::new(raw).map_err(|e| WireError::validation(e.to_string()))
}

/// Epoch seconds, the awsJson timestamp format.
fn epoch(rfc3339: &str) -> Option<f64> {
    Timestamp::parse_rfc3339(rfc3339).map(|t| t.0.unix_timestamp_nanos() as f64 / 1e9)
}

fn event_json(ev: &ProgressEvent) -> Value {
    let mut m = Map::new();
    m.insert("TypeName".into(), json!(ev.type_name.as_str()));
    if let Some(id) = &ev.identifier {
        m.insert("Identifier".into(), json!(id));
    }
    m.insert("RequestToken".into(), json!(ev.request_token));
    m.insert("Operation".into(), json!(ev.operation.cloud_control_name()));
    m.insert(
        "OperationStatus".into(),
        json!(ev.operation_status.as_str()),
    );
    let time = epoch(&ev.event_time);
    if let Some(t) = time {
        m.insert("EventTime".into(), json!(t));
    }
    if let Some(model) = &ev.resource_model {
        m.insert("ResourceModel".into(), json!(model));
    }
    if let Some(msg) = &ev.status_message {
        m.insert("StatusMessage".into(), json!(msg));
    }
    if let Some(code) = &ev.error_code {
        m.insert("ErrorCode".into(), json!(code.as_str()));
    }
    // On the wire RetryAfter is a point in time, not a delay.
    if let (Some(after), Some(t)) = (ev.retry_after, time) {
        m.insert("RetryAfter".into(), json!(t + after as f64));
    }
    Value::Object(m)
}

/// Answer one Cloud Control call.
pub(super) fn handle<C: Cloud + ?Sized>(
    cloud: &C,
    target: Option<&str>,
    body: &[u8],
) -> Result<Value, WireError> {
    let Some(operation) = target.and_then(|t| t.strip_prefix(TARGET_PREFIX)) else {
        return Err(WireError {
            status: 400,
            kind: "UnknownOperationException".into(),
            message: format!(
                "X-Amz-Target `{}` is not a Cloud Control operation; expected `{TARGET_PREFIX}<Operation>`",
                target.unwrap_or("")
            ),
        });
    };
    let m = input(body)?;
    match operation {
        "CreateResource" => {
            let t = type_name(&m)?;
            let desired = json_doc(&m, "DesiredState")?
                .ok_or_else(|| WireError::validation("DesiredState is required"))?;
            let token = opt_str(&m, "ClientToken")?.unwrap_or("");
            let ev = cloud
                .create(&t, &desired, token)
                .map_err(|e| cloud_error(e, operation, Some(&t)))?;
            Ok(json!({"ProgressEvent": event_json(&ev)}))
        }
        "GetResource" => {
            let t = type_name(&m)?;
            let id = req_str(&m, "Identifier")?;
            let d = cloud
                .get(&t, id)
                .map_err(|e| cloud_error(e, operation, Some(&t)))?;
            Ok(json!({
                "TypeName": t.as_str(),
                "ResourceDescription": {"Identifier": d.identifier, "Properties": d.properties.to_string()},
            }))
        }
        "UpdateResource" => {
            let t = type_name(&m)?;
            let id = req_str(&m, "Identifier")?;
            let patch = json_doc(&m, "PatchDocument")?
                .ok_or_else(|| WireError::validation("PatchDocument is required"))?;
            let token = opt_str(&m, "ClientToken")?.unwrap_or("");
            let ev = cloud
                .update(&t, id, &patch, token)
                .map_err(|e| cloud_error(e, operation, Some(&t)))?;
            Ok(json!({"ProgressEvent": event_json(&ev)}))
        }
        "DeleteResource" => {
            let t = type_name(&m)?;
            let id = req_str(&m, "Identifier")?;
            let token = opt_str(&m, "ClientToken")?.unwrap_or("");
            let ev = cloud
                .delete(&t, id, token)
                .map_err(|e| cloud_error(e, operation, Some(&t)))?;
            Ok(json!({"ProgressEvent": event_json(&ev)}))
        }
        "ListResources" => {
            let t = type_name(&m)?;
            let next = opt_str(&m, "NextToken")?;
            let model = json_doc(&m, "ResourceModel")?;
            // MaxResults is accepted and ignored: Cloud Control documents it
            // as reserved, and the page size is the cloud's.
            let page = cloud
                .list(&t, next, model.as_ref())
                .map_err(|e| cloud_error(e, operation, Some(&t)))?;
            let descriptions: Vec<Value> = page
                .resources
                .iter()
                .map(
                    |r| json!({"Identifier": r.identifier, "Properties": r.properties.to_string()}),
                )
                .collect();
            let mut out = json!({"TypeName": t.as_str(), "ResourceDescriptions": descriptions});
            if let Some(n) = page.next_token {
                out["NextToken"] = json!(n);
            }
            Ok(out)
        }
        "GetResourceRequestStatus" => {
            let token = req_str(&m, "RequestToken")?;
            let ev = cloud
                .request_status(token)
                .map_err(|e| cloud_error(e, operation, None))?;
            Ok(json!({"ProgressEvent": event_json(&ev)}))
        }
        other => Err(WireError {
            status: 400,
            kind: "UnknownOperationException".into(),
            message: format!(
                "`{other}` is not served by the local cloud; it serves CreateResource, GetResource, UpdateResource, DeleteResource, ListResources and GetResourceRequestStatus"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use infraguard_core::{Operation, OperationStatus};

    use super::*;

    #[test]
    fn events_use_epoch_seconds_and_retry_after_is_a_time() {
        let ev = ProgressEvent {
            type_name: ResourceType::new("AWS::S3::Bucket").expect("type"),
            identifier: Some("b".into()),
            request_token: "rt".into(),
            operation: Operation::Create,
            operation_status: OperationStatus::InProgress,
            event_time: "2026-11-26T00:00:00Z".into(),
            resource_model: None,
            status_message: None,
            error_code: None,
            retry_after: Some(5),
        };
        let v = event_json(&ev);
        assert_eq!(v["EventTime"], json!(1_795_651_200.0));
        assert_eq!(v["RetryAfter"], json!(1_795_651_205.0));
        assert_eq!(v["Operation"], "CREATE");
        assert_eq!(v["OperationStatus"], "IN_PROGRESS");
        assert!(v.get("ErrorCode").is_none());
    }

    #[test]
    fn error_codes_map_to_cloud_control_exceptions() {
        let kind = |code: ErrorCode, op: &str, t: Option<&str>| {
            let t = t.map(|t| ResourceType::new(t).expect("type"));
            cloud_error(CloudError::service(code, "m"), op, t.as_ref()).kind
        };
        assert_eq!(
            kind(ErrorCode::NotFound, "GetResource", None),
            "ResourceNotFoundException"
        );
        assert_eq!(
            kind(ErrorCode::NotFound, "GetResourceRequestStatus", None),
            "RequestTokenNotFoundException"
        );
        assert_eq!(
            kind(
                ErrorCode::InvalidRequest,
                "CreateResource",
                Some("AWS::S3::Nope")
            ),
            "TypeNotFoundException"
        );
        assert_eq!(
            kind(
                ErrorCode::InvalidRequest,
                "UpdateResource",
                Some("AWS::S3::Bucket")
            ),
            "InvalidRequestException"
        );
        assert_eq!(
            kind(ErrorCode::Throttling, "GetResource", None),
            "ThrottlingException"
        );
        assert_eq!(
            kind(
                ErrorCode::Other("ClientTokenConflict".into()),
                "CreateResource",
                None
            ),
            "ClientTokenConflictException"
        );
        let internal = cloud_error(CloudError::Internal("disk".into()), "GetResource", None);
        assert_eq!(
            (internal.status, internal.kind.as_str()),
            (500, "InternalFailure")
        );
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert_eq!(input(b"").expect("empty is {}"), Map::new());
        assert_eq!(
            input(b"[1]").map_err(|e| e.kind),
            Err("SerializationException".to_string())
        );
        assert_eq!(
            input(b"{nope").map_err(|e| e.kind),
            Err("SerializationException".to_string())
        );
    }
}
