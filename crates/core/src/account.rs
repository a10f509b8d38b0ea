//! The account-level AWS calls beside Cloud Control: STS `AssumeRole` for
//! an approver's MFA session, IAM `SimulatePrincipalPolicy` and `GetRole`
//! for `doctor`, CloudTrail `LookupEvents` for the audit cross-check, Cost
//! Explorer `GetCostAndUsage` for the actual spend beside the estimates.
//!
//! The engine decides what to ask and what the answers mean; an
//! implementation only carries the calls (`infraguard-cloud-aws`).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cloud::{Cloud, CloudError};
use crate::money::Money;

/// What an approver's process asks STS for: the environment's approval
/// role, unlocked by the approver's MFA code, for one plan.
#[derive(Clone)]
pub struct SessionRequest {
    pub role_arn: String,
    pub mfa_serial: String,
    /// The approver's six-digit code: a secret for its 30 seconds, never in
    /// `Debug`.
    pub token_code: String,
    /// `infraguard-plan-<plan id>`: CloudTrail names every call of the
    /// session by it.
    pub session_name: String,
    pub duration_seconds: i32,
    /// The session policy, minified: exactly what the plan needs.
    pub policy: String,
}

impl fmt::Debug for SessionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRequest")
            .field("role_arn", &self.role_arn)
            .field("mfa_serial", &self.mfa_serial)
            .field("token_code", &"******")
            .field("session_name", &self.session_name)
            .field("duration_seconds", &self.duration_seconds)
            .field("policy", &self.policy)
            .finish()
    }
}

/// IAM's answer for one action of a simulated principal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Simulated {
    pub action: String,
    /// `allowed`, `implicitDeny` or `explicitDeny`.
    pub decision: String,
}

impl Simulated {
    pub fn allowed(&self) -> bool {
        self.decision == "allowed"
    }
}

/// One CloudTrail event of a write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrailEvent {
    pub id: String,
    /// `CreateResource`, `DeleteBucket`, ...
    pub name: String,
    /// `cloudcontrolapi.amazonaws.com`, `s3.amazonaws.com`, ...
    pub source: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// CloudTrail's user name: an assumed role's session name, or the user.
    pub username: Option<String>,
    /// The caller's ARN, from the event record.
    pub principal: Option<String>,
    /// The resources the event names, `type name` pairs.
    pub resources: Vec<(String, String)>,
    /// The event's error code when AWS refused it.
    pub error_code: Option<String>,
    /// The request's client token, when it had one (Cloud Control's).
    #[serde(default)]
    pub client_token: Option<String>,
}

/// Cost Explorer's unblended cost of one period, per service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpendPeriod {
    /// `YYYY-MM-DD`, the first day.
    pub start: String,
    /// `YYYY-MM-DD`, the day after the last (AWS's exclusive end).
    pub end: String,
    /// AWS says the period is not final yet (it reaches today).
    pub estimated: bool,
    /// AWS's service names (`Amazon Simple Storage Service`), in AWS's order.
    pub services: Vec<(String, Money)>,
}

/// The account calls, for one environment's credentials.
pub trait Account: Send + Sync {
    /// `sts:AssumeRole` with the MFA code; the session's credentials live
    /// only inside the returned cloud, and go when it is dropped.
    fn assume_approval_role(&self, request: &SessionRequest) -> Result<Box<dyn Cloud>, CloudError>;

    /// `iam:SimulatePrincipalPolicy` for `principal_arn` (a user or a role,
    /// not an assumed-role session) over `actions`, every page.
    fn simulate(
        &self,
        principal_arn: &str,
        actions: &[String],
    ) -> Result<Vec<Simulated>, CloudError>;

    /// `iam:GetRole`: the role's trust policy, decoded.
    fn trust_policy(&self, role_name: &str) -> Result<Value, CloudError>;

    /// `cloudtrail:LookupEvents` of write events (`ReadOnly=false`) between
    /// two UNIX times, every page, newest first.
    fn write_events(&self, start: i64, end: i64) -> Result<Vec<TrailEvent>, CloudError>;

    /// `ce:GetCostAndUsage`, monthly, grouped by service, unblended cost in
    /// USD, from `start` to `end` (`YYYY-MM-DD`, end exclusive), every page.
    fn spend(&self, start: &str, end: &str) -> Result<Vec<SpendPeriod>, CloudError>;
}
