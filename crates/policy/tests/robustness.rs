//! Malformed templates never make a rule panic: every property of every
//! corpus resource, and the resource entries themselves, are replaced in turn
//! by values of the wrong shape, and the whole template is scanned.

use std::path::PathBuf;

use infraguard_policy::{ScanOptions, Template, apply_fixes, parse_template, report, scan};
use serde_json::{Value, json};

fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(0),
        json!(-1),
        json!(1.5),
        json!(""),
        json!("*"),
        json!(true),
        json!([]),
        json!([null, 1, "x", {"Ref": "P"}]),
        json!({}),
        json!({"Ref": "AWS::NoValue"}),
        json!({"Fn::If": ["C", {"a": 1}, [1]]}),
        json!({"Statement": "nope"}),
        json!({"Statement": [1, "x", null, {"Effect": 7, "Action": {"x": 1}, "Resource": 3}]}),
    ]
}

#[test]
fn wrong_shapes_are_not_panics() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let options = ScanOptions {
        today: "2026-11-26".into(),
        naming: Some(infraguard_policy::NamingContext {
            prefix: "synthcoreai".into(),
            env: "dev".into(),
            iam_prefix: "SynthCoreAI".into(),
        }),
        suppressions: Vec::new(),
        accounts: None,
    };
    let mut scans = 0;
    for name in [
        "s3.json",
        "iam.json",
        "data-stores.json",
        "compute-messaging.json",
        "identity-mail.yaml",
    ] {
        let t = parse_template(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        let resources = t.0["Resources"].as_object().unwrap().clone();
        // One representative resource per type keeps the run short.
        let mut seen_types = std::collections::BTreeSet::new();
        for (id, entry) in &resources {
            let ty = entry["Type"].as_str().unwrap_or("").to_string();
            if !seen_types.insert(ty) {
                continue;
            }
            let props: Vec<String> = entry
                .get("Properties")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            for odd in odd_values() {
                // The whole Properties, Metadata and entry.
                for key in ["Properties", "Metadata", "DeletionPolicy"] {
                    let mut doc = t.0.clone();
                    doc["Resources"][id][key] = odd.clone();
                    exercise(&Template(doc), &options);
                    scans += 1;
                }
                let mut doc = t.0.clone();
                doc["Resources"][id] = odd.clone();
                exercise(&Template(doc), &options);
                // Each property.
                for p in &props {
                    let mut doc = t.0.clone();
                    doc["Resources"][id]["Properties"][p] = odd.clone();
                    exercise(&Template(doc), &options);
                    scans += 1;
                }
            }
        }
    }
    assert!(scans > 500, "{scans}");
}

fn exercise(t: &Template, options: &ScanOptions) {
    let r = scan(t, options);
    let _ = report::table(&r);
    let _ = report::json(&r);
    let _ = report::sarif(&r, "t.json");
    let _ = apply_fixes(t, &r.findings);
}
