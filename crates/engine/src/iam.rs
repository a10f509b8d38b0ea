//! IAM least privilege over an environment: lint and suggest with the
//! project's naming and the environment's account, and the extension
//! workflow (the seed's Step 4) as a normal plan.
//!
//! [`Engine::iam_extend`] reads a principal (an `AWS::IAM::User` or
//! `AWS::IAM::Role`), collects the policies attached to it — its inline
//! `Policies`, the `AWS::IAM::ManagedPolicy` resources named by its
//! `ManagedPolicyArns` (looked up by `PolicyArn`) and managed policies that
//! list it in their own `Users`/`Roles` — computes what the capability
//! needs that none of them grants, and proposes the smallest change:
//!
//! 1. nothing missing: no plan;
//! 2. the principal has an inline policy of the same service named by the
//!    convention (`SynthCoreAI-S3-...`): one update plan adding the missing
//!    statements to it (only this principal is affected);
//! 3. a managed policy with the conventional name already exists in the
//!    environment and grants what is missing (typically the same policy
//!    promoted from dev): one update plan adding its ARN to the principal's
//!    `ManagedPolicyArns`;
//! 4. otherwise: one create plan for a new `AWS::IAM::ManagedPolicy` named
//!    by the convention, holding the capability's whole document and
//!    attached through its own `Users`/`Roles` property — so it is one plan,
//!    and promotion to prod carries the attachment along (the reference to
//!    the dev principal is mapped to its prod counterpart).
//!
//! A new conventional policy holds the capability's whole document even if
//! another policy already grants part of it, so it stays correct when that
//! other policy goes. Each plan takes the normal path: scan, estimate, gate,
//! approval where the environment requires one; nothing is applied here.
//!
//! Not here: the lint, suggestion and diff logic (`infraguard_policy::iam_tools`).

use infraguard_core::cloud::Cloud;
use infraguard_core::plan::{GateDecision, Plan};
use infraguard_core::resource::Operation;
use infraguard_core::store::Store;
use infraguard_policy::iam_tools::{
    self, LintOptions, LintReport, PermissionDiff, SuggestContext, SuggestRequest, SuggestedPolicy,
    Suggestion, permission_diff,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::actor::Actor;
use crate::engine::{Engine, PlanRequest};
use crate::error::EngineError;
use crate::redact::Shown;

const USER: &str = "AWS::IAM::User";
const ROLE: &str = "AWS::IAM::Role";
const MANAGED_POLICY: &str = "AWS::IAM::ManagedPolicy";

/// A request to extend a principal's permissions by one capability.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExtendRequest {
    pub env: String,
    /// `AWS::IAM::User` or `AWS::IAM::Role`.
    pub principal_type: String,
    /// The user or role name (its identifier).
    pub principal: String,
    /// A capability phrase or id (see `iam suggest`).
    pub capability: String,
    /// Exact resources it touches; empty: the project's naming pattern.
    pub resources: Vec<String>,
    /// Who asks; set by the engine from the caller, never taken from the wire.
    #[serde(skip)]
    pub actor: Actor,
}

/// A policy attached to a principal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttachedPolicy {
    pub name: String,
    /// `inline`, `managed` or `aws-managed` (not readable here).
    pub kind: String,
    pub arn: Option<String>,
    /// The document; `null` for AWS managed policies.
    pub document: Value,
}

/// What the extension proposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A new conventional managed policy, attached on creation.
    NewManagedPolicy,
    /// Attach an existing conventional managed policy.
    AttachManagedPolicy,
    /// Add statements to an inline policy of the principal.
    AddInlineStatements,
}

/// Where the extension stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtendStatus {
    /// The capability phrase matched nothing: no plan (see `suggestion`).
    UnknownCapability,
    /// It matched several equally: ask again with an id.
    AmbiguousCapability,
    /// The principal already has every permission needed.
    AlreadyGranted,
    /// A plan was made; see its gate.
    Planned,
    /// A policy with the conventional name exists but grants less than
    /// needed: a person must decide (see `message`).
    Blocked,
}

