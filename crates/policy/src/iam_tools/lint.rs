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

use std::collections::{BTreeSet, HashMap};

type WildcardFinding = (Expansion, Option<(&'static str, String)>);

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::actions::{Expansion, expand_action, nearest_actions};
use super::arns::{self, ArnContext};
use super::catalog::CAPABILITIES;
use crate::iam::{self, Grants, Statement};
use crate::value::Val;
use crate::{Finding, PolicyError, RuleInfo, ScanReport, Severity, Template, Undetermined};

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
                Err(PolicyError::NotATemplate(_)) => {
                    serde_yaml::from_str::<Value>(text).map_err(|_| PolicyError::Syntax {
                        format: "JSON",
                        line: json_err.line(),
                        column: json_err.column(),
                        message: json_err.to_string(),
                    })?
                }
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

impl<'o> Linter<'o> {
    fn new(options: &'o LintOptions) -> Self {
        Linter {
            options,
            infos: lint_rules(),
            findings: Vec::new(),
            undetermined: Vec::new(),
            expansions: Vec::new(),
            seen_patterns: BTreeSet::new(),
            wildcard_cache: HashMap::new(),
            nearest_cache: HashMap::new(),
            documents: 0,
            statements: 0,
            rules_run: 0,
        }
    }

    fn finish(mut self) -> LintReport {
        // Stable: document order, then worst first within a resource.
        let order: Vec<String> = {
            let mut seen = Vec::new();
            for f in &self.findings {
                if !seen.contains(&f.resource) {
                    seen.push(f.resource.clone());
                }
            }
            seen
        };
        self.findings.sort_by_key(|f| {
            (
                order.iter().position(|r| *r == f.resource),
                std::cmp::Reverse(f.severity),
            )
        });
        LintReport {
            report: ScanReport {
                findings: self.findings,
                undetermined: self.undetermined,
                resources: 0,
                rules_run: self.rules_run,
            },
            expansions: self.expansions,
            documents: self.documents,
            statements: self.statements,
        }
    }

    fn arn_context(&self) -> Option<ArnContext> {
        self.options
            .prefix
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                ArnContext::new(
                    p.trim(),
                    self.options.account.as_deref(),
                    self.options.region.as_deref(),
                )
            })
    }

    fn push(
        &mut self,
        t: &Target<'_>,
        rule: &str,
        path: &str,
        message: String,
        fix: Option<Value>,
    ) {
        let Some(info) = self.infos.iter().find(|i| i.id == rule) else {
            return;
        };
        self.findings.push(Finding {
            rule: rule.into(),
            checkov_id: None,
            severity: info.severity,
            title: info.title.into(),
            resource: t.resource.into(),
            type_name: t.type_name.into(),
            path: path.trim_start_matches('/').into(),
            message,
            remediation: info.remediation.into(),
            fix,
            suppressed: None,
        });
    }

    fn unknown(&mut self, t: &Target<'_>, path: &str, reason: String) {
        self.undetermined.push(Undetermined {
            rule: "IG-IAM-LINT".into(),
            checkov_id: None,
            resource: t.resource.into(),
            type_name: t.type_name.into(),
            path: path.trim_start_matches('/').into(),
            reason,
        });
    }

    fn pointer(&self, t: &Target<'_>, path: &str) -> String {
        format!("{}/{}", t.pointer_root, path.trim_start_matches('/'))
    }

    fn document(&mut self, t: &Target<'_>, doc: &Value, path: &str, kind: Kind) {
        self.documents += 1;
        self.rules_run += self.infos.len();
        let statements = match iam::parse_document(doc, path) {
            Ok(s) => s,
            Err(why) => {
                self.unknown(t, path, why);
                return;
            }
        };
        // A document written as a JSON string cannot be patched in place.
        let patchable = !matches!(Val::of(doc), Val::Known(Value::String(_)));
        let raw: Vec<Value> = match doc.get("Statement") {
            Some(Value::Array(items)) => items.clone(),
            Some(v) => vec![v.clone()],
            None => Vec::new(),
        };
        let listed = matches!(doc.get("Statement"), Some(Value::Array(_)));
        self.statements += statements.len();
        for (i, st) in statements.iter().enumerate() {
            if let Some(why) = &st.unknown {
                self.unknown(t, &st.path, why.clone());
                continue;
            }
            let raw_st = raw.get(i).cloned().unwrap_or(Value::Null);
            let ctx = StatementCtx {
                st,
                raw: &raw_st,
                index: i,
                listed,
                patchable,
            };
            self.statement(t, &ctx, kind);
        }
        // Administrator access already says everything escalation would.
        let admin = statements.iter().any(|st| {
            st.allow == Some(true)
                && !st.not_action
                && st.actions.iter().any(|a| a == "*")
                && (st.resource_is_star() || st.not_resource)
        });
        if kind == Kind::Identity && !admin {
            self.escalation(t, &format!("{path}/Statement"), &statements);
        }
    }

    fn statement(&mut self, t: &Target<'_>, c: &StatementCtx<'_>, kind: Kind) {
        let st = c.st;
        // Misspellings count in Allow and Deny alike.
        for (i, raw) in st.actions_raw.iter().enumerate() {
            if let Some(why) = iam::unknown_action(raw) {
                let near = self
                    .nearest_cache
                    .entry(raw.clone())
                    .or_insert_with(|| nearest_actions(raw, 3))
                    .clone();
                let fix = (c.patchable && !near.is_empty()).then(|| {
                    json!([{"op": "replace", "path": self.pointer(t, &st.action_path(i)), "value": near[0]}])
                });
                let risk = if st.allow == Some(false) {
                    "a Deny of an action that does not exist protects nothing"
                } else {
                    "an Allow of an action that does not exist grants nothing, so the call the workload makes fails"
                };
                let hint = if near.is_empty() {
                    "no real action is close".to_string()
                } else {
                    format!("did you mean {}?", near.join(", "))
                };
                self.push(
                    t,
                    UNKNOWN,
                    &st.action_path(i),
                    format!("{why}: {risk}; {hint}"),
                    fix,
                );
            } else if raw.contains(['*', '?']) && raw != "*" {
                self.wildcard(t, c, i, raw);
            }
        }
        if st.allow != Some(true) {
            return;
        }
        let star_resource = st.resource_is_star() || st.not_resource;
        let star_action = !st.not_action && st.actions.iter().any(|a| a == "*");
        if star_action && star_resource && kind == Kind::Identity {
            self.push(
                t,
                ADMIN,
                &st.path,
                "allows every action on every resource: whoever holds this policy can do anything in the account, including granting themselves and others more".into(),
                None,
            );
        } else if let Some(i) = st
            .actions
            .iter()
            .position(|a| a == "*")
            .filter(|_| !st.not_action)
        {
            let on = if star_resource {
                "every resource".to_string()
            } else {
                st.resources.join(", ")
            };
            self.push(
                t,
                STAR,
                &st.action_path(i),
                format!("allows every action of every service on {on}: deleting, re-permissioning and reading everything there, and any action AWS adds later"),
                None,
            );
        }
        if st.not_action {
            self.push(
                t,
                NOT_ACTION,
                &format!("{}/NotAction", st.path),
                format!(
                    "allows every action except {} on {}: that is thousands of actions, including every action AWS adds later",
                    st.actions_raw.join(", "),
                    if star_resource { "every resource".to_string() } else { st.resources.join(", ") }
                ),
                None,
            );
        }
        if kind == Kind::Identity && !star_action {
            self.pass_role(t, c, star_resource);
            if star_resource && !st.has_condition {
                self.resource_star(t, c);
            }
        }
        if let Some(p) = &st.principal
            && !st.has_condition
            && let Some(at) = wildcard_principal(p)
        {
            self.push(
                t,
                PRINCIPAL,
                &format!("{}/Principal{at}", st.path),
                "allows any principal in any AWS account (and anonymous callers, where the service allows them) with no condition".into(),
                None,
            );
        }
    }

    /// `ses:*` and `s3:Get*`: what they grant, and what a narrower spelling
    /// would be.
    fn wildcard(&mut self, t: &Target<'_>, c: &StatementCtx<'_>, i: usize, raw: &str) {
        // The same pattern in many statements is expanded once.
        let (e, finding) = match self.wildcard_cache.get(raw) {
            Some(hit) => hit.clone(),
            None => {
                let computed = wildcard_finding(raw);
                self.wildcard_cache
                    .insert(raw.to_string(), computed.clone());
                computed
            }
        };
        if self.seen_patterns.insert(raw.to_ascii_lowercase()) {
            self.expansions.push(e);
        }
        if c.st.allow != Some(true) || c.st.not_action {
            return;
        }
        if let Some((rule, message)) = finding {
            self.push(t, rule, &c.st.action_path(i), message, None);
        }
    }

    fn pass_role(&mut self, t: &Target<'_>, c: &StatementCtx<'_>, star_resource: bool) {
        let st = c.st;
        let passes = if st.not_action {
            !st.actions.iter().any(|p| iam::glob(p, "iam:passrole"))
        } else {
            st.actions.iter().any(|p| iam::glob(p, "iam:passrole"))
        };
        let constrained_service = c.raw.get("Condition").is_some_and(|cond| {
            cond.to_string()
                .to_ascii_lowercase()
                .contains("iam:passedtoservice")
        });
        if !passes || !star_resource || constrained_service {
            return;
        }
        let only_pass_role = !st.not_action && st.actions.iter().all(|a| a == "iam:passrole");
        let fix = match (self.arn_context(), only_pass_role && c.patchable) {
            (Some(ctx), true) => arns::template("iam", "role").map(|tpl| {
                let arn = arns::project_scoped("iam", "role", tpl, &ctx);
                json!([{"op": "replace", "path": self.pointer(t, &format!("{}/Resource", st.path)), "value": arn}])
            }),
            _ => None,
        };
        self.push(
            t,
            PASS_ROLE,
            &st.path,
            "allows passing any role in the account to any service: a principal can hand an administrator role to a new Lambda function, EC2 instance or stack and act with its rights".into(),
            fix,
        );
    }

    fn resource_star(&mut self, t: &Target<'_>, c: &StatementCtx<'_>) {
        let st = c.st;
        let mut scopable: Vec<&'static str> = Vec::new();
        let mut fixed_actions: Vec<(String, Vec<String>)> = Vec::new();
        let mut unscopable_raw: Vec<String> = Vec::new();
        let mut all_templated = !st.not_action;
        let ctx = self.arn_context();
        for (raw, lower) in st.actions_raw.iter().zip(&st.actions) {
            let matched: Vec<_> = if st.not_action {
                Vec::new()
            } else {
                iam::expand(lower)
            };
            let scoped: Vec<_> = matched
                .iter()
                .filter(|a| a.takes_resources() && a.name != "iam:passrole")
                .collect();
            scopable.extend(scoped.iter().map(|a| a.name));
            if scoped.is_empty() {
                unscopable_raw.push(raw.clone());
                continue;
            }
            if lower.contains(['*', '?']) || scoped.len() != matched.len() {
                all_templated = false;
                continue;
            }
            let a = scoped[0];
            let service = a.name.split_once(':').map_or("", |(s, _)| s);
            let arns: Vec<String> = match &ctx {
                Some(ctx) => a
                    .resources
                    .split(',')
                    .filter_map(|r| {
                        arns::template(service, r)
                            .map(|tpl| arns::project_scoped(service, r, tpl, ctx))
                    })
                    .collect(),
                None => Vec::new(),
            };
            if arns.is_empty() {
                all_templated = false;
            }
            fixed_actions.push((raw.clone(), arns));
        }
        if st.not_action {
            // NotAction is reported on its own; its grants are too wide to
            // list here.
            return;
        }
        scopable.sort_unstable();
        scopable.dedup();
        if scopable.is_empty() {
            return;
        }
        let shown: Vec<&str> = scopable.iter().take(6).copied().collect();
        let more = scopable.len().saturating_sub(shown.len());
        let fix = if all_templated && c.patchable {
            let mut resources: Vec<String> = Vec::new();
            for (_, arns) in &fixed_actions {
                for a in arns {
                    if !resources.contains(a) {
                        resources.push(a.clone());
                    }
                }
            }
            let mut scoped = c.raw.clone();
            if let Some(obj) = scoped.as_object_mut() {
                obj.insert(
                    "Action".into(),
                    json!(
                        fixed_actions
                            .iter()
                            .map(|(a, _)| a.clone())
                            .collect::<Vec<_>>()
                    ),
                );
                obj.insert(
                    "Resource".into(),
                    if resources.len() == 1 {
                        json!(resources[0])
                    } else {
                        json!(resources)
                    },
                );
                obj.remove("NotResource");
            }
            let mut new = vec![scoped];
            if !unscopable_raw.is_empty() {
                let mut rest = c.raw.clone();
                if let Some(obj) = rest.as_object_mut() {
                    obj.remove("Sid");
                    obj.insert("Action".into(), json!(unscopable_raw));
                }
                new.push(rest);
            }
            Some(replace_statement(
                &self.pointer(t, &c.st.path),
                new,
                c.listed,
                c.index,
            ))
        } else {
            None
        };
        let proposal = match (&fix, &ctx) {
            (Some(_), _) => " The fix scopes them to the project's resources.".to_string(),
            (None, None) => " Pass the project prefix to get a scoped statement.".to_string(),
            (None, Some(_)) => String::new(),
        };
        self.push(
            t,
            RESOURCE_STAR,
            &format!("{}/Resource", st.path),
            format!(
                "{} action(s) that can be limited to specific resources are allowed on every resource: {}{}; a leaked credential reaches every such resource in the account.{proposal}",
                scopable.len(),
                shown.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() },
            ),
            fix,
        );
    }

    fn escalation(&mut self, t: &Target<'_>, path: &str, statements: &[Statement]) {
        let grants = Grants::of(statements);
        let hits: Vec<String> = iam::ESCALATIONS
            .iter()
            .filter(|(_, actions)| actions.iter().all(|a| grants.allows(a)))
            .map(|(how, actions)| format!("{how} ({})", actions.join(" + ")))
            .collect();
        if hits.is_empty() {
            return;
        }
        self.push(
            t,
            ESCALATION,
            path,
            format!(
                "a principal holding this policy can raise its own privileges to administrator: {}",
                hits.join("; ")
            ),
            None,
        );
    }
}

