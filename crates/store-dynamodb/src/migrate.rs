//! `infraguard state migrate`: one checkout's SQLite state into the team's
//! table, keeping the audit chain (its entries and key) as it was.

use aws_sdk_dynamodb::types::{AttributeValue, Put};
use infraguard_core::store::{Store, StoreError};
use infraguard_engine::SqliteStore;
use infraguard_engine::audit;
use serde::Serialize;

use crate::items::{json, n, put, s};
use crate::{DynamoConfig, DynamoStore};

/// What moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MigrationReport {
    pub plans: usize,
    pub approvals: usize,
    pub applied: usize,
    pub spent_tokens: usize,
    pub locks: usize,
    pub audit_entries: usize,
    /// `audit verify` of the copied chain, on the table.
    pub audit_ok: bool,
    /// The chain's last hash, the same on both stores.
    pub audit_head: String,
}

impl DynamoStore {
    /// Copy `from` into the (empty) table of `config`: plans and approvals
    /// in their order, applied states of `envs`, spent tokens, locks, and
    /// the audit log entry by entry with its key, so the chain verifies the
    /// same. Secrets are opened with the checkout's key and sealed with the
    /// table's. A table that already holds plans or audit entries is
    /// refused: two histories cannot be merged into one chain.
    pub fn migrate(
        config: &DynamoConfig,
        from: &SqliteStore,
        envs: &[String],
    ) -> Result<(DynamoStore, MigrationReport), StoreError> {
        let probe = DynamoStore::open(config)?;
        let has_plans = !probe
            .query("plan", false, true, Some(1), &|_| true)?
            .is_empty();
        if has_plans || probe.get("audit-head", "head")?.is_some() {
            return Err(StoreError::Conflict(format!(
                "{} already holds plans or audit entries: migrate into a new table (`[state] table`, then `infraguard state init`), so that one audit chain is never two",
                probe.describe()
            )));
        }
        // The chain's key first: entries keep their hashes.
        let secret = from.secret()?;
        let req = probe
            .client
            .put_item()
            .table_name(&probe.table)
            .item("pk", s("meta"))
            .item("sk", s("secret"))
            .item("value", AttributeValue::B(secret.into()))
            .send();
        probe.call("copying the audit key", req)?;
        let store = DynamoStore::open(config)?;

        let mut plans = from.plans(None, usize::MAX)?;
        plans.reverse();
        for p in &plans {
            store.insert_plan(p, None, &[])?;
        }
        let approvals = from.approvals(None)?;
        for a in &approvals {
            store.insert_approval(a, &[])?;
        }
        let mut applied = 0;
        for env in envs {
            for st in from.applied(env)? {
                store.record_applied(&st)?;
                applied += 1;
            }
        }
        let tokens = from.spent_tokens()?;
        for (id, expires_at) in &tokens {
            store.spend_token(id, *expires_at)?;
        }
        let locks = from.locks()?;
        for l in &locks {
            let req = store
                .client
                .put_item()
                .table_name(&store.table)
                .item("pk", s("lock"))
                .item("sk", s(&l.key))
                .item("plan_id", s(&l.plan_id))
                .item("id", s(&l.id))
                .item("holder", s(json(l, "lock")?))
                .send();
            store.call("copying a lock", req)?;
        }
        let log = from.audit_log()?;
        // Entries in batches of 25 (BatchWriteItem), the head last and
        // conditional: a migration cut short leaves no head, and only one
        // migration of a table can write it. The table was empty (checked
        // above), so the entries need no condition of their own.
        for chunk in log.chunks(25) {
            let mut pending = chunk
                .iter()
                .map(|e| {
                    let put = aws_sdk_dynamodb::types::PutRequest::builder()
                        .item("pk", s("audit"))
                        .item("sk", s(crate::items::audit_sk(e.seq)))
                        .item("body", s(json(e, "audit entry")?))
                        .build()
                        .map_err(|e| StoreError::Storage(format!("building a put: {e}")))?;
                    Ok(aws_sdk_dynamodb::types::WriteRequest::builder()
                        .put_request(put)
                        .build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            // DynamoDB may hand some back (throttling): send those again.
            for _ in 0..20 {
                if pending.is_empty() {
                    break;
                }
                let req = store
                    .client
                    .batch_write_item()
                    .request_items(store.table.clone(), pending)
                    .send();
                let out = store.call("copying audit entries", req)?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&store.table))
                    .unwrap_or_default();
                if !pending.is_empty() {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
            if !pending.is_empty() {
                return Err(StoreError::Storage(
                    "copying audit entries: DynamoDB kept refusing the writes (throttled); run `infraguard state migrate` again into a new table".into(),
                ));
            }
        }
        let head = log.last().map(|e| (e.seq, e.hash.clone()));
        if let Some((seq, hash)) = &head {
            let p = put(Put::builder()
                .table_name(&store.table)
                .item("pk", s("audit-head"))
                .item("sk", s("head"))
                .item("seq", n(*seq as i64))
                .item("hash", s(hash))
                .condition_expression("attribute_not_exists(pk)"))?;
            let req = store
                .client
                .transact_write_items()
                .client_request_token(crate::items::request_token()?)
                .transact_items(p)
                .send();
            store.call("writing the audit head", req)?;
        }
        let copied = store.audit_log()?;
        let v = audit::verify(&store.audit_key(), &copied);
        let report = MigrationReport {
            plans: plans.len(),
            approvals: approvals.len(),
            applied,
            spent_tokens: tokens.len(),
            locks: locks.len(),
            audit_entries: copied.len(),
            audit_ok: v.ok && copied.len() == log.len(),
            audit_head: v.head,
        };
        Ok((store, report))
    }
}
