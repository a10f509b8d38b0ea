//! Secrets written into a template: by what the value looks like (AWS keys,
//! private keys, well-known token formats) and by what the property or
//! variable is called (`DB_PASSWORD`, `ApiToken`...), in any property of any
//! resource.
//!
//! Values that are references rather than secrets pass: intrinsics, dynamic
//! references (`{{resolve:secretsmanager:...}}`), ARNs, `${...}`
//! substitutions, numbers and booleans. Lambda environment values that look
//! like credentials belong to IG-LAMBDA-005 and RDS master passwords to
//! IG-RDS-008, so they are not reported twice.

use serde_json::Value;

use super::{Ctx, Out, Rule};
use crate::{RuleInfo, Severity};

pub(super) fn rules() -> Vec<Rule> {
    vec![Rule {
        info: RuleInfo {
            id: "IG-SECRET-001",
            checkov_id: None,
            severity: Severity::Critical,
            title: "Secret written in plain text in the template",
            resource_types: &["*"],
            remediation: "Move the value to Secrets Manager (or SSM SecureString) and reference it with {{resolve:secretsmanager:...}} or pass its ARN; rotate the exposed secret.",
        },
        check: secrets_anywhere,
    }]
}

/// What kind of credential a literal value is, by its shape alone.
pub(crate) fn credential_in_value(s: &str) -> Option<&'static str> {
    if s.contains("PRIVATE KEY-----") && s.contains("-----BEGIN") {
        return Some("a private key");
    }
    if has_access_key_id(s) {
        return Some("an AWS access key id");
    }
    if has_secret_access_key(s) {
        return Some("what looks like an AWS secret access key");
    }
    const TOKENS: &[(&str, usize, &str)] = &[
        ("ghp_", 36, "a GitHub token"),
        ("github_pat_", 40, "a GitHub token"),
        ("glpat-", 20, "a GitLab token"),
        ("xoxb-", 20, "a Slack token"),
        ("xoxp-", 20, "a Slack token"),
        ("sk_live_", 20, "a Stripe secret key"),
        ("AIza", 35, "a Google API key"),
    ];
    TOKENS.iter().find_map(|(prefix, min_rest, kind)| {
        s.match_indices(prefix).find_map(|(i, _)| {
            let rest = &s[i + prefix.len()..];
            let n = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
                .count();
            (n >= *min_rest).then_some(*kind)
        })
    })
}

/// `AKIA`/`ASIA` followed by 16 upper-case letters or digits. (Other `A...A`
/// ids such as role and user ids are identifiers, not secrets.)
pub fn has_access_key_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(20).enumerate().any(|(i, w)| {
        (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
            && w[4..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b.get(i + 20).is_none_or(|c| !c.is_ascii_alphanumeric())
    })
}

/// A standalone run of exactly 40 base64 characters mixing upper case, lower
/// case and digits: the shape of a secret access key. Requiring the mix keeps
/// hex digests (git SHAs) and words out.
fn has_secret_access_key(s: &str) -> bool {
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'/' || c == b'+' || c == b'=';
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !is_b64(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_b64(b[i]) {
            i += 1;
        }
        let run = &b[start..i];
        if run.len() == 40
            && run.iter().any(u8::is_ascii_uppercase)
            && run.iter().any(u8::is_ascii_lowercase)
            && run.iter().any(u8::is_ascii_digit)
        {
            return true;
        }
    }
    false
}

/// The words that make a name about secrets.
const WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "accesskey",
    "credential",
    "clientsecret",
];

