//! IAM rules: administrator and `*` actions, privilege escalation,
//! credentials exposure, data exfiltration, unconstrained write and
//! permissions management, trust policies, policies attached to users, and
//! actions that do not exist.
//!
//! Unlike Checkov, every statement of every document is read (Checkov's
//! CKV_AWS_63 stops after the first statement) and `AWS::IAM::ManagedPolicy`
//! is covered by the `*` rules (Checkov's CKV_AWS_62/63 skip it).

use serde_json::Value;

use super::{Ctx, Out, Rule};
use crate::data;
use crate::iam::{self, Grants, Statement};
use crate::value::Val;
use crate::{RuleInfo, Severity};

const IDENTITY: &[&str] = &[
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
];

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule {
            info: RuleInfo {
                id: "IG-IAM-001",
                checkov_id: Some("CKV_AWS_62"),
                severity: Severity::Critical,
                title: "IAM policy grants full administrator access (*:*)",
                resource_types: IDENTITY,
                remediation: "List the actions the workload needs and the resources it touches; use AWS managed job-function policies for people who really administer the account.",
            },
            check: admin,
        },
        Rule {
            info: RuleInfo {
                id: "IG-IAM-002",
                checkov_id: Some("CKV_AWS_63"),
                severity: Severity::High,
                title: "IAM policy statement allows every action (\"Action\": \"*\")",
                resource_types: IDENTITY,
                remediation: "Replace \"*\" with the specific service:Action names the workload calls.",
            },
            check: star_action,
        },
        Rule {
            info: RuleInfo {
                id: "IG-IAM-003",
                checkov_id: Some("CKV_AWS_110"),
                severity: Severity::Critical,
                title: "IAM policy allows privilege escalation",
                resource_types: IDENTITY,
                remediation: "Remove the escalation actions or scope them to specific resources and add conditions (for iam:PassRole, iam:PassedToService and specific role ARNs).",
            },
            check: |c, o| grant_rule(c, o, Kind::Escalation),
        },
        Rule {
            info: RuleInfo {
                id: "IG-IAM-004",
                checkov_id: Some("CKV_AWS_107"),
                severity: Severity::High,
                title: "IAM policy allows actions that return credentials, unconstrained",
                resource_types: IDENTITY,
                remediation: "Scope credential-returning actions (sts:AssumeRole, iam:CreateAccessKey...) to specific resource ARNs or add conditions.",
            },
            check: |c, o| grant_rule(c, o, Kind::Credentials),
        },
        Rule {
            info: RuleInfo {
                id: "IG-IAM-005",
                checkov_id: Some("CKV_AWS_108"),
                severity: Severity::Medium,
                title: "IAM policy allows data exfiltration actions on all resources",
                resource_types: IDENTITY,
                remediation: "Scope s3:GetObject, ssm:GetParameter* and secretsmanager:GetSecretValue to the specific buckets, parameters and secrets needed.",
            },
            check: |c, o| grant_rule(c, o, Kind::Exfiltration),
        },
        Rule {
            info: RuleInfo {
                id: "IG-IAM-006",
                checkov_id: Some("CKV_AWS_109"),
                severity: Severity::High,
                title: "IAM policy allows permissions management on all resources",
                resource_types: IDENTITY,
                remediation: "Scope actions that change policies, ACLs, grants or IAM identities to specific resource ARNs, or add conditions.",
            },
            check: |c, o| grant_rule(c, o, Kind::PermissionsManagement),
        },
        Rule {
            info: RuleInfo {
                id: "IG-IAM-007",
                checkov_id: Some("CKV_AWS_111"),
                severity: Severity::Medium,
                title: "IAM policy allows write actions on all resources",
                resource_types: IDENTITY,
                remediation: "Replace \"Resource\": \"*\" with the ARNs the write actions need (for example arn:aws:s3:::synthcoreai-*/*), or add conditions.",
            },
            check: |c, o| grant_rule(c, o, Kind::Write),
        },
        Rule {
            info: RuleInfo {
                id: "IG-IAM-008",
                checkov_id: Some("CKV_AWS_40"),
                severity: Severity::Low,
                title: "IAM policy is attached directly to users",
                resource_types: &["AWS::IAM::Policy"],
                remediation: "Attach the policy to a group or role and put users in the group, so access is managed in one place.",
            },
            check: attached_to_users,
        },
        Rule {
            info: RuleInfo {
                id: "IG-IAM-009",
                checkov_id: Some("CKV_AWS_60"),
                severity: Severity::High,
                title: "IAM role can be assumed by any AWS principal",
                resource_types: &["AWS::IAM::Role"],
                remediation: "Name the accounts, roles or services that may assume the role in AssumeRolePolicyDocument instead of \"*\".",
            },
            check: public_trust,
        },
        Rule {
            info: RuleInfo {
                id: "IG-IAM-010",
                checkov_id: Some("CKV_AWS_61"),
                severity: Severity::Medium,
                title: "IAM role trusts a whole account (root principal)",
                resource_types: &["AWS::IAM::Role"],
                remediation: "Trust specific role or user ARNs in the other account, or add a condition (aws:PrincipalArn, sts:ExternalId) to the trust statement.",
            },
            check: account_trust,
        },
        Rule {
            info: RuleInfo {
                id: "IG-IAM-011",
                checkov_id: None,
                severity: Severity::High,
                title: "IAM policy names an action that does not exist",
                resource_types: IDENTITY,
                remediation: "Fix the spelling of the action (service prefix and action name as in the Service Authorization Reference); a misspelt Deny protects nothing and a misspelt Allow hides what was meant.",
            },
            check: unknown_actions,
        },
    ]
}

