//! `infraguard doctor`: the level each environment runs at, said plainly,
//! with the reasons and what would raise it.
//!
//! The level is a property of where the engine runs and who can reach its
//! files, so it is decided here, from what the host told the engine
//! ([`Engine::guarded`]) and who is asking.

use std::collections::BTreeSet;

use infraguard_core::cloud::Cloud;
use infraguard_core::env::{Backend, Environment};
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};

use crate::api::{Caller, Level};
use crate::engine::Engine;
use crate::session_policy::CLOUD_CONTROL_WRITES;

/// One environment's level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvLevel {
    pub name: String,
    pub level: Level,
    pub reasons: Vec<String>,
    pub fixes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoctorReport {
    pub environments: Vec<EnvLevel>,
    /// Configuration values that were applied or ignored (a looser value
    /// than the guard's policy is ignored and named here).
    pub notes: Vec<String>,
}

const ADVISORY: &str = "the engine runs in the caller's process, under the caller's OS account: it stops mistakes and leaves a trace, but an agent with a shell can get around it (edit infraguard.toml, write .infraguard/, answer its own prompts)";
const UNVERIFIED: &str = "approvals here are unverified confirmations (a terminal `yes`, an MCP elicitation accept, a click on the approval page): anything that can type can give them";

impl<C: Cloud, S: Store> Engine<C, S> {
    pub fn doctor_report(&self, caller: &Caller) -> DoctorReport {
        let approvers = self
            .factors
            .as_ref()
            .map(|f| f.approvers())
            .unwrap_or_default();
        let same_account = match (self.host_uid, caller.peer.as_ref()) {
            (Some(host), Some(peer)) => host == peer.uid,
            _ => false,
        };
        let environments = self
            .config
            .environments
            .iter()
            .map(|env| {
                if env.approval_role.is_some() {
                    return self.aws_enforced(env);
                }
                let mut reasons = Vec::new();
                let mut fixes = Vec::new();
                let level = match self.level {
                    Level::Advisory => {
                        reasons.push(ADVISORY.to_string());
                        reasons.push(UNVERIFIED.to_string());
                        fixes.push("sudo infraguard guard install   (the guard under its own OS account)".to_string());
                        fixes.push("sudo infraguard guard enroll --approver NAME   (a person's authenticator)".to_string());
                        fixes.push("infraguard guard adopt   (in this project folder: move its state into the guard)".to_string());
                        Level::Advisory
                    }
                    _ if same_account => {
                        reasons.push(format!(
                            "the guard runs under your own OS account (uid {}): you can read and change its files, so it is no boundary",
                            self.host_uid.unwrap_or_default()
                        ));
                        fixes.push("sudo infraguard guard install   (runs the guard as the system account `infraguard`)".to_string());
                        Level::Advisory
                    }
                    level => {
                        reasons.push(format!(
                            "the guard (uid {}) holds this project's state, policy, token secret and cloud access out of your account's reach",
                            self.host_uid.unwrap_or_default()
                        ));
                        if approvers.is_empty() {
                            reasons.push("no approver is enrolled: nothing that needs a human can be approved until one is".to_string());
                            fixes.push("sudo infraguard guard enroll --approver NAME".to_string());
                        } else {
                            reasons.push(format!(
                                "a human approval is a code from an enrolled approver's authenticator ({}), checked by the guard",
                                approvers.join(", ")
                            ));
                        }
                        if env.backend == Backend::Aws {
                            reasons.push(format!(
                                "infraguard's own path is guarded, but AWS does not know it: whatever credentials your account holds for {}'s account are not checked here",
                                env.name
                            ));
                        }
                        level
                    }
                };
                EnvLevel {
                    name: env.name.clone(),
                    level,
                    reasons,
                    fixes,
                }
            })
            .collect();
        DoctorReport {
            environments,
            notes: self.config.notes.clone(),
        }
    }
}

/// The fix when the agent's own credentials can write.
const READ_ONLY_FIX: &str = "give the agent's principal read-only access only: `infraguard doctor --iam-templates` prints the policy (apply it through `infraguard plan`), then detach its write permissions";

