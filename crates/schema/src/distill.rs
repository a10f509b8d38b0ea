//! Turning a CloudFormation resource schema document into a [`ResourceSchema`].
//!
//! The document is the registry's JSON (as embedded in `data/`, or as
//! CloudFormation `DescribeType` returns it); the result is the flat summary
//! the rest of infraguard works with. Nested structure stays in the document
//! and is used by [`crate::validate`].

use infraguard_core::{Handlers, ResourceSchema, ResourceType, TagStyle};
use serde_json::{Map, Value};

use crate::SchemaError;

/// How deep `$ref` chains are followed before giving up. The schemas nest
/// about six levels; a loop (a definition referring to itself) must not hang.
pub(crate) const MAX_REF_DEPTH: usize = 32;

/// The user-choosable name property of `type_name`: the registry's name
/// when it is a top-level property the schema declares. A name inside an
/// object (SES::Template's `Template/TemplateName`) is not one, since
/// [`ResourceSchema::name_property`] is read as a top-level key.
fn name_property(type_name: &str, properties: &Map<String, Value>) -> Option<String> {
    crate::registry::name(type_name)
        .and_then(|n| n.top_level())
        .filter(|p| properties.contains_key(*p))
        .map(str::to_string)
}

/// Build the [`ResourceSchema`] summary of one schema document.
pub fn schema_from_document(document: &Value) -> Result<ResourceSchema, SchemaError> {
    let raw_name = document
        .get("typeName")
        .and_then(Value::as_str)
        .unwrap_or("<no typeName>");
    let internal = |reason: String| SchemaError::Internal {
        type_name: raw_name.to_string(),
        reason,
    };
    let type_name = ResourceType::new(raw_name).map_err(|e| internal(e.to_string()))?;
    let properties = document
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| internal("it has no `properties` object".into()))?;

    let pointers = |key: &str| -> Result<Vec<String>, SchemaError> {
        match document.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(strip_properties_prefix)
                        .ok_or_else(|| internal(format!("`{key}` holds a non-string entry {v}")))
                })
                .collect(),
            Some(other) => Err(internal(format!("`{key}` is not a list but {other}"))),
        }
    };
    let primary_identifier = pointers("primaryIdentifier")?;
    if primary_identifier.is_empty() {
        return Err(internal("it has no `primaryIdentifier`".into()));
    }
    let required = match document.get("required") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| internal(format!("`required` holds a non-string entry {v}")))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(internal(format!("`required` is not a list but {other}"))),
    };

    let mut props: Vec<(String, String)> = properties
        .iter()
        .map(|(name, schema)| (name.clone(), json_type(document, schema)))
        .collect();
    props.sort();

    Ok(ResourceSchema {
        primary_identifier,
        read_only: pointers("readOnlyProperties")?,
        create_only: pointers("createOnlyProperties")?,
        write_only: pointers("writeOnlyProperties")?,
        required,
        tagging: tag_style(document, properties).map_err(internal)?,
        properties: props,
        // The registry's default is `true` (plain JSON Schema), though every
        // schema we ship says `false` explicitly.
        additional_properties: document
            .get("additionalProperties")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        name_property: name_property(type_name.as_str(), properties),
        handlers: handlers(document),
        type_name,
    })
}

