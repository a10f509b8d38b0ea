//! Applying a plan: the integrity check, the gate again with today's
//! configuration, the approval, the one-plan lock, the cloud call with its
//! client token, the wait, retries, and the record of what happened.

use std::time::Duration;

use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::cloud::{
    Cloud, CloudError, OperationStatus, ProgressEvent, ResourceDescription,
};
use infraguard_core::plan::{ApplyRecord, GateDecision, Plan, PlanStatus};
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_core::store::{AppliedState, Store};
use infraguard_schema::Catalog;
use serde_json::{Value, json};

use crate::actor::Actor;
use crate::engine::{ApplyOutcome, Engine, new_id, summary};
use crate::error::EngineError;
use crate::gate::{self, GateInput};
use crate::hash::keyed_hash;
use crate::planning::{ABSENT, basis_of, plan_identifier};
use crate::redact::Shown;

/// How long an applying process holds its plan without renewing (it renews
/// at every poll, which are at most 30 s apart).
const APPLY_LEASE_SECONDS: i64 = 120;

/// Whether `holder` (`HOST pid N`) is a process of this machine that is no
/// longer running (gone, or a zombie nobody reaped): its lease holds
/// nothing, so a retry need not wait for it to run out. A holder on
/// another machine is never judged here.
fn stopped_here(holder: &str) -> bool {
    let Some((host, pid)) = holder.rsplit_once(" pid ") else {
        return false;
    };
    if host != crate::locks::this_host() || pid.parse::<u32>().is_err() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the field after the command's closing parenthesis.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| matches!(state, "Z" | "X" | "x")),
        Err(_) => std::path::Path::new("/proc/self").exists(),
    }
}

/// This process, as a plan's applier: `HOST pid N`.
fn applier() -> String {
    format!("{} pid {}", crate::locks::this_host(), std::process::id())
}

impl<C: Cloud, S: Store> Engine<C, S> {
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
    pub(crate) fn stale(&self, plan: &Plan) -> Result<Option<Vec<String>>, EngineError> {
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
        self.refuse_if_locked(&env.name, actor, Some(&plan))?;

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
        // Another process (on this machine or another sharing the state) is
        // sending this plan right now: say so, and call nothing.
        if plan.status == PlanStatus::Applying
            && let Some(holder) = self.live_applier(&plan)
        {
            return Err(self.being_applied(&plan, &holder));
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
                applier: Some(applier()),
                lease_until: Some(self.lease_end()),
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
        } else {
            // Resuming a plan whose applier stopped: this process holds it
            // now. Two resumers at once send the same client token.
            self.renew_lease(&mut plan, true)?;
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
                // client token, from any process (the lease is let go).
                if let Some(r) = plan.applied.as_mut() {
                    r.lease_until = None;
                }
                let _ = self.store.update_plan(&plan, PlanStatus::Applying, &[]);
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
        // Renew the lease while waiting, so no other process resumes a plan
        // this one is still following.
        let waited = {
            let mut keep = |ev: &ProgressEvent| {
                progress(ev);
                let _ = self.renew_lease(&mut plan, false);
            };
            self.wait(cloud, event, &mut keep)
        };
        let event = waited.map_err(|e| {
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

    /// The end of a lease taken now.
    fn lease_end(&self) -> i64 {
        self.clock.now().unix().saturating_add(APPLY_LEASE_SECONDS)
    }

    /// Who holds an `applying` plan, if that is another process and its
    /// lease has not run out.
    pub(crate) fn live_applier(&self, plan: &Plan) -> Option<String> {
        let r = plan.applied.as_ref()?;
        let holder = r.applier.clone()?;
        let live = r
            .lease_until
            .is_some_and(|until| until > self.clock.now().unix());
        (live && holder != applier() && !stopped_here(&holder)).then_some(holder)
    }

    /// Hold `plan` for this process a while longer (`force`: take it over,
    /// now; otherwise only once half the lease is gone).
    fn renew_lease(&self, plan: &mut Plan, force: bool) -> Result<(), EngineError> {
        let end = self.lease_end();
        let Some(r) = plan.applied.as_mut() else {
            return Ok(());
        };
        let due = r
            .lease_until
            .is_none_or(|until| until - self.clock.now().unix() < APPLY_LEASE_SECONDS / 2);
        if !(force || due) {
            return Ok(());
        }
        r.applier = Some(applier());
        r.lease_until = Some(end);
        self.store.update_plan(plan, PlanStatus::Applying, &[])?;
        Ok(())
    }

    /// The refusal of an apply while another process sends the plan.
    fn being_applied(&self, plan: &Plan, holder: &str) -> EngineError {
        EngineError::PlanBeingApplied {
            id: plan.id.clone(),
            holder: holder.to_string(),
            until: plan
                .applied
                .as_ref()
                .and_then(|r| r.lease_until)
                .map(|u| infraguard_core::clock::Timestamp::from_unix(u).rfc3339())
                .unwrap_or_else(|| "?".into()),
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

    pub(crate) fn wait(
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
    pub(crate) fn finish(
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
            applier: None,
            lease_until: None,
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

/// The outcome a finished apply had, rebuilt from its record, so that a
/// retried apply answers what the first one did without asking the cloud.
pub(crate) fn recorded_event(plan: &Plan) -> ProgressEvent {
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

/// What a plan's content hash covers (see [`Engine::content_hash_of`]).
/// For a create, the identifier is the one known at planning time (before
/// the cloud assigned one); apply records the real one later.
pub(crate) fn plan_content(plan: &Plan) -> Value {
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
