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
//! Not here: the sync groups (`sync`), the list-page reads (`inventory`),
//! property comparison (`drift`).

use std::collections::{BTreeMap, HashMap, HashSet};

use infraguard_core::Finding;
use infraguard_core::approval::ApprovalStatus;
use infraguard_core::cloud::{Cloud, ProgressEvent};
use infraguard_core::plan::{Gate, GateDecision, Plan, PlanStatus};
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_core::schema::{ResourceSchema, TagStyle};
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::actor::Actor;
use crate::engine::{ApplyOutcome, Engine, PlanRequest};
use crate::error::EngineError;
use crate::hash::content_hash;
use crate::inventory::{
    Inventory, PromotionEnvs, name_of, resolve_pattern, schema_of, set_pointer, without_read_only,
};
use crate::sync::{Counterpart, DEV_COUNTERPART, ResourceRef};
use crate::tags;

/// How many recent plans of an environment are read to find a resource's
/// history (its last change, the write-only values it was created with).
pub(crate) const PLAN_SCAN_LIMIT: usize = 10_000;

/// Strings shorter than this are not treated as references: short values
/// (`/`, `true`, `1`) would match by accident.
const MIN_REFERENCE_LEN: usize = 6;

/// Tags that describe a resource's life cycle in its own environment; they
/// are never copied to the other one.
pub(crate) const TRACKING_TAGS: [&str; 3] = [
    tags::PROMOTION_STATUS,
    tags::PROD_COUNTERPART,
    DEV_COUNTERPART,
];

/// `name` with its environment part moved from `from` to `to`: the last
/// separator-delimited word equal to `from` (any case) is replaced, keeping
/// its case style. `None` when the name has no such word (IAM policy names
/// such as `SynthCoreAI-S3-FileUpload` carry no environment).
pub fn rename_env(name: &str, from: &str, to: &str) -> Option<String> {
    if from.is_empty() {
        return None;
    }
    let mut last = None;
    let mut start = 0;
    for (i, c) in name
        .char_indices()
        .chain(std::iter::once((name.len(), '-')))
    {
        if !c.is_ascii_alphanumeric() {
            if name[start..i].eq_ignore_ascii_case(from) {
                last = Some((start, i));
            }
            start = i + c.len_utf8();
        }
    }
    let (s, e) = last?;
    let word = &name[s..e];
    let replacement =
        if word.chars().all(|c| !c.is_ascii_lowercase()) && word != word.to_ascii_lowercase() {
            to.to_ascii_uppercase()
        } else if word.starts_with(|c: char| c.is_ascii_uppercase()) {
            let mut c = to.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        } else {
            to.to_string()
        };
    Some(format!("{}{replacement}{}", &name[..s], &name[e..]))
}

/// Where a string identifying a dev resource came from.
#[derive(Clone, Debug)]
struct RefTarget {
    item: usize,
    /// `None`: the identifier; otherwise the pointer of the property.
    pointer: Option<String>,
}

/// Every string that identifies a dev resource (identifier, name,
/// generated attributes such as ARNs), to find references by value.
pub(crate) struct RefIndex {
    map: HashMap<String, Vec<RefTarget>>,
}

impl RefIndex {
    pub fn build(dev: &Inventory) -> RefIndex {
        let mut map: HashMap<String, Vec<RefTarget>> = HashMap::new();
        let mut add = |s: &str, target: RefTarget| {
            if s.len() < MIN_REFERENCE_LEN {
                return;
            }
            let list = map.entry(s.to_string()).or_default();
            if !list.iter().any(|t| t.item == target.item) {
                list.push(target);
            }
        };
        for (i, item) in dev.items.iter().enumerate() {
            add(
                &item.identifier,
                RefTarget {
                    item: i,
                    pointer: None,
                },
            );
            let Some(schema) = schema_of(&item.type_name) else {
                continue;
            };
            if let (Some(np), Some(n)) = (&schema.name_property, name_of(schema, &item.properties))
            {
                add(
                    n,
                    RefTarget {
                        item: i,
                        pointer: Some(format!("/{np}")),
                    },
                );
            }
            for pattern in &schema.read_only {
                for (ptr, v) in resolve_pattern(&item.properties, pattern) {
                    if let Some(s) = v.as_str() {
                        add(
                            s,
                            RefTarget {
                                item: i,
                                pointer: Some(ptr),
                            },
                        );
                    }
                }
            }
        }
        RefIndex { map }
    }
}

