//! Promotion, sync status, drift and preflight end to end over two local
//! clouds (one account each) and a real SQLite store.
//!
//! Out-of-band changes (a resource deleted or edited behind infraguard's
//! back) are made straight through the cloud port, as a person with console
//! access would; everything infraguard does goes through the engine.

use std::sync::Arc;

use infraguard_cloud_local::Faults;
use infraguard_core::approval::ApprovalStatus;
use infraguard_core::clock::SystemClock;
use infraguard_core::cloud::{Cloud, OperationStatus};
use infraguard_core::plan::GateDecision;
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_core::store::Store;
use infraguard_engine::promote::CheckStatus;
use infraguard_engine::{ApplyOutcome, PlanRequest, PromotionReport, PromotionState};
use serde_json::{Value, json};

use super::harness::*;

/// Plan and apply a create in dev (automatic there).
fn create_dev(e: &TestEngine, t: &str, purpose: &str, props: Value) -> String {
    let plan = e
        .plan(PlanRequest::create("dev", t, Some(purpose), props, agent()))
        .unwrap();
    assert_eq!(
        plan.gate.decision,
        GateDecision::Auto,
        "{:?}",
        plan.gate.reasons
    );
    match e.apply(&plan.id, &agent(), &mut noop()).unwrap() {
        ApplyOutcome::Applied { event, .. } => event.identifier.unwrap(),
        other => panic!("dev create not applied: {other:?}"),
    }
}

fn promote(e: &TestEngine, t: &str, id: &str, deps: bool) -> PromotionReport {
    e.promote(t, id, deps, &agent(), &mut noop()).unwrap()
}

fn approval_of(r: &PromotionReport) -> String {
    r.gate
        .as_ref()
        .and_then(|g| g.approval_id.clone())
        .unwrap_or_else(|| panic!("no approval id in {r:#?}"))
}

/// Promote, approve as a human, promote again: the whole two-call path.
fn promote_approved(e: &TestEngine, t: &str, id: &str) -> PromotionReport {
    let first = promote(e, t, id, false);
    assert_eq!(first.status, PromotionState::AwaitingApproval, "{first:#?}");
    e.approve_with(&approval_of(&first), &caller(), &confirm(), None)
        .unwrap();
    let second = promote(e, t, id, false);
    assert_eq!(second.status, PromotionState::Synced, "{second:#?}");
    second
}

const BUCKET: &str = "AWS::S3::Bucket";
const ROLE: &str = "AWS::IAM::Role";
const FUNCTION: &str = "AWS::Lambda::Function";

