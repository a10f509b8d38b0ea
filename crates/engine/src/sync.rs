//! Sync status between the development and production environments, with
//! AWS resource tags as the source of truth (the seed's "Check Dev/Prod Sync
//! Status").
//!
//! Every resource of both environments is read through `list` pages, which
//! carry properties (and so tags) with Cloud Control: one call per page, not
//! one `get` per resource. Only an entry that carries nothing but its
//! identifier (real AWS lists some types that way) is read with `get`, and
//! the report counts those calls. The result sorts resources into the seed's four
//! groups: `dev_only` (no `ProdCounterpart` tag), `prod_only` (no dev
//! resource points at it), `synced` (the counterpart exists) and
//! `needs_review` (a `ProdCounterpart` that does not exist in prod, or a prod
//! resource promoted from a dev resource that no longer exists).
//!
//! Also here, shared with promotion and drift: [`Inventory`], one
//! environment's resources as listed, and the JSON-pointer helpers both need.
//!
//! Not here: changing anything (promotion does, through plans) and property
//! comparison (drift).

use std::collections::{BTreeMap, HashMap};

use infraguard_core::cloud::Cloud;
use infraguard_core::env::Environment;
use infraguard_core::resource::ResourceType;
use infraguard_core::schema::{ResourceSchema, TagStyle};
use infraguard_core::store::Store;
use infraguard_schema::Catalog;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::tags;

/// Tag written on a prod resource created by promotion: the identifier of
/// the dev resource it came from, so a prod resource whose dev source was
/// deleted is recognised (needs review, not prod-only).
pub const DEV_COUNTERPART: &str = "DevCounterpart";

/// One resource as a list page returned it.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub type_name: ResourceType,
    pub identifier: String,
    pub properties: Value,
    pub tags: BTreeMap<String, String>,
}

/// One environment's resources of the types read, indexed by identifier and
/// by name.
pub(crate) struct Inventory {
    pub env: String,
    pub items: Vec<Item>,
    // Keyed by type name, then identifier (or name): lookups by `&str`
    // allocate nothing, which counts at 10,000 resources.
    by_id: HashMap<String, HashMap<String, usize>>,
    by_name: HashMap<String, HashMap<String, usize>>,
    /// `list` calls made to build it.
    pub list_calls: u64,
    /// `get` calls made for resources whose list entry carried only the
    /// identifier (never with the local cloud).
    pub get_calls: u64,
}

/// A list entry with nothing but the primary identifier's properties (how
/// AWS lists many types), for a type whose tags matter.
fn identifier_only(schema: &ResourceSchema, props: &Value) -> bool {
    if schema.tagging == TagStyle::None {
        return false;
    }
    match props.as_object() {
        Some(m) => m.keys().all(|k| {
            schema
                .primary_identifier
                .iter()
                .any(|p| p.strip_prefix('/') == Some(k.as_str()))
        }),
        None => true,
    }
}

/// The schema of a type the catalog knows (every listed type does).
pub(crate) fn schema_of(t: &ResourceType) -> Option<&'static ResourceSchema> {
    Catalog::builtin().get(t).ok()
}

/// The value of the type's name property, when it has one.
pub(crate) fn name_of<'a>(schema: &ResourceSchema, props: &'a Value) -> Option<&'a str> {
    schema
        .name_property
        .as_deref()
        .and_then(|np| props.get(np))
        .and_then(Value::as_str)
}

impl Inventory {
    pub fn new(env: &str) -> Inventory {
        Inventory {
            env: env.to_string(),
            items: Vec::new(),
            by_id: HashMap::new(),
            by_name: HashMap::new(),
            list_calls: 0,
            get_calls: 0,
        }
    }

    /// Read every resource of `types` in `env`, page by page.
    pub fn read<C: Cloud, S: Store>(
        engine: &Engine<C, S>,
        env: &str,
        types: &[ResourceType],
    ) -> Result<Inventory, EngineError> {
        Inventory::read_keeping(engine, env, types, true)
    }

