//! The session's tools, step 1 and 2 of every change:
//! `check_environment_variables` (→ `environment_token`) and
//! `get_aws_session_info` (→ `credentials_token`, with the account, region
//! and level to show the user), and the read-only `get_aws_account_info`.
//! Each is one engine call; the tokens are the engine's.

use infraguard_engine::{EngineError, EnvLevel};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::approvals::level_words;
use super::params::{EnvArg, EnvOnly, Parameters, engine_object, engine_object_naming};
use super::{
    InfraguardServer, ToolResult, adapter_refusal, caller_of, env_names, from_engine, success,
    to_value,
};

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SessionInfoArgs {
    /// The `environment_token` returned by `check_environment_variables`.
    #[serde(default)]
    pub environment_token: Option<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

#[tool_router(router = session_router, vis = "pub(super)")]
impl InfraguardServer {
    #[tool(
        description = "Step 1 of every change. Checks that the environment is configured (profile, region, \
            security scanning, read-only flag) and its cloud answers. Returns `environment_token` \
            for get_aws_session_info. Credential values are never shown.",
        output_schema = engine_object_naming(&[
            ("ok", "Whether the environment is ready"),
            ("environment_token", "For get_aws_session_info"),
            ("next_step", "What to call next"),
        ]),
        annotations(
            title = "check environment variables",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false,
        )
    )]
    async fn check_environment_variables(
        &self,
        Parameters(a): Parameters<EnvOnly>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_for(a.env.environment.as_deref()));
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

    #[tool(
        description = "Step 2. Shows which account, region and profile will be affected (show this to the user) \
            and returns `credentials_token`, needed by generate_infrastructure_code and the mutation \
            tools. Needs the `environment_token` from check_environment_variables.",
        output_schema = engine_object_naming(&[
            ("credentials_token", "For generate_infrastructure_code and the mutation tools"),
            ("display", "The account, region and profile, to show the user"),
            ("level", "The environment's level: advisory, guarded or aws-enforced"),
            ("next_step", "What to call next"),
        ]),
        annotations(
            title = "get aws session info",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false,
        )
    )]
    async fn get_aws_session_info(
        &self,
        Parameters(a): Parameters<SessionInfoArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_for(a.env.environment.as_deref()));
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

    #[tool(
        description = "Read-only: the account, region, profile, backend and guard flags of the environment(s) \
            this server serves. Needs no token.",
        output_schema = engine_object(),
        annotations(
            title = "get aws account info",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn get_aws_account_info(
        &self,
        Parameters(a): Parameters<EnvOnly>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let only = or_refuse!(self.only_env(a.env.environment.as_deref()));
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
}
