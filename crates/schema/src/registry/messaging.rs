//! Messaging: SES configuration sets, identities and templates, SNS topics,
//! SQS queues and EventBridge rules.

use super::{Deletion, Name, TypeEntry};

pub(super) const ENTRIES: &[TypeEntry] = &[
    TypeEntry {
        type_name: "AWS::SES::ConfigurationSet",
        name: Some(Name::resource("Name")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::SES::EmailIdentity",
        // The identity is an email address or a domain: no convention applies.
        name: None,
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::SES::Template",
        // Inside the `Template` object, and create-only there.
        name: Some(Name::resource("Template/TemplateName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::SNS::Topic",
        name: Some(Name::resource("TopicName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::SQS::Queue",
        name: Some(Name::resource("QueueName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::Events::Rule",
        name: Some(Name::resource("Name")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
];
