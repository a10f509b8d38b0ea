//! The guarded workflow end to end over the local cloud and a real SQLite
//! store: what runs, what waits for a human, what is refused, and proof that
//! refused or bad requests made no cloud call and changed no state.

use infraguard_cloud_local::Faults;
use infraguard_core::approval::ApprovalStatus;
use infraguard_core::cloud::Cloud;
use infraguard_core::plan::{GateDecision, PlanStatus};
use infraguard_core::resource::Operation;
use infraguard_core::store::Store;
use infraguard_engine::{ApplyOutcome, EngineError, ErrorKind, PlanRequest};
use serde_json::json;

use super::harness::*;

fn count(e: &TestEngine, env: &str) -> usize {
    e.list_resources(env, None).unwrap().len()
}

#[test]
fn dev_bucket_is_planned_applied_tagged_and_audited() {
    let (_dir, e) = project();
    let plan = e
        .plan(bucket(
            "dev",
            "documents",
            json!({"VersioningConfiguration": {"Status": "Enabled"}}),
        ))
        .unwrap();
    assert_eq!(
        plan.identifier.as_deref(),
        Some("synthcoreai-documents-dev")
    );
    assert_eq!(
        plan.gate.decision,
        GateDecision::Auto,
        "reasons: {:?}",
        plan.gate.reasons
    );
    assert!(
        plan.template.0["Resources"]["DocumentsBucket"]["Properties"]["BucketName"]
            == "synthcoreai-documents-dev"
    );
    assert!(plan.explanation.contains("synthcoreai-documents-dev"));
    let event = applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    assert_eq!(
        event.identifier.as_deref(),
        Some("synthcoreai-documents-dev")
    );

    let tags = tags_of(&e, "dev", "AWS::S3::Bucket", "synthcoreai-documents-dev");
    for (k, v) in [
        ("Environment", "development"),
        ("Project", "SynthCore"),
        ("PromotionStatus", "dev-only"),
        ("Purpose", "documents"),
        ("MANAGED_BY", "infraguard"),
    ] {
        assert_eq!(tags.get(k).map(String::as_str), Some(v), "tag {k}");
    }
    assert!(tags["CostEstimate"].ends_with("USD/month"));
    assert!(tags.contains_key("CreatedDate") && tags.contains_key("CostCenter"));

    assert_eq!(
        actions(&e),
        ["plan.created", "apply.started", "apply.succeeded"]
    );
    assert!(e.audit_verify().unwrap().ok);
    assert_eq!(e.plan_by_id(&plan.id).unwrap().status, PlanStatus::Applied);
}

#[test]
fn prod_is_refused_until_a_human_approves_and_agents_cannot() {
    let (_dir, e) = project();
    let plan = e.plan(bucket("prod", "documents", json!({}))).unwrap();
    assert_eq!(plan.gate.decision, GateDecision::Refused);
    let approval_id = plan.gate.approval_id.clone().expect("an approval request");

    let before = calls(&e, "prod");
    match e.apply(&plan.id, &agent(), &mut noop()).unwrap() {
        ApplyOutcome::NeedsApproval { approval, .. } => assert_eq!(approval.id, approval_id),
        other => panic!("expected needs approval, got {other:?}"),
    }
    assert_eq!(
        calls(&e, "prod"),
        before,
        "a refused apply made a cloud call"
    );

    let err = e
        .approve_with(&approval_id, &caller(), &agent_code(), None)
        .unwrap_err();
    assert!(matches!(err, EngineError::ApprovalRefused { .. }), "{err}");
    assert_eq!(e.approvals(Some(ApprovalStatus::Pending)).unwrap().len(), 1);
    assert_eq!(calls(&e, "prod"), before);

    e.approve_with(&approval_id, &caller(), &confirm(), Some("looks right"))
        .unwrap();
    applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    assert_eq!(count(&e, "prod"), 1);

    assert!(audited(&e, "approval.refused"));
    assert!(audited(&e, "approval.granted"));
}

