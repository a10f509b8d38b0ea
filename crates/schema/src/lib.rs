//! The catalog of CloudFormation resource schemas for the types infraguard
//! supports, and the property checks built on it.
//!
//! # Layout
//!
//! - [`Catalog`] (`catalog`): every supported type with its
//!   [`ResourceSchema`] summary (identifier, read-only / create-only /
//!   write-only / required properties, where tags go, the name property) and
//!   its stripped schema document. [`Catalog::builtin`] is embedded from
//!   `data/` and parsed once.
//! - [`schema_from_document`] (`distill`): one registry schema document →
//!   [`ResourceSchema`]; also usable on schemas fetched from AWS.
//! - [`validate_create`] / [`validate_state`] (`validate`): every problem
//!   with a set of properties, as [`PropertyProblem`]s with JSON pointers;
//!   schema keywords including `pattern`, and the S3 bucket naming rules
//!   the schema cannot express.
//! - [`registry`]: one [`TypeEntry`](registry::TypeEntry) per supported
//!   type with what its schema does not say: the name property and its
//!   naming convention, deletion protection and how to keep a copy of the
//!   data, secure defaults on create; and [`registry::is_stateful`].
//! - [`is_intrinsic`]: recognises `{"Ref": …}` / `{"Fn::…": …}` values.
//! - [`SchemaError`] (`error`): unknown type (with suggestions) or a
//!   defect in the schema data.
//!
//! The data in `data/` comes from the cfn-lint package (Apache-2.0), with
//! prose removed by `scripts/strip_schemas.py`. This crate does no I/O: the
//! documents are compiled in.
//!
//! [`ResourceSchema`]: infraguard_core::ResourceSchema

mod catalog;
mod distill;
mod embedded;
mod error;
pub mod registry;
mod suggest;
mod validate;

pub use catalog::Catalog;
pub use distill::{handler_permissions, schema_from_document};
pub use error::SchemaError;
pub use validate::{PropertyProblem, validate_create, validate_state};

use serde_json::Value;

/// Whether `value` is a CloudFormation intrinsic: a single-key object whose
/// key is `Ref`, `Condition` or starts with `Fn::`. Its real value is only
/// known to the cloud, so checks must accept it wherever a value may go.
pub fn is_intrinsic(value: &Value) -> bool {
    match value.as_object() {
        Some(map) if map.len() == 1 => map
            .keys()
            .all(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn intrinsics_are_single_key_function_objects() {
        for v in [
            json!({"Ref": "MyBucket"}),
            json!({"Fn::GetAtt": ["Role", "Arn"]}),
            json!({"Fn::Sub": "${AWS::StackName}-x"}),
            json!({"Fn::If": ["C", 1, 2]}),
            json!({"Condition": "IsProd"}),
        ] {
            assert!(is_intrinsic(&v), "{v}");
        }
        for v in [
            json!({"Ref": "A", "Other": 1}),
            json!({"Reference": "A"}),
            json!({"Fn": "x"}),
            json!({}),
            json!("Ref"),
            json!(["Fn::Sub"]),
            json!(null),
        ] {
            assert!(!is_intrinsic(&v), "{v}");
        }
    }
}
