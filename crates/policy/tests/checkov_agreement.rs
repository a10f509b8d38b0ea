//! When Checkov is installed (on `PATH`), run it on every fixture and check
//! that each verdict that differs from infraguard's, for a Checkov id
//! infraguard implements, is one the fixture explains in its
//! `Metadata.infraguard-test.checkov` note. Without Checkov the test says so
//! and passes: the scanner never needs it.
//!
//! Run it with Checkov: `PATH=/path/to/venv/bin:$PATH cargo test -p
//! infraguard-policy --test checkov_agreement -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use infraguard_policy::checkov::checkov_path;
use infraguard_policy::{ScanOptions, parse_template, rules, run_checkov, scan};
use serde_json::Value;

#[test]
fn every_disagreement_with_checkov_is_explained() {
    if checkov_path().is_none() {
        eprintln!("checkov is not on PATH: comparison skipped");
        return;
    }
    let catalogue = rules();
    let ours_ids: BTreeSet<&str> = catalogue.iter().filter_map(|r| r.checkov_id).collect();
    // Per Checkov id, over the resources of the types it applies to:
    // (compared, identical, failed by both).
    let mut per_check: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("json" | "yaml")
            )
        })
        .collect();
    files.sort();
    let mut unexplained = Vec::new();
    let (mut compared, mut agreed) = (0usize, 0usize);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let t = parse_template(&text).unwrap();
        let opts = ScanOptions {
            today: "2026-11-26".into(),
            ..Default::default()
        };
        let report = scan(&t, &opts);
        let theirs = run_checkov(&file).unwrap();
        for res in t.resources() {
            let note = res
                .entry
                .pointer("/Metadata/infraguard-test/checkov")
                .and_then(Value::as_str)
                .unwrap_or("");
            for id in &ours_ids {
                // A Checkov skip comment suppresses in both tools.
                let mine = report.findings.iter().any(|f| {
                    f.resource == res.logical_id
                        && f.checkov_id.as_deref() == Some(*id)
                        && f.suppressed
                            .as_ref()
                            .is_none_or(|s| s.source != "checkov-skip")
                });
                let ck = theirs
                    .iter()
                    .any(|f| f.resource == res.logical_id && f.rule == *id);
                compared += 1;
                let applies = catalogue.iter().any(|r| {
                    r.checkov_id == Some(*id)
                        && r.resource_types
                            .iter()
                            .any(|t| *t == "*" || *t == res.type_name)
                });
                if applies {
                    let tally = per_check.entry(*id).or_default();
                    tally.0 += 1;
                    tally.1 += usize::from(mine == ck);
                    tally.2 += usize::from(mine && ck);
                }
                if mine == ck {
                    agreed += 1;
                } else if !note.contains(id) {
                    unexplained.push(format!(
                        "{} {} {id}: checkov {} / infraguard {}",
                        file.file_name().unwrap().to_string_lossy(),
                        res.logical_id,
                        if ck { "fails" } else { "passes" },
                        if mine { "fails" } else { "passes" }
                    ));
                }
            }
        }
    }
    eprintln!("verdicts compared: {compared}, identical: {agreed}");
    eprintln!("per check (resources of its types): compared / identical / both fail");
    for (id, (n, same, both)) in &per_check {
        eprintln!("  {id:<12} {n:>4} {same:>4} {both:>4}");
    }
    assert!(
        unexplained.is_empty(),
        "unexplained disagreements:\n{}",
        unexplained.join("\n")
    );
}
