//! The `Store` port: where plans, approvals, token use, tracking and the audit
//! log live.
//!
//! Every write takes the audit records that describe it and commits both in
//! one transaction, so the log can never disagree with the state it explains.

use serde_json::Value;

use crate::approval::{Approval, ApprovalStatus};
use crate::audit::{AuditEntry, AuditRecord};
use crate::plan::Plan;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("state storage failed: {0}")]
    Storage(String),
    /// A compare-and-set lost: someone else changed the record first.
    #[error("{0}")]
    Conflict(String),
    #[error(
        "stored state is damaged: {0}; run `infraguard audit verify` and restore .infraguard/ from a backup"
    )]
    Corrupt(String),
}

impl StoreError {
    /// A plan's compare-and-set lost: it is no longer `expected`.
    pub fn plan_changed(id: &str, expected: &str) -> StoreError {
        StoreError::Conflict(format!(
            "plan {id} is no longer {expected}: another process changed it; run `infraguard show {id}`"
        ))
    }

    /// An approval's decision lost: it is no longer `expected`.
    pub fn approval_decided(id: &str, expected: &str) -> StoreError {
        StoreError::Conflict(format!(
            "approval {id} is no longer {expected}: it was decided meanwhile; run `infraguard approvals`"
        ))
    }

    /// A lock release lost: `plan_id` no longer holds lock `id`.
    pub fn lock_gone(id: &str, plan_id: &str) -> StoreError {
        StoreError::Conflict(format!(
            "lock {id} is no longer held by plan {plan_id}; run `infraguard state locks`"
        ))
    }
}

/// What infraguard last applied to one resource, for drift detection.
#[derive(Clone, Debug, PartialEq)]
pub struct AppliedState {
    pub env: String,
    pub type_name: String,
    pub identifier: String,
    pub properties: Value,
    pub plan_id: String,
    pub at: String,
}

/// A resource lock: the plan in flight that holds one resource, and who took
/// it, where, for what and since when (what `infraguard state locks` shows).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lock {
    /// Short and stable, for `infraguard state unlock LOCK-ID`.
    pub id: String,
    /// The environment the resource is in.
    pub env: String,
    /// `TYPE `NAME`` of the locked resource.
    pub resource: String,
    /// The plan holding it.
    pub plan_id: String,
    /// Who made that plan (`agent via mcp`, `human:alice via cli`).
    pub who: String,
    /// The machine it was made on.
    pub host: String,
    /// The change (`create AWS::S3::Bucket `logs` in prod`).
    pub what: String,
    /// When the lock was taken (RFC 3339).
    pub since: String,
    /// The lock's key in the store (environment, type and name).
    #[serde(skip)]
    pub key: String,
}

