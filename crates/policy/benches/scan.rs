//! Time parsing and scanning in-process, per fixture template, and the
//! scan and reports of large generated templates.
//!
//! Run: `cargo bench -p infraguard-policy --bench scan`. Prints the cost of
//! the first scan (which loads the embedded IAM action list), the median
//! of several rounds per corpus file, then parse, scan, table, JSON and SARIF
//! (with source lines) for templates of 1,000 and 10,000 S3 buckets that each
//! have findings, in JSON and YAML. `IG_BENCH_BUCKETS=100,1000` picks other
//! sizes. Whole-process timings against Checkov come from
//! `scripts/compare-checkov.py --bench N`. Plain `std::time`, no harness: the
//! numbers are for the report, not a CI gate.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use infraguard_policy::{ScanOptions, parse_template, report, scan};

const ROUNDS: usize = 9;
const PER_ROUND: u32 = 50;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("json" | "yaml")
            )
        })
        .collect();
    files.sort();
    let options = ScanOptions {
        today: "2026-11-26".into(),
        ..Default::default()
    };

    let texts: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, std::fs::read_to_string(p).unwrap_or_default())
        })
        .collect();

    // First scan of the IAM fixture pays for loading the embedded data.
    if let Some((_, iam)) = texts.iter().find(|(n, _)| n == "iam.json") {
        let start = Instant::now();
        let t = parse_template(iam).expect("iam fixture parses");
        black_box(scan(&t, &options));
        println!(
            "first scan of iam.json (loads embedded IAM data): {:?}",
            start.elapsed()
        );
    }

    println!(
        "{:<26} {:>9} {:>12} {:>12}",
        "template", "resources", "parse", "parse+scan"
    );
    let mut total = Duration::ZERO;
    for (name, text) in &texts {
        let t = parse_template(text).expect("fixture parses");
        let resources = t.resources().len();
        let mut parse = Vec::new();
        let mut both = Vec::new();
        for _ in 0..ROUNDS {
            let start = Instant::now();
            for _ in 0..PER_ROUND {
                black_box(parse_template(black_box(text)).ok());
            }
            parse.push(start.elapsed() / PER_ROUND);
            let start = Instant::now();
            for _ in 0..PER_ROUND {
                let t = parse_template(black_box(text)).expect("parses");
                black_box(scan(&t, &options));
            }
            both.push(start.elapsed() / PER_ROUND);
        }
        let (p, b) = (median(parse), median(both));
        total += b;
        println!("{name:<26} {resources:>9} {p:>12.2?} {b:>12.2?}");
    }
    println!(
        "whole corpus ({} files), parse+scan: {total:.2?}",
        texts.len()
    );

    large_templates(&options);
}

/// `n` buckets, each public, unencrypted and without logging, versioning or
/// a `DeletionPolicy`: several findings per resource, some on properties
/// that are written out (SARIF looks their lines up) and some on ones that
/// are missing.
fn buckets_json(n: usize) -> String {
    let mut resources = serde_json::Map::new();
    for i in 0..n {
        resources.insert(
            format!("Bucket{i:05}"),
            serde_json::json!({
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": format!("synthcoreai-data{i}-dev"),
                    "AccessControl": "PublicRead",
                    "Tags": [{"Key": "Environment", "Value": "dev"}]
                }
            }),
        );
    }
    let template = serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": resources,
    });
    serde_json::to_string_pretty(&template).expect("serialises")
}

fn buckets_yaml(n: usize) -> String {
    let mut s = String::from("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n");
    for i in 0..n {
        let _ = write!(
            s,
            "  Bucket{i:05}:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: synthcoreai-data{i}-dev\n      AccessControl: PublicRead\n      Tags:\n        - Key: Environment\n          Value: dev\n"
        );
    }
    s
}

/// CPU time of this thread so far (Linux: `/proc/thread-self/schedstat`,
/// nanoseconds on CPU). On a shared machine wall time mostly measures the
/// other processes; CPU time measures this code.
fn cpu_now() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// The result, and the CPU time it took (wall time where CPU time cannot be
/// read).
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let (start, cpu) = (Instant::now(), cpu_now());
    let out = f();
    let took = match (cpu, cpu_now()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => start.elapsed(),
    };
    (out, took)
}

fn large_templates(options: &ScanOptions) {
    let sizes: Vec<usize> = std::env::var("IG_BENCH_BUCKETS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000]);
    println!(
        "\n{} time per step, built-in rules, reports rendered to strings:",
        if cpu_now().is_some() { "CPU" } else { "wall" }
    );
    println!(
        "{:<18} {:>8} {:>5} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "generated", "findings", "MB", "parse", "scan", "table", "json", "sarif", "total"
    );
    for n in sizes {
        for (format, text) in [("json", buckets_json(n)), ("yaml", buckets_yaml(n))] {
            let (template, parse) = timed(|| parse_template(&text).expect("parses"));
            let (report, scan_time) = timed(|| scan(&template, options));
            let (_, table) = timed(|| black_box(report::table(&report)));
            let (_, json) = timed(|| {
                black_box(serde_json::to_string_pretty(&report::json(&report)).expect("json"))
            });
            // As `infraguard scan --format sarif` prints it.
            let (_, sarif) = timed(|| {
                let input = report::SarifInput {
                    report: &report,
                    artifact_uri: "buckets.json",
                    source: Some(&text),
                };
                black_box(
                    serde_json::to_string_pretty(&report::sarif_log(&[input])).expect("sarif"),
                )
            });
            let total = parse + scan_time + table + json + sarif;
            println!(
                "{:<18} {:>8} {:>5.1} {parse:>10.2?} {scan_time:>10.2?} {table:>10.2?} {json:>10.2?} {sarif:>10.2?} {total:>10.2?}",
                format!("{n} buckets {format}"),
                report.findings.len(),
                text.len() as f64 / 1e6,
            );
        }
    }
}
