//! How a dev resource's properties become its prod counterpart's: the
//! pure part of promotion, also used by drift to compare a pair.
//!
//! [`Workspace`] holds both environments as listed, the links between them
//! and an index of every string that identifies a dev resource (identifier,
//! name, generated attributes such as ARNs), so that references are found
//! by value. [`Workspace::map_props`] drops read-only properties, moves the
//! name from `-dev` to `-prod` ([`rename_env`]), sets the `Environment` tag,
//! drops tracking tags and replaces every reference to another dev resource
//! (or the dev account id) by its prod counterpart's, recording each change
//! as a [`ReferenceMapping`]; a reference with no counterpart yet is
//! [`Missing`].
//!
//! Not here: reading the environments (`inventory`), restoring write-only
//! values (`history`), anything that calls the cloud or writes.

use std::collections::HashMap;

use infraguard_core::cloud::Cloud;
use infraguard_core::pointer;
use infraguard_core::resource::ResourceType;
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::inventory::{Inventory, PromotionEnvs, name_of, schema_of, without_read_only};
use crate::sync::{Counterpart, DEV_COUNTERPART, ResourceRef};
use crate::tags;

/// Strings shorter than this are not treated as references: short values
/// (`/`, `true`, `1`) would match by accident.
const MIN_REFERENCE_LEN: usize = 6;

/// Tags that describe a resource's life cycle in its own environment; they
/// are never copied to the other one.
pub(crate) const TRACKING_TAGS: [&str; 3] = [
    tags::PROMOTION_STATUS,
    tags::PROD_COUNTERPART,
    DEV_COUNTERPART,
];

/// `name` with its environment part moved from `from` to `to`: the last
/// separator-delimited word equal to `from` (any case) is replaced, keeping
/// its case style. `None` when the name has no such word (IAM policy names
/// such as `SynthCoreAI-S3-FileUpload` carry no environment).
pub fn rename_env(name: &str, from: &str, to: &str) -> Option<String> {
    if from.is_empty() {
        return None;
    }
    let mut last = None;
    let mut start = 0;
    for (i, c) in name
        .char_indices()
        .chain(std::iter::once((name.len(), '-')))
    {
        if !c.is_ascii_alphanumeric() {
            if name[start..i].eq_ignore_ascii_case(from) {
                last = Some((start, i));
            }
            start = i + c.len_utf8();
        }
    }
    let (s, e) = last?;
    let word = &name[s..e];
    let replacement =
        if word.chars().all(|c| !c.is_ascii_lowercase()) && word != word.to_ascii_lowercase() {
            to.to_ascii_uppercase()
        } else if word.starts_with(|c: char| c.is_ascii_uppercase()) {
            let mut c = to.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        } else {
            to.to_string()
        };
    Some(format!("{}{replacement}{}", &name[..s], &name[e..]))
}

/// Where a string identifying a dev resource came from.
#[derive(Clone, Debug)]
struct RefTarget {
    item: usize,
    /// `None`: the identifier; otherwise the pointer of the property.
    pointer: Option<String>,
}

/// Every string that identifies a dev resource (identifier, name,
/// generated attributes such as ARNs), to find references by value.
pub(crate) struct RefIndex {
    map: HashMap<String, Vec<RefTarget>>,
}

impl RefIndex {
    pub fn build(dev: &Inventory) -> RefIndex {
        let mut map: HashMap<String, Vec<RefTarget>> = HashMap::new();
        let mut add = |s: &str, target: RefTarget| {
            if s.len() < MIN_REFERENCE_LEN {
                return;
            }
            let list = map.entry(s.to_string()).or_default();
            if !list.iter().any(|t| t.item == target.item) {
                list.push(target);
            }
        };
        for (i, item) in dev.items.iter().enumerate() {
            add(
                &item.identifier,
                RefTarget {
                    item: i,
                    pointer: None,
                },
            );
            let Some(schema) = schema_of(&item.type_name) else {
                continue;
            };
            if let (Some(np), Some(n)) = (&schema.name_property, name_of(schema, &item.properties))
            {
                add(
                    n,
                    RefTarget {
                        item: i,
                        pointer: Some(format!("/{np}")),
                    },
                );
            }
            for pattern in &schema.read_only {
                for (ptr, v) in pointer::find_values(&item.properties, pattern) {
                    if let Some(s) = v.as_str() {
                        add(
                            s,
                            RefTarget {
                                item: i,
                                pointer: Some(ptr),
                            },
                        );
                    }
                }
            }
        }
        RefIndex { map }
    }
}