#[test]
fn a_plan_is_applied_once() {
    let (_dir, e) = project();
    let plan = e.plan(bucket("dev", "once", json!({}))).unwrap();
    let first = applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    let before = calls(&e, "dev");
    // Applying it again (a retry after a lost reply) answers the first
    // request's outcome and asks nothing of the cloud.
    let again = applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    assert_eq!(again.request_token, first.request_token);
    assert_eq!(again.identifier, first.identifier);
    assert_eq!(calls(&e, "dev"), before);
    assert_eq!(count(&e, "dev"), 1);
    assert!(audited(&e, "apply.replayed"));
}

#[test]
fn denied_plans_stay_denied() {
    let (_dir, e) = project();
    let plan = e.plan(bucket("prod", "denied", json!({}))).unwrap();
    let aid = plan.gate.approval_id.clone().unwrap();
    e.deny(&aid, &agent(), Some("no")).unwrap();
    let err = e
        .approve_with(&aid, &caller(), &confirm(), None)
        .unwrap_err();
    assert!(matches!(err, EngineError::ApprovalDecided { .. }), "{err}");
    assert!(err.to_string().contains("denied"));
    let before = calls(&e, "prod");
    assert!(matches!(
        e.apply(&plan.id, &agent(), &mut noop()).unwrap(),
        ApplyOutcome::Refused { .. }
    ));
    assert_eq!(calls(&e, "prod"), before);
    assert_eq!(count(&e, "prod"), 0);
}

#[test]
fn bad_input_is_refused_with_a_clear_message_and_changes_nothing() {
    let (_dir, e) = project();
    let base = e.plan(bucket("dev", "base", json!({}))).unwrap();
    applied(e.apply(&base.id, &agent(), &mut noop()).unwrap());
    let plans_before = e.plans(None, 1000).unwrap().len();
    let audit_before = e.audit_log().unwrap().len();
    let calls_before = calls(&e, "dev");

    let cases: Vec<(PlanRequest, &str)> = vec![
        (
            PlanRequest::create("dev", "AWS::S3::Buckets", Some("x"), json!({}), agent()),
            "AWS::S3::Bucket",
        ),
        (
            PlanRequest::create("staging", "AWS::S3::Bucket", Some("x"), json!({}), agent()),
            "staging",
        ),
        (
            PlanRequest::create(
                "dev",
                "AWS::S3::Bucket",
                Some("x"),
                json!(["not", "an", "object"]),
                agent(),
            ),
            "JSON object",
        ),
        (
            PlanRequest::create(
                "dev",
                "AWS::S3::Bucket",
                Some("x"),
                json!({"BucketNam": "oops"}),
                agent(),
            ),
            "BucketNam",
        ),
        (
            PlanRequest::create(
                "dev",
                "AWS::DynamoDB::Table",
                Some("users"),
                json!({}),
                agent(),
            ),
            "KeySchema",
        ),
        (
            PlanRequest::create("dev", "AWS::S3::Bucket", None, json!({}), agent()),
            "--purpose",
        ),
    ];
    for (req, needle) in cases {
        let err = e.plan(req).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadInput, "{err}");
        assert!(
            err.to_string().contains(needle),
            "`{err}` does not mention `{needle}`"
        );
    }
    assert_eq!(
        calls(&e, "dev"),
        calls_before,
        "bad creates reached the cloud"
    );

    // An update of a create-only property is refused at planning time.
    let mut update = update_request(
        "dev",
        "AWS::S3::Bucket",
        "synthcoreai-base-dev",
        json!([{"op": "replace", "path": "/BucketName", "value": "other"}]),
    );
    let err = e.plan(update.clone()).unwrap_err();
    assert!(matches!(err, EngineError::NotUpdatable { .. }), "{err}");
    assert!(err.to_string().contains("BucketName"));
    update.patch = Some(json!({"op": "replace"}));
    assert!(
        e.plan(update)
            .unwrap_err()
            .to_string()
            .contains("JSON array")
    );

    assert!(matches!(
        e.apply("plan-nope", &agent(), &mut noop()).unwrap_err(),
        EngineError::PlanNotFound(_)
    ));
    assert!(matches!(
        e.approve_with("apr-nope", &caller(), &confirm(), None)
            .unwrap_err(),
        EngineError::ApprovalNotFound(_)
    ));

    assert_eq!(
        e.plans(None, 1000).unwrap().len(),
        plans_before,
        "a refused request stored a plan"
    );
    assert_eq!(
        e.audit_log().unwrap().len(),
        audit_before,
        "a refused request wrote to the audit log"
    );
    assert_eq!(count(&e, "dev"), 1);
    let live = e
        .get_resource("dev", "AWS::S3::Bucket", "synthcoreai-base-dev")
        .unwrap();
    assert_eq!(live.properties["BucketName"], "synthcoreai-base-dev");
}

