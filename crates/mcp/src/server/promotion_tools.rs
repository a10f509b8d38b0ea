//! Dev to prod: `promote_resource` (names and references mapped to prod,
//! scanned, estimated, planned and, once a human approves, applied by the
//! engine, which gates the prod plan), the dev/prod comparisons
//! (`check_sync_status`, `detect_drift`) and the deployment checklist
//! (`preflight`). When a promotion needs a human, the user is asked through
//! `elicitation` exactly as for the mutation tools.

use infraguard_engine::{PromotionReport, PromotionState};
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::approvals::{Decision, Pending};
use super::elicitation::{Answers, HumanAnswer};
use super::params::{EnvOnly, Parameters, engine_object};
use super::{
    InfraguardServer, ToolResult, adapter_refusal, caller_of, from_engine, refusal, success,
    to_value,
};
use crate::error::McpError;

/// How many times one `promote_resource` call asks a human and promotes
/// again: a resource and its dependencies may each wait for an approval.
/// Bounded so that an approval the gate keeps asking for cannot loop.
const MAX_PROMOTION_ROUNDS: usize = 8;

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct PromoteArgs {
    /// CloudFormation resource type of the dev resource, e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
    /// The dev resource's primary identifier (or name), e.g. `synthcoreai-documents-dev`.
    pub identifier: String,
    /// Also promote the dev resources it refers to (a bucket policy's
    /// bucket, a function's role) that prod lacks, first.
    #[serde(default)]
    pub with_dependencies: bool,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct TypeFilterArgs {
    /// Only this CloudFormation resource type, e.g. `AWS::S3::Bucket`;
    /// omitted: every supported type.
    #[serde(default)]
    pub resource_type: Option<String>,
}

#[tool_router(router = promotion_router, vis = "pub(super)")]
impl InfraguardServer {
    #[tool(
        description = "Promotes one dev resource to prod (`resource_type`, `identifier` of the dev resource, \
            optionally `with_dependencies`): maps names and references to prod, scans, estimates and \
            plans the prod create, and walks the promotion checklist. Prod needs a human: the user is \
            asked through the client, or the result names `approval_id` for `infraguard approve ID`, \
            after which calling promote_resource again finishes it. Needs a server that serves both \
            dev and prod (started without --env).",
        output_schema = engine_object(),
        annotations(
            title = "promote resource",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true,
        )
    )]
    async fn promote_resource(
        &self,
        Parameters(a): Parameters<PromoteArgs>,
        answers: Answers,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        // A promotion writes its prod side: a server for one environment
        // promotes only when that environment is prod (it reads dev). A dev
        // server never writes prod.
        if let Some(served) = &self.fixed_env {
            let target = self.config.promotion_envs().map(|(_, prod)| prod.name);
            if target.as_deref().ok() != Some(served.as_str()) {
                return Ok(adapter_refusal(McpError::NeedsBothEnvironments {
                    served: served.clone(),
                    tool: "promote_resource",
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
                .blocking_with_progress(&context, caller, move |e, c, progress| {
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
                .ask_about(&approval_id, &answers, &context, caller)
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

    #[tool(
        description = "Read-only: compares dev and prod (one `resource_type` or every supported type) and \
            groups resources as `dev_only` (not promoted yet), `prod_only`, `synced` (linked by the \
            ProdCounterpart tag or by name) and `needs_review`.",
        output_schema = engine_object(),
        annotations(
            title = "check sync status",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn check_sync_status(
        &self,
        Parameters(a): Parameters<TypeFilterArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
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

    #[tool(
        description = "Read-only: for every synced dev/prod pair, the properties that differ (with the patch that \
            brings prod in line), and every resource changed or deleted outside infraguard since it \
            applied a plan (`out_of_band`, with the patch that restores it).",
        output_schema = engine_object(),
        annotations(
            title = "detect drift",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn detect_drift(
        &self,
        Parameters(a): Parameters<TypeFilterArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
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

    #[tool(
        description = "The seed's deployment checklist for an `environment` (prod by default on the prod \
            server): dev resources promoted, no drift, no open findings, the Amplify branches \
            (prod's `main` deploys by hand, dev's on push, variables naming the environment's own \
            resources), and the app's own checks from `[preflight] commands` in infraguard.toml \
            (`pnpm lint`, `pnpm type-check`, `pnpm build`), run in the project folder with their \
            output kept, and in prod whether `[preflight] production_url` answers. `ready` is true \
            only when every line passes.",
        output_schema = engine_object(),
        annotations(
            title = "preflight",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false,
        )
    )]
    /// The engine's checklist, then the app's own checks, run here (the
    /// server runs as the user, in the project folder; never the guard).
    async fn preflight(
        &self,
        Parameters(a): Parameters<EnvOnly>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_for(a.env.environment.as_deref()));
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
