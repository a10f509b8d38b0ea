//! `approvals`, `approve`, `deny`.
//!
//! `approve` does not decide who is a human: it asks the engine which
//! attestation the approval needs ([`infraguard_engine::attest`]), asks the
//! person for exactly that and hands it over, and the engine weighs it:
//!
//! - `advisory` (the engine in this process): the person types `yes` at a
//!   terminal. That approves, recorded as *unverified*: anything that can
//!   type, an agent with a pseudo-terminal included, could have typed it.
//!   Without a terminal nothing is asked and nothing is approved.
//! - `guarded` / `aws-enforced`: an enrolled approver's one-time code, read
//!   from the terminal without echo, or from standard input when it is not
//!   a terminal (the code is the proof, not the terminal).
//!
//! `deny` needs no proof: anyone may say no.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;
use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_engine::{Attestation, Proof, Subject};

use crate::args::{ApprovalsArgs, ApproveArgs, Cli, DecideArgs, Output};
use crate::exit::{self, BadInput, Refused};
use crate::project::{self, Opened};
use crate::render;

/// How a terminal `yes` reaches the audit log (after `unverified:`).
pub const TYPED_YES: &str = "typed yes at a terminal";

pub fn list(cli: &Cli, args: &ApprovalsArgs) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let list = p.api.approvals(
        &p.caller,
        if args.all {
            None
        } else {
            Some(ApprovalStatus::Pending)
        },
    )?;
    // A pending approval's one-time page, where the engine's host serves one
    // (the guard, or `serve`); `None` otherwise.
    let pages: Vec<Option<String>> = list
        .iter()
        .map(|a| {
            if a.status == ApprovalStatus::Pending {
                p.api.approval_page(&p.caller, a.id.clone()).ok().flatten()
            } else {
                None
            }
        })
        .collect();
    if cli.output == Output::Json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .zip(&pages)
            .map(|(a, page)| {
                let mut v = serde_json::to_value(a).unwrap_or_default();
                v["page"] = serde_json::json!(page);
                v
            })
            .collect();
        println!("{}", render::json(&rows));
    } else {
        println!("{}", render::approvals(&list));
        for (a, page) in list.iter().zip(&pages) {
            if let Some(url) = page {
                println!("{}: approval page {url}", a.id);
            }
        }
    }
    Ok(exit::OK)
}

/// The pending approval `id`, or the reason there is nothing to approve.
fn pending(p: &Opened, id: &str) -> Result<Approval> {
    let found = p
        .api
        .approvals(&p.caller, None)?
        .into_iter()
        .find(|a| a.id == id);
    match found {
        None => Err(BadInput(format!(
            "no approval `{id}`: run `infraguard approvals` to see pending approvals"
        ))
        .into()),
        Some(a) if a.status != ApprovalStatus::Pending => {
            let next = match a.status {
                ApprovalStatus::Denied => format!(
                    "a denied plan stays denied: make a new plan (`infraguard plan --env {} ...`) if the change is still wanted",
                    a.env
                ),
                _ => format!("run `infraguard apply {}`", a.plan_id),
            };
            Err(BadInput(format!(
                "approval {id} is already {}; {next}",
                a.status.as_str()
            ))
            .into())
        }
        Some(a) => Ok(a),
    }
}

fn describe(a: &Approval) -> String {
    format!(
        "Approve {} ({}): {}\nReasons:\n{}",
        a.id,
        a.env,
        a.summary,
        a.reasons
            .iter()
            .map(|r| format!("  - {r}\n"))
            .collect::<String>()
    )
}

