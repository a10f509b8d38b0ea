//! Time `estimate()` per resource over a mix of types.
//!
//! Run: `cargo bench -p infraguard-cost --bench estimate`. Prints the median
//! of several rounds per type, then the mean over the whole mix. Plain
//! `std::time`, no harness: the numbers are for the report, not a CI gate.

use std::hint::black_box;
use std::time::Instant;

use infraguard_core::ResourceType;
use infraguard_cost::{Usage, estimate, parse_usage_arg};
use serde_json::{Value, json};

const ROUNDS: usize = 7;
const PER_ROUND: u32 = 20_000;

fn mix() -> Vec<(&'static str, &'static str, Value, &'static str)> {
    vec![
        (
            "S3 bucket, versioned",
            "AWS::S3::Bucket",
            json!({"BucketName": "synthcoreai-documents-dev", "VersioningConfiguration": {"Status": "Enabled"}}),
            "",
        ),
        (
            "RDS postgres db.t3.micro 20 GB",
            "AWS::RDS::DBInstance",
            json!({"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20", "StorageType": "gp3"}),
            "",
        ),
        (
            "RDS unknown class",
            "AWS::RDS::DBInstance",
            json!({"Engine": "postgres", "DBInstanceClass": "db.x2iedn.32xlarge", "AllocatedStorage": "20"}),
            "",
        ),
        (
            "Lambda arm64 512 MB",
            "AWS::Lambda::Function",
            json!({"MemorySize": 512, "Architectures": ["arm64"]}),
            "monthly_requests=1000000,average_duration_ms=200",
        ),
        (
            "DynamoDB on-demand",
            "AWS::DynamoDB::Table",
            json!({"BillingMode": "PAY_PER_REQUEST"}),
            "",
        ),
        (
            "Cognito Lite 150k MAU",
            "AWS::Cognito::UserPool",
            json!({"UserPoolTier": "LITE"}),
            "monthly_active_users=150000",
        ),
        (
            "SES identity",
            "AWS::SES::EmailIdentity",
            json!({"EmailIdentity": "synthcore.ai"}),
            "",
        ),
        (
            "SQS FIFO",
            "AWS::SQS::Queue",
            json!({"FifoQueue": true}),
            "",
        ),
        (
            "KMS key",
            "AWS::KMS::Key",
            json!({"EnableKeyRotation": true}),
            "",
        ),
        (
            "Log group",
            "AWS::Logs::LogGroup",
            json!({"RetentionInDays": 30}),
            "",
        ),
        (
            "IAM role (free)",
            "AWS::IAM::Role",
            json!({"RoleName": "app"}),
            "",
        ),
        (
            "CloudWatch alarm",
            "AWS::CloudWatch::Alarm",
            json!({"Period": 21600}),
            "",
        ),
    ]
}

fn main() {
    let cases: Vec<(&str, ResourceType, Value, Usage)> = mix()
        .into_iter()
        .filter_map(|(label, ty, props, usage)| {
            let ty = ResourceType::new(ty).ok()?;
            let usage = parse_usage_arg(usage).ok()?;
            Some((label, ty, props, usage))
        })
        .collect();
    // One warm-up pass also checks that every case estimates without error.
    for (_, ty, props, usage) in &cases {
        if let Err(e) = estimate(ty, props, "us-east-1", usage) {
            eprintln!("{ty}: {e}");
            std::process::exit(1);
        }
    }

    println!("estimate() per resource, median of {ROUNDS} rounds × {PER_ROUND} calls");
    let mut all_ns = 0.0;
    for (label, ty, props, usage) in &cases {
        let mut rounds: Vec<f64> = (0..ROUNDS)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..PER_ROUND {
                    let e = estimate(
                        black_box(ty),
                        black_box(props),
                        "us-east-1",
                        black_box(usage),
                    );
                    black_box(e.ok());
                }
                start.elapsed().as_nanos() as f64 / f64::from(PER_ROUND)
            })
            .collect();
        rounds.sort_by(f64::total_cmp);
        let median = rounds[ROUNDS / 2];
        all_ns += median;
        println!("  {label:<32} {:>8.0} ns", median);
    }
    let mean = all_ns / cases.len() as f64;
    println!(
        "mean over the mix: {:.0} ns ({:.2} µs) per estimate",
        mean,
        mean / 1000.0
    );
}