impl<C: Cloud, S: Store> Engine<C, S> {
    /// An environment with an approval role is `aws-enforced` only if AWS
    /// says both halves: the caller's own credentials cannot write there
    /// (IAM `SimulatePrincipalPolicy` over the Cloud Control writes and the
    /// handler permissions of every supported type), and the approval role
    /// cannot be assumed without MFA (its trust policy, from `GetRole`).
    fn aws_enforced(&self, env: &Environment) -> EnvLevel {
        let mut reasons = Vec::new();
        let mut fixes = Vec::new();
        let role = env.approval_role.as_ref().expect("checked by the caller");
        let verdict = (|| -> Result<bool, String> {
            let account = self.account(&env.name).map_err(|e| e.to_string())?;
            let me = self
                .cloud(&env.name)
                .map_err(|e| e.to_string())?
                .identity()
                .map_err(|e| format!("who the credentials are (STS GetCallerIdentity): {e}"))?;
            let principal = principal_of(&me.arn);
            let actions = write_actions();
            let simulated = account
                .simulate(&principal, &actions)
                .map_err(|e| format!("IAM SimulatePrincipalPolicy for {principal}: {e}"))?;
            let allowed: Vec<&str> = simulated
                .iter()
                .filter(|s| s.allowed())
                .map(|s| s.action.as_str())
                .collect();
            let mut ok = true;
            if allowed.is_empty() {
                reasons.push(format!(
                    "AWS (IAM SimulatePrincipalPolicy) says your credentials ({principal}) can make none of the {} write actions of Cloud Control and the supported types in account {}",
                    actions.len(),
                    me.account_id
                ));
            } else {
                ok = false;
                let shown: Vec<&str> = allowed.iter().take(8).copied().collect();
                reasons.push(format!(
                    "your credentials ({principal}) can write in account {} without the approval role: AWS allows {} of {} write actions ({}{}), so an agent with a shell could change {} around infraguard",
                    me.account_id,
                    allowed.len(),
                    actions.len(),
                    shown.join(", "),
                    if allowed.len() > shown.len() { ", ..." } else { "" },
                    env.name
                ));
                fixes.push(READ_ONLY_FIX.to_string());
            }
            let trust = account
                .trust_policy(role.role_name())
                .map_err(|e| format!("IAM GetRole {}: {e}", role.role_name()))?;
            match mfa_gaps(&trust) {
                gaps if gaps.is_empty() => reasons.push(format!(
                    "the approval role {} can be assumed only with MFA (its trust policy requires aws:MultiFactorAuthPresent): a write needs the MFA code of {}, which AWS STS checks",
                    role.role_arn, role.mfa_serial
                )),
                gaps => {
                    ok = false;
                    reasons.push(format!(
                        "the approval role {} can be assumed without MFA: {}",
                        role.role_arn,
                        gaps.join("; ")
                    ));
                    fixes.push("require MFA in the role's trust policy: every statement that allows sts:AssumeRole needs the condition {\"Bool\": {\"aws:MultiFactorAuthPresent\": \"true\"}} (`infraguard doctor --iam-templates` prints the role)".to_string());
                }
            }
            Ok(ok)
        })();
        let level = match verdict {
            Ok(true) => Level::AwsEnforced,
            Ok(false) => Level::Advisory,
            Err(e) => {
                reasons.push(format!("AWS could not be asked, so nothing is proven: {e}"));
                fixes.push("let the doctor's credentials call sts:GetCallerIdentity, iam:SimulatePrincipalPolicy and iam:GetRole (the read-only policy of `infraguard doctor --iam-templates` allows them)".to_string());
                Level::Advisory
            }
        };
        if level == Level::Advisory {
            reasons.push(format!(
                "until then approvals in {} still need the MFA session, but AWS does not stop a write made around infraguard",
                env.name
            ));
        }
        EnvLevel {
            name: env.name.clone(),
            level,
            reasons,
            fixes,
        }
    }
}

/// The IAM principal of a caller's ARN: an assumed-role session is
/// simulated as its role (`arn:aws:sts::1:assumed-role/R/s` →
/// `arn:aws:iam::1:role/R`); users and roles are themselves.
pub fn principal_of(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6
        && parts[2] == "sts"
        && let Some(rest) = parts[5].strip_prefix("assumed-role/")
        && let Some((role, _session)) = rest.rsplit_once('/')
    {
        return format!("arn:{}:iam::{}:role/{role}", parts[1], parts[4]);
    }
    arn.to_string()
}

/// Every write an agent's credentials must not hold: Cloud Control's, and
/// the create, update and delete handler permissions of every supported
/// type, without repeats: Cloud Control's first, the rest sorted.
pub fn write_actions() -> Vec<String> {
    let mut all: BTreeSet<String> = BTreeSet::new();
    let catalog = infraguard_schema::Catalog::builtin();
    for t in catalog.types() {
        if let Ok(schema) = catalog.get(t) {
            let h = &schema.handlers;
            for a in h.create.iter().chain(&h.update).chain(&h.delete) {
                // Reads a handler also needs are no writes.
                let name = a.split(':').nth(1).unwrap_or_default().to_ascii_lowercase();
                if !["get", "list", "describe"]
                    .iter()
                    .any(|p| name.starts_with(p))
                {
                    all.insert(a.clone());
                }
            }
        }
    }
    // Cloud Control's own first: the ones a report names first.
    CLOUD_CONTROL_WRITES
        .iter()
        .map(|a| a.to_string())
        .chain(
            all.into_iter()
                .filter(|a| !CLOUD_CONTROL_WRITES.contains(&a.as_str())),
        )
        .collect()
}

