//! Secrets: masked in everything the engine hands out, sealed in
//! `state.db`, sent in clear only to the cloud; a plaintext access key is
//! refused at plan time.

use infraguard_core::cloud::Cloud;
use infraguard_core::resource::ResourceType;
use infraguard_engine::redact::MARKER;
use infraguard_engine::{ApplyOutcome, EngineApi, ErrorKind, PlanRequest};
use serde_json::{Value, json};

use super::harness::*;

const PASSWORD: &str = "pw-Zq81xKcv-very-secret";
const TOKEN: &str = "tok-3fj28dk2-stripe";

fn function(props: Value) -> PlanRequest {
    PlanRequest::create(
        "dev",
        "AWS::Lambda::Function",
        Some("worker"),
        props,
        agent(),
    )
}

fn lambda_props() -> Value {
    json!({
        "Role": "arn:aws:iam::000000000000:role/worker",
        "Runtime": "python3.12",
        "Handler": "index.handler",
        "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"},
        "Environment": {"Variables": {"DB_PASSWORD": PASSWORD, "STRIPE_API_TOKEN": TOKEN, "MODE": "prod"}},
        "Tags": [{"Key": "deploy_token", "Value": "tag-secret-55"}]
    })
}

#[test]
fn secrets_are_masked_sealed_at_rest_and_sent_to_the_cloud() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path());
    let plan = e.plan(function(lambda_props())).unwrap();
    let shown = serde_json::to_string(&*plan).unwrap();
    for secret in [PASSWORD, TOKEN, "tag-secret-55"] {
        assert!(!shown.contains(secret), "plan shows {secret}: {shown}");
        assert!(!plan.explanation.contains(secret), "{}", plan.explanation);
    }
    assert_eq!(
        plan.desired_state["Environment"]["Variables"]["DB_PASSWORD"],
        MARKER
    );
    assert_eq!(
        plan.desired_state["Environment"]["Variables"]["MODE"],
        "prod"
    );
    let listed = e.plans(None, 10).unwrap();
    assert!(!serde_json::to_string(&*listed).unwrap().contains(PASSWORD));

    if let Some(a) = plan.gate.approval_id.clone() {
        e.approve_with(&a, &caller(), &confirm(), None).unwrap();
    }
    let outcome = e.apply(&plan.id, &agent(), &mut noop()).unwrap();
    let id = match outcome {
        ApplyOutcome::Applied { event, .. } => event.identifier.unwrap(),
        other => panic!("expected applied, got {other:?}"),
    };
    // The cloud got the real values.
    let t = ResourceType::new("AWS::Lambda::Function").unwrap();
    let live = e.cloud("dev").unwrap().get(&t, &id).unwrap();
    assert_eq!(
        live.properties["Environment"]["Variables"]["DB_PASSWORD"],
        PASSWORD
    );
    // Callers see them masked.
    let got =
        EngineApi::get_resource(&e, &caller(), "dev".into(), t.to_string(), id.clone()).unwrap();
    assert_eq!(
        got.properties["Environment"]["Variables"]["DB_PASSWORD"],
        MARKER
    );
    let all = EngineApi::list_resources(&e, &caller(), "dev".into(), None).unwrap();
    let all = serde_json::to_string(&*all).unwrap();
    assert!(!all.contains(PASSWORD) && !all.contains(TOKEN), "{all}");

    // state.db (and its WAL) never holds them in clear.
    drop(e);
    for f in ["state.db", "state.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.path().join(f)) else {
            continue;
        };
        for secret in [PASSWORD, TOKEN, "tag-secret-55"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{f} holds {secret} in clear"
            );
        }
    }
    // And reopened, the engine still reads its plan back exactly.
    let e = engine_in(dir.path());
    let stored = e.plan_by_id(&plan.id).unwrap();
    assert_eq!(stored.content_hash, plan.content_hash);
}

#[test]
fn write_only_values_are_masked_and_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path());
    let plan = e
        .plan(PlanRequest::create(
            "dev",
            "AWS::RDS::DBInstance",
            Some("orders"),
            json!({
                "DBInstanceClass": "db.t3.micro",
                "Engine": "postgres",
                "AllocatedStorage": "20",
                "MasterUsername": "app",
                "MasterUserPassword": PASSWORD
            }),
            agent(),
        ))
        .unwrap();
    assert_eq!(plan.desired_state["MasterUserPassword"], MARKER);
    assert_eq!(plan.desired_state["MasterUsername"], "app");
    let text = serde_json::to_string(&*plan).unwrap();
    assert!(!text.contains(PASSWORD), "{text}");
    drop(e);
    let bytes = std::fs::read(dir.path().join("state.db")).unwrap();
    let wal = std::fs::read(dir.path().join("state.db-wal")).unwrap_or_default();
    for b in [bytes, wal] {
        assert!(!b.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()));
    }
}

#[test]
fn a_plaintext_access_key_is_refused_outright_with_the_fix() {
    let (_dir, e) = project();
    let mut props = lambda_props();
    props["Environment"]["Variables"]["AWS_KEY"] = json!("AKIAIOSFODNN7EXAMPLE");
    let err = e.plan(function(props)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadInput);
    let msg = err.to_string();
    assert!(msg.contains("/Environment/Variables/AWS_KEY"), "{msg}");
    assert!(msg.contains("{{resolve:secretsmanager:"), "{msg}");
    assert!(msg.contains("no approval"), "{msg}");
    assert!(!msg.contains("AKIAIOSFODNN7EXAMPLE"), "{msg}");
    assert!(e.plans(None, 10).unwrap().is_empty(), "nothing was stored");
    // A dynamic reference is the fix, and is accepted and shown as written.
    let mut props = lambda_props();
    props["Environment"]["Variables"]["AWS_KEY"] =
        json!("{{resolve:secretsmanager:worker:SecretString:key}}");
    let plan = e.plan(function(props)).unwrap();
    assert_eq!(
        plan.desired_state["Environment"]["Variables"]["AWS_KEY"],
        "{{resolve:secretsmanager:worker:SecretString:key}}"
    );
}
