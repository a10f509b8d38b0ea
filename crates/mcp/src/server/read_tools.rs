//! The read-only tools: resources (`get_resource`, `list_resources`, the
//! request status, a type's schema), the estimate with the gate's preview,
//! and the approvals waiting for a human. Each is one engine call (a
//! type's schema is the built-in catalog's).

use infraguard_core::approval::ApprovalStatus;
use infraguard_core::plan::GateDecision;
use infraguard_engine::EngineError;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::approvals::level_words;
use super::params::{EnvArg, EnvOnly, EnvRegionArg, Parameters, engine_object, parse_usage};
use super::{InfraguardServer, ToolResult, adapter_refusal, caller_of, from_engine, to_value};

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct GetResourceArgs {
    /// CloudFormation resource type, e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
    /// The resource's primary identifier (for S3 buckets, the bucket name).
    pub identifier: String,
    #[serde(flatten)]
    pub at: EnvRegionArg,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListResourcesArgs {
    /// CloudFormation resource type, e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
    /// `next_token` from the previous page, to read the next one.
    #[serde(default)]
    pub next_token: Option<String>,
    #[serde(flatten)]
    pub at: EnvRegionArg,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct RequestStatusArgs {
    /// The `request_token` of a Cloud Control request (returned by the mutation tools).
    pub request_token: String,
    #[serde(flatten)]
    pub at: EnvRegionArg,
}

/// `region` is parsed and never used: the schemas are the same everywhere.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SchemaArgs {
    /// CloudFormation resource type, e.g. `AWS::RDS::DBInstance`.
    pub resource_type: String,
    /// AWS region (schemas are the same in every supported region).
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct EstimateArgs {
    /// CloudFormation resource type, e.g. `AWS::RDS::DBInstance`.
    pub resource_type: String,
    /// The properties the resource would have (instance class, storage, ...).
    #[serde(default)]
    pub properties: Option<Value>,
    /// Usage assumptions, e.g. `{"storage_gb": 10, "monthly_put_requests": 10000}`.
    #[serde(default)]
    pub usage: Option<Value>,
    #[serde(flatten)]
    pub env: EnvArg,
}

#[tool_router(router = read_router, vis = "pub(super)")]
impl InfraguardServer {
    #[tool(
        description = "Read-only: the current properties of one resource (Cloud Control GetResource).",
        output_schema = engine_object(),
        annotations(
            title = "get resource",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn get_resource(
        &self,
        Parameters(a): Parameters<GetResourceArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_at(&a.at));
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

    #[tool(
        description = "Read-only: the identifiers of every resource of one type (`resources`), with their \
            properties (`resource_descriptions`), one page at a time (`next_token`).",
        output_schema = engine_object(),
        annotations(
            title = "list resources",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn list_resources(
        &self,
        Parameters(a): Parameters<ListResourcesArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_at(&a.at));
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

    #[tool(
        description = "Read-only: the status of a Cloud Control request by its `request_token`.",
        output_schema = engine_object(),
        annotations(
            title = "get resource request status",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn get_resource_request_status(
        &self,
        Parameters(a): Parameters<RequestStatusArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_at(&a.at));
        let r = self
            .blocking(caller, move |e, c| {
                e.request_status(c, env, a.request_token)
            })
            .await?;
        Ok(from_engine(r.map(|ev| to_value(&ev))))
    }

    #[tool(
        description = "Read-only: what infraguard knows of a resource type: primary identifier, required, \
            create-only, read-only and write-only properties, and where tags go.",
        output_schema = engine_object(),
        annotations(
            title = "get resource schema information",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn get_resource_schema_information(
        &self,
        Parameters(a): Parameters<SchemaArgs>,
    ) -> ToolResult {
        // The schemas are the built-in catalog's, the same data on
        // either side of the guard's socket.
        let r = infraguard_schema::Catalog::builtin()
            .lookup(&a.resource_type)
            .map(to_value)
            .map_err(EngineError::from);
        Ok(from_engine(r))
    }

    #[tool(
        description = "Read-only: the monthly cost of a resource with these properties and usage, with its \
            breakdown and assumptions, whether the cost reaches the approval threshold \
            (`over_cost_threshold`), and the gate's own preview of creating it (`gate`, \
            `requires_approval`: read-only environments and open findings count too). Nothing is \
            planned.",
        output_schema = engine_object(),
        annotations(
            title = "estimate cost",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn estimate_cost(
        &self,
        Parameters(a): Parameters<EstimateArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_for(a.env.environment.as_deref()));
        let usage = or_refuse!(parse_usage("estimate_cost", a.usage.as_ref()));
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

    #[tool(
        description = "Read-only: approvals waiting for a human (`infraguard approve ID` at a terminal, or an \
            answer to the client's prompt).",
        output_schema = engine_object(),
        annotations(
            title = "list pending approvals",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn list_pending_approvals(
        &self,
        Parameters(a): Parameters<EnvOnly>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let only = or_refuse!(self.only_env(a.env.environment.as_deref()));
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
}
