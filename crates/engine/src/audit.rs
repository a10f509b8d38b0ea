//! The hash chain of the audit log: how an entry's hash is computed and how
//! the whole log is verified.
//!
//! Each entry's hash (an HMAC under the project's key) covers its own fields
//! and the previous entry's hash, so changing, removing or reordering any
//! entry breaks every link after it, and only the key's holder can forge a
//! new chain.

use infraguard_core::audit::{AuditEntry, AuditRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::hash::keyed_hash;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry with the given position and predecessor: an HMAC
/// under the project's key, so rewriting the log and recomputing the chain
/// takes the key (which the guard holds in guarded mode).
pub fn entry_hash(key: &[u8], seq: u64, record: &AuditRecord, prev_hash: &str) -> String {
    keyed_hash(
        key,
        &json!({
            "seq": seq,
            "at": record.at,
            "actor": record.actor,
            "action": record.action,
            "env": record.env,
            "plan_id": record.plan_id,
            "content_hash": record.content_hash,
            "outcome": record.outcome,
            "details": record.details,
            "prev_hash": prev_hash,
        }),
    )
}

fn record_of(entry: &AuditEntry) -> AuditRecord {
    AuditRecord {
        at: entry.at.clone(),
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        env: entry.env.clone(),
        plan_id: entry.plan_id.clone(),
        content_hash: entry.content_hash.clone(),
        outcome: entry.outcome.clone(),
        details: entry.details.clone(),
    }
}

/// Result of `verify`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub entries: usize,
    pub ok: bool,
    /// Each broken link, with the position and what is wrong.
    pub problems: Vec<String>,
    /// Hash of the last entry: write it down to detect truncation of the tail later.
    pub head: String,
}

/// Check every link of the chain, and that every apply that needed an
/// approval had one of the same content.
pub fn verify(key: &[u8], entries: &[AuditEntry]) -> Verification {
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = i as u64 + 1;
        if e.seq != expected_seq {
            problems.push(format!(
                "entry #{expected_seq} is missing (found #{} in its place): an entry was removed",
                e.seq
            ));
        }
        if e.prev_hash != prev {
            problems.push(format!(
                "entry #{} does not link to the entry before it: an entry before it was changed or removed",
                e.seq
            ));
        }
        let recomputed = entry_hash(key, e.seq, &record_of(e), &e.prev_hash);
        if recomputed != e.hash {
            problems.push(format!(
                "entry #{} ({} at {}) was changed after it was written",
                e.seq, e.action, e.at
            ));
        }
        prev = e.hash.clone();
    }
    problems.extend(unapproved_applies(entries));
    Verification {
        entries: entries.len(),
        ok: problems.is_empty(),
        problems,
        head: prev,
    }
}

/// Every `apply.started` of a plan whose approval was requested must follow
/// an `approval.granted` of that plan with the same content hash: the
/// content a person approved is the content applied. A chain rewritten by
/// the key's holder could hide this too; a bug or a store edit cannot.
fn unapproved_applies(entries: &[AuditEntry]) -> Vec<String> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut requested: BTreeSet<&str> = BTreeSet::new();
    let mut granted: BTreeMap<&str, BTreeSet<Option<&str>>> = BTreeMap::new();
    let mut problems = Vec::new();
    for e in entries {
        let Some(plan) = e.plan_id.as_deref() else {
            continue;
        };
        let hash = e.content_hash.as_deref();
        match e.action.as_str() {
            "approval.requested" => {
                requested.insert(plan);
            }
            "approval.granted" => {
                granted.entry(plan).or_default().insert(hash);
            }
            "apply.started" if requested.contains(plan) => match granted.get(plan) {
                None => problems.push(format!(
                    "entry #{} applies plan {plan}, whose approval was requested, with no approval granted before it",
                    e.seq
                )),
                Some(hashes) if !hashes.contains(&hash) => problems.push(format!(
                    "entry #{} applies plan {plan} with content {}, but the approval granted was for other content",
                    e.seq,
                    hash.unwrap_or("(none)")
                )),
                Some(_) => {}
            },
            _ => {}
        }
    }
    problems
}

#[cfg(test)]
mod approval_checks {
    use super::*;

    fn chain(key: &[u8], steps: &[(&str, &str, &str)]) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        let mut out = Vec::new();
        for (i, (action, plan, hash)) in steps.iter().enumerate() {
            let record = AuditRecord {
                at: "2026-12-02T00:00:00Z".into(),
                actor: "agent:a via cli".into(),
                action: action.to_string(),
                env: Some("prod".into()),
                plan_id: Some(plan.to_string()),
                content_hash: Some(hash.to_string()),
                outcome: "ok".into(),
                details: json!({}),
            };
            let seq = i as u64 + 1;
            let h = entry_hash(key, seq, &record, &prev);
            out.push(AuditEntry {
                seq,
                at: record.at,
                actor: record.actor,
                action: record.action,
                env: record.env,
                plan_id: record.plan_id,
                content_hash: record.content_hash,
                outcome: record.outcome,
                details: record.details,
                prev_hash: prev.clone(),
                hash: h.clone(),
            });
            prev = h;
        }
        out
    }

    #[test]
    fn an_apply_must_follow_an_approval_of_the_same_content() {
        let key = b"k";
        let good = chain(
            key,
            &[
                ("approval.requested", "p1", "h1"),
                ("approval.granted", "p1", "h1"),
                ("apply.started", "p1", "h1"),
                ("apply.started", "p2", "h2"), // never needed an approval
            ],
        );
        assert!(verify(key, &good).ok, "{:?}", verify(key, &good).problems);

        let unapproved = chain(
            key,
            &[
                ("approval.requested", "p1", "h1"),
                ("apply.started", "p1", "h1"),
            ],
        );
        let v = verify(key, &unapproved);
        assert!(!v.ok);
        assert!(
            v.problems[0].contains("no approval granted"),
            "{:?}",
            v.problems
        );

        let other = chain(
            key,
            &[
                ("approval.requested", "p1", "h1"),
                ("approval.granted", "p1", "h1"),
                ("apply.started", "p1", "h9"),
            ],
        );
        let v = verify(key, &other);
        assert!(!v.ok);
        assert!(v.problems[0].contains("other content"), "{:?}", v.problems);
    }
}
