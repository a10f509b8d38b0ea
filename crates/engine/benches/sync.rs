//! Sync and drift over 10,000 resources per environment on the local cloud.
//!
//! Run with `cargo bench -p infraguard-engine --bench sync` (optionally
//! `-- N` for another size). Resources are created directly in two
//! in-memory `LocalCloud`s, bypassing plans (only the reads are measured):
//! per environment 40% S3 buckets, 30% SQS queues, 20% IAM roles and 10%
//! Lambda functions whose `Role` is a role's ARN. 90% of dev resources have a
//! prod counterpart (tag `ProdCounterpart`), 0.5% point at a prod resource
//! that does not exist (needs review), the rest are dev-only; prod gets
//! prod-only resources up to the same count, and 1% of the pairs differ
//! (drift). Prints the time and the number of cloud calls of each run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::clock::{Clock, SystemClock};
use infraguard_core::cloud::Cloud;
use infraguard_core::env::Backend;
use infraguard_core::resource::ResourceType;
use infraguard_engine::{Engine, ProjectConfig, RawConfig, SqliteStore};
use serde_json::{Value, json};

fn tags(env_tag: &str, extra: &[(&str, String)]) -> Value {
    let mut t = vec![
        json!({"Key": "Environment", "Value": env_tag}),
        json!({"Key": "Project", "Value": "SynthCore"}),
        json!({"Key": "MANAGED_BY", "Value": "infraguard"}),
    ];
    for (k, v) in extra {
        t.push(json!({"Key": k, "Value": v}));
    }
    Value::Array(t)
}

