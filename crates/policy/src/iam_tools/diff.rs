//! Current vs proposed permissions of a principal: which (action, resource)
//! pairs a capability needs that the principal's policies do not grant yet.
//!
//! An action is granted on a resource when an `Allow` statement's action
//! pattern matches it (wildcards expanded by glob, as IAM does) and one of
//! its resource patterns matches the resource ARN (or is `*`). Statements
//! with a `Condition` count as granting, with a note: whether the condition
//! holds is only known at request time. A `Deny` that would block a needed
//! action is reported, since adding an `Allow` would not help.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::iam::{self, Statement};

/// One action on one resource, and the policy it comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// As written in the policy (`s3:PutObject`, `s3:Get*`).
    pub action: String,
    pub resource: String,
    /// The policy's name.
    pub policy: String,
}

/// The comparison.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PermissionDiff {
    /// What the principal's policies allow now.
    pub current: Vec<Grant>,
    /// What the capability needs and nothing grants yet: the change.
    pub added: Vec<Grant>,
    /// What the capability needs and is granted already.
    pub already_granted: Vec<Grant>,
    pub notes: Vec<String>,
}

impl PermissionDiff {
    /// Whether anything must change.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
    }

    /// A diff for people: current grants unmarked, additions with `+`.
    pub fn render(&self) -> String {
        let width = self
            .current
            .iter()
            .chain(&self.added)
            .map(|g| g.action.len())
            .max()
            .unwrap_or(0);
        let mut s = String::new();
        if self.current.is_empty() {
            let _ = writeln!(s, "  (no permissions today)");
        }
        for g in &self.current {
            let _ = writeln!(s, "  {:<width$}  {}  ({})", g.action, g.resource, g.policy);
        }
        for g in &self.added {
            let _ = writeln!(s, "+ {:<width$}  {}  ({})", g.action, g.resource, g.policy);
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s
    }
}

/// Compares the principal's policies (`(name, document)`) with the
/// document it would need (`proposed`, named `proposed_name`).
pub fn permission_diff(
    current: &[(String, Value)],
    proposed_name: &str,
    proposed: &Value,
) -> PermissionDiff {
    let mut diff = PermissionDiff::default();
    let mut statements: Vec<(String, Statement)> = Vec::new();
    for (name, doc) in current {
        match iam::parse_document(doc, "") {
            Ok(list) => statements.extend(list.into_iter().map(|s| (name.clone(), s))),
            Err(why) => diff.notes.push(format!(
                "policy `{name}` cannot be read ({why}): its grants are not counted"
            )),
        }
    }
    for (name, st) in &statements {
        if st.unknown.is_some() {
            diff.notes.push(format!(
                "a statement of `{name}` is built by an intrinsic function: its grants are not counted"
            ));
            continue;
        }
        if st.allow != Some(true) {
            continue;
        }
        let resources = if st.not_resource {
            vec![format!("everything except {}", st.resources.join(", "))]
        } else if st.resources.is_empty() {
            vec!["*".to_string()]
        } else {
            st.resources.clone()
        };
        let actions = if st.not_action {
            vec![format!("everything except {}", st.actions_raw.join(", "))]
        } else {
            st.actions_raw.clone()
        };
        for a in &actions {
            for r in &resources {
                diff.current.push(Grant {
                    action: a.clone(),
                    resource: r.clone(),
                    policy: name.clone(),
                });
            }
        }
    }

    let wanted = match iam::parse_document(proposed, "") {
        Ok(w) => w,
        Err(why) => {
            diff.notes
                .push(format!("the proposed policy cannot be read: {why}"));
            return diff;
        }
    };
    let mut conditioned = false;
    for w in wanted.iter().filter(|w| w.allow == Some(true)) {
        for (a_raw, a) in w.actions_raw.iter().zip(&w.actions) {
            for r in &w.resources {
                let grant = Grant {
                    action: a_raw.clone(),
                    resource: r.clone(),
                    policy: proposed_name.to_string(),
                };
                let by = statements.iter().find(|(_, st)| {
                    st.unknown.is_none() && st.allow == Some(true) && grants(st, a, r)
                });
                match by {
                    Some((name, st)) => {
                        conditioned |= st.has_condition;
                        diff.already_granted.push(Grant {
                            policy: name.clone(),
                            ..grant
                        });
                    }
                    None => diff.added.push(grant),
                }
                if let Some((name, _)) = statements.iter().find(|(_, st)| {
                    st.unknown.is_none()
                        && st.allow == Some(false)
                        && !st.has_condition
                        && grants(st, a, r)
                }) {
                    diff.notes.push(format!(
                        "`{name}` denies {a_raw} on {r}: an Allow cannot override it; remove the Deny first"
                    ));
                }
            }
        }
    }
    if conditioned {
        diff.notes.push(
            "some needs are met by statements with a Condition: they count as granted, but only hold when the condition does".into(),
        );
    }
    diff
}

