//! A plan: one proposed change, everything known about it, and the gate's verdict.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::finding::Finding;
use crate::money::CostEstimate;
use crate::resource::{Operation, ResourceType};
use crate::template::Template;

/// What the gate requires before a plan may be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateDecision {
    /// Nothing stands in the way.
    Auto,
    /// A human must approve this exact plan first.
    ApprovalRequired,
    /// The environment is read-only: refused unless a human approves this
    /// exact plan.
    Refused,
}

impl GateDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            GateDecision::Auto => "auto",
            GateDecision::ApprovalRequired => "approval_required",
            GateDecision::Refused => "refused",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    pub decision: GateDecision,
    /// Every reason a human is needed (empty for `auto`).
    pub reasons: Vec<String>,
    /// The approval request a human must grant, when one is needed.
    pub approval_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Made, not applied.
    Planned,
    /// Sent to the cloud; the request token is recorded.
    Applying,
    Applied,
    /// The cloud reported failure; the plan cannot be applied again.
    Failed,
    /// Abandoned before it was sent (the agent chose to fix or cancel after
    /// the scan): never applied, and it holds no lock on its resource.
    Discarded,
}

impl PlanStatus {
    /// Applied, failed or discarded: nothing more will happen to it.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            PlanStatus::Applied | PlanStatus::Failed | PlanStatus::Discarded
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Planned => "planned",
            PlanStatus::Applying => "applying",
            PlanStatus::Applied => "applied",
            PlanStatus::Failed => "failed",
            PlanStatus::Discarded => "discarded",
        }
    }
}

/// What happened when a plan was applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApplyRecord {
    pub request_token: String,
    pub client_token: String,
    pub identifier: Option<String>,
    pub status: String,
    pub error_code: Option<String>,
    pub message: Option<String>,
    pub finished_at: Option<String>,
    /// Who is sending it (`HOST pid N`) while the plan is `applying`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applier: Option<String>,
    /// Until when (UNIX seconds) that applier holds the plan; it renews
    /// this while it waits. Past it, another process may resume the plan
    /// (with the same client token, so the cloud acts once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub env: String,
    pub operation: Operation,
    #[serde(rename = "type")]
    pub type_name: ResourceType,
    /// The resource's primary identifier (update/delete; create once known).
    pub identifier: Option<String>,
    /// Logical id of the resource inside `template`.
    pub logical_id: String,
    pub purpose: Option<String>,
    /// Full desired properties (create), the properties after the patch
    /// (update), or the current properties (delete).
    pub desired_state: Value,
    /// The RFC 6902 patch sent to the cloud (update only).
    pub patch: Option<Value>,
    pub template: Template,
    pub explanation: String,
    pub findings: Vec<Finding>,
    pub cost: CostEstimate,
    pub gate: Gate,
    /// sha256 over env, operation, type, identifier and content; approvals
    /// and tokens are bound to it.
    pub content_hash: String,
    pub created_at: String,
    pub created_by: String,
    pub status: PlanStatus,
    pub applied: Option<ApplyRecord>,
    /// The live state the plan was made against: a hash of the resource's
    /// properties (update, delete), `absent` (a create whose name is known),
    /// or `None`. Apply refuses a plan whose basis changed.
    #[serde(default)]
    pub basis: Option<String>,
}

impl Plan {
    /// Findings that still count against the plan.
    pub fn open_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_open())
    }
}