/// Properties of resource `i` of kind `kind` in `env`.
fn props(kind: usize, i: usize, env: &str, account: &str, extra: &[(&str, String)]) -> Value {
    let tag = if env == "dev" {
        "development"
    } else {
        "production"
    };
    let name = format!("synthcoreai-r{i}-{env}");
    match kind {
        0 => {
            json!({"BucketName": name, "VersioningConfiguration": {"Status": "Enabled"}, "Tags": tags(tag, extra)})
        }
        1 => json!({"QueueName": name, "VisibilityTimeout": 30, "Tags": tags(tag, extra)}),
        2 => {
            json!({"RoleName": name, "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}, "Tags": tags(tag, extra)})
        }
        _ => json!({
            "FunctionName": name,
            "Runtime": "python3.12",
            "Handler": "index.handler",
            "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"},
            // The role of the same index, shifted into the role range.
            "Role": format!("arn:aws:iam::{account}:role/synthcoreai-r{}-{env}", i - (i % 10) + 5),
            "Tags": tags(tag, extra)
        }),
    }
}

const TYPES: [&str; 4] = [
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::IAM::Role",
    "AWS::Lambda::Function",
];

/// Resource kind of index `i`: 40% buckets, 30% queues, 20% roles, 10%
/// functions (index ending in 9), with roles at indexes ending in 5 or 6.
fn kind(i: usize) -> usize {
    match i % 10 {
        0..=3 => 0,
        4 | 7 | 8 => 1,
        5 | 6 => 2,
        _ => 3,
    }
}

fn create(cloud: &LocalCloud, kind: usize, p: &Value, token: &str) -> String {
    let t = ResourceType::new(TYPES[kind]).expect("type");
    let ev = cloud.create(&t, p, token).expect("create");
    ev.identifier.expect("identifier")
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let raw = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local);
    let config = ProjectConfig::resolve(&raw, &BTreeMap::new()).expect("config");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let account = |env: &str| LocalAccount {
        env: env.into(),
        region: "us-east-1".into(),
    };
    let dev = LocalCloud::in_memory(account("dev"), clock.clone()).expect("dev cloud");
    let prod = LocalCloud::in_memory(account("prod"), clock.clone()).expect("prod cloud");
    let (dev_acct, prod_acct) = (dev.account_id().to_string(), prod.account_id().to_string());

    let setup = Instant::now();
    let synced = n * 9 / 10;
    let review = n / 200;
    let drift_every = 100; // 1% of the pairs
    for i in 0..n {
        let k = kind(i);
        let mut extra = Vec::new();
        if i < synced {
            let mut pp = props(
                k,
                i,
                "prod",
                &prod_acct,
                &[("DevCounterpart", format!("r{i}"))],
            );
            if i % drift_every == 0 && k == 0 {
                pp["VersioningConfiguration"]["Status"] = json!("Suspended");
            }
            let pid = create(&prod, k, &pp, &format!("p{i}"));
            extra.push(("PromotionStatus", "synced".to_string()));
            extra.push(("ProdCounterpart", pid));
        } else if i < synced + review {
            extra.push(("PromotionStatus", "synced".to_string()));
            extra.push(("ProdCounterpart", format!("synthcoreai-gone{i}-prod")));
        } else {
            extra.push(("PromotionStatus", "dev-only".to_string()));
        }
        create(
            &dev,
            k,
            &props(k, i, "dev", &dev_acct, &extra),
            &format!("d{i}"),
        );
    }
    // Prod-only resources bring prod to n as well.
    for i in synced..n {
        let k = kind(i);
        create(
            &prod,
            k,
            &props(k, n + i, "prod", &prod_acct, &[]),
            &format!("po{i}"),
        );
    }
    println!(
        "setup: {n} resources per environment created in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let mut clouds = BTreeMap::new();
    clouds.insert("dev".to_string(), dev);
    clouds.insert("prod".to_string(), prod);
    let store = SqliteStore::in_memory().expect("store");
    let engine = Engine::new(config, clouds, store, clock).expect("engine");
    let calls = |e: &Engine<LocalCloud, SqliteStore>| {
        e.cloud("dev").map(|c| c.calls()).unwrap_or(0)
            + e.cloud("prod").map(|c| c.calls()).unwrap_or(0)
    };

    let runs = 5;
    let mut sync_times = Vec::new();
    let mut drift_times = Vec::new();
    let (mut sync_calls, mut drift_calls) = (0, 0);
    for _ in 0..runs {
        let before = calls(&engine);
        let t = Instant::now();
        let report = engine.sync_status(None).expect("sync");
        sync_times.push(t.elapsed());
        sync_calls = calls(&engine) - before;
        assert_eq!(report.synced.len(), synced);
        assert_eq!(report.needs_review.len(), review);
        assert_eq!(report.dev_only.len(), n - synced - review);
        assert_eq!(report.prod_only.len(), n - synced);

        let before = calls(&engine);
        let t = Instant::now();
        let drift = engine.drift(None).expect("drift");
        drift_times.push(t.elapsed());
        drift_calls = calls(&engine) - before;
        assert_eq!(drift.pairs_checked, synced);
        let expected_drift = (0..synced)
            .filter(|i| i % drift_every == 0 && kind(*i) == 0)
            .count();
        assert_eq!(drift.drifted.len(), expected_drift);
    }
    // Preflight once: sync, drift and a security scan of every live prod
    // resource.
    let before = calls(&engine);
    let t = Instant::now();
    let preflight = engine.preflight("prod").expect("preflight");
    let preflight_time = t.elapsed();
    let preflight_calls = calls(&engine) - before;
    assert!(!preflight.ready, "dev-only resources wait");

    let stats = |v: &mut Vec<Duration>| {
        v.sort();
        (v[0], v[v.len() / 2], v[v.len() - 1])
    };
    let (smin, smed, smax) = stats(&mut sync_times);
    let (dmin, dmed, dmax) = stats(&mut drift_times);
    println!(
        "sync  ({} types, {n}+{n} resources): min {:.0} ms, median {:.0} ms, max {:.0} ms; {sync_calls} cloud calls per run",
        infraguard_schema::Catalog::builtin().types().len(),
        smin.as_secs_f64() * 1e3,
        smed.as_secs_f64() * 1e3,
        smax.as_secs_f64() * 1e3
    );
    println!(
        "drift ({synced} pairs): min {:.0} ms, median {:.0} ms, max {:.0} ms; {drift_calls} cloud calls per run",
        dmin.as_secs_f64() * 1e3,
        dmed.as_secs_f64() * 1e3,
        dmax.as_secs_f64() * 1e3
    );
    println!(
        "preflight prod (one run, scans {n} live prod resources): {:.0} ms; {preflight_calls} cloud calls",
        preflight_time.as_secs_f64() * 1e3
    );
}
