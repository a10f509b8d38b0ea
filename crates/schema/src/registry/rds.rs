//! RDS: DB instances, Aurora clusters and DB subnet groups.

use super::{Deletion, Name, Protection, Switch, TypeEntry};

pub(super) const ENTRIES: &[TypeEntry] = &[
    TypeEntry {
        type_name: "AWS::RDS::DBInstance",
        name: Some(Name::resource("DBInstanceIdentifier")),
        deletion: Deletion {
            protection: Some(Protection {
                property: "DeletionProtection",
                switch: Switch::Bool,
                // "DB instances in a DB cluster can be deleted even when
                // deletion protection is enabled for the DB cluster" (the
                // DBInstance schema): the cluster is what is protected.
                not_when_given: Some("DBClusterIdentifier"),
            }),
            snapshot: Some(
                "aws rds create-db-snapshot --db-instance-identifier {id} --db-snapshot-identifier {id}-final",
            ),
        },
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::RDS::DBCluster",
        name: Some(Name::resource("DBClusterIdentifier")),
        deletion: Deletion {
            protection: Some(Protection {
                property: "DeletionProtection",
                switch: Switch::Bool,
                not_when_given: None,
            }),
            snapshot: Some(
                "aws rds create-db-cluster-snapshot --db-cluster-identifier {id} --db-cluster-snapshot-identifier {id}-final",
            ),
        },
        secure_defaults: &[],
    },
    TypeEntry {
        type_name: "AWS::RDS::DBSubnetGroup",
        name: Some(Name::resource("DBSubnetGroupName")),
        deletion: Deletion::NONE,
        secure_defaults: &[],
    },
];
