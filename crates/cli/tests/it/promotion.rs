//! `promote`, `sync`, `drift` and `preflight` through the real binary: the
//! JSON keys the issue names, the table forms, and the exit codes (0 done or
//! ready, 2 bad input, 3 waiting for a human, 4 sync, drift or preflight found
//! something).

use super::harness::*;

#[test]
fn promote_waits_for_a_human_then_syncs_and_preflight_turns_ready() {
    let dir = project();
    let d = dir.path();
    let dev = dev_bucket(d, "documents");
    let promote = ["promote", "--type", "AWS::S3::Bucket", "--id", dev.as_str()];

    // A dev resource waiting for promotion is something `sync` found.
    let sync = expect_json(d, &["sync"], 4);
    for key in ["dev_only", "prod_only", "synced", "needs_review"] {
        assert!(sync[key].is_array(), "sync JSON lacks `{key}`: {sync}");
    }
    assert_eq!(sync["dev_only"][0]["identifier"], dev.as_str());
    let not_ready = expect_json(d, &["preflight", "prod"], 4);
    assert_eq!(not_ready["ready"], false);
    let table = expect(d, &["preflight"], 4);
    assert!(
        table.contains("NOT READY") && table.contains(&dev),
        "{table}"
    );

    let waiting = expect_json(d, &promote, 3);
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
    let table = expect(d, &promote, 3);
    assert!(
        table.contains(&format!("infraguard approve {approval}")),
        "{table}"
    );
    assert!(table.contains("promotion checklist"), "{table}");

    approve_yes(d, &approval);
    let done = expect_json(d, &promote, 0);
    assert_eq!(done["status"], "synced");
    assert_eq!(done["prod_id"], "synthcoreai-documents-prod");

    let sync = expect_json(d, &["sync", "--type", "AWS::S3::Bucket"], 0);
    assert_eq!(sync["synced"][0]["prod"], "synthcoreai-documents-prod");
    assert!(sync["dev_only"].as_array().unwrap().is_empty());
    let table = expect(d, &["sync"], 0);
    assert!(
        table.contains("1 synced") && table.contains("synthcoreai-documents-prod"),
        "{table}"
    );
    let drift = expect_json(d, &["drift"], 0);
    assert_eq!(drift["pairs_checked"], 1);
    assert!(drift["drifted"].as_array().unwrap().is_empty(), "{drift}");
    assert!(
        drift["out_of_band"].as_array().unwrap().is_empty(),
        "{drift}"
    );
    let ready = expect_json(d, &["preflight", "prod"], 0);
    assert_eq!(ready["ready"], true, "{ready}");
    assert!(expect(d, &["preflight", "prod"], 0).contains("READY"));
}

#[test]
fn a_missing_dependency_exits_3_and_names_it() {
    let dir = project();
    let d = dir.path();
    let role = expect_json(
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
    expect(d, &["apply", role["id"].as_str().unwrap()], 0);
    let live = expect_json(
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
    let function = expect_json(
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
    expect(d, &["apply", function["id"].as_str().unwrap()], 0);

    let promote = [
        "promote",
        "--type",
        "AWS::Lambda::Function",
        "--id",
        "synthcoreai-worker-dev",
    ];
    let blocked = expect_json(d, &promote, 3);
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
    let waiting = expect_json(d, &with, 3);
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