/// One value changed on the way to prod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceMapping {
    /// Where in the properties.
    pub pointer: String,
    /// `name` (naming convention), `resource` (another dev resource),
    /// `self` (the resource's own name inside a value), `account` (the dev
    /// account id).
    pub kind: String,
    pub dev_value: String,
    pub prod_value: String,
    /// The dev resource referred to (`resource`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceRef>,
}

/// A dev resource referred to that has no prod counterpart yet.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Missing {
    pub item: usize,
    pub pointer: String,
    /// Other dev resources with the same value (an ambiguous name).
    pub alternatives: usize,
}

/// The dev properties as they should be in prod.
#[derive(Clone, Debug)]
pub(crate) struct Mapped {
    pub props: Value,
    pub references: Vec<ReferenceMapping>,
    pub missing: Vec<Missing>,
    pub notes: Vec<String>,
}

/// Both environments as listed, the reference index and the links, for one
/// promotion or drift run.
pub(crate) struct Workspace {
    pub envs: PromotionEnvs,
    pub dev: Inventory,
    pub prod: Inventory,
    pub refs: RefIndex,
    /// The counterpart of each dev item.
    pub links: Vec<Counterpart>,
    pub dev_account: Option<String>,
    pub prod_account: Option<String>,
    /// The project's resource-name prefix, to spot dev-looking names.
    pub prefix: String,
}

impl Workspace {
    pub fn read<C: Cloud, S: Store>(
        engine: &Engine<C, S>,
        types: &[ResourceType],
    ) -> Result<Workspace, EngineError> {
        let envs = engine.promotion_envs()?;
        let dev = Inventory::read(engine, &envs.dev.name, types)?;
        let prod = Inventory::read(engine, &envs.prod.name, types)?;
        let account = |env: &str| {
            engine
                .cloud(env)
                .ok()
                .and_then(|c| c.identity().ok())
                .map(|i| i.account_id)
        };
        let dev_account = account(&envs.dev.name);
        let prod_account = account(&envs.prod.name);
        let mut ws = Workspace {
            refs: RefIndex::build(&dev),
            links: Vec::new(),
            dev_account,
            prod_account,
            prefix: engine.config().prefix.clone(),
            envs,
            dev,
            prod,
        };
        ws.relink(engine);
        Ok(ws)
    }

    pub fn relink<C: Cloud, S: Store>(&mut self, engine: &Engine<C, S>) {
        self.links = engine.links(&self.envs, &self.dev, &self.prod);
    }

    fn prod_of(&self, dev_item: usize) -> Option<usize> {
        match self.links.get(dev_item) {
            Some(Counterpart::Found { prod, .. }) => Some(*prod),
            _ => None,
        }
    }

    /// The dev item's properties as they should be in prod.
    pub fn map(&self, idx: usize) -> Mapped {
        self.map_props(idx, &self.dev.items[idx].properties)
    }

