//! `promote`, `sync`, `drift` and `preflight`: the dev → prod life cycle.
//!
//! Each prints a table for people or, with `--output json`, the engine's
//! report as is (`sync` has the keys `dev_only`, `prod_only`, `synced`,
//! `needs_review`; a waiting promotion has `gate.approval_id`).
//!
//! Exit codes: `promote` 0 when synced, 3 when it waits for a human, was
//! denied or a checklist item stopped it, 1 when the create did not finish;
//! `preflight` 0 only when ready, 1 otherwise; `sync` and `drift` 0 (they
//! report). Bad input is 2 everywhere.

use anyhow::Result;
use infraguard_engine::drift::{Difference, DriftReport};
use infraguard_engine::promote::{CheckStatus, PromotionReport};
use infraguard_engine::{PreflightReport, PromotionState, SyncReport};
use serde_json::Value;

use crate::args::{Cli, Output};
use crate::exit;
use crate::project;
use crate::render;

#[derive(clap::Args, Debug)]
pub struct PromoteArgs {
    /// Resource type, e.g. AWS::S3::Bucket.
    #[arg(long = "type", value_name = "TYPE")]
    pub type_name: String,
    /// Identifier of the dev resource, e.g. synthcoreai-documents-dev.
    #[arg(long)]
    pub id: String,
    /// Promote the dev resources it refers to first, in dependency order
    /// (each prod create is approved on its own).
    #[arg(long)]
    pub with_dependencies: bool,
}

#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// Only this resource type (default: every supported type).
    #[arg(long = "type", value_name = "TYPE")]
    pub type_name: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct DriftArgs {
    /// Only this resource type (default: every supported type).
    #[arg(long = "type", value_name = "TYPE")]
    pub type_name: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct PreflightArgs {
    /// The environment about to be deployed.
    #[arg(default_value = "prod")]
    pub env: String,
}

fn mark(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Passed => "✅",
        CheckStatus::Failed => "❌",
        CheckStatus::Waiting => "⏳",
        CheckStatus::NotReached => "·",
    }
}

/// The exit code of a promotion outcome.
pub fn promotion_code(state: PromotionState) -> i32 {
    match state {
        PromotionState::Synced => exit::OK,
        PromotionState::AwaitingApproval | PromotionState::Blocked | PromotionState::Denied => {
            exit::GATED
        }
        PromotionState::PendingProd | PromotionState::Failed => exit::FAILURE,
    }
}

fn render_promotion(r: &PromotionReport, depth: usize) -> String {
    let pad = "   ".repeat(depth);
    let icon = match r.status {
        PromotionState::Synced => "✅",
        PromotionState::AwaitingApproval | PromotionState::PendingProd => "⏳",
        _ => "⛔",
    };
    let mut s = String::new();
    for d in &r.dependencies {
        s.push_str(&render_promotion(d, depth + 1));
        s.push('\n');
    }
    s.push_str(&format!(
        "{pad}{icon} promote {} `{}`: {}{}\n",
        r.type_name,
        r.dev_id,
        r.status.as_str(),
        r.prod_id
            .as_deref()
            .map(|p| format!(" → `{p}`"))
            .unwrap_or_default()
    ));
    if depth == 0 || r.status != PromotionState::Synced {
        let rows = r
            .checklist
            .iter()
            .map(|c| {
                vec![
                    mark(c.status).to_string(),
                    c.title.clone(),
                    c.detail.clone(),
                ]
            })
            .collect();
        for line in render::table(&["", "promotion checklist", "detail"], rows).lines() {
            s.push_str(&format!("{pad}{line}\n"));
        }
    }
    for m in &r.references {
        s.push_str(&format!(
            "{pad}   ↪ {} ({}): `{}` → `{}`\n",
            m.pointer, m.kind, m.dev_value, m.prod_value
        ));
    }
    for u in &r.dev_tags {
        s.push_str(&format!(
            "{pad}   🏷  dev PromotionStatus={}{}: {}{}{}\n",
            u.promotion_status,
            u.prod_counterpart
                .as_deref()
                .map(|c| format!(", ProdCounterpart={c}"))
                .unwrap_or_default(),
            u.outcome,
            u.approval_id
                .as_deref()
                .map(|a| format!(" (approval {a})"))
                .unwrap_or_default(),
            u.error
                .as_deref()
                .map(|e| format!(" — {e}"))
                .unwrap_or_default()
        ));
    }
    for n in &r.notes {
        s.push_str(&format!("{pad}   note: {n}\n"));
    }
    s.push_str(&format!("{pad}   {}", r.message));
    s
}

