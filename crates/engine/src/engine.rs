//! The guarded workflow: plan → explain → scan → estimate → gate → apply →
//! audit. Every surface (CLI, MCP) calls these functions; the guards live
//! here and nowhere else.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use infraguard_core::Finding;
use infraguard_core::account::Account;
use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::audit::{AuditEntry, AuditRecord};
use infraguard_core::clock::Clock;
use infraguard_core::cloud::{
    Cloud, CloudError, Identity, ListPage, OperationStatus, ProgressEvent, ResourceDescription,
};
use infraguard_core::env::Environment;
use infraguard_core::money::CostEstimate;
use infraguard_core::plan::{ApplyRecord, Gate, GateDecision, Plan, PlanStatus};
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_core::schema::{ResourceSchema, pointer_touches};
use infraguard_core::store::{AppliedState, Store};
use infraguard_core::template::{Template, logical_id};
use infraguard_schema::Catalog;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::actor::Actor;
use crate::api::{Caller, Factors, Level, Proof};
use crate::audit::{self, Verification};
use crate::config::{ProjectConfig, normalize_purpose};
use crate::error::EngineError;
use crate::explain::explain;
use crate::gate::{self, GateInput};
use crate::hash::{hex, keyed_hash};
use crate::redact::{self, Shown};
use crate::tags;

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

/// Makes the one-time approval page URL of a pending approval.
pub type PageUrls = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

