//! The token chain's planning steps, in the seed's order:
//! `generate_infrastructure_code` → `explain` → `run_checkov`, and
//! `approve_security_findings` for the user's decision on a failed scan.
//! Each is one engine call; the tokens, the scan and the gate are the
//! engine's. The mutations that end the chain are `mutation_tools`.

use infraguard_core::resource::Operation;
use infraguard_engine::{Actor, FindingsDecision, PlanRequest};
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::elicitation::{Answers, HumanAnswer};
use super::params::{
    EnvArg, EnvRegionArg, Parameters, engine_object, engine_object_naming, parse_usage,
};
use super::{
    InfraguardServer, ToolResult, adapter_refusal, approvals, caller_of, from_engine, success,
    to_value,
};
use crate::error::McpError;

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct GenerateArgs {
    /// CloudFormation resource type, e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
    /// The `credentials_token` returned by `get_aws_session_info`.
    #[serde(default)]
    pub credentials_token: Option<String>,
    /// `create` (default when `properties` is given), `update` (default when
    /// `patch_document` is given) or `delete` (must be said explicitly).
    #[serde(default)]
    pub operation: Option<String>,
    /// Desired CloudFormation properties of a new resource (create), e.g.
    /// `{"BucketName": "synthcoreai-documents-dev"}`. The tag standard is applied.
    #[serde(default)]
    pub properties: Option<Value>,
    /// Primary identifier of an existing resource (update, delete).
    #[serde(default)]
    pub identifier: Option<String>,
    /// RFC 6902 JSON Patch of the change (update), e.g.
    /// `[{"op": "replace", "path": "/VersioningConfiguration/Status", "value": "Enabled"}]`.
    #[serde(default)]
    pub patch_document: Option<Value>,
    /// What the resource is for (`documents`): names the resource
    /// `<prefix>-<purpose>-<env>` when no name is given, and sets the `Purpose` tag.
    #[serde(default)]
    pub purpose: Option<String>,
    /// Usage assumptions for the cost estimate, e.g. `{"storage_gb": 50}`.
    #[serde(default)]
    pub usage: Option<Value>,
    #[serde(flatten)]
    pub at: EnvRegionArg,
}