/// The `permissions` of one handler (`create`, `read`, `update`, `delete`,
/// `list`) of a schema document; none when it is missing or malformed.
pub fn handler_permissions(document: &Value, handler: &str) -> Vec<String> {
    document
        .pointer(&format!("/handlers/{handler}/permissions"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The `permissions` of each handler the schema declares; a handler or
/// list that is missing or malformed gives no permissions.
fn handlers(document: &Value) -> Handlers {
    let of = |op: &str| handler_permissions(document, op);
    Handlers {
        create: of("create"),
        read: of("read"),
        update: of("update"),
        delete: of("delete"),
        list: of("list"),
    }
}

/// `/properties/BucketName` → `/BucketName`. Pointers outside `/properties`
/// (none in the shipped schemas) are kept as written.
fn strip_properties_prefix(pointer: &str) -> String {
    match pointer.strip_prefix("/properties") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.to_string(),
        _ => pointer.to_string(),
    }
}

/// Follow a local `$ref` inside `document`: `#/definitions/Tag`, or
/// `resource-schema.json#/properties/AppId`, the registry's name for the
/// document itself (used by list-handler schemas).
pub(crate) fn resolve_ref<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    let local = reference
        .strip_prefix("resource-schema.json")
        .unwrap_or(reference);
    document.pointer(local.strip_prefix('#')?)
}

/// Follow `$ref`s from `schema` until reaching a schema without one.
pub(crate) fn resolved<'a>(document: &'a Value, mut schema: &'a Value) -> Option<&'a Value> {
    for _ in 0..MAX_REF_DEPTH {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => schema = resolve_ref(document, r)?,
            None => return Some(schema),
        }
    }
    None
}

/// The single JSON type a property schema allows, or `any`.
fn json_type(document: &Value, schema: &Value) -> String {
    json_type_at(document, schema, 0).unwrap_or_else(|| "any".to_string())
}

fn json_type_at(document: &Value, schema: &Value, depth: usize) -> Option<String> {
    if depth > MAX_REF_DEPTH {
        return None;
    }
    let schema = resolved(document, schema)?;
    match schema.get("type") {
        Some(Value::String(t)) => return Some(t.clone()),
        Some(Value::Array(ts)) if ts.len() == 1 => return ts[0].as_str().map(str::to_string),
        Some(_) => return None,
        None => {}
    }
    // No `type` of its own: the branches decide, but only if they agree.
    let branches = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)?;
    let mut types = branches
        .iter()
        .map(|b| json_type_at(document, b, depth + 1));
    let first = types.next()??;
    types.all(|t| t.as_deref() == Some(&first)).then_some(first)
}

