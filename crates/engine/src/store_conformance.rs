//! The `Store` conformance suite: what every store must do, run against
//! SQLite (`tests/it/store.rs`) and DynamoDB in moto's server
//! (`crates/store-dynamodb/tests/conformance.rs`).
//!
//! Each check takes a fresh, empty store from `make` and panics with what
//! differed. The concurrent checks race threads on one store *and* on a
//! second handle opened on the same state (a second machine), because the
//! property a shared store sells is that two processes can never both win.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::thread;

use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::audit::AuditRecord;
use infraguard_core::money::{CostEstimate, Money};
use infraguard_core::plan::{Gate, GateDecision, Plan, PlanStatus};
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_core::store::{AppliedState, Lock, Store, StoreError};
use infraguard_core::template::Template;
use serde_json::json;

use crate::audit;

/// Opens stores for the suite: `fresh` an empty one, `again` a second handle
/// on the same state as `first` (another process or machine).
pub trait Stores {
    type S: Store + 'static;
    fn fresh(&self) -> Self::S;
    fn again(&self, first: &Self::S) -> Self::S;
}

/// Run every check, each on a fresh store.
pub fn run<F: Stores>(f: &F) {
    plans_round_trip(f);
    plan_updates_compare_and_set(f);
    approvals_round_trip(f);
    approval_decisions_compare_and_set(f);
    tokens_are_spent_once(f);
    questions_are_taken_once(f);
    applied_states(f);
    exclusive_inserts_and_locks(f);
    audit_chain_holds(f);
    concurrent_writers_never_both_win(f);
    secrets_are_sealed_and_shared(f);
}

/// A plan with the given id, environment and status (everything else plain).
pub fn sample_plan(id: &str, env: &str, content_hash: &str) -> Plan {
    Plan {
        id: id.into(),
        env: env.into(),
        operation: Operation::Create,
        type_name: ResourceType::new("AWS::S3::Bucket").expect("type"),
        identifier: Some(format!("bucket-{id}")),
        logical_id: "Bucket".into(),
        purpose: Some("conformance".into()),
        desired_state: json!({"BucketName": format!("bucket-{id}")}),
        patch: None,
        template: Template(json!({"Resources": {}})),
        explanation: "a bucket".into(),
        findings: Vec::new(),
        cost: CostEstimate {
            monthly_usd: Money::parse("0.25").expect("money"),
            breakdown: Vec::new(),
            assumptions: Vec::new(),
            notes: Vec::new(),
            known: true,
        },
        gate: Gate {
            decision: GateDecision::Auto,
            reasons: Vec::new(),
            approval_id: None,
        },
        content_hash: content_hash.into(),
        created_at: "2026-12-03T10:00:00Z".into(),
        created_by: "agent via test".into(),
        status: PlanStatus::Planned,
        applied: None,
        basis: None,
    }
}

/// A pending approval of `plan`.
pub fn sample_approval(id: &str, plan: &Plan) -> Approval {
    Approval {
        id: id.into(),
        plan_id: plan.id.clone(),
        env: plan.env.clone(),
        content_hash: plan.content_hash.clone(),
        status: ApprovalStatus::Pending,
        reasons: vec!["prod".into()],
        summary: format!("create a bucket in {}", plan.env),
        requested_at: "2026-12-03T10:00:00Z".into(),
        expires_at: None,
        requested_by: "agent via test".into(),
        decided_at: None,
        decided_by: None,
        note: None,
    }
}

/// One audit record of `action`.
pub fn record(action: &str) -> AuditRecord {
    AuditRecord {
        at: "2026-12-03T10:00:00Z".into(),
        actor: "agent via test".into(),
        action: action.into(),
        env: Some("dev".into()),
        plan_id: None,
        content_hash: None,
        outcome: "ok".into(),
        details: json!({"n": action}),
    }
}

fn lock_of(plan: &Plan, key: &str) -> Lock {
    Lock {
        id: crate::locks::lock_id(key),
        env: plan.env.clone(),
        resource: format!("AWS::S3::Bucket `{key}`"),
        plan_id: plan.id.clone(),
        who: plan.created_by.clone(),
        host: "machine-a".into(),
        what: format!("create (plan {})", plan.id),
        since: "2026-12-03T10:00:00Z".into(),
        key: key.into(),
    }
}

