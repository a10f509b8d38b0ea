//! Items and calls: attribute values, consistent reads, paged queries, and
//! the one transaction every state change goes through (its own
//! conditional writes plus the audit entries, chained on `audit-head`).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use infraguard_core::audit::{AuditEntry, AuditRecord};
use infraguard_core::store::StoreError;
use infraguard_engine::audit::{GENESIS, entry_hash};
use infraguard_engine::seal;

use crate::DynamoStore;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit of actions in one transaction.
const MAX_ACTIONS: usize = 100;
/// How often a writer that lost the audit head (or met another
/// transaction on the same item) tries again before saying so.
const MAX_TRIES: u32 = 50;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The string attribute `name` of `item`.
pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// The number attribute `name` of `item`.
pub(crate) fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

/// An item's JSON `body`, decoded.
pub(crate) fn body<T: serde::de::DeserializeOwned>(
    item: &Item,
    what: &str,
) -> Result<T, StoreError> {
    let text =
        get_s(item, "body").ok_or_else(|| StoreError::Corrupt(format!("{what} has no body")))?;
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn json<T: serde::Serialize>(v: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The `sk` of audit entry `seq`: twenty digits sort as numbers do.
pub(crate) fn audit_sk(seq: u64) -> String {
    format!("{seq:020}")
}

/// What went wrong in one action of a cancelled transaction.
#[derive(Debug)]
pub(crate) enum Cancelled {
    /// Action `i` (of the caller's) did not meet its condition.
    Condition(usize),
    /// The audit head moved, or another transaction held an item: retry.
    Retry,
}

fn storage_error<E, R>(table: &str, what: &str, e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if e.code() == Some("ResourceNotFoundException") {
        return StoreError::Storage(format!(
            "{what}: the DynamoDB table `{table}` does not exist (or this region has none of that name): run `infraguard state init`"
        ));
    }
    if matches!(
        e.code(),
        Some("AccessDeniedException" | "UnrecognizedClientException")
    ) {
        return StoreError::Storage(format!(
            "{what}: DynamoDB refused the credentials for table `{table}` ({}); the state needs dynamodb:GetItem, PutItem, UpdateItem, DeleteItem, Query and TransactWriteItems on it",
            e.message().unwrap_or("no message")
        ));
    }
    StoreError::Storage(format!(
        "{what} on DynamoDB table `{table}`: {}",
        DisplayErrorContext(&e)
    ))
}

impl DynamoStore {
    /// Run one SDK future and wait for it here.
    pub(crate) fn call<T, E, R, F>(&self, what: &str, fut: F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, SdkError<E, R>>> + Send + 'static,
        T: Send + 'static,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        infraguard_cloud_aws::sdk::wait(&self.runtime, fut)
            .ok_or_else(|| StoreError::Storage(format!("{what}: the DynamoDB runtime stopped")))?
            .map_err(|e| storage_error(&self.table, what, e))
    }

    /// Like [`DynamoStore::call`], but a failed condition is `Ok(None)`.
    pub(crate) fn call_conditional<T, E, R, F>(
        &self,
        what: &str,
        fut: F,
    ) -> Result<Option<T>, StoreError>
    where
        F: Future<Output = Result<T, SdkError<E, R>>> + Send + 'static,
        T: Send + 'static,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match infraguard_cloud_aws::sdk::wait(&self.runtime, fut) {
            None => Err(StoreError::Storage(format!(
                "{what}: the DynamoDB runtime stopped"
            ))),
            Some(Ok(v)) => Ok(Some(v)),
            Some(Err(e)) if e.code() == Some("ConditionalCheckFailedException") => Ok(None),
            Some(Err(e)) => Err(storage_error(&self.table, what, e)),
        }
    }

    /// One item, read strongly consistent.
    pub(crate) fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let req = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send();
        Ok(self.call(&format!("reading {pk}/{sk}"), req)?.item)
    }

    /// Every item of partition `pk` (on the `by_seq` index when `by_seq`),
    /// strongly consistent, in order, page after page; `keep` filters and
    /// `limit` stops early.
    pub(crate) fn query(
        &self,
        pk: &str,
        by_seq: bool,
        forward: bool,
        limit: Option<usize>,
        keep: &dyn Fn(&Item) -> bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .scan_index_forward(forward)
                .set_exclusive_start_key(start.take());
            if by_seq {
                req = req.index_name("by_seq");
            }
            if let Some(l) = limit {
                req = req.limit(i32::try_from(l.clamp(25, 1000)).unwrap_or(1000));
            }
            let page = self.call(&format!("listing {pk}"), req.send())?;
            for item in page.items.unwrap_or_default() {
                if keep(&item) {
                    out.push(item);
                    if limit.is_some_and(|l| out.len() >= l) {
                        return Ok(out);
                    }
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// The next number of counter `name` (plans, approvals): atomic, so
    /// two machines never get the same one.
    pub(crate) fn next_seq(&self, name: &str) -> Result<i64, StoreError> {
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s("counter"))
            .key("sk", s(name))
            .update_expression("ADD n :one")
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send();
        let out = self.call(&format!("numbering a new {name}"), req)?;
        out.attributes
            .as_ref()
            .and_then(|a| get_n(a, "n"))
            .ok_or_else(|| StoreError::Corrupt(format!("the {name} counter has no number")))
    }

    /// The key in `meta/NAME`, made (32 random bytes) by whichever store
    /// opens the table first.
    pub(crate) fn meta_key(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        if let Some(item) = self.get("meta", name)? {
            return blob(&item, name);
        }
        let fresh = seal::random(32)?;
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s("meta"))
            .item("sk", s(name))
            .item("value", AttributeValue::B(fresh.clone().into()))
            .condition_expression("attribute_not_exists(pk)")
            .send();
        match self.call_conditional(&format!("making the {name} key"), req)? {
            Some(_) => Ok(fresh),
            // Another machine made it first: use theirs.
            None => self
                .get("meta", name)?
                .map(|item| blob(&item, name))
                .transpose()?
                .ok_or_else(|| StoreError::Corrupt(format!("meta/{name} vanished"))),
        }
    }

    /// Write `actions` and the audit entries for `audit` in one
    /// transaction. A condition of the caller's that fails is
    /// `Err(Cancelled::Condition(i))`; losing the audit head is retried
    /// here, so the chain stays one line whatever races it.
    pub(crate) fn transact(
        &self,
        actions: Vec<TransactWriteItem>,
        audit: &[AuditRecord],
        what: &str,
    ) -> Result<Result<(), Cancelled>, StoreError> {
        if actions.len() + audit.len() + 1 > MAX_ACTIONS {
            return Err(StoreError::Storage(format!(
                "{what}: {} records are more than one DynamoDB transaction holds",
                actions.len() + audit.len()
            )));
        }
        for attempt in 0..MAX_TRIES {
            let mut all = actions.clone();
            if !audit.is_empty() {
                all.extend(self.audit_actions(audit)?);
            }
            if all.is_empty() {
                return Ok(Ok(()));
            }
            let req = self
                .client
                .transact_write_items()
                .client_request_token(request_token()?)
                .set_transact_items(Some(all))
                .send();
            let outcome = infraguard_cloud_aws::sdk::wait(&self.runtime, req).ok_or_else(|| {
                StoreError::Storage(format!("{what}: the DynamoDB runtime stopped"))
            })?;
            match outcome {
                Ok(_) => return Ok(Ok(())),
                Err(SdkError::ServiceError(se)) => {
                    let cancelled = match se.err() {
                        TransactWriteItemsError::TransactionCanceledException(c) => {
                            classify(c.cancellation_reasons(), actions.len())
                        }
                        TransactWriteItemsError::TransactionInProgressException(_) => {
                            Cancelled::Retry
                        }
                        _ => {
                            return Err(storage_error(
                                &self.table,
                                what,
                                SdkError::ServiceError(se),
                            ));
                        }
                    };
                    match cancelled {
                        Cancelled::Condition(i) => return Ok(Err(Cancelled::Condition(i))),
                        Cancelled::Retry => {
                            // Back off a little, more each time, with jitter
                            // from the clock so racers spread out.
                            let jitter = std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .map(|d| d.subsec_nanos() % 7)
                                .unwrap_or(0);
                            std::thread::sleep(Duration::from_millis(u64::from(
                                attempt.min(10) * 3 + jitter,
                            )));
                        }
                    }
                }
                Err(e) => return Err(storage_error(&self.table, what, e)),
            }
        }
        Err(StoreError::Storage(format!(
            "{what}: the audit log kept moving ({MAX_TRIES} tries); try again"
        )))
    }

    /// The head update and entry puts that append `audit` after the chain's
    /// current head.
    fn audit_actions(&self, audit: &[AuditRecord]) -> Result<Vec<TransactWriteItem>, StoreError> {
        let head = self.get("audit-head", "head")?;
        let (mut seq, mut prev) = match &head {
            Some(h) => (
                get_n(h, "seq").unwrap_or(0) as u64,
                get_s(h, "hash").unwrap_or(GENESIS).to_string(),
            ),
            None => (0, GENESIS.to_string()),
        };
        let first = seq;
        let mut out = Vec::new();
        for rec in audit {
            seq += 1;
            let hash = entry_hash(&self.key, seq, rec, &prev);
            let entry = AuditEntry {
                seq,
                at: rec.at.clone(),
                actor: rec.actor.clone(),
                action: rec.action.clone(),
                env: rec.env.clone(),
                plan_id: rec.plan_id.clone(),
                content_hash: rec.content_hash.clone(),
                outcome: rec.outcome.clone(),
                details: rec.details.clone(),
                prev_hash: prev,
                hash: hash.clone(),
            };
            out.push(self.entry_put(&entry)?);
            prev = hash;
        }
        let mut head_put = Put::builder()
            .table_name(&self.table)
            .item("pk", s("audit-head"))
            .item("sk", s("head"))
            .item("seq", n(seq as i64))
            .item("hash", s(prev));
        head_put = if head.is_some() {
            head_put
                .condition_expression("seq = :seen")
                .expression_attribute_values(":seen", n(first as i64))
        } else {
            head_put.condition_expression("attribute_not_exists(pk)")
        };
        out.insert(0, put(head_put)?);
        Ok(out)
    }

    /// The put of one audit entry, never over an existing one.
    pub(crate) fn entry_put(&self, entry: &AuditEntry) -> Result<TransactWriteItem, StoreError> {
        put(Put::builder()
            .table_name(&self.table)
            .item("pk", s("audit"))
            .item("sk", s(audit_sk(entry.seq)))
            .item("body", s(json(entry, "audit entry")?))
            .condition_expression("attribute_not_exists(pk)"))
    }
}

