//! Storage: S3 buckets and their policies, DynamoDB tables, ECR
//! repositories and ElastiCache Serverless caches.

use super::{Deletion, Name, Protection, SecureDefault, Switch, TypeEntry};

pub(super) const ENTRIES: &[TypeEntry] = &[
    TypeEntry {
        type_name: "AWS::S3::Bucket",
        name: Some(Name::resource("BucketName")),
        // No switch: a bucket must be emptied before AWS deletes it.
        deletion: Deletion::NONE,
        secure_defaults: &[
            SecureDefault {
                property: "PublicAccessBlockConfiguration",
                value: r#"{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}"#,
                note: "public access is blocked (PublicAccessBlockConfiguration added; set it yourself to change)",
            },
            SecureDefault {
                property: "BucketEncryption",
                value: r#"{"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}"#,
                note: "objects are encrypted at rest with SSE-S3 (BucketEncryption added)",
            },
        ],
    },
    TypeEntry {
        type_name: "AWS::S3::BucketPolicy",
        // Identified by its bucket; it has no name of its own.
        name: None,
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::DynamoDB::Table",
        name: Some(Name::resource("TableName")),
        deletion: Deletion {
            protection: Some(Protection {
                property: "DeletionProtectionEnabled",
                switch: Switch::Bool,
                not_when_given: None,
            }),
            snapshot: Some("aws dynamodb create-backup --table-name {id} --backup-name {id}-final"),
        },
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::ECR::Repository",
        name: Some(Name::resource("RepositoryName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::ElastiCache::ServerlessCache",
        name: Some(Name::resource("ServerlessCacheName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
];
