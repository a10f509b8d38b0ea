//! What every tool's arguments share: the flattened `environment` argument
//! ([`EnvArg`], and [`EnvOnly`] for tools that take nothing else), the
//! [`Parameters`] extractor that parses a call's arguments, and the object
//! schema the tools declare as their `outputSchema`.
//!
//! Each tool's own argument struct lives beside its tool, in the stage file.
//! Names follow the seed's workflow and the Cloud Control MCP server it
//! describes (`resource_type`, `properties`, `identifier`, `patch_document`,
//! `credentials_token`, ...). Tokens are `Option<String>` on purpose: a
//! missing token is a refusal the agent can read ("call X first"), not a
//! malformed request. Unknown fields are ignored, because agents following
//! the seed pass extra ones (`content`, `context` to `explain`).
//!
//! # Why not rmcp's `Parameters`
//!
//! rmcp's own `Parameters<T>` turns a shape error into a tool result
//! (`isError`) that quotes serde's message, value included. Here a shape
//! error is a malformed request (`-32602`) that names the argument and the
//! type its schema wants, and never quotes a value (it may be a secret). So
//! this module has its own [`Parameters`], with the same name: `#[tool]`
//! finds a method's input schema by that name, so every tool still gets its
//! schema from its argument type.

use std::sync::{Arc, LazyLock};

use rmcp::ErrorData;
use rmcp::handler::server::common::{FromContextPart, schema_for_input};
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::McpError;

/// Every tool that acts on one environment takes this.
const ENV_DOC: &str = "Environment name (`dev`, `prod`). A server started with `--env` serves only that environment and may omit it.";

/// The `environment` argument of every tool that acts on one environment,
/// flattened into its arguments: one field, one description.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct EnvArg {
    /// Environment name (`dev`, `prod`). A server started with `--env` serves only that environment and may omit it.
    #[serde(default)]
    pub environment: Option<String>,
}

/// The `environment` and `region` of a tool that calls one environment's
/// cloud: `region`, when given, must be the environment's.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct EnvRegionArg {
    /// AWS region; must be the environment's region if given.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(flatten)]
    pub env: EnvArg,
}

/// The arguments of a tool that takes only the environment.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct EnvOnly {
    #[serde(flatten)]
    pub env: EnvArg,
}

/// The description shared by every `environment` argument, for tests and docs.
pub fn environment_doc() -> &'static str {
    ENV_DOC
}

/// A tool's arguments, parsed; see the module doc for why not rmcp's own.
pub struct Parameters<T>(pub T);

impl<T: JsonSchema> JsonSchema for Parameters<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<S, T> FromContextPart<ToolCallContext<'_, S>> for Parameters<T>
where
    T: DeserializeOwned + JsonSchema + 'static,
{
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        parse::<T>(&context.name, arguments).map(Parameters)
    }
}

/// Parse a tool's arguments; a shape error is a malformed request, whose
/// message names the argument and the type its schema wants. No message or
/// log line here quotes an argument's value, which may be a secret.
fn parse<T: DeserializeOwned + JsonSchema + 'static>(
    tool: &str,
    arguments: JsonObject,
) -> Result<T, ErrorData> {
    let keys: Vec<&str> = arguments.keys().map(String::as_str).collect();
    tracing::debug!(tool, ?keys, "tool arguments");
    let args = Value::Object(arguments);
    serde_json::from_value(args.clone()).map_err(|e| {
        let schema = input_schema::<T>();
        // serde names a missing field but not a mistyped one; the schema can.
        let detail = mistyped_argument(&schema, &args)
            .unwrap_or_else(|| with_schema_type(&schema, crate::wire::redacted_serde_message(&e)));
        ErrorData::invalid_params(
            format!("{tool}: the arguments do not fit its schema: {detail}"),
            None,
        )
    })
}

/// The input schema `tools/list` shows for arguments of type `T`.
fn input_schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    schema_for_input::<Parameters<T>>().unwrap_or_default()
}

