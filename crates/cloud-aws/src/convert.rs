//! Translation between the SDK's Cloud Control shapes and the port's, and
//! between AWS errors and [`CloudError`].
//!
//! Errors keep AWS's code and message; the message gains one sentence that
//! says what to do (which action `AccessDenied` lacks, which resource
//! `AlreadyExists` names). Only service errors are `Service`; a request that
//! never got an answer is `Transport`, a reply we cannot read is `Internal`.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudcontrol::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudcontrol::primitives::{DateTime, DateTimeFormat};
use infraguard_core::{
    CloudError, ErrorCode, Operation, OperationStatus, ProgressEvent, ResourceType,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What the failing call was about, for the hint in its message.
#[derive(Clone, Debug, Default)]
pub struct CallContext<'a> {
    /// The Cloud Control operation (`CreateResource`, ...) or
    /// `sts:GetCallerIdentity`-style full action.
    pub operation: &'a str,
    pub type_name: Option<&'a ResourceType>,
    /// The resource's identifier, or its name from the desired state.
    pub resource: Option<String>,
    /// The IAM actions the type's handler needs for this operation, from its
    /// schema, when known.
    pub handler_permissions: Vec<String>,
    /// The profile in use, for the credentials hint.
    pub profile: Option<&'a str>,
}

/// Map an AWS exception name (`AlreadyExistsException`, `AccessDenied`,
/// `ThrottlingException`, ...) to the port's code.
pub fn code_from_exception(name: &str) -> ErrorCode {
    // Some services prefix the shape id (`com.amazonaws...#Name`) or append
    // `:http://…` details to the type; keep the bare name.
    let name = name.rsplit('#').next().unwrap_or(name);
    let name = name.split(':').next().unwrap_or(name);
    match name {
        "AlreadyExistsException" => ErrorCode::AlreadyExists,
        "ResourceNotFoundException" | "RequestTokenNotFoundException" | "NotFoundException" => {
            ErrorCode::NotFound
        }
        "ClientTokenConflictException"
        | "ConcurrentOperationException"
        | "ResourceConflictException" => ErrorCode::ResourceConflict,
        "InvalidRequestException"
        | "ValidationException"
        | "ValidationError"
        | "TypeNotFoundException"
        | "UnsupportedActionException"
        | "InvalidParameterValue"
        | "InvalidParameterCombination"
        | "SerializationException" => ErrorCode::InvalidRequest,
        "NotUpdatableException" => ErrorCode::NotUpdatable,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            ErrorCode::AccessDenied
        }
        "InvalidCredentialsException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "MissingAuthenticationToken" => ErrorCode::InvalidCredentials,
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded" => ErrorCode::Throttling,
        "ServiceLimitExceededException" | "LimitExceededException" => {
            ErrorCode::ServiceLimitExceeded
        }
        "NotStabilizedException" => ErrorCode::NotStabilized,
        "GeneralServiceException" => ErrorCode::GeneralServiceException,
        "ServiceInternalErrorException" | "InternalFailure" | "InternalError" => {
            ErrorCode::ServiceInternalError
        }
        "NetworkFailureException" => ErrorCode::NetworkFailure,
        "HandlerInternalFailureException" | "HandlerFailureException" => ErrorCode::InternalFailure,
        "InvalidTypeConfigurationException" => ErrorCode::InvalidTypeConfiguration,
        "ServiceUnavailableException" | "ServiceUnavailable" => ErrorCode::ServiceInternalError,
        other => ErrorCode::parse(other.strip_suffix("Exception").unwrap_or(other)),
    }
}

/// Turn any SDK error into the port's error, keeping AWS's code and message.
pub fn sdk_error<E, R>(e: SdkError<E, R>, ctx: &CallContext<'_>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let raw_code = err.code().unwrap_or("UnknownError");
            let message = err.message().unwrap_or("(AWS sent no message)");
            let code = code_from_exception(raw_code);
            let message = with_hint(&code, message, ctx);
            CloudError::service(code, message)
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            CloudError::Transport(format!("{}: {}", ctx.operation, error_chain(&e)))
        }
        SdkError::ResponseError(_) => CloudError::Internal(format!(
            "{}: AWS's reply could not be read: {}",
            ctx.operation,
            error_chain(&e)
        )),
        _ => CloudError::Internal(format!("{}: {}", ctx.operation, error_chain(&e))),
    }
}

