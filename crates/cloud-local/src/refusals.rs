//! Refusals the services behind Cloud Control make that no resource schema
//! can express: a delete of a resource whose deletion protection is on, and
//! an RDS create with no master password. Each is a [`Refusal`]: the
//! Cloud Control `ErrorCode` the request ends `FAILED` with, and a message
//! that starts with the service's own words, so a user who later meets the
//! real error recognises it.
//!
//! Where the words and codes come from:
//! - RDS: "Cannot delete protected DB Instance, please disable deletion
//!   protection and try again." and "Cannot delete protected Cluster, …"
//!   (`InvalidParameterCombination`), and "The parameter MasterUserPassword
//!   must be provided and must not be blank." (`InvalidParameterValue`), as
//!   DeleteDBInstance / DeleteDBCluster / CreateDBInstance / CreateDBCluster
//!   return them (Aurora user guide; error reports such as
//!   hashicorp/terraform-provider-aws#26233; moto's RDS tests). The RDS
//!   resource handlers (aws-cloudformation-resource-providers-rds, `Commons`
//!   and `DEFAULT_DB_INSTANCE_ERROR_RULE_SET`) map both service codes to
//!   `InvalidRequest` and pass the service's message on as the status
//!   message.
//! - DynamoDB: "Resource cannot be deleted as it is currently protected
//!   against deletion. Disable deletion protection first." with
//!   `ValidationException` (DeleteTable; the same text seen through Cloud
//!   Control's DeleteResource in aws-bench/aws-bench#41).
//! - Cognito: "The user pool cannot be deleted because deletion protection
//!   is activated. Deletion protection must be inactivated first." with
//!   `InvalidParameterException` (DeleteUserPool).
//! - CloudWatch Logs: no wording from AWS was found; the message says so
//!   rather than invent one.
//!
//! The DynamoDB, Cognito and Logs handlers are not public, so their Cloud
//! Control code is not confirmed: `InvalidRequest` is what a handler makes
//! of a service's client-side refusal (as the RDS handlers do), and what
//! leaves the resource as it was, which is the part that matters here.

use infraguard_core::ErrorCode;
use infraguard_schema::registry::{self, Switch};
use serde_json::Value;

/// Why a request ends `FAILED` before it changes anything.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

/// What a service says when it refuses to delete a protected resource.
/// Which property is the switch and which value is "on" are the schema
/// registry's (`infraguard_schema::registry`); a protected type missing
/// here is still refused, in words that say none are known.
struct ServiceWords {
    type_name: &'static str,
    service: &'static str,
    /// The service's own error code, where known.
    service_code: Option<&'static str>,
    /// The service's own words, where known.
    words: Option<&'static str>,
}

const WORDS: [ServiceWords; 5] = [
    ServiceWords {
        type_name: "AWS::RDS::DBInstance",
        service: "RDS",
        service_code: Some("InvalidParameterCombination"),
        words: Some(
            "Cannot delete protected DB Instance, please disable deletion protection and try again.",
        ),
    },
    ServiceWords {
        type_name: "AWS::RDS::DBCluster",
        service: "RDS",
        service_code: Some("InvalidParameterCombination"),
        words: Some(
            "Cannot delete protected Cluster, please disable deletion protection and try again.",
        ),
    },
    ServiceWords {
        type_name: "AWS::DynamoDB::Table",
        service: "DynamoDB",
        service_code: Some("ValidationException"),
        words: Some(
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
        ),
    },
    ServiceWords {
        type_name: "AWS::Cognito::UserPool",
        service: "Cognito",
        service_code: Some("InvalidParameterException"),
        words: Some(
            "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.",
        ),
    },
    ServiceWords {
        type_name: "AWS::Logs::LogGroup",
        service: "CloudWatch Logs",
        service_code: None,
        words: None,
    },
];

