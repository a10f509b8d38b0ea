//! An update's patch: checked against what the type lets change
//! (create-only and read-only properties) and applied to the live state.

use infraguard_core::cloud::Cloud;
use infraguard_core::pointer::pointer_touches;
use infraguard_core::schema::ResourceSchema;
use infraguard_core::store::Store;
use serde_json::Value;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::planning::brief_json;

impl<C: Cloud, S: Store> Engine<C, S> {
    /// The state after applying `patch` to `current`, refusing patches that
    /// touch create-only or read-only properties.
    pub(crate) fn patched(
        &self,
        schema: &ResourceSchema,
        id: &str,
        current: &Value,
        patch: &Value,
    ) -> Result<Value, EngineError> {
        let ops = patch.as_array().ok_or_else(|| {
            EngineError::InvalidInput(format!(
                "the patch must be a JSON array of RFC 6902 operations, got {}",
                brief_json(patch)
            ))
        })?;
        if ops.is_empty() {
            return Err(EngineError::InvalidInput(
                "the patch is empty: nothing to change".into(),
            ));
        }
        for op in ops {
            let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
            let path = op.get("path").and_then(Value::as_str).ok_or_else(|| {
                EngineError::InvalidInput(format!(
                    "patch operation {} has no \"path\"",
                    brief_json(op)
                ))
            })?;
            if kind == "test" {
                continue;
            }
            let mut targets = vec![path.to_string()];
            if let Some(from) = op.get("from").and_then(Value::as_str)
                && kind == "move"
            {
                targets.push(from.to_string());
            }
            for p in targets {
                if let Some(c) = schema.create_only.iter().find(|c| pointer_touches(c, &p)) {
                    return Err(EngineError::NotUpdatable {
                        type_name: schema.type_name.to_string(),
                        identifier: id.into(),
                        property: c.trim_start_matches('/').to_string(),
                    });
                }
                if let Some(r) = schema.read_only.iter().find(|r| pointer_touches(r, &p)) {
                    return Err(EngineError::InvalidInput(format!(
                        "the patch changes {} of {} `{id}`, which is read-only (AWS sets it)",
                        r.trim_start_matches('/'),
                        schema.type_name
                    )));
                }
            }
        }
        let parsed: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| {
            EngineError::InvalidInput(format!("the patch is not valid RFC 6902: {e}"))
        })?;
        let mut doc = current.clone();
        json_patch::patch(&mut doc, &parsed).map_err(|e| {
            EngineError::InvalidInput(format!(
                "the patch does not apply to {} `{id}`: {e}",
                schema.type_name
            ))
        })?;
        let problems = infraguard_schema::validate_state(schema, &doc);
        if !problems.is_empty() {
            return Err(EngineError::InvalidProperties {
                type_name: schema.type_name.to_string(),
                problems: problems.into_iter().map(|p| p.message).collect(),
            });
        }
        Ok(doc)
    }

    // ----- deciding ------------------------------------------------------
}
