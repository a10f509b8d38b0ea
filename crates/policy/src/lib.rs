//! The security scanner of infraguard: rules over CloudFormation templates.
//!
//! It reads a template (JSON or YAML with short-form tags), runs every rule
//! that applies to each resource, and returns [`Finding`]s with the exact
//! property path, a remediation sentence and, where the fix is mechanical, an
//! RFC 6902 patch against the whole template. The rules cover every Checkov
//! 3.3.30 CloudFormation check for the resource types infraguard manages
//! (same verdict, except where Checkov is demonstrably wrong — each such case
//! has a test) and add what Checkov lacks: Cognito, SES, plaintext RDS
//! passwords, secrets anywhere, deprecated Lambda runtimes by date, missing
//! `DeletionPolicy` on stateful resources, IAM actions that do not exist,
//! wildcard principals on resource policies, security groups open to the world
//! and the naming convention.
//!
//! # Layout
//!
//! - [`parse`]: [`parse_template`], JSON or YAML to a [`Template`].
//! - `value`: reading property values through intrinsic functions, where an
//!   unknown value is "cannot tell", never a pass or a fail.
//! - `data`: the embedded reference data (IAM actions, Lambda runtime
//!   lifecycle), parsed lazily on first use. What each resource type is
//!   (its name property, whether it holds data) comes from
//!   `infraguard_schema::registry`.
//! - `iam`: IAM policy document analysis shared by the IAM rules.
//! - `rules`: one module per service; [`rules()`] lists them.
//! - `suppress`: Checkov `Metadata` skips and infraguard suppressions.
//! - [`fix`]: [`apply_fixes()`], combining the fixes of many findings.
//! - [`report`]: table, JSON and SARIF 2.1.0 renderings of a [`ScanReport`].
//! - [`checkov`]: running a real `checkov` when installed and merging its
//!   findings.
//! - [`input`]: reading template files and walking directories with limits
//!   (no devices, FIFOs, symlink loops or runaway sizes).
//!
//! The crate is pure apart from [`checkov::run_checkov`] and [`input`]: it
//! never reads the clock (the date for runtime deprecation is
//! [`ScanOptions::today`]), never touches the network, and never panics on a
//! malformed template.

pub mod checkov;
mod data;
pub mod fix;
mod iam;
pub mod iam_tools;
pub mod input;
pub mod parse;
pub mod report;
mod rules;
mod suppress;
mod value;

use serde::{Deserialize, Serialize};

/// What makes a name or a value a secret: one definition, for the
/// scanner's rules and for the engine's redaction.
pub mod secrets {
    pub use crate::rules::secrets::{has_access_key_id, mentions_secret, secret_name};
}

pub use checkov::{merge_checkov, run_checkov};
pub use fix::apply_fixes;
pub use infraguard_core::{Finding, Severity, Suppression, Template};
pub use parse::parse_template;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The text is neither valid JSON nor valid YAML.
    #[error("template is not valid {format} at line {line}, column {column}: {message}")]
    Syntax {
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    /// It parsed, but it is not a CloudFormation template.
    #[error("not a CloudFormation template: {0}")]
    NotATemplate(String),
    /// A fix could not be applied (the template changed since the scan).
    #[error(
        "fix for {rule} on {resource} does not apply at `{path}`: {message}; re-run the scan on the current template"
    )]
    Fix {
        rule: String,
        resource: String,
        path: String,
        message: String,
    },
    /// `checkov` is not installed.
    #[error(
        "`checkov` was not found on PATH; install it (pip install checkov) or scan without --checkov"
    )]
    CheckovMissing,
    /// `checkov` ran but failed or printed something we cannot read.
    #[error("checkov failed on `{path}`: {message}")]
    Checkov { path: String, message: String },
    /// A file or directory could not be read (missing, no permission).
    #[error("cannot read `{}`: {message}", path.display())]
    Read {
        path: std::path::PathBuf,
        message: String,
    },
    /// Not a regular file: a directory, a device, a FIFO, a socket.
    #[error(
        "`{}` is {kind}, not a regular file, so it was not read; pass a template file",
        path.display()
    )]
    NotAFile {
        path: std::path::PathBuf,
        kind: &'static str,
    },
    /// Larger than the limit for this input (see [`input::MAX_TEMPLATE_BYTES`]).
    #[error(
        "`{}` is larger than {}, the limit for this input, so it was not read; pass the right file (CloudFormation itself accepts templates of at most 1 MB)",
        path.display(),
        input::human_bytes(*limit)
    )]
    TooLarge {
        path: std::path::PathBuf,
        limit: u64,
    },
    /// Not UTF-8 text.
    #[error("`{}` is not UTF-8 text: {detail}; save it as UTF-8", path.display())]
    NotUtf8 {
        path: std::path::PathBuf,
        detail: String,
    },
    /// A directory walk found more templates than it may scan at once.
    #[error(
        "more than {limit} template files below `{}`; scan the folders that hold your templates instead",
        path.display()
    )]
    TooManyFiles {
        path: std::path::PathBuf,
        limit: usize,
    },
}

