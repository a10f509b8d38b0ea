//! Deletes of protected resources, as the schema registry describes each
//! type's switch: refused at plan time with the update that turns it off,
//! except where the switch does not apply.

use infraguard_core::cloud::Cloud;
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_engine::{ErrorKind, PlanRequest};
use serde_json::{Value, json};

use super::harness::*;

fn delete(type_name: &str, id: &str) -> PlanRequest {
    PlanRequest {
        env: "prod".into(),
        operation: Operation::Delete,
        type_name: type_name.into(),
        purpose: None,
        properties: None,
        identifier: Some(id.into()),
        patch: None,
        usage: None,
        actor: agent(),
    }
}

/// Create a resource in prod behind infraguard's back; its identifier.
fn seed(e: &TestEngine, type_name: &str, props: Value) -> String {
    let t = ResourceType::new(type_name).unwrap();
    let event = e.cloud("prod").unwrap().create(&t, &props, "seed").unwrap();
    event.identifier.unwrap()
}

#[test]
fn a_protected_log_group_delete_is_refused_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path());
    seed(
        &e,
        "AWS::Logs::LogGroup",
        json!({"LogGroupName": "synthcoreai-app-prod", "DeletionProtectionEnabled": true}),
    );
    let err = e
        .plan(delete("AWS::Logs::LogGroup", "synthcoreai-app-prod"))
        .unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.kind(), ErrorKind::BadInput, "{msg}");
    assert!(
        msg.contains("deletion protection on (DeletionProtectionEnabled)"),
        "{msg}"
    );
    assert!(
        msg.contains("\"path\":\"/DeletionProtectionEnabled\",\"value\":false"),
        "{msg}"
    );
    assert!(msg.contains("copy what you need first"), "{msg}");
    assert!(e.plans(None, 10).unwrap().is_empty(), "nothing was planned");
}

#[test]
fn a_cognito_pool_is_unprotected_with_its_enum_value() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path());
    let id = seed(
        &e,
        "AWS::Cognito::UserPool",
        json!({"UserPoolName": "synthcoreai-users-prod", "DeletionProtection": "ACTIVE"}),
    );
    let msg = e
        .plan(delete("AWS::Cognito::UserPool", &id))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("\"path\":\"/DeletionProtection\",\"value\":\"INACTIVE\""),
        "{msg}"
    );
}

#[test]
fn an_aurora_member_with_its_own_switch_on_can_be_planned_for_delete() {
    // AWS deletes an instance of a cluster whatever its own switch says (the
    // cluster is what is protected), and so does the local cloud: the plan
    // must not refuse what the cloud would do.
    let dir = tempfile::tempdir().unwrap();
    let e = engine_in(dir.path());
    seed(
        &e,
        "AWS::RDS::DBInstance",
        json!({"DBInstanceIdentifier": "synthcoreai-db-1-prod", "Engine": "aurora-postgresql",
               "DBInstanceClass": "db.r6g.large", "DBClusterIdentifier": "synthcoreai-db-prod",
               "DeletionProtection": true}),
    );
    let plan = e
        .plan(delete("AWS::RDS::DBInstance", "synthcoreai-db-1-prod"))
        .unwrap();
    assert!(
        plan.explanation.contains("create-db-snapshot"),
        "{}",
        plan.explanation
    );
}
