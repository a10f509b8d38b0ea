//! The engine's error type. Every message names the value at fault and the
//! next step a user can take; [`EngineError::kind`] tells callers which exit
//! code or MCP error shape fits.

use infraguard_core::cloud::{CloudError, ErrorCode};
use infraguard_core::store::StoreError;

/// How a caller should treat an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request was wrong: fix it and retry.
    BadInput,
    /// The cloud said no (a service error with its code).
    Cloud,
    /// We failed: storage, configuration or an internal fault.
    Failure,
    /// The gate or an approval check said no; nothing was changed.
    Gated,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("unknown environment `{name}`: this project has {}", known.join(", "))]
    UnknownEnvironment { name: String, known: Vec<String> },

    #[error("{0}")]
    Schema(#[from] infraguard_schema::SchemaError),

    #[error("the properties for {type_name} are not valid:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    InvalidProperties {
        type_name: String,
        problems: Vec<String>,
    },

    #[error("{0}")]
    InvalidInput(String),

    #[error(
        "refused: {} of {type_name} holds a plaintext AWS access key id; a key in a template is readable by everyone who can read the resource, its template or its plan, so no approval can accept it. Store the key in AWS Secrets Manager and refer to it with a dynamic reference such as `{{{{resolve:secretsmanager:my-secret:SecretString:key}}}}` (better still: give the resource an IAM role instead of keys), then plan again",
        pointers.join(", ")
    )]
    PlaintextAccessKey {
        type_name: String,
        pointers: Vec<String>,
    },

    #[error(
        "cannot update {property} of {type_name} `{identifier}`: it is create-only; create a new resource with the new value instead (and delete the old one)"
    )]
    NotUpdatable {
        type_name: String,
        identifier: String,
        property: String,
    },

    #[error("no plan `{0}`: run `infraguard plans` to see the plans of this project")]
    PlanNotFound(String),

    #[error("no approval `{0}`: run `infraguard approvals` to see pending approvals")]
    ApprovalNotFound(String),

    #[error(
        "plan {id} was already {status}; make a new plan with `infraguard plan` for another change"
    )]
    PlanClosed { id: String, status: String },

    /// Another plan of the same resource is still in flight (one plan at a
    /// time per environment, type and name).
    #[error(
        "{resource} already has plan {holder} in flight ({state}): {next}. Nothing new was planned"
    )]
    PlanInFlight {
        /// `AWS::S3::Bucket `name` in prod`.
        resource: String,
        holder: String,
        state: String,
        next: String,
    },

    /// Another process sends this plan now (its lease is live).
    #[error(
        "plan {id} is being applied by {holder} (its lease runs until {until}): nothing was sent again. `infraguard show {id}` shows how it ends; if that process stopped, `infraguard apply {id}` resumes it once the lease has run out"
    )]
    PlanBeingApplied {
        id: String,
        holder: String,
        until: String,
    },

    /// The environment is locked by hand (`infraguard state lock`).
    #[error(
        "{env} is locked (lock {}, by {} on {} since {}: {}): nothing is planned or applied there until it is unlocked (`infraguard state unlock {}`). Nothing changed",
        lock.id, lock.who, lock.host, lock.since, lock.what, lock.id
    )]
    EnvironmentLocked {
        env: String,
        lock: Box<infraguard_core::store::Lock>,
    },

    /// An approval whose time ran out: it can be neither granted nor applied.
    #[error(
        "approval {id} expired at {expired_at} (approvals stay open {hours} h after they are requested): it can no longer be granted or applied; {next}"
    )]
    ApprovalExpired {
        id: String,
        expired_at: String,
        hours: u64,
        next: String,
    },

    #[error("approval {id} is already {status}; {next}")]
    ApprovalDecided {
        id: String,
        status: String,
        next: String,
    },

    #[error("{actor} cannot approve {id}: {why}")]
    NotHuman {
        actor: String,
        id: String,
        why: String,
    },

    #[error(
        "plan {id} does not match the content it was made with (hash {expected}, now {actual}): the state was changed outside infraguard; make a new plan"
    )]
    Tampered {
        id: String,
        expected: String,
        actual: String,
    },

    #[error("{env}: {operation} of {type_name}{} failed: {source}{}", identifier.as_ref().map(|i| format!(" `{i}`")).unwrap_or_default(), hint(source))]
    Cloud {
        env: String,
        operation: String,
        type_name: String,
        identifier: Option<String>,
        source: Box<CloudError>,
    },

    /// A step of the token chain was skipped, forged, replayed or expired.
    #[error("{0}")]
    Chain(String),

    #[error("{0}")]
    Store(#[from] StoreError),

    #[error("configuration: {0}")]
    Config(String),

    /// An approver's code (or other proof) was not accepted.
    #[error("approval {id} was not granted: {reason}")]
    ApprovalRefused { id: String, reason: String },

    /// A write sent to the Cloud Control wire endpoint of an environment it
    /// serves read-only: it would skip the plan, the gate and the audit.
    #[error(
        "{env} is served read-only on the Cloud Control endpoint: a {operation} of {type_name} there would skip the gate. Plan it instead (`infraguard plan --env {env} --type {type_name} …`, or the MCP tools). Nothing changed"
    )]
    WireWrite {
        env: String,
        operation: String,
        type_name: String,
    },

    /// An error the engine behind the guard's socket reported, or the
    /// socket itself.
    #[error("{message}")]
    Remote { kind: ErrorKind, message: String },

    #[error("cost estimate: {0}")]
    Cost(String),
}

