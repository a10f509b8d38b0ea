//! Deletes of stateful and protected resources, as the schema registry
//! describes each type's switch: refused at plan time with the update that
//! turns it off, except where the switch does not apply; a stateful delete
//! that goes ahead says that no snapshot is taken.

use infraguard_core::plan::Plan;
use infraguard_engine::redact::Shown;
use infraguard_engine::{EngineError, ErrorKind, PlanRequest};
use serde_json::{Value, json};

use super::harness::*;

/// A fresh project with a resource created in prod behind infraguard's
/// back, and the plan of its delete or why there is none.
struct Seeded {
    e: TestEngine,
    id: String,
    plan: Result<Shown<Plan>, EngineError>,
    // Last: the engine closes its databases before the folder goes.
    _dir: tempfile::TempDir,
}

fn delete_seeded(type_name: &str, props: Value) -> Seeded {
    let (dir, e) = project();
    let id = seed(&e, "prod", type_name, props);
    let plan = e.plan(delete_request("prod", type_name, &id));
    Seeded {
        e,
        id,
        plan,
        _dir: dir,
    }
}

/// The delete of a protected prod resource is refused at plan time, naming
/// the switch that is on, the update that turns it off and how to keep a
/// copy; nothing is planned.
fn refused_with_the_way_out(type_name: &str, props: Value, switch: &str, copy: &str) {
    // `_dir` bound first, so it is dropped last, after the engine.
    let Seeded { _dir, e, id, plan } = delete_seeded(type_name, props);
    let err = plan.unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.kind(), ErrorKind::BadInput, "{msg}");
    assert!(
        msg.contains(&format!("deletion protection on ({switch})")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("--operation update --id {id}")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("\"path\":\"/{switch}\",\"value\":false")),
        "{msg}"
    );
    assert!(msg.contains(copy), "{msg}");
    assert!(e.plans(None, 10).unwrap().is_empty(), "nothing was planned");
}

#[test]
fn a_protected_stateful_delete_is_refused_at_plan_time_with_the_way_out() {
    refused_with_the_way_out(
        "AWS::RDS::DBInstance",
        json!({"DBInstanceIdentifier": "synthcoreai-db-prod", "Engine": "postgres", "DBInstanceClass": "db.t3.micro",
               "AllocatedStorage": "20", "MasterUsername": "admin", "ManageMasterUserPassword": true, "DeletionProtection": true}),
        "DeletionProtection",
        "create-db-snapshot",
    );
}

#[test]
fn a_protected_log_group_delete_is_refused_with_the_way_out() {
    refused_with_the_way_out(
        "AWS::Logs::LogGroup",
        json!({"LogGroupName": "synthcoreai-app-prod", "DeletionProtectionEnabled": true}),
        "DeletionProtectionEnabled",
        "copy what you need first",
    );
}

#[test]
fn a_cognito_pool_is_unprotected_with_its_enum_value() {
    let seeded = delete_seeded(
        "AWS::Cognito::UserPool",
        json!({"UserPoolName": "synthcoreai-users-prod", "DeletionProtection": "ACTIVE"}),
    );
    let msg = seeded.plan.unwrap_err().to_string();
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
    let seeded = delete_seeded(
        "AWS::RDS::DBInstance",
        json!({"DBInstanceIdentifier": "synthcoreai-db-1-prod", "Engine": "aurora-postgresql",
               "DBInstanceClass": "db.r6g.large", "DBClusterIdentifier": "synthcoreai-db-prod",
               "DeletionProtection": true}),
    );
    let plan = seeded.plan.unwrap();
    assert!(
        plan.explanation.contains("create-db-snapshot"),
        "{}",
        plan.explanation
    );
}

#[test]
fn a_stateful_delete_says_no_snapshot_and_no_template_shows_a_deletion_policy() {
    let Seeded { _dir, e, plan, .. } = delete_seeded(
        "AWS::DynamoDB::Table",
        json!({"TableName": "synthcoreai-orders-prod", "BillingMode": "PAY_PER_REQUEST",
               "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
    );
    let plan = plan.unwrap();
    assert!(
        plan.gate
            .reasons
            .iter()
            .any(|r| r.contains("destroys its data: Cloud Control takes no snapshot")),
        "{:?}",
        plan.gate.reasons
    );
    assert!(
        plan.explanation.contains("create-backup"),
        "{}",
        plan.explanation
    );
    assert!(!plan.template.to_pretty_json().contains("DeletionPolicy"));

    // A create of a stateful type: no DeletionPolicy shown, none asked for.
    let create = e
        .plan(PlanRequest::create(
            "dev",
            "AWS::DynamoDB::Table",
            Some("orders"),
            json!({"BillingMode": "PAY_PER_REQUEST",
                   "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                   "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
            agent(),
        ))
        .unwrap();
    assert!(!create.template.to_pretty_json().contains("DeletionPolicy"));
    assert!(!create.findings.iter().any(|f| f.rule == "IG-DATA-001"));
    assert!(
        create.explanation.contains("takes no snapshot"),
        "{}",
        create.explanation
    );
}
