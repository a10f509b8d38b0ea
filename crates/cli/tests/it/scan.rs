//! `infraguard scan` as a user runs it: the built binary, real files, exit
//! codes and the three output formats.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use super::harness::*;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policy/tests/fixtures")
}

const PUBLIC_BUCKET: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "DocsBucket": {
      "Type": "AWS::S3::Bucket",
      "Properties": {"BucketName": "synthcoreai-documents-dev", "AccessControl": "PublicRead"}
    }
  }
}"#;

#[test]
fn help_lists_the_flags() {
    let dir = Project::empty();
    let out = dir.run(&["scan", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--fail-on", "--fix", "--checkov", "--format"] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn json_report_and_exit_codes() {
    let dir = Project::empty();
    std::fs::write(dir.path().join("t.json"), PUBLIC_BUCKET).unwrap();
    let out = dir.run(&["scan", "t.json", "--output", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "IG-S3-006")
        .expect("public read finding");
    assert_eq!(f["resource"], "DocsBucket");
    assert_eq!(f["type"], "AWS::S3::Bucket");
    assert_eq!(f["checkov_id"], "CKV_AWS_20");
    assert_eq!(f["severity"], "HIGH");
    assert_eq!(f["path"], "Properties/AccessControl");
    assert!(f["message"].as_str().unwrap().contains("PublicRead"));
    // Nothing CRITICAL here, so --fail-on critical passes.
    let out = dir.run(&["scan", "t.json", "--fail-on", "critical"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn bad_input_is_exit_2_and_names_the_file() {
    let dir = Project::empty();
    let out = dir.run(&["scan", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.yaml"));
    std::fs::write(dir.path().join("broken.yaml"), "Resources:\n  A: [oops\n").unwrap();
    let out = dir.run(&["scan", "broken.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.yaml") && err.contains("line"), "{err}");
    let out = dir.run(&["scan", "x.json", "--fail-on", "severe"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown severity is bad input"
    );
}

#[test]
fn sarif_for_code_scanning() {
    let dir = Project::empty();
    std::fs::write(dir.path().join("t.json"), PUBLIC_BUCKET).unwrap();
    let out = dir.run(&["scan", "t.json", "--format", "sarif"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif"));
    let run = &v["runs"][0];
    assert!(
        !run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let results = run["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .all(|r| r["ruleId"].is_string() && r["level"].is_string())
    );
    let r = results.iter().find(|r| r["ruleId"] == "IG-S3-006").unwrap();
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "t.json");
    // The line of "AccessControl" in PUBLIC_BUCKET.
    assert_eq!(loc["region"]["startLine"], 6);
}

#[test]
fn fix_prints_a_template_that_rescans_clean_for_the_fixed_rules() {
    let dir = Project::empty();
    std::fs::write(dir.path().join("t.json"), PUBLIC_BUCKET).unwrap();
    let before: Value =
        serde_json::from_slice(&dir.run(&["scan", "t.json", "--output", "json"]).stdout).unwrap();
    let fixable: Vec<String> = before["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("fix").is_some())
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert!(fixable.len() >= 5, "{fixable:?}");
    let out = dir.run(&["scan", "t.json", "--fix"]);
    std::fs::write(dir.path().join("fixed.json"), &out.stdout).unwrap();
    let after: Value =
        serde_json::from_slice(&dir.run(&["scan", "fixed.json", "--output", "json"]).stdout)
            .unwrap();
    for f in after["findings"].as_array().unwrap() {
        assert!(
            !fixable.contains(&f["rule"].as_str().unwrap().to_string()),
            "{f} survived --fix"
        );
    }
}

#[test]
fn a_directory_is_scanned_recursively_and_findings_name_their_file() {
    let out = Project::at(&corpus()).run(&[
        "scan",
        corpus().to_str().unwrap(),
        "--output",
        "json",
        "--today",
        "2026-11-26",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["summary"]["files"].as_u64().unwrap() >= 7);
    let files: std::collections::BTreeSet<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("iam.json")));
    assert!(files.iter().any(|f| f.ends_with(".yaml")));
}

#[cfg(unix)]
#[test]
fn devices_fifos_and_oversized_files_are_refused_by_name() {
    let dir = Project::empty();
    let out = dir.run_quickly(&["scan", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/dev/zero") && err.contains("character device"),
        "{err}"
    );

    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 16 * 1024 * 1024 + 1]).unwrap();
    let out = dir.run_quickly(&["scan", "big.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("big.json") && err.contains("16 MiB"), "{err}");

    std::fs::write(
        dir.path().join("latin1.yaml"),
        b"Resources:\n  Caf\xE9: {}\n",
    )
    .unwrap();
    let out = dir.run_quickly(&["scan", "latin1.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("latin1.yaml") && err.contains("UTF-8"),
        "{err}"
    );

    let fifo = dir.path().join("pipe.json");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let out = dir.run_quickly(&["scan", "pipe.json"]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("pipe.json") && err.contains("FIFO"), "{err}");
    }
}

#[cfg(unix)]
#[test]
fn a_directory_walk_ends_despite_a_symlink_loop_and_notes_what_it_skipped() {
    let dir = Project::empty();
    let root = dir.path().join("templates");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/t.json"), PUBLIC_BUCKET).unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.json")).unwrap();
    let made = Command::new("mkfifo").arg(root.join("pipe.yaml")).status();
    let out = dir.run_quickly(&["scan", "templates", "--output", "json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["files"], 1, "the loop is not followed");
    assert!(err.contains("up") && err.contains("not followed"), "{err}");
    assert!(
        err.contains("zero.json") && err.contains("character device"),
        "{err}"
    );
    if made.is_ok_and(|s| s.success()) {
        assert!(err.contains("pipe.yaml") && err.contains("FIFO"), "{err}");
    }
}

/// `--properties @FILE` shares the bounded reader (with a 1 MiB limit).
#[cfg(unix)]
#[test]
fn an_at_file_argument_from_a_device_is_refused() {
    let dir = Project::empty();
    let out = dir.run_quickly(&[
        "plan",
        "--env",
        "dev",
        "--type",
        "AWS::S3::Bucket",
        "--properties",
        "@/dev/zero",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--properties") && err.contains("/dev/zero"),
        "{err}"
    );
}
