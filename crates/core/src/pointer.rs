//! JSON pointers (RFC 6901) as resource schemas write them: a segment may
//! be `*`, "any array index or object key"
//! (`/LifecycleConfiguration/Rules/*/Transition`).
//!
//! One implementation for every crate: the local cloud finds what a
//! read-only or write-only path names in a document, the engine's inventory
//! drops read-only properties and carries values across accounts, the
//! engine's patches and the local cloud's updates ask whether a write
//! touches a create-only path ([`pointer_touches`]), redaction asks whether
//! a value is under a write-only one ([`pointer_under`]).

use serde_json::{Map, Value};

/// The unescaped segments of a JSON pointer (`~1` is `/`, `~0` is `~`).
pub fn segments(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer.split('/').skip(1).map(unescape).collect()
}

/// RFC 6901 escaping of one segment (`/` is `~1`, `~` is `~0`).
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// One escaped segment, unescaped.
pub fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Every concrete pointer in `doc` that `pattern` names and that exists.
pub fn find(doc: &Value, pattern: &str) -> Vec<String> {
    find_values(doc, pattern)
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

/// Every concrete pointer in `doc` that `pattern` names, with its value.
pub fn find_values<'a>(doc: &'a Value, pattern: &str) -> Vec<(String, &'a Value)> {
    let segs = segments(pattern);
    let mut out = Vec::new();
    walk(doc, &segs, String::new(), &|_| false, &mut out);
    out
}

/// [`find`], never looking inside a value `opaque` says holds no
/// properties (a CloudFormation intrinsic function: `{"Ref": "X"}`).
pub fn find_outside(doc: &Value, pattern: &str, opaque: &dyn Fn(&Value) -> bool) -> Vec<String> {
    let segs = segments(pattern);
    let mut out = Vec::new();
    walk(doc, &segs, String::new(), opaque, &mut out);
    out.into_iter().map(|(p, _)| p).collect()
}

fn walk<'a>(
    node: &'a Value,
    rest: &[String],
    here: String,
    opaque: &dyn Fn(&Value) -> bool,
    out: &mut Vec<(String, &'a Value)>,
) {
    let Some((first, tail)) = rest.split_first() else {
        out.push((here, node));
        return;
    };
    if opaque(node) {
        return;
    }
    match node {
        Value::Object(map) if first == "*" => {
            for (k, v) in map {
                walk(v, tail, format!("{here}/{}", escape(k)), opaque, out);
            }
        }
        Value::Object(map) => {
            if let Some(v) = map.get(first) {
                walk(v, tail, format!("{here}/{}", escape(first)), opaque, out);
            }
        }
        Value::Array(items) if first == "*" => {
            for (i, v) in items.iter().enumerate() {
                walk(v, tail, format!("{here}/{i}"), opaque, out);
            }
        }
        Value::Array(items) => {
            if let Some(v) = first.parse::<usize>().ok().and_then(|i| items.get(i)) {
                walk(v, tail, format!("{here}/{first}"), opaque, out);
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

/// `pattern` covers `pointer` if every segment of `pattern` matches the
/// corresponding leading segment of `pointer` (`*` matches any segment).
/// `/A/B` covers `/A/B` and `/A/B/C`; `/A/B/C` also touches `/A/B` when a
/// patch replaces the parent, which callers check with [`pointer_touches`].
pub fn pointer_under(pattern: &str, pointer: &str) -> bool {
    // Segment by segment, without allocating: redaction asks this for every
    // value of every resource listed.
    let mut ptr = pointer.split('/').skip(1);
    pattern
        .split('/')
        .skip(1)
        .all(|a| ptr.next().is_some_and(|b| a == "*" || a == b))
}

/// Whether writing at `pointer` changes anything under `pattern`: either the
/// pointer is inside the pattern, or it replaces an ancestor of it.
pub fn pointer_touches(pattern: &str, pointer: &str) -> bool {
    pointer_under(pattern, pointer) || pointer_under(pointer, pattern)
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

    #[test]
    fn pointer_matching_honours_wildcards() {
        assert!(pointer_under("/A/*/C", "/A/3/C"));
        assert!(pointer_under("/A/*/C", "/A/3/C/D"));
        assert!(!pointer_under("/A/*/C", "/A/3"));
        assert!(pointer_touches("/A/*/C", "/A"));
        assert!(!pointer_touches("/BucketName", "/Tags"));
    }

    /// The engine inventory's cases: values found through wildcards, escaped
    /// keys, a whole property removed, objects made on the way.
    #[test]
    fn patterns_resolve_and_remove_through_wildcards() {
        let v = json!({"A": [{"B": 1, "C": 2}, {"B": 3}], "D": {"x/y": 4}});
        let found: Vec<String> = find_values(&v, "/A/*/B")
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(found, ["/A/0/B", "/A/1/B"]);
        assert_eq!(find_values(&v, "/D/x~1y")[0].0, "/D/x~1y");
        assert_eq!(find_values(&v, "/A/1/B")[0].1, &json!(3));
        let mut w = v.clone();
        remove_all(&mut w, "/A/*/B");
        assert_eq!(w["A"], json!([{"C": 2}, {}]));
        remove_all(&mut w, "/D");
        assert!(w.get("D").is_none());
    }

    #[test]
    fn set_creates_objects_and_refuses_scalars() {
        let mut v = json!({"Code": {}});
        assert!(set(&mut v, "/Code/ZipFile", json!("x")));
        assert!(set(&mut v, "/New/Deep", json!(1)));
        assert_eq!(v, json!({"Code": {"ZipFile": "x"}, "New": {"Deep": 1}}));
        let mut s = json!({"A": 1});
        assert!(!set(&mut s, "/A/B", json!(2)));
    }
}
