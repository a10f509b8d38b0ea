//! Drift between dev and prod, and between what infraguard applied and
//! what is live.
//!
//! Two kinds of drift (the seed's "Dev/Prod Drift Detection"):
//!
//! - **dev vs prod**: for every synced pair, the dev properties mapped to
//!   prod the way promotion maps them (name suffix, `Environment` tag,
//!   account ids, references to other resources' counterparts, generated
//!   read-only attributes dropped) compared with prod's. The result is a
//!   property-level diff and the RFC 6902 patch that would bring prod in
//!   line; applying it is an ordinary gated prod update.
//! - **applied vs live**: what infraguard last applied to a resource (the
//!   store's `AppliedState`) compared with what the cloud has now, which
//!   finds changes made outside infraguard and resources deleted behind its
//!   back.
//!
//! Everything is read through list pages (see `inventory`); nothing is changed.
//!
//! Not here: the deployment preflight built on it (`preflight`; its report
//! types are re-exported here, where they used to live).

use std::collections::{BTreeMap, BTreeSet};

use infraguard_core::cloud::Cloud;
use infraguard_core::pointer;
use infraguard_core::resource::ResourceType;
use infraguard_core::schema::ResourceSchema;
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::inventory::{Inventory, schema_of, without_read_only};
use crate::promote::{TRACKING_TAGS, Workspace};
use crate::sync::{Classified, ReadStats};
use crate::tags;

pub use crate::preflight::{PreflightCheck, PreflightReport};

/// Tags that differ between environments by design: never drift.
const ENV_SPECIFIC_TAGS: [&str; 5] = [
    tags::ENVIRONMENT,
    tags::CREATED_BY,
    tags::CREATED_DATE,
    tags::COST_ESTIMATE,
    tags::MCP_SERVER_VERSION,
];

/// One property that differs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// JSON pointer into the properties (`/VersioningConfiguration/Status`,
    /// `/Tags/Team` for a tag).
    pub path: String,
    /// dev vs prod: the dev value mapped to prod. applied vs live: what
    /// infraguard applied. `None`: absent.
    pub expected: Option<Value>,
    /// dev vs prod: prod's value. applied vs live: the live value.
    pub actual: Option<Value>,
}

/// A synced pair whose properties differ.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PairDrift {
    #[serde(rename = "type")]
    pub type_name: String,
    pub dev: String,
    pub prod: String,
    pub differences: Vec<Difference>,
    /// RFC 6902 patch that brings prod in line with dev (plan it as a prod
    /// update: `infraguard plan --env prod --operation update`).
    pub patch: Value,
    /// Create-only properties that differ: only a replacement changes them,
    /// so the patch leaves them out.
    pub needs_replacement: Vec<String>,
    /// Dev references the mapping could not carry over (their target has no
    /// prod counterpart).
    pub unmapped_references: Vec<String>,
}

/// A resource changed (or deleted) outside infraguard since it last applied
/// a plan to it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutOfBand {
    pub env: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub identifier: String,
    /// The plan whose result was recorded.
    pub plan_id: String,
    pub applied_at: String,
    /// The resource no longer exists.
    pub deleted: bool,
    pub differences: Vec<Difference>,
    /// RFC 6902 patch that restores what infraguard applied.
    pub patch: Value,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DriftReport {
    pub dev_env: String,
    pub prod_env: String,
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// Synced pairs compared.
    pub pairs_checked: usize,
    pub pairs_in_sync: usize,
    pub drifted: Vec<PairDrift>,
    /// Resources with an applied record that were compared with live.
    pub applied_checked: usize,
    pub out_of_band: Vec<OutOfBand>,
    pub stats: ReadStats,
}

impl DriftReport {
    pub fn is_clean(&self) -> bool {
        self.drifted.is_empty() && self.out_of_band.is_empty()
    }
}

/// Tags as a `{key: value}` object without `ignored`, so that order and
/// list/map style do not count and a tag difference has a readable path.
fn normalize_tags(schema: &ResourceSchema, props: &Value, ignored: &[&str]) -> Value {
    let mut out = props.clone();
    if let Some(tp) = schema.tagging.property()
        && let Value::Object(m) = &mut out
        && m.contains_key(tp)
    {
        let t: serde_json::Map<String, Value> = tags::read(props, &schema.tagging)
            .into_iter()
            .filter(|(k, _)| !ignored.contains(&k.as_str()))
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        if t.is_empty() {
            m.remove(tp);
        } else {
            m.insert(tp.to_string(), Value::Object(t));
        }
    }
    out
}

