//! The token chain that agents walk through over MCP:
//!
//! ```text
//! check_environment → environment token
//!   → session_info        → credentials token (a session: reusable until it expires)
//!   → generate            → generated-code token   (a plan is made here)
//!   → explain_step        → explained token        (spends the generated-code token)
//!   → scan_step           → security-scan token    (spends the explained token)
//!   → apply_step          (spends the security-scan token when the gate lets it through)
//! ```
//!
//! A token is `ig1.<claims>.<mac>`: base64url JSON claims (kind, id, env,
//! plan, content hash, parent, issued, expires) signed with HMAC-SHA256 under
//! the project's secret. A token is bound to its environment and to the exact
//! plan content; a step token works once. The mutation applies the plan the
//! tokens vouch for, never content the caller sends along.
//!
//! Every refusal names the missing step and the tool to call next.
//!
//! Here: the steps and what each returns. In `token`: the tokens
//! themselves (signing, verifying, spending).

use std::collections::BTreeMap;

use infraguard_core::cloud::{Cloud, ProgressEvent};
use infraguard_core::finding::Finding;
use infraguard_core::plan::{GateDecision, Plan, PlanStatus};
use infraguard_core::resource::Operation;
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::actor::Actor;
use crate::engine::{ApplyOutcome, Engine, PlanRequest};
use crate::env_vars;
use crate::error::EngineError;
use crate::redact::Shown;

mod token;

pub use token::{Claims, TokenKind};

fn refuse(msg: String) -> EngineError {
    EngineError::Chain(msg)
}

/// Result of `check_environment_variables`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnvironmentCheck {
    pub environment: String,
    pub ok: bool,
    pub variables: Vec<VariableStatus>,
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    pub read_only: bool,
    pub security_scanning: bool,
    pub backend: String,
    pub environment_token: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VariableStatus {
    pub name: String,
    pub set: bool,
    /// The value, for variables that are not secrets; never for credentials.
    pub value: Option<String>,
    pub description: String,
}

