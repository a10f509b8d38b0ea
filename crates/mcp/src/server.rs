//! [`InfraguardServer`]: the rmcp `ServerHandler` that maps each tool call to
//! one call of the engine API ([`EngineApi`]).
//!
//! What lives here is translation only: arguments in, engine result out as
//! structured content (and the same JSON as text, for clients that read only
//! text), engine refusals as tool errors (`isError: true`) whose message
//! names the missing step. The guards — tokens, the gate, approvals, and who
//! counts as a human — are the engine's. The server never knows whether the
//! engine runs in this process (level `advisory`) or in the guard behind its
//! socket (`guarded`, `aws-enforced`); it only reads the level the engine's
//! doctor reports, to choose how to ask (see `approvals`):
//!
//! - advisory: the user is asked with a form elicitation and an accept is
//!   passed on as a [`Proof::Confirmation`], which the engine records as
//!   *unverified*;
//! - guarded and aws-enforced: a form accept proves nothing, so none is
//!   asked for; the user gets the approval page's URL (a URL-mode
//!   elicitation where the client supports it) and `infraguard approve ID`,
//!   both of which take an approver's code, and the server then reads the
//!   approval's status back from the engine instead of trusting the client.
//!
//! The engine API is synchronous (SQLite, the local cloud, the guard's
//! socket), so every call runs on tokio's blocking pool.
//!
//! The tools live beside this file, by stage: `chain_tools` (the session
//! and the token chain's steps and mutations), `read_tools`,
//! `project_tools` (costs, promotion, sync, drift, preflight, IAM), and
//! `approvals` (how a human is asked). Here: the server, its routing
//! (`dispatch`, one line per tool) and the result helpers.

use std::sync::Arc;

use infraguard_core::cloud::ProgressEvent;
use infraguard_core::resource::Operation;
use infraguard_engine::{
    Caller, EngineApi, EngineError, EnvLevel, ErrorKind, Level, ProjectConfig,
};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::args::*;
use crate::error::McpError;
use crate::tools::{ToolName, all_tools};

mod approvals;
mod chain_tools;
mod project_tools;
mod read_tools;

use approvals::{HumanAnswer, level_words};

type ToolResult = Result<CallToolResponse, ErrorData>;

/// The name the server gives the engine for the calls it makes on its own
/// behalf (reading the configuration and the levels at start).
const SERVER_CALLER: &str = "infraguard-mcp";

/// The MCP server over one project's engine API. Cloning is cheap: the
/// HTTP server makes one instance per session, and they share everything.
#[derive(Clone)]
pub struct InfraguardServer {
    api: Arc<dyn EngineApi>,
    /// The engine's resolved configuration, read once at start (the guard's
    /// effective policy when guarded): environment names, the threshold and
    /// the token lifetime for the instructions. Decisions are the engine's.
    config: Arc<ProjectConfig>,
    /// Each environment's level as the engine's doctor reported it at start.
    levels: Arc<Vec<EnvLevel>>,
    /// `Some(env)` for `serve --env ENV`: only that environment is served.
    fixed_env: Option<String>,
    /// The project folder, where `preflight` runs the app's own checks.
    root: Option<std::path::PathBuf>,
}

impl InfraguardServer {
    /// Reads the configuration and the levels from `api` once; `fixed_env`
    /// must name one of its environments (checked, so a typo fails at start
    /// rather than on the first call).
    pub fn new(api: Arc<dyn EngineApi>, fixed_env: Option<String>) -> Result<Self, McpError> {
        let caller = Caller::new(SERVER_CALLER, "mcp");
        let config = api.config(&caller).map_err(|source| McpError::Engine {
            what: "read the project's configuration",
            source,
        })?;
        if let Some(env) = &fixed_env
            && config.environment(env).is_err()
        {
            return Err(McpError::UnknownEnvironment {
                env: env.clone(),
                known: env_names(&config),
            });
        }
        let doctor = api.doctor(&caller).map_err(|source| McpError::Engine {
            what: "read the environments' levels",
            source,
        })?;
        crate::tools::prepare();
        Ok(InfraguardServer {
            api,
            config: Arc::new(config),
            levels: Arc::new(doctor.environments),
            fixed_env,
            root: None,
        })
    }

    /// The project folder, where `preflight` runs `[preflight] commands`
    /// (without it, preflight reports the infrastructure lines only).
    pub fn with_root(mut self, root: std::path::PathBuf) -> Self {
        self.root = Some(root);
        self
    }

