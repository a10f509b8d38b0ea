//! The tag standard: which tags every resource carries, and how they are
//! written into a type's tag property (a Key/Value list or a map).

use std::collections::BTreeMap;

use infraguard_core::pointer;
use infraguard_core::schema::TagStyle;
use serde_json::{Map, Value, json};

/// Tracking tag keys the seed reads.
pub const ENVIRONMENT: &str = "Environment";
pub const PROMOTION_STATUS: &str = "PromotionStatus";
pub const PROD_COUNTERPART: &str = "ProdCounterpart";
pub const COST_ESTIMATE: &str = "CostEstimate";
pub const PURPOSE: &str = "Purpose";
pub const CREATED_BY: &str = "CreatedBy";
pub const CREATED_DATE: &str = "CreatedDate";
pub const MCP_SERVER_VERSION: &str = "MCP_SERVER_VERSION";

/// Read a resource's tags whatever the style.
pub fn read(properties: &Value, style: &TagStyle) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match style {
        TagStyle::List(p) => {
            if let Some(list) = properties.get(p).and_then(Value::as_array) {
                for t in list {
                    if let (Some(k), Some(v)) = (
                        t.get("Key").and_then(Value::as_str),
                        t.get("Value").and_then(Value::as_str),
                    ) {
                        out.insert(k.to_string(), v.to_string());
                    }
                }
            }
        }
        TagStyle::Map(p) => {
            if let Some(map) = properties.get(p).and_then(Value::as_object) {
                for (k, v) in map {
                    if let Some(v) = v.as_str() {
                        out.insert(k.clone(), v.to_string());
                    }
                }
            }
        }
        TagStyle::None => {}
    }
    out
}

/// Write `standard` into the properties' tag property, keeping the user's
/// other tags. Standard keys win: an `Environment` tag saying `production` on
/// a dev resource would mislead every report that reads it. Returns the keys
/// whose user value was replaced.
pub fn apply(
    properties: &mut Value,
    style: &TagStyle,
    standard: &BTreeMap<String, String>,
) -> Vec<String> {
    let Some(prop) = style.property() else {
        return Vec::new();
    };
    let mut merged = read(properties, style);
    let mut replaced = Vec::new();
    for (k, v) in standard {
        if let Some(old) = merged.insert(k.clone(), v.clone())
            && old != *v
        {
            replaced.push(k.clone());
        }
    }
    let value = match style {
        TagStyle::List(_) => Value::Array(
            merged
                .into_iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect(),
        ),
        TagStyle::Map(_) => Value::Object(
            merged
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect::<Map<_, _>>(),
        ),
        TagStyle::None => return replaced,
    };
    if let Some(obj) = properties.as_object_mut() {
        obj.insert(prop.to_string(), value);
    }
    replaced
}

