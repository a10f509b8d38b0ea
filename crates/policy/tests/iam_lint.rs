//! The IAM lint over its fixture corpus: every finding kind has a failing
//! fixture (`NNN-kind.fail.json`, which must produce rule
//! `IG-IAM-LINT-NNN`) and a passing counterpart (`NNN-kind.pass.json`,
//! which must produce no finding at all); every mechanical fix, applied,
//! removes its finding; and a 100-statement policy is timed.

use std::path::PathBuf;
use std::time::Instant;

use infraguard_policy::iam_tools::{LintOptions, lint_text};
use infraguard_policy::{Finding, PolicyError, Severity};
use serde_json::{Value, json};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/iam")
}

fn options() -> LintOptions {
    LintOptions {
        prefix: Some("synthcoreai".into()),
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
    }
}

fn pairs() -> Vec<(String, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if let Some(stem) = name.strip_suffix(".fail.json") {
            let pass = dir().join(format!("{stem}.pass.json"));
            assert!(pass.exists(), "{stem} has no passing counterpart");
            out.push((stem.to_string(), path, pass));
        }
    }
    out.sort();
    out
}

fn lint(path: &PathBuf) -> Vec<Finding> {
    let text = std::fs::read_to_string(path).unwrap();
    lint_text(&text, &options()).unwrap().report.findings
}

#[test]
fn every_finding_kind_fails_its_fixture_and_passes_its_counterpart() {
    let pairs = pairs();
    assert_eq!(pairs.len(), 10, "one pair per rule");
    for (stem, fail, pass) in pairs {
        let rule = format!("IG-IAM-LINT-{}", &stem[..3]);
        let found = lint(&fail);
        assert!(
            found.iter().any(|f| f.rule == rule),
            "{stem}: expected {rule}, got {:?}",
            found.iter().map(|f| &f.rule).collect::<Vec<_>>()
        );
        for f in found.iter().filter(|f| f.rule == rule) {
            assert!(!f.message.is_empty() && !f.remediation.is_empty());
            assert_eq!(f.resource, "PolicyDocument");
            assert!(f.path.starts_with("Statement"), "{stem}: {}", f.path);
        }
        let clean = lint(&pass);
        assert!(
            clean.is_empty(),
            "{stem}: the passing fixture has {clean:#?}"
        );
    }
}

/// rule, path, severity, a phrase of the message, whether a fix exists.
type Expected = (&'static str, &'static str, Severity, &'static str, bool);

#[test]
fn exact_findings_of_the_failing_fixtures() {
    let expect: &[(&str, &[Expected])] = &[
        (
            "001-unknown-action",
            &[(
                "IG-IAM-LINT-001",
                "Statement/0/Action/0",
                Severity::High,
                "did you mean s3:PutObject",
                true,
            )],
        ),
        (
            "002-admin",
            &[(
                "IG-IAM-LINT-002",
                "Statement/0",
                Severity::Critical,
                "every action on every resource",
                false,
            )],
        ),
        (
            "003-star-action",
            &[(
                "IG-IAM-LINT-003",
                "Statement/0/Action",
                Severity::High,
                "every action of every service on arn:aws:s3:::synthcoreai-docs-dev",
                false,
            )],
        ),
        (
            "004-service-wildcard",
            &[(
                "IG-IAM-LINT-004",
                "Statement/0/Action",
                Severity::Medium,
                "ses:SendEmail, ses:SendRawEmail (ses-send)",
                false,
            )],
        ),
        (
            "005-not-action",
            // Everything but IAM still escalates through other services.
            &[
                (
                    "IG-IAM-LINT-008",
                    "Statement",
                    Severity::Critical,
                    "replace the code of a Lambda function that has a role",
                    false,
                ),
                (
                    "IG-IAM-LINT-005",
                    "Statement/0/NotAction",
                    Severity::High,
                    "every action except iam:*",
                    false,
                ),
            ],
        ),
        (
            "006-resource-star",
            &[(
                "IG-IAM-LINT-006",
                "Statement/0/Resource",
                Severity::Medium,
                "dynamodb:getitem, dynamodb:query",
                true,
            )],
        ),
        (
            "007-passrole",
            &[(
                "IG-IAM-LINT-007",
                "Statement/0",
                Severity::High,
                "passing any role",
                true,
            )],
        ),
        (
            "010-partial-wildcard",
            &[(
                "IG-IAM-LINT-010",
                "Statement/0/Action",
                Severity::Info,
                "s3:getobject",
                false,
            )],
        ),
    ];
    for (stem, findings) in expect {
        let got = lint(&dir().join(format!("{stem}.fail.json")));
        assert_eq!(got.len(), findings.len(), "{stem}: {got:#?}");
        for (f, (rule, path, sev, phrase, fix)) in got.iter().zip(findings.iter()) {
            assert_eq!(
                (f.rule.as_str(), f.path.as_str(), f.severity),
                (*rule, *path, *sev),
                "{stem}"
            );
            assert!(f.message.contains(phrase), "{stem}: {}", f.message);
            assert_eq!(f.fix.is_some(), *fix, "{stem}");
        }
    }
    // Escalation comes with the unscoped write it is built from.
    let esc = lint(&dir().join("008-escalation.fail.json"));
    let rules: Vec<&str> = esc.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["IG-IAM-LINT-008", "IG-IAM-LINT-007", "IG-IAM-LINT-006"]
    );
    assert!(
        esc[0]
            .message
            .contains("pass a role to a new EC2 instance (iam:passrole + ec2:runinstances)")
    );
}