    pub fn api(&self) -> &Arc<dyn EngineApi> {
        &self.api
    }

    /// The level of `env`, as the doctor said at start. An environment it
    /// did not name is taken at the strictest level, so the server never
    /// offers a confirmation where only a code can approve.
    pub fn level_of(&self, env: &str) -> Level {
        // An approval role makes an approval an AWS MFA session, whatever
        // the doctor could prove of the rest.
        if self
            .config
            .environment(env)
            .is_ok_and(|e| e.approval_role.is_some())
        {
            return Level::AwsEnforced;
        }
        self.levels
            .iter()
            .find(|l| l.name == env)
            .map(|l| l.level)
            .unwrap_or(Level::AwsEnforced)
    }

    pub(super) fn level_report(&self, env: &str) -> Option<&EnvLevel> {
        self.levels.iter().find(|l| l.name == env)
    }

    /// The environments this server serves.
    pub(super) fn served(&self) -> Vec<String> {
        match &self.fixed_env {
            Some(e) => vec![e.clone()],
            None => env_names(&self.config),
        }
    }

    /// The instructions sent in `initialize`: the workflow as the server
    /// enforces it.
    pub fn instructions(&self) -> String {
        let scope = match &self.fixed_env {
            Some(e) => {
                let ro = self
                    .config
                    .environment(e)
                    .map(|x| x.read_only)
                    .unwrap_or(false);
                format!(
                    "This server serves environment `{e}`{}.",
                    if ro {
                        ", which is read-only: writes need a human's approval"
                    } else {
                        ""
                    }
                )
            }
            None => format!(
                "This server serves environments {}; pass `environment` to every tool that acts on one.",
                env_names(&self.config).join(", ")
            ),
        };
        let threshold = self.config.cost_threshold;
        format!(
            "infraguard manages AWS resources through the Cloud Control API behind a guard. {scope}\n\
             {levels}\n\
             Every change walks one chain, and each step returns the token the next one needs:\n\
             1. check_environment_variables -> environment_token\n\
             2. get_aws_session_info(environment_token) -> credentials_token; show the account, region and level to the user\n\
             3. generate_infrastructure_code(resource_type, properties | identifier + patch_document | operation=delete, credentials_token) -> generated_code_token (= properties_token)\n\
             4. explain(generated_code_token) -> cloudformation_template, explanation, explained_token; show both to the user\n\
             5. run_checkov(explained_token) -> scan_status, summary, findings, security_scan_token; on FAILED ask the user (fix / proceed / cancel) and call approve_security_findings\n\
             6. create_resource / update_resource / delete_resource(credentials_token, explained_token, security_scan_token)\n\
             The server applies the content it explained and scanned; properties passed to step 6 are ignored. \
             Tokens are signed, bound to their environment (and, from step 3 on, to the exact content) and expire after {} s; \
             the credentials_token serves the whole session, every other token works once. \
             If a mutation's reply is lost (a timeout, a restarted server), call the same tool again with the same tokens: \
             it finishes or answers the plan those tokens name, with the same Cloud Control client token, and never makes a second resource. \
             list_plans shows every plan with its status and next step; a plan left `applying` is finished with resume_plan. \
             Do not generate a new plan for a change whose apply may have been sent. \
             A human must approve changes costing {threshold}/month or more, writes to read-only environments (prod), deletes, \
             and plans with open security findings of severity {block} or higher: the server asks the user through the client in the way \
             the environment's level allows (above); otherwise the result names an approval id and the user runs `infraguard approve ID`, \
             after which the same call with the same tokens proceeds. \
             The agent cannot approve. Read-only tools: get_aws_account_info, get_resource, list_resources, \
             get_resource_request_status, get_resource_schema_information, estimate_cost, list_pending_approvals, list_plans, \
             check_sync_status and detect_drift (dev against prod), lint_iam_policy, suggest_iam_policy.\n\
             Beyond the chain: cost_report shows what each environment costs per month; with create_billing_alarm it plans \
             billing alarms, and extend_iam_policy plans the smallest IAM change for a capability. Those tools only plan: \
             each plan is gated like any change and is applied by walking the chain with its generate_arguments, or by a \
             human running `infraguard approve ID` (where its gate needs one) and `infraguard apply PLAN_ID`. \
             promote_resource copies a dev resource to prod (names and references mapped, scanned, estimated) and \
             applies the prod create once a human approves it, asked as above; {promote}",
            self.config.token_ttl_seconds,
            levels = self.levels_paragraph(),
            block = self.config.block_findings_at,
            promote = match &self.fixed_env {
                Some(e)
                    if self
                        .config
                        .promotion_envs()
                        .is_ok_and(|(_, prod)| &prod.name == e) =>
                    "this server writes prod only: it reads dev (read-only) to promote, and check_sync_status, detect_drift and cost_report read both. After an approval given at the terminal, call promote_resource again to finish.",
                Some(_) =>
                    "this server writes only its own environment, so it cannot promote (that writes prod: use the prod server); check_sync_status, detect_drift and cost_report read the other environment read-only.",
                None =>
                    "after an approval given at the terminal, call promote_resource again to finish.",
            },
        )
    }