#[test]
fn a_bucket_waits_for_a_human_then_is_created_in_prod_and_dev_is_tagged_synced() {
    let (_dir, e) = project();
    let dev_id = create_dev(
        &e,
        BUCKET,
        "documents",
        json!({"VersioningConfiguration": {"Status": "Enabled"},
               "Tags": [{"Key": "Team", "Value": "docs"}]}),
    );
    assert_eq!(dev_id, "synthcoreai-documents-dev");
    let sync = e.sync_status(Some(BUCKET)).unwrap();
    assert_eq!(sync.dev_only.len(), 1);
    assert_eq!(
        sync.dev_only[0].promotion_status.as_deref(),
        Some("dev-only")
    );

    let prod_calls = e.cloud("prod").unwrap().calls();
    let first = promote(&e, BUCKET, &dev_id, false);
    assert_eq!(first.status, PromotionState::AwaitingApproval, "{first:#?}");
    let approval = approval_of(&first);
    let waiting: Vec<_> = first
        .checklist
        .iter()
        .filter(|c| c.status == CheckStatus::Waiting)
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(waiting, ["cost", "approval"]);
    assert!(
        first
            .checklist
            .iter()
            .all(|c| c.status != CheckStatus::Failed)
    );
    let plan = e.plan_by_id(first.plan_id.as_deref().unwrap()).unwrap();
    assert_eq!(plan.env, "prod");
    assert_eq!(
        plan.identifier.as_deref(),
        Some("synthcoreai-documents-prod")
    );
    // Nothing was written to prod while waiting: only reads.
    let prod = e.cloud("prod").unwrap();
    assert_eq!(prod.calls() - prod_calls, prod_calls_for_reads(&e));

    // A second call before the approval finds the same plan and approval.
    let again = promote(&e, BUCKET, &dev_id, false);
    assert_eq!(again.status, PromotionState::AwaitingApproval);
    assert_eq!(approval_of(&again), approval);
    assert_eq!(again.plan_id, first.plan_id);
    assert_eq!(e.approvals(Some(ApprovalStatus::Pending)).unwrap().len(), 1);

    // An agent cannot approve; a human can, and the next call creates.
    assert!(
        e.approve_with(&approval, &caller(), &agent_code(), None)
            .is_err()
    );
    e.approve_with(&approval, &caller(), &confirm(), Some("ship it"))
        .unwrap();
    let done = promote(&e, BUCKET, &dev_id, false);
    assert_eq!(done.status, PromotionState::Synced, "{done:#?}");
    assert_eq!(done.prod_id.as_deref(), Some("synthcoreai-documents-prod"));
    assert!(
        done.checklist
            .iter()
            .all(|c| c.status == CheckStatus::Passed),
        "{:#?}",
        done.checklist
    );
    let outcomes: Vec<(&str, &str)> = done
        .dev_tags
        .iter()
        .map(|u| (u.promotion_status.as_str(), u.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [("pending-prod", "applied"), ("synced", "applied")]
    );

    let prod_tags = tags_of(&e, "prod", BUCKET, "synthcoreai-documents-prod");
    assert_eq!(prod_tags["Environment"], "production");
    assert_eq!(prod_tags["Team"], "docs", "other tags are kept");
    assert_eq!(prod_tags["DevCounterpart"], dev_id);
    assert!(!prod_tags.contains_key("PromotionStatus"));
    let prod_live = e
        .get_resource("prod", BUCKET, "synthcoreai-documents-prod")
        .unwrap();
    assert_eq!(
        prod_live.properties["VersioningConfiguration"]["Status"],
        "Enabled"
    );
    let dev_tags = tags_of(&e, "dev", BUCKET, &dev_id);
    assert_eq!(dev_tags["PromotionStatus"], "synced");
    assert_eq!(dev_tags["ProdCounterpart"], "synthcoreai-documents-prod");
    assert_eq!(dev_tags["Environment"], "development");

    let sync = e.sync_status(None).unwrap();
    assert!(sync.dev_only.is_empty() && sync.prod_only.is_empty() && sync.needs_review.is_empty());
    assert_eq!(sync.synced.len(), 1);
    assert_eq!(sync.synced[0].prod, "synthcoreai-documents-prod");
    let drift = e.drift(None).unwrap();
    assert!(drift.is_clean(), "{drift:#?}");
    assert_eq!(drift.pairs_checked, 1);

    // Promoting again is a no-op that says where it is.
    let noop_again = promote(&e, BUCKET, &dev_id, false);
    assert_eq!(noop_again.status, PromotionState::Synced);
    assert!(noop_again.plan_id.is_none());

    let actions = actions(&e);
    for a in [
        "promotion.planned",
        "approval.granted",
        "promotion.completed",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
    assert!(e.audit_verify().unwrap().ok);
}

/// Cloud calls a promotion that stops before writing makes in prod: one
/// list per supported type (all empty here, so one page each) and one
/// identity call.
/// One list per type (the inventory), the counterpart's read, and the
/// plan's check that the prod name is still free.
/// One list per type, the name check, the identity read, and the account
/// the scan checks ARNs against.
fn prod_calls_for_reads(_e: &TestEngine) -> u64 {
    infraguard_schema::Catalog::builtin().types().len() as u64 + 3
}

fn lambda_with_role(e: &TestEngine) -> (String, String) {
    let role = create_dev(
        e,
        ROLE,
        "worker",
        json!({"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}),
    );
    let role_arn = e.get_resource("dev", ROLE, &role).unwrap().properties["Arn"]
        .as_str()
        .unwrap()
        .to_string();
    let function = create_dev(
        e,
        FUNCTION,
        "worker",
        json!({"Runtime": "python3.12", "Handler": "index.handler", "Role": role_arn,
               "Code": {"ZipFile": "def handler(event, context):\n    return 'ok'\n"}}),
    );
    (role, function)
}

#[test]
fn an_unpromoted_dependency_stops_the_promotion_and_is_named() {
    let (_dir, e) = project();
    let (role, function) = lambda_with_role(&e);
    let r = promote(&e, FUNCTION, &function, false);
    assert_eq!(r.status, PromotionState::Blocked, "{r:#?}");
    let failed = r.failed_item().expect("a failed checklist item");
    assert_eq!(failed.key, "dependencies");
    assert!(
        failed.detail.contains(&role) && failed.detail.contains("/Role"),
        "{}",
        failed.detail
    );
    assert!(r.message.contains(&role), "{}", r.message);
    assert!(r.plan_id.is_none());
    assert!(
        e.plans(Some("prod"), 10).unwrap().is_empty(),
        "no prod plan was made"
    );
    assert!(e.approvals(None).unwrap().is_empty());
    assert!(audited(&e, "promotion.blocked"));
}

#[test]
fn with_dependencies_the_role_is_promoted_before_the_function() {
    let (_dir, e) = project();
    let (role, function) = lambda_with_role(&e);

    // Call 1: the role's prod plan waits for a human; the function waits on it.
    let r1 = promote(&e, FUNCTION, &function, true);
    assert_eq!(r1.status, PromotionState::AwaitingApproval, "{r1:#?}");
    let waiting = r1.waiting_on.as_ref().expect("waits on the role");
    assert_eq!(
        (waiting.type_name.as_str(), waiting.identifier.as_str()),
        (ROLE, role.as_str())
    );
    assert_eq!(r1.dependencies.len(), 1);
    assert_eq!(r1.dependencies[0].type_name, ROLE);
    e.approve_with(&approval_of(&r1), &caller(), &confirm(), None)
        .unwrap();

    // Call 2: the role is created; the function's plan now waits.
    let r2 = promote(&e, FUNCTION, &function, true);
    assert_eq!(r2.dependencies[0].status, PromotionState::Synced, "{r2:#?}");
    assert_eq!(r2.status, PromotionState::AwaitingApproval, "{r2:#?}");
    assert!(r2.waiting_on.is_none(), "the function's own approval now");
    let prod_role = e
        .get_resource("prod", ROLE, "synthcoreai-worker-prod")
        .unwrap();
    let prod_role_arn = prod_role.properties["Arn"].as_str().unwrap().to_string();
    let prod_account = e.cloud("prod").unwrap().account_id().to_string();
    assert!(prod_role_arn.contains(&prod_account));
    let mapped: Vec<_> = r2
        .references
        .iter()
        .filter(|m| m.kind == "resource")
        .collect();
    assert_eq!(mapped.len(), 1, "{:?}", r2.references);
    assert_eq!(mapped[0].pointer, "/Role");
    assert_eq!(mapped[0].prod_value, prod_role_arn);
    e.approve_with(&approval_of(&r2), &caller(), &confirm(), None)
        .unwrap();

    // Call 3: the function is created, pointing at the prod role.
    let r3 = promote(&e, FUNCTION, &function, true);
    assert_eq!(r3.status, PromotionState::Synced, "{r3:#?}");
    let prod_fn = e
        .get_resource("prod", FUNCTION, "synthcoreai-worker-prod")
        .unwrap();
    assert_eq!(prod_fn.properties["Role"], prod_role_arn.as_str());
    // The write-only code was restored from the dev create plan.
    // (The stored plan: plans handed to callers are redacted.)
    let plan = e
        .store()
        .plan(r3.plan_id.as_deref().unwrap())
        .unwrap()
        .unwrap();
    assert!(
        plan.desired_state["Code"]["ZipFile"]
            .as_str()
            .unwrap()
            .contains("return 'ok'")
    );
    let shown = e.plan_by_id(&plan.id).unwrap();
    assert!(
        !shown.desired_state["Code"]["ZipFile"]
            .as_str()
            .unwrap()
            .contains("return")
    );

    // Prod creates happened role first, then function.
    let creates: Vec<String> = e
        .plans(Some("prod"), 10)
        .unwrap()
        .into_iter()
        .rev()
        .filter(|p| p.operation == Operation::Create)
        .map(|p| p.type_name.to_string())
        .collect();
    assert_eq!(creates, [ROLE, FUNCTION]);
    let sync = e.sync_status(None).unwrap();
    assert_eq!(sync.synced.len(), 2);
    assert!(sync.dev_only.is_empty(), "{:?}", sync.dev_only);
    let drift = e.drift(None).unwrap();
    assert!(drift.is_clean(), "{drift:#?}");
    // One type alone still maps the role reference through its counterpart.
    let drift = e.drift(Some(FUNCTION)).unwrap();
    assert_eq!(drift.pairs_checked, 1);
    assert!(drift.is_clean(), "{drift:#?}");
}

#[test]
fn deleted_counterparts_need_review() {
    let (_dir, e) = project();
    let a = create_dev(&e, BUCKET, "alpha", json!({}));
    let b = create_dev(&e, BUCKET, "beta", json!({}));
    let a_prod = promote_approved(&e, BUCKET, &a).prod_id.unwrap();
    let b_prod = promote_approved(&e, BUCKET, &b).prod_id.unwrap();
    let t = ResourceType::new(BUCKET).unwrap();
    // Someone deletes alpha's prod copy, and beta's dev source, by hand.
    let ev = e
        .cloud("prod")
        .unwrap()
        .delete(&t, &a_prod, "oob-1")
        .unwrap();
    assert_eq!(ev.operation_status, OperationStatus::Success);
    let ev = e.cloud("dev").unwrap().delete(&t, &b, "oob-2").unwrap();
    assert_eq!(ev.operation_status, OperationStatus::Success);

    let sync = e.sync_status(Some(BUCKET)).unwrap();
    assert!(sync.synced.is_empty() && sync.dev_only.is_empty() && sync.prod_only.is_empty());
    assert_eq!(sync.needs_review.len(), 2, "{:#?}", sync.needs_review);
    let dev_side = sync
        .needs_review
        .iter()
        .find(|n| n.dev.as_deref() == Some(a.as_str()))
        .unwrap();
    assert_eq!(dev_side.expected_prod.as_deref(), Some(a_prod.as_str()));
    let prod_side = sync
        .needs_review
        .iter()
        .find(|n| n.prod.as_deref() == Some(b_prod.as_str()))
        .unwrap();
    assert!(prod_side.reason.contains(&b), "{}", prod_side.reason);
    let v = serde_json::to_value(&sync).unwrap();
    for key in ["dev_only", "prod_only", "synced", "needs_review"] {
        assert!(v[key].is_array(), "JSON key {key}");
    }

    // Both deletions are also out-of-band drift against what was applied.
    let drift = e.drift(Some(BUCKET)).unwrap();
    let deleted: Vec<&str> = drift
        .out_of_band
        .iter()
        .filter(|o| o.deleted)
        .map(|o| o.identifier.as_str())
        .collect();
    assert!(
        deleted.contains(&a_prod.as_str()) && deleted.contains(&b.as_str()),
        "{deleted:?}"
    );

    // Promoting alpha again recreates its prod copy.
    let again = promote(&e, BUCKET, &a, false);
    assert!(
        again.notes.iter().any(|n| n.contains("no longer exists")),
        "{:?}",
        again.notes
    );
    assert_eq!(again.status, PromotionState::AwaitingApproval);
}

#[test]
fn an_out_of_band_change_is_drift_and_fixing_it_is_a_gated_update() {
    let (_dir, e) = project();
    let dev = create_dev(
        &e,
        BUCKET,
        "reports",
        json!({"VersioningConfiguration": {"Status": "Enabled"}}),
    );
    let prod = promote_approved(&e, BUCKET, &dev).prod_id.unwrap();
    let t = ResourceType::new(BUCKET).unwrap();
    let patch =
        json!([{"op": "replace", "path": "/VersioningConfiguration/Status", "value": "Suspended"}]);
    let ev = e
        .cloud("prod")
        .unwrap()
        .update(&t, &prod, &patch, "console-edit")
        .unwrap();
    assert_eq!(ev.operation_status, OperationStatus::Success);

    let drift = e.drift(None).unwrap();
    assert_eq!(drift.drifted.len(), 1, "{drift:#?}");
    let d = &drift.drifted[0];
    assert_eq!(
        (d.dev.as_str(), d.prod.as_str()),
        (dev.as_str(), prod.as_str())
    );
    let paths: Vec<&str> = d.differences.iter().map(|x| x.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/VersioningConfiguration/Status"],
        "names, Environment tag and ARNs do not count"
    );
    assert_eq!(d.differences[0].expected, Some(json!("Enabled")));
    assert_eq!(d.differences[0].actual, Some(json!("Suspended")));
    assert!(d.needs_replacement.is_empty());
    assert_eq!(drift.out_of_band.len(), 1, "{:#?}", drift.out_of_band);
    assert_eq!(drift.out_of_band[0].env, "prod");
    assert_eq!(
        drift.out_of_band[0].differences[0].path,
        "/VersioningConfiguration/Status"
    );

    let preflight = e.preflight("prod").unwrap();
    assert!(!preflight.ready);
    let check = preflight.checks.iter().find(|c| c.key == "drift").unwrap();
    assert!(
        !check.ok && check.details.iter().any(|l| l.contains(&prod)),
        "{check:?}"
    );

    // The fix is an ordinary prod update: a human approves it.
    let plan = e
        .plan(update_request("prod", BUCKET, &prod, d.patch.clone()))
        .unwrap();
    assert_eq!(plan.gate.decision, GateDecision::Refused);
    e.approve_with(
        plan.gate.approval_id.as_deref().unwrap(),
        &caller(),
        &confirm(),
        None,
    )
    .unwrap();
    assert!(matches!(
        e.apply(&plan.id, &agent(), &mut noop()).unwrap(),
        ApplyOutcome::Applied { .. }
    ));
    let drift = e.drift(None).unwrap();
    assert!(drift.is_clean(), "{drift:#?}");
    let preflight = e.preflight("prod").unwrap();
    assert!(preflight.ready, "{preflight:#?}");
}

#[test]
fn an_approved_create_that_does_not_finish_leaves_dev_pending_prod_and_resumes() {
    let (_dir, e) = project();
    let dev = create_dev(&e, BUCKET, "slow", json!({}));
    let first = promote(&e, BUCKET, &dev, false);
    e.approve_with(&approval_of(&first), &caller(), &confirm(), None)
        .unwrap();
    // Prod keeps the create IN_PROGRESS for longer than the engine polls.
    let prod = e.cloud("prod").unwrap();
    prod.set_faults(&Faults {
        pending_polls: 25,
        ..Faults::default()
    })
    .unwrap();
    let stuck = promote(&e, BUCKET, &dev, false);
    assert_eq!(stuck.status, PromotionState::PendingProd, "{stuck:#?}");
    assert_eq!(
        tags_of(&e, "dev", BUCKET, &dev)["PromotionStatus"],
        "pending-prod"
    );
    let sync = e.sync_status(Some(BUCKET)).unwrap();
    assert_eq!(
        sync.dev_only[0].promotion_status.as_deref(),
        Some("pending-prod")
    );
    let preflight = e.preflight("prod").unwrap();
    let check = preflight
        .checks
        .iter()
        .find(|c| c.key == "promotion")
        .unwrap();
    assert!(
        check.details.iter().any(|l| l.contains("pending-prod")),
        "{check:?}"
    );

    prod.set_faults(&Faults::default()).unwrap();
    let done = promote(&e, BUCKET, &dev, false);
    assert_eq!(done.status, PromotionState::Synced, "{done:#?}");
    assert_eq!(done.plan_id, first.plan_id, "the same plan resumed");
    assert_eq!(
        tags_of(&e, "dev", BUCKET, &dev)["PromotionStatus"],
        "synced"
    );
    assert_eq!(e.list_resources("prod", Some(BUCKET)).unwrap().len(), 1);
}

#[test]
fn a_denied_promotion_stays_denied_for_the_same_content() {
    let (_dir, e) = project();
    let dev = create_dev(&e, BUCKET, "nope", json!({}));
    let first = promote(&e, BUCKET, &dev, false);
    e.deny(&approval_of(&first), &agent(), Some("not this quarter"))
        .unwrap();
    let r = promote(&e, BUCKET, &dev, false);
    assert_eq!(r.status, PromotionState::Denied, "{r:#?}");
    assert!(r.message.contains("not this quarter"), "{}", r.message);
    assert!(e.list_resources("prod", None).unwrap().is_empty());
    assert_eq!(
        tags_of(&e, "dev", BUCKET, &dev)["PromotionStatus"],
        "dev-only"
    );
}

#[test]
fn unaccepted_findings_stop_the_promotion_and_its_approval_is_denied() {
    let (_dir, e) = project();
    // Made outside infraguard: no encryption, public access not blocked.
    let t = ResourceType::new(BUCKET).unwrap();
    let props = json!({"BucketName": "synthcoreai-legacy-dev",
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": false, "BlockPublicPolicy": false,
            "IgnorePublicAcls": false, "RestrictPublicBuckets": false},
        "Tags": [{"Key": "Environment", "Value": "development"}]});
    e.cloud("dev")
        .unwrap()
        .create(&t, &props, "console-create")
        .unwrap();
    let r = promote(&e, BUCKET, "synthcoreai-legacy-dev", false);
    assert_eq!(r.status, PromotionState::Blocked, "{r:#?}");
    let failed = r.failed_item().unwrap();
    assert_eq!(failed.key, "security_scan");
    assert!(failed.detail.contains("IG-"), "{}", failed.detail);
    let approval = approval_of(&r);
    let a = e
        .approvals(None)
        .unwrap()
        .into_iter()
        .find(|a| a.id == approval)
        .unwrap();
    assert_eq!(
        a.status,
        ApprovalStatus::Denied,
        "nobody can approve a failed checklist"
    );
    let again = promote(&e, BUCKET, "synthcoreai-legacy-dev", false);
    assert_eq!(again.status, PromotionState::Blocked);
    assert!(e.list_resources("prod", None).unwrap().is_empty());

    // Preflight of dev sees the same findings.
    let preflight = e.preflight("dev").unwrap();
    let check = preflight
        .checks
        .iter()
        .find(|c| c.key == "findings")
        .unwrap();
    assert!(
        !check.ok
            && check
                .details
                .iter()
                .any(|l| l.contains("synthcoreai-legacy-dev")),
        "{check:?}"
    );
}

#[test]
fn preflight_is_ready_only_when_nothing_waits() {
    let (_dir, e) = project();
    let empty = e.preflight("prod").unwrap();
    assert!(empty.ready, "{empty:#?}");
    let dev = create_dev(&e, BUCKET, "ledger", json!({}));
    let waiting = e.preflight("prod").unwrap();
    assert!(!waiting.ready);
    let check = waiting
        .checks
        .iter()
        .find(|c| c.key == "promotion")
        .unwrap();
    assert!(check.details.iter().any(|l| l.contains(&dev)), "{check:?}");
    promote_approved(&e, BUCKET, &dev);
    let ready = e.preflight("prod").unwrap();
    assert!(ready.ready, "{ready:#?}");
    assert!(e.preflight("stage").is_err());
}

#[test]
fn a_dev_tag_update_that_waits_for_a_human_leaves_the_pair_synced_by_the_prod_tag() {
    // Every change needs a human here, dev tag updates included.
    let dir = tempfile::tempdir().unwrap();
    let e = engine_with(dir.path(), Arc::new(SystemClock), |raw| {
        raw.approval.cost_threshold_usd = "0.00".into()
    });
    let plan = e
        .plan(PlanRequest::create(
            "dev",
            BUCKET,
            Some("costly"),
            json!({}),
            agent(),
        ))
        .unwrap();
    e.approve_with(
        plan.gate.approval_id.as_deref().unwrap(),
        &caller(),
        &confirm(),
        None,
    )
    .unwrap();
    e.apply(&plan.id, &agent(), &mut noop()).unwrap();
    let dev = "synthcoreai-costly-dev";

    let first = promote(&e, BUCKET, dev, false);
    e.approve_with(&approval_of(&first), &caller(), &confirm(), None)
        .unwrap();
    let done = promote(&e, BUCKET, dev, false);
    assert_eq!(done.status, PromotionState::Synced, "{done:#?}");
    let synced_update = done.dev_tags.last().unwrap();
    assert_eq!(synced_update.outcome, "awaiting_approval", "{done:#?}");
    assert_eq!(
        tags_of(&e, "dev", BUCKET, dev)["PromotionStatus"],
        "dev-only"
    );

    assert!(
        done.message.contains("waits for approval"),
        "{}",
        done.message
    );

    // Prod knows where it came from: the pair is synced, linked by the prod
    // side's tag, while dev's own tag update waits.
    let sync = e.sync_status(None).unwrap();
    assert!(
        sync.dev_only.is_empty() && sync.prod_only.is_empty() && sync.needs_review.is_empty(),
        "{sync:#?}"
    );
    assert_eq!(sync.synced.len(), 1);
    assert_eq!(sync.synced[0].prod, "synthcoreai-costly-prod");
    assert_eq!(sync.synced[0].linked_by, "prod-tag");

    // The earlier pending-prod update was superseded, not left to approve.
    let pending: Vec<_> = e
        .approvals(Some(ApprovalStatus::Pending))
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(pending, [synced_update.approval_id.clone().unwrap()]);
    // A human lets the tag update through; then the pair is synced.
    e.approve_with(
        synced_update.approval_id.as_deref().unwrap(),
        &caller(),
        &confirm(),
        None,
    )
    .unwrap();
    e.apply(
        synced_update.plan_id.as_deref().unwrap(),
        &agent(),
        &mut noop(),
    )
    .unwrap();
    let sync = e.sync_status(None).unwrap();
    assert_eq!(sync.synced.len(), 1, "{sync:#?}");
    assert!(sync.needs_review.is_empty());
}

#[test]
fn a_queue_whose_identifier_is_generated_links_by_its_prod_url() {
    let (_dir, e) = project();
    let dev = create_dev(
        &e,
        "AWS::SQS::Queue",
        "jobs",
        json!({"VisibilityTimeout": 45}),
    );
    let dev_account = e.cloud("dev").unwrap().account_id().to_string();
    assert!(
        dev.contains(&dev_account),
        "the identifier is the queue URL: {dev}"
    );
    let done = promote_approved(&e, "AWS::SQS::Queue", &dev);
    let prod = done.prod_id.unwrap();
    let prod_account = e.cloud("prod").unwrap().account_id().to_string();
    assert!(
        prod.contains(&prod_account) && prod.ends_with("synthcoreai-jobs-prod"),
        "{prod}"
    );
    assert_eq!(
        tags_of(&e, "dev", "AWS::SQS::Queue", &dev)["ProdCounterpart"],
        prod
    );
    let sync = e.sync_status(Some("AWS::SQS::Queue")).unwrap();
    assert_eq!(sync.synced.len(), 1, "{sync:#?}");
    let drift = e.drift(Some("AWS::SQS::Queue")).unwrap();
    assert!(drift.is_clean(), "{drift:#?}");
}

/// An RDS instance created in dev with a master password of its own.
fn dev_database(e: &TestEngine, purpose: &str, password: Value) -> String {
    let mut props = json!({"Engine": "postgres", "EngineVersion": "15.4", "DBInstanceClass": "db.t3.micro",
        "AllocatedStorage": "20", "StorageType": "gp3", "MasterUsername": "synthcoreai_admin",
        "StorageEncrypted": true, "DeletionProtection": true, "BackupRetentionPeriod": 7});
    let obj = props.as_object_mut().unwrap();
    for (k, v) in password.as_object().unwrap() {
        obj.insert(k.clone(), v.clone());
    }
    let plan = e
        .plan(PlanRequest::create(
            "dev",
            "AWS::RDS::DBInstance",
            Some(purpose),
            props,
            agent(),
        ))
        .unwrap();
    match approve_and_apply(e, &plan) {
        ApplyOutcome::Applied { event, .. } => event.identifier.unwrap(),
        other => panic!("dev create not applied: {other:?}"),
    }
}

#[test]
fn a_dev_master_password_is_not_copied_to_prod() {
    let (_dir, e) = project();
    let id = dev_database(
        &e,
        "db",
        json!({"MasterUserPassword": "dev-only-Passw0rd!"}),
    );
    let r = promote(&e, "AWS::RDS::DBInstance", &id, false);
    assert_eq!(r.status, PromotionState::Blocked, "{r:#?}");
    let deps = r
        .checklist
        .iter()
        .find(|c| c.key == "dependencies")
        .unwrap();
    assert_eq!(deps.status, CheckStatus::Failed);
    assert!(
        deps.detail.contains("MasterUserPassword"),
        "{}",
        deps.detail
    );
    assert!(
        deps.detail.contains("ManageMasterUserPassword"),
        "{}",
        deps.detail
    );
    assert!(!format!("{r:?}").contains("dev-only-Passw0rd!"));
    assert!(r.plan_id.is_none(), "no prod plan was made");

    // A managed password is the dev resource's own: the promotion goes on.
    let managed = dev_database(&e, "orders", json!({"ManageMasterUserPassword": true}));
    let r = promote(&e, "AWS::RDS::DBInstance", &managed, false);
    assert_ne!(r.status, PromotionState::Blocked, "{r:#?}");
}

#[test]
fn preflight_checks_the_amplify_branches_as_the_seed_deploys_them() {
    let (_dir, e) = project();
    let dev_bucket = create_dev(&e, BUCKET, "documents", json!({}));
    let app = ResourceType::new("AWS::Amplify::App").unwrap();
    let branch = ResourceType::new("AWS::Amplify::Branch").unwrap();
    let prod = e.cloud("prod").unwrap();
    let ev = prod
        .create(&app, &json!({"Name": "synthcoreai-web-prod"}), "app")
        .unwrap();
    let app_id = prod
        .get(&app, ev.identifier.as_deref().unwrap())
        .unwrap()
        .properties["AppId"]
        .as_str()
        .unwrap()
        .to_string();
    prod.create(
        &branch,
        &json!({"AppId": app_id, "BranchName": "main", "EnableAutoBuild": true,
                "EnvironmentVariables": [{"Name": "DOCS_BUCKET", "Value": dev_bucket}]}),
        "branch",
    )
    .unwrap();
    let report = e.preflight("prod").unwrap();
    let amplify = report
        .checks
        .iter()
        .find(|c| c.key == "amplify")
        .expect("amplify check");
    assert!(!amplify.ok && !report.ready);
    assert!(
        amplify
            .details
            .iter()
            .any(|d| d.contains("`main` builds on every push")),
        "{:?}",
        amplify.details
    );
    assert!(
        amplify
            .details
            .iter()
            .any(|d| d.contains("DOCS_BUCKET") && d.contains(&dev_bucket)),
        "{:?}",
        amplify.details
    );
    // Dev has no branch: no Amplify line there.
    assert!(
        e.preflight("dev")
            .unwrap()
            .checks
            .iter()
            .all(|c| c.key != "amplify")
    );
}

#[test]
fn an_existing_resource_is_imported_by_a_gated_tagging_plan_then_tracked() {
    let (_dir, e) = project();
    let t = ResourceType::new("AWS::S3::Bucket").unwrap();
    // Made outside infraguard: no tags, no plan.
    e.cloud("dev")
        .unwrap()
        .create(
            &t,
            &json!({"BucketName": "synthcoreai-legacy-dev"}),
            "outside",
        )
        .unwrap();
    let plan = e
        .plan_import("dev", "AWS::S3::Bucket", "synthcoreai-legacy-dev", &agent())
        .unwrap();
    assert_eq!(plan.operation, Operation::Update);
    let patch = plan.patch.as_ref().unwrap().to_string();
    assert!(
        patch.contains("\"Environment\"") && patch.contains("development"),
        "{patch}"
    );
    assert!(
        patch.contains("PromotionStatus") && patch.contains("dev-only"),
        "{patch}"
    );
    // Through the gate like any change: this bucket's open findings
    // (no public access block) need a person, as they would on a create.
    assert!(
        plan.gate.reasons.iter().any(|r| r.contains("IG-S3-001")),
        "{:?}",
        plan.gate.reasons
    );
    e.approve_with(
        plan.gate.approval_id.as_deref().unwrap(),
        &caller(),
        &confirm(),
        None,
    )
    .unwrap();
    match e.apply(&plan.id, &agent(), &mut noop()).unwrap() {
        ApplyOutcome::Applied { .. } => {}
        other => panic!("{other:?}"),
    }
    let tags = tags_of(&e, "dev", "AWS::S3::Bucket", "synthcoreai-legacy-dev");
    assert_eq!(tags["Environment"], "development");
    let sync = e.sync_status(Some("AWS::S3::Bucket")).unwrap();
    assert_eq!(sync.dev_only[0].identifier, "synthcoreai-legacy-dev");
    assert_eq!(
        sync.dev_only[0].promotion_status.as_deref(),
        Some("dev-only")
    );
    // Imported once: a second import has nothing to add.
    let again = e
        .plan_import("dev", "AWS::S3::Bucket", "synthcoreai-legacy-dev", &agent())
        .unwrap_err();
    assert!(
        again
            .to_string()
            .contains("already carries the tag standard"),
        "{again}"
    );
    // In prod the same import waits for a human, like every prod write.
    e.cloud("prod")
        .unwrap()
        .create(
            &t,
            &json!({"BucketName": "synthcoreai-legacy-prod"}),
            "outside-prod",
        )
        .unwrap();
    let prod = e
        .plan_import(
            "prod",
            "AWS::S3::Bucket",
            "synthcoreai-legacy-prod",
            &agent(),
        )
        .unwrap();
    assert_ne!(prod.gate.decision, GateDecision::Auto);
    // An identifier that does not exist is bad input, not a plan.
    let missing = e
        .plan_import(
            "dev",
            "AWS::S3::Bucket",
            "synthcoreai-nowhere-dev",
            &agent(),
        )
        .unwrap_err();
    assert_eq!(
        missing.kind(),
        infraguard_engine::ErrorKind::BadInput,
        "{missing}"
    );
}

/// The engine with `[approval] auto_promote_low_cost` on.
fn auto_promoting(dir: &std::path::Path) -> TestEngine {
    engine_with(dir, Arc::new(SystemClock), |raw| {
        raw.approval.auto_promote_low_cost = true
    })
}

#[test]
fn with_auto_promote_a_tested_unchanged_cheap_bucket_is_promoted_by_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let e = auto_promoting(dir.path());
    let dev = create_dev(
        &e,
        BUCKET,
        "assets",
        json!({"VersioningConfiguration": {"Status": "Enabled"}}),
    );
    let r = promote(&e, BUCKET, &dev, false);
    assert_eq!(r.status, PromotionState::Synced, "{r:#?}");
    let prod = r.prod_id.clone().unwrap();
    assert!(e.get_resource("prod", BUCKET, &prod).is_ok());
    // Decided by the policy, named as such: never a human.
    let plan = e.plan_by_id(r.plan_id.as_deref().unwrap()).unwrap();
    let a = e
        .approvals(None)
        .unwrap()
        .into_iter()
        .find(|a| a.plan_id == plan.id)
        .unwrap();
    assert_eq!(
        a.decided_by.as_deref(),
        Some("system:policy via approval.auto_promote_low_cost")
    );
    assert!(a.note.as_deref().unwrap().contains("is unchanged"), "{a:?}");
    let granted = e
        .audit_log()
        .unwrap()
        .into_iter()
        .find(|x| x.action == "approval.granted" && x.plan_id.as_deref() == Some(&plan.id))
        .expect("audited");
    assert!(granted.actor.starts_with("system:policy"), "{granted:?}");
}

#[test]
fn auto_promote_is_off_by_default_and_never_covers_a_changed_or_costly_resource() {
    // Off: a person approves, as always.
    let (_dir, e) = project();
    let dev = create_dev(&e, BUCKET, "assets", json!({}));
    let r = promote(&e, BUCKET, &dev, false);
    assert_eq!(r.status, PromotionState::AwaitingApproval, "{r:#?}");

    // On, but the dev bucket was changed behind infraguard's back.
    let dir = tempfile::tempdir().unwrap();
    let e = auto_promoting(dir.path());
    let dev = create_dev(&e, BUCKET, "assets", json!({}));
    let patch =
        json!([{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}}]);
    e.cloud("dev")
        .unwrap()
        .update(
            &ResourceType::new(BUCKET).unwrap(),
            &dev,
            &patch,
            "console-edit",
        )
        .unwrap();
    let r = promote(&e, BUCKET, &dev, false);
    assert_eq!(r.status, PromotionState::AwaitingApproval, "{r:#?}");
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("not promoted automatically")
                && n.contains("changed in dev outside")),
        "{:?}",
        r.notes
    );

    // On, but the database costs more than the threshold.
    let dir = tempfile::tempdir().unwrap();
    let e = auto_promoting(dir.path());
    let id = dev_database(&e, "orders", json!({"ManageMasterUserPassword": true}));
    let r = promote(&e, "AWS::RDS::DBInstance", &id, false);
    assert_eq!(r.status, PromotionState::AwaitingApproval, "{r:#?}");
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("not promoted automatically") && n.contains("threshold")),
        "{:?}",
        r.notes
    );
}
