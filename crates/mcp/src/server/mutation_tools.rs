//! The mutations that end the token chain: `create_resource`,
//! `update_resource` and `delete_resource`. Each applies the plan its
//! tokens name (never arguments passed here) through one engine call,
//! forwards Cloud Control's progress as MCP progress notifications, and asks
//! a human through `elicitation` when the gate needs one.

use infraguard_core::cloud::ProgressEvent;
use infraguard_core::resource::Operation;
use infraguard_engine::{ApplyOutcome, Caller, EngineApi, EngineError};
use rmcp::model::{CallToolResponse, ProgressNotificationParam};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::elicitation::{Answers, HumanAnswer};
use super::params::{EnvRegionArg, Parameters, engine_object_naming};
use super::{
    InfraguardServer, ToolResult, adapter_refusal, applied_result, approvals, caller_of,
    from_engine, refusal, success,
};

/// Arguments of `create_resource`, `update_resource` and `delete_resource`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct MutateArgs {
    /// The `credentials_token` from `get_aws_session_info`.
    #[serde(default)]
    pub credentials_token: Option<String>,
    /// The `explained_token` from `explain` for this change.
    #[serde(default)]
    pub explained_token: Option<String>,
    /// The `security_scan_token` from `run_checkov` for the same explained change.
    #[serde(default)]
    pub security_scan_token: Option<String>,
    /// Accepted for compatibility; the type of the explained plan is what is applied.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Accepted for compatibility and ignored: the explained and scanned
    /// content is applied, never a copy passed here.
    #[serde(default)]
    pub properties: Option<Value>,
    /// Accepted for compatibility; the identifier of the explained plan is used.
    #[serde(default)]
    pub identifier: Option<String>,
    /// Accepted for compatibility and ignored: the explained and scanned patch is applied.
    #[serde(default)]
    pub patch_document: Option<Value>,
    #[serde(flatten)]
    pub at: EnvRegionArg,
}

#[tool_router(router = mutation_router, vis = "pub(super)")]
impl InfraguardServer {
    #[tool(
        description = "Step 6. Creates the resource exactly as explained and scanned (any `properties` passed \
            here are ignored). Needs `credentials_token`, `explained_token` and `security_scan_token` \
            of the same chain. When the gate needs a human (cost at or over the threshold, prod, open \
            findings), the user is asked through the client, or the result names the approval id for \
            `infraguard approve ID`; call again with the same tokens after that.",
        output_schema = applied_schema(),
        annotations(
            title = "create resource",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true,
        )
    )]
    async fn create_resource(
        &self,
        Parameters(a): Parameters<MutateArgs>,
        answers: Answers,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.mutate("create_resource", Operation::Create, a, &answers, &context)
            .await
    }

    #[tool(
        description = "Applies an update planned with generate_infrastructure_code (`identifier` + `patch_document`) \
            through the full chain: needs `credentials_token`, `explained_token` and `security_scan_token`. \
            The explained and scanned patch is applied, never one passed here. Humans approve as for create.",
        output_schema = applied_schema(),
        annotations(
            title = "update resource",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true,
        )
    )]
    async fn update_resource(
        &self,
        Parameters(a): Parameters<MutateArgs>,
        answers: Answers,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.mutate("update_resource", Operation::Update, a, &answers, &context)
            .await
    }

    #[tool(
        description = "Deletes a resource planned with generate_infrastructure_code (`operation: \"delete\"`, \
            `identifier`) through the full chain: needs `credentials_token`, `explained_token` and \
            `security_scan_token`. Deletes always need a human's approval.",
        output_schema = applied_schema(),
        annotations(
            title = "delete resource",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true,
        )
    )]
    async fn delete_resource(
        &self,
        Parameters(a): Parameters<MutateArgs>,
        answers: Answers,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        self.mutate("delete_resource", Operation::Delete, a, &answers, &context)
            .await
    }
}

/// What a mutation that went through returns (`applied_result`).
fn applied_schema() -> std::sync::Arc<rmcp::model::JsonObject> {
    engine_object_naming(&[
        ("status", "Cloud Control's operation status, SUCCESS"),
        ("identifier", "The resource's primary identifier"),
        ("plan_id", "The plan applied"),
        (
            "request_token",
            "The Cloud Control request, for get_resource_request_status",
        ),
        ("monthly_cost_usd", "The plan's monthly cost estimate"),
        ("message", "What was done, in words"),
    ])
}

