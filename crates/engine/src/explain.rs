//! Plain-language explanation of a plan, the "explain" step of the workflow:
//! what will change, where, with which settings, at what cost, and what the
//! gate requires. It reads only a [`Shown`] plan, so a secret cannot reach
//! the text.

use std::fmt::Write;

use infraguard_core::env::Environment;
use infraguard_core::plan::Plan;
use infraguard_core::resource::Operation;
use serde_json::Value;

use crate::redact::Shown;

/// Shorten a JSON value for one line of text.
fn brief(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 90 {
        let cut: String = s.chars().take(87).collect();
        format!("{cut}...")
    } else {
        s
    }
}

pub fn explain(
    plan: &Shown<Plan>,
    env: &Environment,
    notes: &[String],
    tag_property: Option<&str>,
) -> String {
    let mut s = String::new();
    let name = plan.identifier.as_deref().unwrap_or("(name chosen by AWS)");
    let verb = match plan.operation {
        Operation::Create => "Create",
        Operation::Update => "Update",
        Operation::Delete => "Delete",
    };
    let _ = writeln!(
        s,
        "{verb} {} `{name}` in {} ({} backend, region {}{}).",
        plan.type_name,
        env.name,
        env.backend.as_str(),
        env.region,
        if env.read_only { ", read-only" } else { "" }
    );
    if let Some(p) = &plan.purpose {
        let _ = writeln!(s, "Purpose: {p}.");
    }
    match plan.operation {
        Operation::Create => {
            let _ = writeln!(s, "Settings:");
            if let Some(obj) = plan.desired_state.as_object() {
                for (k, v) in obj {
                    if Some(k.as_str()) == tag_property {
                        continue;
                    }
                    // The plan is a `Shown`: its secrets are already masked.
                    let _ = writeln!(s, "  - {k}: {}", brief(v));
                }
            }
        }
        Operation::Update => {
            let _ = writeln!(s, "Changes (RFC 6902 patch):");
            for op in plan
                .patch
                .as_ref()
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let path = op.get("path").and_then(Value::as_str).unwrap_or("?");
                let what = op.get("op").and_then(Value::as_str).unwrap_or("?");
                let value = op.get("value").map(brief);
                let _ = writeln!(
                    s,
                    "  - {what} {path}{}",
                    value.map(|v| format!(" = {v}")).unwrap_or_default()
                );
            }
        }
        Operation::Delete => {
            let _ = writeln!(
                s,
                "The resource and its data are removed from {}. This cannot be undone through infraguard.",
                env.name
            );
        }
    }
    if let Some(tp) = tag_property
        && let Some(tags) = plan.desired_state.get(tp)
        && plan.operation == Operation::Create
    {
        let _ = writeln!(s, "Tags ({tp}): {}", brief(tags));
    }
    for n in notes {
        let _ = writeln!(s, "Note: {n}");
    }
    let open = plan.open_findings().count();
    let _ = writeln!(
        s,
        "Security scan: {} finding(s), {open} open.",
        plan.findings.len()
    );
    let _ = writeln!(s, "Estimated cost: {}/month.", plan.cost.monthly_usd);
    let _ = write!(s, "Gate: {}", plan.gate.decision.as_str());
    if !plan.gate.reasons.is_empty() {
        let _ = write!(s, " ({})", plan.gate.reasons.join("; "));
    }
    s.push('.');
    s
}