pub fn promote(cli: &Cli, a: &PromoteArgs) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let mut progress = super::plan::progress_printer();
    let report = p.api.promote(
        &p.caller,
        a.type_name.clone(),
        a.id.clone(),
        a.with_dependencies,
        &mut progress,
    )?;
    if cli.output == Output::Json {
        println!("{}", render::json(&report));
    } else {
        println!("{}", render_promotion(&report, 0));
        if report.status == PromotionState::AwaitingApproval
            && let Some(aid) = report.gate.as_ref().and_then(|g| g.approval_id.as_deref())
        {
            println!(
                "   Next: a human runs `infraguard approve {aid}`, then `infraguard promote --type {} --id {}{}` again.",
                a.type_name,
                a.id,
                if a.with_dependencies {
                    " --with-dependencies"
                } else {
                    ""
                }
            );
        }
    }
    Ok(promotion_code(report.status))
}

fn render_sync(r: &SyncReport) -> String {
    let mut s = format!(
        "🔄 {} ↔ {}: {} synced, {} {}-only, {} {}-only, {} need review ({} + {} resources, {} list calls{})\n",
        r.dev_env,
        r.prod_env,
        r.synced.len(),
        r.dev_only.len(),
        r.dev_env,
        r.prod_only.len(),
        r.prod_env,
        r.needs_review.len(),
        r.stats.dev_resources,
        r.stats.prod_resources,
        r.stats.list_calls,
        if r.stats.get_calls > 0 {
            format!(
                ", {} get calls for entries listed without properties",
                r.stats.get_calls
            )
        } else {
            String::new()
        }
    );
    if !r.dev_only.is_empty() {
        s.push_str(&format!("\n{}-only (needs promotion)\n", r.dev_env));
        s.push_str(&render::table(
            &["type", "identifier", "PromotionStatus", "purpose"],
            r.dev_only
                .iter()
                .map(|d| {
                    vec![
                        d.type_name.clone(),
                        d.identifier.clone(),
                        d.promotion_status.clone().unwrap_or_else(|| "-".into()),
                        d.purpose.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        ));
        s.push('\n');
    }
    if !r.prod_only.is_empty() {
        s.push_str(&format!("\n{}-only\n", r.prod_env));
        s.push_str(&render::table(
            &["type", "identifier"],
            r.prod_only
                .iter()
                .map(|p| vec![p.type_name.clone(), p.identifier.clone()])
                .collect(),
        ));
        s.push('\n');
    }
    if !r.synced.is_empty() {
        s.push_str("\nsynced\n");
        s.push_str(&render::table(
            &["type", &r.dev_env, &r.prod_env, "linked by"],
            r.synced
                .iter()
                .map(|p| {
                    vec![
                        p.type_name.clone(),
                        p.dev.clone(),
                        p.prod.clone(),
                        p.linked_by.clone(),
                    ]
                })
                .collect(),
        ));
        s.push('\n');
    }
    if !r.needs_review.is_empty() {
        s.push_str("\nneeds review\n");
        s.push_str(&render::table(
            &["type", &r.dev_env, &r.prod_env, "why"],
            r.needs_review
                .iter()
                .map(|n| {
                    vec![
                        n.type_name.clone(),
                        n.dev.clone().unwrap_or_else(|| "-".into()),
                        n.prod
                            .clone()
                            .or_else(|| n.expected_prod.as_ref().map(|e| format!("({e})")))
                            .unwrap_or_else(|| "-".into()),
                        n.reason.clone(),
                    ]
                })
                .collect(),
        ));
        s.push('\n');
    }
    s
}

pub fn sync(cli: &Cli, a: &SyncArgs) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let report = p.api.sync_status(&p.caller, a.type_name.clone())?;
    if cli.output == Output::Json {
        println!("{}", render::json(&report));
    } else {
        print!("{}", render_sync(&report));
    }
    Ok(if report.is_clean() {
        exit::OK
    } else {
        exit::FOUND
    })
}

fn short(v: &Option<Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(Value::String(s)) => format!("`{s}`"),
        Some(other) => {
            let s = other.to_string();
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(59).collect::<String>())
            } else {
                s
            }
        }
    }
}

fn render_differences(out: &mut String, diffs: &[Difference], expected: &str, actual: &str) {
    for d in diffs {
        let sign = match (&d.expected, &d.actual) {
            (Some(_), None) => "+",
            (None, Some(_)) => "-",
            _ => "~",
        };
        out.push_str(&format!(
            "    {sign} {}: {expected} {} | {actual} {}\n",
            d.path,
            short(&d.expected),
            short(&d.actual)
        ));
    }
}

