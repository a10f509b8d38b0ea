//! Renderings of a [`ScanReport`]: a table for people, JSON for programs and
//! SARIF 2.1.0 for GitHub code scanning.
//!
//! The table groups findings by resource (template order) with the worst
//! first, and shows the property path of each. The JSON is an object with a
//! `findings` list (every field of [`crate::Finding`]; `checkov_id` is `null`
//! where there is none), `undetermined` and a `summary`. SARIF carries one
//! rule entry per rule that produced a result and one result per open or
//! suppressed finding (suppressed ones with a `suppressions` entry, as the
//! spec says).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use crate::{RuleInfo, ScanReport, Severity};

/// A plain-text report, grouped by resource, worst first.
pub fn table(report: &ScanReport) -> String {
    let mut s = String::new();
    let open = report.findings.iter().filter(|f| f.is_open()).count();
    let suppressed = report.findings.len() - open;
    if report.findings.is_empty() {
        let _ = writeln!(s, "No findings.");
    }
    let mut current: Option<(&str, &str)> = None;
    for f in &report.findings {
        if current != Some((f.resource.as_str(), f.type_name.as_str())) {
            current = Some((f.resource.as_str(), f.type_name.as_str()));
            let _ = writeln!(
                s,
                "\n{} ({})",
                f.resource,
                if f.type_name.is_empty() {
                    "-"
                } else {
                    &f.type_name
                }
            );
        }
        let id = match &f.checkov_id {
            Some(c) => format!("{} [{c}]", f.rule),
            None => f.rule.clone(),
        };
        let _ = writeln!(s, "  {:<8} {:<28} {}", f.severity.as_str(), id, f.path);
        let _ = writeln!(s, "           {}", f.message);
        match &f.suppressed {
            Some(sup) => {
                let _ = writeln!(s, "           suppressed ({}): {}", sup.source, sup.reason);
            }
            None => {
                let _ = writeln!(
                    s,
                    "           fix: {}{}",
                    f.remediation,
                    if f.fix.is_some() {
                        " (auto-fixable: --fix)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    let counts = severity_counts(report);
    let _ = writeln!(
        s,
        "\n{} resource(s), {} check(s) run: {} open finding(s) ({}), {} suppressed, {} undetermined.",
        report.resources,
        report.rules_run,
        open,
        counts
            .iter()
            .rev()
            .filter(|(_, n)| **n > 0)
            .map(|(sev, n)| format!("{n} {}", sev.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
        suppressed,
        report.undetermined.len()
    );
    if !report.undetermined.is_empty() {
        let _ = writeln!(
            s,
            "Cannot tell (intrinsic functions or parameters decide at deploy time):"
        );
        for u in &report.undetermined {
            let _ = writeln!(s, "  {} {} {}: {}", u.rule, u.resource, u.path, u.reason);
        }
    }
    s
}

fn severity_counts(report: &ScanReport) -> BTreeMap<Severity, usize> {
    let mut m = BTreeMap::new();
    for sev in [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ] {
        m.insert(sev, 0);
    }
    for f in report.findings.iter().filter(|f| f.is_open()) {
        *m.entry(f.severity).or_insert(0) += 1;
    }
    m
}

/// `{"findings": [...], "undetermined": [...], "summary": {...}}`.
pub fn json(report: &ScanReport) -> Value {
    let counts = severity_counts(report);
    json!({
        "findings": report.findings,
        "undetermined": report.undetermined,
        "summary": {
            "resources": report.resources,
            "rules_run": report.rules_run,
            "open": report.findings.iter().filter(|f| f.is_open()).count(),
            "suppressed": report.findings.iter().filter(|f| !f.is_open()).count(),
            "undetermined": report.undetermined.len(),
            "by_severity": counts.iter().map(|(s, n)| (s.as_str().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        }
    })
}

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score) so code scanning sorts
/// results the way we do.
fn security_severity(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// One template's report for [`sarif_log`]: what was scanned, under which
/// URI, and its text when the results should point at lines.
#[derive(Clone, Copy, Debug)]
pub struct SarifInput<'a> {
    pub report: &'a ScanReport,
    pub artifact_uri: &'a str,
    /// The scanned text; `None` puts every result at line 1.
    pub source: Option<&'a str>,
}

/// How [`build`] orders the rule entries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RuleOrder {
    /// By id (one template).
    Sorted,
    /// In the order their first result appears (several templates merged).
    FirstResult,
}

/// SARIF 2.1.0 for one or more templates in a single run: one artifact per
/// template, the rule entries of every rule with a result (in the order
/// their first result appears), results in report order.
///
/// The log borrows the reports and serialises straight to text
/// (`serde_json::to_writer_pretty`), without building a [`Value`] tree
/// first: for 10,000 resources with findings, building, copying and
/// freeing that tree was most of the time a report took. The text is the
/// same as the `Value` rendering (fields are declared in key order).
pub fn sarif_log<'a>(inputs: &[SarifInput<'a>]) -> SarifLog<'a> {
    build(inputs, RuleOrder::FirstResult)
}

/// SARIF 2.1.0 with results located at line 1 of the artifact.
pub fn sarif(report: &ScanReport, artifact_uri: &str) -> Value {
    let input = SarifInput {
        report,
        artifact_uri,
        source: None,
    };
    serde_json::to_value(build(&[input], RuleOrder::Sorted)).unwrap_or(Value::Null)
}

/// SARIF 2.1.0 whose results point at the line of the offending property in
/// `source` (the template text that was scanned), or at the resource's
/// declaration when the property is not written out (a missing property).
///
/// The source is indexed once ([`SourceIndex`]), so the cost is linear in
/// its size plus the findings, not their product. To print it, prefer
/// [`sarif_log`], which skips the [`Value`].
pub fn sarif_with_source(report: &ScanReport, artifact_uri: &str, source: &str) -> Value {
    let input = SarifInput {
        report,
        artifact_uri,
        source: Some(source),
    };
    serde_json::to_value(build(&[input], RuleOrder::Sorted)).unwrap_or(Value::Null)
}

/// The 1-based line of `path` (`Properties/A/0/B`) inside `resource`: each
/// named segment is looked for at or after the line of the one before, within
/// the resource's block, so the deepest segment written in the template wins.
/// Array indices are skipped. For many lookups in one source, build a
/// [`SourceIndex`] once instead.
pub fn finding_line(source: &str, resource: &str, path: &str) -> usize {
    SourceIndex::new(source).finding_line(resource, path)
}

/// The 1-based line declaring `resource` (`Name:` in YAML, `"Name":` in
/// JSON); 1 when not found. For many lookups in one source, build a
/// [`SourceIndex`] once instead.
pub fn resource_line(source: &str, resource: &str) -> usize {
    SourceIndex::new(source).resource_line(resource)
}

/// One template's source text, indexed in a single pass for line lookups:
/// where each key is first declared, and where each line's block (the lines
/// indented deeper below it) ends.
///
/// It answers exactly what a scan of the text from the top would: the first
/// line declaring a key wins, wherever it is. Only a name that holds `:` or
/// `"` (never a CloudFormation logical id) falls back to such a scan.
pub struct SourceIndex<'a> {
    lines: Vec<&'a str>,
    /// Key → first 0-based line whose trimmed text starts with `key:` (YAML)
    /// or `"key"` followed by `:` (JSON).
    keys: HashMap<&'a str, usize>,
    /// For each non-blank line, the next non-blank line indented no deeper
    /// (`lines.len()` when none); for a blank line 0, the same from there.
    block_end: Vec<usize>,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

impl<'a> SourceIndex<'a> {
    pub fn new(source: &'a str) -> SourceIndex<'a> {
        let lines: Vec<&str> = source.lines().collect();
        let mut keys = HashMap::new();
        let mut block_end = vec![lines.len(); lines.len()];
        // Non-blank lines whose block is still open, indents increasing.
        let mut open: Vec<usize> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if let Some(colon) = t.find(':') {
                keys.entry(&t[..colon]).or_insert(i);
            }
            if let Some(rest) = t.strip_prefix('"')
                && let Some(close) = rest.find('"')
                && rest[close + 1..].trim_start().starts_with(':')
            {
                keys.entry(&rest[..close]).or_insert(i);
            }
            if t.is_empty() {
                continue;
            }
            let own = indent(line);
            while let Some(&top) = open.last() {
                if indent(lines[top]) < own {
                    break;
                }
                block_end[top] = i;
                open.pop();
            }
            open.push(i);
        }
        if lines.first().is_some_and(|l| l.trim().is_empty()) {
            let own = indent(lines[0]);
            block_end[0] = (1..lines.len())
                .find(|i| !lines[*i].trim().is_empty() && indent(lines[*i]) <= own)
                .unwrap_or(lines.len());
        }
        SourceIndex {
            lines,
            keys,
            block_end,
        }
    }

    /// The 1-based line declaring `resource` (`Name:` in YAML, `"Name":` in
    /// JSON); 1 when not found.
    pub fn resource_line(&self, resource: &str) -> usize {
        if !resource.contains([':', '"']) {
            return self.keys.get(resource).map_or(1, |i| i + 1);
        }
        let yaml = format!("{resource}:");
        let json = format!("\"{resource}\"");
        self.lines
            .iter()
            .position(|l| {
                let t = l.trim_start();
                t.starts_with(&yaml)
                    || (t.starts_with(&json) && t[json.len()..].trim_start().starts_with(':'))
            })
            .map_or(1, |i| i + 1)
    }

    /// The 1-based line of `path` inside `resource`; see [`finding_line`].
    pub fn finding_line(&self, resource: &str, path: &str) -> usize {
        let lines = &self.lines;
        let start = self.resource_line(resource).saturating_sub(1);
        // The block ends at the next line indented no deeper than the
        // resource's own declaration (the next resource, or the end of
        // `Resources`).
        let end = self.block_end.get(start).copied().unwrap_or(lines.len());
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
}

// The SARIF document as borrowed, serialisable structs. Fields are declared
// in sorted key order, so the text is byte for byte what a `Value` (whose
// maps sort their keys) renders.

/// A SARIF 2.1.0 log; see [`sarif_log`]. Serialise it with `serde_json`.
#[derive(Serialize)]
pub struct SarifLog<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [SarifRun<'a>; 1],
    version: &'static str,
}

#[derive(Serialize)]
struct SarifRun<'a> {
    artifacts: Vec<SarifArtifact<'a>>,
    results: Vec<SarifResult<'a>>,
    tool: SarifTool<'a>,
}

#[derive(Serialize)]
struct SarifArtifact<'a> {
    location: SarifUri<'a>,
}

#[derive(Serialize)]
struct SarifUri<'a> {
    uri: &'a str,
}

#[derive(Serialize)]
struct SarifTool<'a> {
    driver: SarifDriver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifDriver<'a> {
    information_uri: &'static str,
    name: &'static str,
    rules: Vec<SarifRule<'a>>,
    semantic_version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRule<'a> {
    default_configuration: SarifLevel,
    full_description: SarifText<'a>,
    help: SarifText<'a>,
    id: &'a str,
    name: String,
    properties: SarifRuleProperties<'a>,
    short_description: SarifText<'a>,
}

#[derive(Serialize)]
struct SarifLevel {
    level: &'static str,
}

#[derive(Serialize)]
struct SarifText<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct SarifRuleProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    checkov_id: Option<&'a str>,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    tags: [&'static str; 2],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    level: &'static str,
    locations: [SarifLocation<'a>; 1],
    message: SarifMessage,
    partial_fingerprints: SarifFingerprints,
    properties: SarifResultProperties<'a>,
    rule_id: &'a str,
    rule_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[SarifSuppression; 1]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation<'a> {
    logical_locations: [SarifLogical<'a>; 1],
    physical_location: SarifPhysical<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLogical<'a> {
    fully_qualified_name: String,
    kind: &'static str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifPhysical<'a> {
    artifact_location: SarifUri<'a>,
    region: SarifRegion,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    start_line: usize,
}

#[derive(Serialize)]
struct SarifMessage {
    text: String,
}

#[derive(Serialize)]
struct SarifFingerprints {
    #[serde(rename = "infraguard/v1")]
    v1: String,
}

#[derive(Serialize)]
struct SarifResultProperties<'a> {
    /// `null` when there is none, as before.
    checkov_id: Option<&'a str>,
    severity: &'static str,
}

#[derive(Serialize)]
struct SarifSuppression {
    justification: String,
    kind: &'static str,
    status: &'static str,
}

/// The rule entry for `id`: from the catalogue, or from its first finding
/// (a Checkov check merged in).
fn sarif_rule<'a>(
    catalogue: &[RuleInfo],
    id: &'a str,
    first: Option<&'a crate::Finding>,
) -> SarifRule<'a> {
    let info = catalogue.iter().find(|r| r.id == id).cloned();
    let title = info
        .as_ref()
        .map(|i| i.title)
        .or(first.map(|f| f.title.as_str()))
        .unwrap_or(id);
    let help = info
        .as_ref()
        .map(|i| i.remediation)
        .or(first.map(|f| f.remediation.as_str()))
        .unwrap_or("");
    let sev = info
        .as_ref()
        .map(|i| i.severity)
        .or(first.map(|f| f.severity))
        .unwrap_or(Severity::Medium);
    SarifRule {
        default_configuration: SarifLevel { level: level(sev) },
        full_description: SarifText { text: title },
        help: SarifText { text: help },
        id,
        name: id.replace('-', ""),
        properties: SarifRuleProperties {
            checkov_id: info.and_then(|i| i.checkov_id),
            security_severity: security_severity(sev),
            tags: ["security", "cloudformation"],
        },
        short_description: SarifText { text: title },
    }
}