    /// [`Inventory::read`] that keeps only what classifying needs (type,
    /// identifier, name, tags) and drops each resource's properties as its
    /// page is read: a sync of 10,000 resources holds their tags, not
    /// their documents.
    pub fn read_tags<C: Cloud, S: Store>(
        engine: &Engine<C, S>,
        env: &str,
        types: &[ResourceType],
    ) -> Result<Inventory, EngineError> {
        Inventory::read_keeping(engine, env, types, false)
    }

    fn read_keeping<C: Cloud, S: Store>(
        engine: &Engine<C, S>,
        env: &str,
        types: &[ResourceType],
        keep_properties: bool,
    ) -> Result<Inventory, EngineError> {
        let mut inv = Inventory::new(env);
        for t in types {
            let Some(schema) = schema_of(t) else { continue };
            let mut next: Option<String> = None;
            loop {
                let page = engine.list_page(env, t.as_str(), next.as_deref())?;
                inv.list_calls += 1;
                for r in page.resources {
                    let idx = if identifier_only(schema, &r.properties) {
                        // Real Cloud Control list handlers return only the
                        // identifier for many types; the tags need a read.
                        let full = engine.get_resource(env, t.as_str(), &r.identifier)?;
                        inv.get_calls += 1;
                        inv.insert_described(schema, full.identifier, full.properties)
                    } else {
                        inv.insert_described(schema, r.identifier, r.properties)
                    };
                    if !keep_properties {
                        inv.items[idx].properties = Value::Null;
                    }
                }
                next = page.next_token.filter(|n| !n.is_empty());
                if next.is_none() {
                    break;
                }
            }
        }
        Ok(inv)
    }

    /// Add (or replace) one resource.
    pub fn insert_described(
        &mut self,
        schema: &ResourceSchema,
        identifier: String,
        properties: Value,
    ) -> usize {
        let t = &schema.type_name;
        let item = Item {
            tags: tags::read(&properties, &schema.tagging),
            type_name: t.clone(),
            identifier: identifier.clone(),
            properties,
        };
        let name = name_of(schema, &item.properties).map(str::to_string);
        let ids = self.by_id.entry(t.as_str().to_string()).or_default();
        let idx = match ids.get(&identifier) {
            Some(&i) => {
                self.items[i] = item;
                i
            }
            None => {
                self.items.push(item);
                self.items.len() - 1
            }
        };
        ids.insert(identifier, idx);
        if let Some(n) = name {
            self.by_name
                .entry(t.as_str().to_string())
                .or_default()
                .insert(n, idx);
        }
        idx
    }

    pub fn index_of(&self, t: &ResourceType, id: &str) -> Option<usize> {
        self.by_id.get(t.as_str())?.get(id).copied()
    }

    /// By identifier, else by name (a `ProdCounterpart` tag written by hand
    /// may hold the name, as the seed's example does).
    pub fn find(&self, t: &ResourceType, id_or_name: &str) -> Option<usize> {
        self.index_of(t, id_or_name)
            .or_else(|| self.by_name.get(t.as_str())?.get(id_or_name).copied())
    }
}

/// The environment changes are promoted from, and the one they go to.
#[derive(Clone, Debug)]
pub(crate) struct PromotionEnvs {
    pub dev: Environment,
    pub prod: Environment,
}

/// `arn:aws:iam::111111111111:policy/x` → `arn:aws:iam::policy/x`: an ARN
/// with its account left out; `None` for what is not an ARN.
fn without_account(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return None;
    }
    Some(format!(
        "arn:{}:{}:{}::{}",
        parts[1], parts[2], parts[3], parts[5]
    ))
}

