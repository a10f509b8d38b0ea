//! Project configuration: `infraguard.toml`, raw and resolved.
//!
//! Resolution has two stages: [`RawConfig`] is the file as written (its
//! types live in `raw`); [`ProjectConfig::resolve`], here, checks it,
//! applies the process's environment variables (passed in, not read here)
//! and fills defaults. Precedence: flags (applied by the caller) >
//! environment variables > file > defaults.

use std::collections::BTreeMap;

use infraguard_core::env::{Backend, Environment};
use infraguard_core::finding::Severity;
use infraguard_core::money::Money;
use serde::{Deserialize, Serialize};

use crate::env_vars;
use crate::error::EngineError;

pub const CONFIG_FILE: &str = "infraguard.toml";
pub const STATE_DIR: &str = ".infraguard";
pub const USAGE_FILE: &str = "infraguard-usage.toml";

mod raw;

use raw::iam_prefix_for;
pub use raw::{
    DEFAULT_APPROVAL_EXPIRY_HOURS, RawApproval, RawApprovalRole, RawConfig, RawCost,
    RawEnvironment, RawGuard, RawNaming, RawPreflight, RawProject, RawScanning, RawTokens,
};

fn default_expiry_seconds() -> u64 {
    DEFAULT_APPROVAL_EXPIRY_HOURS * 3600
}
/// The longest an approval may stay open: 30 days.
const MAX_APPROVAL_EXPIRY_HOURS: u64 = 24 * 30;

/// The configuration every part of infraguard reads.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProjectConfig {
    pub project: String,
    pub prefix: String,
    pub iam_prefix: String,
    pub environments: Vec<Environment>,
    pub cost_threshold: Money,
    pub block_findings_at: Severity,
    /// `[approval] auto_promote_low_cost`.
    pub auto_promote_low_cost: bool,
    pub alert_thresholds: Vec<Money>,
    /// `[cost] alert_email`, checked.
    pub alert_email: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub naming_pattern: String,
    pub token_ttl_seconds: u64,
    /// Seconds an approval stays open after it was requested
    /// (`approval.expires_hours`).
    #[serde(default = "default_expiry_seconds")]
    pub approval_expiry_seconds: u64,
    /// Run Checkov beside the built-in scanner when it is installed.
    pub checkov: bool,
    /// Accounts ARNs may name besides the environment's own.
    pub shared_accounts: Vec<String>,
    /// The app's own checks for `preflight`, and each one's time limit.
    pub preflight_commands: Vec<String>,
    pub preflight_timeout_seconds: u64,
    /// `[preflight] production_url`, checked.
    pub production_url: Option<String>,
    /// `[state]`: where plans, approvals, locks and the audit live.
    pub state: StateBackend,
    /// Notes about overrides that were applied or ignored, for `envs` and
    /// `check_environment_variables`.
    pub notes: Vec<String>,
}

/// Where the project's state lives.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum StateBackend {
    /// `.infraguard/state.db` in this checkout.
    #[default]
    Sqlite,
    /// One DynamoDB table a team shares.
    Dynamodb {
        table: String,
        region: String,
        profile: Option<String>,
    },
}

