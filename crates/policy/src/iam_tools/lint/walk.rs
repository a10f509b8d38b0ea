//! The walk: a document's statements one by one, each checked by every rule
//! that applies to its kind of policy, findings pushed with their rule's
//! description, and the report assembled at the end.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use super::checks::wildcard_principal;
use super::{ADMIN, NOT_ACTION, PRINCIPAL, STAR, UNKNOWN};
use super::{Kind, LintOptions, LintReport, Linter, StatementCtx, Target, lint_rules};
use crate::iam;
use crate::iam_tools::actions::nearest_actions;
use crate::iam_tools::arns::ArnContext;
use crate::value::Val;
use crate::{Finding, ScanReport, Undetermined};

impl<'o> Linter<'o> {
    pub(super) fn new(options: &'o LintOptions) -> Self {
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

    pub(super) fn finish(mut self) -> LintReport {
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

    pub(super) fn arn_context(&self) -> Option<ArnContext> {
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

    pub(super) fn push(
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

    pub(super) fn unknown(&mut self, t: &Target<'_>, path: &str, reason: String) {
        self.undetermined.push(Undetermined {
            rule: "IG-IAM-LINT".into(),
            checkov_id: None,
            resource: t.resource.into(),
            type_name: t.type_name.into(),
            path: path.trim_start_matches('/').into(),
            reason,
        });
    }

    pub(super) fn pointer(&self, t: &Target<'_>, path: &str) -> String {
        format!("{}/{}", t.pointer_root, path.trim_start_matches('/'))
    }

    pub(super) fn document(&mut self, t: &Target<'_>, doc: &Value, path: &str, kind: Kind) {
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

    pub(super) fn statement(&mut self, t: &Target<'_>, c: &StatementCtx<'_>, kind: Kind) {
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
}
