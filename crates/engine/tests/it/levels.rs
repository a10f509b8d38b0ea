//! Levels: what a proof is worth where. An advisory engine takes a
//! confirmation as `unverified` and can check no code; a guarded engine
//! refuses confirmations and takes only a code its `Factors` accept. Also:
//! records that cannot lie (a plan's cost or findings rewritten in the
//! store; an audit chain recomputed without the key).

use std::sync::{Arc, Mutex};

use infraguard_core::approval::ApprovalStatus;
use infraguard_core::store::Store;
use infraguard_engine::{
    Caller, EngineError, FactorError, Factors, Level, Peer, PlanRequest, Proof,
};
use serde_json::json;

use super::harness::*;

/// Accepts `246810` once for `alice`; records what it was asked.
struct OneCode {
    used: Mutex<bool>,
    asked: Mutex<Vec<String>>,
}

impl Factors for OneCode {
    fn verify(&self, approver: Option<&str>, code: &str, _now: i64) -> Result<String, FactorError> {
        self.asked.lock().unwrap().push(code.to_string());
        let mut used = self.used.lock().unwrap();
        match (approver, code) {
            (None | Some("alice"), "246810") if !*used => {
                *used = true;
                Ok("alice".into())
            }
            (None | Some("alice"), "246810") => Err(FactorError::Replayed),
            (Some(other), _) if other != "alice" => Err(FactorError::UnknownApprover(other.into())),
            _ => Err(FactorError::WrongCode),
        }
    }
    fn approvers(&self) -> Vec<String> {
        vec!["alice".into()]
    }
}

fn audit_actions(e: &TestEngine) -> Vec<(String, String)> {
    e.audit_log()
        .unwrap()
        .into_iter()
        .map(|a| (a.action, a.actor))
        .collect()
}

#[test]
fn advisory_confirmations_are_unverified_and_codes_cannot_be_checked() {
    let (_dir, e) = project();
    assert_eq!(e.level(), Level::Advisory);
    let plan = e.plan(bucket("prod", "adv", json!({}))).unwrap();
    let aid = plan.gate.approval_id.clone().unwrap();
    let err = e
        .approve_with(&aid, &caller(), &agent_code(), None)
        .unwrap_err();
    assert!(matches!(err, EngineError::ApprovalRefused { .. }), "{err}");
    let a = e.approve_with(&aid, &caller(), &confirm(), None).unwrap();
    let by = a.decided_by.unwrap();
    assert!(by.starts_with("unverified:alice"), "{by}");
    let log = audit_actions(&e);
    assert!(
        log.iter()
            .any(|(a, who)| a == "approval.granted" && who.starts_with("unverified:"))
    );
    assert!(
        !log.iter().any(|(_, who)| who.starts_with("human:")),
        "{log:?}"
    );
    let report = e.doctor_report(&caller());
    assert!(
        report
            .environments
            .iter()
            .all(|l| l.level == Level::Advisory)
    );
    assert!(report.environments[0].reasons[0].contains("an agent with a shell can get around it"));
}

#[test]
fn guarded_engines_take_only_a_checked_code() {
    let dir = tempfile::tempdir().unwrap();
    let factors = Arc::new(OneCode {
        used: Mutex::new(false),
        asked: Mutex::new(Vec::new()),
    });
    let e = engine_in(dir.path()).guarded(factors.clone(), 999);
    let plan = e.plan(bucket("prod", "grd", json!({}))).unwrap();
    let aid = plan.gate.approval_id.clone().unwrap();
    let before = e.audit_log().unwrap().len();

    // A terminal `yes`, an elicitation accept: refused and audited.
    let err = e
        .approve_with(&aid, &caller(), &confirm(), None)
        .unwrap_err();
    assert!(matches!(err, EngineError::NotHuman { .. }), "{err}");
    // A wrong code, an unknown approver: refused and audited.
    let wrong = Proof::Code {
        approver: None,
        code: "111111".into(),
    };
    assert!(matches!(
        e.approve_with(&aid, &caller(), &wrong, None),
        Err(EngineError::ApprovalRefused { .. })
    ));
    let mallory = Proof::Code {
        approver: Some("mallory".into()),
        code: "246810".into(),
    };
    assert!(e.approve_with(&aid, &caller(), &mallory, None).is_err());
    assert_eq!(e.approvals(Some(ApprovalStatus::Pending)).unwrap().len(), 1);
    let log = e.audit_log().unwrap();
    assert_eq!(log.len() - before, 3, "every refused try is audited");
    assert!(log[before..].iter().all(|a| a.action == "approval.refused"));

    // The approver's code approves, as that approver, once.
    let good = Proof::Code {
        approver: None,
        code: "246810".into(),
    };
    let a = e.approve_with(&aid, &caller(), &good, Some("ok")).unwrap();
    assert!(
        a.decided_by.as_deref().unwrap().starts_with("human:alice"),
        "{a:?}"
    );

    let plan2 = e.plan(bucket("prod", "grd2", json!({}))).unwrap();
    let aid2 = plan2.gate.approval_id.clone().unwrap();
    let err = e.approve_with(&aid2, &caller(), &good, None).unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");
}