/// A fresh idempotency token for one transaction. The SDK resends the
/// same request when an attempt times out; with the token DynamoDB answers
/// a resent transaction that already committed with success, instead of
/// failing its own conditions (a committed compare-and-set would read as
/// lost).
pub(crate) fn request_token() -> Result<String, StoreError> {
    infraguard_engine::hash::random_hex(16)
        .map_err(|e| StoreError::Storage(format!("no randomness for a request token: {e}")))
}

/// Which action of a cancelled transaction failed: one of the caller's
/// (`< own`) is a condition; anything else (the head, a conflict) a retry.
fn classify(reasons: &[aws_sdk_dynamodb::types::CancellationReason], own: usize) -> Cancelled {
    for (i, r) in reasons.iter().enumerate() {
        if i < own && r.code() == Some("ConditionalCheckFailed") {
            return Cancelled::Condition(i);
        }
    }
    Cancelled::Retry
}

fn blob(item: &Item, name: &str) -> Result<Vec<u8>, StoreError> {
    item.get("value")
        .and_then(|v| v.as_b().ok())
        .map(|b| b.as_ref().to_vec())
        .filter(|b| b.len() == 32)
        .ok_or_else(|| StoreError::Corrupt(format!("meta/{name} is not a 32-byte key")))
}

/// A `Put` as one transaction action.
pub(crate) fn put(
    p: aws_sdk_dynamodb::types::builders::PutBuilder,
) -> Result<TransactWriteItem, StoreError> {
    let p = p
        .build()
        .map_err(|e| StoreError::Storage(format!("building a DynamoDB put: {e}")))?;
    Ok(TransactWriteItem::builder().put(p).build())
}

/// An `Update` as one transaction action.
pub(crate) fn update(
    u: aws_sdk_dynamodb::types::builders::UpdateBuilder,
) -> Result<TransactWriteItem, StoreError> {
    let u = u
        .build()
        .map_err(|e| StoreError::Storage(format!("building a DynamoDB update: {e}")))?;
    Ok(TransactWriteItem::builder().update(u).build())
}

/// A `Delete` as one transaction action.
pub(crate) fn delete(
    d: aws_sdk_dynamodb::types::builders::DeleteBuilder,
) -> Result<TransactWriteItem, StoreError> {
    let d = d
        .build()
        .map_err(|e| StoreError::Storage(format!("building a DynamoDB delete: {e}")))?;
    Ok(TransactWriteItem::builder().delete(d).build())
}
