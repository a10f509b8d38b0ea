//! Compute: Lambda functions, Step Functions state machines and Amplify
//! apps and branches.

use super::{Deletion, Name, TypeEntry};

pub(super) const ENTRIES: &[TypeEntry] = &[
    TypeEntry {
        type_name: "AWS::Lambda::Function",
        name: Some(Name::resource("FunctionName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::StepFunctions::StateMachine",
        name: Some(Name::resource("StateMachineName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::Amplify::App",
        name: Some(Name::resource("Name")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::Amplify::Branch",
        // Named after the git branch it builds: no convention applies.
        name: None,
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
];