    /// One line per served environment: its level in plain words, what an
    /// approval is there, and the doctor's reasons.
    fn levels_paragraph(&self) -> String {
        self.served()
            .iter()
            .map(|env| {
                let level = self.level_of(env);
                let reasons = self
                    .level_report(env)
                    .map(|l| l.reasons.join("; "))
                    .unwrap_or_else(|| "the engine's doctor did not name this environment".into());
                format!(
                    "Level of `{env}`: {level} — {} Approvals here: {} (`infraguard doctor` says why: {reasons}).",
                    level_words(level).0,
                    level_words(level).1,
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub(super) fn env_for(&self, requested: Option<&str>) -> Result<String, McpError> {
        // Agents that read `.mcp.json` sometimes name the server (`aws-dev`).
        let requested = requested
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.strip_prefix("aws-").unwrap_or(s));
        // A name the project does not have is that, not another server's.
        if let (Some(_), Some(r)) = (&self.fixed_env, requested)
            && self.config.environment(r).is_err()
        {
            // `production` is how the seed tags prod: say which name it is.
            let hint = self
                .config
                .environments
                .iter()
                .find(|e| e.tag_value == r)
                .map(|e| {
                    format!(
                        "; `{r}` is the Environment tag of `{}`: pass `{}`",
                        e.name, e.name
                    )
                })
                .unwrap_or_default();
            return Err(McpError::NoSuchEnvironment {
                requested: r.to_string(),
                known: env_names(&self.config),
                hint,
            });
        }
        match (&self.fixed_env, requested) {
            (Some(f), None) => Ok(f.clone()),
            (Some(f), Some(r)) if r == f => Ok(f.clone()),
            (Some(f), Some(r)) => Err(McpError::OtherEnvironment {
                served: f.clone(),
                requested: r.to_string(),
            }),
            (None, Some(r)) => Ok(r.to_string()),
            (None, None) => {
                let names = env_names(&self.config);
                match names.as_slice() {
                    [only] => Ok(only.clone()),
                    _ => Err(McpError::EnvironmentNeeded { known: names }),
                }
            }
        }
    }

    pub(super) fn check_region(&self, env: &str, region: Option<&str>) -> Result<(), McpError> {
        let Some(requested) = region.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(());
        };
        match self.config.environment(env) {
            Ok(e) if e.region != requested => Err(McpError::OtherRegion {
                env: env.into(),
                requested: requested.into(),
                actual: e.region.clone(),
            }),
            // An unknown environment is the engine's to report.
            _ => Ok(()),
        }
    }

    /// Run `f` on the blocking pool with the engine API, on behalf of `caller`.
    pub(super) async fn blocking<R: Send + 'static>(
        &self,
        caller: &Caller,
        f: impl FnOnce(&dyn EngineApi, &Caller) -> R + Send + 'static,
    ) -> Result<R, ErrorData> {
        let (api, caller) = (self.api.clone(), caller.clone());
        tokio::task::spawn_blocking(move || f(api.as_ref(), &caller))
            .await
            .map_err(|e| ErrorData::internal_error(format!("the engine task failed: {e}"), None))
    }

    async fn dispatch(
        &self,
        tool: ToolName,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = caller_of(context);
        match tool {
            ToolName::CheckEnvironmentVariables => {
                self.check_environment_variables(tool, request, &caller)
                    .await
            }
            ToolName::GetAwsSessionInfo => self.get_aws_session_info(tool, request, &caller).await,
            ToolName::GetAwsAccountInfo => self.get_aws_account_info(tool, request, &caller).await,
            ToolName::GenerateInfrastructureCode => self.generate(tool, request, &caller).await,
            ToolName::Explain => self.explain(tool, request, &caller).await,
            ToolName::RunCheckov => self.run_checkov(tool, request, &caller).await,
            ToolName::ApproveSecurityFindings => {
                self.approve_security_findings(tool, request, context, &caller)
                    .await
            }
            ToolName::CreateResource => {
                self.mutate(tool, Operation::Create, request, context, &caller)
                    .await
            }
            ToolName::UpdateResource => {
                self.mutate(tool, Operation::Update, request, context, &caller)
                    .await
            }
            ToolName::DeleteResource => {
                self.mutate(tool, Operation::Delete, request, context, &caller)
                    .await
            }
            ToolName::GetResource => self.get_resource(tool, request, &caller).await,
            ToolName::ListResources => self.list_resources(tool, request, &caller).await,
            ToolName::GetResourceRequestStatus => {
                self.get_resource_request_status(tool, request, &caller)
                    .await
            }
            ToolName::GetResourceSchemaInformation => {
                self.get_resource_schema_information(tool, request, &caller)
                    .await
            }
            ToolName::EstimateCost => self.estimate_cost(tool, request, &caller).await,
            ToolName::ListPendingApprovals => {
                self.list_pending_approvals(tool, request, &caller).await
            }
            ToolName::CostReport => self.cost_report(tool, request, &caller).await,
            ToolName::ListPlans => self.list_plans(tool, request, &caller).await,
            ToolName::ResumePlan => self.resume_plan(tool, request, context, &caller).await,
            ToolName::PromoteResource => self.promote(tool, request, context, &caller).await,
            ToolName::CheckSyncStatus => self.sync_status(tool, request, &caller).await,
            ToolName::DetectDrift => self.drift(tool, request, &caller).await,
            ToolName::Preflight => self.preflight(tool, request, &caller).await,
            ToolName::LintIamPolicy => self.lint_iam(tool, request, &caller).await,
            ToolName::SuggestIamPolicy => self.suggest_iam(tool, request, &caller).await,
            ToolName::ExtendIamPolicy => self.extend_iam(tool, request, &caller).await,
        }
    }
}

impl ServerHandler for InfraguardServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_instructions(self.instructions());
        let mut implementation = Implementation::new("infraguard", env!("CARGO_PKG_VERSION"));
        implementation.title = Some("infraguard: guarded AWS infrastructure changes".into());
        info.server_info = implementation;
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(all_tools()))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        crate::tools::find_tool(name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let Some(tool) = ToolName::parse(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "there is no tool `{}`: call tools/list for the tools of this server",
                    request.name
                ),
                None,
            ));
        };
        tracing::debug!(tool = tool.as_str(), "tool call");
        let result = self.dispatch(tool, &request, &context).await;
        if let Ok(CallToolResponse::Complete(r)) = &result
            && r.is_error == Some(true)
        {
            tracing::info!(tool = tool.as_str(), "tool refused");
        }
        result
    }
}

