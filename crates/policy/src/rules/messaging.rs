//! Messaging rules: SQS and SNS encryption, SES configuration sets (TLS and
//! reputation metrics).

use serde_json::{Value, json};

use super::{Ctx, Expect, Out, Rule};
use crate::value::Val;
use crate::{RuleInfo, Severity};

const CONFIG_SET: &[&str] = &["AWS::SES::ConfigurationSet"];

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule {
            info: RuleInfo {
                id: "IG-SQS-001",
                checkov_id: Some("CKV_AWS_27"),
                severity: Severity::High,
                title: "SQS queue is not encrypted",
                resource_types: &["AWS::SQS::Queue"],
                remediation: "Remove SqsManagedSseEnabled: false (SQS-managed encryption is the default) or set KmsMasterKeyId to a KMS key.",
            },
            check: sqs,
        },
        Rule {
            info: RuleInfo {
                id: "IG-SNS-001",
                checkov_id: Some("CKV_AWS_26"),
                severity: Severity::Medium,
                title: "SNS topic is not encrypted",
                resource_types: &["AWS::SNS::Topic"],
                remediation: "Set KmsMasterKeyId so messages are encrypted at rest: alias/aws/sns, or a customer managed key whose policy lets the publishing service use it when CloudWatch alarms, EventBridge or S3 publish to the topic (they cannot use alias/aws/sns).",
            },
            check: |c, o| {
                Expect {
                    path: &["KmsMasterKeyId"],
                    absent_passes: false,
                }
                .present(
                    c,
                    o,
                    "messages are stored unencrypted (SNS has no default encryption)",
                    Some(c.set(&["Properties", "KmsMasterKeyId"], json!("alias/aws/sns"))),
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-SES-001",
                checkov_id: None,
                severity: Severity::Medium,
                title: "SES configuration set does not require TLS",
                resource_types: CONFIG_SET,
                remediation: "Set DeliveryOptions.TlsPolicy to REQUIRE so SES never delivers mail over an unencrypted connection.",
            },
            check: ses_tls,
        },
        Rule {
            info: RuleInfo {
                id: "IG-SES-002",
                checkov_id: None,
                severity: Severity::Low,
                title: "SES configuration set does not publish reputation metrics",
                resource_types: CONFIG_SET,
                remediation: "Set ReputationOptions.ReputationMetricsEnabled to true to see bounce and complaint rates in CloudWatch before SES pauses sending.",
            },
            check: ses_reputation,
        },
    ]
}

fn sqs(ctx: &Ctx<'_>, out: &mut Out) {
    // Since 2022 queues are encrypted with SQS-owned keys unless
    // SqsManagedSseEnabled is false. Checkov still fails every queue without
    // KmsMasterKeyId; an SSE-SQS queue is encrypted, so we pass it.
    let key = ctx.prop(&["KmsMasterKeyId"]);
    if !key.is_absent() && key.as_str() != Some("") {
        return;
    }
    match ctx.prop(&["SqsManagedSseEnabled"]) {
        Val::Unknown(name) => {
            out.unknown("Properties/SqsManagedSseEnabled", format!("set by {name}"))
        }
        v if v.as_bool() == Some(false) => {
            let mut ops = ctx.remove_ops(&["Properties", "SqsManagedSseEnabled"]);
            if ops.is_empty() {
                ops = ctx.set_ops(&["Properties", "SqsManagedSseEnabled"], json!(true));
            }
            out.fail_fix(
                "Properties/SqsManagedSseEnabled",
                "SqsManagedSseEnabled is false and no KmsMasterKeyId: messages are stored unencrypted",
                Value::Array(ops),
            )
        }
        _ => {}
    }
}

fn ses_tls(ctx: &Ctx<'_>, out: &mut Out) {
    let path = ["DeliveryOptions", "TlsPolicy"];
    let fix = ctx.set(&super::under_props(&path), json!("REQUIRE"));
    match ctx.prop(&path) {
        Val::Unknown(name) => out.unknown(
            "Properties/DeliveryOptions/TlsPolicy",
            format!("set by {name}"),
        ),
        Val::Known(Value::String(s)) if s == "REQUIRE" => {}
        Val::Known(Value::String(s)) => out.fail_fix(
            "Properties/DeliveryOptions/TlsPolicy",
            format!("TlsPolicy is {s}: mail may be delivered without TLS"),
            fix,
        ),
        _ => out.fail_fix(
            "Properties/DeliveryOptions/TlsPolicy",
            "TlsPolicy is not set (OPTIONAL): mail may be delivered without TLS",
            fix,
        ),
    }
}

fn ses_reputation(ctx: &Ctx<'_>, out: &mut Out) {
    let path = ["ReputationOptions", "ReputationMetricsEnabled"];
    Expect {
        path: &path,
        absent_passes: false,
    }
    .bool_true(
        ctx,
        out,
        "reputation metrics are not published",
        Some(ctx.set(&super::under_props(&path), json!(true))),
    );
}
