//! The guard's policy for an adopted project, and how a workspace may
//! change it: it can only tighten.
//!
//! An adopted project has two configurations: the guard's (kept by the
//! guard, out of the agent's reach) and the workspace's `infraguard.toml`
//! plus the process environment (which the agent can edit). The one in
//! force is the guard's, tightened by the workspace wherever the workspace
//! is stricter; a looser workspace value is ignored and named in a note
//! (`infraguard doctor` shows it, the guard audits it). Loosening is
//! [`change`], which the guard allows only with an approver's code.
//!
//! The keys that policy covers:
//!
//! | key | tighter is |
//! |---|---|
//! | `environments.ENV.read_only` | `true` |
//! | `environments.ENV.security_scanning` | `true` |
//! | `approval.cost_threshold_usd` | lower |
//! | `approval.block_findings_at` | lower severity |
//! | `approval.expires_hours` | shorter |
//! | `approval.auto_promote_low_cost` | `false` |
//! | `tokens.ttl_seconds` | shorter |
//! | `scanning.checkov` | `true` |
//!
//! Everything that says where the project lives (environments, backends,
//! profiles, regions, prefix) is the guard's alone; tags and the naming
//! pattern come from the workspace.

use std::collections::BTreeMap;

use infraguard_core::finding::Severity;
use infraguard_core::money::Money;

use crate::config::{CONFIG_FILE, ProjectConfig, RawConfig};
use crate::env_vars;
use crate::error::EngineError;

/// The defaults a guard starts from (prod read-only, $10, MEDIUM, scanning
/// on): an adopted project's policy is these or its own config, whichever
/// is tighter.
pub fn adoption_policy(workspace: &RawConfig) -> (RawConfig, Vec<String>) {
    let mut base = workspace.clone();
    base.guard = None;
    let defaults = RawConfig::new_project(
        &workspace.project.name,
        &workspace.project.prefix,
        infraguard_core::env::Backend::Local,
    );
    let mut notes = Vec::new();
    for (name, env) in base.environments.iter_mut() {
        if name == "prod" && !env.read_only {
            env.read_only = true;
            notes.push("environments.prod.read_only = false is looser than the guard's default: prod starts read-only".to_string());
        }
        if !env.security_scanning {
            env.security_scanning = true;
            notes.push(format!("environments.{name}.security_scanning = false is looser than the guard's default: scanning starts on"));
        }
    }
    let default_threshold =
        Money::parse(&defaults.approval.cost_threshold_usd).unwrap_or(Money::ZERO);
    if Money::parse(&base.approval.cost_threshold_usd).is_none_or(|m| m > default_threshold) {
        notes.push(format!(
            "approval.cost_threshold_usd = {} is looser than the guard's default: it starts at {}",
            base.approval.cost_threshold_usd, defaults.approval.cost_threshold_usd
        ));
        base.approval.cost_threshold_usd = defaults.approval.cost_threshold_usd.clone();
    }
    let default_block: Severity = defaults
        .approval
        .block_findings_at
        .parse()
        .unwrap_or(Severity::Medium);
    if base
        .approval
        .block_findings_at
        .parse::<Severity>()
        .map_or(true, |s| s > default_block)
    {
        notes.push(format!(
            "approval.block_findings_at = {} is looser than the guard's default: it starts at {}",
            base.approval.block_findings_at, defaults.approval.block_findings_at
        ));
        base.approval.block_findings_at = defaults.approval.block_findings_at.clone();
    }
    if base.approval.expires_hours > defaults.approval.expires_hours {
        notes.push(format!(
            "approval.expires_hours = {} is looser than the guard's default: it starts at {}",
            base.approval.expires_hours, defaults.approval.expires_hours
        ));
        base.approval.expires_hours = defaults.approval.expires_hours;
    }
    if base.approval.auto_promote_low_cost {
        notes.push("approval.auto_promote_low_cost = true is looser than the guard's default: it starts off".to_string());
        base.approval.auto_promote_low_cost = false;
    }
    if base.tokens.ttl_seconds > defaults.tokens.ttl_seconds {
        notes.push(format!(
            "tokens.ttl_seconds = {} is looser than the guard's default: it starts at {}",
            base.tokens.ttl_seconds, defaults.tokens.ttl_seconds
        ));
        base.tokens.ttl_seconds = defaults.tokens.ttl_seconds;
    }
    (base, notes)
}

