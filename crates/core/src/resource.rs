//! Resource type names and the three mutating operations.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A CloudFormation resource type name such as `AWS::S3::Bucket`.
///
/// Only the shape is checked here (three `::`-separated parts, the first a
/// known partition prefix); whether infraguard supports the type is the
/// schema catalog's business.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceType(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a resource type name: expected three parts like `AWS::S3::Bucket` (Organization::Service::Resource)"
)]
pub struct ResourceTypeError(pub String);

impl ResourceType {
    pub fn new(name: &str) -> Result<Self, ResourceTypeError> {
        let parts: Vec<&str> = name.split("::").collect();
        let well_formed = parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
            && parts[0]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase());
        if well_formed {
            Ok(Self(name.to_string()))
        } else {
            Err(ResourceTypeError(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `S3` for `AWS::S3::Bucket`.
    pub fn service(&self) -> &str {
        self.0.split("::").nth(1).unwrap_or_default()
    }

    /// `Bucket` for `AWS::S3::Bucket`.
    pub fn resource(&self) -> &str {
        self.0.split("::").nth(2).unwrap_or_default()
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ResourceType {
    type Err = ResourceTypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for ResourceType {
    type Error = ResourceTypeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<ResourceType> for String {
    fn from(t: ResourceType) -> String {
        t.0
    }
}

/// What a plan does to a resource. Names match Cloud Control's `Operation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    /// The Cloud Control spelling (`CREATE`, `UPDATE`, `DELETE`).
    pub fn cloud_control_name(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "create" => Ok(Operation::Create),
            "update" => Ok(Operation::Update),
            "delete" => Ok(Operation::Delete),
            _ => Err(format!(
                "`{s}` is not an operation: use create, update or delete"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_aws_type_names() {
        let t = ResourceType::new("AWS::S3::Bucket").unwrap();
        assert_eq!(t.service(), "S3");
        assert_eq!(t.resource(), "Bucket");
    }

    #[test]
    fn rejects_malformed_names() {
        for bad in [
            "S3::Bucket",
            "AWS::S3::",
            "aws::s3::bucket",
            "AWS::S3::Bucket::X",
            "",
        ] {
            assert!(ResourceType::new(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn operation_parses_case_insensitively() {
        assert_eq!("UPDATE".parse::<Operation>().unwrap(), Operation::Update);
        assert!("replace".parse::<Operation>().is_err());
    }
}
