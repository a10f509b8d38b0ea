//! The embedded local cloud: the `Cloud` port with AWS Cloud Control
//! semantics, persisted in SQLite, one account per environment.
//!
//! It lets the whole infraguard workflow run with no AWS account, and it
//! behaves like Cloud Control where a user would notice: generated ARNs and
//! ids carry the environment's own account id and region, create-only
//! properties are `NotUpdatable`, required properties, schema patterns and
//! duplicates are refused, so are deletes under deletion protection,
//! write-only properties are never returned, lists paginate, client tokens
//! make retries idempotent, requests can stay `IN_PROGRESS`, and state
//! survives a restart.
//!
//! # Layout
//!
//! - [`LocalCloud`] (`cloud`): the `impl Cloud`, its request handlers and
//!   fault injection ([`Faults`]).
//! - `db`: the SQLite tables (`resources`, `requests`, `meta`) and queries.
//! - `attributes`: generated names and read-only attributes per type: one
//!   file of rules per service group, and the registry that finds them.
//! - `refusals`: what the services behind Cloud Control refuse that no
//!   schema says: deletes under deletion protection, RDS creates with no
//!   master password; each with the service's own words.
//! - `pointer`: JSON pointers with `*` wildcards, as schemas write them.
//! - `random`: request tokens, account ids and AWS-shaped ids.
//! - [`wire`]: the Cloud Control wire protocol (awsJson 1.0) on loopback,
//!   for boto3, the AWS CLI and aws-sdk-rust.
//! - [`LocalCloudError`] (`error`): the local cloud's own failures.
//!
//! Not here: what the resource types look like (the `infraguard-schema`
//! catalog) and any real AWS call. Nothing in this crate reaches the
//! network beyond the loopback listener a caller hands to [`wire::serve`].

mod attributes;
mod cloud;
mod db;
mod error;
mod random;
mod refusals;
pub mod wire;

pub use cloud::{LocalAccount, LocalCloud};
pub use error::LocalCloudError;

use serde::{Deserialize, Serialize};

/// Faults to inject, for reliability tests. Persisted in the environment's
/// database so that another process (the CLI) can set them while a server
/// runs; each counter goes down as calls consume it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// The next N port calls (of any kind) fail with
    /// `CloudError::Service { code: Throttling }`.
    pub throttle_next: u32,
    /// The next N accepted mutations end `FAILED` with
    /// `ServiceInternalError`, changing nothing.
    pub fail_next: u32,
    /// While non-zero, a mutation stays `IN_PROGRESS` for this many
    /// `request_status` polls and does its work on the last one. Not
    /// consumed: it applies to every mutation until set back to 0.
    pub pending_polls: u32,
    /// While non-zero, each port call fails with `Throttling` with this
    /// probability in percent (a steady rate limit). Not consumed.
    #[serde(default)]
    pub throttle_percent: u32,
}