/// `content`, `operation` and `context` are parsed (the seed passes them)
/// and never used: the server explains what it generated.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ExplainArgs {
    /// The `generated_code_token` (also returned as `properties_token`) from
    /// `generate_infrastructure_code`.
    #[serde(default)]
    pub generated_code_token: Option<String>,
    /// Accepted for compatibility and ignored: the server explains the exact
    /// content the token vouches for, not a copy passed here.
    #[serde(default)]
    pub content: Option<Value>,
    /// Accepted for compatibility and ignored: the operation is part of the generated plan.
    #[serde(default)]
    pub operation: Option<String>,
    /// Why the change is made, for the record (ignored by the explanation).
    #[serde(default)]
    pub context: Option<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ScanArgs {
    /// The `explained_token` returned by `explain`.
    #[serde(default)]
    pub explained_token: Option<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct FindingsArgs {
    /// The `security_scan_token` returned by `run_checkov` for the scan decided on.
    #[serde(default)]
    pub security_scan_token: Option<String>,
    /// The user's decision: `fix` (abandon this plan and change the
    /// properties), `proceed` (go on despite the findings; a human approves
    /// where the gate says so) or `cancel` (abandon the change).
    pub decision: String,
    /// Why, in the user's words; recorded in the audit log.
    #[serde(default)]
    pub reason: Option<String>,
    /// The findings decided on, by rule id (`IG-S3-008`) or Checkov id
    /// (`CKV_AWS_18`); empty means every open finding of the scan.
    #[serde(default)]
    pub findings: Vec<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

#[tool_router(router = chain_router, vis = "pub(super)")]
impl InfraguardServer {
    #[tool(
        description = "Step 3. Plans a create (give `properties`), an update (give `identifier` and \
            `patch_document`) or a delete (`operation: \"delete\"` and `identifier`): applies the \
            tag standard and naming convention, builds the CloudFormation template, scans it and \
            estimates its monthly cost. Nothing is changed. Returns `generated_code_token` (also as \
            `properties_token`) and `properties_for_explanation` for explain. Needs `credentials_token`.",
        output_schema = engine_object_naming(&[
            ("plan_id", "The plan made"),
            ("generated_code_token", "For explain"),
            ("properties_token", "The same token, under the seed's name"),
            ("properties_for_explanation", "What explain will explain"),
            ("cost_estimate", "The monthly cost estimate"),
            ("gate", "The gate's decision on the plan"),
            ("next_step", "What to call next"),
        ]),
        annotations(
            title = "generate infrastructure code",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false,
        )
    )]
    async fn generate_infrastructure_code(
        &self,
        Parameters(a): Parameters<GenerateArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_at(&a.at));
        let operation = or_refuse!(infer_operation(&a));
        let usage = or_refuse!(parse_usage(
            "generate_infrastructure_code",
            a.usage.as_ref()
        ));
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

    #[tool(
        description = "Step 4. Returns the CloudFormation template and a plain-language explanation of the \
            generated change: show both to the user. Returns `explained_token` for run_checkov and the \
            mutation tool. Needs `generated_code_token`; `content` is ignored, the server explains \
            exactly what it generated.",
        output_schema = engine_object_naming(&[
            ("cloudformation_template", "The template, to show the user"),
            ("explanation", "The change in plain language, to show the user"),
            ("explained_token", "For run_checkov and the mutation tool"),
            ("next_step", "What to call next"),
        ]),
        annotations(
            title = "explain",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false,
        )
    )]
    async fn explain(
        &self,
        Parameters(a): Parameters<ExplainArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_for(a.env.environment.as_deref()));
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

    #[tool(
        description = "Step 5. Security scan of the explained template (infraguard's rules with their Checkov ids). \
            Returns `scan_status` (PASSED/FAILED), `summary`, the findings and `security_scan_token` \
            for the mutation tool. On FAILED, ask the user: fix, proceed or cancel, and record the \
            answer with approve_security_findings. Needs `explained_token`.",
        output_schema = engine_object_naming(&[
            ("scan_status", "PASSED or FAILED"),
            ("summary", "The scan in one line"),
            ("findings", "The findings, each with its rule and Checkov id"),
            ("security_scan_token", "For the mutation tool (and approve_security_findings)"),
            ("next_step", "What to call next"),
        ]),
        annotations(
            title = "run checkov",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false,
        )
    )]
    async fn run_checkov(
        &self,
        Parameters(a): Parameters<ScanArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_for(a.env.environment.as_deref()));
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

    #[tool(
        description = "Records the user's decision on one scan's findings: `fix` (abandon the plan; fixes are \
            returned; generate again), `proceed` (go on; where the gate needs a human, the user is \
            asked or runs `infraguard approve ID`) or `cancel`. Needs the `security_scan_token`, which \
            stays usable for the mutation tool after `proceed`.",
        output_schema = engine_object(),
        annotations(
            title = "approve security findings",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false,
        )
    )]
    async fn approve_security_findings(
        &self,
        Parameters(a): Parameters<FindingsArgs>,
        answers: Answers,
        context: RequestContext<RoleServer>,
    ) -> ToolResult {
        let caller = &caller_of(&context);
        let env = or_refuse!(self.env_for(a.env.environment.as_deref()));
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
                .ask_about(&approval_id, &answers, &context, caller)
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
    fn seed_explain_call_parses_with_its_extra_fields() {
        let a: ExplainArgs = serde_json::from_value(json!({
            "generated_code_token": "ig1.x.y",
            "content": {"properties": {}},
            "operation": "create",
            "context": "S3 bucket creation for document storage"
        }))
        .unwrap();
        assert_eq!(a.generated_code_token.as_deref(), Some("ig1.x.y"));
        assert_eq!(
            a.context.as_deref(),
            Some("S3 bucket creation for document storage")
        );
    }

    #[test]
    fn generate_requires_a_resource_type() {
        let err = serde_json::from_value::<GenerateArgs>(json!({"properties": {}})).unwrap_err();
        assert!(err.to_string().contains("resource_type"), "{err}");
    }
}
