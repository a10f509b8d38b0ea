//! `infraguard iam lint|suggest|extend` through the real binary: output
//! formats and exit codes as `scan` has them, an honest "don't know", and
//! the extension workflow in a project — planned and applied in dev,
//! promoted to prod after a person approves at a terminal.

use std::path::PathBuf;

use serde_json::Value;

use super::harness::*;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../policy/tests/fixtures/iam")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn lint_reports_like_scan_with_exit_codes() {
    let d = &Project::empty();
    let unknown = fixture("001-unknown-action.fail.json");
    let v = d.expect_json(&["iam", "lint", &unknown], 1);
    assert_eq!(v["findings"][0]["rule"], "IG-IAM-LINT-001");
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean s3:PutObject")
    );
    assert!(
        v["expansions"].is_array() && v["summary"].is_object(),
        "{v}"
    );
    d.expect(
        &["iam", "lint", &fixture("001-unknown-action.pass.json")],
        0,
    );
    // Medium only: fails at the default (low), passes at --fail-on high.
    let star = fixture("006-resource-star.fail.json");
    d.expect(&["iam", "lint", &star], 1);
    d.expect(&["iam", "lint", &star, "--fail-on", "high"], 0);
    // The table shows the proposed statement when a prefix is known.
    let table = d.expect(&["iam", "lint", &star, "--prefix", "synthcoreai"], 1);
    assert!(table.contains("IG-IAM-LINT-006"), "{table}");
    assert!(
        table.contains("arn:aws:dynamodb:*:*:table/synthcoreai-*"),
        "{table}"
    );
    let sarif: Value =
        serde_json::from_str(&d.expect(&["iam", "lint", &star, "--format", "sarif"], 1)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "IG-IAM-LINT-006");
    // Wildcards are expanded in the table.
    let table = d.expect(
        &["iam", "lint", &fixture("010-partial-wildcard.fail.json")],
        0,
    );
    assert!(table.contains("`s3:Get*` expands to"), "{table}");
}

#[test]
fn lint_reads_stdin_and_templates_and_rejects_bad_input() {
    let d = &Project::empty();
    let doc =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let out = d.run_with_input(&["iam", "lint", "-", "--output", "json"], Some(doc));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["rule"], "IG-IAM-LINT-002");
    let v = d.expect_json(&["iam", "lint", &fixture("template.yaml")], 1);
    let resources: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"].as_str().unwrap())
        .collect();
    assert_eq!(resources, ["PublicRead", "UploadPolicy", "Worker"]);
    let out = d.run_with_input(&["iam", "lint", "-"], Some("{\"hello\": 1}"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("neither an IAM policy document"),
        "{}",
        text(&out)
    );
    d.expect(&["iam", "lint", "/nonexistent/policy.json"], 2);
}