fn env_names(config: &ProjectConfig) -> Vec<String> {
    config.environments.iter().map(|e| e.name.clone()).collect()
}

/// Who asks, for the engine: the MCP client's name on the `mcp` channel.
fn caller_of(context: &RequestContext<RoleServer>) -> Caller {
    Caller::new(&client_name(context), "mcp")
}

fn client_name(context: &RequestContext<RoleServer>) -> String {
    context
        .client_info()
        .map(|i| i.name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "mcp-client".into())
}

/// Parse a tool's arguments; a shape error is a malformed request, whose
/// message names the argument and the type its schema wants. No message or
/// log line here quotes an argument's value, which may be a secret.
fn parse<T: DeserializeOwned>(
    tool: ToolName,
    request: &CallToolRequestParams,
) -> Result<T, ErrorData> {
    let args = Value::Object(request.arguments.clone().unwrap_or_default());
    let keys: Vec<&str> = request
        .arguments
        .iter()
        .flat_map(|a| a.keys().map(String::as_str))
        .collect();
    tracing::debug!(tool = tool.as_str(), ?keys, "tool arguments");
    serde_json::from_value(args.clone()).map_err(|e| {
        // serde names a missing field but not a mistyped one; the schema can.
        let detail = mistyped_argument(tool, &args)
            .unwrap_or_else(|| with_schema_type(tool, crate::wire::redacted_serde_message(&e)));
        ErrorData::invalid_params(
            format!(
                "{}: the arguments do not fit its schema: {detail}",
                tool.as_str()
            ),
            None,
        )
    })
}