impl InfraguardServer {
    /// One mutation tool: apply, and when the gate stops the plan, ask a
    /// human and apply again.
    async fn mutate(
        &self,
        tool: &'static str,
        operation: Operation,
        a: MutateArgs,
        answers: &Answers,
        context: &RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(context);
        let env = or_refuse!(self.env_at(&a.at));
        let mut ignored = Vec::new();
        if a.properties.is_some() {
            ignored.push("properties");
        }
        if a.patch_document.is_some() {
            ignored.push("patch_document");
        }
        let mut approved: Option<approvals::Decision> = None;
        // At most two rounds: the first may stop at the gate; after a human
        // approves, the second applies.
        for _ in 0..2 {
            let outcome = self.apply(&env, operation, &a, context, caller).await?;
            match outcome {
                Ok(ApplyOutcome::Applied { plan, event }) => {
                    let mut v = applied_result(&plan, &event);
                    if approved.is_none() {
                        // Approved elsewhere (the approval page, `infraguard
                        // approve`) before this call: say by whom.
                        approved = self.decided_approval(caller, &plan.id, &plan.env).await?;
                    }
                    if let Some(d) = &approved {
                        approvals::merge(&mut v, d.fields());
                    }
                    if !ignored.is_empty() {
                        v["ignored_arguments"] = json!(ignored);
                        v["note"] = json!(
                            "the explained and scanned content was applied; the ignored arguments played no part"
                        );
                    }
                    return Ok(success(v));
                }
                Ok(ApplyOutcome::Refused { plan, reasons }) => {
                    return Ok(refusal(
                        "refused",
                        format!(
                            "{tool} refused plan {}: {}. Nothing was changed. Start again from generate_infrastructure_code if the change is still wanted.",
                            plan.id,
                            reasons.join("; "),
                        ),
                        json!({"plan_id": plan.id, "reasons": reasons}),
                    ));
                }
                Ok(ApplyOutcome::NeedsApproval { plan, approval }) => {
                    if approved.is_some() {
                        // Approved, yet the gate still stops it: report, never loop.
                        let pending = self
                            .pending(
                                caller,
                                &approval.id,
                                Some(&approval.env),
                                "the approval was recorded but the gate still stops the plan"
                                    .into(),
                            )
                            .await?;
                        return Ok(approvals::approval_required(
                            tool, &plan, &approval, &pending,
                        ));
                    }
                    match self
                        .ask_human(&plan, &approval, answers, context, caller)
                        .await?
                    {
                        HumanAnswer::Approved(d) => approved = Some(d),
                        HumanAnswer::Denied(d) => {
                            return Ok(refusal(
                                "denied",
                                format!(
                                    "{} declined {}: nothing was changed and approval {} is denied. To try again, change the plan and start from generate_infrastructure_code.",
                                    d.by, approval.summary, approval.id
                                ),
                                json!({"status": "DENIED", "plan_id": plan.id, "approval_id": approval.id, "denied_by": d.by}),
                            ));
                        }
                        HumanAnswer::AskAndRetry(input) => {
                            return Ok(CallToolResponse::InputRequired(input));
                        }
                        HumanAnswer::Pending(p) => {
                            return Ok(approvals::approval_required(tool, &plan, &approval, &p));
                        }
                    }
                }
                Err(e) => return Ok(from_engine::<Value>(Err(e))),
            }
        }
        Err(ErrorData::internal_error(
            "the apply loop ended without an outcome",
            None,
        ))
    }

    /// The granted approval of `plan_id`, if it had one.
    pub(super) async fn decided_approval(
        &self,
        caller: &Caller,
        plan_id: &str,
        env: &str,
    ) -> Result<Option<approvals::Decision>, ErrorData> {
        let list = self
            .blocking(caller, |e, c| {
                e.approvals(c, Some(infraguard_core::ApprovalStatus::Approved))
            })
            .await?;
        let level = self.level_of(env);
        Ok(list.ok().and_then(|l| {
            l.iter()
                .find(|a| a.plan_id == plan_id)
                .map(|a| approvals::Decision::of(a, level))
        }))
    }

    /// `apply_step` on the blocking pool, its progress forwarded.
    pub(super) async fn apply(
        &self,
        env: &str,
        operation: Operation,
        a: &MutateArgs,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
    ) -> Result<Result<ApplyOutcome, EngineError>, ErrorData> {
        let env = env.to_string();
        let (cred, expl, scan) = (
            a.credentials_token.clone(),
            a.explained_token.clone(),
            a.security_scan_token.clone(),
        );
        let (claimed_type, claimed_id) = (a.resource_type.clone(), a.identifier.clone());
        self.blocking_with_progress(context, caller, move |e, c, progress| {
            e.apply_step(
                c,
                env,
                operation,
                cred,
                expl,
                scan,
                claimed_type,
                claimed_id,
                progress,
            )
        })
        .await
    }

    /// Run `f` on the blocking pool, forwarding each Cloud Control progress
    /// event it reports as an MCP progress notification when the caller
    /// asked for progress.
    pub(super) async fn blocking_with_progress<R: Send + 'static>(
        &self,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
        f: impl FnOnce(&dyn EngineApi, &Caller, &mut dyn FnMut(&ProgressEvent)) -> R + Send + 'static,
    ) -> Result<R, ErrorData> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ProgressEvent>();
        let progress_token = context.meta.get_progress_token();
        let peer = context.peer.clone();
        let forward = tokio::spawn(async move {
            let mut n = 0u32;
            while let Some(ev) = rx.recv().await {
                n += 1;
                let Some(token) = &progress_token else {
                    continue;
                };
                let mut p = ProgressNotificationParam::new(token.clone(), f64::from(n));
                p.message = Some(format!(
                    "{} {} {}: {}",
                    ev.operation.cloud_control_name(),
                    ev.type_name,
                    ev.identifier.as_deref().unwrap_or("(new)"),
                    ev.operation_status.as_str()
                ));
                if let Err(e) = peer.notify_progress(p).await {
                    tracing::debug!("progress notification not delivered: {e}");
                }
            }
        });
        let result = self
            .blocking(caller, move |e, c| {
                let mut progress = |ev: &ProgressEvent| {
                    // The receiver lives until this closure is dropped.
                    let _ = tx.send(ev.clone());
                };
                f(e, c, &mut progress)
            })
            .await;
        // Deliver every progress notification before the result.
        let _ = forward.await;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutation_without_tokens_parses_so_the_refusal_can_name_the_step() {
        let a: MutateArgs =
            serde_json::from_value(json!({"resource_type": "AWS::S3::Bucket"})).unwrap();
        assert!(a.credentials_token.is_none());
        assert!(a.explained_token.is_none());
        assert!(a.security_scan_token.is_none());
    }
}
