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

/// Check every link of the chain.
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
    Verification {
        entries: entries.len(),
        ok: problems.is_empty(),
        problems,
        head: prev,
    }
}
