//! Per-operation latency of the AWS backend (create, get, list page,
//! update, delete) against the local cloud's wire endpoint and, when it is
//! installed, fakecloud (winterbaume always); and how many calls a sync of 1,000 resources makes
//! (one `ListResources` page per call).
//!
//! Run: `cargo bench -p infraguard-cloud-aws --bench latency`
//! (`FAKECLOUD_BIN=/path/to/fakecloud` or `fakecloud` on PATH adds the
//! fakecloud rows; `LATENCY_ROUNDS` changes the sample count, default 100).

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{Stub, Winterbaume, Wire, free_port, prefix, sts_identity_reply};
use infraguard_cloud_aws::{AwsCloud, ConnectOptions};
use infraguard_core::{Cloud, OperationStatus, ProgressEvent, ResourceType};
use serde_json::json;

fn bucket() -> ResourceType {
    ResourceType::new("AWS::S3::Bucket").expect("type")
}

/// Poll until terminal; the emulators here finish at once or within a few polls.
fn finish(cloud: &AwsCloud, ev: ProgressEvent) -> ProgressEvent {
    let mut ev = ev;
    for _ in 0..50 {
        if ev.operation_status.is_terminal() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        ev = cloud.request_status(&ev.request_token).expect("status");
    }
    assert_eq!(ev.operation_status, OperationStatus::Success, "{ev:?}");
    ev
}

struct Samples(Vec<Duration>);

impl Samples {
    fn summary(&mut self) -> String {
        self.0.sort();
        let at = |q: f64| self.0[((self.0.len() as f64 - 1.0) * q).round() as usize];
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "median {:7.3} ms  p95 {:7.3} ms  (n={})",
            ms(at(0.5)),
            ms(at(0.95)),
            self.0.len()
        )
    }
}

fn time<T>(samples: &mut Samples, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    samples.0.push(start.elapsed());
    out
}

/// Create/get/list/update/delete `rounds` buckets, one at a time, and
/// print the latency of each operation (mutations include polls to the end).
fn latency(label: &str, cloud: &AwsCloud, rounds: usize) {
    let t = bucket();
    let p = prefix("lat");
    let mut create = Samples(Vec::new());
    let mut get = Samples(Vec::new());
    let mut list = Samples(Vec::new());
    let mut update = Samples(Vec::new());
    let mut delete = Samples(Vec::new());
    for i in 0..rounds {
        let name = format!("{p}-{i}");
        let ev = time(&mut create, || {
            finish(
                cloud,
                cloud
                    .create(&t, &json!({"BucketName": name}), &format!("{p}-c{i}"))
                    .expect("create"),
            )
        });
        let id = ev.identifier.expect("identifier");
        time(&mut get, || cloud.get(&t, &id).expect("get"));
        time(&mut list, || cloud.list(&t, None, None).expect("list"));
        let patch = json!([{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}}]);
        time(&mut update, || {
            finish(
                cloud,
                cloud
                    .update(&t, &id, &patch, &format!("{p}-u{i}"))
                    .expect("update"),
            )
        });
        time(&mut delete, || {
            finish(
                cloud,
                cloud.delete(&t, &id, &format!("{p}-d{i}")).expect("delete"),
            )
        });
    }
    println!("{label}");
    println!("  create    {}", create.summary());
    println!("  get       {}", get.summary());
    println!("  list page {}", list.summary());
    println!("  update    {}", update.summary());
    println!("  delete    {}", delete.summary());
}

/// List every bucket page by page, as a sync does; the number of calls.
fn sync_calls(cloud: &AwsCloud) -> (u64, usize, Duration) {
    let before = cloud.calls();
    let start = Instant::now();
    let mut seen = 0;
    let mut next: Option<String> = None;
    loop {
        let page = cloud.list(&bucket(), next.as_deref(), None).expect("list");
        seen += page.resources.len();
        next = page.next_token;
        if next.is_none() {
            break;
        }
    }
    (cloud.calls() - before, seen, start.elapsed())
}

fn main() {
    let rounds: usize = std::env::var("LATENCY_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);

    // The local cloud on its wire endpoint.
    let wire = Wire::start("us-east-1");
    let account = wire.cloud.account_id().to_string();
    let sts = Stub::start(move |_| sts_identity_reply(&account));
    let mut opts = ConnectOptions::for_emulator("bench", "us-east-1", &wire.url());
    opts.service_endpoints.insert("sts".into(), sts.url());
    let cloud = AwsCloud::connect_with(opts).expect("connect");
    latency(
        "AwsCloud -> local wire endpoint (127.0.0.1)",
        &cloud,
        rounds,
    );
    // 1,000 buckets made directly in the local cloud (not through the wire:
    // this part measures the sync's calls, not creates).
    let p = prefix("sync");
    for i in 0..1000 {
        wire.cloud
            .create(
                &bucket(),
                &json!({"BucketName": format!("{p}-{i:04}")}),
                &format!("{p}-{i}"),
            )
            .expect("seed");
    }
    let (calls, seen, took) = sync_calls(&cloud);
    println!(
        "  sync of {seen} buckets: {calls} ListResources calls, {:.1} ms",
        took.as_secs_f64() * 1000.0
    );

    // winterbaume's Cloud Control emulator, served on loopback by the harness.
    {
        let wb = Winterbaume::start();
        let sts = Stub::start(|_| sts_identity_reply(Winterbaume::ACCOUNT));
        let mut opts = ConnectOptions::for_emulator("bench", "us-east-1", &wb.url());
        opts.service_endpoints.insert("sts".into(), sts.url());
        let cloud = AwsCloud::connect_with(opts).expect("connect");
        latency(
            "AwsCloud -> winterbaume-cloudcontrol 1.1.0 (127.0.0.1)",
            &cloud,
            rounds,
        );
    }

    match harness::find_program("FAKECLOUD_BIN", "fakecloud") {
        None => {
            println!("fakecloud: not installed (FAKECLOUD_BIN unset, not on PATH); rows skipped")
        }
        Some(program) => {
            let port = free_port();
            let args = [
                "--addr".to_string(),
                format!("127.0.0.1:{port}"),
                "--log-level".into(),
                "warn".into(),
            ];
            let fc = harness::start_process(&program, &args, port, "/_fakecloud/health")
                .expect("fakecloud");
            let cloud =
                AwsCloud::connect_with(ConnectOptions::for_emulator("bench", "us-east-1", &fc.url))
                    .expect("connect");
            latency("AwsCloud -> fakecloud 0.51.0 (127.0.0.1)", &cloud, rounds);
            let p = prefix("fsync");
            for i in 0..1000 {
                finish(
                    &cloud,
                    cloud
                        .create(
                            &bucket(),
                            &json!({"BucketName": format!("{p}-{i:04}")}),
                            &format!("{p}-{i}"),
                        )
                        .expect("seed"),
                );
            }
            let (calls, seen, took) = sync_calls(&cloud);
            println!(
                "  sync of {seen} buckets: {calls} ListResources calls, {:.1} ms",
                took.as_secs_f64() * 1000.0
            );
        }
    }
}
