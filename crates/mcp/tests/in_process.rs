//! The server in-process, over an in-memory duplex stream with rmcp's own
//! client: the token chain end to end, a refused mutation that never reaches
//! the cloud, an approval answered through elicitation, and a promotion the
//! user declines. The real-client
//! tests (Python SDK, Inspector) are in tests/mcp at the repo root.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::clock::{Clock, SystemClock};
use infraguard_core::cloud::Cloud;
use infraguard_core::env::Backend;
use infraguard_engine::{Engine, ProjectConfig, RawConfig, SqliteStore};
use infraguard_mcp::InfraguardServer;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};

type TestEngine = Engine<LocalCloud, SqliteStore>;

fn engine(dir: &std::path::Path) -> TestEngine {
    let raw = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local);
    let config = ProjectConfig::resolve(&raw, &BTreeMap::new()).expect("config");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut clouds = BTreeMap::new();
    for env in &config.environments {
        let account = LocalAccount {
            env: env.name.clone(),
            region: env.region.clone(),
        };
        let cloud = LocalCloud::open(
            &dir.join(format!("cloud-{}.db", env.name)),
            account,
            clock.clone(),
        )
        .expect("cloud");
        clouds.insert(env.name.clone(), cloud);
    }
    let store = SqliteStore::open(&dir.join("state.db")).expect("store");
    let key = store.secret().expect("secret");
    Engine::new(config, clouds, store, clock)
        .expect("engine")
        .with_signing_key(key)
}

/// A client whose user answers every prompt with `answer`.
#[derive(Clone)]
struct User {
    answer: ElicitationAction,
    prompts: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for User {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("in-process", "0"),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request
            && let Ok(mut p) = self.prompts.lock()
        {
            p.push(message.clone());
        }
        Ok(ElicitResult::new(self.answer.clone()).with_content(json!({})))
    }
}

async fn connect(
    engine: Arc<TestEngine>,
    env: &str,
    user: User,
) -> RunningService<RoleClient, User> {
    connect_to(engine, Some(env.to_string()), user).await
}

/// `None`: the server serves every environment (`serve` without --env).
async fn connect_to(
    engine: Arc<TestEngine>,
    env: Option<String>,
    user: User,
) -> RunningService<RoleClient, User> {
    let server = InfraguardServer::new(engine, env).expect("server");
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    user.serve(client_io).await.expect("client")
}

async fn call(
    client: &RunningService<RoleClient, User>,
    name: &'static str,
    args: Value,
) -> CallToolResult {
    let mut params = CallToolRequestParams::new(name);
    params.arguments = args.as_object().cloned();
    client.call_tool(params).await.expect("call")
}

fn ok(r: &CallToolResult) -> Value {
    assert_eq!(r.is_error, Some(false), "refused: {:?}", r.content);
    r.structured_content.clone().expect("structured content")
}

