//! Promotion of a dev resource to prod (the seed's section 3.4), as one
//! engine call.
//!
//! The prod plan is built from the dev resource's live properties: read-only
//! (generated) properties removed, write-only ones restored from the plan
//! that set them in dev (the cloud never returns them), the name moved from
//! `-dev` to `-prod`, the `Environment` tag set to the prod value, tracking
//! tags dropped, other tags kept, and every reference to another dev
//! resource (its identifier, name, ARN or other generated attribute, or the
//! dev account id) replaced by its prod counterpart's. A reference to a dev
//! resource with no prod counterpart stops the promotion and names what must
//! be promoted first, unless dependencies are promoted too, in dependency
//! order.
//!
//! The plan then takes the normal path (scan, estimate, gate, a human's
//! approval for prod, apply), and the dev resource's tags record the result
//! through ordinary dev update plans applied by the system actor:
//!
//! | moment | dev tags |
//! |---|---|
//! | created in dev | `PromotionStatus=dev-only` |
//! | prod plan approved, create being sent (or interrupted) | `PromotionStatus=pending-prod` |
//! | created in prod | `PromotionStatus=synced`, `ProdCounterpart=<prod id>` |
//!
//! So `pending-prod` is the state between a human's approval and a
//! finished create: it stays when the create is interrupted (throttling,
//! still `IN_PROGRESS` after the polls) and the next `promote` call resumes
//! the same plan with the same client token. If the cloud refuses the create
//! for good, the tag goes back to `dev-only`.
//!
//! A promotion waiting for a human returns the approval id; calling
//! `promote` again finds the same plan (linked in the audit log by a hash
//! of the prod properties it was built from) instead of asking twice. With
//! dependencies every prod create is approved on its own, so each call
//! advances as far as the approvals given allow.
//!
//! # Layout
//!
//! - `mapping`: the pure part: `Workspace` (both environments as listed
//!   and their links) and how dev properties become prod ones
//!   ([`rename_env`], [`ReferenceMapping`]).
//! - `history`: what infraguard recorded about the dev resource: its plans,
//!   the write-only values they set, the findings accepted in dev, the prod
//!   plan an earlier call made.
//! - `promote_one`, below: the checklist, item by item.
//! - `state`: the dev tags' state machine (`dev-only` → `pending-prod` →
//!   `synced`).
//! - `report`: [`PromotionReport`] and its parts.
//!
//! Not here: the sync groups (`sync`), the list-page reads (`inventory`),
//! property comparison (`drift`).

use infraguard_core::Finding;
use infraguard_core::approval::ApprovalStatus;
use infraguard_core::cloud::{Cloud, ProgressEvent};
use infraguard_core::plan::{Gate, GateDecision, Plan, PlanStatus};
use infraguard_core::resource::Operation;
use infraguard_core::schema::TagStyle;
use infraguard_core::store::Store;
use serde_json::{Value, json};

use crate::actor::Actor;
use crate::engine::{ApplyOutcome, Engine, PlanRequest};
use crate::error::EngineError;
use crate::hash::content_hash;
use crate::inventory::{name_of, schema_of};
use crate::sync::{Counterpart, DEV_COUNTERPART, ResourceRef};
use crate::tags;

mod history;
mod mapping;
mod report;
mod state;

pub(crate) use history::PLAN_SCAN_LIMIT;
use history::{accepted_rules, history, with_write_only};
pub use mapping::{ReferenceMapping, rename_env};
pub(crate) use mapping::{TRACKING_TAGS, Workspace};
pub use report::{CheckStatus, ChecklistItem, PromotionReport, PromotionState, TagUpdate};