/// The error and its sources on one line: the SDK's top-level messages
/// ("dispatch failure") only make sense with their causes.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// AWS's message plus one sentence on what to do.
pub fn with_hint(code: &ErrorCode, message: &str, ctx: &CallContext<'_>) -> String {
    match code {
        ErrorCode::AccessDenied => {
            let actions = missing_actions(message, ctx);
            format!(
                "{message} — missing permission: {}; grant it to the caller's IAM role or user, or use a profile that has it",
                actions.join(", ")
            )
        }
        ErrorCode::AlreadyExists => {
            let what = match (ctx.type_name, ctx.resource.as_deref()) {
                (Some(t), Some(r)) => format!("{t} `{r}`"),
                (Some(t), None) => format!("a {t} with the same identifier"),
                (None, Some(r)) => format!("`{r}`"),
                (None, None) => "the resource".to_string(),
            };
            format!(
                "{message} — {what} already exists: choose another name, or adopt the existing one with `infraguard sync`"
            )
        }
        ErrorCode::InvalidCredentials => {
            let fix = match ctx.profile {
                Some(p) => format!("run `aws sso login --profile {p}` if it is an SSO profile, or refresh the keys of profile `{p}`"),
                None => "refresh AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or set AWS_PROFILE".to_string(),
            };
            format!("{message} — the credentials were refused: {fix}")
        }
        ErrorCode::Throttling => {
            format!("{message} — AWS is throttling: retry later with the same client token")
        }
        _ => message.to_string(),
    }
}

/// The action AWS names in an access-denied message (`…is not authorized to
/// perform: s3:CreateBucket on resource…`), else the Cloud Control action
/// and the handler's permissions.
fn missing_actions(message: &str, ctx: &CallContext<'_>) -> Vec<String> {
    if let Some(rest) = message.split("perform: ").nth(1) {
        let action: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-' || *c == '*')
            .collect();
        if action.contains(':') {
            return vec![action];
        }
    }
    let mut actions = vec![if ctx.operation.contains(':') {
        ctx.operation.to_string()
    } else {
        // Cloud Control's IAM actions live under the `cloudformation:` prefix.
        format!("cloudformation:{}", ctx.operation)
    }];
    actions.extend(ctx.handler_permissions.iter().cloned());
    actions
}

/// Cloud Control accepts client tokens of 1–128 characters from
/// `[-A-Za-z0-9+/=]`. A token outside that is replaced by a digest of
/// itself, so the mapping stays deterministic and a retry with the same
/// token still reaches the same request.
pub fn client_token(token: &str) -> String {
    let valid = !token.is_empty()
        && token.len() <= 128
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'/' | b'='));
    if valid {
        token.to_string()
    } else {
        let digest = Sha256::digest(token.as_bytes());
        format!("ig-{}", hex::encode(digest))
    }
}

/// The SDK's event as the port's event. A reply without a request token or
/// status is unusable: the caller could neither poll nor judge it.
pub fn progress_event(
    ev: &aws_sdk_cloudcontrol::types::ProgressEvent,
    fallback_type: &ResourceType,
    ctx: &CallContext<'_>,
) -> Result<ProgressEvent, CloudError> {
    let request_token = ev
        .request_token()
        .ok_or_else(|| {
            CloudError::Internal(format!(
                "{}: AWS's progress event has no RequestToken",
                ctx.operation
            ))
        })?
        .to_string();
    let status = ev.operation_status().map(|s| s.as_str()).ok_or_else(|| {
        CloudError::Internal(format!(
            "{}: progress event {request_token} has no OperationStatus",
            ctx.operation
        ))
    })?;
    let operation_status = parse_status(status).ok_or_else(|| {
        CloudError::Internal(format!(
            "{}: unknown OperationStatus `{status}` for {request_token}",
            ctx.operation
        ))
    })?;
    let operation = match ev.operation().map(|o| o.as_str()) {
        Some("CREATE") => Operation::Create,
        Some("UPDATE") => Operation::Update,
        Some("DELETE") => Operation::Delete,
        other => {
            return Err(CloudError::Internal(format!(
                "{}: unknown Operation `{}` for {request_token}",
                ctx.operation,
                other.unwrap_or("(none)")
            )));
        }
    };
    let type_name = match ev.type_name() {
        Some(t) => ResourceType::new(t).map_err(|e| {
            CloudError::Internal(format!("{}: AWS returned type `{t}`: {e}", ctx.operation))
        })?,
        None => fallback_type.clone(),
    };
    let error_code = ev.error_code().map(|c| ErrorCode::parse(c.as_str()));
    let status_message = match (&error_code, ev.status_message()) {
        (Some(code), Some(m)) => Some(with_hint(code, m, ctx)),
        (_, m) => m.map(str::to_string),
    };
    Ok(ProgressEvent {
        type_name,
        identifier: ev.identifier().map(str::to_string),
        request_token,
        operation,
        operation_status,
        event_time: ev
            .event_time()
            .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
            .unwrap_or_default(),
        resource_model: ev.resource_model().map(str::to_string),
        status_message,
        error_code,
        retry_after: ev
            .retry_after()
            .map(|t| seconds_until(t, SystemTime::now())),
    })
}

