//! The one error type of this crate.

use std::fmt::Write as _;

/// What can go wrong when asking the catalog about a type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaError {
    /// The name is not one of the supported types (or not a type name at all).
    #[error("{}", unknown_type_message(name, suggestions))]
    UnknownType {
        name: String,
        /// Supported type names close to `name`, best first (may be empty).
        suggestions: Vec<String>,
    },
    /// A schema document could not be turned into a [`ResourceSchema`]:
    /// the embedded data is corrupt (a build problem, not a user mistake) or
    /// a document from elsewhere is not a CloudFormation resource schema.
    ///
    /// [`ResourceSchema`]: infraguard_core::ResourceSchema
    #[error(
        "the resource schema for `{type_name}` is unusable: {reason}. This is a defect in the schema data, not in your request; please report it"
    )]
    Internal { type_name: String, reason: String },
}

fn unknown_type_message(name: &str, suggestions: &[String]) -> String {
    let mut msg = format!("`{name}` is not a supported resource type");
    match suggestions {
        [] => msg.push('.'),
        [only] => {
            let _ = write!(msg, "; did you mean {only}?");
        }
        [init @ .., last] => {
            let _ = write!(msg, "; did you mean {} or {last}?", init.join(", "));
        }
    }
    msg.push_str(" Run `infraguard types` for the list.");
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_type_message_names_value_suggestions_and_next_step() {
        let one = SchemaError::UnknownType {
            name: "AWS::S3::Buckets".into(),
            suggestions: vec!["AWS::S3::Bucket".into()],
        };
        assert_eq!(
            one.to_string(),
            "`AWS::S3::Buckets` is not a supported resource type; did you mean AWS::S3::Bucket? Run `infraguard types` for the list."
        );
        let two = SchemaError::UnknownType {
            name: "Policy".into(),
            suggestions: vec![
                "AWS::IAM::Policy".into(),
                "AWS::S3::BucketPolicy".into(),
                "AWS::IAM::ManagedPolicy".into(),
            ],
        };
        assert_eq!(
            two.to_string(),
            "`Policy` is not a supported resource type; did you mean AWS::IAM::Policy, AWS::S3::BucketPolicy or AWS::IAM::ManagedPolicy? Run `infraguard types` for the list."
        );
        let none = SchemaError::UnknownType {
            name: "Foo".into(),
            suggestions: vec![],
        };
        assert_eq!(
            none.to_string(),
            "`Foo` is not a supported resource type. Run `infraguard types` for the list."
        );
    }

    #[test]
    fn internal_error_names_the_type() {
        let e = SchemaError::Internal {
            type_name: "AWS::S3::Bucket".into(),
            reason: "no `properties`".into(),
        };
        assert!(e.to_string().contains("`AWS::S3::Bucket`"));
        assert!(e.to_string().contains("no `properties`"));
    }
}