/// The guard's policy tightened by the workspace's file and environment.
/// Returns the configuration in force; its `notes` name every workspace
/// value that was ignored for being looser.
pub fn effective(
    guard: &RawConfig,
    workspace: Option<&RawConfig>,
    vars: &BTreeMap<String, String>,
) -> Result<ProjectConfig, EngineError> {
    let mut raw = guard.clone();
    raw.guard = None;
    let mut notes = Vec::new();
    if let Some(ws) = workspace {
        for (name, wenv) in &ws.environments {
            let Some(genv) = raw.environments.get_mut(name) else {
                notes.push(format!("environments.{name} in {CONFIG_FILE} is not one of the guard's environments: ignored (a new environment is added with `infraguard guard policy`)"));
                continue;
            };
            match (genv.read_only, wenv.read_only) {
                (false, true) => genv.read_only = true,
                (true, false) => notes.push(format!("environments.{name}.read_only = false ignored: looser than the guard's policy (`infraguard guard policy set environments.{name}.read_only false` with an approver's code)")),
                _ => {}
            }
            match (genv.security_scanning, wenv.security_scanning) {
                (false, true) => genv.security_scanning = true,
                (true, false) => notes.push(format!("environments.{name}.security_scanning = false ignored: looser than the guard's policy")),
                _ => {}
            }
            if wenv.backend != genv.backend
                || wenv.profile != genv.profile
                || wenv.region != genv.region
                || wenv.account_id != genv.account_id
            {
                notes.push(format!("environments.{name}: backend, profile, region and account_id are the guard's; the values in {CONFIG_FILE} are ignored"));
            }
        }
        if ws.state != raw.state {
            notes.push(format!("[state] in {CONFIG_FILE} ignored: where the state lives is the guard's (an agent that could point it at another table could write its own approvals)"));
        }
        let g = Money::parse(&raw.approval.cost_threshold_usd);
        let w = Money::parse(&ws.approval.cost_threshold_usd);
        match (g, w) {
            (Some(g), Some(w)) if w < g => {
                raw.approval.cost_threshold_usd = ws.approval.cost_threshold_usd.clone()
            }
            (Some(g), Some(w)) if w > g => notes.push(format!(
                "approval.cost_threshold_usd = {} ignored: looser than the guard's {}",
                ws.approval.cost_threshold_usd, raw.approval.cost_threshold_usd
            )),
            (_, None) => notes.push(format!(
                "approval.cost_threshold_usd = {} is not an amount: ignored",
                ws.approval.cost_threshold_usd
            )),
            _ => {}
        }
        let g: Result<Severity, _> = raw.approval.block_findings_at.parse();
        let w: Result<Severity, _> = ws.approval.block_findings_at.parse();
        match (g, w) {
            (Ok(g), Ok(w)) if w < g => {
                raw.approval.block_findings_at = ws.approval.block_findings_at.clone()
            }
            (Ok(g), Ok(w)) if w > g => notes.push(format!(
                "approval.block_findings_at = {} ignored: looser than the guard's {}",
                ws.approval.block_findings_at, raw.approval.block_findings_at
            )),
            _ => {}
        }
        if ws.approval.expires_hours < raw.approval.expires_hours && ws.approval.expires_hours > 0 {
            raw.approval.expires_hours = ws.approval.expires_hours;
        } else if ws.approval.expires_hours > raw.approval.expires_hours {
            notes.push(format!(
                "approval.expires_hours = {} ignored: longer than the guard's {}",
                ws.approval.expires_hours, raw.approval.expires_hours
            ));
        }
        match (raw.approval.auto_promote_low_cost, ws.approval.auto_promote_low_cost) {
            (true, false) => raw.approval.auto_promote_low_cost = false,
            (false, true) => notes.push("approval.auto_promote_low_cost = true ignored: looser than the guard's policy (`infraguard guard policy set approval.auto_promote_low_cost true` with an approver's code)".to_string()),
            _ => {}
        }
        if ws.tokens.ttl_seconds < raw.tokens.ttl_seconds && ws.tokens.ttl_seconds > 0 {
            raw.tokens.ttl_seconds = ws.tokens.ttl_seconds;
        } else if ws.tokens.ttl_seconds > raw.tokens.ttl_seconds {
            notes.push(format!(
                "tokens.ttl_seconds = {} ignored: longer than the guard's {}",
                ws.tokens.ttl_seconds, raw.tokens.ttl_seconds
            ));
        }
        if ws.scanning.checkov {
            raw.scanning.checkov = true;
        }
        // Not policy: how resources are tagged and named.
        raw.tags = ws.tags.clone();
        raw.naming = ws.naming.clone();
        raw.cost = ws.cost.clone();
    }
    // The process environment: only what tightens counts.
    let mut tight_vars = BTreeMap::new();
    for (k, v) in vars {
        match k.as_str() {
            env_vars::INFRAGUARD_READONLY => {
                if matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "true" | "1" | "yes" | "on"
                ) {
                    tight_vars.insert(k.clone(), v.clone());
                }
            }
            env_vars::SECURITY_SCANNING => {
                if matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "disabled" | "false" | "0" | "off"
                ) {
                    notes.push(format!(
                        "{k}={v} ignored: the guard's policy keeps scanning on"
                    ));
                }
            }
            env_vars::AWS_PROFILE | env_vars::AWS_REGION if !v.trim().is_empty() => {
                notes.push(format!(
                    "{k} ignored: the guard holds the environments' AWS profiles and regions"
                ));
            }
            _ => {}
        }
    }
    let mut config = ProjectConfig::resolve(&raw, &tight_vars)?;
    config.notes.extend(notes);
    Ok(config)
}

