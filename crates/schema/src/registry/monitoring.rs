//! Monitoring and spend: CloudWatch alarms, CloudWatch Logs log groups and
//! budgets.

use super::{Deletion, Name, Protection, Switch, TypeEntry};

pub(super) const ENTRIES: &[TypeEntry] = &[
    TypeEntry {
        type_name: "AWS::CloudWatch::Alarm",
        name: Some(Name::resource("AlarmName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::Logs::LogGroup",
        // A path such as `/aws/lambda/fn`: the naming rule judges its last
        // segment.
        name: Some(Name::resource("LogGroupName")),
        deletion: Deletion {
            protection: Some(Protection {
                property: "DeletionProtectionEnabled",
                switch: Switch::Bool,
                not_when_given: None,
            }),
            snapshot: None,
        },
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::Budgets::Budget",
        // Inside the `Budget` object, and create-only there.
        name: Some(Name::resource("Budget/BudgetName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
];
