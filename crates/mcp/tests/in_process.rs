//! The server in-process, over an in-memory duplex stream with rmcp's own
//! client ([`harness`]): the token chain end to end, a refused mutation that
//! never reaches the cloud, an approval answered through elicitation, a
//! promotion the user declines, and snapshots of what a few tools answer.
//! The real-client tests (Python SDK, Inspector) are in tests/mcp at the
//! repo root.

mod harness;

use harness::{Project, ok, shown, text};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_creates_and_a_replay_answers_the_first_outcome_without_a_cloud_call() {
    let p = Project::new();
    let client = p.client("dev").connect().await;

    let tools = client.service.list_tools(None).await.expect("tools");
    assert_eq!(tools.tools.len(), TOOLS.len());

    let args = client
        .create_args(json!({"BucketName": "synthcoreai-inproc-dev"}))
        .await;
    let created = client.ok("create_resource", args.clone()).await;
    assert_eq!(created["identifier"], "synthcoreai-inproc-dev");

    let before = p.buckets("dev");
    // The same tokens again (a retry after a lost reply): the first
    // request's outcome, and no second bucket.
    let replay = client.ok("create_resource", args).await;
    assert_eq!(replay["identifier"], "synthcoreai-inproc-dev");
    assert_eq!(replay["request_token"], created["request_token"]);
    assert_eq!(replay["plan_id"], created["plan_id"]);
    assert_eq!(before, p.buckets("dev"));
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prod_write_asks_the_user_and_a_decline_creates_nothing() {
    let p = Project::new();
    let client = p.client("prod").connect().await;

    let args = client
        .create_args(json!({"BucketName": "synthcoreai-inproc-prod"}))
        .await;
    let r = client.call("create_resource", args).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("declined"), "{}", text(&r));
    let asked = client.prompts();
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].contains("synthcoreai-inproc-prod") && asked[0].contains("Monthly Cost"),
        "{}",
        asked[0]
    );
    assert_eq!(p.buckets("prod"), 0);
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_the_user_declines_creates_nothing_in_prod() {
    let p = Project::new();
    let dev = p.client("dev").connect().await;
    let bucket = "synthcoreai-promo-dev";
    let create = dev.create_args(json!({"BucketName": bucket})).await;
    dev.ok("create_resource", create).await;
    let args = json!({"resource_type": "AWS::S3::Bucket", "identifier": bucket});

    // The dev server cannot promote: it serves one environment, and its
    // instructions say so.
    assert!(dev.instructions().contains("cannot promote"));
    let one = dev.call("promote_resource", args.clone()).await;
    assert_eq!(one.is_error, Some(true));
    assert!(text(&one).contains("without --env"), "{}", text(&one));
    dev.close().await;

    let both = p.client("prod").every_env().connect().await;
    let told = both.instructions();
    assert!(
        told.contains("call promote_resource again") && !told.contains("cannot promote"),
        "{told}"
    );
    let r = both.call("promote_resource", args).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("declined"), "{}", text(&r));
    let details = r.structured_content.clone().unwrap_or_default();
    assert_eq!(details["error"], "denied");
    assert!(
        details["approval_id"]
            .as_str()
            .is_some_and(|a| a.starts_with("apr-")),
        "{details}"
    );
    let asked = both.prompts();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].contains("synthcoreai-promo-prod"), "{}", asked[0]);
    assert_eq!(p.buckets("prod"), 0);
    both.close().await;
}

