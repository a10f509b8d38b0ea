//! `SqliteStore`: the `Store` port over SQLite (`.infraguard/state.db`).
//!
//! Plans and approvals are stored as JSON bodies beside the few columns that
//! are queried. Every write and the audit records describing it share one
//! transaction. The audit table refuses UPDATE and DELETE by trigger, so even
//! a careless tool cannot rewrite history through SQL without dropping the
//! trigger first (and `audit verify` would still see the broken chain).
//! Secrets in plan bodies and applied states are sealed ([`crate::seal`]).

use std::path::Path;
use std::sync::Mutex;

use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::audit::{AuditEntry, AuditRecord};
use infraguard_core::plan::{Plan, PlanStatus};
use infraguard_core::store::{AppliedState, Lock, Store, StoreError};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::seal::Sealer;

mod rows;

use rows::{
    SCHEMA, add_lock_holders, append, compare_and_set, corrupt, insert_approval, insert_plan_rows,
    lock_of_row, plan_with_approval, storage,
};

pub struct SqliteStore {
    // rusqlite's Connection is Send but not Sync; the store is shared by
    // reference across threads (MCP server), so calls take turns.
    conn: Mutex<Connection>,
    /// The project's secret: keys the audit chain's HMACs.
    key: Vec<u8>,
    /// Seals secrets in plan bodies and applied states (key beside the file).
    sealer: Sealer,
    /// The database file (`None` in memory).
    path: Option<std::path::PathBuf>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Storage(format!("cannot open {}: {e}", path.display())))?;
        let mut store = Self::init(conn, Sealer::from_key_file(&path.with_extension("key"))?)?;
        store.path = Some(path.to_path_buf());
        Ok(store)
    }

    /// The database file, for a second handle on the same state.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(
            Connection::open_in_memory().map_err(storage)?,
            Sealer::ephemeral()?,
        )
    }

    fn init(conn: Connection, sealer: Sealer) -> Result<SqliteStore, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(storage)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(storage)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(storage)?;
        conn.execute_batch(SCHEMA).map_err(storage)?;
        add_lock_holders(&conn)?;
        let mut store = SqliteStore {
            conn: Mutex::new(conn),
            key: Vec::new(),
            sealer,
            path: None,
        };
        store.key = store.secret()?;
        Ok(store)
    }

    fn with_tx<R>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Storage("state lock poisoned".into()))?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(storage)?;
        let r = f(&tx)?;
        tx.commit().map_err(storage)?;
        Ok(r)
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Storage("state lock poisoned".into()))
    }

    /// The JSON body of the first row of `sql`, decoded.
    fn body<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        what: &str,
    ) -> Result<Option<T>, StoreError> {
        let body: Option<String> = self
            .conn()?
            .query_row(sql, params, |r| r.get(0))
            .optional()
            .map_err(storage)?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| corrupt(what, e)))
            .transpose()
    }

    /// The JSON bodies of every row of `sql`, decoded.
    fn bodies<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        what: &str,
    ) -> Result<Vec<T>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(sql).map_err(storage)?;
        let rows = stmt
            .query_map(params, |r| r.get::<_, String>(0))
            .map_err(storage)?;
        let mut out = Vec::new();
        for body in rows {
            let body = body.map_err(storage)?;
            out.push(serde_json::from_str(&body).map_err(|e| corrupt(what, e))?);
        }
        Ok(out)
    }

    /// The project's signing secret, made on first use (32 random bytes).
    pub fn secret(&self) -> Result<Vec<u8>, StoreError> {
        self.with_tx(|tx| {
            let existing: Option<Vec<u8>> = tx
                .query_row("SELECT value FROM meta WHERE key = 'secret'", [], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(storage)?;
            if let Some(s) = existing {
                return Ok(s);
            }
            let mut s = vec![0u8; 32];
            getrandom::fill(&mut s)
                .map_err(|e| StoreError::Storage(format!("no randomness for the secret: {e}")))?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('secret', ?1)",
                params![s],
            )
            .map_err(storage)?;
            Ok(s)
        })
    }

    /// Every spent token id and its expiry, for moving the state elsewhere.
    pub fn spent_tokens(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT id, expires_at FROM spent_tokens ORDER BY id")
            .map_err(storage)?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(storage)?
            .collect::<Result<_, _>>()
            .map_err(storage)
    }

    /// Remove an audit row behind the triggers' back. Only for tests that prove
    /// `audit verify` notices tampering.
    #[doc(hidden)]
    pub fn tamper_for_tests(&self, sql: &str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute_batch(&format!(
            "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete; {sql}"
        ))
        .map_err(storage)
    }
}