#[test]
fn costly_dev_resources_and_deletes_need_a_human() {
    let (_dir, e) = project();
    let db = e
        .plan(PlanRequest::create(
            "dev",
            "AWS::RDS::DBInstance",
            Some("db"),
            json!({"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20", "StorageType": "gp3",
                   "MasterUsername": "synthcoreai_admin", "ManageMasterUserPassword": true, "StorageEncrypted": true,
                   "BackupRetentionPeriod": 7, "DeletionProtection": true, "MultiAZ": false}),
            agent(),
        ))
        .unwrap();
    assert_eq!(db.gate.decision, GateDecision::ApprovalRequired);
    assert!(
        db.gate.reasons.iter().any(|r| r.contains("threshold")),
        "{:?}",
        db.gate.reasons
    );
    assert!(
        db.cost.monthly_usd.as_f64() > 15.0,
        "cost {}",
        db.cost.monthly_usd
    );

    let b = e.plan(bucket("dev", "temp", json!({}))).unwrap();
    applied(e.apply(&b.id, &agent(), &mut noop()).unwrap());
    let mut del = bucket("dev", "temp", json!({}));
    del.operation = Operation::Delete;
    del.properties = None;
    del.identifier = Some("synthcoreai-temp-dev".into());
    let plan = e.plan(del).unwrap();
    assert_eq!(plan.gate.decision, GateDecision::ApprovalRequired);
    assert!(matches!(
        e.apply(&plan.id, &agent(), &mut noop()).unwrap(),
        ApplyOutcome::NeedsApproval { .. }
    ));
    assert_eq!(count(&e, "dev"), 1);
    e.approve_with(
        plan.gate.approval_id.as_deref().unwrap(),
        &caller(),
        &confirm(),
        None,
    )
    .unwrap();
    applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    assert_eq!(count(&e, "dev"), 0);
}

#[test]
fn updates_are_patches_through_the_gate() {
    let (_dir, e) = project();
    let p = e.plan(bucket("dev", "upd", json!({}))).unwrap();
    applied(e.apply(&p.id, &agent(), &mut noop()).unwrap());
    let up = update_request(
        "dev",
        "AWS::S3::Bucket",
        "synthcoreai-upd-dev",
        json!([{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}}]),
    );
    let plan = e.plan(up).unwrap();
    assert_eq!(
        plan.gate.decision,
        GateDecision::Auto,
        "{:?}",
        plan.gate.reasons
    );
    applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    let live = e
        .get_resource("dev", "AWS::S3::Bucket", "synthcoreai-upd-dev")
        .unwrap();
    assert_eq!(
        live.properties["VersioningConfiguration"]["Status"],
        "Enabled"
    );
}

#[test]
fn a_plan_changed_after_approval_is_not_applied() {
    let (_dir, e) = project();
    let plan = e.plan(bucket("prod", "tamper", json!({}))).unwrap();
    e.approve_with(
        plan.gate.approval_id.as_deref().unwrap(),
        &caller(),
        &confirm(),
        None,
    )
    .unwrap();
    // Someone edits the stored plan to make a different bucket.
    let body = serde_json::to_string(&plan)
        .unwrap()
        .replace("synthcoreai-tamper-prod", "synthcoreai-evil-prod");
    tamper_plan(&e, &plan.id, None, &body);
    let before = calls(&e, "prod");
    let err = e.apply(&plan.id, &agent(), &mut noop()).unwrap_err();
    assert!(matches!(err, EngineError::Tampered { .. }), "{err}");
    assert_eq!(calls(&e, "prod"), before);
}

