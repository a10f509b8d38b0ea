//! The read-only tools: resources (`get_resource`, `list_resources`, the
//! request status, a type's schema), the estimate with the gate's preview,
//! pending approvals, plans (`list_plans`) and finishing a plan left
//! applying (`resume_plan`).

use infraguard_core::approval::ApprovalStatus;
use infraguard_core::plan::GateDecision;
use infraguard_engine::{ApplyOutcome, Caller, EngineError};
use rmcp::RoleServer;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RequestContext;
use serde_json::{Value, json};

use super::approvals::level_words;

use super::{
    InfraguardServer, ToolResult, adapter_refusal, applied_result, from_engine, parse, parse_usage,
    refusal, success, to_value,
};
use crate::args::*;
use crate::error::McpError;
use crate::tools::ToolName;

impl InfraguardServer {
    /// The `get_resource` tool.
    pub(super) async fn get_resource(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: GetResourceArgs = parse(tool, request)?;
        let env = match self.env_and_region(a.env.environment.as_deref(), a.region.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let r = self
            .blocking(caller, move |e, c| {
                e.get_resource(c, env, a.resource_type.clone(), a.identifier)
                    .map(|d| (a.resource_type, d))
            })
            .await?;
        Ok(from_engine(r.map(|(t, d)| {
            // The seed reads properties such as `Tags` straight off the
            // result, so they sit at the top level as well as under
            // `properties` (CloudFormation names are PascalCase and
            // cannot collide with the snake_case fields).
            let mut v = match &d.properties {
                Value::Object(m) => Value::Object(m.clone()),
                _ => json!({}),
            };
            v["identifier"] = json!(d.identifier);
            v["resource_type"] = json!(t);
            v["properties"] = d.into_inner().properties;
            v
        })))
    }

    /// The `list_resources` tool.
    pub(super) async fn list_resources(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: ListResourcesArgs = parse(tool, request)?;
        let env = match self.env_and_region(a.env.environment.as_deref(), a.region.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let r = self
            .blocking(caller, move |e, c| {
                e.list_page(c, env, a.resource_type, a.next_token)
            })
            .await?;
        Ok(from_engine(r.map(|page| {
            json!({
                "resource_type": page.type_name,
                "resources": page.resources.iter().map(|d| d.identifier.clone()).collect::<Vec<_>>(),
                "resource_descriptions": page.resources,
                "next_token": page.next_token,
            })
        })))
    }

    /// The `get_resource_request_status` tool.
    pub(super) async fn get_resource_request_status(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: RequestStatusArgs = parse(tool, request)?;
        let env = match self.env_and_region(a.env.environment.as_deref(), a.region.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let r = self
            .blocking(caller, move |e, c| {
                e.request_status(c, env, a.request_token)
            })
            .await?;
        Ok(from_engine(r.map(|ev| to_value(&ev))))
    }

    /// The `get_resource_schema_information` tool.
    pub(super) async fn get_resource_schema_information(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        _caller: &Caller,
    ) -> ToolResult {
        let a: SchemaArgs = parse(tool, request)?;
        // The schemas are the built-in catalog's, the same data on
        // either side of the guard's socket.
        let r = infraguard_schema::Catalog::builtin()
            .lookup(&a.resource_type)
            .map(to_value)
            .map_err(EngineError::from);
        Ok(from_engine(r))
    }

    /// The `estimate_cost` tool.
    pub(super) async fn estimate_cost(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: EstimateArgs = parse(tool, request)?;
        let env = match self.env_for(a.env.environment.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let usage = match parse_usage(tool, a.usage.as_ref()) {
            Ok(u) => u,
            Err(e) => return Ok(adapter_refusal(e)),
        };
        let threshold = self.config.cost_threshold;
        let props = a.properties.unwrap_or_else(|| json!({}));
        let r = self
            .blocking(caller, move |e, c| {
                e.estimate_only(c, env, a.resource_type, props, usage)
            })
            .await?;
        Ok(from_engine(r.map(|est| {
            // The engine's preview of the gate decides; the cost
            // crate renders the estimate.
            let c = &est.cost;
            let mut v = infraguard_cost::estimate_json(c, threshold);
            v["over_cost_threshold"] = json!(
                infraguard_cost::threshold_decision(c, threshold)
                    == infraguard_cost::ThresholdDecision::RequiresApproval
            );
            match &est.gate {
                Some(g) => {
                    v["requires_approval"] = json!(g.decision != GateDecision::Auto);
                    v["gate"] = json!({"decision": g.decision.as_str(), "reasons": g.reasons});
                }
                None => {
                    v["requires_approval"] = Value::Null;
                    v["gate_note"] = json!(format!(
                        "no gate preview: {}; generate_infrastructure_code plans it and returns the gate's decision",
                        est.no_gate.as_deref().unwrap_or("the request could not be planned")
                    ));
                }
            }
            v["display"] = json!(infraguard_cost::render_estimate(c, threshold));
            v
        })))
    }

    /// The `list_pending_approvals` tool.
    pub(super) async fn list_pending_approvals(
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
        let filter = only.clone();
        let r = self
            .blocking(caller, move |e, c| {
                let list = e.approvals(c, Some(ApprovalStatus::Pending))?;
                list.into_iter()
                    .filter(|a| filter.as_ref().is_none_or(|o| &a.env == o))
                    .map(|a| {
                        let page = e.approval_page(c, a.id.clone())?;
                        Ok((a, page))
                    })
                    .collect::<Result<Vec<_>, EngineError>>()
            })
            .await?;
        let how: Value = self
            .served()
            .iter()
            .filter(|env| only.as_ref().is_none_or(|o| o == *env))
            .map(|env| (env.clone(), json!(level_words(self.level_of(env)).1)))
            .collect::<serde_json::Map<_, _>>()
            .into();
        Ok(from_engine(r.map(|list| {
            let list: Vec<Value> = list
                .into_iter()
                .map(|(a, page)| {
                    let mut v = to_value(&a);
                    v["approval_page"] = json!(page);
                    v["approve_command"] = json!(format!("infraguard approve {}", a.id));
                    v
                })
                .collect();
            json!({
                "approvals": list,
                "how_to_approve": "a human runs `infraguard approve ID` (or `infraguard deny ID`) in the project folder; agents cannot approve",
                "how_approvals_work": how,
            })
        })))
    }
    /// The environment filter of a listing: `None` lists every one served.
    pub(super) fn env_filter(&self, env: Option<&str>) -> Result<Option<String>, McpError> {
        match (&self.fixed_env, env) {
            (None, None) => Ok(None),
            _ => self.env_for(env).map(Some),
        }
    }

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

    pub(super) async fn list_plans(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        caller: &Caller,
    ) -> ToolResult {
        let a: ListPlansArgs = parse(tool, request)?;
        let env = match self.env_filter(a.environment.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(adapter_refusal(e)),
        };
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

    pub(super) async fn resume_plan(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
    ) -> ToolResult {
        let a: ResumePlanArgs = parse(tool, request)?;
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
            .blocking_with_progress(context, caller, move |e, c, progress| {
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