/// One value changed on the way to prod.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceMapping {
    /// Where in the properties.
    pub pointer: String,
    /// `name` (naming convention), `resource` (another dev resource),
    /// `self` (the resource's own name inside a value), `account` (the dev
    /// account id).
    pub kind: String,
    pub dev_value: String,
    pub prod_value: String,
    /// The dev resource referred to (`resource`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceRef>,
}

/// A dev resource referred to that has no prod counterpart yet.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Missing {
    pub item: usize,
    pub pointer: String,
    /// Other dev resources with the same value (an ambiguous name).
    pub alternatives: usize,
}

/// The dev properties as they should be in prod.
#[derive(Clone, Debug)]
pub(crate) struct Mapped {
    pub props: Value,
    pub references: Vec<ReferenceMapping>,
    pub missing: Vec<Missing>,
    pub notes: Vec<String>,
}

/// Both environments as listed, the reference index and the links, for one
/// promotion or drift run.
pub(crate) struct Workspace {
    pub envs: PromotionEnvs,
    pub dev: Inventory,
    pub prod: Inventory,
    pub refs: RefIndex,
    /// The counterpart of each dev item.
    pub links: Vec<Counterpart>,
    pub dev_account: Option<String>,
    pub prod_account: Option<String>,
    /// The project's resource-name prefix, to spot dev-looking names.
    pub prefix: String,
}

impl Workspace {
    pub fn read<C: Cloud, S: Store>(
        engine: &Engine<C, S>,
        types: &[ResourceType],
    ) -> Result<Workspace, EngineError> {
        let envs = engine.promotion_envs()?;
        let dev = Inventory::read(engine, &envs.dev.name, types)?;
        let prod = Inventory::read(engine, &envs.prod.name, types)?;
        let account = |env: &str| {
            engine
                .cloud(env)
                .ok()
                .and_then(|c| c.identity().ok())
                .map(|i| i.account_id)
        };
        let dev_account = account(&envs.dev.name);
        let prod_account = account(&envs.prod.name);
        let mut ws = Workspace {
            refs: RefIndex::build(&dev),
            links: Vec::new(),
            dev_account,
            prod_account,
            prefix: engine.config().prefix.clone(),
            envs,
            dev,
            prod,
        };
        ws.relink(engine);
        Ok(ws)
    }

    pub fn relink<C: Cloud, S: Store>(&mut self, engine: &Engine<C, S>) {
        self.links = engine.links(&self.envs, &self.dev, &self.prod);
    }

    fn prod_of(&self, dev_item: usize) -> Option<usize> {
        match self.links.get(dev_item) {
            Some(Counterpart::Found { prod, .. }) => Some(*prod),
            _ => None,
        }
    }

    /// The dev item's properties as they should be in prod.
    pub fn map(&self, idx: usize) -> Mapped {
        self.map_props(idx, &self.dev.items[idx].properties)
    }

