//! Identity and secrets: IAM principals and policies, Cognito user pools
//! and their clients, KMS keys, Secrets Manager secrets and SSM parameters.

use super::{Deletion, Name, Protection, Switch, TypeEntry};

pub(super) const ENTRIES: &[TypeEntry] = &[
    TypeEntry {
        type_name: "AWS::IAM::Group",
        name: Some(Name::principal("GroupName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::IAM::ManagedPolicy",
        name: Some(Name::iam_policy("ManagedPolicyName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::IAM::Policy",
        name: Some(Name::iam_policy("PolicyName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::IAM::Role",
        name: Some(Name::principal("RoleName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::IAM::User",
        name: Some(Name::principal("UserName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::Cognito::UserPool",
        name: Some(Name::resource("UserPoolName")),
        deletion: Deletion {
            protection: Some(Protection {
                property: "DeletionProtection",
                switch: Switch::Enum {
                    on: "ACTIVE",
                    off: "INACTIVE",
                },
                not_when_given: None,
            }),
            // No export of users' passwords exists; the users can be listed.
            snapshot: None,
        },
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::Cognito::UserPoolClient",
        name: Some(Name::resource("ClientName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::KMS::Key",
        // Identified by a generated key id; aliases are separate resources.
        name: None,
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::SecretsManager::Secret",
        name: Some(Name::secret("Name")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::SSM::Parameter",
        name: Some(Name::resource("Name")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
];
