//! The guarded workflow of infraguard, generic over the `Cloud` and `Store`
//! ports.
//!
//! # Layout
//!
//! - [`engine`]: [`Engine`] itself; its stages beside it: `planning`
//!   (plan → explain → scan → estimate → gate), `approve`, `apply` (→
//!   audit), `locks` (one plan in flight per resource), `import`, `reads`.
//! - [`gate`]: the gate's decision table (who must approve what).
//! - [`costs`]: monthly cost reports and billing alarm plans.
//! - [`config`]: `infraguard.toml`, raw and resolved ([`ProjectConfig`]).
//! - [`env_vars`]: every environment variable read, declared once.
//! - [`store`]: [`SqliteStore`], the `Store` port over SQLite.
//! - [`audit`]: the hash chain of the audit log and its verification.
//! - [`tags`]: the tag standard and how tags are written per type.
//! - [`explain`]: plain-language explanation of a plan.
//! - [`chain`]: the signed, single-use token chain agents walk over MCP.
//! - [`policy`]: an adopted project's guard policy; the workspace can only tighten it.
//! - [`redact`]: secrets masked in every value handed to a caller ([`redact::Shown`]).
//! - [`seal`]: the same secrets encrypted at rest in `state.db`.
//! - [`api`]: [`EngineApi`], the one API every surface calls, in process or over the guard's socket.
//! - [`doctor`]: the level each environment runs at, and why.
//! - [`mfa`]: approvals in `aws-enforced` environments: an AWS MFA session for one plan.
//! - [`session_policy`]: what an approver's MFA session may do: one plan.
//! - [`actor`]: who asks and who decides, as the audit log names them.
//! - [`promote`]: dev → prod promotion ([`Engine::promote`]).
//! - [`inventory`]: both environments as listed, shared by promotion, sync and drift.
//! - [`sync`]: the dev/prod links and sync groups ([`Engine::sync_status`]).
//! - [`trail`]: CloudTrail's write events matched to the audit ([`Engine::cloudtrail_check`]).
//! - [`drift`]: dev/prod and applied/live drift ([`Engine::drift`]).
//! - [`preflight`]: the deployment checklist ([`Engine::preflight`]);
//!   [`app_checks`] the app's own commands and the production URL.
//!
//! Not here: rendering (the CLI), protocol adapters (the MCP server), cloud
//! backends (`cloud-local`, `cloud-aws`).

pub mod actor;
pub mod api;
pub mod app_checks;
mod apply;
mod approve;
pub mod attest;
pub mod audit;
pub mod chain;
pub mod config;
pub mod costs;
pub mod doctor;
pub mod drift;
pub mod engine;
pub use infraguard_core::env_vars;
pub mod error;
pub mod explain;
pub mod gate;
pub mod hash;
pub mod iam;
mod import;
pub mod inventory;
pub mod locks;
pub mod mfa;
mod patching;
mod planning;
pub mod policy;
pub mod preflight;
pub mod promote;
mod reads;
pub mod redact;
pub mod seal;
pub mod served;
pub mod session_policy;
pub mod store;
#[cfg(feature = "testing")]
pub mod store_conformance;
pub mod sync;
pub mod tags;
pub mod trail;

pub use actor::{Actor, ActorKind};
pub use api::{
    Caller, EngineApi, FactorError, Factors, Level, Peer, Proof, Remote, Request, Transport,
};
pub use attest::{Attestation, Subject};
pub use chain::{FindingsDecision, TokenKind};
pub use config::{ProjectConfig, RawConfig};
pub use doctor::{DoctorReport, EnvLevel};
pub use drift::{DriftReport, PreflightReport};
pub use engine::{
    ApplyOutcome, Engine, EnvReport, Estimate, PageUrls, PlanRequest, PlanState, PollPolicy,
};
pub use error::{EngineError, ErrorKind};
pub use locks::LockReport;
pub use mfa::MfaApproval;
pub use promote::{PromotionReport, PromotionState};
pub use store::SqliteStore;
pub use sync::SyncReport;