/// Result of `get_aws_session_info`. Holds no credential characters.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionInfo {
    pub environment: String,
    pub profile: Option<String>,
    pub authentication: String,
    pub account_id: String,
    pub region: String,
    pub arn: String,
    pub backend: String,
    pub read_only: bool,
    pub credentials_token: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Generated {
    pub plan: Shown<Plan>,
    pub generated_code_token: String,
    /// The same value: the seed reads it under this name.
    pub properties_token: String,
    pub properties_for_explanation: Value,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Explained {
    pub plan_id: String,
    pub cloudformation_template: String,
    pub explanation: String,
    pub explained_token: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Scanned {
    pub plan_id: String,
    /// `PASSED` (no open findings) or `FAILED`.
    pub scan_status: String,
    pub summary: String,
    pub findings: Vec<Finding>,
    pub security_scan_token: String,
    pub gate: infraguard_core::plan::Gate,
}

/// What an agent may decide about a scan's findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingsDecision {
    /// Go back and change the properties (the fixes are returned).
    Fix,
    /// Go ahead despite the findings; a human still approves where the gate says so.
    Proceed,
    /// Abandon the plan.
    Cancel,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FindingsOutcome {
    pub plan_id: String,
    pub decision: FindingsDecision,
    pub message: String,
    /// For `fix`: the RFC 6902 patches that would fix each finding.
    pub fixes: Vec<Value>,
    pub approval_id: Option<String>,
}
impl<C: Cloud, S: Store> Engine<C, S> {
    /// Step 1: are the environment and its variables usable?
    pub fn check_environment(
        &self,
        env: &str,
        vars: &BTreeMap<String, String>,
    ) -> Result<EnvironmentCheck, EngineError> {
        let e = self.config.environment(env)?.clone();
        let mut variables: Vec<VariableStatus> = env_vars::ALL
            .iter()
            .map(|(name, description)| VariableStatus {
                name: name.to_string(),
                set: vars.contains_key(*name),
                value: vars.get(*name).cloned(),
                description: description.to_string(),
            })
            .collect();
        for (name, description) in [
            (
                env_vars::AWS_ACCESS_KEY_ID,
                "static credentials (value never shown)",
            ),
            (
                env_vars::AWS_SECRET_ACCESS_KEY,
                "static credentials (value never shown)",
            ),
            (
                env_vars::AWS_SESSION_TOKEN,
                "temporary credentials (value never shown)",
            ),
        ] {
            variables.push(VariableStatus {
                name: name.into(),
                set: vars.contains_key(name),
                value: None,
                description: description.into(),
            });
        }
        let mut problems = Vec::new();
        if let Err(err) = self.cloud(env)?.identity() {
            problems.push(format!(
                "cannot reach the {} backend of `{env}`: {err}",
                e.backend.as_str()
            ));
        }
        let ok = problems.is_empty();
        let environment_token = if ok {
            Some(self.issue(TokenKind::Environment, env, None, None)?)
        } else {
            None
        };
        Ok(EnvironmentCheck {
            environment: env.into(),
            ok,
            variables,
            problems,
            notes: self.config.notes.clone(),
            read_only: e.read_only,
            security_scanning: e.scanning,
            backend: e.backend.as_str().into(),
            environment_token,
        })
    }

    /// Step 2: which account and region will be affected.
    pub fn session_info(
        &self,
        env: &str,
        environment_token: Option<&str>,
    ) -> Result<SessionInfo, EngineError> {
        let tool = "get_aws_session_info";
        let claims = self.verify_token(environment_token, TokenKind::Environment, env, tool)?;
        let e = self.config.environment(env)?.clone();
        let id = self
            .cloud(env)?
            .identity()
            .map_err(|err| EngineError::Cloud {
                env: env.into(),
                operation: "identify".into(),
                type_name: "session".into(),
                identifier: None,
                source: Box::new(err),
            })?;
        self.spend(&claims, tool)?;
        let credentials_token = self.issue(TokenKind::Credentials, env, None, Some(&claims))?;
        Ok(SessionInfo {
            environment: env.into(),
            profile: id.profile.clone().or(e.profile.clone()),
            authentication: id.auth_kind,
            account_id: id.account_id,
            region: id.region,
            arn: id.arn,
            backend: e.backend.as_str().into(),
            read_only: e.read_only,
            credentials_token,
        })
    }

    /// Step 3: plan the change (template, scan, estimate and gate are all
    /// decided here and bound to the plan's content hash).
    pub fn generate(
        &self,
        req: PlanRequest,
        credentials_token: Option<&str>,
    ) -> Result<Generated, EngineError> {
        let tool = "generate_infrastructure_code";
        self.verify_token(credentials_token, TokenKind::Credentials, &req.env, tool)?;
        let plan = self.plan(req)?;
        let token = self.issue(TokenKind::GeneratedCode, &plan.env, Some(&plan), None)?;
        let properties_for_explanation = json!({
            "operation": plan.operation,
            "resource_type": plan.type_name,
            "identifier": plan.identifier,
            "properties": plan.desired_state,
            "patch_document": plan.patch,
        });
        Ok(Generated {
            plan,
            generated_code_token: token.clone(),
            properties_token: token,
            properties_for_explanation,
        })
    }

    /// Step 4: the template and explanation a person should read.
    pub fn explain_step(
        &self,
        env: &str,
        generated_code_token: Option<&str>,
    ) -> Result<Explained, EngineError> {
        let tool = "explain";
        let claims =
            self.verify_token(generated_code_token, TokenKind::GeneratedCode, env, tool)?;
        let plan = self.chain_plan(&claims, tool)?;
        self.spend(&claims, tool)?;
        let explained_token = self.issue(TokenKind::Explained, env, Some(&plan), Some(&claims))?;
        Ok(Explained {
            plan_id: plan.id.clone(),
            cloudformation_template: plan.template.to_pretty_json(),
            explanation: plan.explanation.clone(),
            explained_token,
        })
    }

    /// Step 5: the security scan's verdict on the explained plan.
    pub fn scan_step(
        &self,
        env: &str,
        explained_token: Option<&str>,
    ) -> Result<Scanned, EngineError> {
        let tool = "run_checkov";
        let claims = self.verify_token(explained_token, TokenKind::Explained, env, tool)?;
        let plan = self.chain_plan(&claims, tool)?;
        self.spend(&claims, tool)?;
        let open: Vec<&Finding> = plan.open_findings().collect();
        let scan_status = if open.is_empty() { "PASSED" } else { "FAILED" };
        let summary = if open.is_empty() {
            format!(
                "PASSED: {} checks found nothing open on {}",
                plan.findings.len(),
                plan.type_name
            )
        } else {
            let mut by_sev: BTreeMap<&str, usize> = BTreeMap::new();
            for f in &open {
                *by_sev.entry(f.severity.as_str()).or_default() += 1;
            }
            let counts: Vec<String> = by_sev
                .iter()
                .rev()
                .map(|(s, n)| format!("{n} {s}"))
                .collect();
            format!(
                "FAILED: {} open finding(s) ({}); fix them (approve_security_findings decision=fix), or proceed (decision=proceed) and a human approves",
                open.len(),
                counts.join(", ")
            )
        };
        let security_scan_token =
            self.issue(TokenKind::SecurityScan, env, Some(&plan), Some(&claims))?;
        Ok(Scanned {
            plan_id: plan.id.clone(),
            scan_status: scan_status.into(),
            summary,
            findings: plan.findings.clone(),
            security_scan_token,
            gate: plan.gate.clone(),
        })
    }

    /// An agent's decision on the findings of one scan.
    pub fn findings_decision(
        &self,
        env: &str,
        security_scan_token: Option<&str>,
        decision: FindingsDecision,
        findings: &[String],
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<FindingsOutcome, EngineError> {
        let tool = "approve_security_findings";
        let claims = self.verify_token(security_scan_token, TokenKind::SecurityScan, env, tool)?;
        self.ensure_unspent(&claims, tool)?;
        let plan = self.chain_plan(&claims, tool)?;
        let all_open: Vec<&Finding> = plan.open_findings().collect();
        // A decision on specific findings names them by our rule id or the
        // Checkov id; none named means every open finding of the scan.
        let open: Vec<&Finding> = if findings.is_empty() {
            all_open.clone()
        } else {
            for name in findings {
                if !all_open
                    .iter()
                    .any(|f| &f.rule == name || f.checkov_id.as_ref() == Some(name))
                {
                    let known: Vec<String> = all_open.iter().map(|f| f.rule.clone()).collect();
                    return Err(refuse(format!(
                        "`{name}` is not an open finding of this scan; its open findings are: {}",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
            }
            all_open
                .iter()
                .copied()
                .filter(|f| {
                    findings
                        .iter()
                        .any(|n| &f.rule == n || f.checkov_id.as_ref() == Some(n))
                })
                .collect()
        };
        let undecided: Vec<String> = all_open
            .iter()
            .filter(|f| !open.iter().any(|o| std::ptr::eq(*o, **f)))
            .map(|f| f.rule.clone())
            .collect();
        let details = json!({
            "decision": decision,
            "reason": reason,
            "undecided": undecided,
            "findings": open.iter().map(|f| json!({"rule": f.rule, "checkov_id": f.checkov_id, "severity": f.severity})).collect::<Vec<_>>(),
        });
        let (message, fixes, approval_id) = match decision {
            FindingsDecision::Fix => {
                self.spend(&claims, tool)?;
                self.discard(&plan, actor, "fix")?;
                let fixes: Vec<Value> = open.iter().filter_map(|f| f.fix.clone()).collect();
                (
                    format!(
                        "plan {} is abandoned for fixing: change the properties as the findings say ({} mechanical fix(es) returned) and call generate_infrastructure_code again",
                        plan.id,
                        fixes.len()
                    ),
                    fixes,
                    None,
                )
            }
            FindingsDecision::Cancel => {
                self.spend(&claims, tool)?;
                self.discard(&plan, actor, "cancel")?;
                if let Some(aid) = &plan.gate.approval_id
                    && let Ok(a) = self.deny(
                        aid,
                        actor,
                        Some(reason.unwrap_or("cancelled after the security scan")),
                    )
                {
                    (
                        format!("plan {} cancelled; approval {} denied", plan.id, a.id),
                        Vec::new(),
                        None,
                    )
                } else {
                    (
                        format!(
                            "plan {} cancelled: its tokens will not be accepted",
                            plan.id
                        ),
                        Vec::new(),
                        None,
                    )
                }
            }
            FindingsDecision::Proceed => match plan.gate.decision {
                GateDecision::Auto => (
                    format!(
                        "no finding of plan {} needs a human: call the mutation tool with this security_scan_token",
                        plan.id
                    ),
                    Vec::new(),
                    None,
                ),
                _ => (
                    format!(
                        "proceeding past findings needs a human: the mutation tool will ask the user (or they run `infraguard approve {}`)",
                        plan.gate.approval_id.as_deref().unwrap_or("?")
                    ),
                    Vec::new(),
                    plan.gate.approval_id.clone(),
                ),
            },
        };
        let rec = self.record(
            actor,
            "findings.decision",
            Some(env),
            Some(&plan),
            "ok",
            details,
        );
        self.store.append_audit(&[rec])?;
        Ok(FindingsOutcome {
            plan_id: plan.id.clone(),
            decision,
            message,
            fixes,
            approval_id,
        })
    }

    /// Mark a plan abandoned after its scan, so it holds its resource no
    /// longer and can never be applied.
    fn discard(&self, plan: &Plan, actor: &Actor, why: &str) -> Result<(), EngineError> {
        let mut stored = self.load_plan(&plan.id)?;
        if stored.status != PlanStatus::Planned {
            return Ok(());
        }
        stored.status = PlanStatus::Discarded;
        let rec = self.record(
            actor,
            "plan.discarded",
            Some(&stored.env),
            Some(&stored),
            "ok",
            json!({"decision": why}),
        );
        Ok(self
            .store
            .update_plan(&stored, PlanStatus::Planned, &[rec])?)
    }

    /// Step 6: create / update / delete, through the gate, with the content
    /// the tokens vouch for.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_step(
        &self,
        env: &str,
        operation: Operation,
        credentials_token: Option<&str>,
        explained_token: Option<&str>,
        security_scan_token: Option<&str>,
        claimed: Claimed<'_>,
        actor: &Actor,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<ApplyOutcome, EngineError> {
        let tool = match operation {
            Operation::Create => "create_resource",
            Operation::Update => "update_resource",
            Operation::Delete => "delete_resource",
        };
        self.verify_token(credentials_token, TokenKind::Credentials, env, tool)?;
        let explained = self.verify_token(explained_token, TokenKind::Explained, env, tool)?;
        let scanned = self.verify_token(security_scan_token, TokenKind::SecurityScan, env, tool)?;
        if scanned.parent.as_deref() != Some(explained.id.as_str())
            || scanned.plan != explained.plan
            || scanned.hash != explained.hash
        {
            return Err(refuse(format!(
                "the security_scan_token given to {tool} was not issued for this explained_token: pass the pair from the same explain → run_checkov sequence"
            )));
        }
        let spent = self.store.token_spent(&scanned.id)?;
        let plan = self.chain_plan(&scanned, tool)?;
        if plan.operation != operation {
            return Err(refuse(format!(
                "plan {} is a {}, so {tool} cannot run it: call {}_resource with these tokens",
                plan.id, plan.operation, plan.operation
            )));
        }
        self.check_claimed(&plan, &claimed, tool)?;
        if spent {
            return self.retried(&plan, tool, actor, progress);
        }
        self.apply_guarded(
            &plan.id,
            actor,
            progress,
            &mut |_| self.spend(&scanned, tool),
            None,
        )
    }

    /// The same mutation again with tokens an apply already spent: the
    /// caller lost the reply (a killed server, a dropped connection). The
    /// plan the tokens name is finished or answered, never made twice: an
    /// `applying` plan is re-sent with its own client token, an applied one
    /// answers its outcome. Only a plan never sent is refused, and then a
    /// new chain is safe, since nothing reached the cloud.
    fn retried(
        &self,
        plan: &Plan,
        tool: &str,
        actor: &Actor,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<ApplyOutcome, EngineError> {
        match plan.status {
            PlanStatus::Applying | PlanStatus::Applied => {
                let rec = self.record(
                    actor,
                    "apply.retried",
                    Some(&plan.env),
                    Some(plan),
                    "pending",
                    json!({"tool": tool, "status": plan.status.as_str()}),
                );
                self.store.append_audit(&[rec])?;
                self.apply_guarded(&plan.id, actor, progress, &mut |_| Ok(()), None)
            }
            PlanStatus::Failed => Err(refuse(format!(
                "plan {} was applied with these tokens and failed ({}): the cloud changed nothing for it; start again from generate_infrastructure_code if the change is still wanted",
                plan.id,
                plan.applied
                    .as_ref()
                    .and_then(|r| r.message.as_deref())
                    .unwrap_or("no message")
            ))),
            PlanStatus::Discarded => Err(refuse(format!(
                "plan {} was discarded after its scan (fix or cancel), so {tool} will not run it; start again from generate_infrastructure_code",
                plan.id
            ))),
            PlanStatus::Planned => Err(refuse(format!(
                "the security_scan_token given to {tool} was already used, but plan {} was never sent to the cloud: nothing was created or changed, so a new chain is safe; start again from check_environment_variables",
                plan.id
            ))),
        }
    }
}

/// What a mutation call said it was about, beside its tokens (the seed's
/// `resource_type` and `identifier` arguments). The tokens decide what is
/// applied; a claim that contradicts them is refused, so that an agent
/// told "creating an SQS queue" cannot be creating a bucket.
#[derive(Clone, Copy, Debug, Default)]
pub struct Claimed<'a> {
    pub type_name: Option<&'a str>,
    pub identifier: Option<&'a str>,
}

impl<C: Cloud, S: Store> Engine<C, S> {
    fn check_claimed(
        &self,
        plan: &Plan,
        claimed: &Claimed<'_>,
        tool: &str,
    ) -> Result<(), EngineError> {
        let what = format!(
            "{} {}{} in {} (plan {})",
            plan.operation,
            plan.type_name,
            plan.identifier
                .as_deref()
                .map(|i| format!(" `{i}`"))
                .unwrap_or_default(),
            plan.env,
            plan.id
        );
        if let Some(t) = claimed.type_name.map(str::trim).filter(|t| !t.is_empty()) {
            let same = infraguard_schema::Catalog::builtin()
                .lookup(t)
                .map(|s| s.type_name == plan.type_name)
                .unwrap_or(false);
            if !same {
                return Err(refuse(format!(
                    "{tool} was called with resource_type `{t}`, but its tokens are for {what}: nothing was applied. Pass resource_type `{}` to apply that plan, or start from generate_infrastructure_code for a {t}",
                    plan.type_name
                )));
            }
        }
        if let (Some(id), Some(planned)) = (
            claimed.identifier.map(str::trim).filter(|i| !i.is_empty()),
            plan.identifier.as_deref(),
        ) && id != planned
        {
            return Err(refuse(format!(
                "{tool} was called with identifier `{id}`, but its tokens are for {what}: nothing was applied. Pass identifier `{planned}`, or start from generate_infrastructure_code for `{id}`"
            )));
        }
        Ok(())
    }
}
