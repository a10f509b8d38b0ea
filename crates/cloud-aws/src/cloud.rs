//! [`AwsCloud`]: the synchronous [`Cloud`] port over the async AWS SDK.
//!
//! # Threads and the runtime
//!
//! `AwsCloud` owns a small tokio runtime (one worker thread) and hands every
//! SDK call to it with `spawn`, then waits for the answer on a plain channel.
//! It never calls `block_on` on the caller's thread, so calling it from a
//! plain thread or from `spawn_blocking` is correct, and calling it from
//! inside an async task cannot panic ("cannot start a runtime from within a
//! runtime") — it would only block that task's worker thread for the length
//! of the call, which is why async callers must still use `spawn_blocking`.
//! Dropping it anywhere is safe: the runtime is shut down in the background.
//!
//! # Configuration
//!
//! Credentials resolve the AWS way (environment variables, the profile in
//! `infraguard.toml` or `AWS_PROFILE`, SSO, ...) through `aws-config`;
//! endpoint overrides (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_CLOUDCONTROL`,
//! `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_CLOUDFORMATION`) are read by the
//! SDK too. The region is resolved once (see [`crate::region`]) and shared by
//! every client, so creates, polls, lists and identity all go to the same
//! region. SDK retries are kept small ([`DEFAULT_MAX_ATTEMPTS`]): the engine
//! retries transient errors itself with the same client token.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use aws_config::Region;
use aws_config::profile::ProfileFileRegionProvider;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_cloudformation::types::RegistryType;
use infraguard_core::{
    Cloud, CloudError, Environment, Identity, ListPage, ProgressEvent, ResourceDescription,
    ResourceSchema, ResourceType,
};
use infraguard_schema::{Catalog, schema_from_document};
use serde_json::Value;

use crate::auth;
use crate::convert::{self, CallContext};
use crate::error::AwsError;
use crate::region;
use crate::schema_cache::{self, SchemaCache};
use crate::sdk;

/// SDK attempts per call (the first try included). Small, because the
/// engine retries transient errors itself; a fast failure lets it decide.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Cloud Control's largest `MaxResults` for `ListResources`: the fewest
/// pages, so a sync makes the fewest calls.
pub const DEFAULT_LIST_PAGE_SIZE: i32 = 100;
/// Time to open a connection before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for one attempt of one call (Cloud Control answers mutations at
/// once with a request token; long work happens behind the token).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Keys passed in code. `Debug` never shows them.
#[derive(Clone)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticCredentials { .. }")
    }
}

pub use infraguard_core::cloud::ACCOUNT_MISMATCH;

/// Everything [`AwsCloud::connect_with`] needs, already raw-resolved.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The environment's name, for messages.
    pub env_name: String,
    /// The environment's own region; `AWS_REGION`, `AWS_DEFAULT_REGION` and
    /// the profile follow in that order.
    pub region: Option<String>,
    /// The environment's profile; `AWS_PROFILE` follows.
    pub profile: Option<String>,
    /// One endpoint for every service (an emulator). `None` leaves the
    /// SDK's own resolution, which reads `AWS_ENDPOINT_URL[_SERVICE]`.
    pub endpoint_url: Option<String>,
    /// Per-service endpoints by SDK service id (`cloudcontrol`, `sts`,
    /// `cloudformation`), over `endpoint_url`, like
    /// `AWS_ENDPOINT_URL_<SERVICE>` (tests use one emulator per service).
    pub service_endpoints: BTreeMap<String, String>,
    /// Credentials passed in code instead of the default chain.
    pub credentials: Option<StaticCredentials>,
    pub max_attempts: u32,
    /// `MaxResults` for `ListResources`; `None` lets the service choose.
    pub list_page_size: Option<i32>,
    /// Folder of the schema cache; `None` turns the disk cache off.
    pub schema_cache_dir: Option<PathBuf>,
    pub schema_refresh_age: Duration,
    /// The process's variables (or a test's), for region and profile.
    pub vars: BTreeMap<String, String>,
    /// The account the environment is pinned to: every Cloud Control call
    /// first checks the credentials sign in to it.
    pub expected_account: Option<String>,
}

