//! The engine's reads: environments, resources, plans and their states,
//! approvals, the audit log, and estimates that plan nothing.

use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::audit::AuditEntry;
use infraguard_core::cloud::{Cloud, ListPage, ProgressEvent, ResourceDescription};
use infraguard_core::plan::{Gate, Plan, PlanStatus};

use crate::actor::Actor;
use infraguard_core::resource::ResourceType;
use infraguard_core::schema::ResourceSchema;
use infraguard_core::store::Store;
use infraguard_schema::Catalog;
use serde_json::Value;

use crate::audit::{self, Verification};
use crate::engine::{Engine, EnvReport, Estimate, PlanRequest, PlanState};
use crate::error::EngineError;
use crate::redact::Shown;

impl<C: Cloud, S: Store> Engine<C, S> {
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

    pub(crate) fn state_of(&self, plan: &Plan) -> Result<PlanState, EngineError> {
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

    /// The estimate of a create, and the gate's own preview of it: what
    /// [`Engine::plan`] would decide for these properties in `env` (cost,
    /// findings, the environment's flags), with nothing planned. The
    /// preview is `None` when the request could not be planned as it
    /// stands (no name, a name taken), with the reason.
    pub fn estimate_only(
        &self,
        env: &str,
        type_name: &str,
        properties: &Value,
        usage: Option<&infraguard_cost::Usage>,
        actor: &Actor,
    ) -> Result<Estimate, EngineError> {
        let request = PlanRequest {
            usage: usage.cloned(),
            ..PlanRequest::create(env, type_name, None, properties.clone(), actor.clone())
        };
        // The draft's own estimate when it can be drafted, so the cost and
        // the preview are of the same plan; else the properties as given.
        let (cost, gate, no_gate) = match self.draft(&request) {
            Ok((plan, _)) => (
                plan.cost,
                Some(Gate {
                    approval_id: None,
                    ..plan.gate
                }),
                None,
            ),
            Err(e) => {
                let environment = self.config.environment(env)?.clone();
                let schema = self.schema(type_name)?;
                let name = schema
                    .name_property
                    .as_ref()
                    .and_then(|np| properties.get(np))
                    .and_then(Value::as_str);
                let cost = self.estimate(
                    &schema.type_name,
                    properties,
                    &environment,
                    name,
                    None,
                    usage,
                )?;
                (cost, None, Some(e.to_string()))
            }
        };
        Ok(Estimate {
            cost,
            gate,
            no_gate,
        })
    }
}
