//! Secrets never leave the engine in the clear.
//!
//! A plan must keep the real desired state (the cloud needs it), so the
//! store holds it as given; every plan the engine hands to a caller (CLI
//! output, JSON, MCP results) is a redacted copy: write-only properties of
//! the type (RDS `MasterUserPassword`...) and any string under a key that
//! names a secret (`password`, `secret`, `token`, `private key`, `access key`)
//! are replaced by a marker. Dynamic references (`{{resolve:...}}`) and
//! intrinsic functions are not secrets and stay visible.

use infraguard_core::plan::Plan;
use infraguard_core::schema::{ResourceSchema, pointer_under};
use infraguard_schema::Catalog;
use serde_json::Value;

pub const MARKER: &str = "****(redacted)";

fn normalized(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn names_secret(k: &str) -> bool {
    [
        "password",
        "passwd",
        "secret",
        "token",
        "privatekey",
        "accesskey",
        "apikey",
        "credential",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// A key about secrets rather than holding one: `TokenValidityUnits`,
/// `GenerateSecretString`, `ManageMasterUserPassword`, `PasswordPolicy`.
fn is_secret_setting(key: &str) -> bool {
    let k = normalized(key);
    names_secret(&k)
        && [
            "validity", "generate", "manage", "policy", "policies", "rotation", "arn", "kmskey",
            "secretid", "length", "reset", "units",
        ]
        .iter()
        .any(|w| k.contains(w))
}

/// Whether a property name suggests its value is a secret.
pub fn is_secret_key(key: &str) -> bool {
    names_secret(&normalized(key)) && !is_secret_setting(key)
}

fn keep(value: &str) -> bool {
    value.starts_with("{{resolve:") || value.is_empty()
}

fn walk(
    value: &mut Value,
    pointer: &mut String,
    schema: Option<&ResourceSchema>,
    secret_parent: bool,
) {
    walk_in(value, pointer, schema, secret_parent, false)
}

/// `secret_parent`: a key above named a secret. `in_settings`: a key above is
/// about secrets (`TokenValidityUnits`), so names below (`AccessToken`) are
/// settings, not secrets.
fn walk_in(
    value: &mut Value,
    pointer: &mut String,
    schema: Option<&ResourceSchema>,
    secret_parent: bool,
    in_settings: bool,
) {
    match value {
        Value::String(s) => {
            let write_only =
                schema.is_some_and(|sc| sc.write_only.iter().any(|w| pointer_under(w, pointer)));
            if (write_only || secret_parent) && !keep(s) {
                *s = MARKER.to_string();
            }
        }
        Value::Object(map) => {
            if map.len() == 1
                && map
                    .keys()
                    .next()
                    .is_some_and(|k| k == "Ref" || k.starts_with("Fn::"))
            {
                return;
            }
            for (k, v) in map.iter_mut() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(k);
                let settings = in_settings || is_secret_setting(k);
                let secret = secret_parent || (!settings && is_secret_key(k));
                walk_in(v, pointer, schema, secret, settings);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                walk_in(v, pointer, schema, secret_parent, in_settings);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Redact one resource's properties (pointers relative to the properties).
pub fn properties(type_name: &str, props: &Value) -> Value {
    let schema = Catalog::builtin().lookup(type_name).ok();
    let mut out = props.clone();
    walk(&mut out, &mut String::new(), schema, false);
    out
}

/// A plan safe to show: desired state, patch values and template redacted.
pub fn plan(p: &Plan) -> Plan {
    let mut out = p.clone();
    let t = p.type_name.as_str();
    out.desired_state = properties(t, &p.desired_state);
    if let Some(resources) = out
        .template
        .0
        .get_mut("Resources")
        .and_then(Value::as_object_mut)
    {
        for entry in resources.values_mut() {
            let rt = entry
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or(t)
                .to_string();
            if let Some(props) = entry.get_mut("Properties") {
                *props = properties(&rt, props);
            }
        }
    }
    if let Some(ops) = out.patch.as_mut().and_then(Value::as_array_mut) {
        for op in ops {
            let path = op
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(v) = op.get_mut("value") {
                // Re-root the value at its path so write-only and key rules apply.
                let schema = Catalog::builtin().lookup(t).ok();
                let secret = path.split('/').any(is_secret_key);
                let mut ptr = path.clone();
                walk(v, &mut ptr, schema, secret);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn write_only_and_secret_named_values_are_masked() {
        let p = properties(
            "AWS::RDS::DBInstance",
            &json!({"MasterUserPassword": "hunter2", "MasterUsername": "admin", "ManageMasterUserPassword": true}),
        );
        assert_eq!(p["MasterUserPassword"], MARKER);
        assert_eq!(p["MasterUsername"], "admin");
        assert_eq!(p["ManageMasterUserPassword"], true);
        let l = properties(
            "AWS::Lambda::Function",
            &json!({"Environment": {"Variables": {"DB_PASSWORD": "pw", "STRIPE_API_KEY": "sk_live_x", "MODE": "prod"}}}),
        );
        assert_eq!(l["Environment"]["Variables"]["DB_PASSWORD"], MARKER);
        assert_eq!(l["Environment"]["Variables"]["STRIPE_API_KEY"], MARKER);
        assert_eq!(l["Environment"]["Variables"]["MODE"], "prod");
    }

    #[test]
    fn references_and_settings_about_secrets_stay_visible() {
        let p = properties(
            "AWS::RDS::DBInstance",
            &json!({"MasterUserPassword": "{{resolve:secretsmanager:db:SecretString:password}}"}),
        );
        assert_eq!(
            p["MasterUserPassword"],
            "{{resolve:secretsmanager:db:SecretString:password}}"
        );
        let c = properties(
            "AWS::Cognito::UserPoolClient",
            &json!({"TokenValidityUnits": {"AccessToken": "hours"}}),
        );
        assert_eq!(c["TokenValidityUnits"]["AccessToken"], "hours");
        let s = properties(
            "AWS::SecretsManager::Secret",
            &json!({"SecretString": "abc", "Name": "n"}),
        );
        assert_eq!(s["SecretString"], MARKER);
        assert_eq!(s["Name"], "n");
    }
}