/// How a dev resource stands towards prod.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Counterpart {
    /// No link: dev-only.
    None,
    /// The linked prod resource (its index in the prod inventory).
    Found {
        prod: usize,
        linked_by: &'static str,
    },
    /// A link to something prod does not have.
    Missing { expected: String },
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// Dev is the environment named `dev` (else the first whose `Environment`
    /// tag is `development`); prod likewise with `prod` / `production`.
    pub(crate) fn promotion_envs(&self) -> Result<PromotionEnvs, EngineError> {
        let (dev, prod) = self.config().promotion_envs()?;
        Ok(PromotionEnvs { dev, prod })
    }

    /// The types to read: one, or every supported type.
    pub(crate) fn types_for(
        &self,
        type_name: Option<&str>,
    ) -> Result<Vec<ResourceType>, EngineError> {
        Ok(match type_name {
            Some(t) => vec![self.schema(t)?.type_name.clone()],
            None => Catalog::builtin().types().into_iter().cloned().collect(),
        })
    }

    /// Which prod resource a dev resource is linked to: its
    /// `ProdCounterpart` tag; for types that cannot carry tags, the prod
    /// resource named by the naming convention.
    pub(crate) fn counterpart(
        &self,
        envs: &PromotionEnvs,
        item: &Item,
        prod: &Inventory,
    ) -> Counterpart {
        if let Some(link) = item
            .tags
            .get(tags::PROD_COUNTERPART)
            .filter(|l| !l.is_empty())
        {
            return match prod.find(&item.type_name, link) {
                Some(i) => Counterpart::Found {
                    prod: i,
                    linked_by: "tag",
                },
                None => Counterpart::Missing {
                    expected: link.clone(),
                },
            };
        }
        // A type that carries no tags links by name: the dev name with its
        // environment word renamed, or the same name (IAM policies are
        // named without one); in an ARN, whatever the account.
        let untaggable = schema_of(&item.type_name).is_none_or(|s| s.tagging == TagStyle::None);
        if untaggable {
            let renamed =
                crate::promote::rename_env(&item.identifier, &envs.dev.name, &envs.prod.name);
            for name in renamed.iter().chain(std::iter::once(&item.identifier)) {
                let found = prod.find(&item.type_name, name).or_else(|| {
                    let wanted = without_account(name)?;
                    prod.items.iter().position(|p| {
                        p.type_name == item.type_name
                            && without_account(&p.identifier).as_deref() == Some(wanted.as_str())
                    })
                });
                if let Some(i) = found {
                    return Counterpart::Found {
                        prod: i,
                        linked_by: "name",
                    };
                }
            }
        }
        Counterpart::None
    }

    /// Each dev item's counterpart, as [`Engine::classify`] links them
    /// (its own tag, its name, or the prod side's `DevCounterpart`).
    pub(crate) fn links(
        &self,
        envs: &PromotionEnvs,
        dev: &Inventory,
        prod: &Inventory,
    ) -> Vec<Counterpart> {
        let c = self.classify(envs, dev, prod);
        let mut links = vec![Counterpart::None; dev.items.len()];
        for (d, p, linked_by) in c.synced {
            links[d] = Counterpart::Found { prod: p, linked_by };
        }
        for (d, expected) in c.missing {
            links[d] = Counterpart::Missing { expected };
        }
        links
    }

    /// Sort both inventories into the four groups.
    pub(crate) fn classify(
        &self,
        envs: &PromotionEnvs,
        dev: &Inventory,
        prod: &Inventory,
    ) -> Classified {
        let mut out = Classified::default();
        let mut claimed = vec![false; prod.items.len()];
        for (i, item) in dev.items.iter().enumerate() {
            match self.counterpart(envs, item, prod) {
                Counterpart::None => out.dev_only.push(i),
                Counterpart::Found { prod: p, linked_by } => {
                    claimed[p] = true;
                    out.synced.push((i, p, linked_by));
                }
                Counterpart::Missing { expected } => out.missing.push((i, expected)),
            }
        }
        let mut dev_only = vec![false; dev.items.len()];
        for &d in &out.dev_only {
            dev_only[d] = true;
        }
        for (p, item) in prod.items.iter().enumerate() {
            if claimed[p] {
                continue;
            }
            let Some(src) = item.tags.get(DEV_COUNTERPART) else {
                out.prod_only.push(p);
                continue;
            };
            match dev.find(&item.type_name, src) {
                None => out.orphans.push((p, src.clone())),
                // Promoted from a dev resource whose tags never learned it
                // (its tag update waits for approval: a prod-only server
                // reads dev and does not write it; or the update failed).
                // The prod side's own tag records the promotion.
                Some(d) if dev_only[d] => {
                    dev_only[d] = false;
                    out.synced.push((d, p, "prod-tag"));
                }
                Some(_) => out.prod_only.push(p),
            }
        }
        out.dev_only.retain(|&d| dev_only[d]);
        out
    }

    /// The seed's sync check across every supported type (or one), read
    /// through list pages.
    pub fn sync_status(&self, type_name: Option<&str>) -> Result<SyncReport, EngineError> {
        let envs = self.promotion_envs()?;
        let types = self.types_for(type_name)?;
        let dev = Inventory::read_tags(self, &envs.dev.name, &types)?;
        let prod = Inventory::read_tags(self, &envs.prod.name, &types)?;
        let c = self.classify(&envs, &dev, &prod);
        Ok(sync_report(&envs, &dev, &prod, &c, type_name, types.len()))
    }
}

