//! Importing a resource made elsewhere: a gated plan that adds the tag
//! standard to it, so sync, drift and the cost review include it.

use infraguard_core::cloud::Cloud;
use infraguard_core::plan::Plan;
use infraguard_core::resource::Operation;
use infraguard_core::store::Store;
use serde_json::Value;

use crate::actor::Actor;
use crate::engine::{Engine, PlanRequest};
use crate::error::EngineError;
use crate::redact::Shown;
use crate::tags;

impl<C: Cloud, S: Store> Engine<C, S> {
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
}