#[test]
fn audit_verify_detects_changed_and_removed_entries() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path());
    for p in ["a", "b"] {
        let plan = e.plan(bucket("dev", p, json!({}))).unwrap();
        applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    }
    assert!(e.audit_verify().unwrap().ok);
    // Ordinary SQL cannot rewrite the log: the triggers refuse.
    let raw = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let err = raw
        .execute("UPDATE audit SET outcome = 'x' WHERE seq = 1", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert!(raw.execute("DELETE FROM audit WHERE seq = 1", []).is_err());
    drop(raw);
    e.store()
        .tamper_for_tests("UPDATE audit SET outcome = 'ok!' WHERE seq = 2")
        .unwrap();
    let v = e.audit_verify().unwrap();
    assert!(!v.ok);
    assert!(
        v.problems
            .iter()
            .any(|p| p.contains("#2") && p.contains("changed")),
        "{:?}",
        v.problems
    );

    let (_dir, e) = project();
    let plan = e.plan(bucket("dev", "c", json!({}))).unwrap();
    applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    e.store()
        .tamper_for_tests("DELETE FROM audit WHERE seq = 2")
        .unwrap();
    let v = e.audit_verify().unwrap();
    assert!(
        !v.ok && v.problems.iter().any(|p| p.contains("removed")),
        "{:?}",
        v.problems
    );
}

#[test]
fn throttling_is_retried_with_the_same_client_token() {
    let (_dir, e) = project();
    set_faults(
        &e,
        "dev",
        Faults {
            throttle_next: 2,
            ..Default::default()
        },
    );
    let plan = e.plan(bucket("dev", "throttled", json!({}))).unwrap();
    applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    assert_eq!(count(&e, "dev"), 1);
}

#[test]
fn slow_requests_are_polled_to_completion_with_progress() {
    let (_dir, e) = project();
    set_faults(
        &e,
        "dev",
        Faults {
            pending_polls: 2,
            ..Default::default()
        },
    );
    let plan = e.plan(bucket("dev", "slow", json!({}))).unwrap();
    let mut seen = Vec::new();
    let mut progress = |ev: &infraguard_core::cloud::ProgressEvent| seen.push(ev.operation_status);
    applied(e.apply(&plan.id, &agent(), &mut progress).unwrap());
    use infraguard_core::cloud::OperationStatus::*;
    assert_eq!(seen.first(), Some(&InProgress));
    assert_eq!(seen.last(), Some(&Success));
}

#[test]
fn state_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (plan_id, approval_id) = {
        let e = engine_in(dir.path());
        let p = e.plan(bucket("prod", "later", json!({}))).unwrap();
        (p.id.clone(), p.gate.approval_id.clone().unwrap())
    };
    let e = engine_in(dir.path());
    e.approve_with(&approval_id, &caller(), &confirm(), None)
        .unwrap();
    applied(e.apply(&plan_id, &agent(), &mut noop()).unwrap());
    assert_eq!(
        e.store().approvals(None).unwrap()[0].status,
        ApprovalStatus::Approved
    );
}

#[test]
fn an_apply_interrupted_after_the_cloud_acted_finishes_without_acting_twice() {
    use infraguard_core::cloud::Cloud;
    let (_dir, e) = project();
    let plan = e.plan(bucket("dev", "crash", json!({}))).unwrap();
    let stored = e.store().plan(&plan.id).unwrap().unwrap();
    // The process sent the request (with the plan's client token) and died
    // before recording the outcome: the cloud has the bucket, the plan says
    // `applying`.
    let t = infraguard_core::resource::ResourceType::new("AWS::S3::Bucket").unwrap();
    e.cloud("dev")
        .unwrap()
        .create(
            &t,
            &stored.desired_state,
            &format!("infraguard-{}", plan.id),
        )
        .unwrap();
    let body = serde_json::to_string(&stored)
        .unwrap()
        .replace("\"status\":\"planned\"", "\"status\":\"applying\"");
    tamper_plan(&e, &plan.id, Some("applying"), &body);
    assert_eq!(e.plan_by_id(&plan.id).unwrap().status, PlanStatus::Applying);

    // The next run re-sends the same client token: the cloud answers with
    // the original request instead of creating a second bucket.
    applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    assert_eq!(count(&e, "dev"), 1);
    assert_eq!(e.plan_by_id(&plan.id).unwrap().status, PlanStatus::Applied);
}