/// Whether a delete of `props` must be refused because its deletion
/// protection is on. The registry's switch already leaves out an RDS
/// instance in a cluster: "This setting doesn't apply to Amazon Aurora DB
/// instances … DB instances in a DB cluster can be deleted even when
/// deletion protection is enabled for the DB cluster" (the DBInstance
/// schema).
pub(crate) fn delete(type_name: &str, id: &str, props: &Value) -> Option<Refusal> {
    let p = registry::deletion(type_name).protection?;
    if !p.is_on(props) {
        return None;
    }
    let known = WORDS.iter().find(|w| w.type_name == type_name);
    let service = known
        .map(|w| w.service)
        .or_else(|| type_name.split("::").nth(1))
        .unwrap_or(type_name);
    let said = match known.and_then(|w| w.words.zip(w.service_code)) {
        Some((words, code)) => format!("{words} ({service} error {code})"),
        None => format!(
            "{service} refuses to delete a resource whose `{}` is on (the local cloud knows no exact AWS wording for this refusal)",
            p.property
        ),
    };
    let off = match p.switch {
        Switch::Bool => "false",
        Switch::Enum { off, .. } => off,
    };
    Some(Refusal {
        code: ErrorCode::InvalidRequest,
        message: format!(
            "{said}. {type_name} `{id}` was not deleted; update `{}` to {off} first, then delete it",
            p.property
        ),
    })
}

/// Whether a create of `props` must be refused by the service itself.
pub(crate) fn create(type_name: &str, props: &Value) -> Option<Refusal> {
    match type_name {
        "AWS::RDS::DBInstance" | "AWS::RDS::DBCluster" if lacks_master_password(type_name, props) => {
            Some(Refusal {
                code: ErrorCode::InvalidRequest,
                message: "The parameter MasterUserPassword must be provided and must not be blank. (RDS error InvalidParameterValue). Nothing was created; set `MasterUserPassword` (a `{{resolve:secretsmanager:…}}` reference keeps it out of the template), or `ManageMasterUserPassword: true` to let RDS keep it in Secrets Manager".to_string(),
            })
        }
        _ => None,
    }
}

/// A new RDS database needs a master password unless RDS manages it, it
/// joins a cluster that holds it (an Aurora instance), or it starts from an
/// existing database: a snapshot, a point-in-time restore, a read replica,
/// or a secondary cluster of a global database.
fn lacks_master_password(type_name: &str, props: &Value) -> bool {
    // Properties that make the new database a copy or a member of another.
    let inherits: &[&str] = if type_name == "AWS::RDS::DBInstance" {
        &[
            "DBClusterIdentifier",
            "DBSnapshotIdentifier",
            "DBClusterSnapshotIdentifier",
            "SourceDBInstanceIdentifier",
            "SourceDBInstanceAutomatedBackupsArn",
            "SourceDbiResourceId",
            "SourceDBClusterIdentifier",
        ]
    } else {
        &[
            "SnapshotIdentifier",
            "SourceDBClusterIdentifier",
            "SourceDbClusterResourceId",
            "ReplicationSourceIdentifier",
            "GlobalClusterIdentifier",
        ]
    };
    // Without an engine the request is wrong in another way; and an Aurora
    // engine on an instance means the cluster holds the password.
    let Some(engine) = props.get("Engine").and_then(Value::as_str) else {
        return false;
    };
    if type_name == "AWS::RDS::DBInstance" && engine.to_ascii_lowercase().starts_with("aurora") {
        return false;
    }
    !props.get("ManageMasterUserPassword").is_some_and(truthy)
        && !given(props, "MasterUserPassword")
        && !inherits.iter().any(|k| given(props, k))
}