#[test]
fn suggest_names_and_scopes_or_says_it_does_not_know() {
    let d = &Project::empty();
    let flags = ["--iam-prefix", "SynthCoreAI", "--prefix", "synthcoreai"];
    let mut args = vec!["iam", "suggest", "upload files to S3"];
    args.extend(flags);
    let v = d.expect_json(&args, 0);
    assert_eq!(v["status"], "known");
    assert_eq!(v["policy_name"], "SynthCoreAI-S3-FileUpload");
    assert_eq!(
        v["document"]["Statement"][0]["Resource"],
        "arn:aws:s3:::synthcoreai-*/*"
    );
    let mut args = vec![
        "iam",
        "suggest",
        "read the users table",
        "--resource",
        "synthcoreai-users-dev",
    ];
    args.extend(flags);
    let table = d.expect(&args, 0);
    assert!(table.contains("SynthCoreAI-DynamoDB-ReadOnly"), "{table}");
    assert!(table.contains("table/synthcoreai-users-dev"), "{table}");
    let mut args = vec!["iam", "suggest", "teleport the database"];
    args.extend(flags);
    let v = d.expect_json(&args, 2);
    assert_eq!(v["status"], "unknown");
    assert!(v["known"].as_array().unwrap().len() >= 15);
    let list = d.expect_json(&["iam", "suggest", "--list"], 0);
    assert!(list.as_array().unwrap().len() >= 15);
    // Outside a project without prefixes: bad input, with the way out.
    let out = d.run_with_input(&["iam", "suggest", "sns-publish"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--iam-prefix"), "{}", text(&out));
}

#[test]
fn expand_lists_what_a_wildcard_grants_and_names_misspellings() {
    let d = &Project::empty();
    let v = d.expect_json(&["iam", "expand", "s3:Get*", "ses:Send*"], 0);
    assert_eq!(v[0]["pattern"], "s3:Get*");
    let grants =
        |e: &Value, action: &str| e["actions"].as_array().unwrap().iter().any(|a| a == action);
    assert!(grants(&v[0], "s3:getobject"), "{v}");
    assert!(grants(&v[1], "ses:sendemail"), "{v}");
    let table = d.expect(&["iam", "expand", "s3:PutObjekt"], 2);
    assert!(table.contains("did you mean: s3:PutObject"), "{table}");
}

#[test]
fn extend_plans_in_dev_and_the_policy_is_promoted_after_a_human_approves() {
    let d = &Project::empty();
    d.expect(
        &["init", "--project", "SynthCore", "--prefix", "synthcoreai"],
        0,
    );
    let ses = r#"{"Policies": [{"PolicyName": "SynthCoreAI-SES-SendOnly", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": "arn:aws:ses:us-east-1:*:identity/*"}]}}]}"#;
    let plan = d.expect_json(
        &plan_args("dev", "AWS::IAM::User", "app", &["--properties", ses]),
        0,
    );
    d.expect(&["apply", plan["id"].as_str().unwrap()], 0);
    let user = "synthcoreai-app-dev";

    // The report for people: attached policies, the diff, the plan.
    let extend_in = |env: &str, user: &str, capability: &str| {
        words(&["iam", "extend", "--env", env, "--user", user, capability])
    };
    let extend = extend_in("dev", user, "upload files to S3");
    let table = d.expect(&extend, 0);
    assert!(
        table.contains("SynthCoreAI-SES-SendOnly (inline)"),
        "{table}"
    );
    assert!(table.contains("+ s3:PutObject"), "{table}");
    assert!(table.contains("infraguard apply"), "{table}");
    let v = d.expect_json(&extend, 0);
    assert_eq!(v["status"], "planned");
    assert_eq!(v["change"], "new_managed_policy");
    assert_eq!(v["policy_name"], "SynthCoreAI-S3-FileUpload");
    let applied = d.expect(
        &[
            "apply",
            v["plan"]["id"].as_str().unwrap(),
            "--output",
            "json",
        ],
        0,
    );
    let applied: Value = serde_json::from_str(&applied).unwrap();
    let arn = applied["event"]["Identifier"].as_str().unwrap().to_string();
    assert!(
        arn.ends_with(":policy/SynthCoreAI-S3-FileUpload"),
        "{applied}"
    );
    let again = d.expect_json(&extend, 0);
    assert_eq!(again["status"], "already_granted");

    // Promotion with its dependency (the user): each prod create waits for
    // a person at a terminal.
    let promote = [
        "promote",
        "--type",
        "AWS::IAM::ManagedPolicy",
        "--id",
        arn.as_str(),
        "--with-dependencies",
    ];
    let mut approvals = 0;
    let done = loop {
        let out = d.run_with_input(&[&promote[..], &["--output", "json"]].concat(), None);
        let v: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        if v["status"] == "synced" {
            assert_eq!(out.status.code(), Some(0));
            break v;
        }
        assert_eq!(out.status.code(), Some(3), "{}", text(&out));
        let approval = v["gate"]["approval_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no approval id: {v}"));
        d.approve_yes(approval);
        approvals += 1;
        assert!(approvals <= 2, "more approvals than creates: {v}");
    };
    assert_eq!(approvals, 2, "the user, then the policy");
    assert!(
        done["prod_id"]
            .as_str()
            .unwrap()
            .ends_with(":policy/SynthCoreAI-S3-FileUpload")
    );
    let prod = d.expect_json(
        &extend_in("prod", "synthcoreai-app-prod", "s3-file-upload"),
        0,
    );
    assert_eq!(prod["status"], "already_granted", "{prod}");

    // Unknown capability: exit 2, nothing planned.
    let unknown = d.expect_json(&extend_in("dev", user, "teleport things"), 2);
    assert_eq!(unknown["status"], "unknown_capability");
    assert!(unknown["plan"].is_null());
    // A principal that does not exist: bad input.
    d.expect(&extend_in("dev", "nobody", "sns-publish"), 2);
}
