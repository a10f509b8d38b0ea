//! The tools of the token chain, in the seed's order: the session
//! (`check_environment_variables`, `get_aws_session_info`,
//! `get_aws_account_info`), then `generate_infrastructure_code` →
//! `explain` → `run_checkov` (and `approve_security_findings`) → the
//! mutations (`create_resource`, `update_resource`, `delete_resource`),
//! each one engine call. Approvals a mutation needs are asked through
//! `approvals`; the tokens and the gate are the engine's.

use infraguard_core::cloud::ProgressEvent;
use infraguard_core::resource::Operation;
use infraguard_engine::{
    Actor, ApplyOutcome, Caller, EngineApi, EngineError, FindingsDecision, PlanRequest,
};
use rmcp::model::{CallToolRequestParams, ProgressNotificationParam};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde_json::{Value, json};

use super::approvals::{HumanAnswer, level_words};

use super::{
    InfraguardServer, ToolResult, adapter_refusal, applied_result, approvals, env_names,
    from_engine, infer_operation, parse, parse_usage, refusal, success, to_value,
};
use crate::args::*;
use crate::error::McpError;
use crate::tools::ToolName;
use infraguard_engine::EnvLevel;
use rmcp::model::CallToolResponse;

impl InfraguardServer {
    /// The `check_environment_variables` tool.
    pub(super) async fn check_environment_variables(
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
        let vars = infraguard_engine::env_vars::process_vars();
        let r = self
            .blocking(caller, move |e, c| e.check_environment(c, env, vars))
            .await?;
        Ok(from_engine(r.map(|c| {
            let mut v = to_value(&c);
            let next = if c.ok {
                "call get_aws_session_info with this environment_token"
            } else {
                "fix the problems listed, then call check_environment_variables again"
            };
            v["next_step"] = json!(next);
            v
        })))
    }

