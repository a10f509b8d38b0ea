//! The IAM least-privilege tools: `lint_iam_policy` (misspelled actions,
//! wildcards, admin grants, escalation paths), `suggest_iam_policy` (the
//! conventional policy for a capability) and `extend_iam_policy`, which
//! plans, never applies, the smallest change that gives a principal a
//! capability. Each is one engine call.

use infraguard_engine::Actor;
use infraguard_engine::iam::{ExtendRequest, ExtendStatus};
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::cost_tools::plan_summary;
use super::params::{EnvArg, Parameters, engine_object};
use super::{
    InfraguardServer, ToolResult, adapter_refusal, caller_of, from_engine, refusal, success,
    to_value,
};
use crate::error::McpError;

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct LintIamArgs {
    /// An IAM policy document, as an object or as JSON text, e.g.
    /// `{"Version": "2012-10-17", "Statement": [...]}`.
    #[serde(default)]
    pub policy_document: Option<Value>,
    /// A CloudFormation template (JSON or YAML text, or an object) whose
    /// IAM policies are linted; instead of `policy_document`.
    #[serde(default)]
    pub template: Option<Value>,
    /// Environment name (`dev`, `prod`): proposed ARNs carry its account
    /// and region. A server started with `--env` uses its own.
    #[serde(default)]
    pub environment: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SuggestIamArgs {
    /// What the principal must be able to do, in words or as a capability
    /// id, e.g. `upload files to S3`.
    pub capability: String,
    /// Exact resource names or ARNs it touches; omitted: the project's
    /// naming pattern in the environment.
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ExtendIamArgs {
    /// `AWS::IAM::User` or `AWS::IAM::Role` (`user` and `role` are accepted).
    pub principal_type: String,
    /// The user's or role's name.
    #[serde(alias = "principal")]
    pub principal_name: String,
    /// What it must be able to do, in words or as a capability id, e.g.
    /// `upload files to S3`.
    pub capability: String,
    /// Exact resource names or ARNs it touches; omitted: the project's
    /// naming pattern in the environment.
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

#[tool_router(router = iam_router, vis = "pub(super)")]
impl InfraguardServer {
    #[tool(
        description = "Read-only: lints an IAM policy (`policy_document`, object or JSON text) or every policy \
            in a CloudFormation `template`: misspelled actions with the nearest real ones, \
            wildcards expanded, admin and `Resource: *` grants, privilege escalation paths.",
        output_schema = engine_object(),
        annotations(
            title = "lint iam policy",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn lint_iam_policy(
        &self,
        Parameters(a): Parameters<LintIamArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let text = match (a.policy_document, a.template) {
            (Some(doc), None) | (None, Some(doc)) => json_text(doc),
            (Some(_), Some(_)) => {
                return Ok(adapter_refusal(McpError::BadArgument {
                    tool: "lint_iam_policy",
                    message: "pass either policy_document or template, not both".into(),
                }));
            }
            (None, None) => {
                return Ok(adapter_refusal(McpError::BadArgument {
                    tool: "lint_iam_policy",
                    message: "pass policy_document (an IAM policy document) or template (a CloudFormation template)".into(),
                }));
            }
        };
        let env = or_refuse!(self.optional_env(a.environment.as_deref()));
        let r = self
            .blocking(caller, move |e, c| e.iam_lint(c, text, env))
            .await?;
        Ok(from_engine(r.map(|report| {
            let mut v = report.json();
            let open = report.report.findings.iter().filter(|f| f.is_open()).count();
            v["next_step"] = json!(if open == 0 {
                "no findings"
            } else {
                "show the findings to the user; each names the fix (the nearest real action for a misspelling, a narrower action or resource for a wildcard)"
            });
            v
        })))
    }

    #[tool(
        description = "Read-only: the least-privilege policy for a `capability` described in words (`upload \
            files to S3`), named by the project's convention and scoped to its naming pattern (or \
            the `resources` given) in the environment's account and region.",
        output_schema = engine_object(),
        annotations(
            title = "suggest iam policy",
            read_only_hint = true,
            idempotent_hint = true,
            open_world_hint = false,
        )
    )]
    async fn suggest_iam_policy(
        &self,
        Parameters(a): Parameters<SuggestIamArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_for(a.env.environment.as_deref()));
        let r = self
            .blocking(caller, move |e, c| {
                e.iam_suggest(c, a.capability, a.resources, env)
            })
            .await?;
        let suggestion = match r {
            Ok(s) => s,
            Err(e) => return Ok(from_engine::<Value>(Err(e))),
        };
        let v = to_value(&suggestion);
        if suggestion.policy().is_none() {
            return Ok(capability_refusal(v));
        }
        let mut v = v;
        v["next_step"] = json!(
            "show the policy to the user; to give it to a user or role, call extend_iam_policy with the same capability"
        );
        Ok(success(v))
    }

    #[tool(
        description = "Plans (never applies) the smallest change that gives an IAM user or role a \
            `capability` in an environment: compares its current policies with what is needed and \
            plans a new conventional managed policy, an attachment, or added statements. Returns \
            the diff and the plan with its gate; apply it through the chain (`generate_arguments`) \
            or `infraguard apply PLAN_ID`, with a human's approval where the gate says so.",
        output_schema = engine_object(),
        annotations(
            title = "extend iam policy",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false,
        )
    )]
    async fn extend_iam_policy(
        &self,
        Parameters(a): Parameters<ExtendIamArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_for(a.env.environment.as_deref()));
        let req = ExtendRequest {
            env,
            principal_type: principal_type(&a.principal_type),
            principal: a.principal_name,
            capability: a.capability,
            resources: a.resources,
            // The engine names the requester from the caller.
            actor: Actor::default(),
        };
        let r = self
            .blocking(caller, move |e, c| e.iam_extend(c, req))
            .await?;
        let report = match r {
            Ok(r) => r,
            Err(e) => return Ok(from_engine::<Value>(Err(e))),
        };
        let mut v = to_value(&report);
        match report.status {
            ExtendStatus::UnknownCapability | ExtendStatus::AmbiguousCapability => {
                return Ok(capability_refusal(v));
            }
            ExtendStatus::Blocked => {
                return Ok(refusal("blocked", report.message.clone(), v));
            }
            ExtendStatus::AlreadyGranted | ExtendStatus::Planned => {}
        }
        if let Some(plan) = &report.plan {
            let summary = plan_summary(plan);
            v["next_step"] = summary["next_step"].clone();
            v["plan_summary"] = summary;
        }
        Ok(success(v))
    }
}

