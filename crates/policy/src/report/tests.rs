use std::collections::HashMap;

use super::sarif::{level, security_severity};
use super::*;
use crate::{ScanOptions, parse_template, scan};

const T: &str = "Resources:\n  Docs:\n    Type: AWS::S3::Bucket\n    Properties:\n      AccessControl: PublicRead\n";

#[test]
fn sarif_has_the_shape_code_scanning_wants() {
    let report = scan(&parse_template(T).unwrap(), &ScanOptions::default());
    let s = sarif_with_source(&report, "templates/docs.yaml", T);
    assert_eq!(s["version"], "2.1.0");
    assert!(s["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &s["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len());
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "templates/docs.yaml");
        let line = loc["region"]["startLine"].as_u64().unwrap();
        if r["ruleId"] == "IG-S3-006" {
            assert_eq!(line, 5, "the AccessControl line");
        } else {
            assert!((2..=5).contains(&line), "{line}");
        }
    }
}

#[test]
fn json_has_findings_with_required_fields() {
    let report = scan(&parse_template(T).unwrap(), &ScanOptions::default());
    let j = json(&report);
    let findings = j["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        for key in [
            "resource",
            "type",
            "rule",
            "checkov_id",
            "severity",
            "path",
            "message",
        ] {
            assert!(f.get(key).is_some(), "missing {key} in {f}");
        }
    }
    let s3_006 = findings.iter().find(|f| f["rule"] == "IG-S3-006").unwrap();
    assert_eq!(s3_006["checkov_id"], "CKV_AWS_20");
    assert_eq!(s3_006["resource"], "Docs");
    assert_eq!(s3_006["type"], "AWS::S3::Bucket");
    assert_eq!(s3_006["path"], "Properties/AccessControl");
    let dp = findings
        .iter()
        .find(|f| f["rule"] == "IG-DATA-001")
        .unwrap();
    assert!(dp["checkov_id"].is_null());
    assert_eq!(j["summary"]["resources"], 1);
}

#[test]
fn table_groups_by_resource_worst_first() {
    let report = scan(&parse_template(T).unwrap(), &ScanOptions::default());
    let t = table(&report);
    assert!(t.contains("Docs (AWS::S3::Bucket)"));
    let high = t.find("HIGH").unwrap();
    let low = t.find("LOW").unwrap();
    assert!(high < low, "{t}");
    assert!(t.contains("Properties/AccessControl"));
    assert_eq!(
        resource_line("{\n \"Resources\": {\n  \"Docs\" : {", "Docs"),
        3
    );
}

/// The line lookups as they were before [`SourceIndex`] (a scan of the
/// whole text per finding), kept to prove the index agrees.
fn finding_line_as_before(source: &str, resource: &str, path: &str) -> usize {
    let lines: Vec<&str> = source.lines().collect();
    let start = resource_line_as_before(source, resource).saturating_sub(1);
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = lines.get(start).map_or(0, |l| indent(l));
    let end = lines
        .iter()
        .enumerate()
        .skip(start + 1)
        .find(|(_, l)| !l.trim().is_empty() && indent(l) <= own)
        .map_or(lines.len(), |(i, _)| i);
    let mut at = start;
    for seg in path
        .split('/')
        .filter(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
    {
        let yaml = format!("{seg}:");
        let json = format!("\"{seg}\"");
        let found = (at..end).find(|i| {
            let t = lines[*i].trim_start().trim_start_matches("- ");
            t.starts_with(&yaml) || lines[*i].contains(&json)
        });
        match found {
            Some(i) => at = i,
            None => break,
        }
    }
    at + 1
}

fn resource_line_as_before(source: &str, resource: &str) -> usize {
    let yaml = format!("{resource}:");
    let json = format!("\"{resource}\"");
    source
        .lines()
        .position(|l| {
            let t = l.trim_start();
            t.starts_with(&yaml)
                || (t.starts_with(&json) && t[json.len()..].trim_start().starts_with(':'))
        })
        .map_or(1, |i| i + 1)
}

#[test]
fn the_source_index_finds_the_lines_the_old_scan_found() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut sources: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "yaml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(sources.len() >= 5);
    // Odd layouts: a blank first line, everything on one line, a key
    // that appears first outside Resources, a resource at the end.
    sources.push(format!("\n{T}"));
    sources.push(
        r#"{"Resources":{"Docs":{"Type":"AWS::S3::Bucket","Properties":{"AccessControl":"PublicRead"}}}}"#
            .into(),
    );
    sources.push(format!(
        "Parameters:\n  Docs:\n    Type: String\n{T}  Other:\n    Type: AWS::SQS::Queue\n"
    ));
    sources.push("\n\n".into());
    let options = ScanOptions {
        today: "2026-11-26".into(),
        ..Default::default()
    };
    let mut checked = 0;
    for source in &sources {
        let index = SourceIndex::new(source);
        let Ok(template) = parse_template(source) else {
            continue;
        };
        let report = scan(&template, &options);
        for f in &report.findings {
            assert_eq!(
                index.finding_line(&f.resource, &f.path),
                finding_line_as_before(source, &f.resource, &f.path),
                "{} {} in\n{source}",
                f.resource,
                f.path
            );
            checked += 1;
        }
        for name in ["Docs", "Other", "Nope", "", "Fn::If", "\"Docs\"", "Type"] {
            assert_eq!(
                index.resource_line(name),
                resource_line_as_before(source, name),
                "{name:?}"
            );
            assert_eq!(
                index.finding_line(name, "Properties/AccessControl"),
                finding_line_as_before(source, name, "Properties/AccessControl"),
                "{name:?}"
            );
        }
    }
    assert!(checked > 100, "{checked}");
}