    /// `map` of the dev item with `source` as its properties (the listed
    /// ones with write-only values restored, for a promotion).
    pub fn map_props(&self, idx: usize, source: &Value) -> Mapped {
        let item = &self.dev.items[idx];
        let mut out = Mapped {
            props: Value::Null,
            references: Vec::new(),
            missing: Vec::new(),
            notes: Vec::new(),
        };
        let Some(schema) = schema_of(&item.type_name) else {
            out.props = source.clone();
            return out;
        };
        let (from, to) = (self.envs.dev.name.as_str(), self.envs.prod.name.as_str());
        let mut props = without_read_only(schema, source);

        // The resource's own name, by the naming convention.
        let mut own_names: Vec<(String, String)> = Vec::new();
        if let Some(np) = &schema.name_property
            && let Some(name) = props.get(np).and_then(Value::as_str).map(str::to_string)
        {
            match rename_env(&name, from, to) {
                Some(new) => {
                    out.references.push(ReferenceMapping {
                        pointer: format!("/{np}"),
                        kind: "name".into(),
                        dev_value: name.clone(),
                        prod_value: new.clone(),
                        resource: None,
                    });
                    props[np.as_str()] = Value::String(new.clone());
                    own_names.push((name, new));
                }
                None => out.notes.push(format!(
                    "{np} `{name}` has no `{from}` part, so prod uses the same name (in its own account)"
                )),
            }
        }
        if item.identifier != name_of(schema, &item.properties).unwrap_or_default()
            && let Some(new) = rename_env(&item.identifier, from, to)
        {
            own_names.push((item.identifier.clone(), new));
        }

        let skip: Vec<&str> = schema
            .name_property
            .as_deref()
            .into_iter()
            .chain(schema.tagging.property())
            .collect();
        if let Value::Object(map) = &mut props {
            for (k, v) in map.iter_mut() {
                if skip.contains(&k.as_str()) {
                    continue;
                }
                let mut at = format!("/{}", crate::inventory::escape(k));
                self.map_value(idx, &own_names, v, &mut at, &mut out);
            }
        }

        // Tags: tracking tags stay behind, the environment tag changes, and
        // the prod resource remembers where it came from.
        if let Some(tp) = schema.tagging.property() {
            let mut t = tags::read(&props, &schema.tagging);
            for k in TRACKING_TAGS {
                t.remove(k);
            }
            t.insert(tags::ENVIRONMENT.into(), self.envs.prod.tag_value.clone());
            t.insert(DEV_COUNTERPART.into(), item.identifier.clone());
            if let Value::Object(m) = &mut props {
                m.remove(tp);
            }
            tags::apply(&mut props, &schema.tagging, &t);
        }
        out.props = props;
        out
    }