/// The extension's report: current vs proposed permissions and the plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExtendReport {
    pub env: String,
    pub principal_type: String,
    pub principal: String,
    pub status: ExtendStatus,
    pub suggestion: Suggestion,
    pub current_policies: Vec<AttachedPolicy>,
    pub diff: PermissionDiff,
    /// `diff` for people: current grants, `+` for the additions.
    pub diff_text: String,
    pub change: Option<ChangeKind>,
    /// The policy created, attached or extended.
    pub policy_name: Option<String>,
    /// The plan (redacted as every plan handed out).
    pub plan: Option<Shown<Plan>>,
    /// What happened and the next step.
    pub message: String,
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// The account id and region of an environment, for ARNs. The account
    /// is `None` when the cloud cannot say who we are.
    fn arn_parts(&self, env: &str) -> Result<(Option<String>, String), EngineError> {
        let e = self.config().environment(env)?;
        let account = self.cloud(env)?.identity().ok().map(|i| i.account_id);
        Ok((account, e.region.clone()))
    }

    /// Lints a policy document or template (the MCP tool `lint_iam_policy`).
    /// With an environment, proposed ARNs carry its account and region.
    pub fn iam_lint(&self, text: &str, env: Option<&str>) -> Result<LintReport, EngineError> {
        let (account, region) = match env {
            Some(e) => {
                let (a, r) = self.arn_parts(e)?;
                (a, Some(r))
            }
            None => (None, None),
        };
        let options = LintOptions {
            prefix: Some(self.config().prefix.clone()),
            account,
            region,
        };
        iam_tools::lint_text(text, &options)
            .map_err(|e| EngineError::InvalidInput(format!("cannot lint the policy: {e}")))
    }

    /// The minimal policy for a capability (the MCP tool
    /// `suggest_iam_policy`), named with the project's IAM prefix and
    /// scoped to its naming pattern in `env`'s account and region.
    pub fn iam_suggest(
        &self,
        capability: &str,
        resources: &[String],
        env: &str,
    ) -> Result<Suggestion, EngineError> {
        let ctx = self.suggest_context(env)?;
        Ok(iam_tools::suggest(
            &SuggestRequest {
                capability: capability.into(),
                resources: resources.to_vec(),
            },
            &ctx,
        ))
    }

    fn suggest_context(&self, env: &str) -> Result<SuggestContext, EngineError> {
        let (account, region) = self.arn_parts(env)?;
        Ok(SuggestContext {
            iam_prefix: self.config().iam_prefix.clone(),
            prefix: self.config().prefix.clone(),
            account,
            region: Some(region),
        })
    }

    /// The live user or role; a name that does not exist is bad input
    /// (with the command that lists what does), not a cloud failure.
    fn principal(
        &self,
        env: &str,
        t: &str,
        name: &str,
    ) -> Result<infraguard_core::cloud::ResourceDescription, EngineError> {
        self.get_resource(env, t, name).map_err(|e| match &e {
            EngineError::Cloud { source, .. }
                if source.code() == Some(&infraguard_core::cloud::ErrorCode::NotFound) =>
            {
                EngineError::InvalidInput(format!(
                    "there is no {t} `{name}` in {env}: list them with `infraguard resources list --env {env} --type {t}`"
                ))
            }
            _ => e,
        })
    }

    /// The policies attached to a user or role in `env`.
    pub fn iam_attached_policies(
        &self,
        env: &str,
        principal_type: &str,
        principal: &str,
    ) -> Result<Vec<AttachedPolicy>, EngineError> {
        let t = principal_kind(principal_type)?;
        let live = self.principal(env, t, principal)?;
        let props = &live.properties;
        let mut out = Vec::new();
        if let Some(Value::Array(policies)) = props.get("Policies") {
            for p in policies {
                out.push(AttachedPolicy {
                    name: p
                        .get("PolicyName")
                        .and_then(Value::as_str)
                        .unwrap_or("(unnamed inline policy)")
                        .into(),
                    kind: "inline".into(),
                    arn: None,
                    document: p.get("PolicyDocument").cloned().unwrap_or(Value::Null),
                });
            }
        }
        let arns: Vec<String> = props
            .get("ManagedPolicyArns")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let managed = self.list_resources(env, Some(MANAGED_POLICY))?;
        let list_key = if t == USER { "Users" } else { "Roles" };
        for (_, m) in &managed {
            let arn = m
                .properties
                .get("PolicyArn")
                .and_then(Value::as_str)
                .unwrap_or(&m.identifier)
                .to_string();
            let by_arn = arns.contains(&arn);
            let by_list = m
                .properties
                .get(list_key)
                .and_then(Value::as_array)
                .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(principal)));
            if by_arn || by_list {
                out.push(AttachedPolicy {
                    name: m
                        .properties
                        .get("ManagedPolicyName")
                        .and_then(Value::as_str)
                        .unwrap_or(&arn)
                        .into(),
                    kind: "managed".into(),
                    arn: Some(arn),
                    document: m
                        .properties
                        .get("PolicyDocument")
                        .cloned()
                        .unwrap_or(Value::Null),
                });
            }
        }
        for arn in arns {
            if !out.iter().any(|p| p.arn.as_deref() == Some(arn.as_str())) {
                out.push(AttachedPolicy {
                    name: arn.rsplit('/').next().unwrap_or(&arn).into(),
                    kind: if arn.starts_with("arn:aws:iam::aws:policy/") {
                        "aws-managed".into()
                    } else {
                        "managed".into()
                    },
                    arn: Some(arn),
                    document: Value::Null,
                });
            }
        }
        Ok(out)
    }

    /// The extension workflow (the MCP tool `extend_iam_policy`): read the
    /// principal's policies, compute what the capability still needs, and
    /// plan the smallest change. See the module documentation for the
    /// choice of change.
    pub fn iam_extend(&self, req: &ExtendRequest) -> Result<ExtendReport, EngineError> {
        let t = principal_kind(&req.principal_type)?;
        let suggestion = self.iam_suggest(&req.capability, &req.resources, &req.env)?;
        let current = self.iam_attached_policies(&req.env, t, &req.principal)?;
        let mut report = ExtendReport {
            env: req.env.clone(),
            principal_type: t.into(),
            principal: req.principal.clone(),
            status: ExtendStatus::UnknownCapability,
            suggestion: suggestion.clone(),
            current_policies: current.clone(),
            diff: PermissionDiff::default(),
            diff_text: String::new(),
            change: None,
            policy_name: None,
            plan: None,
            message: String::new(),
        };
        let proposed = match &suggestion {
            Suggestion::Known(p) => p.clone(),
            Suggestion::Unknown { message, .. } => {
                report.message = message.clone();
                return Ok(report);
            }
            Suggestion::Ambiguous { message, .. } => {
                report.status = ExtendStatus::AmbiguousCapability;
                report.message = message.clone();
                return Ok(report);
            }
        };
        let docs: Vec<(String, Value)> = current
            .iter()
            .filter(|p| !p.document.is_null())
            .map(|p| (p.name.clone(), p.document.clone()))
            .collect();
        let mut diff = permission_diff(&docs, &proposed.policy_name, &proposed.document);
        for p in current.iter().filter(|p| p.kind == "aws-managed") {
            diff.notes.push(format!(
                "AWS managed policy `{}` is attached; its grants are not counted here",
                p.name
            ));
        }
        report.diff_text = diff.render();
        report.diff = diff;
        report.policy_name = Some(proposed.policy_name.clone());
        if report.diff.is_empty() {
            report.status = ExtendStatus::AlreadyGranted;
            report.message = format!(
                "{t} `{}` in {} already has every permission of {} ({}): nothing to change",
                req.principal, req.env, proposed.capability, proposed.policy_name
            );
            return Ok(report);
        }

        let (kind, plan) = match self.choose_change(req, t, &current, &proposed, &report.diff)? {
            Choice::Plan(kind, plan_req, name) => {
                report.policy_name = Some(name);
                (kind, self.plan(*plan_req)?)
            }
            Choice::Blocked(message) => {
                report.status = ExtendStatus::Blocked;
                report.message = message;
                return Ok(report);
            }
        };
        report.status = ExtendStatus::Planned;
        report.change = Some(kind);
        report.message = next_steps(&req.env, kind, &plan, t, &req.principal);
        report.plan = Some(plan);
        Ok(report)
    }

    fn choose_change(
        &self,
        req: &ExtendRequest,
        t: &str,
        current: &[AttachedPolicy],
        proposed: &SuggestedPolicy,
        diff: &PermissionDiff,
    ) -> Result<Choice, EngineError> {
        let missing = missing_statements(&proposed.document, diff);
        // 2. An inline policy of the same service, named by the convention.
        let service_prefix = proposed
            .policy_name
            .rsplit_once('-')
            .map(|(head, _)| format!("{head}-"))
            .unwrap_or_default();
        let live = self.principal(&req.env, t, &req.principal)?;
        if let Some(Value::Array(policies)) = live.properties.get("Policies")
            && let Some(i) = policies.iter().position(|p| {
                p.get("PolicyName")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.starts_with(&service_prefix))
            })
        {
            let name = policies[i]
                .get("PolicyName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let statement = &policies[i]["PolicyDocument"]["Statement"];
            let patch = if statement.is_array() {
                missing
                    .iter()
                    .map(|s| json!({"op": "add", "path": format!("/Policies/{i}/PolicyDocument/Statement/-"), "value": s}))
                    .collect::<Vec<_>>()
            } else {
                let mut all = if statement.is_object() {
                    vec![statement.clone()]
                } else {
                    Vec::new()
                };
                all.extend(missing.iter().cloned());
                vec![
                    json!({"op": "add", "path": format!("/Policies/{i}/PolicyDocument/Statement"), "value": all}),
                ]
            };
            return Ok(Choice::Plan(
                ChangeKind::AddInlineStatements,
                Box::new(update_request(req, t, json!(patch))),
                name,
            ));
        }
        // 3. The conventional managed policy exists already.
        let managed = self.list_resources(&req.env, Some(MANAGED_POLICY))?;
        if let Some((_, m)) = managed.iter().find(|(_, m)| {
            m.properties
                .get("ManagedPolicyName")
                .and_then(Value::as_str)
                == Some(proposed.policy_name.as_str())
        }) {
            let arn = m
                .properties
                .get("PolicyArn")
                .and_then(Value::as_str)
                .unwrap_or(&m.identifier)
                .to_string();
            let doc = m
                .properties
                .get("PolicyDocument")
                .cloned()
                .unwrap_or(Value::Null);
            let covers = permission_diff(
                &[(proposed.policy_name.clone(), doc)],
                &proposed.policy_name,
                &proposed.document,
            )
            .is_empty();
            if !covers {
                return Ok(Choice::Blocked(format!(
                    "{MANAGED_POLICY} `{}` exists in {} but grants less than {} needs, and it may be attached to others: update its document deliberately (infraguard plan --operation update --type {MANAGED_POLICY} --id {arn}) or ask for a narrower capability",
                    proposed.policy_name, req.env, proposed.capability
                )));
            }
            if current
                .iter()
                .any(|p| p.arn.as_deref() == Some(arn.as_str()))
            {
                // Attached already, yet something is missing: a Deny or an
                // unreadable document; the diff's notes say which.
                return Ok(Choice::Blocked(format!(
                    "`{}` is attached already but the permissions are still missing: {}",
                    proposed.policy_name,
                    diff.notes.join("; ")
                )));
            }
            let patch = if live
                .properties
                .get("ManagedPolicyArns")
                .is_some_and(Value::is_array)
            {
                json!([{"op": "add", "path": "/ManagedPolicyArns/-", "value": arn}])
            } else {
                json!([{"op": "add", "path": "/ManagedPolicyArns", "value": [arn]}])
            };
            return Ok(Choice::Plan(
                ChangeKind::AttachManagedPolicy,
                Box::new(update_request(req, t, patch)),
                proposed.policy_name.clone(),
            ));
        }
        // 4. A new conventional managed policy, attached on creation.
        let list_key = if t == USER { "Users" } else { "Roles" };
        let props = json!({
            "ManagedPolicyName": proposed.policy_name,
            "Description": format!("{} (capability {}, added by infraguard iam extend)", proposed.title, proposed.capability),
            "PolicyDocument": proposed.document,
            list_key: [req.principal],
        });
        Ok(Choice::Plan(
            ChangeKind::NewManagedPolicy,
            Box::new(PlanRequest::create(
                &req.env,
                MANAGED_POLICY,
                None,
                props,
                req.actor.clone(),
            )),
            proposed.policy_name.clone(),
        ))
    }
}

