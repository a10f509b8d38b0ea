//! Runs every rule over the corpus in `tests/fixtures/` and checks each
//! resource's findings against the expectations written by hand in its
//! `Metadata.infraguard-test.expect` (see `tests/fixtures/make_fixtures.py`):
//! exactly those rule ids at exactly those paths, suppressed ones marked `~`
//! and undetermined ones `?`. Also checks that every rule has at least one
//! failing and one passing resource, and that `--fix` style fixing leaves
//! the fixed rules clean.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use infraguard_policy::{
    NamingContext, ScanOptions, ScanReport, Template, apply_fixes, parse_template, rules, scan,
};
use serde_json::Value;

const TODAY: &str = "2026-11-26";

fn fixtures() -> Vec<(String, Template)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "json" | "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let t = parse_template(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push((path.file_name().unwrap().to_string_lossy().into_owned(), t));
    }
    assert!(out.len() >= 7, "fixtures missing");
    out
}

fn options(t: &Template) -> ScanOptions {
    let naming =
        t.0.pointer("/Metadata/infraguard-test/naming")
            .map(|n| NamingContext {
                prefix: n["prefix"].as_str().unwrap().into(),
                env: n["env"].as_str().unwrap().into(),
                iam_prefix: n["iam_prefix"].as_str().unwrap().into(),
            });
    let accounts = t.0.pointer("/Metadata/infraguard-test/accounts").map(|a| {
        infraguard_policy::AccountContext {
            own: a["own"].as_str().unwrap().into(),
            shared: a["shared"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().into())
                .collect(),
        }
    });
    ScanOptions {
        today: TODAY.into(),
        naming,
        suppressions: Vec::new(),
        accounts,
    }
}

/// What the scan said about each resource, in the expectation syntax.
fn observed(report: &ScanReport) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &report.findings {
        let mark = if f.suppressed.is_some() { "~" } else { "" };
        m.entry(f.resource.clone())
            .or_default()
            .insert(format!("{mark}{} {}", f.rule, f.path));
    }
    for u in &report.undetermined {
        m.entry(u.resource.clone())
            .or_default()
            .insert(format!("?{} {}", u.rule, u.path));
    }
    m
}