    fn map_value(
        &self,
        idx: usize,
        own_names: &[(String, String)],
        v: &mut Value,
        at: &mut String,
        out: &mut Mapped,
    ) {
        match v {
            Value::String(s) => {
                if let Some(new) = self.map_string(idx, own_names, s, at, out) {
                    *s = new;
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter_mut().enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    self.map_value(idx, own_names, child, at, out);
                    at.truncate(len);
                }
            }
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    let len = at.len();
                    at.push('/');
                    at.push_str(&crate::inventory::escape(k));
                    self.map_value(idx, own_names, child, at, out);
                    at.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// Whether `value` is the dev item's name or one of its generated
    /// (read-only) attributes.
    fn is_own_value(&self, idx: usize, value: &str) -> bool {
        let item = &self.dev.items[idx];
        let Some(schema) = schema_of(&item.type_name) else {
            return false;
        };
        name_of(schema, &item.properties) == Some(value)
            || schema.read_only.iter().any(|p| {
                resolve_pattern(&item.properties, p)
                    .iter()
                    .any(|(_, v)| v.as_str() == Some(value))
            })
    }

    /// The prod value of one string, or `None` to keep it.
    fn map_string(
        &self,
        idx: usize,
        own_names: &[(String, String)],
        s: &str,
        at: &str,
        out: &mut Mapped,
    ) -> Option<String> {
        let mut hit = self.refs.map.get(s).map(|t| (t, ""));
        if hit.is_none() && s.starts_with("arn:") {
            // `arn:aws:s3:::bucket/*`: the longest prefix ending at a
            // separator that is a dev resource's value.
            hit = s
                .char_indices()
                .filter(|(_, c)| *c == '/' || *c == ':')
                .map(|(i, _)| i)
                .rev()
                .find_map(|i| self.refs.map.get(&s[..i]).map(|t| (t, &s[i..])));
        }
        let mut mapped: Option<String> = None;
        if let Some((all, suffix)) = hit {
            // A value that is the resource's own name or generated attribute
            // refers to itself (a function's own name in its environment
            // variables, even when its role has the same name). A value
            // that is only its identifier refers to the other resource that
            // has it: a bucket policy's identifier is its bucket's name.
            let others: Vec<&RefTarget> = all.iter().filter(|t| t.item != idx).collect();
            let key = &s[..s.len() - suffix.len()];
            let refers_to_self =
                others.len() < all.len() && (others.is_empty() || self.is_own_value(idx, key));
            if refers_to_self {
                let mut new = s.to_string();
                for (old, name) in own_names {
                    new = new.replace(old.as_str(), name);
                }
                if new != s {
                    out.references.push(ReferenceMapping {
                        pointer: at.to_string(),
                        kind: "self".into(),
                        dev_value: s.to_string(),
                        prod_value: new.clone(),
                        resource: None,
                    });
                    mapped = Some(new);
                }
            } else {
                let resolved = others.iter().find_map(|t| {
                    let p = self.prod_of(t.item)?;
                    let prod_item = &self.prod.items[p];
                    let value = match &t.pointer {
                        None => prod_item.identifier.clone(),
                        Some(ptr) => prod_item.properties.pointer(ptr)?.as_str()?.to_string(),
                    };
                    Some((t.item, value))
                });
                match resolved {
                    Some((dev_item, value)) => {
                        let new = format!("{value}{suffix}");
                        out.references.push(ReferenceMapping {
                            pointer: at.to_string(),
                            kind: "resource".into(),
                            dev_value: s.to_string(),
                            prod_value: new.clone(),
                            resource: Some(ResourceRef::of(&self.dev.items[dev_item])),
                        });
                        return Some(new);
                    }
                    None => {
                        out.missing.push(Missing {
                            item: others[0].item,
                            pointer: at.to_string(),
                            alternatives: others.len() - 1,
                        });
                        return None;
                    }
                }
            }
        }
        let current = mapped.clone().unwrap_or_else(|| s.to_string());
        if let (Some(dev), Some(prod)) = (&self.dev_account, &self.prod_account)
            && current.contains(dev.as_str())
        {
            let new = current.replace(dev.as_str(), prod);
            out.references.push(ReferenceMapping {
                pointer: at.to_string(),
                kind: "account".into(),
                dev_value: current,
                prod_value: new.clone(),
                resource: None,
            });
            return Some(new);
        }
        if mapped.is_none()
            && s.starts_with(&format!("{}-", self.prefix))
            && rename_env(s, &self.envs.dev.name, &self.envs.prod.name).is_some()
        {
            out.notes.push(format!(
                "{at} = `{s}` looks like a {} name but no {} resource has it: left unchanged",
                self.envs.dev.name, self.envs.dev.name
            ));
        }
        mapped
    }
}

// ----- reports -----------------------------------------------------------

/// Where a promotion stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionState {
    /// In prod, and the dev tags say so.
    Synced,
    /// A human must approve the prod plan (`gate.approval_id`); call
    /// `promote` again afterwards.
    AwaitingApproval,
    /// Approved, the create was sent but did not finish; `promote` again
    /// resumes it.
    PendingProd,
    /// A checklist item failed: nothing was created.
    Blocked,
    /// A human denied this exact promotion.
    Denied,
    /// The cloud refused the create.
    Failed,
}

impl PromotionState {
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionState::Synced => "synced",
            PromotionState::AwaitingApproval => "awaiting_approval",
            PromotionState::PendingProd => "pending_prod",
            PromotionState::Blocked => "blocked",
            PromotionState::Denied => "denied",
            PromotionState::Failed => "failed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Passed,
    Failed,
    /// Waits for a human.
    Waiting,
    /// An earlier item stopped the promotion.
    NotReached,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "failed",
            CheckStatus::Waiting => "waiting",
            CheckStatus::NotReached => "not_reached",
        }
    }
}

/// One item of the seed's promotion checklist.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub key: String,
    pub title: String,
    pub status: CheckStatus,
    pub detail: String,
}

/// The checklist, in the seed's order.
const CHECKLIST: [(&str, &str); 7] = [
    (
        "tested_in_dev",
        "Resource exists in dev and its last change succeeded",
    ),
    (
        "dependencies",
        "Dependencies identified and present in prod",
    ),
    ("properties", "Prod properties complete and valid"),
    ("no_conflict", "No unrelated prod resource holds the name"),
    (
        "security_scan",
        "Security scan passed (or its findings were accepted)",
    ),
    ("cost", "Cost estimated and approved"),
    ("approval", "A human confirmed the promotion to prod"),
];

