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

/// The engine over `store` and the local cloud in memory.
fn engine<S: Store>(store: S) -> Engine<LocalCloud, S> {
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
    Engine::new(config, clouds, store, clock).expect("engine")
}

/// Median plan and apply time of `n` dev buckets.
fn plan_and_apply<S: Store>(engine: &Engine<LocalCloud, S>, n: usize) -> (Duration, Duration) {
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
    (median(plans), median(applies))
}

/// What `audit verify` does, timed: read the whole log, check every link.
fn verify(store: &dyn Store) -> (Duration, usize) {
    let t = Instant::now();
    let log = store.audit_log().expect("log");
    let v = infraguard_engine::audit::verify(&store.audit_key(), &log);
    let took = t.elapsed();
    assert!(v.ok, "{:?}", v.problems);
    (took, v.entries)
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
    // moto under one lock (tests/aws/moto_serial.py says why).
    let port = free_port();
    let moto_args = [
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/aws/moto_serial.py"
        )
        .to_string(),
        "-H".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
    ];
    let moto = start_process(
        &program.with_file_name("python"),
        &moto_args,
        port,
        "/moto-api/",
    )
    .expect("moto");
    let cfg = |table: &str| DynamoConfig {
        table: table.into(),
        region: "us-east-1".into(),
        profile: None,
        endpoint_url: Some(moto.url.clone()),
        credentials: Some(("testing".into(), "testing".into())),
    };

    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = engine(SqliteStore::open(&dir.path().join("state.db")).expect("sqlite"));
    let s = plan_and_apply(&sqlite, n);
    let (dynamo_store, _) = DynamoStore::init(&cfg("bench-state")).expect("init");
    let dynamo = engine(dynamo_store);
    let d = plan_and_apply(&dynamo, n);

    // The SQLite log grows to `entries` in appends of ten; the DynamoDB one
    // is that log moved by `state migrate` (moto copies the whole table in
    // every transaction, so appending 10,000 entries one by one there
    // measures moto, not the store).
    let have = sqlite.audit_log().expect("log").len();
    let batch: Vec<_> = (0..10).map(|i| record(&format!("bench {i}"))).collect();
    for _ in 0..entries.saturating_sub(have).div_ceil(10) {
        sqlite.store().append_audit(&batch).expect("append");
    }
    let sv = verify(sqlite.store());
    DynamoStore::init(&cfg("bench-audit")).expect("init");
    let t = Instant::now();
    let (moved, report) =
        DynamoStore::migrate(&cfg("bench-audit"), sqlite.store(), &["dev".into()])
            .expect("migrate");
    let migrate = t.elapsed();
    assert!(report.audit_ok, "{report:?}");
    let dv = verify(&moved);

    println!("{n} plans and applies of a dev bucket (median), then audit verify:");
    println!("{:<32} {:>12} {:>18}", "", "SQLite", "DynamoDB (moto)");
    println!("{:<32} {:>12} {:>18}", "plan", ms(s.0), ms(d.0));
    println!("{:<32} {:>12} {:>18}", "apply", ms(s.1), ms(d.1));
    println!(
        "{:<32} {:>12} {:>18}",
        format!("audit verify ({} entries)", sv.1),
        ms(sv.0),
        ms(dv.0)
    );
    println!(
        "{:<32} {:>12} {:>18}",
        "state migrate of that log",
        "-",
        ms(migrate)
    );
    assert_eq!(sv.1, dv.1, "both logs hold the same number of entries");
}