fn hint(e: &CloudError) -> String {
    use infraguard_core::cloud::ErrorCode;
    match e.code() {
        Some(ErrorCode::NotFound) => {
            "; check the identifier with `infraguard resources list`".into()
        }
        Some(ErrorCode::AlreadyExists) => {
            "; choose another name or manage the existing resource".into()
        }
        Some(ErrorCode::Throttling) => "; the cloud is throttling: retry in a moment".into(),
        Some(ErrorCode::AccessDenied) => "; the profile lacks a permission for this action".into(),
        _ => String::new(),
    }
}

impl EngineError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::UnknownEnvironment { .. }
            | EngineError::Schema(_)
            | EngineError::InvalidProperties { .. }
            | EngineError::InvalidInput(_)
            | EngineError::PlaintextAccessKey { .. }
            | EngineError::NotUpdatable { .. }
            | EngineError::PlanNotFound(_)
            | EngineError::ApprovalNotFound(_)
            | EngineError::PlanClosed { .. }
            | EngineError::ApprovalDecided { .. }
            | EngineError::NotHuman { .. }
            | EngineError::Chain(_) => ErrorKind::BadInput,
            // Reading a resource the caller named that is not there: the
            // identifier was wrong (exit 2), not the cloud.
            EngineError::Cloud {
                source, operation, ..
            } if matches!(operation.as_str(), "get" | "read")
                && source.code() == Some(&ErrorCode::NotFound) =>
            {
                ErrorKind::BadInput
            }
            EngineError::Cloud { source, .. } => match source.as_ref() {
                CloudError::Service {
                    code: infraguard_core::ErrorCode::Other(c),
                    ..
                } if c == infraguard_core::cloud::ACCOUNT_MISMATCH => ErrorKind::BadInput,
                CloudError::Service { .. } => ErrorKind::Cloud,
                _ => ErrorKind::Failure,
            },
            EngineError::Tampered { .. }
            | EngineError::Store(_)
            | EngineError::Config(_)
            | EngineError::Cost(_) => ErrorKind::Failure,
            EngineError::ApprovalRefused { .. }
            | EngineError::WireWrite { .. }
            | EngineError::PlanInFlight { .. }
            | EngineError::PlanBeingApplied { .. }
            | EngineError::EnvironmentLocked { .. }
            | EngineError::ApprovalExpired { .. } => ErrorKind::Gated,
            EngineError::Remote { kind, .. } => *kind,
        }
    }
}
