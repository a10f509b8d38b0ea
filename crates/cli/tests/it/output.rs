//! What a user reads, as insta snapshots (`snapshots/`): the text and JSON
//! of the commands met first, on the embedded local cloud, with times, ids,
//! accounts, hashes and folders redacted by the harness's filters. A change
//! of wording fails here until the snapshot is reviewed and accepted.

use std::process::Output;

use crate::snapshot;

use super::harness::*;

/// Exit code, stdout and stderr of one run, as one snapshot.
fn shown(out: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        code(out),
        stdout(out),
        stderr(out)
    )
}

fn documents(env: &str) -> Vec<String> {
    plan_args(env, "AWS::S3::Bucket", "documents", &["--properties", "{}"])
}

#[test]
fn plan_of_a_dev_bucket() {
    let d = &Project::new().build();
    snapshot!(d, "plan_text", shown(&d.run(&documents("dev"))));
    let json = d.run(&[documents("dev"), words(&["--output", "json"])].concat());
    snapshot!(d, "plan_json", shown(&json));
}

#[test]
fn apply_of_a_prod_create_needs_a_human() {
    let d = &Project::new().build();
    let plan = d.json(&documents("prod"));
    let id = plan["id"].as_str().unwrap();
    snapshot!(
        d,
        "apply_needs_approval_text",
        shown(&d.run(&["apply", id]))
    );
    let json = d.run(&["apply", id, "--output", "json"]);
    snapshot!(d, "apply_needs_approval_json", shown(&json));
    snapshot!(d, "approvals_text", shown(&d.run(&["approvals"])));
    let json = d.run(&["approvals", "--output", "json"]);
    snapshot!(d, "approvals_json", shown(&json));
    snapshot!(d, "show_refused_text", shown(&d.run(&["show", id])));
}

#[test]
fn costs_doctor_state_and_audit() {
    let d = &Project::new().build();
    d.dev_bucket("documents");
    snapshot!(d, "costs_text", shown(&d.run(&["costs"])));
    snapshot!(d, "doctor_text", shown(&d.run(&["doctor"])));
    let json = d.run(&["doctor", "--output", "json"]);
    snapshot!(d, "doctor_json", shown(&json));
    snapshot!(d, "state_show_text", shown(&d.run(&["state", "show"])));
    snapshot!(d, "audit_verify_text", shown(&d.run(&["audit", "verify"])));
    let json = d.run(&["audit", "verify", "--output", "json"]);
    snapshot!(d, "audit_verify_json", shown(&json));
}

/// Bad input: exit 2, and a message naming the value and the way out.
#[test]
fn bad_input_messages() {
    let d = &Project::new().build();
    let cases = [
        plan_args("qa", "AWS::S3::Bucket", "x", &[]),
        plan_args("dev", "AWS::S3::Buckett", "x", &[]),
        plan_args(
            "dev",
            "AWS::S3::Bucket",
            "x",
            &["--properties", r#"{"Bogus": 1}"#],
        ),
        words(&["apply", "plan-doesnotexist"]),
        words(&["costs", "--env", "prod", "--billing-alarm"]),
    ];
    let mut all = String::new();
    for args in &cases {
        let out = d.run(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", text(&out));
        all += &format!("$ infraguard {}\n{}\n", args.join(" "), shown(&out));
    }
    let nowhere = Project::empty();
    let out = nowhere.run(&["envs"]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    all += &format!("$ infraguard envs   (outside a project)\n{}", shown(&out));
    snapshot!(dirs = [d.path(), nowhere.path()], "bad_input_exit_2", all);
}
