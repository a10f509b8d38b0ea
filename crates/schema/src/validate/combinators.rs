//! The combinators: `allOf`, `anyOf` and `oneOf` (read as `anyOf`, see the
//! module doc of `validate`), `not` and `if`-`then`-`else`.

use serde_json::{Map, Value};

use super::types::type_matches;
use super::{Checker, PropertyProblem, display_pointer, string_list};
use crate::distill::resolved;

impl Checker<'_> {
    pub(super) fn check_combinators(
        &self,
        value: &Value,
        schema: &Map<String, Value>,
        path: &str,
        depth: usize,
        out: &mut Vec<PropertyProblem>,
    ) {
        for branch in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.check(value, branch, path, depth + 1, out);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                self.check_any_of(value, branches, path, depth, out);
            }
        }
        if let Some(not) = schema.get("not")
            && self.passes(value, not, path, depth)
        {
            self.problem(
                out,
                path,
                format!(
                    "{} is not allowed for `{}`; choose another value",
                    self.quote(value, path),
                    display_pointer(path)
                ),
            );
        }
        if let Some(condition) = schema.get("if") {
            let branch = if self.passes(value, condition, path, depth) {
                schema.get("then")
            } else {
                schema.get("else")
            };
            if let Some(branch) = branch {
                self.check(value, branch, path, depth + 1, out);
            }
        }
    }

    fn passes(&self, value: &Value, schema: &Value, path: &str, depth: usize) -> bool {
        let mut scratch = Vec::new();
        self.check(value, schema, path, depth + 1, &mut scratch);
        scratch.is_empty()
    }

    /// At least one branch must accept the value. When none does, report
    /// the problems of the branch the user most likely meant: one whose type
    /// fits the value, with the fewest problems. A set of branches that only
    /// differ in which properties they require (IAM::Policy needs `Users`,
    /// `Groups` or `Roles`) gets one message naming the choices.
    fn check_any_of(
        &self,
        value: &Value,
        branches: &[Value],
        path: &str,
        depth: usize,
        out: &mut Vec<PropertyProblem>,
    ) {
        let mut results = Vec::with_capacity(branches.len());
        for branch in branches {
            let mut scratch = Vec::new();
            self.check(value, branch, path, depth + 1, &mut scratch);
            if scratch.is_empty() {
                return;
            }
            results.push((branch, scratch));
        }
        let only_required: Option<Vec<Vec<&str>>> = branches
            .iter()
            .map(|b| {
                let obj = b.as_object()?;
                (obj.len() == 1).then(|| string_list(obj.get("required")))
            })
            .collect();
        if let Some(choices) = only_required.filter(|c| c.iter().all(|r| !r.is_empty())) {
            let rendered: Vec<String> = choices
                .iter()
                .map(|names| {
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                })
                .collect();
            self.problem(
                out,
                path,
                format!(
                    "{} needs one of {}; add one",
                    if path.is_empty() {
                        self.schema.type_name.to_string()
                    } else {
                        format!("`{}`", display_pointer(path))
                    },
                    rendered.join(" or ")
                ),
            );
            return;
        }
        let best = results.into_iter().min_by_key(|(branch, problems)| {
            let fits = self.branch_type_fits(value, branch);
            (!fits, problems.len())
        });
        if let Some((_, problems)) = best {
            out.extend(problems);
        }
    }

    fn branch_type_fits(&self, value: &Value, branch: &Value) -> bool {
        match resolved(self.document, branch).and_then(|b| b.get("type")) {
            Some(types) => type_matches(value, types),
            None => branch.get("type").is_none_or(|t| type_matches(value, t)),
        }
    }
}
