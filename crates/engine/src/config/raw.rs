//! `infraguard.toml` as written: the raw stage of the configuration
//! ([`RawConfig`] and its sections), with serde's defaults for what the
//! file leaves out, and the file `infraguard init` writes
//! ([`RawConfig::new_project`]).
//!
//! Nothing is checked here: values stay strings where the file has strings
//! (money, severities), and `ProjectConfig::resolve` (in `mod.rs`) checks
//! them and names the key of a bad one.

use std::collections::BTreeMap;

use infraguard_core::env::Backend;
use serde::{Deserialize, Serialize};

use super::CONFIG_FILE;
use crate::error::EngineError;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub project: RawProject,
    #[serde(default)]
    pub environments: BTreeMap<String, RawEnvironment>,
    #[serde(default)]
    pub approval: RawApproval,
    #[serde(default)]
    pub cost: RawCost,
    /// The static part of the tag standard (`MANAGED_BY`, `Project`, ...).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub naming: RawNaming,
    #[serde(default)]
    pub tokens: RawTokens,
    #[serde(default)]
    pub scanning: RawScanning,
    /// The app's own deployment checks (`pnpm lint`, ...), run by
    /// `infraguard preflight` in the caller's process.
    #[serde(default, skip_serializing_if = "RawPreflight::is_empty")]
    pub preflight: RawPreflight,
    /// Where the state lives: this checkout's SQLite file (the default) or
    /// a team's DynamoDB table.
    #[serde(default, skip_serializing_if = "RawState::is_default")]
    pub state: RawState,
    /// Set by `infraguard guard adopt`: the project's engine runs in the guard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<RawGuard>,
}

/// `[state]`: `backend = "sqlite"` (`.infraguard/state.db`, the default) or
/// `backend = "dynamodb"` with the team's `table`, its `region` and the
/// `profile` that reads and writes it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

impl RawState {
    pub fn is_default(&self) -> bool {
        *self == RawState::default()
    }
}

/// `[guard]`: where the guard that hosts this project listens, and the id it
/// knows the project by.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawGuard {
    /// The guard's Unix socket (`/run/infraguard/guard.sock`).
    pub socket: Option<String>,
    /// The project id the guard gave at adoption.
    pub project: Option<String>,
}

/// `[preflight]`: the seed's checklist lines that are the app's own
/// (`commands = ["pnpm lint", "pnpm type-check", "pnpm build"]`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawPreflight {
    #[serde(default)]
    pub commands: Vec<String>,
    /// Each command's time limit (default 600 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// The app's production URL: `preflight prod` checks it answers
    /// (`https://app.example.com/health`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_url: Option<String>,
}

