//! The per-type registry: what infraguard knows about each supported
//! resource type that its schema does not say.
//!
//! A schema document says which properties exist and how they behave; it does
//! not say which one is "the name", whether the type can be protected from
//! deletion, how to keep a copy of its data, or which safe settings a careful
//! engineer adds on create. Each [`TypeEntry`] says that, once, for one type,
//! and every crate asks here: `distill` (the name property of a
//! [`ResourceSchema`](infraguard_core::ResourceSchema)), the policy crate's
//! naming rules, and the engine's deletion guard and secure defaults.
//!
//! Entries live in one file per service family (`storage`, `rds`,
//! `security`, …), as the cost crate's models do. Whether a type holds data
//! ([`is_stateful`]) is reference data, not an entry field: cfn-lint's list in
//! `data/stateful-resources.json`, which also covers types outside the
//! catalog, because the policy crate scans templates of any type.
//!
//! # Adding a type
//!
//! Add its stripped schema (`scripts/strip_schemas.py`), then one
//! `TypeEntry` in the service file it belongs to (a new file needs a line in
//! `FAMILIES`). The tests below fail until every catalog type has exactly
//! one entry, and check every property an entry names against the type's
//! schema.

mod compute;
mod edge;
mod messaging;
mod monitoring;
mod network;
mod rds;
mod security;
mod storage;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Value, json};

/// What infraguard knows about one resource type beyond its schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeEntry {
    /// `AWS::S3::Bucket`: a type of the catalog.
    pub type_name: &'static str,
    /// The property a user sets to choose the resource's name, and the
    /// naming convention it follows. `None` when there is no such property
    /// (a KMS key, a VPC) or when something outside dictates the name (an
    /// SES identity is an address, an Amplify branch a git branch), where a
    /// convention must not apply.
    pub name: Option<Name>,
    /// Whether the type can be protected from deletion, and how to keep a
    /// copy of its data before a delete.
    pub deletion: Deletion,
    /// Settings added on create when the user did not give the property.
    pub secure_defaults: &'static [SecureDefault],
}

/// A type's user-choosable name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name {
    /// The property path from the top, segments joined by `/`:
    /// `BucketName`, or `Template/TemplateName` when the name sits inside an
    /// object property.
    pub path: &'static str,
    pub convention: Convention,
}

/// Which naming convention a type's name follows. The policy crate holds
/// what each convention is; the registry says which one applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convention {
    /// `{prefix}-{purpose}-{env}`: most resources.
    Resource,
    /// `{prefix}-{words}`: IAM users, roles and groups.
    Principal,
    /// `{prefix}/{purpose}`: Secrets Manager secrets.
    Secret,
    /// `{IamPrefix}-{Service}-{Actions}`: IAM policies.
    IamPolicy,
}

impl Name {
    pub const fn resource(path: &'static str) -> Name {
        Name {
            path,
            convention: Convention::Resource,
        }
    }

    pub const fn principal(path: &'static str) -> Name {
        Name {
            path,
            convention: Convention::Principal,
        }
    }

    pub const fn secret(path: &'static str) -> Name {
        Name {
            path,
            convention: Convention::Secret,
        }
    }

    pub const fn iam_policy(path: &'static str) -> Name {
        Name {
            path,
            convention: Convention::IamPolicy,
        }
    }

    /// The path's segments: `["Template", "TemplateName"]`.
    pub fn segments(&self) -> Vec<&'static str> {
        self.path.split('/').collect()
    }

    /// The property itself when it is a top-level one (what
    /// [`ResourceSchema::name_property`](infraguard_core::ResourceSchema)
    /// holds); `None` for a name inside an object.
    pub fn top_level(&self) -> Option<&'static str> {
        (!self.path.contains('/')).then_some(self.path)
    }
}

/// How deleting a type can be guarded and its data kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deletion {
    /// The switch that makes the service refuse a delete, if the type has one.
    pub protection: Option<Protection>,
    /// A command that keeps a copy of the data before a delete, with `{id}`
    /// for the resource's identifier. Cloud Control takes no snapshot.
    pub snapshot: Option<&'static str>,
}

impl Deletion {
    /// Nothing to guard and no copy to suggest.
    pub const NONE: Deletion = Deletion {
        protection: None,
        snapshot: None,
    };

    /// How to keep a copy of the data of resource `id` before deleting it.
    pub fn snapshot_hint(&self, id: &str) -> String {
        match self.snapshot {
            Some(command) => format!("take one first: `{}`", command.replace("{id}", id)),
            None => "copy what you need first".into(),
        }
    }
}