/// A boolean as CloudFormation coerces one: `true` or the string `true`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Whether a property is set to something other than blank.
fn given(props: &Value, key: &str) -> bool {
    match props.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn protection_is_read_with_coercions_and_cluster_membership() {
        let i = "AWS::RDS::DBInstance";
        assert!(delete(i, "db", &json!({"DeletionProtection": true})).is_some());
        assert!(delete(i, "db", &json!({"DeletionProtection": "true"})).is_some());
        assert!(delete(i, "db", &json!({"DeletionProtection": false})).is_none());
        assert!(delete(i, "db", &json!({})).is_none());
        assert!(
            delete(
                i,
                "db",
                &json!({"DeletionProtection": true, "DBClusterIdentifier": "c"})
            )
            .is_none()
        );
        let u = "AWS::Cognito::UserPool";
        assert!(delete(u, "p", &json!({"DeletionProtection": "ACTIVE"})).is_some());
        assert!(delete(u, "p", &json!({"DeletionProtection": "INACTIVE"})).is_none());
        assert!(delete("AWS::S3::Bucket", "b", &json!({"DeletionProtection": true})).is_none());
    }

    #[test]
    fn every_service_words_entry_is_a_protected_type_of_the_registry() {
        for w in &WORDS {
            assert!(
                registry::deletion(w.type_name).protection.is_some(),
                "{}",
                w.type_name
            );
        }
    }

    #[test]
    fn messages_start_with_the_services_words_and_name_the_fix() {
        let r = delete(
            "AWS::RDS::DBCluster",
            "c1",
            &json!({"DeletionProtection": true}),
        )
        .unwrap();
        assert_eq!(r.code, ErrorCode::InvalidRequest);
        assert_eq!(
            r.message,
            "Cannot delete protected Cluster, please disable deletion protection and try again. (RDS error InvalidParameterCombination). AWS::RDS::DBCluster `c1` was not deleted; update `DeletionProtection` to false first, then delete it"
        );
        let r = delete(
            "AWS::Logs::LogGroup",
            "/app",
            &json!({"DeletionProtectionEnabled": true}),
        )
        .unwrap();
        assert!(r.message.contains("no exact AWS wording"), "{}", r.message);
        assert!(
            r.message.contains("`DeletionProtectionEnabled` to false"),
            "{}",
            r.message
        );
    }

    #[test]
    fn master_password_rule_and_its_exceptions() {
        let i = "AWS::RDS::DBInstance";
        let base = json!({"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "MasterUsername": "app"});
        let with = |k: &str, v: Value| {
            let mut p = base.clone();
            p[k] = v;
            p
        };
        assert!(create(i, &base).is_some());
        assert!(create(i, &with("MasterUserPassword", json!(""))).is_some());
        assert!(create(i, &with("ManageMasterUserPassword", json!(false))).is_some());
        for (k, v) in [
            ("MasterUserPassword", json!("a-long-password")),
            (
                "MasterUserPassword",
                json!("{{resolve:secretsmanager:db:SecretString:password}}"),
            ),
            ("ManageMasterUserPassword", json!(true)),
            ("ManageMasterUserPassword", json!("true")),
            ("DBSnapshotIdentifier", json!("snap")),
            ("DBClusterIdentifier", json!("cluster")),
            ("SourceDBInstanceIdentifier", json!("primary")),
            ("Engine", json!("aurora-postgresql")),
        ] {
            assert!(create(i, &with(k, v.clone())).is_none(), "{k}: {v}");
        }
        assert!(create(i, &json!({"DBInstanceClass": "db.t3.micro"})).is_none());

        let c = "AWS::RDS::DBCluster";
        let cluster = json!({"Engine": "aurora-mysql", "MasterUsername": "app"});
        assert!(create(c, &cluster).is_some());
        let mut from_snapshot = cluster.clone();
        from_snapshot["SnapshotIdentifier"] = json!("snap");
        assert!(create(c, &from_snapshot).is_none());
        let r = create(c, &cluster).unwrap();
        assert_eq!(r.code, ErrorCode::InvalidRequest);
        assert!(
            r.message.starts_with(
                "The parameter MasterUserPassword must be provided and must not be blank."
            ),
            "{}",
            r.message
        );
        assert!(create("AWS::S3::Bucket", &json!({})).is_none());
    }
}
