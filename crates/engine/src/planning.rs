//! Planning: a change request becomes a [`Plan`] (desired state or
//! patch, secure defaults, tags, template, scan, estimate, the gate's
//! verdict, the explanation), stored with its approval request when a
//! human is needed.

use std::collections::BTreeMap;

use infraguard_core::Finding;
use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::cloud::Cloud;
use infraguard_core::env::Environment;
use infraguard_core::money::CostEstimate;
use infraguard_core::plan::{Gate, GateDecision, Plan, PlanStatus};
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_core::schema::ResourceSchema;
use infraguard_core::store::Store;
use infraguard_core::template::{Template, logical_id};
use infraguard_schema::Catalog;
use infraguard_schema::registry::{self, Convention};
use serde_json::{Value, json};

use crate::actor::Actor;
use crate::config::normalize_purpose;
use crate::engine::{Engine, PlanRequest, new_id, summary};
use crate::error::EngineError;
use crate::explain::explain;
use crate::gate::{self, GateInput};
use crate::hash::hex;
use crate::redact::{self, Shown};
use crate::tags;

impl<C: Cloud, S: Store> Engine<C, S> {
    /// The tag standard for a new resource in `env`: the tracking tags
    /// infraguard owns (what environment, what it costs, where it stands in
    /// promotion: reports read them, so a given value is replaced), and the
    /// defaults that fill only tags the user did not give (the project's
    /// `[tags]`, then who and when).
    pub(crate) fn standard_tags(
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

    /// The conventional name for a new resource of `schema`'s type.
    pub(crate) fn conventional_name(
        &self,
        schema: &ResourceSchema,
        purpose: &str,
        env: &str,
    ) -> String {
        let convention = registry::name(schema.type_name.as_str()).map(|n| n.convention);
        if convention == Some(Convention::IamPolicy) {
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
        } else if convention == Some(Convention::Secret) {
            // {prefix}/{purpose}: synthcoreai/ses-credentials (the policy
            // crate's naming rule for secrets).
            format!("{}/{}", self.config.prefix, normalize_purpose(purpose))
        } else {
            self.config.conventional_name(purpose, env)
        }
    }

    pub(crate) fn estimate(
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
    pub(crate) fn scan(
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
        let (plan, approval) = self.draft(&req)?;
        self.store_draft(&req, plan, approval)
    }

    /// Everything about one change as [`Engine::plan`] stores it, with
    /// nothing stored: the desired state, tags, template, scan, estimate,
    /// the gate's decision, the explanation, and the approval it would ask
    /// for. No cloud is changed (update and delete read the resource).
    pub(crate) fn draft(&self, req: &PlanRequest) -> Result<(Plan, Option<Approval>), EngineError> {
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
        let (identifier, desired, patch, basis_props) =
            self.desired_state(req, schema, &env, purpose, &mut notes)?;

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
            self.tag_create(req, schema, &env, purpose, &cost, &mut desired, &mut notes);
        }

        let logical = logical_id(&t, purpose);
        let stateful = registry::is_stateful(t.as_str());
        self.stateful_notes(
            req.operation,
            &t,
            identifier.as_deref(),
            &desired,
            &env,
            stateful,
            &mut notes,
        )?;
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
        Ok((plan, approval))
    }

    /// The resource's identifier, its desired state and the patch (update)
    /// of a request, and the live properties an update or delete is made
    /// against (`Null` for a create). A create is named by the convention
    /// when it has no name, gets the secure defaults and is validated; a
    /// name already taken is refused here, before anyone is asked.
    fn desired_state(
        &self,
        req: &PlanRequest,
        schema: &'static ResourceSchema,
        env: &Environment,
        purpose: Option<&str>,
        notes: &mut Vec<String>,
    ) -> Result<(Option<String>, Value, Option<Value>, Value), EngineError> {
        let t = schema.type_name.clone();
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
                secure_defaults(&t, &mut props, notes);
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
        Ok((identifier, desired, patch, basis_props))
    }

    /// A create's tags: infraguard's tracking tags set, the project's
    /// defaults filled where the request gave none, and a note of each.
    #[allow(clippy::too_many_arguments)]
    fn tag_create(
        &self,
        req: &PlanRequest,
        schema: &ResourceSchema,
        env: &Environment,
        purpose: Option<&str>,
        cost: &CostEstimate,
        desired: &mut Value,
        notes: &mut Vec<String>,
    ) {
        let t = &schema.type_name;
        let (owned, defaults) = self.standard_tags(env, purpose, &req.actor, cost);
        let filled = tags::apply_defaults(desired, &schema.tagging, &defaults);
        for k in tags::apply(desired, &schema.tagging, &owned) {
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

    /// What a stateful type's plan says about its data; a delete of a
    /// protected resource is refused with the gated update that unprotects
    /// it.
    #[allow(clippy::too_many_arguments)]
    fn stateful_notes(
        &self,
        operation: Operation,
        t: &ResourceType,
        identifier: Option<&str>,
        desired: &Value,
        env: &Environment,
        stateful: bool,
        notes: &mut Vec<String>,
    ) -> Result<(), EngineError> {
        if stateful && operation == Operation::Delete {
            let id = identifier.unwrap_or("?");
            // Deletion protection makes the cloud refuse the delete: say so
            // now, and make turning it off a change of its own.
            let deletion = registry::deletion(t.as_str());
            if let Some(p) = deletion.protection.filter(|p| p.is_on(desired)) {
                let (key, off) = (p.property, p.off());
                return Err(EngineError::InvalidInput(format!(
                    "{t} `{id}` in {} has deletion protection on ({key}), so the delete would be refused. To delete it, first plan turning it off as its own gated change: `infraguard plan --env {} --type {t} --operation update --id {id} --patch '[{{\"op\":\"replace\",\"path\":\"/{key}\",\"value\":{off}}}]'`, apply that, then plan the delete. Cloud Control takes no snapshot: {}. Nothing was planned",
                    env.name,
                    env.name,
                    deletion.snapshot_hint(id)
                )));
            }
            notes.push(format!(
                "{t} holds data: this delete destroys it, and Cloud Control takes no snapshot (a DeletionPolicy is not honoured through Cloud Control): {}",
                deletion.snapshot_hint(id)
            ));
        } else if stateful {
            notes.push(format!(
                "{t} holds data: a later delete through Cloud Control takes no snapshot (there is no DeletionPolicy outside CloudFormation stacks); infraguard asks again before any delete"
            ));
        }
        Ok(())
    }

    /// Store a drafted plan, its approval request and their audit records,
    /// unless another plan holds the resource: the same content is that
    /// plan again; other content is refused, naming the first.
    fn store_draft(
        &self,
        req: &PlanRequest,
        plan: Plan,
        approval: Option<Approval>,
    ) -> Result<Shown<Plan>, EngineError> {
        let env = self.config.environment(&plan.env)?.clone();
        self.refuse_if_locked(&env.name, &req.actor, None)?;
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
        let lock = plan_identifier(&plan).map(|id| self.lock_for(&plan, &id));
        let in_flight = |p: &Plan, a: Option<&Approval>| self.in_flight(p, a);
        let Some(holder) = self.store.insert_plan_exclusive(
            &plan,
            approval.as_ref(),
            &audit,
            lock.as_ref(),
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
}

/// The basis of a create whose name is known: nothing there yet.
pub(crate) const ABSENT: &str = "absent";

/// A hash of a resource's live properties, leaving out what AWS sets
/// (read-only properties), so only a change someone made counts.
pub(crate) fn basis_of(schema: &ResourceSchema, properties: &Value) -> String {
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
pub(crate) fn plan_identifier(plan: &Plan) -> Option<String> {
    match plan.operation {
        Operation::Create => Catalog::builtin()
            .get(&plan.type_name)
            .ok()
            .and_then(|s| s.identifier_of(&plan.desired_state)),
        _ => plan.identifier.clone(),
    }
}

pub(crate) fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

pub(crate) fn brief_json(v: &Value) -> String {
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

/// Run Checkov on a template written to a private temporary file.
pub(crate) fn run_checkov_on(template: &Template) -> Result<Vec<Finding>, String> {
    let mut name = [0u8; 8];
    getrandom::fill(&mut name).map_err(|e| e.to_string())?;
    let path = std::env::temp_dir().join(format!("infraguard-checkov-{}.json", hex(&name)));
    std::fs::write(&path, template.to_pretty_json())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let result = infraguard_policy::run_checkov(&path).map_err(|e| e.to_string());
    let _ = std::fs::remove_file(&path);
    result
}

/// The registry's secure defaults for `t` (a careful engineer's settings,
/// such as a bucket's public access block), each added with its note when
/// the user did not give the property; a property given is left as it is.
pub(crate) fn secure_defaults(t: &ResourceType, props: &mut Value, notes: &mut Vec<String>) {
    let Some(obj) = props.as_object_mut() else {
        return;
    };
    for d in registry::secure_defaults(t.as_str()) {
        if !obj.contains_key(d.property) {
            obj.insert(d.property.into(), d.value());
            notes.push(d.note.into());
        }
    }
}
