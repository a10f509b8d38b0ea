//! The seed's promotion checklist as one function per item, in its order,
//! after a first step (is it in prod already?) and before the last (the
//! create); `promote_one` (in `mod.rs`) calls them in sequence.
//!
//! Each step records its item in the [`PromotionReport`] and returns a
//! [`Step`]: go on with what it found (the mapped properties, the prod plan,
//! its approval), or stop, the report then being final (blocked, waiting for
//! a human, denied, or already done). A blocked step records why in the
//! audit log ([`Engine::blocked`]).
//!
//! Not here: the property mapping (`mapping`), the dev plan history
//! (`history`), the dev tags that follow the result (`state`).

use std::ops::ControlFlow::{self, Break, Continue};

use infraguard_core::Finding;
use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::cloud::{Cloud, ProgressEvent};
use infraguard_core::plan::{Gate, GateDecision, Plan, PlanStatus};
use infraguard_core::resource::Operation;
use infraguard_core::schema::{ResourceSchema, TagStyle};
use infraguard_core::store::Store;
use serde_json::{Value, json};

use super::history::{accepted_rules, history, with_write_only};
use super::mapping::Workspace;
use super::report::{CheckStatus, PromotionReport, PromotionState};
use crate::actor::Actor;
use crate::engine::{ApplyOutcome, Engine, PlanRequest};
use crate::error::EngineError;
use crate::hash::content_hash;
use crate::inventory::{Item, name_of};
use crate::sync::{Counterpart, DEV_COUNTERPART};
use crate::tags;

/// After a step: go on with what it found, or stop (the report is final).
pub(super) type Step<T = ()> = Result<ControlFlow<(), T>, EngineError>;

/// The dev resource one promotion is about, and what every step reads.
pub(super) struct Candidate<'p> {
    /// Its index in the dev inventory.
    pub idx: usize,
    /// A copy of it as listed: steps change the workspace.
    pub item: Item,
    pub schema: &'static ResourceSchema,
    pub dev_env: String,
    pub prod_env: String,
    /// Its dev plans, newest first.
    pub hist: Vec<&'p Plan>,
    pub actor: &'p Actor,
}

impl<'p> Candidate<'p> {
    pub(super) fn new<C: Cloud, S: Store>(
        engine: &Engine<C, S>,
        ws: &Workspace,
        idx: usize,
        dev_plans: &'p [Plan],
        actor: &'p Actor,
    ) -> Result<Candidate<'p>, EngineError> {
        let item = ws.dev.items[idx].clone();
        let schema = engine.schema(item.type_name.as_str())?;
        let hist = history(dev_plans, &item.type_name, &item.identifier);
        Ok(Candidate {
            idx,
            schema,
            dev_env: ws.envs.dev.name.clone(),
            prod_env: ws.envs.prod.name.clone(),
            hist,
            actor,
            item,
        })
    }
}