/// A wildcard's expansion and its finding (service-wide or partial).
fn wildcard_finding(raw: &str) -> WildcardFinding {
    let e = expand_action(raw);
    let count = e.actions.len();
    let lower = raw.to_ascii_lowercase();
    let (service, action) = lower.split_once(':').unwrap_or(("", ""));
    if action == "*" {
        let sensitive: Vec<&str> = e
            .actions
            .iter()
            .filter(|a| iam::is_permissions_management(a))
            .take(4)
            .map(String::as_str)
            .collect();
        let alternatives: Vec<String> = CAPABILITIES
            .iter()
            .filter(|cap| cap.service() == service)
            .map(|cap| format!("{} ({})", cap.actions().join(", "), cap.id))
            .collect();
        let narrower = if alternatives.is_empty() {
            "list only the actions the workload calls".to_string()
        } else {
            format!("narrower, by intent: {}", alternatives.join("; or "))
        };
        let message = format!(
            "`{raw}` allows all {count} actions of {service}{}, and any it gains later; {narrower}",
            if sensitive.is_empty() {
                String::new()
            } else {
                format!(
                    ", including permission changes such as {}",
                    sensitive.join(", ")
                )
            }
        );
        return (e, Some((SERVICE_WILDCARD, message)));
    }
    // Show the actions that hand out data, credentials or permissions
    // first: they are what makes a wildcard dangerous.
    let mut ordered: Vec<&str> = e.actions.iter().map(String::as_str).collect();
    ordered.sort_by_key(|a| {
        let sensitive = iam::EXFILTRATION_ACTIONS.contains(a)
            || iam::CREDENTIAL_ACTIONS.contains(a)
            || iam::is_permissions_management(a);
        (!sensitive, *a)
    });
    let sample: Vec<&str> = ordered.into_iter().take(6).collect();
    let message = format!(
        "`{raw}` grants {count} action(s): {}{}",
        sample.join(", "),
        if count > sample.len() {
            format!(" and {} more (see expansions)", count - sample.len())
        } else {
            String::new()
        }
    );
    (e, Some((PARTIAL_WILDCARD, message)))
}

