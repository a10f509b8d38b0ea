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
//!
//! # Layout
//!
//! - this file: the table and the JSON;
//! - `sarif`: the SARIF log ([`sarif_log`], [`sarif`], [`sarif_with_source`])
//!   as borrowed, serialisable structs;
//! - `source`: finding the line of a resource or a property in the
//!   template text ([`SourceIndex`]), for SARIF's locations.

mod sarif;
mod source;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::{ScanReport, Severity};

pub use sarif::{SarifInput, SarifLog, sarif, sarif_log, sarif_with_source};
pub use source::{SourceIndex, finding_line, resource_line};

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