fn finding_label(f: &Finding) -> String {
    format!("{} ({}) {}", f.rule, f.severity, f.title)
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// Already promoted: the report says where, and the dev tags catch up.
    pub(super) fn already_in_prod(
        &self,
        ws: &mut Workspace,
        cand: &Candidate<'_>,
        r: &mut PromotionReport,
    ) -> Step {
        let (idx, item, schema) = (cand.idx, &cand.item, cand.schema);
        let prod_env = &cand.prod_env;
        match ws.links[idx].clone() {
            Counterpart::Found { prod, linked_by } => {
                let prod_id = ws.prod.items[prod].identifier.clone();
                r.status = PromotionState::Synced;
                r.prod_id = Some(prod_id.clone());
                r.message = format!(
                    "already in {prod_env} as `{prod_id}` (linked by {linked_by}); `infraguard drift` compares the two"
                );
                for c in &mut r.checklist {
                    c.status = CheckStatus::Passed;
                    c.detail = "promoted earlier".into();
                }
                if schema.tagging != TagStyle::None
                    && item.tags.get(tags::PROMOTION_STATUS).map(String::as_str) != Some("synced")
                {
                    r.dev_tags
                        .push(self.set_dev_status(ws, idx, "synced", Some(&prod_id))?);
                }
                return Ok(Break(()));
            }
            Counterpart::Missing { expected } => r.notes.push(format!(
                "its ProdCounterpart `{expected}` no longer exists in {prod_env}: promoting it again"
            )),
            Counterpart::None => {}
        }
        Ok(Continue(()))
    }

    /// Step 1, tested in dev: the last change infraguard made succeeded.
    pub(super) fn check_tested_in_dev(
        &self,
        cand: &Candidate<'_>,
        r: &mut PromotionReport,
    ) -> Step {
        let (dev_env, prod_env, actor) = (&cand.dev_env, cand.prod_env.as_str(), cand.actor);
        let hist = &cand.hist;
        match hist.first() {
            Some(p) if p.status == PlanStatus::Failed => {
                let why = p
                    .applied
                    .as_ref()
                    .and_then(|a| a.message.clone())
                    .unwrap_or_else(|| "no message".into());
                r.check(
                    "tested_in_dev",
                    CheckStatus::Failed,
                    format!("its last change in {dev_env} (plan {}, {}) failed: {why}; fix it in {dev_env} first", p.id, p.operation),
                );
                return self.blocked(r, prod_env, actor);
            }
            Some(p) if p.status == PlanStatus::Applying => {
                r.check(
                    "tested_in_dev",
                    CheckStatus::Failed,
                    format!("a change is still in flight in {dev_env} (plan {}): finish it with `infraguard apply {}` first", p.id, p.id),
                );
                return self.blocked(r, prod_env, actor);
            }
            Some(p) => {
                let last = hist.iter().find(|p| p.status == PlanStatus::Applied);
                let detail = match last {
                    Some(a) => format!(
                        "exists in {dev_env}; last change plan {} ({}) applied{}",
                        a.id,
                        a.operation,
                        a.applied
                            .as_ref()
                            .and_then(|x| x.finished_at.as_deref())
                            .map(|at| format!(" at {at}"))
                            .unwrap_or_default()
                    ),
                    None => format!("exists in {dev_env}; plan {} is not applied yet", p.id),
                };
                r.check("tested_in_dev", CheckStatus::Passed, detail);
            }
            None => r.check(
                "tested_in_dev",
                CheckStatus::Passed,
                format!("exists in {dev_env} (not created through infraguard, so there is no record of its changes)"),
            ),
        }
        Ok(Continue(()))
    }

    /// Step 2, dependencies: every referenced dev resource has a prod
    /// counterpart (write-only values count: a function's code bucket).
    /// Goes on with the properties mapped to prod.
    pub(super) fn check_dependencies(
        &self,
        ws: &Workspace,
        cand: &Candidate<'_>,
        r: &mut PromotionReport,
    ) -> Step<Value> {
        let (idx, item, schema, actor) = (cand.idx, &cand.item, cand.schema, cand.actor);
        let (dev_env, prod_env) = (&cand.dev_env, cand.prod_env.as_str());
        let (full, restored) = with_write_only(schema, &item.properties, &cand.hist);
        // A secret written once (a master password) is not copied: prod gets
        // its own, or the same secret by reference, never dev's value.
        let copied_secrets: Vec<&String> = restored
            .iter()
            .flatten()
            .filter(|ptr| {
                let name = ptr.rsplit('/').next().unwrap_or("");
                crate::redact::is_secret_key(name)
                    && !full
                        .pointer(ptr)
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.starts_with("{{resolve:"))
            })
            .collect();
        if !copied_secrets.is_empty() {
            let names: Vec<&str> = copied_secrets
                .iter()
                .map(|p| p.trim_start_matches('/'))
                .collect();
            r.check(
                "dependencies",
                CheckStatus::Failed,
                format!(
                    "{} in {dev_env} is a secret (write-only) and would be copied to {prod_env} as it is: give {prod_env} its own instead — in {dev_env}, replace it by a managed secret (for RDS `ManageMasterUserPassword: true`) or a `{{{{resolve:secretsmanager:…}}}}` reference, then promote again",
                    names.join(", ")
                ),
            );
            return self.blocked(r, prod_env, actor);
        }
        match &restored {
            Some(copied) if !copied.is_empty() => r.notes.push(format!(
                "write-only {} restored from the plan that set them in {dev_env} (the cloud never returns them)",
                copied.join(", ")
            )),
            Some(_) => {}
            None => r.notes.push(format!(
                "write-only properties ({}) cannot be read back and infraguard did not create this resource: they are left out",
                schema.write_only.join(", ")
            )),
        }
        let mapped = ws.map_props(idx, &full);
        r.references = mapped.references.clone();
        r.notes.extend(mapped.notes.iter().cloned());
        if !mapped.missing.is_empty() {
            let mut first = Vec::new();
            for m in &mapped.missing {
                let d = &ws.dev.items[m.item];
                let alt = if m.alternatives > 0 {
                    format!(
                        ", or one of {} other {dev_env} resources with that value",
                        m.alternatives
                    )
                } else {
                    String::new()
                };
                first.push(format!(
                    "{} `{}` (referenced at {}{alt})",
                    d.type_name, d.identifier, m.pointer
                ));
            }
            r.check(
                "dependencies",
                CheckStatus::Failed,
                format!(
                    "promote first: {}; or promote with --with-dependencies",
                    first.join(", ")
                ),
            );
            return self.blocked(r, prod_env, actor);
        }
        let refs: Vec<String> = mapped
            .references
            .iter()
            .filter(|m| m.kind == "resource")
            .filter_map(|m| {
                m.resource
                    .as_ref()
                    .map(|x| format!("{} `{}` at {}", x.type_name, x.identifier, m.pointer))
            })
            .collect();
        r.check(
            "dependencies",
            CheckStatus::Passed,
            if refs.is_empty() {
                format!("refers to no other {dev_env} resource")
            } else {
                format!(
                    "mapped to their {prod_env} counterparts: {}",
                    refs.join("; ")
                )
            },
        );

        Ok(Continue(mapped.props))
    }

    /// Step 3, properties: complete and valid. Goes on with the prod properties.
    pub(super) fn check_properties(
        &self,
        cand: &Candidate<'_>,
        mut props: Value,
        r: &mut PromotionReport,
    ) -> Step<Value> {
        let (schema, actor, prod_env) = (cand.schema, cand.actor, cand.prod_env.as_str());
        // Tags the tag standard sets afresh in prod would only be replaced;
        // the rest (the user's own values, as in dev) go with the resource.
        if let Some(tp) = schema.tagging.property() {
            let mut tg = tags::read(&props, &schema.tagging);
            for k in [
                tags::CREATED_BY,
                tags::CREATED_DATE,
                tags::COST_ESTIMATE,
                tags::MCP_SERVER_VERSION,
            ] {
                tg.remove(k);
            }
            if let Value::Object(m) = &mut props {
                m.remove(tp);
            }
            tags::apply(&mut props, &schema.tagging, &tg);
        }
        let problems = infraguard_schema::validate_create(schema, &props);
        if !problems.is_empty() {
            r.check(
                "properties",
                CheckStatus::Failed,
                format!(
                    "the {prod_env} properties would not be valid: {}",
                    problems
                        .into_iter()
                        .map(|p| p.message)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            );
            return self.blocked(r, prod_env, actor);
        }
        r.check(
            "properties",
            CheckStatus::Passed,
            format!(
                "{} propert{} copied; read-only ones left for {prod_env} to generate",
                props.as_object().map_or(0, |m| m.len()),
                if props.as_object().map_or(0, |m| m.len()) == 1 {
                    "y"
                } else {
                    "ies"
                }
            ),
        );
        Ok(Continue(props))
    }

    /// Step 4: no unrelated prod resource holds the name.
    pub(super) fn check_no_conflict(
        &self,
        ws: &mut Workspace,
        cand: &Candidate<'_>,
        props: &Value,
        r: &mut PromotionReport,
    ) -> Step {
        let (idx, schema, actor, prod_env) =
            (cand.idx, cand.schema, cand.actor, cand.prod_env.as_str());
        let (t, id) = (&cand.item.type_name, &cand.item.identifier);
        // By identifier, or by name where prod generates the identifier
        // (an SQS queue's URL): a queue of that name would make the create fail.
        let prod_identifier = schema
            .identifier_of(props)
            .or_else(|| name_of(schema, props).map(str::to_string));
        if let Some(key) = &prod_identifier
            && let Some(p) = ws.prod.find(t, key)
        {
            let pid = &ws.prod.items[p].identifier.clone();
            if ws.prod.items[p].tags.get(DEV_COUNTERPART) == Some(id) {
                // Created by an earlier promotion whose dev tag update did
                // not happen: only the tags are missing.
                r.check(
                    "no_conflict",
                    CheckStatus::Passed,
                    format!("`{pid}` in {prod_env} was promoted from this resource"),
                );
                for key in ["security_scan", "cost", "approval"] {
                    r.check(key, CheckStatus::Passed, "done when it was created");
                }
                self.finish_promotion(ws, idx, r, pid.clone(), None, actor)?;
                return Ok(Break(()));
            }
            r.check(
                "no_conflict",
                CheckStatus::Failed,
                format!(
                    "{prod_env} already has {t} `{pid}`, which was not promoted from this resource: if it is the counterpart, tag this resource ProdCounterpart={pid}; otherwise rename one of them"
                ),
            );
            return self.blocked(r, prod_env, actor);
        }
        r.check(
            "no_conflict",
            CheckStatus::Passed,
            match &prod_identifier {
                Some(key) => format!("no {t} `{key}` in {prod_env} yet"),
                None => format!("{prod_env} generates the name"),
            },
        );
        Ok(Continue(()))
    }

    /// Step 5, the prod plan: the one made for this content before, or a new one.
    /// Goes on with the plan unless it was applied already.
    pub(super) fn prod_plan(
        &self,
        ws: &mut Workspace,
        cand: &Candidate<'_>,
        props: Value,
        r: &mut PromotionReport,
    ) -> Step<Plan> {
        let (idx, item, actor) = (cand.idx, &cand.item, cand.actor);
        let (t, id) = (&item.type_name, &item.identifier);
        let (dev_env, prod_env) = (&cand.dev_env, &cand.prod_env);
        let source_hash = content_hash(&json!({"type": t, "dev": id, "properties": props}));
        let plan = match self.linked_plan(t, id, &source_hash)? {
            Some(p) => {
                r.notes.push(format!(
                    "continuing plan {} made by an earlier promote call",
                    p.id
                ));
                p
            }
            None => {
                let purpose = item.tags.get(tags::PURPOSE).cloned();
                let plan = self
                    .plan(PlanRequest {
                        env: prod_env.clone(),
                        operation: Operation::Create,
                        type_name: t.to_string(),
                        purpose,
                        properties: Some(props),
                        identifier: None,
                        patch: None,
                        usage: None,
                        actor: actor.clone(),
                    })?
                    .into_inner();
                let rec = self.record(
                    actor,
                    "promotion.planned",
                    Some(prod_env),
                    Some(&plan),
                    "ok",
                    json!({
                        "type": t,
                        "dev_env": dev_env,
                        "dev_id": id,
                        "source_hash": source_hash,
                        "references": r.references.len(),
                    }),
                );
                self.store().append_audit(&[rec])?;
                plan
            }
        };
        r.plan_id = Some(plan.id.clone());
        r.gate = Some(plan.gate.clone());
        if plan.status == PlanStatus::Applied {
            let pid = plan.identifier.clone().unwrap_or_default();
            for key in ["security_scan", "cost", "approval"] {
                r.check(
                    key,
                    CheckStatus::Passed,
                    format!("plan {} was applied", plan.id),
                );
            }
            self.finish_promotion(ws, idx, r, pid, Some(&plan), actor)?;
            return Ok(Break(()));
        }
        Ok(Continue(plan))
    }

    /// Step 6, security scan: blocking findings must have been accepted in dev.
    /// Goes on with the plan's approval, if the gate asked for one.
    pub(super) fn check_security_scan(
        &self,
        cand: &Candidate<'_>,
        plan: &Plan,
        r: &mut PromotionReport,
    ) -> Step<Option<Approval>> {
        let (actor, dev_env, prod_env) = (cand.actor, &cand.dev_env, cand.prod_env.as_str());
        let approval = match &plan.gate.approval_id {
            Some(_) => self.store().approval_for_plan(&plan.id)?,
            None => None,
        };
        let block_at = self.config().block_findings_at;
        let accepted = accepted_rules(self, &cand.hist)?;
        let blocking = crate::gate::blocking(&plan.findings, block_at);
        let unaccepted: Vec<&&Finding> = blocking
            .iter()
            .filter(|f| !accepted.contains_key(&f.rule))
            .collect();
        if !unaccepted.is_empty() {
            let list: Vec<String> = unaccepted.iter().map(|f| finding_label(f)).collect();
            let detail = format!(
                "{} open finding(s) at or above {block_at} that nobody accepted in {dev_env}: {}; fix them in {dev_env} (an update), then promote again",
                list.len(),
                list.join("; ")
            );
            r.check("security_scan", CheckStatus::Failed, detail.clone());
            if let Some(a) = approval
                .as_ref()
                .filter(|a| a.status == ApprovalStatus::Pending)
            {
                self.deny(
                    &a.id,
                    &Actor::system(),
                    Some(&format!("promotion checklist failed: {detail}")),
                )?;
                r.notes.push(format!(
                    "approval {} was denied: the checklist failed",
                    a.id
                ));
            }
            return self.blocked(r, prod_env, actor);
        }
        r.check(
            "security_scan",
            CheckStatus::Passed,
            if blocking.is_empty() {
                format!(
                    "no open finding at or above {block_at} ({} finding(s) in all)",
                    plan.findings.len()
                )
            } else {
                blocking
                    .iter()
                    .map(|f| {
                        format!(
                            "{} {}",
                            finding_label(f),
                            accepted.get(&f.rule).cloned().unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        );
        Ok(Continue(approval))
    }

    /// The seed's "automate promotion for low-cost resources", when the
    /// policy turns it on: the gate's rule decides, the policy approves.
    pub(super) fn auto_approve(
        &self,
        ws: &Workspace,
        cand: &Candidate<'_>,
        plan: &Plan,
        approval: Option<Approval>,
        r: &mut PromotionReport,
    ) -> Result<Option<Approval>, EngineError> {
        Ok(match approval {
            Some(a)
                if a.status == ApprovalStatus::Pending && self.config().auto_promote_low_cost =>
            {
                match self.auto_promotion(ws, cand.idx, plan, &cand.hist)? {
                    Ok(why) => Some(self.decide(
                        &a.id,
                        &Actor::policy("approval.auto_promote_low_cost"),
                        Some(&why),
                        ApprovalStatus::Approved,
                    )?),
                    Err(why_not) => {
                        r.notes.push(format!(
                            "not promoted automatically (approval.auto_promote_low_cost): {why_not}"
                        ));
                        Some(a)
                    }
                }
            }
            other => other,
        })
    }

    /// Steps 7 and 8: cost and the human's approval.
    pub(super) fn check_cost_and_approval(
        &self,
        cand: &Candidate<'_>,
        plan: &Plan,
        approval: &Option<Approval>,
        r: &mut PromotionReport,
    ) -> Step {
        let (dev_env, prod_env) = (&cand.dev_env, &cand.prod_env);
        let cost = if plan.cost.known {
            format!(
                "{}/month (approval threshold {})",
                plan.cost.monthly_usd,
                self.config().cost_threshold
            )
        } else {
            "could not be estimated: the approver decides on an unknown cost".to_string()
        };
        match (&plan.gate.decision, approval) {
            (GateDecision::Auto, _) => {
                r.check("cost", CheckStatus::Passed, cost);
                r.check(
                    "approval",
                    CheckStatus::Passed,
                    format!("the gate let this plan through in {prod_env} without a human"),
                );
            }
            (_, Some(a)) if a.status == ApprovalStatus::Approved => {
                let by = a.decided_by.clone().unwrap_or_default();
                r.check(
                    "cost",
                    CheckStatus::Passed,
                    format!("{cost}; approved by {by}"),
                );
                r.check(
                    "approval",
                    CheckStatus::Passed,
                    format!("approval {} granted by {by}", a.id),
                );
            }
            (_, Some(a)) if a.status == ApprovalStatus::Denied => {
                let by = a.decided_by.clone().unwrap_or_default();
                let why = a.note.clone().unwrap_or_default();
                r.check("cost", CheckStatus::Passed, cost);
                r.check(
                    "approval",
                    CheckStatus::Failed,
                    format!("approval {} denied by {by}: {why}", a.id),
                );
                // Denied by the checklist (a failed item, a superseded plan),
                // not by a person.
                r.status = if by == Actor::system().to_string() {
                    PromotionState::Blocked
                } else {
                    PromotionState::Denied
                };
                r.message = format!(
                    "the promotion of this exact content was denied ({why}); change the {dev_env} resource to promote a different version"
                );
                return Ok(Break(()));
            }
            (_, a) => {
                let aid = a
                    .as_ref()
                    .map(|a| a.id.clone())
                    .or_else(|| plan.gate.approval_id.clone())
                    .unwrap_or_default();
                r.check(
                    "cost",
                    CheckStatus::Waiting,
                    format!("{cost}; waits for approval {aid}"),
                );
                r.check(
                    "approval",
                    CheckStatus::Waiting,
                    format!("a human runs `infraguard approve {aid}` (or answers the MCP prompt)"),
                );
                r.status = PromotionState::AwaitingApproval;
                r.message = format!(
                    "waiting for a human to approve {aid} ({}); then call promote again to create it in {prod_env}",
                    plan.gate.reasons.join("; ")
                );
                return Ok(Break(()));
            }
        }
        Ok(Continue(()))
    }

    /// Approved: mark the dev resource pending-prod, then create.
    pub(super) fn create_in_prod(
        &self,
        ws: &mut Workspace,
        cand: &Candidate<'_>,
        plan: &Plan,
        r: &mut PromotionReport,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<(), EngineError> {
        let (idx, actor) = (cand.idx, cand.actor);
        let (t, id) = (&cand.item.type_name, &cand.item.identifier);
        let (dev_env, prod_env) = (&cand.dev_env, &cand.prod_env);
        r.dev_tags
            .push(self.set_dev_status(ws, idx, "pending-prod", None)?);
        match self.apply(&plan.id, actor, progress) {
            Ok(ApplyOutcome::Applied {
                plan: applied,
                event,
            }) => {
                let pid = event
                    .identifier
                    .clone()
                    .or(applied.identifier.clone())
                    .unwrap_or_default();
                self.finish_promotion(ws, idx, r, pid, Some(&applied), actor)
            }
            Ok(ApplyOutcome::NeedsApproval { approval, .. }) => {
                r.status = PromotionState::AwaitingApproval;
                r.gate = Some(Gate {
                    decision: plan.gate.decision,
                    reasons: approval.reasons.clone(),
                    approval_id: Some(approval.id.clone()),
                });
                r.check(
                    "approval",
                    CheckStatus::Waiting,
                    format!("the gate asks again: approval {}", approval.id),
                );
                r.message = format!(
                    "the gate needs approval {} before the create; then call promote again",
                    approval.id
                );
                Ok(())
            }
            Ok(ApplyOutcome::Refused { reasons, .. }) => {
                r.status = PromotionState::Denied;
                r.message = format!("the gate refused the create: {}", reasons.join("; "));
                r.dev_tags
                    .push(self.set_dev_status(ws, idx, "dev-only", None)?);
                Ok(())
            }
            Err(e) => {
                let now = self.load_plan(&plan.id)?;
                if now.status == PlanStatus::Failed {
                    r.status = PromotionState::Failed;
                    r.message = format!(
                        "{prod_env} refused the create: {e}; the {dev_env} resource is dev-only again"
                    );
                    r.dev_tags
                        .push(self.set_dev_status(ws, idx, "dev-only", None)?);
                } else {
                    r.status = PromotionState::PendingProd;
                    r.message = format!(
                        "approved, but the create did not finish: {e}; the {dev_env} resource is pending-prod and `promote` again resumes plan {} with the same client token",
                        plan.id
                    );
                }
                let rec = self.record(
                    actor,
                    "promotion.interrupted",
                    Some(prod_env),
                    Some(plan),
                    "failed",
                    json!({"type": t, "dev_id": id, "error": e.to_string(), "status": r.status.as_str()}),
                );
                self.store().append_audit(&[rec])?;
                Ok(())
            }
        }
    }
    /// Record a checklist failure; the report is final, blocked.
    pub(super) fn blocked<T>(
        &self,
        r: &mut PromotionReport,
        prod_env: &str,
        actor: &Actor,
    ) -> Step<T> {
        r.status = PromotionState::Blocked;
        let (key, detail) = r
            .failed_item()
            .map(|c| (c.key.clone(), c.detail.clone()))
            .unwrap_or_default();
        r.message = format!("promotion stopped at `{key}`: {detail}");
        let rec = self.record(
            actor,
            "promotion.blocked",
            Some(prod_env),
            None,
            "refused",
            json!({"type": r.type_name, "dev_id": r.dev_id, "item": key, "reason": detail}),
        );
        self.store().append_audit(&[rec])?;
        Ok(Break(()))
    }
}