#[test]
fn doctor_says_advisory_when_the_guard_runs_as_the_caller() {
    let dir = tempfile::tempdir().unwrap();
    let factors = Arc::new(OneCode {
        used: Mutex::new(false),
        asked: Mutex::new(Vec::new()),
    });
    let e = engine_in(dir.path()).guarded(factors, 1234);
    let mut same = Caller::new("alice", "cli");
    same.peer = Some(Peer {
        uid: 1234,
        pid: Some(1),
        user: None,
    });
    let r = e.doctor_report(&same);
    assert!(
        r.environments.iter().all(|l| l.level == Level::Advisory),
        "{r:?}"
    );
    let mut other = Caller::new("alice", "cli");
    other.peer = Some(Peer {
        uid: 1000,
        pid: Some(1),
        user: None,
    });
    let r = e.doctor_report(&other);
    assert!(
        r.environments.iter().all(|l| l.level == Level::Guarded),
        "{r:?}"
    );
}

#[test]
fn a_plan_whose_cost_or_findings_were_rewritten_is_not_applied() {
    let (_dir, e) = project();
    // A costly dev plan: it waits for a human.
    let mut req = PlanRequest::create(
        "dev",
        "AWS::RDS::DBInstance",
        Some("db"),
        json!({"Engine": "postgres", "DBInstanceClass": "db.t3.medium", "AllocatedStorage": "20", "MasterUsername": "app", "MasterUserPassword": "correct-horse-battery"}),
        agent(),
    );
    req.usage = None;
    let plan = e.plan(req).unwrap();
    assert_ne!(
        plan.gate.decision,
        infraguard_core::plan::GateDecision::Auto
    );
    // Someone rewrites the stored cost to $0 and the gate to auto.
    let stored = e.store().plan(&plan.id).unwrap().unwrap();
    let mut forged = stored.clone();
    forged.cost.monthly_usd = infraguard_core::money::Money::ZERO;
    forged.gate.decision = infraguard_core::plan::GateDecision::Auto;
    forged.gate.reasons.clear();
    forged.findings.clear();
    let body = serde_json::to_string(&forged).unwrap();
    tamper_plan(&e, &plan.id, None, &body);
    let err = e.apply(&plan.id, &agent(), &mut noop()).unwrap_err();
    assert!(matches!(err, EngineError::Tampered { .. }), "{err}");
}

#[test]
fn an_audit_chain_recomputed_without_the_key_is_detected() {
    let (_dir, e) = project();
    e.plan(bucket("prod", "chain", json!({}))).unwrap();
    let log = e.audit_log().unwrap();
    assert!(e.audit_verify().unwrap().ok);
    // Rewrite entry 1 and recompute every hash as an unkeyed sha256 chain,
    // the way an attacker without the key would.
    let mut prev = infraguard_engine::audit::GENESIS.to_string();
    let mut sql = String::new();
    for entry in &log {
        let outcome = if entry.seq == 1 {
            "rewritten"
        } else {
            entry.outcome.as_str()
        };
        let hash = infraguard_engine::hash::content_hash(
            &json!({"seq": entry.seq, "outcome": outcome, "prev": prev}),
        );
        sql.push_str(&format!(
            "UPDATE audit SET outcome = '{outcome}', prev_hash = '{prev}', hash = '{hash}' WHERE seq = {};",
            entry.seq
        ));
        prev = hash;
    }
    e.store().tamper_for_tests(&sql).unwrap();
    let v = e.audit_verify().unwrap();
    assert!(!v.ok, "{v:?}");
}