/// The JSON types a property's schema allows, e.g. `["string", "null"]`.
fn allowed_types(prop: &Value) -> Option<Vec<String>> {
    match prop.get("type")? {
        Value::String(t) => Some(vec![t.clone()]),
        Value::Array(ts) => Some(
            ts.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

/// serde's "missing field `x`", with the type the schema wants for `x`.
fn with_schema_type(tool: ToolName, message: String) -> String {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned());
    let schema = tool.tool().input_schema;
    let types = |name: &str| allowed_types(schema.get("properties")?.get(name)?);
    match missing.and_then(|name| Some((types(&name)?, name))) {
        Some((types, name)) => format!("`{name}` is required: pass {}", types.join(" or ")),
        None => message,
    }
}

/// The first argument whose JSON type (or, for an array, whose items' type)
/// the tool's schema does not allow.
fn mistyped_argument(tool: ToolName, args: &Value) -> Option<String> {
    let schema = tool.tool().input_schema;
    let props = schema.get("properties")?.as_object()?;
    let type_of = |value: &Value| match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = |allowed: &[String], actual: &str| {
        allowed
            .iter()
            .any(|t| t == actual || (actual == "integer" && t == "number"))
    };
    for (name, value) in args.as_object()? {
        let Some(prop) = props.get(name) else {
            continue;
        };
        let Some(allowed) = allowed_types(prop) else {
            continue;
        };
        let actual = type_of(value);
        if !fits(&allowed, actual) {
            return Some(format!(
                "`{name}` must be {}, got {actual}",
                allowed.join(" or ")
            ));
        }
        if let (Value::Array(items), Some(item_allowed)) =
            (value, prop.get("items").and_then(allowed_types))
            && let Some((i, item)) = items
                .iter()
                .enumerate()
                .find(|(_, item)| !fits(&item_allowed, type_of(item)))
        {
            return Some(format!(
                "`{name}[{i}]` must be {}, got {}",
                item_allowed.join(" or "),
                type_of(item)
            ));
        }
    }
    None
}

fn parse_usage(
    tool: ToolName,
    usage: Option<&Value>,
) -> Result<Option<infraguard_cost::Usage>, McpError> {
    let Some(v) = usage else { return Ok(None) };
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => return Ok(None),
        other => other.to_string(),
    };
    infraguard_cost::parse_usage_arg(&text)
        .map(Some)
        .map_err(|e| McpError::BadArgument {
            tool: tool.as_str(),
            message: format!("usage: {e}"),
        })
}

/// Which operation a generate call plans. A delete is never guessed.
fn infer_operation(a: &GenerateArgs) -> Result<Operation, McpError> {
    let bad = |message: String| McpError::BadArgument {
        tool: "generate_infrastructure_code",
        message,
    };
    match a.operation.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(op) => op.parse::<Operation>().map_err(bad),
        None if a.patch_document.is_some() => Ok(Operation::Update),
        None if a.properties.is_some() => Ok(Operation::Create),
        None if a.identifier.is_some() => Err(bad(
            "an identifier alone does not say what to do: pass patch_document for an update, or operation \"delete\" to delete".into(),
        )),
        None => Err(bad("pass properties (create), identifier + patch_document (update) or operation \"delete\" + identifier".into())),
    }
}

fn to_value<T: serde::Serialize + ?Sized>(v: &T) -> Value {
    serde_json::to_value(v)
        .unwrap_or_else(|e| json!({"error": format!("result could not be serialized: {e}")}))
}

/// A result the agent reads: structured content, and the same JSON as text.
fn success(value: Value) -> CallToolResponse {
    let text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
    let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
    r.structured_content = Some(value);
    r.into()
}

/// A refusal: `isError: true`, the message first in words, details as JSON.
fn refusal(kind: &str, message: String, details: Value) -> CallToolResponse {
    let mut structured = json!({"error": kind, "message": message});
    if let (Some(s), Value::Object(d)) = (structured.as_object_mut(), details) {
        for (k, v) in d {
            s.entry(k).or_insert(v);
        }
    }
    let mut r = CallToolResult::error(vec![ContentBlock::text(message)]);
    r.structured_content = Some(structured);
    r.into()
}

fn adapter_refusal(e: McpError) -> CallToolResponse {
    refusal("bad_input", e.to_string(), json!({}))
}

fn from_engine<T: Into<Value>>(r: Result<T, EngineError>) -> CallToolResponse {
    match r {
        Ok(v) => success(v.into()),
        Err(e) => {
            let kind = match (&e, e.kind()) {
                (EngineError::Chain(_), _) => "chain_refused",
                (_, ErrorKind::BadInput) => "bad_input",
                (_, ErrorKind::Cloud) => "cloud_error",
                (_, ErrorKind::Failure) => "failure",
                (_, ErrorKind::Gated) => "gated",
            };
            if e.kind() == ErrorKind::Failure {
                tracing::error!("engine failure: {e}");
            }
            refusal(kind, e.to_string(), json!({}))
        }
    }
}