/// Apply each finding's fix to the document and lint again: the finding is
/// gone and nothing new appears.
#[test]
fn fixes_write_the_narrower_statement() {
    for stem in ["001-unknown-action", "006-resource-star", "007-passrole"] {
        let text = std::fs::read_to_string(dir().join(format!("{stem}.fail.json"))).unwrap();
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        let before = lint_text(&text, &options()).unwrap().report.findings;
        for f in &before {
            let patch: json_patch::Patch = serde_json::from_value(f.fix.clone().unwrap()).unwrap();
            json_patch::patch(&mut doc, &patch).unwrap();
        }
        let after = lint_text(&doc.to_string(), &options())
            .unwrap()
            .report
            .findings;
        assert!(
            after.is_empty(),
            "{stem}: after the fix {after:#?}\n{doc:#}"
        );
    }
    let text = std::fs::read_to_string(dir().join("006-resource-star.fail.json")).unwrap();
    let fix = lint_text(&text, &options()).unwrap().report.findings[0]
        .fix
        .clone()
        .unwrap();
    assert_eq!(
        fix[0]["value"]["Resource"],
        json!([
            "arn:aws:dynamodb:us-east-1:123456789012:table/synthcoreai-*",
            "arn:aws:dynamodb:us-east-1:123456789012:table/synthcoreai-*/index/*"
        ])
    );
    // Without the project prefix there is nothing to scope to: no fix.
    let bare = lint_text(&text, &LintOptions::default())
        .unwrap()
        .report
        .findings;
    assert!(bare[0].fix.is_none());
    assert!(bare[0].message.contains("Pass the project prefix"));
}

#[test]
fn a_mixed_statement_splits_scopable_from_unscopable_actions() {
    let doc = json!({"Statement": {"Sid": "App", "Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ListQueues"], "Resource": "*"}});
    let r = lint_text(&doc.to_string(), &options()).unwrap();
    let f = &r.report.findings[0];
    assert_eq!(f.rule, "IG-IAM-LINT-006");
    let mut fixed = doc.clone();
    let patch: json_patch::Patch = serde_json::from_value(f.fix.clone().unwrap()).unwrap();
    json_patch::patch(&mut fixed, &patch).unwrap();
    assert_eq!(
        fixed["Statement"],
        json!([
            {"Sid": "App", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "arn:aws:sqs:us-east-1:123456789012:synthcoreai-*"},
            {"Effect": "Allow", "Action": ["sqs:ListQueues"], "Resource": "*"}
        ])
    );
}

