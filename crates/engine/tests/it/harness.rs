//! A project's engine over two local clouds (dev, prod) and a real SQLite
//! store in a temporary folder, with polling that never sleeps; and the
//! requests, cloud tricks and audit reads the tests share.
//!
//! [`engine_of`] is the one place an engine is put together: the other
//! constructors only choose its configuration.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use infraguard_cloud_local::{Faults, LocalAccount, LocalCloud};
use infraguard_core::clock::{Clock, SystemClock, Timestamp};
use infraguard_core::cloud::{Cloud, ProgressEvent};
use infraguard_core::env::Backend;
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_engine::{
    Actor, ApplyOutcome, Caller, Engine, PlanRequest, PollPolicy, ProjectConfig, Proof, RawConfig,
    SqliteStore,
};
use serde_json::Value;

pub type TestEngine = Engine<LocalCloud, SqliteStore>;

/// A clock a test moves by hand (approvals expire, tokens lapse).
#[derive(Debug)]
pub struct ManualClock(pub std::sync::atomic::AtomicI64);

impl ManualClock {
    /// Now, by the system clock; moved only by [`ManualClock::advance`].
    pub fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock(std::sync::atomic::AtomicI64::new(
            SystemClock.now().unix(),
        )))
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// A fresh project in a temporary folder: the folder and the engine over it.
/// Bind both, `let (_dir, e) = project();`: the folder is removed when its
/// binding drops, and the engine (bound after it, dropped before it) must
/// not outlive it.
pub fn project() -> (tempfile::TempDir, TestEngine) {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path());
    (dir, e)
}

pub fn engine_in(dir: &std::path::Path) -> TestEngine {
    engine_with(dir, Arc::new(SystemClock), |_| {})
}

/// An engine on `clock`, its configuration changed by `edit` first.
pub fn engine_with(
    dir: &std::path::Path,
    clock: Arc<dyn Clock>,
    edit: impl FnOnce(&mut RawConfig),
) -> TestEngine {
    engine_of(dir, clock, config_with(edit))
}

/// The test project's resolved configuration, its raw form changed by
/// `edit` first.
pub fn config_with(edit: impl FnOnce(&mut RawConfig)) -> ProjectConfig {
    let mut raw = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local);
    edit(&mut raw);
    ProjectConfig::resolve(&raw, &BTreeMap::new()).unwrap()
}

/// The engine over `config`: a local cloud per environment and the SQLite
/// store, all in `dir`, polling without pauses.
pub fn engine_of(
    dir: &std::path::Path,
    clock: Arc<dyn Clock>,
    config: ProjectConfig,
) -> TestEngine {
    let mut clouds = BTreeMap::new();
    for env in ["dev", "prod"] {
        let account = LocalAccount {
            env: env.into(),
            region: "us-east-1".into(),
        };
        clouds.insert(
            env.to_string(),
            LocalCloud::open(&dir.join(format!("cloud-{env}.db")), account, clock.clone()).unwrap(),
        );
    }
    let store = SqliteStore::open(&dir.join("state.db")).unwrap();
    Engine::new(config, clouds, store, clock)
        .unwrap()
        .with_poll_policy(PollPolicy {
            max_polls: 20,
            max_retries: 3,
            sleep: Arc::new(|_| {}),
        })
}

pub fn agent() -> Actor {
    Actor::agent("test-agent", "test")
}

/// Who asks, as a surface would pass it.
pub fn caller() -> Caller {
    Caller::new("alice", "test")
}

/// A confirmation (a typed `yes`): approves in these advisory engines, as
/// `unverified`.
pub fn confirm() -> Proof {
    Proof::Confirmation {
        how: "typed yes in a test".into(),
    }
}

/// A made-up code: nothing in an advisory engine can check it, so it never
/// approves.
pub fn agent_code() -> Proof {
    Proof::Code {
        approver: None,
        code: "123456".into(),
    }
}

/// Approve `plan` with a confirmation when its gate asks for a person
/// (advisory), then apply it.
pub fn approve_and_apply(
    e: &TestEngine,
    plan: &infraguard_core::plan::Plan,
) -> infraguard_engine::ApplyOutcome {
    if let Some(a) = &plan.gate.approval_id {
        e.approve_with(a, &caller(), &confirm(), None).unwrap();
    }
    e.apply(&plan.id, &agent(), &mut noop()).unwrap()
}

pub fn noop() -> impl FnMut(&ProgressEvent) {
    |_| {}
}

/// The final event of an apply that ran; any other outcome fails the test.
pub fn applied(outcome: ApplyOutcome) -> ProgressEvent {
    match outcome {
        ApplyOutcome::Applied { event, .. } => event,
        other => panic!("expected applied, got {other:?}"),
    }
}

/// A create of an S3 bucket for `purpose`, by the agent.
pub fn bucket(env: &str, purpose: &str, props: Value) -> PlanRequest {
    PlanRequest::create(env, "AWS::S3::Bucket", Some(purpose), props, agent())
}

/// An update of `id` by a JSON Patch, by the agent.
pub fn update_request(env: &str, type_name: &str, id: &str, patch: Value) -> PlanRequest {
    PlanRequest {
        operation: Operation::Update,
        patch: Some(patch),
        ..delete_request(env, type_name, id)
    }
}

/// A delete of `id`, by the agent.
pub fn delete_request(env: &str, type_name: &str, id: &str) -> PlanRequest {
    PlanRequest {
        env: env.into(),
        operation: Operation::Delete,
        type_name: type_name.into(),
        purpose: None,
        properties: None,
        identifier: Some(id.into()),
        patch: None,
        usage: None,
        actor: agent(),
    }
}

/// Create a resource in `env` behind infraguard's back; its identifier.
pub fn seed(e: &TestEngine, env: &str, type_name: &str, props: Value) -> String {
    let t = ResourceType::new(type_name).unwrap();
    let event = e.cloud(env).unwrap().create(&t, &props, "seed").unwrap();
    event.identifier.unwrap()
}

/// Make `env`'s cloud misbehave from now on (`Faults::default()` stops it).
pub fn set_faults(e: &TestEngine, env: &str, faults: Faults) {
    e.cloud(env).unwrap().set_faults(&faults).unwrap();
}

/// Overwrite a stored plan's row behind the engine's back, as someone who
/// can write the database file could: `body` is the plan's new JSON, and
/// `status`, when given, the row's status column too.
pub fn tamper_plan(e: &TestEngine, plan_id: &str, status: Option<&str>, body: &str) {
    let status = status.map_or(String::new(), |s| format!("status = '{s}', "));
    e.store()
        .tamper_for_tests(&format!(
            "UPDATE plans SET {status}body = '{}' WHERE id = '{plan_id}'",
            body.replace('\'', "''"),
        ))
        .unwrap();
}

/// How many calls `env`'s cloud has answered.
pub fn calls(e: &TestEngine, env: &str) -> u64 {
    e.cloud(env).unwrap().calls()
}

/// Every audited action, oldest first.
pub fn actions(e: &TestEngine) -> Vec<String> {
    e.audit_log()
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect()
}

/// Whether `action` is in the audit log.
pub fn audited(e: &TestEngine, action: &str) -> bool {
    e.audit_log().unwrap().iter().any(|a| a.action == action)
}

/// A live resource's tags, read the way the engine reads them.
pub fn tags_of(e: &TestEngine, env: &str, t: &str, id: &str) -> BTreeMap<String, String> {
    let live = e.get_resource(env, t, id).unwrap();
    let style = &e.schema(t).unwrap().tagging;
    infraguard_engine::tags::read(&live.properties, style)
}