/// Indexes into the inventories, per group.
#[derive(Default, Debug)]
pub(crate) struct Classified {
    pub dev_only: Vec<usize>,
    /// (dev, prod, how linked)
    pub synced: Vec<(usize, usize, &'static str)>,
    /// Dev resources whose `ProdCounterpart` is not in prod.
    pub missing: Vec<(usize, String)>,
    pub prod_only: Vec<usize>,
    /// Prod resources promoted from a dev resource that no longer exists.
    pub orphans: Vec<(usize, String)>,
}

/// A resource by type and identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub type_name: String,
    pub identifier: String,
}

impl ResourceRef {
    pub(crate) fn of(item: &Item) -> ResourceRef {
        ResourceRef {
            type_name: item.type_name.to_string(),
            identifier: item.identifier.clone(),
        }
    }
}

/// A dev resource with no prod counterpart.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DevOnly {
    #[serde(rename = "type")]
    pub type_name: String,
    pub identifier: String,
    /// Its `PromotionStatus` tag (`dev-only`, `pending-prod`), if any.
    pub promotion_status: Option<String>,
    pub purpose: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncedPair {
    #[serde(rename = "type")]
    pub type_name: String,
    pub dev: String,
    pub prod: String,
    /// `tag` (dev's `ProdCounterpart`), `prod-tag` (the prod resource's
    /// `DevCounterpart`, while dev's tag update waits) or `name` (naming
    /// convention, for types that cannot carry tags).
    pub linked_by: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NeedsReview {
    #[serde(rename = "type")]
    pub type_name: String,
    /// The dev resource, when it exists.
    pub dev: Option<String>,
    /// The prod resource, when it exists.
    pub prod: Option<String>,
    /// The prod resource the dev tag names.
    pub expected_prod: Option<String>,
    pub reason: String,
}

/// What a read cost.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReadStats {
    pub types_read: usize,
    pub dev_resources: usize,
    pub prod_resources: usize,
    /// Cloud `list` calls made (one per page per type per environment).
    pub list_calls: u64,
    /// Cloud `get` calls made for list entries without properties (0 with
    /// the local cloud, whose pages carry them).
    pub get_calls: u64,
}

/// The seed's four groups; JSON keys `dev_only`, `prod_only`, `synced`,
/// `needs_review`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncReport {
    pub dev_env: String,
    pub prod_env: String,
    /// The type asked for, or `None` for every supported type.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    pub dev_only: Vec<DevOnly>,
    pub prod_only: Vec<ResourceRef>,
    pub synced: Vec<SyncedPair>,
    pub needs_review: Vec<NeedsReview>,
    pub stats: ReadStats,
}