impl RawPreflight {
    fn is_empty(&self) -> bool {
        self.commands.is_empty() && self.timeout_seconds.is_none() && self.production_url.is_none()
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScanning {
    /// Also run Checkov (when on PATH) and merge its findings.
    #[serde(default)]
    pub checkov: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProject {
    pub name: String,
    /// Lowercase prefix of resource names (`synthcoreai`).
    pub prefix: String,
    /// Prefix of IAM policy names (`SynthCoreAI`).
    pub iam_prefix: Option<String>,
    /// AWS accounts besides each environment's own that ARNs may name (a
    /// shared-services or log-archive account): 12 digits each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_accounts: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnvironment {
    #[serde(default = "default_backend")]
    pub backend: Backend,
    pub profile: Option<String>,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default = "yes")]
    pub security_scanning: bool,
    /// Value of the `Environment` tag (`development`, `production`).
    pub tag_value: Option<String>,
    /// The AWS account the environment is pinned to (12 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `[environments.X.approval]`: the MFA-gated role a person's AWS MFA
    /// code unlocks for one plan (the `aws-enforced` level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<RawApprovalRole>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApprovalRole {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    /// The approver's MFA device, `arn:aws:iam::ACCOUNT:mfa/NAME`.
    pub mfa_serial: String,
    /// The approver's own profile, which asks STS for the session (the
    /// environment's profile when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApproval {
    /// Monthly cost at or above which a human must approve (decimal dollars).
    #[serde(default = "default_threshold")]
    pub cost_threshold_usd: String,
    /// Open findings at or above this severity need a human.
    #[serde(default = "default_block")]
    pub block_findings_at: String,
    /// Hours an approval request stays open (and an approval stays usable)
    /// after it was requested; past that it can be neither granted nor
    /// applied, and the change is planned again.
    #[serde(default = "default_expiry")]
    pub expires_hours: u64,
    /// The seed's "automate promotion for low-cost resources": a promotion
    /// to prod of a dev resource infraguard applied, unchanged since, with
    /// no open finding at the block level and a known cost under the
    /// threshold is approved by this policy instead of a person. Off by
    /// default; in a guarded project turning it on is a loosening (`guard
    /// policy set` with an approver's code).
    #[serde(default, skip_serializing_if = "is_false")]
    pub auto_promote_low_cost: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for RawApproval {
    fn default() -> Self {
        RawApproval {
            cost_threshold_usd: default_threshold(),
            block_findings_at: default_block(),
            expires_hours: default_expiry(),
            auto_promote_low_cost: false,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    #[serde(default = "default_alerts")]
    pub alert_thresholds_usd: Vec<String>,
    /// Who the billing alarms notify: an e-mail address subscribed to the
    /// alarms' SNS topic (`costs --billing-alarm --email` overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_email: Option<String>,
}

impl Default for RawCost {
    fn default() -> Self {
        RawCost {
            alert_thresholds_usd: default_alerts(),
            alert_email: None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNaming {
    /// `{prefix}`, `{purpose}` and `{env}` are replaced.
    #[serde(default = "default_pattern")]
    pub pattern: String,
}

impl Default for RawNaming {
    fn default() -> Self {
        RawNaming {
            pattern: default_pattern(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokens {
    #[serde(default = "default_ttl")]
    pub ttl_seconds: u64,
}

impl Default for RawTokens {
    fn default() -> Self {
        RawTokens {
            ttl_seconds: default_ttl(),
        }
    }
}

fn default_backend() -> Backend {
    Backend::Local
}
fn default_region() -> String {
    "us-east-1".into()
}
fn yes() -> bool {
    true
}
fn default_threshold() -> String {
    "10.00".into()
}
fn default_block() -> String {
    "medium".into()
}
fn default_alerts() -> Vec<String> {
    vec!["25".into(), "50".into(), "100".into()]
}
fn default_pattern() -> String {
    "{prefix}-{purpose}-{env}".into()
}
fn default_ttl() -> u64 {
    900
}
/// A day: long enough for a person to answer, short enough that an
/// approval is not granted for a world that has moved on.
pub const DEFAULT_APPROVAL_EXPIRY_HOURS: u64 = 24;
fn default_expiry() -> u64 {
    DEFAULT_APPROVAL_EXPIRY_HOURS
}

impl RawConfig {
    pub fn parse(text: &str) -> Result<RawConfig, EngineError> {
        toml::from_str(text).map_err(|e| EngineError::Config(format!("{CONFIG_FILE}: {e}")))
    }

    /// The file `infraguard init` writes.
    pub fn new_project(project: &str, prefix: &str, backend: Backend) -> RawConfig {
        let lower = prefix.to_ascii_lowercase();
        let env = |name: &str, read_only: bool, tag: &str| RawEnvironment {
            backend,
            profile: Some(format!("{lower}-{name}")),
            region: default_region(),
            read_only,
            security_scanning: true,
            tag_value: Some(tag.to_string()),
            account_id: None,
            approval: None,
        };
        let mut environments = BTreeMap::new();
        environments.insert("dev".to_string(), env("dev", false, "development"));
        environments.insert("prod".to_string(), env("prod", true, "production"));
        let mut tags = BTreeMap::new();
        tags.insert("MANAGED_BY".into(), "infraguard".into());
        tags.insert(
            "MCP_SERVER_SOURCE_CODE".into(),
            "infraguard (local build)".into(),
        );
        tags.insert("Project".into(), project.to_string());
        tags.insert("CostCenter".into(), "Engineering".into());
        RawConfig {
            project: RawProject {
                name: project.to_string(),
                prefix: lower,
                iam_prefix: Some(iam_prefix_for(project, prefix)),
                shared_accounts: Vec::new(),
            },
            environments,
            approval: RawApproval::default(),
            cost: RawCost::default(),
            tags,
            naming: RawNaming::default(),
            tokens: RawTokens::default(),
            scanning: RawScanning::default(),
            preflight: RawPreflight::default(),
            state: RawState::default(),
            guard: None,
        }
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// `SynthCoreAI` from project `SynthCore` and prefix `synthcoreai`: the prefix
/// with the project's capitalisation where they overlap, the rest upper-cased.
pub(super) fn iam_prefix_for(project: &str, prefix: &str) -> String {
    let lower = prefix.to_ascii_lowercase();
    if lower.starts_with(&project.to_ascii_lowercase()) && !project.is_empty() {
        let rest = &prefix[project.len()..];
        format!("{project}{}", rest.to_ascii_uppercase())
    } else {
        let mut c = lower.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    }
}