/// Where tags go, from `tagging.tagProperty` and that property's shape.
fn tag_style(document: &Value, properties: &Map<String, Value>) -> Result<TagStyle, String> {
    // Older schemas (IAM::Policy) carry a bare top-level `taggable` instead of
    // a `tagging` block.
    let tagging = document.get("tagging");
    let taggable = tagging
        .and_then(|t| t.get("taggable"))
        .or_else(|| document.get("taggable"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !taggable {
        return Ok(TagStyle::None);
    }
    let name = match tagging
        .and_then(|t| t.get("tagProperty"))
        .and_then(Value::as_str)
    {
        Some(pointer) => strip_properties_prefix(pointer)
            .trim_start_matches('/')
            .to_string(),
        // Taggable without saying where: CloudFormation's convention is `Tags`.
        None if properties.contains_key("Tags") => "Tags".to_string(),
        None => return Err("it is taggable but names no tag property".into()),
    };
    let schema = properties
        .get(&name)
        .ok_or_else(|| format!("its tag property `{name}` is not among its properties"))?;
    let schema = resolved(document, schema)
        .ok_or_else(|| format!("the `$ref` of tag property `{name}` does not resolve"))?;
    let has_type = |t: &str| match schema.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(ts)) => ts.iter().any(|x| x == t),
        _ => false,
    };
    if has_type("array") || schema.get("items").is_some() {
        Ok(TagStyle::List(name))
    } else if has_type("object")
        || schema.get("patternProperties").is_some()
        || schema.get("additionalProperties").is_some()
    {
        Ok(TagStyle::Map(name))
    } else {
        Err(format!(
            "its tag property `{name}` is neither a list nor a map"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "typeName": "AWS::Test::Thing",
            "additionalProperties": false,
            "definitions": {
                "Tag": {"type": "object", "properties": {"Key": {"type": "string"}, "Value": {"type": "string"}}},
                "Conf": {"$ref": "#/definitions/Conf2"},
                "Conf2": {"type": "object"},
                "Loop": {"$ref": "#/definitions/Loop"}
            },
            "properties": {
                "Name": {"type": "string"},
                "Conf": {"$ref": "#/definitions/Conf"},
                "Mixed": {"type": ["object", "string"]},
                "Either": {"oneOf": [{"type": "string"}, {"type": "string"}]},
                "Loopy": {"$ref": "#/definitions/Loop"},
                "Arn": {"type": "string"},
                "Tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}}
            },
            "required": ["Name"],
            "primaryIdentifier": ["/properties/Arn"],
            "readOnlyProperties": ["/properties/Arn"],
            "createOnlyProperties": ["/properties/Name"],
            "tagging": {"taggable": true, "tagProperty": "/properties/Tags"}
        })
    }

    #[test]
    fn distils_identifiers_types_and_tags() {
        let s = schema_from_document(&doc()).unwrap();
        assert_eq!(s.type_name.as_str(), "AWS::Test::Thing");
        assert_eq!(s.primary_identifier, ["/Arn"]);
        assert_eq!(s.read_only, ["/Arn"]);
        assert_eq!(s.create_only, ["/Name"]);
        assert!(s.write_only.is_empty());
        assert_eq!(s.required, ["Name"]);
        assert_eq!(s.tagging, TagStyle::List("Tags".into()));
        assert!(!s.additional_properties);
        assert_eq!(s.property_type("Conf"), Some("object"));
        assert_eq!(s.property_type("Mixed"), Some("any"));
        assert_eq!(s.property_type("Either"), Some("string"));
        assert_eq!(s.property_type("Loopy"), Some("any"));
        assert_eq!(s.property_type("Tags"), Some("array"));
        // Not a registered type.
        assert_eq!(s.name_property, None);
    }

    #[test]
    fn map_tags_and_untaggable_types() {
        let mut d = doc();
        d["properties"]["Tags"] =
            json!({"type": "object", "patternProperties": {".*": {"type": "string"}}});
        assert_eq!(
            schema_from_document(&d).unwrap().tagging,
            TagStyle::Map("Tags".into())
        );
        d["tagging"] = json!({"taggable": false});
        assert_eq!(schema_from_document(&d).unwrap().tagging, TagStyle::None);
        d.as_object_mut().unwrap().remove("tagging");
        d["taggable"] = json!(false);
        assert_eq!(schema_from_document(&d).unwrap().tagging, TagStyle::None);
    }

    #[test]
    fn broken_documents_are_internal_errors_naming_the_type() {
        let mut d = doc();
        d.as_object_mut().unwrap().remove("properties");
        let err = schema_from_document(&d).unwrap_err();
        assert!(
            matches!(&err, SchemaError::Internal { type_name, .. } if type_name == "AWS::Test::Thing")
        );

        let mut d = doc();
        d["primaryIdentifier"] = json!([]);
        assert!(schema_from_document(&d).is_err());

        let mut d = doc();
        d["tagging"]["tagProperty"] = json!("/properties/Nope");
        let err = schema_from_document(&d).unwrap_err();
        assert!(err.to_string().contains("`Nope`"), "{err}");

        assert!(schema_from_document(&json!({"typeName": "nope"})).is_err());
        assert!(schema_from_document(&json!(null)).is_err());
    }

    #[test]
    fn refs_resolve_locally_and_to_the_document_itself() {
        let d = doc();
        assert_eq!(
            resolve_ref(&d, "#/definitions/Conf2"),
            Some(&json!({"type": "object"}))
        );
        assert_eq!(
            resolve_ref(&d, "resource-schema.json#/properties/Name"),
            Some(&json!({"type": "string"}))
        );
        assert_eq!(resolve_ref(&d, "other.json#/properties/Name"), None);
        assert_eq!(resolve_ref(&d, "#/definitions/Nope"), None);
        assert_eq!(resolved(&d, &json!({"$ref": "#/definitions/Loop"})), None);
    }

    #[test]
    fn prefix_stripping_keeps_foreign_pointers() {
        assert_eq!(strip_properties_prefix("/properties/A/B"), "/A/B");
        assert_eq!(strip_properties_prefix("/propertiesX"), "/propertiesX");
        assert_eq!(strip_properties_prefix("/definitions/A"), "/definitions/A");
    }
}