#[test]
fn the_seeds_tag_update_patch_works_on_list_tags() {
    let (_dir, e) = project();
    let p = e.plan(bucket("dev", "documents", json!({}))).unwrap();
    applied(e.apply(&p.id, &agent(), &mut noop()).unwrap());
    // Exactly as the seed writes it (section 3.4, step 6).
    let up = update_request(
        "dev",
        "AWS::S3::Bucket",
        "synthcoreai-documents-dev",
        json!([
            {"op": "replace", "path": "/Tags/PromotionStatus", "value": "synced"},
            {"op": "add", "path": "/Tags/ProdCounterpart", "value": "synthcoreai-documents-prod"}
        ]),
    );
    let plan = e.plan(up).unwrap();
    assert_eq!(
        plan.patch.as_ref().unwrap()[0]["path"],
        "/Tags",
        "the plan shows the patch that is applied"
    );
    applied(e.apply(&plan.id, &agent(), &mut noop()).unwrap());
    let tags = tags_of(&e, "dev", "AWS::S3::Bucket", "synthcoreai-documents-dev");
    assert_eq!(tags["PromotionStatus"], "synced");
    assert_eq!(tags["ProdCounterpart"], "synthcoreai-documents-prod");
    assert_eq!(tags["Project"], "SynthCore", "other tags are kept");
}

#[test]
fn reads_succeed_under_a_steady_twenty_percent_throttle() {
    let dir = tempfile::tempdir().unwrap();
    // The default retry policy (five retries), without the pauses.
    let e = engine_in(dir.path()).with_poll_policy(infraguard_engine::PollPolicy {
        sleep: std::sync::Arc::new(|_| {}),
        ..Default::default()
    });
    for env in ["dev", "prod"] {
        let cloud = e.cloud(env).unwrap();
        for i in 0..12 {
            let t = infraguard_core::ResourceType::new("AWS::S3::Bucket").unwrap();
            cloud
                .create(
                    &t,
                    &json!({"BucketName": format!("synthcoreai-thr{i:02}-{env}")}),
                    &format!("seed-{env}-{i}"),
                )
                .unwrap();
        }
        cloud
            .set_faults(&Faults {
                throttle_percent: 20,
                ..Default::default()
            })
            .unwrap();
    }
    let calls_before: u64 = ["dev", "prod"]
        .iter()
        .map(|env| e.cloud(env).unwrap().calls())
        .sum();
    let listed = e.list_resources("dev", None).expect("resources list");
    assert_eq!(listed.len(), 12);
    let sync = e.sync_status(None).expect("sync");
    assert_eq!(sync.dev_only.len() + sync.synced.len(), 12, "{sync:?}");
    e.drift(None).expect("drift");
    e.cost_report(None).expect("costs");
    let calls: u64 = ["dev", "prod"]
        .iter()
        .map(|env| e.cloud(env).unwrap().calls())
        .sum::<u64>()
        - calls_before;
    // Enough calls that a fifth of them failing would have broken each
    // command without the retries.
    assert!(calls > 100, "{calls} calls");
}

