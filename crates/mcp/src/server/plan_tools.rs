//! The plans: `list_plans` (every plan with its status and next step),
//! `list_locks` (what each plan in flight holds, and who locked an
//! environment) and `resume_plan`, which finishes a plan left `applying`
//! with its own client token, so the cloud acts at most once.

use infraguard_engine::ApplyOutcome;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::params::{EnvOnly, Parameters, engine_object};
use super::{
    InfraguardServer, ToolResult, adapter_refusal, applied_result, caller_of, from_engine, refusal,
    success,
};
use crate::error::McpError;

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListPlansArgs {
    /// Environment name (`dev`, `prod`); omitted: every environment this server serves.
    #[serde(default)]
    pub environment: Option<String>,
    /// One plan by its id (`plan-…`), e.g. the `plan_id` a mutation tool
    /// returned before its reply was lost.
    #[serde(default)]
    pub plan_id: Option<String>,
    /// Only plans in this status: `planned`, `applying` (an apply cut
    /// short, to resume), `applied`, `failed` or `discarded`.
    #[serde(default)]
    pub status: Option<String>,
    /// At most this many plans, newest first (default 20, at most 200).
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ResumePlanArgs {
    /// The plan left `applying` (from list_plans), e.g. `plan-0a1b2c3d4e5f`.
    pub plan_id: String,
}

#[tool_router(router = plan_router, vis = "pub(super)")]
impl InfraguardServer {
    #[tool(
        description = "Read-only: the plans of this server's environments, newest first (one by `plan_id`, or \
            those in one `status`), each with its status, approval (and when it expires), Cloud \
            Control request and client token, and `next_step`. A plan left `applying` is an apply \
            cut short (a lost reply, a killed server): finish it with resume_plan or the same \
            mutation call with the same tokens, never with a new plan, which would make a second \
            resource.",
        output_schema = engine_object(),
        annotations(
            title = "list plans",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn list_plans(
        &self,
        Parameters(a): Parameters<ListPlansArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.only_env(a.environment.as_deref()));
        if let Some(id) = a.plan_id.filter(|i| !i.trim().is_empty()) {
            let r = self
                .blocking(caller, move |e, c| e.plan_state(c, id.trim().to_string()))
                .await?;
            return Ok(match r {
                Ok(state) => match self.check_served(&state.plan_id, &state.env) {
                    Ok(()) => success(json!({"plans": [state]})),
                    Err(e) => adapter_refusal(e),
                },
                Err(e) => from_engine::<Value>(Err(e)),
            });
        }
        let status = match a.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match serde_json::from_value::<infraguard_core::plan::PlanStatus>(json!(
                s.to_ascii_lowercase()
            )) {
                Ok(st) => Some(st),
                Err(_) => {
                    return Ok(adapter_refusal(McpError::BadArgument {
                        tool: "list_plans",
                        message: format!(
                            "status `{s}` is not one of planned, applying, applied, failed, discarded"
                        ),
                    }));
                }
            },
        };
        let limit = a.limit.unwrap_or(20).clamp(1, 200);
        let served = self.served();
        let r = self
            .blocking(caller, move |e, c| e.plan_states(c, env, status, limit))
            .await?;
        Ok(from_engine(r.map(|list| {
            let list: Vec<_> = list
                .into_iter()
                .filter(|p| served.contains(&p.env))
                .collect();
            let applying = list
                .iter()
                .filter(|p| p.status == infraguard_core::plan::PlanStatus::Applying)
                .count();
            json!({"plans": list, "applying": applying})
        })))
    }

    #[tool(
        description = "Read-only: the locks in this server's environments (`infraguard state locks`): \
            each resource a plan in flight holds, and each environment locked by hand, with who \
            holds it, from which machine, for what and since when, and whether it still holds \
            (`held`). A held lock is why a second plan of a resource, or any plan in a locked \
            environment, is refused; only a person removes one (`infraguard state unlock LOCK-ID`).",
        output_schema = engine_object(),
        annotations(
            title = "list locks",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn list_locks(
        &self,
        Parameters(a): Parameters<EnvOnly>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let only = or_refuse!(self.only_env(a.env.environment.as_deref()));
        let served = self.served();
        let r = self.blocking(caller, |e, c| e.locks(c)).await?;
        Ok(from_engine(r.map(|locks| {
            let locks: Vec<_> = locks
                .into_iter()
                .filter(|l| served.contains(&l.lock.env))
                .filter(|l| only.as_ref().is_none_or(|o| &l.lock.env == o))
                .collect();
            let held = locks.iter().filter(|l| l.held).count();
            json!({"locks": locks, "held": held})
        })))
    }

    #[tool(
        description = "Finishes a plan left `applying` (see list_plans): re-sends the very request with the \
            plan's own client token, so the cloud acts at most once, and returns its outcome. An \
            applied plan returns its outcome again; a plan never sent is refused (apply it through \
            the chain). Needs no token: the plan passed the gate when it was first sent.",
        output_schema = engine_object(),
        annotations(
            title = "resume plan",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true,
        )
    )]
    async fn resume_plan(
        &self,
        Parameters(a): Parameters<ResumePlanArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let id = a.plan_id.trim().to_string();
        let look = id.clone();
        let state = match self
            .blocking(caller, move |e, c| e.plan_state(c, look))
            .await?
        {
            Ok(s) => s,
            Err(e) => return Ok(from_engine::<Value>(Err(e))),
        };
        if let Err(e) = self.check_served(&state.plan_id, &state.env) {
            return Ok(adapter_refusal(e));
        }
        let r = self
            .blocking_with_progress(&context, caller, move |e, c, progress| {
                e.resume_plan(c, id, progress)
            })
            .await?;
        Ok(match r {
            Ok(ApplyOutcome::Applied { plan, event }) => {
                let mut v = applied_result(&plan, &event);
                v["message"] = json!(format!(
                    "{} (plan {} finished with its own client token)",
                    v["message"].as_str().unwrap_or_default(),
                    plan.id
                ));
                success(v)
            }
            Ok(ApplyOutcome::Refused { plan, reasons }) => refusal(
                "refused",
                format!(
                    "resume_plan refused plan {}: {}",
                    plan.id,
                    reasons.join("; ")
                ),
                json!({"plan_id": plan.id, "reasons": reasons}),
            ),
            Ok(ApplyOutcome::NeedsApproval { plan, approval }) => refusal(
                "approval_required",
                format!(
                    "plan {} needs approval {} first: `infraguard approve {}`",
                    plan.id, approval.id, approval.id
                ),
                json!({"plan_id": plan.id, "approval_id": approval.id}),
            ),
            Err(e) => from_engine::<Value>(Err(e)),
        })
    }
}

impl InfraguardServer {
    /// A plan's environment must be one this server serves.
    pub(super) fn check_served(&self, plan_id: &str, env: &str) -> Result<(), McpError> {
        match &self.fixed_env {
            Some(served) if served != env => Err(McpError::BadArgument {
                tool: "list_plans",
                message: format!(
                    "plan {plan_id} is in environment `{env}`, which this server does not serve (it serves `{served}`): ask the aws-{env} server"
                ),
            }),
            _ => Ok(()),
        }
    }
}