fn assert_chain(s: &dyn Store, entries: usize) {
    let log = s.audit_log().expect("audit log");
    assert_eq!(log.len(), entries, "audit entries");
    let v = audit::verify(&s.audit_key(), &log);
    assert!(v.ok, "the audit chain is broken: {:?}", v.problems);
    for (i, e) in log.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1, "audit seq without gaps");
    }
}

fn plans_round_trip<F: Stores>(f: &F) {
    let s = f.fresh();
    assert_eq!(s.plan("nope").expect("read"), None);
    assert!(s.plans(None, 10).expect("list").is_empty());
    for (i, env) in ["dev", "prod", "dev"].iter().enumerate() {
        let p = sample_plan(&format!("p{i}"), env, &format!("h{i}"));
        s.insert_plan(&p, None, &[record("plan.created")])
            .expect("insert");
    }
    let p1 = s.plan("p1").expect("read").expect("p1 is there");
    assert_eq!(p1, sample_plan("p1", "prod", "h1"));
    let ids = |v: Vec<Plan>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(ids(s.plans(None, 10).expect("list")), ["p2", "p1", "p0"]);
    assert_eq!(ids(s.plans(None, 2).expect("list")), ["p2", "p1"]);
    assert_eq!(ids(s.plans(Some("dev"), 10).expect("list")), ["p2", "p0"]);
    assert_eq!(ids(s.plans(Some("dev"), 1).expect("list")), ["p2"]);
    assert!(s.plans(Some("staging"), 10).expect("list").is_empty());
    assert_chain(&s, 3);
}

fn plan_updates_compare_and_set<F: Stores>(f: &F) {
    let s = f.fresh();
    let mut p = sample_plan("p", "dev", "h");
    s.insert_plan(&p, None, &[]).expect("insert");
    p.status = PlanStatus::Applying;
    s.update_plan(&p, PlanStatus::Planned, &[record("apply.started")])
        .expect("planned → applying");
    p.status = PlanStatus::Applied;
    p.identifier = Some("bucket-p-real".into());
    // Expecting the wrong status loses, changes nothing and writes no audit.
    let lost = s.update_plan(&p, PlanStatus::Planned, &[record("lost")]);
    assert!(
        matches!(lost, Err(StoreError::Conflict(_))),
        "a stale update must be a Conflict: {lost:?}"
    );
    assert_eq!(
        s.plan("p").expect("read").expect("p").status,
        PlanStatus::Applying
    );
    s.update_plan(&p, PlanStatus::Applying, &[record("apply.succeeded")])
        .expect("applying → applied");
    let stored = s.plan("p").expect("read").expect("p");
    assert_eq!(stored.status, PlanStatus::Applied);
    assert_eq!(stored.identifier.as_deref(), Some("bucket-p-real"));
    assert_eq!(
        s.plans(None, 5).expect("list")[0].status,
        PlanStatus::Applied,
        "the listing shows the update"
    );
    assert_chain(&s, 2);
}

fn approvals_round_trip<F: Stores>(f: &F) {
    let s = f.fresh();
    let p = sample_plan("p", "prod", "h");
    let a1 = sample_approval("a1", &p);
    s.insert_plan(&p, Some(&a1), &[record("plan.created")])
        .expect("insert with approval");
    assert_eq!(s.approval("a1").expect("read"), Some(a1.clone()));
    assert_eq!(s.approval_for_plan("p").expect("read"), Some(a1.clone()));
    assert_eq!(s.approval("nope").expect("read"), None);
    assert_eq!(s.approval_for_plan("nope").expect("read"), None);
    // A newer approval of the same plan is the plan's approval.
    let a2 = sample_approval("a2", &p);
    s.insert_approval(&a2, &[record("approval.requested")])
        .expect("second approval");
    assert_eq!(s.approval_for_plan("p").expect("read"), Some(a2.clone()));
    let q = sample_plan("q", "prod", "hq");
    let b = sample_approval("b", &q);
    s.insert_plan(&q, Some(&b), &[]).expect("insert q");
    let ids = |v: Vec<Approval>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(s.approvals(None).expect("all")), ["a1", "a2", "b"]);
    assert_eq!(
        ids(s.approvals(Some(ApprovalStatus::Pending)).expect("pending")),
        ["a1", "a2", "b"]
    );
    assert!(
        s.approvals(Some(ApprovalStatus::Approved))
            .expect("approved")
            .is_empty()
    );
    assert_chain(&s, 2);
}

