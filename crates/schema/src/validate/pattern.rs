//! The `pattern` keyword, searched with `regex-lite`, and which of the
//! registry's Java regexes can be read the same way here (see the module
//! doc of `validate` for what is skipped and why).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use regex_lite::Regex;
use serde_json::{Map, Value};

use super::{Checker, Mode, PropertyProblem, display_pointer};

impl Checker<'_> {
    pub(super) fn check_pattern(
        &self,
        value: &Value,
        schema: &Map<String, Value>,
        path: &str,
        out: &mut Vec<PropertyProblem>,
    ) {
        let (Some(text), Some(pattern)) = (
            value.as_str(),
            schema.get("pattern").and_then(Value::as_str),
        ) else {
            return;
        };
        if self.schema.is_read_only(path)
            || (self.mode == Mode::State && self.schema.is_create_only(path))
        {
            return;
        }
        let Some(regex) = compiled(pattern) else {
            return;
        };
        if !regex.is_match(text) {
            self.problem(
                out,
                path,
                format!(
                    "`{}` is {}, which does not match the pattern `{pattern}` (failed validation constraint for keyword [pattern]); change it to match",
                    display_pointer(path),
                    self.quote(value, path)
                ),
            );
        }
    }
}

/// The compiled form of a schema `pattern`, or `None` when it is one this
/// crate does not evaluate (see the module doc). Cached by source text: the
/// builtin catalog holds under a hundred distinct patterns.
pub(super) fn compiled(pattern: &str) -> Option<Arc<Regex>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<Regex>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    // A panic while holding the lock leaves at worst a missing entry.
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(pattern.to_string())
        .or_insert_with(|| {
            portable(pattern)
                .and_then(|p| Regex::new(&p).ok())
                .map(Arc::new)
        })
        .clone()
}

/// `pattern` rewritten for `regex-lite`, or `None` if its meaning there
/// could differ from the Java regex the registry wrote. Look-around and
/// `\p{…}` fail to compile anyway; nested (`[a[b]]`) and intersected
/// (`[a&&b]`) classes compile but mean other things, so they are refused
/// here. Java's `\Z` becomes `\z`, and `$` becomes "end, or a final line
/// break before it", which is what `$` means in Java and Python (cfn-lint)
/// and not in `regex-lite`: a value with a trailing newline passes there.
pub(super) fn portable(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next()?;
                match next {
                    'Z' => out.push_str("\\z"),
                    'p' | 'P' => return None,
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                continue;
            }
            '[' if in_class => return None,
            '&' if in_class && chars.peek() == Some(&'&') => return None,
            '[' => {
                in_class = true;
                out.push(c);
                // `]` or `^]` right after the opening bracket is a literal.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
                continue;
            }
            ']' if in_class => in_class = false,
            '$' if !in_class => {
                out.push_str(r"(?:\r?\n)?\z");
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    Some(out)
}
