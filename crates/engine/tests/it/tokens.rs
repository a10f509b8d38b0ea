//! Token lifetime on an injected clock: a token is good until its expiry
//! and refused one second after, with no sleeping.

use std::collections::BTreeMap;

use infraguard_engine::EngineError;

use super::harness::*;

#[test]
fn a_chain_token_is_refused_once_its_lifetime_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let e = engine_with(dir.path(), clock.clone(), |raw| raw.tokens.ttl_seconds = 60)
        .with_signing_key(vec![9; 32]);
    let vars = BTreeMap::new();

    // Within its lifetime: accepted.
    let check = e.check_environment("dev", &vars).unwrap();
    clock.advance(59);
    let info = e
        .session_info("dev", check.environment_token.as_deref())
        .unwrap();
    assert!(!info.credentials_token.is_empty());

    // One second past it: refused, saying so, and the next step is named.
    let check = e.check_environment("dev", &vars).unwrap();
    clock.advance(61);
    let err = e
        .session_info("dev", check.environment_token.as_deref())
        .unwrap_err();
    assert!(matches!(err, EngineError::Chain(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("expired"), "{msg}");
    assert!(msg.contains("check_environment_variables"), "{msg}");

    // And a token issued now is good again.
    let check = e.check_environment("dev", &vars).unwrap();
    assert!(
        e.session_info("dev", check.environment_token.as_deref())
            .is_ok()
    );
}

#[test]
fn an_approval_question_is_answered_once_and_only_in_time() {
    use infraguard_engine::PlanRequest;
    use serde_json::json;

    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let e = engine_with(dir.path(), clock.clone(), |raw| raw.tokens.ttl_seconds = 60);
    let plan = e
        .plan(PlanRequest::create(
            "prod",
            "AWS::S3::Bucket",
            None,
            json!({"BucketName": "synthcoreai-asked-prod"}),
            agent(),
        ))
        .unwrap();
    let approval = plan.gate.approval_id.clone().expect("prod needs a human");

    let state = e.ask_question(&approval).unwrap();
    // A made-up state, or another approval's, answers nothing.
    assert!(
        !e.take_question(&approval, &format!("{approval}.0000"))
            .unwrap()
    );
    assert!(!e.take_question("apr-other", &state).unwrap());
    // The real one, once.
    assert!(e.take_question(&approval, &state).unwrap());
    assert!(!e.take_question(&approval, &state).unwrap());

    // A second engine on the same store (another server process) sees the
    // same questions.
    let state = e.ask_question(&approval).unwrap();
    let other = engine_with(dir.path(), clock.clone(), |_| {});
    assert!(other.take_question(&approval, &state).unwrap());

    // Past a token's lifetime the question is closed.
    let state = e.ask_question(&approval).unwrap();
    clock.advance(61);
    assert!(!e.take_question(&approval, &state).unwrap());

    // A decided approval is not asked about.
    e.deny(&approval, &agent(), None).unwrap();
    assert!(e.ask_question(&approval).is_err());
}
