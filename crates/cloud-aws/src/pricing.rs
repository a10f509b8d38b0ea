//! Live prices: the AWS Price List API (`pricing:GetProducts`) behind the
//! cost crate's [`PriceListClient`] port, and [`live_prices`], the cached
//! [`PriceSource`] the CLI hands the engine for environments on real AWS.
//!
//! # Where the calls go
//!
//! The Price List API has endpoints in three regions only (us-east-1,
//! eu-central-1, ap-south-1) and every one of them answers for every region,
//! because the region asked about is a `regionCode` filter, not the
//! endpoint. [`price_list_region`] picks the nearest of the three to the
//! environment's region, for latency only. Endpoint overrides work as for
//! the rest of the backend: `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_PRICING`
//! (read by the SDK), or [`ConnectOptions::endpoint_url`] and
//! `service_endpoints["pricing"]`.
//!
//! # Failing soft
//!
//! A live price is an improvement, never a requirement: every failure comes
//! back as an `Err` the cost crate turns into "use the catalog". So that a
//! machine without network or without `pricing:GetProducts` does not pay a
//! timeout per price key, the first failure that will not heal within a run
//! (no connection, a timeout, no credentials, access denied) is remembered
//! and every later call answers it at once without sending anything.
//!
//! # Threads
//!
//! Like [`crate::AwsCloud`], [`AwsPriceList`] owns a one-worker tokio
//! runtime and waits for its futures on a plain channel, so it may be
//! called from any thread (async callers should still use
//! `spawn_blocking`, since the call blocks).
//!
//! No emulator serves this API (moto has no Price List API, fakecloud
//! neither), so the tests answer GetProducts from a loopback stub.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::Region;
use aws_sdk_pricing::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_pricing::types::{Filter, FilterType};
use infraguard_core::{Clock, CloudError, Environment, SystemClock};
use infraguard_cost::{CachedSource, PriceList, PriceListClient, PriceSource};

use crate::cloud::ConnectOptions;
use crate::convert::error_chain;
use crate::region;
use crate::sdk;

/// The SDK service id of the Price List API, as used in
/// `AWS_ENDPOINT_URL_PRICING` and [`ConnectOptions::service_endpoints`].
pub const PRICING_SERVICE_ID: &str = "pricing";
/// The Price List API's home region, used when no nearer endpoint exists.
pub const PRICE_LIST_HOME_REGION: &str = "us-east-1";
/// Largest page GetProducts serves; fewer pages mean fewer round trips.
pub const PAGE_SIZE: i32 = 100;
/// Time to open a connection. Shorter than the Cloud Control backend's:
/// a price is optional, and an estimate should not wait long for it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time for one page of one query.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// The Price List endpoint region nearest to `region`. Any of the three
/// answers for every region; this only shortens the round trip.
pub fn price_list_region(region: &str) -> &'static str {
    let area = region.split('-').next().unwrap_or_default();
    match area {
        "eu" | "me" | "il" | "af" => "eu-central-1",
        "ap" => "ap-south-1",
        _ => PRICE_LIST_HOME_REGION,
    }
}

/// The Price List API client of one process, implementing the cost crate's
/// [`PriceListClient`] (all pages of one GetProducts query, `TERM_MATCH`
/// filters).
pub struct AwsPriceList {
    /// `Option` only so that `Drop` can shut it down without blocking.
    runtime: Option<tokio::runtime::Runtime>,
    client: aws_sdk_pricing::Client,
    endpoint_region: String,
    /// Answers per query: several catalog keys (S3's three storage tiers)
    /// share one query, so each query is sent once.
    answers: Mutex<HashMap<String, Vec<String>>>,
    /// The failure that stops further calls (see the module docs).
    stopped: Mutex<Option<String>>,
    /// GetProducts pages answered (or failed), for call-count measurements.
    calls: Arc<AtomicU64>,
}

impl std::fmt::Debug for AwsPriceList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsPriceList")
            .field("endpoint_region", &self.endpoint_region)
            .finish_non_exhaustive()
    }
}

