//! The real-AWS backend of infraguard: the [`Cloud`] port over the AWS Cloud
//! Control API, with STS for identity and CloudFormation `DescribeType` for
//! schemas the embedded catalog does not have.
//!
//! # Layout
//!
//! - [`AwsCloud`] (`cloud`): the backend; [`AwsCloud::connect`] for an
//!   environment, [`AwsCloud::connect_with`] with [`ConnectOptions`] (an
//!   emulator endpoint and static keys for tests). Owns its tokio runtime;
//!   see the module docs for the threading contract.
//! - `convert`: SDK shapes ↔ port shapes, AWS errors → [`CloudError`] with
//!   AWS's code plus what to do, client tokens made valid for Cloud Control.
//! - [`AwsAccount`] (`account`): STS `AssumeRole` for an approver's MFA
//!   session, IAM simulation and trust policies, CloudTrail events.
//! - [`region`]: the region and profile order (environment, `AWS_REGION`,
//!   `AWS_DEFAULT_REGION`, profile).
//! - [`auth`]: the auth kind (`Environment Variables`, `AWS SSO Profile`,
//!   ...) from how credentials resolved, never from the keys.
//! - [`schema_cache`]: fetched schemas on disk with a refresh age.
//! - [`AwsError`] (`error`): failures on our side.
//!
//! Not here: polling and progress display (the engine polls the port's
//! `request_status`), and the emulators themselves (tests start them as
//! separate processes on loopback).
//!
//! [`Cloud`]: infraguard_core::Cloud
//! [`CloudError`]: infraguard_core::CloudError

mod account;
pub mod auth;
mod cloud;
mod convert;
#[cfg(feature = "emulators")]
pub mod emulator;
mod error;
pub mod pricing;
pub mod region;
pub mod schema_cache;
pub mod sdk;

pub use account::AwsAccount;
pub use cloud::{
    ACCOUNT_MISMATCH, AwsCloud, ConnectOptions, DEFAULT_LIST_PAGE_SIZE, DEFAULT_MAX_ATTEMPTS,
    StaticCredentials,
};
pub use convert::{client_token, code_from_exception};
pub use error::AwsError;
pub use pricing::{AwsPriceList, live_prices};
