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
//! doctor reports, to choose how to ask (see `elicitation`):
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
//! # Layout
//!
//! Each tool is one `#[tool]` method in the file of its stage, with its
//! argument struct beside it; each stage file's `#[tool_router(router = …)]`
//! makes that stage's router, and `tool_router` adds them together:
//!
//! - `session_tools`: `check_environment_variables`, `get_aws_session_info`,
//!   `get_aws_account_info`;
//! - `chain_tools`: `generate_infrastructure_code`, `explain`,
//!   `run_checkov`, `approve_security_findings`;
//! - `mutation_tools`: `create_resource`, `update_resource`,
//!   `delete_resource`, and the progress they forward;
//! - `read_tools`: resources, a type's schema, the estimate, pending
//!   approvals; `plan_tools`: `list_plans`, `resume_plan`;
//! - `cost_tools`, `promotion_tools` (promotion, sync, drift, preflight),
//!   `iam_tools`;
//! - `params`: the flattened `environment` argument and the argument
//!   parser; `approvals` and `elicitation`: how a human is asked, and what
//!   the tools say about it.
//!
//! Adding a tool is one method (and its argument struct) in one stage file,
//! plus its test. Here: the server, the `ServerHandler` (listing and
//! calling through the router) and the result helpers.
//!
//! # What stays outside the macro
//!
//! - `call_tool` keeps its own answer to an unknown tool (a `-32602` that
//!   points at `tools/list`, where rmcp says only "tool not found") and logs
//!   every call and refusal, then hands the call to the router.
//! - Arguments are parsed by `params::Parameters`, not rmcp's, so that a
//!   shape error stays a `-32602` naming the argument (see `params`).
//! - Every tool returns [`ToolResult`] (rmcp's `CallToolResponse`), not a
//!   typed `Json<T>`: a tool that may ask a human must be able to return the
//!   2026-07-28 input-required form, which is not a complete result (see
//!   `elicitation`), and the others return the engine's own reports, whose
//!   types carry no JSON schema. So each tool names its `outputSchema` in
//!   its attribute: an open object ([`params::engine_object`]).

use std::sync::{Arc, OnceLock};

use infraguard_core::cloud::ProgressEvent;
use infraguard_engine::{
    Caller, EngineApi, EngineError, EnvLevel, ErrorKind, Level, ProjectConfig,
};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};

use crate::error::McpError;

/// The value of an adapter check (an environment, a region, a filter), or,
/// from the tool, the refusal that says why not.
macro_rules! or_refuse {
    ($checked:expr) => {
        match $checked {
            Ok(v) => v,
            Err(e) => return Ok(adapter_refusal(e)),
        }
    };
}

mod approvals;
mod chain_tools;
mod cost_tools;
mod elicitation;
mod iam_tools;
mod mutation_tools;
pub mod params;
mod plan_tools;
mod promotion_tools;
mod read_tools;
mod session_tools;

use approvals::level_words;

/// What every tool returns: a complete result (success or refusal), an
/// input-required question, or a JSON-RPC error for a malformed call.
pub type ToolResult = Result<CallToolResponse, ErrorData>;

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
        prepare();
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

    /// The level of `env`, as the doctor said at start, for what the server
    /// tells the agent (instructions, how an approval is given). What a
    /// person must give is the engine's answer (`attestation`), not this.
    /// An environment the doctor did not name is said at the strictest
    /// level.
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
        if let Some(r) = requested
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

    /// The environment asked for, checked against the region given.
    pub(super) fn env_at(&self, at: &params::EnvRegionArg) -> Result<String, McpError> {
        let env = self.env_for(at.env.environment.as_deref())?;
        self.check_region(&env, at.region.as_deref())?;
        Ok(env)
    }

    /// The one environment a listing is narrowed to: none when neither the
    /// call nor the server names one.
    pub(super) fn only_env(&self, env: Option<&str>) -> Result<Option<String>, McpError> {
        match (&self.fixed_env, env) {
            (None, None) => Ok(None),
            (_, named) => self.env_for(named).map(Some),
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

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tool_router().get(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let router = tool_router();
        if !router.has_route(&request.name) {
            return Err(ErrorData::invalid_params(
                format!(
                    "there is no tool `{}`: call tools/list for the tools of this server",
                    request.name
                ),
                None,
            ));
        }
        let name = request.name.clone();
        tracing::debug!(tool = %name, "tool call");
        let result = router
            .call(ToolCallContext::new(self, request, context))
            .await;
        if let Ok(CallToolResponse::Complete(r)) = &result
            && r.is_error == Some(true)
        {
            tracing::info!(tool = %name, "tool refused");
        }
        result
    }
}

static ROUTER: OnceLock<ToolRouter<InfraguardServer>> = OnceLock::new();

/// Every tool, by stage. Built once per process (the schemas cost
/// milliseconds, which `tools/list` should not pay each time); the HTTP
/// server's sessions share it.
fn tool_router() -> &'static ToolRouter<InfraguardServer> {
    ROUTER.get_or_init(|| {
        InfraguardServer::session_router()
            + InfraguardServer::chain_router()
            + InfraguardServer::mutation_router()
            + InfraguardServer::read_router()
            + InfraguardServer::plan_router()
            + InfraguardServer::cost_router()
            + InfraguardServer::promotion_router()
            + InfraguardServer::iam_router()
    })
}