impl ConnectOptions {
    /// Options for an environment, reading the process's variables.
    pub fn for_environment(env: &Environment) -> ConnectOptions {
        // `vars()` would panic on a variable that is not UTF-8; such a
        // variable cannot be one of the AWS ones we read, so skip it.
        let vars: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        ConnectOptions {
            env_name: env.name.clone(),
            region: Some(env.region.clone()),
            profile: env.profile.clone(),
            endpoint_url: None,
            service_endpoints: BTreeMap::new(),
            credentials: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            list_page_size: Some(DEFAULT_LIST_PAGE_SIZE),
            schema_cache_dir: schema_cache::default_dir(&vars),
            schema_refresh_age: schema_cache::DEFAULT_REFRESH_AGE,
            vars,
            expected_account: env.account_id.clone(),
        }
    }

    /// Options for a loopback emulator at `endpoint`, with static test keys
    /// and no variables from the process (so a developer's `AWS_PROFILE`
    /// cannot leak into a test).
    pub fn for_emulator(env_name: &str, region: &str, endpoint: &str) -> ConnectOptions {
        ConnectOptions {
            env_name: env_name.to_string(),
            region: Some(region.to_string()),
            profile: None,
            endpoint_url: Some(endpoint.to_string()),
            service_endpoints: BTreeMap::new(),
            credentials: Some(StaticCredentials {
                access_key_id: "test".into(),
                secret_access_key: "test".into(),
                session_token: None,
            }),
            max_attempts: 1,
            list_page_size: Some(DEFAULT_LIST_PAGE_SIZE),
            schema_cache_dir: None,
            schema_refresh_age: schema_cache::DEFAULT_REFRESH_AGE,
            vars: BTreeMap::new(),
            expected_account: None,
        }
    }
}

/// One service's client from the loaded `config`, with the endpoint the
/// options give that service, if any. `Builder::from` already applied
/// `AWS_ENDPOINT_URL_<SERVICE>`; only an explicit per-service option goes
/// over it, so no option leaves the builder's own endpoint alone. A macro
/// because each service's builder is its own type, with no trait between
/// them.
macro_rules! client {
    ($sdk:ident, $config:expr, $endpoint:expr) => {{
        let mut builder = $sdk::config::Builder::from($config);
        if let Some(url) = $endpoint {
            builder.set_endpoint_url(Some(url));
        }
        $sdk::Client::from_conf(builder.build())
    }};
}
pub(crate) use client;

/// The real-AWS backend of one environment.
pub struct AwsCloud {
    /// `Option` only so that `Drop` can take it and shut it down without
    /// blocking (dropping a runtime inside another one would panic).
    runtime: Option<tokio::runtime::Runtime>,
    cloudcontrol: aws_sdk_cloudcontrol::Client,
    sts: aws_sdk_sts::Client,
    cloudformation: aws_sdk_cloudformation::Client,
    credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
    static_credentials: bool,
    region: String,
    profile: Option<String>,
    list_page_size: Option<i32>,
    schema_cache: Option<SchemaCache>,
    /// Identity answers once per session: it does not change under us, and
    /// `envs` / session-info callers ask often.
    identity: Mutex<Option<Identity>>,
    /// Calls that went to AWS, for call-count measurements.
    calls: AtomicU64,
    env_name: String,
    expected_account: Option<String>,
}

