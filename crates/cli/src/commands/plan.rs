//! `plan`, `show`, `plans` and `apply`.

use std::io::IsTerminal;

use anyhow::Result;
use infraguard_core::cloud::ProgressEvent;
use infraguard_core::resource::Operation;
use infraguard_engine::{ApplyOutcome, PlanRequest};

use crate::args::{Cli, Output, PlanArgs, PlansArgs};
use crate::exit::{self, BadInput};
use crate::project::{self, Opened};
use crate::render;

pub fn request(args: &PlanArgs) -> Result<PlanRequest> {
    let operation: Operation = args
        .operation
        .parse()
        .map_err(|e: String| BadInput(format!("--operation {e}")))?;
    let properties = args
        .properties
        .as_deref()
        .map(|p| project::json_arg(p, "--properties"))
        .transpose()?;
    let patch = args
        .patch
        .as_deref()
        .map(|p| project::json_arg(p, "--patch"))
        .transpose()?;
    let usage = args
        .usage
        .as_deref()
        .map(|u| infraguard_cost::parse_usage_arg(u).map_err(|e| BadInput(format!("--usage: {e}"))))
        .transpose()?;
    Ok(PlanRequest {
        env: args.env.clone(),
        operation,
        type_name: args.type_name.clone(),
        purpose: args.purpose.clone(),
        properties,
        identifier: args.id.clone(),
        patch,
        usage,
        actor: super::cli_requester(),
    })
}

pub fn plan(cli: &Cli, args: &PlanArgs) -> Result<i32> {
    let req = request(args)?;
    let p = project::open(cli.directory.as_deref())?;
    let plan = p.api.plan(&p.caller, req)?;
    if cli.output == Output::Json {
        println!("{}", render::json(&plan));
    } else {
        println!("{}", render::plan(&plan, &p.config));
        if let Some(id) = &plan.gate.approval_id
            && let Ok(Some(url)) = p.api.approval_page(&p.caller, id.clone())
        {
            println!("   Or open the approval page (this machine only, one time): {url}");
        }
    }
    Ok(exit::OK)
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The environment the resource is in.
    #[arg(long)]
    pub env: String,
    /// Its type, e.g. AWS::SES::ConfigurationSet.
    #[arg(long = "type")]
    pub type_name: String,
    /// Its primary identifier (`infraguard resources list --env ENV --type TYPE` shows it).
    #[arg(long)]
    pub id: String,
}

/// `import`: the plan that tags an existing resource; applied like any plan.
pub fn import(cli: &Cli, a: &ImportArgs) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let plan = p
        .api
        .plan_import(&p.caller, a.env.clone(), a.type_name.clone(), a.id.clone())?;
    if cli.output == Output::Json {
        println!("{}", render::json(&plan));
    } else {
        println!(
            "Importing {} `{}` in {}: this plan adds the tag standard, so sync, drift and the cost review track it.",
            plan.type_name, a.id, plan.env
        );
        println!("{}", render::plan(&plan, &p.config));
    }
    Ok(exit::OK)
}

pub fn show(cli: &Cli, plan_id: &str) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let plan = p.api.plan_by_id(&p.caller, plan_id.into())?;
    if cli.output == Output::Json {
        println!("{}", render::json(&plan));
    } else {
        println!("{}", render::plan(&plan, &p.config));
        println!("Status: {}", plan.status.as_str());
    }
    Ok(exit::OK)
}

pub fn list(cli: &Cli, args: &PlansArgs) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let plans = p.api.plans(&p.caller, args.env.clone(), args.limit)?;
    if cli.output == Output::Json {
        println!("{}", render::json(&plans));
        return Ok(exit::OK);
    }
    let rows = plans
        .iter()
        .map(|p| {
            vec![
                p.id.clone(),
                p.env.clone(),
                p.operation.to_string(),
                p.type_name.to_string(),
                p.identifier.clone().unwrap_or_default(),
                p.gate.decision.as_str().into(),
                p.status.as_str().into(),
                p.created_at.clone(),
            ]
        })
        .collect();
    println!(
        "{}",
        render::table(
            &[
                "plan",
                "env",
                "op",
                "type",
                "identifier",
                "gate",
                "status",
                "created"
            ],
            rows
        )
    );
    Ok(exit::OK)
}

/// Progress of a Cloud Control request on stderr (stdout stays clean for
/// JSON): one status line rewritten in place with the elapsed time, ended
/// when the request ends. Nothing is drawn when stderr is not a terminal.
pub fn progress_printer() -> impl FnMut(&ProgressEvent) {
    let show = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    move |ev: &ProgressEvent| {
        if !show {
            return;
        }
        let line = format!(
            "  ⏳ {} {}: {} ({:.0} s)",
            ev.operation.cloud_control_name(),
            ev.identifier.as_deref().unwrap_or(ev.type_name.as_str()),
            ev.operation_status.as_str(),
            started.elapsed().as_secs_f64()
        );
        if ev.operation_status.is_terminal() {
            eprintln!("\r{line}\x1b[K");
        } else {
            eprint!("\r{line}\x1b[K");
        }
    }
}

pub fn apply_and_report(cli: &Cli, p: &Opened, plan_id: &str) -> Result<i32> {
    let mut progress = progress_printer();
    let outcome = p.api.apply(&p.caller, plan_id.into(), &mut progress)?;
    if cli.output == Output::Json {
        println!("{}", render::json(&outcome));
    }
    Ok(report_outcome(cli, &outcome))
}

/// An apply's outcome in words (table output), and its exit code.
pub fn report_outcome(cli: &Cli, outcome: &ApplyOutcome) -> i32 {
    match outcome {
        ApplyOutcome::Applied { plan, event } => {
            if cli.output == Output::Table {
                println!(
                    "✅ {} {} `{}` in {} ({})",
                    match plan.operation {
                        Operation::Create => "created",
                        Operation::Update => "updated",
                        Operation::Delete => "deleted",
                    },
                    plan.type_name,
                    event
                        .identifier
                        .as_deref()
                        .or(plan.identifier.as_deref())
                        .unwrap_or("?"),
                    plan.env,
                    event.request_token
                );
                if let Some(m) = &event.status_message {
                    println!("   {m}");
                }
            }
            exit::OK
        }
        ApplyOutcome::NeedsApproval { plan, approval } => {
            if cli.output == Output::Table {
                println!("⛔ not applied: plan {} needs a human's approval", plan.id);
                for r in &approval.reasons {
                    println!("   - {r}");
                }
                println!(
                    "   A human runs `infraguard approve {}`, then `infraguard apply {}` runs it.",
                    approval.id, plan.id
                );
            }
            exit::GATED
        }
        ApplyOutcome::Refused { plan, reasons } => {
            if cli.output == Output::Table {
                println!("⛔ not applied: plan {} was refused", plan.id);
                for r in reasons {
                    println!("   - {r}");
                }
            }
            exit::GATED
        }
    }
}

pub fn apply(cli: &Cli, plan_id: &str) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    apply_and_report(cli, &p, plan_id)
}