pub fn approve(cli: &Cli, args: &ApproveArgs) -> Result<i32> {
    let id = &args.decide.approval_id;
    let p = project::open(cli.directory.as_deref())?;
    let wanted = p.api.attestation(&p.caller, Subject::Approval(id.clone()));
    if let Ok(Attestation::AwsMfa {
        role_arn,
        mfa_serial,
        ..
    }) = &wanted
    {
        return approve_with_mfa(cli, args, &p, role_arn, mfa_serial);
    }
    // An unknown or decided approval is named here, with what to do next.
    let a = pending(&p, id)?;
    let (proof, unverified) = if wanted? == Attestation::ApproverCode {
        eprint!("{}", describe(&a));
        let Some(code) = read_code(&format!("Approver code (6 digits) for {id}: "))? else {
            return Err(Refused(format!(
                "not approved: no code was given (an enrolled approver's 6-digit code approves {id} here). Nothing changed."
            ))
            .into());
        };
        (
            Proof::Code {
                approver: args.approver.clone(),
                code,
            },
            false,
        )
    } else {
        if args.approver.is_some() {
            eprintln!(
                "note: --approver is for guarded projects; here an approval is a typed yes (`infraguard doctor` explains)"
            );
        }
        if !std::io::stdin().is_terminal() {
            // Nothing is asked of a pipe: in an advisory project whatever
            // reached the engine as a confirmation would approve.
            return Err(Refused(
                "not approved: `infraguard approve` asks the person at a terminal to type yes, and standard input is not a terminal. Nothing changed.".into(),
            )
            .into());
        }
        eprint!("{}", describe(&a));
        if !confirm("Type yes to approve: ")? {
            return Err(
                Refused("not approved (you did not type yes). Nothing changed.".into()).into(),
            );
        }
        (
            Proof::Confirmation {
                how: TYPED_YES.into(),
            },
            true,
        )
    };
    let a = p
        .api
        .approve(&p.caller, id.clone(), proof, args.decide.note.clone())?;
    if cli.output == Output::Json {
        println!("{}", render::json(&a));
    } else if unverified {
        println!(
            "✅ approved {} (unverified: anyone at this keyboard could have typed yes; `infraguard doctor` explains). Next: infraguard apply {}",
            a.id, a.plan_id
        );
    } else {
        println!(
            "✅ approved {} by {} (plan {}). Next: infraguard apply {}",
            a.id,
            a.decided_by.as_deref().unwrap_or("?"),
            a.plan_id,
            a.plan_id
        );
    }
    Ok(exit::OK)
}

/// `aws-enforced`: the approver's AWS MFA code opens the approval role's
/// session for this one plan, which the engine applies with it here and
/// then drops. A wrong code is AWS STS's `AccessDenied`.
fn approve_with_mfa(
    cli: &Cli,
    args: &ApproveArgs,
    p: &Opened,
    role_arn: &str,
    mfa_serial: &str,
) -> Result<i32> {
    let id = &args.decide.approval_id;
    if let Some(a) = p
        .api
        .approvals(&p.caller, None)?
        .iter()
        .find(|a| &a.id == id)
    {
        eprint!("{}", describe(a));
    }
    eprintln!(
        "AWS checks this approval: your MFA code unlocks {} for this plan only (15 minutes, CloudTrail session infraguard-plan-…).",
        role_arn
    );
    let Some(code) = read_code(&format!("AWS MFA code of {mfa_serial}: "))? else {
        return Err(Refused(format!(
            "not approved: no code was given (the 6-digit code of {mfa_serial} approves {id} here). Nothing changed."
        ))
        .into());
    };
    let mut progress = super::plan::progress_printer();
    let done = p.api.approve_mfa(
        &p.caller,
        id.clone(),
        code,
        args.decide.note.clone(),
        &mut progress,
    )?;
    if cli.output == Output::Json {
        println!("{}", render::json(&done));
    } else {
        println!(
            "✅ approved {} by {} with an AWS MFA session ({}); applying with that session:",
            done.approval.id,
            done.approval.decided_by.as_deref().unwrap_or("?"),
            done.session_name
        );
    }
    Ok(super::plan::report_outcome(cli, &done.outcome))
}

/// Ask the person at the terminal for `yes`.
pub(crate) fn confirm(prompt: &str) -> Result<bool> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().eq_ignore_ascii_case("yes"))
}

/// Read an approver's code: from the terminal without echo, or one line of
/// standard input. `None` when nothing was given.
pub(crate) fn read_code(prompt: &str) -> Result<Option<String>> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let stdin = std::io::stdin();
    let _echo = stdin.is_terminal().then(EchoOff::new).flatten();
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    if _echo.is_some() {
        // The person's Enter was not echoed either.
        eprintln!();
    }
    let code: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    Ok((!code.is_empty()).then_some(code))
}

/// Terminal echo off on standard input while it lives: a code on screen
/// could be read over a shoulder or from scrollback.
struct EchoOff {
    saved: rustix::termios::Termios,
}

impl EchoOff {
    fn new() -> Option<EchoOff> {
        let stdin = std::io::stdin();
        let saved = rustix::termios::tcgetattr(&stdin).ok()?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
        rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &quiet).ok()?;
        Some(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(
            std::io::stdin(),
            rustix::termios::OptionalActions::Now,
            &self.saved,
        );
    }
}

pub fn deny(cli: &Cli, args: &DecideArgs) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let a = p
        .api
        .deny(&p.caller, args.approval_id.clone(), args.note.clone())?;
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
