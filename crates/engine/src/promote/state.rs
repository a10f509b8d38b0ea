//! The dev resource's `PromotionStatus` tag as the promotion moves on
//! (the table in `mod.rs`): `dev-only` → `pending-prod` (approved, create
//! sent) → `synced` with `ProdCounterpart`, or back to `dev-only` when the
//! cloud refuses the create for good. Each change is an ordinary dev update
//! plan applied by the system actor ([`Engine::set_dev_status`]);
//! [`Engine::finish_promotion`] is the last transition, once the prod
//! resource exists.
//!
//! Not here: the checklist that decides when to move (`steps`).

use infraguard_core::approval::ApprovalStatus;
use infraguard_core::cloud::Cloud;
use infraguard_core::plan::Plan;
use infraguard_core::resource::Operation;
use infraguard_core::schema::TagStyle;
use infraguard_core::store::Store;
use serde_json::{Value, json};

use super::mapping::Workspace;
use super::report::{PromotionReport, PromotionState, TagUpdate};
use crate::actor::Actor;
use crate::engine::{ApplyOutcome, Engine, PlanRequest};
use crate::error::EngineError;
use crate::inventory::schema_of;
use crate::tags;

impl<C: Cloud, S: Store> Engine<C, S> {
    /// The prod resource exists: read it into the workspace and tag dev.
    pub(super) fn finish_promotion(
        &self,
        ws: &mut Workspace,
        idx: usize,
        r: &mut PromotionReport,
        prod_id: String,
        plan: Option<&Plan>,
        actor: &Actor,
    ) -> Result<(), EngineError> {
        let t = ws.dev.items[idx].type_name.clone();
        let prod_env = ws.envs.prod.name.clone();
        if let (Some(schema), Ok(live)) = (
            schema_of(&t),
            self.get_resource(&prod_env, t.as_str(), &prod_id),
        ) {
            ws.prod
                .insert_described(schema, live.identifier, live.properties);
        }
        r.dev_tags
            .push(self.set_dev_status(ws, idx, "synced", Some(&prod_id))?);
        ws.relink(self);
        let rec = self.record(
            actor,
            "promotion.completed",
            Some(&prod_env),
            plan,
            "ok",
            json!({"type": t, "dev_id": r.dev_id, "prod_id": prod_id}),
        );
        self.store().append_audit(&[rec])?;
        r.status = PromotionState::Synced;
        let tagged = r
            .dev_tags
            .last()
            .map(|u| (u.outcome.clone(), u.approval_id.clone()));
        r.message = match tagged {
            _ if schema_of(&t).is_none_or(|s| s.tagging == TagStyle::None) => format!(
                "created in {prod_env} as `{prod_id}`; {t} carries no tags, so sync and drift pair the two by name"
            ),
            Some((outcome, Some(approval))) if outcome == "awaiting_approval" => format!(
                "created in {prod_env} as `{prod_id}`; the dev resource's PromotionStatus=synced tag waits for approval {approval} (the prod resource's own tag already records the promotion)"
            ),
            Some((outcome, _)) if outcome == "failed" || outcome == "skipped" => format!(
                "created in {prod_env} as `{prod_id}`; the dev resource's tags were not updated ({outcome}); the prod resource's own tag records the promotion"
            ),
            _ => format!("created in {prod_env} as `{prod_id}`; the dev resource is tagged synced"),
        };
        r.prod_id = Some(prod_id);
        Ok(())
    }

    /// Set the dev resource's `PromotionStatus` (and `ProdCounterpart`)
    /// through an ordinary dev update plan, applied by the system actor.
    pub(super) fn set_dev_status(
        &self,
        ws: &mut Workspace,
        idx: usize,
        status: &str,
        counterpart: Option<&str>,
    ) -> Result<TagUpdate, EngineError> {
        let item = ws.dev.items[idx].clone();
        let schema = self.schema(item.type_name.as_str())?;
        let mut update = TagUpdate {
            promotion_status: status.into(),
            prod_counterpart: counterpart.map(str::to_string),
            plan_id: None,
            outcome: "unchanged".into(),
            approval_id: None,
            error: None,
        };
        let Some(tp) = schema.tagging.property() else {
            update.outcome = "skipped".into();
            update.error = Some(format!("{} cannot carry tags", item.type_name));
            return Ok(update);
        };
        let mut wanted = item.tags.clone();
        wanted.insert(tags::PROMOTION_STATUS.into(), status.into());
        match counterpart {
            Some(c) => {
                wanted.insert(tags::PROD_COUNTERPART.into(), c.into());
            }
            None => {
                wanted.remove(tags::PROD_COUNTERPART);
            }
        }
        if wanted == item.tags {
            return Ok(update);
        }
        let Some(op) = tags::patch_op(&item.properties, &schema.tagging, &wanted) else {
            update.outcome = "skipped".into();
            return Ok(update);
        };
        let system = Actor::system();
        // An earlier tag update of this resource still waiting for a human
        // would, if approved later, write stale tags: this one replaces it.
        for a in self.approvals(Some(ApprovalStatus::Pending))? {
            if a.env != ws.envs.dev.name || a.requested_by != system.to_string() {
                continue;
            }
            let earlier = self.load_plan(&a.plan_id)?;
            if earlier.operation == Operation::Update
                && earlier.type_name == item.type_name
                && earlier.identifier.as_deref() == Some(item.identifier.as_str())
            {
                self.deny(
                    &a.id,
                    &system,
                    Some(&format!(
                        "superseded by the tag update to PromotionStatus={status}"
                    )),
                )?;
            }
        }
        let plan = self.plan(PlanRequest {
            env: ws.envs.dev.name.clone(),
            operation: Operation::Update,
            type_name: item.type_name.to_string(),
            purpose: None,
            properties: None,
            identifier: Some(item.identifier.clone()),
            patch: Some(json!([op.clone()])),
            usage: None,
            actor: system.clone(),
        })?;
        update.plan_id = Some(plan.id.clone());
        match self.apply(&plan.id, &system, &mut |_| {}) {
            Ok(ApplyOutcome::Applied { .. }) => {
                update.outcome = "applied".into();
                let it = &mut ws.dev.items[idx];
                it.tags = wanted;
                if let Value::Object(m) = &mut it.properties {
                    m.insert(tp.to_string(), op["value"].clone());
                }
            }
            Ok(ApplyOutcome::NeedsApproval { approval, .. }) => {
                update.outcome = "awaiting_approval".into();
                update.approval_id = Some(approval.id);
            }
            Ok(ApplyOutcome::Refused { reasons, .. }) => {
                update.outcome = "refused".into();
                update.error = Some(reasons.join("; "));
            }
            Err(e) => {
                update.outcome = "failed".into();
                update.error = Some(e.to_string());
            }
        }
        Ok(update)
    }
}
