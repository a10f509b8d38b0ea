//! What a promotion returns: [`PromotionReport`] with where it stands
//! ([`PromotionState`]), the seed's checklist in its order
//! ([`ChecklistItem`], [`CheckStatus`]) and the dev tag updates it made
//! ([`TagUpdate`]).
//!
//! Not here: the steps that fill it in (`steps`, `state`).

use infraguard_core::plan::Gate;
use infraguard_core::resource::ResourceType;
use serde::{Deserialize, Serialize};

use super::mapping::ReferenceMapping;
use crate::sync::ResourceRef;

/// Where a promotion stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionState {
    /// In prod, and the dev tags say so.
    Synced,
    /// A human must approve the prod plan (`gate.approval_id`); call
    /// `promote` again afterwards.
    AwaitingApproval,
    /// Approved, the create was sent but did not finish; `promote` again
    /// resumes it.
    PendingProd,
    /// A checklist item failed: nothing was created.
    Blocked,
    /// A human denied this exact promotion.
    Denied,
    /// The cloud refused the create.
    Failed,
}

impl PromotionState {
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionState::Synced => "synced",
            PromotionState::AwaitingApproval => "awaiting_approval",
            PromotionState::PendingProd => "pending_prod",
            PromotionState::Blocked => "blocked",
            PromotionState::Denied => "denied",
            PromotionState::Failed => "failed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Passed,
    Failed,
    /// Waits for a human.
    Waiting,
    /// An earlier item stopped the promotion.
    NotReached,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "failed",
            CheckStatus::Waiting => "waiting",
            CheckStatus::NotReached => "not_reached",
        }
    }
}

/// One item of the seed's promotion checklist.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub key: String,
    pub title: String,
    pub status: CheckStatus,
    pub detail: String,
}

/// The checklist, in the seed's order.
const CHECKLIST: [(&str, &str); 7] = [
    (
        "tested_in_dev",
        "Resource exists in dev and its last change succeeded",
    ),
    (
        "dependencies",
        "Dependencies identified and present in prod",
    ),
    ("properties", "Prod properties complete and valid"),
    ("no_conflict", "No unrelated prod resource holds the name"),
    (
        "security_scan",
        "Security scan passed (or its findings were accepted)",
    ),
    ("cost", "Cost estimated and approved"),
    ("approval", "A human confirmed the promotion to prod"),
];

/// A dev tag update made (or attempted) by the promotion.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TagUpdate {
    pub promotion_status: String,
    pub prod_counterpart: Option<String>,
    /// The dev update plan.
    pub plan_id: Option<String>,
    /// `applied`, `unchanged`, `awaiting_approval`, `refused`, `failed`,
    /// `skipped` (the type cannot carry tags).
    pub outcome: String,
    pub approval_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PromotionReport {
    #[serde(rename = "type")]
    pub type_name: String,
    pub dev_id: String,
    pub status: PromotionState,
    pub prod_id: Option<String>,
    /// The prod create plan.
    pub plan_id: Option<String>,
    /// The gate of the plan that waits (this one's, or a dependency's):
    /// `gate.approval_id` is what a human must approve.
    pub gate: Option<Gate>,
    /// The dependency whose approval this promotion waits for.
    pub waiting_on: Option<ResourceRef>,
    /// What happened and the next step, in one sentence.
    pub message: String,
    pub checklist: Vec<ChecklistItem>,
    pub references: Vec<ReferenceMapping>,
    pub dev_tags: Vec<TagUpdate>,
    pub notes: Vec<String>,
    /// Dependencies promoted (or attempted) first, in order.
    pub dependencies: Vec<PromotionReport>,
}

impl PromotionReport {
    pub(super) fn new(t: &ResourceType, id: &str) -> PromotionReport {
        PromotionReport {
            type_name: t.to_string(),
            dev_id: id.to_string(),
            status: PromotionState::Blocked,
            prod_id: None,
            plan_id: None,
            gate: None,
            waiting_on: None,
            message: String::new(),
            checklist: CHECKLIST
                .iter()
                .map(|(k, title)| ChecklistItem {
                    key: (*k).into(),
                    title: (*title).into(),
                    status: CheckStatus::NotReached,
                    detail: String::new(),
                })
                .collect(),
            references: Vec::new(),
            dev_tags: Vec::new(),
            notes: Vec::new(),
            dependencies: Vec::new(),
        }
    }

    pub(super) fn check(&mut self, key: &str, status: CheckStatus, detail: impl Into<String>) {
        if let Some(c) = self.checklist.iter_mut().find(|c| c.key == key) {
            c.status = status;
            c.detail = detail.into();
        }
    }

    /// The checklist item that stopped the promotion.
    pub fn failed_item(&self) -> Option<&ChecklistItem> {
        self.checklist
            .iter()
            .find(|c| c.status == CheckStatus::Failed)
    }
}
