//! Running a real Checkov, when it is installed, and merging its findings.
//!
//! infraguard's built-in rules never need Checkov. When the project asks for
//! it and `checkov` is on `PATH`, [`run_checkov`] runs it on a file or
//! directory (`--framework cloudformation -o json --skip-download`, so it makes
//! no network call) and turns its failed checks into [`Finding`]s;
//! [`merge_checkov`] adds those that the built-in scan did not already report
//! for the same Checkov id and resource.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::{Finding, PolicyError, Severity};

/// `checkov` on `PATH`, if any.
pub fn checkov_path() -> Option<PathBuf> {
    let path = std::env::var_os(infraguard_core::env_vars::PATH)?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("checkov"))
        .find(|p| p.is_file())
}

/// Runs Checkov on `path` (a template or a directory of templates).
pub fn run_checkov(path: &Path) -> Result<Vec<Finding>, PolicyError> {
    let exe = checkov_path().ok_or(PolicyError::CheckovMissing)?;
    let flag = if path.is_dir() { "-d" } else { "-f" };
    let output = Command::new(exe)
        .arg(flag)
        .arg(path)
        .args([
            "--framework",
            "cloudformation",
            "-o",
            "json",
            "--skip-download",
            "--quiet",
        ])
        .output()
        .map_err(|e| PolicyError::Checkov {
            path: path.display().to_string(),
            message: format!("could not start checkov: {e}"),
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    parse_checkov_json(&stdout).map_err(|message| PolicyError::Checkov {
        path: path.display().to_string(),
        message: format!(
            "{message} (exit status {}; stderr: {})",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    })
}

/// Reads Checkov's `-o json` output: one report object, or a list of them
/// (one per framework), or `{}`-ish summaries when nothing was scanned.
pub fn parse_checkov_json(text: &str) -> Result<Vec<Finding>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let v: Value = serde_json::from_str(trimmed).map_err(|e| format!("output is not JSON: {e}"))?;
    let reports: Vec<&Value> = match &v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let catalogue = crate::rules();
    let mut out = Vec::new();
    for report in reports {
        let Some(Value::Array(failed)) = report.get("results").and_then(|r| r.get("failed_checks"))
        else {
            continue;
        };
        for c in failed {
            let id = c
                .get("check_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let name = c
                .get("check_name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let resource = c.get("resource").and_then(Value::as_str).unwrap_or("");
            // "AWS::S3::Bucket.Docs": the type, then the logical id.
            let (type_name, logical) = resource.rsplit_once('.').unwrap_or(("", resource));
            let ours = catalogue.iter().find(|r| r.checkov_id == Some(id.as_str()));
            let severity = ours.map(|r| r.severity).unwrap_or_else(|| {
                c.get("severity")
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(Severity::Medium)
            });
            let path = c
                .get("check_result")
                .and_then(|r| r.get("evaluated_keys"))
                .and_then(Value::as_array)
                .and_then(|k| k.first())
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let guideline = c.get("guideline").and_then(Value::as_str).unwrap_or("");
            out.push(Finding {
                rule: id.clone(),
                checkov_id: Some(id),
                severity,
                title: name.clone(),
                resource: logical.to_string(),
                type_name: type_name.to_string(),
                path,
                message: format!("Checkov: {name}"),
                remediation: ours.map(|r| r.remediation.to_string()).unwrap_or_else(|| {
                    if guideline.is_empty() {
                        "See the Checkov documentation for this check.".into()
                    } else {
                        format!("See {guideline}")
                    }
                }),
                fix: None,
                suppressed: None,
            });
        }
    }
    Ok(out)
}

/// Adds Checkov's findings that the built-in scan does not already have for
/// the same Checkov id and resource.
pub fn merge_checkov(findings: &mut Vec<Finding>, checkov: Vec<Finding>) {
    // (resource, Checkov id) of every finding so far, Checkov's included, so
    // the merge is one pass rather than a search of all findings per check.
    let mut seen: HashSet<(String, String)> = findings
        .iter()
        .filter_map(|f| Some((f.resource.clone(), f.checkov_id.clone()?)))
        .collect();
    for c in checkov {
        if let Some(id) = &c.checkov_id
            && !seen.insert((c.resource.clone(), id.clone()))
        {
            continue;
        }
        findings.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = r#"{"check_type": "cloudformation", "results": {"failed_checks": [
        {"check_id": "CKV_AWS_18", "check_name": "Ensure the S3 bucket has access logging enabled", "resource": "AWS::S3::Bucket.Docs", "severity": null, "check_result": {"result": "FAILED", "evaluated_keys": ["Properties/LoggingConfiguration"]}},
        {"check_id": "CKV_AWS_999", "check_name": "Something we lack", "resource": "AWS::S3::Bucket.Docs", "severity": "HIGH", "guideline": "https://example.invalid/g"}
    ]}}"#;

    #[test]
    fn parses_failed_checks() {
        let f = parse_checkov_json(OUT).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].resource, "Docs");
        assert_eq!(f[0].type_name, "AWS::S3::Bucket");
        assert_eq!(
            f[0].severity,
            Severity::Low,
            "our severity for a check we know"
        );
        assert_eq!(f[0].path, "Properties/LoggingConfiguration");
        assert_eq!(f[1].severity, Severity::High);
        assert!(parse_checkov_json("[]").unwrap().is_empty());
        assert!(parse_checkov_json("not json").is_err());
    }

    #[test]
    fn merge_deduplicates_by_checkov_id_and_resource() {
        let mut ours = parse_checkov_json(OUT).unwrap();
        ours.truncate(1);
        ours[0].rule = "IG-S3-008".into();
        merge_checkov(&mut ours, parse_checkov_json(OUT).unwrap());
        assert_eq!(ours.len(), 2);
        assert_eq!(ours[1].rule, "CKV_AWS_999");
    }
}
