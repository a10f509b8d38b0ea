//! One plan in flight per resource (environment, type, name), and approvals
//! that expire: a second plan of a resource is told about the first (or is
//! the first, when it is the same change), twenty promotions at once make
//! one prod resource, and an approval past its time is neither granted nor
//! applied.

use std::sync::Arc;

use infraguard_core::approval::ApprovalStatus;
use infraguard_core::plan::PlanStatus;
use infraguard_core::resource::Operation;
use infraguard_core::store::Store;
use infraguard_engine::{ApplyOutcome, EngineError, ErrorKind, PlanRequest, PromotionState};
use serde_json::json;

use super::harness::*;

const BUCKET: &str = "AWS::S3::Bucket";

fn versioning(env: &str, id: &str, status: &str) -> PlanRequest {
    PlanRequest {
        operation: Operation::Update,
        identifier: Some(id.into()),
        properties: None,
        patch: Some(
            json!([{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": status}}]),
        ),
        ..bucket(env, "locked", json!({}))
    }
}

#[test]
fn a_second_plan_of_a_resource_is_told_about_the_first() {
    let (_dir, e) = project();
    let created = e.plan(bucket("prod", "locked", json!({}))).unwrap();
    let apr = created.gate.approval_id.clone().unwrap();
    e.approve_with(&apr, &caller(), &confirm(), None).unwrap();
    applied(e.apply(&created.id, &agent(), &mut noop()).unwrap());
    let id = "synthcoreai-locked-prod";

    // prod is read-only: each update waits for a human, and holds the bucket.
    let first = e.plan(versioning("prod", id, "Enabled")).unwrap();
    // The same change again is the same plan, with the same approval...
    let same = e.plan(versioning("prod", id, "Enabled")).unwrap();
    assert_eq!(same.id, first.id);
    assert_eq!(same.gate.approval_id, first.gate.approval_id);
    // ...another change of the same bucket is refused, naming the first.
    let err = e.plan(versioning("prod", id, "Suspended")).unwrap_err();
    assert!(matches!(err, EngineError::PlanInFlight { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::Gated);
    let msg = err.to_string();
    let first_apr = first.gate.approval_id.clone().unwrap();
    assert!(
        msg.contains(&first.id)
            && msg.contains(id)
            && msg.contains(&format!("infraguard deny {first_apr}")),
        "{msg}"
    );
    assert!(
        e.audit_log()
            .unwrap()
            .iter()
            .any(|r| r.action == "plan.refused" && r.outcome == "in_flight")
    );
    // Once the first is applied the bucket is free again.
    e.approve_with(&first_apr, &caller(), &confirm(), None)
        .unwrap();
    applied(e.apply(&first.id, &agent(), &mut noop()).unwrap());
    let second = e.plan(versioning("prod", id, "Suspended")).unwrap();
    assert_ne!(second.id, first.id);
}

#[test]
fn an_automatic_plan_not_yet_sent_does_not_block_a_newer_one() {
    let (_dir, e) = project();
    let created = e.plan(bucket("dev", "locked", json!({}))).unwrap();
    applied(e.apply(&created.id, &agent(), &mut noop()).unwrap());
    let id = "synthcoreai-locked-dev";
    // An agent re-plans a dev change (automatic there) before applying it:
    // allowed, and the older plan, applied last, is refused as stale.
    let old = e.plan(versioning("dev", id, "Enabled")).unwrap();
    let new = e.plan(versioning("dev", id, "Suspended")).unwrap();
    applied(e.apply(&new.id, &agent(), &mut noop()).unwrap());
    match e.apply(&old.id, &agent(), &mut noop()).unwrap() {
        ApplyOutcome::Refused { reasons, .. } => {
            assert!(reasons[0].contains("changed in dev since"), "{reasons:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_denied_plan_frees_its_resource() {
    let (_dir, e) = project();
    // prod is read-only: every prod plan waits for a human.
    let first = e.plan(bucket("prod", "reports", json!({}))).unwrap();
    let apr = first.gate.approval_id.clone().unwrap();
    let mut other = bucket("prod", "reports", json!({}));
    other.properties = Some(json!({"VersioningConfiguration": {"Status": "Enabled"}}));
    let err = e.plan(other.clone()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&first.id) && msg.contains(&format!("infraguard deny {apr}")),
        "{msg}"
    );
    e.deny(&apr, &agent(), Some("wrong settings")).unwrap();
    let second = e.plan(other).unwrap();
    assert_ne!(second.id, first.id);
}

#[test]
fn twenty_promotions_at_once_make_one_prod_resource() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path());
    let dev = e.plan(bucket("dev", "shared", json!({}))).unwrap();
    applied(e.apply(&dev.id, &agent(), &mut noop()).unwrap());
    let dev_id = "synthcoreai-shared-dev".to_string();

    // Twenty processes' worth of engines on the same project, each with its
    // own SQLite connections, promoting the same bucket at once.
    let engines: Vec<TestEngine> = (0..20).map(|_| engine_in(dir.path())).collect();
    let barrier = Arc::new(std::sync::Barrier::new(engines.len()));
    let results: Vec<Result<infraguard_engine::PromotionReport, String>> =
        std::thread::scope(|s| {
            let handles: Vec<_> = engines
                .iter()
                .map(|eng| {
                    let (barrier, dev_id) = (barrier.clone(), dev_id.clone());
                    s.spawn(move || {
                        barrier.wait();
                        eng.promote(BUCKET, &dev_id, false, &agent(), &mut noop())
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
    let mut plan_ids = std::collections::BTreeSet::new();
    for r in &results {
        match r {
            Ok(rep) => {
                assert_eq!(rep.status, PromotionState::AwaitingApproval, "{rep:#?}");
                plan_ids.insert(rep.plan_id.clone().unwrap());
            }
            Err(msg) => assert!(msg.contains("in flight"), "{msg}"),
        }
    }
    assert_eq!(plan_ids.len(), 1, "{plan_ids:?}");
    let prod_plans: Vec<_> = e
        .plans(Some("prod"), 100)
        .unwrap()
        .into_iter()
        .filter(|p| p.identifier.as_deref() == Some("synthcoreai-shared-prod"))
        .collect();
    assert_eq!(prod_plans.len(), 1);
    assert_eq!(e.approvals(Some(ApprovalStatus::Pending)).unwrap().len(), 1);

    // Approve whatever is pending and apply every prod plan there is.
    for a in e.approvals(Some(ApprovalStatus::Pending)).unwrap() {
        e.approve_with(&a.id, &caller(), &confirm(), None).unwrap();
    }
    for p in e.plans(Some("prod"), 100).unwrap() {
        applied(e.apply(&p.id, &agent(), &mut noop()).unwrap());
    }
    let prod = e.list_resources("prod", Some(BUCKET)).unwrap();
    assert_eq!(prod.len(), 1, "{prod:?}");
}

#[test]
fn an_approval_expires_after_a_day_and_is_then_neither_granted_nor_applied() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let e = engine_with(dir.path(), clock.clone(), |_| {});
    let plan = e.plan(bucket("prod", "late", json!({}))).unwrap();
    let apr = plan.gate.approval_id.clone().unwrap();
    let a = e.store().approval(&apr).unwrap().unwrap();
    let expires = a.expires_at.clone().unwrap();
    let requested = infraguard_core::clock::Timestamp::parse_rfc3339(&a.requested_at).unwrap();
    let at = infraguard_core::clock::Timestamp::parse_rfc3339(&expires).unwrap();
    assert_eq!(at.unix() - requested.unix(), 24 * 3600);

    clock.advance(24 * 3600 - 60);
    assert_eq!(e.approvals(Some(ApprovalStatus::Pending)).unwrap().len(), 1);
    clock.advance(120);
    // Gone from the pending list, refused when granted, refused at apply.
    assert!(
        e.approvals(Some(ApprovalStatus::Pending))
            .unwrap()
            .is_empty()
    );
    let err = e
        .approve_with(&apr, &caller(), &confirm(), None)
        .unwrap_err();
    assert!(matches!(err, EngineError::ApprovalExpired { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&apr) && msg.contains(&expires) && msg.contains("new plan"),
        "{msg}"
    );
    match e.apply(&plan.id, &agent(), &mut noop()).unwrap() {
        ApplyOutcome::Refused { reasons, .. } => {
            assert!(reasons[0].contains("expired"), "{reasons:?}")
        }
        other => panic!("{other:?}"),
    }
    let log = e.audit_log().unwrap();
    assert!(
        log.iter()
            .any(|r| r.action == "approval.expired" && r.outcome == "refused")
    );
    assert!(
        log.iter()
            .any(|r| r.action == "apply.refused" && r.outcome == "expired")
    );
    assert!(e.list_resources("prod", Some(BUCKET)).unwrap().is_empty());
    assert_eq!(e.plan_state(&plan.id).unwrap().status, PlanStatus::Planned);
    assert!(e.plan_state(&plan.id).unwrap().approval_expired);
    // The expired plan no longer holds the name: the change is planned anew.
    let again = e.plan(bucket("prod", "late", json!({}))).unwrap();
    assert_ne!(again.id, plan.id);
}

#[test]
fn an_approved_plan_applied_too_late_is_refused_and_a_shorter_expiry_applies() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let e = engine_with(dir.path(), clock.clone(), |raw| {
        raw.approval.expires_hours = 2
    });
    let plan = e.plan(bucket("prod", "slow", json!({}))).unwrap();
    let apr = plan.gate.approval_id.clone().unwrap();
    e.approve_with(&apr, &caller(), &confirm(), None).unwrap();
    clock.advance(2 * 3600 + 1);
    match e.apply(&plan.id, &agent(), &mut noop()).unwrap() {
        ApplyOutcome::Refused { reasons, .. } => {
            assert!(
                reasons[0].contains("expired") && reasons[0].contains("2 h"),
                "{reasons:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(e.list_resources("prod", Some(BUCKET)).unwrap().is_empty());
}

#[test]
fn the_same_content_has_one_pending_approval() {
    let (_dir, e) = project();
    let first = e.plan(bucket("prod", "once", json!({}))).unwrap();
    let second = e.plan(bucket("prod", "once", json!({}))).unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.gate.approval_id, first.gate.approval_id);
    assert_eq!(e.approvals(Some(ApprovalStatus::Pending)).unwrap().len(), 1);
    // Even a create whose name the cloud picks (no lock key): the same
    // content, the same pending approval.
    let vpc = || {
        PlanRequest::create(
            "prod",
            "AWS::EC2::VPC",
            None,
            json!({"CidrBlock": "10.9.0.0/16"}),
            agent(),
        )
    };
    let a = e.plan(vpc()).unwrap();
    let b = e.plan(vpc()).unwrap();
    assert!(a.identifier.is_none());
    assert_eq!(a.id, b.id);
    assert_eq!(e.approvals(Some(ApprovalStatus::Pending)).unwrap().len(), 2);
}
