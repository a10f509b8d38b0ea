//! ARNs that name an AWS account other than the environment's own or one
//! listed as shared (runs only when [`crate::ScanOptions::accounts`] is set).
//! The seed's examples carry `arn:aws:iam::123456789012:role/…`: copied into
//! a real template, such an ARN points at someone else's account, or at dev
//! from prod.

use serde_json::Value;

use super::{Ctx, Out, Rule};
use crate::{RuleInfo, Severity};

pub(super) fn rules() -> Vec<Rule> {
    vec![Rule {
        info: RuleInfo {
            id: "IG-ACCT-001",
            checkov_id: None,
            severity: Severity::Medium,
            title: "ARN names an account that is neither this environment's nor a shared one",
            resource_types: &["*"],
            remediation: "Use this environment's account in the ARN (or a reference to the resource), or list the account under [project] shared_accounts if it is one you share on purpose.",
        },
        check: foreign_account,
    }]
}

fn foreign_account(ctx: &Ctx<'_>, out: &mut Out) {
    let Some(accounts) = &ctx.options.accounts else {
        return;
    };
    let mut found = Vec::new();
    walk(ctx.props, "Properties", &mut found);
    for (path, arn, account) in found {
        if account == accounts.own || accounts.shared.contains(&account) {
            continue;
        }
        out.fail(
            path,
            format!(
                "`{arn}` names account {account}, which is neither this environment's ({}) nor a shared one",
                accounts.own
            ),
        );
    }
}

/// Every `(path, arn, account)` in string values under `v`.
fn walk(v: &Value, path: &str, out: &mut Vec<(String, String, String)>) {
    match v {
        Value::String(s) => {
            for arn in s.split(|c: char| c.is_whitespace() || c == '"' || c == ',') {
                if let Some(account) = account_of(arn) {
                    out.push((path.to_string(), arn.to_string(), account));
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                walk(item, &format!("{path}/{k}"), out);
            }
        }
        _ => {}
    }
}

/// The account of `arn:PARTITION:SERVICE:REGION:ACCOUNT:…`, when it is 12
/// digits (`aws` in managed-policy ARNs is not an account).
fn account_of(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let partition = parts.next()?;
    if !partition.starts_with("aws") {
        return None;
    }
    let (_service, _region, account) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next()?;
    infraguard_core::env::is_account_id(account).then(|| account.into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{AccountContext, ScanOptions};

    fn scan(props: serde_json::Value, shared: &[&str]) -> Vec<crate::Finding> {
        let doc =
            json!({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": props}}});
        let t = crate::parse_template(&doc.to_string()).unwrap();
        let opts = ScanOptions {
            accounts: Some(AccountContext {
                own: "111111111111".into(),
                shared: shared.iter().map(|s| s.to_string()).collect(),
            }),
            ..Default::default()
        };
        crate::scan(&t, &opts)
            .findings
            .into_iter()
            .filter(|f| f.rule == "IG-ACCT-001")
            .collect()
    }

    #[test]
    fn an_arn_of_another_account_is_a_finding_and_own_shared_and_aws_are_not() {
        let f = scan(
            json!({"Role": "arn:aws:iam::123456789012:role/synthcoreai-lambda-role"}),
            &[],
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path, "Properties/Role");
        assert!(f[0].message.contains("123456789012"), "{}", f[0].message);
        assert!(scan(json!({"Role": "arn:aws:iam::111111111111:role/r"}), &[]).is_empty());
        assert!(
            scan(
                json!({"Role": "arn:aws:iam::123456789012:role/r"}),
                &["123456789012"]
            )
            .is_empty()
        );
        assert!(
            scan(
                json!({"Layers": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}),
                &[]
            )
            .is_empty()
        );
        // Nested, in a list, in a longer string.
        let f = scan(
            json!({"Environment": {"Variables": {"TOPIC": "x arn:aws:sns:us-east-1:222222222222:t"}}}),
            &[],
        );
        assert_eq!(f[0].path, "Properties/Environment/Variables/TOPIC");
    }
}