enum Choice {
    Plan(ChangeKind, Box<PlanRequest>, String),
    Blocked(String),
}

fn principal_kind(type_name: &str) -> Result<&'static str, EngineError> {
    match type_name {
        USER => Ok(USER),
        ROLE => Ok(ROLE),
        other => Err(EngineError::InvalidInput(format!(
            "`{other}` is not a principal: extend an {USER} or an {ROLE}"
        ))),
    }
}

fn update_request(req: &ExtendRequest, t: &str, patch: Value) -> PlanRequest {
    PlanRequest {
        env: req.env.clone(),
        operation: Operation::Update,
        type_name: t.into(),
        purpose: None,
        properties: None,
        identifier: Some(req.principal.clone()),
        patch: Some(patch),
        usage: None,
        actor: req.actor.clone(),
    }
}

/// The proposed statements cut down to the (action, resource) pairs the
/// diff says are missing; statements left empty are dropped.
fn missing_statements(document: &Value, diff: &PermissionDiff) -> Vec<Value> {
    let statements = match document.get("Statement") {
        Some(Value::Array(s)) => s.clone(),
        Some(s) => vec![s.clone()],
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for st in statements {
        let resources: Vec<String> = match st.get("Resource") {
            Some(Value::String(r)) => vec![r.clone()],
            Some(Value::Array(r)) => r
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
            _ => Vec::new(),
        };
        let actions: Vec<String> = match st.get("Action") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
            _ => Vec::new(),
        };
        let keep: Vec<&String> = actions
            .iter()
            .filter(|a| {
                diff.added
                    .iter()
                    .any(|g| g.action == **a && resources.contains(&g.resource))
            })
            .collect();
        if keep.is_empty() {
            continue;
        }
        let mut s = st.clone();
        s["Action"] = json!(keep);
        out.push(s);
    }
    out
}

