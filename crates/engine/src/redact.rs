//! Secrets never leave the engine in the clear.
//!
//! A plan must keep the real desired state (the cloud needs it), so the
//! engine works on real values; what it hands to a caller is a [`Shown`]: a
//! value whose only constructor masks every secret, so its `Serialize`,
//! `Debug` and fields cannot show one, wherever it is rendered (CLI tables
//! and JSON, MCP results and elicitations, the guard's socket). At rest,
//! [`crate::store::SqliteStore`] seals the same strings with AES-256-GCM
//! under the project's key, so `state.db` never holds them in clear either.
//!
//! A string is a secret when it sits under a write-only property of its
//! type (RDS `MasterUserPassword`...), under a key that names a secret
//! (`password`, `secret`, `token`, `private key`, `access key`...), as the
//! `Value` of a `Name`/`Key` pair that names one (ECS and Batch environment
//! lists, tags), in `UserData` that carries one, or when it looks like one
//! (an AWS access key id, a PEM private key). Dynamic references
//! (`{{resolve:...}}`) and intrinsic functions are not secrets and stay
//! visible. A plaintext access key id is refused outright at plan time
//! ([`access_keys`]).

use std::fmt;
use std::ops::Deref;

use base64::Engine as _;
use infraguard_core::cloud::{ListPage, ResourceDescription};
use infraguard_core::plan::Plan;
use infraguard_core::pointer::pointer_under;
use infraguard_core::resource::ResourceType;
use infraguard_core::schema::ResourceSchema;
use infraguard_schema::Catalog;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const MARKER: &str = "****(redacted)";

/// How a value sealed for storage begins (see `store`). Never shown: a
/// [`Shown`] value masks it like any other secret.
pub const SEALED_PREFIX: &str = "{{infraguard:sealed:v1:";

/// A key about secrets rather than holding one: `TokenValidityUnits`,
/// `GenerateSecretString`, `PasswordPolicy`, `SecretArn`. What is beneath
/// it is settings, not secrets.
fn is_secret_setting(key: &str) -> bool {
    infraguard_policy::secrets::mentions_secret(key) && !is_secret_key(key)
}

/// Whether a property name says its value is a secret (the scanner's own
/// definition, so that what it flags and what is masked agree).
pub fn is_secret_key(key: &str) -> bool {
    infraguard_policy::secrets::secret_name(key)
}

/// Whether `s` holds an AWS access key id (`AKIA` or `ASIA` and 16 more
/// upper-case letters or digits), alone or inside a longer string.
pub fn contains_access_key(s: &str) -> bool {
    infraguard_policy::secrets::has_access_key_id(s)
}

/// A value that is a secret whatever key it sits under.
fn looks_secret(s: &str) -> bool {
    contains_access_key(s) || (s.contains("-----BEGIN") && s.contains("PRIVATE KEY"))
}

/// User data (plain or base64, as EC2 takes it) that carries a secret: an
/// access key, a private key, or an assignment to a secret-named variable
/// (`export DB_PASSWORD=...`).
fn user_data_has_secret(s: &str) -> bool {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let text = decoded.as_deref().unwrap_or(s);
    looks_secret(text)
        || text.lines().any(|line| {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            line.split_once(['=', ':']).is_some_and(|(k, v)| {
                let v = v.trim().trim_matches(['"', '\'']);
                is_secret_key(k.trim()) && !v.is_empty() && !v.starts_with("{{resolve:")
            })
        })
}

/// Strings that are never secrets: empty, dynamic references, and what was
/// already masked or sealed.
fn keep(value: &str) -> bool {
    value.is_empty()
        || value.starts_with("{{resolve:")
        || value == MARKER
        || value.starts_with(SEALED_PREFIX)
}

fn is_intrinsic(map: &serde_json::Map<String, Value>) -> bool {
    map.len() == 1
        && map
            .keys()
            .next()
            .is_some_and(|k| k == "Ref" || k.starts_with("Fn::"))
}

struct Walk<'a> {
    schema: Option<&'a ResourceSchema>,
    found: &'a mut dyn FnMut(&mut String),
}

/// Where a value sits, as far as secrets go.
#[derive(Clone, Copy, Default)]
struct Ctx {
    /// A key above named a secret.
    secret_parent: bool,
    /// A key above is about secrets (`TokenValidityUnits`), so names below
    /// (`AccessToken`) are settings, not secrets.
    in_settings: bool,
    /// Inside an intrinsic function: the strings are logical ids and
    /// attribute names, not values.
    in_reference: bool,
}

