//! The real `infraguard` binary, driven as a user (or an agent's shell) would.

use serde_json::Value;

use infraguard_core::env_vars;

use super::harness::*;

#[test]
fn init_writes_config_and_mcp_servers_and_refuses_to_overwrite() {
    let d = &Project::new().build();
    let config = d.config();
    assert!(config.contains("prefix = \"synthcoreai\""));
    let mcp: Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join(".mcp.json")).unwrap())
            .unwrap();
    assert_eq!(
        mcp["mcpServers"]["aws-dev"]["env"]["AWS_PROFILE"],
        "synthcoreai-dev"
    );
    assert_eq!(
        mcp["mcpServers"]["aws-prod"]["env"]["SECURITY_SCANNING"],
        "enabled"
    );
    assert_eq!(
        mcp["mcpServers"]["aws-prod"]["env"]["INFRAGUARD_READONLY"],
        "true"
    );
    assert_eq!(
        mcp["mcpServers"]["aws-prod"]["args"],
        serde_json::json!(["serve", "--env", "prod"])
    );

    let again = d.run(&["init", "--project", "X", "--prefix", "x"]);
    assert_eq!(code(&again), 2);
    assert!(stderr(&again).contains("already exists"));
    let bad = Project::empty().run(&["init", "--project", "X", "--prefix", "Bad_Prefix"]);
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("Bad_Prefix"));
}