/// How to scan: injected date, naming convention, outside suppressions.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Today as `YYYY-MM-DD`, for Lambda runtime deprecation. Injected so a
    /// scan is reproducible; the crate never reads the clock. An empty or
    /// malformed date makes the runtime rules "cannot tell".
    pub today: String,
    /// When set, the naming rules run.
    pub naming: Option<NamingContext>,
    /// infraguard suppressions from outside the template (the plan, the
    /// project file). One without a reason is not applied and is reported.
    pub suppressions: Vec<Suppress>,
    /// When set, ARNs naming another AWS account are findings.
    pub accounts: Option<AccountContext>,
}

/// Which AWS accounts a template may name in ARNs: the environment's own
/// and any listed as shared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountContext {
    /// The environment's account (12 digits).
    pub own: String,
    pub shared: Vec<String>,
}

/// The naming convention: `{prefix}-{purpose}-{env}` and
/// `{iam_prefix}-{Service}-{Actions}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamingContext {
    /// `synthcoreai`
    pub prefix: String,
    /// `dev`
    pub env: String,
    /// `SynthCoreAI`
    pub iam_prefix: String,
}

/// An infraguard suppression: this rule on this resource does not count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Suppress {
    /// Our rule id (`IG-S3-008`) or a Checkov id (`CKV_AWS_18`).
    pub rule: String,
    /// Logical id, or `*` for every resource.
    pub resource: String,
    /// Why. Required: a suppression without one is rejected.
    pub reason: String,
}

/// A rule that could not decide because a value is an intrinsic function or
/// a parameter: neither a pass nor a fail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undetermined {
    pub rule: String,
    pub checkov_id: Option<String>,
    pub resource: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub path: String,
    pub reason: String,
}

/// The result of [`scan`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// Failed checks, suppressed ones included (with `suppressed` set),
    /// ordered by resource then severity (worst first).
    pub findings: Vec<Finding>,
    pub undetermined: Vec<Undetermined>,
    /// Resources in the template.
    pub resources: usize,
    /// Rule evaluations performed (rule × applicable resource).
    pub rules_run: usize,
}

impl ScanReport {
    /// Open findings at or above `threshold`: what `--fail-on` counts.
    pub fn failing(&self, threshold: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.is_open() && f.severity >= threshold)
            .count()
    }
}

/// What one rule is, for listings and SARIF rule metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: &'static str,
    pub checkov_id: Option<&'static str>,
    pub severity: Severity,
    pub title: &'static str,
    pub resource_types: &'static [&'static str],
    pub remediation: &'static str,
}

/// Every rule infraguard runs, in a stable order.
pub fn rules() -> Vec<RuleInfo> {
    let mut all: Vec<RuleInfo> = rules::all().iter().map(|r| r.info.clone()).collect();
    all.push(suppress::RULE);
    all
}

/// Runs every applicable rule over every resource of `template`.
pub fn scan(template: &Template, options: &ScanOptions) -> ScanReport {
    rules::run(template, options)
}

/// The rule about `DeletionPolicy` (CloudFormation's, honoured by stacks).
pub const DELETION_POLICY_RULE: &str = "IG-DATA-001";

/// [`scan`] for a resource applied through the Cloud Control API, which has
/// no `DeletionPolicy`: a delete there deletes the data whatever the
/// template says, so the rule asking for one does not apply (infraguard's
/// engine guards stateful deletes itself).
pub fn scan_for_cloud_control(template: &Template, options: &ScanOptions) -> ScanReport {
    let mut report = scan(template, options);
    report.findings.retain(|f| f.rule != DELETION_POLICY_RULE);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_well_formed() {
        let all = rules();
        let mut ids: Vec<&str> = all.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule ids");
        for r in &all {
            assert!(r.id.starts_with("IG-"), "{}", r.id);
            assert!(!r.title.is_empty() && !r.remediation.is_empty(), "{}", r.id);
            assert!(!r.resource_types.is_empty(), "{}", r.id);
            if let Some(c) = r.checkov_id {
                assert!(c.starts_with("CKV"), "{c}");
            }
        }
    }

    #[test]
    fn failing_counts_open_findings_at_or_above_threshold() {
        let tpl = parse_template(
            r#"{"Resources":{"B":{"Type":"AWS::S3::Bucket","Properties":{"AccessControl":"PublicReadWrite"}}}}"#,
        )
        .unwrap();
        let report = scan(&tpl, &ScanOptions::default());
        assert!(report.failing(Severity::Critical) >= 1);
        assert!(report.failing(Severity::Low) >= report.failing(Severity::Critical));
    }
}
