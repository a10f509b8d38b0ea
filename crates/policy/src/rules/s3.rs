//! S3 bucket rules: public access block, encryption, ACLs, logging,
//! versioning, and wildcard principals in bucket policies.

use serde_json::{Value, json};

use super::{Ctx, Expect, Out, Rule, prop_path, under_props};
use crate::value::Val;
use crate::{RuleInfo, Severity};

const BUCKET: &[&str] = &["AWS::S3::Bucket"];

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule {
            info: RuleInfo {
                id: "IG-S3-001",
                checkov_id: Some("CKV_AWS_53"),
                severity: Severity::Medium,
                title: "S3 bucket does not block public ACLs",
                resource_types: BUCKET,
                remediation: "Set PublicAccessBlockConfiguration.BlockPublicAcls to true so new public ACLs are rejected.",
            },
            check: |c, o| pab(c, o, "BlockPublicAcls", "new public ACLs are accepted"),
        },
        Rule {
            info: RuleInfo {
                id: "IG-S3-002",
                checkov_id: Some("CKV_AWS_54"),
                severity: Severity::Medium,
                title: "S3 bucket does not block public bucket policies",
                resource_types: BUCKET,
                remediation: "Set PublicAccessBlockConfiguration.BlockPublicPolicy to true so a public bucket policy is rejected.",
            },
            check: |c, o| {
                pab(
                    c,
                    o,
                    "BlockPublicPolicy",
                    "a public bucket policy would be accepted",
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-S3-003",
                checkov_id: Some("CKV_AWS_55"),
                severity: Severity::Medium,
                title: "S3 bucket does not ignore public ACLs",
                resource_types: BUCKET,
                remediation: "Set PublicAccessBlockConfiguration.IgnorePublicAcls to true so existing public ACLs have no effect.",
            },
            check: |c, o| pab(c, o, "IgnorePublicAcls", "existing public ACLs take effect"),
        },
        Rule {
            info: RuleInfo {
                id: "IG-S3-004",
                checkov_id: Some("CKV_AWS_56"),
                severity: Severity::Medium,
                title: "S3 bucket does not restrict public bucket policies",
                resource_types: BUCKET,
                remediation: "Set PublicAccessBlockConfiguration.RestrictPublicBuckets to true so only AWS services and the owner account reach a bucket with a public policy.",
            },
            check: |c, o| {
                pab(
                    c,
                    o,
                    "RestrictPublicBuckets",
                    "anyone can reach the bucket if its policy is public",
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-S3-005",
                checkov_id: Some("CKV_AWS_19"),
                severity: Severity::Medium,
                title: "S3 bucket encryption names an unknown algorithm",
                resource_types: BUCKET,
                remediation: "Use SSEAlgorithm AES256, aws:kms or aws:kms:dsse (omitting BucketEncryption gives AES256 by default).",
            },
            check: encryption,
        },
        Rule {
            info: RuleInfo {
                id: "IG-S3-006",
                checkov_id: Some("CKV_AWS_20"),
                severity: Severity::High,
                title: "S3 bucket ACL grants READ to everyone",
                resource_types: BUCKET,
                remediation: "Set AccessControl to Private (or remove it) and share objects through a bucket policy naming specific principals or through CloudFront.",
            },
            check: acl_read,
        },
        Rule {
            info: RuleInfo {
                id: "IG-S3-007",
                checkov_id: Some("CKV_AWS_57"),
                severity: Severity::Critical,
                title: "S3 bucket ACL grants WRITE to everyone",
                resource_types: BUCKET,
                remediation: "Set AccessControl to Private (or remove it); anyone could upload, overwrite or delete objects.",
            },
            check: acl_write,
        },
        Rule {
            info: RuleInfo {
                id: "IG-S3-008",
                checkov_id: Some("CKV_AWS_18"),
                severity: Severity::Low,
                title: "S3 bucket has no access logging",
                resource_types: BUCKET,
                remediation: "Add LoggingConfiguration with a DestinationBucketName (a separate log bucket) to record requests.",
            },
            check: |c, o| {
                Expect {
                    path: &["LoggingConfiguration"],
                    absent_passes: false,
                }
                .present(c, o, "server access logging is not configured", None)
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-S3-009",
                checkov_id: Some("CKV_AWS_21"),
                severity: Severity::Low,
                title: "S3 bucket versioning is not enabled",
                resource_types: BUCKET,
                remediation: "Set VersioningConfiguration.Status to Enabled so overwritten and deleted objects can be recovered.",
            },
            check: versioning,
        },
        Rule {
            info: RuleInfo {
                id: "IG-S3-010",
                checkov_id: None,
                severity: Severity::High,
                title: "Resource policy allows any principal (*)",
                resource_types: &[
                    "AWS::S3::BucketPolicy",
                    "AWS::SQS::QueuePolicy",
                    "AWS::SNS::TopicPolicy",
                ],
                remediation: "Name the principals (account ids, role ARNs or service principals) instead of \"*\", or add a Condition such as aws:SourceArn, aws:SourceAccount or aws:PrincipalOrgID.",
            },
            check: resource_policy_wildcard,
        },
    ]
}

