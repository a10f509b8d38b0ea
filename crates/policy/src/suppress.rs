//! Suppressions: why a finding does not count.
//!
//! Three sources, all visible in every report (a suppressed finding keeps its
//! place with `suppressed` set):
//!
//! - Checkov's own skips in a resource's `Metadata`
//!   (`checkov: {skip: [{id: CKV_AWS_18, comment: ...}]}`, also `bridgecrew:`),
//!   matched on the finding's Checkov id, source `checkov-skip`.
//! - infraguard's in the template: `Metadata: {infraguard: {suppress:
//!   [{rule: IG-S3-008, reason: ...}]}}`, matched on our rule id or the Checkov
//!   id, source `infraguard`.
//! - [`crate::ScanOptions::suppressions`] from outside the template, source
//!   `infraguard`.
//!
//! An infraguard suppression needs a reason. One without is not applied and
//! becomes a finding of rule IG-META-001, so it cannot silently hide anything.

use std::collections::HashMap;

use serde_json::Value;

use crate::{Finding, RuleInfo, ScanOptions, ScanReport, Severity, Suppression, Template};

pub(crate) const RULE: RuleInfo = RuleInfo {
    id: "IG-META-001",
    checkov_id: None,
    severity: Severity::Low,
    title: "Suppression without a reason was ignored",
    resource_types: &["*"],
    remediation: "Give the suppression a reason (why the finding is acceptable here); until then the finding it targets stays open.",
};

struct Entry {
    rule: String,
    reason: String,
    source: &'static str,
    /// Where it was written, for the rejection finding.
    path: String,
}

fn template_entries(entry: &Value) -> Vec<Entry> {
    let mut out = Vec::new();
    let Some(meta) = entry.get("Metadata") else {
        return out;
    };
    for tool in ["checkov", "bridgecrew"] {
        if let Some(Value::Array(skips)) = meta.get(tool).and_then(|t| t.get("skip")) {
            for s in skips {
                if let Some(id) = s.get("id").and_then(Value::as_str) {
                    out.push(Entry {
                        rule: id.to_string(),
                        // Checkov accepts a skip without a comment; so do we,
                        // and say so in the report.
                        reason: s
                            .get("comment")
                            .and_then(Value::as_str)
                            .filter(|c| !c.trim().is_empty())
                            .unwrap_or("No comment provided")
                            .to_string(),
                        source: "checkov-skip",
                        path: String::new(),
                    });
                }
            }
        }
    }
    if let Some(Value::Array(list)) = meta.get("infraguard").and_then(|t| t.get("suppress")) {
        for (i, s) in list.iter().enumerate() {
            if let Some(rule) = s.get("rule").and_then(Value::as_str) {
                out.push(Entry {
                    rule: rule.to_string(),
                    reason: s
                        .get("reason")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .trim()
                        .to_string(),
                    source: "infraguard",
                    path: format!("Metadata/infraguard/suppress/{i}"),
                });
            }
        }
    }
    out
}

fn matches(e: &Entry, f: &Finding) -> bool {
    match e.source {
        "checkov-skip" => f.checkov_id.as_deref() == Some(e.rule.as_str()),
        _ => f.rule == e.rule || f.checkov_id.as_deref() == Some(e.rule.as_str()),
    }
}

pub(crate) fn apply(template: &Template, options: &ScanOptions, report: &mut ScanReport) {
    let mut rejected = Vec::new();
    let resources = template.resources();
    // Each resource's findings, by index in one pass: matching every
    // suppression against every finding of the report made a `*`
    // suppression cost resources × findings.
    let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(resources.len());
    for (i, res) in resources.iter().enumerate() {
        by_id.entry(res.logical_id).or_insert(i);
    }
    let mut findings_of: Vec<Vec<usize>> = vec![Vec::new(); resources.len()];
    for (i, f) in report.findings.iter().enumerate() {
        if let Some(r) = by_id.get(f.resource.as_str()) {
            findings_of[*r].push(i);
        }
    }
    for (r, res) in resources.iter().enumerate() {
        let mut entries = template_entries(res.entry);
        // Outside suppressions without a reason are rejected once, below,
        // not once per resource they would have matched.
        for s in options
            .suppressions
            .iter()
            .filter(|s| !s.reason.trim().is_empty())
        {
            if s.resource == "*" || s.resource == res.logical_id {
                entries.push(Entry {
                    rule: s.rule.clone(),
                    reason: s.reason.trim().to_string(),
                    source: "infraguard",
                    path: String::new(),
                });
            }
        }
        for e in &entries {
            if e.reason.is_empty() {
                rejected.push(reject(
                    res.logical_id,
                    res.type_name,
                    e.path.clone(),
                    &e.rule,
                ));
                continue;
            }
            for &i in &findings_of[r] {
                let f = &mut report.findings[i];
                if f.suppressed.is_none() && matches(e, f) {
                    f.suppressed = Some(Suppression {
                        source: e.source.to_string(),
                        reason: e.reason.clone(),
                    });
                }
            }
        }
    }
    for s in options
        .suppressions
        .iter()
        .filter(|s| s.reason.trim().is_empty())
    {
        let type_name = by_id
            .get(s.resource.as_str())
            .map(|i| resources[*i].type_name.to_string())
            .unwrap_or_default();
        rejected.push(reject(
            &s.resource,
            &type_name,
            "(scan options)".into(),
            &s.rule,
        ));
    }
    report.findings.extend(rejected);
}

fn reject(resource: &str, type_name: &str, path: String, rule: &str) -> Finding {
    Finding {
        rule: RULE.id.to_string(),
        checkov_id: None,
        severity: RULE.severity,
        title: RULE.title.to_string(),
        resource: resource.to_string(),
        type_name: type_name.to_string(),
        path,
        message: format!("suppression of {rule} has no reason, so it was not applied"),
        remediation: RULE.remediation.to_string(),
        fix: None,
        suppressed: None,
    }
}