fn approval_decisions_compare_and_set<F: Stores>(f: &F) {
    let s = f.fresh();
    let p = sample_plan("p", "prod", "h");
    let mut a = sample_approval("a", &p);
    s.insert_plan(&p, Some(&a), &[]).expect("insert");
    a.status = ApprovalStatus::Approved;
    a.decided_by = Some("human:alice via test".into());
    a.decided_at = Some("2026-12-03T10:05:00Z".into());
    s.decide_approval(&a, ApprovalStatus::Pending, &[record("approval.granted")])
        .expect("pending → approved");
    let mut deny = a.clone();
    deny.status = ApprovalStatus::Denied;
    let lost = s.decide_approval(&deny, ApprovalStatus::Pending, &[record("lost")]);
    assert!(
        matches!(lost, Err(StoreError::Conflict(_))),
        "a second decision must be a Conflict: {lost:?}"
    );
    let stored = s.approval("a").expect("read").expect("a");
    assert_eq!(stored.status, ApprovalStatus::Approved);
    assert_eq!(stored.decided_by.as_deref(), Some("human:alice via test"));
    assert_eq!(
        s.approvals(Some(ApprovalStatus::Approved))
            .expect("approved")
            .len(),
        1
    );
    assert!(
        s.approvals(Some(ApprovalStatus::Pending))
            .expect("pending")
            .is_empty()
    );
    // The decision is seen through a second handle (another machine).
    let other = f.again(&s);
    assert_eq!(
        other.approval("a").expect("read").expect("a").status,
        ApprovalStatus::Approved
    );
    assert_chain(&s, 1);
}

fn tokens_are_spent_once<F: Stores>(f: &F) {
    let s = f.fresh();
    assert!(!s.token_spent("t1").expect("spent?"));
    assert!(s.spend_token("t1", 2_000_000_000).expect("spend"));
    assert!(!s.spend_token("t1", 2_000_000_000).expect("spend again"));
    assert!(s.token_spent("t1").expect("spent?"));
    assert!(!s.token_spent("t2").expect("other"));
    let other = f.again(&s);
    assert!(
        !other.spend_token("t1", 2_000_000_000).expect("spend there"),
        "a token spent on one machine is spent on the other"
    );
}

fn questions_are_taken_once<F: Stores>(f: &F) {
    let s = f.fresh();
    let now = 1_800_000_000;
    assert!(!s.take_question("a", "n1", now).expect("never asked"));
    s.open_question("a", "n1", now + 60).expect("ask");
    assert!(!s.take_question("a", "wrong", now).expect("wrong nonce"));
    assert!(!s.take_question("b", "n1", now).expect("other approval"));
    // A new question replaces the open one.
    s.open_question("a", "n2", now + 60).expect("ask again");
    assert!(!s.take_question("a", "n1", now).expect("replaced"));
    let other = f.again(&s);
    assert!(other.take_question("a", "n2", now).expect("answer there"));
    assert!(!s.take_question("a", "n2", now).expect("answered once"));
    s.open_question("a", "n3", now + 60).expect("ask");
    assert!(
        !s.take_question("a", "n3", now + 61).expect("late"),
        "an expired question is not answered"
    );
}

