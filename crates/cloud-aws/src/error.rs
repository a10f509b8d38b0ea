//! The crate's error type: what went wrong before or around a call to AWS.
//!
//! Errors that AWS itself returns travel as [`CloudError::Service`] with
//! AWS's code; [`AwsError`] is for our side (configuration, the runtime, the
//! schema cache) and converts into [`CloudError::Internal`] at the port.

use std::path::PathBuf;

use infraguard_core::CloudError;

/// A failure on our side of the AWS backend.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// No region anywhere in the order the backend looks.
    #[error(
        "no AWS region for environment `{env}`: set `region` under [environments.{env}] in infraguard.toml, or AWS_REGION, or AWS_DEFAULT_REGION, or `region` in the profile `{profile}`"
    )]
    NoRegion { env: String, profile: String },

    /// The tokio runtime that drives the SDK could not start.
    #[error("cannot start the AWS SDK runtime: {0}; check the process's thread limit")]
    Runtime(String),

    /// The endpoint override is not an http(s) URL.
    #[error(
        "endpoint URL `{0}` is not an http:// or https:// URL; fix AWS_ENDPOINT_URL or the endpoint option"
    )]
    BadEndpoint(String),

    /// Reading or writing the schema cache failed.
    #[error(
        "schema cache {path}: {message}; delete the file or set XDG_CACHE_HOME to a writable folder"
    )]
    Cache { path: PathBuf, message: String },

    /// AWS answered DescribeType with something that is not a usable schema.
    #[error("the schema AWS returned for {type_name} is unusable: {message}")]
    BadSchema { type_name: String, message: String },
}

impl From<AwsError> for CloudError {
    fn from(e: AwsError) -> CloudError {
        CloudError::Internal(e.to_string())
    }
}