/// A mutation's successful result: what was applied, where, and the
/// Cloud Control request that did it.
fn applied_result(plan: &infraguard_core::plan::Plan, event: &ProgressEvent) -> Value {
    json!({
        "status": event.operation_status.as_str(),
        "operation": plan.operation,
        "resource_type": plan.type_name,
        "identifier": event.identifier.clone().or(plan.identifier.clone()),
        "environment": plan.env,
        "plan_id": plan.id,
        "request_token": event.request_token,
        "monthly_cost_usd": plan.cost.monthly_usd,
        "progress_event": event,
        "message": format!(
            "{} of {} `{}` in {} succeeded",
            plan.operation,
            plan.type_name,
            event.identifier.as_deref().or(plan.identifier.as_deref()).unwrap_or("?"),
            plan.env
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate_args(props: bool, patch: bool, id: bool, op: Option<&str>) -> GenerateArgs {
        GenerateArgs {
            resource_type: "AWS::S3::Bucket".into(),
            properties: props.then(|| json!({})),
            patch_document: patch.then(|| json!([])),
            identifier: id.then(|| "b".to_string()),
            operation: op.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn operation_is_inferred_but_a_delete_must_be_said() {
        assert_eq!(
            infer_operation(&generate_args(true, false, false, None)).unwrap(),
            Operation::Create
        );
        assert_eq!(
            infer_operation(&generate_args(false, true, true, None)).unwrap(),
            Operation::Update
        );
        assert_eq!(
            infer_operation(&generate_args(false, false, true, Some("DELETE"))).unwrap(),
            Operation::Delete
        );
        let err = infer_operation(&generate_args(false, false, true, None))
            .unwrap_err()
            .to_string();
        assert!(err.contains("operation \"delete\""), "{err}");
        assert!(infer_operation(&generate_args(false, false, false, Some("replace"))).is_err());
    }

    #[test]
    fn usage_accepts_an_object_or_the_cli_form() {
        let u = parse_usage(ToolName::EstimateCost, Some(&json!({"storage_gb": 50})))
            .unwrap()
            .unwrap();
        assert!(u.get("storage_gb").is_some());
        let u = parse_usage(ToolName::EstimateCost, Some(&json!("storage_gb=5")))
            .unwrap()
            .unwrap();
        assert!(u.get("storage_gb").is_some());
        assert!(parse_usage(ToolName::EstimateCost, None).unwrap().is_none());
        let err = parse_usage(ToolName::EstimateCost, Some(&json!({"storage_gb": "lots"})))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("estimate_cost") && err.contains("lots"),
            "{err}"
        );
    }

    #[test]
    fn a_mistyped_argument_is_named() {
        let msg = mistyped_argument(
            ToolName::GetResource,
            &json!({"resource_type": "AWS::S3::Bucket", "identifier": 7}),
        );
        assert_eq!(
            msg.as_deref(),
            Some("`identifier` must be string, got integer")
        );
        assert_eq!(
            mistyped_argument(ToolName::GetResource, &json!({"identifier": "x"})),
            None
        );
    }

    #[test]
    fn refusals_are_tool_errors_with_the_message_as_text() {
        let CallToolResponse::Complete(r) = refusal(
            "chain_refused",
            "call explain first".into(),
            json!({"plan_id": "p"}),
        ) else {
            panic!("not a complete result")
        };
        assert_eq!(r.is_error, Some(true));
        assert_eq!(
            r.content[0].as_text().map(|t| t.text.as_str()),
            Some("call explain first")
        );
        let s = r.structured_content.unwrap();
        assert_eq!(s["error"], "chain_refused");
        assert_eq!(s["plan_id"], "p");
    }

    #[test]
    fn successes_carry_structured_content_and_the_same_json_as_text() {
        let CallToolResponse::Complete(r) = success(json!({"explained_token": "t"})) else {
            panic!("not complete")
        };
        assert_eq!(r.is_error, Some(false));
        let text = r.content[0]
            .as_text()
            .map(|t| t.text.clone())
            .unwrap_or_default();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"explained_token": "t"})
        );
        assert_eq!(r.structured_content, Some(json!({"explained_token": "t"})));
    }
}
