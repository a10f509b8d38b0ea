//! `approvals`, `approve`, `deny`.
//!
//! `approve` counts as a human's decision only at an interactive terminal
//! where the person types `yes`: an agent driving a shell has no terminal,
//! so its attempt reaches the engine as an agent's and is refused (and
//! audited).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;
use infraguard_core::approval::ApprovalStatus;
use infraguard_engine::Actor;

use crate::args::{ApprovalsArgs, Cli, DecideArgs, Output};
use crate::exit;
use crate::project;
use crate::render;

pub fn list(cli: &Cli, args: &ApprovalsArgs) -> Result<i32> {
    let (_, engine) = project::open(cli.directory.as_deref())?;
    let list = engine.approvals(if args.all {
        None
    } else {
        Some(ApprovalStatus::Pending)
    })?;
    if cli.output == Output::Json {
        println!("{}", render::json(&list));
    } else {
        println!("{}", render::approvals(&list));
    }
    Ok(exit::OK)
}

/// Ask the person at the terminal; `None` when there is no terminal.
fn confirm(prompt: &str) -> Result<Option<bool>> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(Some(line.trim().eq_ignore_ascii_case("yes")))
}

pub fn approve(cli: &Cli, args: &DecideArgs) -> Result<i32> {
    let (_, engine) = project::open(cli.directory.as_deref())?;
    let user = super::cli_user();
    let pending = engine
        .approvals(None)?
        .into_iter()
        .find(|a| a.id == args.approval_id);
    let actor = match &pending {
        Some(a) if a.status == ApprovalStatus::Pending => {
            let prompt = format!(
                "Approve {}: {}\nReasons:\n{}\nType yes to approve: ",
                a.id,
                a.summary,
                a.reasons
                    .iter()
                    .map(|r| format!("  - {r}\n"))
                    .collect::<String>()
            );
            match confirm(&prompt)? {
                Some(true) => Actor::human(&user, "cli"),
                Some(false) => {
                    println!("Not approved (you did not type yes). Nothing changed.");
                    return Ok(exit::GATED);
                }
                None => Actor::agent(&user, "cli (no terminal)"),
            }
        }
        // Unknown or decided: let the engine explain.
        _ => Actor::human(&user, "cli"),
    };
    let a = engine.approve(&args.approval_id, &actor, args.note.as_deref())?;
    if cli.output == Output::Json {
        println!("{}", render::json(&a));
    } else {
        println!(
            "✅ approved {} (plan {}). Next: infraguard apply {}",
            a.id, a.plan_id, a.plan_id
        );
    }
    Ok(exit::OK)
}

pub fn deny(cli: &Cli, args: &DecideArgs) -> Result<i32> {
    let (_, engine) = project::open(cli.directory.as_deref())?;
    let actor = if std::io::stdin().is_terminal() {
        Actor::human(&super::cli_user(), "cli")
    } else {
        Actor::agent(&super::cli_user(), "cli (no terminal)")
    };
    let a = engine.deny(&args.approval_id, &actor, args.note.as_deref())?;
    if cli.output == Output::Json {
        println!("{}", render::json(&a));
    } else {
        println!(
            "🛑 denied {} (plan {}): it will not be applied.",
            a.id, a.plan_id
        );
    }
    Ok(exit::OK)
}