impl StateBackend {
    /// `[state]` checked: a DynamoDB state names its table; its region is
    /// `[state] region`, else the first AWS environment's.
    fn resolve(raw: &RawConfig) -> Result<StateBackend, EngineError> {
        let st = &raw.state;
        match st.backend.as_deref().unwrap_or("sqlite") {
            "sqlite" => {
                if let Some(key) = [
                    ("table", &st.table),
                    ("region", &st.region),
                    ("profile", &st.profile),
                ]
                .iter()
                .find(|(_, v)| v.is_some())
                .map(|(k, _)| *k)
                {
                    return Err(bad(
                        &format!("state.{key}"),
                        "is set but the state is SQLite: add `backend = \"dynamodb\"` to [state], or remove the key",
                    ));
                }
                Ok(StateBackend::Sqlite)
            }
            "dynamodb" => {
                let table = st.table.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
                    bad(
                        "state.table",
                        "is missing: a DynamoDB state names its table (`table = \"acme-infraguard-state\"`; `infraguard state init` makes it)",
                    )
                })?;
                if let Some(why) = table_name_problem(&table) {
                    return Err(bad("state.table", format!("= {why}")));
                }
                let region = st
                    .region
                    .clone()
                    .or_else(|| {
                        raw.environments
                            .values()
                            .find(|e| e.backend == Backend::Aws)
                            .map(|e| e.region.clone())
                    })
                    .ok_or_else(|| {
                        bad(
                            "state.region",
                            "is missing: name the table's region (`region = \"eu-west-1\"`)",
                        )
                    })?;
                Ok(StateBackend::Dynamodb {
                    table,
                    region,
                    profile: st.profile.clone(),
                })
            }
            other => Err(bad(
                "state.backend",
                format!(
                    "= `{other}` is not a state backend: use \"sqlite\" (this checkout) or \"dynamodb\" (a team's table)"
                ),
            )),
        }
    }

    /// `sqlite` or `dynamodb`.
    pub fn as_str(&self) -> &'static str {
        match self {
            StateBackend::Sqlite => "sqlite",
            StateBackend::Dynamodb { .. } => "dynamodb",
        }
    }
}

/// A config error names the file, the key and what to write instead.
fn bad(key: &str, msg: impl std::fmt::Display) -> EngineError {
    EngineError::Config(format!("{CONFIG_FILE}: `{key}` {msg}"))
}

/// An environment's approval role, checked: AWS ARNs of a role and an MFA
/// device, on an AWS environment, in its pinned account.
fn approval_role(
    env: &str,
    e: &RawEnvironment,
    r: &RawApprovalRole,
) -> Result<infraguard_core::env::ApprovalRole, EngineError> {
    let key = format!("environments.{env}.approval");
    let arn_of = |value: &str, kind: &str| -> Option<String> {
        // arn:aws:iam::ACCOUNT:KIND/NAME (partitions aws, aws-cn, aws-us-gov).
        let parts: Vec<&str> = value.splitn(6, ':').collect();
        let ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "iam"
            && parts[3].is_empty()
            && infraguard_core::env::is_account_id(parts[4])
            && parts[5]
                .strip_prefix(kind)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|name| !name.is_empty() && !name.ends_with('/'));
        ok.then(|| parts[4].to_string())
    };
    if e.backend != Backend::Aws {
        return Err(bad(
            &key,
            format!(
                "is set but `{env}` runs on the {} backend: an approval role needs `backend = \"aws\"` (AWS STS checks the MFA code)",
                e.backend.as_str()
            ),
        ));
    }
    let role_account = arn_of(&r.role_arn, "role").ok_or_else(|| {
        bad(
            &format!("{key}.role_arn"),
            format!(
                "= `{}` is not an IAM role ARN: use arn:aws:iam::ACCOUNT:role/NAME",
                r.role_arn
            ),
        )
    })?;
    arn_of(&r.mfa_serial, "mfa").ok_or_else(|| {
        bad(
            &format!("{key}.mfa_serial"),
            format!(
                "= `{}` is not an MFA device ARN: use arn:aws:iam::ACCOUNT:mfa/NAME (IAM → your user → Security credentials)",
                r.mfa_serial
            ),
        )
    })?;
    if let Some(pinned) = &e.account_id
        && *pinned != role_account
    {
        return Err(bad(
            &format!("{key}.role_arn"),
            format!(
                "= `{}` is in account {role_account}, but `{env}` is pinned to account {pinned}: the approval role must be in the environment's own account",
                r.role_arn
            ),
        ));
    }
    Ok(infraguard_core::env::ApprovalRole {
        role_arn: r.role_arn.clone(),
        mfa_serial: r.mfa_serial.clone(),
        profile: r.profile.clone(),
    })
}

