//! The shared state against this checkout's: plan + apply latency, and
//! `audit verify` of 10,000 entries, on SQLite and on DynamoDB in moto.
//!
//! Run with `MOTO_SERVER_BIN=.venv/bin/moto_server cargo bench -p
//! infraguard-store-dynamodb --bench state` (optionally `-- PLANS ENTRIES`).
//! The engine is the real one over the local cloud in memory, so the
//! difference between the two columns is the store. moto is a Python
//! emulator on loopback: its latency is not DynamoDB's (a real table adds
//! the network round trips to its region, typically a few ms each), but
//! the number of round trips per operation is the same.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use infraguard_cloud_aws::emulator::{free_port, required_program, start_process};
use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::clock::{Clock, SystemClock};
use infraguard_core::env::Backend;
use infraguard_core::store::Store;
use infraguard_engine::store_conformance::record;
use infraguard_engine::{Actor, Engine, PlanRequest, ProjectConfig, RawConfig, SqliteStore};
use infraguard_store_dynamodb::{DynamoConfig, DynamoStore};
use serde_json::json;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Median plan and apply time of `n` dev buckets, and the time of
/// `audit verify` after `entries` more audit entries.
fn measure<S: Store>(store: S, n: usize, entries: usize) -> (Duration, Duration, Duration, usize) {
    let raw = RawConfig::new_project("Bench", "bench", Backend::Local);
    let config = ProjectConfig::resolve(&raw, &BTreeMap::new()).expect("config");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut clouds = BTreeMap::new();
    for env in ["dev", "prod"] {
        let account = LocalAccount {
            env: env.into(),
            region: "us-east-1".into(),
        };
        clouds.insert(
            env.to_string(),
            LocalCloud::in_memory(account, clock.clone()).expect("cloud"),
        );
    }
    let engine = Engine::new(config, clouds, store, clock).expect("engine");
    let actor = Actor::agent("bench", "bench");
    let (mut plans, mut applies) = (Vec::new(), Vec::new());
    for i in 0..n {
        let req = PlanRequest::create(
            "dev",
            "AWS::S3::Bucket",
            None,
            json!({"BucketName": format!("bench-b{i}-dev")}),
            actor.clone(),
        );
        let t = Instant::now();
        let plan = engine.plan(req).expect("plan");
        plans.push(t.elapsed());
        let t = Instant::now();
        engine.apply(&plan.id, &actor, &mut |_| {}).expect("apply");
        applies.push(t.elapsed());
    }
    // The log grows to `entries` in appends of ten (an apply writes a few).
    let have = engine.audit_log().expect("log").len();
    let batch: Vec<_> = (0..10).map(|i| record(&format!("bench {i}"))).collect();
    for _ in 0..entries.saturating_sub(have).div_ceil(10) {
        engine.store().append_audit(&batch).expect("append");
    }
    let t = Instant::now();
    let v = engine.audit_verify().expect("verify");
    let verify = t.elapsed();
    assert!(v.ok, "{:?}", v.problems);
    (median(plans), median(applies), verify, v.entries)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(20);
    let entries = args.get(1).copied().unwrap_or(10_000);
    let Some(program) = required_program(
        "bench state",
        "MOTO_SERVER_BIN",
        "moto_server",
        "pip install 'moto[server]==5.2.5' (scripts/test.sh does)",
    ) else {
        return;
    };
    let port = free_port();
    let moto_args = [
        "-H".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
    ];
    let moto = start_process(&program, &moto_args, port, "/moto-api/").expect("moto");

    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("state.db")).expect("sqlite");
    let s = measure(sqlite, n, entries);
    let cfg = DynamoConfig {
        table: "bench-state".into(),
        region: "us-east-1".into(),
        profile: None,
        endpoint_url: Some(moto.url.clone()),
        credentials: Some(("testing".into(), "testing".into())),
    };
    let (dynamo, _) = DynamoStore::init(&cfg).expect("init");
    let d = measure(dynamo, n, entries);
    println!("{n} plans and applies of a dev bucket (median), then audit verify:");
    println!("{:<28} {:>12} {:>18}", "", "SQLite", "DynamoDB (moto)");
    println!("{:<28} {:>12} {:>18}", "plan", ms(s.0), ms(d.0));
    println!("{:<28} {:>12} {:>18}", "apply", ms(s.1), ms(d.1));
    println!(
        "{:<28} {:>12} {:>18}",
        format!("audit verify ({} entries)", s.3),
        ms(s.2),
        ms(d.2)
    );
    assert_eq!(s.3, d.3, "both logs hold the same number of entries");
}
