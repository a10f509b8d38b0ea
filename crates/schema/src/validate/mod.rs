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
//! ([`s3_bucket_name_problems`](service_rules::s3_bucket_name_problems)).
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
//!
//! # Layout
//!
//! - this file: the entry points, the `Checker` that walks a value beside
//!   its schema (`$ref`, `type`, nulls) and the pointer helpers;
//! - `values`: `enum`/`enumCaseInsensitive`/`const` and the length, count
//!   and range bounds;
//! - `pattern`: `pattern`, and which registry regexes are portable to
//!   `regex-lite`;
//! - `structure`: objects (`properties`, `required`, `additionalProperties`,
//!   `patternProperties`), the co-occurrence rules, and arrays;
//! - `combinators`: `allOf`/`anyOf`/`oneOf`/`not`/`if`-`then`-`else`;
//! - `service_rules`: what a service documents beyond its schema (S3 bucket
//!   names);
//! - `types`: the `type` keyword with CloudFormation's coercions, and how
//!   values and types are named in messages.

mod combinators;
mod pattern;
mod service_rules;
mod structure;
#[cfg(test)]
mod tests;
mod types;
mod values;

use infraguard_core::{ResourceSchema, TagStyle};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Catalog;
use crate::distill::{resolve_ref, resolved};
use crate::is_intrinsic;
use types::{describe_types, kind, type_matches};

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

/// One validation: the document whose `$ref`s it follows, the summary for
/// read-only, write-only and create-only paths, and the mode. Its methods
/// are spread over this module's files, one keyword family each.
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
            let inside = infraguard_core::pointer::find_outside(properties, pattern, &is_intrinsic);
            found.extend(inside.into_iter().filter(|p| !p.is_empty()));
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
                    .any(|q| q != *p && infraguard_core::pointer::pointer_under(q, p))
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
                    .any(|w| infraguard_core::pointer::pointer_touches(w, pointer))
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
}

/// `parent` + `/key`, with the key escaped as RFC 6901 wants.
fn child(parent: &str, key: &str) -> String {
    format!("{parent}/{}", infraguard_core::pointer::escape(key))
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
