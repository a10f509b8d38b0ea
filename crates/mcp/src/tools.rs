//! The tool catalog: names, descriptions, input schemas and annotations.
//!
//! The names are the ones the seed's workflow calls, so that an agent
//! following it verbatim finds every tool. The descriptions say where each
//! tool sits in the chain and which token it needs, because that is what an
//! agent must know to call the next one.

use std::sync::{Arc, OnceLock};

use rmcp::handler::server::common::schema_for_type;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;

use crate::args::*;

/// Every tool the server offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolName {
    CheckEnvironmentVariables,
    GetAwsSessionInfo,
    GetAwsAccountInfo,
    GenerateInfrastructureCode,
    Explain,
    RunCheckov,
    ApproveSecurityFindings,
    CreateResource,
    GetResource,
    UpdateResource,
    DeleteResource,
    ListResources,
    GetResourceRequestStatus,
    GetResourceSchemaInformation,
    EstimateCost,
    ListPendingApprovals,
    ListPlans,
    ResumePlan,
    CostReport,
    PromoteResource,
    CheckSyncStatus,
    DetectDrift,
    Preflight,
    LintIamPolicy,
    SuggestIamPolicy,
    ExtendIamPolicy,
}

impl ToolName {
    pub const ALL: [ToolName; 26] = [
        ToolName::CheckEnvironmentVariables,
        ToolName::GetAwsSessionInfo,
        ToolName::GetAwsAccountInfo,
        ToolName::GenerateInfrastructureCode,
        ToolName::Explain,
        ToolName::RunCheckov,
        ToolName::ApproveSecurityFindings,
        ToolName::CreateResource,
        ToolName::GetResource,
        ToolName::UpdateResource,
        ToolName::DeleteResource,
        ToolName::ListResources,
        ToolName::GetResourceRequestStatus,
        ToolName::GetResourceSchemaInformation,
        ToolName::EstimateCost,
        ToolName::ListPendingApprovals,
        ToolName::ListPlans,
        ToolName::ResumePlan,
        ToolName::CostReport,
        ToolName::PromoteResource,
        ToolName::CheckSyncStatus,
        ToolName::DetectDrift,
        ToolName::Preflight,
        ToolName::LintIamPolicy,
        ToolName::SuggestIamPolicy,
        ToolName::ExtendIamPolicy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolName::CheckEnvironmentVariables => "check_environment_variables",
            ToolName::GetAwsSessionInfo => "get_aws_session_info",
            ToolName::GetAwsAccountInfo => "get_aws_account_info",
            ToolName::GenerateInfrastructureCode => "generate_infrastructure_code",
            ToolName::Explain => "explain",
            ToolName::RunCheckov => "run_checkov",
            ToolName::ApproveSecurityFindings => "approve_security_findings",
            ToolName::CreateResource => "create_resource",
            ToolName::GetResource => "get_resource",
            ToolName::UpdateResource => "update_resource",
            ToolName::DeleteResource => "delete_resource",
            ToolName::ListResources => "list_resources",
            ToolName::GetResourceRequestStatus => "get_resource_request_status",
            ToolName::GetResourceSchemaInformation => "get_resource_schema_information",
            ToolName::EstimateCost => "estimate_cost",
            ToolName::ListPendingApprovals => "list_pending_approvals",
            ToolName::ListPlans => "list_plans",
            ToolName::ResumePlan => "resume_plan",
            ToolName::CostReport => "cost_report",
            ToolName::PromoteResource => "promote_resource",
            ToolName::CheckSyncStatus => "check_sync_status",
            ToolName::DetectDrift => "detect_drift",
            ToolName::Preflight => "preflight",
            ToolName::LintIamPolicy => "lint_iam_policy",
            ToolName::SuggestIamPolicy => "suggest_iam_policy",
            ToolName::ExtendIamPolicy => "extend_iam_policy",
        }
    }

    pub fn parse(name: &str) -> Option<ToolName> {
        ToolName::ALL.into_iter().find(|t| t.as_str() == name)
    }

    fn description(self) -> &'static str {
        match self {
            ToolName::CheckEnvironmentVariables => {
                "Step 1 of every change. Checks that the environment is configured (profile, region, \
                 security scanning, read-only flag) and its cloud answers. Returns `environment_token` \
                 for get_aws_session_info. Credential values are never shown."
            }
            ToolName::GetAwsSessionInfo => {
                "Step 2. Shows which account, region and profile will be affected (show this to the user) \
                 and returns `credentials_token`, needed by generate_infrastructure_code and the mutation \
                 tools. Needs the `environment_token` from check_environment_variables."
            }
            ToolName::GetAwsAccountInfo => {
                "Read-only: the account, region, profile, backend and guard flags of the environment(s) \
                 this server serves. Needs no token."
            }
            ToolName::GenerateInfrastructureCode => {
                "Step 3. Plans a create (give `properties`), an update (give `identifier` and \
                 `patch_document`) or a delete (`operation: \"delete\"` and `identifier`): applies the \
                 tag standard and naming convention, builds the CloudFormation template, scans it and \
                 estimates its monthly cost. Nothing is changed. Returns `generated_code_token` (also as \
                 `properties_token`) and `properties_for_explanation` for explain. Needs `credentials_token`."
            }
            ToolName::Explain => {
                "Step 4. Returns the CloudFormation template and a plain-language explanation of the \
                 generated change: show both to the user. Returns `explained_token` for run_checkov and the \
                 mutation tool. Needs `generated_code_token`; `content` is ignored, the server explains \
                 exactly what it generated."
            }
            ToolName::RunCheckov => {
                "Step 5. Security scan of the explained template (infraguard's rules with their Checkov ids). \
                 Returns `scan_status` (PASSED/FAILED), `summary`, the findings and `security_scan_token` \
                 for the mutation tool. On FAILED, ask the user: fix, proceed or cancel, and record the \
                 answer with approve_security_findings. Needs `explained_token`."
            }
            ToolName::ApproveSecurityFindings => {
                "Records the user's decision on one scan's findings: `fix` (abandon the plan; fixes are \
                 returned; generate again), `proceed` (go on; where the gate needs a human, the user is \
                 asked or runs `infraguard approve ID`) or `cancel`. Needs the `security_scan_token`, which \
                 stays usable for the mutation tool after `proceed`."
            }
            ToolName::CreateResource => {
                "Step 6. Creates the resource exactly as explained and scanned (any `properties` passed \
                 here are ignored). Needs `credentials_token`, `explained_token` and `security_scan_token` \
                 of the same chain. When the gate needs a human (cost at or over the threshold, prod, open \
                 findings), the user is asked through the client, or the result names the approval id for \
                 `infraguard approve ID`; call again with the same tokens after that."
            }
            ToolName::GetResource => {
                "Read-only: the current properties of one resource (Cloud Control GetResource)."
            }
            ToolName::UpdateResource => {
                "Applies an update planned with generate_infrastructure_code (`identifier` + `patch_document`) \
                 through the full chain: needs `credentials_token`, `explained_token` and `security_scan_token`. \
                 The explained and scanned patch is applied, never one passed here. Humans approve as for create."
            }
            ToolName::DeleteResource => {
                "Deletes a resource planned with generate_infrastructure_code (`operation: \"delete\"`, \
                 `identifier`) through the full chain: needs `credentials_token`, `explained_token` and \
                 `security_scan_token`. Deletes always need a human's approval."
            }
            ToolName::ListResources => {
                "Read-only: the identifiers of every resource of one type (`resources`), with their \
                 properties (`resource_descriptions`), one page at a time (`next_token`)."
            }
            ToolName::GetResourceRequestStatus => {
                "Read-only: the status of a Cloud Control request by its `request_token`."
            }
            ToolName::GetResourceSchemaInformation => {
                "Read-only: what infraguard knows of a resource type: primary identifier, required, \
                 create-only, read-only and write-only properties, and where tags go."
            }
            ToolName::EstimateCost => {
                "Read-only: the monthly cost of a resource with these properties and usage, with its \
                 breakdown and assumptions, whether the cost reaches the approval threshold \
                 (`over_cost_threshold`), and the gate's own preview of creating it (`gate`, \
                 `requires_approval`: read-only environments and open findings count too). Nothing is \
                 planned."
            }
            ToolName::ListPendingApprovals => {
                "Read-only: approvals waiting for a human (`infraguard approve ID` at a terminal, or an \
                 answer to the client's prompt)."
            }
            ToolName::ListPlans => {
                "Read-only: the plans of this server's environments, newest first (one by `plan_id`, or \
                 those in one `status`), each with its status, approval (and when it expires), Cloud \
                 Control request and client token, and `next_step`. A plan left `applying` is an apply \
                 cut short (a lost reply, a killed server): finish it with resume_plan or the same \
                 mutation call with the same tokens, never with a new plan, which would make a second \
                 resource."
            }
            ToolName::ResumePlan => {
                "Finishes a plan left `applying` (see list_plans): re-sends the very request with the \
                 plan's own client token, so the cloud acts at most once, and returns its outcome. An \
                 applied plan returns its outcome again; a plan never sent is refused (apply it through \
                 the chain). Needs no token: the plan passed the gate when it was first sent."
            }
            ToolName::CostReport => {
                "Monthly cost of everything an environment holds (every served environment when \
                 `environment` is omitted), per environment and resource, from live properties and the \
                 usage assumptions, with the alert thresholds crossed; `display` is the tree to show. \
                 On AWS each environment also shows what Cost Explorer billed this month so far and last \
                 month beside the estimates; on the local cloud the figures are estimates only, and say so. \
                 With `create_billing_alarm: true` it also plans the billing alerts: an SNS topic that \
                 e-mails `alert_email` (or the project's `[cost] alert_email`) and one CloudWatch alarm per \
                 alert threshold that notifies it (us-east-1 only, where AWS publishes billing metrics): \
                 plans only, each gated like any change; apply them through the chain \
                 (`generate_arguments`) or `infraguard apply PLAN_ID`."
            }
            ToolName::PromoteResource => {
                "Promotes one dev resource to prod (`resource_type`, `identifier` of the dev resource, \
                 optionally `with_dependencies`): maps names and references to prod, scans, estimates and \
                 plans the prod create, and walks the promotion checklist. Prod needs a human: the user is \
                 asked through the client, or the result names `approval_id` for `infraguard approve ID`, \
                 after which calling promote_resource again finishes it. Needs a server that serves both \
                 dev and prod (started without --env)."
            }
            ToolName::CheckSyncStatus => {
                "Read-only: compares dev and prod (one `resource_type` or every supported type) and \
                 groups resources as `dev_only` (not promoted yet), `prod_only`, `synced` (linked by the \
                 ProdCounterpart tag or by name) and `needs_review`."
            }
            ToolName::DetectDrift => {
                "Read-only: for every synced dev/prod pair, the properties that differ (with the patch that \
                 brings prod in line), and every resource changed or deleted outside infraguard since it \
                 applied a plan (`out_of_band`, with the patch that restores it)."
            }
            ToolName::Preflight => {
                "The seed's deployment checklist for an `environment` (prod by default on the prod \
                 server): dev resources promoted, no drift, no open findings, the Amplify branches \
                 (prod's `main` deploys by hand, dev's on push, variables naming the environment's own \
                 resources), and the app's own checks from `[preflight] commands` in infraguard.toml \
                 (`pnpm lint`, `pnpm type-check`, `pnpm build`), run in the project folder with their \
                 output kept, and in prod whether `[preflight] production_url` answers. `ready` is true \
                 only when every line passes."
            }
            ToolName::LintIamPolicy => {
                "Read-only: lints an IAM policy (`policy_document`, object or JSON text) or every policy \
                 in a CloudFormation `template`: misspelled actions with the nearest real ones, \
                 wildcards expanded, admin and `Resource: *` grants, privilege escalation paths."
            }
            ToolName::SuggestIamPolicy => {
                "Read-only: the least-privilege policy for a `capability` described in words (`upload \
                 files to S3`), named by the project's convention and scoped to its naming pattern (or \
                 the `resources` given) in the environment's account and region."
            }
            ToolName::ExtendIamPolicy => {
                "Plans (never applies) the smallest change that gives an IAM user or role a \
                 `capability` in an environment: compares its current policies with what is needed and \
                 plans a new conventional managed policy, an attachment, or added statements. Returns \
                 the diff and the plan with its gate; apply it through the chain (`generate_arguments`) \
                 or `infraguard apply PLAN_ID`, with a human's approval where the gate says so."
            }
        }
    }

    /// The MCP hints: read-only tools change nothing; `delete_resource` is
    /// the destructive one; nothing that mutates is idempotent (tokens are
    /// single-use, so a repeat is refused rather than repeated).
    fn annotations(self) -> ToolAnnotations {
        let title = self.as_str().replace('_', " ");
        let base = ToolAnnotations::with_title(title);
        match self {
            ToolName::GetAwsAccountInfo
            | ToolName::GetResource
            | ToolName::ListResources
            | ToolName::GetResourceRequestStatus
            | ToolName::GetResourceSchemaInformation
            | ToolName::EstimateCost
            | ToolName::ListPendingApprovals
            | ToolName::ListPlans
            | ToolName::CheckSyncStatus
            | ToolName::DetectDrift
            | ToolName::LintIamPolicy
            | ToolName::SuggestIamPolicy => {
                base.read_only(true).idempotent(true).open_world(false)
            }
            // These issue tokens and record plans, but touch no cloud resource.
            ToolName::CheckEnvironmentVariables
            | ToolName::GetAwsSessionInfo
            | ToolName::GenerateInfrastructureCode
            | ToolName::Explain
            | ToolName::RunCheckov
            | ToolName::ApproveSecurityFindings
            // Plans only (billing alarms, IAM changes): gated, applied elsewhere.
            | ToolName::CostReport
            // Runs the app's own checks (a build writes its output folder).
            | ToolName::Preflight
            | ToolName::ExtendIamPolicy => base
                .read_only(false)
                .destructive(false)
                .idempotent(false)
                .open_world(false),
            // A promotion creates a prod resource and retags the dev one.
            // Finishes what was already sent; never a new resource.
            ToolName::CreateResource | ToolName::PromoteResource | ToolName::ResumePlan => base
                .read_only(false)
                .destructive(false)
                .idempotent(false)
                .open_world(true),
            ToolName::UpdateResource | ToolName::DeleteResource => base
                .read_only(false)
                .destructive(true)
                .idempotent(false)
                .open_world(true),
        }
    }

    fn input_schema(self) -> Arc<JsonObject> {
        match self {
            ToolName::CheckEnvironmentVariables
            | ToolName::GetAwsAccountInfo
            | ToolName::ListPendingApprovals => schema::<EnvOnly>(),
            ToolName::GetAwsSessionInfo => schema::<SessionInfoArgs>(),
            ToolName::GenerateInfrastructureCode => schema::<GenerateArgs>(),
            ToolName::Explain => schema::<ExplainArgs>(),
            ToolName::RunCheckov => schema::<ScanArgs>(),
            ToolName::ApproveSecurityFindings => schema::<FindingsArgs>(),
            ToolName::CreateResource | ToolName::UpdateResource | ToolName::DeleteResource => {
                schema::<MutateArgs>()
            }
            ToolName::GetResource => schema::<GetResourceArgs>(),
            ToolName::ListResources => schema::<ListResourcesArgs>(),
            ToolName::GetResourceRequestStatus => schema::<RequestStatusArgs>(),
            ToolName::GetResourceSchemaInformation => schema::<SchemaArgs>(),
            ToolName::EstimateCost => schema::<EstimateArgs>(),
            ToolName::CostReport => schema::<CostReportArgs>(),
            ToolName::ListPlans => schema::<ListPlansArgs>(),
            ToolName::ResumePlan => schema::<ResumePlanArgs>(),
            ToolName::PromoteResource => schema::<PromoteArgs>(),
            ToolName::CheckSyncStatus | ToolName::DetectDrift => schema::<TypeFilterArgs>(),
            ToolName::Preflight => schema::<EnvOnly>(),
            ToolName::LintIamPolicy => schema::<LintIamArgs>(),
            ToolName::SuggestIamPolicy => schema::<SuggestIamArgs>(),
            ToolName::ExtendIamPolicy => schema::<ExtendIamArgs>(),
        }
    }

    pub fn tool(self) -> Tool {
        Tool::new(self.as_str(), self.description(), self.input_schema())
            .annotate(self.annotations())
    }

    /// The chain's mutation tools: refused outright when no token chain
    /// stands behind them. (`promote_resource` changes the cloud too, but
    /// through the engine's promotion, which gates every plan it makes.)
    pub fn mutates(self) -> bool {
        matches!(
            self,
            ToolName::CreateResource | ToolName::UpdateResource | ToolName::DeleteResource
        )
    }
}

