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
//! - `steps`: the checklist, one function per item; `promote_one` below
//!   calls them in order.
//! - `state`: the dev tags' state machine (`dev-only` → `pending-prod` →
//!   `synced`).
//! - `report`: [`PromotionReport`] and its parts.
//!
//! Not here: the sync groups (`sync`), the list-page reads (`inventory`),
//! property comparison (`drift`).

use std::ops::ControlFlow::Continue;

use infraguard_core::cloud::{Cloud, ProgressEvent};
use infraguard_core::plan::Plan;
use infraguard_core::store::Store;

use crate::actor::Actor;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::inventory::schema_of;
use crate::sync::ResourceRef;

mod history;
mod mapping;
mod report;
mod state;
mod steps;

pub(crate) use history::PLAN_SCAN_LIMIT;
use history::{history, with_write_only};
pub use mapping::{ReferenceMapping, rename_env};
pub(crate) use mapping::{TRACKING_TAGS, Workspace};
pub use report::{CheckStatus, ChecklistItem, PromotionReport, PromotionState, TagUpdate};
use steps::Candidate;

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

    /// One resource's promotion: the seed's checklist in its order, then
    /// the create. A step that stops (blocked, waiting for a human, denied,
    /// done already) leaves the report final.
    fn promote_one(
        &self,
        ws: &mut Workspace,
        idx: usize,
        dev_plans: &[Plan],
        actor: &Actor,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<PromotionReport, EngineError> {
        let cand = Candidate::new(self, ws, idx, dev_plans, actor)?;
        let mut r = PromotionReport::new(&cand.item.type_name, &cand.item.identifier);
        let Continue(()) = self.already_in_prod(ws, &cand, &mut r)? else {
            return Ok(r);
        };
        let Continue(()) = self.check_tested_in_dev(&cand, &mut r)? else {
            return Ok(r);
        };
        let Continue(props) = self.check_dependencies(ws, &cand, &mut r)? else {
            return Ok(r);
        };
        let Continue(props) = self.check_properties(&cand, props, &mut r)? else {
            return Ok(r);
        };
        let Continue(()) = self.check_no_conflict(ws, &cand, &props, &mut r)? else {
            return Ok(r);
        };
        let Continue(plan) = self.prod_plan(ws, &cand, props, &mut r)? else {
            return Ok(r);
        };
        let Continue(approval) = self.check_security_scan(&cand, &plan, &mut r)? else {
            return Ok(r);
        };
        let approval = self.auto_approve(ws, &cand, &plan, approval, &mut r)?;
        let Continue(()) = self.check_cost_and_approval(&cand, &plan, &approval, &mut r)? else {
            return Ok(r);
        };
        self.create_in_prod(ws, &cand, &plan, &mut r, progress)?;
        Ok(r)
    }
}