pub trait Store: Send + Sync {
    /// Insert a new plan, with its approval request if it needs one.
    fn insert_plan(
        &self,
        plan: &Plan,
        approval: Option<&Approval>,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError>;

    /// Insert a new plan unless another plan is still in flight for the
    /// same resource or the same content; checked and written in one
    /// transaction, so two processes planning at once cannot both win.
    ///
    /// `lock` names the resource (its `key`: environment, type, name) when
    /// it is known, with the holder's metadata; the plan then holds it. A plan already holding that lock, or
    /// the plan of a pending approval with the same content hash, is
    /// returned instead of inserting when `in_flight` says it is still in
    /// flight (that rule is the engine's; the store only applies it
    /// atomically). `Ok(None)`: inserted.
    fn insert_plan_exclusive(
        &self,
        plan: &Plan,
        approval: Option<&Approval>,
        audit: &[AuditRecord],
        lock: Option<&Lock>,
        in_flight: &dyn Fn(&Plan, Option<&Approval>) -> bool,
    ) -> Result<Option<Plan>, StoreError>;

    /// Take `lock` (an environment's, held by no plan) unless a lock with
    /// its key is there, with the audit records: `Ok(None)` taken, or the
    /// lock that holds it.
    fn take_lock(&self, lock: &Lock, audit: &[AuditRecord]) -> Result<Option<Lock>, StoreError>;

    /// Every resource lock, in key order (held or stale: whether its plan is
    /// still in flight is the engine's rule).
    fn locks(&self) -> Result<Vec<Lock>, StoreError>;

    /// Remove the lock `id` if `plan_id` still holds it, with the audit
    /// records that explain it; a `Conflict` when it is gone or changed hands.
    fn release_lock(
        &self,
        id: &str,
        plan_id: &str,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError>;

    /// Replace a plan's mutable fields (status, applied, identifier) if its
    /// stored status is still `expected_status`.
    fn update_plan(
        &self,
        plan: &Plan,
        expected_status: crate::plan::PlanStatus,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError>;

    fn plan(&self, id: &str) -> Result<Option<Plan>, StoreError>;

    /// Plans, newest first, at most `limit`.
    fn plans(&self, env: Option<&str>, limit: usize) -> Result<Vec<Plan>, StoreError>;

    /// Record a decision if the approval is still in `expected` status.
    fn decide_approval(
        &self,
        approval: &Approval,
        expected: ApprovalStatus,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError>;

    /// Insert an approval request for an existing plan.
    fn insert_approval(&self, approval: &Approval, audit: &[AuditRecord])
    -> Result<(), StoreError>;

    fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError>;

    fn approval_for_plan(&self, plan_id: &str) -> Result<Option<Approval>, StoreError>;

    /// Approvals, oldest first; only those in `status` when given.
    fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>, StoreError>;

    fn append_audit(&self, audit: &[AuditRecord]) -> Result<(), StoreError>;

    /// The whole log, in order.
    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError>;

    /// Mark a single-use token id as spent. `Ok(false)` if it was spent before.
    fn spend_token(&self, token_id: &str, expires_at: i64) -> Result<bool, StoreError>;

    /// Whether a token id was spent.
    fn token_spent(&self, token_id: &str) -> Result<bool, StoreError>;

    /// Open the one question about `approval_id` an MCP server may ask
    /// (its answer comes back in a retried call): `nonce` names it until
    /// `expires_at` (UNIX seconds). A new question replaces an open one.
    fn open_question(
        &self,
        approval_id: &str,
        nonce: &str,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// Close the question about `approval_id` if `nonce` names it and it is
    /// open at `now`: `Ok(true)` exactly once per question, so an answer
    /// counts once, in whichever process or server instance brings it.
    fn take_question(&self, approval_id: &str, nonce: &str, now: i64) -> Result<bool, StoreError>;

    fn record_applied(&self, state: &AppliedState) -> Result<(), StoreError>;

    fn forget_applied(
        &self,
        env: &str,
        type_name: &str,
        identifier: &str,
    ) -> Result<(), StoreError>;

    fn applied(&self, env: &str) -> Result<Vec<AppliedState>, StoreError>;

    /// The key of the audit chain's HMACs (the project's secret): whoever
    /// holds the store holds it, which is why the guard keeps the store.
    fn audit_key(&self) -> Vec<u8>;
}

/// A boxed store is a store: the binary picks SQLite or a shared store at
/// start-up and the engine stays generic.
impl<S: Store + ?Sized> Store for Box<S> {
    fn insert_plan(
        &self,
        plan: &Plan,
        approval: Option<&Approval>,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        (**self).insert_plan(plan, approval, audit)
    }
    fn insert_plan_exclusive(
        &self,
        plan: &Plan,
        approval: Option<&Approval>,
        audit: &[AuditRecord],
        lock: Option<&Lock>,
        in_flight: &dyn Fn(&Plan, Option<&Approval>) -> bool,
    ) -> Result<Option<Plan>, StoreError> {
        (**self).insert_plan_exclusive(plan, approval, audit, lock, in_flight)
    }
    fn take_lock(&self, lock: &Lock, audit: &[AuditRecord]) -> Result<Option<Lock>, StoreError> {
        (**self).take_lock(lock, audit)
    }
    fn locks(&self) -> Result<Vec<Lock>, StoreError> {
        (**self).locks()
    }
    fn release_lock(
        &self,
        id: &str,
        plan_id: &str,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        (**self).release_lock(id, plan_id, audit)
    }
    fn update_plan(
        &self,
        plan: &Plan,
        expected_status: crate::plan::PlanStatus,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        (**self).update_plan(plan, expected_status, audit)
    }
    fn plan(&self, id: &str) -> Result<Option<Plan>, StoreError> {
        (**self).plan(id)
    }
    fn plans(&self, env: Option<&str>, limit: usize) -> Result<Vec<Plan>, StoreError> {
        (**self).plans(env, limit)
    }
    fn decide_approval(
        &self,
        approval: &Approval,
        expected: ApprovalStatus,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        (**self).decide_approval(approval, expected, audit)
    }
    fn insert_approval(
        &self,
        approval: &Approval,
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        (**self).insert_approval(approval, audit)
    }
    fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError> {
        (**self).approval(id)
    }
    fn approval_for_plan(&self, plan_id: &str) -> Result<Option<Approval>, StoreError> {
        (**self).approval_for_plan(plan_id)
    }
    fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>, StoreError> {
        (**self).approvals(status)
    }
    fn append_audit(&self, audit: &[AuditRecord]) -> Result<(), StoreError> {
        (**self).append_audit(audit)
    }
    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        (**self).audit_log()
    }
    fn spend_token(&self, token_id: &str, expires_at: i64) -> Result<bool, StoreError> {
        (**self).spend_token(token_id, expires_at)
    }
    fn token_spent(&self, token_id: &str) -> Result<bool, StoreError> {
        (**self).token_spent(token_id)
    }
    fn open_question(
        &self,
        approval_id: &str,
        nonce: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        (**self).open_question(approval_id, nonce, expires_at)
    }
    fn take_question(&self, approval_id: &str, nonce: &str, now: i64) -> Result<bool, StoreError> {
        (**self).take_question(approval_id, nonce, now)
    }
    fn record_applied(&self, state: &AppliedState) -> Result<(), StoreError> {
        (**self).record_applied(state)
    }
    fn forget_applied(
        &self,
        env: &str,
        type_name: &str,
        identifier: &str,
    ) -> Result<(), StoreError> {
        (**self).forget_applied(env, type_name, identifier)
    }
    fn applied(&self, env: &str) -> Result<Vec<AppliedState>, StoreError> {
        (**self).applied(env)
    }
    fn audit_key(&self) -> Vec<u8> {
        (**self).audit_key()
    }
}
