//! The crate's one error type, [`LocalCloudError`].
//!
//! These are failures of the local cloud itself (its database file, the
//! random source), not "the cloud said no": refusals a real AWS account would
//! give are `CloudError::Service` values or `FAILED` progress events, built in
//! `cloud.rs`. Through the `Cloud` port a `LocalCloudError` becomes
//! `CloudError::Internal`.

use std::path::PathBuf;

use infraguard_core::CloudError;

#[derive(Debug, thiserror::Error)]
pub enum LocalCloudError {
    #[error(
        "cannot open the local cloud database `{path}`: {source}. Check that the directory is writable and that no other program holds the file locked"
    )]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("cannot create the directory `{path}` for the local cloud database: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "`{path}` is not a usable infraguard local cloud database: {detail}. Move the file aside to start the environment afresh"
    )]
    Corrupt { path: String, detail: String },

    #[error(
        "`{path}` was written by a newer infraguard (database schema version {found}, this build understands up to {supported}). Upgrade infraguard, or move the file aside to start afresh"
    )]
    NewerSchema {
        path: String,
        found: i64,
        supported: i64,
    },

    #[error(
        "`{path}` holds the local cloud of environment `{stored}`, not `{requested}`. Point environment `{requested}` at its own database file"
    )]
    EnvironmentMismatch {
        path: String,
        stored: String,
        requested: String,
    },

    #[error("local cloud database error: {0}")]
    Database(#[from] rusqlite::Error),

    #[error("stored data in the local cloud database is not valid JSON ({what}): {detail}")]
    StoredJson { what: String, detail: String },

    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

impl From<LocalCloudError> for CloudError {
    fn from(e: LocalCloudError) -> CloudError {
        CloudError::Internal(e.to_string())
    }
}