/// A dev tag update made (or attempted) by the promotion.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TagUpdate {
    pub promotion_status: String,
    pub prod_counterpart: Option<String>,
    /// The dev update plan.
    pub plan_id: Option<String>,
    /// `applied`, `unchanged`, `awaiting_approval`, `refused`, `failed`,
    /// `skipped` (the type cannot carry tags).
    pub outcome: String,
    pub approval_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PromotionReport {
    #[serde(rename = "type")]
    pub type_name: String,
    pub dev_id: String,
    pub status: PromotionState,
    pub prod_id: Option<String>,
    /// The prod create plan.
    pub plan_id: Option<String>,
    /// The gate of the plan that waits (this one's, or a dependency's):
    /// `gate.approval_id` is what a human must approve.
    pub gate: Option<Gate>,
    /// The dependency whose approval this promotion waits for.
    pub waiting_on: Option<ResourceRef>,
    /// What happened and the next step, in one sentence.
    pub message: String,
    pub checklist: Vec<ChecklistItem>,
    pub references: Vec<ReferenceMapping>,
    pub dev_tags: Vec<TagUpdate>,
    pub notes: Vec<String>,
    /// Dependencies promoted (or attempted) first, in order.
    pub dependencies: Vec<PromotionReport>,
}

impl PromotionReport {
    fn new(t: &ResourceType, id: &str) -> PromotionReport {
        PromotionReport {
            type_name: t.to_string(),
            dev_id: id.to_string(),
            status: PromotionState::Blocked,
            prod_id: None,
            plan_id: None,
            gate: None,
            waiting_on: None,
            message: String::new(),
            checklist: CHECKLIST
                .iter()
                .map(|(k, title)| ChecklistItem {
                    key: (*k).into(),
                    title: (*title).into(),
                    status: CheckStatus::NotReached,
                    detail: String::new(),
                })
                .collect(),
            references: Vec::new(),
            dev_tags: Vec::new(),
            notes: Vec::new(),
            dependencies: Vec::new(),
        }
    }

    fn check(&mut self, key: &str, status: CheckStatus, detail: impl Into<String>) {
        if let Some(c) = self.checklist.iter_mut().find(|c| c.key == key) {
            c.status = status;
            c.detail = detail.into();
        }
    }

    /// The checklist item that stopped the promotion.
    pub fn failed_item(&self) -> Option<&ChecklistItem> {
        self.checklist
            .iter()
            .find(|c| c.status == CheckStatus::Failed)
    }
}

// ----- the promotion -------------------------------------------------------

/// A dev resource's plan history, newest first.
fn history<'p>(plans: &'p [Plan], t: &ResourceType, id: &str) -> Vec<&'p Plan> {
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
        for (ptr, v) in resolve_pattern(source, pattern) {
            if target.pointer(&ptr).is_none() && set_pointer(target, &ptr, v.clone()) {
                copied.push(ptr);
            }
        }
    }
    copied
}

