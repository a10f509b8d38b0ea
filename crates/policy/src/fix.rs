//! Applying the fixes of several findings to one template.
//!
//! Each finding's `fix` is an RFC 6902 patch computed on its own against the
//! scanned template. Several fixes often touch the same object (the four
//! public-access-block flags, a `Properties` that did not exist), so applying
//! them one after the other with plain RFC 6902 `add` would let the last one
//! overwrite the others. [`apply_fixes`] therefore combines them: an `add` of
//! an object onto an existing object merges the members, missing parents are
//! created, and a `remove` of something already gone is a no-op. Suppressed
//! findings are not fixed: someone decided to keep them.

use serde_json::{Map, Value};

use crate::{Finding, PolicyError, Template};

/// The template with the fixes of every open finding applied.
pub fn apply_fixes(template: &Template, findings: &[Finding]) -> Result<Template, PolicyError> {
    let mut doc = template.0.clone();
    for f in findings.iter().filter(|f| f.is_open()) {
        let Some(fix) = &f.fix else { continue };
        let err = |path: &str, message: &str| PolicyError::Fix {
            rule: f.rule.clone(),
            resource: f.resource.clone(),
            path: path.to_string(),
            message: message.to_string(),
        };
        let ops = fix
            .as_array()
            .ok_or_else(|| err("", "the fix is not a list of operations"))?;
        for op in ops {
            let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
            let path = op
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| err("", "an operation has no path"))?;
            let tokens = parse_pointer(path).ok_or_else(|| err(path, "not a JSON pointer"))?;
            match kind {
                "add" | "replace" => {
                    let value = op
                        .get("value")
                        .cloned()
                        .ok_or_else(|| err(path, "an add/replace has no value"))?;
                    set(&mut doc, &tokens, value).map_err(|m| err(path, &m))?;
                }
                "remove" => remove(&mut doc, &tokens),
                other => return Err(err(path, &format!("unsupported operation `{other}`"))),
            }
        }
    }
    Ok(Template(doc))
}

fn parse_pointer(p: &str) -> Option<Vec<String>> {
    if p.is_empty() {
        return Some(Vec::new());
    }
    let rest = p.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(infraguard_core::pointer::unescape)
            .collect(),
    )
}

fn set(doc: &mut Value, tokens: &[String], value: Value) -> Result<(), String> {
    let Some((last, parents)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    let mut current = doc;
    for t in parents {
        current = match current {
            Value::Object(map) => map
                .entry(t.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            Value::Array(items) => {
                let i: usize = t
                    .parse()
                    .map_err(|_| format!("`{t}` is not an array index"))?;
                items
                    .get_mut(i)
                    .ok_or_else(|| format!("index {i} is out of range"))?
            }
            Value::Null => {
                *current = Value::Object(Map::new());
                match current {
                    Value::Object(map) => map
                        .entry(t.clone())
                        .or_insert_with(|| Value::Object(Map::new())),
                    _ => return Err("cannot create a parent".into()),
                }
            }
            _ => return Err(format!("`{t}` is below a value that is not an object")),
        };
    }
    match current {
        Value::Object(map) => {
            match (map.get_mut(last), value) {
                (Some(Value::Object(existing)), Value::Object(new)) => merge(existing, new),
                (_, value) => {
                    map.insert(last.clone(), value);
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("`{last}` is not an array index"))?;
            let slot = items
                .get_mut(i)
                .ok_or_else(|| format!("index {i} is out of range"))?;
            *slot = value;
            Ok(())
        }
        Value::Null => {
            let mut map = Map::new();
            map.insert(last.clone(), value);
            *current = Value::Object(map);
            Ok(())
        }
        _ => Err("the parent is not an object".into()),
    }
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

fn remove(doc: &mut Value, tokens: &[String]) {
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut current = doc;
    for t in parents {
        let next = match current {
            Value::Object(map) => map.get_mut(t),
            Value::Array(items) => t.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(n) => current = n,
            None => return,
        }
    }
    if let Value::Object(map) = current {
        map.remove(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::Severity;
    use serde_json::json;

    fn finding(fix: Value) -> Finding {
        Finding {
            rule: "IG-T".into(),
            checkov_id: None,
            severity: Severity::Low,
            title: "t".into(),
            resource: "B".into(),
            type_name: "AWS::S3::Bucket".into(),
            path: "Properties".into(),
            message: "m".into(),
            remediation: "r".into(),
            fix: Some(fix),
            suppressed: None,
        }
    }

    #[test]
    fn adds_onto_the_same_object_merge() {
        let t = Template(json!({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}));
        let a = finding(
            json!([{"op": "add", "path": "/Resources/B/Properties", "value": {"X": {"a": true}}}]),
        );
        let b = finding(
            json!([{"op": "add", "path": "/Resources/B/Properties", "value": {"X": {"b": true}}}]),
        );
        let c = finding(json!([{"op": "remove", "path": "/Resources/B/Properties/Gone"}]));
        let out = apply_fixes(&t, &[a, b, c]).unwrap();
        assert_eq!(
            out.0["Resources"]["B"]["Properties"],
            json!({"X": {"a": true, "b": true}})
        );
    }

    #[test]
    fn suppressed_findings_are_not_fixed_and_bad_ops_are_errors() {
        let t = Template(json!({"Resources": {"B": {"Type": "T", "Properties": {"A": 1}}}}));
        let mut s =
            finding(json!([{"op": "replace", "path": "/Resources/B/Properties/A", "value": 2}]));
        s.suppressed = Some(Suppression {
            source: "infraguard".into(),
            reason: "r".into(),
        });
        assert_eq!(apply_fixes(&t, &[s]).unwrap(), t);
        let bad = finding(json!([{"op": "move", "path": "/Resources/B", "from": "/x"}]));
        assert!(matches!(
            apply_fixes(&t, &[bad]),
            Err(PolicyError::Fix { .. })
        ));
        let below_scalar =
            finding(json!([{"op": "add", "path": "/Resources/B/Properties/A/x", "value": 1}]));
        assert!(apply_fixes(&t, &[below_scalar]).is_err());
    }

    use crate::Suppression;
}