fn applied_states<F: Stores>(f: &F) {
    let s = f.fresh();
    let state = |t: &str, id: &str, v: i64| AppliedState {
        env: "dev".into(),
        type_name: t.into(),
        identifier: id.into(),
        properties: json!({"Value": v}),
        plan_id: format!("p{v}"),
        at: "2026-12-03T10:00:00Z".into(),
    };
    s.record_applied(&state("AWS::SQS::Queue", "q", 1))
        .expect("record");
    s.record_applied(&state("AWS::S3::Bucket", "b2", 2))
        .expect("record");
    s.record_applied(&state("AWS::S3::Bucket", "b1", 3))
        .expect("record");
    // Recording again replaces.
    s.record_applied(&state("AWS::S3::Bucket", "b1", 4))
        .expect("replace");
    let got = s.applied("dev").expect("list");
    let keys: Vec<_> = got
        .iter()
        .map(|a| (a.type_name.as_str(), a.identifier.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("AWS::S3::Bucket", "b1"),
            ("AWS::S3::Bucket", "b2"),
            ("AWS::SQS::Queue", "q")
        ]
    );
    assert_eq!(got[0], state("AWS::S3::Bucket", "b1", 4));
    assert!(s.applied("prod").expect("other env").is_empty());
    s.forget_applied("dev", "AWS::S3::Bucket", "b2")
        .expect("forget");
    s.forget_applied("dev", "AWS::S3::Bucket", "never")
        .expect("forget nothing");
    assert_eq!(s.applied("dev").expect("list").len(), 2);
}

fn exclusive_inserts_and_locks<F: Stores>(f: &F) {
    let s = f.fresh();
    let always = |_: &Plan, _: Option<&Approval>| true;
    let never = |_: &Plan, _: Option<&Approval>| false;
    let p1 = sample_plan("p1", "prod", "h1");
    let l1 = lock_of(&p1, "prod\nAWS::S3::Bucket\nlogs");
    assert_eq!(
        s.insert_plan_exclusive(&p1, None, &[record("plan.created")], Some(&l1), &always)
            .expect("first"),
        None
    );
    // The same resource, while p1 is in flight: p1 is the answer, nothing added.
    let p2 = sample_plan("p2", "prod", "h2");
    let l2 = lock_of(&p2, "prod\nAWS::S3::Bucket\nlogs");
    let held = s
        .insert_plan_exclusive(&p2, None, &[record("lost")], Some(&l2), &always)
        .expect("second");
    assert_eq!(held.map(|p| p.id).as_deref(), Some("p1"));
    assert_eq!(s.plan("p2").expect("read"), None);
    let locks = s.locks().expect("locks");
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0], l1, "the lock keeps its holder");
    // Once p1 is not in flight (the engine's rule), p2 takes the lock.
    assert_eq!(
        s.insert_plan_exclusive(&p2, None, &[record("plan.created")], Some(&l2), &never)
            .expect("after"),
        None
    );
    assert_eq!(s.locks().expect("locks")[0].plan_id, "p2");
    // A pending approval of the same content blocks a second plan of it.
    let p3 = sample_plan("p3", "prod", "same");
    let a3 = sample_approval("a3", &p3);
    assert_eq!(
        s.insert_plan_exclusive(&p3, Some(&a3), &[], None, &always)
            .expect("p3"),
        None
    );
    let p4 = sample_plan("p4", "prod", "same");
    let a4 = sample_approval("a4", &p4);
    let held = s
        .insert_plan_exclusive(&p4, Some(&a4), &[], None, &always)
        .expect("p4");
    assert_eq!(held.map(|p| p.id).as_deref(), Some("p3"));
    assert_eq!(s.approval("a4").expect("read"), None);
    // Releasing: only by the holder's plan, once.
    let wrong = s.release_lock(&l2.id, "p1", &[record("lost")]);
    assert!(matches!(wrong, Err(StoreError::Conflict(_))), "{wrong:?}");
    s.release_lock(&l2.id, "p2", &[record("lock.released")])
        .expect("release");
    assert!(s.locks().expect("locks").is_empty());
    let again = s.release_lock(&l2.id, "p2", &[record("lost")]);
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_chain(&s, 3);
}

fn audit_chain_holds<F: Stores>(f: &F) {
    let s = f.fresh();
    assert_chain(&s, 0);
    s.append_audit(&[]).expect("nothing");
    s.append_audit(&[record("a"), record("b")]).expect("two");
    let other = f.again(&s);
    other.append_audit(&[record("c")]).expect("from the other");
    s.append_audit(&[record("d")]).expect("back");
    assert_chain(&s, 4);
    assert_chain(&other, 4);
    let actions: Vec<_> = s
        .audit_log()
        .expect("log")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["a", "b", "c", "d"]);
    assert_eq!(s.audit_key(), other.audit_key(), "one key for the chain");
}

