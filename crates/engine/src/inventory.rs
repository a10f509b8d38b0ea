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
use infraguard_core::pointer;
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

/// The properties without what the cloud generates (read-only properties).
pub(crate) fn without_read_only(schema: &ResourceSchema, props: &Value) -> Value {
    let mut out = props.clone();
    for p in &schema.read_only {
        pointer::remove_all(&mut out, p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