    /// The `get_aws_session_info` tool.
    pub(super) async fn get_aws_session_info(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: SessionInfoArgs = parse(tool, request)?;
        let env = match self.env_for(a.env.environment.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let level = self.level_report(&env).cloned();
        let level = level.unwrap_or_else(|| EnvLevel {
            name: env.clone(),
            level: self.level_of(&env),
            reasons: vec!["the engine's doctor did not name this environment".into()],
            fixes: Vec::new(),
        });
        let r = self
            .blocking(caller, move |e, c| {
                e.session_info(c, env, a.environment_token)
            })
            .await?;
        Ok(from_engine(r.map(|s| {
            let mut v = to_value(&s);
            // Said with the account: how far this session's approvals can be trusted.
            let (meaning, approvals) = level_words(level.level);
            v["level"] = json!(level.level);
            v["level_meaning"] = json!(meaning);
            v["level_reasons"] = json!(level.reasons);
            v["level_fixes"] = json!(level.fixes);
            v["how_approvals_work"] = json!(approvals);
            v["display"] = json!(format!(
                "📍 AWS Context:\n   Profile: {}\n   Authentication: {}\n   Account ID: {}\n   Region: {}",
                s.profile.as_deref().unwrap_or("Environment Variables"),
                s.authentication,
                s.account_id,
                s.region
            ));
            v["next_step"] = json!("show `display` to the user, then call generate_infrastructure_code with this credentials_token");
            v
        })))
    }

    /// The `get_aws_account_info` tool.
    pub(super) async fn get_aws_account_info(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: EnvOnly = parse(tool, request)?;
        let only = match (&self.fixed_env, a.env.environment.as_deref()) {
            (None, None) => None,
            _ => match self.env_for(a.env.environment.as_deref()) {
                Ok(e) => Some(e),
                Err(e) => return Ok(adapter_refusal(e)),
            },
        };
        let reports = match self.blocking(caller, |e, c| e.environments(c)).await? {
            Ok(r) => r,
            Err(e) => return Ok(from_engine::<Value>(Err(e))),
        };
        let reports: Vec<_> = reports
            .into_iter()
            .filter(|r| only.as_ref().is_none_or(|o| &r.env.name == o))
            .collect();
        if let Some(o) = &only
            && reports.is_empty()
        {
            return Ok(from_engine::<Value>(Err(EngineError::UnknownEnvironment {
                name: o.clone(),
                known: env_names(&self.config),
            })));
        }
        Ok(success(json!({ "environments": reports })))
    }

    /// The `explain` tool.
    pub(super) async fn explain(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: ExplainArgs = parse(tool, request)?;
        let env = match self.env_for(a.env.environment.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let r = self
            .blocking(caller, move |e, c| {
                e.explain_step(c, env, a.generated_code_token)
            })
            .await?;
        Ok(from_engine(r.map(|x| {
            let mut v = to_value(&x);
            v["next_step"] = json!("show cloudformation_template and explanation to the user, then call run_checkov with this explained_token");
            v
        })))
    }

    /// The `run_checkov` tool.
    pub(super) async fn run_checkov(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: ScanArgs = parse(tool, request)?;
        let env = match self.env_for(a.env.environment.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let r = self
            .blocking(caller, move |e, c| e.scan_step(c, env, a.explained_token))
            .await?;
        Ok(from_engine(r.map(|x| {
            let mut v = to_value(&x);
            let next = if x.scan_status == "PASSED" {
                "call the mutation tool (create_resource / update_resource / delete_resource) with credentials_token, explained_token and this security_scan_token"
            } else {
                "show the summary and findings to the user and ask: 1) fix 2) proceed anyway 3) cancel; record the answer with approve_security_findings"
            };
            v["next_step"] = json!(next);
            v
        })))
    }

    /// The `approve_security_findings` tool.
    pub(super) async fn approve_security_findings(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
    ) -> ToolResult {
        let a: FindingsArgs = parse(tool, request)?;
        let env = match self.env_for(a.env.environment.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let decision = match a.decision.trim().to_ascii_lowercase().as_str() {
            "fix" => FindingsDecision::Fix,
            "proceed" => FindingsDecision::Proceed,
            "cancel" => FindingsDecision::Cancel,
            other => {
                return Ok(adapter_refusal(McpError::BadArgument {
                    tool: "approve_security_findings",
                    message: format!("decision `{other}` is not one of fix, proceed, cancel"),
                }));
            }
        };
        let r = self
            .blocking(caller, move |e, c| {
                e.findings_decision(
                    c,
                    env,
                    a.security_scan_token,
                    decision,
                    a.findings,
                    a.reason,
                )
            })
            .await?;
        let outcome = match r {
            Ok(o) => o,
            Err(e) => return Ok(from_engine::<Value>(Err(e))),
        };
        let mut v = to_value(&outcome);
        // Proceeding past findings the gate blocks on needs a human:
        // ask now, while the user is thinking about the findings.
        if let Some(approval_id) = outcome.approval_id.clone() {
            match self
                .ask_about(&approval_id, request, context, caller)
                .await?
            {
                Some(HumanAnswer::Approved(d)) => {
                    approvals::merge(&mut v, d.fields());
                    v["message"] = json!(format!(
                        "{} approved proceeding past the findings ({approval_id}; {}): call the mutation tool with the same credentials_token, explained_token and security_scan_token",
                        d.by,
                        d.note()
                    ));
                }
                Some(HumanAnswer::Denied(d)) => {
                    v["approval_status"] = json!("denied");
                    v["message"] = json!(format!(
                        "{} declined ({approval_id} is denied): this plan will not be applied; fix the findings and start again from generate_infrastructure_code",
                        d.by
                    ));
                }
                Some(HumanAnswer::AskAndRetry(input)) => {
                    return Ok(CallToolResponse::InputRequired(input));
                }
                Some(HumanAnswer::Pending(p)) => {
                    approvals::merge(&mut v, p.fields());
                    v["message"] = json!(format!("{}; {}. {}", outcome.message, p.why, p.how()));
                }
                // Already decided (by an earlier answer): the engine's message stands.
                None => {}
            }
        }
        Ok(success(v))
    }

    /// The environment asked for, checked against the region given.
    pub(super) fn env_and_region(
        &self,
        env: Option<&str>,
        region: Option<&str>,
    ) -> Result<String, McpError> {
        let env = self.env_for(env)?;
        self.check_region(&env, region)?;
        Ok(env)
    }

    pub(super) async fn generate(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: GenerateArgs = parse(tool, request)?;
        let env = match self.env_and_region(a.env.environment.as_deref(), a.region.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let operation = match infer_operation(&a) {
            Ok(op) => op,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let usage = match parse_usage(tool, a.usage.as_ref()) {
            Ok(u) => u,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let req = PlanRequest {
            env,
            operation,
            type_name: a.resource_type,
            purpose: a.purpose,
            properties: a.properties,
            identifier: a.identifier,
            patch: a.patch_document,
            usage,
            // The engine names the requester from the caller.
            actor: Actor::default(),
        };
        let token = a.credentials_token;
        let r = self
            .blocking(caller, move |e, c| e.generate(c, req, token))
            .await?;
        Ok(from_engine(r.map(|g| {
            let p = &g.plan;
            json!({
                "plan_id": p.id,
                "environment": p.env,
                "operation": p.operation,
                "resource_type": p.type_name,
                "identifier": p.identifier,
                "generated_code_token": g.generated_code_token,
                "properties_token": g.properties_token,
                "properties_for_explanation": g.properties_for_explanation,
                "cost_estimate": p.cost,
                "gate": p.gate,
                "open_findings": p.open_findings().count(),
                "next_step": "call explain with generated_code_token (content is optional; the server explains what it generated)",
            })
        })))
    }

    pub(super) async fn mutate(
        &self,
        tool: ToolName,
        operation: Operation,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
    ) -> ToolResult {
        let a: MutateArgs = parse(tool, request)?;
        let env = match self.env_and_region(a.env.environment.as_deref(), a.region.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
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
                            tool = tool.as_str()
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
                        .ask_human(&plan, &approval, request, context, caller)
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