impl SyncReport {
    /// Nothing waits for promotion and nothing needs a look.
    pub fn is_clean(&self) -> bool {
        self.dev_only.is_empty() && self.needs_review.is_empty()
    }
}

pub(crate) fn sync_report(
    envs: &PromotionEnvs,
    dev: &Inventory,
    prod: &Inventory,
    c: &Classified,
    type_name: Option<&str>,
    types_read: usize,
) -> SyncReport {
    let mut needs_review: Vec<NeedsReview> = c
        .missing
        .iter()
        .map(|(i, expected)| {
            let item = &dev.items[*i];
            NeedsReview {
                type_name: item.type_name.to_string(),
                dev: Some(item.identifier.clone()),
                prod: None,
                expected_prod: Some(expected.clone()),
                reason: format!(
                    "its ProdCounterpart tag names `{expected}`, which does not exist in {}: it was deleted or renamed there; promote again (`infraguard promote --type {} --id {}`) or correct the tag",
                    envs.prod.name, item.type_name, item.identifier
                ),
            }
        })
        .collect();
    needs_review.extend(c.orphans.iter().map(|(p, src)| {
        let item = &prod.items[*p];
        NeedsReview {
            type_name: item.type_name.to_string(),
            dev: None,
            prod: Some(item.identifier.clone()),
            expected_prod: None,
            reason: format!(
                "promoted from {} resource `{src}`, which no longer exists there: delete it from {} or recreate its source in {}",
                envs.dev.name, envs.prod.name, envs.dev.name
            ),
        }
    }));

    SyncReport {
        dev_env: envs.dev.name.clone(),
        prod_env: envs.prod.name.clone(),
        type_name: type_name.map(str::to_string),
        dev_only: c
            .dev_only
            .iter()
            .map(|&i| {
                let item = &dev.items[i];
                DevOnly {
                    type_name: item.type_name.to_string(),
                    identifier: item.identifier.clone(),
                    promotion_status: item.tags.get(tags::PROMOTION_STATUS).cloned(),
                    purpose: item.tags.get(tags::PURPOSE).cloned(),
                }
            })
            .collect(),
        prod_only: c
            .prod_only
            .iter()
            .map(|&p| ResourceRef::of(&prod.items[p]))
            .collect(),
        synced: c
            .synced
            .iter()
            .map(|&(i, p, by)| SyncedPair {
                type_name: dev.items[i].type_name.to_string(),
                dev: dev.items[i].identifier.clone(),
                prod: prod.items[p].identifier.clone(),
                linked_by: by.to_string(),
            })
            .collect(),
        needs_review,
        stats: ReadStats {
            types_read,
            dev_resources: dev.items.len(),
            prod_resources: prod.items.len(),
            list_calls: dev.list_calls + prod.list_calls,
            get_calls: dev.get_calls + prod.get_calls,
        },
    }
}

// ----- JSON pointers with `*` wildcards, as schemas write them ----------

/// RFC 6901 escaping of one pointer segment.
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

fn segments(pattern: &str) -> Vec<String> {
    pattern.split('/').skip(1).map(unescape).collect()
}

/// Every concrete pointer in `value` that `pattern` (`/A/*/B`) covers, with
/// its value.
pub(crate) fn resolve_pattern<'a>(value: &'a Value, pattern: &str) -> Vec<(String, &'a Value)> {
    let segs = segments(pattern);
    let mut out = Vec::new();
    walk_pattern(value, &segs, String::new(), &mut out);
    out
}

