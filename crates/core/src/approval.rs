//! Approvals: a human's decision on one plan, bound to its content hash.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Denied => "denied",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub id: String,
    pub plan_id: String,
    pub env: String,
    /// The plan content this approval is for; a different content needs a new one.
    pub content_hash: String,
    pub status: ApprovalStatus,
    /// Why a human is needed, as the gate stated it.
    pub reasons: Vec<String>,
    /// One line saying what the plan does (`create AWS::S3::Bucket synthcoreai-documents-prod in prod`).
    pub summary: String,
    pub requested_at: String,
    /// When the request lapses (RFC 3339): past it the approval can be
    /// neither granted nor applied. `None` in records made before approvals
    /// expired; the engine then counts from `requested_at`.
    #[serde(default)]
    pub expires_at: Option<String>,
    pub requested_by: String,
    pub decided_at: Option<String>,
    /// Who decided and through what channel (`human:alice via cli`).
    pub decided_by: Option<String>,
    pub note: Option<String>,
}
