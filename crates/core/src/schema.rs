//! What infraguard knows about one resource type, distilled from its
//! CloudFormation resource schema.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pointer::pointer_under;
use crate::resource::ResourceType;

/// Where a type keeps its tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "style", content = "property", rename_all = "snake_case")]
pub enum TagStyle {
    /// A list of `{"Key": …, "Value": …}` objects under this property (`Tags`).
    List(String),
    /// A string-to-string map under this property (`UserPoolTags`).
    Map(String),
    /// The type cannot be tagged.
    None,
}

impl TagStyle {
    pub fn property(&self) -> Option<&str> {
        match self {
            TagStyle::List(p) | TagStyle::Map(p) => Some(p),
            TagStyle::None => None,
        }
    }
}

/// Property paths are JSON pointers relative to the resource's properties
/// (`/BucketName`, `/LifecycleConfiguration/Rules/*/Transition`), i.e. the
/// schema's `/properties/...` with the `/properties` prefix removed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceSchema {
    pub type_name: ResourceType,
    pub primary_identifier: Vec<String>,
    pub read_only: Vec<String>,
    pub create_only: Vec<String>,
    pub write_only: Vec<String>,
    /// Top-level properties that must be present on create.
    pub required: Vec<String>,
    pub tagging: TagStyle,
    /// Top-level property names and their JSON type (`string`, `object`,
    /// `array`, `integer`, `boolean`, `number`, or `any` when the schema allows
    /// several).
    pub properties: Vec<(String, String)>,
    /// Whether properties outside `properties` are rejected.
    pub additional_properties: bool,
    /// The property that holds the resource's name, when it has one the user
    /// may choose (`BucketName`, `FunctionName`, ...).
    pub name_property: Option<String>,
    /// The IAM actions each handler needs (`create`, `read`, `update`,
    /// `delete`, `list`), from the schema's `handlers.<op>.permissions`:
    /// what a session allowed to make one change must hold.
    #[serde(default, skip_serializing_if = "Handlers::is_empty")]
    pub handlers: Handlers,
}

/// The handler permissions of a type, per handler.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Handlers {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub list: Vec<String>,
}

impl Handlers {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.read.is_empty()
            && self.update.is_empty()
            && self.delete.is_empty()
            && self.list.is_empty()
    }

    /// The permissions of the handler that carries out `operation`.
    pub fn for_operation(&self, operation: crate::resource::Operation) -> &[String] {
        use crate::resource::Operation;
        match operation {
            Operation::Create => &self.create,
            Operation::Update => &self.update,
            Operation::Delete => &self.delete,
        }
    }
}

impl ResourceSchema {
    /// The JSON type of a top-level property, if the schema declares it.
    pub fn property_type(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    }

    pub fn has_property(&self, name: &str) -> bool {
        self.property_type(name).is_some()
    }

    /// Whether a JSON pointer into the properties falls under one of `paths`
    /// (which may hold `*` for any array index or key).
    pub fn pointer_matches(paths: &[String], pointer: &str) -> bool {
        paths.iter().any(|p| pointer_under(p, pointer))
    }

    pub fn is_read_only(&self, pointer: &str) -> bool {
        Self::pointer_matches(&self.read_only, pointer)
    }

    pub fn is_create_only(&self, pointer: &str) -> bool {
        Self::pointer_matches(&self.create_only, pointer)
    }

    /// The primary identifier of a resource built from its properties, the
    /// way Cloud Control joins compound identifiers (with `|`).
    pub fn identifier_of(&self, properties: &Value) -> Option<String> {
        let mut parts = Vec::with_capacity(self.primary_identifier.len());
        for p in &self.primary_identifier {
            match properties.pointer(p)? {
                Value::String(s) => parts.push(s.clone()),
                Value::Number(n) => parts.push(n.to_string()),
                _ => return None,
            }
        }
        Some(parts.join("|"))
    }
}