fn normalized(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Whether a name is about secrets at all: one that holds a secret
/// (`DB_PASSWORD`) or one that describes or points at one
/// (`PasswordPolicy`, `GenerateSecretString`, `SecretArn`).
pub fn mentions_secret(name: &str) -> bool {
    let n = normalized(name);
    WORDS.iter().any(|w| n.contains(w))
}

/// Whether a property or variable name says it holds a secret.
pub fn secret_name(name: &str) -> bool {
    let n = normalized(name);
    // Names that point at a secret or describe one, rather than hold it.
    const NOT: &[&str] = &[
        "arn",
        "name",
        "id",
        "ids",
        "path",
        "url",
        "uri",
        "length",
        "ttl",
        "expiry",
        "header",
        "param",
        "parameter",
        "ref",
        "policy",
        "rotation",
        "enabled",
        "template",
        "type",
        "version",
        "validity",
        "units",
        "size",
        "count",
    ];
    const NOT_CONTAINING: &[&str] = &[
        "generate",
        "exclude",
        "include",
        "description",
        "require",
        "minimum",
    ];
    WORDS.iter().any(|w| n.contains(w))
        && !NOT.iter().any(|s| n.ends_with(s))
        && !NOT_CONTAINING.iter().any(|s| n.contains(s))
}

/// A literal that is a reference or placeholder, not a secret.
fn looks_like_reference(s: &str) -> bool {
    let t = s.trim();
    t.is_empty()
        || t.starts_with("arn:")
        || t.contains("{{resolve:")
        || t.contains("${")
        || t.eq_ignore_ascii_case("true")
        || t.eq_ignore_ascii_case("false")
        || t.parse::<f64>().is_ok()
}

fn secrets_anywhere(ctx: &Ctx<'_>, out: &mut Out) {
    let mut path = vec!["Properties".to_string()];
    walk(ctx, ctx.props, None, &mut path, out);
}

fn walk(ctx: &Ctx<'_>, v: &Value, key: Option<&str>, path: &mut Vec<String>, out: &mut Out) {
    match v {
        Value::Object(map) => {
            if crate::value::intrinsic_name(v).is_some() {
                return;
            }
            for (k, child) in map {
                path.push(k.clone());
                walk(ctx, child, Some(k), path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(i.to_string());
                // Elements inherit the list's name (`Passwords: [..]`).
                walk(ctx, child, key, path, out);
                path.pop();
            }
        }
        Value::String(s) => {
            let joined = path.join("/");
            if skipped(ctx, &joined) {
                return;
            }
            if let Some(kind) = credential_in_value(s) {
                out.fail(joined, format!("the value is {kind}"));
            } else if let Some(k) = key
                && secret_name(k)
                && !looks_like_reference(s)
            {
                out.fail(
                    joined,
                    format!("`{k}` holds a literal value; its name says it is a secret"),
                );
            }
        }
        _ => {}
    }
}

/// Paths owned by more specific rules.
fn skipped(ctx: &Ctx<'_>, path: &str) -> bool {
    match ctx.type_name {
        "AWS::RDS::DBInstance" | "AWS::RDS::DBCluster" => path == "Properties/MasterUserPassword",
        "AWS::Lambda::Function" => {
            path.starts_with("Properties/Environment/Variables/")
                && ctx
                    .props
                    .pointer(&format!("/{}", path.trim_start_matches("Properties/")))
                    .and_then(Value::as_str)
                    .is_some_and(|s| credential_in_value(s).is_some())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_shapes() {
        assert_eq!(
            credential_in_value("AKIAIOSFODNN7EXAMPLE"),
            Some("an AWS access key id")
        );
        assert_eq!(
            credential_in_value("key=AKIAIOSFODNN7EXAMPLE;"),
            Some("an AWS access key id")
        );
        assert_eq!(
            credential_in_value("AROAIOSFODNN7EXAMPLE"),
            None,
            "a role id is not a secret"
        );
        assert!(credential_in_value("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").is_some());
        assert_eq!(
            credential_in_value("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            None,
            "a SHA-1"
        );
        assert!(credential_in_value("-----BEGIN RSA PRIVATE KEY-----\nMIIE...").is_some());
        assert!(credential_in_value("ghp_abcdefghijklmnopqrstuvwxyz0123456789").is_some());
        assert_eq!(credential_in_value("handler.main"), None);
    }

    #[test]
    fn secret_names() {
        for yes in [
            "DB_PASSWORD",
            "apiKey",
            "ClientSecret",
            "GITHUB_TOKEN",
            "SecretString",
        ] {
            assert!(secret_name(yes), "{yes}");
        }
        for no in [
            "SECRET_ARN",
            "PasswordLength",
            "TokenValidityUnits",
            "GenerateSecretString",
            "SecretName",
            "MinimumLength",
            "RequireSymbols",
        ] {
            assert!(!secret_name(no), "{no}");
        }
    }
}