impl std::fmt::Debug for AwsCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCloud")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl Drop for AwsCloud {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl AwsCloud {
    /// Connect an environment whose backend is `aws`, the AWS way.
    pub fn connect(env: &Environment) -> Result<AwsCloud, CloudError> {
        AwsCloud::connect_with(ConnectOptions::for_environment(env))
    }

    /// Connect with explicit options (emulators, tests).
    pub fn connect_with(options: ConnectOptions) -> Result<AwsCloud, CloudError> {
        sdk::check_endpoints(
            options
                .endpoint_url
                .iter()
                .chain(options.service_endpoints.values()),
        )?;
        let runtime = sdk::runtime("infraguard-aws")?;
        let profile = region::profile(options.profile.as_deref(), &options.vars);
        let explicit_region = region::explicit_region(options.region.as_deref(), &options.vars);

        let mut loader = sdk::loader(
            &options,
            profile.as_deref(),
            CONNECT_TIMEOUT,
            ATTEMPT_TIMEOUT,
        );
        loader = match &explicit_region {
            Some(r) => loader.region(Region::new(r.clone())),
            // Only the profile is left; the SDK's default chain would go on
            // to instance metadata, which is not a place a person set.
            None => {
                let mut provider = ProfileFileRegionProvider::builder();
                if let Some(p) = &profile {
                    provider = provider.profile_name(p);
                }
                loader.region(provider.build())
            }
        };
        let config = runtime.block_on(loader.load());
        let region = config
            .region()
            .map(|r| r.as_ref().to_string())
            .ok_or_else(|| AwsError::NoRegion {
                env: options.env_name.clone(),
                profile: profile.clone().unwrap_or_else(|| "default".into()),
            })?;
        let schema_cache = options
            .schema_cache_dir
            .as_ref()
            .map(|dir| SchemaCache::new(dir, &region, options.schema_refresh_age));
        let endpoint = |service: &str| options.service_endpoints.get(service).cloned();
        Ok(AwsCloud {
            cloudcontrol: client!(aws_sdk_cloudcontrol, &config, endpoint("cloudcontrol")),
            sts: client!(aws_sdk_sts, &config, endpoint("sts")),
            cloudformation: client!(aws_sdk_cloudformation, &config, endpoint("cloudformation")),
            credentials: config.credentials_provider(),
            static_credentials: options.credentials.is_some(),
            runtime: Some(runtime),
            region,
            profile,
            list_page_size: options.list_page_size,
            schema_cache,
            identity: Mutex::new(None),
            calls: AtomicU64::new(0),
            env_name: options.env_name.clone(),
            expected_account: options.expected_account.clone(),
        })
    }

    /// Refuse before any Cloud Control call when the credentials sign in to
    /// another account than the one the environment is pinned to: a dev
    /// profile must never act on prod's account, nor prod's rules on dev's.
    fn pinned(&self) -> Result<(), CloudError> {
        let Some(expected) = &self.expected_account else {
            return Ok(());
        };
        let id = self.identity()?;
        if &id.account_id == expected {
            return Ok(());
        }
        Err(CloudError::service(
            infraguard_core::ErrorCode::Other(ACCOUNT_MISMATCH.into()),
            format!(
                "environment `{}` is pinned to AWS account {expected}, but {} signs in to account {}: nothing was sent. Use the profile of account {expected} (`[environments.{}] profile` or AWS_PROFILE), or correct `account_id` in infraguard.toml",
                self.env_name,
                self.profile
                    .as_deref()
                    .map(|p| format!("profile `{p}`"))
                    .unwrap_or_else(|| "the default credentials".into()),
                id.account_id,
                self.env_name
            ),
        ))
    }

    /// The region every call of this environment goes to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The profile in use, if one was named.
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    /// How many calls this backend has sent to AWS.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Run one SDK future on the backend's runtime and wait for it here.
    fn run<T, F>(&self, operation: &str, fut: F) -> Result<T, CloudError>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.calls.fetch_add(1, Ordering::Relaxed);
        sdk::run(self.runtime.as_ref(), operation, fut)
    }

    fn context<'a>(
        &'a self,
        operation: &'a str,
        type_name: Option<&'a ResourceType>,
    ) -> CallContext<'a> {
        let handler_permissions = type_name
            .map(|t| self.handler_permissions(t, operation))
            .unwrap_or_default();
        CallContext {
            operation,
            type_name,
            resource: None,
            handler_permissions,
            profile: self.profile.as_deref(),
        }
    }

    /// The IAM actions a type's handler needs for a Cloud Control operation,
    /// from the schema's `handlers` (embedded, else cached), for hints.
    fn handler_permissions(&self, type_name: &ResourceType, operation: &str) -> Vec<String> {
        let handler = match operation {
            "CreateResource" => "create",
            "UpdateResource" => "update",
            "DeleteResource" => "delete",
            "GetResource" => "read",
            "ListResources" => "list",
            _ => return Vec::new(),
        };
        let cached;
        let document = match Catalog::builtin().document(type_name) {
            Some(d) => d,
            None => match self
                .schema_cache
                .as_ref()
                .and_then(|c| c.read(type_name, SystemTime::now()))
            {
                Some(c) => {
                    cached = c.document;
                    &cached
                }
                None => return Vec::new(),
            },
        };
        infraguard_schema::handler_permissions(document, handler)
    }

    /// Fetch a schema from CloudFormation's registry.
    fn describe_type(&self, type_name: &ResourceType) -> Result<Value, CloudError> {
        let client = self.cloudformation.clone();
        let name = type_name.as_str().to_string();
        let out = self
            .run("DescribeType", async move {
                client
                    .describe_type()
                    .r#type(RegistryType::Resource)
                    .type_name(name)
                    .send()
                    .await
            })?
            .map_err(|e| {
                convert::sdk_error(
                    e,
                    &self.context("cloudformation:DescribeType", Some(type_name)),
                )
            })?;
        let text = out.schema().ok_or_else(|| AwsError::BadSchema {
            type_name: type_name.to_string(),
            message: "DescribeType returned no Schema".into(),
        })?;
        serde_json::from_str(text).map_err(|e| {
            AwsError::BadSchema {
                type_name: type_name.to_string(),
                message: e.to_string(),
            }
            .into()
        })
    }

    fn distill(type_name: &ResourceType, document: &Value) -> Result<ResourceSchema, CloudError> {
        schema_from_document(document).map_err(|e| {
            AwsError::BadSchema {
                type_name: type_name.to_string(),
                message: e.to_string(),
            }
            .into()
        })
    }
}