/// What in a trust policy lets `sts:AssumeRole` through without MFA: each
/// Allow statement for it must carry `Bool` `aws:MultiFactorAuthPresent`
/// `true` (`BoolIfExists` passes a call with no MFA at all, so it does
/// not count). Empty when every one does.
pub fn mfa_gaps(trust: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    let statements: Vec<&Value> = match &trust["Statement"] {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    let allows_assume = |st: &Value| -> bool {
        let actions: Vec<&str> = match &st["Action"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        st["Effect"] == "Allow"
            && actions.iter().any(|a| {
                let a = a.to_ascii_lowercase();
                a == "sts:assumerole" || a == "sts:*" || a == "*" || a == "sts:assume*"
            })
    };
    let requires_mfa = |st: &Value| -> bool {
        st["Condition"]["Bool"]
            .as_object()
            .and_then(|m| {
                m.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("aws:MultiFactorAuthPresent"))
            })
            .is_some_and(|(_, v)| match v {
                Value::String(s) => s.eq_ignore_ascii_case("true"),
                Value::Bool(b) => *b,
                Value::Array(a) => {
                    !a.is_empty()
                        && a.iter().all(|x| {
                            x.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
                                || x == &Value::Bool(true)
                        })
                }
                _ => false,
            })
    };
    let mut gaps = Vec::new();
    let mut any = false;
    for (i, st) in statements.iter().enumerate() {
        if !allows_assume(st) {
            continue;
        }
        any = true;
        if !requires_mfa(st) {
            let sid = st["Sid"]
                .as_str()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            gaps.push(format!(
                "statement {}{sid} allows sts:AssumeRole without the condition Bool aws:MultiFactorAuthPresent = true",
                i + 1
            ));
        }
    }
    if !any {
        gaps.push("no statement allows sts:AssumeRole, so no one, the approver included, can use the role".into());
    }
    gaps
}

#[cfg(test)]
mod aws_tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_session_is_simulated_as_its_role() {
        assert_eq!(
            principal_of("arn:aws:sts::222222222222:assumed-role/agent-ro/session-1"),
            "arn:aws:iam::222222222222:role/agent-ro"
        );
        assert_eq!(
            principal_of("arn:aws:iam::222222222222:user/agent"),
            "arn:aws:iam::222222222222:user/agent"
        );
    }

    #[test]
    fn write_actions_cover_cloud_control_and_handlers_but_no_reads() {
        let all = write_actions();
        for a in [
            "cloudformation:CreateResource",
            "s3:CreateBucket",
            "iam:CreateRole",
            "lambda:CreateFunction",
        ] {
            assert!(all.iter().any(|x| x == a), "{a}");
        }
        assert!(!all.iter().any(|a| {
            let a = a.to_ascii_lowercase();
            a.contains(":get") || a.contains(":list") || a.contains(":describe")
        }));
    }

    #[test]
    fn a_trust_policy_needs_mfa_on_every_statement_that_allows_assume_role() {
        let with = |cond: serde_json::Value| {
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                "Action": "sts:AssumeRole", "Condition": cond}]})
        };
        assert!(
            mfa_gaps(&with(
                json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
            ))
            .is_empty()
        );
        assert_eq!(
            mfa_gaps(&with(
                json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})
            ))
            .len(),
            1
        );
        assert_eq!(
            mfa_gaps(&with(
                json!({"Bool": {"aws:MultiFactorAuthPresent": "false"}})
            ))
            .len(),
            1
        );
        assert_eq!(mfa_gaps(&with(json!(null))).len(), 1);
        // A second, MFA-less statement opens the role.
        let mut two = with(json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}));
        two["Statement"].as_array_mut().unwrap().push(
            json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["sts:AssumeRole"]}),
        );
        assert_eq!(mfa_gaps(&two).len(), 1);
        assert_eq!(mfa_gaps(&json!({"Statement": []})).len(), 1);
    }
}

/// The two CloudFormation templates an administrator applies once per AWS
/// environment to make it `aws-enforced` (`infraguard doctor
/// --iam-templates`): a read-only managed policy for the agent's principal,
/// and the MFA-gated approval role.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IamTemplates {
    pub env: String,
    pub account_id: Option<String>,
    /// `AWS::IAM::ManagedPolicy`: reads only, and an explicit deny of every
    /// Cloud Control write. Attached to `agent_role` when one was named.
    pub agent_read_only: serde_json::Value,
    /// `AWS::IAM::Role`: assumable only with MFA; its permissions are the
    /// ceiling each plan's session policy narrows.
    pub approval_role: serde_json::Value,
}

