//! What the tools say about an approval: a level in plain words, a
//! decided approval ([`Decision`]) and one still waiting ([`Pending`]), with
//! where and how a human gives it, and the refusal of a mutation that waits
//! for one. Asking the human is `elicitation`'s.
//!
//! The server never decides who is a human: it reports the engine's record
//! (`decided_by`), and says whether the engine checked an approver's factor.

use infraguard_core::approval::Approval;
use infraguard_core::plan::Plan;
use infraguard_engine::{Caller, Level};
use rmcp::ErrorData;
use rmcp::model::CallToolResponse;
use serde_json::{Value, json};

use super::{InfraguardServer, refusal};

/// What a level means, in plain words: what it protects against, and what
/// an approval is there.
pub fn level_words(level: Level) -> (&'static str, &'static str) {
    match level {
        Level::Advisory => (
            "it stops mistakes and leaves a trace; an agent with a shell can get around it",
            "an accept in the MCP client or a `yes` at a terminal approves, recorded as unverified: anything that can type can give one",
        ),
        Level::Guarded => (
            "the guard holds the state, the policy and the cloud access under its own OS account; an agent with a shell cannot approve",
            "only an enrolled approver's code approves, entered on the approval page or at `infraguard approve ID`; an accept in the MCP client approves nothing",
        ),
        Level::AwsEnforced => (
            "AWS itself refuses the writes without the approver's MFA session",
            "only an approver's AWS MFA code approves, entered on the approval page or at `infraguard approve ID`; an accept in the MCP client approves nothing",
        ),
    }
}

/// The factor that approves at `level`, as the user is asked for it.
pub(super) fn the_code(level: Level) -> &'static str {
    match level {
        Level::AwsEnforced => "the approver's AWS MFA code",
        _ => "an approver's code",
    }
}

/// A decided approval, as the engine recorded it.
pub(super) struct Decision {
    pub approval_id: String,
    /// `decided_by` of the engine's record (`unverified:…`, `human:…`, `agent:…`).
    pub by: String,
    pub level: Level,
}

impl Decision {
    pub(super) fn of(approval: &Approval, level: Level) -> Decision {
        Decision {
            approval_id: approval.id.clone(),
            by: approval
                .decided_by
                .clone()
                .unwrap_or_else(|| "(not recorded)".into()),
            level,
        }
    }

    /// Whether the engine recorded a proven approver (a factor it checked).
    pub fn verified(&self) -> bool {
        self.by.starts_with("human:")
    }

    pub fn note(&self) -> String {
        if self.verified() {
            format!(
                "verified: the engine checked an approver's factor ({})",
                self.by
            )
        } else {
            format!(
                "unverified: recorded as `{}`. This environment is {}: {}, so an accept in the MCP client counts only as a confirmation anyone at the keyboard could give",
                self.by,
                self.level,
                level_words(self.level).0
            )
        }
    }

    /// The fields a tool result carries about an approval granted during
    /// the call.
    pub fn fields(&self) -> Value {
        json!({
            "approval_id": self.approval_id,
            "approval_status": "approved",
            "approved_by": self.by,
            "approval_verified": self.verified(),
            "approval_level": self.level,
            "approval_note": self.note(),
        })
    }
}

/// An approval still waiting for a human.
pub(super) struct Pending {
    pub approval_id: String,
    /// Why it is still pending (the user was not asked, dismissed it, no
    /// code was entered...).
    pub why: String,
    pub level: Level,
    /// The one-time approval page, when the engine's host serves one.
    pub page: Option<String>,
}

impl Pending {
    pub fn command(&self) -> String {
        format!("infraguard approve {}", self.approval_id)
    }

    /// What to ask of the user, as a sentence.
    pub fn how(&self) -> String {
        let id = &self.approval_id;
        match (&self.page, self.level) {
            (Some(url), level) => format!(
                "Ask the user to open {url} and enter {}, or to run `infraguard approve {id}` in the project folder (it asks for the code); `infraguard deny {id}` refuses it",
                the_code(level)
            ),
            (None, Level::Advisory) => format!(
                "Ask the user to run `infraguard approve {id}` in the project folder (or `infraguard deny {id}`)"
            ),
            (None, level) => format!(
                "Ask the user to run `infraguard approve {id}` in the project folder, which asks for {} (or `infraguard deny {id}`)",
                the_code(level)
            ),
        }
    }

