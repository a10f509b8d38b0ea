//! Reading property values when some of them are intrinsic functions.
//!
//! A CloudFormation value can be a literal, `{"Ref": ...}`, `{"Fn::If": ...}`,
//! `{"Fn::Sub": ...}` and so on. A rule asks for a value at a path and gets
//! [`Val::Known`] (a literal it can judge), [`Val::Absent`] (the property is not
//! set, including `Ref: AWS::NoValue`) or [`Val::Unknown`] (an intrinsic or a
//! parameter decides it at deploy time). Unknown is "cannot tell": the rule
//! records an undetermined result instead of passing or failing.

use serde_json::Value;

/// A value looked up through a template.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Val<'a> {
    Absent,
    /// Decided at deploy time; the string says by what (`Ref`, `Fn::If`...).
    Unknown(&'a str),
    Known(&'a Value),
}

impl<'a> Val<'a> {
    /// A single value: intrinsics become `Unknown`, `AWS::NoValue` becomes
    /// `Absent`.
    pub(crate) fn of(v: &'a Value) -> Val<'a> {
        match intrinsic_name(v) {
            Some("Ref") if v.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue") => {
                Val::Absent
            }
            Some(name) => Val::Unknown(name),
            None => Val::Known(v),
        }
    }

    /// Follows `path` (object keys, or array indices written as numbers).
    pub(crate) fn at(root: &'a Value, path: &[&str]) -> Val<'a> {
        let mut current = Val::of(root);
        for segment in path {
            current = match current {
                Val::Known(v) => match v {
                    Value::Object(map) => map.get(*segment).map_or(Val::Absent, Val::of),
                    Value::Array(items) => segment
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| items.get(i))
                        .map_or(Val::Absent, Val::of),
                    Value::Null => Val::Absent,
                    // A scalar where a mapping belongs: nothing below it.
                    _ => Val::Absent,
                },
                other => return other,
            };
        }
        current
    }

    pub(crate) fn is_absent(&self) -> bool {
        matches!(self, Val::Absent) || matches!(self, Val::Known(Value::Null))
    }

    /// CloudFormation accepts `"true"`/`"false"` strings for booleans.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Known(Value::Bool(b)) => Some(*b),
            Val::Known(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
            Val::Known(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// Numbers may be written as strings (`"30"`).
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Val::Known(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Val::Known(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&'a str> {
        match self {
            Val::Known(Value::String(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    pub(crate) fn known(&self) -> Option<&'a Value> {
        match self {
            Val::Known(v) => Some(v),
            _ => None,
        }
    }
}

/// The alternatives of a value chosen by `Fn::If` (nested `Fn::If`s
/// flattened), each as a [`Val`]: a rule can pass or fail a property that is
/// the same in every branch, and only "cannot tell" when the branches differ.
/// `None` when `v` is not an `Fn::If` or is malformed.
pub(crate) fn if_branches(v: &Value) -> Option<Vec<Val<'_>>> {
    let args = v.as_object()?.get("Fn::If")?.as_array()?;
    if v.as_object()?.len() != 1 || args.len() != 3 {
        return None;
    }
    let mut out = Vec::new();
    for branch in &args[1..] {
        match if_branches(branch) {
            Some(inner) => out.extend(inner),
            None => out.push(Val::of(branch)),
        }
    }
    Some(out)
}

/// The raw value at `path` when every step to it is a plain object or array
/// (so an `Fn::If` at the end is visible rather than swallowed).
pub(crate) fn raw_at<'a>(root: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(root, |v, seg| match v {
        Value::Object(m) if intrinsic_name(v).is_none() => m.get(*seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// The function name when `v` is an intrinsic (`{"Ref": x}`, `{"Fn::...": x}`,
/// `{"Condition": x}`): an object with exactly one such key.
pub(crate) fn intrinsic_name(v: &Value) -> Option<&str> {
    let map = v.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let key = map.keys().next()?;
    (key == "Ref" || key == "Condition" || key.starts_with("Fn::")).then_some(key.as_str())
}

/// A string or list of strings as a list; `None` for anything else, and a
/// list element that is not a literal string is reported as `Err` with the
/// intrinsic's name.
pub(crate) fn string_list(v: &Value) -> Result<Vec<&str>, &str> {
    match Val::of(v) {
        Val::Known(Value::String(s)) => Ok(vec![s.as_str()]),
        Val::Known(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match Val::of(item) {
                    Val::Known(Value::String(s)) => out.push(s.as_str()),
                    Val::Absent => {}
                    Val::Unknown(name) => return Err(name),
                    Val::Known(_) => return Err("non-string"),
                }
            }
            Ok(out)
        }
        Val::Unknown(name) => Err(name),
        Val::Absent => Ok(Vec::new()),
        Val::Known(_) => Err("non-string"),
    }
}

/// A JSON pointer segment (`~` and `/` escaped).
pub(crate) fn pointer_escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn intrinsics_are_unknown_and_novalue_is_absent() {
        let v = json!({"A": {"Ref": "P"}, "B": {"Ref": "AWS::NoValue"}, "C": {"Fn::If": ["c", 1, 2]}, "D": {"x": true}});
        assert_eq!(Val::at(&v, &["A"]), Val::Unknown("Ref"));
        assert!(Val::at(&v, &["B"]).is_absent());
        assert_eq!(Val::at(&v, &["C", "x"]), Val::Unknown("Fn::If"));
        assert_eq!(Val::at(&v, &["D", "x"]).as_bool(), Some(true));
        assert!(Val::at(&v, &["E", "x"]).is_absent());
    }

    #[test]
    fn strings_count_as_booleans_and_numbers() {
        let v = json!({"a": "TRUE", "b": "30", "c": 7.0, "l": [{"x": 1}]});
        assert_eq!(Val::at(&v, &["a"]).as_bool(), Some(true));
        assert_eq!(Val::at(&v, &["b"]).as_i64(), Some(30));
        assert_eq!(Val::at(&v, &["c"]).as_i64(), Some(7));
        assert_eq!(Val::at(&v, &["l", "0", "x"]).as_i64(), Some(1));
    }

    #[test]
    fn if_branches_flatten_nested_conditions() {
        let v = json!({"Fn::If": ["A", true, {"Fn::If": ["B", "true", {"Ref": "AWS::NoValue"}]}]});
        let b = if_branches(&v).unwrap();
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].as_bool(), Some(true));
        assert_eq!(b[1].as_bool(), Some(true));
        assert!(b[2].is_absent());
        assert!(if_branches(&json!({"Ref": "X"})).is_none());
        let doc = json!({"P": {"Q": {"Fn::If": ["C", 1, 2]}}});
        assert!(raw_at(&doc, &["P", "Q"]).is_some_and(|v| if_branches(v).is_some()));
    }

    #[test]
    fn string_lists_report_intrinsic_elements() {
        assert_eq!(string_list(&json!("a")), Ok(vec!["a"]));
        assert_eq!(string_list(&json!(["a", "b"])), Ok(vec!["a", "b"]));
        assert_eq!(string_list(&json!(["a", {"Ref": "X"}])), Err("Ref"));
        assert_eq!(pointer_escape("a/b~c"), "a~1b~0c");
    }
}
