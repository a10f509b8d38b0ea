//! `lint`: every statement of an IAM policy document (or of every policy in
//! a CloudFormation template) checked for least privilege.
//!
//! Findings are [`crate::Finding`]s in a [`ScanReport`], so the scan's
//! reporters (table, JSON with a `findings` list, SARIF) and its `--fail-on`
//! exit rule apply unchanged. Each finding's message says what the
//! statement grants and why that is a risk; where the narrower statement
//! can be computed without knowing the workload's intent (a misspelt action
//! with a clear nearest match, `Resource: "*"` on actions that take ARNs,
//! `iam:PassRole` on every role) the finding's `fix` is an RFC 6902 patch
//! against the linted document (or template) that writes it. Where it
//! cannot (`*`, `ses:*`, `NotAction`), the remediation names the
//! capabilities `infraguard iam suggest` knows for that service.
//!
//! A standalone document is reported as resource `PolicyDocument` with
//! paths from the document (`Statement/0/Action/1`); in a template, the
//! logical id and paths from the resource entry, as the scan has them.
//!
//! # Layout
//!
//! - this file: the entry points, the rule ids and their descriptions, and
//!   the `Linter`'s state;
//! - `walk`: the walk over documents and statements, and how findings are
//!   collected into the report;
//! - `checks`: the checks that need more than a line each (wildcards,
//!   `iam:PassRole`, `Resource: "*"`, privilege escalation) and the patches
//!   they propose.

mod checks;
#[cfg(test)]
mod tests;
mod walk;

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::actions::Expansion;
use crate::iam::{self, Statement};
use crate::{Finding, PolicyError, RuleInfo, ScanReport, Severity, Template, Undetermined};

type WildcardFinding = (Expansion, Option<(&'static str, String)>);

/// Where scoped ARNs come from. Without `prefix`, findings carry no
/// mechanical fix for `Resource: "*"` (there is no pattern to scope to).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LintOptions {
    /// `synthcoreai`: proposed resources are `...:synthcoreai-*`.
    pub prefix: Option<String>,
    /// Account id for proposed ARNs (`*` when unknown).
    pub account: Option<String>,
    /// Region for proposed ARNs (`*` when unknown).
    pub region: Option<String>,
}

/// The result of a lint: the scan report's shape plus what each wildcard
/// grants.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LintReport {
    #[serde(flatten)]
    pub report: ScanReport,
    /// Every wildcard action pattern met, expanded.
    pub expansions: Vec<Expansion>,
    /// Policy documents read.
    pub documents: usize,
    /// Statements read.
    pub statements: usize,
}

impl LintReport {
    /// `{"findings": [...], "undetermined": [...], "summary": {...},
    /// "expansions": [...]}`: the scan's JSON with the expansions added.
    pub fn json(&self) -> Value {
        let mut v = crate::report::json(&self.report);
        v["expansions"] = json!(self.expansions);
        v["summary"]["documents"] = json!(self.documents);
        v["summary"]["statements"] = json!(self.statements);
        v
    }
}

const UNKNOWN: &str = "IG-IAM-LINT-001";
const ADMIN: &str = "IG-IAM-LINT-002";
const STAR: &str = "IG-IAM-LINT-003";
const SERVICE_WILDCARD: &str = "IG-IAM-LINT-004";
const NOT_ACTION: &str = "IG-IAM-LINT-005";
const RESOURCE_STAR: &str = "IG-IAM-LINT-006";
const PASS_ROLE: &str = "IG-IAM-LINT-007";
const ESCALATION: &str = "IG-IAM-LINT-008";
const PRINCIPAL: &str = "IG-IAM-LINT-009";
const PARTIAL_WILDCARD: &str = "IG-IAM-LINT-010";

const ALL_TYPES: &[&str] = &["*"];

/// The lint's rules, for listings and SARIF rule metadata.
pub fn lint_rules() -> Vec<RuleInfo> {
    let r = |id, severity, title, remediation| RuleInfo {
        id,
        checkov_id: None,
        severity,
        title,
        resource_types: ALL_TYPES,
        remediation,
    };
    vec![
        r(
            UNKNOWN,
            Severity::High,
            "Action does not exist",
            "Use the real action name (the nearest ones are named); a misspelt Allow grants nothing and a misspelt Deny protects nothing.",
        ),
        r(
            ADMIN,
            Severity::Critical,
            "Statement grants full administrator access (* on *)",
            "List the actions the workload calls and the resources it touches; `infraguard iam suggest` writes the minimal policy per capability.",
        ),
        r(
            STAR,
            Severity::High,
            "Statement allows every action (\"Action\": \"*\")",
            "Replace \"*\" with the service:Action names the workload calls; `infraguard iam suggest` lists them per capability.",
        ),
        r(
            SERVICE_WILDCARD,
            Severity::Medium,
            "Statement allows every action of a service (service:*)",
            "Replace service:* with the actions the workload calls (see the capabilities named in the message).",
        ),
        r(
            NOT_ACTION,
            Severity::High,
            "Allow statement uses NotAction",
            "Write the allowed actions in Action instead: NotAction with Allow grants everything else, including actions AWS adds later.",
        ),
        r(
            RESOURCE_STAR,
            Severity::Medium,
            "Actions that support resource-level permissions are allowed on \"Resource\": \"*\"",
            "Scope the actions to the ARNs they need (the fix writes the project's naming pattern); keep \"*\" only for actions that cannot be scoped.",
        ),
        r(
            PASS_ROLE,
            Severity::High,
            "iam:PassRole without a resource constraint",
            "Limit iam:PassRole to the roles the workload passes and add a Condition on iam:PassedToService naming the service that receives them.",
        ),
        r(
            ESCALATION,
            Severity::Critical,
            "Policy allows privilege escalation",
            "Remove one action of each escalation combination, or scope it to specific resources with conditions.",
        ),
        r(
            PRINCIPAL,
            Severity::High,
            "Statement allows any principal (\"Principal\": \"*\")",
            "Name the accounts, roles or services allowed, or add a Condition (aws:SourceArn, aws:PrincipalOrgID) that limits who matches.",
        ),
        r(
            PARTIAL_WILDCARD,
            Severity::Info,
            "Wildcard action grants more than its spelling shows",
            "List the actions the workload needs instead of the wildcard; the report's `expansions` shows everything it grants.",
        ),
    ]
}