/// The port's statuses by their Cloud Control names.
pub fn parse_status(s: &str) -> Option<OperationStatus> {
    Some(match s {
        "PENDING" => OperationStatus::Pending,
        "IN_PROGRESS" => OperationStatus::InProgress,
        "SUCCESS" => OperationStatus::Success,
        "FAILED" => OperationStatus::Failed,
        "CANCEL_IN_PROGRESS" => OperationStatus::CancelInProgress,
        "CANCEL_COMPLETE" => OperationStatus::CancelComplete,
        _ => return None,
    })
}

/// AWS gives `RetryAfter` as a moment; the port wants seconds from now.
/// A moment in the past means "now" (0).
pub fn seconds_until(at: &DateTime, now: SystemTime) -> u64 {
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let at_secs = u64::try_from(at.secs()).unwrap_or(0);
    at_secs.saturating_sub(now_secs)
}

/// The properties JSON string AWS returns, as a value.
pub fn properties(text: Option<&str>, what: &str) -> Result<Value, CloudError> {
    match text {
        None => Ok(Value::Object(Default::default())),
        Some(t) => serde_json::from_str(t).map_err(|e| {
            CloudError::Internal(format!(
                "{what}: AWS returned properties that are not JSON ({e})"
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket() -> ResourceType {
        ResourceType::new("AWS::S3::Bucket").unwrap()
    }

    #[test]
    fn cloud_control_exceptions_map_to_handler_codes() {
        for (name, code) in [
            ("AlreadyExistsException", ErrorCode::AlreadyExists),
            ("ResourceNotFoundException", ErrorCode::NotFound),
            ("RequestTokenNotFoundException", ErrorCode::NotFound),
            ("NotUpdatableException", ErrorCode::NotUpdatable),
            ("TypeNotFoundException", ErrorCode::InvalidRequest),
            ("ValidationException", ErrorCode::InvalidRequest),
            ("AccessDenied", ErrorCode::AccessDenied),
            ("AccessDeniedException", ErrorCode::AccessDenied),
            ("ThrottlingException", ErrorCode::Throttling),
            ("ExpiredToken", ErrorCode::InvalidCredentials),
            (
                "GeneralServiceException",
                ErrorCode::GeneralServiceException,
            ),
            (
                "HandlerInternalFailureException",
                ErrorCode::InternalFailure,
            ),
            (
                "ServiceInternalErrorException",
                ErrorCode::ServiceInternalError,
            ),
            (
                "com.amazonaws.cloudcontrol#AlreadyExistsException",
                ErrorCode::AlreadyExists,
            ),
            (
                "InvalidTypeConfigurationException",
                ErrorCode::InvalidTypeConfiguration,
            ),
            (
                "SomethingNewException",
                ErrorCode::Other("SomethingNew".into()),
            ),
        ] {
            assert_eq!(code_from_exception(name), code, "{name}");
        }
    }

    #[test]
    fn access_denied_names_the_action_aws_named() {
        let ctx = CallContext {
            operation: "CreateResource",
            ..Default::default()
        };
        let m = with_hint(
            &ErrorCode::AccessDenied,
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: s3:CreateBucket on resource: x",
            &ctx,
        );
        assert!(m.contains("missing permission: s3:CreateBucket;"), "{m}");
        assert!(
            m.starts_with("User: arn:aws:iam::123456789012:user/ci"),
            "{m}"
        );
    }

    #[test]
    fn access_denied_without_an_action_names_cloud_control_and_handler_actions() {
        let ctx = CallContext {
            operation: "CreateResource",
            handler_permissions: vec!["s3:CreateBucket".into(), "s3:PutBucketTagging".into()],
            ..Default::default()
        };
        let m = with_hint(&ErrorCode::AccessDenied, "Access denied", &ctx);
        assert!(
            m.contains("cloudformation:CreateResource, s3:CreateBucket, s3:PutBucketTagging"),
            "{m}"
        );
    }

    #[test]
    fn already_exists_names_the_resource() {
        let t = bucket();
        let ctx = CallContext {
            operation: "CreateResource",
            type_name: Some(&t),
            resource: Some("acme-logs".into()),
            ..Default::default()
        };
        let m = with_hint(&ErrorCode::AlreadyExists, "exists", &ctx);
        assert!(
            m.contains("AWS::S3::Bucket `acme-logs` already exists"),
            "{m}"
        );
        assert!(m.contains("infraguard sync"), "{m}");
    }

    #[test]
    fn invalid_credentials_points_at_the_profile() {
        let ctx = CallContext {
            operation: "GetCallerIdentity",
            profile: Some("dev-sso"),
            ..Default::default()
        };
        let m = with_hint(
            &ErrorCode::InvalidCredentials,
            "The security token included in the request is expired",
            &ctx,
        );
        assert!(m.contains("aws sso login --profile dev-sso"), "{m}");
    }

    #[test]
    fn valid_client_tokens_pass_through_and_others_map_deterministically() {
        assert_eq!(client_token("plan-1a2b-op-3"), "plan-1a2b-op-3");
        let long = "x".repeat(129);
        let with_colon = "cleanup-arn:aws:iam::123456789012:role/r";
        for bad in [long.as_str(), with_colon, ""] {
            let mapped = client_token(bad);
            assert_eq!(mapped, client_token(bad), "deterministic");
            assert!(mapped.len() <= 128 && mapped.starts_with("ig-"), "{mapped}");
            assert_eq!(
                client_token(&mapped),
                mapped,
                "the mapped token is itself valid"
            );
        }
        assert_ne!(client_token(with_colon), client_token(&long));
    }

    #[test]
    fn retry_after_becomes_seconds_from_now() {
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_000);
        assert_eq!(seconds_until(&DateTime::from_secs(1_007), now), 7);
        assert_eq!(seconds_until(&DateTime::from_secs(900), now), 0);
    }

    #[test]
    fn sdk_progress_events_convert_with_hints_on_failures() {
        use aws_sdk_cloudcontrol::types as t;
        let ev = t::ProgressEvent::builder()
            .type_name("AWS::S3::Bucket")
            .identifier("acme-logs")
            .request_token("rt-1")
            .operation(t::Operation::Create)
            .operation_status(t::OperationStatus::Failed)
            .error_code(t::HandlerErrorCode::AlreadyExists)
            .status_message("acme-logs already exists")
            .event_time(DateTime::from_secs(1_700_000_000))
            .build();
        let b = bucket();
        let ctx = CallContext {
            operation: "CreateResource",
            type_name: Some(&b),
            resource: Some("acme-logs".into()),
            ..Default::default()
        };
        let out = progress_event(&ev, &b, &ctx).unwrap();
        assert_eq!(out.operation, Operation::Create);
        assert_eq!(out.operation_status, OperationStatus::Failed);
        assert_eq!(out.error_code, Some(ErrorCode::AlreadyExists));
        assert_eq!(out.event_time, "2023-11-14T22:13:20Z");
        assert!(
            out.status_message
                .unwrap()
                .contains("`acme-logs` already exists")
        );
    }

    #[test]
    fn events_without_a_request_token_are_refused_not_guessed() {
        use aws_sdk_cloudcontrol::types as t;
        let ev = t::ProgressEvent::builder()
            .operation(t::Operation::Create)
            .operation_status(t::OperationStatus::Success)
            .build();
        let err = progress_event(&ev, &bucket(), &CallContext::default()).unwrap_err();
        assert!(matches!(err, CloudError::Internal(m) if m.contains("RequestToken")));
    }

    #[test]
    fn property_strings_parse_and_garbage_is_internal() {
        assert_eq!(properties(Some(r#"{"A":1}"#), "get").unwrap()["A"], 1);
        assert!(
            properties(None, "get")
                .unwrap()
                .as_object()
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            properties(Some("{"), "get"),
            Err(CloudError::Internal(_))
        ));
    }
}
