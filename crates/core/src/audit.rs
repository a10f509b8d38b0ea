//! The audit log: append-only, each entry hash-chained to the one before.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1-based position in the log.
    pub seq: u64,
    pub at: String,
    /// Who acted (`human:alice via cli`, `agent via mcp`, `infraguard`).
    pub actor: String,
    /// What happened (`plan.created`, `approval.granted`, `apply.succeeded`...).
    pub action: String,
    pub env: Option<String>,
    pub plan_id: Option<String>,
    pub content_hash: Option<String>,
    /// `ok`, `refused`, `failed`, `pending`...
    pub outcome: String,
    /// Structured detail. Never secrets: callers pass redacted values.
    pub details: Value,
    /// Hash of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// sha256 over this entry's fields and `prev_hash`.
    pub hash: String,
}

/// What a caller supplies; the store assigns `seq`, `prev_hash` and `hash`.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub env: Option<String>,
    pub plan_id: Option<String>,
    pub content_hash: Option<String>,
    pub outcome: String,
    pub details: Value,
}