/// Every tool the server offers, sorted by name (as rmcp's router lists them).
pub fn all_tools() -> Vec<Tool> {
    tool_router().list_all()
}

/// Build the router on another thread while the server starts, so the
/// first `tools/list` does not wait for it.
fn prepare() {
    if ROUTER.get().is_none() {
        let _ = std::thread::Builder::new()
            .name("tool-schemas".into())
            .spawn(|| {
                let _ = tool_router();
            });
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

    fn tool(name: &str) -> Tool {
        tool_router()
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no tool {name}"))
    }

    #[test]
    fn every_tool_has_a_description_schemas_and_hints() {
        // The names themselves are checked through a client, in
        // tests/in_process.rs.
        assert!(!all_tools().is_empty());
        for tool in all_tools() {
            // A `#[tool]` without `description` (and no doc comment) has none.
            assert!(
                tool.description.as_deref().is_some_and(|d| d.len() > 40),
                "{} has no description",
                tool.name
            );
            assert_eq!(
                tool.input_schema.get("type").and_then(|v| v.as_str()),
                Some("object"),
                "{}",
                tool.name
            );
            let output = tool.output_schema.as_ref().expect("outputSchema");
            assert_eq!(output.get("type"), Some(&json!("object")), "{}", tool.name);
            let a = tool.annotations.as_ref().expect("annotations");
            assert!(a.read_only_hint.is_some(), "{}", tool.name);
            assert!(a.open_world_hint.is_some(), "{}", tool.name);
            // The title is the name in words, as before the router.
            assert_eq!(
                a.title.as_deref(),
                Some(tool.name.replace('_', " ").as_str()),
                "{}",
                tool.name
            );
        }
    }

    #[test]
    fn only_reads_are_read_only_and_delete_is_destructive() {
        let hints = |name: &str| tool(name).annotations.unwrap_or_default();
        assert_eq!(hints("get_resource").read_only_hint, Some(true));
        assert_eq!(hints("get_resource").destructive_hint, None);
        assert_eq!(hints("create_resource").read_only_hint, Some(false));
        assert_eq!(hints("delete_resource").destructive_hint, Some(true));
        assert_eq!(hints("update_resource").destructive_hint, Some(true));
        assert_eq!(hints("create_resource").destructive_hint, Some(false));
        assert_eq!(hints("resume_plan").open_world_hint, Some(true));
        assert_eq!(hints("preflight").read_only_hint, Some(false));
    }

    #[test]
    fn the_cached_router_finds_tools_by_name() {
        assert_eq!(
            tool_router().get("explain").map(|t| t.name.to_string()),
            Some("explain".into())
        );
        assert!(!tool_router().has_route("apply"));
    }

    #[test]
    fn generate_schema_names_the_seed_arguments() {
        let s = tool("generate_infrastructure_code").input_schema;
        let props = s
            .get("properties")
            .and_then(|p| p.as_object())
            .expect("properties");
        for name in [
            "resource_type",
            "properties",
            "credentials_token",
            "identifier",
            "patch_document",
            "region",
        ] {
            assert!(props.contains_key(name), "{name} missing");
        }
        let required: Vec<&str> = s
            .get("required")
            .and_then(|r| r.as_array())
            .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(required, vec!["resource_type"]);
    }

    #[test]
    fn mutation_schemas_describe_every_argument() {
        let s = tool("create_resource").input_schema;
        let props = s["properties"].as_object().expect("properties");
        for name in [
            "credentials_token",
            "explained_token",
            "security_scan_token",
            "environment",
        ] {
            let d = props[name]["description"].as_str().unwrap_or("");
            assert!(!d.is_empty(), "{name} has no description");
        }
        assert_eq!(
            props["environment"]["description"].as_str(),
            Some(params::environment_doc())
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