    /// `map` of the dev item with `source` as its properties (the listed
    /// ones with write-only values restored, for a promotion).
    pub fn map_props(&self, idx: usize, source: &Value) -> Mapped {
        let item = &self.dev.items[idx];
        let mut out = Mapped {
            props: Value::Null,
            references: Vec::new(),
            missing: Vec::new(),
            notes: Vec::new(),
        };
        let Some(schema) = schema_of(&item.type_name) else {
            out.props = source.clone();
            return out;
        };
        let (from, to) = (self.envs.dev.name.as_str(), self.envs.prod.name.as_str());
        let mut props = without_read_only(schema, source);

        // The resource's own name, by the naming convention.
        let mut own_names: Vec<(String, String)> = Vec::new();
        if let Some(np) = &schema.name_property
            && let Some(name) = props.get(np).and_then(Value::as_str).map(str::to_string)
        {
            match rename_env(&name, from, to) {
                Some(new) => {
                    out.references.push(ReferenceMapping {
                        pointer: format!("/{np}"),
                        kind: "name".into(),
                        dev_value: name.clone(),
                        prod_value: new.clone(),
                        resource: None,
                    });
                    props[np.as_str()] = Value::String(new.clone());
                    own_names.push((name, new));
                }
                None => out.notes.push(format!(
                    "{np} `{name}` has no `{from}` part, so prod uses the same name (in its own account)"
                )),
            }
        }
        if item.identifier != name_of(schema, &item.properties).unwrap_or_default()
            && let Some(new) = rename_env(&item.identifier, from, to)
        {
            own_names.push((item.identifier.clone(), new));
        }

        let skip: Vec<&str> = schema
            .name_property
            .as_deref()
            .into_iter()
            .chain(schema.tagging.property())
            .collect();
        if let Value::Object(map) = &mut props {
            for (k, v) in map.iter_mut() {
                if skip.contains(&k.as_str()) {
                    continue;
                }
                let mut at = format!("/{}", pointer::escape(k));
                self.map_value(idx, &own_names, v, &mut at, &mut out);
            }
        }

        // Tags: tracking tags stay behind, the environment tag changes, and
        // the prod resource remembers where it came from.
        if let Some(tp) = schema.tagging.property() {
            let mut t = tags::read(&props, &schema.tagging);
            for k in TRACKING_TAGS {
                t.remove(k);
            }
            t.insert(tags::ENVIRONMENT.into(), self.envs.prod.tag_value.clone());
            t.insert(DEV_COUNTERPART.into(), item.identifier.clone());
            if let Value::Object(m) = &mut props {
                m.remove(tp);
            }
            tags::apply(&mut props, &schema.tagging, &t);
        }
        out.props = props;
        out
    }

