//! The value keywords: `enum`, `enumCaseInsensitive` and `const`, and the
//! bounds on lengths, item and entry counts and numbers.

use serde_json::{Map, Value};

use super::types::{numeric_value, scalar_text};
use super::{Checker, MAX_LISTED_VALUES, PropertyProblem, display_pointer};
use crate::suggest::nearest;

impl Checker<'_> {
    pub(super) fn check_enum(
        &self,
        value: &Value,
        schema: &Map<String, Value>,
        path: &str,
        out: &mut Vec<PropertyProblem>,
    ) {
        let Some(given) = scalar_text(value) else {
            return;
        };
        let (allowed, case_insensitive) = match (
            schema.get("enum").and_then(Value::as_array),
            schema.get("enumCaseInsensitive").and_then(Value::as_array),
        ) {
            (Some(e), _) => (e, false),
            (None, Some(e)) => (e, true),
            (None, None) => {
                if let Some(c) = schema.get("const")
                    && scalar_text(c).is_some_and(|c| c != given)
                {
                    self.problem(
                        out,
                        path,
                        format!(
                            "`{}` must be {}, got {}",
                            display_pointer(path),
                            self.quote(c, ""),
                            self.quote(value, path)
                        ),
                    );
                }
                return;
            }
        };
        let texts: Vec<String> = allowed.iter().filter_map(scalar_text).collect();
        let ok = texts.iter().any(|t| {
            if case_insensitive {
                t.eq_ignore_ascii_case(&given)
            } else {
                *t == given
            }
        });
        if !ok {
            let mut listed = texts
                .iter()
                .take(MAX_LISTED_VALUES)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if texts.len() > MAX_LISTED_VALUES {
                listed.push_str(", …");
            }
            let hint = nearest(&given, texts.iter().map(String::as_str), 1)
                .into_iter()
                .next()
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            self.problem(
                out,
                path,
                format!(
                    "{} is not an allowed value of `{}`{hint}; use one of: {listed}",
                    self.quote(value, path),
                    display_pointer(path),
                ),
            );
        }
    }

    pub(super) fn check_bounds(
        &self,
        value: &Value,
        schema: &Map<String, Value>,
        path: &str,
        out: &mut Vec<PropertyProblem>,
    ) {
        let at = display_pointer(path);
        let limit = |k: &str| schema.get(k).and_then(Value::as_f64);
        let count = |k: &str| schema.get(k).and_then(Value::as_u64);
        match value {
            Value::String(s) => {
                let len = s.chars().count() as u64;
                if let Some(min) = count("minLength")
                    && len < min
                {
                    self.problem(
                        out,
                        path,
                        format!("`{at}` is {len} characters long; it needs at least {min}"),
                    );
                }
                if let Some(max) = count("maxLength")
                    && len > max
                {
                    self.problem(
                        out,
                        path,
                        format!("`{at}` is {len} characters long; at most {max} are allowed"),
                    );
                }
            }
            Value::Array(items) => {
                let len = items.len() as u64;
                if let Some(min) = count("minItems")
                    && len < min
                {
                    self.problem(
                        out,
                        path,
                        format!("`{at}` has {len} item(s); it needs at least {min}"),
                    );
                }
                if let Some(max) = count("maxItems")
                    && len > max
                {
                    self.problem(
                        out,
                        path,
                        format!("`{at}` has {len} item(s); at most {max} are allowed"),
                    );
                }
            }
            Value::Object(map) => {
                let len = map.len() as u64;
                if let Some(min) = count("minProperties")
                    && len < min
                {
                    self.problem(
                        out,
                        path,
                        format!("`{at}` has {len} entries; it needs at least {min}"),
                    );
                }
                if let Some(max) = count("maxProperties")
                    && len > max
                {
                    self.problem(
                        out,
                        path,
                        format!("`{at}` has {len} entries; at most {max} are allowed"),
                    );
                }
            }
            _ => {}
        }
        if let Some(n) = numeric_value(value) {
            if let Some(min) = limit("minimum")
                && n < min
            {
                self.problem(
                    out,
                    path,
                    format!(
                        "`{at}` is {}, below the minimum of {min}",
                        self.quote(value, path)
                    ),
                );
            }
            if let Some(max) = limit("maximum")
                && n > max
            {
                self.problem(
                    out,
                    path,
                    format!(
                        "`{at}` is {}, above the maximum of {max}",
                        self.quote(value, path)
                    ),
                );
            }
        }
    }
}
