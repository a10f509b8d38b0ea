//! The `Cloud` port, modelled on the AWS Cloud Control API.
//!
//! Field and code names follow Cloud Control (`ProgressEvent`,
//! `OperationStatus`, `HandlerErrorCode`) so that the AWS backend is a thin
//! adapter and the local cloud can speak the same wire protocol.
//!
//! The port is synchronous: the engine and the SQLite store are synchronous,
//! and the AWS backend drives its own runtime. Async callers (the MCP server)
//! call it from a blocking task.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::resource::{Operation, ResourceType};
use crate::schema::ResourceSchema;

/// Status of an asynchronous Cloud Control request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationStatus {
    Pending,
    InProgress,
    Success,
    Failed,
    CancelInProgress,
    CancelComplete,
}

impl OperationStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OperationStatus::Success | OperationStatus::Failed | OperationStatus::CancelComplete
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Pending => "PENDING",
            OperationStatus::InProgress => "IN_PROGRESS",
            OperationStatus::Success => "SUCCESS",
            OperationStatus::Failed => "FAILED",
            OperationStatus::CancelInProgress => "CANCEL_IN_PROGRESS",
            OperationStatus::CancelComplete => "CANCEL_COMPLETE",
        }
    }
}

/// The `ErrorCode::Other` of a call refused before it was sent because the
/// credentials sign in to another account than the environment is pinned
/// to (`account_id`): a configuration error, not the cloud's.
pub const ACCOUNT_MISMATCH: &str = "AccountMismatch";

/// Cloud Control's `HandlerErrorCode`, plus `Other` for codes we do not know.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    NotUpdatable,
    InvalidRequest,
    AccessDenied,
    InvalidCredentials,
    AlreadyExists,
    NotFound,
    ResourceConflict,
    Throttling,
    ServiceLimitExceeded,
    NotStabilized,
    GeneralServiceException,
    ServiceInternalError,
    NetworkFailure,
    InternalFailure,
    InvalidTypeConfiguration,
    ServiceTimeout,
    Other(String),
}

impl ErrorCode {
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::NotUpdatable => "NotUpdatable",
            ErrorCode::InvalidRequest => "InvalidRequest",
            ErrorCode::AccessDenied => "AccessDenied",
            ErrorCode::InvalidCredentials => "InvalidCredentials",
            ErrorCode::AlreadyExists => "AlreadyExists",
            ErrorCode::NotFound => "NotFound",
            ErrorCode::ResourceConflict => "ResourceConflict",
            ErrorCode::Throttling => "Throttling",
            ErrorCode::ServiceLimitExceeded => "ServiceLimitExceeded",
            ErrorCode::NotStabilized => "NotStabilized",
            ErrorCode::GeneralServiceException => "GeneralServiceException",
            ErrorCode::ServiceInternalError => "ServiceInternalError",
            ErrorCode::NetworkFailure => "NetworkFailure",
            ErrorCode::InternalFailure => "InternalFailure",
            ErrorCode::InvalidTypeConfiguration => "InvalidTypeConfiguration",
            ErrorCode::ServiceTimeout => "ServiceTimeout",
            ErrorCode::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "NotUpdatable" => ErrorCode::NotUpdatable,
            "InvalidRequest" => ErrorCode::InvalidRequest,
            "AccessDenied" => ErrorCode::AccessDenied,
            "InvalidCredentials" => ErrorCode::InvalidCredentials,
            "AlreadyExists" => ErrorCode::AlreadyExists,
            "NotFound" => ErrorCode::NotFound,
            "ResourceConflict" => ErrorCode::ResourceConflict,
            "Throttling" => ErrorCode::Throttling,
            "ServiceLimitExceeded" => ErrorCode::ServiceLimitExceeded,
            "NotStabilized" => ErrorCode::NotStabilized,
            "GeneralServiceException" => ErrorCode::GeneralServiceException,
            "ServiceInternalError" => ErrorCode::ServiceInternalError,
            "NetworkFailure" => ErrorCode::NetworkFailure,
            "InternalFailure" => ErrorCode::InternalFailure,
            "InvalidTypeConfiguration" => ErrorCode::InvalidTypeConfiguration,
            "ServiceTimeout" => ErrorCode::ServiceTimeout,
            other => ErrorCode::Other(other.to_string()),
        }
    }

    /// Worth retrying the same request (with the same client token) later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorCode::Throttling
                | ErrorCode::ServiceInternalError
                | ErrorCode::NetworkFailure
                | ErrorCode::InternalFailure
                | ErrorCode::ServiceTimeout
                | ErrorCode::NotStabilized
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One snapshot of an asynchronous request, as Cloud Control reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProgressEvent {
    pub type_name: ResourceType,
    pub identifier: Option<String>,
    pub request_token: String,
    pub operation: Operation,
    pub operation_status: OperationStatus,
    /// RFC 3339.
    pub event_time: String,
    /// The resource's properties as a JSON string, when the handler returns them.
    pub resource_model: Option<String>,
    pub status_message: Option<String>,
    pub error_code: Option<ErrorCode>,
    /// Seconds after which a poll is worth making.
    pub retry_after: Option<u64>,
}

