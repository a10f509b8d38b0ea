//! The MCP server in-process, over an in-memory duplex stream, with rmcp's
//! own client: one harness for `tests/in_process.rs`.
//!
//! - [`Project`]: the engine over the embedded local cloud, in a temporary
//!   folder, and its clouds for checking what a tool did (or did not) make.
//! - [`Project::client`] … [`Connect::connect`]: a client whose user answers
//!   every prompt one way, connected to a server of one environment or all.
//! - [`Client`]: calls, the five-step token chain, what the user was asked.
//! - [`snapshot!`]: insta snapshots with the shared redactions ([`redact`]).

#![allow(dead_code)]

pub mod redact;

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

pub type TestEngine = Engine<LocalCloud, SqliteStore>;

/// A SynthCore project's engine (dev and prod on the local cloud), its
/// state in a temporary folder removed on drop.
pub struct Project {
    pub engine: Arc<TestEngine>,
    dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        let raw = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local);
        let config = ProjectConfig::resolve(&raw, &BTreeMap::new()).expect("config");
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let mut clouds = BTreeMap::new();
        for env in &config.environments {
            let account = LocalAccount {
                env: env.name.clone(),
                region: env.region.clone(),
            };
            let db = dir.path().join(format!("cloud-{}.db", env.name));
            let cloud = LocalCloud::open(&db, account, clock.clone()).expect("cloud");
            clouds.insert(env.name.clone(), cloud);
        }
        let store = SqliteStore::open(&dir.path().join("state.db")).expect("store");
        let key = store.secret().expect("secret");
        let engine = Engine::new(config, clouds, store, clock)
            .expect("engine")
            .with_signing_key(key);
        Project {
            engine: Arc::new(engine),
            dir,
        }
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// A client of a server serving `env` whose user declines every prompt,
    /// unless told otherwise.
    pub fn client(&self, env: &str) -> Connect {
        Connect {
            engine: self.engine.clone(),
            env: Some(env.to_string()),
            answer: ElicitationAction::Decline,
            elicitation: true,
        }
    }

    /// The S3 buckets in `env`'s cloud, by count.
    pub fn buckets(&self, env: &str) -> usize {
        self.engine
            .cloud(env)
            .expect("environment")
            .list(&"AWS::S3::Bucket".parse().expect("type"), None, None)
            .expect("list")
            .resources
            .len()
    }
}

/// How [`Project::client`] connects.
pub struct Connect {
    engine: Arc<TestEngine>,
    env: Option<String>,
    answer: ElicitationAction,
    elicitation: bool,
}

impl Connect {
    /// The server serves every environment (`serve` without --env).
    pub fn every_env(mut self) -> Self {
        self.env = None;
        self
    }

    /// The user answers every prompt with `answer`.
    pub fn answering(mut self, answer: ElicitationAction) -> Self {
        self.answer = answer;
        self
    }

    /// The client declares no elicitation: nothing can be asked in it.
    pub fn without_elicitation(mut self) -> Self {
        self.elicitation = false;
        self
    }

    pub async fn connect(self) -> Client {
        let server = InfraguardServer::new(self.engine, self.env).expect("server");
        let (server_io, client_io) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let user = User {
            answer: self.answer,
            elicitation: self.elicitation,
            prompts: Arc::new(Mutex::new(Vec::new())),
        };
        let prompts = user.prompts.clone();
        let service = user.serve(client_io).await.expect("client");
        Client { service, prompts }
    }
}

/// A client whose user answers every prompt with `answer`.
#[derive(Clone)]
pub struct User {
    answer: ElicitationAction,
    elicitation: bool,
    prompts: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for User {
    fn get_info(&self) -> ClientConfig {
        let capabilities = if self.elicitation {
            ClientCapabilities::builder().enable_elicitation().build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(capabilities, Implementation::new("in-process", "0"))
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

/// A connected client.
pub struct Client {
    pub service: RunningService<RoleClient, User>,
    prompts: Arc<Mutex<Vec<String>>>,
}

impl Client {
    pub async fn call(&self, name: &'static str, args: Value) -> CallToolResult {
        let mut params = CallToolRequestParams::new(name);
        params.arguments = args.as_object().cloned();
        self.service.call_tool(params).await.expect("call")
    }

    /// A call that must succeed; its structured content.
    pub async fn ok(&self, name: &'static str, args: Value) -> Value {
        ok(&self.call(name, args).await)
    }

    /// Steps 1-5; returns (credentials, explained, scan) tokens.
    pub async fn chain(&self, props: Value) -> (String, String, String) {
        let check = self.ok("check_environment_variables", json!({})).await;
        let info = self
            .ok(
                "get_aws_session_info",
                json!({"environment_token": check["environment_token"]}),
            )
            .await;
        let creds = string(&info["credentials_token"]);
        let generated = self
            .ok(
                "generate_infrastructure_code",
                json!({"resource_type": "AWS::S3::Bucket", "credentials_token": creds, "properties": props}),
            )
            .await;
        let explained = self
            .ok(
                "explain",
                json!({"generated_code_token": generated["properties_token"]}),
            )
            .await;
        let scanned = self
            .ok(
                "run_checkov",
                json!({"explained_token": explained["explained_token"]}),
            )
            .await;
        (
            creds,
            string(&explained["explained_token"]),
            string(&scanned["security_scan_token"]),
        )
    }

    /// The chain's three tokens, as `create_resource` takes them.
    pub async fn create_args(&self, props: Value) -> Value {
        let (creds, explained, scan) = self.chain(props).await;
        json!({"credentials_token": creds, "explained_token": explained, "security_scan_token": scan})
    }

    /// What the user was asked, in order.
    pub fn prompts(&self) -> Vec<String> {
        self.prompts.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// The server's instructions to the agent.
    pub fn instructions(&self) -> String {
        self.service
            .peer_info()
            .and_then(|i| i.instructions.clone())
            .unwrap_or_default()
    }

    pub async fn close(self) {
        self.service.cancel().await.expect("close");
    }
}

fn string(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

pub fn ok(r: &CallToolResult) -> Value {
    assert_eq!(r.is_error, Some(false), "refused: {:?}", r.content);
    r.structured_content.clone().expect("structured content")
}

pub fn text(r: &CallToolResult) -> String {
    r.content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// A tool result as a user (or an agent) reads it: error or not, the text,
/// and the structured content.
pub fn shown(r: &CallToolResult) -> String {
    let structured = r.structured_content.clone().unwrap_or_default();
    format!(
        "is_error: {:?}\n--- text\n{}\n--- structuredContent\n{}\n",
        r.is_error,
        text(r),
        serde_json::to_string_pretty(&structured).expect("JSON")
    )
}

/// [`redact::filters`] of `dirs` and this crate's version.
pub fn filters(dirs: &[&std::path::Path]) -> Vec<(String, String)> {
    redact::filters(dirs, env!("CARGO_PKG_VERSION"))
}