fn valid_prefix(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 30
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && p.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

pub fn check_prefix(p: &str) -> Result<(), EngineError> {
    if valid_prefix(p) {
        Ok(())
    } else {
        Err(EngineError::InvalidInput(format!(
            "prefix `{p}` cannot start resource names: use 1-30 lowercase letters, digits and `-`, starting with a letter (e.g. `synthcoreai`)"
        )))
    }
}

impl ProjectConfig {
    /// The environments a promotion goes from and to: named `dev` and
    /// `prod`, or tagged `development` and `production`.
    pub fn promotion_envs(&self) -> Result<(Environment, Environment), EngineError> {
        let pick = |name: &str, tag: &str| {
            let envs = &self.environments;
            envs.iter()
                .find(|e| e.name == name)
                .or_else(|| envs.iter().find(|e| e.tag_value == tag))
                .cloned()
                .ok_or_else(|| {
                    EngineError::Config(format!(
                        "promotion needs an environment named `{name}` (or tagged `{tag}`) in infraguard.toml; this project has {}",
                        envs.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })
        };
        Ok((pick("dev", "development")?, pick("prod", "production")?))
    }

    /// Resolve the file against the process environment (`vars` is the
    /// environment as key/value pairs; pass [`crate::env_vars::process_vars`]).
    pub fn resolve(
        raw: &RawConfig,
        vars: &BTreeMap<String, String>,
    ) -> Result<ProjectConfig, EngineError> {
        if !valid_prefix(&raw.project.prefix) {
            return Err(bad(
                "project.prefix",
                format!(
                    "= `{}` is not usable in resource names: use lowercase letters, digits and `-`",
                    raw.project.prefix
                ),
            ));
        }
        if raw.environments.is_empty() {
            return Err(bad(
                "environments",
                "is empty: define at least [environments.dev]",
            ));
        }
        let cost_threshold = Money::parse(&raw.approval.cost_threshold_usd)
            .filter(|m| *m >= Money::ZERO)
            .ok_or_else(|| {
                bad(
                    "approval.cost_threshold_usd",
                    format!(
                        "= `{}` is not an amount of dollars: write e.g. \"10.00\"",
                        raw.approval.cost_threshold_usd
                    ),
                )
            })?;
        let block_findings_at: Severity = raw
            .approval
            .block_findings_at
            .parse()
            .map_err(|e| bad("approval.block_findings_at", e))?;
        let mut alert_thresholds = Vec::new();
        for a in &raw.cost.alert_thresholds_usd {
            alert_thresholds.push(Money::parse(a).ok_or_else(|| {
                bad(
                    "cost.alert_thresholds_usd",
                    format!("has `{a}`, not an amount of dollars"),
                )
            })?);
        }
        alert_thresholds.sort();
        let alert_email = match raw.cost.alert_email.as_deref() {
            Some(a) => Some(email_address(a).map_err(|why| bad("cost.alert_email", why))?),
            None => None,
        };

        let mut notes = Vec::new();
        let get = |k: &str| {
            vars.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let profile_override = get(env_vars::AWS_PROFILE);
        let region_override = get(env_vars::AWS_REGION);
        let scanning_override = match get(env_vars::SECURITY_SCANNING) {
            None => None,
            Some(v) => Some(match v.to_ascii_lowercase().as_str() {
                "enabled" | "true" | "1" | "on" => true,
                "disabled" | "false" | "0" | "off" => false,
                _ => {
                    return Err(EngineError::Config(format!(
                        "{}=`{v}` is not understood: use enabled or disabled",
                        env_vars::SECURITY_SCANNING
                    )));
                }
            }),
        };
        let readonly_override = match get(env_vars::INFRAGUARD_READONLY) {
            None => None,
            Some(v) => Some(match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    return Err(EngineError::Config(format!(
                        "{}=`{v}` is not understood: use true or false",
                        env_vars::INFRAGUARD_READONLY
                    )));
                }
            }),
        };

        let mut environments = Vec::new();
        for (name, e) in &raw.environments {
            if !valid_prefix(name) {
                return Err(bad(
                    &format!("environments.{name}"),
                    "is not a usable environment name: use lowercase letters and digits (e.g. dev, prod)",
                ));
            }
            let mut read_only = e.read_only;
            match readonly_override {
                Some(true) => read_only = true,
                Some(false) if e.read_only => notes.push(format!(
                    "{}=false ignored for `{name}`: the read-only flag in {CONFIG_FILE} can only be lifted there",
                    env_vars::INFRAGUARD_READONLY
                )),
                _ => {}
            }
            let tag_value = e.tag_value.clone().unwrap_or_else(|| match name.as_str() {
                "dev" => "development".into(),
                "prod" => "production".into(),
                "staging" => "staging".into(),
                other => other.to_string(),
            });
            if let Some(a) = &e.account_id
                && !infraguard_core::env::is_account_id(a)
            {
                return Err(bad(
                    &format!("environments.{name}.account_id"),
                    format!("= `{a}` is not an AWS account id (12 digits, e.g. \"123456789012\")"),
                ));
            }
            let approval_role = match &e.approval {
                None => None,
                Some(r) => Some(approval_role(name, e, r)?),
            };
            environments.push(Environment {
                name: name.clone(),
                tag_value,
                backend: e.backend,
                profile: profile_override.clone().or_else(|| e.profile.clone()),
                region: region_override.clone().unwrap_or_else(|| e.region.clone()),
                read_only,
                scanning: scanning_override.unwrap_or(e.security_scanning),
                account_id: e.account_id.clone(),
                approval_role,
            });
        }
        if profile_override.is_some() {
            notes.push(format!(
                "{} overrides the profile from {CONFIG_FILE}",
                env_vars::AWS_PROFILE
            ));
        }
        if region_override.is_some() {
            notes.push(format!(
                "{} overrides the region from {CONFIG_FILE}",
                env_vars::AWS_REGION
            ));
        }
        if scanning_override.is_some() {
            notes.push(format!(
                "{} overrides security scanning",
                env_vars::SECURITY_SCANNING
            ));
        }
        if raw.approval.expires_hours == 0 || raw.approval.expires_hours > MAX_APPROVAL_EXPIRY_HOURS
        {
            return Err(bad(
                "approval.expires_hours",
                format!(
                    "= {} is out of range: use 1 to {MAX_APPROVAL_EXPIRY_HOURS} hours (the default is {DEFAULT_APPROVAL_EXPIRY_HOURS})",
                    raw.approval.expires_hours
                ),
            ));
        }
        if raw.tokens.ttl_seconds == 0 || raw.tokens.ttl_seconds > 86_400 {
            return Err(bad(
                "tokens.ttl_seconds",
                format!(
                    "= {} is out of range: use 1 to 86400 seconds",
                    raw.tokens.ttl_seconds
                ),
            ));
        }
        for key in ["{prefix}", "{purpose}", "{env}"] {
            if !raw.naming.pattern.contains(key) {
                return Err(bad(
                    "naming.pattern",
                    format!(
                        "= `{}` lacks {key}: names must carry the prefix, purpose and environment",
                        raw.naming.pattern
                    ),
                ));
            }
        }
        for a in &raw.project.shared_accounts {
            if !infraguard_core::env::is_account_id(a) {
                return Err(bad(
                    "project.shared_accounts",
                    format!("has `{a}`: an AWS account id is 12 digits, e.g. \"123456789012\""),
                ));
            }
        }
        Ok(ProjectConfig {
            project: raw.project.name.clone(),
            prefix: raw.project.prefix.clone(),
            iam_prefix: raw
                .project
                .iam_prefix
                .clone()
                .unwrap_or_else(|| iam_prefix_for(&raw.project.name, &raw.project.prefix)),
            environments,
            cost_threshold,
            auto_promote_low_cost: raw.approval.auto_promote_low_cost,
            block_findings_at,
            alert_thresholds,
            alert_email,
            tags: raw.tags.clone(),
            naming_pattern: raw.naming.pattern.clone(),
            token_ttl_seconds: raw.tokens.ttl_seconds,
            approval_expiry_seconds: raw.approval.expires_hours * 3600,
            checkov: raw.scanning.checkov,
            shared_accounts: raw.project.shared_accounts.clone(),
            preflight_commands: raw.preflight.commands.clone(),
            preflight_timeout_seconds: raw.preflight.timeout_seconds.unwrap_or(600).max(1),
            state: StateBackend::resolve(raw)?,
            production_url: match raw.preflight.production_url.as_deref() {
                Some(u) => Some(
                    crate::app_checks::Url::parse(u)
                        .map_err(|why| bad("preflight.production_url", why))?
                        .text,
                ),
                None => None,
            },
            notes,
        })
    }

    pub fn environment(&self, name: &str) -> Result<&Environment, EngineError> {
        self.environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| EngineError::UnknownEnvironment {
                name: name.to_string(),
                known: self.environments.iter().map(|e| e.name.clone()).collect(),
            })
    }

    /// The conventional name: `synthcoreai-documents-dev`.
    pub fn conventional_name(&self, purpose: &str, env: &str) -> String {
        self.naming_pattern
            .replace("{prefix}", &self.prefix)
            .replace("{purpose}", &normalize_purpose(purpose))
            .replace("{env}", env)
    }
}

/// An e-mail address SNS can subscribe: one `@` between a local part and
/// a dotted domain, no spaces, at most 254 characters. The error says why.
pub fn email_address(value: &str) -> Result<String, String> {
    let v = value.trim();
    let why = if v.len() > 254 {
        Some("is longer than 254 characters")
    } else if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("has a space in it")
    } else {
        match v.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.') =>
            {
                None
            }
            _ => Some("is not an address like ops@example.com"),
        }
    };
    match why {
        Some(why) => Err(format!("`{v}` {why}")),
        None => Ok(v.to_string()),
    }
}