fn pab(ctx: &Ctx<'_>, out: &mut Out, flag: &str, consequence: &str) {
    let path = ["PublicAccessBlockConfiguration", flag];
    // Fixing one flag sets all four: they are one decision, and setting them
    // together keeps the fixed template consistent.
    let fix = match ctx.prop(&["PublicAccessBlockConfiguration"]) {
        Val::Known(Value::Object(_)) => ctx.set(&under_props(&path), json!(true)),
        _ => ctx.set(
            &under_props(&["PublicAccessBlockConfiguration"]),
            json!({
                "BlockPublicAcls": true,
                "BlockPublicPolicy": true,
                "IgnorePublicAcls": true,
                "RestrictPublicBuckets": true
            }),
        ),
    };
    Expect {
        path: &path,
        absent_passes: false,
    }
    .bool_true(ctx, out, consequence, Some(fix));
}

fn encryption(ctx: &Ctx<'_>, out: &mut Out) {
    // Since January 2023 every new bucket is encrypted with SSE-S3, so an
    // absent BucketEncryption is encrypted (Checkov agrees: absent passes).
    let path = [
        "BucketEncryption",
        "ServerSideEncryptionConfiguration",
        "0",
        "ServerSideEncryptionByDefault",
        "SSEAlgorithm",
    ];
    match ctx.prop(&path) {
        Val::Unknown(name) => out.unknown(prop_path(&path), format!("set by {name}")),
        // aws:kms:dsse (dual-layer) is a valid, stronger setting Checkov does
        // not know; we accept it.
        Val::Known(Value::String(alg))
            if matches!(alg.as_str(), "AES256" | "aws:kms" | "aws:kms:dsse") => {}
        Val::Known(Value::String(alg)) => out.fail_fix(
            prop_path(&path),
            format!("SSEAlgorithm `{alg}` is not an S3 encryption algorithm"),
            ctx.set(&under_props(&path), json!("AES256")),
        ),
        Val::Known(other) if !other.is_null() => out.fail(
            prop_path(&path),
            format!("SSEAlgorithm is {other}, not an algorithm name"),
        ),
        _ => {}
    }
}

fn acl(ctx: &Ctx<'_>, out: &mut Out, bad: &[&str], what: &str) {
    match ctx.prop(&["AccessControl"]) {
        Val::Unknown(name) => out.unknown("Properties/AccessControl", format!("set by {name}")),
        Val::Known(Value::String(v)) if bad.contains(&v.as_str()) => out.fail_fix(
            "Properties/AccessControl",
            format!("AccessControl `{v}` {what}"),
            ctx.set(&["Properties", "AccessControl"], json!("Private")),
        ),
        _ => {}
    }
}

fn acl_read(ctx: &Ctx<'_>, out: &mut Out) {
    // AuthenticatedRead opens the bucket to every AWS account in the world;
    // Checkov lets it pass, we do not.
    acl(
        ctx,
        out,
        &["PublicRead", "PublicReadWrite", "AuthenticatedRead"],
        "lets everyone (or every AWS account) list and read the bucket",
    );
}

fn acl_write(ctx: &Ctx<'_>, out: &mut Out) {
    acl(
        ctx,
        out,
        &["PublicReadWrite"],
        "lets everyone write to the bucket",
    );
}

fn versioning(ctx: &Ctx<'_>, out: &mut Out) {
    let path = ["VersioningConfiguration", "Status"];
    let fix = ctx.set(&under_props(&path), json!("Enabled"));
    match ctx.prop(&path) {
        Val::Unknown(name) => out.unknown(prop_path(&path), format!("set by {name}")),
        Val::Known(Value::String(s)) if s == "Enabled" => {}
        Val::Known(v) if !v.is_null() => {
            out.fail_fix(prop_path(&path), format!("versioning is {v}"), fix)
        }
        _ => out.fail_fix(prop_path(&path), "versioning is not configured", fix),
    }
}

/// `Principal: "*"` or `{"AWS": "*"}` on an Allow statement without a
/// Condition: anyone on the internet (or any AWS account) gets the actions.
fn resource_policy_wildcard(ctx: &Ctx<'_>, out: &mut Out) {
    let Some(doc) = ctx.props.get("PolicyDocument") else {
        return;
    };
    let statements = match crate::iam::parse_document(doc, "Properties/PolicyDocument") {
        Ok(s) => s,
        Err(why) => {
            out.unknown("Properties/PolicyDocument", why);
            return;
        }
    };
    for st in statements {
        if st.allow != Some(true) || st.has_condition {
            continue;
        }
        if let Some(p) = &st.principal
            && let Some(where_) = wildcard_principal(p)
        {
            out.fail(
                format!("{}/Principal{where_}", st.path),
                format!(
                    "statement allows {} to any principal without a condition",
                    if st.actions_raw.is_empty() {
                        "its actions".to_string()
                    } else {
                        st.actions_raw.join(", ")
                    }
                ),
            );
        }
    }
}

/// Where a principal is `*`: `""` for the whole principal, `/AWS` or
/// `/AWS/1` for an element.
pub(crate) fn wildcard_principal(p: &Value) -> Option<String> {
    match p {
        Value::String(s) if s == "*" => Some(String::new()),
        Value::Object(map) => {
            let aws = map.get("AWS")?;
            match aws {
                Value::String(s) if s == "*" => Some("/AWS".into()),
                Value::Array(items) => items
                    .iter()
                    .position(|i| i.as_str() == Some("*"))
                    .map(|i| format!("/AWS/{i}")),
                _ => None,
            }
        }
        _ => None,
    }
}
