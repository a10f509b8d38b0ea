//! `promote`, `sync`, `drift` and `preflight` through the real binary: the
//! JSON keys the issue names, the table forms, and the exit codes (0 done or
//! ready, 2 bad input, 3 waiting for a human, 4 sync, drift or preflight found
//! something).

use super::harness::*;

#[test]
fn promote_waits_for_a_human_then_syncs_and_preflight_turns_ready() {
    let d = &Project::new().build();
    let dev = d.dev_bucket("documents");
    let promote = ["promote", "--type", "AWS::S3::Bucket", "--id", dev.as_str()];

    // A dev resource waiting for promotion is something `sync` found.
    let sync = d.expect_json(&["sync"], 4);
    for key in ["dev_only", "prod_only", "synced", "needs_review"] {
        assert!(sync[key].is_array(), "sync JSON lacks `{key}`: {sync}");
    }
    assert_eq!(sync["dev_only"][0]["identifier"], dev.as_str());
    let not_ready = d.expect_json(&["preflight", "prod"], 4);
    assert_eq!(not_ready["ready"], false);
    let table = d.expect(&["preflight"], 4);
    assert!(
        table.contains("NOT READY") && table.contains(&dev),
        "{table}"
    );

    let waiting = d.expect_json(&promote, 3);
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
    let table = d.expect(&promote, 3);
    assert!(
        table.contains(&format!("infraguard approve {approval}")),
        "{table}"
    );
    assert!(table.contains("promotion checklist"), "{table}");

    d.approve_yes(&approval);
    let done = d.expect_json(&promote, 0);
    assert_eq!(done["status"], "synced");
    assert_eq!(done["prod_id"], "synthcoreai-documents-prod");

    let sync = d.expect_json(&["sync", "--type", "AWS::S3::Bucket"], 0);
    assert_eq!(sync["synced"][0]["prod"], "synthcoreai-documents-prod");
    assert!(sync["dev_only"].as_array().unwrap().is_empty());
    let table = d.expect(&["sync"], 0);
    assert!(
        table.contains("1 synced") && table.contains("synthcoreai-documents-prod"),
        "{table}"
    );
    let drift = d.expect_json(&["drift"], 0);
    assert_eq!(drift["pairs_checked"], 1);
    assert!(drift["drifted"].as_array().unwrap().is_empty(), "{drift}");
    assert!(
        drift["out_of_band"].as_array().unwrap().is_empty(),
        "{drift}"
    );
    let ready = d.expect_json(&["preflight", "prod"], 0);
    assert_eq!(ready["ready"], true, "{ready}");
    assert!(d.expect(&["preflight", "prod"], 0).contains("READY"));
}

#[test]
fn a_missing_dependency_exits_3_and_names_it() {
    let d = &Project::new().build();
    let role = d.expect_json(&plan_args("dev", "AWS::IAM::Role", "worker", &["--properties", r#"{"AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}}"#]),
        0,
    );
    d.expect(&["apply", role["id"].as_str().unwrap()], 0);
    let live = d.expect_json(
        &resource_args(
            &["resources", "get"],
            "dev",
            "AWS::IAM::Role",
            "synthcoreai-worker-dev",
            &[],
        ),
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
    let function = d.json(&plan_args(
        "dev",
        "AWS::Lambda::Function",
        "worker",
        &["--properties", &props],
    ));
    d.expect(&["apply", function["id"].as_str().unwrap()], 0);

    let promote = [
        "promote",
        "--type",
        "AWS::Lambda::Function",
        "--id",
        "synthcoreai-worker-dev",
    ];
    let blocked = d.expect_json(&promote, 3);
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
    let waiting = d.expect_json(&with, 3);
    assert_eq!(waiting["status"], "awaiting_approval");
    assert_eq!(waiting["waiting_on"]["type"], "AWS::IAM::Role");
    assert_eq!(waiting["dependencies"][0]["type"], "AWS::IAM::Role");
    assert!(waiting["gate"]["approval_id"].is_string());
}

#[test]
fn bad_input_exits_2() {
    let d = &Project::new().build();
    let missing = d.run(&[
        "promote",
        "--type",
        "AWS::S3::Bucket",
        "--id",
        "synthcoreai-nothing-dev",
    ]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("synthcoreai-nothing-dev"));
    let bad_type = d.run(&["sync", "--type", "AWS::S3::Bukket"]);
    assert_eq!(bad_type.status.code(), Some(2), "{}", text(&bad_type));
    let bad_env = d.run(&["preflight", "stage"]);
    assert_eq!(bad_env.status.code(), Some(2), "{}", text(&bad_env));
    assert!(text(&bad_env).contains("stage"));
}
