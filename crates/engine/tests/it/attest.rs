//! What a decision needs from a person, as the engine tells a host: the
//! host asks for exactly that, and one that asks for less gets a refusal.

use std::sync::Arc;

use infraguard_engine::{
    Attestation, EngineError, FactorError, Factors, PlanRequest, Proof, Subject,
};
use serde_json::json;

use super::harness::*;

/// Accepts `135790` for `bob`, any number of times.
struct Bob;

impl Factors for Bob {
    fn verify(&self, _: Option<&str>, code: &str, _now: i64) -> Result<String, FactorError> {
        if code == "135790" {
            Ok("bob".into())
        } else {
            Err(FactorError::WrongCode)
        }
    }
    fn approvers(&self) -> Vec<String> {
        vec!["bob".into()]
    }
}

fn prod_bucket(purpose: &str) -> PlanRequest {
    PlanRequest::create("prod", "AWS::S3::Bucket", Some(purpose), json!({}), agent())
}

fn code() -> Proof {
    Proof::Code {
        approver: None,
        code: "135790".into(),
    }
}

#[test]
fn an_advisory_engine_asks_for_a_confirmation_and_takes_it_as_unverified() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path());
    let plan = e.plan(prod_bucket("adv")).unwrap();
    let approval = plan.gate.approval_id.clone().unwrap();
    let wanted = e.attestation(&Subject::Approval(approval.clone())).unwrap();
    assert_eq!(wanted, Attestation::Confirmation);
    // A held lock needs the same; once the plan is decided it needs nobody.
    let lock = e.locks().unwrap().remove(0).lock.id;
    assert_eq!(
        e.attestation(&Subject::Unlock(lock.clone())).unwrap(),
        Attestation::Confirmation
    );
    let a = e
        .approve_with(&approval, &caller(), &confirm(), None)
        .unwrap();
    assert!(a.decided_by.unwrap().starts_with("unverified:"));
    let p2 = e.plan(prod_bucket("adv2")).unwrap();
    e.deny(p2.gate.approval_id.as_deref().unwrap(), &agent(), None)
        .unwrap();
    let stale = e
        .locks()
        .unwrap()
        .into_iter()
        .find(|l| l.lock.plan_id == p2.id)
        .unwrap();
    assert_eq!(
        e.attestation(&Subject::Unlock(stale.lock.id)).unwrap(),
        Attestation::Nobody
    );
}

#[test]
fn a_guarded_engine_asks_for_a_code_and_refuses_what_asks_for_less() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path()).guarded(Arc::new(Bob), 999);
    let plan = e.plan(prod_bucket("grd")).unwrap();
    let approval = plan.gate.approval_id.clone().unwrap();
    assert_eq!(
        e.attestation(&Subject::Approval(approval.clone())).unwrap(),
        Attestation::ApproverCode
    );
    let lock = e.locks().unwrap().remove(0).lock.id;
    assert_eq!(
        e.attestation(&Subject::Unlock(lock)).unwrap(),
        Attestation::ApproverCode
    );
    // A host that offers a confirmation instead is refused, and nothing is decided.
    let err = e
        .approve_with(&approval, &caller(), &confirm(), None)
        .unwrap_err();
    assert!(matches!(err, EngineError::NotHuman { .. }), "{err}");
    let a = e.approve_with(&approval, &caller(), &code(), None).unwrap();
    assert!(a.decided_by.unwrap().starts_with("human:bob"));
}

#[test]
fn an_unknown_subject_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path());
    let err = e
        .attestation(&Subject::Approval("apr-nope".into()))
        .unwrap_err();
    assert!(
        matches!(err, EngineError::ApprovalNotFound(ref id) if id == "apr-nope"),
        "{err}"
    );
    let err = e
        .attestation(&Subject::Unlock("000000000000".into()))
        .unwrap_err();
    assert!(err.to_string().contains("state locks"), "{err}");
}
