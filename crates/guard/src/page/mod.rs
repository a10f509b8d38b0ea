//! The approval page: a one-time page per pending approval, served on
//! 127.0.0.1 only by whichever process hosts the engine (the guard, or an
//! advisory MCP server / CLI), at an unguessable path that expires with the
//! approval.
//!
//! It shows the plan's template, explanation, findings, cost and (for
//! updates) the diff, with Approve and Deny. Whether Approve needs the
//! approver's code is the backend's answer ([`PageBackend::needs_code`]),
//! and whether a decision counts is the engine's: the page only carries the
//! request and shows the answer.
//!
//! # Layout
//!
//! - this file: what the page shows and sends ([`ApprovalView`],
//!   [`DecisionInput`]) and the port it calls ([`PageBackend`]);
//! - `server`: [`PageServer`], the HTTP side (tokens in URLs, CSRF, headers);
//! - `tokens`: the in-memory table of live page tokens;
//! - `html`: rendering, where every value from a plan is escaped.
//!
//! Not here: which approvals need a code, or checking one (the engine and the
//! guard do that behind [`PageBackend::decide`]).

mod html;
mod server;
mod tokens;

pub mod backend;
pub use backend::{EnginePages, view_of};
pub use server::{BODY_LIMIT, Clock, PageError, PageOptions, PageServer};

use serde::{Deserialize, Serialize};

/// What the page shows about one approval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub approval_id: String,
    pub plan_id: String,
    /// `pending`, `approved`, `denied`, `expired`.
    pub status: String,
    /// One line: `create AWS::S3::Bucket synthcoreai-documents-prod in prod ($0.02/month)`.
    pub summary: String,
    /// Why a human is needed, as the gate said it.
    pub reasons: Vec<String>,
    pub env: String,
    pub operation: String,
    pub type_name: String,
    pub identifier: Option<String>,
    /// The CloudFormation template, pretty JSON (secrets already redacted).
    pub template: String,
    pub explanation: String,
    pub findings: Vec<FindingView>,
    /// `$15.44/month`.
    pub monthly_cost: String,
    /// One line per cost component.
    pub cost_breakdown: Vec<String>,
    /// For updates: `- /Path: old` / `+ /Path: new` lines.
    pub diff: Option<String>,
    /// RFC 3339; the page is gone after it.
    pub expires_at: Option<String>,
    /// `advisory`, `guarded`, `aws-enforced`: shown on the page.
    pub level: String,
    /// `aws-enforced`: the MFA device whose code AWS STS checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_serial: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingView {
    pub rule: String,
    pub severity: String,
    pub title: String,
    pub path: String,
    pub message: String,
    pub remediation: String,
    /// Accepted or suppressed, with the reason; `None` when open.
    pub suppressed: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Deny,
}

/// What the person typed on the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionInput {
    pub decision: Decision,
    /// The approver's name, when the backend needs a code.
    pub approver: Option<String>,
    /// The approver's one-time code (TOTP or AWS MFA), when the backend needs one.
    pub code: Option<String>,
    pub note: Option<String>,
}

/// The engine behind the page, as the hosting process wires it.
pub trait PageBackend: Send + Sync + 'static {
    /// The approval as the page shows it; `Err` with a message a person can
    /// read when it does not exist.
    fn view(&self, approval_id: &str) -> Result<ApprovalView, String>;
    /// Record a decision; `Ok` carries the message to show (e.g. "approved;
    /// the plan is being applied"), `Err` the refusal in words (wrong code,
    /// locked, already decided...).
    fn decide(&self, approval_id: &str, input: &DecisionInput) -> Result<String, String>;
    /// Whether Approve asks for an approver's code (guarded, aws-enforced).
    fn needs_code(&self) -> bool;
}
