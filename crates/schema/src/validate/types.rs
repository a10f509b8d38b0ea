//! The `type` keyword with CloudFormation's scalar coercions (a string of
//! digits is an integer, `"true"` a boolean), and how values and types are
//! named in messages.

use serde_json::Value;

/// Whether `value` is acceptable for a `type` keyword (string or list),
/// with CloudFormation's scalar coercions.
pub(super) fn type_matches(value: &Value, types: &Value) -> bool {
    match types {
        Value::String(t) => one_type_matches(value, t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .any(|t| one_type_matches(value, t)),
        // A malformed `type` constrains nothing we can check.
        _ => true,
    }
}

pub(super) fn one_type_matches(value: &Value, ty: &str) -> bool {
    match (ty, value) {
        ("object", Value::Object(_)) | ("array", Value::Array(_)) | ("null", Value::Null) => true,
        ("string", Value::String(_) | Value::Number(_) | Value::Bool(_)) => true,
        ("integer", Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        ("integer", Value::String(s)) => is_integer_text(s),
        ("number", Value::Number(_)) => true,
        ("number", Value::String(s)) => is_number_text(s),
        ("boolean", Value::Bool(_)) => true,
        ("boolean", Value::String(s)) => {
            s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")
        }
        // An unknown type name constrains nothing we can check.
        (other, _) => !matches!(
            other,
            "object" | "array" | "null" | "string" | "integer" | "number" | "boolean"
        ),
    }
}

pub(super) fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

pub(super) fn is_number_text(s: &str) -> bool {
    // `f64::from_str` also takes `inf` and `NaN`, which CloudFormation does not.
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        && s.parse::<f64>().is_ok_and(f64::is_finite)
}

pub(super) fn numeric_value(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if is_number_text(s) => s.parse().ok(),
        _ => None,
    }
}

/// The text CloudFormation would compare for an enum: scalars only.
pub(super) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub(super) fn describe_types(types: &Value) -> String {
    let one = |t: &str| match t {
        "object" => "an object".to_string(),
        "array" => "a list".to_string(),
        "string" => "a string".to_string(),
        "integer" => "an integer (or a string of digits)".to_string(),
        "number" => "a number".to_string(),
        "boolean" => "a boolean".to_string(),
        "null" => "null".to_string(),
        other => format!("of type {other}"),
    };
    match types {
        Value::String(t) => one(t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        other => format!("of type {other}"),
    }
}
