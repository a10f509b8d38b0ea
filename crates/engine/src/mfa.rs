//! Approvals in an `aws-enforced` environment: the approver's AWS MFA code,
//! checked by AWS STS, unlocks the environment's approval role for one plan,
//! and the plan is applied with that session in the approver's process.
//!
//! The order, for [`Engine::approve_mfa`]:
//!
//! 1. the approval must be decidable (pending, untampered, not expired), or
//!    approved with its plan not yet finished (a cut-short apply is finished
//!    with a new session);
//! 2. the code is six digits, or nothing is sent;
//! 3. STS `AssumeRole` with the role, the MFA device and code, 900 seconds,
//!    `RoleSessionName` `infraguard-plan-<plan>` and the plan's session
//!    policy ([`crate::session_policy`]); AWS's refusal (a wrong code is
//!    `AccessDenied`) is audited and shown as AWS said it;
//! 4. the approval is granted to the device's owner, and the plan applied
//!    with the session's credentials, which live only in the session's
//!    cloud and are dropped when this returns.
//!
//! Nothing here counts anything the agent can type as a human: the engine
//! never sees whether the code was right, only whether AWS gave a session.

use infraguard_core::account::SessionRequest;
use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::cloud::{Cloud, ProgressEvent};
use infraguard_core::plan::PlanStatus;
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::actor::Actor;
use crate::api::Caller;
use crate::engine::{ApplyOutcome, Engine};
use crate::error::EngineError;
use crate::session_policy;

/// What an MFA approval did: the approval, and the apply it made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MfaApproval {
    pub approval: Approval,
    pub outcome: ApplyOutcome,
    /// The role session the plan was applied with (CloudTrail's user name).
    pub session_name: String,
}

/// Why a code or a confirmation does not approve in an `aws-enforced`
/// environment, and what does.
pub(crate) fn needs_mfa<C: Cloud, S: Store>(engine: &Engine<C, S>, approval_id: &str) -> String {
    let (env, serial) = engine
        .store
        .approval(approval_id)
        .ok()
        .flatten()
        .and_then(|a| {
            let e = engine.config.environment(&a.env).ok()?;
            Some((a.env.clone(), e.approval_role.as_ref()?.mfa_serial.clone()))
        })
        .unwrap_or_else(|| {
            (
                "this environment".into(),
                "the approver's MFA device".into(),
            )
        });
    format!(
        "`{env}` is aws-enforced: an approval there is an AWS MFA session, and only AWS STS can check its code; the approver gives the code of {serial} to `infraguard approve {approval_id}` (it asks for it) or on the approval page"
    )
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// Approve and apply one plan of an `aws-enforced` environment with the
    /// approver's AWS MFA `code` (see the module docs).
    pub fn approve_mfa(
        &self,
        approval_id: &str,
        caller: &Caller,
        code: &str,
        note: Option<&str>,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<MfaApproval, EngineError> {
        let requester = self.requester(caller);
        let a = self
            .store
            .approval(approval_id)?
            .ok_or_else(|| EngineError::ApprovalNotFound(approval_id.into()))?;
        let env = self.config.environment(&a.env)?.clone();
        let Some(role) = env.approval_role.clone() else {
            return Err(EngineError::InvalidInput(format!(
                "`{}` has no approval role, so there is no AWS MFA session to open: approve {approval_id} with `infraguard approve {approval_id}` as `infraguard doctor` says",
                env.name
            )));
        };
        // An approved plan whose apply was cut short is finished with a new
        // session; anything else must still be decidable.
        let plan = self.load_plan(&a.plan_id)?;
        let resuming = a.status == ApprovalStatus::Approved
            && matches!(plan.status, PlanStatus::Planned | PlanStatus::Applying)
            && a.content_hash == plan.content_hash;
        if !resuming {
            let (a, plan) = self.decidable(approval_id)?;
            self.refuse_expired(&a, &plan, &requester)?;
        }
        self.check_integrity(&plan)?;
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EngineError::InvalidInput(format!(
                "an AWS MFA code is the six digits your authenticator shows for {}; nothing was sent to AWS",
                role.mfa_serial
            )));
        }
        let account = self.account(&env.name)?;
        let account_id = env
            .account_id
            .clone()
            .or_else(|| role.account().map(str::to_string))
            .unwrap_or_default();
        let schema = self.schema(plan.type_name.as_str())?;
        let session_name = session_policy::session_name(&plan.id);
        let request = SessionRequest {
            role_arn: role.role_arn.clone(),
            mfa_serial: role.mfa_serial.clone(),
            token_code: code.to_string(),
            session_name: session_name.clone(),
            duration_seconds: session_policy::SESSION_SECONDS,
            policy: session_policy::for_plan(&plan, schema, &account_id, &env.region),
        };
        let session = match account.assume_approval_role(&request) {
            Ok(s) => s,
            Err(e) => {
                let reason = format!("AWS STS refused the approval role's MFA session: {e}");
                let rec = self.record(
                    &requester,
                    "approval.refused",
                    Some(&env.name),
                    Some(&plan),
                    "refused",
                    json!({"approval_id": approval_id, "reason": reason, "proof": "aws-mfa", "role_arn": role.role_arn, "mfa_serial": role.mfa_serial}),
                );
                self.store.append_audit(&[rec])?;
                return Err(EngineError::ApprovalRefused {
                    id: approval_id.into(),
                    reason,
                });
            }
        };
        let approver = Actor::human(
            role.approver(),
            &format!(
                "AWS MFA session {session_name} via {}",
                caller.channel_label()
            ),
        );
        let approval = if resuming {
            a
        } else {
            self.decide(approval_id, &approver, note, ApprovalStatus::Approved)?
        };
        let rec = self.record(
            &approver,
            "session.opened",
            Some(&env.name),
            Some(&plan),
            "ok",
            json!({"approval_id": approval_id, "role_arn": role.role_arn, "session_name": session_name, "duration_seconds": request.duration_seconds, "session_policy": serde_json::from_str::<serde_json::Value>(&request.policy).unwrap_or_default()}),
        );
        self.store.append_audit(&[rec])?;
        let outcome = self.apply_guarded(
            &plan.id,
            &approver,
            progress,
            &mut |_| Ok(()),
            Some(session.as_ref()),
        );
        // The session's credentials go with it, whatever the apply did.
        drop(session);
        Ok(MfaApproval {
            approval,
            outcome: outcome?,
            session_name,
        })
    }
}