impl Walk<'_> {
    fn value(&mut self, value: &mut Value, pointer: &mut String, ctx: Ctx) {
        match value {
            Value::String(s) => {
                if keep(s) {
                    return;
                }
                let write_only = !ctx.in_reference
                    && self
                        .schema
                        .is_some_and(|sc| sc.write_only.iter().any(|w| pointer_under(w, pointer)));
                if write_only || (ctx.secret_parent && !ctx.in_reference) || looks_secret(s) {
                    (self.found)(s);
                }
            }
            Value::Object(map) => {
                let reference = ctx.in_reference || is_intrinsic(map);
                let pair_secret = ["Name", "Key", "name", "key"].iter().any(|n| {
                    map.get(*n)
                        .and_then(Value::as_str)
                        .is_some_and(is_secret_key)
                });
                for (k, v) in map.iter_mut() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(k);
                    let settings = ctx.in_settings || is_secret_setting(k);
                    let secret = ctx.secret_parent
                        || (!settings && is_secret_key(k))
                        || (pair_secret && (k == "Value" || k == "value"))
                        || (k == "UserData" && v.as_str().is_some_and(user_data_has_secret));
                    let inner = Ctx {
                        secret_parent: secret,
                        in_settings: settings,
                        in_reference: reference,
                    };
                    self.value(v, pointer, inner);
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter_mut().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    self.value(v, pointer, ctx);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
}

/// Call `found` on every secret string of one resource's properties
/// (pointers relative to the properties). Masking and sealing both use it,
/// so what is hidden on screen is what is encrypted at rest.
pub fn for_each_secret(type_name: &str, props: &mut Value, found: &mut dyn FnMut(&mut String)) {
    let schema = Catalog::builtin().lookup(type_name).ok();
    Walk { schema, found }.value(props, &mut String::new(), Ctx::default());
}

/// [`for_each_secret`] over everything a plan holds: the desired state, the
/// template's resources and the patch's values.
pub fn for_each_plan_secret(p: &mut Plan, found: &mut dyn FnMut(&mut String)) {
    let t = p.type_name.as_str().to_string();
    for_each_secret(&t, &mut p.desired_state, found);
    if let Some(resources) = p
        .template
        .0
        .get_mut("Resources")
        .and_then(Value::as_object_mut)
    {
        for entry in resources.values_mut() {
            let rt = entry
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or(&t)
                .to_string();
            if let Some(props) = entry.get_mut("Properties") {
                for_each_secret(&rt, props, found);
            }
        }
    }
    if let Some(ops) = p.patch.as_mut().and_then(Value::as_array_mut) {
        let schema = Catalog::builtin().lookup(&t).ok();
        for op in ops {
            let mut path = op
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(v) = op.get_mut("value") {
                // Re-rooted at its path, so write-only and key rules apply.
                let ctx = Ctx {
                    secret_parent: path.split('/').any(is_secret_key),
                    ..Ctx::default()
                };
                Walk { schema, found }.value(v, &mut path, ctx);
            }
        }
    }
}

fn mask(s: &mut String) {
    *s = MARKER.to_string();
}

/// One resource's properties with every secret masked.
pub fn properties(type_name: &str, props: &Value) -> Value {
    let mut out = props.clone();
    for_each_secret(type_name, &mut out, &mut mask);
    out
}

/// Where a plaintext AWS access key id sits (JSON pointers), anywhere in
/// `value`, intrinsic functions included: such a plan is refused outright.
pub fn access_keys(value: &Value) -> Vec<String> {
    fn go(v: &Value, pointer: &mut String, out: &mut Vec<String>) {
        match v {
            Value::String(s) if contains_access_key(s) => out.push(pointer.clone()),
            Value::Object(map) => {
                for (k, v) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(k);
                    go(v, pointer, out);
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    go(v, pointer, out);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    go(value, &mut String::new(), &mut out);
    out
}

/// A value that can mask its own secrets.
pub trait Redact {
    fn redact(&mut self);
}

impl Redact for Plan {
    fn redact(&mut self) {
        for_each_plan_secret(self, &mut mask);
    }
}

/// Without its type, only key names and the look of values decide (Cloud
/// Control never returns write-only properties anyway).
impl Redact for ResourceDescription {
    fn redact(&mut self) {
        for_each_secret("", &mut self.properties, &mut mask);
    }
}

impl Redact for (ResourceType, ResourceDescription) {
    fn redact(&mut self) {
        for_each_secret(self.0.as_str(), &mut self.1.properties, &mut mask);
    }
}

impl Redact for ListPage {
    fn redact(&mut self) {
        for r in &mut self.resources {
            for_each_secret(self.type_name.as_str(), &mut r.properties, &mut mask);
        }
    }
}

impl<T: Redact> Redact for Vec<T> {
    fn redact(&mut self) {
        self.iter_mut().for_each(Redact::redact);
    }
}

impl<T: Redact> Redact for Option<T> {
    fn redact(&mut self) {
        if let Some(v) = self {
            v.redact();
        }
    }
}

/// A value as a caller may see it: made only by masking its secrets, so
/// whatever renders it (serde, `Debug`, field access through `Deref`)
/// cannot show one. Deserializing (the guard's client) masks again, so the
/// invariant holds on both sides of the socket.
#[derive(Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Shown<T>(T);

impl<T: Redact> Shown<T> {
    pub fn new(mut value: T) -> Shown<T> {
        value.redact();
        Shown(value)
    }
}

impl Shown<ResourceDescription> {
    /// A resource of a known type: its write-only properties are masked too.
    pub fn resource(type_name: &str, mut r: ResourceDescription) -> Shown<ResourceDescription> {
        for_each_secret(type_name, &mut r.properties, &mut mask);
        Shown(r)
    }
}

impl<T> Shown<T> {
    /// The masked value itself.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Shown<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The items of a shown list are masked already.
impl<T> IntoIterator for Shown<Vec<T>> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a Shown<Vec<T>> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: fmt::Debug> fmt::Debug for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de, T: Redact + Deserialize<'de>> Deserialize<'de> for Shown<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Shown::new)
    }
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