/// The resource's name in a desired state, from the type's primary
/// identifier (for `AlreadyExists` messages).
fn resource_name(type_name: &ResourceType, desired: &Value) -> Option<String> {
    let schema = Catalog::builtin().get(type_name).ok()?;
    let pointer = schema.primary_identifier.first()?;
    let pointer = pointer.strip_prefix("/properties").unwrap_or(pointer);
    match desired.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Cloud for AwsCloud {
    fn create(
        &self,
        type_name: &ResourceType,
        desired_state: &Value,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError> {
        self.pinned()?;
        let mut ctx = self.context("CreateResource", Some(type_name));
        ctx.resource = resource_name(type_name, desired_state);
        let request = self
            .cloudcontrol
            .create_resource()
            .type_name(type_name.as_str())
            .desired_state(desired_state.to_string())
            .client_token(convert::client_token(client_token));
        let out = self
            .run("CreateResource", request.send())?
            .map_err(|e| convert::sdk_error(e, &ctx))?;
        let ev = out.progress_event().ok_or_else(|| {
            CloudError::Internal("CreateResource: AWS returned no ProgressEvent".into())
        })?;
        convert::progress_event(ev, type_name, &ctx)
    }

    fn get(
        &self,
        type_name: &ResourceType,
        identifier: &str,
    ) -> Result<ResourceDescription, CloudError> {
        self.pinned()?;
        let mut ctx = self.context("GetResource", Some(type_name));
        ctx.resource = Some(identifier.to_string());
        let request = self
            .cloudcontrol
            .get_resource()
            .type_name(type_name.as_str())
            .identifier(identifier);
        let out = self
            .run("GetResource", request.send())?
            .map_err(|e| convert::sdk_error(e, &ctx))?;
        let desc = out.resource_description().ok_or_else(|| {
            CloudError::Internal(format!(
                "GetResource {type_name} {identifier}: AWS returned no ResourceDescription"
            ))
        })?;
        Ok(ResourceDescription {
            identifier: desc.identifier().unwrap_or(identifier).to_string(),
            properties: convert::properties(desc.properties(), "GetResource")?,
        })
    }

    fn update(
        &self,
        type_name: &ResourceType,
        identifier: &str,
        patch: &Value,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError> {
        self.pinned()?;
        let mut ctx = self.context("UpdateResource", Some(type_name));
        ctx.resource = Some(identifier.to_string());
        let request = self
            .cloudcontrol
            .update_resource()
            .type_name(type_name.as_str())
            .identifier(identifier)
            .patch_document(patch.to_string())
            .client_token(convert::client_token(client_token));
        let out = self
            .run("UpdateResource", request.send())?
            .map_err(|e| convert::sdk_error(e, &ctx))?;
        let ev = out.progress_event().ok_or_else(|| {
            CloudError::Internal("UpdateResource: AWS returned no ProgressEvent".into())
        })?;
        convert::progress_event(ev, type_name, &ctx)
    }

    fn delete(
        &self,
        type_name: &ResourceType,
        identifier: &str,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError> {
        self.pinned()?;
        let mut ctx = self.context("DeleteResource", Some(type_name));
        ctx.resource = Some(identifier.to_string());
        let request = self
            .cloudcontrol
            .delete_resource()
            .type_name(type_name.as_str())
            .identifier(identifier)
            .client_token(convert::client_token(client_token));
        let out = self
            .run("DeleteResource", request.send())?
            .map_err(|e| convert::sdk_error(e, &ctx))?;
        let ev = out.progress_event().ok_or_else(|| {
            CloudError::Internal("DeleteResource: AWS returned no ProgressEvent".into())
        })?;
        convert::progress_event(ev, type_name, &ctx)
    }

    fn list(
        &self,
        type_name: &ResourceType,
        next_token: Option<&str>,
        resource_model: Option<&Value>,
    ) -> Result<ListPage, CloudError> {
        self.pinned()?;
        let ctx = self.context("ListResources", Some(type_name));
        let mut request = self
            .cloudcontrol
            .list_resources()
            .type_name(type_name.as_str())
            .set_next_token(next_token.map(str::to_string))
            .set_resource_model(resource_model.map(Value::to_string));
        if let Some(n) = self.list_page_size {
            request = request.max_results(n);
        }
        let out = self
            .run("ListResources", request.send())?
            .map_err(|e| convert::sdk_error(e, &ctx))?;
        let mut resources = Vec::with_capacity(out.resource_descriptions().len());
        for d in out.resource_descriptions() {
            let identifier = d.identifier().ok_or_else(|| {
                CloudError::Internal(format!(
                    "ListResources {type_name}: an entry has no Identifier"
                ))
            })?;
            resources.push(ResourceDescription {
                identifier: identifier.to_string(),
                properties: convert::properties(d.properties(), "ListResources")?,
            });
        }
        Ok(ListPage {
            type_name: type_name.clone(),
            resources,
            // An empty token is AWS's "no more pages" on some paths.
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        })
    }

    fn request_status(&self, request_token: &str) -> Result<ProgressEvent, CloudError> {
        self.pinned()?;
        let ctx = self.context("GetResourceRequestStatus", None);
        let request = self
            .cloudcontrol
            .get_resource_request_status()
            .request_token(request_token);
        let out = self
            .run("GetResourceRequestStatus", request.send())?
            .map_err(|e| convert::sdk_error(e, &ctx))?;
        let ev = out.progress_event().ok_or_else(|| {
            CloudError::Internal(format!(
                "GetResourceRequestStatus {request_token}: AWS returned no ProgressEvent"
            ))
        })?;
        let fallback = ev
            .type_name()
            .and_then(|t| ResourceType::new(t).ok())
            .ok_or_else(|| {
                CloudError::Internal(format!(
                    "GetResourceRequestStatus {request_token}: no TypeName"
                ))
            })?;
        // A failure in the event is the handler's failure at the mutation,
        // so hints name the mutation's actions, not the status call's.
        let mutation = match ev.operation().map(|o| o.as_str()) {
            Some("CREATE") => "CreateResource",
            Some("UPDATE") => "UpdateResource",
            Some("DELETE") => "DeleteResource",
            _ => "GetResourceRequestStatus",
        };
        let mut ctx = self.context(mutation, Some(&fallback));
        ctx.resource = ev.identifier().map(str::to_string);
        convert::progress_event(ev, &fallback, &ctx)
    }

    fn schema(&self, type_name: &ResourceType) -> Result<ResourceSchema, CloudError> {
        if let Ok(schema) = Catalog::builtin().get(type_name) {
            return Ok(schema.clone());
        }
        let now = SystemTime::now();
        let cached = self
            .schema_cache
            .as_ref()
            .and_then(|c| c.read(type_name, now));
        if let Some(c) = &cached
            && !c.stale
        {
            return AwsCloud::distill(type_name, &c.document);
        }
        match self.describe_type(type_name) {
            Ok(document) => {
                let schema = AwsCloud::distill(type_name, &document)?;
                if let Some(cache) = &self.schema_cache {
                    // A cache that cannot be written costs a fetch next time,
                    // not this answer.
                    let _ = cache.write(type_name, &document, now);
                }
                Ok(schema)
            }
            // A stale schema beats none while AWS cannot be reached.
            Err(e) if e.is_transient() => match cached {
                Some(c) => AwsCloud::distill(type_name, &c.document),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    fn identity(&self) -> Result<Identity, CloudError> {
        if let Ok(guard) = self.identity.lock()
            && let Some(id) = guard.as_ref()
        {
            return Ok(id.clone());
        }
        // Resolve once, name the kind from how it resolved, and sign the
        // STS call with exactly those credentials: the answer then describes
        // the credentials we reported, and an SSO login is not asked twice.
        let resolved = match &self.credentials {
            Some(provider) => {
                let provider = provider.clone();
                let result = self.run("resolve credentials", async move {
                    provider.provide_credentials().await
                })?;
                Some(result.map_err(|e| {
                    let code = infraguard_core::ErrorCode::InvalidCredentials;
                    let message =
                        format!("no usable AWS credentials: {}", convert::error_chain(&e));
                    let hint = convert::with_hint(
                        &code,
                        &message,
                        &self.context("sts:GetCallerIdentity", None),
                    );
                    CloudError::service(code, hint)
                })?)
            }
            None => None,
        };
        let auth_kind = match (&resolved, self.static_credentials) {
            (_, true) => auth::STATIC.to_string(),
            (Some(c), false) => auth::auth_kind(c),
            (None, false) => "None".to_string(),
        };
        let mut request = self.sts.get_caller_identity().customize();
        if let Some(c) = resolved {
            request = request
                .config_override(aws_sdk_sts::config::Builder::default().credentials_provider(c));
        }
        let out = self
            .run("GetCallerIdentity", request.send())?
            .map_err(|e| convert::sdk_error(e, &self.context("sts:GetCallerIdentity", None)))?;
        let identity = Identity {
            account_id: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            region: self.region.clone(),
            profile: if auth::ignores_profile(&auth_kind) {
                None
            } else {
                self.profile.clone()
            },
            auth_kind,
        };
        if let Ok(mut guard) = self.identity.lock() {
            *guard = Some(identity.clone());
        }
        Ok(identity)
    }
}