fn finding_label(f: &Finding) -> String {
    format!("{} ({}) {}", f.rule, f.severity, f.title)
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// Promote one dev resource to prod (the MCP tool `promote_resource`).
    ///
    /// Returns a report whatever the outcome of the checklist and the gate;
    /// `Err` only for a bad request (unknown type or resource) or a failure
    /// to read or record.
    pub fn promote(
        &self,
        type_name: &str,
        dev_id: &str,
        with_dependencies: bool,
        actor: &Actor,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<PromotionReport, EngineError> {
        let schema = self.schema(type_name)?;
        let t = schema.type_name.clone();
        let types = self.types_for(None)?;
        let mut ws = Workspace::read(self, &types)?;
        let target = ws.dev.find(&t, dev_id).ok_or_else(|| {
            EngineError::InvalidInput(format!(
                "there is no {t} `{dev_id}` in {}: list them with `infraguard resources list --env {} --type {t}`",
                ws.envs.dev.name, ws.envs.dev.name
            ))
        })?;
        // The stored plans, not the redacted copies callers get: write-only
        // values are restored from them.
        let dev_plans = self
            .store()
            .plans(Some(&ws.envs.dev.name), PLAN_SCAN_LIMIT)?;
        let order = if with_dependencies {
            self.dependency_order(&ws, target, &dev_plans)?
        } else {
            vec![target]
        };
        let mut done: Vec<PromotionReport> = Vec::new();
        for idx in order {
            let report = self.promote_one(&mut ws, idx, &dev_plans, actor, progress)?;
            if idx == target {
                let mut report = report;
                report.dependencies = done;
                return Ok(report);
            }
            let stopped = report.status != PromotionState::Synced;
            done.push(report);
            if stopped {
                return Ok(self.waiting_for_dependency(&ws, target, done));
            }
        }
        // The target is always last in the order.
        Err(EngineError::InvalidInput(format!(
            "{t} `{dev_id}` was not in its own promotion order"
        )))
    }

    /// The report of a promotion stopped at one of its dependencies.
    fn waiting_for_dependency(
        &self,
        ws: &Workspace,
        target: usize,
        done: Vec<PromotionReport>,
    ) -> PromotionReport {
        let item = &ws.dev.items[target];
        let mut r = PromotionReport::new(&item.type_name, &item.identifier);
        let Some(dep) = done.last() else {
            return r;
        };
        r.status = match dep.status {
            PromotionState::AwaitingApproval => PromotionState::AwaitingApproval,
            PromotionState::PendingProd => PromotionState::PendingProd,
            PromotionState::Failed => PromotionState::Failed,
            _ => PromotionState::Blocked,
        };
        r.gate = dep.gate.clone();
        r.waiting_on = Some(ResourceRef {
            type_name: dep.type_name.clone(),
            identifier: dep.dev_id.clone(),
        });
        r.message = format!(
            "waits for its dependency {} `{}` ({}): {}",
            dep.type_name,
            dep.dev_id,
            dep.status.as_str(),
            dep.message
        );
        let detail = format!(
            "{} `{}` must be in prod first: {}",
            dep.type_name,
            dep.dev_id,
            dep.status.as_str()
        );
        let status = if dep.status == PromotionState::AwaitingApproval {
            CheckStatus::Waiting
        } else {
            CheckStatus::Failed
        };
        // The other items are checked when its turn comes.
        r.check("dependencies", status, detail);
        r.dependencies = done;
        r
    }

    /// Dev resources to promote so that `target` can be: dependencies
    /// first, each once, `target` last.
    fn dependency_order(
        &self,
        ws: &Workspace,
        target: usize,
        dev_plans: &[Plan],
    ) -> Result<Vec<usize>, EngineError> {
        fn visit(
            ws: &Workspace,
            dev_plans: &[Plan],
            idx: usize,
            stack: &mut Vec<usize>,
            done: &mut Vec<usize>,
        ) -> Result<(), EngineError> {
            if done.contains(&idx) {
                return Ok(());
            }
            if stack.contains(&idx) {
                let cycle: Vec<String> = stack
                    .iter()
                    .chain(std::iter::once(&idx))
                    .map(|&i| {
                        format!(
                            "{} `{}`",
                            ws.dev.items[i].type_name, ws.dev.items[i].identifier
                        )
                    })
                    .collect();
                return Err(EngineError::InvalidInput(format!(
                    "the dependencies form a cycle ({}): promote one of them without the reference first, then update it",
                    cycle.join(" -> ")
                )));
            }
            stack.push(idx);
            let item = &ws.dev.items[idx];
            let mapped = match schema_of(&item.type_name) {
                Some(schema) => {
                    let hist = history(dev_plans, &item.type_name, &item.identifier);
                    ws.map_props(idx, &with_write_only(schema, &item.properties, &hist).0)
                }
                None => ws.map(idx),
            };
            let mut deps: Vec<usize> = mapped.missing.iter().map(|m| m.item).collect();
            deps.dedup();
            for d in deps {
                visit(ws, dev_plans, d, stack, done)?;
            }
            stack.pop();
            done.push(idx);
            Ok(())
        }
        let mut done = Vec::new();
        visit(ws, dev_plans, target, &mut Vec::new(), &mut done)?;
        Ok(done)
    }

    fn promote_one(
        &self,
        ws: &mut Workspace,
        idx: usize,
        dev_plans: &[Plan],
        actor: &Actor,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<PromotionReport, EngineError> {
        let item = ws.dev.items[idx].clone();
        let t = item.type_name.clone();
        let id = item.identifier.clone();
        let schema = self.schema(t.as_str())?;
        let (dev_env, prod_env) = (ws.envs.dev.name.clone(), ws.envs.prod.name.clone());
        let mut r = PromotionReport::new(&t, &id);

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
                return Ok(r);
            }
            Counterpart::Missing { expected } => r.notes.push(format!(
                "its ProdCounterpart `{expected}` no longer exists in {prod_env}: promoting it again"
            )),
            Counterpart::None => {}
        }

        // 1. Tested in dev: the last change infraguard made succeeded.
        let hist = history(dev_plans, &t, &id);
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
                return self.blocked(r, &prod_env, actor);
            }
            Some(p) if p.status == PlanStatus::Applying => {
                r.check(
                    "tested_in_dev",
                    CheckStatus::Failed,
                    format!("a change is still in flight in {dev_env} (plan {}): finish it with `infraguard apply {}` first", p.id, p.id),
                );
                return self.blocked(r, &prod_env, actor);
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

        // 2. Dependencies: every referenced dev resource has a prod
        // counterpart (write-only values count: a function's code bucket).
        let (full, restored) = with_write_only(schema, &item.properties, &hist);
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
            return self.blocked(r, &prod_env, actor);
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
            return self.blocked(r, &prod_env, actor);
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

        // 3. Properties: complete and valid.
        let mut props = mapped.props;
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
            return self.blocked(r, &prod_env, actor);
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
        let source_hash = content_hash(&json!({"type": t, "dev": id, "properties": props}));

        // 4. No unrelated prod resource holds the name.
        // By identifier, or by name where prod generates the identifier
        // (an SQS queue's URL): a queue of that name would make the create fail.
        let prod_identifier = schema
            .identifier_of(&props)
            .or_else(|| name_of(schema, &props).map(str::to_string));
        if let Some(key) = &prod_identifier
            && let Some(p) = ws.prod.find(&t, key)
        {
            let pid = &ws.prod.items[p].identifier.clone();
            if ws.prod.items[p].tags.get(DEV_COUNTERPART) == Some(&id) {
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
                return self.finish_promotion(ws, idx, r, pid.clone(), None, actor);
            }
            r.check(
                "no_conflict",
                CheckStatus::Failed,
                format!(
                    "{prod_env} already has {t} `{pid}`, which was not promoted from this resource: if it is the counterpart, tag this resource ProdCounterpart={pid}; otherwise rename one of them"
                ),
            );
            return self.blocked(r, &prod_env, actor);
        }
        r.check(
            "no_conflict",
            CheckStatus::Passed,
            match &prod_identifier {
                Some(key) => format!("no {t} `{key}` in {prod_env} yet"),
                None => format!("{prod_env} generates the name"),
            },
        );

        // 5. The prod plan: the one made for this content before, or a new one.
        let plan = match self.linked_plan(&t, &id, &source_hash)? {
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
                    Some(&prod_env),
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
            return self.finish_promotion(ws, idx, r, pid, Some(&plan), actor);
        }

        // 6. Security scan: blocking findings must have been accepted in dev.
        let approval = match &plan.gate.approval_id {
            Some(_) => self.store().approval_for_plan(&plan.id)?,
            None => None,
        };
        let block_at = self.config().block_findings_at;
        let accepted = accepted_rules(self, &hist)?;
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
            return self.blocked(r, &prod_env, actor);
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

        // The seed's "automate promotion for low-cost resources", when the
        // policy turns it on: the gate's rule decides, the policy approves.
        let approval = match approval {
            Some(a)
                if a.status == ApprovalStatus::Pending && self.config().auto_promote_low_cost =>
            {
                match self.auto_promotion(ws, idx, &plan, &hist)? {
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
        };

        // 7 and 8. Cost and the human's approval.
        let cost = if plan.cost.known {
            format!(
                "{}/month (approval threshold {})",
                plan.cost.monthly_usd,
                self.config().cost_threshold
            )
        } else {
            "could not be estimated: the approver decides on an unknown cost".to_string()
        };
        match (&plan.gate.decision, &approval) {
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
                return Ok(r);
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
                return Ok(r);
            }
        }

        // Approved: mark the dev resource pending-prod, then create.
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
                Ok(r)
            }
            Ok(ApplyOutcome::Refused { reasons, .. }) => {
                r.status = PromotionState::Denied;
                r.message = format!("the gate refused the create: {}", reasons.join("; "));
                r.dev_tags
                    .push(self.set_dev_status(ws, idx, "dev-only", None)?);
                Ok(r)
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
                    Some(&prod_env),
                    Some(&plan),
                    "failed",
                    json!({"type": t, "dev_id": id, "error": e.to_string(), "status": r.status.as_str()}),
                );
                self.store().append_audit(&[rec])?;
                Ok(r)
            }
        }
    }

    /// Record a checklist failure and return the blocked report.
    fn blocked(
        &self,
        mut r: PromotionReport,
        prod_env: &str,
        actor: &Actor,
    ) -> Result<PromotionReport, EngineError> {
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
        Ok(r)
    }
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// [`crate::gate::auto_promotion`] for the prod `plan` of dev item
    /// `idx`, with what the dev side shows: the plan infraguard last
    /// applied to it and whether it is live as applied.
    fn auto_promotion(
        &self,
        ws: &Workspace,
        idx: usize,
        plan: &Plan,
        hist: &[&Plan],
    ) -> Result<Result<String, String>, EngineError> {
        let item = &ws.dev.items[idx];
        let applied_by = match hist.first() {
            Some(p) if p.status == PlanStatus::Applied => Some(p.id.as_str()),
            _ => None,
        };
        let (_, changed) = self.out_of_band(&ws.dev, std::slice::from_ref(&item.type_name))?;
        let unchanged = !changed
            .iter()
            .any(|o| o.identifier == item.identifier && o.type_name == item.type_name.as_str());
        let env = self.config().environment(&plan.env)?.clone();
        Ok(crate::gate::auto_promotion(
            &crate::gate::GateInput {
                env: &env,
                operation: plan.operation,
                cost: &plan.cost,
                findings: &plan.findings,
                threshold: self.config().cost_threshold,
                block_at: self.config().block_findings_at,
                scanned: env.scanning,
            },
            &crate::gate::DevFacts {
                applied_by,
                unchanged,
            },
        ))
    }
}
