//! Approvals: who may decide a plan, with what proof, until when. The
//! level decides what a proof is worth (an unverified confirmation, an
//! enrolled approver's code); the decision is stored and audited.

use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::audit::AuditRecord;
use infraguard_core::cloud::Cloud;
use infraguard_core::plan::Plan;
use infraguard_core::store::Store;
use serde_json::json;

use crate::actor::Actor;
use crate::api::{Caller, Proof};
use crate::attest::{Attestation, Unattested};
use crate::engine::Engine;
use crate::error::EngineError;

impl<C: Cloud, S: Store> Engine<C, S> {
    /// When an approval requested now lapses.
    pub(crate) fn approval_deadline(&self) -> String {
        infraguard_core::clock::Timestamp::from_unix(
            self.clock.now().unix() + self.config.approval_expiry_seconds as i64,
        )
        .rfc3339()
    }

    /// When `a` lapses (or lapsed): its own deadline, or the configured
    /// expiry counted from its request if that is sooner (a tightened
    /// expiry applies to approvals already open).
    pub(crate) fn approval_expiry(
        &self,
        a: &Approval,
    ) -> Option<infraguard_core::clock::Timestamp> {
        let by_config =
            infraguard_core::clock::Timestamp::parse_rfc3339(&a.requested_at).map(|t| {
                infraguard_core::clock::Timestamp::from_unix(
                    t.unix() + self.config.approval_expiry_seconds as i64,
                )
            });
        let own = a
            .expires_at
            .as_deref()
            .and_then(infraguard_core::clock::Timestamp::parse_rfc3339);
        match (own, by_config) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether `a` has run out of time (`Some(when)`).
    pub(crate) fn expired(&self, a: &Approval) -> Option<String> {
        self.approval_expiry(a)
            .filter(|t| self.clock.now() >= *t)
            .map(|t| t.rfc3339())
    }

    pub(crate) fn decidable(&self, approval_id: &str) -> Result<(Approval, Plan), EngineError> {
        let a = self
            .store
            .approval(approval_id)?
            .ok_or_else(|| EngineError::ApprovalNotFound(approval_id.into()))?;
        let plan = self.load_plan(&a.plan_id)?;
        if a.status != ApprovalStatus::Pending {
            let next = match a.status {
                ApprovalStatus::Denied => format!(
                    "a denied plan stays denied: make a new plan (`infraguard plan --env {} ...`) if the change is still wanted",
                    a.env
                ),
                _ => format!("run `infraguard apply {}`", a.plan_id),
            };
            return Err(EngineError::ApprovalDecided {
                id: a.id.clone(),
                status: a.status.as_str().into(),
                next,
            });
        }
        self.check_integrity(&plan)?;
        if a.content_hash != plan.content_hash {
            return Err(EngineError::Tampered {
                id: plan.id.clone(),
                expected: a.content_hash.clone(),
                actual: plan.content_hash.clone(),
            });
        }
        Ok((a, plan))
    }

    /// Approve one plan's exact content, if `proof` is the attestation its
    /// environment's level wants (the table of [`crate::attest`]): a
    /// confirmation in an advisory project, recorded as `unverified`; an
    /// approver's code the guard's [`Factors::verify`] accepts in a guarded
    /// one; never either where AWS STS checks an MFA code.
    ///
    /// Every refusal is audited with the caller's name and process.
    pub fn approve_with(
        &self,
        approval_id: &str,
        caller: &Caller,
        proof: &Proof,
        note: Option<&str>,
    ) -> Result<Approval, EngineError> {
        let requester = self.requester(caller);
        let refuse = |reason: String, err: EngineError| -> Result<Approval, EngineError> {
            let rec = AuditRecord {
                at: self.now(),
                actor: requester.to_string(),
                action: "approval.refused".into(),
                env: None,
                plan_id: None,
                content_hash: None,
                outcome: "refused".into(),
                details: json!({"approval_id": approval_id, "reason": reason, "proof": proof_kind(proof)}),
            };
            self.store.append_audit(&[rec])?;
            Err(err)
        };
        let wanted = match self.store.approval(approval_id)? {
            Some(a) => self.attestation_in(Some(&a.env)),
            None => self.attestation_in(None),
        };
        if wanted == Attestation::ApproverCode
            && matches!(proof, Proof::Code { .. })
            && self.factors.is_some()
        {
            // Check the approval is decidable before spending a code on it.
            let (a, plan) = self.decidable(approval_id)?;
            self.refuse_expired(&a, &plan, &requester)?;
        }
        let unattested = match self.attest(&wanted, caller, Some(proof)) {
            Ok(actor) => return self.decide(approval_id, &actor, note, ApprovalStatus::Approved),
            Err(u) => u,
        };
        let why = match &unattested {
            Unattested::ProvesNothing { how } => match wanted {
                Attestation::AwsMfa { .. } => format!(
                    "a confirmation ({how}) proves nothing here: {}",
                    crate::mfa::needs_mfa(self, approval_id)
                ),
                _ => format!(
                    "a confirmation ({how}) proves nothing here: this project is {}, and only an enrolled approver's code approves (`infraguard approve {approval_id}` asks for it, or the approval page)",
                    self.level
                ),
            },
            Unattested::NeedsMfa => crate::mfa::needs_mfa(self, approval_id),
            Unattested::Unchecked => "this project is advisory: no guard holds approvers' factors here, so a code cannot be checked; `infraguard doctor` says how to set up the guard".to_string(),
            Unattested::NoFactors => "no approvers' factors are available to this engine".to_string(),
            Unattested::Factor(e) => e.to_string(),
            Unattested::Missing => "no proof was given".to_string(),
        };
        let err = match unattested {
            Unattested::ProvesNothing { .. } => EngineError::NotHuman {
                actor: requester.to_string(),
                id: approval_id.into(),
                why: why.clone(),
            },
            _ => EngineError::ApprovalRefused {
                id: approval_id.into(),
                reason: why.clone(),
            },
        };
        refuse(why, err)
    }

    /// Deny a plan. Anyone may say no; the denial is final for that plan.
    pub fn deny(
        &self,
        approval_id: &str,
        actor: &Actor,
        note: Option<&str>,
    ) -> Result<Approval, EngineError> {
        self.decide(approval_id, actor, note, ApprovalStatus::Denied)
    }

    /// Refuse (and audit) granting an approval whose time ran out.
    pub(crate) fn refuse_expired(
        &self,
        a: &Approval,
        plan: &Plan,
        actor: &Actor,
    ) -> Result<(), EngineError> {
        let Some(at) = self.expired(a) else {
            return Ok(());
        };
        let rec = self.record(
            actor,
            "approval.expired",
            Some(&plan.env),
            Some(plan),
            "refused",
            json!({"approval_id": a.id, "expired_at": at}),
        );
        self.store.append_audit(&[rec])?;
        Err(EngineError::ApprovalExpired {
            id: a.id.clone(),
            expired_at: at,
            hours: self.config.approval_expiry_seconds / 3600,
            next: format!(
                "make a new plan of the change (`infraguard plan --env {} ...`, or generate_infrastructure_code) and approve that one",
                a.env
            ),
        })
    }

    pub(crate) fn decide(
        &self,
        approval_id: &str,
        actor: &Actor,
        note: Option<&str>,
        status: ApprovalStatus,
    ) -> Result<Approval, EngineError> {
        let (mut a, plan) = self.decidable(approval_id)?;
        if status == ApprovalStatus::Approved {
            self.refuse_expired(&a, &plan, actor)?;
        }
        a.status = status;
        a.decided_at = Some(self.now());
        a.decided_by = Some(actor.to_string());
        a.note = note.map(str::to_string);
        let action = if status == ApprovalStatus::Approved {
            "approval.granted"
        } else {
            "approval.denied"
        };
        let rec = self.record(
            actor,
            action,
            Some(&plan.env),
            Some(&plan),
            "ok",
            json!({"approval_id": a.id, "note": a.note}),
        );
        self.store
            .decide_approval(&a, ApprovalStatus::Pending, &[rec])?;
        Ok(a)
    }

    /// Open the one approval question an MCP server asks in the
    /// input-required form; the `requestState` it returns names it. Only a
    /// pending approval is asked about; the question lasts a token's
    /// lifetime. Kept in the store, so any server instance (the HTTP
    /// server's per-session ones, or another process) reads the same.
    pub fn ask_question(&self, approval_id: &str) -> Result<String, EngineError> {
        let a = self
            .store
            .approval(approval_id)?
            .ok_or_else(|| EngineError::ApprovalNotFound(approval_id.into()))?;
        if a.status != ApprovalStatus::Pending {
            return Err(EngineError::ApprovalDecided {
                id: a.id.clone(),
                status: a.status.as_str().into(),
                next: "nothing is left to ask".into(),
            });
        }
        let nonce = crate::hash::random_hex(16)
            .map_err(|e| EngineError::Config(format!("no randomness available: {e}")))?;
        let ttl = i64::try_from(self.config.token_ttl_seconds).unwrap_or(i64::MAX);
        let expires = self.clock.now().unix().saturating_add(ttl);
        self.store.open_question(approval_id, &nonce, expires)?;
        Ok(format!("{approval_id}.{nonce}"))
    }

    /// Whether `state` answers the open question about `approval_id`: true
    /// once per question (it is closed by being answered), false for any
    /// other state, an expired question, or one never asked.
    pub fn take_question(&self, approval_id: &str, state: &str) -> Result<bool, EngineError> {
        let Some(nonce) = state
            .strip_prefix(approval_id)
            .and_then(|r| r.strip_prefix('.'))
        else {
            return Ok(false);
        };
        Ok(self
            .store
            .take_question(approval_id, nonce, self.clock.now().unix())?)
    }
}

/// How a proof is named in the audit log (never its code).
pub(crate) fn proof_kind(proof: &Proof) -> &'static str {
    match proof {
        Proof::Confirmation { .. } => "confirmation",
        Proof::Code { .. } => "code",
    }
}
