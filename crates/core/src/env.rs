//! Environments: one account and region behind one backend, with guard flags.

use serde::{Deserialize, Serialize};

/// Where an environment's resources live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The embedded local cloud (SQLite, Cloud Control semantics).
    Local,
    /// Real AWS through the Cloud Control API.
    Aws,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Local => "local",
            Backend::Aws => "aws",
        }
    }
}

/// A resolved environment: file, environment variables and flags already merged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// Short name used on the command line and in resource names (`dev`, `prod`).
    pub name: String,
    /// Tag value for `Environment` (`development`, `production`).
    pub tag_value: String,
    pub backend: Backend,
    /// AWS profile name; for the local backend it is only recorded.
    pub profile: Option<String>,
    pub region: String,
    /// Writes are refused unless a human approved the exact plan.
    pub read_only: bool,
    /// Security scanning on (`SECURITY_SCANNING=enabled`).
    pub scanning: bool,
    /// The AWS account this environment belongs to: every call first checks
    /// that the credentials sign in to it (like Terraform's
    /// `allowed_account_ids`). `None`: not pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The role a person's AWS MFA code unlocks for one plan's writes
    /// (`[environments.X.approval]`). With one, the environment is
    /// `aws-enforced`: writes are applied only with that role's session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_role: Option<ApprovalRole>,
}

/// An environment's MFA-gated approval role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRole {
    /// `arn:aws:iam::ACCOUNT:role/NAME`; its trust policy requires
    /// `aws:MultiFactorAuthPresent` (doctor checks).
    pub role_arn: String,
    /// The approver's MFA device (`arn:aws:iam::ACCOUNT:mfa/NAME`), whose
    /// code STS checks.
    pub mfa_serial: String,
    /// The profile whose credentials ask STS for the session: the
    /// approver's own (AWS checks the MFA device is the caller's). `None`:
    /// the environment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

impl ApprovalRole {
    /// The person the MFA device belongs to, as the audit names them: the
    /// device's name (`arn:aws:iam::1:mfa/alice` → `alice`).
    pub fn approver(&self) -> &str {
        self.mfa_serial
            .rsplit(['/', ':'])
            .next()
            .unwrap_or(&self.mfa_serial)
    }

    /// The role's name (`arn:aws:iam::1:role/path/NAME` → `NAME`).
    pub fn role_name(&self) -> &str {
        self.role_arn.rsplit('/').next().unwrap_or(&self.role_arn)
    }

    /// The account of the role's ARN.
    pub fn account(&self) -> Option<&str> {
        self.role_arn.split(':').nth(4).filter(|a| is_account_id(a))
    }
}

/// Whether `s` is an AWS account id: exactly 12 digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}