fn schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    schema_for_type::<T>()
}

static TOOLS: OnceLock<Vec<Tool>> = OnceLock::new();

/// The full list, in the order of the workflow. Built once: generating the
/// schemas costs milliseconds, which `tools/list` should not pay each time.
pub fn all_tools() -> Vec<Tool> {
    built().to_vec()
}

fn built() -> &'static [Tool] {
    TOOLS.get_or_init(|| ToolName::ALL.into_iter().map(ToolName::tool).collect())
}

/// One tool of the list, by name.
pub fn find_tool(name: &str) -> Option<Tool> {
    built().iter().find(|t| t.name == name).cloned()
}

/// Build the list on another thread while the server starts, so the first
/// `tools/list` does not wait for it.
pub fn prepare() {
    if TOOLS.get().is_none() {
        let _ = std::thread::Builder::new()
            .name("tool-schemas".into())
            .spawn(|| {
                let _ = all_tools();
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for t in ToolName::ALL {
            assert_eq!(ToolName::parse(t.as_str()), Some(t));
            assert!(seen.insert(t.as_str()), "{} twice", t.as_str());
        }
        assert_eq!(ToolName::parse("create_bucket"), None);
    }

    #[test]
    fn every_tool_has_a_description_schema_and_hints() {
        for tool in all_tools() {
            assert!(
                tool.description.as_deref().is_some_and(|d| d.len() > 40),
                "{}",
                tool.name
            );
            assert_eq!(
                tool.input_schema.get("type").and_then(|v| v.as_str()),
                Some("object"),
                "{}",
                tool.name
            );
            let a = tool.annotations.as_ref().expect("annotations");
            assert!(a.read_only_hint.is_some(), "{}", tool.name);
        }
    }

    #[test]
    fn only_reads_are_read_only_and_delete_is_destructive() {
        let hints = |t: ToolName| t.tool().annotations.unwrap_or_default();
        assert_eq!(hints(ToolName::GetResource).read_only_hint, Some(true));
        assert_eq!(hints(ToolName::CreateResource).read_only_hint, Some(false));
        assert_eq!(hints(ToolName::DeleteResource).destructive_hint, Some(true));
        assert_eq!(
            hints(ToolName::CreateResource).destructive_hint,
            Some(false)
        );
        assert!(ToolName::ALL.iter().filter(|t| t.mutates()).count() == 3);
    }

    #[test]
    fn the_cached_list_is_the_catalog() {
        assert_eq!(all_tools().len(), ToolName::ALL.len());
        assert_eq!(find_tool("explain").map(|t| t.name), Some("explain".into()));
        assert!(find_tool("apply").is_none());
    }

    #[test]
    fn generate_schema_names_the_seed_arguments() {
        let s = ToolName::GenerateInfrastructureCode.input_schema();
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
}