/// A deletion-protection property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    /// The top-level property: `DeletionProtection`.
    pub property: &'static str,
    pub switch: Switch,
    /// A property whose presence (not null, not blank) means the switch
    /// does not apply: an RDS
    /// instance in a cluster (`DBClusterIdentifier`) is protected by the
    /// cluster, and AWS deletes it even with its own switch on.
    pub not_when_given: Option<&'static str>,
}

/// The values of a deletion-protection property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    /// `true` is on (also written as the string `"true"`).
    Bool,
    /// A string enum (Cognito's `ACTIVE` / `INACTIVE`).
    Enum { on: &'static str, off: &'static str },
}

impl Protection {
    /// Whether `props` (a resource's properties) have the protection on.
    pub fn is_on(&self, props: &Value) -> bool {
        let given = |p: &str| match props.get(p) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        };
        if self.not_when_given.is_some_and(given) {
            return false;
        }
        match (self.switch, props.get(self.property)) {
            (Switch::Bool, Some(Value::Bool(b))) => *b,
            (Switch::Bool, Some(Value::String(s))) => s.eq_ignore_ascii_case("true"),
            (Switch::Enum { on, .. }, Some(Value::String(s))) => s == on,
            _ => false,
        }
    }

    /// The value that turns the protection on.
    pub fn on(&self) -> Value {
        match self.switch {
            Switch::Bool => json!(true),
            Switch::Enum { on, .. } => json!(on),
        }
    }

    /// The value that turns the protection off.
    pub fn off(&self) -> Value {
        match self.switch {
            Switch::Bool => json!(false),
            Switch::Enum { off, .. } => json!(off),
        }
    }
}

/// A top-level property set on create when the user did not give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecureDefault {
    pub property: &'static str,
    /// The value, as JSON text (a test parses every one and validates it
    /// against the type's schema).
    pub value: &'static str,
    /// What the plan's explanation says about it.
    pub note: &'static str,
}

impl SecureDefault {
    /// The value as JSON. `Null` only if the text is broken, which the
    /// registry's tests rule out.
    pub fn value(&self) -> Value {
        serde_json::from_str(self.value).unwrap_or(Value::Null)
    }
}

/// Every service family's entries.
const FAMILIES: &[&[TypeEntry]] = &[
    compute::ENTRIES,
    edge::ENTRIES,
    messaging::ENTRIES,
    monitoring::ENTRIES,
    network::ENTRIES,
    rds::ENTRIES,
    security::ENTRIES,
    storage::ENTRIES,
];

/// Every entry, family by family.
pub fn entries() -> impl Iterator<Item = &'static TypeEntry> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

/// The entry of `type_name`, if it is a registered type.
pub fn entry(type_name: &str) -> Option<&'static TypeEntry> {
    entries().find(|e| e.type_name == type_name)
}

/// The user-choosable name of `type_name`, if it has one.
pub fn name(type_name: &str) -> Option<Name> {
    entry(type_name).and_then(|e| e.name)
}

/// The deletion facts of `type_name`; [`Deletion::NONE`] for a type the
/// registry does not know.
pub fn deletion(type_name: &str) -> Deletion {
    entry(type_name).map(|e| e.deletion).unwrap_or_default()
}

/// The secure defaults of `type_name` (none for an unknown type).
pub fn secure_defaults(type_name: &str) -> &'static [SecureDefault] {
    entry(type_name).map(|e| e.secure_defaults).unwrap_or(&[])
}

const STATEFUL: &str = include_str!("../../data/stateful-resources.json");

/// Whether a resource type holds data that deleting it would lose, from
/// cfn-lint's stateful-resources list (Apache-2.0, copied as it is). Any
/// type name may be asked, in the catalog or not: templates name others.
pub fn is_stateful(type_name: &str) -> bool {
    #[derive(Deserialize)]
    struct File {
        #[serde(rename = "ResourceTypes")]
        resource_types: std::collections::BTreeMap<String, Value>,
    }
    static TYPES: OnceLock<BTreeSet<String>> = OnceLock::new();
    TYPES
        .get_or_init(|| {
            serde_json::from_str::<File>(STATEFUL)
                .map(|f| f.resource_types.into_keys().collect())
                .unwrap_or_default()
        })
        .contains(type_name)
}

impl TypeEntry {
    /// Whether the type holds data ([`is_stateful`]).
    pub fn stateful(&self) -> bool {
        is_stateful(self.type_name)
    }
}

#[cfg(test)]
mod tests;