/// Whether a statement covers `action` (lower case) on `resource`.
fn grants(st: &Statement, action: &str, resource: &str) -> bool {
    let action_ok = if st.not_action {
        !st.actions.iter().any(|p| iam::glob(p, action))
    } else {
        st.actions.iter().any(|p| iam::glob(p, action))
    };
    let resource_ok = if st.not_resource {
        !st.resources.iter().any(|p| resource_glob(p, resource))
    } else {
        st.resources.iter().any(|p| resource_glob(p, resource))
    };
    action_ok && resource_ok
}

/// A resource pattern covers a wanted resource (which may itself be a
/// pattern such as `arn:aws:s3:::synthcoreai-*/*`: `*` covers `*`).
fn resource_glob(pattern: &str, wanted: &str) -> bool {
    pattern == "*" || wildcard_match(pattern.as_bytes(), wanted.as_bytes())
}

/// Glob where `*` and `?` in the pattern are always wildcards, even where
/// the text has the same character (the wanted ARN is often a pattern too).
fn wildcard_match(p: &[u8], n: &[u8]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if pi < p.len() && (p[pi] == b'?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ses() -> (String, Value) {
        (
            "SynthCoreAI-SES-SendOnly".into(),
            json!({"Statement": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": "*"}]}),
        )
    }

    fn upload() -> Value {
        json!({"Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::synthcoreai-*/*"}]})
    }

    #[test]
    fn an_ses_only_principal_misses_both_s3_actions() {
        let d = permission_diff(&[ses()], "SynthCoreAI-S3-FileUpload", &upload());
        assert_eq!(d.current.len(), 2);
        let added: Vec<&str> = d.added.iter().map(|g| g.action.as_str()).collect();
        assert_eq!(added, ["s3:PutObject", "s3:GetObject"]);
        assert!(d.already_granted.is_empty());
        let text = d.render();
        assert!(text.contains("+ s3:PutObject"), "{text}");
        assert!(text.contains("  ses:SendEmail"), "{text}");
    }

    #[test]
    fn wildcards_and_broader_resources_already_grant() {
        let broad = (
            "Old".to_string(),
            json!({"Statement": {"Effect": "Allow", "Action": "s3:*Object", "Resource": "arn:aws:s3:::synthcoreai-*"}}),
        );
        let d = permission_diff(&[ses(), broad], "New", &upload());
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.already_granted[0].policy, "Old");
        let narrow = (
            "Narrow".to_string(),
            json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}}),
        );
        let d = permission_diff(&[narrow], "New", &upload());
        assert_eq!(d.added.len(), 2);
    }

    #[test]
    fn a_deny_is_reported() {
        let deny = (
            "Guard".to_string(),
            json!({"Statement": {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}}),
        );
        let d = permission_diff(&[deny], "New", &upload());
        assert!(
            d.notes.iter().any(|n| n.contains("denies s3:PutObject")),
            "{:?}",
            d.notes
        );
    }

    #[test]
    fn resource_patterns_cover_narrower_patterns() {
        assert!(resource_glob(
            "arn:aws:s3:::synthcoreai-*",
            "arn:aws:s3:::synthcoreai-*/*"
        ));
        assert!(resource_glob("*", "anything"));
        assert!(!resource_glob(
            "arn:aws:s3:::other/*",
            "arn:aws:s3:::synthcoreai-*/*"
        ));
        assert!(resource_glob("arn:aws:s3:::a?c/*", "arn:aws:s3:::abc/x"));
    }
}
