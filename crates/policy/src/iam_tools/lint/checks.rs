//! The checks that take more than a line: wildcard actions, `iam:PassRole`
//! on every role, `Resource: "*"` on actions that take ARNs, and privilege
//! escalation; with the RFC 6902 patches that narrow a statement.

use serde_json::{Value, json};

use super::{ESCALATION, PARTIAL_WILDCARD, PASS_ROLE, RESOURCE_STAR, SERVICE_WILDCARD};
use super::{Linter, StatementCtx, Target, WildcardFinding};
use crate::iam::{self, Grants, Statement};
use crate::iam_tools::actions::expand_action;
use crate::iam_tools::arns;
use crate::iam_tools::catalog::CAPABILITIES;

impl<'o> Linter<'o> {
    /// `ses:*` and `s3:Get*`: what they grant, and what a narrower spelling
    /// would be.
    pub(super) fn wildcard(&mut self, t: &Target<'_>, c: &StatementCtx<'_>, i: usize, raw: &str) {
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

    pub(super) fn pass_role(&mut self, t: &Target<'_>, c: &StatementCtx<'_>, star_resource: bool) {
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

    pub(super) fn resource_star(&mut self, t: &Target<'_>, c: &StatementCtx<'_>) {
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

    pub(super) fn escalation(&mut self, t: &Target<'_>, path: &str, statements: &[Statement]) {
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
pub(super) fn wildcard_finding(raw: &str) -> WildcardFinding {
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

/// A patch that replaces one statement with `new` (one or more).
pub(super) fn replace_statement(
    pointer: &str,
    new: Vec<Value>,
    listed: bool,
    index: usize,
) -> Value {
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
pub(super) fn wildcard_principal(p: &Value) -> Option<String> {
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