#[test]
fn the_seeds_secret_name_is_conventional_and_an_off_convention_policy_gates() {
    let (_dir, e) = project();
    let secret = e
        .plan(PlanRequest::create(
            "dev",
            "AWS::SecretsManager::Secret",
            Some("ses credentials"),
            json!({"Description": "SES SMTP credentials"}),
            agent(),
        ))
        .unwrap();
    // Its identifier is the ARN the cloud assigns; the name is its own.
    assert_eq!(secret.desired_state["Name"], "synthcoreai/ses-credentials");
    assert!(
        !secret
            .findings
            .iter()
            .any(|f| f.rule.starts_with("IG-NAME")),
        "{:?}",
        secret.findings
    );

    let policy = e
        .plan(PlanRequest::create(
            "dev",
            "AWS::IAM::ManagedPolicy",
            None,
            json!({"ManagedPolicyName": "upload-policy", "PolicyDocument": {"Version": "2012-10-17",
                   "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::synthcoreai-documents-dev/*"}]}}),
            agent(),
        ))
        .unwrap();
    let naming = policy
        .findings
        .iter()
        .find(|f| f.rule == "IG-NAME-002")
        .expect("naming finding");
    assert_eq!(naming.severity, infraguard_policy::Severity::Medium);
    assert_ne!(
        policy.gate.decision,
        GateDecision::Auto,
        "{:?}",
        policy.gate
    );
}

#[test]
fn tags_given_are_kept_and_only_tracking_tags_are_replaced() {
    let (_dir, e) = project();
    let plan = e
        .plan(bucket(
            "dev",
            "tagged",
            json!({"Tags": [
                {"Key": "MCP_SERVER_VERSION", "Value": "1.0.0"},
                {"Key": "MANAGED_BY", "Value": "CCAPI-MCP-SERVER"},
                {"Key": "CreatedBy", "Value": "the-seed"},
                {"Key": "Environment", "Value": "production"}
            ]}),
        ))
        .unwrap();
    let tags: std::collections::BTreeMap<String, String> = plan.desired_state["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().to_string(),
                t["Value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(tags["MCP_SERVER_VERSION"], "1.0.0");
    assert_eq!(tags["MANAGED_BY"], "CCAPI-MCP-SERVER");
    assert_eq!(tags["CreatedBy"], "the-seed");
    // A tracking tag infraguard owns: a dev bucket is development.
    assert_eq!(tags["Environment"], "development");
    assert!(
        plan.explanation
            .contains("tag Environment is infraguard's tracking tag"),
        "{}",
        plan.explanation
    );
    assert!(
        plan.explanation.contains("infraguard set these tags:"),
        "{}",
        plan.explanation
    );
    assert!(
        plan.explanation.contains("CostEstimate="),
        "{}",
        plan.explanation
    );

    // Without given values, the defaults fill in: CreatedBy is the caller.
    let plain = e.plan(bucket("dev", "plain", json!({}))).unwrap();
    let tags = plain.desired_state["Tags"].to_string();
    assert!(
        tags.contains(&format!("\"Value\":\"{}\"", agent().name())),
        "{tags}"
    );
}

#[test]
fn an_arn_of_an_account_that_is_not_the_environments_gates_the_plan() {
    let (_dir, e) = project();
    let lambda = |purpose: &str, role: &str| {
        PlanRequest::create(
            "dev",
            "AWS::Lambda::Function",
            Some(purpose),
            json!({"Runtime": "nodejs20.x", "Handler": "index.handler", "Role": role,
                   "Code": {"ZipFile": "exports.handler = async () => {}"}}),
            agent(),
        )
    };
    // The seed's example account.
    let foreign = e
        .plan(lambda(
            "processor",
            "arn:aws:iam::123456789012:role/synthcoreai-lambda-role",
        ))
        .unwrap();
    let f = foreign
        .findings
        .iter()
        .find(|f| f.rule == "IG-ACCT-001")
        .expect("finding");
    assert!(f.message.contains("123456789012"), "{}", f.message);
    assert_ne!(foreign.gate.decision, GateDecision::Auto);

    // dev's own account is fine.
    let own = e.cloud("dev").unwrap().account_id().to_string();
    let ok = e
        .plan(lambda(
            "worker",
            &format!("arn:aws:iam::{own}:role/synthcoreai-lambda-role"),
        ))
        .unwrap();
    assert!(
        !ok.findings.iter().any(|f| f.rule == "IG-ACCT-001"),
        "{:?}",
        ok.findings
    );
}