/// A policy key set to a value, as `infraguard guard policy set` asks.
/// Returns the new policy and whether the change loosens it (then only an
/// approver's code may make it).
pub fn change(
    policy: &RawConfig,
    key: &str,
    value: &str,
) -> Result<(RawConfig, bool), EngineError> {
    let mut next = policy.clone();
    let bad =
        |why: String| EngineError::InvalidInput(format!("policy key `{key}` = `{value}`: {why}"));
    let parse_bool = |v: &str| match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(bad("use true or false".into())),
    };
    let parts: Vec<&str> = key.split('.').collect();
    let loosens = match parts.as_slice() {
        ["environments", env, field] => {
            let e = next.environments.get_mut(*env).ok_or_else(|| bad(format!("no environment `{env}` in the guard's policy")))?;
            let v = parse_bool(value)?;
            match *field {
                "read_only" => {
                    let l = e.read_only && !v;
                    e.read_only = v;
                    l
                }
                "security_scanning" => {
                    let l = e.security_scanning && !v;
                    e.security_scanning = v;
                    l
                }
                _ => return Err(bad("an environment's policy keys are read_only and security_scanning".into())),
            }
        }
        ["approval", "cost_threshold_usd"] => {
            let new = Money::parse(value).filter(|m| *m >= Money::ZERO).ok_or_else(|| bad("not an amount of dollars (e.g. 10.00)".into()))?;
            let old = Money::parse(&next.approval.cost_threshold_usd).unwrap_or(Money::ZERO);
            next.approval.cost_threshold_usd = value.trim().to_string();
            new > old
        }
        ["approval", "block_findings_at"] => {
            let new: Severity = value.parse::<Severity>().map_err(|e| bad(e.to_string()))?;
            let old: Severity = next.approval.block_findings_at.parse().unwrap_or(Severity::Medium);
            next.approval.block_findings_at = value.trim().to_ascii_lowercase();
            new > old
        }
        ["approval", "expires_hours"] => {
            let new: u64 = value.trim().parse().map_err(|_| bad("a number of hours (e.g. 24)".into()))?;
            let l = new > next.approval.expires_hours;
            next.approval.expires_hours = new;
            l
        }
        ["approval", "auto_promote_low_cost"] => {
            let v = parse_bool(value)?;
            let l = v && !next.approval.auto_promote_low_cost;
            next.approval.auto_promote_low_cost = v;
            l
        }
        ["tokens", "ttl_seconds"] => {
            let new: u64 = value.trim().parse().map_err(|_| bad("a number of seconds".into()))?;
            let l = new > next.tokens.ttl_seconds;
            next.tokens.ttl_seconds = new;
            l
        }
        ["scanning", "checkov"] => {
            let v = parse_bool(value)?;
            let l = next.scanning.checkov && !v;
            next.scanning.checkov = v;
            l
        }
        _ => return Err(bad("not a policy key; the keys are environments.ENV.read_only, environments.ENV.security_scanning, approval.cost_threshold_usd, approval.block_findings_at, approval.expires_hours, approval.auto_promote_low_cost, tokens.ttl_seconds, scanning.checkov".into())),
    };
    // The result must still resolve.
    ProjectConfig::resolve(&next, &BTreeMap::new())?;
    Ok((next, loosens))
}

