//! Networking: VPCs, subnets and security groups.

use super::{Deletion, Name, TypeEntry};

pub(super) const ENTRIES: &[TypeEntry] = &[
    TypeEntry {
        type_name: "AWS::EC2::SecurityGroup",
        name: Some(Name::resource("GroupName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::EC2::Subnet",
        // Identified by a generated id; a `Name` tag is only a tag.
        name: None,
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::EC2::VPC",
        // As for subnets.
        name: None,
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
];