    fn map_value(
        &self,
        idx: usize,
        own_names: &[(String, String)],
        v: &mut Value,
        at: &mut String,
        out: &mut Mapped,
    ) {
        match v {
            Value::String(s) => {
                if let Some(new) = self.map_string(idx, own_names, s, at, out) {
                    *s = new;
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter_mut().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    self.map_value(idx, own_names, child, at, out);
                    at.truncate(len);
                }
            }
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&pointer::escape(k));
                    self.map_value(idx, own_names, child, at, out);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// Whether `value` is the dev item's name or one of its generated
    /// (read-only) attributes.
    fn is_own_value(&self, idx: usize, value: &str) -> bool {
        let item = &self.dev.items[idx];
        let Some(schema) = schema_of(&item.type_name) else {
            return false;
        };
        name_of(schema, &item.properties) == Some(value)
            || schema.read_only.iter().any(|p| {
                pointer::find_values(&item.properties, p)
                    .iter()
                    .any(|(_, v)| v.as_str() == Some(value))
            })
    }

    /// The prod value of one string, or `None` to keep it.
    fn map_string(
        &self,
        idx: usize,
        own_names: &[(String, String)],
        s: &str,
        at: &str,
        out: &mut Mapped,
    ) -> Option<String> {
        let mut hit = self.refs.map.get(s).map(|t| (t, ""));
        if hit.is_none() && s.starts_with("arn:") {
            // `arn:aws:s3:::bucket/*`: the longest prefix ending at a
            // separator that is a dev resource's value.
            hit = s
                .char_indices()
                .filter(|(_, c)| *c == '/' || *c == ':')
                .map(|(i, _)| i)
                .rev()
                .find_map(|i| self.refs.map.get(&s[..i]).map(|t| (t, &s[i..])));
        }
        let mut mapped: Option<String> = None;
        if let Some((all, suffix)) = hit {
            // A value that is the resource's own name or generated attribute
            // refers to itself (a function's own name in its environment
            // variables, even when its role has the same name). A value
            // that is only its identifier refers to the other resource that
            // has it: a bucket policy's identifier is its bucket's name.
            let others: Vec<&RefTarget> = all.iter().filter(|t| t.item != idx).collect();
            let key = &s[..s.len() - suffix.len()];
            let refers_to_self =
                others.len() < all.len() && (others.is_empty() || self.is_own_value(idx, key));
            if refers_to_self {
                let mut new = s.to_string();
                for (old, name) in own_names {
                    new = new.replace(old.as_str(), name);
                }
                if new != s {
                    out.references.push(ReferenceMapping {
                        pointer: at.to_string(),
                        kind: "self".into(),
                        dev_value: s.to_string(),
                        prod_value: new.clone(),
                        resource: None,
                    });
                    mapped = Some(new);
                }
            } else {
                let resolved = others.iter().find_map(|t| {
                    let p = self.prod_of(t.item)?;
                    let prod_item = &self.prod.items[p];
                    let value = match &t.pointer {
                        None => prod_item.identifier.clone(),
                        Some(ptr) => prod_item.properties.pointer(ptr)?.as_str()?.to_string(),
                    };
                    Some((t.item, value))
                });
                match resolved {
                    Some((dev_item, value)) => {
                        let new = format!("{value}{suffix}");
                        out.references.push(ReferenceMapping {
                            pointer: at.to_string(),
                            kind: "resource".into(),
                            dev_value: s.to_string(),
                            prod_value: new.clone(),
                            resource: Some(ResourceRef::of(&self.dev.items[dev_item])),
                        });
                        return Some(new);
                    }
                    None => {
                        out.missing.push(Missing {
                            item: others[0].item,
                            pointer: at.to_string(),
                            alternatives: others.len() - 1,
                        });
                        return None;
                    }
                }
            }
        }
        let current = mapped.clone().unwrap_or_else(|| s.to_string());
        if let (Some(dev), Some(prod)) = (&self.dev_account, &self.prod_account)
            && current.contains(dev.as_str())
        {
            let new = current.replace(dev.as_str(), prod);
            out.references.push(ReferenceMapping {
                pointer: at.to_string(),
                kind: "account".into(),
                dev_value: current,
                prod_value: new.clone(),
                resource: None,
            });
            return Some(new);
        }
        if mapped.is_none()
            && s.starts_with(&format!("{}-", self.prefix))
            && rename_env(s, &self.envs.dev.name, &self.envs.prod.name).is_some()
        {
            out.notes.push(format!(
                "{at} = `{s}` looks like a {} name but no {} resource has it: left unchanged",
                self.envs.dev.name, self.envs.dev.name
            ));
        }
        mapped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::env::{Backend, Environment};
    use infraguard_core::schema::TagStyle;
    use serde_json::json;

    #[test]
    fn rename_moves_the_environment_word_and_keeps_its_case() {
        assert_eq!(
            rename_env("synthcoreai-documents-dev", "dev", "prod").as_deref(),
            Some("synthcoreai-documents-prod")
        );
        assert_eq!(
            rename_env("dev-queue", "dev", "prod").as_deref(),
            Some("prod-queue")
        );
        assert_eq!(
            rename_env("App-Dev-Role", "dev", "prod").as_deref(),
            Some("App-Prod-Role")
        );
        assert_eq!(
            rename_env("APP_DEV", "dev", "prod").as_deref(),
            Some("APP_PROD")
        );
        assert_eq!(rename_env("synthcoreai-device-logs", "dev", "prod"), None);
        assert_eq!(rename_env("SynthCoreAI-S3-FileUpload", "dev", "prod"), None);
        // Only the last occurrence: the environment is the suffix.
        assert_eq!(
            rename_env("dev-tools-dev", "dev", "prod").as_deref(),
            Some("dev-tools-prod")
        );
    }

    fn env(name: &str, tag: &str) -> Environment {
        Environment {
            name: name.into(),
            tag_value: tag.into(),
            account_id: None,
            approval_role: None,
            backend: Backend::Local,
            profile: None,
            region: "us-east-1".into(),
            read_only: name == "prod",
            scanning: true,
        }
    }

    fn inventory(env: &str, items: &[(&str, Value)]) -> Inventory {
        let mut inv = Inventory::new(env);
        for (t, props) in items {
            let schema = schema_of(&ResourceType::new(t).unwrap()).unwrap();
            let id = schema.identifier_of(props).unwrap();
            inv.insert_described(schema, id, props.clone());
        }
        inv
    }

    fn workspace(dev: Inventory, prod: Inventory, links: Vec<Counterpart>) -> Workspace {
        Workspace {
            envs: PromotionEnvs {
                dev: env("dev", "development"),
                prod: env("prod", "production"),
            },
            refs: RefIndex::build(&dev),
            links,
            dev_account: Some("111111111111".into()),
            prod_account: Some("222222222222".into()),
            prefix: "synthcoreai".into(),
            dev,
            prod,
        }
    }

    fn role(env: &str, acct: &str) -> (&'static str, Value) {
        (
            "AWS::IAM::Role",
            json!({
                "RoleName": format!("synthcoreai-worker-{env}"),
                "AssumeRolePolicyDocument": {"Statement": []},
                "Arn": format!("arn:aws:iam::{acct}:role/synthcoreai-worker-{env}"),
                "RoleId": format!("AROA{env}XXXXXXXXXXXXX"),
            }),
        )
    }

    fn function() -> (&'static str, Value) {
        (
            "AWS::Lambda::Function",
            json!({
                "FunctionName": "synthcoreai-worker-dev",
                "Role": "arn:aws:iam::111111111111:role/synthcoreai-worker-dev",
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Arn": "arn:aws:lambda:us-east-1:111111111111:function:synthcoreai-worker-dev",
                "Environment": {"Variables": {
                    "SELF": "synthcoreai-worker-dev",
                    "KMS": "arn:aws:kms:us-east-1:111111111111:key/abc",
                    "OTHER": "synthcoreai-ghost-dev"
                }},
                "Tags": [
                    {"Key": "Environment", "Value": "development"},
                    {"Key": "PromotionStatus", "Value": "dev-only"},
                    {"Key": "Team", "Value": "docs"}
                ]
            }),
        )
    }

    #[test]
    fn a_reference_without_counterpart_is_missing_and_names_the_resource() {
        let dev = inventory("dev", &[role("dev", "111111111111"), function()]);
        let prod = inventory("prod", &[]);
        let ws = workspace(dev, prod, vec![Counterpart::None, Counterpart::None]);
        let m = ws.map(1);
        assert_eq!(m.missing.len(), 1, "{:?}", m.missing);
        assert_eq!(m.missing[0].item, 0);
        assert_eq!(m.missing[0].pointer, "/Role");
        // The unmapped reference is kept as it was.
        assert_eq!(
            m.props["Role"],
            "arn:aws:iam::111111111111:role/synthcoreai-worker-dev"
        );
    }

    #[test]
    fn references_names_tags_and_accounts_are_mapped_to_prod() {
        let dev = inventory("dev", &[role("dev", "111111111111"), function()]);
        let prod = inventory("prod", &[role("prod", "222222222222")]);
        let links = vec![
            Counterpart::Found {
                prod: 0,
                linked_by: "tag",
            },
            Counterpart::None,
        ];
        let ws = workspace(dev, prod, links);
        let m = ws.map(1);
        assert!(m.missing.is_empty(), "{:?}", m.missing);
        let p = &m.props;
        assert_eq!(p["FunctionName"], "synthcoreai-worker-prod");
        assert_eq!(
            p["Role"],
            "arn:aws:iam::222222222222:role/synthcoreai-worker-prod"
        );
        assert_eq!(
            p["Environment"]["Variables"]["SELF"],
            "synthcoreai-worker-prod"
        );
        assert_eq!(
            p["Environment"]["Variables"]["KMS"],
            "arn:aws:kms:us-east-1:222222222222:key/abc"
        );
        assert_eq!(
            p["Environment"]["Variables"]["OTHER"],
            "synthcoreai-ghost-dev"
        );
        assert!(
            m.notes.iter().any(|n| n.contains("synthcoreai-ghost-dev")),
            "{:?}",
            m.notes
        );
        assert!(p.get("Arn").is_none(), "read-only properties are dropped");
        let t = tags::read(p, &TagStyle::List("Tags".into()));
        assert_eq!(t["Environment"], "production");
        assert_eq!(t["Team"], "docs");
        assert_eq!(t[DEV_COUNTERPART], "synthcoreai-worker-dev");
        assert!(!t.contains_key(tags::PROMOTION_STATUS));
        let kinds: Vec<&str> = m.references.iter().map(|r| r.kind.as_str()).collect();
        assert!(
            kinds.contains(&"name")
                && kinds.contains(&"resource")
                && kinds.contains(&"self")
                && kinds.contains(&"account"),
            "{kinds:?}"
        );
    }

    #[test]
    fn a_bucket_policy_depends_on_its_bucket_though_it_shares_its_identifier() {
        let bucket = (
            "AWS::S3::Bucket",
            json!({"BucketName": "synthcoreai-site-dev", "Arn": "arn:aws:s3:::synthcoreai-site-dev"}),
        );
        let policy = (
            "AWS::S3::BucketPolicy",
            json!({"Bucket": "synthcoreai-site-dev", "PolicyDocument": {"Statement": [{
                "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": "arn:aws:s3:::synthcoreai-site-dev/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}),
        );
        let dev = inventory("dev", &[bucket, policy.clone()]);
        let ws = workspace(dev, inventory("prod", &[]), vec![Counterpart::None; 2]);
        let m = ws.map(1);
        assert_eq!(m.missing.len(), 2, "{:?}", m.missing);
        assert!(m.missing.iter().all(|x| x.item == 0));

        let dev = inventory(
            "dev",
            &[
                (
                    "AWS::S3::Bucket",
                    json!({"BucketName": "synthcoreai-site-dev", "Arn": "arn:aws:s3:::synthcoreai-site-dev"}),
                ),
                policy,
            ],
        );
        let prod = inventory(
            "prod",
            &[(
                "AWS::S3::Bucket",
                json!({"BucketName": "synthcoreai-site-prod", "Arn": "arn:aws:s3:::synthcoreai-site-prod"}),
            )],
        );
        let links = vec![
            Counterpart::Found {
                prod: 0,
                linked_by: "tag",
            },
            Counterpart::None,
        ];
        let m = workspace(dev, prod, links).map(1);
        assert!(m.missing.is_empty());
        assert_eq!(m.props["Bucket"], "synthcoreai-site-prod");
        assert_eq!(
            m.props["PolicyDocument"]["Statement"][0]["Resource"],
            "arn:aws:s3:::synthcoreai-site-prod/*"
        );
    }

    #[test]
    fn restored_write_only_values_are_mapped_too() {
        let bucket = (
            "AWS::S3::Bucket",
            json!({"BucketName": "synthcoreai-artifacts-dev"}),
        );
        let prod_bucket = (
            "AWS::S3::Bucket",
            json!({"BucketName": "synthcoreai-artifacts-prod"}),
        );
        let (_, f) = function();
        let dev = inventory("dev", &[bucket, ("AWS::Lambda::Function", f.clone())]);
        let prod = inventory("prod", &[prod_bucket]);
        let links = vec![
            Counterpart::Found {
                prod: 0,
                linked_by: "tag",
            },
            Counterpart::None,
        ];
        let ws = workspace(dev, prod, links);
        let mut full = f;
        full["Code"] = json!({"S3Bucket": "synthcoreai-artifacts-dev", "S3Key": "worker.zip"});
        let m = ws.map_props(1, &full);
        assert_eq!(m.props["Code"]["S3Bucket"], "synthcoreai-artifacts-prod");
        assert!(m.references.iter().any(|r| r.pointer == "/Code/S3Bucket"));
    }
}
