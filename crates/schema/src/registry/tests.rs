//! The registry against the catalog: one entry per type, and every property
//! an entry names checked against the type's schema document.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;
use crate::Catalog;
use crate::distill::resolved;

fn document(type_name: &str) -> &'static Value {
    let catalog = Catalog::builtin();
    let schema = catalog.lookup(type_name).unwrap();
    catalog.document(&schema.type_name).unwrap()
}

/// The (resolved) schema of the property at `path` (`Template/TemplateName`),
/// following `$ref`s into nested objects.
fn property_schema(type_name: &str, path: &str) -> Option<&'static Value> {
    let doc = document(type_name);
    let mut node = doc;
    for segment in path.split('/') {
        let object = resolved(doc, node)?;
        node = object.get("properties")?.get(segment)?;
    }
    resolved(doc, node)
}

#[test]
fn every_catalog_type_has_one_entry_and_every_entry_a_catalog_type() {
    let catalog: BTreeSet<&str> = Catalog::builtin()
        .types()
        .into_iter()
        .map(|t| t.as_str())
        .collect();
    let mut seen = BTreeSet::new();
    for e in entries() {
        assert!(seen.insert(e.type_name), "{} twice", e.type_name);
        assert!(
            catalog.contains(e.type_name),
            "{} is not in the catalog",
            e.type_name
        );
    }
    let missing: Vec<_> = catalog.difference(&seen).collect();
    assert!(missing.is_empty(), "no entry for {missing:?}");
    assert_eq!(seen, catalog);
}

#[test]
fn every_name_is_a_string_property_of_its_schema() {
    for e in entries() {
        let Some(name) = e.name else { continue };
        let schema = property_schema(e.type_name, name.path)
            .unwrap_or_else(|| panic!("{}: no property {}", e.type_name, name.path));
        assert_eq!(schema["type"], "string", "{}: {}", e.type_name, name.path);
    }
}

#[test]
fn the_distilled_name_property_is_the_top_level_name() {
    for e in entries() {
        let schema = Catalog::builtin().lookup(e.type_name).unwrap();
        assert_eq!(
            schema.name_property.as_deref(),
            e.name.and_then(|n| n.top_level()),
            "{}",
            e.type_name
        );
    }
    // The two names inside an object, which only the naming rule reads.
    assert_eq!(
        name("AWS::SES::Template").unwrap().segments(),
        ["Template", "TemplateName"]
    );
    assert_eq!(name("AWS::Budgets::Budget").unwrap().top_level(), None);
}

#[test]
fn conventions_are_the_policy_crates_kinds() {
    let of = |t: &str| name(t).map(|n| n.convention);
    assert_eq!(of("AWS::S3::Bucket"), Some(Convention::Resource));
    for t in ["AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Group"] {
        assert_eq!(of(t), Some(Convention::Principal), "{t}");
    }
    for t in ["AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"] {
        assert_eq!(of(t), Some(Convention::IamPolicy), "{t}");
    }
    assert_eq!(of("AWS::SecretsManager::Secret"), Some(Convention::Secret));
    for t in [
        "AWS::KMS::Key",
        "AWS::SES::EmailIdentity",
        "AWS::Amplify::Branch",
    ] {
        assert_eq!(of(t), None, "{t}");
    }
}

#[test]
fn protection_switches_match_their_schemas_and_only_stateful_types_have_one() {
    let mut protected = Vec::new();
    for e in entries() {
        if e.deletion.snapshot.is_some() {
            assert!(e.stateful(), "{} has a snapshot hint", e.type_name);
        }
        let Some(p) = e.deletion.protection else {
            continue;
        };
        protected.push(e.type_name);
        assert!(
            e.stateful(),
            "{} is protected but not stateful",
            e.type_name
        );
        let schema = property_schema(e.type_name, p.property)
            .unwrap_or_else(|| panic!("{}: no property {}", e.type_name, p.property));
        match p.switch {
            Switch::Bool => assert_eq!(schema["type"], "boolean", "{}", e.type_name),
            Switch::Enum { on, off } => {
                let values = schema["enum"].as_array().unwrap();
                assert!(values.contains(&json!(on)), "{}: {on}", e.type_name);
                assert!(values.contains(&json!(off)), "{}: {off}", e.type_name);
            }
        }
        if let Some(given) = p.not_when_given {
            assert!(
                property_schema(e.type_name, given).is_some(),
                "{}: no property {given}",
                e.type_name
            );
        }
    }
    protected.sort();
    assert_eq!(
        protected,
        [
            "AWS::Cognito::UserPool",
            "AWS::DynamoDB::Table",
            "AWS::Logs::LogGroup",
            "AWS::RDS::DBCluster",
            "AWS::RDS::DBInstance",
        ]
    );
}

