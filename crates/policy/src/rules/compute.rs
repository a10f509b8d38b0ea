//! Lambda function rules: dead-letter queue, VPC, concurrency limit,
//! environment encryption and secrets, and runtime deprecation by date.

use serde_json::Value;

use super::{Ctx, Expect, Out, Rule};
use crate::data;
use crate::value::Val;
use crate::{RuleInfo, Severity};

const FUNCTION: &[&str] = &["AWS::Lambda::Function"];

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule {
            info: RuleInfo {
                id: "IG-LAMBDA-001",
                checkov_id: Some("CKV_AWS_116"),
                severity: Severity::Low,
                title: "Lambda function has no dead-letter queue",
                resource_types: FUNCTION,
                remediation: "Set DeadLetterConfig.TargetArn to an SQS queue or SNS topic so failed asynchronous invocations are kept.",
            },
            check: |c, o| {
                Expect {
                    path: &["DeadLetterConfig", "TargetArn"],
                    absent_passes: false,
                }
                .present(
                    c,
                    o,
                    "failed asynchronous invocations are dropped after retries",
                    None,
                )
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-LAMBDA-002",
                checkov_id: Some("CKV_AWS_117"),
                severity: Severity::Low,
                title: "Lambda function is not in a VPC",
                resource_types: FUNCTION,
                remediation: "Set VpcConfig (SubnetIds, SecurityGroupIds) when the function reaches private resources; functions that only call public AWS APIs may stay outside.",
            },
            check: |c, o| {
                Expect {
                    path: &["VpcConfig"],
                    absent_passes: false,
                }
                .present(c, o, "the function runs outside any VPC", None)
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-LAMBDA-003",
                checkov_id: Some("CKV_AWS_115"),
                severity: Severity::Low,
                title: "Lambda function has no reserved concurrency limit",
                resource_types: FUNCTION,
                remediation: "Set ReservedConcurrentExecutions to cap how many copies run at once (protects downstream services and the account's concurrency pool).",
            },
            check: |c, o| {
                Expect {
                    path: &["ReservedConcurrentExecutions"],
                    absent_passes: false,
                }
                .present(c, o, "no function-level concurrency limit", None)
            },
        },
        Rule {
            info: RuleInfo {
                id: "IG-LAMBDA-004",
                checkov_id: Some("CKV_AWS_173"),
                severity: Severity::Low,
                title: "Lambda environment variables are not encrypted with a customer managed key",
                resource_types: FUNCTION,
                remediation: "Set KmsKeyArn to a customer managed KMS key (and keep secrets out of environment variables altogether).",
            },
            check: env_kms,
        },
        Rule {
            info: RuleInfo {
                id: "IG-LAMBDA-005",
                checkov_id: Some("CKV_AWS_45"),
                severity: Severity::Critical,
                title: "Lambda environment variable holds a credential",
                resource_types: FUNCTION,
                remediation: "Store the credential in Secrets Manager and read it at runtime (pass the secret's ARN in the variable), or use the function's execution role instead of keys.",
            },
            check: env_credentials,
        },
        Rule {
            info: RuleInfo {
                id: "IG-LAMBDA-006",
                checkov_id: Some("CKV_AWS_363"),
                severity: Severity::Medium,
                title: "Lambda runtime is deprecated",
                resource_types: FUNCTION,
                remediation: "Move the function to the runtime's successor; deprecated runtimes get no security patches.",
            },
            check: |c, o| runtime(c, o, false),
        },
        Rule {
            info: RuleInfo {
                id: "IG-LAMBDA-007",
                checkov_id: Some("CKV_AWS_363"),
                severity: Severity::High,
                title: "Lambda runtime can no longer be used to create functions",
                resource_types: FUNCTION,
                remediation: "Move the function to the runtime's successor: AWS rejects new functions on this runtime and will soon reject updates.",
            },
            check: |c, o| runtime(c, o, true),
        },
    ]
}

fn env_kms(ctx: &Ctx<'_>, out: &mut Out) {
    let vars = ctx.prop(&["Environment", "Variables"]);
    let has_vars = match vars {
        Val::Known(Value::Object(m)) => !m.is_empty(),
        Val::Unknown(_) => true,
        _ => false,
    };
    if !has_vars || matches!(ctx.prop(&["Environment"]), Val::Unknown(_)) {
        return;
    }
    let key = ctx.prop(&["KmsKeyArn"]);
    let missing = key.is_absent() || key.as_str() == Some("");
    if missing {
        out.fail(
            "Properties/KmsKeyArn",
            "environment variables are set but no KmsKeyArn: they are encrypted only with the AWS managed key",
        );
    }
}

fn env_credentials(ctx: &Ctx<'_>, out: &mut Out) {
    let Val::Known(Value::Object(vars)) = ctx.prop(&["Environment", "Variables"]) else {
        return;
    };
    for (name, value) in vars {
        // Intrinsics (Ref, Sub, GetAtt) are resolved at deploy time and are
        // how a secret should be passed; only literals can leak.
        let Some(s) = value.as_str() else { continue };
        if let Some(kind) = super::secrets::credential_in_value(s) {
            out.fail(
                format!("Properties/Environment/Variables/{name}"),
                format!("variable `{name}` holds {kind} in plain text"),
            );
        }
    }
}

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn runtime(ctx: &Ctx<'_>, out: &mut Out, blocked_rule: bool) {
    let rt = match ctx.prop(&["Runtime"]) {
        Val::Known(Value::String(s)) => s,
        Val::Unknown(name) => {
            out.unknown("Properties/Runtime", format!("set by {name}"));
            return;
        }
        _ => return,
    };
    let Some(info) = data::lambda_runtime(rt) else {
        return;
    };
    let today = ctx.options.today.as_str();
    if !valid_date(today) {
        out.unknown(
            "Properties/Runtime",
            format!(
                "no valid scan date (`{today}`) to compare with the runtime's deprecation dates"
            ),
        );
        return;
    }
    let reached = |d: &Option<String>| d.as_deref().is_some_and(|d| valid_date(d) && today >= d);
    let blocked = reached(&info.create_block);
    let deprecated = reached(&info.deprecated);
    let successor = info
        .successor
        .as_deref()
        .map(|s| format!("; move to {s}"))
        .unwrap_or_default();
    if blocked_rule && blocked {
        out.fail(
            "Properties/Runtime",
            format!(
                "runtime `{rt}` is blocked for new functions since {}{successor}",
                info.create_block.as_deref().unwrap_or("")
            ),
        );
    } else if !blocked_rule && deprecated && !blocked {
        out.fail(
            "Properties/Runtime",
            format!(
                "runtime `{rt}` is deprecated since {}{successor}",
                info.deprecated.as_deref().unwrap_or("")
            ),
        );
    }
}