#[test]
fn a_stale_plan_is_refused_and_a_taken_name_is_found_at_plan_time() {
    use infraguard_core::cloud::Cloud;
    let (_dir, e) = project();
    let create =
        |p: &str| PlanRequest::create("dev", "AWS::S3::Bucket", Some(p), json!({}), agent());
    // Two creates of one name (automatic in dev, so neither holds the
    // name): once the first is applied a third is refused at plan time, and
    // the second at apply, with no cloud write.
    let first = e.plan(create("fresh")).unwrap();
    let second = e.plan(create("fresh")).unwrap();
    e.apply(&first.id, &agent(), &mut noop()).unwrap();
    let err = e.plan(create("fresh")).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    match e.apply(&second.id, &agent(), &mut noop()).unwrap() {
        infraguard_engine::ApplyOutcome::Refused { reasons, .. } => {
            assert!(
                reasons[0].contains("created in dev after this plan was made"),
                "{reasons:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    // ...and a create planned before someone else made the name is refused
    // at apply, with no cloud write.
    let other = e.plan(create("taken")).unwrap();
    let t = infraguard_core::resource::ResourceType::new("AWS::S3::Bucket").unwrap();
    e.cloud("dev")
        .unwrap()
        .create(&t, &json!({"BucketName": "synthcoreai-taken-dev"}), "")
        .unwrap();
    match e.apply(&other.id, &agent(), &mut noop()).unwrap() {
        infraguard_engine::ApplyOutcome::Refused { reasons, .. } => {
            assert!(
                reasons[0].contains("created in dev after this plan was made"),
                "{reasons:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    // An update planned, then the bucket changed outside infraguard: the
    // plan is stale. (A second plan of the same bucket is refused while the
    // first is in flight: see `inflight`.)
    let id = "synthcoreai-fresh-dev".to_string();
    let update = |status: &str| PlanRequest {
        operation: infraguard_core::resource::Operation::Update,
        identifier: Some(id.clone()),
        properties: None,
        patch: Some(
            json!([{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": status}}]),
        ),
        ..create("fresh")
    };
    let a = e.plan(update("Enabled")).unwrap();
    e.cloud("dev")
        .unwrap()
        .update(
            &t,
            &id,
            &json!([{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Suspended"}}]),
            "",
        )
        .unwrap();
    match e.apply(&a.id, &agent(), &mut noop()).unwrap() {
        infraguard_engine::ApplyOutcome::Refused { reasons, .. } => {
            assert!(
                reasons[0].contains("changed in dev since this plan was made"),
                "{reasons:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    let live = e.get_resource("dev", "AWS::S3::Bucket", &id).unwrap();
    assert_eq!(
        live.properties["VersioningConfiguration"]["Status"],
        "Suspended"
    );
    assert!(e.audit_log().unwrap().iter().any(|r| r.outcome == "stale"));
}

/// A plan waiting for a person holds its resource: the lock names who,
/// where, what and since; removing a held lock is a person's decision at
/// the engine's level, a stale one goes without; every try is audited.
#[test]
fn a_held_lock_is_removed_only_by_a_person_at_the_engines_level() {
    let (_dir, e) = project();
    let plan = e.plan(bucket("prod", "held", json!({}))).unwrap();
    let locks = e.locks().unwrap();
    let [lock] = locks.as_slice() else {
        panic!("one lock: {locks:?}")
    };
    assert!(lock.held, "{lock:?}");
    assert_eq!(lock.lock.plan_id, plan.id);
    assert_eq!(lock.lock.env, "prod");
    assert!(
        lock.lock.resource.starts_with("AWS::S3::Bucket `"),
        "{lock:?}"
    );
    assert!(lock.lock.what.contains("create") && lock.lock.what.contains(&plan.id));
    assert!(!lock.lock.host.is_empty() && !lock.lock.since.is_empty() && !lock.lock.who.is_empty());
    assert_eq!(lock.lock.id.len(), 12);

    // Advisory: nothing without a proof; a code cannot be checked here.
    for proof in [None, Some(agent_code())] {
        let err = e
            .unlock(&caller(), &lock.lock.id, proof.as_ref(), None)
            .unwrap_err();
        assert!(matches!(err, EngineError::ApprovalRefused { .. }), "{err}");
    }
    assert_eq!(e.locks().unwrap().len(), 1, "refused: the lock stays");
    let err = e.unlock(&caller(), "000000000000", None, None).unwrap_err();
    assert!(err.to_string().contains("state locks"), "{err}");
    let gone = e
        .unlock(&caller(), &lock.lock.id, Some(&confirm()), Some("stuck"))
        .unwrap();
    assert!(gone.held);
    assert!(e.locks().unwrap().is_empty());
    let log = audit_actions(&e);
    assert_eq!(
        log.iter()
            .filter(|(a, _)| a == "lock.unlock_refused")
            .count(),
        2
    );
    assert!(
        log.iter()
            .any(|(a, who)| a == "lock.released" && who.starts_with("unverified:"))
    );
    // The first plan is unchanged.
    assert_eq!(
        e.store().plan(&plan.id).unwrap().unwrap().status,
        infraguard_core::plan::PlanStatus::Planned
    );
}

#[test]
fn a_guarded_engine_removes_a_held_lock_only_with_a_code_and_a_stale_one_freely() {
    let dir = tempfile::tempdir().unwrap();
    let factors = Arc::new(OneCode {
        used: Mutex::new(false),
        asked: Mutex::new(Vec::new()),
    });
    let e = engine_in(dir.path()).guarded(factors, 999);
    let held = e.plan(bucket("prod", "glock", json!({}))).unwrap();
    let stale = e.plan(bucket("prod", "gstale", json!({}))).unwrap();
    e.deny(stale.gate.approval_id.as_deref().unwrap(), &agent(), None)
        .unwrap();
    let locks = e.locks().unwrap();
    let id_of = |plan: &str| {
        locks
            .iter()
            .find(|l| l.lock.plan_id == plan)
            .map(|l| (l.lock.id.clone(), l.held))
            .unwrap()
    };
    let (held_id, is_held) = id_of(&held.id);
    assert!(is_held);
    let (stale_id, stale_held) = id_of(&stale.id);
    assert!(!stale_held, "a denied plan holds nothing");
    // A stale lock goes without a person.
    e.unlock(&caller(), &stale_id, None, None).unwrap();
    // A typed yes is not a person here; a code is.
    let err = e
        .unlock(&caller(), &held_id, Some(&confirm()), None)
        .unwrap_err();
    assert!(err.to_string().contains("approver's code"), "{err}");
    let code = Proof::Code {
        approver: None,
        code: "246810".into(),
    };
    e.unlock(&caller(), &held_id, Some(&code), None).unwrap();
    assert!(e.locks().unwrap().is_empty());
    assert!(
        audit_actions(&e)
            .iter()
            .any(|(a, who)| a == "lock.released" && who.starts_with("human:alice"))
    );
}

/// An environment locked by hand takes no plan and no apply, from anyone,
/// until a person unlocks it; other environments go on; all audited.
#[test]
fn a_locked_environment_takes_no_plan_and_no_apply_until_a_person_unlocks_it() {
    let (_dir, e) = project();
    let waiting = e.plan(bucket("dev", "waiting", json!({}))).unwrap();
    let lock = e
        .lock_environment(&caller(), "dev", Some("migration"))
        .unwrap();
    assert!(lock.held && lock.lock.what == "migration", "{lock:?}");
    let again = e.lock_environment(&caller(), "dev", None).unwrap_err();
    assert!(
        matches!(again, EngineError::EnvironmentLocked { .. }),
        "{again}"
    );
    assert!(e.lock_environment(&caller(), "staging", None).is_err());
    let refused = |r: Result<_, EngineError>| match r {
        Err(EngineError::EnvironmentLocked { lock: held, .. }) => {
            assert_eq!(held.id, lock.lock.id);
            assert_eq!(held.what, "migration");
        }
        other => panic!("not refused for the lock: {other:?}"),
    };
    refused(e.plan(bucket("dev", "frozen", json!({}))).map(|_| ()));
    let before = calls(&e, "dev");
    refused(e.apply(&waiting.id, &agent(), &mut noop()).map(|_| ()));
    assert_eq!(calls(&e, "dev"), before, "no cloud call");
    // prod is not locked.
    e.plan(bucket("prod", "elsewhere", json!({}))).unwrap();
    // Unlocking is a person's decision.
    assert!(e.unlock(&caller(), &lock.lock.id, None, None).is_err());
    e.unlock(&caller(), &lock.lock.id, Some(&confirm()), None)
        .unwrap();
    e.apply(&waiting.id, &agent(), &mut noop()).unwrap();
    let log = audit_actions(&e);
    for action in [
        "lock.taken",
        "plan.refused",
        "apply.refused",
        "lock.unlock_refused",
        "lock.released",
    ] {
        assert!(log.iter().any(|(a, _)| a == action), "{action}: {log:?}");
    }
}
