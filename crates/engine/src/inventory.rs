//! One environment's resources as its list pages returned them
//! (`Inventory`), shared by sync, promotion and drift.
//!
//! Every resource of both environments is read through `list` pages, which
//! carry properties (and so tags) with Cloud Control: one call per page, not
//! one `get` per resource. Only an entry that carries nothing but its
//! identifier (real AWS lists some types that way) is read with `get`, and
//! the inventory counts those calls. Also here: which environments are dev
//! and prod (`PromotionEnvs`), which types a run reads, and the
//! JSON-pointer helpers (with the schemas' `*` wildcards) that promotion
//! and drift both need.
//!
//! Not here: how dev and prod resources are paired and grouped (`sync`),
//! how dev properties become prod ones (`promote`), property comparison
//! (`drift`).

use std::collections::{BTreeMap, HashMap};

use infraguard_core::cloud::Cloud;
use infraguard_core::env::Environment;
use infraguard_core::resource::ResourceType;
use infraguard_core::schema::{ResourceSchema, TagStyle};
use infraguard_core::store::Store;
use infraguard_schema::Catalog;
use serde_json::Value;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::tags;

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
