//! Objects and arrays: `properties`, `required`, `additionalProperties`,
//! `patternProperties`, the registry's co-occurrence rules between sibling
//! properties (`dependentRequired`, `dependencies`, `dependentExcluded`,
//! `requiredOr`, `requiredXor`), `items` and `prefixItems`.

use serde_json::{Map, Value};

use super::{Checker, PropertyProblem, child, string_list};
use crate::suggest::nearest;

impl Checker<'_> {
    pub(super) fn check_object(
        &self,
        map: &Map<String, Value>,
        schema: &Map<String, Value>,
        path: &str,
        depth: usize,
        out: &mut Vec<PropertyProblem>,
    ) {
        let declared = schema.get("properties").and_then(Value::as_object);
        let patterns = schema.get("patternProperties").and_then(Value::as_object);

        for name in string_list(schema.get("required")) {
            let pointer = child(path, name);
            if !map.contains_key(name) && !self.may_be_absent(&pointer) {
                self.problem(
                    out,
                    &pointer,
                    format!(
                        "missing required property `{name}` {}; add it",
                        self.place(path)
                    ),
                );
            }
        }

        for (key, value) in map {
            let pointer = child(path, key);
            if let Some(sub) = declared.and_then(|d| d.get(key)) {
                self.check(value, sub, &pointer, depth + 1, out);
                continue;
            }
            // Pattern keys are regexes we do not evaluate (see the module
            // doc); with a single pattern every extra key must match it, so
            // its schema is the one to check the value against.
            if let Some(patterns) = patterns {
                if patterns.len() == 1
                    && let Some(sub) = patterns.values().next()
                {
                    self.check(value, sub, &pointer, depth + 1, out);
                }
                continue;
            }
            match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    let hint = self
                        .tag_hint(key, path)
                        .or_else(|| {
                            declared
                                .map(|d| nearest(key, d.keys().map(String::as_str), 1))
                                .and_then(|s| s.into_iter().next())
                                .map(|s| format!("did you mean `{s}`?"))
                        })
                        .unwrap_or_else(|| "remove it or check its spelling".to_string());
                    self.problem(
                        out,
                        &pointer,
                        format!("unknown property `{key}` {}; {hint}", self.place(path)),
                    );
                }
                Some(sub @ Value::Object(_)) => self.check(value, sub, &pointer, depth + 1, out),
                _ => {}
            }
        }

        self.check_dependencies(map, schema, path, out);
    }

    /// The registry's co-occurrence rules between sibling properties.
    fn check_dependencies(
        &self,
        map: &Map<String, Value>,
        schema: &Map<String, Value>,
        path: &str,
        out: &mut Vec<PropertyProblem>,
    ) {
        let present = |k: &str| map.contains_key(k);
        for key in ["dependentRequired", "dependencies"] {
            let Some(rules) = schema.get(key).and_then(Value::as_object) else {
                continue;
            };
            for (trigger, needed) in rules {
                if !present(trigger) {
                    continue;
                }
                for need in string_list(Some(needed)) {
                    let pointer = child(path, need);
                    if !present(need) && !self.may_be_absent(&pointer) {
                        self.problem(
                            out,
                            &pointer,
                            format!(
                                "`{trigger}` is set {}, so `{need}` is required too; add it or remove `{trigger}`",
                                self.place(path)
                            ),
                        );
                    }
                }
            }
        }
        if let Some(rules) = schema.get("dependentExcluded").and_then(Value::as_object) {
            for (trigger, excluded) in rules {
                if !present(trigger) {
                    continue;
                }
                for other in string_list(Some(excluded)) {
                    // Each pair is listed both ways round; report it once.
                    let symmetric = rules
                        .get(other)
                        .is_some_and(|back| string_list(Some(back)).contains(&trigger.as_str()));
                    if present(other) && (!symmetric || trigger.as_str() < other) {
                        self.problem(
                            out,
                            &child(path, other),
                            format!(
                                "`{trigger}` and `{other}` cannot both be set {}; remove one",
                                self.place(path)
                            ),
                        );
                    }
                }
            }
        }
        let quoted = |names: &[&str]| {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let required_or = string_list(schema.get("requiredOr"));
        if !required_or.is_empty()
            && !required_or.iter().any(|k| present(k))
            && !required_or
                .iter()
                .any(|k| self.may_be_absent(&child(path, k)))
        {
            self.problem(
                out,
                path,
                format!(
                    "at least one of {} is required {}; add one",
                    quoted(&required_or),
                    self.place(path)
                ),
            );
        }
        let xor = string_list(schema.get("requiredXor"));
        if !xor.is_empty() {
            let set: Vec<&str> = xor.iter().copied().filter(|k| present(k)).collect();
            if set.len() > 1 {
                self.problem(
                    out,
                    &child(path, set[1]),
                    format!(
                        "{} cannot be set together {}; keep exactly one of {}",
                        quoted(&set),
                        self.place(path),
                        quoted(&xor)
                    ),
                );
            } else if set.is_empty() && !xor.iter().any(|k| self.may_be_absent(&child(path, k))) {
                self.problem(
                    out,
                    path,
                    format!(
                        "exactly one of {} is required {}; add one",
                        quoted(&xor),
                        self.place(path)
                    ),
                );
            }
        }
    }

    pub(super) fn check_array(
        &self,
        items: &[Value],
        schema: &Map<String, Value>,
        path: &str,
        depth: usize,
        out: &mut Vec<PropertyProblem>,
    ) {
        let prefix = schema
            .get("prefixItems")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let item_schema = schema.get("items").filter(|s| s.is_object());
        for (i, item) in items.iter().enumerate() {
            let pointer = format!("{path}/{i}");
            if let Some(p) = prefix.get(i) {
                self.check(item, p, &pointer, depth + 1, out);
            }
            if let Some(s) = item_schema {
                self.check(item, s, &pointer, depth + 1, out);
            }
        }
    }
}