/// Whether two property documents are the same once read-only properties,
/// `ignored` tags and tag order are set aside, decided without copying
/// either (most pairs are in sync, and copying 10,000 documents is what
/// would make drift slow). `None` when a read-only property nested inside
/// a compared one makes the quick answer unsafe.
fn same_ignoring(
    schema: &ResourceSchema,
    expected: &Value,
    actual: &Value,
    ignored: &[&str],
) -> Option<bool> {
    let (Some(e), Some(a)) = (expected.as_object(), actual.as_object()) else {
        return Some(expected == actual);
    };
    let tag_prop = schema.tagging.property();
    let read_only = |k: &str| {
        schema
            .read_only
            .iter()
            .any(|p| p.len() == k.len() + 1 && p.ends_with(k) && p.starts_with('/'))
    };
    let nested_read_only = |k: &str| {
        schema.read_only.iter().any(|p| {
            p.strip_prefix('/')
                .and_then(|rest| rest.strip_prefix(k))
                .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    for k in e.keys().chain(a.keys().filter(|k| !e.contains_key(*k))) {
        if read_only(k) {
            continue;
        }
        if Some(k.as_str()) == tag_prop {
            let keep = |m: BTreeMap<String, String>| -> Vec<(String, String)> {
                m.into_iter()
                    .filter(|(key, _)| !ignored.contains(&key.as_str()))
                    .collect()
            };
            if keep(tags::read(expected, &schema.tagging))
                != keep(tags::read(actual, &schema.tagging))
            {
                return Some(false);
            }
            continue;
        }
        if e.get(k) != a.get(k) {
            if nested_read_only(k) {
                return None;
            }
            return Some(false);
        }
    }
    Some(true)
}

/// Leaf-level differences between two property documents.
fn compare(
    expected: Option<&Value>,
    actual: Option<&Value>,
    at: &mut String,
    out: &mut Vec<Difference>,
) {
    match (expected, actual) {
        (Some(Value::Object(e)), Some(Value::Object(a))) => {
            let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
            for k in keys {
                let len = at.len();
                at.push('/');
                at.push_str(&pointer::escape(k));
                compare(e.get(k), a.get(k), at, out);
                at.truncate(len);
            }
        }
        (Some(Value::Array(e)), Some(Value::Array(a))) if e.len() == a.len() => {
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                compare(Some(x), Some(y), at, out);
                at.truncate(len);
            }
        }
        (e, a) if e != a => out.push(Difference {
            path: if at.is_empty() {
                "/".into()
            } else {
                at.clone()
            },
            expected: e.cloned(),
            actual: a.cloned(),
        }),
        _ => {}
    }
}

/// Top-level patch operations turning `actual_raw` into `expected` for the
/// properties where the normalized forms differ. The tag property is
/// rewritten whole: the actual resource's `ignored` tags kept, the others
/// taken from `expected`. Create-only properties are returned apart.
fn top_level_patch(
    schema: &ResourceSchema,
    expected: &Value,
    expected_norm: &Value,
    actual_raw: &Value,
    actual_norm: &Value,
    ignored: &[&str],
) -> (Value, Vec<String>) {
    let empty = serde_json::Map::new();
    let e = expected_norm.as_object().unwrap_or(&empty);
    let a = actual_norm.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = e.keys().chain(a.keys()).collect();
    let mut ops = Vec::new();
    let mut replacement = Vec::new();
    for k in keys {
        if e.get(k) == a.get(k) {
            continue;
        }
        let path = format!("/{}", pointer::escape(k));
        if schema.tagging.property() == Some(k.as_str()) {
            let mut wanted: BTreeMap<String, String> = tags::read(actual_raw, &schema.tagging)
                .into_iter()
                .filter(|(key, _)| ignored.contains(&key.as_str()))
                .collect();
            wanted.extend(
                tags::read(expected, &schema.tagging)
                    .into_iter()
                    .filter(|(key, _)| !ignored.contains(&key.as_str())),
            );
            if let Some(op) = tags::patch_op(actual_raw, &schema.tagging, &wanted) {
                ops.push(op);
            }
            continue;
        }
        if schema.is_create_only(&path) {
            replacement.push(k.clone());
            continue;
        }
        match (expected.get(k), actual_raw.get(k)) {
            (Some(v), Some(_)) => ops.push(json!({"op": "replace", "path": path, "value": v})),
            (Some(v), None) => ops.push(json!({"op": "add", "path": path, "value": v})),
            (None, Some(_)) => ops.push(json!({"op": "remove", "path": path})),
            (None, None) => {}
        }
    }
    (Value::Array(ops), replacement)
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// Drift of every synced pair and of every resource infraguard applied
    /// (the MCP tool `detect_drift`), for one type or all.
    pub fn drift(&self, type_name: Option<&str>) -> Result<DriftReport, EngineError> {
        let types = self.types_for(type_name)?;
        // Every type is read even for one: a reference to a resource of
        // another type (a function's role) maps through that resource's
        // counterpart, and without it the mapped value would look like drift.
        let all = self.types_for(None)?;
        let ws = Workspace::read(self, &all)?;
        let mut c = self.classify(&ws.envs, &ws.dev, &ws.prod);
        c.synced
            .retain(|&(d, _, _)| types.contains(&ws.dev.items[d].type_name));
        let mut report = self.pair_drift(&ws, &c, type_name, all.len());
        for inv in [&ws.dev, &ws.prod] {
            let (checked, found) = self.out_of_band(inv, &types)?;
            report.applied_checked += checked;
            report.out_of_band.extend(found);
        }
        Ok(report)
    }

    pub(crate) fn pair_drift(
        &self,
        ws: &Workspace,
        c: &Classified,
        type_name: Option<&str>,
        types_read: usize,
    ) -> DriftReport {
        let mut ignored: Vec<&str> = ENV_SPECIFIC_TAGS.to_vec();
        ignored.extend(TRACKING_TAGS);
        let mut drifted = Vec::new();
        for &(d, p, _) in &c.synced {
            let dev = &ws.dev.items[d];
            let prod = &ws.prod.items[p];
            let Some(schema) = schema_of(&dev.type_name) else {
                continue;
            };
            let mapped = ws.map(d);
            let expected = mapped.props;
            if same_ignoring(schema, &expected, &prod.properties, &ignored) == Some(true) {
                continue;
            }
            let actual = without_read_only(schema, &prod.properties);
            let e_norm = normalize_tags(schema, &expected, &ignored);
            let a_norm = normalize_tags(schema, &actual, &ignored);
            if e_norm == a_norm {
                continue;
            }
            let mut differences = Vec::new();
            compare(
                Some(&e_norm),
                Some(&a_norm),
                &mut String::new(),
                &mut differences,
            );
            let (patch, needs_replacement) =
                top_level_patch(schema, &expected, &e_norm, &actual, &a_norm, &ignored);
            drifted.push(PairDrift {
                type_name: dev.type_name.to_string(),
                dev: dev.identifier.clone(),
                prod: prod.identifier.clone(),
                differences,
                patch,
                needs_replacement,
                unmapped_references: mapped
                    .missing
                    .iter()
                    .map(|m| {
                        let target = &ws.dev.items[m.item];
                        format!(
                            "{} refers to {} `{}`, which has no {} counterpart",
                            m.pointer, target.type_name, target.identifier, ws.envs.prod.name
                        )
                    })
                    .collect(),
            });
        }
        DriftReport {
            dev_env: ws.envs.dev.name.clone(),
            prod_env: ws.envs.prod.name.clone(),
            type_name: type_name.map(str::to_string),
            pairs_checked: c.synced.len(),
            pairs_in_sync: c.synced.len() - drifted.len(),
            drifted,
            applied_checked: 0,
            out_of_band: Vec::new(),
            stats: ReadStats {
                types_read,
                dev_resources: ws.dev.items.len(),
                prod_resources: ws.prod.items.len(),
                list_calls: ws.dev.list_calls + ws.prod.list_calls,
                get_calls: ws.dev.get_calls + ws.prod.get_calls,
            },
        }
    }

    /// What infraguard applied in `inv`'s environment vs what is live there.
    pub(crate) fn out_of_band(
        &self,
        inv: &Inventory,
        types: &[ResourceType],
    ) -> Result<(usize, Vec<OutOfBand>), EngineError> {
        let wanted: BTreeSet<&str> = types.iter().map(ResourceType::as_str).collect();
        let mut checked = 0;
        let mut out = Vec::new();
        for rec in self.store().applied(&inv.env)? {
            if !wanted.contains(rec.type_name.as_str()) {
                continue;
            }
            let Ok(t) = ResourceType::new(&rec.type_name) else {
                continue;
            };
            let Some(schema) = schema_of(&t) else {
                continue;
            };
            checked += 1;
            let Some(i) = inv.index_of(&t, &rec.identifier) else {
                out.push(OutOfBand {
                    env: inv.env.clone(),
                    type_name: rec.type_name.clone(),
                    identifier: rec.identifier.clone(),
                    plan_id: rec.plan_id.clone(),
                    applied_at: rec.at.clone(),
                    deleted: true,
                    differences: Vec::new(),
                    patch: json!([]),
                });
                continue;
            };
            if same_ignoring(schema, &rec.properties, &inv.items[i].properties, &[]) == Some(true) {
                continue;
            }
            let expected = without_read_only(schema, &rec.properties);
            let actual = without_read_only(schema, &inv.items[i].properties);
            let e_norm = normalize_tags(schema, &expected, &[]);
            let a_norm = normalize_tags(schema, &actual, &[]);
            if e_norm == a_norm {
                continue;
            }
            let mut differences = Vec::new();
            compare(
                Some(&e_norm),
                Some(&a_norm),
                &mut String::new(),
                &mut differences,
            );
            let (patch, _) = top_level_patch(schema, &expected, &e_norm, &actual, &a_norm, &[]);
            out.push(OutOfBand {
                env: inv.env.clone(),
                type_name: rec.type_name.clone(),
                identifier: rec.identifier.clone(),
                plan_id: rec.plan_id.clone(),
                applied_at: rec.at.clone(),
                deleted: false,
                differences,
                patch,
            });
        }
        Ok((checked, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::schema::TagStyle;

    fn bucket_schema() -> &'static ResourceSchema {
        schema_of(&ResourceType::new("AWS::S3::Bucket").unwrap()).unwrap()
    }

    #[test]
    fn differences_are_leaf_paths_and_tags_compare_as_a_map() {
        let s = bucket_schema();
        let e = json!({"BucketName": "b-prod", "VersioningConfiguration": {"Status": "Enabled"},
            "Tags": [{"Key": "Team", "Value": "docs"}, {"Key": "Environment", "Value": "production"}]});
        let a = json!({"BucketName": "b-prod", "VersioningConfiguration": {"Status": "Suspended"},
            "Tags": [{"Key": "Environment", "Value": "production"}, {"Key": "Team", "Value": "ops"}, {"Key": "CreatedBy", "Value": "x"}]});
        let ignored = ENV_SPECIFIC_TAGS;
        let (en, an) = (
            normalize_tags(s, &e, &ignored),
            normalize_tags(s, &a, &ignored),
        );
        let mut d = Vec::new();
        compare(Some(&en), Some(&an), &mut String::new(), &mut d);
        let paths: Vec<&str> = d.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(paths, ["/Tags/Team", "/VersioningConfiguration/Status"]);
        assert_eq!(d[1].expected, Some(json!("Enabled")));
        assert_eq!(d[1].actual, Some(json!("Suspended")));

        let (patch, replace) = top_level_patch(s, &e, &en, &a, &an, &ignored);
        assert!(replace.is_empty());
        let mut fixed = a.clone();
        let parsed: json_patch::Patch = serde_json::from_value(patch).unwrap();
        json_patch::patch(&mut fixed, &parsed).unwrap();
        let t = tags::read(&fixed, &TagStyle::List("Tags".into()));
        assert_eq!(t["Team"], "docs");
        assert_eq!(
            t["CreatedBy"], "x",
            "prod's own environment-specific tags stay"
        );
        assert_eq!(fixed["VersioningConfiguration"]["Status"], "Enabled");
    }

    #[test]
    fn the_quick_comparison_agrees_with_the_full_one() {
        let s = bucket_schema();
        let e = json!({"BucketName": "b", "Tags": [{"Key": "A", "Value": "1"}, {"Key": "Environment", "Value": "production"}]});
        let same = json!({"BucketName": "b", "Arn": "arn:aws:s3:::b",
            "Tags": [{"Key": "Environment", "Value": "development"}, {"Key": "A", "Value": "1"}]});
        assert_eq!(same_ignoring(s, &e, &same, &ENV_SPECIFIC_TAGS), Some(true));
        let other_tag = json!({"BucketName": "b", "Tags": [{"Key": "A", "Value": "2"}]});
        assert_eq!(
            same_ignoring(s, &e, &other_tag, &ENV_SPECIFIC_TAGS),
            Some(false)
        );
        let extra = json!({"BucketName": "b", "AccelerateConfiguration": {},
            "Tags": [{"Key": "A", "Value": "1"}]});
        assert_eq!(
            same_ignoring(s, &e, &extra, &ENV_SPECIFIC_TAGS),
            Some(false)
        );
    }

    #[test]
    fn create_only_differences_need_replacement_not_a_patch() {
        let s = bucket_schema();
        let e = json!({"BucketName": "b-prod"});
        let a = json!({"BucketName": "other"});
        let (patch, replace) = top_level_patch(s, &e, &e, &a, &a, &[]);
        assert_eq!(patch, json!([]));
        assert_eq!(replace, ["BucketName"]);
    }
}
