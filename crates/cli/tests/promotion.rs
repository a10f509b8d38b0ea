//! `promote`, `sync`, `drift` and `preflight` through the real binary: the
//! JSON keys the issue names, the table forms, and the exit codes (0 done or
//! ready, 1 preflight not ready, 2 bad input, 3 waiting for a human).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_infraguard")
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(["-C", dir.to_str().unwrap()])
        .args(args)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("SECURITY_SCANNING")
        .env_remove("INFRAGUARD_READONLY")
        .stdin(Stdio::null())
        .output()
        .expect("run infraguard")
}

fn text(out: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run, check the exit code, parse the JSON printed.
fn json_code(dir: &Path, args: &[&str], expected: i32) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let out = run_in(dir, &all);
    assert_eq!(
        out.status.code(),
        Some(expected),
        "infraguard {args:?}\n{}",
        text(&out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", text(&out)))
}

fn table_code(dir: &Path, args: &[&str], expected: i32) -> String {
    let out = run_in(dir, args);
    assert_eq!(
        out.status.code(),
        Some(expected),
        "infraguard {args:?}\n{}",
        text(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    table_code(
        dir.path(),
        &["init", "--project", "SynthCore", "--prefix", "synthcoreai"],
        0,
    );
    dir
}

/// `approve` under a pseudo-terminal, a person typing yes.
fn approve_at_terminal(dir: &Path, approval: &str) {
    let cmd = format!("{} -C {} approve {approval}", bin(), dir.display());
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    child.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "approve: {}", text(&out));
}

fn dev_bucket(d: &Path, purpose: &str) -> String {
    let plan = json_code(
        d,
        &[
            "plan",
            "--env",
            "dev",
            "--type",
            "AWS::S3::Bucket",
            "--purpose",
            purpose,
        ],
        0,
    );
    table_code(d, &["apply", plan["id"].as_str().unwrap()], 0);
    format!("synthcoreai-{purpose}-dev")
}

#[test]
fn promote_waits_for_a_human_then_syncs_and_preflight_turns_ready() {
    let dir = project();
    let d = dir.path();
    let dev = dev_bucket(d, "documents");
    let promote = ["promote", "--type", "AWS::S3::Bucket", "--id", dev.as_str()];

    let sync = json_code(d, &["sync"], 0);
    for key in ["dev_only", "prod_only", "synced", "needs_review"] {
        assert!(sync[key].is_array(), "sync JSON lacks `{key}`: {sync}");
    }
    assert_eq!(sync["dev_only"][0]["identifier"], dev.as_str());
    let not_ready = json_code(d, &["preflight", "prod"], 1);
    assert_eq!(not_ready["ready"], false);
    let table = table_code(d, &["preflight"], 1);
    assert!(
        table.contains("NOT READY") && table.contains(&dev),
        "{table}"
    );

    let waiting = json_code(d, &promote, 3);
    assert_eq!(waiting["status"], "awaiting_approval");
    let approval = waiting["gate"]["approval_id"].as_str().unwrap().to_string();
    let checklist: Vec<&str> = waiting["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        checklist,
        [
            "passed", "passed", "passed", "passed", "passed", "waiting", "waiting"
        ]
    );
    // The table says what to do next.
    let table = table_code(d, &promote, 3);
    assert!(
        table.contains(&format!("infraguard approve {approval}")),
        "{table}"
    );
    assert!(table.contains("promotion checklist"), "{table}");

    approve_at_terminal(d, &approval);
    let done = json_code(d, &promote, 0);
    assert_eq!(done["status"], "synced");
    assert_eq!(done["prod_id"], "synthcoreai-documents-prod");

    let sync = json_code(d, &["sync", "--type", "AWS::S3::Bucket"], 0);
    assert_eq!(sync["synced"][0]["prod"], "synthcoreai-documents-prod");
    assert!(sync["dev_only"].as_array().unwrap().is_empty());
    let table = table_code(d, &["sync"], 0);
    assert!(
        table.contains("1 synced") && table.contains("synthcoreai-documents-prod"),
        "{table}"
    );
    let drift = json_code(d, &["drift"], 0);
    assert_eq!(drift["pairs_checked"], 1);
    assert!(drift["drifted"].as_array().unwrap().is_empty(), "{drift}");
    assert!(
        drift["out_of_band"].as_array().unwrap().is_empty(),
        "{drift}"
    );
    let ready = json_code(d, &["preflight", "prod"], 0);
    assert_eq!(ready["ready"], true, "{ready}");
    assert!(table_code(d, &["preflight", "prod"], 0).contains("READY"));
}

#[test]
fn a_missing_dependency_exits_3_and_names_it() {
    let dir = project();
    let d = dir.path();
    let role = json_code(
        d,
        &[
            "plan",
            "--env",
            "dev",
            "--type",
            "AWS::IAM::Role",
            "--purpose",
            "worker",
            "--properties",
            r#"{"AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}}"#,
        ],
        0,
    );
    table_code(d, &["apply", role["id"].as_str().unwrap()], 0);
    let live = json_code(
        d,
        &[
            "resources",
            "get",
            "--env",
            "dev",
            "--type",
            "AWS::IAM::Role",
            "--id",
            "synthcoreai-worker-dev",
        ],
        0,
    );
    let arn = live["Properties"]["Arn"]
        .as_str()
        .or_else(|| live["properties"]["Arn"].as_str())
        .unwrap_or_else(|| panic!("no Arn in {live}"))
        .to_string();
    let props = format!(
        r#"{{"Runtime":"python3.12","Handler":"index.handler","Role":"{arn}","Code":{{"ZipFile":"def handler(e, c):\n    return 1\n"}}}}"#
    );
    let function = json_code(
        d,
        &[
            "plan",
            "--env",
            "dev",
            "--type",
            "AWS::Lambda::Function",
            "--purpose",
            "worker",
            "--properties",
            &props,
        ],
        0,
    );
    table_code(d, &["apply", function["id"].as_str().unwrap()], 0);

    let promote = [
        "promote",
        "--type",
        "AWS::Lambda::Function",
        "--id",
        "synthcoreai-worker-dev",
    ];
    let blocked = json_code(d, &promote, 3);
    assert_eq!(blocked["status"], "blocked");
    assert!(
        blocked["message"]
            .as_str()
            .unwrap()
            .contains("AWS::IAM::Role `synthcoreai-worker-dev`"),
        "{blocked}"
    );
    let mut with = promote.to_vec();
    with.push("--with-dependencies");
    let waiting = json_code(d, &with, 3);
    assert_eq!(waiting["status"], "awaiting_approval");
    assert_eq!(waiting["waiting_on"]["type"], "AWS::IAM::Role");
    assert_eq!(waiting["dependencies"][0]["type"], "AWS::IAM::Role");
    assert!(waiting["gate"]["approval_id"].is_string());
}

#[test]
fn bad_input_exits_2() {
    let dir = project();
    let d = dir.path();
    let missing = run_in(
        d,
        &[
            "promote",
            "--type",
            "AWS::S3::Bucket",
            "--id",
            "synthcoreai-nothing-dev",
        ],
    );
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("synthcoreai-nothing-dev"));
    let bad_type = run_in(d, &["sync", "--type", "AWS::S3::Bukket"]);
    assert_eq!(bad_type.status.code(), Some(2), "{}", text(&bad_type));
    let bad_env = run_in(d, &["preflight", "stage"]);
    assert_eq!(bad_env.status.code(), Some(2), "{}", text(&bad_env));
    assert!(text(&bad_env).contains("stage"));
}