impl<C: Cloud, S: Store> Engine<C, S> {
    pub fn iam_templates(
        &self,
        env: &str,
        agent_role: Option<&str>,
        approver_arn: Option<&str>,
    ) -> Result<IamTemplates, crate::error::EngineError> {
        use serde_json::json;
        let e = self.config.environment(env)?;
        let account = e.account_id.clone().or_else(|| {
            e.approval_role
                .as_ref()
                .and_then(|r| r.account().map(str::to_string))
        });
        let catalog = infraguard_schema::Catalog::builtin();
        let mut reads: BTreeSet<String> = [
            "cloudformation:GetResource",
            "cloudformation:ListResources",
            "cloudformation:GetResourceRequestStatus",
            "cloudformation:ListResourceRequests",
            "cloudformation:DescribeType",
            "sts:GetCallerIdentity",
            "iam:SimulatePrincipalPolicy",
            "iam:GetRole",
            "cloudtrail:LookupEvents",
            "pricing:GetProducts",
            "ce:GetCostAndUsage",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        let mut services: BTreeSet<String> = BTreeSet::new();
        for t in catalog.types() {
            if let Ok(s) = catalog.get(t) {
                let h = &s.handlers;
                for a in h.read.iter().chain(&h.list) {
                    if let Some((svc, name)) = a.split_once(':') {
                        // Reads folded to their verb: `s3:GetBucketTagging` → `s3:Get*`.
                        let verb: String = name
                            .char_indices()
                            .take_while(|(i, c)| *i == 0 || !c.is_ascii_uppercase())
                            .map(|(_, c)| c)
                            .collect();
                        if ["Get", "List", "Describe"].contains(&verb.as_str()) {
                            reads.insert(format!("{svc}:{verb}*"));
                        }
                    }
                }
                for a in h.create.iter().chain(&h.update).chain(&h.delete) {
                    if let Some((svc, _)) = a.split_once(':') {
                        services.insert(svc.to_string());
                    }
                }
            }
        }
        let prefix = &self.config.iam_prefix;
        let mut policy = json!({
            "ManagedPolicyName": format!("{prefix}AgentReadOnly{}", title(env)),
            "Description": format!("infraguard: what a coding agent may do in {env} on its own: read. Writes need the MFA-gated approval role."),
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "Reads", "Effect": "Allow", "Action": reads.into_iter().collect::<Vec<_>>(), "Resource": "*"},
                    {"Sid": "NoCloudControlWrites", "Effect": "Deny", "Action": CLOUD_CONTROL_WRITES, "Resource": "*"}
                ]
            }
        });
        if let Some(r) = agent_role {
            policy["Roles"] = json!([r]);
        }
        let principal = match (approver_arn, &account) {
            (Some(a), _) => a.to_string(),
            (None, Some(acct)) => format!("arn:aws:iam::{acct}:root"),
            (None, None) => "arn:aws:iam::ACCOUNT_ID:root".to_string(),
        };
        let role_name = e
            .approval_role
            .as_ref()
            .map(|r| r.role_name().to_string())
            .unwrap_or_else(|| format!("{}-infraguard-approver-{env}", self.config.prefix));
        let mut ceiling: Vec<String> = CLOUD_CONTROL_WRITES.iter().map(|a| a.to_string()).collect();
        ceiling.push("cloudformation:GetResource".into());
        ceiling.push("cloudformation:GetResourceRequestStatus".into());
        ceiling.extend(services.iter().map(|s| format!("{s}:*")));
        let role = json!({
            "RoleName": role_name,
            "Description": format!("infraguard: applies one approved plan in {env}; assumable only with an MFA code, for 15 minutes, with a session policy of that plan"),
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "ApproverWithMfa",
                    "Effect": "Allow",
                    "Principal": {"AWS": principal},
                    "Action": "sts:AssumeRole",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
                }]
            },
            "Policies": [{
                "PolicyName": "infraguard-apply-ceiling",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": ceiling, "Resource": "*"}]
                }
            }]
        });
        Ok(IamTemplates {
            env: env.to_string(),
            account_id: account,
            agent_read_only: json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"AgentReadOnly": {"Type": "AWS::IAM::ManagedPolicy", "Properties": policy}}}),
            approval_role: json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"ApprovalRole": {"Type": "AWS::IAM::Role", "Properties": role}}}),
        })
    }
}

/// `prod` → `Prod`.
fn title(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}
