//! The guarded workflow: plan → explain → scan → estimate → gate → apply →
//! audit. Every surface (CLI, MCP) calls these functions; the guards live
//! here and nowhere else.
//!
//! This file holds the [`Engine`] itself (what it is made of, how it is
//! built, the audit record); the stages are beside it: `planning.rs`
//! (a request becomes a plan), `approve.rs` (who decides it, with what
//! proof), `apply.rs` (sending it, waiting, recording), `locks.rs` (one
//! plan in flight per resource), `import.rs`, and `reads.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use infraguard_core::account::Account;
use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::audit::AuditRecord;
use infraguard_core::clock::Clock;
use infraguard_core::cloud::{Cloud, CloudError, Identity, ProgressEvent};
use infraguard_core::env::Environment;
use infraguard_core::money::CostEstimate;
use infraguard_core::plan::{Gate, Plan, PlanStatus};
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::actor::Actor;
use crate::api::{Caller, Factors, Level};
use crate::config::ProjectConfig;
use crate::error::EngineError;
use crate::redact::Shown;

/// How long to wait for the cloud, and how to wait. The sleep is injected so
/// tests against the local cloud never sleep for real.
#[derive(Clone)]
pub struct PollPolicy {
    pub max_polls: u32,
    /// Retries of a call that failed for a transient reason (throttling...).
    pub max_retries: u32,
    pub sleep: Arc<dyn Fn(Duration) + Send + Sync>,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            max_polls: 360,
            max_retries: 5,
            sleep: Arc::new(std::thread::sleep),
        }
    }
}

/// A request to plan one change.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanRequest {
    pub env: String,
    pub operation: Operation,
    pub type_name: String,
    /// What the resource is for (`documents`); names and the `Purpose` tag come from it.
    pub purpose: Option<String>,
    /// Desired properties (create).
    pub properties: Option<Value>,
    /// Primary identifier (update, delete).
    pub identifier: Option<String>,
    /// RFC 6902 patch (update).
    pub patch: Option<Value>,
    /// Usage overrides for the estimate (`storage_gb=50`).
    pub usage: Option<infraguard_cost::Usage>,
    /// Who asks; set by the engine from the [`Caller`], never taken from the wire.
    #[serde(skip)]
    pub actor: Actor,
}

impl PlanRequest {
    pub fn create(
        env: &str,
        type_name: &str,
        purpose: Option<&str>,
        properties: Value,
        actor: Actor,
    ) -> Self {
        PlanRequest {
            env: env.into(),
            operation: Operation::Create,
            type_name: type_name.into(),
            purpose: purpose.map(Into::into),
            properties: Some(properties),
            identifier: None,
            patch: None,
            usage: None,
            actor,
        }
    }
}

/// What `apply` did. Refusals are values, not errors: nothing went wrong,
/// the gate did its job.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApplyOutcome {
    Applied {
        plan: Box<Shown<Plan>>,
        event: ProgressEvent,
    },
    NeedsApproval {
        plan: Box<Shown<Plan>>,
        approval: Approval,
    },
    Refused {
        plan: Box<Shown<Plan>>,
        reasons: Vec<String>,
    },
}

/// Where one plan stands, and what to do next, as `list_plans` shows it:
/// small enough to list many.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanState {
    pub plan_id: String,
    pub env: String,
    pub operation: Operation,
    pub resource_type: ResourceType,
    pub identifier: Option<String>,
    pub status: PlanStatus,
    pub created_at: String,
    pub created_by: String,
    pub approval_id: Option<String>,
    pub approval_status: Option<ApprovalStatus>,
    pub approval_expires_at: Option<String>,
    pub approval_expired: bool,
    /// The Cloud Control request, once sent.
    pub request_token: Option<String>,
    /// The client token every (re)send of this plan uses.
    pub client_token: Option<String>,
    pub error: Option<String>,
    pub next_step: String,
}

/// One environment as `infraguard envs` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnvReport {
    #[serde(flatten)]
    pub env: Environment,
    pub identity: Option<Identity>,
    pub error: Option<String>,
}