fn text(r: &CallToolResult) -> String {
    r.content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// Steps 1-5; returns (credentials, explained, scan) tokens.
async fn chain(
    client: &RunningService<RoleClient, User>,
    props: Value,
) -> (String, String, String) {
    let check = ok(&call(client, "check_environment_variables", json!({})).await);
    let info = ok(&call(
        client,
        "get_aws_session_info",
        json!({"environment_token": check["environment_token"]}),
    )
    .await);
    let creds = info["credentials_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let generated = ok(&call(
        client,
        "generate_infrastructure_code",
        json!({"resource_type": "AWS::S3::Bucket", "credentials_token": creds, "properties": props}),
    )
    .await);
    let explained = ok(&call(
        client,
        "explain",
        json!({"generated_code_token": generated["properties_token"]}),
    )
    .await);
    let scanned = ok(&call(
        client,
        "run_checkov",
        json!({"explained_token": explained["explained_token"]}),
    )
    .await);
    (
        creds,
        explained["explained_token"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        scanned["security_scan_token"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn user(answer: ElicitationAction) -> User {
    User {
        answer,
        prompts: Arc::new(Mutex::new(Vec::new())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_creates_and_a_replay_answers_the_first_outcome_without_a_cloud_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Arc::new(engine(dir.path()));
    let client = connect(engine.clone(), "dev", user(ElicitationAction::Decline)).await;

    let tools = client.list_tools(None).await.expect("tools");
    assert_eq!(tools.tools.len(), TOOLS.len());

    let (creds, explained, scan) =
        chain(&client, json!({"BucketName": "synthcoreai-inproc-dev"})).await;
    let args = json!({"credentials_token": creds, "explained_token": explained, "security_scan_token": scan});
    let created = ok(&call(&client, "create_resource", args.clone()).await);
    assert_eq!(created["identifier"], "synthcoreai-inproc-dev");

    let cloud = engine.cloud("dev").expect("dev");
    let before = cloud
        .list(&"AWS::S3::Bucket".parse().expect("type"), None, None)
        .expect("list")
        .resources
        .len();
    // The same tokens again (a retry after a lost reply): the first
    // request's outcome, and no second bucket.
    let replay = ok(&call(&client, "create_resource", args).await);
    assert_eq!(replay["identifier"], "synthcoreai-inproc-dev");
    assert_eq!(replay["request_token"], created["request_token"]);
    assert_eq!(replay["plan_id"], created["plan_id"]);
    let after = cloud
        .list(&"AWS::S3::Bucket".parse().expect("type"), None, None)
        .expect("list")
        .resources
        .len();
    assert_eq!(before, after);
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prod_write_asks_the_user_and_a_decline_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Arc::new(engine(dir.path()));
    let declining = user(ElicitationAction::Decline);
    let prompts = declining.prompts.clone();
    let client = connect(engine.clone(), "prod", declining).await;

    let (creds, explained, scan) =
        chain(&client, json!({"BucketName": "synthcoreai-inproc-prod"})).await;
    let r = call(&client, "create_resource", json!({"credentials_token": creds, "explained_token": explained, "security_scan_token": scan})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("declined"), "{}", text(&r));
    let asked = prompts.lock().map(|p| p.clone()).unwrap_or_default();
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].contains("synthcoreai-inproc-prod") && asked[0].contains("Monthly Cost"),
        "{}",
        asked[0]
    );
    let listed = engine
        .cloud("prod")
        .expect("prod")
        .list(&"AWS::S3::Bucket".parse().expect("type"), None, None)
        .expect("list");
    assert!(listed.resources.is_empty());
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_the_user_declines_creates_nothing_in_prod() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Arc::new(engine(dir.path()));
    let dev = connect(engine.clone(), "dev", user(ElicitationAction::Decline)).await;
    let bucket = "synthcoreai-promo-dev";
    let (creds, explained, scan) = chain(&dev, json!({"BucketName": bucket})).await;
    ok(&call(&dev, "create_resource", json!({"credentials_token": creds, "explained_token": explained, "security_scan_token": scan})).await);
    let args = json!({"resource_type": "AWS::S3::Bucket", "identifier": bucket});

    // The dev server cannot promote: it serves one environment, and its
    // instructions say so.
    let instructions = |c: &RunningService<RoleClient, User>| {
        c.peer_info()
            .and_then(|i| i.instructions.clone())
            .unwrap_or_default()
    };
    assert!(instructions(&dev).contains("cannot promote"));
    let one = call(&dev, "promote_resource", args.clone()).await;
    assert_eq!(one.is_error, Some(true));
    assert!(text(&one).contains("without --env"), "{}", text(&one));
    dev.cancel().await.expect("close");

    let declining = user(ElicitationAction::Decline);
    let prompts = declining.prompts.clone();
    let both = connect_to(engine.clone(), None, declining).await;
    let told = instructions(&both);
    assert!(
        told.contains("call promote_resource again") && !told.contains("cannot promote"),
        "{told}"
    );
    let r = call(&both, "promote_resource", args).await;
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
    let asked = prompts.lock().map(|p| p.clone()).unwrap_or_default();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].contains("synthcoreai-promo-prod"), "{}", asked[0]);
    let listed = engine
        .cloud("prod")
        .expect("prod")
        .list(&"AWS::S3::Bucket".parse().expect("type"), None, None)
        .expect("list");
    assert!(listed.resources.is_empty());
    both.cancel().await.expect("close");
}

/// Every tool the server lists, by name. A tool added to (or removed from)
/// a stage file fails `every_listed_tool_…` until it is named here: the one
/// list of tools outside their own files.
const TOOLS: [&str; 26] = [
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
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Arc::new(engine(dir.path()));
    let client = connect(engine, "dev", user(ElicitationAction::Decline)).await;

    let tools = client.list_tools(None).await.expect("tools").tools;
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
    let r = call(&client, "get_aws_account_info", json!({})).await;
    assert!(ok(&r).is_object());
    client.cancel().await.expect("close");
}