impl InfraguardServer {
    /// An environment when one is asked for or the server serves only one;
    /// `None` means every environment the (unrestricted) server serves.
    fn optional_env(&self, requested: Option<&str>) -> Result<Option<String>, McpError> {
        let requested = requested.map(str::trim).filter(|s| !s.is_empty());
        match (&self.fixed_env, requested) {
            (None, None) => Ok(None),
            _ => self.env_for(requested).map(Some),
        }
    }
}

/// Agents say `user` or `role`; the engine wants the CloudFormation type.
fn principal_type(given: &str) -> String {
    match given.trim().to_ascii_lowercase().as_str() {
        "user" | "iam user" | "iam::user" => "AWS::IAM::User".into(),
        "role" | "iam role" | "iam::role" => "AWS::IAM::Role".into(),
        _ => given.trim().to_string(),
    }
}

/// A document passed as JSON text stays as written (line numbers in
/// findings refer to it); an object is serialized.
fn json_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => serde_json::to_string_pretty(&other).unwrap_or_else(|_| other.to_string()),
    }
}

/// A capability phrase that matched nothing or several: a refusal whose
/// details list the known capabilities or the candidates, so the agent can
/// call again with an id.
fn capability_refusal(v: Value) -> CallToolResponse {
    let suggestion = v.get("suggestion").unwrap_or(&v);
    let status = suggestion
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let message = suggestion
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("the capability matched no known one")
        .to_string();
    let kind = if status == "ambiguous" {
        "ambiguous_capability"
    } else {
        "unknown_capability"
    };
    refusal(
        kind,
        format!("{message}; call again with a capability id from the list given"),
        v,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(r: CallToolResponse) -> rmcp::model::CallToolResult {
        match r {
            CallToolResponse::Complete(r) => r,
            _ => panic!("not a complete result"),
        }
    }

    #[test]
    fn principal_types_accept_the_short_words() {
        assert_eq!(principal_type(" User "), "AWS::IAM::User");
        assert_eq!(principal_type("role"), "AWS::IAM::Role");
        // Anything else goes to the engine as given, which names the choices.
        assert_eq!(principal_type("AWS::IAM::Group"), "AWS::IAM::Group");
    }

    #[test]
    fn a_policy_as_text_is_linted_as_written() {
        let text = "{\"Statement\": []}";
        assert_eq!(json_text(json!(text)), text);
        let obj = json_text(json!({"Statement": []}));
        assert_eq!(
            serde_json::from_str::<Value>(&obj).ok(),
            Some(json!({"Statement": []}))
        );
    }

    #[test]
    fn an_unmatched_capability_is_a_refusal_listing_the_choices() {
        let r = complete(capability_refusal(json!({
            "status": "ambiguous", "message": "`s3` matches 2 capabilities", "candidates": [{"id": "a"}]
        })));
        assert_eq!(r.is_error, Some(true));
        let s = r.structured_content.unwrap_or_default();
        assert_eq!(s["error"], "ambiguous_capability");
        assert_eq!(s["candidates"][0]["id"], "a");
        // An extend report carries the suggestion one level down.
        let r = complete(capability_refusal(json!({
            "status": "unknown_capability",
            "suggestion": {"status": "unknown", "message": "`fly` matches nothing", "known": []}
        })));
        let s = r.structured_content.unwrap_or_default();
        assert_eq!(s["error"], "unknown_capability");
        assert!(
            s["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("`fly` matches nothing"),
            "{s}"
        );
    }
}