pub struct Engine<C: Cloud, S: Store> {
    pub(crate) config: ProjectConfig,
    pub(crate) clouds: BTreeMap<String, C>,
    pub(crate) store: S,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) usage_file: Option<infraguard_cost::UsageFile>,
    pub(crate) poll: PollPolicy,
    /// Key of the HMAC that signs chain tokens (per project).
    pub(crate) signing_key: Vec<u8>,
    /// Live prices (the AWS Price List API, cached) asked before the
    /// embedded catalog; `None` uses the catalog alone.
    pub(crate) prices: Option<Arc<dyn infraguard_cost::PriceSource + Send + Sync>>,
    /// How far approvals here can be trusted; `Advisory` unless a guard
    /// hosts this engine.
    pub(crate) level: Level,
    /// The approvers' factors, when a guard hosts this engine.
    pub(crate) factors: Option<Arc<dyn Factors>>,
    /// The OS account the hosting guard runs as (doctor compares callers with it).
    pub(crate) host_uid: Option<u32>,
    /// The approval page's URL for a pending approval, when the hosting
    /// process serves pages.
    pub(crate) page_urls: Option<PageUrls>,
    /// The account-level AWS calls of each AWS environment (STS, IAM,
    /// CloudTrail), as the approver's credentials make them.
    pub(crate) accounts: BTreeMap<String, Arc<dyn Account>>,
}

/// A create's estimate, with the gate's preview of the plan it would be.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Estimate {
    pub cost: CostEstimate,
    /// What the gate would decide (`approval_id` is always `None`: nothing
    /// was planned).
    pub gate: Option<Gate>,
    /// Why there is no preview.
    pub no_gate: Option<String>,
}