/// A resource and its current properties (Cloud Control's `ResourceDescription`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceDescription {
    pub identifier: String,
    pub properties: Value,
}

/// One page of `list`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    pub type_name: ResourceType,
    pub resources: Vec<ResourceDescription>,
    pub next_token: Option<String>,
}

/// Who the cloud thinks we are. Never carries credential material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub account_id: String,
    /// The caller's ARN.
    pub arn: String,
    pub region: String,
    pub profile: Option<String>,
    /// How credentials were obtained: `local`, `AWS SSO Profile`,
    /// `Environment Variables`, `Profile`, ...
    pub auth_kind: String,
}

/// A failed call. `Service` is "the cloud said no" (with its code); the others
/// are "we could not ask".
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CloudError {
    #[error("{code}: {message}")]
    Service { code: ErrorCode, message: String },
    #[error("cannot reach the cloud: {0}")]
    Transport(String),
    #[error("cloud backend failure: {0}")]
    Internal(String),
}

impl CloudError {
    pub fn service(code: ErrorCode, message: impl Into<String>) -> Self {
        CloudError::Service {
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            CloudError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_transient(&self) -> bool {
        match self {
            CloudError::Service { code, .. } => code.is_transient(),
            CloudError::Transport(_) => true,
            CloudError::Internal(_) => false,
        }
    }
}

/// The Cloud Control API, one method per operation.
///
/// Mutations take a client token: a retry with the same token returns the
/// original request instead of acting twice. Mutations are asynchronous: the
/// returned event may be `IN_PROGRESS`; poll `request_status` until terminal.
/// A request that was accepted but failed is a `FAILED` event, not an `Err`;
/// `Err` is a request the cloud refused to accept (or could not be sent).
pub trait Cloud: Send + Sync {
    fn create(
        &self,
        type_name: &ResourceType,
        desired_state: &Value,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError>;

    fn get(
        &self,
        type_name: &ResourceType,
        identifier: &str,
    ) -> Result<ResourceDescription, CloudError>;

    /// `patch` is an RFC 6902 JSON Patch document (a JSON array).
    fn update(
        &self,
        type_name: &ResourceType,
        identifier: &str,
        patch: &Value,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError>;

    fn delete(
        &self,
        type_name: &ResourceType,
        identifier: &str,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError>;

    fn list(
        &self,
        type_name: &ResourceType,
        next_token: Option<&str>,
        resource_model: Option<&Value>,
    ) -> Result<ListPage, CloudError>;

    fn request_status(&self, request_token: &str) -> Result<ProgressEvent, CloudError>;

    fn schema(&self, type_name: &ResourceType) -> Result<ResourceSchema, CloudError>;

    fn identity(&self) -> Result<Identity, CloudError>;
}

impl<C: Cloud + ?Sized> Cloud for Box<C> {
    fn create(&self, t: &ResourceType, d: &Value, ct: &str) -> Result<ProgressEvent, CloudError> {
        (**self).create(t, d, ct)
    }
    fn get(&self, t: &ResourceType, id: &str) -> Result<ResourceDescription, CloudError> {
        (**self).get(t, id)
    }
    fn update(
        &self,
        t: &ResourceType,
        id: &str,
        p: &Value,
        ct: &str,
    ) -> Result<ProgressEvent, CloudError> {
        (**self).update(t, id, p, ct)
    }
    fn delete(&self, t: &ResourceType, id: &str, ct: &str) -> Result<ProgressEvent, CloudError> {
        (**self).delete(t, id, ct)
    }
    fn list(
        &self,
        t: &ResourceType,
        nt: Option<&str>,
        rm: Option<&Value>,
    ) -> Result<ListPage, CloudError> {
        (**self).list(t, nt, rm)
    }
    fn request_status(&self, rt: &str) -> Result<ProgressEvent, CloudError> {
        (**self).request_status(rt)
    }
    fn schema(&self, t: &ResourceType) -> Result<ResourceSchema, CloudError> {
        (**self).schema(t)
    }
    fn identity(&self) -> Result<Identity, CloudError> {
        (**self).identity()
    }
}
