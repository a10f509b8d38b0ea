//! Domain types and ports of infraguard.
//!
//! # Layout
//!
//! - [`resource`]: [`ResourceType`] (`AWS::S3::Bucket`) and [`Operation`].
//! - [`env`]: [`Environment`], one account + region + backend + guard flags.
//! - [`schema`]: [`ResourceSchema`], what the catalog knows about a type
//!   (identifier, read-only / create-only / write-only / required properties,
//!   where tags go).
//! - [`cloud`]: the [`Cloud`] port, modelled on the AWS Cloud Control API, with
//!   its [`ProgressEvent`], [`ResourceDescription`] and [`CloudError`].
//! - [`template`]: [`Template`], a CloudFormation template as JSON.
//! - [`finding`]: [`Finding`] and [`Severity`] from the security scan.
//! - [`money`]: [`Money`] and the [`CostEstimate`] of a plan.
//! - [`plan`]: [`Plan`] and its [`Gate`] decision.
//! - [`approval`]: [`Approval`], a human decision bound to a plan's content hash.
//! - [`audit`]: [`AuditEntry`], one link of the hash-chained audit log.
//! - [`account`]: the [`Account`] port: STS `AssumeRole` for an approver's
//!   MFA session, IAM simulation and trust policies, CloudTrail events.
//! - [`store`]: the [`Store`] port (plans, approvals, audit, token use).
//! - [`clock`]: the [`Clock`] port and [`Timestamp`].
//! - `conformance` (feature `conformance`): the suite every `Cloud` must pass.
//!
//! This crate does no I/O: no files, no network, no async runtime, no AWS SDK.
//! Everything outside the process sits behind a port defined here.

pub mod account;
pub mod approval;
pub mod audit;
pub mod clock;
pub mod cloud;
pub mod env;
pub mod env_vars;
pub mod finding;
pub mod money;
pub mod plan;
pub mod pointer;
pub mod resource;
pub mod schema;
pub mod store;
pub mod template;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use account::{Account, SessionRequest, Simulated, TrailEvent};
pub use approval::{Approval, ApprovalStatus};
pub use audit::{AuditEntry, AuditRecord};
pub use clock::{Clock, SystemClock, Timestamp};
pub use cloud::{
    Cloud, CloudError, ErrorCode, Identity, ListPage, OperationStatus, ProgressEvent,
    ResourceDescription,
};
pub use env::{Backend, Environment};
pub use finding::{Finding, Severity, Suppression};
pub use money::{CostComponent, CostEstimate, Money, UsageAssumption};
pub use plan::{Gate, GateDecision, Plan, PlanStatus};
pub use resource::{Operation, ResourceType, ResourceTypeError};
pub use schema::{Handlers, ResourceSchema, TagStyle};
pub use store::{AppliedState, Store, StoreError};
pub use template::Template;
