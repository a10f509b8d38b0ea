//! The cost report: what every environment costs per month, per
//! resource, with the alert thresholds crossed (and on AWS, what Cost
//! Explorer billed), and, when asked, the billing alarm plans. Plans made
//! here are only made: each is applied through the chain or `infraguard
//! apply`, and [`plan_summary`] says how, with the exact
//! `generate_infrastructure_code` arguments that reproduce it.

use infraguard_core::plan::Plan;
use infraguard_core::resource::Operation;
use infraguard_engine::EngineError;
use rmcp::model::{CallToolResponse, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::params::{Parameters, engine_object};
use super::{InfraguardServer, ToolResult, adapter_refusal, caller_of, from_engine, success};
use crate::error::McpError;

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct CostReportArgs {
    /// Environment name (`dev`, `prod`). Omitted: every environment this
    /// server serves (only its own when started with `--env`).
    #[serde(default)]
    pub environment: Option<String>,
    /// Also plan one CloudWatch billing alarm per alert threshold in the
    /// environment. The plans are only made, never applied here: each is
    /// gated as any change is and applied through the normal chain or
    /// `infraguard apply PLAN_ID`. Needs an environment.
    #[serde(default)]
    pub create_billing_alarm: bool,
    /// Who the billing alarms e-mail (through an SNS topic planned with
    /// them); `[cost] alert_email` of the project when absent.
    #[serde(default)]
    pub alert_email: Option<String>,
}

#[tool_router(router = cost_router, vis = "pub(super)")]
impl InfraguardServer {
    #[tool(
        description = "Monthly cost of everything an environment holds (every served environment when \
            `environment` is omitted), per environment and resource, from live properties and the \
            usage assumptions, with the alert thresholds crossed; `display` is the tree to show. \
            On AWS each environment also shows what Cost Explorer billed this month so far and last \
            month beside the estimates; on the local cloud the figures are estimates only, and say so. \
            With `create_billing_alarm: true` it also plans the billing alerts: an SNS topic that \
            e-mails `alert_email` (or the project's `[cost] alert_email`) and one CloudWatch alarm per \
            alert threshold that notifies it (us-east-1 only, where AWS publishes billing metrics): \
            plans only, each gated like any change; apply them through the chain \
            (`generate_arguments`) or `infraguard apply PLAN_ID`.",
        output_schema = engine_object(),
        annotations(
            title = "cost report",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false,
        )
    )]
    async fn cost_report(
        &self,
        Parameters(a): Parameters<CostReportArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
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
            Some(or_refuse!(self.env_for(asked)))
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

/// One plan made by a tool that does not apply it: its gate, and the two
/// ways to apply it.
pub(super) fn plan_summary(plan: &Plan) -> Value {
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
