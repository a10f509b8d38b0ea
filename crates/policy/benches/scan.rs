//! Time parsing and scanning in-process, per fixture template.
//!
//! Run: `cargo bench -p infraguard-policy --bench scan`. Prints the cost of
//! the first scan (which loads the embedded IAM action list) and the median
//! of several rounds per corpus file. Whole-process timings against Checkov
//! come from `scripts/compare-checkov.py --bench N`. Plain `std::time`, no
//! harness: the numbers are for the report, not a CI gate.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use infraguard_policy::{ScanOptions, parse_template, scan};

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
}