impl<C: infraguard_core::cloud::Cloud, S: infraguard_core::store::Store>
    crate::engine::Engine<C, S>
{
    /// Decide a change of the guard's policy for this project: a change that
    /// tightens is made; one that loosens needs an enrolled approver's code
    /// (checked like an approval's). Either way it is audited. Returns the
    /// new policy for the host to keep.
    pub fn policy_change(
        &self,
        policy: &RawConfig,
        key: &str,
        value: &str,
        caller: &crate::api::Caller,
        proof: Option<&crate::api::Proof>,
    ) -> Result<RawConfig, EngineError> {
        let (next, loosens) = change(policy, key, value)?;
        let mut approver = None;
        if loosens {
            let refused = |reason: String| {
                self.host_event(
                    caller,
                    "policy.refused",
                    "refused",
                    serde_json::json!({"key": key, "value": value, "reason": reason}),
                )?;
                Err(EngineError::ApprovalRefused {
                    id: format!("policy {key}"),
                    reason,
                })
            };
            // The guard's policy is the guard's: a loosening takes a code
            // whatever the project's level.
            let wanted = crate::attest::Attestation::ApproverCode;
            match self.attest(&wanted, caller, proof) {
                Ok(actor) => approver = Some(actor.name),
                Err(crate::attest::Unattested::Factor(e)) => return refused(e.to_string()),
                Err(crate::attest::Unattested::NoFactors) => {
                    return refused("no approvers' factors are available to this engine".into());
                }
                Err(_) => {
                    return refused(format!(
                        "setting {key} to {value} loosens the policy: it needs an enrolled approver's code (--approver NAME, then the code)"
                    ));
                }
            }
        }
        self.host_event(caller, "policy.changed", "ok", serde_json::json!({"key": key, "value": value, "loosens": loosens, "approver": approver}))?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::env::Backend;

    fn ws() -> RawConfig {
        RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local)
    }

    #[test]
    fn a_looser_workspace_is_ignored_and_named() {
        let guard = ws();
        let mut loose = ws();
        loose.environments.get_mut("prod").unwrap().read_only = false;
        loose.approval.cost_threshold_usd = "1000000".into();
        loose.approval.block_findings_at = "critical".into();
        loose.approval.auto_promote_low_cost = true;
        let vars = [("SECURITY_SCANNING".to_string(), "disabled".to_string())]
            .into_iter()
            .collect();
        let c = effective(&guard, Some(&loose), &vars).unwrap();
        assert!(c.environment("prod").unwrap().read_only);
        assert!(c.environment("dev").unwrap().scanning);
        assert_eq!(c.cost_threshold, Money::parse("10").unwrap());
        assert_eq!(c.block_findings_at, Severity::Medium);
        assert!(!c.auto_promote_low_cost);
        for word in [
            "auto_promote_low_cost",
            "read_only",
            "cost_threshold_usd",
            "block_findings_at",
            "SECURITY_SCANNING",
        ] {
            assert!(
                c.notes.iter().any(|n| n.contains(word)),
                "{word}: {:?}",
                c.notes
            );
        }
    }

    /// An agent that could point the state at a table of its own could
    /// write its own approvals: where the state lives is the guard's.
    #[test]
    fn a_workspace_state_is_ignored_and_named() {
        use crate::config::StateBackend;
        let guard = ws();
        let mut moved = ws();
        moved.state.backend = Some("dynamodb".into());
        moved.state.table = Some("agents-own-table".into());
        moved.state.region = Some("eu-west-1".into());
        let c = effective(&guard, Some(&moved), &BTreeMap::new()).unwrap();
        assert_eq!(c.state, StateBackend::Sqlite);
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("[state]") && n.contains("ignored")),
            "{:?}",
            c.notes
        );
        // The guard's own [state] stands.
        let mut shared = ws();
        shared.state = moved.state.clone();
        let c = effective(&shared, Some(&ws()), &BTreeMap::new()).unwrap();
        assert!(
            matches!(c.state, StateBackend::Dynamodb { ref table, .. } if table == "agents-own-table")
        );
    }

    #[test]
    fn a_tighter_workspace_applies() {
        let guard = ws();
        let mut tight = ws();
        tight.environments.get_mut("dev").unwrap().read_only = true;
        tight.approval.cost_threshold_usd = "1.00".into();
        tight.approval.block_findings_at = "low".into();
        let c = effective(&guard, Some(&tight), &BTreeMap::new()).unwrap();
        assert!(c.environment("dev").unwrap().read_only);
        assert_eq!(c.cost_threshold, Money::parse("1").unwrap());
        assert_eq!(c.block_findings_at, Severity::Low);
    }

    #[test]
    fn adoption_starts_at_the_defaults_or_tighter() {
        let mut loose = ws();
        loose.environments.get_mut("prod").unwrap().read_only = false;
        loose.approval.cost_threshold_usd = "500".into();
        loose.approval.auto_promote_low_cost = true;
        let (p, notes) = adoption_policy(&loose);
        assert!(p.environments["prod"].read_only);
        assert_eq!(p.approval.cost_threshold_usd, "10.00");
        assert!(!p.approval.auto_promote_low_cost);
        assert_eq!(notes.len(), 3, "{notes:?}");
    }

    #[test]
    fn changes_say_whether_they_loosen() {
        let p = ws();
        assert!(
            change(&p, "environments.prod.read_only", "false")
                .unwrap()
                .1
        );
        assert!(!change(&p, "environments.dev.read_only", "true").unwrap().1);
        assert!(change(&p, "approval.cost_threshold_usd", "50").unwrap().1);
        assert!(!change(&p, "approval.cost_threshold_usd", "5").unwrap().1);
        assert!(change(&p, "approval.expires_hours", "48").unwrap().1);
        assert!(!change(&p, "approval.expires_hours", "2").unwrap().1);
        assert!(change(&p, "approval.expires_hours", "0").is_err());
        assert!(
            change(&p, "approval.auto_promote_low_cost", "true")
                .unwrap()
                .1
        );
        let (on, _) = change(&p, "approval.auto_promote_low_cost", "true").unwrap();
        assert!(
            !change(&on, "approval.auto_promote_low_cost", "false")
                .unwrap()
                .1
        );
        assert!(change(&p, "bogus", "1").is_err());
    }

    #[test]
    fn a_shorter_approval_expiry_tightens_and_a_longer_one_is_ignored() {
        let guard = ws();
        let mut short = ws();
        short.approval.expires_hours = 2;
        let c = effective(&guard, Some(&short), &BTreeMap::new()).unwrap();
        assert_eq!(c.approval_expiry_seconds, 2 * 3600);

        let mut long = ws();
        long.approval.expires_hours = 24 * 7;
        let c = effective(&guard, Some(&long), &BTreeMap::new()).unwrap();
        assert_eq!(c.approval_expiry_seconds, 24 * 3600);
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("approval.expires_hours = 168 ignored")),
            "{:?}",
            c.notes
        );

        let (p, notes) = adoption_policy(&long);
        assert_eq!(p.approval.expires_hours, 24);
        assert!(
            notes.iter().any(|n| n.contains("expires_hours")),
            "{notes:?}"
        );
    }
}
