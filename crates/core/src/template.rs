//! A CloudFormation template held as JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::resource::ResourceType;

/// A CloudFormation template (`AWSTemplateFormatVersion`, `Resources`, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Template(pub Value);

/// One entry of a template's `Resources`.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateResource<'a> {
    pub logical_id: &'a str,
    /// The `Type` string as written (not validated).
    pub type_name: &'a str,
    /// `Properties`, or `Value::Null` when absent.
    pub properties: &'a Value,
    /// The whole resource entry (`Type`, `Properties`, `Metadata`, `DeletionPolicy`, ...).
    pub entry: &'a Value,
}

impl Template {
    /// A template holding one resource.
    pub fn single(
        logical_id: &str,
        type_name: &ResourceType,
        properties: &Value,
        description: &str,
        deletion_policy: Option<&str>,
    ) -> Self {
        let mut resource = Map::new();
        resource.insert("Type".into(), json!(type_name.as_str()));
        if let Some(policy) = deletion_policy {
            resource.insert("DeletionPolicy".into(), json!(policy));
            resource.insert("UpdateReplacePolicy".into(), json!(policy));
        }
        resource.insert("Properties".into(), properties.clone());
        Template(json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": description,
            "Resources": { logical_id: Value::Object(resource) }
        }))
    }

    /// The template's resources in document order (sorted by logical id when
    /// the JSON map does not keep order).
    pub fn resources(&self) -> Vec<TemplateResource<'_>> {
        let Some(resources) = self.0.get("Resources").and_then(Value::as_object) else {
            return Vec::new();
        };
        resources
            .iter()
            .map(|(id, entry)| TemplateResource {
                logical_id: id,
                type_name: entry.get("Type").and_then(Value::as_str).unwrap_or(""),
                properties: entry.get("Properties").unwrap_or(&Value::Null),
                entry,
            })
            .collect()
    }

    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(&self.0).unwrap_or_default()
    }
}

/// A logical id for a resource from its type and purpose: `DocumentsBucket`.
pub fn logical_id(type_name: &ResourceType, purpose: Option<&str>) -> String {
    let mut id = String::new();
    if let Some(purpose) = purpose {
        for word in purpose.split(|c: char| !c.is_ascii_alphanumeric()) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                id.push(first.to_ascii_uppercase());
                id.extend(chars);
            }
        }
    }
    id.push_str(type_name.resource());
    if id.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        id.insert(0, 'R');
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_resource_template_lists_its_resource() {
        let t = ResourceType::new("AWS::S3::Bucket").unwrap();
        let tpl = Template::single(
            "DocumentsBucket",
            &t,
            &json!({"BucketName": "b"}),
            "d",
            None,
        );
        let rs = tpl.resources();
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0].type_name, "AWS::S3::Bucket");
        assert_eq!(rs[0].properties["BucketName"], "b");
    }

    #[test]
    fn logical_ids_are_camel_cased_from_purpose() {
        let t = ResourceType::new("AWS::S3::Bucket").unwrap();
        assert_eq!(
            logical_id(&t, Some("user documents")),
            "UserDocumentsBucket"
        );
        assert_eq!(logical_id(&t, None), "Bucket");
    }
}