/// Makes the one-time approval page URL of a pending approval.
pub type PageUrls = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub(crate) fn new_id(prefix: &str) -> Result<String, EngineError> {
    let id = crate::hash::random_hex(6)
        .map_err(|e| EngineError::Config(format!("no randomness available: {e}")))?;
    Ok(format!("{prefix}-{id}"))
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// `clouds` maps environment names to their cloud; every configured
    /// environment must have one.
    pub fn new(
        config: ProjectConfig,
        clouds: BTreeMap<String, C>,
        store: S,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, EngineError> {
        for e in &config.environments {
            if !clouds.contains_key(&e.name) {
                return Err(EngineError::Config(format!(
                    "no cloud backend was opened for environment `{}`",
                    e.name
                )));
            }
        }
        Ok(Engine {
            config,
            clouds,
            store,
            clock,
            usage_file: None,
            poll: PollPolicy::default(),
            signing_key: Vec::new(),
            prices: None,
            level: Level::Advisory,
            factors: None,
            host_uid: None,
            page_urls: None,
            accounts: BTreeMap::new(),
        })
    }

    pub fn with_usage_file(mut self, usage: infraguard_cost::UsageFile) -> Self {
        self.usage_file = Some(usage);
        self
    }

    /// The per-project secret that signs chain tokens. Without one, token
    /// steps refuse to run.
    pub fn with_signing_key(mut self, key: Vec<u8>) -> Self {
        self.signing_key = key;
        self
    }

    /// Ask `prices` (e.g. the AWS Price List API) before the embedded
    /// catalog; estimates name the prices that came from it.
    pub fn with_price_source(
        mut self,
        prices: Arc<dyn infraguard_cost::PriceSource + Send + Sync>,
    ) -> Self {
        self.prices = Some(prices);
        self
    }

    /// Hosted by the guard: approvals need a code that `factors` accepts,
    /// and confirmations no longer count. `host_uid` is the guard's own OS
    /// account.
    pub fn guarded(mut self, factors: Arc<dyn Factors>, host_uid: u32) -> Self {
        self.level = Level::Guarded;
        self.factors = Some(factors);
        self.host_uid = Some(host_uid);
        self
    }

    /// `env`'s account calls (STS for MFA sessions, IAM for doctor,
    /// CloudTrail for the audit cross-check).
    pub fn with_account(mut self, env: &str, account: Arc<dyn Account>) -> Self {
        self.accounts.insert(env.to_string(), account);
        self
    }

    pub(crate) fn account(&self, env: &str) -> Result<&dyn Account, EngineError> {
        self.accounts.get(env).map(|a| a.as_ref()).ok_or_else(|| {
            EngineError::Config(format!(
                "no AWS account connection was opened for `{env}`: it needs `backend = \"aws\"`"
            ))
        })
    }

    /// The hosting process serves approval pages; `urls` makes one's URL.
    pub fn with_page_urls(mut self, urls: PageUrls) -> Self {
        self.page_urls = Some(urls);
        self
    }

    /// The approval page of a pending approval, if this process serves pages.
    pub fn page_url(&self, approval_id: &str) -> Result<Option<String>, EngineError> {
        let a = self
            .store
            .approval(approval_id)?
            .ok_or_else(|| EngineError::ApprovalNotFound(approval_id.into()))?;
        if a.status != ApprovalStatus::Pending {
            return Ok(None);
        }
        Ok(self.page_urls.as_ref().and_then(|f| f(approval_id)))
    }

    pub fn level(&self) -> Level {
        self.level
    }

    /// The level `env`'s approvals are held to: `aws-enforced` where it has
    /// an approval role (AWS checks the MFA code), else the engine's own.
    /// `doctor` checks that AWS really refuses the agent's writes there.
    pub fn level_of(&self, env: &str) -> Level {
        match self.config.environment(env) {
            Ok(e) if e.approval_role.is_some() => Level::AwsEnforced,
            _ => self.level,
        }
    }

    /// The actor the audit log names for a caller: never a human.
    pub(crate) fn requester(&self, caller: &Caller) -> Actor {
        Actor::agent(&caller.name, &caller.channel_label())
    }

    pub fn with_poll_policy(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    pub fn config(&self) -> &ProjectConfig {
        &self.config
    }

    /// The store; outside the crate only for tests (the `testing` feature).
    #[cfg(feature = "testing")]
    pub fn store(&self) -> &S {
        &self.store
    }
    #[cfg(not(feature = "testing"))]
    pub(crate) fn store(&self) -> &S {
        &self.store
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The cloud of `env`; outside the crate only for tests (the `testing`
    /// feature): every change goes through the gate.
    #[cfg(feature = "testing")]
    pub fn cloud(&self, env: &str) -> Result<&C, EngineError> {
        self.cloud_of(env)
    }
    #[cfg(not(feature = "testing"))]
    pub(crate) fn cloud(&self, env: &str) -> Result<&C, EngineError> {
        self.cloud_of(env)
    }

    fn cloud_of(&self, env: &str) -> Result<&C, EngineError> {
        self.config.environment(env)?;
        self.clouds
            .get(env)
            .ok_or_else(|| EngineError::Config(format!("no cloud for `{env}`")))
    }

    pub(crate) fn now(&self) -> String {
        self.clock.now().rfc3339()
    }

    /// A write that reached a read-only Cloud Control wire endpoint
    /// (`infraguard cloud serve` of a guarded project or a read-only
    /// environment): refused, whoever asks, and audited.
    pub fn wire_write(
        &self,
        caller: &Caller,
        env: &str,
        operation: &str,
        type_name: &str,
        identifier: Option<&str>,
    ) -> Result<(), EngineError> {
        self.config.environment(env)?;
        self.host_event(
            caller,
            "wire.write_refused",
            "refused",
            serde_json::json!({"env": env, "operation": operation, "type": type_name, "identifier": identifier}),
        )?;
        Err(EngineError::WireWrite {
            env: env.into(),
            operation: operation.into(),
            type_name: type_name.into(),
        })
    }

    /// Record something the hosting process did for this project (adopted
    /// it, ignored a looser workspace value) in the project's audit log.
    pub fn host_event(
        &self,
        caller: &Caller,
        action: &str,
        outcome: &str,
        details: Value,
    ) -> Result<(), EngineError> {
        let rec = self.record(
            &self.requester(caller),
            action,
            None,
            None,
            outcome,
            details,
        );
        Ok(self.store.append_audit(&[rec])?)
    }

    pub(crate) fn record(
        &self,
        actor: &Actor,
        action: &str,
        env: Option<&str>,
        plan: Option<&Plan>,
        outcome: &str,
        details: Value,
    ) -> AuditRecord {
        AuditRecord {
            at: self.now(),
            actor: actor.to_string(),
            action: action.into(),
            env: env.map(Into::into),
            plan_id: plan.map(|p| p.id.clone()),
            content_hash: plan.map(|p| p.content_hash.clone()),
            outcome: outcome.into(),
            details,
        }
    }

    pub(crate) fn cloud_error(
        &self,
        env: &str,
        op: &str,
        t: &ResourceType,
        id: Option<&str>,
        e: CloudError,
    ) -> EngineError {
        EngineError::Cloud {
            env: env.into(),
            operation: op.into(),
            type_name: t.to_string(),
            identifier: id.map(Into::into),
            source: Box::new(e),
        }
    }

    // ----- reading -------------------------------------------------------
}

/// One line saying what a plan does.
pub fn summary(plan: &Plan) -> String {
    format!(
        "{} {} `{}` in {} ({}/month)",
        plan.operation,
        plan.type_name,
        plan.identifier.as_deref().unwrap_or("(generated name)"),
        plan.env,
        plan.cost.monthly_usd
    )
}
