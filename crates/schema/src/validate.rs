//! Checking a resource's properties against its schema before anything is
//! sent to a cloud, so a user hears about every mistake at once, by path,
//! with a fix — instead of one `InvalidRequest` at a time from the cloud.
//!
//! The checker walks the stripped schema document (following `$ref` into
//! `definitions`) and covers the JSON Schema keywords the CloudFormation
//! registry uses: `type`, `properties`, `required`, `additionalProperties`,
//! `patternProperties` (values only), `items`, `prefixItems`, `enum`,
//! `enumCaseInsensitive`, `const`, `minLength`/`maxLength`,
//! `minimum`/`maximum`, `minItems`/`maxItems`, `minProperties`/
//! `maxProperties`, `allOf`/`anyOf`/`oneOf`/`not`/`if`-`then`-`else`, and the
//! registry's own `dependentRequired`, `dependencies`, `dependentExcluded`,
//! `requiredOr` and `requiredXor`.
//!
//! `pattern` is checked the way JSON Schema and CloudFormation's validator
//! read it (a search, not a whole-string match) with `regex-lite`, on
//! strings only. A pattern that uses what `regex-lite` lacks or reads
//! differently from the Java regexes the registry is written for —
//! look-around, `\p{…}` classes, nested or intersected classes — is not
//! evaluated: a wrong check would block valid requests. Neither are patterns
//! on read-only values (the cloud sets them) nor, in a state, on create-only
//! values (an update cannot change them; they were checked at create).
//!
//! Beyond the schema, the rules a service documents for a property and the
//! registry cannot express are checked too: S3 bucket names
//! ([`s3_bucket_name_problems`]).
//!
//! Not checked, on purpose: `format`, `uniqueItems`/`uniqueKeys`. `oneOf` is
//! treated like `anyOf`, because the registry's branches overlap and strict
//! exclusivity would reject values CloudFormation accepts.
//!
//! Scalars are coerced the way CloudFormation coerces template values: an
//! `integer` may be a JSON integer or a string of digits, a `number` a
//! numeric string, a `boolean` the string `true`/`false`, and a `string` any
//! scalar. A value that is an intrinsic function ([`crate::is_intrinsic`]) is
//! accepted for any type, since only the cloud can resolve it; a string
//! holding a dynamic reference (`{{resolve:…}}`) passes the type check but
//! skips the value checks (enum, length, range) for the same reason.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use infraguard_core::{ResourceSchema, TagStyle};
use regex_lite::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Catalog;
use crate::distill::{resolve_ref, resolved};
use crate::is_intrinsic;
use crate::suggest::nearest;

/// One problem with a set of properties, for the caller to report all at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyProblem {
    /// JSON pointer relative to the properties, e.g. `/BucketNam`.
    pub path: String,
    /// Names the value and the fix.
    pub message: String,
}

/// Validate desired properties for a create: required properties present,
/// no unknown property where the schema forbids extras, no read-only
/// property set by the user, and types, enums, lengths and nested
/// `required` as deep as the schema goes.
pub fn validate_create(schema: &ResourceSchema, properties: &Value) -> Vec<PropertyProblem> {
    validate(schema, properties, Mode::Create)
}

/// Validate the whole resulting state after an update: the same checks,
/// except that read-only properties are fine (they come from the cloud), and
/// a required property that is write-only, or holds write-only parts (Lambda
/// `Code`), may be missing: a read never returns those, so a state built
/// from one lacks them.
///
/// Both functions check nested structure with the builtin catalog's document
/// for `schema.type_name`; for a type the builtin catalog lacks, only the
/// summary's top-level names, types and `required` are checked.
pub fn validate_state(schema: &ResourceSchema, properties: &Value) -> Vec<PropertyProblem> {
    validate(schema, properties, Mode::State)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Create,
    State,
}

/// Nesting limit for schema evaluation: values and schemas here are a few
/// levels deep; this only stops a pathological self-referencing schema.
const MAX_DEPTH: usize = 64;

/// How many allowed values an enum message lists before eliding.
const MAX_LISTED_VALUES: usize = 12;

fn validate(schema: &ResourceSchema, properties: &Value, mode: Mode) -> Vec<PropertyProblem> {
    let empty = Value::Object(Map::new());
    // A create with no properties at all (an S3 bucket with a generated
    // name) may come as `null`; it means the same as `{}`.
    let properties = if properties.is_null() {
        &empty
    } else {
        properties
    };
    let type_name = schema.type_name.as_str();
    if !properties.is_object() {
        return vec![PropertyProblem {
            path: String::new(),
            message: format!(
                "the properties of {type_name} must be a JSON object of property names to values, got {}",
                kind(properties)
            ),
        }];
    }

    // Types outside the builtin catalog (e.g. from `Catalog::from_documents`)
    // are checked with what the summary knows: top-level names, types and
    // `required`.
    let synthetic;
    let document = match Catalog::builtin().document(&schema.type_name) {
        Some(d) => d,
        None => {
            synthetic = summary_document(schema);
            &synthetic
        }
    };

    let checker = Checker {
        document,
        schema,
        mode,
    };
    let mut out = Vec::new();
    if mode == Mode::Create {
        checker.check_read_only(properties, &mut out);
    }
    checker.check(properties, document, "", 0, &mut out);
    checker.check_service_rules(properties, &mut out);
    // Sorted by path so the report reads top to bottom whatever the map
    // order; combinators can report the same thing twice (a `required` in
    // both an `allOf` branch and the root), so say it once.
    out.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    out.dedup();
    out
}

