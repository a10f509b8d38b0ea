//! What infraguard recorded about a dev resource: its plans, newest first,
//! the write-only values they set (the cloud never returns them, so they are
//! restored from the plans for the prod copy), and the findings a human or
//! a suppression accepted in dev. Also the prod plan an earlier `promote`
//! call made for the same content, found through the audit log
//! ([`Engine::linked_plan`]), which supersedes plans for older content,
//! and what the dev side shows for the gate's automatic promotion
//! ([`Engine::auto_promotion`]).
//!
//! Not here: the mapping of the restored properties to prod (`mapping`), the
//! checklist that uses them (`steps`).

use std::collections::{BTreeMap, HashSet};

use infraguard_core::approval::ApprovalStatus;
use infraguard_core::cloud::Cloud;
use infraguard_core::plan::{Plan, PlanStatus};
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_core::schema::ResourceSchema;
use infraguard_core::store::Store;
use serde_json::Value;

use super::mapping::Workspace;
use crate::actor::Actor;
use crate::engine::Engine;
use crate::error::EngineError;
use infraguard_core::pointer;

/// How many recent plans of an environment are read to find a resource's
/// history (its last change, the write-only values it was created with).
pub(crate) const PLAN_SCAN_LIMIT: usize = 10_000;

/// A dev resource's plan history, newest first.
pub(super) fn history<'p>(plans: &'p [Plan], t: &ResourceType, id: &str) -> Vec<&'p Plan> {
    plans
        .iter()
        .filter(|p| p.type_name == *t && p.identifier.as_deref() == Some(id))
        .collect()
}

/// The full state infraguard gave the resource: its create plan's desired
/// state with later applied patches on top. `None` without a create plan.
fn reconstructed_state(hist: &[&Plan]) -> Option<Value> {
    let mut applied: Vec<&&Plan> = hist
        .iter()
        .filter(|p| p.status == PlanStatus::Applied)
        .collect();
    applied.reverse();
    let start = applied
        .iter()
        .rposition(|p| p.operation == Operation::Create)?;
    let mut state = applied[start].desired_state.clone();
    for p in &applied[start + 1..] {
        if p.operation == Operation::Delete {
            return None;
        }
        if let Some(patch) = &p.patch
            && let Ok(parsed) = serde_json::from_value::<json_patch::Patch>(patch.clone())
        {
            // A patch that no longer applies leaves the earlier state: the
            // live properties win for everything but write-only values.
            let mut next = state.clone();
            if json_patch::patch(&mut next, &parsed).is_ok() {
                state = next;
            }
        }
    }
    Some(state)
}

/// Copy write-only values (which the cloud never returns) from `source`
/// into `target` where the target lacks them. Returns the pointers copied.
fn restore_write_only(schema: &ResourceSchema, source: &Value, target: &mut Value) -> Vec<String> {
    let mut copied = Vec::new();
    for pattern in &schema.write_only {
        for (ptr, v) in pointer::find_values(source, pattern) {
            if target.pointer(&ptr).is_none() && pointer::set(target, &ptr, v.clone()) {
                copied.push(ptr);
            }
        }
    }
    copied
}

/// The dev item's listed properties with the write-only values infraguard
/// set restored, and the pointers restored (`None`: infraguard has no
/// record of creating it, so they cannot be known).
pub(super) fn with_write_only(
    schema: &ResourceSchema,
    listed: &Value,
    hist: &[&Plan],
) -> (Value, Option<Vec<String>>) {
    let mut props = listed.clone();
    if schema.write_only.is_empty() {
        return (props, Some(Vec::new()));
    }
    match reconstructed_state(hist) {
        Some(state) => {
            let copied = restore_write_only(schema, &state, &mut props);
            (props, Some(copied))
        }
        None => (props, None),
    }
}

/// Rules a human (or a suppression) accepted for this resource in dev.
pub(super) fn accepted_rules<C: Cloud, S: Store>(
    engine: &Engine<C, S>,
    hist: &[&Plan],
) -> Result<BTreeMap<String, String>, EngineError> {
    let mut out = BTreeMap::new();
    for p in hist.iter().filter(|p| p.status == PlanStatus::Applied) {
        let approval = engine
            .store()
            .approval_for_plan(&p.id)?
            .filter(|a| a.status == ApprovalStatus::Approved);
        for f in &p.findings {
            match (&f.suppressed, &approval) {
                (Some(s), _) => {
                    out.entry(f.rule.clone()).or_insert_with(|| {
                        format!("suppressed ({}: {}) in plan {}", s.source, s.reason, p.id)
                    });
                }
                (None, Some(a)) => {
                    out.entry(f.rule.clone()).or_insert_with(|| {
                        format!(
                            "accepted by {} approving plan {}",
                            a.decided_by.as_deref().unwrap_or("a human"),
                            p.id
                        )
                    });
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// The prod plan an earlier promote call made for this dev resource and
    /// this content, still usable (not failed). Pending plans for older
    /// content of the same resource are superseded: their approvals are
    /// denied so nobody approves a stale version.
    pub(super) fn linked_plan(
        &self,
        t: &ResourceType,
        dev_id: &str,
        source_hash: &str,
    ) -> Result<Option<Plan>, EngineError> {
        let mut found = None;
        let mut stale = Vec::new();
        for e in self.audit_log()? {
            if e.action != "promotion.planned"
                || e.details.get("type").and_then(Value::as_str) != Some(t.as_str())
                || e.details.get("dev_id").and_then(Value::as_str) != Some(dev_id)
            {
                continue;
            }
            let Some(plan_id) = e.plan_id.clone() else {
                continue;
            };
            if e.details.get("source_hash").and_then(Value::as_str) == Some(source_hash) {
                found = Some(plan_id);
            } else {
                stale.push(plan_id);
            }
        }
        let mut seen = HashSet::new();
        for plan_id in stale {
            if !seen.insert(plan_id.clone()) || Some(&plan_id) == found.as_ref() {
                continue;
            }
            if let Some(a) = self
                .store()
                .approval_for_plan(&plan_id)?
                .filter(|a| a.status == ApprovalStatus::Pending)
            {
                self.deny(
                    &a.id,
                    &Actor::system(),
                    Some("superseded: the dev resource changed since this promotion was planned"),
                )?;
            }
        }
        match found {
            Some(id) => {
                // An applied plan whose resource is gone (deleted in prod)
                // cannot be continued: the promotion starts over.
                let plan = self.load_plan(&id)?;
                Ok(
                    matches!(plan.status, PlanStatus::Planned | PlanStatus::Applying)
                        .then_some(plan),
                )
            }
            None => Ok(None),
        }
    }

    /// [`crate::gate::auto_promotion`] for the prod `plan` of dev item
    /// `idx`, with what the dev side shows: the plan infraguard last
    /// applied to it and whether it is live as applied.
    pub(super) fn auto_promotion(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::schema_of;
    use serde_json::json;

    #[test]
    fn write_only_values_come_back_from_the_create_plan() {
        let schema = schema_of(&ResourceType::new("AWS::Lambda::Function").unwrap()).unwrap();
        let source =
            json!({"Code": {"ZipFile": "def handler(e, c): pass"}, "Handler": "index.handler"});
        let mut target = json!({"Handler": "index.handler"});
        let copied = restore_write_only(schema, &source, &mut target);
        assert_eq!(copied, ["/Code/ZipFile"]);
        assert_eq!(target["Code"]["ZipFile"], "def handler(e, c): pass");
    }
}
