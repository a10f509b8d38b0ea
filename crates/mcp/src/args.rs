//! The arguments of every tool, as typed structs whose JSON schemas (with
//! descriptions) are what `tools/list` shows.
//!
//! Names follow the seed's workflow and the Cloud Control MCP server it
//! describes (`resource_type`, `properties`, `identifier`, `patch_document`,
//! `credentials_token`, ...). Tokens are `Option<String>` on purpose: a
//! missing token is a refusal the agent can read ("call X first"), not a
//! malformed request. Unknown fields are ignored, because agents following
//! the seed pass extra ones (`content`, `context` to `explain`).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// Every tool that acts on one environment takes this.
const ENV_DOC: &str = "Environment name (`dev`, `prod`). A server started with `--env` serves only that environment and may omit it.";

/// The `environment` argument of every tool that acts on one environment,
/// flattened into its arguments: one field, one description.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct EnvArg {
    /// Environment name (`dev`, `prod`). A server started with `--env` serves only that environment and may omit it.
    #[serde(default)]
    pub environment: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct EnvOnly {
    #[serde(flatten)]
    pub env: EnvArg,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SessionInfoArgs {
    /// The `environment_token` returned by `check_environment_variables`.
    #[serde(default)]
    pub environment_token: Option<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

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
    /// AWS region; must be the environment's region if given.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

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

/// Arguments of `create_resource`, `update_resource` and `delete_resource`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct MutateArgs {
    /// The `credentials_token` from `get_aws_session_info`.
    #[serde(default)]
    pub credentials_token: Option<String>,
    /// The `explained_token` from `explain` for this change.
    #[serde(default)]
    pub explained_token: Option<String>,
    /// The `security_scan_token` from `run_checkov` for the same explained change.
    #[serde(default)]
    pub security_scan_token: Option<String>,
    /// Accepted for compatibility; the type of the explained plan is what is applied.
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Accepted for compatibility and ignored: the explained and scanned
    /// content is applied, never a copy passed here.
    #[serde(default)]
    pub properties: Option<Value>,
    /// Accepted for compatibility; the identifier of the explained plan is used.
    #[serde(default)]
    pub identifier: Option<String>,
    /// Accepted for compatibility and ignored: the explained and scanned patch is applied.
    #[serde(default)]
    pub patch_document: Option<Value>,
    /// AWS region; must be the environment's region if given.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct GetResourceArgs {
    /// CloudFormation resource type, e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
    /// The resource's primary identifier (for S3 buckets, the bucket name).
    pub identifier: String,
    /// AWS region; must be the environment's region if given.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListResourcesArgs {
    /// CloudFormation resource type, e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
    /// `next_token` from the previous page, to read the next one.
    #[serde(default)]
    pub next_token: Option<String>,
    /// AWS region; must be the environment's region if given.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct RequestStatusArgs {
    /// The `request_token` of a Cloud Control request (returned by the mutation tools).
    pub request_token: String,
    /// AWS region; must be the environment's region if given.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

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

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct PromoteArgs {
    /// CloudFormation resource type of the dev resource, e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
    /// The dev resource's primary identifier (or name), e.g. `synthcoreai-documents-dev`.
    pub identifier: String,
    /// Also promote the dev resources it refers to (a bucket policy's
    /// bucket, a function's role) that prod lacks, first.
    #[serde(default)]
    pub with_dependencies: bool,
}

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

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct TypeFilterArgs {
    /// Only this CloudFormation resource type, e.g. `AWS::S3::Bucket`;
    /// omitted: every supported type.
    #[serde(default)]
    pub resource_type: Option<String>,
}

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

/// The description shared by every `environment` argument, for tests and docs.
pub fn environment_doc() -> &'static str {
    ENV_DOC
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn mutation_without_tokens_parses_so_the_refusal_can_name_the_step() {
        let a: MutateArgs =
            serde_json::from_value(json!({"resource_type": "AWS::S3::Bucket"})).unwrap();
        assert!(a.credentials_token.is_none());
        assert!(a.explained_token.is_none());
        assert!(a.security_scan_token.is_none());
    }

    #[test]
    fn generate_requires_a_resource_type() {
        let err = serde_json::from_value::<GenerateArgs>(json!({"properties": {}})).unwrap_err();
        assert!(err.to_string().contains("resource_type"), "{err}");
    }

    #[test]
    fn schemas_carry_descriptions_of_every_argument() {
        let schema = serde_json::to_value(schemars::schema_for!(MutateArgs)).unwrap();
        let props = schema["properties"].as_object().unwrap();
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
            Some(environment_doc())
        );
    }
}