/// Lints text: a policy document (JSON or YAML with `Statement`), a policy
/// wrapper (`{"PolicyName": ..., "PolicyDocument": ...}`) or a
/// CloudFormation template (every IAM and resource policy in it).
pub fn lint_text(text: &str, options: &LintOptions) -> Result<LintReport, PolicyError> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(json_err) => {
            // Not JSON: a YAML template (short-form tags and all) or a YAML
            // policy document.
            match crate::parse_template(text) {
                Ok(t) => return Ok(lint_template(&t, options)),
                Err(PolicyError::NotATemplate(_)) => serde_norway::from_str::<Value>(text)
                    .map_err(|_| PolicyError::Syntax {
                        format: "JSON",
                        line: json_err.line(),
                        column: json_err.column(),
                        message: json_err.to_string(),
                    })?,
                Err(e) => return Err(e),
            }
        }
    };
    if value.get("Resources").is_some() {
        let t = crate::parse_template(text)?;
        return Ok(lint_template(&t, options));
    }
    if value.get("Statement").is_some() {
        return Ok(lint_document(&value, options));
    }
    if let Some(doc) = value.get("PolicyDocument") {
        let mut report = lint_at(doc, "", "PolicyDocument", options);
        report.report.resources = 1;
        return Ok(report);
    }
    Err(PolicyError::NotATemplate(
        "neither an IAM policy document (no `Statement`) nor a CloudFormation template (no `Resources`); lint takes either".into(),
    ))
}

/// Lints one policy document.
pub fn lint_document(doc: &Value, options: &LintOptions) -> LintReport {
    let mut report = lint_at(doc, "", "", options);
    report.report.resources = 1;
    report
}

fn lint_at(doc: &Value, pointer_root: &str, path: &str, options: &LintOptions) -> LintReport {
    let mut l = Linter::new(options);
    let kind = if has_principal(doc) {
        Kind::Resource
    } else {
        Kind::Identity
    };
    l.document(
        &Target {
            resource: "PolicyDocument",
            type_name: "",
            pointer_root,
        },
        doc,
        path,
        kind,
    );
    l.finish()
}

/// Lints every policy document of a template.
pub fn lint_template(template: &Template, options: &LintOptions) -> LintReport {
    let mut l = Linter::new(options);
    let resources = template.resources();
    for r in &resources {
        let root = format!("/Resources/{}", escape(r.logical_id));
        let target = Target {
            resource: r.logical_id,
            type_name: r.type_name,
            pointer_root: &root,
        };
        for d in iam::documents(r.type_name, r.properties) {
            l.document(&target, d.value, &d.path, Kind::Identity);
        }
        let resource_doc = match r.type_name {
            "AWS::IAM::Role" => Some("AssumeRolePolicyDocument"),
            "AWS::S3::BucketPolicy" | "AWS::SQS::QueuePolicy" | "AWS::SNS::TopicPolicy" => {
                Some("PolicyDocument")
            }
            _ => None,
        };
        if let Some(key) = resource_doc
            && let Some(doc) = r.properties.get(key)
        {
            l.document(&target, doc, &format!("Properties/{key}"), Kind::Resource);
        }
    }
    let mut report = l.finish();
    report.report.resources = resources.len();
    report
}

fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn has_principal(doc: &Value) -> bool {
    match doc.get("Statement") {
        Some(Value::Array(items)) => items
            .iter()
            .any(|s| s.get("Principal").is_some() || s.get("NotPrincipal").is_some()),
        Some(s) => s.get("Principal").is_some() || s.get("NotPrincipal").is_some(),
        None => false,
    }
}

/// Identity policies grant a principal; resource (and trust) policies name
/// principals and are attached to the resource, so resource-scope and
/// escalation rules do not apply to them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Identity,
    Resource,
}

struct Target<'a> {
    resource: &'a str,
    type_name: &'a str,
    /// JSON pointer of the resource entry (empty for a standalone document).
    pointer_root: &'a str,
}

struct Linter<'o> {
    options: &'o LintOptions,
    infos: Vec<RuleInfo>,
    findings: Vec<Finding>,
    undetermined: Vec<Undetermined>,
    expansions: Vec<Expansion>,
    seen_patterns: BTreeSet<String>,
    /// Per raw spelling: a pattern or misspelling met in many statements is
    /// worked out once.
    wildcard_cache: HashMap<String, WildcardFinding>,
    nearest_cache: HashMap<String, Vec<String>>,
    documents: usize,
    statements: usize,
    rules_run: usize,
}

struct StatementCtx<'a> {
    st: &'a Statement,
    raw: &'a Value,
    index: usize,
    /// `Statement` is a list (else a single object).
    listed: bool,
    patchable: bool,
}