/// A schema document built from the summary alone.
fn summary_document(schema: &ResourceSchema) -> Value {
    let properties: Map<String, Value> = schema
        .properties
        .iter()
        .map(|(name, ty)| {
            let s = if ty == "any" {
                json!({})
            } else {
                json!({ "type": ty })
            };
            (name.clone(), s)
        })
        .collect();
    json!({
        "typeName": schema.type_name.as_str(),
        "properties": properties,
        "required": schema.required,
        "additionalProperties": schema.additional_properties,
    })
}

struct Checker<'a> {
    document: &'a Value,
    schema: &'a ResourceSchema,
    mode: Mode,
}

impl Checker<'_> {
    fn problem(&self, out: &mut Vec<PropertyProblem>, path: &str, message: String) {
        out.push(PropertyProblem {
            path: path.to_string(),
            message,
        });
    }

    /// "for AWS::S3::Bucket" at the top, "in `/BucketEncryption`" below it.
    fn place(&self, parent: &str) -> String {
        if parent.is_empty() {
            format!("for {}", self.schema.type_name)
        } else {
            format!("in `{parent}`")
        }
    }

    /// A short rendering of a user's value for a message, unless it sits
    /// under a write-only path (passwords, secret strings): those are never
    /// echoed.
    fn quote(&self, value: &Value, path: &str) -> String {
        if ResourceSchema::pointer_matches(&self.schema.write_only, path) {
            return "the given value".to_string();
        }
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut short: String = text.chars().take(60).collect();
        if short.len() < text.len() {
            short.push('…');
        }
        format!("`{short}`")
    }

    /// Report every read-only property the user set (create only).
    fn check_read_only(&self, properties: &Value, out: &mut Vec<PropertyProblem>) {
        let mut found: Vec<String> = Vec::new();
        for pattern in &self.schema.read_only {
            let segments: Vec<&str> = pattern.split('/').skip(1).collect();
            expand(properties, &segments, String::new(), &mut found);
        }
        found.sort();
        found.dedup();
        // `/SnapStartResponse` covers `/SnapStartResponse/ApplyOn`: one
        // report for the outermost.
        let outermost: Vec<&String> = found
            .iter()
            .filter(|p| {
                !found
                    .iter()
                    .any(|q| q != *p && infraguard_core::schema::pointer_under(q, p))
            })
            .collect();
        for pointer in outermost {
            self.problem(
                out,
                pointer,
                format!(
                    "`{}` is read-only for {}: the cloud sets it; remove it from the properties",
                    display_pointer(pointer),
                    self.schema.type_name
                ),
            );
        }
    }

    /// Whether a required property may be missing here anyway.
    fn may_be_absent(&self, pointer: &str) -> bool {
        match self.mode {
            // A read-only property inside a user-set object (S3
            // `.../TableArn`) cannot be demanded from the user.
            Mode::Create => self.schema.is_read_only(pointer),
            // A read never returns write-only values, and may drop a parent
            // whose content is all write-only (Lambda `Code`), so neither
            // can be demanded of a state built from one.
            Mode::State => {
                self.schema
                    .write_only
                    .iter()
                    .any(|w| infraguard_core::schema::pointer_touches(w, pointer))
                    || self.schema.is_read_only(pointer)
            }
        }
    }

    /// Tags under the wrong name are the most common unknown property:
    /// templates copied between types assume `Tags`, but Cognito keeps them
    /// in `UserPoolTags` (a map) and IAM::ManagedPolicy has none.
    fn tag_hint(&self, key: &str, parent: &str) -> Option<String> {
        if !parent.is_empty() || !key.eq_ignore_ascii_case("tags") {
            return None;
        }
        Some(match &self.schema.tagging {
            TagStyle::List(p) => {
                format!(
                    "this type keeps its tags in `{p}`, a list of {{\"Key\": …, \"Value\": …}} objects"
                )
            }
            TagStyle::Map(p) => {
                format!("this type keeps its tags in `{p}`, an object of key to value")
            }
            TagStyle::None => "this type cannot be tagged; remove it".to_string(),
        })
    }

    /// Check `value` at `path` against `schema`, appending to `out`.
    fn check(
        &self,
        value: &Value,
        schema: &Value,
        path: &str,
        depth: usize,
        out: &mut Vec<PropertyProblem>,
    ) {
        if depth > MAX_DEPTH || is_intrinsic(value) {
            return;
        }
        let Some(schema_obj) = schema.as_object() else {
            return;
        };
        if let Some(reference) = schema_obj.get("$ref").and_then(Value::as_str) {
            // `$ref` siblings (`maxItems` beside a `$ref`) still apply, so
            // check the target and then carry on with this schema.
            match resolve_ref(self.document, reference).and_then(|t| resolved(self.document, t)) {
                Some(target) => self.check(value, target, path, depth + 1, out),
                None => return,
            }
        }

        let types = schema_obj.get("type");
        if value.is_null() && !types.is_some_and(|t| type_matches(value, t)) {
            // CloudFormation rejects nulls outright, whatever the type; the
            // fix is a value or no property at all.
            self.problem(
                out,
                path,
                format!(
                    "`{}` is null; give it a value or leave it out",
                    display_pointer(path)
                ),
            );
            return;
        }
        if let Some(types) = types
            && !type_matches(value, types)
        {
            self.problem(
                out,
                path,
                format!(
                    "`{}` must be {}, got {}",
                    display_pointer(path),
                    describe_types(types),
                    kind(value)
                ),
            );
            // Nothing below makes sense for a value of the wrong shape.
            return;
        }

        // A dynamic reference (`{{resolve:secretsmanager:…}}`) is replaced
        // by CloudFormation at deploy time, so its text says nothing about
        // the final value's length or whether it is an allowed one.
        if !value.as_str().is_some_and(|s| s.contains("{{resolve:")) {
            self.check_enum(value, schema_obj, path, out);
            self.check_bounds(value, schema_obj, path, out);
            self.check_pattern(value, schema_obj, path, out);
        }

        match value {
            Value::Object(map) => self.check_object(map, schema_obj, path, depth, out),
            Value::Array(items) => self.check_array(items, schema_obj, path, depth, out),
            _ => {}
        }

        self.check_combinators(value, schema_obj, path, depth, out);
    }

    fn check_enum(
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

    fn check_bounds(
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

    fn check_pattern(
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

    /// Rules a service documents for a property beyond what its schema
    /// says. Create only: the properties they cover are create-only, so an
    /// update cannot change them and was refused before getting here.
    fn check_service_rules(&self, properties: &Value, out: &mut Vec<PropertyProblem>) {
        if self.mode != Mode::Create || self.schema.type_name.as_str() != "AWS::S3::Bucket" {
            return;
        }
        let Some(name) = properties.get("BucketName").and_then(Value::as_str) else {
            return;
        };
        if name.contains("{{resolve:") {
            return;
        }
        for rule in s3_bucket_name_problems(name) {
            self.problem(
                out,
                "/BucketName",
                format!(
                    "`BucketName` `{name}` {rule}; S3 refuses it (InvalidBucketName: The specified bucket is not valid.), see https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
                ),
            );
        }
    }

    fn check_object(
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

    fn check_array(
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

    fn check_combinators(
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

/// What is wrong with `name` as the name of a new S3 general purpose bucket,
/// by the rules of "General purpose bucket naming rules" in the Amazon S3
/// User Guide (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)
/// that the schema's `pattern` (`^([a-z0-9][a-z0-9.-]*[a-z0-9])?$`, which
/// covers the allowed characters and the first and last one) and
/// `maxLength` (63) leave out:
/// - "between 3 (min) and 63 (max) characters long";
/// - "must not contain two adjacent periods";
/// - "must not be formatted as an IP address (for example, 192.168.5.4)";
/// - "must not start with the prefix" `xn--`, `sthree-` (which also covers
///   `sthree-configurator`) or `amzn-s3-demo-`;
/// - "must not end with the suffix" `-s3alias` (access point aliases),
///   `--ol-s3` (Object Lambda access point aliases), `.mrap` (Multi-Region
///   Access Points), `--x-s3` (directory buckets) or `--table-s3` (table
///   buckets).
///
/// Each item completes the sentence "`BucketName` `…` …".
fn s3_bucket_name_problems(name: &str) -> Vec<String> {
    const PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    let mut out = Vec::new();
    let len = name.chars().count();
    if len < 3 {
        out.push(format!(
            "is {len} character{} long; a bucket name needs at least 3",
            if len == 1 { "" } else { "s" }
        ));
    }
    if name.contains("..") {
        out.push("contains two adjacent periods".to_string());
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    {
        out.push("is formatted as an IP address".to_string());
    }
    if let Some(p) = PREFIXES.iter().find(|p| name.starts_with(**p)) {
        out.push(format!("starts with the reserved prefix `{p}`"));
    }
    if let Some(s) = SUFFIXES.iter().find(|s| name.ends_with(**s)) {
        out.push(format!("ends with the reserved suffix `{s}`"));
    }
    out
}

/// The compiled form of a schema `pattern`, or `None` when it is one this
/// crate does not evaluate (see the module doc). Cached by source text: the
/// builtin catalog holds under a hundred distinct patterns.
fn compiled(pattern: &str) -> Option<Arc<Regex>> {
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
fn portable(pattern: &str) -> Option<String> {
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

/// Concrete pointers in `value` matching the pattern `segments` (`*` = any
/// index or key).
fn expand(value: &Value, segments: &[&str], at: String, found: &mut Vec<String>) {
    let Some((first, rest)) = segments.split_first() else {
        if !at.is_empty() {
            found.push(at);
        }
        return;
    };
    if is_intrinsic(value) {
        return;
    }
    match (value, *first) {
        (Value::Object(map), "*") => {
            for (k, v) in map {
                expand(v, rest, child(&at, k), found);
            }
        }
        (Value::Array(items), "*") => {
            for (i, v) in items.iter().enumerate() {
                expand(v, rest, format!("{at}/{i}"), found);
            }
        }
        (Value::Object(map), key) => {
            if let Some(v) = map.get(key) {
                expand(v, rest, child(&at, key), found);
            }
        }
        (Value::Array(items), index) => {
            if let Some(v) = index.parse::<usize>().ok().and_then(|i| items.get(i)) {
                expand(v, rest, format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

/// `parent` + `/key`, with the key escaped as RFC 6901 wants.
fn child(parent: &str, key: &str) -> String {
    format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// A pointer as users read it: `BucketName` at the top, `/A/B` below.
fn display_pointer(path: &str) -> &str {
    match path.strip_prefix('/') {
        Some(rest) if !rest.contains('/') => rest,
        _ => path,
    }
}

fn string_list(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether `value` is acceptable for a `type` keyword (string or list),
/// with CloudFormation's scalar coercions.
fn type_matches(value: &Value, types: &Value) -> bool {
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

fn one_type_matches(value: &Value, ty: &str) -> bool {
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

fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

fn is_number_text(s: &str) -> bool {
    // `f64::from_str` also takes `inf` and `NaN`, which CloudFormation does not.
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        && s.parse::<f64>().is_ok_and(f64::is_finite)
}

fn numeric_value(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if is_number_text(s) => s.parse().ok(),
        _ => None,
    }
}

/// The text CloudFormation would compare for an enum: scalars only.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn describe_types(types: &Value) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::ResourceType;

    fn schema(name: &str) -> &'static ResourceSchema {
        Catalog::builtin().lookup(name).unwrap()
    }

    fn create(name: &str, props: Value) -> Vec<PropertyProblem> {
        validate_create(schema(name), &props)
    }

    fn paths(problems: &[PropertyProblem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    fn role_arn() -> Value {
        json!("arn:aws:iam::123456789012:role/app")
    }

    #[test]
    fn valid_properties_have_no_problems() {
        assert_eq!(create("AWS::S3::Bucket", json!({})), []);
        assert_eq!(create("AWS::S3::Bucket", Value::Null), []);
        assert_eq!(
            create(
                "AWS::S3::Bucket",
                json!({
                    "BucketName": "dev-assets",
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
                    ]},
                    "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": "true"},
                    "Tags": [{"Key": "env", "Value": "dev"}]
                })
            ),
            []
        );
        assert_eq!(
            create(
                "AWS::DynamoDB::Table",
                json!({
                    "TableName": "orders",
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]
                })
            ),
            []
        );
        assert_eq!(
            create(
                "AWS::Lambda::Function",
                json!({
                    "Code": {"ZipFile": "def handler(e, c): return 1"},
                    "Role": role_arn(),
                    "Runtime": "python3.13",
                    "Handler": "index.handler",
                    "MemorySize": 256,
                    "Timeout": "30"
                })
            ),
            []
        );
        assert_eq!(
            create(
                "AWS::Cognito::UserPool",
                json!({"UserPoolName": "users", "UserPoolTags": {"env": "dev"}})
            ),
            []
        );
    }

    #[test]
    fn missing_required_properties_are_reported() {
        let p = create(
            "AWS::DynamoDB::Table",
            json!({"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}),
        );
        assert_eq!(paths(&p), ["/KeySchema"]);
        assert_eq!(
            p[0].message,
            "missing required property `KeySchema` for AWS::DynamoDB::Table; add it"
        );

        let p = create("AWS::Lambda::Function", json!({"Runtime": "python3.13"}));
        assert_eq!(paths(&p), ["/Code", "/Role"]);

        // Nested `required` through `$ref`: a tag without `Value`.
        let p = create("AWS::SQS::Queue", json!({"Tags": [{"Key": "env"}]}));
        assert_eq!(paths(&p), ["/Tags/0/Value"]);
        assert!(p[0].message.contains("in `/Tags/0`"), "{}", p[0].message);
    }

    #[test]
    fn unknown_properties_get_a_suggestion() {
        let p = create("AWS::S3::Bucket", json!({"BucketNam": "x"}));
        assert_eq!(
            p,
            [PropertyProblem {
                path: "/BucketNam".into(),
                message:
                    "unknown property `BucketNam` for AWS::S3::Bucket; did you mean `BucketName`?"
                        .into(),
            }]
        );
        let p = create("AWS::S3::Bucket", json!({"Zzzzzz": 1}));
        assert_eq!(paths(&p), ["/Zzzzzz"]);
        assert!(p[0].message.contains("remove it"), "{}", p[0].message);

        // Nested unknown property.
        let p = create(
            "AWS::S3::Bucket",
            json!({"VersioningConfiguration": {"Status": "Enabled", "Statu": "x"}}),
        );
        assert_eq!(paths(&p), ["/VersioningConfiguration/Statu"]);
        assert!(
            p[0].message.contains("did you mean `Status`?"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn tags_under_the_wrong_name_point_to_the_right_one() {
        let p = create(
            "AWS::Cognito::UserPool",
            json!({"UserPoolName": "u", "Tags": [{"Key": "a", "Value": "b"}]}),
        );
        assert_eq!(paths(&p), ["/Tags"]);
        assert_eq!(
            p[0].message,
            "unknown property `Tags` for AWS::Cognito::UserPool; this type keeps its tags in `UserPoolTags`, an object of key to value"
        );
        let p = create(
            "AWS::IAM::ManagedPolicy",
            json!({"PolicyDocument": {}, "Tags": []}),
        );
        assert_eq!(paths(&p), ["/Tags"]);
        assert!(
            p[0].message
                .ends_with("this type cannot be tagged; remove it")
        );
        let p = create(
            "AWS::Budgets::Budget",
            json!({"Budget": {"BudgetType": "COST", "TimeUnit": "MONTHLY"}, "Tags": []}),
        );
        assert_eq!(paths(&p), ["/Tags"]);
        assert!(
            p[0].message.contains("`ResourceTags`, a list"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn nulls_are_reported_as_such() {
        let p = create("AWS::S3::Bucket", json!({"BucketName": null}));
        assert_eq!(
            p,
            [PropertyProblem {
                path: "/BucketName".into(),
                message: "`BucketName` is null; give it a value or leave it out".into(),
            }]
        );
        // Also where the schema names no type (ManagedPolicy's document).
        let p = create("AWS::IAM::ManagedPolicy", json!({"PolicyDocument": null}));
        assert_eq!(paths(&p), ["/PolicyDocument"]);
    }

    /// The examples of the user's workflow guide (seed), with the guide's
    /// `Tags: [...]` filled in the way each type takes tags.
    #[test]
    fn the_workflow_guide_examples_validate() {
        let tags = json!([{"Key": "MANAGED_BY", "Value": "infraguard"}, {"Key": "Environment", "Value": "development"}]);
        assert_eq!(
            create(
                "AWS::S3::Bucket",
                json!({
                    "BucketName": "synthcoreai-documents-dev",
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": true, "BlockPublicPolicy": true,
                        "IgnorePublicAcls": true, "RestrictPublicBuckets": true
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "Tags": tags
                })
            ),
            []
        );
        assert_eq!(
            create(
                "AWS::Cognito::UserPool",
                json!({
                    "UserPoolName": "synthcoreai-users-dev",
                    "AutoVerifiedAttributes": ["email"],
                    "Policies": {"PasswordPolicy": {
                        "MinimumLength": 8, "RequireUppercase": true, "RequireLowercase": true,
                        "RequireNumbers": true, "RequireSymbols": true
                    }},
                    "UserPoolTags": {"MANAGED_BY": "infraguard"}
                })
            ),
            []
        );
        assert_eq!(
            create(
                "AWS::RDS::DBInstance",
                json!({
                    "DBInstanceIdentifier": "synthcoreai-db-dev",
                    "Engine": "postgres",
                    "EngineVersion": "15.4",
                    "DBInstanceClass": "db.t3.micro",
                    "AllocatedStorage": 20,
                    "StorageType": "gp3",
                    "MasterUsername": "synthcoreai_admin",
                    "BackupRetentionPeriod": 7,
                    "Tags": tags
                })
            ),
            []
        );
        assert_eq!(
            create(
                "AWS::Lambda::Function",
                json!({
                    "FunctionName": "synthcoreai-worker-dev",
                    "Runtime": "nodejs20.x",
                    "Handler": "index.handler",
                    "Role": "arn:aws:iam::123456789012:role/lambda-execution-role",
                    "Code": {"ZipFile": "exports.handler = async () => 1;"},
                    "Tags": tags
                })
            ),
            []
        );
    }

    #[test]
    fn wrong_types_are_reported_with_coercions_allowed() {
        let p = create(
            "AWS::Lambda::Function",
            json!({"Code": {}, "Role": role_arn(), "MemorySize": "big"}),
        );
        assert_eq!(paths(&p), ["/MemorySize"]);
        assert_eq!(
            p[0].message,
            "`MemorySize` must be an integer (or a string of digits), got a string"
        );

        let p = create("AWS::S3::Bucket", json!({"Tags": {"env": "dev"}}));
        assert_eq!(paths(&p), ["/Tags"]);
        assert!(p[0].message.contains("must be a list, got an object"));

        let p = create(
            "AWS::SQS::Queue",
            json!({"FifoQueue": "yes", "DelaySeconds": 1.5}),
        );
        assert_eq!(paths(&p), ["/DelaySeconds", "/FifoQueue"]);

        // Coercions CloudFormation performs are accepted.
        assert_eq!(
            create(
                "AWS::SQS::Queue",
                json!({"FifoQueue": "true", "DelaySeconds": "5", "QueueName": "q.fifo"})
            ),
            []
        );
        assert_eq!(
            create(
                "AWS::SSM::Parameter",
                json!({"Type": "String", "Value": 42})
            ),
            []
        );

        let p = validate_create(schema("AWS::S3::Bucket"), &json!(["not", "an", "object"]));
        assert_eq!(paths(&p), [""]);
        assert!(p[0].message.contains("must be a JSON object"));
    }

    #[test]
    fn read_only_properties_cannot_be_set_on_create() {
        let p = create("AWS::S3::Bucket", json!({"Arn": "arn:aws:s3:::x"}));
        assert_eq!(
            p,
            [PropertyProblem {
                path: "/Arn".into(),
                message: "`Arn` is read-only for AWS::S3::Bucket: the cloud sets it; remove it from the properties".into(),
            }]
        );
        // The outermost read-only pointer is reported once.
        let p = create(
            "AWS::Lambda::Function",
            json!({"Code": {}, "Role": role_arn(), "SnapStartResponse": {"ApplyOn": "None"}}),
        );
        assert_eq!(paths(&p), ["/SnapStartResponse"]);
        // ...but in a state they are expected.
        assert_eq!(
            validate_state(
                schema("AWS::S3::Bucket"),
                &json!({"BucketName": "b", "Arn": "arn:aws:s3:::b", "DomainName": "b.s3.amazonaws.com"})
            ),
            []
        );
    }

    #[test]
    fn state_may_lack_write_only_required_properties() {
        // IAM::User's `LoginProfile/Password` is write-only and required
        // inside `LoginProfile`; a state read back from the cloud lacks it.
        let s = schema("AWS::IAM::User");
        let state = json!({"UserName": "u", "LoginProfile": {"PasswordResetRequired": true}});
        assert_eq!(validate_state(s, &state), []);
        let p = validate_create(s, &state);
        assert_eq!(paths(&p), ["/LoginProfile/Password"]);

        // Lambda's `Code` holds only write-only properties: a read may leave
        // it out altogether, but a create must have it.
        let lambda = schema("AWS::Lambda::Function");
        let state = json!({"FunctionName": "f", "Role": role_arn(), "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f"});
        assert_eq!(validate_state(lambda, &state), []);
        let p = validate_state(lambda, &json!({"FunctionName": "f"}));
        assert_eq!(paths(&p), ["/Role"]);
    }

    #[test]
    fn intrinsics_are_accepted_anywhere() {
        assert_eq!(
            create(
                "AWS::Lambda::Function",
                json!({
                    "Code": {"S3Bucket": {"Ref": "Artifacts"}, "S3Key": {"Fn::Sub": "${Env}/code.zip"}},
                    "Role": {"Fn::GetAtt": ["AppRole", "Arn"]},
                    "MemorySize": {"Fn::If": ["IsProd", 1024, 128]},
                    "Environment": {"Fn::If": ["IsProd", {"Variables": {}}, {"Ref": "AWS::NoValue"}]}
                })
            ),
            []
        );
        assert_eq!(
            create(
                "AWS::S3::Bucket",
                json!({"Tags": [{"Fn::If": ["C", {"Key": "a", "Value": "b"}, {"Ref": "AWS::NoValue"}]}]})
            ),
            []
        );
        // A whole property set chosen by a condition cannot be checked here.
        assert_eq!(
            create(
                "AWS::EC2::SecurityGroup",
                json!({"Fn::If": ["C", {"GroupDescription": "x"}, {"Ref": "AWS::NoValue"}]})
            ),
            []
        );
    }

    #[test]
    fn enums_consts_and_bounds() {
        let p = create(
            "AWS::S3::Bucket",
            json!({"VersioningConfiguration": {"Status": "On"}}),
        );
        assert_eq!(paths(&p), ["/VersioningConfiguration/Status"]);
        assert!(
            p[0].message
                .starts_with("`On` is not an allowed value of `/VersioningConfiguration/Status`"),
            "{}",
            p[0].message
        );
        assert!(
            p[0].message.contains("Enabled, Suspended"),
            "{}",
            p[0].message
        );

        let p = create("AWS::SQS::Queue", json!({"DelaySeconds": 9999}));
        assert_eq!(paths(&p), ["/DelaySeconds"]);
        assert!(
            p[0].message.contains("above the maximum of 900"),
            "{}",
            p[0].message
        );

        let long = "x".repeat(64);
        let p = create("AWS::S3::Bucket", json!({"BucketName": long}));
        assert_eq!(paths(&p), ["/BucketName"]);
        assert!(p[0].message.contains("at most 63"), "{}", p[0].message);

        // DynamoDB: the first key must be HASH (prefixItems + const).
        let p = create(
            "AWS::DynamoDB::Table",
            json!({"KeySchema": [{"AttributeName": "pk", "KeyType": "RANGE"}]}),
        );
        assert_eq!(paths(&p), ["/KeySchema/0/KeyType"]);
    }

    #[test]
    fn dynamic_references_skip_value_checks() {
        // 63 characters at most for a bucket name, but the reference is
        // resolved before that limit applies.
        let long_ref = format!("{{{{resolve:ssm:/{}}}}}", "x".repeat(80));
        assert_eq!(
            create("AWS::S3::Bucket", json!({"BucketName": long_ref})),
            []
        );
        assert_eq!(
            create(
                "AWS::S3::Bucket",
                json!({"VersioningConfiguration": {"Status": "{{resolve:ssm:/versioning}}"}})
            ),
            []
        );
    }

    #[test]
    fn enum_case_insensitive_and_any_of_branches() {
        // ElastiCache's enumCaseInsensitive.
        let ok = create(
            "AWS::ElastiCache::ServerlessCache",
            json!({"ServerlessCacheName": "c", "Engine": "valkey", "NetworkType": "IPV4"}),
        );
        assert_eq!(ok, []);
        let p = create(
            "AWS::ElastiCache::ServerlessCache",
            json!({"ServerlessCacheName": "c", "Engine": "valkey", "NetworkType": "ipv5"}),
        );
        assert_eq!(paths(&p), ["/NetworkType"]);

        // IAM::Policy's root anyOf: attach to Users, Groups or Roles.
        let doc = json!({"Version": "2012-10-17", "Statement": []});
        let p = create(
            "AWS::IAM::Policy",
            json!({"PolicyName": "p", "PolicyDocument": doc}),
        );
        assert_eq!(
            p,
            [PropertyProblem {
                path: String::new(),
                message: "AWS::IAM::Policy needs one of `Users` or `Groups` or `Roles`; add one"
                    .into(),
            }]
        );
        assert_eq!(
            create(
                "AWS::IAM::Policy",
                json!({"PolicyName": "p", "PolicyDocument": doc, "Roles": ["app"]})
            ),
            []
        );
    }

    #[test]
    fn co_occurrence_rules() {
        // CloudWatch::Alarm: exactly one of Metrics / MetricName / EvaluationCriteria.
        let base = json!({"ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1});
        let p = create("AWS::CloudWatch::Alarm", base.clone());
        assert!(
            p.iter()
                .any(|p| p.path.is_empty() && p.message.starts_with("exactly one of `Metrics`")),
            "{p:?}"
        );
        let mut both = base.clone();
        both["MetricName"] = json!("CPU");
        both["Metrics"] = json!([]);
        let p = create("AWS::CloudWatch::Alarm", both);
        assert!(
            p.iter()
                .any(|p| p.message.contains("cannot be set together")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|p| p.message.contains("cannot both be set")),
            "{p:?}"
        );

        // Events::Rule: EventPattern or ScheduleExpression.
        let p = create("AWS::Events::Rule", json!({"Name": "r"}));
        assert_eq!(paths(&p), [""]);
        assert!(
            p[0].message
                .starts_with("at least one of `EventPattern`, `ScheduleExpression`")
        );
        assert_eq!(
            create(
                "AWS::Events::Rule",
                json!({"ScheduleExpression": "rate(1 hour)"})
            ),
            []
        );

        // EC2::SecurityGroup: egress rules need a VPC.
        let p = create(
            "AWS::EC2::SecurityGroup",
            json!({"GroupDescription": "d", "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]}),
        );
        assert_eq!(paths(&p), ["/VpcId"]);

        // RDS::DBCluster: MasterUsername `admin` is refused for PostgreSQL (if/then + not).
        let p = create(
            "AWS::RDS::DBCluster",
            json!({"Engine": "aurora-postgresql", "MasterUsername": "admin"}),
        );
        assert_eq!(paths(&p), ["/MasterUsername"]);
        assert_eq!(
            create(
                "AWS::RDS::DBCluster",
                json!({"Engine": "aurora-mysql", "MasterUsername": "admin"})
            ),
            []
        );
    }

    #[test]
    fn write_only_values_are_never_echoed() {
        let p = create(
            "AWS::RDS::DBInstance",
            json!({"MasterUserPassword": ["hunter2-secret"]}),
        );
        assert_eq!(paths(&p), ["/MasterUserPassword"]);
        assert!(!p[0].message.contains("hunter2"), "{}", p[0].message);
        let p = create(
            "AWS::RDS::DBCluster",
            json!({"Engine": "aurora-postgresql", "MasterUsername": "admin", "MasterUserPassword": "short"}),
        );
        assert!(p.iter().all(|p| !p.message.contains("short")), "{p:?}");
    }

    #[test]
    fn types_outside_the_builtin_catalog_get_top_level_checks() {
        let doc = json!({
            "typeName": "AWS::Test::Thing",
            "properties": {"Name": {"type": "string"}, "Size": {"type": "integer"}, "Id": {"type": "string"}},
            "required": ["Name"],
            "additionalProperties": false,
            "primaryIdentifier": ["/properties/Id"],
            "readOnlyProperties": ["/properties/Id"]
        });
        let c = Catalog::from_documents([doc]).unwrap();
        let s = c
            .get(&ResourceType::new("AWS::Test::Thing").unwrap())
            .unwrap();
        let p = validate_create(s, &json!({"Size": "x", "Nam": "a", "Id": "i"}));
        assert_eq!(paths(&p), ["/Id", "/Nam", "/Name", "/Size"]);
        assert_eq!(validate_state(s, &json!({"Name": "a", "Id": "i"})), []);
    }

    #[test]
    fn problems_serialize_as_path_and_message() {
        let p = PropertyProblem {
            path: "/A".into(),
            message: "m".into(),
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"path": "/A", "message": "m"})
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(child("/A", "b/c~d"), "/A/b~1c~0d");
        assert_eq!(display_pointer("/BucketName"), "BucketName");
        assert_eq!(display_pointer("/A/B"), "/A/B");
        assert!(is_integer_text("-12") && !is_integer_text("1.5") && !is_integer_text(""));
        assert!(is_number_text("1.5e3") && !is_number_text("NaN") && !is_number_text("inf"));
        let mut found = Vec::new();
        expand(
            &json!({"A": [{"B": 1}, {"C": 2}, {"B": 3}]}),
            &["A", "*", "B"],
            String::new(),
            &mut found,
        );
        assert_eq!(found, ["/A/0/B", "/A/2/B"]);
    }

    fn patterns_in(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(p) = map.get("pattern").and_then(Value::as_str) {
                    out.push(p.to_string());
                }
                map.values().for_each(|v| patterns_in(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| patterns_in(v, out)),
            _ => {}
        }
    }

    /// Every pattern of the builtin catalog is either evaluated or skipped
    /// for a reason the module doc names; most are evaluated.
    #[test]
    fn catalog_patterns_are_evaluated_unless_unportable() {
        let mut all = Vec::new();
        for t in Catalog::builtin().types() {
            patterns_in(Catalog::builtin().document(t).unwrap(), &mut all);
        }
        all.sort();
        all.dedup();
        let skipped: Vec<&String> = all.iter().filter(|p| compiled(p).is_none()).collect();
        for p in &skipped {
            let known = p.contains("\\p{")
                || p.contains("(?=")
                || p.contains("(?!")
                || p.contains("(?<")
                || portable(p).is_none();
            assert!(known, "pattern `{p}` is skipped for no stated reason");
        }
        assert!(
            skipped.len() * 4 < all.len(),
            "{} of {} patterns skipped: {skipped:?}",
            skipped.len(),
            all.len()
        );
        assert!(compiled("^([a-z0-9][a-z0-9.-]*[a-z0-9])?$").is_some());
    }

    #[test]
    fn portable_rewrites_or_refuses_java_only_syntax() {
        assert_eq!(portable(r"^a\Z").as_deref(), Some(r"^a\z"));
        assert_eq!(portable(r"^a$").as_deref(), Some(r"^a(?:\r?\n)?\z"));
        assert_eq!(portable(r"[$]").as_deref(), Some(r"[$]"));
        assert_eq!(portable(r"\$").as_deref(), Some(r"\$"));
        let end = compiled("^[a-z]+$").unwrap();
        assert!(end.is_match("abc") && end.is_match("abc\n") && !end.is_match("abc\nd"));
        assert_eq!(portable(r"[]a]").as_deref(), Some(r"[\]a]"));
        assert_eq!(portable(r"[^]a]").as_deref(), Some(r"[^\]a]"));
        assert_eq!(portable(r"[\[x]").as_deref(), Some(r"[\[x]"));
        assert_eq!(portable(r"[a[b]]"), None);
        assert_eq!(portable(r"[a-z&&[^e]]"), None);
        assert_eq!(portable(r"^\p{L}+$"), None);
        assert_eq!(portable("a&&b").as_deref(), Some("a&&b"));
        // Look-around is left to the compiler, which refuses it.
        assert!(compiled(r"^[0-9A-Za-z\.\-_]*(?<!\.)$").is_none());
    }

    #[test]
    fn patterns_are_searched_in_strings() {
        // The issue's example: both the pattern and S3's own rule.
        let p = create("AWS::S3::Bucket", json!({"BucketName": "Not_Valid..Name"}));
        assert_eq!(paths(&p), ["/BucketName", "/BucketName"]);
        assert!(
            p.iter().any(|p| p.message
                == "`BucketName` is `Not_Valid..Name`, which does not match the pattern `^([a-z0-9][a-z0-9.-]*[a-z0-9])?$` (failed validation constraint for keyword [pattern]); change it to match"),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|p| p.message.contains("contains two adjacent periods")),
            "{p:?}"
        );
        // Nested: a Lambda function's role must look like a role ARN.
        let p = create(
            "AWS::Lambda::Function",
            json!({"Code": {"ZipFile": "x"}, "Role": "not-an-arn"}),
        );
        assert_eq!(paths(&p), ["/Role"]);
        assert!(
            p[0].message.contains("does not match the pattern"),
            "{}",
            p[0].message
        );
        // Unanchored patterns are searched, as JSON Schema says: SES's
        // `{####}` placeholder may sit anywhere in the text.
        let doc = Catalog::builtin()
            .document(&ResourceType::new("AWS::Cognito::UserPool").unwrap())
            .unwrap();
        let mut all = Vec::new();
        patterns_in(doc, &mut all);
        assert!(all.iter().any(|p| p == r"\{####\}"), "{all:?}");
        assert!(
            compiled(r"\{####\}")
                .unwrap()
                .is_match("Your code is {####}.")
        );
        // Numbers and booleans are not strings to match.
        assert_eq!(create("AWS::SQS::Queue", json!({"DelaySeconds": 5})), []);
    }

    #[test]
    fn patterns_skip_references_secrets_and_fixed_values() {
        // A dynamic reference is resolved before the pattern applies.
        assert_eq!(
            create(
                "AWS::Lambda::Function",
                json!({"Code": {"ZipFile": "x"}, "Role": "{{resolve:ssm:/app/role}}"})
            ),
            []
        );
        // A state keeps a create-only value it was created with.
        assert_eq!(
            validate_state(
                schema("AWS::S3::Bucket"),
                &json!({"BucketName": "Legacy_Bucket"})
            ),
            []
        );
        assert_eq!(
            paths(&create(
                "AWS::S3::Bucket",
                json!({"BucketName": "Legacy_Bucket"})
            )),
            ["/BucketName"]
        );
    }

    #[test]
    fn s3_bucket_names_follow_the_documented_rules() {
        for good in [
            "synthcoreai-documents-dev",
            "abc",
            "my.bucket.1",
            "a1b",
            "1.2.3",
            "1.2.3.4.5",
        ] {
            assert_eq!(
                create("AWS::S3::Bucket", json!({"BucketName": good})),
                [],
                "{good}"
            );
        }
        let cases = [
            ("ab", "is 2 characters long; a bucket name needs at least 3"),
            ("my..bucket", "contains two adjacent periods"),
            ("192.168.5.4", "is formatted as an IP address"),
            ("xn--bucket", "starts with the reserved prefix `xn--`"),
            ("sthree-bucket", "starts with the reserved prefix `sthree-`"),
            (
                "amzn-s3-demo-bucket",
                "starts with the reserved prefix `amzn-s3-demo-`",
            ),
            ("bucket-s3alias", "ends with the reserved suffix `-s3alias`"),
            ("bucket--ol-s3", "ends with the reserved suffix `--ol-s3`"),
            ("bucket.mrap", "ends with the reserved suffix `.mrap`"),
            (
                "bucket--usw2-az1--x-s3",
                "ends with the reserved suffix `--x-s3`",
            ),
            (
                "bucket--table-s3",
                "ends with the reserved suffix `--table-s3`",
            ),
        ];
        for (name, rule) in cases {
            let p = create("AWS::S3::Bucket", json!({"BucketName": name}));
            assert_eq!(
                p,
                [PropertyProblem {
                    path: "/BucketName".into(),
                    message: format!(
                        "`BucketName` `{name}` {rule}; S3 refuses it (InvalidBucketName: The specified bucket is not valid.), see https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
                    ),
                }],
                "{name}"
            );
        }
        // Upper case is the schema pattern's to report.
        let p = create("AWS::S3::Bucket", json!({"BucketName": "MyBucket"}));
        assert_eq!(paths(&p), ["/BucketName"]);
        assert!(
            p[0].message.contains("does not match the pattern"),
            "{}",
            p[0].message
        );
        // A reference is resolved first.
        assert_eq!(
            create(
                "AWS::S3::Bucket",
                json!({"BucketName": "{{resolve:ssm:/n}}"})
            ),
            []
        );
    }
}