/// `User Documents` -> `user-documents`.
pub fn normalize_purpose(purpose: &str) -> String {
    purpose
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("-")
}

/// Why `name` cannot be a DynamoDB table's name, if it cannot: AWS takes 3
/// to 255 letters, digits, `_`, `-` or `.`.
pub fn table_name_problem(name: &str) -> Option<String> {
    let ok = (3..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (!ok).then(|| {
        format!(
            "`{name}` is not a DynamoDB table name: use 3 to 255 letters, digits, `_`, `-` or `.`"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_sqlite_by_default_and_a_dynamodb_one_names_its_table() {
        let mut raw = RawConfig::new_project("Acme", "acme", Backend::Local);
        let config = ProjectConfig::resolve(&raw, &BTreeMap::new()).unwrap();
        assert_eq!(config.state, StateBackend::Sqlite);
        assert!(!raw.to_toml().contains("[state]"), "no [state] unless set");
        let err = |raw: &RawConfig| {
            ProjectConfig::resolve(raw, &BTreeMap::new())
                .unwrap_err()
                .to_string()
        };
        raw.state.backend = Some("dynamodb".into());
        let e = err(&raw);
        assert!(e.contains("state.table") && e.contains("state init"), "{e}");
        raw.state.table = Some("a b".into());
        assert!(err(&raw).contains("`a b`"), "{}", err(&raw));
        // AWS's rule, at its edges (the DynamoDB store checks the same).
        for (name, ok) in [
            ("ab", false),
            ("abc", true),
            ("a.b-c_D9", true),
            ("a/b", false),
            (&"t".repeat(255), true),
            (&"t".repeat(256), false),
        ] {
            assert_eq!(table_name_problem(name).is_none(), ok, "{name}");
        }
        raw.state.table = Some("acme-infraguard-state".into());
        // No AWS environment to take the region from.
        assert!(err(&raw).contains("state.region"), "{}", err(&raw));
        raw.state.region = Some("eu-west-1".into());
        let text = raw.to_toml();
        let config =
            ProjectConfig::resolve(&RawConfig::parse(&text).unwrap(), &BTreeMap::new()).unwrap();
        assert_eq!(
            config.state,
            StateBackend::Dynamodb {
                table: "acme-infraguard-state".into(),
                region: "eu-west-1".into(),
                profile: None
            }
        );
        raw.state.backend = Some("s3".into());
        assert!(err(&raw).contains("`s3`"), "{}", err(&raw));
        raw.state.backend = None;
        let e = err(&raw);
        assert!(
            e.contains("state.table") && e.contains("backend = \"dynamodb\""),
            "{e}"
        );
        // The region of the first AWS environment when [state] names none.
        let mut aws = RawConfig::new_project("Acme", "acme", Backend::Aws);
        aws.state.backend = Some("dynamodb".into());
        aws.state.table = Some("acme-state".into());
        let config = ProjectConfig::resolve(&aws, &BTreeMap::new()).unwrap();
        assert!(
            matches!(config.state, StateBackend::Dynamodb { ref region, .. } if !region.is_empty())
        );
    }

    #[test]
    fn an_environment_is_pinned_to_a_twelve_digit_account() {
        let mut raw = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Aws);
        raw.environments.get_mut("prod").unwrap().account_id = Some("222222222222".into());
        let text = raw.to_toml();
        assert!(text.contains("account_id = \"222222222222\""), "{text}");
        let config =
            ProjectConfig::resolve(&RawConfig::parse(&text).unwrap(), &BTreeMap::new()).unwrap();
        assert_eq!(
            config.environment("prod").unwrap().account_id.as_deref(),
            Some("222222222222")
        );
        assert_eq!(config.environment("dev").unwrap().account_id, None);
        raw.environments.get_mut("prod").unwrap().account_id = Some("2222".into());
        let err = ProjectConfig::resolve(&raw, &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("environments.prod.account_id") && err.contains("12 digits"),
            "{err}"
        );
    }

    fn resolve(vars: &[(&str, &str)]) -> ProjectConfig {
        let raw = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local);
        let text = raw.to_toml();
        let raw = RawConfig::parse(&text).unwrap();
        let vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProjectConfig::resolve(&raw, &vars).unwrap()
    }

    #[test]
    fn new_project_round_trips_and_resolves() {
        let c = resolve(&[]);
        assert_eq!(c.iam_prefix, "SynthCoreAI");
        let prod = c.environment("prod").unwrap();
        assert!(prod.read_only);
        assert_eq!(prod.tag_value, "production");
        assert_eq!(prod.profile.as_deref(), Some("synthcoreai-prod"));
        assert!(!c.environment("dev").unwrap().read_only);
        assert_eq!(c.cost_threshold, Money::parse("10").unwrap());
        assert_eq!(
            c.conventional_name("User Documents", "dev"),
            "synthcoreai-user-documents-dev"
        );
    }

    #[test]
    fn environment_variables_override_for_one_process() {
        let c = resolve(&[
            ("AWS_PROFILE", "other"),
            ("AWS_REGION", "eu-west-1"),
            ("SECURITY_SCANNING", "disabled"),
            ("INFRAGUARD_READONLY", "true"),
        ]);
        let dev = c.environment("dev").unwrap();
        assert_eq!(dev.profile.as_deref(), Some("other"));
        assert_eq!(dev.region, "eu-west-1");
        assert!(!dev.scanning);
        assert!(dev.read_only);
    }

    #[test]
    fn readonly_variable_cannot_lift_the_file_flag() {
        let c = resolve(&[("INFRAGUARD_READONLY", "false")]);
        assert!(c.environment("prod").unwrap().read_only);
        assert!(c.notes.iter().any(|n| n.contains("ignored")));
    }

    #[test]
    fn bad_values_name_the_key() {
        let raw = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local);
        let vars = [("SECURITY_SCANNING".to_string(), "maybe".to_string())]
            .into_iter()
            .collect();
        let e = ProjectConfig::resolve(&raw, &vars).unwrap_err().to_string();
        assert!(
            e.contains("SECURITY_SCANNING") && e.contains("maybe"),
            "{e}"
        );
        let e = RawConfig::parse("[project]\nname='x'\nprefix='x'\nbogus=1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn approvals_expire_after_a_day_unless_configured() {
        assert_eq!(resolve(&[]).approval_expiry_seconds, 24 * 3600);
        let raw = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local);
        let text = raw
            .to_toml()
            .replace("expires_hours = 24", "expires_hours = 2");
        let c =
            ProjectConfig::resolve(&RawConfig::parse(&text).unwrap(), &BTreeMap::new()).unwrap();
        assert_eq!(c.approval_expiry_seconds, 2 * 3600);
        for bad_value in ["0", "100000"] {
            let text = raw.to_toml().replace(
                "expires_hours = 24",
                &format!("expires_hours = {bad_value}"),
            );
            let e = ProjectConfig::resolve(&RawConfig::parse(&text).unwrap(), &BTreeMap::new())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("approval.expires_hours") && e.contains(bad_value) && e.contains("1 to"),
                "{e}"
            );
        }
    }

    #[test]
    fn unknown_environment_lists_known_ones() {
        let e = resolve(&[]).environment("stage").unwrap_err().to_string();
        assert!(
            e.contains("stage") && e.contains("dev") && e.contains("prod"),
            "{e}"
        );
    }
}
