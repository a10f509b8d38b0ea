//! Rules for resources that hold data: RDS instances and clusters, DynamoDB
//! tables, log groups and KMS keys, plus the cross-cutting ones — plaintext
//! master passwords, `DeletionPolicy` on stateful resources, deletion
//! protection and backup retention.

use infraguard_schema::registry;
use serde_json::{Value, json};

use super::{Ctx, Expect, Out, Rule, prop_path, under_props};
use crate::value::Val;
use crate::{RuleInfo, Severity};

const INSTANCE: &[&str] = &["AWS::RDS::DBInstance"];
const CLUSTER: &[&str] = &["AWS::RDS::DBCluster"];
const RDS: &[&str] = &["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"];
const TABLE: &[&str] = &["AWS::DynamoDB::Table"];
const LOG_GROUP: &[&str] = &["AWS::Logs::LogGroup"];
const KEY: &[&str] = &["AWS::KMS::Key"];

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule {
            info: RuleInfo {
                id: "IG-RDS-001",
                checkov_id: Some("CKV_AWS_16"),
                severity: Severity::High,
                title: "RDS instance storage is not encrypted",
                resource_types: INSTANCE,
                remediation: "Set StorageEncrypted to true (optionally with a KmsKeyId); it can only be chosen at creation.",
            },
            check: |c, o| {
                if engine_contains(c, "aurora") {
                    return; // encryption of Aurora storage is the cluster's setting
                }
                bool_rule(
                    c,
                    o,
                    &["StorageEncrypted"],
                    false,
                    "storage is not encrypted at rest",
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-RDS-002",
                checkov_id: Some("CKV_AWS_17"),
                severity: Severity::High,
                title: "RDS instance is publicly accessible",
                resource_types: INSTANCE,
                remediation: "Set PubliclyAccessible to false and reach the database from inside the VPC (or through a bastion / SSM port forwarding).",
            },
            check: |c, o| {
                let v = c.prop(&["PubliclyAccessible"]);
                match v {
                    Val::Unknown(name) => {
                        o.unknown("Properties/PubliclyAccessible", format!("set by {name}"))
                    }
                    _ if v.as_bool() == Some(true) => o.fail_fix(
                        "Properties/PubliclyAccessible",
                        "the instance gets a public IP address and DNS name",
                        c.set(&["Properties", "PubliclyAccessible"], json!(false)),
                    ),
                    _ => {}
                }
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-RDS-003",
                checkov_id: Some("CKV_AWS_157"),
                severity: Severity::Low,
                title: "RDS instance is not Multi-AZ",
                resource_types: INSTANCE,
                remediation: "Set MultiAZ to true for a standby in a second Availability Zone (doubles the instance cost; usual for prod, optional for dev).",
            },
            check: |c, o| {
                if engine_contains(c, "aurora") {
                    return; // Aurora storage is replicated across AZs by design
                }
                bool_rule(
                    c,
                    o,
                    &["MultiAZ"],
                    false,
                    "a single Availability Zone failure takes the database down",
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-RDS-004",
                checkov_id: Some("CKV_AWS_118"),
                severity: Severity::Low,
                title: "RDS enhanced monitoring is off",
                resource_types: INSTANCE,
                remediation: "Set MonitoringInterval to 1, 5, 10, 15, 30 or 60 seconds and MonitoringRoleArn to a role with AmazonRDSEnhancedMonitoringRole.",
            },
            check: monitoring,
        },
        Rule {
            info: RuleInfo {
                id: "IG-RDS-005",
                checkov_id: Some("CKV_AWS_161"),
                severity: Severity::Low,
                title: "RDS instance does not allow IAM database authentication",
                resource_types: INSTANCE,
                remediation: "Set EnableIAMDatabaseAuthentication to true so applications connect with short-lived IAM tokens instead of stored passwords.",
            },
            check: |c, o| {
                // Only MySQL and PostgreSQL instances support it.
                match c.prop(&["Engine"]).as_str() {
                    Some("mysql") | Some("postgres") => bool_rule(
                        c,
                        o,
                        &["EnableIAMDatabaseAuthentication"],
                        false,
                        "IAM database authentication is off",
                    ),
                    _ => {}
                }
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-RDS-006",
                checkov_id: Some("CKV_AWS_162"),
                severity: Severity::Low,
                title: "RDS cluster does not allow IAM database authentication",
                resource_types: CLUSTER,
                remediation: "Set EnableIAMDatabaseAuthentication to true so applications connect with short-lived IAM tokens instead of stored passwords.",
            },
            check: |c, o| {
                bool_rule(
                    c,
                    o,
                    &["EnableIAMDatabaseAuthentication"],
                    false,
                    "IAM database authentication is off",
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-RDS-007",
                checkov_id: Some("CKV_AWS_96"),
                severity: Severity::High,
                title: "RDS cluster storage is not encrypted",
                resource_types: CLUSTER,
                remediation: "Set StorageEncrypted to true (optionally with a KmsKeyId); it can only be chosen at creation.",
            },
            check: |c, o| {
                // Restored clusters inherit encryption from the snapshot/source.
                if c.props.get("SnapshotIdentifier").is_some()
                    || c.props.get("SourceDBClusterIdentifier").is_some()
                {
                    return;
                }
                bool_rule(
                    c,
                    o,
                    &["StorageEncrypted"],
                    false,
                    "storage is not encrypted at rest",
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-RDS-008",
                checkov_id: None,
                severity: Severity::Critical,
                title: "RDS master password is in the template in plain text",
                resource_types: RDS,
                remediation: "Remove MasterUserPassword and set ManageMasterUserPassword to true (RDS keeps the password in Secrets Manager), or use a dynamic reference {{resolve:secretsmanager:NAME:SecretString:password}}.",
            },
            check: master_password,
        },
        Rule {
            info: RuleInfo {
                id: "IG-DDB-001",
                checkov_id: Some("CKV_AWS_119"),
                severity: Severity::Low,
                title: "DynamoDB table is not encrypted with a customer managed KMS key",
                resource_types: TABLE,
                remediation: "Set SSESpecification to {SSEEnabled: true, SSEType: KMS, KMSMasterKeyId: <your key>} if you need control over the key; tables are always encrypted with an AWS owned key otherwise.",
            },
            check: ddb_cmk,
        },
        Rule {
            info: RuleInfo {
                id: "IG-DDB-002",
                checkov_id: Some("CKV_AWS_28"),
                severity: Severity::Low,
                title: "DynamoDB point-in-time recovery is off",
                resource_types: TABLE,
                remediation: "Set PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled to true to restore the table to any second in the last 35 days.",
            },
            check: |c, o| {
                bool_rule(
                    c,
                    o,
                    &[
                        "PointInTimeRecoverySpecification",
                        "PointInTimeRecoveryEnabled",
                    ],
                    false,
                    "point-in-time recovery is off: a bad write or delete cannot be undone",
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-LOGS-001",
                checkov_id: Some("CKV_AWS_66"),
                severity: Severity::Low,
                title: "CloudWatch log group keeps logs forever",
                resource_types: LOG_GROUP,
                remediation: "Set RetentionInDays (for example 365) so logs expire and storage costs stop growing.",
            },
            check: |c, o| {
                Expect {
                    path: &["RetentionInDays"],
                    absent_passes: false,
                }
                .present(
                    c,
                    o,
                    "no retention period: logs are kept, and billed, forever",
                    Some(c.set(&["Properties", "RetentionInDays"], json!(365))),
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-LOGS-002",
                checkov_id: Some("CKV_AWS_158"),
                severity: Severity::Low,
                title: "CloudWatch log group is not encrypted with a KMS key",
                resource_types: LOG_GROUP,
                remediation: "Set KmsKeyId to a KMS key ARN whose policy allows the logs service principal.",
            },
            check: |c, o| {
                Expect {
                    path: &["KmsKeyId"],
                    absent_passes: false,
                }
                .present(
                    c,
                    o,
                    "log data is encrypted only with the service's own key",
                    None,
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-KMS-001",
                checkov_id: Some("CKV_AWS_7"),
                severity: Severity::Low,
                title: "KMS key rotation is off",
                resource_types: KEY,
                remediation: "Set EnableKeyRotation to true (yearly automatic rotation of symmetric keys).",
            },
            check: kms_rotation,
        },
        Rule {
            info: RuleInfo {
                id: "IG-KMS-002",
                checkov_id: Some("CKV_AWS_33"),
                severity: Severity::High,
                title: "KMS key policy allows any principal (*)",
                resource_types: KEY,
                remediation: "Name the account root or specific roles as principals in KeyPolicy instead of \"*\".",
            },
            check: kms_wildcard,
        },
        Rule {
            info: RuleInfo {
                id: "IG-DATA-001",
                checkov_id: None,
                severity: Severity::Medium,
                title: "Stateful resource has no DeletionPolicy",
                resource_types: &["*"],
                remediation: "Add DeletionPolicy: Retain (or Snapshot where supported) and UpdateReplacePolicy: Retain, so deleting or replacing the resource does not delete its data.",
            },
            check: deletion_policy,
        },
        Rule {
            info: RuleInfo {
                id: "IG-DATA-002",
                checkov_id: None,
                severity: Severity::Medium,
                title: "Deletion protection is off",
                resource_types: &[
                    "AWS::RDS::DBInstance",
                    "AWS::RDS::DBCluster",
                    "AWS::DynamoDB::Table",
                    "AWS::Cognito::UserPool",
                ],
                remediation: "Turn deletion protection on (DeletionProtection: true for RDS, DeletionProtectionEnabled: true for DynamoDB, DeletionProtection: ACTIVE for Cognito user pools).",
            },
            check: deletion_protection,
        },
        Rule {
            info: RuleInfo {
                id: "IG-DATA-003",
                checkov_id: None,
                severity: Severity::Medium,
                title: "Automated backups are disabled (retention 0)",
                resource_types: RDS,
                remediation: "Set BackupRetentionPeriod to at least 7 days.",
            },
            check: backup_retention,
        },
    ]
}

fn engine_contains(ctx: &Ctx<'_>, needle: &str) -> bool {
    ctx.prop(&["Engine"])
        .as_str()
        .is_some_and(|e| e.contains(needle))
}

fn bool_rule(ctx: &Ctx<'_>, out: &mut Out, path: &[&str], absent_passes: bool, message: &str) {
    let fix = ctx.set(&under_props(path), json!(true));
    Expect {
        path,
        absent_passes,
    }
    .bool_true(ctx, out, message, Some(fix));
}

fn monitoring(ctx: &Ctx<'_>, out: &mut Out) {
    let v = ctx.prop(&["MonitoringInterval"]);
    match v {
        Val::Unknown(name) => {
            out.unknown("Properties/MonitoringInterval", format!("set by {name}"))
        }
        _ if v.is_absent() => out.fail(
            "Properties/MonitoringInterval",
            "enhanced monitoring is off (not set)",
        ),
        _ => match v.as_i64() {
            Some(1 | 5 | 10 | 15 | 30 | 60) => {}
            Some(0) => out.fail(
                "Properties/MonitoringInterval",
                "enhanced monitoring is off (0)",
            ),
            _ => out.fail(
                "Properties/MonitoringInterval",
                "MonitoringInterval must be 1, 5, 10, 15, 30 or 60",
            ),
        },
    }
}

/// Whether a string is a dynamic reference to a secret store.
pub(crate) fn is_secret_reference(s: &str) -> bool {
    s.contains("{{resolve:secretsmanager:") || s.contains("{{resolve:ssm-secure:")
}

fn master_password(ctx: &Ctx<'_>, out: &mut Out) {
    let path = "Properties/MasterUserPassword";
    let fix = || {
        let mut ops = ctx.remove_ops(&["Properties", "MasterUserPassword"]);
        ops.extend(ctx.set_ops(&["Properties", "ManageMasterUserPassword"], json!(true)));
        Value::Array(ops)
    };
    let Some(raw) = ctx.props.get("MasterUserPassword") else {
        return;
    };
    match Val::of(raw) {
        Val::Known(Value::String(s)) if is_secret_reference(s) => {}
        Val::Known(Value::String(s)) if s.is_empty() => {}
        Val::Known(Value::String(_)) | Val::Known(Value::Number(_)) => out.fail_fix(
            path,
            "the master password is written in the template: anyone who can read the template or the stack can read it",
            fix(),
        ),
        Val::Unknown("Ref") => {
            let name = raw.get("Ref").and_then(Value::as_str).unwrap_or("");
            let param = ctx.template.0.get("Parameters").and_then(|p| p.get(name));
            match param {
                Some(p) if Val::at(p, &["NoEcho"]).as_bool() == Some(true) => {}
                Some(_) => out.fail_fix(
                    path,
                    format!(
                        "parameter `{name}` holds the password but has no NoEcho: it is shown in the console and by DescribeStacks"
                    ),
                    fix(),
                ),
                // A Ref to a resource, or to a parameter of another template.
                None => out.unknown(path, format!("set by Ref to `{name}`")),
            }
        }
        Val::Unknown("Fn::Sub") | Val::Unknown("Fn::Join")
            if raw.to_string().contains("{{resolve:secretsmanager:")
                || raw.to_string().contains("{{resolve:ssm-secure:") => {}
        Val::Unknown(name) => out.unknown(path, format!("set by {name}")),
        _ => {}
    }
}

fn ddb_cmk(ctx: &Ctx<'_>, out: &mut Out) {
    let enabled = ctx.prop(&["SSESpecification", "SSEEnabled"]);
    let key = ctx.prop(&["SSESpecification", "KMSMasterKeyId"]);
    if let Val::Unknown(name) = enabled {
        out.unknown(
            "Properties/SSESpecification/SSEEnabled",
            format!("set by {name}"),
        );
        return;
    }
    let path = if matches!(
        ctx.prop(&["SSESpecification"]),
        Val::Known(Value::Object(_))
    ) {
        if enabled.as_bool() == Some(true) {
            "Properties/SSESpecification/KMSMasterKeyId"
        } else {
            "Properties/SSESpecification/SSEEnabled"
        }
    } else {
        "Properties/SSESpecification"
    };
    if enabled.as_bool() == Some(true) && !key.is_absent() {
        return;
    }
    out.fail(
        path,
        if enabled.as_bool() == Some(true) {
            "KMS encryption is on but no KMSMasterKeyId names a customer managed key"
        } else {
            "the table is encrypted with an AWS owned key, not a customer managed key"
        },
    );
}

fn kms_rotation(ctx: &Ctx<'_>, out: &mut Out) {
    // Only symmetric encryption keys rotate automatically; asymmetric and
    // HMAC keys cannot (Checkov also exempts asymmetric keys, but not HMAC).
    if let Some(spec) = ctx.prop(&["KeySpec"]).as_str()
        && spec != "SYMMETRIC_DEFAULT"
    {
        return;
    }
    bool_rule(
        ctx,
        out,
        &["EnableKeyRotation"],
        false,
        "automatic key rotation is off",
    );
}

fn kms_wildcard(ctx: &Ctx<'_>, out: &mut Out) {
    let Some(doc) = ctx.props.get("KeyPolicy") else {
        return;
    };
    let statements = match crate::iam::parse_document(doc, "Properties/KeyPolicy") {
        Ok(s) => s,
        Err(why) => {
            out.unknown("Properties/KeyPolicy", why);
            return;
        }
    };
    // Like Checkov, a condition does not excuse a wildcard principal here: a
    // key policy is the only gate to the key.
    for st in statements {
        if st.allow == Some(false) {
            continue;
        }
        if let Some(p) = &st.principal
            && let Some(w) = super::s3::wildcard_principal(p)
        {
            out.fail(
                format!("{}/Principal{w}", st.path),
                "the key policy lets any principal use or manage the key",
            );
        }
    }
}

fn deletion_policy(ctx: &Ctx<'_>, out: &mut Out) {
    if !registry::is_stateful(ctx.type_name) {
        return;
    }
    // RDS instances and clusters default to Snapshot when no DeletionPolicy
    // is given, so their data survives a delete; an instance inside a cluster
    // holds no data of its own.
    if matches!(
        ctx.type_name,
        "AWS::RDS::DBInstance" | "AWS::RDS::DBCluster"
    ) {
        return;
    }
    match ctx.entry.get("DeletionPolicy") {
        Some(_) => {}
        None => {
            let mut ops = ctx.set_ops(&["DeletionPolicy"], json!("Retain"));
            if ctx.entry.get("UpdateReplacePolicy").is_none() {
                ops.extend(ctx.set_ops(&["UpdateReplacePolicy"], json!("Retain")));
            }
            let extra = if ctx.type_name == "AWS::S3::Bucket" {
                " (and a bucket must be empty before it can be deleted anyway)"
            } else {
                ""
            };
            out.fail_fix(
                "DeletionPolicy",
                format!(
                    "{} holds data and has no DeletionPolicy: deleting the stack or replacing the resource deletes the data{extra}",
                    ctx.type_name
                ),
                Value::Array(ops),
            );
        }
    }
}

fn deletion_protection(ctx: &Ctx<'_>, out: &mut Out) {
    // Which property is the switch, and its "on" value, are the schema
    // registry's; which types must have it on is this rule's choice.
    let Some(protection) = registry::deletion(ctx.type_name).protection else {
        return;
    };
    // An instance inside an Aurora cluster is protected by the cluster.
    if let Some(p) = protection.not_when_given
        && ctx.props.get(p).is_some()
    {
        return;
    }
    let (prop, on) = (protection.property, protection.on());
    let v = ctx.prop(&[prop]);
    let path = prop_path(&[prop]);
    let is_on = match (&v, &on) {
        (Val::Unknown(name), _) => {
            out.unknown(path, format!("set by {name}"));
            return;
        }
        (_, Value::String(s)) => v.as_str() == Some(s.as_str()),
        _ => v.as_bool() == Some(true),
    };
    if !is_on {
        out.fail_fix(
            path,
            format!("{prop} is not on: one mistaken delete removes the resource and its data"),
            ctx.set(&["Properties", prop], on),
        );
    }
}

fn backup_retention(ctx: &Ctx<'_>, out: &mut Out) {
    let v = ctx.prop(&["BackupRetentionPeriod"]);
    match v {
        Val::Unknown(name) => {
            out.unknown("Properties/BackupRetentionPeriod", format!("set by {name}"))
        }
        _ if v.as_i64() == Some(0) => out.fail_fix(
            "Properties/BackupRetentionPeriod",
            "BackupRetentionPeriod is 0: automated backups and point-in-time restore are disabled",
            ctx.set(&["Properties", "BackupRetentionPeriod"], json!(7)),
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_asked_for_deletion_protection_has_a_switch_in_the_registry() {
        let rule = rules()
            .into_iter()
            .find(|r| r.info.id == "IG-DATA-002")
            .unwrap();
        for t in rule.info.resource_types {
            assert!(registry::deletion(t).protection.is_some(), "{t}");
        }
    }
}