#[test]
fn envs_show_two_accounts_and_the_read_only_flag() {
    let d = &Project::new().build();
    let v = d.json(&["envs"]);
    let envs = v["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 2);
    let dev = envs.iter().find(|e| e["name"] == "dev").unwrap();
    let prod = envs.iter().find(|e| e["name"] == "prod").unwrap();
    assert_eq!(prod["read_only"], true);
    assert_eq!(dev["read_only"], false);
    assert_eq!(dev["region"], "us-east-1");
    let (a, b) = (
        dev["identity"]["account_id"].as_str().unwrap(),
        prod["identity"]["account_id"].as_str().unwrap(),
    );
    assert_eq!(a.len(), 12);
    assert_ne!(a, b, "each environment is its own account");
    // The table form names both.
    let table = d.ok(&["envs"]);
    assert!(table.contains("dev") && table.contains("prod") && table.contains(a));
}

#[test]
fn the_guarded_workflow_as_written_in_the_issue() {
    let d = &Project::new().build();
    let plan = d.json(&plan_args(
        "dev",
        "AWS::S3::Bucket",
        "documents",
        &[
            "--properties",
            r#"{"VersioningConfiguration":{"Status":"Enabled"}}"#,
        ],
    ));
    for key in [
        "id",
        "env",
        "operation",
        "type",
        "template",
        "findings",
        "cost",
        "gate",
    ] {
        assert!(plan.get(key).is_some(), "plan JSON lacks `{key}`: {plan}");
    }
    assert!(plan["cost"]["monthly_usd"].is_string() && plan["cost"]["breakdown"].is_array());
    assert_eq!(plan["gate"]["decision"], "auto");
    let id = plan["id"].as_str().unwrap();
    let applied = d.ok(&["apply", id]);
    assert!(applied.contains("synthcoreai-documents-dev"), "{applied}");

    let list = d.json(&["resources", "list", "--env", "dev"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["identifier"], "synthcoreai-documents-dev");

    let prod = d.json(&plan_args(
        "prod",
        "AWS::S3::Bucket",
        "documents",
        &["--properties", "{}"],
    ));
    assert_eq!(prod["gate"]["decision"], "refused");
    let prod_id = prod["id"].as_str().unwrap();
    let refused = d.run(&["apply", prod_id]);
    assert_eq!(
        code(&refused),
        3,
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );
    assert!(String::from_utf8_lossy(&refused.stdout).contains("approve"));

    let approvals = d.json(&["approvals"]);
    let a = &approvals[0];
    assert_eq!(a["status"], "pending");
    assert_eq!(a["plan_id"], prod_id);
    assert!(a["reasons"][0].as_str().unwrap().contains("read-only"));
    let approval_id = a["id"].as_str().unwrap();

    // Without a terminal nothing is asked and nothing is approved.
    let agent = d.run(&["approve", approval_id]);
    assert_eq!(code(&agent), 3, "{}", text(&agent));
    assert!(
        stderr(&agent).contains("not a terminal"),
        "{}",
        text(&agent)
    );
    assert_eq!(d.json(&["approvals"])[0]["status"], "pending");

    // A person who does not type yes approves nothing.
    let no = d.approve_at_terminal(approval_id, "no");
    assert_eq!(code(&no), 3, "{}", String::from_utf8_lossy(&no.stdout));
    assert_eq!(d.json(&["approvals"])[0]["status"], "pending");

    let yes = d.approve_at_terminal(approval_id, "yes");
    assert_eq!(
        code(&yes),
        0,
        "{}{}",
        String::from_utf8_lossy(&yes.stdout),
        stderr(&yes)
    );
    d.ok(&["apply", prod_id]);
    assert_eq!(
        d.json(&["resources", "list", "--env", "prod"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let audit = d.json(&["audit"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for want in [
        "plan.created",
        "apply.succeeded",
        "apply.refused",
        "approval.granted",
    ] {
        assert!(actions.contains(&want), "audit lacks {want}: {actions:?}");
    }
    assert_eq!(d.json(&["audit", "verify"])["ok"], true);

    // Applying twice (a retry after a lost reply) answers the first
    // outcome, with the same request, and changes nothing.
    let twice = d.run(&["apply", prod_id]);
    assert_eq!(code(&twice), 0, "{}", stderr(&twice));
    let out = String::from_utf8_lossy(&twice.stdout).to_string();
    assert!(out.contains("already applied"), "{out}");
    assert_eq!(d.json(&["audit", "verify"])["ok"], true);
}

#[test]
fn bad_input_names_the_value_exits_2_and_changes_nothing() {
    let d = &Project::new().build();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            plan_args(
                "dev",
                "AWS::S3::Bucket",
                "x",
                &["--properties", "{not json"],
            ),
            "--properties",
        ),
        (
            plan_args("dev", "AWS::S3::Buckett", "x", &[]),
            "AWS::S3::Bucket",
        ),
        (plan_args("qa", "AWS::S3::Bucket", "x", &[]), "qa"),
        (
            plan_args(
                "dev",
                "AWS::S3::Bucket",
                "x",
                &["--properties", r#"{"Bogus": 1}"#],
            ),
            "Bogus",
        ),
        (
            plan_args("dev", "AWS::Lambda::Function", "x", &["--properties", "{}"]),
            "Code",
        ),
        (
            words(&[
                "plan",
                "--env",
                "dev",
                "--operation",
                "replace",
                "--type",
                "AWS::S3::Bucket",
            ]),
            "replace",
        ),
        (words(&["apply", "plan-doesnotexist"]), "plan-doesnotexist"),
        (words(&["approve", "apr-doesnotexist"]), "apr-doesnotexist"),
        (
            resource_args(&["resources", "get"], "dev", "AWS::S3::Bucket", "nope", &[]),
            "nope",
        ),
    ];
    for (args, needle) in &cases {
        let out = d.run(args);
        let c = code(&out);
        assert!(
            c == 2 || (c == 1 && args[0] == "resources"),
            "{args:?} exited {c}: {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(needle),
            "{args:?}: stderr does not name `{needle}`: {}",
            stderr(&out)
        );
    }
    assert_eq!(d.json(&["plans"]).as_array().unwrap().len(), 0);
    assert_eq!(
        d.json(&["resources", "list", "--env", "dev"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn commands_find_the_project_from_a_subfolder_and_explain_when_there_is_none() {
    let d = &Project::new().build();
    let sub = d.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    assert_eq!(
        Project::at(&sub).json(&["envs"])["environments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let empty = Project::empty();
    let out = empty.run(&["envs"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("infraguard init"), "{}", stderr(&out));
}

#[test]
fn environment_variables_override_the_file_for_one_process() {
    let d = &Project::new()
        .env(env_vars::AWS_REGION, "eu-west-1")
        .env(env_vars::AWS_PROFILE, "someone-else")
        .env(env_vars::INFRAGUARD_READONLY, "true")
        .build();
    let v = d.json(&["envs"]);
    let dev = v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "dev")
        .unwrap()
        .clone();
    assert_eq!(dev["region"], "eu-west-1");
    assert_eq!(dev["profile"], "someone-else");
    assert_eq!(dev["read_only"], true);
}

#[test]
fn quickstart_runs_the_whole_workflow_in_a_scratch_folder() {
    let parent = tempfile::tempdir().unwrap();
    let target = parent.path().join("qs");
    let out = quickstart(&target);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}\n{}", stderr(&out));
    assert!(text.contains(target.to_str().unwrap()));
    for want in [
        "Step 1",
        "refused",
        "approved",
        "created synthcoreai-documents-prod",
        "audit chain",
    ] {
        assert!(
            text.contains(want),
            "quickstart output lacks `{want}`:\n{text}"
        );
    }
    assert_eq!(
        Project::at(&target)
            .json(&["resources", "list", "--env", "prod"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn secrets_never_appear_in_output_or_the_audit_log() {
    let d = &Project::new().build();
    let secret = "Sup3rS3cretPassw0rd";
    let props = format!(
        r#"{{"Engine":"postgres","DBInstanceClass":"db.t3.micro","AllocatedStorage":"20","MasterUsername":"admin_user","MasterUserPassword":"{secret}"}}"#
    );
    let args = [
        "plan",
        "--env",
        "dev",
        "--type",
        "AWS::RDS::DBInstance",
        "--purpose",
        "db",
        "--properties",
        props.as_str(),
    ];
    let table = d.ok(&args);
    assert!(!table.contains(secret), "table output leaks the password");
    assert!(
        table.contains("MasterUserPassword"),
        "the property itself is still shown"
    );
    let plan = d.json(&args);
    let id = plan["id"].as_str().unwrap();
    let all = [
        serde_json::to_string(&plan).unwrap(),
        d.ok(&["show", id]),
        d.ok(&["show", id, "--output", "json"]),
        d.ok(&["plans", "--output", "json"]),
        d.ok(&["audit", "--output", "json"]),
        d.ok(&["approvals", "--output", "json"]),
    ];
    for text in all {
        assert!(!text.contains(secret), "output leaks the password: {text}");
    }
    // The plan's finding names the problem without quoting the value.
    assert!(
        plan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"].as_str().unwrap().contains("MasterUserPassword"))
    );
}

#[test]
fn costs_report_per_environment_and_billing_alarms_go_through_the_gate() {
    let d = &Project::new().build();
    let plan = d.json(&plan_args(
        "dev",
        "AWS::S3::Bucket",
        "documents",
        &["--usage", "storage_gb=100"],
    ));
    // 100 GB × $0.023 + 10 × $0.005 + 10 × $0.0004 = $2.354
    assert_eq!(plan["cost"]["monthly_usd"], "2.354");
    d.ok(&["apply", plan["id"].as_str().unwrap()]);
    let report = d.json(&["costs"]);
    let envs = report["environments"].as_array().unwrap();
    // Every environment, an empty one as $0.00 rather than missing.
    assert_eq!(envs.len(), 2, "{report}");
    assert_eq!(envs[0]["env"], "aws-dev");
    assert_eq!(envs[0]["resources"], 1);
    assert_eq!(envs[1]["env"], "aws-prod");
    assert_eq!(envs[1]["resources"], 0);
    assert_eq!(report["combined_alerts"].as_array().unwrap().len(), 0);
    let text = d.ok(&["costs"]);
    assert!(
        text.contains("📊 Monthly AWS Costs") && text.contains("S3 Storage"),
        "{text}"
    );

    let bad = d.run(&plan_args(
        "dev",
        "AWS::S3::Bucket",
        "x",
        &["--usage", "storage_gib=1"],
    ));
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("storage_gib"), "{}", stderr(&bad));

    // An alarm that notifies nobody is no alert: an address is needed, and checked.
    let none = d.run(&["costs", "--env", "prod", "--billing-alarm"]);
    assert_eq!(code(&none), 2);
    assert!(
        stderr(&none).contains("--email ADDRESS"),
        "{}",
        stderr(&none)
    );
    let bad = d.run(&[
        "costs",
        "--env",
        "prod",
        "--billing-alarm",
        "--email",
        "ops at example",
    ]);
    assert_eq!(code(&bad), 2);
    assert!(
        stderr(&bad).contains("`ops at example`"),
        "{}",
        stderr(&bad)
    );
    assert!(d.json(&["approvals"]).as_array().unwrap().is_empty());

    let planned = d.json(&[
        "costs",
        "--env",
        "prod",
        "--billing-alarm",
        "--email",
        "ops@example.com",
    ]);
    let planned = planned.as_array().unwrap();
    assert_eq!(
        planned.len(),
        4,
        "the topic and one alarm per alert threshold"
    );
    let props = |p: &serde_json::Value| {
        p["template"]["Resources"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()["Properties"]
            .clone()
    };
    let topic = &planned[0];
    assert_eq!(topic["type"], "AWS::SNS::Topic");
    assert_eq!(
        props(topic)["Subscription"],
        serde_json::json!([{"Protocol": "email", "Endpoint": "ops@example.com"}])
    );
    let topic_name = props(topic)["TopicName"].as_str().unwrap().to_string();
    let alarms = &planned[1..];
    for a in alarms {
        assert_eq!(a["type"], "AWS::CloudWatch::Alarm");
        assert_eq!(
            a["gate"]["decision"], "refused",
            "prod is read-only: the alarm waits for a human like any write"
        );
        assert_eq!(
            a["template"]["Resources"]
                .as_object()
                .unwrap()
                .values()
                .next()
                .unwrap()["Properties"]["MetricName"],
            "EstimatedCharges"
        );
        let actions = props(a)["AlarmActions"].clone();
        assert!(
            actions[0]
                .as_str()
                .unwrap()
                .starts_with("arn:aws:sns:us-east-1:")
                && actions[0]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!(":{topic_name}")),
            "{actions}"
        );
    }
    assert_eq!(d.json(&["approvals"]).as_array().unwrap().len(), 4);

    // Billing metrics live in us-east-1 only: elsewhere the command says how to get there.
    let text = d.config();
    let moved = text.replacen("region = \"us-east-1\"", "region = \"eu-west-1\"", 2);
    assert_ne!(moved, text, "{text}");
    d.write_config(&moved);
    let elsewhere = d.run(&[
        "costs",
        "--env",
        "dev",
        "--billing-alarm",
        "--email",
        "ops@example.com",
    ]);
    assert_eq!(code(&elsewhere), 2);
    assert!(
        stderr(&elsewhere).contains("in us-east-1 only")
            && stderr(&elsewhere).contains("eu-west-1"),
        "{}",
        stderr(&elsewhere)
    );
    assert_eq!(d.json(&["approvals"]).as_array().unwrap().len(), 4);
}

#[test]
fn checkov_when_asked_for_but_missing_never_blocks_the_plan() {
    let d = &Project::new().env(env_vars::PATH, "/usr/bin:/bin").build();
    let text = d.config();
    assert!(
        text.contains("checkov = false"),
        "init writes the switch, off: {text}"
    );
    d.write_config(&text.replace("checkov = false", "checkov = true"));
    let out = d.run(&plan_args(
        "dev",
        "AWS::S3::Bucket",
        "x",
        &["--output", "json"],
    ));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        plan["explanation"]
            .as_str()
            .unwrap()
            .contains("Checkov was not run"),
        "{}",
        plan["explanation"]
    );
    assert_eq!(plan["gate"]["decision"], "auto");
}