struct StatementCtx<'a> {
    st: &'a Statement,
    raw: &'a Value,
    index: usize,
    /// `Statement` is a list (else a single object).
    listed: bool,
    patchable: bool,
}

/// A patch that replaces one statement with `new` (one or more).
fn replace_statement(pointer: &str, new: Vec<Value>, listed: bool, index: usize) -> Value {
    if !listed {
        // A single statement object becomes a list when it is split.
        let value = if new.len() == 1 {
            new[0].clone()
        } else {
            json!(new)
        };
        return json!([{"op": "replace", "path": pointer, "value": value}]);
    }
    let parent = pointer.rsplit_once('/').map_or("", |(p, _)| p);
    let mut ops = Vec::new();
    for (k, v) in new.into_iter().enumerate() {
        if k == 0 {
            ops.push(json!({"op": "replace", "path": pointer, "value": v}));
        } else {
            ops.push(json!({"op": "add", "path": format!("{parent}/{}", index + k), "value": v}));
        }
    }
    json!(ops)
}

/// Where a principal is "everyone": `"*"`, `{"AWS": "*"}` or a list with
/// `"*"`. Returns the path below `Principal`.
fn wildcard_principal(p: &Value) -> Option<String> {
    match p {
        Value::String(s) if s == "*" => Some(String::new()),
        Value::Object(m) => m.iter().find_map(|(k, v)| match v {
            Value::String(s) if s == "*" => Some(format!("/{k}")),
            Value::Array(items) => items
                .iter()
                .position(|x| x.as_str() == Some("*"))
                .map(|i| format!("/{k}/{i}")),
            _ => None,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> LintOptions {
        LintOptions {
            prefix: Some("synthcoreai".into()),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
        }
    }

    fn rules_of(r: &LintReport) -> Vec<&str> {
        r.report.findings.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn the_seeds_over_permissive_example_is_flagged_and_its_good_one_scoped() {
        let bad = json!({"Statement": [{"Effect": "Allow", "Action": "ses:*", "Resource": "*"}]});
        let r = lint_document(&bad, &opts());
        assert!(
            rules_of(&r).contains(&SERVICE_WILDCARD),
            "{:?}",
            rules_of(&r)
        );
        let f = r
            .report
            .findings
            .iter()
            .find(|f| f.rule == SERVICE_WILDCARD)
            .unwrap();
        assert!(
            f.message
                .contains("ses:SendEmail, ses:SendRawEmail (ses-send)"),
            "{}",
            f.message
        );
        assert_eq!(f.path, "Statement/0/Action");
        let good = json!({"Statement": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": "*"}]});
        let r = lint_document(&good, &opts());
        assert_eq!(rules_of(&r), [RESOURCE_STAR]);
        let fix = r.report.findings[0].fix.clone().unwrap();
        assert_eq!(fix[0]["path"], "/Statement/0");
        assert_eq!(
            fix[0]["value"]["Resource"],
            json!([
                "arn:aws:ses:us-east-1:123456789012:configuration-set/synthcoreai-*",
                "arn:aws:ses:us-east-1:123456789012:identity/*",
                "arn:aws:ses:us-east-1:123456789012:template/synthcoreai-*"
            ])
        );
    }

    #[test]
    fn replace_statement_handles_lists_and_single_objects() {
        let one = replace_statement("/Statement", vec![json!(1), json!(2)], false, 0);
        assert_eq!(
            one,
            json!([{"op": "replace", "path": "/Statement", "value": [1, 2]}])
        );
        let list = replace_statement("/Statement/3", vec![json!(1), json!(2)], true, 3);
        assert_eq!(
            list[1],
            json!({"op": "add", "path": "/Statement/4", "value": 2})
        );
        let single = replace_statement("/Statement/0", vec![json!(1)], true, 0);
        assert_eq!(
            single,
            json!([{"op": "replace", "path": "/Statement/0", "value": 1}])
        );
    }

    #[test]
    fn wildcard_principals_are_found() {
        assert_eq!(wildcard_principal(&json!("*")), Some(String::new()));
        assert_eq!(
            wildcard_principal(&json!({"AWS": ["arn:x", "*"]})),
            Some("/AWS/1".into())
        );
        assert_eq!(
            wildcard_principal(&json!({"Service": "lambda.amazonaws.com"})),
            None
        );
    }
}