impl Store for SqliteStore {
    fn insert_plan_exclusive(
        &self,
        plan: &Plan,
        approval: Option<&Approval>,
        audit: &[AuditRecord],
        lock: Option<&Lock>,
        in_flight: &dyn Fn(&Plan, Option<&Approval>) -> bool,
    ) -> Result<Option<Plan>, StoreError> {
        let holder_json = lock
            .map(|l| serde_json::to_string(l).map_err(|e| corrupt("lock", e)))
            .transpose()?;
        let body =
            serde_json::to_string(&self.sealer.seal_plan(plan)?).map_err(|e| corrupt("plan", e))?;
        let held = self.with_tx(|tx| {
            if let Some(Lock { key, .. }) = lock {
                let holder: Option<String> = tx
                    .query_row(
                        "SELECT plan_id FROM plan_locks WHERE key = ?1",
                        params![key],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(storage)?;
                if let Some(holder) = holder
                    && let Some((p, a)) = plan_with_approval(tx, &holder)?
                    && in_flight(&p, a.as_ref())
                {
                    return Ok(Some(p));
                }
            }
            if let Some(a) = approval {
                let ids: Vec<String> = {
                    let mut stmt = tx
                        .prepare(
                            "SELECT plan_id FROM approvals WHERE status = 'pending'
                             AND json_extract(body, '$.content_hash') = ?1 ORDER BY seq",
                        )
                        .map_err(storage)?;
                    let rows = stmt
                        .query_map(params![a.content_hash], |r| r.get::<_, String>(0))
                        .map_err(storage)?;
                    rows.collect::<Result<_, _>>().map_err(storage)?
                };
                for id in ids {
                    if let Some((p, a)) = plan_with_approval(tx, &id)?
                        && in_flight(&p, a.as_ref())
                    {
                        return Ok(Some(p));
                    }
                }
            }
            insert_plan_rows(tx, plan, &body, approval)?;
            if let Some(Lock { key, .. }) = lock {
                tx.execute(
                    "INSERT OR REPLACE INTO plan_locks (key, plan_id, holder) VALUES (?1, ?2, ?3)",
                    params![key, plan.id, holder_json],
                )
                .map_err(storage)?;
            }
            append(tx, &self.key, audit)?;
            Ok(None)
        })?;
        // The plan that holds the resource, its secrets opened as every read
        // of a plan opens them.
        held.map(|p| self.sealer.open_plan(p)).transpose()
    }

    fn take_lock(&self, lock: &Lock, audit: &[AuditRecord]) -> Result<Option<Lock>, StoreError> {
        let holder = serde_json::to_string(lock).map_err(|e| corrupt("lock", e))?;
        self.with_tx(|tx| {
            let existing: Option<(String, Option<String>)> = tx
                .query_row(
                    "SELECT plan_id, holder FROM plan_locks WHERE key = ?1",
                    params![lock.key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(storage)?;
            if let Some((plan_id, h)) = existing {
                return lock_of_row(lock.key.clone(), plan_id, h).map(Some);
            }
            tx.execute(
                "INSERT INTO plan_locks (key, plan_id, holder) VALUES (?1, ?2, ?3)",
                params![lock.key, lock.plan_id, holder],
            )
            .map_err(storage)?;
            append(tx, &self.key, audit)?;
            Ok(None)
        })
    }

    fn locks(&self) -> Result<Vec<Lock>, StoreError> {
        let rows: Vec<(String, String, Option<String>)> = {
            let conn = self.conn()?;
            let mut stmt = conn
                .prepare("SELECT key, plan_id, holder FROM plan_locks ORDER BY key")
                .map_err(storage)?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(storage)?
                .collect::<Result<_, _>>()
                .map_err(storage)?
        };
        rows.into_iter()
            .map(|(key, plan_id, holder)| lock_of_row(key, plan_id, holder))
            .collect()
    }

    fn release_lock(
        &self,
        id: &str,
        plan_id: &str,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let key = self
            .locks()?
            .into_iter()
            .find(|l| l.id == id && l.plan_id == plan_id)
            .map(|l| l.key);
        self.with_tx(|tx| {
            let n = match &key {
                Some(key) => tx
                    .execute(
                        "DELETE FROM plan_locks WHERE key = ?1 AND plan_id = ?2",
                        params![key, plan_id],
                    )
                    .map_err(storage)?,
                None => 0,
            };
            if n != 1 {
                return Err(StoreError::lock_gone(id, plan_id));
            }
            append(tx, &self.key, audit)
        })
    }

    fn audit_key(&self) -> Vec<u8> {
        self.key.clone()
    }

    fn insert_plan(
        &self,
        plan: &Plan,
        approval: Option<&Approval>,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let body =
            serde_json::to_string(&self.sealer.seal_plan(plan)?).map_err(|e| corrupt("plan", e))?;
        self.with_tx(|tx| {
            insert_plan_rows(tx, plan, &body, approval)?;
            append(tx, &self.key, audit)
        })
    }

    fn update_plan(
        &self,
        plan: &Plan,
        expected_status: PlanStatus,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let body =
            serde_json::to_string(&self.sealer.seal_plan(plan)?).map_err(|e| corrupt("plan", e))?;
        self.with_tx(|tx| {
            let expected = expected_status.as_str();
            if !compare_and_set(tx, "plans", &plan.id, plan.status.as_str(), &body, expected)? {
                return Err(StoreError::plan_changed(&plan.id, expected));
            }
            append(tx, &self.key, audit)
        })
    }

    fn plan(&self, id: &str) -> Result<Option<Plan>, StoreError> {
        self.body(
            "SELECT body FROM plans WHERE id = ?1",
            params![id],
            &format!("plan {id}"),
        )?
        .map(|p| self.sealer.open_plan(p))
        .transpose()
    }

    fn plans(&self, env: Option<&str>, limit: usize) -> Result<Vec<Plan>, StoreError> {
        self.bodies(
            "SELECT body FROM plans WHERE (?1 IS NULL OR env = ?1) ORDER BY seq DESC LIMIT ?2",
            params![env, limit as i64],
            "plan",
        )?
        .into_iter()
        .map(|p| self.sealer.open_plan(p))
        .collect()
    }

    fn decide_approval(
        &self,
        approval: &Approval,
        expected: ApprovalStatus,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let body = serde_json::to_string(approval).map_err(|e| corrupt("approval", e))?;
        self.with_tx(|tx| {
            let (id, status) = (&approval.id, approval.status.as_str());
            if !compare_and_set(tx, "approvals", id, status, &body, expected.as_str())? {
                return Err(StoreError::approval_decided(id, expected.as_str()));
            }
            append(tx, &self.key, audit)
        })
    }

    fn insert_approval(
        &self,
        approval: &Approval,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            insert_approval(tx, approval)?;
            append(tx, &self.key, audit)
        })
    }

    fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError> {
        self.body(
            "SELECT body FROM approvals WHERE id = ?1",
            params![id],
            &format!("approval {id}"),
        )
    }

    fn approval_for_plan(&self, plan_id: &str) -> Result<Option<Approval>, StoreError> {
        self.body(
            "SELECT body FROM approvals WHERE plan_id = ?1 ORDER BY seq DESC LIMIT 1",
            params![plan_id],
            "approval",
        )
    }

    fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>, StoreError> {
        self.bodies(
            "SELECT body FROM approvals WHERE (?1 IS NULL OR status = ?1) ORDER BY seq",
            params![status.map(|s| s.as_str())],
            "approval",
        )
    }

    fn append_audit(&self, audit: &[AuditRecord]) -> Result<(), StoreError> {
        self.with_tx(|tx| append(tx, &self.key, audit))
    }

    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare(
                "SELECT seq, at, actor, action, env, plan_id, content_hash, outcome, details, prev_hash, hash
                 FROM audit ORDER BY seq",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                ))
            })
            .map_err(storage)?;
        let mut out = Vec::new();
        for row in rows {
            let (
                seq,
                at,
                actor,
                action,
                env,
                plan_id,
                content_hash,
                outcome,
                details,
                prev_hash,
                hash,
            ) = row.map_err(storage)?;
            out.push(AuditEntry {
                seq: seq as u64,
                at,
                actor,
                action,
                env,
                plan_id,
                content_hash,
                outcome,
                details: serde_json::from_str(&details).map_err(|e| corrupt("audit details", e))?,
                prev_hash,
                hash,
            });
        }
        Ok(out)
    }

    fn spend_token(&self, token_id: &str, expires_at: i64) -> Result<bool, StoreError> {
        self.with_tx(|tx| {
            // Forget spent tokens that have expired anyway: they are refused for
            // their age, so the table stays small.
            tx.execute(
                "DELETE FROM spent_tokens WHERE expires_at < ?1",
                params![expires_at - 86_400],
            )
            .map_err(storage)?;
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO spent_tokens (id, expires_at) VALUES (?1, ?2)",
                    params![token_id, expires_at],
                )
                .map_err(storage)?;
            Ok(n == 1)
        })
    }

    fn open_question(
        &self,
        approval_id: &str,
        nonce: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            tx.execute(
                "INSERT INTO questions (approval_id, nonce, expires_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (approval_id) DO UPDATE SET nonce = excluded.nonce, expires_at = excluded.expires_at",
                params![approval_id, nonce, expires_at],
            )
            .map_err(storage)?;
            Ok(())
        })
    }

    fn take_question(&self, approval_id: &str, nonce: &str, now: i64) -> Result<bool, StoreError> {
        self.with_tx(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM questions WHERE approval_id = ?1 AND nonce = ?2 AND expires_at >= ?3",
                    params![approval_id, nonce, now],
                )
                .map_err(storage)?;
            // Questions nobody answered in time are forgotten.
            tx.execute("DELETE FROM questions WHERE expires_at < ?1", params![now])
                .map_err(storage)?;
            Ok(n == 1)
        })
    }

    fn token_spent(&self, token_id: &str) -> Result<bool, StoreError> {
        let conn = self.conn()?;
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM spent_tokens WHERE id = ?1",
                params![token_id],
                |r| r.get(0),
            )
            .map_err(storage)?;
        Ok(n > 0)
    }

    fn record_applied(&self, s: &AppliedState) -> Result<(), StoreError> {
        let props = self.sealer.seal_properties(&s.type_name, &s.properties)?;
        self.with_tx(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO applied (env, type, identifier, properties, plan_id, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    s.env,
                    s.type_name,
                    s.identifier,
                    props.to_string(),
                    s.plan_id,
                    s.at
                ],
            )
            .map_err(storage)?;
            Ok(())
        })
    }

    fn forget_applied(
        &self,
        env: &str,
        type_name: &str,
        identifier: &str,
    ) -> Result<(), StoreError> {
        self.with_tx(|tx| {
            tx.execute(
                "DELETE FROM applied WHERE env = ?1 AND type = ?2 AND identifier = ?3",
                params![env, type_name, identifier],
            )
            .map_err(storage)?;
            Ok(())
        })
    }

    fn applied(&self, env: &str) -> Result<Vec<AppliedState>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare(
                "SELECT env, type, identifier, properties, plan_id, at FROM applied WHERE env = ?1
                 ORDER BY type, identifier",
            )
            .map_err(storage)?;
        let rows = stmt
            .query_map(params![env], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(storage)?;
        let mut out = Vec::new();
        for row in rows {
            let (env, type_name, identifier, props, plan_id, at) = row.map_err(storage)?;
            let properties = self.sealer.open_properties(
                serde_json::from_str(&props).map_err(|e| corrupt("applied", e))?,
                &format!("the applied state of {type_name} `{identifier}`"),
            )?;
            out.push(AppliedState {
                env,
                type_name,
                identifier,
                properties,
                plan_id,
                at,
            });
        }
        Ok(out)
    }
}
