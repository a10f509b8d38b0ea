//! One module per command; `run` dispatches.

pub mod approvals;
pub mod cloud;
pub mod costs;
pub mod guard;
pub mod iam;
pub mod init;
pub mod plan;
pub mod promote;
pub mod quickstart;
pub mod resources;
pub mod scan;
pub mod serve;
pub mod state;

use std::io::Write;

use anyhow::Result;
use infraguard_engine::Actor;

use crate::args::{AuditCommand, Cli, Command, Output};
use crate::exit;
use crate::project;
use crate::render;

pub fn run(cli: &Cli) -> Result<i32> {
    let dir = cli.directory.as_deref();
    match &cli.command {
        Command::Quickstart(a) => quickstart::run(a),
        Command::Init(a) => init::run(dir, a, cli.output),
        Command::Envs => envs(cli),
        Command::Types => types(cli.output),
        Command::Plan(a) => plan::plan(cli, a),
        Command::Show { plan_id } => plan::show(cli, plan_id),
        Command::Plans(a) => plan::list(cli, a),
        Command::Apply { plan_id } => plan::apply(cli, plan_id),
        Command::Resources(c) => resources::run(cli, c),
        Command::Approvals(a) => approvals::list(cli, a),
        Command::Approve(a) => approvals::approve(cli, a),
        Command::Deny(a) => approvals::deny(cli, a),
        Command::Audit(a) => audit(cli, a.command.as_ref()),
        Command::Status { env, request_token } => status(cli, env, request_token),
        Command::Costs(a) => costs::run(cli, a),
        Command::Promote(a) => promote::promote(cli, a),
        Command::Sync(a) => promote::sync(cli, a),
        Command::Drift(a) => promote::drift(cli, a),
        Command::Preflight(a) => promote::preflight(cli, a),
        Command::Import(a) => plan::import(cli, a),
        Command::Iam(a) => iam::run(cli, a),
        Command::Cloud(c) => cloud::run(dir, c),
        Command::Doctor(a) => guard::doctor(cli, a),
        Command::Guard(c) => guard::run(cli, c),
        Command::Serve(a) => serve::run(dir, a),
        Command::Scan(a) => scan::run(a, &mut crate::output::stdout()),
        Command::State(c) => state::run(cli, c),
    }
}

/// The OS user running the CLI: the name the audit log shows, never proof
/// of who is at the keyboard.
pub fn cli_user() -> String {
    use infraguard_engine::env_vars::{USER, USERNAME};
    std::env::var(USER)
        .or_else(|_| std::env::var(USERNAME))
        .unwrap_or_else(|_| "unknown".into())
}

/// The placeholder requester a [`infraguard_engine::PlanRequest`] carries:
/// the engine replaces it with the actor it makes from the caller.
pub fn cli_requester() -> Actor {
    Actor::agent(&cli_user(), "cli")
}

fn out(text: &str) -> Result<()> {
    let mut stdout = crate::output::stdout();
    writeln!(stdout, "{text}")?;
    Ok(())
}