    /// The fields a tool result carries about a pending approval.
    pub fn fields(&self) -> Value {
        json!({
            "approval_id": self.approval_id,
            "approval_status": "pending",
            "approval_level": self.level,
            "approve_command": self.command(),
            "approval_page": self.page,
            "how_to_approve": self.how(),
            "why_pending": self.why,
        })
    }
}

impl InfraguardServer {
    /// A pending approval with where a human approves it. `env` unknown:
    /// the strictest level the server serves.
    pub(super) async fn pending(
        &self,
        caller: &Caller,
        approval_id: &str,
        env: Option<&str>,
        why: String,
    ) -> Result<Pending, ErrorData> {
        let level = match env {
            Some(e) => self.level_of(e),
            None => self
                .served()
                .iter()
                .map(|e| self.level_of(e))
                .max()
                .unwrap_or(Level::AwsEnforced),
        };
        Ok(Pending {
            approval_id: approval_id.to_string(),
            why,
            level,
            page: self.page_of(caller, approval_id).await?,
        })
    }

    /// The approval page's URL, when the engine's host serves one. A host
    /// that cannot say is treated as serving none: the command still works.
    pub(super) async fn page_of(
        &self,
        caller: &Caller,
        approval_id: &str,
    ) -> Result<Option<String>, ErrorData> {
        let id = approval_id.to_string();
        let r = self
            .blocking(caller, move |e, c| e.approval_page(c, id))
            .await?;
        Ok(r.unwrap_or_else(|e| {
            tracing::warn!("the approval page of {approval_id} could not be had: {e}");
            None
        }))
    }
}

/// The refusal of a mutation that waits for a human: nothing was changed,
/// and how the approval can be given.
pub(super) fn approval_required(
    tool: &str,
    plan: &Plan,
    approval: &Approval,
    pending: &Pending,
) -> CallToolResponse {
    let message = format!(
        "{} needs a human's approval ({}), and {}. Nothing was changed. {}, then call {} again with the same credentials_token, explained_token and security_scan_token.",
        approval.summary,
        approval.reasons.join("; "),
        pending.why,
        pending.how(),
        tool
    );
    let mut details = json!({
        "status": "APPROVAL_REQUIRED",
        "plan_id": plan.id,
        "reasons": approval.reasons,
        "summary": approval.summary,
        "monthly_cost_usd": plan.cost.monthly_usd,
    });
    merge(&mut details, pending.fields());
    refusal("approval_required", message, details)
}

/// Add `extra`'s fields to the object `into`.
pub(super) fn merge(into: &mut Value, extra: Value) {
    if let (Some(into), Value::Object(extra)) = (into.as_object_mut(), extra) {
        into.extend(extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_approval_names_the_page_and_the_command() {
        let p = Pending {
            approval_id: "apr-1".into(),
            why: "no code yet".into(),
            level: Level::Guarded,
            page: Some("http://127.0.0.1:7070/approve/apr-1".into()),
        };
        let f = p.fields();
        assert_eq!(f["approval_status"], "pending");
        assert_eq!(f["approve_command"], "infraguard approve apr-1");
        assert_eq!(f["approval_page"], "http://127.0.0.1:7070/approve/apr-1");
        assert_eq!(f["approval_level"], "guarded");
        assert!(p.how().contains("approver's code"), "{}", p.how());
        let none = Pending { page: None, ..p };
        assert!(none.fields()["approval_page"].is_null());
        assert!(none.how().contains("infraguard approve apr-1"));
    }

    #[test]
    fn an_unverified_decision_says_so() {
        let d = Decision {
            approval_id: "apr-1".into(),
            by: "unverified:claude-code via mcp (accepted in the MCP client claude-code)".into(),
            level: Level::Advisory,
        };
        assert!(!d.verified());
        let f = d.fields();
        assert_eq!(f["approval_verified"], false);
        assert!(
            f["approval_note"]
                .as_str()
                .unwrap_or_default()
                .starts_with("unverified:"),
            "{f}"
        );
        assert!(
            f["approval_note"]
                .as_str()
                .unwrap_or_default()
                .contains("get around it")
        );
    }
}
