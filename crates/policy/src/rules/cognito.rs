//! Cognito user pool rules (Checkov has none): password policy strength,
//! MFA, and advanced security (threat protection).

use serde_json::{Value, json};

use super::{Ctx, Out, Rule};
use crate::value::Val;
use crate::{RuleInfo, Severity};

const POOL: &[&str] = &["AWS::Cognito::UserPool"];
const CLASSES: &[&str] = &[
    "RequireUppercase",
    "RequireLowercase",
    "RequireNumbers",
    "RequireSymbols",
];

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule {
            info: RuleInfo {
                id: "IG-COGNITO-001",
                checkov_id: None,
                severity: Severity::Medium,
                title: "Cognito user pool password policy is weak",
                resource_types: POOL,
                remediation: "Require at least 8 characters with upper case, lower case, numbers and symbols, or at least 12 characters.",
            },
            check: password_policy,
        },
        Rule {
            info: RuleInfo {
                id: "IG-COGNITO-002",
                checkov_id: None,
                severity: Severity::Medium,
                title: "Cognito user pool MFA is off",
                resource_types: POOL,
                remediation: "Set MfaConfiguration to OPTIONAL (or ON for new pools) with EnabledMfas [SOFTWARE_TOKEN_MFA].",
            },
            check: mfa,
        },
        Rule {
            info: RuleInfo {
                id: "IG-COGNITO-003",
                checkov_id: None,
                severity: Severity::Low,
                title: "Cognito user pool advanced security is off",
                resource_types: POOL,
                remediation: "Set UserPoolAddOns.AdvancedSecurityMode to ENFORCED to block compromised credentials and risky sign-ins (priced per active user).",
            },
            check: advanced_security,
        },
    ]
}

fn password_policy(ctx: &Ctx<'_>, out: &mut Out) {
    let base = ["Policies", "PasswordPolicy"];
    let policy = ctx.prop(&base);
    // Without a PasswordPolicy Cognito applies its default: 8 characters with
    // all four character classes, which is acceptable.
    let map = match policy {
        Val::Unknown(name) => {
            out.unknown(
                "Properties/Policies/PasswordPolicy",
                format!("set by {name}"),
            );
            return;
        }
        Val::Known(Value::Object(map)) => map,
        _ => return,
    };
    let min = match Val::at(policy.known().unwrap_or(&Value::Null), &["MinimumLength"]) {
        Val::Unknown(name) => {
            out.unknown(
                "Properties/Policies/PasswordPolicy/MinimumLength",
                format!("set by {name}"),
            );
            return;
        }
        v => v.as_i64().unwrap_or(8),
    };
    let mut missing = Vec::new();
    for class in CLASSES {
        match map.get(*class).map(Val::of) {
            Some(Val::Unknown(name)) => {
                out.unknown(
                    format!("Properties/Policies/PasswordPolicy/{class}"),
                    format!("set by {name}"),
                );
                return;
            }
            // Inside an explicit PasswordPolicy an omitted flag is false.
            Some(v) if v.as_bool() == Some(true) => {}
            _ => missing.push(*class),
        }
    }
    let weak = min < 8 || (min < 12 && !missing.is_empty());
    if !weak {
        return;
    }
    let mut ops = Vec::new();
    if min < 8 {
        ops.extend(ctx.set_ops(
            &["Properties", "Policies", "PasswordPolicy", "MinimumLength"],
            json!(8),
        ));
    }
    for class in &missing {
        ops.extend(ctx.set_ops(
            &["Properties", "Policies", "PasswordPolicy", class],
            json!(true),
        ));
    }
    let path = if min < 8 {
        "Properties/Policies/PasswordPolicy/MinimumLength".to_string()
    } else {
        format!("Properties/Policies/PasswordPolicy/{}", missing[0])
    };
    let mut why = Vec::new();
    if min < 8 {
        why.push(format!("minimum length {min}"));
    }
    if !missing.is_empty() {
        why.push(format!("not required: {}", missing.join(", ")));
    }
    out.fail_fix(
        path,
        format!("weak password policy ({})", why.join("; ")),
        Value::Array(ops),
    );
}

fn mfa(ctx: &Ctx<'_>, out: &mut Out) {
    let v = ctx.prop(&["MfaConfiguration"]);
    match v {
        Val::Unknown(name) => out.unknown("Properties/MfaConfiguration", format!("set by {name}")),
        Val::Known(Value::String(s)) if s == "ON" || s == "OPTIONAL" => {}
        _ => {
            let mut ops = ctx.set_ops(&["Properties", "MfaConfiguration"], json!("OPTIONAL"));
            if ctx.prop(&["EnabledMfas"]).is_absent() {
                ops.extend(ctx.set_ops(
                    &["Properties", "EnabledMfas"],
                    json!(["SOFTWARE_TOKEN_MFA"]),
                ));
            }
            out.fail_fix(
                "Properties/MfaConfiguration",
                format!(
                    "MFA is off ({}): a stolen password is enough to sign in",
                    v.as_str().unwrap_or("not set")
                ),
                Value::Array(ops),
            )
        }
    }
}

fn advanced_security(ctx: &Ctx<'_>, out: &mut Out) {
    let v = ctx.prop(&["UserPoolAddOns", "AdvancedSecurityMode"]);
    match v {
        Val::Unknown(name) => out.unknown(
            "Properties/UserPoolAddOns/AdvancedSecurityMode",
            format!("set by {name}"),
        ),
        Val::Known(Value::String(s)) if s == "ENFORCED" || s == "AUDIT" => {}
        _ => out.fail_fix(
            "Properties/UserPoolAddOns/AdvancedSecurityMode",
            format!(
                "advanced security is {}: compromised-credential and risk-based checks do not run",
                v.as_str().unwrap_or("not set")
            ),
            ctx.set(
                &["Properties", "UserPoolAddOns", "AdvancedSecurityMode"],
                json!("ENFORCED"),
            ),
        ),
    }
}