fn build<'a>(inputs: &[SarifInput<'a>], order: RuleOrder) -> SarifLog<'a> {
    // Rule id -> index in `rules`, and the first finding of each rule, in
    // one pass over all findings.
    let mut first: HashMap<&'a str, &'a crate::Finding> = HashMap::new();
    let mut ids: Vec<&'a str> = Vec::new();
    for input in inputs {
        for f in &input.report.findings {
            first.entry(f.rule.as_str()).or_insert_with(|| {
                ids.push(f.rule.as_str());
                f
            });
        }
    }
    if order == RuleOrder::Sorted {
        ids.sort_unstable();
    }
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let catalogue = crate::rules();
    let rules = ids
        .iter()
        .map(|id| sarif_rule(&catalogue, id, first.get(id).copied()))
        .collect();
    let mut results = Vec::new();
    for input in inputs {
        let lines = input.source.map(SourceIndex::new);
        for f in &input.report.findings {
            let start_line = lines
                .as_ref()
                .map_or(1, |l| l.finding_line(&f.resource, &f.path));
            results.push(SarifResult {
                level: level(f.severity),
                locations: [SarifLocation {
                    logical_locations: [SarifLogical {
                        fully_qualified_name: format!("Resources/{}/{}", f.resource, f.path),
                        kind: "resource",
                        name: &f.resource,
                    }],
                    physical_location: SarifPhysical {
                        artifact_location: SarifUri {
                            uri: input.artifact_uri,
                        },
                        region: SarifRegion { start_line },
                    },
                }],
                message: SarifMessage {
                    text: format!("{}: {} ({})", f.resource, f.message, f.path),
                },
                partial_fingerprints: SarifFingerprints {
                    v1: format!("{}/{}/{}", f.rule, f.resource, f.path),
                },
                properties: SarifResultProperties {
                    checkov_id: f.checkov_id.as_deref(),
                    severity: f.severity.as_str(),
                },
                rule_id: &f.rule,
                rule_index: index.get(f.rule.as_str()).copied().unwrap_or(0),
                suppressions: f.suppressed.as_ref().map(|s| {
                    [SarifSuppression {
                        justification: format!("{}: {}", s.source, s.reason),
                        kind: "external",
                        status: "accepted",
                    }]
                }),
            });
        }
    }
    SarifLog {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [SarifRun {
            artifacts: inputs
                .iter()
                .map(|i| SarifArtifact {
                    location: SarifUri {
                        uri: i.artifact_uri,
                    },
                })
                .collect(),
            results,
            tool: SarifTool {
                driver: SarifDriver {
                    information_uri: "https://example.invalid/infraguard",
                    name: "infraguard",
                    rules,
                    semantic_version: env!("CARGO_PKG_VERSION"),
                },
            },
        }],
        version: "2.1.0",
    }
}

#[cfg(test)]
mod tests {
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
}
