//! Numbers for the foundation issue, measured as a user meets them:
//!
//! 1. wall time of `infraguard quickstart` (the real binary, 5 runs);
//! 2. plan + apply of 1,000 S3 buckets through the engine on the local cloud;
//! 3. `infraguard resources list` over 10,000 resources (the real binary).
//!
//! Run: `cargo bench -p infraguard-cli --bench workflow` (release build).
//! Plain `std::time`, medians printed; no assertions on time (shared 2-core
//! machines make timed assertions flaky).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::clock::SystemClock;
use infraguard_core::cloud::Cloud;
use infraguard_core::env::Backend;
use infraguard_core::resource::ResourceType;
use infraguard_engine::{Actor, ApplyOutcome, PlanRequest, PollPolicy, ProjectConfig, RawConfig};
use serde_json::json;

/// The integration tests' harness: the same projects and runs.
#[path = "../tests/it/harness.rs"]
mod harness;

use harness::{Project, local_engine, quickstart};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_quickstart() {
    let mut times = Vec::new();
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("qs");
        let start = Instant::now();
        let out = quickstart(&target);
        times.push(start.elapsed());
        assert!(
            out.status.success(),
            "quickstart failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!(
        "quickstart wall time: median {:?} over 5 runs (min {:?})",
        median(times.clone()),
        times.iter().min().unwrap()
    );
}

fn thousand_buckets() {
    let dir = tempfile::tempdir().unwrap();
    let raw = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local);
    let config = ProjectConfig::resolve(&raw, &BTreeMap::new()).unwrap();
    let engine = local_engine(config, dir.path()).with_poll_policy(PollPolicy {
        max_polls: 10,
        max_retries: 3,
        sleep: Arc::new(|_| {}),
    });
    let actor = Actor::agent("bench", "bench");
    let start = Instant::now();
    let mut plan_time = Duration::ZERO;
    for i in 0..1000 {
        let t = Instant::now();
        let plan = engine
            .plan(PlanRequest::create(
                "dev",
                "AWS::S3::Bucket",
                Some(&format!("bench {i}")),
                json!({}),
                actor.clone(),
            ))
            .unwrap();
        plan_time += t.elapsed();
        match engine.apply(&plan.id, &actor, &mut |_| {}).unwrap() {
            ApplyOutcome::Applied { .. } => {}
            other => panic!("bench bucket {i} not applied: {other:?}"),
        }
    }
    let total = start.elapsed();
    println!(
        "plan+apply 1,000 S3 buckets through the engine: {total:?} total, {:?} per bucket ({:?} of it planning)",
        total / 1000,
        plan_time / 1000
    );
}

fn list_ten_thousand() {
    let p = Project::new().named("Bench", "bench").build();
    {
        let account = LocalAccount {
            env: "dev".into(),
            region: "us-east-1".into(),
        };
        let cloud = LocalCloud::open(
            &p.path().join(".infraguard/cloud-dev.db"),
            account,
            Arc::new(SystemClock),
        )
        .unwrap();
        let t = ResourceType::new("AWS::S3::Bucket").unwrap();
        for i in 0..10_000 {
            cloud
                .create(
                    &t,
                    &json!({"BucketName": format!("bench-b{i:05}-dev")}),
                    &format!("bench-{i}"),
                )
                .unwrap();
        }
    }
    let buckets = [
        "resources",
        "list",
        "--env",
        "dev",
        "--type",
        "AWS::S3::Bucket",
    ];
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let v = p.json(&buckets);
        times.push(start.elapsed());
        assert_eq!(v.as_array().unwrap().len(), 10_000);
    }
    println!(
        "`infraguard resources list` over 10,000 buckets (JSON, whole process): median {:?} over 5 runs",
        median(times)
    );
    let start = Instant::now();
    p.json(&["resources", "list", "--env", "dev"]);
    println!(
        "`infraguard resources list` over every supported type (10,000 resources): {:?}",
        start.elapsed()
    );
}

fn main() {
    time_quickstart();
    thousand_buckets();
    list_ten_thousand();
}