fn next_steps(env: &str, kind: ChangeKind, plan: &Plan, t: &str, principal: &str) -> String {
    let what = match kind {
        ChangeKind::NewManagedPolicy => "a new managed policy attached on creation",
        ChangeKind::AttachManagedPolicy => "attaching the existing conventional policy",
        ChangeKind::AddInlineStatements => "statements added to the principal's inline policy",
    };
    let gate = match (plan.gate.decision, &plan.gate.approval_id) {
        (GateDecision::Auto, _) => format!("apply it: infraguard apply {}", plan.id),
        (_, Some(a)) => format!(
            "a human approves it (infraguard approve {a}), then: infraguard apply {}",
            plan.id
        ),
        (_, None) => format!("the gate refused it: {}", plan.gate.reasons.join("; ")),
    };
    let promote = match kind {
        ChangeKind::NewManagedPolicy => format!(
            "after testing in {env}, promote it: infraguard promote --type {MANAGED_POLICY} --id <its PolicyArn> --with-dependencies"
        ),
        _ => format!(
            "after testing in {env}, run the same extension in prod (infraguard iam extend --env prod --{} {principal} ...): it plans the same change there",
            if t == USER { "user" } else { "role" }
        ),
    };
    format!(
        "planned {what} in {env} (plan {}); {gate}; {promote}",
        plan.id
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_policy::iam_tools::Grant;

    #[test]
    fn missing_statements_keep_only_missing_pairs() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::b"},
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}
        ]});
        let diff = PermissionDiff {
            added: vec![Grant {
                action: "s3:PutObject".into(),
                resource: "arn:aws:s3:::b/*".into(),
                policy: "New".into(),
            }],
            ..PermissionDiff::default()
        };
        let m = missing_statements(&doc, &diff);
        assert_eq!(
            m,
            [
                json!({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::b/*"})
            ]
        );
    }

    #[test]
    fn only_users_and_roles_are_principals() {
        assert_eq!(principal_kind(USER).unwrap(), USER);
        assert_eq!(principal_kind(ROLE).unwrap(), ROLE);
        let err = principal_kind("AWS::S3::Bucket").unwrap_err().to_string();
        assert!(err.contains("AWS::S3::Bucket"), "{err}");
    }
}
