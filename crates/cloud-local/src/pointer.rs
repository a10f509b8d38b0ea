//! JSON pointer helpers for the schema's property paths.
//!
//! Schema paths may hold `*` for "any array index or object key"
//! (`/LifecycleConfiguration/Rules/*/Transition`). The local cloud needs to
//! find every concrete place such a path names in a document (to refuse a
//! read-only property, to hide write-only ones, to carry read-only values
//! across an update) and to write at a concrete path.

use serde_json::{Map, Value};

/// The unescaped segments of a JSON pointer (`~1` is `/`, `~0` is `~`).
pub fn segments(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Every concrete pointer in `doc` that `pattern` names and that exists.
pub fn find(doc: &Value, pattern: &str) -> Vec<String> {
    let segs = segments(pattern);
    let mut out = Vec::new();
    walk(doc, &segs, String::new(), &mut out);
    out
}

fn walk(node: &Value, rest: &[String], here: String, out: &mut Vec<String>) {
    let Some((first, tail)) = rest.split_first() else {
        out.push(here);
        return;
    };
    match node {
        Value::Object(map) if first == "*" => {
            for (k, v) in map {
                walk(v, tail, format!("{here}/{}", escape(k)), out);
            }
        }
        Value::Object(map) => {
            if let Some(v) = map.get(first) {
                walk(v, tail, format!("{here}/{}", escape(first)), out);
            }
        }
        Value::Array(items) if first == "*" => {
            for (i, v) in items.iter().enumerate() {
                walk(v, tail, format!("{here}/{i}"), out);
            }
        }
        Value::Array(items) => {
            if let Some(v) = first.parse::<usize>().ok().and_then(|i| items.get(i)) {
                walk(v, tail, format!("{here}/{first}"), out);
            }
        }
        _ => {}
    }
}

/// Remove everything `pattern` names from `doc`.
pub fn remove_all(doc: &mut Value, pattern: &str) {
    // Deepest first and arrays from the back, so earlier removals do not
    // shift the indices of later ones.
    let mut found = find(doc, pattern);
    found.sort_by(|a, b| b.cmp(a));
    for p in found {
        remove(doc, &p);
    }
}

/// Remove the value at a concrete pointer; `false` when nothing was there.
pub fn remove(doc: &mut Value, pointer: &str) -> bool {
    let segs = segments(pointer);
    let Some((last, parents)) = segs.split_last() else {
        return false;
    };
    let mut node = doc;
    for s in parents {
        node = match child_mut(node, s) {
            Some(n) => n,
            None => return false,
        };
    }
    match node {
        Value::Object(map) => map.remove(last).is_some(),
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

fn child_mut<'a>(node: &'a mut Value, seg: &str) -> Option<&'a mut Value> {
    match node {
        Value::Object(map) => map.get_mut(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    }
}

/// Write `value` at a concrete pointer, creating missing objects on the way.
/// `false` when the way is blocked by a non-object (or a missing array slot),
/// in which case `doc` is unchanged.
pub fn set(doc: &mut Value, pointer: &str, value: Value) -> bool {
    let segs = segments(pointer);
    let Some((last, parents)) = segs.split_last() else {
        return false;
    };
    // Check the way first so that a blocked write leaves no empty objects.
    {
        let mut node: &Value = doc;
        for s in parents {
            match node {
                Value::Object(map) => match map.get(s) {
                    Some(n) => node = n,
                    None => break,
                },
                Value::Array(items) => match s.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(n) => node = n,
                    None => return false,
                },
                _ => return false,
            }
        }
        if !matches!(node, Value::Object(_) | Value::Array(_)) {
            return false;
        }
    }
    let mut node = doc;
    for s in parents {
        node = match node {
            Value::Object(map) => map
                .entry(s.clone())
                .or_insert_with(|| Value::Object(Map::new())),
            Value::Array(items) => match s.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(n) => n,
                None => return false,
            },
            _ => return false,
        };
    }
    match node {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            true
        }
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items[i] = value;
                true
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn find_expands_wildcards_over_arrays_and_objects() {
        let doc = json!({"Rules": [{"T": 1}, {"X": 2}, {"T": 3}], "M": {"a": {"T": 4}}});
        assert_eq!(find(&doc, "/Rules/*/T"), ["/Rules/0/T", "/Rules/2/T"]);
        assert_eq!(find(&doc, "/M/*/T"), ["/M/a/T"]);
        assert!(find(&doc, "/Nope").is_empty());
        assert_eq!(find(&doc, "/Rules/1/X"), ["/Rules/1/X"]);
    }

    #[test]
    fn escaped_keys_round_trip() {
        let doc = json!({"a/b": {"c~d": 1}});
        let found = find(&doc, "/a~1b/c~0d");
        assert_eq!(found, ["/a~1b/c~0d"]);
        assert_eq!(doc.pointer(&found[0]), Some(&json!(1)));
    }

    #[test]
    fn remove_all_clears_every_match() {
        let mut doc =
            json!({"Code": {"ZipFile": "secret", "S3Key": "k"}, "Rules": [{"T": 1}, {"T": 2}]});
        remove_all(&mut doc, "/Code/ZipFile");
        remove_all(&mut doc, "/Rules/*/T");
        assert_eq!(doc, json!({"Code": {"S3Key": "k"}, "Rules": [{}, {}]}));
    }

    #[test]
    fn set_creates_objects_but_never_overwrites_a_scalar_parent() {
        let mut doc = json!({"A": 1});
        assert!(set(&mut doc, "/B/C", json!("x")));
        assert_eq!(doc["B"]["C"], "x");
        assert!(!set(&mut doc, "/A/C", json!("x")));
        assert_eq!(doc["A"], 1);
        assert!(!set(&mut doc, "", json!(2)));
    }
}
