//! What every AWS client of this crate shares: the endpoint check, the
//! one-worker runtime and the SDK config loader (profile, retries, timeouts,
//! endpoint override, static keys). Each client adds its own region.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::ConfigLoader;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use infraguard_core::CloudError;

use crate::cloud::ConnectOptions;
use crate::error::AwsError;

/// Refuse anything that is not an http(s) URL before a call is made.
pub fn check_endpoints<'a>(urls: impl IntoIterator<Item = &'a String>) -> Result<(), CloudError> {
    for url in urls {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AwsError::BadEndpoint(url.clone()).into());
        }
    }
    Ok(())
}

/// A runtime with one worker: the SDK's futures run there, callers wait on
/// a channel, so no caller's thread ever runs `block_on`.
pub fn runtime(thread_name: &str) -> Result<tokio::runtime::Runtime, CloudError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(thread_name)
        .enable_all()
        .build()
        .map_err(|e| AwsError::Runtime(e.to_string()).into())
}

/// The SDK config loader with the options every client shares.
pub fn loader(
    options: &ConnectOptions,
    profile: Option<&str>,
    connect_timeout: Duration,
    attempt_timeout: Duration,
) -> ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(options.max_attempts.max(1))
                .with_initial_backoff(Duration::from_millis(200)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(connect_timeout)
                .operation_attempt_timeout(attempt_timeout)
                .build(),
        );
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(c) = &options.credentials {
        loader = loader.credentials_provider(Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.clone(),
            c.session_token.clone(),
            None,
            "infraguard-static",
        ));
    }
    loader
}

/// Run `fut` on `rt`'s worker and wait for its answer on this thread;
/// `None` when the runtime stopped before answering (the caller names what
/// it was doing).
pub fn wait<T, F>(rt: &tokio::runtime::Runtime, fut: F) -> Option<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    rt.spawn(async move {
        // The receiver only goes away if the caller's thread died.
        let _ = tx.send(fut.await);
    });
    rx.recv().ok()
}

/// [`wait`] for a call named `operation`, on a runtime that may already be
/// shut down (`None`), with either failure said as a [`CloudError`].
pub fn run<T, F>(
    rt: Option<&tokio::runtime::Runtime>,
    operation: &str,
    fut: F,
) -> Result<T, CloudError>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let rt = rt.ok_or_else(|| {
        CloudError::Internal(format!("{operation}: the AWS runtime is shut down"))
    })?;
    wait(rt, fut).ok_or_else(|| {
        CloudError::Internal(format!(
            "{operation}: the AWS runtime stopped before answering"
        ))
    })
}