fn walk_pattern<'a>(v: &'a Value, segs: &[String], at: String, out: &mut Vec<(String, &'a Value)>) {
    let Some((first, rest)) = segs.split_first() else {
        out.push((at, v));
        return;
    };
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if first == "*" || first == k {
                    walk_pattern(child, rest, format!("{at}/{}", escape(k)), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                if first == "*" || *first == i.to_string() {
                    walk_pattern(child, rest, format!("{at}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

/// Remove everything `pattern` covers.
pub(crate) fn remove_pattern(value: &mut Value, pattern: &str) {
    let segs = segments(pattern);
    remove_walk(value, &segs);
}

fn remove_walk(v: &mut Value, segs: &[String]) {
    let Some((first, rest)) = segs.split_first() else {
        return;
    };
    match v {
        Value::Object(m) => {
            if rest.is_empty() {
                if first == "*" {
                    m.clear();
                } else {
                    m.remove(first);
                }
            } else {
                for (k, child) in m.iter_mut() {
                    if first == "*" || first == k {
                        remove_walk(child, rest);
                    }
                }
            }
        }
        Value::Array(a) => {
            if rest.is_empty() {
                // Removing array items by pattern would shift the others;
                // schemas never mark whole items read-only, so leave them.
                return;
            }
            for (i, child) in a.iter_mut().enumerate() {
                if first == "*" || *first == i.to_string() {
                    remove_walk(child, rest);
                }
            }
        }
        _ => {}
    }
}

/// Set `value` at a concrete pointer, creating missing objects on the way.
/// Returns false when a non-container stands in the way.
pub(crate) fn set_pointer(doc: &mut Value, pointer: &str, value: Value) -> bool {
    let segs = segments(pointer);
    let Some((last, parents)) = segs.split_last() else {
        *doc = value;
        return true;
    };
    let mut cur = doc;
    for s in parents {
        cur = match cur {
            Value::Object(m) => m
                .entry(s.clone())
                .or_insert_with(|| Value::Object(Default::default())),
            Value::Array(a) => match s.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(c) => c,
                None => return false,
            },
            _ => return false,
        };
    }
    match cur {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            true
        }
        Value::Array(a) => match last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// The properties without what the cloud generates (read-only properties).
pub(crate) fn without_read_only(schema: &ResourceSchema, props: &Value) -> Value {
    let mut out = props.clone();
    for p in &schema.read_only {
        remove_pattern(&mut out, p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_resolve_and_remove_through_wildcards() {
        let v = json!({"A": [{"B": 1, "C": 2}, {"B": 3}], "D": {"x/y": 4}});
        let found: Vec<String> = resolve_pattern(&v, "/A/*/B")
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(found, ["/A/0/B", "/A/1/B"]);
        assert_eq!(resolve_pattern(&v, "/D/x~1y")[0].0, "/D/x~1y");
        let mut w = v.clone();
        remove_pattern(&mut w, "/A/*/B");
        assert_eq!(w["A"], json!([{"C": 2}, {}]));
        remove_pattern(&mut w, "/D");
        assert!(w.get("D").is_none());
    }

    #[test]
    fn an_entry_with_only_the_identifier_needs_a_read() {
        let bucket = schema_of(&ResourceType::new("AWS::S3::Bucket").unwrap()).unwrap();
        assert!(identifier_only(bucket, &json!({"BucketName": "b"})));
        assert!(!identifier_only(
            bucket,
            &json!({"BucketName": "b", "Tags": []})
        ));
        assert!(!identifier_only(
            bucket,
            &json!({"BucketName": "b", "Arn": "arn:aws:s3:::b"})
        ));
    }

    #[test]
    fn set_pointer_creates_objects_and_refuses_scalars() {
        let mut v = json!({"Code": {}});
        assert!(set_pointer(&mut v, "/Code/ZipFile", json!("x")));
        assert!(set_pointer(&mut v, "/New/Deep", json!(1)));
        assert_eq!(v, json!({"Code": {"ZipFile": "x"}, "New": {"Deep": 1}}));
        let mut s = json!({"A": 1});
        assert!(!set_pointer(&mut s, "/A/B", json!(2)));
    }
}
