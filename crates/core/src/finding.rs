//! Findings of the security scan.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Ordered from least to most severe, so `>=` compares severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "INFO" => Ok(Severity::Info),
            "LOW" => Ok(Severity::Low),
            "MEDIUM" => Ok(Severity::Medium),
            "HIGH" => Ok(Severity::High),
            "CRITICAL" => Ok(Severity::Critical),
            _ => Err(format!(
                "`{s}` is not a severity: use info, low, medium, high or critical"
            )),
        }
    }
}

/// Why a finding does not count against a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `checkov-skip` (a `checkov:skip` comment in Metadata), `infraguard`
    /// (our own suppression, which needs a reason) or `accepted` (a decision
    /// recorded through `approve_security_findings`).
    pub source: String,
    pub reason: String,
}

/// One failed check on one resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// infraguard's rule id (`IG-S3-001`).
    pub rule: String,
    /// The Checkov check with the same meaning, where one exists.
    pub checkov_id: Option<String>,
    pub severity: Severity,
    pub title: String,
    /// Logical id of the resource in the template.
    pub resource: String,
    /// Resource type as written in the template.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Exact path of the offending value, from the resource entry
    /// (`Properties/BucketEncryption/ServerSideEncryptionConfiguration/0`).
    pub path: String,
    pub message: String,
    pub remediation: String,
    /// An RFC 6902 patch against the whole template that fixes it, when the fix
    /// is mechanical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}

impl Finding {
    /// Counts against a plan: not suppressed and not accepted.
    pub fn is_open(&self) -> bool {
        self.suppressed.is_none()
    }
}
