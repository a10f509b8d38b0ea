//! SARIF 2.1.0 for GitHub code scanning: one rule entry per rule that
//! produced a result, one result per open or suppressed finding (suppressed
//! ones with a `suppressions` entry), located at the offending line when the
//! template text is given.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::source::SourceIndex;
use crate::{RuleInfo, ScanReport, Severity};

pub(super) fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score) so code scanning sorts
/// results the way we do.
pub(super) fn security_severity(sev: Severity) -> &'static str {
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
