//! Who counts as a person: the one place the engine says what a decision
//! needs from one ([`Attestation`]) and turns what a host brought back (a
//! [`Proof`]) into a human or unverified [`Actor`].
//!
//! | the decision's level | a host asks for | a confirmation | an approver's code |
//! |---|---|---|---|
//! | `advisory` | [`Attestation::Confirmation`] | an *unverified* person | refused: nothing here can check it |
//! | `guarded` | [`Attestation::ApproverCode`] | refused: anyone at the keyboard could give it | the approver, if the guard's factors accept it |
//! | `aws-enforced` | [`Attestation::AwsMfa`] | refused | refused: only AWS STS checks an MFA code |
//!
//! A host (the CLI, the MCP server, the approval page) asks
//! [`Engine::attestation`] what to ask the person for and brings the answer
//! back; it never decides the kind itself, so a host that asks for less
//! than the engine wants only gets a refusal.

use infraguard_core::cloud::Cloud;
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::api::{Caller, FactorError, Level, Proof};
use crate::engine::Engine;
use crate::error::EngineError;

/// What a person gives to make one decision, as the engine wants it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Attestation {
    /// Nothing: the decision needs no person (a stale lock holds nothing).
    Nobody,
    /// A confirmation at the host: `yes` typed at a terminal, an accepted
    /// MCP form, a click. Recorded as unverified.
    Confirmation,
    /// An enrolled approver's 6-digit code, checked by the guard.
    ApproverCode,
    /// The approver's AWS MFA code for the environment's approval role,
    /// checked by AWS STS (`Engine::approve_mfa`).
    AwsMfa {
        env: String,
        role_arn: String,
        mfa_serial: String,
    },
}

/// The decision a host asks about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    /// Granting an approval.
    Approval(String),
    /// Removing a lock (`state unlock`).
    Unlock(String),
}

/// Why a proof did not make a person, for the caller to word.
#[derive(Debug)]
pub(crate) enum Unattested {
    /// No proof was brought.
    Missing,
    /// A code where nothing can check it (advisory).
    Unchecked,
    /// A code where only AWS STS can check one (aws-enforced).
    NeedsMfa,
    /// A confirmation where a factor is wanted: anyone could give it.
    ProvesNothing { how: String },
    /// A code, and no approvers' factors here.
    NoFactors,
    /// The factors refused the code.
    Factor(FactorError),
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// What a person must give for `subject`; see the module's table.
    pub fn attestation(&self, subject: &Subject) -> Result<Attestation, EngineError> {
        match subject {
            Subject::Approval(id) => {
                let a = self
                    .store
                    .approval(id)?
                    .ok_or_else(|| EngineError::ApprovalNotFound(id.clone()))?;
                Ok(self.attestation_in(Some(&a.env)))
            }
            Subject::Unlock(id) => {
                let report = self.lock_report_of(id)?;
                // An aws-enforced environment's writes still need an MFA
                // session per plan, so its locks follow the project's level.
                Ok(if report.held {
                    self.attestation_in(None)
                } else {
                    Attestation::Nobody
                })
            }
        }
    }

    /// What a person's decision needs in `env` (`None`: at the project's
    /// level).
    pub(crate) fn attestation_in(&self, env: Option<&str>) -> Attestation {
        let level = env.map_or(self.level, |e| self.level_of(e));
        match level {
            Level::Advisory => Attestation::Confirmation,
            Level::Guarded => Attestation::ApproverCode,
            Level::AwsEnforced => {
                let env = env.unwrap_or_default();
                match self
                    .config
                    .environment(env)
                    .ok()
                    .and_then(|e| e.approval_role.clone())
                {
                    Some(role) => Attestation::AwsMfa {
                        env: env.to_string(),
                        role_arn: role.role_arn,
                        mfa_serial: role.mfa_serial,
                    },
                    None => Attestation::ApproverCode,
                }
            }
        }
    }

    /// The person behind `proof`, if it is what `wanted` asks for: the only
    /// place a human or unverified actor is made. A code is spent here (the
    /// factors take it once); check what it decides before calling.
    pub(crate) fn attest(
        &self,
        wanted: &Attestation,
        caller: &Caller,
        proof: Option<&Proof>,
    ) -> Result<Actor, Unattested> {
        let via = caller.channel_label();
        match (wanted, proof) {
            (Attestation::Nobody, _) => Ok(self.requester(caller)),
            (_, None) => Err(Unattested::Missing),
            (Attestation::Confirmation, Some(Proof::Confirmation { how })) => {
                Ok(Actor::unverified(&caller.name, &format!("{via} ({how})")))
            }
            (Attestation::Confirmation, Some(Proof::Code { .. })) => Err(Unattested::Unchecked),
            (Attestation::AwsMfa { .. }, Some(Proof::Code { .. })) => Err(Unattested::NeedsMfa),
            (_, Some(Proof::Confirmation { how })) => {
                Err(Unattested::ProvesNothing { how: how.clone() })
            }
            (Attestation::ApproverCode, Some(Proof::Code { approver, code })) => {
                let Some(factors) = &self.factors else {
                    return Err(Unattested::NoFactors);
                };
                factors
                    .verify(approver.as_deref(), code, self.clock.now().unix())
                    .map(|name| Actor::human(&name, &format!("code via {via}")))
                    .map_err(Unattested::Factor)
            }
        }
    }
}
