//! `infraguard audit cloudtrail`: the account's own record of writes,
//! matched to infraguard's audit. CloudTrail is kept by AWS, so an agent
//! that rewrote `state.db` cannot rewrite this.
//!
//! A write event is infraguard's when
//!
//! - its user name is a role session `infraguard-plan-<plan>` (only an
//!   approver's MFA code opens one) and that plan exists here; or
//! - its client token is the one a plan of this environment was applied
//!   with (`infraguard-<plan>`), for the same resource type.
//!
//! Everything else is a change made outside infraguard. Refused writes
//! (an error code) changed nothing and are listed apart: they are attempts.

use infraguard_core::account::TrailEvent;
use infraguard_core::cloud::Cloud;
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::session_policy::plan_of_session;

/// The longest look back CloudTrail's event history keeps.
pub const MAX_DAYS: u32 = 90;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Matched {
    pub event: TrailEvent,
    pub plan_id: String,
    /// `session` (the MFA role session named the plan) or `client-token`.
    pub by: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrailReport {
    pub env: String,
    pub days: u32,
    /// Write events CloudTrail returned.
    pub events: usize,
    pub matched: Vec<Matched>,
    /// Writes that no plan of infraguard's explains.
    pub outside: Vec<TrailEvent>,
    /// Writes AWS refused.
    pub refused: Vec<TrailEvent>,
}

impl<C: Cloud, S: Store> Engine<C, S> {
    pub fn cloudtrail_check(&self, env: &str, days: u32) -> Result<TrailReport, EngineError> {
        self.config.environment(env)?;
        if days == 0 || days > MAX_DAYS {
            return Err(EngineError::InvalidInput(format!(
                "--days {days} is out of range: CloudTrail's event history keeps 1 to {MAX_DAYS} days"
            )));
        }
        let account = self.account(env)?;
        let now = self.clock.now().unix();
        let start = now - i64::from(days) * 86_400;
        // A minute ahead: an event of this very second (or a clock a little
        // behind AWS's) is still in the window.
        let end = now + 60;
        let events = account.write_events(start, end).map_err(|e| {
            EngineError::Config(format!("CloudTrail LookupEvents for `{env}`: {e}"))
        })?;
        let mut report = TrailReport {
            env: env.to_string(),
            days,
            events: events.len(),
            matched: Vec::new(),
            outside: Vec::new(),
            refused: Vec::new(),
        };
        for event in events {
            if event.error_code.is_some() {
                report.refused.push(event);
                continue;
            }
            match self.plan_of_event(env, &event)? {
                Some((plan_id, by)) => report.matched.push(Matched {
                    event,
                    plan_id,
                    by: by.into(),
                }),
                None => report.outside.push(event),
            }
        }
        Ok(report)
    }

    fn plan_of_event(
        &self,
        env: &str,
        event: &TrailEvent,
    ) -> Result<Option<(String, &'static str)>, EngineError> {
        let same_type = |plan: &infraguard_core::plan::Plan| {
            event.resources.is_empty()
                || event
                    .resources
                    .iter()
                    .any(|(t, _)| t == plan.type_name.as_str())
        };
        if let Some(id) = event.username.as_deref().and_then(plan_of_session)
            && let Some(plan) = self.store.plan(id)?
            && plan.env == env
        {
            return Ok(Some((plan.id, "session")));
        }
        if let Some(token) = &event.client_token
            && let Some(id) = token.strip_prefix("infraguard-")
            && let Some(plan) = self.store.plan(id)?
            && plan.env == env
            && plan
                .applied
                .as_ref()
                .is_some_and(|a| &a.client_token == token)
            && same_type(&plan)
        {
            return Ok(Some((plan.id, "client-token")));
        }
        Ok(None)
    }
}