#[test]
fn every_resource_gets_exactly_its_expected_findings() {
    let mut failures = Vec::new();
    for (file, t) in fixtures() {
        let report = scan(&t, &options(&t));
        let seen = observed(&report);
        for res in t.resources() {
            let expected: BTreeSet<String> = res
                .entry
                .pointer("/Metadata/infraguard-test/expect")
                .and_then(Value::as_array)
                .unwrap_or_else(|| panic!("{file}: {} has no expectations", res.logical_id))
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            let got = seen.get(res.logical_id).cloned().unwrap_or_default();
            if got != expected {
                failures.push(format!(
                    "{file} {}:\n  missing: {:?}\n  unexpected: {:?}",
                    res.logical_id,
                    expected.difference(&got).collect::<Vec<_>>(),
                    got.difference(&expected).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_failing_and_a_passing_resource() {
    let mut failing: BTreeSet<String> = BTreeSet::new();
    // Per rule, whether some resource of a type it applies to has no result
    // of that rule at all.
    let mut passing: BTreeSet<String> = BTreeSet::new();
    let catalogue = rules();
    for (_, t) in fixtures() {
        let report = scan(&t, &options(&t));
        for f in report.findings.iter().filter(|f| f.suppressed.is_none()) {
            failing.insert(f.rule.clone());
        }
        for res in t.resources() {
            for r in &catalogue {
                let applies = r
                    .resource_types
                    .iter()
                    .any(|x| *x == "*" || *x == res.type_name);
                let has = report
                    .findings
                    .iter()
                    .any(|f| f.resource == res.logical_id && f.rule == r.id)
                    || report
                        .undetermined
                        .iter()
                        .any(|u| u.resource == res.logical_id && u.rule == r.id);
                if applies && !has {
                    passing.insert(r.id.to_string());
                }
            }
        }
    }
    let no_fail: Vec<&str> = catalogue
        .iter()
        .map(|r| r.id)
        .filter(|id| !failing.contains(*id))
        .collect();
    let no_pass: Vec<&str> = catalogue
        .iter()
        .map(|r| r.id)
        .filter(|id| !passing.contains(*id))
        .collect();
    assert!(
        no_fail.is_empty(),
        "rules without a failing fixture: {no_fail:?}"
    );
    assert!(
        no_pass.is_empty(),
        "rules without a passing fixture: {no_pass:?}"
    );
}

#[test]
fn each_fix_is_a_valid_rfc6902_patch_and_fixing_clears_the_rule() {
    let mut fixed_rules = BTreeSet::new();
    for (file, t) in fixtures() {
        let opts = options(&t);
        let report = scan(&t, &opts);
        for f in report.findings.iter().filter(|f| f.fix.is_some()) {
            // Alone, against the scanned template, with a standard JSON Patch
            // implementation.
            let patch: json_patch::Patch = serde_json::from_value(f.fix.clone().unwrap())
                .unwrap_or_else(|e| {
                    panic!("{file} {} {}: not a JSON Patch: {e}", f.resource, f.rule)
                });
            let mut doc = t.0.clone();
            json_patch::patch(&mut doc, &patch)
                .unwrap_or_else(|e| panic!("{file} {} {}: patch fails: {e}", f.resource, f.rule));
            let after = scan(&Template(doc), &opts);
            assert!(
                !after
                    .findings
                    .iter()
                    .any(|g| g.resource == f.resource && g.rule == f.rule && g.path == f.path),
                "{file} {} {}: still failing after its own fix",
                f.resource,
                f.rule
            );
            fixed_rules.insert(f.rule.clone());
        }
        // All together.
        let fixed = apply_fixes(&t, &report.findings).unwrap();
        let after = scan(&fixed, &opts);
        for g in after.findings.iter().filter(|g| g.suppressed.is_none()) {
            assert!(
                g.fix.is_none(),
                "{file} {} {}: fixable finding left after apply_fixes",
                g.resource,
                g.rule
            );
        }
    }
    assert!(
        fixed_rules.len() >= 20,
        "only {} rules have fixes: {fixed_rules:?}",
        fixed_rules.len()
    );
}

#[test]
fn checkov_skip_comments_and_reasoned_suppressions_are_reported_not_dropped() {
    let (_, t) = fixtures()
        .into_iter()
        .find(|(f, _)| f == "suppressions.json")
        .unwrap();
    let report = scan(&t, &options(&t));
    let skip = report
        .findings
        .iter()
        .find(|f| f.resource == "SkippedByCheckovComment")
        .unwrap();
    let s = skip.suppressed.as_ref().unwrap();
    assert_eq!(s.source, "checkov-skip");
    assert_eq!(s.reason, "log bucket: logging to itself would loop");
    let ours = report
        .findings
        .iter()
        .find(|f| f.resource == "SuppressedWithReason")
        .unwrap();
    assert_eq!(ours.suppressed.as_ref().unwrap().source, "infraguard");
    // The one without a reason is not applied and is itself a finding.
    let open: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.resource == "SuppressedWithoutReason")
        .collect();
    assert!(open.iter().all(|f| f.suppressed.is_none()));
    assert!(open.iter().any(|f| f.rule == "IG-META-001"));
}

#[test]
fn outside_suppressions_need_a_reason() {
    let t = parse_template(r#"{"Resources":{"Q":{"Type":"AWS::SQS::Queue","DeletionPolicy":"Retain","Properties":{"SqsManagedSseEnabled":false}}}}"#).unwrap();
    let mut opts = ScanOptions {
        today: TODAY.into(),
        ..Default::default()
    };
    opts.suppressions.push(infraguard_policy::Suppress {
        rule: "IG-SQS-001".into(),
        resource: "Q".into(),
        reason: " ".into(),
    });
    let r = scan(&t, &opts);
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "IG-SQS-001" && f.suppressed.is_none())
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "IG-META-001" && f.path == "(scan options)")
    );
    opts.suppressions[0].reason = "load test queue, deleted tonight".into();
    let r = scan(&t, &opts);
    let f = r.findings.iter().find(|f| f.rule == "IG-SQS-001").unwrap();
    assert_eq!(
        f.suppressed.as_ref().unwrap().reason,
        "load test queue, deleted tonight"
    );
    assert_eq!(r.failing(infraguard_policy::Severity::Low), 0);
}

#[test]
fn where_checkov_is_wrong_the_fixture_says_why() {
    // Every resource whose verdict differs from Checkov 3.3.30 on purpose
    // carries a note; these are the cases the issue names.
    let (_, iam) = fixtures()
        .into_iter()
        .find(|(f, _)| f == "iam.json")
        .unwrap();
    let report = scan(&iam, &options(&iam));
    let rules_on = |id: &str| -> BTreeSet<String> {
        report
            .findings
            .iter()
            .filter(|f| f.resource == id)
            .map(|f| f.rule.clone())
            .collect()
    };
    // CKV_AWS_63 reads only the first statement: ours reads all.
    assert!(rules_on("AdminInSecondStatement").contains("IG-IAM-002"));
    // CKV_AWS_62/63 skip AWS::IAM::ManagedPolicy: ours covers it.
    let admin = rules_on("AdminManagedPolicy");
    assert!(admin.contains("IG-IAM-001") && admin.contains("IG-IAM-002"));
    for res in iam.resources() {
        if let Some(note) = res.entry.pointer("/Metadata/infraguard-test/checkov") {
            assert!(
                note.as_str().is_some_and(|n| n.contains("CKV_AWS_")),
                "{}",
                res.logical_id
            );
        }
    }
}

#[test]
fn scanning_is_fast_enough_to_run_on_every_plan() {
    // Whole corpus, many times: the embedded data is parsed once.
    let all = fixtures();
    let start = std::time::Instant::now();
    let mut n = 0;
    for _ in 0..20 {
        for (_, t) in &all {
            n += scan(t, &options(t)).resources;
        }
    }
    let per_template = start.elapsed() / (20 * all.len() as u32);
    assert!(n > 0);
    // Generous for a debug build on a shared machine; release is far faster.
    assert!(
        per_template.as_millis() < 200,
        "{per_template:?} per template"
    );
}
