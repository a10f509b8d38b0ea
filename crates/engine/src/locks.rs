//! One plan in flight per resource: the lock's key, and the answer a
//! second plan of the same resource gets while the first is open.

use std::sync::OnceLock;

use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::cloud::Cloud;
use infraguard_core::plan::{Plan, PlanStatus};
use infraguard_core::resource::ResourceType;
use infraguard_core::store::{Lock, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::actor::Actor;
use crate::api::{Caller, Proof};
use crate::attest::{Attestation, Unattested};
use crate::engine::Engine;
use crate::error::EngineError;

/// A resource lock as `infraguard state locks` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockReport {
    #[serde(flatten)]
    pub lock: Lock,
    /// Whether its plan still holds the resource (in flight); a lock whose
    /// plan finished, was denied or expired holds nothing.
    pub held: bool,
    /// The holding plan's status (`planned`, `applying`, ...), if it exists.
    pub plan_status: Option<String>,
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// Whether `p` still holds its resource: sent and not finished, or
    /// waiting for a human (its approval neither denied nor expired). An
    /// automatic plan not yet sent holds nothing: a newer plan of the same
    /// resource may be made, and whichever is applied second is refused as
    /// stale (its basis changed), so an agent that re-plans is not stuck.
    pub(crate) fn in_flight(&self, p: &Plan, a: Option<&Approval>) -> bool {
        match (p.status, a) {
            (PlanStatus::Applying, _) => true,
            (PlanStatus::Planned, Some(a)) => {
                a.status != ApprovalStatus::Denied && self.expired(a).is_none()
            }
            _ => false,
        }
    }

    /// The refusal of a second plan while `holder` holds the resource, with
    /// what to do about the first.
    pub(crate) fn in_flight_error(&self, holder: &Plan, identifier: String) -> EngineError {
        let approval = self.store.approval_for_plan(&holder.id).ok().flatten();
        let (state, next) = match (holder.status, &approval) {
            (PlanStatus::Applying, _) => (
                "being applied".to_string(),
                format!(
                    "wait for it, or if the process applying it stopped, finish it with `infraguard apply {id}` (MCP: resume_plan with plan_id {id}); `infraguard show {id}` shows it",
                    id = holder.id
                ),
            ),
            (_, Some(a)) => (
                format!(
                    "approval {} {}, open until {}",
                    a.id,
                    a.status.as_str(),
                    self.approval_expiry(a)
                        .map(|t| t.rfc3339())
                        .unwrap_or_else(|| "?".into())
                ),
                format!(
                    "apply it (`infraguard apply {id}` once approved), or if a different change is wanted, deny it first (`infraguard deny {aid}`) and plan again",
                    id = holder.id,
                    aid = a.id
                ),
            ),
            (_, None) => (
                format!("planned at {}", holder.created_at),
                format!(
                    "apply it (`infraguard apply {id}`, or the MCP mutation tool with its tokens)",
                    id = holder.id
                ),
            ),
        };
        EngineError::PlanInFlight {
            resource: format!("{} `{identifier}` in {}", holder.type_name, holder.env),
            holder: holder.id.clone(),
            state,
            next,
        }
    }
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// Every resource lock, held or stale.
    pub fn locks(&self) -> Result<Vec<LockReport>, EngineError> {
        self.store
            .locks()?
            .into_iter()
            .map(|lock| self.lock_report(lock))
            .collect()
    }

    fn lock_report(&self, lock: Lock) -> Result<LockReport, EngineError> {
        if is_environment_lock(&lock) {
            // Held until someone unlocks it.
            return Ok(LockReport {
                held: true,
                plan_status: None,
                lock,
            });
        }
        let plan = self.store.plan(&lock.plan_id)?;
        let approval = self.store.approval_for_plan(&lock.plan_id)?;
        Ok(LockReport {
            held: plan
                .as_ref()
                .is_some_and(|p| self.in_flight(p, approval.as_ref())),
            plan_status: plan.map(|p| p.status.as_str().to_string()),
            lock,
        })
    }

    /// Lock a whole environment by hand (a change freeze, a migration in
    /// progress): until it is unlocked nothing is planned or applied there,
    /// by anyone, on any machine sharing the state. Anyone may lock (it
    /// only tightens); unlocking is a person's decision, as for a held
    /// resource lock. Audited either way.
    pub fn lock_environment(
        &self,
        caller: &Caller,
        env: &str,
        reason: Option<&str>,
    ) -> Result<LockReport, EngineError> {
        let env = self.config.environment(env)?.name.clone();
        let requester = self.requester(caller);
        let key = environment_key(&env);
        let lock = Lock {
            id: lock_id(&key),
            env: env.clone(),
            resource: format!("environment `{env}`"),
            plan_id: String::new(),
            who: requester.to_string(),
            host: this_host().to_string(),
            what: reason
                .filter(|r| !r.trim().is_empty())
                .unwrap_or("locked by hand")
                .to_string(),
            since: self.now(),
            key,
        };
        let rec = self.record(
            &requester,
            "lock.taken",
            Some(&env),
            None,
            "ok",
            json!({"lock": lock.id, "what": lock.what, "host": lock.host}),
        );
        match self.store.take_lock(&lock, &[rec])? {
            None => Ok(LockReport {
                held: true,
                plan_status: None,
                lock,
            }),
            Some(held) => Err(EngineError::EnvironmentLocked {
                env,
                lock: Box::new(held),
            }),
        }
    }

    /// Refuse (and audit) a plan or an apply in an environment locked by
    /// hand.
    pub(crate) fn refuse_if_locked(
        &self,
        env: &str,
        actor: &Actor,
        plan: Option<&Plan>,
    ) -> Result<(), EngineError> {
        let key = environment_key(env);
        let Some(held) = self.store.locks()?.into_iter().find(|l| l.key == key) else {
            return Ok(());
        };
        let rec = self.record(
            actor,
            if plan.is_some() {
                "apply.refused"
            } else {
                "plan.refused"
            },
            Some(env),
            plan,
            "env_locked",
            json!({"lock": held.id, "who": held.who, "host": held.host, "since": held.since, "what": held.what}),
        );
        self.store.append_audit(&[rec])?;
        Err(EngineError::EnvironmentLocked {
            env: env.to_string(),
            lock: Box::new(held),
        })
    }

    /// The lock `lock_id` as `state locks` shows it.
    pub(crate) fn lock_report_of(&self, lock_id: &str) -> Result<LockReport, EngineError> {
        let Some(lock) = self.store.locks()?.into_iter().find(|l| l.id == lock_id) else {
            return Err(EngineError::InvalidInput(format!(
                "no lock `{lock_id}`: `infraguard state locks` lists them (ids are 12 hex digits)"
            )));
        };
        self.lock_report(lock)
    }

    /// Remove a resource lock, like Terraform's `force-unlock`. A stale lock
    /// (its plan no longer in flight) goes without a person: it holds
    /// nothing. A held one lets a second plan of the resource be made while
    /// the first is still open (a process that died mid-apply, an approval
    /// nobody will give), so it is a person's decision, proven as an
    /// approval is at this level: an enrolled approver's code where a guard
    /// holds the factors; in an advisory project a confirmation, recorded
    /// as unverified. (An aws-enforced environment's writes still need an
    /// MFA session per plan, so its locks follow the project's level.) The
    /// first plan is not changed: if it is applied after a newer plan of the
    /// same resource, it is refused as stale. Every unlock and refusal is
    /// audited.
    pub fn unlock(
        &self,
        caller: &Caller,
        lock_id: &str,
        proof: Option<&Proof>,
        note: Option<&str>,
    ) -> Result<LockReport, EngineError> {
        let requester = self.requester(caller);
        let report = self.lock_report_of(lock_id)?;
        let actor = if report.held {
            match self.attest_unlock(caller, &report.lock, proof) {
                Ok(actor) => actor,
                Err(reason) => {
                    let rec = self.record(
                        &requester,
                        "lock.unlock_refused",
                        Some(&report.lock.env),
                        None,
                        "refused",
                        json!({"lock": report.lock.id, "plan_id": report.lock.plan_id, "reason": reason, "proof": proof.map(crate::approve::proof_kind)}),
                    );
                    self.store.append_audit(&[rec])?;
                    return Err(EngineError::ApprovalRefused {
                        id: format!("lock {lock_id}"),
                        reason,
                    });
                }
            }
        } else {
            requester
        };
        let rec = self.record(
            &actor,
            "lock.released",
            Some(&report.lock.env),
            None,
            "ok",
            json!({"lock": report.lock.id, "resource": report.lock.resource, "plan_id": report.lock.plan_id, "held": report.held, "holder": {"who": report.lock.who, "host": report.lock.host, "since": report.lock.since}, "note": note}),
        );
        match self
            .store
            .release_lock(&report.lock.id, &report.lock.plan_id, &[rec])
        {
            Ok(()) => Ok(report),
            Err(StoreError::Conflict(m)) => Err(EngineError::InvalidInput(m)),
            Err(e) => Err(e.into()),
        }
    }

    /// The person behind `proof` for removing a held lock, or why not.
    fn attest_unlock(
        &self,
        caller: &Caller,
        lock: &Lock,
        proof: Option<&Proof>,
    ) -> Result<Actor, String> {
        let wanted = self.attestation_in(None);
        let unattested = match self.attest(&wanted, caller, proof) {
            Ok(actor) => return Ok(actor),
            Err(u) => u,
        };
        let held_by = if is_environment_lock(lock) {
            format!(
                "lock {} locks {} ({}, by {})",
                lock.id, lock.resource, lock.what, lock.who
            )
        } else {
            format!(
                "lock {} holds {} in {} for plan {}, which is still in flight",
                lock.id, lock.resource, lock.env, lock.plan_id
            )
        };
        Err(match (wanted, unattested) {
            (_, Unattested::Factor(e)) => e.to_string(),
            (_, Unattested::NoFactors) => {
                "no approvers' factors are available to this engine".into()
            }
            (Attestation::Confirmation, _) => format!(
                "{held_by}: removing it needs a person's confirmation (`infraguard state unlock {}` asks at a terminal)",
                lock.id
            ),
            _ => format!(
                "{held_by}: in a {} project removing it needs an enrolled approver's code (`infraguard state unlock {} --approver NAME`)",
                self.level, lock.id
            ),
        })
    }

    /// The lock a plan of `identifier` takes: its key, and who, where, what
    /// and since when.
    pub(crate) fn lock_for(&self, plan: &Plan, identifier: &str) -> Lock {
        let key = lock_key(&plan.env, &plan.type_name, identifier);
        Lock {
            id: lock_id(&key),
            env: plan.env.clone(),
            resource: format!("{} `{identifier}`", plan.type_name),
            plan_id: plan.id.clone(),
            who: plan.created_by.clone(),
            host: this_host().to_string(),
            what: format!(
                "{} {} `{identifier}` in {} (plan {})",
                plan.operation.as_str(),
                plan.type_name,
                plan.env,
                plan.id
            ),
            since: self.now(),
            key,
        }
    }
}

/// The key of an environment's own lock (no resource key ends in `*`: a
/// resource key's last part is a name).
fn environment_key(env: &str) -> String {
    format!("{env}\n*")
}

fn is_environment_lock(lock: &Lock) -> bool {
    lock.plan_id.is_empty() && lock.key == environment_key(&lock.env)
}

/// The short id of the lock with `key`: stable, so a person can type it.
pub(crate) fn lock_id(key: &str) -> String {
    crate::hash::sha256_hex(key.as_bytes())[..12].to_string()
}

/// This machine's name, for a lock's holder (`?` when it cannot be read).
pub(crate) fn this_host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "?".into())
    })
}

/// The key of the one-plan-at-a-time lock of a resource.
pub(crate) fn lock_key(env: &str, t: &ResourceType, identifier: &str) -> String {
    format!("{env}\n{t}\n{identifier}")
}