/// Every tool the server lists, by name. A tool added to (or removed from)
/// a stage file fails `every_listed_tool_…` until it is named here: the one
/// list of tools outside their own files.
const TOOLS: &[&str] = &[
    "approve_security_findings",
    "check_environment_variables",
    "check_sync_status",
    "cost_report",
    "create_resource",
    "delete_resource",
    "detect_drift",
    "estimate_cost",
    "explain",
    "extend_iam_policy",
    "generate_infrastructure_code",
    "get_aws_account_info",
    "get_aws_session_info",
    "get_resource",
    "get_resource_request_status",
    "get_resource_schema_information",
    "lint_iam_policy",
    "list_locks",
    "list_pending_approvals",
    "list_plans",
    "list_resources",
    "preflight",
    "promote_resource",
    "resume_plan",
    "run_checkov",
    "suggest_iam_policy",
    "update_resource",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_tool_has_a_description_and_an_object_output_schema() {
    let p = Project::new();
    let client = p.client("dev").connect().await;

    let tools = client.service.list_tools(None).await.expect("tools").tools;
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(names, TOOLS);
    for tool in &tools {
        // A `#[tool]` with neither `description` nor a doc comment lists none.
        assert!(
            tool.description
                .as_deref()
                .is_some_and(|d| !d.trim().is_empty()),
            "{} has no description",
            tool.name
        );
        let output = tool
            .output_schema
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no outputSchema", tool.name));
        assert_eq!(output.get("type"), Some(&json!("object")), "{}", tool.name);
    }

    // A success's structured content is what the schema promises: an object.
    let r = client.call("get_aws_account_info", json!({})).await;
    assert!(ok(&r).is_object());
    client.close().await;
}

/// The first steps of the chain as the agent reads them: each result's
/// text and structured content, tokens and ids redacted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_steps_read_as_snapshotted() {
    let p = Project::new();
    let client = p.client("dev").connect().await;
    let check = client.call("check_environment_variables", json!({})).await;
    snapshot!(
        p,
        "check_environment_variables",
        shown(&without_this_machines_variables(&check))
    );
    let token = ok(&check)["environment_token"].clone();
    let info = client
        .call("get_aws_session_info", json!({"environment_token": token}))
        .await;
    snapshot!(p, "get_aws_session_info", shown(&info));
    let generated = client
        .call(
            "generate_infrastructure_code",
            json!({
                "resource_type": "AWS::S3::Bucket",
                "credentials_token": ok(&info)["credentials_token"],
                "properties": {"BucketName": "synthcoreai-snap-dev"}
            }),
        )
        .await;
    snapshot!(p, "generate_infrastructure_code", shown(&generated));
    let cost = client
        .call(
            "estimate_cost",
            json!({"resource_type": "AWS::S3::Bucket", "usage": {"storage_gb": 100}}),
        )
        .await;
    snapshot!(p, "estimate_cost", shown(&cost));
    client.close().await;
}

/// `check_environment_variables` reports the variables of the test's own
/// process, which differ between machines: their `set` and `value` are
/// replaced (the text is the same JSON, checked here, then replaced too).
fn without_this_machines_variables(r: &CallToolResult) -> CallToolResult {
    let mut structured = ok(r);
    let from_text: Value = serde_json::from_str(&text(r)).expect("JSON text");
    assert_eq!(from_text, structured, "the text is the structured content");
    for v in structured["variables"].as_array_mut().expect("variables") {
        v["set"] = json!("[THIS MACHINE]");
        v["value"] = json!("[THIS MACHINE]");
    }
    let mut redacted = r.clone();
    redacted.content = vec![ContentBlock::text(
        serde_json::to_string_pretty(&structured).expect("JSON"),
    )];
    redacted.structured_content = Some(structured);
    redacted
}

/// A prod create in a client that cannot be asked: a refusal naming the
/// approval and the command a person runs; and the chain out of order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_read_as_snapshotted() {
    let p = Project::new();
    let client = p.client("prod").without_elicitation().connect().await;
    let args = client
        .create_args(json!({"BucketName": "synthcoreai-snap-prod"}))
        .await;
    let waiting = client.call("create_resource", args).await;
    assert_eq!(waiting.is_error, Some(true));
    snapshot!(p, "create_resource_needs_approval", shown(&waiting));
    assert_eq!(p.buckets("prod"), 0);
    let early = client
        .call("run_checkov", json!({"explained_token": "ig1.bogus.token"}))
        .await;
    assert_eq!(early.is_error, Some(true));
    snapshot!(p, "run_checkov_with_a_bad_token", shown(&early));
    client.close().await;
}