fn render_drift(r: &DriftReport) -> String {
    let mut s = format!(
        "🔍 {} synced pair(s) compared: {} in sync, {} drifted; {} applied resource(s) checked against live: {} changed outside infraguard\n",
        r.pairs_checked,
        r.pairs_in_sync,
        r.drifted.len(),
        r.applied_checked,
        r.out_of_band.len()
    );
    for d in &r.drifted {
        s.push_str(&format!(
            "\n⚠️  {} `{}` ({}) vs `{}` ({})\n",
            d.type_name, d.dev, r.dev_env, d.prod, r.prod_env
        ));
        render_differences(&mut s, &d.differences, &r.dev_env, &r.prod_env);
        for p in &d.needs_replacement {
            s.push_str(&format!(
                "    ! {p} is create-only: only replacing the {} resource changes it\n",
                r.prod_env
            ));
        }
        for u in &d.unmapped_references {
            s.push_str(&format!("    ? {u}\n"));
        }
        if d.patch.as_array().is_some_and(|a| !a.is_empty()) {
            s.push_str(&format!(
                "    fix (a gated update): infraguard plan --env {} --operation update --type {} --id {} --patch '{}'\n",
                r.prod_env, d.type_name, d.prod, d.patch
            ));
        }
    }
    for o in &r.out_of_band {
        if o.deleted {
            s.push_str(&format!(
                "\n❗ {} `{}` in {} was deleted outside infraguard (last applied by plan {} at {})\n",
                o.type_name, o.identifier, o.env, o.plan_id, o.applied_at
            ));
            continue;
        }
        s.push_str(&format!(
            "\n❗ {} `{}` in {} changed outside infraguard since plan {} ({})\n",
            o.type_name, o.identifier, o.env, o.plan_id, o.applied_at
        ));
        render_differences(&mut s, &o.differences, "applied", "live");
        s.push_str(&format!(
            "    restore (a gated update): infraguard plan --env {} --operation update --type {} --id {} --patch '{}'\n",
            o.env, o.type_name, o.identifier, o.patch
        ));
    }
    s
}

pub fn drift(cli: &Cli, a: &DriftArgs) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let report = p.api.drift(&p.caller, a.type_name.clone())?;
    if cli.output == Output::Json {
        println!("{}", render::json(&report));
    } else {
        print!("{}", render_drift(&report));
    }
    Ok(if report.is_clean() {
        exit::OK
    } else {
        exit::FOUND
    })
}

fn render_preflight(r: &PreflightReport) -> String {
    let mut s = format!(
        "🚀 preflight {}: {}\n",
        r.env,
        if r.ready { "READY" } else { "NOT READY" }
    );
    for c in &r.checks {
        s.push_str(&format!("{} {}\n", if c.ok { "✅" } else { "❌" }, c.title));
        for d in &c.details {
            s.push_str(&format!("     - {d}\n"));
        }
    }
    s
}

pub fn preflight(cli: &Cli, a: &PreflightArgs) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let mut report = p.api.preflight(&p.caller, a.env.clone())?;
    // The app's own checks run here, as the user, in the project folder
    // (never in the guard): each is a line of the same checklist.
    if !p.config.preflight_commands.is_empty() && cli.output != Output::Json {
        eprintln!(
            "running the app's checks in {}: {}",
            p.root.display(),
            p.config.preflight_commands.join(", ")
        );
    }
    infraguard_engine::app_checks::add_to(&mut report, &p.root, &p.config);
    if cli.output == Output::Json {
        println!("{}", render::json(&report));
    } else {
        print!("{}", render_preflight(&report));
    }
    Ok(if report.ready { exit::OK } else { exit::FOUND })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_synced_promotion_exits_zero() {
        assert_eq!(promotion_code(PromotionState::Synced), exit::OK);
        assert_eq!(
            promotion_code(PromotionState::AwaitingApproval),
            exit::GATED
        );
        assert_eq!(promotion_code(PromotionState::Blocked), exit::GATED);
        assert_eq!(promotion_code(PromotionState::Denied), exit::GATED);
        assert_eq!(promotion_code(PromotionState::PendingProd), exit::FAILURE);
    }

    #[test]
    fn differences_read_as_a_diff() {
        let mut s = String::new();
        render_differences(
            &mut s,
            &[
                Difference {
                    path: "/A".into(),
                    expected: Some(Value::String("x".into())),
                    actual: Some(Value::String("y".into())),
                },
                Difference {
                    path: "/B".into(),
                    expected: Some(Value::Bool(true)),
                    actual: None,
                },
            ],
            "dev",
            "prod",
        );
        assert_eq!(
            s,
            "    ~ /A: dev `x` | prod `y`\n    + /B: dev true | prod (absent)\n"
        );
    }
}