/// Write each of `defaults` whose key the properties' tags do not have yet;
/// the user's values stay. Returns the keys written.
pub fn apply_defaults(
    properties: &mut Value,
    style: &TagStyle,
    defaults: &BTreeMap<String, String>,
) -> Vec<String> {
    let present = read(properties, style);
    let missing: BTreeMap<String, String> = defaults
        .iter()
        .filter(|(k, _)| !present.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    apply(properties, style, &missing);
    missing.into_keys().collect()
}

/// The RFC 6902 operation that sets the whole tag property to `tags`.
pub fn patch_op(
    properties: &Value,
    style: &TagStyle,
    tags: &BTreeMap<String, String>,
) -> Option<Value> {
    let prop = style.property()?;
    let mut scratch = json!({});
    apply(&mut scratch, style, tags);
    let op = if properties.get(prop).is_some() {
        "replace"
    } else {
        "add"
    };
    Some(json!({"op": op, "path": format!("/{prop}"), "value": scratch[prop].clone()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_tags() -> BTreeMap<String, String> {
        [("Environment", "development"), ("Project", "SynthCore")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn list_style_merges_and_standard_wins() {
        let mut p = json!({"Tags": [{"Key": "Team", "Value": "docs"}, {"Key": "Environment", "Value": "production"}]});
        let replaced = apply(&mut p, &TagStyle::List("Tags".into()), &std_tags());
        assert_eq!(replaced, vec!["Environment".to_string()]);
        let tags = read(&p, &TagStyle::List("Tags".into()));
        assert_eq!(tags["Team"], "docs");
        assert_eq!(tags["Environment"], "development");
        assert_eq!(tags.len(), 3);
    }

    #[test]
    fn map_style_writes_an_object() {
        let mut p = json!({});
        apply(&mut p, &TagStyle::Map("UserPoolTags".into()), &std_tags());
        assert_eq!(p["UserPoolTags"]["Project"], "SynthCore");
    }

    #[test]
    fn untaggable_types_are_left_alone() {
        let mut p = json!({"A": 1});
        apply(&mut p, &TagStyle::None, &std_tags());
        assert_eq!(p, json!({"A": 1}));
    }
}

/// The seed writes tag changes as map paths (`/Tags/PromotionStatus`) even
/// where a type keeps its tags as a Key/Value list, which RFC 6902 cannot
/// address by key. Such operations are rewritten into one replacement of the
/// whole tag list, so the patch the user meant is the patch that is
/// explained, scanned and applied. Other operations pass through unchanged.
pub fn translate_patch(current: &Value, style: &TagStyle, patch: &Value) -> Value {
    let (TagStyle::List(prop), Some(ops)) = (style, patch.as_array()) else {
        return patch.clone();
    };
    let prefix = format!("/{prop}/");
    let mut tags = read(current, style);
    let mut out = Vec::with_capacity(ops.len());
    let mut slot = None;
    for op in ops {
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        let key = path.strip_prefix(&prefix).filter(|k| {
            !k.is_empty() && !k.contains('/') && *k != "-" && !k.chars().all(|c| c.is_ascii_digit())
        });
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
        let handled = match (key, kind) {
            (Some(k), "add" | "replace") => match op.get("value").and_then(Value::as_str) {
                Some(v) => {
                    tags.insert(pointer::unescape(k), v.to_string());
                    true
                }
                None => false,
            },
            (Some(k), "remove") => {
                tags.remove(&pointer::unescape(k));
                true
            }
            _ => false,
        };
        if handled {
            if slot.is_none() {
                slot = Some(out.len());
                out.push(Value::Null);
            }
        } else {
            out.push(op.clone());
        }
    }
    if let Some(i) = slot {
        let mut scratch = json!({});
        apply(&mut scratch, style, &tags);
        let verb = if current.get(prop).is_some() {
            "replace"
        } else {
            "add"
        };
        out[i] = json!({"op": verb, "path": format!("/{prop}"), "value": scratch[prop.as_str()].clone()});
    }
    Value::Array(out)
}

#[cfg(test)]
mod translate_tests {
    use super::*;

    #[test]
    fn the_seeds_map_style_tag_patch_becomes_a_list_replacement() {
        let current = json!({"BucketName": "b", "Tags": [{"Key": "PromotionStatus", "Value": "dev-only"}, {"Key": "Team", "Value": "x"}]});
        let patch = json!([
            {"op": "replace", "path": "/Tags/PromotionStatus", "value": "synced"},
            {"op": "add", "path": "/Tags/ProdCounterpart", "value": "b-prod"},
            {"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}}
        ]);
        let out = translate_patch(&current, &TagStyle::List("Tags".into()), &patch);
        let ops = out.as_array().unwrap();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0]["op"], "replace");
        assert_eq!(ops[0]["path"], "/Tags");
        let mut doc = current.clone();
        json_patch::patch(
            &mut doc,
            &serde_json::from_value::<json_patch::Patch>(out.clone()).unwrap(),
        )
        .unwrap();
        let tags = read(&doc, &TagStyle::List("Tags".into()));
        assert_eq!(tags["PromotionStatus"], "synced");
        assert_eq!(tags["ProdCounterpart"], "b-prod");
        assert_eq!(tags["Team"], "x");
        assert_eq!(doc["VersioningConfiguration"]["Status"], "Enabled");
    }

    #[test]
    fn index_paths_and_map_styles_pass_through() {
        let patch = json!([{"op": "remove", "path": "/Tags/0"}]);
        assert_eq!(
            translate_patch(&json!({}), &TagStyle::List("Tags".into()), &patch),
            patch
        );
        let patch = json!([{"op": "add", "path": "/UserPoolTags/Team", "value": "x"}]);
        assert_eq!(
            translate_patch(&json!({}), &TagStyle::Map("UserPoolTags".into()), &patch),
            patch
        );
    }
}
