//! Idempotent retries: a mutation whose reply was lost (the server killed
//! mid-apply, a dropped connection) is called again with the same tokens or
//! the same plan, and answers the first request's outcome with the same
//! Cloud Control client token. Never a second resource.
//!
//! A VPC is the resource here because the cloud names it: a second create
//! would be a second VPC, not an `AlreadyExists`.

use std::collections::BTreeMap;

use infraguard_cloud_local::Faults;
use infraguard_core::plan::PlanStatus;
use infraguard_core::resource::Operation;
use infraguard_engine::{ApplyOutcome, EngineError, FindingsDecision, PlanRequest};
use serde_json::json;

use super::harness::*;

const VPC: &str = "AWS::EC2::VPC";

fn keyed(dir: &std::path::Path) -> TestEngine {
    engine_in(dir).with_signing_key(vec![7u8; 32])
}

fn vpcs(e: &TestEngine) -> usize {
    e.list_resources("dev", Some(VPC)).unwrap().len()
}

/// The three tokens a mutation tool takes, for one VPC create.
struct Tokens {
    credentials: String,
    explained: String,
    scanned: String,
    plan_id: String,
}

fn walk(e: &TestEngine, cidr: &str) -> Tokens {
    let check = e.check_environment("dev", &BTreeMap::new()).unwrap();
    let session = e
        .session_info("dev", check.environment_token.as_deref())
        .unwrap();
    let generated = e
        .generate(
            PlanRequest::create("dev", VPC, None, json!({"CidrBlock": cidr}), agent()),
            Some(&session.credentials_token),
        )
        .unwrap();
    let explained = e
        .explain_step("dev", Some(&generated.generated_code_token))
        .unwrap();
    let scanned = e
        .scan_step("dev", Some(&explained.explained_token))
        .unwrap();
    Tokens {
        credentials: session.credentials_token,
        explained: explained.explained_token,
        scanned: scanned.security_scan_token,
        plan_id: generated.plan.id.clone(),
    }
}

fn create(e: &TestEngine, t: &Tokens) -> Result<ApplyOutcome, EngineError> {
    e.apply_step(
        "dev",
        Operation::Create,
        Some(&t.credentials),
        Some(&t.explained),
        Some(&t.scanned),
        infraguard_engine::chain::Claimed::default(),
        &agent(),
        &mut noop(),
    )
}

#[test]
fn the_same_mutation_again_with_the_same_tokens_returns_the_first_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let e = keyed(dir.path());
    let t = walk(&e, "10.0.0.0/16");
    let first = applied(create(&e, &t).unwrap());
    let before = calls(&e, "dev");
    // The reply was lost; the agent calls again with the same tokens.
    let again = applied(create(&e, &t).unwrap());
    assert_eq!(again.identifier, first.identifier);
    assert_eq!(again.request_token, first.request_token);
    assert_eq!(calls(&e, "dev"), before, "asked the cloud again");
    assert_eq!(vpcs(&e), 1);
    assert!(audited(&e, "apply.retried"), "{:?}", actions(&e));
}

#[test]
fn a_plan_left_applying_is_finished_by_the_retry_with_its_client_token() {
    let dir = tempfile::tempdir().unwrap();
    let e = keyed(dir.path());
    let t = walk(&e, "10.1.0.0/16");
    // The request is accepted but outlives the apply's patience (20 polls):
    // the apply gives up, the plan stays `applying` with the request sent,
    // as when the server is killed mid-apply.
    set_faults(
        &e,
        "dev",
        Faults {
            pending_polls: 30,
            ..Default::default()
        },
    );
    let err = create(&e, &t).unwrap_err();
    assert!(err.to_string().contains("IN_PROGRESS"), "{err}");
    set_faults(&e, "dev", Faults::default());
    let state = e.plan_state(&t.plan_id).unwrap();
    assert_eq!(state.status, PlanStatus::Applying);
    assert!(
        state.next_step.contains("resume_plan"),
        "{}",
        state.next_step
    );
    assert!(
        state.next_step.contains("Do not plan it again"),
        "{}",
        state.next_step
    );
    assert_eq!(
        state.client_token.as_deref(),
        Some(format!("infraguard-{}", t.plan_id).as_str())
    );
    let listed = e
        .plan_states(Some("dev"), Some(PlanStatus::Applying), 10)
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].plan_id, t.plan_id);

    // The retry re-sends the same client token: the cloud answers with the
    // first request, which then finishes. One VPC.
    let event = applied(create(&e, &t).unwrap());
    assert!(event.identifier.is_some());
    assert_eq!(vpcs(&e), 1);
    assert_eq!(
        e.plan_state(&t.plan_id).unwrap().status,
        PlanStatus::Applied
    );
}

#[test]
fn resume_finishes_an_applying_plan_and_refuses_one_never_sent() {
    let dir = tempfile::tempdir().unwrap();
    let e = keyed(dir.path());
    let t = walk(&e, "10.2.0.0/16");
    let err = e.resume(&t.plan_id, &agent(), &mut noop()).unwrap_err();
    assert!(err.to_string().contains("never sent"), "{err}");
    assert_eq!(vpcs(&e), 0);

    set_faults(
        &e,
        "dev",
        Faults {
            pending_polls: 25,
            ..Default::default()
        },
    );
    create(&e, &t).unwrap_err();
    set_faults(&e, "dev", Faults::default());
    let first = applied(e.resume(&t.plan_id, &agent(), &mut noop()).unwrap());
    let again = applied(e.resume(&t.plan_id, &agent(), &mut noop()).unwrap());
    assert_eq!(first.request_token, again.request_token);
    assert_eq!(vpcs(&e), 1);
    // And the tokens, used once more, answer the same outcome.
    assert_eq!(
        applied(create(&e, &t).unwrap()).request_token,
        first.request_token
    );
    assert_eq!(vpcs(&e), 1);
}

#[test]
fn spent_tokens_of_a_discarded_or_failed_plan_are_refused_with_safe_advice() {
    let dir = tempfile::tempdir().unwrap();
    let e = keyed(dir.path());
    // Cancelled after the scan: discarded, its tokens refused.
    let t = walk(&e, "10.3.0.0/16");
    e.findings_decision(
        "dev",
        Some(&t.scanned),
        FindingsDecision::Cancel,
        &[],
        Some("not now"),
        &agent(),
    )
    .unwrap();
    assert_eq!(
        e.plan_state(&t.plan_id).unwrap().status,
        PlanStatus::Discarded
    );
    let err = create(&e, &t).unwrap_err();
    assert!(err.to_string().contains("discarded"), "{err}");
    assert_eq!(vpcs(&e), 0);

    // Failed in the cloud: the retry says so, and that nothing was made.
    let t = walk(&e, "10.4.0.0/16");
    set_faults(
        &e,
        "dev",
        Faults {
            fail_next: 1,
            ..Default::default()
        },
    );
    create(&e, &t).unwrap_err();
    let err = create(&e, &t).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("failed") && msg.contains("changed nothing"),
        "{msg}"
    );
    assert_eq!(vpcs(&e), 0);
}
