//! Times a full paged `list` over 10,000 buckets in a file-backed local
//! cloud (`cargo bench -p infraguard-cloud-local --bench list`).
//!
//! Plain `std::time`, no harness: it prints the time to create the
//! buckets, the time of each full listing (several rounds, so a cold and a
//! warm cache both show), the slowest page, and `get` latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::{Cloud, OperationStatus, ResourceType, SystemClock};
use serde_json::json;

const BUCKETS: usize = 10_000;
const ROUNDS: usize = 5;

fn main() {
    if let Err(e) = run() {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let account = LocalAccount {
        env: "bench".into(),
        region: "us-east-1".into(),
    };
    let cloud = LocalCloud::open(&path, account, Arc::new(SystemClock))?;
    let t = ResourceType::new("AWS::S3::Bucket")?;

    let start = Instant::now();
    for i in 0..BUCKETS {
        let props = json!({
            "BucketName": format!("bench-{i:05}"),
            "VersioningConfiguration": {"Status": "Enabled"},
            "Tags": [{"Key": "Environment", "Value": "bench"}],
        });
        let ev = cloud.create(&t, &props, &format!("bench-create-{i}"))?;
        if ev.operation_status != OperationStatus::Success {
            return Err(format!(
                "create {i} ended {:?}: {:?}",
                ev.operation_status, ev.status_message
            )
            .into());
        }
    }
    let created = start.elapsed();
    println!(
        "create {BUCKETS} buckets: {:.2?} total, {:.1} µs per create",
        created,
        created.as_secs_f64() * 1e6 / BUCKETS as f64
    );

    for round in 1..=ROUNDS {
        let start = Instant::now();
        let mut next: Option<String> = None;
        let mut seen = 0usize;
        let mut pages = 0usize;
        let mut slowest = Duration::ZERO;
        let mut slowest_at = 0usize;
        loop {
            let page_start = Instant::now();
            let page = cloud.list(&t, next.as_deref(), None)?;
            let took = page_start.elapsed();
            if took > slowest {
                slowest = took;
                slowest_at = pages + 1;
            }
            pages += 1;
            seen += page.resources.len();
            next = page.next_token;
            if next.is_none() {
                break;
            }
        }
        let total = start.elapsed();
        if seen != BUCKETS {
            return Err(format!("listed {seen} buckets, expected {BUCKETS}").into());
        }
        println!(
            "list round {round}: {seen} buckets in {pages} pages, {:.2?} total, {:.2?} per page, slowest page {:.2?} (page {slowest_at})",
            total,
            total / pages as u32,
            slowest
        );
    }

    let start = Instant::now();
    for i in (0..BUCKETS).step_by(10) {
        cloud.get(&t, &format!("bench-{i:05}"))?;
    }
    let gets = BUCKETS / 10;
    println!(
        "get: {gets} lookups, {:.1} µs each",
        start.elapsed().as_secs_f64() * 1e6 / gets as f64
    );
    println!(
        "database file: {} bytes (+WAL)",
        std::fs::metadata(&path)?.len()
    );
    Ok(())
}