/// Threads on two handles race for the same plan update, approval
/// decision, token and lock: exactly one wins each; the audit chain has
/// every winner's record and no gap.
fn concurrent_writers_never_both_win<F: Stores>(f: &F) {
    const RACERS: usize = 8;
    let a = Arc::new(f.fresh());
    let b = Arc::new(f.again(&a));
    let p = sample_plan("p", "prod", "h");
    let appr = sample_approval("a", &p);
    a.insert_plan(&p, Some(&appr), &[]).expect("insert");
    let barrier = Arc::new(Barrier::new(RACERS));
    let handles: Vec<_> = (0..RACERS)
        .map(|i| {
            let store: Arc<F::S> = if i % 2 == 0 { a.clone() } else { b.clone() };
            let (barrier, mut p, mut appr) = (barrier.clone(), p.clone(), appr.clone());
            thread::spawn(move || {
                barrier.wait();
                p.status = PlanStatus::Applying;
                let plan_won = store
                    .update_plan(&p, PlanStatus::Planned, &[record(&format!("apply {i}"))])
                    .is_ok();
                appr.status = ApprovalStatus::Approved;
                let decision_won = store
                    .decide_approval(
                        &appr,
                        ApprovalStatus::Pending,
                        &[record(&format!("decide {i}"))],
                    )
                    .is_ok();
                let token_won = store.spend_token("t", 2_000_000_000).expect("spend");
                let q = sample_plan(&format!("q{i}"), "prod", &format!("hq{i}"));
                let lock = lock_of(&q, "prod\nAWS::S3::Bucket\nraced");
                let lock_won = store
                    .insert_plan_exclusive(
                        &q,
                        None,
                        &[record(&format!("lock {i}"))],
                        Some(&lock),
                        &|_, _| true,
                    )
                    .expect("exclusive")
                    .is_none();
                store
                    .append_audit(&[record(&format!("note {i}"))])
                    .expect("append");
                (plan_won, decision_won, token_won, lock_won)
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("racer"))
        .collect();
    let wins =
        |pick: fn(&(bool, bool, bool, bool)) -> bool| results.iter().filter(|r| pick(r)).count();
    assert_eq!(
        wins(|r| r.0),
        1,
        "exactly one plan update wins: {results:?}"
    );
    assert_eq!(wins(|r| r.1), 1, "exactly one decision wins: {results:?}");
    assert_eq!(
        wins(|r| r.2),
        1,
        "exactly one token spend wins: {results:?}"
    );
    assert_eq!(wins(|r| r.3), 1, "exactly one lock wins: {results:?}");
    // Winners' records and every note, once each, in one unbroken chain.
    let log = a.audit_log().expect("log");
    assert_chain(&*a, 3 + RACERS);
    let actions: BTreeSet<_> = log.iter().map(|e| e.action.clone()).collect();
    assert_eq!(actions.len(), log.len(), "no record twice");
    let plans: Vec<_> = a
        .plans(Some("prod"), 100)
        .expect("plans")
        .into_iter()
        .filter(|p| p.id.starts_with('q'))
        .collect();
    assert_eq!(plans.len(), 1, "only the lock's winner inserted its plan");
}

/// A secret in a plan's desired state or an applied state is not kept in
/// clear, and a second handle opens it.
fn secrets_are_sealed_and_shared<F: Stores>(f: &F) {
    let s = f.fresh();
    let mut p = sample_plan("p", "dev", "h");
    p.type_name = ResourceType::new("AWS::SecretsManager::Secret").expect("type");
    p.desired_state = json!({"Name": "db", "SecretString": "hunter2-conformance"});
    s.insert_plan(&p, None, &[]).expect("insert");
    s.record_applied(&AppliedState {
        env: "dev".into(),
        type_name: "AWS::SecretsManager::Secret".into(),
        identifier: "db".into(),
        properties: json!({"Name": "db", "SecretString": "hunter2-conformance"}),
        plan_id: "p".into(),
        at: "2026-12-03T10:00:00Z".into(),
    })
    .expect("applied");
    let other = f.again(&s);
    assert_eq!(
        other.plan("p").expect("read").expect("p").desired_state["SecretString"],
        "hunter2-conformance"
    );
    assert_eq!(
        other.applied("dev").expect("applied")[0].properties["SecretString"],
        "hunter2-conformance"
    );
}
