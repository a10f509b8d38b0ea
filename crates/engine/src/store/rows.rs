//! The SQLite store's tables and the row-level steps its `Store` methods
//! share: the schema and its migration, audit appends, sequence numbers,
//! compare-and-set, and reading bodies back.

use infraguard_core::approval::Approval;
use infraguard_core::audit::AuditRecord;
use infraguard_core::plan::Plan;
use infraguard_core::store::{Lock, StoreError};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::audit::{GENESIS, entry_hash};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS plans (
    id TEXT PRIMARY KEY, env TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS plans_env ON plans(env, seq);
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY, plan_id TEXT NOT NULL, status TEXT NOT NULL,
    seq INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS approvals_plan ON approvals(plan_id);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    env TEXT, plan_id TEXT, content_hash TEXT, outcome TEXT NOT NULL, details TEXT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS spent_tokens (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS questions (approval_id TEXT PRIMARY KEY, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS plan_locks (key TEXT PRIMARY KEY, plan_id TEXT NOT NULL, holder TEXT);
CREATE TABLE IF NOT EXISTS applied (
    env TEXT NOT NULL, type TEXT NOT NULL, identifier TEXT NOT NULL, properties TEXT NOT NULL,
    plan_id TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (env, type, identifier));
";

pub(super) fn storage(e: rusqlite::Error) -> StoreError {
    StoreError::Storage(e.to_string())
}

pub(super) fn corrupt(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// A state made before locks kept their holder gains the column (its old
/// locks show what their plan says).
pub(super) fn add_lock_holders(conn: &Connection) -> Result<(), StoreError> {
    let has: bool = conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('plan_locks') WHERE name = 'holder'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(storage)?
        > 0;
    if !has {
        conn.execute_batch("ALTER TABLE plan_locks ADD COLUMN holder TEXT")
            .map_err(storage)?;
    }
    Ok(())
}

pub(super) fn append(
    tx: &Transaction<'_>,
    key: &[u8],
    records: &[AuditRecord],
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev): (u64, String) = tx
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
        )
        .optional()
        .map_err(storage)?
        .unwrap_or((0, GENESIS.to_string()));
    for rec in records {
        seq += 1;
        let hash = entry_hash(key, seq, rec, &prev);
        tx.execute(
            "INSERT INTO audit (seq, at, actor, action, env, plan_id, content_hash, outcome, details, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                seq as i64,
                rec.at,
                rec.actor,
                rec.action,
                rec.env,
                rec.plan_id,
                rec.content_hash,
                rec.outcome,
                rec.details.to_string(),
                prev,
                hash
            ],
        )
        .map_err(storage)?;
        prev = hash;
    }
    Ok(())
}

pub(super) fn next_seq(tx: &Transaction<'_>, table: &str) -> Result<i64, StoreError> {
    tx.query_row(
        &format!("SELECT COALESCE(MAX(seq), 0) + 1 FROM {table}"),
        [],
        |r| r.get(0),
    )
    .map_err(storage)
}

/// Set a row's status and body only if its status is still `expected`: the
/// compare-and-set under every plan transition and approval decision, so
/// two processes cannot both move the same row on. Whether the row moved.
pub(super) fn compare_and_set(
    tx: &Transaction<'_>,
    table: &str,
    id: &str,
    status: &str,
    body: &str,
    expected: &str,
) -> Result<bool, StoreError> {
    let n = tx
        .execute(
            &format!("UPDATE {table} SET status = ?1, body = ?2 WHERE id = ?3 AND status = ?4"),
            params![status, body, id, expected],
        )
        .map_err(storage)?;
    Ok(n == 1)
}

/// A new plan's row (its body already sealed) and its approval's, if any.
pub(super) fn insert_plan_rows(
    tx: &Transaction<'_>,
    plan: &Plan,
    body: &str,
    approval: Option<&Approval>,
) -> Result<(), StoreError> {
    let seq = next_seq(tx, "plans")?;
    tx.execute(
        "INSERT INTO plans (id, env, status, created_at, seq, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![plan.id, plan.env, plan.status.as_str(), plan.created_at, seq, body],
    )
    .map_err(storage)?;
    if let Some(a) = approval {
        insert_approval(tx, a)?;
    }
    Ok(())
}

pub(super) fn insert_approval(tx: &Transaction<'_>, a: &Approval) -> Result<(), StoreError> {
    let seq = next_seq(tx, "approvals")?;
    let body = serde_json::to_string(a).map_err(|e| corrupt("approval", e))?;
    tx.execute(
        "INSERT INTO approvals (id, plan_id, status, seq, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![a.id, a.plan_id, a.status.as_str(), seq, body],
    )
    .map_err(storage)?;
    Ok(())
}

/// One row's JSON body, decoded, inside a transaction.
fn body_in<T: serde::de::DeserializeOwned>(
    tx: &Transaction<'_>,
    sql: &str,
    params: impl rusqlite::Params,
    what: &str,
) -> Result<Option<T>, StoreError> {
    let body: Option<String> = tx
        .query_row(sql, params, |r| r.get(0))
        .optional()
        .map_err(storage)?;
    body.map(|b| serde_json::from_str(&b).map_err(|e| corrupt(what, e)))
        .transpose()
}

/// A plan and its latest approval, inside a transaction.
pub(super) fn plan_with_approval(
    tx: &Transaction<'_>,
    plan_id: &str,
) -> Result<Option<(Plan, Option<Approval>)>, StoreError> {
    let Some(plan) = body_in::<Plan>(
        tx,
        "SELECT body FROM plans WHERE id = ?1",
        params![plan_id],
        "plan",
    )?
    else {
        return Ok(None);
    };
    let approval = body_in::<Approval>(
        tx,
        "SELECT body FROM approvals WHERE plan_id = ?1 ORDER BY seq DESC LIMIT 1",
        params![plan_id],
        "approval",
    )?;
    Ok(Some((plan, approval)))
}

/// A lock row as a [`Lock`]: its holder as written, or, for a lock taken
/// before locks kept their holder, what its key says.
pub(super) fn lock_of_row(
    key: String,
    plan_id: String,
    holder: Option<String>,
) -> Result<Lock, StoreError> {
    if let Some(h) = holder {
        let mut lock: Lock = serde_json::from_str(&h).map_err(|e| corrupt("lock", e))?;
        lock.key = key;
        return Ok(lock);
    }
    let mut parts = key.splitn(3, '\n');
    let (env, t, name) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    Ok(Lock {
        id: crate::locks::lock_id(&key),
        resource: format!("{t} `{name}`"),
        what: format!("plan {plan_id}"),
        env,
        plan_id,
        who: "?".into(),
        host: "?".into(),
        since: "?".into(),
        key,
    })
}
