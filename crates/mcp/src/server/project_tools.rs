//! The tools that look at the project as a whole rather than walk the token
//! chain: the cost report (and billing alarm plans), promotion from dev to
//! prod, the dev/prod sync and drift checks, and the IAM least-privilege
//! tools (lint, suggest, extend).
//!
//! Same rule as the rest of the server: each is one engine call translated
//! to MCP. Plans made here (billing alarms, IAM extensions) are only made;
//! they are applied through the normal chain or `infraguard apply`, so the
//! result says how, with the exact `generate_infrastructure_code` arguments
//! that reproduce the plan. A promotion is applied by the engine itself,
//! which gates its prod plan: when a human must approve, the user is asked
//! through the client exactly as for the mutation tools.

use infraguard_core::plan::Plan;
use infraguard_core::resource::Operation;
use infraguard_engine::iam::{ExtendRequest, ExtendStatus};
use infraguard_engine::{Actor, Caller, EngineError, PromotionReport, PromotionState};
use rmcp::model::{CallToolRequestParams, CallToolResponse, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde_json::{Value, json};

use super::approvals::{Decision, Pending};
use super::{
    HumanAnswer, InfraguardServer, ToolResult, adapter_refusal, from_engine, parse, refusal,
    success, to_value,
};
use crate::args::*;
use crate::error::McpError;
use crate::tools::ToolName;

/// How many times one `promote_resource` call asks a human and promotes
/// again: a resource and its dependencies may each wait for an approval.
/// Bounded so that an approval the gate keeps asking for cannot loop.
const MAX_PROMOTION_ROUNDS: usize = 8;

impl InfraguardServer {
    /// An environment when one is asked for or the server serves only one;
    /// `None` means every environment the (unrestricted) server serves.
    fn optional_env(&self, requested: Option<&str>) -> Result<Option<String>, McpError> {
        let requested = requested.map(str::trim).filter(|s| !s.is_empty());
        match (&self.fixed_env, requested) {
            (None, None) => Ok(None),
            _ => self.env_for(requested).map(Some),
        }
    }

    pub(super) async fn cost_report(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: CostReportArgs = parse(tool, request)?;
        // The review reads every environment (both, and the combined total,
        // as the seed shows it), whichever server asks; an `environment`
        // argument narrows it.
        let asked = a
            .environment
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let env = match asked {
            None => None,
            Some(name) => match self.config.environment(name) {
                Ok(e) => Some(e.name.clone()),
                Err(_) => {
                    return Ok(adapter_refusal(McpError::UnknownEnvironment {
                        env: name.to_string(),
                        known: self
                            .config
                            .environments
                            .iter()
                            .map(|e| e.name.clone())
                            .collect(),
                    }));
                }
            },
        };
        // Alarms are planned writes: in one environment this server writes,
        // the one asked for or the only one.
        let alarm_env = if a.create_billing_alarm {
            match self.env_for(asked) {
                Ok(e) => Some(e),
                Err(e) => return Ok(adapter_refusal(e)),
            }
        } else {
            None
        };
        let email = a.alert_email.clone();
        let r = self
            .blocking(caller, move |e, c| {
                let report = e.cost_report(c, env)?;
                let alarms = match alarm_env {
                    Some(env) => Some(e.plan_billing_alarms(c, env, email)?),
                    None => None,
                };
                Ok::<_, EngineError>((report, alarms))
            })
            .await?;
        let (report, alarms) = match r {
            Ok(x) => x,
            Err(e) => return Ok(from_engine::<Value>(Err(e))),
        };
        let tree = infraguard_cost::report::render_tree(&report);
        let mut v = infraguard_cost::report::to_json(&report);
        v["display"] = json!(tree);
        if let Some(plans) = &alarms {
            v["billing_alarms"] = json!(plans.iter().map(plan_summary).collect::<Vec<_>>());
            v["next_step"] = json!(
                "show `display` to the user; the billing alarms are planned, not created: apply each through the chain with its generate_arguments, or `infraguard apply PLAN_ID` (after `infraguard approve ID` where its gate needs a human)"
            );
        } else {
            v["next_step"] = json!("show `display` to the user");
        }
        // The structured JSON first (as every tool gives it), then the tree
        // a person reads.
        Ok(with_text(success(v), tree))
    }

    pub(super) async fn promote(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
    ) -> ToolResult {
        let a: PromoteArgs = parse(tool, request)?;
        // A promotion writes its prod side: a server for one environment
        // promotes only when that environment is prod (it reads dev). A dev
        // server never writes prod.
        if let Some(served) = &self.fixed_env {
            let target = self.config.promotion_envs().map(|(_, prod)| prod.name);
            if target.as_deref().ok() != Some(served.as_str()) {
                return Ok(adapter_refusal(McpError::NeedsBothEnvironments {
                    served: served.clone(),
                    tool: tool.as_str(),
                }));
            }
        }
        // Approvals the user granted during this call, by id.
        let mut approved: Vec<Decision> = Vec::new();
        for _ in 0..MAX_PROMOTION_ROUNDS {
            let (t, id, deps) = (
                a.resource_type.clone(),
                a.identifier.clone(),
                a.with_dependencies,
            );
            let r = self
                .blocking_with_progress(context, caller, move |e, c, progress| {
                    e.promote(c, t, id, deps, progress)
                })
                .await?;
            let report = match r {
                Ok(r) => r,
                Err(e) => return Ok(from_engine::<Value>(Err(e))),
            };
            let waiting = match (&report.status, &report.gate) {
                (PromotionState::AwaitingApproval, Some(g)) => g.approval_id.clone(),
                _ => None,
            };
            let Some(approval_id) = waiting else {
                return Ok(promotion_result(&report, &approved, None));
            };
            if approved.iter().any(|d| d.approval_id == approval_id) {
                // Approved, yet the promotion still waits for it: report, never loop.
                let why = "the approval was recorded but the promotion still waits for it";
                let pending = self.pending(caller, &approval_id, None, why.into()).await?;
                return Ok(promotion_result(&report, &approved, Some(&pending)));
            }
            match self
                .ask_about(&approval_id, request, context, caller)
                .await?
            {
                Some(HumanAnswer::Approved(d)) => approved.push(d),
                Some(HumanAnswer::Denied(d)) => {
                    return Ok(refusal(
                        "denied",
                        format!(
                            "{} declined the promotion of {} `{}` ({approval_id} is denied): nothing was created in prod. Change the dev resource and call promote_resource again if the promotion is still wanted.",
                            d.by, report.type_name, report.dev_id
                        ),
                        promotion_details(&report, &approved, Some(&approval_id)),
                    ));
                }
                Some(HumanAnswer::AskAndRetry(input)) => {
                    return Ok(CallToolResponse::InputRequired(input));
                }
                Some(HumanAnswer::Pending(p)) => {
                    return Ok(promotion_result(&report, &approved, Some(&p)));
                }
                // Decided elsewhere since the engine looked: promote again.
                None => {}
            }
        }
        Err(ErrorData::internal_error(
            format!(
                "promote_resource asked for approval {MAX_PROMOTION_ROUNDS} times without finishing; run `infraguard promote` to see where it stands"
            ),
            None,
        ))
    }

    pub(super) async fn sync_status(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: TypeFilterArgs = parse(tool, request)?;
        let r = self
            .blocking(caller, move |e, c| e.sync_status(c, a.resource_type))
            .await?;
        Ok(from_engine(r.map(|report| {
            let mut v = to_value(&report);
            v["in_sync"] = json!(report.is_clean());
            v["next_step"] = json!(if report.dev_only.is_empty() {
                "nothing waits for promotion; look at needs_review, if any"
            } else {
                "dev_only resources are not in prod yet: promote the ones the user wants with promote_resource (after their review), look at needs_review"
            });
            v
        })))
    }

    pub(super) async fn drift(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: TypeFilterArgs = parse(tool, request)?;
        let r = self
            .blocking(caller, move |e, c| e.drift(c, a.resource_type))
            .await?;
        Ok(from_engine(r.map(|report| {
            let mut v = to_value(&report);
            v["in_sync"] = json!(report.is_clean());
            if !report.is_clean() {
                v["next_step"] = json!(
                    "show the differences to the user; to reconcile, plan an update with generate_infrastructure_code (identifier + the `patch` given) in the environment to change, and walk the chain"
                );
            }
            v
        })))
    }

    /// The engine's checklist, then the app's own checks, run here (the
    /// server runs as the user, in the project folder; never the guard).
    pub(super) async fn preflight(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: EnvOnly = parse(tool, request)?;
        let env = match self.env_for(a.env.environment.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let r = self
            .blocking(caller, move |e, c| e.preflight(c, env))
            .await?;
        let mut report = match r {
            Ok(r) => r,
            Err(e) => return Ok(from_engine::<Value>(Err(e))),
        };
        if let Some(root) = self.root.clone() {
            let config = self.config.clone();
            report = tokio::task::spawn_blocking(move || {
                infraguard_engine::app_checks::add_to(&mut report, &root, &config);
                report
            })
            .await
            .map_err(|e| ErrorData::internal_error(format!("the checks task failed: {e}"), None))?;
        }
        let mut v = to_value(&report);
        v["next_step"] = json!(if report.ready {
            "every line passed: the environment is ready to deploy"
        } else {
            "show the failing lines to the user; each says what stands in the way"
        });
        Ok(success(v))
    }

    pub(super) async fn lint_iam(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: LintIamArgs = parse(tool, request)?;
        let text = match (a.policy_document, a.template) {
            (Some(doc), None) | (None, Some(doc)) => json_text(doc),
            (Some(_), Some(_)) => {
                return Ok(adapter_refusal(McpError::BadArgument {
                    tool: tool.as_str(),
                    message: "pass either policy_document or template, not both".into(),
                }));
            }
            (None, None) => {
                return Ok(adapter_refusal(McpError::BadArgument {
                    tool: tool.as_str(),
                    message: "pass policy_document (an IAM policy document) or template (a CloudFormation template)".into(),
                }));
            }
        };
        let env = match self.optional_env(a.environment.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let r = self
            .blocking(caller, move |e, c| e.iam_lint(c, text, env))
            .await?;
        Ok(from_engine(r.map(|report| {
            let mut v = report.json();
            let open = report.report.findings.iter().filter(|f| f.is_open()).count();
            v["next_step"] = json!(if open == 0 {
                "no findings"
            } else {
                "show the findings to the user; each names the fix (the nearest real action for a misspelling, a narrower action or resource for a wildcard)"
            });
            v
        })))
    }

    pub(super) async fn suggest_iam(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: SuggestIamArgs = parse(tool, request)?;
        let env = match self.env_for(a.env.environment.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let r = self
            .blocking(caller, move |e, c| {
                e.iam_suggest(c, a.capability, a.resources, env)
            })
            .await?;
        let suggestion = match r {
            Ok(s) => s,
            Err(e) => return Ok(from_engine::<Value>(Err(e))),
        };
        let v = to_value(&suggestion);
        if suggestion.policy().is_none() {
            return Ok(capability_refusal(v));
        }
        let mut v = v;
        v["next_step"] = json!(
            "show the policy to the user; to give it to a user or role, call extend_iam_policy with the same capability"
        );
        Ok(success(v))
    }

    pub(super) async fn extend_iam(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: ExtendIamArgs = parse(tool, request)?;
        let env = match self.env_for(a.env.environment.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let req = ExtendRequest {
            env,
            principal_type: principal_type(&a.principal_type),
            principal: a.principal_name,
            capability: a.capability,
            resources: a.resources,
            // The engine names the requester from the caller.
            actor: Actor::default(),
        };
        let r = self
            .blocking(caller, move |e, c| e.iam_extend(c, req))
            .await?;
        let report = match r {
            Ok(r) => r,
            Err(e) => return Ok(from_engine::<Value>(Err(e))),
        };
        let mut v = to_value(&report);
        match report.status {
            ExtendStatus::UnknownCapability | ExtendStatus::AmbiguousCapability => {
                return Ok(capability_refusal(v));
            }
            ExtendStatus::Blocked => {
                return Ok(refusal("blocked", report.message.clone(), v));
            }
            ExtendStatus::AlreadyGranted | ExtendStatus::Planned => {}
        }
        if let Some(plan) = &report.plan {
            let summary = plan_summary(plan);
            v["next_step"] = summary["next_step"].clone();
            v["plan_summary"] = summary;
        }
        Ok(success(v))
    }
}

/// A result with one more text block after the JSON (for people).
fn with_text(response: CallToolResponse, text: String) -> CallToolResponse {
    match response {
        CallToolResponse::Complete(mut r) => {
            r.content.push(ContentBlock::text(text));
            CallToolResponse::Complete(r)
        }
        other => other,
    }
}

/// Agents say `user` or `role`; the engine wants the CloudFormation type.
fn principal_type(given: &str) -> String {
    match given.trim().to_ascii_lowercase().as_str() {
        "user" | "iam user" | "iam::user" => "AWS::IAM::User".into(),
        "role" | "iam role" | "iam::role" => "AWS::IAM::Role".into(),
        _ => given.trim().to_string(),
    }
}

/// A document passed as JSON text stays as written (line numbers in
/// findings refer to it); an object is serialized.
fn json_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => serde_json::to_string_pretty(&other).unwrap_or_else(|_| other.to_string()),
    }
}

/// A capability phrase that matched nothing or several: a refusal whose
/// details list the known capabilities or the candidates, so the agent can
/// call again with an id.
fn capability_refusal(v: Value) -> CallToolResponse {
    let suggestion = v.get("suggestion").unwrap_or(&v);
    let status = suggestion
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let message = suggestion
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("the capability matched no known one")
        .to_string();
    let kind = if status == "ambiguous" {
        "ambiguous_capability"
    } else {
        "unknown_capability"
    };
    refusal(
        kind,
        format!("{message}; call again with a capability id from the list given"),
        v,
    )
}

/// One plan made by a tool that does not apply it: its gate, and the two
/// ways to apply it.
fn plan_summary(plan: &Plan) -> Value {
    let mut generate = json!({
        "resource_type": plan.type_name,
        "operation": plan.operation,
        "environment": plan.env,
    });
    if let Some(p) = &plan.purpose {
        generate["purpose"] = json!(p);
    }
    match plan.operation {
        Operation::Create => generate["properties"] = plan.desired_state.clone(),
        Operation::Update => {
            generate["identifier"] = json!(plan.identifier);
            generate["patch_document"] = json!(plan.patch);
        }
        Operation::Delete => generate["identifier"] = json!(plan.identifier),
    }
    let next = match &plan.gate.approval_id {
        Some(aid) => format!(
            "a human must approve this plan: walk the chain (generate_infrastructure_code with generate_arguments, explain, run_checkov, then the {} tool; the user is asked), or the user runs `infraguard approve {aid}` and `infraguard apply {}`",
            plan.operation, plan.id
        ),
        None => format!(
            "walk the chain (generate_infrastructure_code with generate_arguments, explain, run_checkov, then the {} tool), or run `infraguard apply {}`",
            plan.operation, plan.id
        ),
    };
    json!({
        "plan_id": plan.id,
        "environment": plan.env,
        "operation": plan.operation,
        "resource_type": plan.type_name,
        "identifier": plan.identifier,
        "gate": plan.gate,
        "monthly_cost_usd": plan.cost.monthly_usd,
        "open_findings": plan.open_findings().count(),
        "generate_arguments": generate,
        "next_step": next,
    })
}

/// The report's JSON with who approved what during this call and, when
/// the promotion waits, the approval id at the top level.
fn promotion_details(
    report: &PromotionReport,
    approved: &[Decision],
    waiting_on: Option<&str>,
) -> Value {
    let mut v = to_value(report);
    if !approved.is_empty() {
        v["approved_by"] = json!(approved.iter().map(Decision::fields).collect::<Vec<_>>());
    }
    if let Some(aid) = waiting_on {
        v["approval_id"] = json!(aid);
    }
    v
}

/// A finished promotion is a success; one that waits for a human, was
/// stopped by its checklist, denied or failed is a refusal naming the next
/// step (as the mutation tools report theirs).
fn promotion_result(
    report: &PromotionReport,
    approved: &[Decision],
    pending: Option<&Pending>,
) -> CallToolResponse {
    let approval_id = report.gate.as_ref().and_then(|g| g.approval_id.clone());
    match report.status {
        PromotionState::Synced | PromotionState::PendingProd => {
            let mut v = promotion_details(report, approved, None);
            v["status"] = json!(report.status.as_str());
            success(v)
        }
        PromotionState::AwaitingApproval => {
            let aid = approval_id.unwrap_or_default();
            let (why, how) = match pending {
                Some(p) => (p.why.clone(), p.how()),
                None => (
                    "the user could not be asked".to_string(),
                    format!(
                        "Ask the user to run `infraguard approve {aid}` in the project folder (or `infraguard deny {aid}`)"
                    ),
                ),
            };
            let mut details = promotion_details(report, approved, Some(&aid));
            if let Some(p) = pending {
                super::approvals::merge(&mut details, p.fields());
            }
            refusal(
                "approval_required",
                format!(
                    "{} Nothing more was changed: {why}. {how}, then call promote_resource again with the same arguments.",
                    report.message
                ),
                details,
            )
        }
        PromotionState::Blocked | PromotionState::Denied | PromotionState::Failed => {
            let failed = report
                .failed_item()
                .map(|c| format!(" (checklist: {}: {})", c.title, c.detail))
                .unwrap_or_default();
            refusal(
                report.status.as_str(),
                format!("{}{failed}", report.message),
                promotion_details(report, approved, None),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::plan::{Gate, GateDecision};
    use infraguard_engine::promote::{CheckStatus, ChecklistItem};

    fn report(status: PromotionState) -> PromotionReport {
        PromotionReport {
            type_name: "AWS::S3::Bucket".into(),
            dev_id: "synthcoreai-documents-dev".into(),
            status,
            prod_id: None,
            plan_id: Some("plan-1".into()),
            gate: Some(Gate {
                decision: GateDecision::ApprovalRequired,
                reasons: vec!["prod is read-only".into()],
                approval_id: Some("apr-1".into()),
            }),
            waiting_on: None,
            message: "the prod create waits for a human".into(),
            checklist: vec![ChecklistItem {
                key: "no_conflict".into(),
                title: "No unrelated prod resource holds the name".into(),
                status: CheckStatus::Failed,
                detail: "synthcoreai-documents-prod exists".into(),
            }],
            references: Vec::new(),
            dev_tags: Vec::new(),
            notes: Vec::new(),
            dependencies: Vec::new(),
        }
    }

    fn complete(r: CallToolResponse) -> rmcp::model::CallToolResult {
        match r {
            CallToolResponse::Complete(r) => r,
            _ => panic!("not a complete result"),
        }
    }

    #[test]
    fn principal_types_accept_the_short_words() {
        assert_eq!(principal_type(" User "), "AWS::IAM::User");
        assert_eq!(principal_type("role"), "AWS::IAM::Role");
        // Anything else goes to the engine as given, which names the choices.
        assert_eq!(principal_type("AWS::IAM::Group"), "AWS::IAM::Group");
    }

    #[test]
    fn a_policy_as_text_is_linted_as_written() {
        let text = "{\"Statement\": []}";
        assert_eq!(json_text(json!(text)), text);
        let obj = json_text(json!({"Statement": []}));
        assert_eq!(
            serde_json::from_str::<Value>(&obj).ok(),
            Some(json!({"Statement": []}))
        );
    }

    #[test]
    fn an_unmatched_capability_is_a_refusal_listing_the_choices() {
        let r = complete(capability_refusal(json!({
            "status": "ambiguous", "message": "`s3` matches 2 capabilities", "candidates": [{"id": "a"}]
        })));
        assert_eq!(r.is_error, Some(true));
        let s = r.structured_content.unwrap_or_default();
        assert_eq!(s["error"], "ambiguous_capability");
        assert_eq!(s["candidates"][0]["id"], "a");
        // An extend report carries the suggestion one level down.
        let r = complete(capability_refusal(json!({
            "status": "unknown_capability",
            "suggestion": {"status": "unknown", "message": "`fly` matches nothing", "known": []}
        })));
        let s = r.structured_content.unwrap_or_default();
        assert_eq!(s["error"], "unknown_capability");
        assert!(
            s["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("`fly` matches nothing"),
            "{s}"
        );
    }

    #[test]
    fn a_waiting_promotion_names_the_approval_and_the_retry() {
        let pending = Pending {
            approval_id: "apr-1".into(),
            why: "the client did not declare elicitation".into(),
            level: infraguard_engine::Level::Advisory,
            page: None,
        };
        let r = complete(promotion_result(
            &report(PromotionState::AwaitingApproval),
            &[],
            Some(&pending),
        ));
        assert_eq!(r.is_error, Some(true));
        let s = r.structured_content.unwrap_or_default();
        assert_eq!(s["error"], "approval_required");
        assert_eq!(s["approval_id"], "apr-1");
        let msg = s["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains("infraguard approve apr-1")
                && msg.contains("promote_resource again")
                && msg.contains("did not declare elicitation"),
            "{msg}"
        );
    }

    #[test]
    fn a_blocked_promotion_names_the_failed_checklist_item() {
        let r = complete(promotion_result(
            &report(PromotionState::Blocked),
            &[],
            None,
        ));
        assert_eq!(r.is_error, Some(true));
        let s = r.structured_content.unwrap_or_default();
        assert_eq!(s["error"], "blocked");
        assert!(
            s["message"]
                .as_str()
                .unwrap_or_default()
                .contains("synthcoreai-documents-prod exists"),
            "{s}"
        );
    }

    #[test]
    fn a_synced_promotion_is_a_success_saying_who_approved() {
        let approved = [Decision {
            approval_id: "apr-1".into(),
            by: "unverified:claude-code via mcp (accepted in the MCP client claude-code)".into(),
            level: infraguard_engine::Level::Advisory,
        }];
        let r = complete(promotion_result(
            &report(PromotionState::Synced),
            &approved,
            None,
        ));
        assert_eq!(r.is_error, Some(false));
        let s = r.structured_content.unwrap_or_default();
        assert_eq!(s["status"], "synced");
        assert!(
            s["approved_by"][0]["approved_by"]
                .as_str()
                .is_some_and(|b| b.starts_with("unverified:")),
            "{s}"
        );
        assert_eq!(s["approved_by"][0]["approval_verified"], false);
    }
}