/// The JSON types a property's schema allows, e.g. `["string", "null"]`.
fn allowed_types(prop: &Value) -> Option<Vec<String>> {
    match prop.get("type")? {
        Value::String(t) => Some(vec![t.clone()]),
        Value::Array(ts) => Some(
            ts.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

/// serde's "missing field `x`", with the type the schema wants for `x`.
fn with_schema_type(schema: &JsonObject, message: String) -> String {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name.to_owned());
    let types = |name: &str| allowed_types(schema.get("properties")?.get(name)?);
    match missing.and_then(|name| Some((types(&name)?, name))) {
        Some((types, name)) => format!("`{name}` is required: pass {}", types.join(" or ")),
        None => message,
    }
}

/// The first argument whose JSON type (or, for an array, whose items' type)
/// the tool's schema does not allow.
fn mistyped_argument(schema: &JsonObject, args: &Value) -> Option<String> {
    let props = schema.get("properties")?.as_object()?;
    let type_of = |value: &Value| match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = |allowed: &[String], actual: &str| {
        allowed
            .iter()
            .any(|t| t == actual || (actual == "integer" && t == "number"))
    };
    for (name, value) in args.as_object()? {
        let Some(prop) = props.get(name) else {
            continue;
        };
        let Some(allowed) = allowed_types(prop) else {
            continue;
        };
        let actual = type_of(value);
        if !fits(&allowed, actual) {
            return Some(format!(
                "`{name}` must be {}, got {actual}",
                allowed.join(" or ")
            ));
        }
        if let (Value::Array(items), Some(item_allowed)) =
            (value, prop.get("items").and_then(allowed_types))
            && let Some((i, item)) = items
                .iter()
                .enumerate()
                .find(|(_, item)| !fits(&item_allowed, type_of(item)))
        {
            return Some(format!(
                "`{name}[{i}]` must be {}, got {}",
                item_allowed.join(" or "),
                type_of(item)
            ));
        }
    }
    None
}

/// The `outputSchema` of every tool: an object. What a tool returns is the
/// engine's own report (its fields as the engine serializes them) with the
/// adapter's `next_step`, `display` and approval fields added; the engine's
/// types carry no JSON schema, so the schema promises the shape (an object,
/// which every success is) and leaves the fields open. Refusals
/// (`isError: true`) need not conform, and do not: they carry `error` and
/// `message`.
pub fn engine_object() -> Arc<JsonObject> {
    static SCHEMA: LazyLock<Arc<JsonObject>> = LazyLock::new(|| {
        let schema = json!({
            "type": "object",
            "description": "The engine's result as JSON, with `next_step` where the adapter names one; refusals come as isError results instead.",
            "additionalProperties": true,
        });
        match schema {
            Value::Object(o) => Arc::new(o),
            _ => Arc::default(),
        }
    });
    SCHEMA.clone()
}

/// [`engine_object`] with the fields the next step reads named and
/// described, e.g. a step's token. Still open: no field is required and
/// none is typed, because the engine's reports carry no schema to check
/// them against; the names tell an agent where to look.
pub fn engine_object_naming(fields: &[(&str, &str)]) -> Arc<JsonObject> {
    let mut schema = engine_object().as_ref().clone();
    let properties: JsonObject = fields
        .iter()
        .map(|(name, doc)| (name.to_string(), json!({ "description": doc })))
        .collect();
    schema.insert("properties".into(), Value::Object(properties));
    Arc::new(schema)
}

/// `usage` as an object (`{"storage_gb": 50}`) or the CLI's text form
/// (`storage_gb=50`).
pub(super) fn parse_usage(
    tool: &'static str,
    usage: Option<&Value>,
) -> Result<Option<infraguard_cost::Usage>, McpError> {
    let Some(v) = usage else { return Ok(None) };
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => return Ok(None),
        other => other.to_string(),
    };
    infraguard_cost::parse_usage_arg(&text)
        .map(Some)
        .map_err(|e| McpError::BadArgument {
            tool,
            message: format!("usage: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Probe {
        /// A name.
        resource_type: String,
        /// An id.
        identifier: String,
        #[serde(flatten)]
        env: EnvArg,
    }

    fn args(v: Value) -> JsonObject {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_mistyped_argument_is_named() {
        let schema = input_schema::<Probe>();
        let msg = mistyped_argument(
            &schema,
            &json!({"resource_type": "AWS::S3::Bucket", "identifier": 7}),
        );
        assert_eq!(
            msg.as_deref(),
            Some("`identifier` must be string, got integer")
        );
        assert_eq!(
            mistyped_argument(&schema, &json!({"identifier": "x"})),
            None
        );
    }

    #[test]
    fn a_shape_error_is_invalid_params_naming_the_field_never_the_value() {
        let err =
            parse::<Probe>("get_resource", args(json!({"identifier": "AKIASECRET"}))).unwrap_err();
        assert_eq!(err.code, rmcp::model::ErrorCode::INVALID_PARAMS);
        assert!(
            err.message
                .starts_with("get_resource: the arguments do not fit its schema")
                && err
                    .message
                    .contains("`resource_type` is required: pass string"),
            "{}",
            err.message
        );
        let err = parse::<Probe>(
            "get_resource",
            args(json!({"resource_type": "AKIASECRET", "identifier": ["AKIASECRET"]})),
        )
        .unwrap_err();
        assert!(!err.message.contains("AKIASECRET"), "{}", err.message);
        let ok = parse::<Probe>(
            "get_resource",
            args(json!({"resource_type": "t", "identifier": "i", "environment": "dev"})),
        )
        .unwrap();
        assert_eq!(
            (ok.resource_type.as_str(), ok.identifier.as_str()),
            ("t", "i")
        );
        assert_eq!(ok.env.environment.as_deref(), Some("dev"));
    }

    #[test]
    fn the_environment_argument_has_one_description() {
        let schema = input_schema::<Probe>();
        assert_eq!(
            schema["properties"]["environment"]["description"].as_str(),
            Some(environment_doc())
        );
        assert!(schema.get("title").is_none());
    }

    #[test]
    fn usage_accepts_an_object_or_the_cli_form() {
        let u = parse_usage("estimate_cost", Some(&json!({"storage_gb": 50})))
            .unwrap()
            .unwrap();
        assert!(u.get("storage_gb").is_some());
        let u = parse_usage("estimate_cost", Some(&json!("storage_gb=5")))
            .unwrap()
            .unwrap();
        assert!(u.get("storage_gb").is_some());
        assert!(parse_usage("estimate_cost", None).unwrap().is_none());
        let err = parse_usage("estimate_cost", Some(&json!({"storage_gb": "lots"})))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("estimate_cost") && err.contains("lots"),
            "{err}"
        );
    }

    #[test]
    fn the_output_schema_is_an_open_object() {
        assert_eq!(engine_object()["type"], "object");
        let named = engine_object_naming(&[("explained_token", "for run_checkov")]);
        assert_eq!(named["type"], "object");
        assert_eq!(named["additionalProperties"], true);
        assert_eq!(
            named["properties"]["explained_token"]["description"],
            "for run_checkov"
        );
        assert!(named.get("required").is_none());
    }
}