/// Every identity document's statements; unreadable documents are reported
/// as undetermined.
fn statements(ctx: &Ctx<'_>, out: &mut Out) -> Vec<(String, Vec<Statement>)> {
    let mut docs = Vec::new();
    for d in iam::documents(ctx.type_name, ctx.props) {
        match iam::parse_document(d.value, &d.path) {
            Ok(s) => docs.push((d.path, s)),
            Err(why) => out.unknown(d.path, why),
        }
    }
    if let Val::Unknown(name) = ctx.prop(&["Policies"]) {
        out.unknown("Properties/Policies", format!("set by {name}"));
    }
    docs
}

fn admin(ctx: &Ctx<'_>, out: &mut Out) {
    for (_, doc) in statements(ctx, out) {
        for st in doc {
            if st.allow == Some(true)
                && !st.not_action
                && st.actions.iter().any(|a| a == "*")
                && st.resource_is_star()
            {
                out.fail(
                    st.path.clone(),
                    "statement allows every action on every resource: full administrator access",
                );
            } else if st.unknown.is_some() && st.allow != Some(false) {
                out.unknown(st.path.clone(), st.unknown.clone().unwrap_or_default());
            }
        }
    }
}

fn star_action(ctx: &Ctx<'_>, out: &mut Out) {
    for (_, doc) in statements(ctx, out) {
        for st in doc {
            if st.allow != Some(true) || st.not_action {
                continue;
            }
            if let Some(i) = st.actions.iter().position(|a| a == "*") {
                out.fail(
                    st.action_path(i),
                    format!(
                        "statement allows every action on {}",
                        if st.resource_is_star() {
                            "every resource".to_string()
                        } else {
                            st.resources.join(", ")
                        }
                    ),
                );
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Escalation,
    Credentials,
    Exfiltration,
    PermissionsManagement,
    Write,
}

/// The rules that expand wildcards: judged over each document as a whole
/// (a Deny in the same document removes grants).
fn grant_rule(ctx: &Ctx<'_>, out: &mut Out, kind: Kind) {
    for (path, doc) in statements(ctx, out) {
        let grants = Grants::of(&doc);
        // What to show, how many in all, and the offending actions (to find
        // the statement that grants them).
        let (shown, total, offending): (Vec<String>, usize, Vec<usize>) = match kind {
            Kind::Escalation => {
                let methods: Vec<_> = iam::ESCALATIONS
                    .iter()
                    .filter(|(_, actions)| actions.iter().all(|a| grants.allows(a)))
                    .collect();
                let shown: Vec<String> = methods
                    .iter()
                    .map(|(how, actions)| format!("{how} ({})", actions.join(" + ")))
                    .collect();
                let offending = methods
                    .iter()
                    .flat_map(|(_, actions)| actions.iter())
                    .filter_map(|a| data::iam_action_index(a))
                    .collect();
                (shown.clone(), shown.len(), offending)
            }
            Kind::Credentials | Kind::Exfiltration => {
                let list = if matches!(kind, Kind::Credentials) {
                    iam::CREDENTIAL_ACTIONS
                } else {
                    iam::EXFILTRATION_ACTIONS
                };
                let hit: Vec<&str> = list.iter().copied().filter(|a| grants.allows(a)).collect();
                let offending = hit
                    .iter()
                    .filter_map(|a| data::iam_action_index(a))
                    .collect();
                (
                    hit.iter().map(|a| a.to_string()).collect(),
                    hit.len(),
                    offending,
                )
            }
            Kind::PermissionsManagement | Kind::Write => {
                let wanted = if matches!(kind, Kind::Write) {
                    iam::AccessLevel::Write
                } else {
                    iam::AccessLevel::PermissionsManagement
                };
                let offending: Vec<usize> = grants
                    .scopable_on_star_indices()
                    .filter(|i| iam::access_level(*i) == wanted)
                    .collect();
                let all = data::iam_actions();
                let shown = offending
                    .iter()
                    .take(5)
                    .map(|i| all[*i].name.to_string())
                    .collect();
                (shown, offending.len(), offending)
            }
        };
        if total == 0 {
            if let Some(why) = grants.unknown {
                out.unknown(path, why);
            }
            continue;
        }
        let at = locate(&doc, &offending).unwrap_or(path);
        out.fail(at, message(kind, &shown, total));
    }
}

/// The first action entry (or `NotAction`) of a statement that grants one of
/// the offending actions without a resource constraint: where the problem is.
fn locate(doc: &[Statement], offending: &[usize]) -> Option<String> {
    let all = data::iam_actions();
    doc.iter().find_map(|st| {
        if st.allow != Some(true) || st.has_condition || st.unknown.is_some() {
            return None;
        }
        if st.not_action {
            return Some(format!("{}/NotAction", st.path));
        }
        let star = st.resource_is_star() || st.not_resource;
        st.actions.iter().enumerate().find_map(|(i, p)| {
            offending
                .iter()
                .any(|o| (star || !all[*o].takes_resources()) && iam::glob(p, all[*o].name))
                .then(|| st.action_path(i))
        })
    })
}

fn message(kind: Kind, shown: &[String], total: usize) -> String {
    let list = |max: usize| {
        let mut s = shown
            .iter()
            .take(max)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if total > max {
            s.push_str(&format!(" and {} more", total - max));
        }
        s
    };
    match kind {
        Kind::Escalation => format!(
            "a principal with this policy can escalate its privileges: {}",
            list(3)
        ),
        Kind::Credentials => format!(
            "allows credential-returning actions without constraint: {}",
            list(5)
        ),
        Kind::Exfiltration => format!(
            "allows reading data and secrets on all resources: {}",
            list(5)
        ),
        Kind::PermissionsManagement => {
            format!("allows changing permissions on all resources: {}", list(5))
        }
        Kind::Write => format!("allows write actions on all resources: {}", list(5)),
    }
}

fn attached_to_users(ctx: &Ctx<'_>, out: &mut Out) {
    match ctx.prop(&["Users"]) {
        Val::Known(Value::Array(a)) if !a.is_empty() => out.fail(
            "Properties/Users",
            format!("policy is attached to {} user(s) directly", a.len()),
        ),
        Val::Unknown(_) => out.fail("Properties/Users", "policy is attached to users directly"),
        _ => {}
    }
}

fn trust_statements(ctx: &Ctx<'_>, out: &mut Out) -> Vec<Statement> {
    let Some(doc) = ctx.props.get("AssumeRolePolicyDocument") else {
        return Vec::new();
    };
    match iam::parse_document(doc, "Properties/AssumeRolePolicyDocument") {
        Ok(s) => s,
        Err(why) => {
            out.unknown("Properties/AssumeRolePolicyDocument", why);
            Vec::new()
        }
    }
}

fn public_trust(ctx: &Ctx<'_>, out: &mut Out) {
    for st in trust_statements(ctx, out) {
        if st.allow == Some(false) {
            continue;
        }
        if let Some(p) = &st.principal
            && let Some(w) = super::s3::wildcard_principal(p)
        {
            out.fail(
                format!("{}/Principal{w}", st.path),
                "any AWS principal in any account can assume this role",
            );
        }
    }
}

fn aws_principals(p: &Value) -> Vec<(String, &str)> {
    match p.get("AWS") {
        Some(Value::String(s)) => vec![("/AWS".to_string(), s.as_str())],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_str().map(|s| (format!("/AWS/{i}"), s)))
            .collect(),
        _ => Vec::new(),
    }
}

fn is_account_root(s: &str) -> bool {
    let bare = infraguard_core::env::is_account_id(s);
    let root = s
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.strip_suffix(":root"))
        .is_some_and(infraguard_core::env::is_account_id);
    bare || root
}

fn account_trust(ctx: &Ctx<'_>, out: &mut Out) {
    // Checkov reads only the first element of the first statement and only
    // when it is a list; a trust of a whole account is as broad in any
    // statement and as a plain string.
    for st in trust_statements(ctx, out) {
        if st.allow == Some(false) || st.has_condition {
            continue;
        }
        let Some(p) = &st.principal else { continue };
        for (at, arn) in aws_principals(p) {
            if is_account_root(arn) {
                out.fail(
                    format!("{}/Principal{at}", st.path),
                    format!("every principal of account `{arn}` allowed by its own policies can assume this role"),
                );
                break;
            }
        }
    }
}

fn unknown_actions(ctx: &Ctx<'_>, out: &mut Out) {
    for (_, doc) in statements(ctx, out) {
        for st in doc {
            for (i, raw) in st.actions_raw.iter().enumerate() {
                if let Some(why) = iam::unknown_action(raw) {
                    out.fail(st.action_path(i), why);
                }
            }
        }
    }
}