pub(crate) fn new_id(prefix: &str) -> Result<String, EngineError> {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b)
        .map_err(|e| EngineError::Config(format!("no randomness available: {e}")))?;
    Ok(format!("{prefix}-{}", hex(&b)))
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

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn cloud(&self, env: &str) -> Result<&C, EngineError> {
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

    fn cloud_error(
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

    pub fn environments(&self) -> Vec<EnvReport> {
        self.config
            .environments
            .iter()
            .map(|e| {
                let (identity, error) = match self.clouds.get(&e.name).map(|c| c.identity()) {
                    Some(Ok(id)) => (Some(id), None),
                    Some(Err(err)) => (None, Some(err.to_string())),
                    None => (None, Some("no backend opened".into())),
                };
                EnvReport {
                    env: e.clone(),
                    identity,
                    error,
                }
            })
            .collect()
    }

    pub fn schema(&self, type_name: &str) -> Result<&'static ResourceSchema, EngineError> {
        Ok(Catalog::builtin().lookup(type_name)?)
    }

    pub fn get_resource(
        &self,
        env: &str,
        type_name: &str,
        identifier: &str,
    ) -> Result<ResourceDescription, EngineError> {
        let schema = self.schema(type_name)?;
        let cloud = self.cloud(env)?;
        self.with_retries(|| cloud.get(&schema.type_name, identifier))
            .map_err(|e| self.cloud_error(env, "get", &schema.type_name, Some(identifier), e))
    }

    pub fn list_page(
        &self,
        env: &str,
        type_name: &str,
        next_token: Option<&str>,
    ) -> Result<ListPage, EngineError> {
        let schema = self.schema(type_name)?;
        let cloud = self.cloud(env)?;
        self.with_retries(|| cloud.list(&schema.type_name, next_token, None))
            .map_err(|e| self.cloud_error(env, "list", &schema.type_name, None, e))
    }

    /// Every resource of one type (all pages), or of every supported type.
    pub fn list_resources(
        &self,
        env: &str,
        type_name: Option<&str>,
    ) -> Result<Vec<(ResourceType, ResourceDescription)>, EngineError> {
        let types: Vec<ResourceType> = match type_name {
            Some(t) => vec![self.schema(t)?.type_name.clone()],
            None => Catalog::builtin().types().into_iter().cloned().collect(),
        };
        let mut out = Vec::new();
        for t in types {
            let mut next: Option<String> = None;
            loop {
                let page = self.list_page(env, t.as_str(), next.as_deref())?;
                out.extend(page.resources.into_iter().map(|r| (t.clone(), r)));
                next = page.next_token;
                if next.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    pub fn request_status(
        &self,
        env: &str,
        request_token: &str,
    ) -> Result<ProgressEvent, EngineError> {
        self.cloud(env)?
            .request_status(request_token)
            .map_err(|e| EngineError::Cloud {
                env: env.into(),
                operation: "get request status".into(),
                type_name: "request".into(),
                identifier: Some(request_token.into()),
                source: Box::new(e),
            })
    }

    /// A plan as callers may show it (secrets redacted).
    pub fn plan_by_id(&self, id: &str) -> Result<Shown<Plan>, EngineError> {
        Ok(Shown::new(self.load_plan(id)?))
    }

    /// The stored plan with its real content, for the engine's own use.
    pub(crate) fn load_plan(&self, id: &str) -> Result<Plan, EngineError> {
        self.store
            .plan(id)?
            .ok_or_else(|| EngineError::PlanNotFound(id.into()))
    }

    pub fn plans(&self, env: Option<&str>, limit: usize) -> Result<Shown<Vec<Plan>>, EngineError> {
        if let Some(e) = env {
            self.config.environment(e)?;
        }
        Ok(Shown::new(self.store.plans(env, limit)?))
    }

    /// Approvals, oldest first. Asked for `pending` ones, those whose time
    /// ran out are left out: nobody can grant them any more.
    /// Where one plan stands and what to do next.
    pub fn plan_state(&self, plan_id: &str) -> Result<PlanState, EngineError> {
        let plan = self.plan_by_id(plan_id)?;
        self.state_of(&plan)
    }

    /// The newest plans (of one environment, in one status), where each
    /// stands. `applying` ones are those whose apply was cut short.
    pub fn plan_states(
        &self,
        env: Option<&str>,
        status: Option<PlanStatus>,
        limit: usize,
    ) -> Result<Vec<PlanState>, EngineError> {
        let fetch = if status.is_some() { 10_000 } else { limit };
        let plans = self.plans(env, fetch)?;
        plans
            .iter()
            .filter(|p| status.is_none_or(|s| p.status == s))
            .take(limit)
            .map(|p| self.state_of(p))
            .collect()
    }

    fn state_of(&self, plan: &Plan) -> Result<PlanState, EngineError> {
        let approval = self.store.approval_for_plan(&plan.id)?;
        let expired = approval.as_ref().and_then(|a| self.expired(a));
        let rec = plan.applied.as_ref();
        let id = &plan.id;
        let replan = "plan the change again (generate_infrastructure_code, or `infraguard plan`) if it is still wanted";
        let next_step = match (plan.status, &approval) {
            (PlanStatus::Applying, _) => format!(
                "its apply was cut short (the process applying it stopped): finish it with resume_plan (plan_id {id}) or `infraguard apply {id}`, or call the mutation tool again with the same tokens. Each re-sends client token infraguard-{id}, so the cloud acts once. Do not plan it again: a new plan would make a second resource"
            ),
            (PlanStatus::Applied, _) => format!(
                "applied: {} `{}` in {}",
                plan.type_name,
                rec.and_then(|r| r.identifier.as_deref())
                    .or(plan.identifier.as_deref())
                    .unwrap_or("?"),
                plan.env
            ),
            (PlanStatus::Failed, _) => format!(
                "failed ({}): the cloud changed nothing for it; {replan}",
                rec.and_then(|r| r.message.as_deref())
                    .unwrap_or("no message")
            ),
            (PlanStatus::Discarded, _) => format!("discarded after its scan; {replan}"),
            (PlanStatus::Planned, Some(a)) if a.status == ApprovalStatus::Denied => {
                format!("approval {} was denied; {replan}", a.id)
            }
            (PlanStatus::Planned, Some(a)) if expired.is_some() => format!(
                "approval {} expired at {}: it can no longer be granted or applied; {replan}",
                a.id,
                expired.as_deref().unwrap_or("?")
            ),
            (PlanStatus::Planned, Some(a)) if a.status == ApprovalStatus::Pending => format!(
                "waiting for a human: `infraguard approve {}` (or the approval page); then the mutation tool again with the same tokens, or `infraguard apply {id}`",
                a.id
            ),
            (PlanStatus::Planned, _) => format!(
                "not sent yet: apply it with the mutation tool and its tokens, or `infraguard apply {id}`"
            ),
        };
        Ok(PlanState {
            plan_id: plan.id.clone(),
            env: plan.env.clone(),
            operation: plan.operation,
            resource_type: plan.type_name.clone(),
            identifier: rec
                .and_then(|r| r.identifier.clone())
                .or_else(|| plan.identifier.clone()),
            status: plan.status,
            created_at: plan.created_at.clone(),
            created_by: plan.created_by.clone(),
            approval_id: approval.as_ref().map(|a| a.id.clone()),
            approval_status: approval.as_ref().map(|a| a.status),
            approval_expires_at: approval
                .as_ref()
                .and_then(|a| self.approval_expiry(a))
                .map(|t| t.rfc3339()),
            approval_expired: expired.is_some(),
            request_token: rec
                .map(|r| r.request_token.clone())
                .filter(|t| !t.is_empty()),
            client_token: rec.map(|r| r.client_token.clone()),
            error: rec
                .and_then(|r| r.message.clone())
                .filter(|_| plan.status == PlanStatus::Failed),
            next_step,
        })
    }

    pub fn approvals(&self, status: Option<ApprovalStatus>) -> Result<Vec<Approval>, EngineError> {
        let mut list = self.store.approvals(status)?;
        if status == Some(ApprovalStatus::Pending) {
            list.retain(|a| self.expired(a).is_none());
        }
        Ok(list)
    }

    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, EngineError> {
        Ok(self.store.audit_log()?)
    }

    pub fn audit_verify(&self) -> Result<Verification, EngineError> {
        Ok(audit::verify(
            &self.store.audit_key(),
            &self.store.audit_log()?,
        ))
    }

    /// A cost estimate without a plan (the MCP `estimate_cost` tool).
    pub fn estimate_only(
        &self,
        env: &str,
        type_name: &str,
        properties: &Value,
        usage: Option<&infraguard_cost::Usage>,
    ) -> Result<CostEstimate, EngineError> {
        let env = self.config.environment(env)?.clone();
        let schema = self.schema(type_name)?;
        let name = schema
            .name_property
            .as_ref()
            .and_then(|np| properties.get(np))
            .and_then(Value::as_str);
        self.estimate(&schema.type_name, properties, &env, name, None, usage)
    }

    // ----- planning ------------------------------------------------------

    /// The tag standard for a new resource in `env`: the tracking tags
    /// infraguard owns (what environment, what it costs, where it stands in
    /// promotion: reports read them, so a given value is replaced), and the
    /// defaults that fill only tags the user did not give (the project's
    /// `[tags]`, then who and when).
    fn standard_tags(
        &self,
        env: &Environment,
        purpose: Option<&str>,
        actor: &Actor,
        cost: &CostEstimate,
    ) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let mut owned = BTreeMap::new();
        owned.insert(tags::ENVIRONMENT.to_string(), env.tag_value.clone());
        owned.insert(tags::COST_ESTIMATE.to_string(), cost.tag_value());
        if !env.read_only && env.tag_value == "development" {
            owned.insert(tags::PROMOTION_STATUS.to_string(), "dev-only".into());
        }
        let mut defaults = self.config.tags.clone();
        for (k, v) in [
            (tags::CREATED_BY, actor.name.clone()),
            (tags::CREATED_DATE, self.clock.now().date()),
            (
                tags::MCP_SERVER_VERSION,
                env!("CARGO_PKG_VERSION").to_string(),
            ),
        ] {
            defaults.entry(k.to_string()).or_insert(v);
        }
        if let Some(p) = purpose {
            defaults
                .entry(tags::PURPOSE.to_string())
                .or_insert_with(|| p.to_string());
        }
        for k in owned.keys() {
            defaults.remove(k);
        }
        (owned, defaults)
    }

    /// Bring a resource infraguard did not create under tracking: a plan of
    /// an update that adds the tag standard (the tracking tags it owns, and
    /// the defaults the resource lacks), gated like any change. Once applied
    /// it is in sync, drift and the cost review like the rest, with that
    /// plan as its baseline.
    pub fn plan_import(
        &self,
        env: &str,
        type_name: &str,
        identifier: &str,
        actor: &Actor,
    ) -> Result<Shown<Plan>, EngineError> {
        let environment = self.config.environment(env)?.clone();
        let schema = self.schema(type_name)?;
        let t = schema.type_name.clone();
        if schema.tagging == infraguard_core::schema::TagStyle::None {
            return Err(EngineError::InvalidInput(format!(
                "{t} cannot carry tags, so there is nothing to import: infraguard already lists it, and pairs it with its counterpart by name"
            )));
        }
        let cloud = self.cloud(env)?;
        let current = self
            .with_retries(|| cloud.get(&t, identifier))
            .map_err(|e| self.cloud_error(env, "read", &t, Some(identifier), e))?;
        let name = schema
            .name_property
            .as_ref()
            .and_then(|np| current.properties.get(np))
            .and_then(Value::as_str)
            .map(str::to_string);
        let cost = self.estimate(
            &t,
            &current.properties,
            &environment,
            name.as_deref(),
            None,
            None,
        )?;
        let (mut owned, mut defaults) = self.standard_tags(&environment, None, actor, &cost);
        // Where a promotion stands is the promotion's to say: an import
        // fills it in when missing, never resets it.
        if let Some(status) = owned.remove(tags::PROMOTION_STATUS) {
            defaults.insert(tags::PROMOTION_STATUS.to_string(), status);
        }
        let present = tags::read(&current.properties, &schema.tagging);
        let mut wanted = present.clone();
        for (k, v) in defaults {
            wanted.entry(k).or_insert(v);
        }
        wanted.extend(owned);
        if wanted == present {
            return Err(EngineError::InvalidInput(format!(
                "{t} `{identifier}` in {env} already carries the tag standard: it is tracked (`infraguard sync`)"
            )));
        }
        let op =
            tags::patch_op(&current.properties, &schema.tagging, &wanted).ok_or_else(|| {
                EngineError::InvalidInput(format!("{t} `{identifier}`: its tags cannot be written"))
            })?;
        self.plan(PlanRequest {
            env: env.to_string(),
            operation: Operation::Update,
            type_name: t.to_string(),
            purpose: None,
            properties: None,
            identifier: Some(identifier.to_string()),
            patch: Some(Value::Array(vec![op])),
            usage: None,
            actor: actor.clone(),
        })
    }

    /// The conventional name for a new resource of `schema`'s type.
    fn conventional_name(&self, schema: &ResourceSchema, purpose: &str, env: &str) -> String {
        let t = &schema.type_name;
        if t.service() == "IAM" && matches!(t.resource(), "ManagedPolicy" | "Policy") {
            // SynthCoreAI-{Service}-{Actions}: "s3 file upload" -> SynthCoreAI-S3-FileUpload.
            let words: Vec<String> = normalize_purpose(purpose)
                .split('-')
                .map(str::to_string)
                .collect();
            let (service, rest) = words
                .split_first()
                .map(|(s, r)| (s.clone(), r.to_vec()))
                .unwrap_or_default();
            let service = if service.len() <= 4 {
                service.to_ascii_uppercase()
            } else {
                capitalize(&service)
            };
            let actions: String = rest.iter().map(|w| capitalize(w)).collect();
            if actions.is_empty() {
                format!("{}-{service}", self.config.iam_prefix)
            } else {
                format!("{}-{service}-{actions}", self.config.iam_prefix)
            }
        } else if t.as_str() == "AWS::SecretsManager::Secret" {
            // {prefix}/{purpose}: synthcoreai/ses-credentials (the policy
            // crate's naming rule for secrets).
            format!("{}/{}", self.config.prefix, normalize_purpose(purpose))
        } else {
            self.config.conventional_name(purpose, env)
        }
    }

    fn estimate(
        &self,
        t: &ResourceType,
        props: &Value,
        env: &Environment,
        name: Option<&str>,
        purpose: Option<&str>,
        usage: Option<&infraguard_cost::Usage>,
    ) -> Result<CostEstimate, EngineError> {
        let file_usage = self
            .usage_file
            .as_ref()
            .map(|f| f.for_resource(name, purpose.map(normalize_purpose).as_deref()))
            .unwrap_or_default();
        let merged = match usage {
            Some(u) => infraguard_cost::Usage::merged(&file_usage, u),
            None => file_usage,
        };
        infraguard_cost::estimate_with(
            self.prices
                .as_deref()
                .map(|p| p as &dyn infraguard_cost::PriceSource),
            t,
            props,
            &env.region,
            &merged,
        )
        .map_err(|e| EngineError::InvalidInput(e.to_string()))
    }

    /// The built-in scanner, and Checkov too when the project asks for it
    /// and it is installed. Checkov never blocks: when it is missing or
    /// fails, a note says so and the built-in findings stand.
    fn scan(
        &self,
        template: &Template,
        env: &Environment,
        notes: &mut Vec<String>,
    ) -> Vec<Finding> {
        if !env.scanning {
            return Vec::new();
        }
        let options = infraguard_policy::ScanOptions {
            today: self.clock.now().date(),
            naming: Some(infraguard_policy::NamingContext {
                prefix: self.config.prefix.clone(),
                env: env.name.clone(),
                iam_prefix: self.config.iam_prefix.clone(),
            }),
            accounts: self.account_context(&env.name),
            ..Default::default()
        };
        let mut findings = infraguard_policy::scan_for_cloud_control(template, &options).findings;
        if self.config.checkov {
            match run_checkov_on(template) {
                Ok(extra) => {
                    let before = findings.len();
                    infraguard_policy::merge_checkov(&mut findings, extra);
                    notes.push(format!(
                        "Checkov also scanned the template ({} finding(s) it alone reported)",
                        findings.len() - before
                    ));
                }
                Err(e) => notes.push(format!(
                    "Checkov was not run: {e}; the built-in scanner's findings stand"
                )),
            }
        }
        findings
    }

    /// The accounts ARNs in `env` may name: its own (when the cloud says
    /// which) and the project's shared ones.
    pub(crate) fn account_context(&self, env: &str) -> Option<infraguard_policy::AccountContext> {
        let own = self.cloud(env).ok()?.identity().ok()?.account_id;
        Some(infraguard_policy::AccountContext {
            own,
            shared: self.config.shared_accounts.clone(),
        })
    }

    /// Make a plan: everything about one change, persisted, with the gate's
    /// decision and (when a human is needed) a pending approval. No cloud is
    /// changed; update and delete read the current resource.
    pub fn plan(&self, req: PlanRequest) -> Result<Shown<Plan>, EngineError> {
        let env = self.config.environment(&req.env)?.clone();
        let schema = Catalog::builtin().lookup(&req.type_name)?;
        let t = schema.type_name.clone();
        let purpose = req
            .purpose
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if let Some(p) = purpose
            && normalize_purpose(p).is_empty()
        {
            return Err(EngineError::InvalidInput(format!(
                "purpose `{p}` has no letters or digits: describe what the resource is for, e.g. `documents`"
            )));
        }
        let mut notes = Vec::new();
        // The live properties an update or delete is made against.
        let mut basis_props = Value::Null;

        let (identifier, desired, patch) = match req.operation {
            Operation::Create => {
                let mut props = req.properties.clone().unwrap_or_else(|| json!({}));
                if !props.is_object() {
                    return Err(EngineError::InvalidInput(format!(
                        "properties must be a JSON object like {{\"BucketName\": \"...\"}}, got {}",
                        brief_json(&props)
                    )));
                }
                if req.identifier.is_some() || req.patch.is_some() {
                    return Err(EngineError::InvalidInput(
                        "a create takes properties, not an identifier or patch; use --operation update for an existing resource".into(),
                    ));
                }
                if let Some(np) = &schema.name_property
                    && props.get(np).is_none()
                {
                    match purpose {
                        Some(p) => {
                            let name = self.conventional_name(schema, p, &env.name);
                            notes.push(format!("{np} `{name}` follows the naming convention"));
                            props[np.as_str()] = Value::String(name);
                        }
                        None => {
                            return Err(EngineError::InvalidInput(format!(
                                "{t} needs a name: give --purpose (it is named `{}`) or set {np} in the properties",
                                self.config.conventional_name("<purpose>", &env.name)
                            )));
                        }
                    }
                }
                secure_defaults(&t, &mut props, &mut notes);
                // Validate before estimating so a typo is reported as such.
                let problems = infraguard_schema::validate_create(schema, &props);
                if !problems.is_empty() {
                    return Err(EngineError::InvalidProperties {
                        type_name: t.to_string(),
                        problems: problems.into_iter().map(|p| p.message).collect(),
                    });
                }
                let id = schema.identifier_of(&props);
                if let Some(id) = &id
                    && self.cloud(&env.name)?.get(&t, id).is_ok()
                {
                    return Err(EngineError::InvalidInput(format!(
                        "{t} `{id}` already exists in {}: choose another name (another --purpose, or set the name property), or change the existing one with --operation update --id {id}",
                        env.name
                    )));
                }
                (id, props, None)
            }
            Operation::Update | Operation::Delete => {
                let id = req.identifier.clone().filter(|i| !i.trim().is_empty()).ok_or_else(|| {
                    EngineError::InvalidInput(format!(
                        "an {} needs the resource's identifier (--id); list them with `infraguard resources list --env {} --type {t}`",
                        req.operation, env.name
                    ))
                })?;
                if req.properties.is_some() {
                    return Err(EngineError::InvalidInput(format!(
                        "an {} does not take properties: describe the change as an RFC 6902 patch (--patch)",
                        req.operation
                    )));
                }
                let current = self
                    .cloud(&env.name)?
                    .get(&t, &id)
                    .map_err(|e| self.cloud_error(&env.name, "read", &t, Some(&id), e))?;
                basis_props = current.properties.clone();
                if req.operation == Operation::Delete {
                    if req.patch.is_some() {
                        return Err(EngineError::InvalidInput("a delete takes no patch".into()));
                    }
                    (Some(id), current.properties, None)
                } else {
                    let patch = req.patch.clone().ok_or_else(|| {
                        EngineError::InvalidInput(
                            "an update needs a patch: --patch '[{\"op\":\"replace\",\"path\":\"/Prop\",\"value\":...}]'".into(),
                        )
                    })?;
                    let patch = tags::translate_patch(&current.properties, &schema.tagging, &patch);
                    let desired = self.patched(schema, &id, &current.properties, &patch)?;
                    (Some(id), desired, Some(patch))
                }
            }
        };

        // A plaintext access key is refused outright, before anything is
        // estimated or stored: no approval can make it safe to keep one in
        // a template (a delete only removes what is already there).
        let carried = match req.operation {
            Operation::Create => Some(&desired),
            Operation::Update => patch.as_ref(),
            Operation::Delete => None,
        };
        if let Some(v) = carried {
            let at = redact::access_keys(v);
            if !at.is_empty() {
                return Err(EngineError::PlaintextAccessKey {
                    type_name: t.to_string(),
                    pointers: at,
                });
            }
        }

        let name = schema
            .name_property
            .as_ref()
            .and_then(|np| desired.get(np))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| identifier.clone());
        let mut desired = desired;
        let cost = self.estimate(
            &t,
            &desired,
            &env,
            name.as_deref(),
            purpose,
            req.usage.as_ref(),
        )?;
        if req.operation == Operation::Create {
            let (owned, defaults) = self.standard_tags(&env, purpose, &req.actor, &cost);
            let filled = tags::apply_defaults(&mut desired, &schema.tagging, &defaults);
            for k in tags::apply(&mut desired, &schema.tagging, &owned) {
                notes.push(format!(
                    "tag {k} is infraguard's tracking tag: the value given was replaced by `{}`",
                    owned[&k]
                ));
            }
            if schema.tagging != infraguard_core::schema::TagStyle::None {
                let set: Vec<String> = owned
                    .iter()
                    .chain(defaults.iter().filter(|(k, _)| filled.contains(k)))
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                notes.push(format!(
                    "infraguard set these tags: {} (the tags given are kept)",
                    set.join(", ")
                ));
            }
            if schema.tagging == infraguard_core::schema::TagStyle::None {
                notes.push(format!(
                    "{t} cannot carry tags: tracking for it relies on infraguard's own records"
                ));
            }
        }

        let logical = logical_id(&t, purpose);
        let stateful = infraguard_policy::is_stateful(t.as_str());
        if stateful && req.operation == Operation::Delete {
            let id = identifier.as_deref().unwrap_or("?");
            // Deletion protection makes the cloud refuse the delete: say so
            // now, and make turning it off a change of its own.
            if let Some((key, off)) = deletion_protection(&t, &desired) {
                return Err(EngineError::InvalidInput(format!(
                    "{t} `{id}` in {} has deletion protection on ({key}), so the delete would be refused. To delete it, first plan turning it off as its own gated change: `infraguard plan --env {} --type {t} --operation update --id {id} --patch '[{{\"op\":\"replace\",\"path\":\"/{key}\",\"value\":{off}}}]'`, apply that, then plan the delete. Cloud Control takes no snapshot: {}. Nothing was planned",
                    env.name,
                    env.name,
                    snapshot_hint(&t, id)
                )));
            }
            notes.push(format!(
                "{t} holds data: this delete destroys it, and Cloud Control takes no snapshot (a DeletionPolicy is not honoured through Cloud Control): {}",
                snapshot_hint(&t, id)
            ));
        } else if stateful {
            notes.push(format!(
                "{t} holds data: a later delete through Cloud Control takes no snapshot (there is no DeletionPolicy outside CloudFormation stacks); infraguard asks again before any delete"
            ));
        }
        let description = format!(
            "infraguard {} of {t} in {} ({})",
            req.operation, env.name, self.config.project
        );
        let template = Template::single(&logical, &t, &desired, &description, None);
        let findings = self.scan(&template, &env, &mut notes);
        if !env.scanning {
            notes.push(format!("security scanning is disabled for {}", env.name));
        }

        let (decision, mut reasons) = gate::decide(&GateInput {
            env: &env,
            operation: req.operation,
            cost: &cost,
            findings: &findings,
            threshold: self.config.cost_threshold,
            block_at: self.config.block_findings_at,
            scanned: env.scanning,
        });
        if stateful && req.operation == Operation::Delete && decision != GateDecision::Auto {
            // The person approving is told in the approval itself.
            reasons.push(format!(
                "deleting {t} destroys its data: Cloud Control takes no snapshot"
            ));
        }
        let id = new_id("plan")?;
        let approval_id = if decision == GateDecision::Auto {
            None
        } else {
            Some(new_id("apr")?)
        };
        let mut plan = Plan {
            id,
            env: env.name.clone(),
            operation: req.operation,
            type_name: t.clone(),
            identifier,
            logical_id: logical,
            purpose: purpose.map(str::to_string),
            desired_state: desired,
            patch,
            template,
            explanation: String::new(),
            findings,
            cost,
            gate: Gate {
                decision,
                reasons,
                approval_id: approval_id.clone(),
            },
            content_hash: String::new(),
            created_at: self.now(),
            created_by: req.actor.to_string(),
            status: PlanStatus::Planned,
            applied: None,
            basis: None,
        };
        plan.explanation = explain(
            &Shown::new(plan.clone()),
            &env,
            &notes,
            schema.tagging.property(),
        );
        plan.basis = match (&plan.identifier, req.operation) {
            (Some(_), Operation::Create) => Some(ABSENT.to_string()),
            (Some(_), _) => Some(basis_of(schema, &basis_props)),
            (None, _) => None,
        };
        plan.content_hash = self.content_hash_of(&plan);

        let approval = approval_id.map(|aid| Approval {
            id: aid,
            plan_id: plan.id.clone(),
            env: env.name.clone(),
            content_hash: plan.content_hash.clone(),
            status: ApprovalStatus::Pending,
            reasons: plan.gate.reasons.clone(),
            summary: summary(&plan),
            requested_at: plan.created_at.clone(),
            expires_at: Some(self.approval_deadline()),
            requested_by: req.actor.to_string(),
            decided_at: None,
            decided_by: None,
            note: None,
        });
        let mut audit = vec![self.record(
            &req.actor,
            "plan.created",
            Some(&env.name),
            Some(&plan),
            "ok",
            json!({
                "operation": plan.operation,
                "type": plan.type_name,
                "identifier": plan.identifier,
                "decision": plan.gate.decision.as_str(),
                "reasons": plan.gate.reasons,
                "monthly_usd": plan.cost.monthly_usd,
                "findings": plan.findings.len(),
                "open_findings": plan.open_findings().count(),
            }),
        )];
        for f in plan.findings.iter().filter(|f| !f.is_open()) {
            if let Some(s) = &f.suppressed {
                audit.push(self.record(
                    &req.actor,
                    "finding.suppressed",
                    Some(&env.name),
                    Some(&plan),
                    "ok",
                    json!({"rule": f.rule, "checkov_id": f.checkov_id, "resource": f.resource, "source": s.source, "reason": s.reason}),
                ));
            }
        }
        if let Some(a) = &approval {
            audit.push(self.record(
                &req.actor,
                "approval.requested",
                Some(&env.name),
                Some(&plan),
                "pending",
                json!({"approval_id": a.id, "reasons": a.reasons}),
            ));
        }
        let lock = plan_identifier(&plan).map(|id| lock_key(&plan.env, &plan.type_name, &id));
        let in_flight = |p: &Plan, a: Option<&Approval>| self.in_flight(p, a);
        let Some(holder) = self.store.insert_plan_exclusive(
            &plan,
            approval.as_ref(),
            &audit,
            lock.as_deref(),
            &in_flight,
        )?
        else {
            return Ok(Shown::new(plan.clone()));
        };
        if holder.content_hash == plan.content_hash {
            // The same change planned again (a retried call, two promotions
            // at once): the first plan is the answer, not a second one.
            let rec = self.record(
                &req.actor,
                "plan.reused",
                Some(&env.name),
                Some(&holder),
                "ok",
                json!({"reason": "identical content already in flight"}),
            );
            self.store.append_audit(&[rec])?;
            return Ok(Shown::new(holder.clone()));
        }
        let rec = self.record(
            &req.actor,
            "plan.refused",
            Some(&env.name),
            Some(&holder),
            "in_flight",
            json!({"type": plan.type_name, "identifier": plan_identifier(&plan), "holder": holder.id}),
        );
        self.store.append_audit(&[rec])?;
        Err(self.in_flight_error(&holder, plan_identifier(&plan).unwrap_or_default()))
    }

    /// When an approval requested now lapses.
    fn approval_deadline(&self) -> String {
        infraguard_core::clock::Timestamp::from_unix(
            self.clock.now().unix() + self.config.approval_expiry_seconds as i64,
        )
        .rfc3339()
    }

    /// When `a` lapses (or lapsed): its own deadline, or the configured
    /// expiry counted from its request if that is sooner (a tightened
    /// expiry applies to approvals already open).
    pub(crate) fn approval_expiry(
        &self,
        a: &Approval,
    ) -> Option<infraguard_core::clock::Timestamp> {
        let by_config =
            infraguard_core::clock::Timestamp::parse_rfc3339(&a.requested_at).map(|t| {
                infraguard_core::clock::Timestamp::from_unix(
                    t.unix() + self.config.approval_expiry_seconds as i64,
                )
            });
        let own = a
            .expires_at
            .as_deref()
            .and_then(infraguard_core::clock::Timestamp::parse_rfc3339);
        match (own, by_config) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether `a` has run out of time (`Some(when)`).
    pub(crate) fn expired(&self, a: &Approval) -> Option<String> {
        self.approval_expiry(a)
            .filter(|t| self.clock.now() >= *t)
            .map(|t| t.rfc3339())
    }

    /// Whether `p` still holds its resource: sent and not finished, or
    /// waiting for a human (its approval neither denied nor expired). An
    /// automatic plan not yet sent holds nothing: a newer plan of the same
    /// resource may be made, and whichever is applied second is refused as
    /// stale (its basis changed), so an agent that re-plans is not stuck.
    fn in_flight(&self, p: &Plan, a: Option<&Approval>) -> bool {
        match (p.status, a) {
            (PlanStatus::Applying, _) => true,
            (PlanStatus::Planned, Some(a)) => {
                a.status != ApprovalStatus::Denied && self.expired(a).is_none()
            }
            _ => false,
        }
    }

    /// The refusal of a second plan while `holder` holds the resource, with
    /// what to do about the first.
    fn in_flight_error(&self, holder: &Plan, identifier: String) -> EngineError {
        let approval = self.store.approval_for_plan(&holder.id).ok().flatten();
        let (state, next) = match (holder.status, &approval) {
            (PlanStatus::Applying, _) => (
                "being applied".to_string(),
                format!(
                    "wait for it, or if the process applying it stopped, finish it with `infraguard apply {id}` (MCP: resume_plan with plan_id {id}); `infraguard show {id}` shows it",
                    id = holder.id
                ),
            ),
            (_, Some(a)) => (
                format!(
                    "approval {} {}, open until {}",
                    a.id,
                    a.status.as_str(),
                    self.approval_expiry(a)
                        .map(|t| t.rfc3339())
                        .unwrap_or_else(|| "?".into())
                ),
                format!(
                    "apply it (`infraguard apply {id}` once approved), or if a different change is wanted, deny it first (`infraguard deny {aid}`) and plan again",
                    id = holder.id,
                    aid = a.id
                ),
            ),
            (_, None) => (
                format!("planned at {}", holder.created_at),
                format!(
                    "apply it (`infraguard apply {id}`, or the MCP mutation tool with its tokens)",
                    id = holder.id
                ),
            ),
        };
        EngineError::PlanInFlight {
            resource: format!("{} `{identifier}` in {}", holder.type_name, holder.env),
            holder: holder.id.clone(),
            state,
            next,
        }
    }

    /// The state after applying `patch` to `current`, refusing patches that
    /// touch create-only or read-only properties.
    fn patched(
        &self,
        schema: &ResourceSchema,
        id: &str,
        current: &Value,
        patch: &Value,
    ) -> Result<Value, EngineError> {
        let ops = patch.as_array().ok_or_else(|| {
            EngineError::InvalidInput(format!(
                "the patch must be a JSON array of RFC 6902 operations, got {}",
                brief_json(patch)
            ))
        })?;
        if ops.is_empty() {
            return Err(EngineError::InvalidInput(
                "the patch is empty: nothing to change".into(),
            ));
        }
        for op in ops {
            let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
            let path = op.get("path").and_then(Value::as_str).ok_or_else(|| {
                EngineError::InvalidInput(format!(
                    "patch operation {} has no \"path\"",
                    brief_json(op)
                ))
            })?;
            if kind == "test" {
                continue;
            }
            let mut targets = vec![path.to_string()];
            if let Some(from) = op.get("from").and_then(Value::as_str)
                && kind == "move"
            {
                targets.push(from.to_string());
            }
            for p in targets {
                if let Some(c) = schema.create_only.iter().find(|c| pointer_touches(c, &p)) {
                    return Err(EngineError::NotUpdatable {
                        type_name: schema.type_name.to_string(),
                        identifier: id.into(),
                        property: c.trim_start_matches('/').to_string(),
                    });
                }
                if let Some(r) = schema.read_only.iter().find(|r| pointer_touches(r, &p)) {
                    return Err(EngineError::InvalidInput(format!(
                        "the patch changes {} of {} `{id}`, which is read-only (AWS sets it)",
                        r.trim_start_matches('/'),
                        schema.type_name
                    )));
                }
            }
        }
        let parsed: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| {
            EngineError::InvalidInput(format!("the patch is not valid RFC 6902: {e}"))
        })?;
        let mut doc = current.clone();
        json_patch::patch(&mut doc, &parsed).map_err(|e| {
            EngineError::InvalidInput(format!(
                "the patch does not apply to {} `{id}`: {e}",
                schema.type_name
            ))
        })?;
        let problems = infraguard_schema::validate_state(schema, &doc);
        if !problems.is_empty() {
            return Err(EngineError::InvalidProperties {
                type_name: schema.type_name.to_string(),
                problems: problems.into_iter().map(|p| p.message).collect(),
            });
        }
        Ok(doc)
    }

    // ----- deciding ------------------------------------------------------

    pub(crate) fn decidable(&self, approval_id: &str) -> Result<(Approval, Plan), EngineError> {
        let a = self
            .store
            .approval(approval_id)?
            .ok_or_else(|| EngineError::ApprovalNotFound(approval_id.into()))?;
        let plan = self.load_plan(&a.plan_id)?;
        if a.status != ApprovalStatus::Pending {
            let next = match a.status {
                ApprovalStatus::Denied => format!(
                    "a denied plan stays denied: make a new plan (`infraguard plan --env {} ...`) if the change is still wanted",
                    a.env
                ),
                _ => format!("run `infraguard apply {}`", a.plan_id),
            };
            return Err(EngineError::ApprovalDecided {
                id: a.id.clone(),
                status: a.status.as_str().into(),
                next,
            });
        }
        self.check_integrity(&plan)?;
        if a.content_hash != plan.content_hash {
            return Err(EngineError::Tampered {
                id: plan.id.clone(),
                expected: a.content_hash.clone(),
                actual: plan.content_hash.clone(),
            });
        }
        Ok((a, plan))
    }

    /// Approve one plan's exact content, if `proof` is enough at this
    /// engine's level:
    ///
    /// | level | a confirmation (`yes`, elicitation accept, page click) | an approver's code |
    /// |---|---|---|
    /// | advisory | approves, recorded as `unverified` | refused: nothing here can check it |
    /// | guarded | refused, audited | approves as that approver, if [`Factors::verify`] accepts it |
    ///
    /// Every refusal is audited with the caller's name and process.
    pub fn approve_with(
        &self,
        approval_id: &str,
        caller: &Caller,
        proof: &Proof,
        note: Option<&str>,
    ) -> Result<Approval, EngineError> {
        let requester = self.requester(caller);
        let refuse = |reason: String, err: EngineError| -> Result<Approval, EngineError> {
            let rec = AuditRecord {
                at: self.now(),
                actor: requester.to_string(),
                action: "approval.refused".into(),
                env: None,
                plan_id: None,
                content_hash: None,
                outcome: "refused".into(),
                details: json!({"approval_id": approval_id, "reason": reason, "proof": proof_kind(proof)}),
            };
            self.store.append_audit(&[rec])?;
            Err(err)
        };
        let level = match self.store.approval(approval_id)? {
            Some(a) => self.level_of(&a.env),
            None => self.level,
        };
        let actor = match (level, proof, &self.factors) {
            (Level::AwsEnforced, Proof::Code { .. }, _) => {
                let why = crate::mfa::needs_mfa(self, approval_id);
                return refuse(
                    why.clone(),
                    EngineError::ApprovalRefused {
                        id: approval_id.into(),
                        reason: why,
                    },
                );
            }
            (Level::Advisory, Proof::Confirmation { how }, _) => {
                Actor::unverified(&caller.name, &format!("{} ({how})", caller.channel_label()))
            }
            (Level::Advisory, Proof::Code { .. }, _) => {
                let why = "this project is advisory: no guard holds approvers' factors here, so a code cannot be checked; `infraguard doctor` says how to set up the guard".to_string();
                return refuse(
                    why.clone(),
                    EngineError::ApprovalRefused {
                        id: approval_id.into(),
                        reason: why,
                    },
                );
            }
            (_, Proof::Confirmation { how }, _) => {
                let why = if level == Level::AwsEnforced {
                    format!(
                        "a confirmation ({how}) proves nothing here: {}",
                        crate::mfa::needs_mfa(self, approval_id)
                    )
                } else {
                    format!(
                        "a confirmation ({how}) proves nothing here: this project is {level}, and only an enrolled approver's code approves (`infraguard approve {approval_id}` asks for it, or the approval page)"
                    )
                };
                return refuse(
                    why.clone(),
                    EngineError::NotHuman {
                        actor: requester.to_string(),
                        id: approval_id.into(),
                        why,
                    },
                );
            }
            (_, Proof::Code { .. }, None) => {
                let why = "no approvers' factors are available to this engine".to_string();
                return refuse(
                    why.clone(),
                    EngineError::ApprovalRefused {
                        id: approval_id.into(),
                        reason: why,
                    },
                );
            }
            (_, Proof::Code { approver, code }, Some(factors)) => {
                // Check the approval is decidable before spending a code on it.
                let (a, plan) = self.decidable(approval_id)?;
                self.refuse_expired(&a, &plan, &requester)?;
                match factors.verify(approver.as_deref(), code, self.clock.now().unix()) {
                    Ok(name) => {
                        Actor::human(&name, &format!("code via {}", caller.channel_label()))
                    }
                    Err(e) => {
                        return refuse(
                            e.to_string(),
                            EngineError::ApprovalRefused {
                                id: approval_id.into(),
                                reason: e.to_string(),
                            },
                        );
                    }
                }
            }
        };
        self.decide(approval_id, &actor, note, ApprovalStatus::Approved)
    }

    /// Deny a plan. Anyone may say no; the denial is final for that plan.
    pub fn deny(
        &self,
        approval_id: &str,
        actor: &Actor,
        note: Option<&str>,
    ) -> Result<Approval, EngineError> {
        self.decide(approval_id, actor, note, ApprovalStatus::Denied)
    }

    /// Refuse (and audit) granting an approval whose time ran out.
    pub(crate) fn refuse_expired(
        &self,
        a: &Approval,
        plan: &Plan,
        actor: &Actor,
    ) -> Result<(), EngineError> {
        let Some(at) = self.expired(a) else {
            return Ok(());
        };
        let rec = self.record(
            actor,
            "approval.expired",
            Some(&plan.env),
            Some(plan),
            "refused",
            json!({"approval_id": a.id, "expired_at": at}),
        );
        self.store.append_audit(&[rec])?;
        Err(EngineError::ApprovalExpired {
            id: a.id.clone(),
            expired_at: at,
            hours: self.config.approval_expiry_seconds / 3600,
            next: format!(
                "make a new plan of the change (`infraguard plan --env {} ...`, or generate_infrastructure_code) and approve that one",
                a.env
            ),
        })
    }

    pub(crate) fn decide(
        &self,
        approval_id: &str,
        actor: &Actor,
        note: Option<&str>,
        status: ApprovalStatus,
    ) -> Result<Approval, EngineError> {
        let (mut a, plan) = self.decidable(approval_id)?;
        if status == ApprovalStatus::Approved {
            self.refuse_expired(&a, &plan, actor)?;
        }
        a.status = status;
        a.decided_at = Some(self.now());
        a.decided_by = Some(actor.to_string());
        a.note = note.map(str::to_string);
        let action = if status == ApprovalStatus::Approved {
            "approval.granted"
        } else {
            "approval.denied"
        };
        let rec = self.record(
            actor,
            action,
            Some(&plan.env),
            Some(&plan),
            "ok",
            json!({"approval_id": a.id, "note": a.note}),
        );
        self.store
            .decide_approval(&a, ApprovalStatus::Pending, &[rec])?;
        Ok(a)
    }

    /// The plan's content hash: an HMAC under the project's key over
    /// everything the gate read and everything a person approves — what
    /// changes (environment, operation, type, identifier, desired state or
    /// patch), what it costs, what the scan found (with suppressions), the
    /// gate's verdict and the template shown. Approvals and tokens are bound
    /// to it, so a plan whose cost or findings were rewritten in the store
    /// is not applied.
    pub(crate) fn content_hash_of(&self, plan: &Plan) -> String {
        keyed_hash(&self.signing_key, &plan_content(plan))
    }

    /// Why a plan no longer fits the live state (`None` when it still does):
    /// an update or delete whose resource changed or vanished since the plan
    /// was made, a create whose name was taken meanwhile. Like Terraform's
    /// stale saved plan: the change is re-planned, never applied over
    /// someone else's.
    fn stale(&self, plan: &Plan) -> Result<Option<Vec<String>>, EngineError> {
        let (Some(basis), Some(id)) = (&plan.basis, plan_identifier(plan)) else {
            return Ok(None);
        };
        let schema = self.schema(plan.type_name.as_str())?;
        let live = self.read_with_retries(&plan.env, &plan.type_name, &id);
        let replan = match plan.operation {
            Operation::Create => format!(
                "infraguard plan --env {} --type {} ...",
                plan.env, plan.type_name
            ),
            op => format!(
                "infraguard plan --env {} --operation {op} --type {} --id {id} ...",
                plan.env, plan.type_name
            ),
        };
        let why = match (basis.as_str(), live) {
            (ABSENT, Ok(_)) => Some(format!(
                "{} `{id}` was created in {} after this plan was made; make a new plan (`{replan}`)",
                plan.type_name, plan.env
            )),
            (ABSENT, Err(_)) => None,
            (
                _,
                Err(CloudError::Service {
                    code: infraguard_core::cloud::ErrorCode::NotFound,
                    ..
                }),
            ) => Some(format!(
                "{} `{id}` no longer exists in {}; nothing to {}",
                plan.type_name, plan.env, plan.operation
            )),
            (_, Err(e)) => {
                return Err(self.cloud_error(&plan.env, "read", &plan.type_name, Some(&id), e));
            }
            (expected, Ok(live)) => {
                let now = basis_of(schema, &live.properties);
                (now != expected).then(|| format!(
                    "{} `{id}` changed in {} since this plan was made (outside infraguard or by another plan); the plan would overwrite that change: make a new plan (`{replan}`), and see `infraguard drift`",
                    plan.type_name, plan.env
                ))
            }
        };
        Ok(why.map(|w| vec![w]))
    }

    /// A read, retried on throttling like writes are.
    pub(crate) fn read_with_retries(
        &self,
        env: &str,
        t: &ResourceType,
        id: &str,
    ) -> Result<ResourceDescription, CloudError> {
        let cloud = self
            .cloud(env)
            .map_err(|e| CloudError::Transport(e.to_string()))?;
        self.with_retries(|| cloud.get(t, id))
    }

    /// Recompute a plan's content hash: a plan edited in the store after it
    /// was made is not applied.
    pub(crate) fn check_integrity(&self, plan: &Plan) -> Result<(), EngineError> {
        let actual = self.content_hash_of(plan);
        if actual != plan.content_hash {
            return Err(EngineError::Tampered {
                id: plan.id.clone(),
                expected: plan.content_hash.clone(),
                actual,
            });
        }
        Ok(())
    }

    // ----- applying ------------------------------------------------------

    /// Apply a plan if the gate allows it. `progress` sees every event polled.
    pub fn apply(
        &self,
        plan_id: &str,
        actor: &Actor,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<ApplyOutcome, EngineError> {
        self.apply_guarded(plan_id, actor, progress, &mut |_| Ok(()), None)
    }

    /// Finish a plan whose apply was cut short (left `applying`: the
    /// process died, the cloud stopped answering): the same request again,
    /// with the same client token, so the cloud acts at most once. An
    /// applied plan answers its outcome; a plan never sent is not started
    /// here (it goes through the chain or `apply`).
    pub fn resume(
        &self,
        plan_id: &str,
        actor: &Actor,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<ApplyOutcome, EngineError> {
        let plan = self.load_plan(plan_id)?;
        if plan.status == PlanStatus::Planned {
            return Err(EngineError::InvalidInput(format!(
                "plan {plan_id} was never sent to the cloud (status planned), so there is nothing to resume: apply it through the chain (the mutation tool with its tokens) or `infraguard apply {plan_id}`"
            )));
        }
        let rec = self.record(
            actor,
            "apply.resumed",
            Some(&plan.env),
            Some(&plan),
            "pending",
            json!({"status": plan.status.as_str()}),
        );
        self.store.append_audit(&[rec])?;
        self.apply_guarded(plan_id, actor, progress, &mut |_| Ok(()), None)
    }

    /// `apply`, with `before_send` run once the gate has let the plan
    /// through and before the cloud is called (the token chain spends its
    /// token there, so a refused apply leaves the token usable for the retry
    /// after a human's approval). `session` is the approver's MFA session
    /// in an `aws-enforced` environment: its writes go there, and without
    /// one they are refused before any call.
    pub(crate) fn apply_guarded(
        &self,
        plan_id: &str,
        actor: &Actor,
        progress: &mut dyn FnMut(&ProgressEvent),
        before_send: &mut dyn FnMut(&Plan) -> Result<(), EngineError>,
        session: Option<&dyn Cloud>,
    ) -> Result<ApplyOutcome, EngineError> {
        let mut plan = self.load_plan(plan_id)?;
        if plan.status == PlanStatus::Applied {
            // A retry after the reply was lost: the first request's outcome,
            // with no second call to the cloud.
            self.check_integrity(&plan)?;
            let event = recorded_event(&plan);
            let rec = self.record(
                actor,
                "apply.replayed",
                Some(&plan.env),
                Some(&plan),
                "ok",
                json!({"request_token": event.request_token, "identifier": event.identifier}),
            );
            self.store.append_audit(&[rec])?;
            return Ok(ApplyOutcome::Applied {
                plan: Box::new(Shown::new(plan.clone())),
                event,
            });
        }
        if plan.status.is_closed() {
            return Err(EngineError::PlanClosed {
                id: plan.id.clone(),
                status: plan.status.as_str().into(),
            });
        }
        self.check_integrity(&plan)?;
        let env = self.config.environment(&plan.env)?.clone();

        // The gate again, with today's configuration: a flag tightened since
        // the plan was made applies now.
        let (decision, reasons) = gate::decide(&GateInput {
            env: &env,
            operation: plan.operation,
            cost: &plan.cost,
            findings: &plan.findings,
            threshold: self.config.cost_threshold,
            block_at: self.config.block_findings_at,
            scanned: env.scanning,
        });
        if decision != GateDecision::Auto {
            match self.store.approval_for_plan(&plan.id)? {
                // Only a plan not yet sent: one left `applying` was approved
                // in time and is finished whatever the clock says now.
                Some(a)
                    if plan.status == PlanStatus::Planned
                        && a.status != ApprovalStatus::Denied
                        && self.expired(&a).is_some() =>
                {
                    let at = self.expired(&a).unwrap_or_default();
                    let reasons = vec![format!(
                        "approval {} expired at {at} ({} h after it was requested) and can no longer be applied; make a new plan (`infraguard plan --env {} ...`, or generate_infrastructure_code) and have it approved",
                        a.id,
                        self.config.approval_expiry_seconds / 3600,
                        env.name
                    )];
                    let rec = self.record(
                        actor,
                        "apply.refused",
                        Some(&env.name),
                        Some(&plan),
                        "expired",
                        json!({"approval_id": a.id, "expired_at": at, "reasons": reasons}),
                    );
                    self.store.append_audit(&[rec])?;
                    return Ok(ApplyOutcome::Refused {
                        plan: Box::new(Shown::new(plan.clone())),
                        reasons,
                    });
                }
                Some(a)
                    if a.status == ApprovalStatus::Approved
                        && a.content_hash == plan.content_hash => {}
                Some(a) if a.status == ApprovalStatus::Denied => {
                    let reasons = vec![format!(
                        "denied by {} at {}",
                        a.decided_by.as_deref().unwrap_or("?"),
                        a.decided_at.as_deref().unwrap_or("?")
                    )];
                    let rec = self.record(
                        actor,
                        "apply.refused",
                        Some(&env.name),
                        Some(&plan),
                        "refused",
                        json!({"reasons": reasons}),
                    );
                    self.store.append_audit(&[rec])?;
                    return Ok(ApplyOutcome::Refused {
                        plan: Box::new(Shown::new(plan.clone())),
                        reasons,
                    });
                }
                Some(a) => {
                    let rec = self.record(
                        actor,
                        "apply.refused",
                        Some(&env.name),
                        Some(&plan),
                        "awaiting_approval",
                        json!({"approval_id": a.id, "reasons": reasons}),
                    );
                    self.store.append_audit(&[rec])?;
                    return Ok(ApplyOutcome::NeedsApproval {
                        plan: Box::new(Shown::new(plan.clone())),
                        approval: a,
                    });
                }
                None => {
                    // The plan was automatic when made, but is not any more.
                    let a = Approval {
                        id: new_id("apr")?,
                        plan_id: plan.id.clone(),
                        env: env.name.clone(),
                        content_hash: plan.content_hash.clone(),
                        status: ApprovalStatus::Pending,
                        reasons: reasons.clone(),
                        summary: summary(&plan),
                        requested_at: self.now(),
                        expires_at: Some(self.approval_deadline()),
                        requested_by: actor.to_string(),
                        decided_at: None,
                        decided_by: None,
                        note: None,
                    };
                    let recs = [self.record(
                        actor,
                        "approval.requested",
                        Some(&env.name),
                        Some(&plan),
                        "pending",
                        json!({"approval_id": a.id, "reasons": reasons}),
                    )];
                    self.store.insert_approval(&a, &recs)?;
                    return Ok(ApplyOutcome::NeedsApproval {
                        plan: Box::new(Shown::new(plan.clone())),
                        approval: a,
                    });
                }
            }
        }

        if plan.status == PlanStatus::Planned
            && let Some(reasons) = self.stale(&plan)?
        {
            let rec = self.record(
                actor,
                "apply.refused",
                Some(&env.name),
                Some(&plan),
                "stale",
                json!({"reasons": reasons}),
            );
            self.store.append_audit(&[rec])?;
            return Ok(ApplyOutcome::Refused {
                plan: Box::new(Shown::new(plan.clone())),
                reasons,
            });
        }
        if let (Some(role), None) = (&env.approval_role, session) {
            let approval = self.store.approval_for_plan(&plan.id)?;
            let reasons = vec![format!(
                "`{}` is aws-enforced: its writes are made only with the approval role {}, which AWS unlocks with the approver's MFA code; the approver runs `infraguard approve {}` (or opens the approval page) and gives the code of {}",
                env.name,
                role.role_arn,
                approval
                    .as_ref()
                    .map(|a| a.id.as_str())
                    .unwrap_or("APPROVAL_ID"),
                role.mfa_serial
            )];
            let rec = self.record(
                actor,
                "apply.refused",
                Some(&env.name),
                Some(&plan),
                "needs_mfa_session",
                json!({"reasons": reasons}),
            );
            self.store.append_audit(&[rec])?;
            return Ok(ApplyOutcome::Refused {
                plan: Box::new(Shown::new(plan.clone())),
                reasons,
            });
        }
        before_send(&plan)?;
        let own: &dyn Cloud = self.cloud(&env.name)?;
        let cloud = session.unwrap_or(own);
        // Derived from the plan, so a retry after a crash re-sends the same
        // token and the cloud does not act twice.
        let client_token = format!("infraguard-{}", plan.id);
        if plan.status == PlanStatus::Planned {
            let expected = plan.status;
            plan.status = PlanStatus::Applying;
            plan.applied = Some(ApplyRecord {
                request_token: String::new(),
                client_token: client_token.clone(),
                identifier: plan.identifier.clone(),
                status: "SENDING".into(),
                error_code: None,
                message: None,
                finished_at: None,
            });
            let rec = self.record(
                actor,
                "apply.started",
                Some(&env.name),
                Some(&plan),
                "pending",
                json!({"client_token": client_token}),
            );
            self.store.update_plan(&plan, expected, &[rec])?;
        }

        let t = plan.type_name.clone();
        let id = plan.identifier.clone();
        let sent = self.with_retries(|| match plan.operation {
            Operation::Create => cloud.create(&t, &plan.desired_state, &client_token),
            Operation::Update => cloud.update(
                &t,
                id.as_deref().unwrap_or_default(),
                plan.patch.as_ref().unwrap_or(&Value::Null),
                &client_token,
            ),
            Operation::Delete => cloud.delete(&t, id.as_deref().unwrap_or_default(), &client_token),
        });
        let event = match sent {
            Ok(ev) => ev,
            Err(e) if e.is_transient() => {
                // Leave the plan `applying`: `apply` again re-sends the same
                // client token.
                let rec = self.record(
                    actor,
                    "apply.interrupted",
                    Some(&env.name),
                    Some(&plan),
                    "failed",
                    json!({"error": e.to_string()}),
                );
                self.store.append_audit(&[rec])?;
                return Err(self.cloud_error(
                    &env.name,
                    plan.operation.as_str(),
                    &t,
                    id.as_deref(),
                    e,
                ));
            }
            Err(e) => {
                self.finish(&mut plan, actor, None, Some(&e))?;
                return Err(self.cloud_error(
                    &env.name,
                    plan.operation.as_str(),
                    &t,
                    id.as_deref(),
                    e,
                ));
            }
        };
        progress(&event);
        let event = self.wait(cloud, event, progress).map_err(|e| {
            self.cloud_error(&env.name, plan.operation.as_str(), &t, id.as_deref(), e)
        })?;
        self.finish(&mut plan, actor, Some(&event), None)?;
        if event.operation_status == OperationStatus::Success {
            Ok(ApplyOutcome::Applied {
                plan: Box::new(Shown::new(plan.clone())),
                event,
            })
        } else {
            let code = event
                .error_code
                .clone()
                .unwrap_or(infraguard_core::cloud::ErrorCode::GeneralServiceException);
            Err(self.cloud_error(
                &env.name,
                plan.operation.as_str(),
                &t,
                id.as_deref(),
                CloudError::Service {
                    code,
                    message: event.status_message.clone().unwrap_or_default(),
                },
            ))
        }
    }

    /// A cloud call, retried with backoff while it fails transiently
    /// (throttling, a dropped connection): reads and writes alike. A write
    /// retried keeps its client token, so the cloud acts once.
    pub(crate) fn with_retries<T>(
        &self,
        mut call: impl FnMut() -> Result<T, CloudError>,
    ) -> Result<T, CloudError> {
        let mut attempt = 0;
        loop {
            match call() {
                Err(e) if e.is_transient() && attempt < self.poll.max_retries => {
                    attempt += 1;
                    (self.poll.sleep)(Duration::from_millis(200 * (1 << attempt.min(6))));
                }
                other => return other,
            }
        }
    }

    fn wait(
        &self,
        cloud: &dyn Cloud,
        first: ProgressEvent,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<ProgressEvent, CloudError> {
        let mut event = first;
        let mut polls = 0;
        while !event.operation_status.is_terminal() {
            if polls >= self.poll.max_polls {
                return Err(CloudError::Transport(format!(
                    "request {} still {} after {polls} polls; check it later with `infraguard status {}`",
                    event.request_token,
                    event.operation_status.as_str(),
                    event.request_token
                )));
            }
            polls += 1;
            let backoff = event.retry_after.unwrap_or(1).clamp(1, 30);
            (self.poll.sleep)(Duration::from_secs(backoff.min(1 + polls as u64 / 5)));
            let token = event.request_token.clone();
            event = self.with_retries(|| cloud.request_status(&token))?;
            progress(&event);
        }
        Ok(event)
    }

    /// Record the end of an apply: plan status, tracking state, audit.
    fn finish(
        &self,
        plan: &mut Plan,
        actor: &Actor,
        event: Option<&ProgressEvent>,
        refused: Option<&CloudError>,
    ) -> Result<(), EngineError> {
        let expected = plan.status;
        let ok = event.is_some_and(|e| e.operation_status == OperationStatus::Success);
        if let Some(ev) = event
            && plan.identifier.is_none()
        {
            plan.identifier = ev.identifier.clone();
        }
        plan.status = if ok {
            PlanStatus::Applied
        } else {
            PlanStatus::Failed
        };
        let (code, message) = match (event, refused) {
            (Some(ev), _) => (
                ev.error_code.as_ref().map(|c| c.to_string()),
                ev.status_message.clone(),
            ),
            (None, Some(e)) => (e.code().map(|c| c.to_string()), Some(e.to_string())),
            _ => (None, None),
        };
        let rec_prev = plan.applied.clone();
        plan.applied = Some(ApplyRecord {
            request_token: event.map(|e| e.request_token.clone()).unwrap_or_default(),
            client_token: rec_prev.map(|r| r.client_token).unwrap_or_default(),
            identifier: plan.identifier.clone(),
            status: event
                .map(|e| e.operation_status.as_str().to_string())
                .unwrap_or_else(|| "REFUSED".into()),
            error_code: code.clone(),
            message: message.clone(),
            finished_at: Some(self.now()),
        });
        let action = if ok {
            "apply.succeeded"
        } else {
            "apply.failed"
        };
        let rec = self.record(
            actor,
            action,
            Some(&plan.env),
            Some(plan),
            if ok { "ok" } else { "failed" },
            json!({"identifier": plan.identifier, "request_token": plan.applied.as_ref().map(|a| a.request_token.clone()), "error_code": code, "message": message}),
        );
        self.store.update_plan(plan, expected, &[rec])?;
        if ok {
            let id = plan.identifier.clone().unwrap_or_default();
            if plan.operation == Operation::Delete {
                self.store
                    .forget_applied(&plan.env, plan.type_name.as_str(), &id)?;
            } else if let Ok(live) = self.cloud(&plan.env)?.get(&plan.type_name, &id) {
                self.store.record_applied(&AppliedState {
                    env: plan.env.clone(),
                    type_name: plan.type_name.to_string(),
                    identifier: id,
                    properties: live.properties,
                    plan_id: plan.id.clone(),
                    at: self.now(),
                })?;
            }
        }
        Ok(())
    }
}

/// The key of the one-plan-at-a-time lock of a resource.
fn lock_key(env: &str, t: &ResourceType, identifier: &str) -> String {
    format!("{env}\n{t}\n{identifier}")
}

/// The outcome a finished apply had, rebuilt from its record, so that a
/// retried apply answers what the first one did without asking the cloud.
fn recorded_event(plan: &Plan) -> ProgressEvent {
    let rec = plan.applied.clone();
    ProgressEvent {
        type_name: plan.type_name.clone(),
        identifier: rec
            .as_ref()
            .and_then(|r| r.identifier.clone())
            .or_else(|| plan.identifier.clone()),
        request_token: rec
            .as_ref()
            .map(|r| r.request_token.clone())
            .unwrap_or_default(),
        operation: plan.operation,
        operation_status: OperationStatus::Success,
        event_time: rec
            .as_ref()
            .and_then(|r| r.finished_at.clone())
            .unwrap_or_default(),
        resource_model: None,
        status_message: Some(format!(
            "plan {} was already applied (client token {}); this is that request's outcome",
            plan.id,
            rec.map(|r| r.client_token).unwrap_or_default()
        )),
        error_code: None,
        retry_after: None,
    }
}

/// The basis of a create whose name is known: nothing there yet.
const ABSENT: &str = "absent";

/// A hash of a resource's live properties, leaving out what AWS sets
/// (read-only properties), so only a change someone made counts.
fn basis_of(schema: &ResourceSchema, properties: &Value) -> String {
    let mut p = properties.clone();
    if let Some(obj) = p.as_object_mut() {
        for ro in &schema.read_only {
            let key = ro
                .trim_start_matches("/properties/")
                .trim_start_matches('/');
            if !key.contains('/') {
                obj.remove(key);
            }
        }
    }
    crate::hash::content_hash(&p)
}

/// The identifier a plan acts on: the one given (update, delete) or the one
/// its desired state names (create).
fn plan_identifier(plan: &Plan) -> Option<String> {
    match plan.operation {
        Operation::Create => Catalog::builtin()
            .get(&plan.type_name)
            .ok()
            .and_then(|s| s.identifier_of(&plan.desired_state)),
        _ => plan.identifier.clone(),
    }
}

/// What a plan's content hash covers (see [`Engine::content_hash_of`]).
/// For a create, the identifier is the one known at planning time (before
/// the cloud assigned one); apply records the real one later.
fn plan_content(plan: &Plan) -> Value {
    let create = plan.operation == Operation::Create;
    let identifier = if create {
        Catalog::builtin()
            .get(&plan.type_name)
            .ok()
            .and_then(|s| s.identifier_of(&plan.desired_state))
    } else {
        plan.identifier.clone()
    };
    json!({
        "env": plan.env,
        "operation": plan.operation,
        "type": plan.type_name,
        "identifier": identifier,
        "desired_state": if create { plan.desired_state.clone() } else { Value::Null },
        "patch": plan.patch,
        "cost": plan.cost,
        "findings": plan.findings,
        "gate": {"decision": plan.gate.decision, "reasons": plan.gate.reasons},
        "template": plan.template,
        "basis": plan.basis,
        "policy": 1,
    })
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn brief_json(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!(
            "{}...",
            &s[..s.char_indices().nth(77).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        s
    }
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

/// Run Checkov on a template written to a private temporary file.
fn run_checkov_on(template: &Template) -> Result<Vec<Finding>, String> {
    let mut name = [0u8; 8];
    getrandom::fill(&mut name).map_err(|e| e.to_string())?;
    let path = std::env::temp_dir().join(format!("infraguard-checkov-{}.json", hex(&name)));
    std::fs::write(&path, template.to_pretty_json())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let result = infraguard_policy::run_checkov(&path).map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&path);
    result
}

/// The property that turns a type's deletion protection on, and its value
/// when on (RDS, DocDB, Neptune, DynamoDB, Cognito).
fn deletion_protection(t: &ResourceType, props: &Value) -> Option<(&'static str, Value)> {
    let key = match t.as_str() {
        "AWS::RDS::DBInstance"
        | "AWS::RDS::DBCluster"
        | "AWS::DocDB::DBCluster"
        | "AWS::Neptune::DBCluster" => "DeletionProtection",
        "AWS::DynamoDB::Table" | "AWS::DynamoDB::GlobalTable" => "DeletionProtectionEnabled",
        "AWS::Cognito::UserPool" => "DeletionProtection",
        _ => return None,
    };
    let on = match props.get(key) {
        Some(Value::Bool(true)) => true,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true") || s == "ACTIVE",
        _ => false,
    };
    let off = if t.as_str() == "AWS::Cognito::UserPool" {
        json!("INACTIVE")
    } else {
        json!(false)
    };
    on.then_some((key, off))
}

/// How to keep a copy of a stateful resource's data before deleting it,
/// since Cloud Control takes none.
fn snapshot_hint(t: &ResourceType, id: &str) -> String {
    match t.as_str() {
        "AWS::RDS::DBInstance" => format!(
            "take one first: `aws rds create-db-snapshot --db-instance-identifier {id} --db-snapshot-identifier {id}-final`"
        ),
        "AWS::RDS::DBCluster" => format!(
            "take one first: `aws rds create-db-cluster-snapshot --db-cluster-identifier {id} --db-cluster-snapshot-identifier {id}-final`"
        ),
        "AWS::DynamoDB::Table" => {
            format!(
                "take one first: `aws dynamodb create-backup --table-name {id} --backup-name {id}-final`"
            )
        }
        _ => "copy what you need first".into(),
    }
}

/// Secure defaults a careful engineer would set and a user can override by
/// giving the property: S3 buckets block public access and encrypt at rest.
fn secure_defaults(t: &ResourceType, props: &mut Value, notes: &mut Vec<String>) {
    if t.as_str() != "AWS::S3::Bucket" {
        return;
    }
    let Some(obj) = props.as_object_mut() else {
        return;
    };
    if !obj.contains_key("PublicAccessBlockConfiguration") {
        obj.insert(
            "PublicAccessBlockConfiguration".into(),
            json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}),
        );
        notes.push("public access is blocked (PublicAccessBlockConfiguration added; set it yourself to change)".into());
    }
    if !obj.contains_key("BucketEncryption") {
        obj.insert(
            "BucketEncryption".into(),
            json!({"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}),
        );
        notes.push("objects are encrypted at rest with SSE-S3 (BucketEncryption added)".into());
    }
}

/// How a proof is named in the audit log (never its code).
fn proof_kind(proof: &Proof) -> &'static str {
    match proof {
        Proof::Confirmation { .. } => "confirmation",
        Proof::Code { .. } => "code",
    }
}