#[test]
fn templates_are_linted_per_resource_with_template_pointers() {
    let text = std::fs::read_to_string(dir().join("template.yaml")).unwrap();
    let r = lint_text(&text, &options()).unwrap();
    let got: Vec<(&str, &str, &str)> = r
        .report
        .findings
        .iter()
        .map(|f| (f.resource.as_str(), f.rule.as_str(), f.path.as_str()))
        .collect();
    // Resources come in the template's key order (sorted).
    assert_eq!(
        got,
        [
            (
                "PublicRead",
                "IG-IAM-LINT-009",
                "Properties/PolicyDocument/Statement/0/Principal"
            ),
            (
                "UploadPolicy",
                "IG-IAM-LINT-001",
                "Properties/PolicyDocument/Statement/0/Action/0"
            ),
            (
                "Worker",
                "IG-IAM-LINT-006",
                "Properties/Policies/0/PolicyDocument/Statement/Resource"
            ),
        ]
    );
    assert_eq!(r.report.resources, 3);
    assert_eq!(r.documents, 4, "managed, inline, trust and bucket policy");
    let fix = r.report.findings[1].fix.as_ref().unwrap();
    assert_eq!(
        fix[0]["path"],
        "/Resources/UploadPolicy/Properties/PolicyDocument/Statement/0/Action/0"
    );
    // The single-statement inline policy becomes a list when scoped.
    let worker = r.report.findings[2].fix.as_ref().unwrap();
    assert_eq!(worker[0]["op"], "replace");
    assert_eq!(
        worker[0]["path"],
        "/Resources/Worker/Properties/Policies/0/PolicyDocument/Statement"
    );
}

#[test]
fn the_json_report_is_the_scans_with_expansions_and_fail_on_counts() {
    let text = std::fs::read_to_string(dir().join("010-partial-wildcard.fail.json")).unwrap();
    let r = lint_text(&text, &options()).unwrap();
    let v = r.json();
    assert!(v["findings"].is_array());
    assert_eq!(v["expansions"][0]["pattern"], "s3:Get*");
    assert!(v["expansions"][0]["actions"].as_array().unwrap().len() > 20);
    assert_eq!(v["summary"]["statements"], 1);
    assert_eq!(
        r.report.failing(Severity::Low),
        0,
        "info does not fail at low"
    );
    assert_eq!(r.report.failing(Severity::Info), 1);
}

#[test]
fn policy_wrappers_yaml_and_bad_input() {
    let wrapped = json!({"PolicyName": "SynthCoreAI-S3-FileUpload", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "s3:PutObjekt", "Resource": "arn:aws:s3:::synthcoreai-*/*"}]}});
    let r = lint_text(&wrapped.to_string(), &options()).unwrap();
    assert_eq!(
        r.report.findings[0].path,
        "PolicyDocument/Statement/0/Action"
    );
    assert_eq!(
        r.report.findings[0].fix.as_ref().unwrap()[0]["path"],
        "/PolicyDocument/Statement/0/Action"
    );
    let yaml = "Version: '2012-10-17'\nStatement:\n  - Effect: Allow\n    Action: '*'\n    Resource: '*'\n";
    let r = lint_text(yaml, &options()).unwrap();
    assert_eq!(r.report.findings[0].rule, "IG-IAM-LINT-002");
    assert!(matches!(
        lint_text("{\"Statement\": [", &options()),
        Err(PolicyError::Syntax { .. })
    ));
    let err = lint_text("{\"hello\": 1}", &options()).unwrap_err();
    assert!(
        err.to_string().contains("neither an IAM policy document"),
        "{err}"
    );
    let built = json!({"Statement": {"Fn::If": ["C", [], []]}});
    let r = lint_text(&built.to_string(), &options()).unwrap();
    assert!(r.report.findings.is_empty());
    assert_eq!(r.report.undetermined.len(), 1);
}

/// The number the issue asks for: lint time of a 100-statement policy.
#[test]
fn lint_of_a_100_statement_policy_is_timed() {
    let kinds = [
        json!({"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::synthcoreai-*/*"}),
        json!({"Effect": "Allow", "Action": "ses:*", "Resource": "*"}),
        json!({"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "s3:PutObjekt", "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::synthcoreai-*/*"}),
    ];
    let statements: Vec<Value> = (0..100).map(|i| kinds[i % kinds.len()].clone()).collect();
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    // Warm the lazily parsed action catalog so the number is the lint's.
    let _ = lint_text(&text, &options()).unwrap();
    let runs = 5;
    let start = Instant::now();
    let mut findings = 0;
    for _ in 0..runs {
        findings = lint_text(&text, &options()).unwrap().report.findings.len();
    }
    let per_run = start.elapsed() / runs;
    eprintln!("lint of a 100-statement policy: {per_run:?} per run, {findings} findings");
    // 20 of each kind: none, 004 + 006, 006, 001, 010.
    assert_eq!(findings, 20 * 5, "{findings}");
    assert!(per_run.as_secs() < 5, "{per_run:?}");
}