#[test]
fn protection_reads_bools_enums_and_cluster_members() {
    let instance = deletion("AWS::RDS::DBInstance").protection.unwrap();
    assert!(instance.is_on(&json!({"DeletionProtection": true})));
    assert!(instance.is_on(&json!({"DeletionProtection": "True"})));
    assert!(!instance.is_on(&json!({"DeletionProtection": false})));
    assert!(!instance.is_on(&json!({})));
    assert!(!instance.is_on(&json!({"DeletionProtection": true, "DBClusterIdentifier": "c"})));
    assert!(instance.is_on(&json!({"DeletionProtection": true, "DBClusterIdentifier": " "})));
    assert_eq!(instance.off(), json!(false));
    assert_eq!(instance.on(), json!(true));

    let pool = deletion("AWS::Cognito::UserPool").protection.unwrap();
    assert!(pool.is_on(&json!({"DeletionProtection": "ACTIVE"})));
    assert!(!pool.is_on(&json!({"DeletionProtection": "INACTIVE"})));
    assert!(!pool.is_on(&json!({"DeletionProtection": true})));
    assert_eq!(pool.off(), json!("INACTIVE"));

    assert_eq!(deletion("AWS::S3::Bucket").protection, None);
    assert_eq!(deletion("AWS::Nope::Nope"), Deletion::NONE);
}

#[test]
fn snapshot_hints_name_the_identifier() {
    assert_eq!(
        deletion("AWS::DynamoDB::Table").snapshot_hint("t"),
        "take one first: `aws dynamodb create-backup --table-name t --backup-name t-final`"
    );
    assert!(
        deletion("AWS::RDS::DBCluster")
            .snapshot_hint("c")
            .contains("--db-cluster-identifier c --db-cluster-snapshot-identifier c-final")
    );
    assert_eq!(
        deletion("AWS::S3::Bucket").snapshot_hint("b"),
        "copy what you need first"
    );
}

#[test]
fn secure_defaults_are_valid_values_of_real_properties() {
    let mut with_defaults = 0;
    for e in entries() {
        let schema = Catalog::builtin().lookup(e.type_name).unwrap();
        let mut seen = BTreeSet::new();
        for d in e.secure_defaults {
            with_defaults += 1;
            assert!(
                seen.insert(d.property),
                "{}: {} twice",
                e.type_name,
                d.property
            );
            assert!(
                schema.has_property(d.property),
                "{}: no property {}",
                e.type_name,
                d.property
            );
            let value: Value = serde_json::from_str(d.value)
                .unwrap_or_else(|err| panic!("{}: {}: {err}", e.type_name, d.property));
            assert_eq!(d.value(), value);
            let problems: Vec<_> = crate::validate_create(schema, &json!({d.property: value}))
                .into_iter()
                .filter(|p| p.path.starts_with(&format!("/{}", d.property)))
                .collect();
            assert!(problems.is_empty(), "{}: {problems:?}", e.type_name);
            assert!(!d.note.is_empty(), "{}: {}", e.type_name, d.property);
        }
    }
    assert_eq!(with_defaults, 2);
    assert_eq!(secure_defaults("AWS::Nope::Nope"), &[]);
}

#[test]
fn stateful_data_covers_catalog_types_and_others() {
    let stateful: Vec<&str> = entries()
        .filter(|e| e.stateful())
        .map(|e| e.type_name)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        stateful,
        [
            "AWS::Cognito::UserPool",
            "AWS::DynamoDB::Table",
            "AWS::KMS::Key",
            "AWS::Logs::LogGroup",
            "AWS::RDS::DBCluster",
            "AWS::RDS::DBInstance",
            "AWS::S3::Bucket",
            "AWS::SQS::Queue",
            "AWS::SecretsManager::Secret",
        ]
    );
    // Templates name types outside the catalog; the data answers for them.
    assert!(is_stateful("AWS::EFS::FileSystem"));
    assert!(!is_stateful("AWS::IAM::Role"));
    assert!(!is_stateful("AWS::Nope::Nope"));
}
