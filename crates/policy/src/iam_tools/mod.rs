//! IAM least-privilege tools: lint a policy, suggest a minimal policy for a
//! capability, and compare what a principal has with what it needs.
//!
//! These are the pure halves of `infraguard iam lint|suggest|extend` and the
//! MCP tools `lint_iam_policy`, `suggest_iam_policy` and `extend_iam_policy`;
//! the engine adds the cloud reads and the plans. Every function takes plain
//! arguments and returns a `Serialize` value, so a tool is one call.
//!
//! # Layout
//!
//! - [`actions`]: the action catalog as users see it: [`expand_action`]
//!   (`s3:Get*` → the actions it grants), [`nearest_actions`]
//!   (`s3:PutObjekt` → `s3:PutObject`).
//! - [`lint`]: [`lint_text`] / [`lint_document`], findings with rule ids
//!   `IG-IAM-LINT-0xx` in the scan report's shape, each with the risk and,
//!   where it is mechanical, the narrower statement as a fix.
//! - [`catalog`]: the capability table (`s3-file-upload`, `ses-send`, ...).
//! - [`suggest`]: [`suggest()`], a capability phrase plus resources → the
//!   minimal policy with a conventional name, or an honest "don't know".
//! - [`diff`]: [`permission_diff`], current grants vs a proposed document.
//! - `arns`: ARN templates per service resource type, scoped to the
//!   project's naming pattern.
//!
//! Not here: reading principals from a cloud, plans and approvals (the
//! engine's `iam` module), rendering (the CLI).

pub mod actions;
mod arns;
pub mod catalog;
pub mod diff;
pub mod lint;
pub mod suggest;

pub use actions::{Expansion, expand_action, nearest_actions};
pub use catalog::{Capability, CapabilityInfo, capabilities, capability_for_document};
pub use diff::{Grant, PermissionDiff, permission_diff};
pub use lint::{LintOptions, LintReport, lint_document, lint_text};
pub use suggest::{SuggestContext, SuggestRequest, SuggestedPolicy, Suggestion, suggest};