impl Drop for AwsPriceList {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl AwsPriceList {
    /// A client for an environment whose backend is `aws`, with its profile
    /// and the process's variables, as [`crate::AwsCloud::connect`] does.
    pub fn connect(env: &Environment) -> Result<AwsPriceList, CloudError> {
        AwsPriceList::connect_with(&ConnectOptions::for_environment(env))
    }

    /// A client from explicit options: the profile, credentials, endpoint
    /// overrides and attempt count are used as [`crate::AwsCloud`] uses
    /// them; the region only chooses the nearest Price List endpoint.
    /// Options that only concern Cloud Control (page size, schema cache)
    /// are ignored.
    pub fn connect_with(options: &ConnectOptions) -> Result<AwsPriceList, CloudError> {
        let service_endpoint = options.service_endpoints.get(PRICING_SERVICE_ID);
        sdk::check_endpoints(options.endpoint_url.iter().chain(service_endpoint))?;
        let runtime = sdk::runtime("infraguard-pricing")?;
        let profile = region::profile(options.profile.as_deref(), &options.vars);
        // With no region named anywhere, the home endpoint is as good as
        // any: the region priced is the caller's filter, not this.
        let endpoint_region = price_list_region(
            region::explicit_region(options.region.as_deref(), &options.vars)
                .as_deref()
                .unwrap_or(PRICE_LIST_HOME_REGION),
        )
        .to_string();
        let loader = sdk::loader(
            options,
            profile.as_deref(),
            CONNECT_TIMEOUT,
            ATTEMPT_TIMEOUT,
        )
        .region(Region::new(endpoint_region.clone()));
        // Loaded on the runtime's worker, not with `block_on` here, so a
        // caller inside another runtime cannot panic.
        let config = sdk::run(Some(&runtime), "load the AWS configuration", loader.load())?;
        // `Builder::from` already applied `AWS_ENDPOINT_URL_PRICING`; only
        // an explicit per-service option goes over it.
        let mut builder = aws_sdk_pricing::config::Builder::from(&config);
        if let Some(url) = service_endpoint {
            builder.set_endpoint_url(Some(url.clone()));
        }
        Ok(AwsPriceList {
            client: aws_sdk_pricing::Client::from_conf(builder.build()),
            runtime: Some(runtime),
            endpoint_region,
            answers: Mutex::new(HashMap::new()),
            stopped: Mutex::new(None),
            calls: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The region of the Price List endpoint in use (the SigV4 scope).
    pub fn endpoint_region(&self) -> &str {
        &self.endpoint_region
    }

    /// How many GetProducts pages this client has had answered or failed.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// All pages of one query, or the reason there is no answer.
    fn fetch(
        &self,
        service_code: &str,
        filters: &[(&'static str, String)],
    ) -> Result<Vec<String>, String> {
        let rt = self
            .runtime
            .as_ref()
            .ok_or_else(|| "the Price List runtime is shut down".to_string())?;
        let filters = filters
            .iter()
            .map(|(field, value)| {
                Filter::builder()
                    .r#type(FilterType::TermMatch)
                    .field(*field)
                    .value(value)
                    .build()
                    .map_err(|e| format!("filter {field}={value}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request = self
            .client
            .get_products()
            .service_code(service_code)
            .format_version("aws_v1")
            .set_filters(Some(filters))
            .max_results(PAGE_SIZE);
        let calls = Arc::clone(&self.calls);
        let pages = async move {
            let mut stream = request.into_paginator().send();
            let mut out = Vec::new();
            while let Some(page) = stream.next().await {
                calls.fetch_add(1, Ordering::Relaxed);
                out.extend(page?.price_list().iter().cloned());
            }
            Ok::<_, SdkError<_, _>>(out)
        };
        sdk::run(Some(rt), "GetProducts", pages)
            .map_err(|e| e.to_string())?
            .map_err(|e| self.failure(service_code, &e))
    }

    /// The error text for a failed query; remembers the failures that will
    /// not heal within a run so no further call is sent.
    fn failure<R: std::fmt::Debug>(
        &self,
        service_code: &str,
        e: &SdkError<aws_sdk_pricing::operation::get_products::GetProductsError, R>,
    ) -> String {
        let (text, lasting) = match e {
            SdkError::ServiceError(service) => {
                let err = service.err();
                let code = err.code().unwrap_or("UnknownError");
                let message = err.message().unwrap_or("(AWS sent no message)");
                let denied = matches!(
                    code,
                    "AccessDeniedException"
                        | "UnrecognizedClientException"
                        | "InvalidSignatureException"
                        | "ExpiredTokenException"
                );
                let hint = if denied {
                    "; allow pricing:GetProducts for this profile to get live prices (catalog prices are used meanwhile)"
                } else {
                    ""
                };
                (format!("{code}: {message}{hint}"), denied)
            }
            // No connection, a timeout, no credentials: nothing a retry of
            // the next key would change.
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => (error_chain(e), true),
            other => (error_chain(other), false),
        };
        let text = format!(
            "pricing:GetProducts {service_code} via {}: {text}",
            self.endpoint_region
        );
        if lasting {
            *self.stopped.lock().unwrap_or_else(|p| p.into_inner()) = Some(text.clone());
        }
        text
    }
}

impl PriceListClient for AwsPriceList {
    fn get_products(
        &self,
        service_code: &str,
        filters: &[(&'static str, String)],
    ) -> Result<Vec<String>, String> {
        if let Some(reason) = self
            .stopped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(format!("not asked again after: {reason}"));
        }
        let key = format!("{service_code} {filters:?}");
        // A poisoned lock only means another thread panicked mid-insert;
        // the map is still a valid cache.
        if let Some(hit) = self
            .answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let products = self.fetch(service_code, filters)?;
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, products.clone());
        Ok(products)
    }
}

/// The live price source for an environment on real AWS: the Price List
/// API, cached per key for the process, read on today's date (UTC). The
/// engine asks it before the catalog; any key it cannot answer falls back
/// to the catalog.
pub fn live_prices(env: &Environment) -> Result<Arc<dyn PriceSource + Send + Sync>, CloudError> {
    live_prices_with(
        &ConnectOptions::for_environment(env),
        &SystemClock.now().date(),
    )
}

/// [`live_prices`] with explicit options and the date prices are read on.
pub fn live_prices_with(
    options: &ConnectOptions,
    read_on: &str,
) -> Result<Arc<dyn PriceSource + Send + Sync>, CloudError> {
    let client = AwsPriceList::connect_with(options)?;
    Ok(Arc::new(CachedSource::new(PriceList::new(client, read_on))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_price_list_endpoint_is_chosen() {
        assert_eq!(price_list_region("eu-west-1"), "eu-central-1");
        assert_eq!(price_list_region("me-south-1"), "eu-central-1");
        assert_eq!(price_list_region("ap-southeast-2"), "ap-south-1");
        assert_eq!(price_list_region("us-west-2"), "us-east-1");
        assert_eq!(price_list_region("sa-east-1"), "us-east-1");
        assert_eq!(price_list_region(""), "us-east-1");
    }

    #[test]
    fn endpoints_that_are_not_urls_are_refused_before_any_call() {
        let mut options = ConnectOptions::for_emulator("dev", "eu-west-1", "http://127.0.0.1:1");
        options
            .service_endpoints
            .insert(PRICING_SERVICE_ID.into(), "127.0.0.1:9".into());
        let err = AwsPriceList::connect_with(&options)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`127.0.0.1:9`"), "{err}");
    }

    #[test]
    fn the_region_only_picks_the_endpoint() {
        let options = ConnectOptions::for_emulator("dev", "ap-northeast-1", "http://127.0.0.1:1");
        let client = AwsPriceList::connect_with(&options).unwrap();
        assert_eq!(client.endpoint_region(), "ap-south-1");
        assert_eq!(client.calls(), 0);
    }
}