/// The dev item's listed properties with the write-only values infraguard
/// set restored, and the pointers restored (`None`: infraguard has no
/// record of creating it, so they cannot be known).
fn with_write_only(
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
fn accepted_rules<C: Cloud, S: Store>(
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

    /// The prod resource exists: read it into the workspace and tag dev.
    fn finish_promotion(
        &self,
        ws: &mut Workspace,
        idx: usize,
        mut r: PromotionReport,
        prod_id: String,
        plan: Option<&Plan>,
        actor: &Actor,
    ) -> Result<PromotionReport, EngineError> {
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
        Ok(r)
    }

    /// The prod plan an earlier promote call made for this dev resource and
    /// this content, still usable (not failed). Pending plans for older
    /// content of the same resource are superseded: their approvals are
    /// denied so nobody approves a stale version.
    fn linked_plan(
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

    /// Set the dev resource's `PromotionStatus` (and `ProdCounterpart`)
    /// through an ordinary dev update plan, applied by the system actor.
    fn set_dev_status(
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

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::env::{Backend, Environment};

    #[test]
    fn rename_moves_the_environment_word_and_keeps_its_case() {
        assert_eq!(
            rename_env("synthcoreai-documents-dev", "dev", "prod").as_deref(),
            Some("synthcoreai-documents-prod")
        );
        assert_eq!(
            rename_env("dev-queue", "dev", "prod").as_deref(),
            Some("prod-queue")
        );
        assert_eq!(
            rename_env("App-Dev-Role", "dev", "prod").as_deref(),
            Some("App-Prod-Role")
        );
        assert_eq!(
            rename_env("APP_DEV", "dev", "prod").as_deref(),
            Some("APP_PROD")
        );
        assert_eq!(rename_env("synthcoreai-device-logs", "dev", "prod"), None);
        assert_eq!(rename_env("SynthCoreAI-S3-FileUpload", "dev", "prod"), None);
        // Only the last occurrence: the environment is the suffix.
        assert_eq!(
            rename_env("dev-tools-dev", "dev", "prod").as_deref(),
            Some("dev-tools-prod")
        );
    }

    fn env(name: &str, tag: &str) -> Environment {
        Environment {
            name: name.into(),
            tag_value: tag.into(),
            account_id: None,
            approval_role: None,
            backend: Backend::Local,
            profile: None,
            region: "us-east-1".into(),
            read_only: name == "prod",
            scanning: true,
        }
    }

    fn inventory(env: &str, items: &[(&str, Value)]) -> Inventory {
        let mut inv = Inventory::new(env);
        for (t, props) in items {
            let schema = schema_of(&ResourceType::new(t).unwrap()).unwrap();
            let id = schema.identifier_of(props).unwrap();
            inv.insert_described(schema, id, props.clone());
        }
        inv
    }

    fn workspace(dev: Inventory, prod: Inventory, links: Vec<Counterpart>) -> Workspace {
        Workspace {
            envs: PromotionEnvs {
                dev: env("dev", "development"),
                prod: env("prod", "production"),
            },
            refs: RefIndex::build(&dev),
            links,
            dev_account: Some("111111111111".into()),
            prod_account: Some("222222222222".into()),
            prefix: "synthcoreai".into(),
            dev,
            prod,
        }
    }

    fn role(env: &str, acct: &str) -> (&'static str, Value) {
        (
            "AWS::IAM::Role",
            json!({
                "RoleName": format!("synthcoreai-worker-{env}"),
                "AssumeRolePolicyDocument": {"Statement": []},
                "Arn": format!("arn:aws:iam::{acct}:role/synthcoreai-worker-{env}"),
                "RoleId": format!("AROA{env}XXXXXXXXXXXXX"),
            }),
        )
    }

    fn function() -> (&'static str, Value) {
        (
            "AWS::Lambda::Function",
            json!({
                "FunctionName": "synthcoreai-worker-dev",
                "Role": "arn:aws:iam::111111111111:role/synthcoreai-worker-dev",
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Arn": "arn:aws:lambda:us-east-1:111111111111:function:synthcoreai-worker-dev",
                "Environment": {"Variables": {
                    "SELF": "synthcoreai-worker-dev",
                    "KMS": "arn:aws:kms:us-east-1:111111111111:key/abc",
                    "OTHER": "synthcoreai-ghost-dev"
                }},
                "Tags": [
                    {"Key": "Environment", "Value": "development"},
                    {"Key": "PromotionStatus", "Value": "dev-only"},
                    {"Key": "Team", "Value": "docs"}
                ]
            }),
        )
    }

    #[test]
    fn a_reference_without_counterpart_is_missing_and_names_the_resource() {
        let dev = inventory("dev", &[role("dev", "111111111111"), function()]);
        let prod = inventory("prod", &[]);
        let ws = workspace(dev, prod, vec![Counterpart::None, Counterpart::None]);
        let m = ws.map(1);
        assert_eq!(m.missing.len(), 1, "{:?}", m.missing);
        assert_eq!(m.missing[0].item, 0);
        assert_eq!(m.missing[0].pointer, "/Role");
        // The unmapped reference is kept as it was.
        assert_eq!(
            m.props["Role"],
            "arn:aws:iam::111111111111:role/synthcoreai-worker-dev"
        );
    }

    #[test]
    fn references_names_tags_and_accounts_are_mapped_to_prod() {
        let dev = inventory("dev", &[role("dev", "111111111111"), function()]);
        let prod = inventory("prod", &[role("prod", "222222222222")]);
        let links = vec![
            Counterpart::Found {
                prod: 0,
                linked_by: "tag",
            },
            Counterpart::None,
        ];
        let ws = workspace(dev, prod, links);
        let m = ws.map(1);
        assert!(m.missing.is_empty(), "{:?}", m.missing);
        let p = &m.props;
        assert_eq!(p["FunctionName"], "synthcoreai-worker-prod");
        assert_eq!(
            p["Role"],
            "arn:aws:iam::222222222222:role/synthcoreai-worker-prod"
        );
        assert_eq!(
            p["Environment"]["Variables"]["SELF"],
            "synthcoreai-worker-prod"
        );
        assert_eq!(
            p["Environment"]["Variables"]["KMS"],
            "arn:aws:kms:us-east-1:222222222222:key/abc"
        );
        assert_eq!(
            p["Environment"]["Variables"]["OTHER"],
            "synthcoreai-ghost-dev"
        );
        assert!(
            m.notes.iter().any(|n| n.contains("synthcoreai-ghost-dev")),
            "{:?}",
            m.notes
        );
        assert!(p.get("Arn").is_none(), "read-only properties are dropped");
        let t = tags::read(p, &TagStyle::List("Tags".into()));
        assert_eq!(t["Environment"], "production");
        assert_eq!(t["Team"], "docs");
        assert_eq!(t[DEV_COUNTERPART], "synthcoreai-worker-dev");
        assert!(!t.contains_key(tags::PROMOTION_STATUS));
        let kinds: Vec<&str> = m.references.iter().map(|r| r.kind.as_str()).collect();
        assert!(
            kinds.contains(&"name")
                && kinds.contains(&"resource")
                && kinds.contains(&"self")
                && kinds.contains(&"account"),
            "{kinds:?}"
        );
    }

    #[test]
    fn a_bucket_policy_depends_on_its_bucket_though_it_shares_its_identifier() {
        let bucket = (
            "AWS::S3::Bucket",
            json!({"BucketName": "synthcoreai-site-dev", "Arn": "arn:aws:s3:::synthcoreai-site-dev"}),
        );
        let policy = (
            "AWS::S3::BucketPolicy",
            json!({"Bucket": "synthcoreai-site-dev", "PolicyDocument": {"Statement": [{
                "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": "arn:aws:s3:::synthcoreai-site-dev/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}),
        );
        let dev = inventory("dev", &[bucket, policy.clone()]);
        let ws = workspace(dev, inventory("prod", &[]), vec![Counterpart::None; 2]);
        let m = ws.map(1);
        assert_eq!(m.missing.len(), 2, "{:?}", m.missing);
        assert!(m.missing.iter().all(|x| x.item == 0));

        let dev = inventory(
            "dev",
            &[
                (
                    "AWS::S3::Bucket",
                    json!({"BucketName": "synthcoreai-site-dev", "Arn": "arn:aws:s3:::synthcoreai-site-dev"}),
                ),
                policy,
            ],
        );
        let prod = inventory(
            "prod",
            &[(
                "AWS::S3::Bucket",
                json!({"BucketName": "synthcoreai-site-prod", "Arn": "arn:aws:s3:::synthcoreai-site-prod"}),
            )],
        );
        let links = vec![
            Counterpart::Found {
                prod: 0,
                linked_by: "tag",
            },
            Counterpart::None,
        ];
        let m = workspace(dev, prod, links).map(1);
        assert!(m.missing.is_empty());
        assert_eq!(m.props["Bucket"], "synthcoreai-site-prod");
        assert_eq!(
            m.props["PolicyDocument"]["Statement"][0]["Resource"],
            "arn:aws:s3:::synthcoreai-site-prod/*"
        );
    }

    #[test]
    fn restored_write_only_values_are_mapped_too() {
        let bucket = (
            "AWS::S3::Bucket",
            json!({"BucketName": "synthcoreai-artifacts-dev"}),
        );
        let prod_bucket = (
            "AWS::S3::Bucket",
            json!({"BucketName": "synthcoreai-artifacts-prod"}),
        );
        let (_, f) = function();
        let dev = inventory("dev", &[bucket, ("AWS::Lambda::Function", f.clone())]);
        let prod = inventory("prod", &[prod_bucket]);
        let links = vec![
            Counterpart::Found {
                prod: 0,
                linked_by: "tag",
            },
            Counterpart::None,
        ];
        let ws = workspace(dev, prod, links);
        let mut full = f;
        full["Code"] = json!({"S3Bucket": "synthcoreai-artifacts-dev", "S3Key": "worker.zip"});
        let m = ws.map_props(1, &full);
        assert_eq!(m.props["Code"]["S3Bucket"], "synthcoreai-artifacts-prod");
        assert!(m.references.iter().any(|r| r.pointer == "/Code/S3Bucket"));
    }

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