fn envs(cli: &Cli) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let reports = p.api.environments(&p.caller)?;
    // The level each environment runs at, as `doctor` reports it.
    let doctor = p.api.doctor(&p.caller)?;
    let level_of = |name: &str| -> Option<&infraguard_engine::EnvLevel> {
        doctor.environments.iter().find(|l| l.name == name)
    };
    if cli.output == Output::Json {
        let environments: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                if let Some(l) = level_of(&r.env.name) {
                    v["level"] = serde_json::json!(l.level);
                    v["level_reasons"] = serde_json::json!(l.reasons);
                }
                v
            })
            .collect();
        out(&render::json(&serde_json::json!({
            "project": p.config.project,
            "root": p.root,
            "environments": environments,
            "notes": p.config.notes,
        })))?;
        return Ok(exit::OK);
    }
    let rows = reports
        .iter()
        .map(|r| {
            vec![
                r.env.name.clone(),
                r.env.backend.as_str().into(),
                r.identity
                    .as_ref()
                    .map(|i| i.account_id.clone())
                    .unwrap_or_else(|| format!("error: {}", r.error.as_deref().unwrap_or("?"))),
                r.env.region.clone(),
                r.identity
                    .as_ref()
                    .and_then(|i| i.profile.clone())
                    .or_else(|| r.env.profile.clone())
                    .unwrap_or_else(|| "-".into()),
                r.identity
                    .as_ref()
                    .map(|i| i.auth_kind.clone())
                    .unwrap_or_else(|| "-".into()),
                if r.env.read_only { "yes" } else { "no" }.into(),
                if r.env.scanning {
                    "enabled"
                } else {
                    "disabled"
                }
                .into(),
                level_of(&r.env.name)
                    .map(|l| l.level.to_string())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    out(&format!("📍 {} ({})", p.config.project, p.root.display()))?;
    out(&render::table(
        &[
            "env",
            "backend",
            "account",
            "region",
            "profile",
            "auth",
            "read-only",
            "scanning",
            "level",
        ],
        rows,
    ))?;
    out("level: `infraguard doctor` says why, and what would raise it")?;
    for n in &p.config.notes {
        out(&format!("note: {n}"))?;
    }
    Ok(exit::OK)
}

fn types(output: Output) -> Result<i32> {
    let catalog = infraguard_schema::Catalog::builtin();
    let types = catalog.types();
    if output == Output::Json {
        let list: Vec<_> = types
            .iter()
            .filter_map(|t| catalog.get(t).ok())
            .map(|s| {
                serde_json::json!({
                    "type": s.type_name,
                    "primary_identifier": s.primary_identifier,
                    "required": s.required,
                    "tagging": s.tagging,
                    "name_property": s.name_property,
                })
            })
            .collect();
        out(&render::json(&list))?;
        return Ok(exit::OK);
    }
    let rows = types
        .iter()
        .filter_map(|t| catalog.get(t).ok())
        .map(|s| {
            vec![
                s.type_name.to_string(),
                s.primary_identifier.join(", "),
                s.required.join(", "),
                s.tagging.property().unwrap_or("-").to_string(),
            ]
        })
        .collect();
    out(&render::table(
        &["type", "identifier", "required", "tags in"],
        rows,
    ))?;
    Ok(exit::OK)
}

fn audit(cli: &Cli, command: Option<&AuditCommand>) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    match command {
        Some(AuditCommand::Verify) => {
            let v = p.api.audit_verify(&p.caller)?;
            if cli.output == Output::Json {
                out(&render::json(&v))?;
            } else if v.ok {
                out(&format!(
                    "✅ audit log intact: {} entries, head {}",
                    v.entries, v.head
                ))?;
            } else {
                out(&format!("❌ audit log damaged ({} entries):", v.entries))?;
                for p in &v.problems {
                    out(&format!("   - {p}"))?;
                }
            }
            Ok(if v.ok { exit::OK } else { exit::FAILURE })
        }
        Some(AuditCommand::Cloudtrail { env, days }) => {
            let r = p.api.cloudtrail_check(&p.caller, env.clone(), *days)?;
            if cli.output == Output::Json {
                out(&render::json(&r))?;
            } else {
                out(&format!(
                    "CloudTrail, {}, last {} days: {} write events, {} by infraguard plans, {} outside infraguard, {} refused by AWS",
                    r.env,
                    r.days,
                    r.events,
                    r.matched.len(),
                    r.outside.len(),
                    r.refused.len()
                ))?;
                let who = |e: &infraguard_core::TrailEvent| {
                    e.username
                        .clone()
                        .or_else(|| e.principal.clone())
                        .unwrap_or_else(|| "?".into())
                };
                let what = |e: &infraguard_core::TrailEvent| {
                    e.resources
                        .iter()
                        .map(|(t, n)| format!("{t} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                for e in &r.outside {
                    out(&format!(
                        "   ⚠ outside infraguard: {} {} {} by {} ({})",
                        e.time,
                        e.name,
                        what(e),
                        who(e),
                        e.id
                    ))?;
                }
                for e in &r.refused {
                    out(&format!(
                        "   ⛔ refused by AWS ({}): {} {} {} by {}",
                        e.error_code.as_deref().unwrap_or("?"),
                        e.time,
                        e.name,
                        what(e),
                        who(e)
                    ))?;
                }
                for m in &r.matched {
                    out(&format!(
                        "   ✅ {} {} {} = plan {} (by {})",
                        m.event.time,
                        m.event.name,
                        what(&m.event),
                        m.plan_id,
                        m.by
                    ))?;
                }
            }
            Ok(if r.outside.is_empty() {
                exit::OK
            } else {
                exit::FOUND
            })
        }
        None => {
            let log = p.api.audit_log(&p.caller)?;
            if cli.output == Output::Json {
                out(&render::json(&log))?;
                return Ok(exit::OK);
            }
            let rows = log
                .iter()
                .map(|e| {
                    vec![
                        e.seq.to_string(),
                        e.at.clone(),
                        e.actor.clone(),
                        e.action.clone(),
                        e.env.clone().unwrap_or_default(),
                        e.plan_id.clone().unwrap_or_default(),
                        e.outcome.clone(),
                    ]
                })
                .collect();
            out(&render::table(
                &["#", "at", "who", "what", "env", "plan", "outcome"],
                rows,
            ))?;
            Ok(exit::OK)
        }
    }
}

fn status(cli: &Cli, env: &str, token: &str) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let ev = p.api.request_status(&p.caller, env.into(), token.into())?;
    if cli.output == Output::Json {
        out(&render::json(&ev))?;
    } else {
        out(&format!(
            "{} {} {}: {}{}",
            ev.operation.cloud_control_name(),
            ev.type_name,
            ev.identifier.as_deref().unwrap_or("-"),
            ev.operation_status.as_str(),
            ev.status_message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ))?;
    }
    Ok(exit::OK)
}
