//! One plan in flight per resource: the lock's key, and the answer a
//! second plan of the same resource gets while the first is open.

use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::cloud::Cloud;
use infraguard_core::plan::{Plan, PlanStatus};
use infraguard_core::resource::ResourceType;
use infraguard_core::store::Store;

use crate::engine::Engine;
use crate::error::EngineError;

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

/// The key of the one-plan-at-a-time lock of a resource.
pub(crate) fn lock_key(env: &str, t: &ResourceType, identifier: &str) -> String {
    format!("{env}\n{t}\n{identifier}")
}