/// SARIF as it was built before [`SarifLog`] (a `Value` per result),
/// kept to prove the new rendering is the same text.
fn sarif_as_before(
    report: &ScanReport,
    artifact_uri: &str,
    line: impl Fn(&str, &str) -> usize,
) -> Value {
    let catalogue = crate::rules();
    let mut used: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    used.sort_unstable();
    used.dedup();
    // The first finding of each rule, in one pass rather than one per rule.
    let mut first: HashMap<&str, &crate::Finding> = HashMap::new();
    for f in &report.findings {
        first.entry(f.rule.as_str()).or_insert(f);
    }
    let rules: Vec<Value> = used
        .iter()
        .map(|id| {
            let info = catalogue.iter().find(|r| r.id == *id);
            let f = first.get(id).copied();
            let title = info
                .map(|i| i.title)
                .or(f.map(|f| f.title.as_str()))
                .unwrap_or(id);
            let help = info
                .map(|i| i.remediation)
                .or(f.map(|f| f.remediation.as_str()))
                .unwrap_or("");
            let sev = info
                .map(|i| i.severity)
                .or(f.map(|f| f.severity))
                .unwrap_or(Severity::Medium);
            let mut props = json!({
                "security-severity": security_severity(sev),
                "tags": ["security", "cloudformation"],
            });
            if let Some(c) = info.and_then(|i| i.checkov_id) {
                props["checkov_id"] = json!(c);
            }
            json!({
                "id": id,
                "name": id.replace('-', ""),
                "shortDescription": {"text": title},
                "fullDescription": {"text": title},
                "help": {"text": help},
                "defaultConfiguration": {"level": level(sev)},
                "properties": props,
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let rule_index = used.binary_search(&f.rule.as_str()).unwrap_or(0);
            let mut r = json!({
                "ruleId": f.rule,
                "ruleIndex": rule_index,
                "level": level(f.severity),
                "message": {"text": format!("{}: {} ({})", f.resource, f.message, f.path)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri},
                        "region": {"startLine": line(&f.resource, &f.path)}
                    },
                    "logicalLocations": [{
                        "name": f.resource,
                        "fullyQualifiedName": format!("Resources/{}/{}", f.resource, f.path),
                        "kind": "resource"
                    }]
                }],
                "partialFingerprints": {
                    "infraguard/v1": format!("{}/{}/{}", f.rule, f.resource, f.path)
                },
                "properties": {"severity": f.severity.as_str(), "checkov_id": f.checkov_id},
            });
            if let Some(s) = &f.suppressed {
                r["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": format!("{}: {}", s.source, s.reason)
                }]);
            }
            r
        })
        .collect();
    let mut sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "infraguard",
                "informationUri": "https://example.invalid/infraguard",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": [],
            }},
            "artifacts": [{"location": {"uri": artifact_uri}}],
            "results": [],
        }]
    });
    // Moved in afterwards: `json!` serialises every value it is given, so
    // naming the lists inside it made a deep copy of every result (and then
    // dropped the original), which doubled the cost of a large report.
    sarif["runs"][0]["tool"]["driver"]["rules"] = Value::Array(rules);
    sarif["runs"][0]["results"] = Value::Array(results);
    sarif
}

#[test]
fn sarif_is_the_same_text_as_before_the_serialisable_log() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let options = ScanOptions {
        today: "2026-11-26".into(),
        suppressions: vec![crate::Suppress {
            rule: "IG-S3-008".into(),
            resource: "*".into(),
            reason: "logs elsewhere".into(),
        }],
        ..Default::default()
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.extension().is_some_and(|e| e == "json" || e == "yaml") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let mut report = scan(&parse_template(&source).unwrap(), &options);
        // A rule the catalogue does not know, as a merged Checkov check.
        if let Some(mut extra) = report.findings.first().cloned() {
            extra.rule = "CKV_AWS_999".into();
            extra.title = "Something Checkov has".into();
            report.findings.push(extra);
        }
        let index = SourceIndex::new(&source);
        let before = sarif_as_before(&report, "t.json", |r, p| index.finding_line(r, p));
        let now = sarif_with_source(&report, "t.json", &source);
        assert_eq!(now, before, "{}", path.display());
        let text = serde_json::to_string_pretty(&sarif_log(&[SarifInput {
            report: &report,
            artifact_uri: "t.json",
            source: Some(&source),
        }]))
        .unwrap();
        let mut merged_order = before.clone();
        // sarif_log orders rules by first result; re-index to compare.
        let rules = merged_order["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .clone();
        let mut order: Vec<Value> = Vec::new();
        for r in merged_order["runs"][0]["results"].as_array_mut().unwrap() {
            let id = r["ruleId"].clone();
            let i = match order.iter().position(|x| x["id"] == id) {
                Some(i) => i,
                None => {
                    order.push(rules.iter().find(|x| x["id"] == id).unwrap().clone());
                    order.len() - 1
                }
            };
            r["ruleIndex"] = json!(i);
        }
        merged_order["runs"][0]["tool"]["driver"]["rules"] = Value::Array(order);
        assert_eq!(text, serde_json::to_string_pretty(&merged_order).unwrap());
        assert_eq!(
            serde_json::to_string(&sarif(&report, "t.json")).unwrap(),
            serde_json::to_string(&sarif_as_before(&report, "t.json", |_, _| 1)).unwrap()
        );
        checked += report.findings.len();
    }
    assert!(checked > 100, "{checked}");
}
