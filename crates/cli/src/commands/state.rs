//! `infraguard state`: where the project's state lives, the team's
//! DynamoDB table (`init`, `migrate`), and its resource locks (`locks`,
//! `unlock`, like Terraform's `force-unlock`).

use std::io::IsTerminal;

use anyhow::Result;
use clap::Subcommand;
use infraguard_engine::api::Proof;
use infraguard_engine::config::{STATE_DIR, StateBackend};
use infraguard_engine::{Attestation, Subject};

use crate::args::{Cli, Output};
use crate::commands::approvals::{TYPED_YES, confirm, read_code};
use crate::exit::{self, BadInput, Refused};
use crate::project;
use crate::render;

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// Where the state lives (`[state]` in infraguard.toml).
    Show,
    /// Make the team's DynamoDB table of `[state]` (deletion protection and
    /// point-in-time recovery on); safe to run again.
    Init,
    /// Move this checkout's `.infraguard/state.db` into the `[state]` table
    /// (a new, empty one): plans, approvals, locks, token use and the audit
    /// chain, which verifies the same after.
    Migrate,
    /// Every resource lock: the plan holding it, who, where, what, since.
    Locks,
    /// Lock a whole environment (a change freeze): nothing is planned or
    /// applied there, from any machine sharing the state, until it is unlocked.
    Lock {
        #[arg(long)]
        env: String,
        /// What it is for (shown to whoever is refused).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Remove a lock. A held one (its plan still in flight) is a person's
    /// decision: a typed yes here, an approver's code in a guarded project.
    Unlock {
        /// The lock's id (`infraguard state locks`).
        lock_id: String,
        /// The enrolled approver whose code is given (guarded projects).
        #[arg(long, value_name = "NAME")]
        approver: Option<String>,
        /// Why, kept in the audit log.
        #[arg(long)]
        note: Option<String>,
    },
}

fn out(text: &str) -> Result<()> {
    super::out(text)
}

pub fn run(cli: &Cli, command: &StateCommand) -> Result<i32> {
    match command {
        StateCommand::Show => show(cli),
        StateCommand::Init => init(cli),
        StateCommand::Migrate => migrate(cli),
        StateCommand::Locks => locks(cli),
        StateCommand::Lock { env, reason } => lock(cli, env, reason.clone()),
        StateCommand::Unlock {
            lock_id,
            approver,
            note,
        } => unlock(cli, lock_id, approver.clone(), note.clone()),
    }
}

/// The project's `[state]`, without opening an engine (init and migrate
/// must work before the table does).
fn backend(cli: &Cli) -> Result<(std::path::PathBuf, infraguard_engine::ProjectConfig)> {
    let root = project::find_root(&project::start_dir(cli.directory.as_deref())?)?;
    let config = project::load_config(&root)?;
    Ok((root, config))
}

fn show(cli: &Cli) -> Result<i32> {
    let (root, config) = backend(cli)?;
    if cli.output == Output::Json {
        out(&render::json(&config.state))?;
        return Ok(exit::OK);
    }
    match &config.state {
        StateBackend::Sqlite => out(&format!(
            "state: SQLite in {} (this checkout only; `[state] backend = \"dynamodb\"` shares it with a team)",
            root.join(STATE_DIR).join(project::STATE_DB).display()
        ))?,
        StateBackend::Dynamodb {
            table,
            region,
            profile,
        } => out(&format!(
            "state: DynamoDB table `{table}` in {region} (profile {}), shared by every checkout that names it",
            profile.as_deref().unwrap_or("default")
        ))?,
    }
    Ok(exit::OK)
}

fn init(cli: &Cli) -> Result<i32> {
    let (_, config) = backend(cli)?;
    let dynamo = project::dynamo_config(&config.state)?;
    eprintln!(
        "making DynamoDB table `{}` in {} (or checking it, if it is there)…",
        dynamo.table, dynamo.region
    );
    let (_, report) = infraguard_store_dynamodb::DynamoStore::init(&dynamo)?;
    if cli.output == Output::Json {
        out(&render::json(&report))?;
        return Ok(exit::OK);
    }
    let on = |b: bool| if b { "on" } else { "OFF" };
    out(&format!(
        "{} DynamoDB table `{}` in {} ({})",
        if report.created {
            "✅ made"
        } else {
            "✅ found"
        },
        report.table,
        report.region,
        report.arn.as_deref().unwrap_or("no ARN returned")
    ))?;
    out(&format!(
        "   keys pk/sk, index by_seq; billing {}; deletion protection {}; point-in-time recovery {}; expiry of spent tokens by `{}`",
        report.billing,
        on(report.deletion_protection),
        on(report.point_in_time_recovery),
        report.ttl_attribute
    ))?;
    out(
        "   Next: every checkout that names this table in [state] shares plans, approvals, locks and the audit; `infraguard state migrate` brings this checkout's history",
    )?;
    Ok(exit::OK)
}

fn migrate(cli: &Cli) -> Result<i32> {
    let (root, config) = backend(cli)?;
    let dynamo = project::dynamo_config(&config.state)?;
    let state = root.join(STATE_DIR);
    if !state.join(project::STATE_DB).is_file() {
        return Err(BadInput(format!(
            "there is no {} to migrate: this checkout has no SQLite state",
            state.join(project::STATE_DB).display()
        ))
        .into());
    }
    let sqlite = project::open_sqlite(&state)?;
    let envs: Vec<String> = config.environments.iter().map(|e| e.name.clone()).collect();
    eprintln!(
        "moving {} into DynamoDB table `{}`…",
        state.join(project::STATE_DB).display(),
        dynamo.table
    );
    let (_, report) = infraguard_store_dynamodb::DynamoStore::migrate(&dynamo, &sqlite, &envs)?;
    if cli.output == Output::Json {
        out(&render::json(&report))?;
    } else {
        out(&format!(
            "{} moved {} plans, {} approvals, {} applied states, {} spent tokens, {} locks and {} audit entries into `{}`",
            if report.audit_ok { "✅" } else { "❌" },
            report.plans,
            report.approvals,
            report.applied,
            report.spent_tokens,
            report.locks,
            report.audit_entries,
            dynamo.table
        ))?;
        out(&format!(
            "   audit chain {} on the table, head {}; {} is left as it was (keep it as a backup)",
            if report.audit_ok {
                "verifies"
            } else {
                "DOES NOT verify"
            },
            report.audit_head,
            state.join(project::STATE_DB).display()
        ))?;
    }
    Ok(if report.audit_ok {
        exit::OK
    } else {
        exit::FAILURE
    })
}

fn locks(cli: &Cli) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let locks = p.api.locks(&p.caller)?;
    if cli.output == Output::Json {
        out(&render::json(&locks))?;
        return Ok(exit::OK);
    }
    if locks.is_empty() {
        out("no resource locks")?;
        return Ok(exit::OK);
    }
    let rows = locks
        .iter()
        .map(|l| {
            vec![
                l.lock.id.clone(),
                if l.held { "held" } else { "stale" }.into(),
                l.lock.resource.clone(),
                l.lock.env.clone(),
                l.lock.plan_id.clone(),
                l.plan_status.clone().unwrap_or_else(|| "-".into()),
                l.lock.who.clone(),
                l.lock.host.clone(),
                l.lock.since.clone(),
            ]
        })
        .collect();
    out(&render::table(
        &[
            "lock", "state", "resource", "env", "plan", "status", "who", "where", "since",
        ],
        rows,
    ))?;
    out(
        "a held lock waits for its plan (apply it, or deny its approval); `infraguard state unlock LOCK-ID` removes one",
    )?;
    Ok(exit::OK)
}

fn lock(cli: &Cli, env: &str, reason: Option<String>) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let report = p.api.lock_environment(&p.caller, env.to_string(), reason)?;
    if cli.output == Output::Json {
        out(&render::json(&report))?;
    } else {
        out(&format!(
            "🔒 locked {} (lock {}: {}): nothing is planned or applied there until `infraguard state unlock {}`",
            report.lock.resource, report.lock.id, report.lock.what, report.lock.id
        ))?;
    }
    Ok(exit::OK)
}

fn unlock(cli: &Cli, id: &str, approver: Option<String>, note: Option<String>) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    let Some(lock) = p
        .api
        .locks(&p.caller)?
        .into_iter()
        .find(|l| l.lock.id == id)
    else {
        return Err(BadInput(format!(
            "no lock `{id}`: `infraguard state locks` lists them"
        ))
        .into());
    };
    let wanted = p
        .api
        .attestation(&p.caller, Subject::Unlock(id.to_string()))?;
    let proof = if wanted == Attestation::Nobody {
        None
    } else {
        let held_for = if lock.lock.plan_id.is_empty() {
            format!("({})", lock.lock.what)
        } else {
            format!(
                "in {} for plan {} ({})",
                lock.lock.env,
                lock.lock.plan_id,
                lock.plan_status.as_deref().unwrap_or("?")
            )
        };
        eprintln!(
            "lock {} holds {} {held_for}, taken by {} on {} at {}.\nRemoving it lets others plan and apply there again.",
            lock.lock.id, lock.lock.resource, lock.lock.who, lock.lock.host, lock.lock.since
        );
        if wanted != Attestation::Confirmation {
            let Some(code) = read_code(&format!("Approver code (6 digits) to unlock {id}: "))?
            else {
                return Err(Refused(
                    "not unlocked: no code was given (an enrolled approver's code removes a held lock here). Nothing changed.".into(),
                )
                .into());
            };
            Some(Proof::Code { approver, code })
        } else {
            if !std::io::stdin().is_terminal() {
                return Err(Refused(
                    "not unlocked: removing a held lock asks the person at a terminal to type yes, and standard input is not a terminal. Nothing changed.".into(),
                )
                .into());
            }
            if !confirm("Type yes to remove it: ")? {
                return Err(Refused(
                    "not unlocked (you did not type yes). Nothing changed.".into(),
                )
                .into());
            }
            Some(Proof::Confirmation {
                how: TYPED_YES.into(),
            })
        }
    };
    let report = p.api.unlock(&p.caller, id.to_string(), proof, note)?;
    if cli.output == Output::Json {
        out(&render::json(&report))?;
    } else {
        out(&format!(
            "🔓 removed lock {} of {} in {} (plan {}, {})",
            report.lock.id,
            report.lock.resource,
            report.lock.env,
            report.lock.plan_id,
            if report.held {
                "it was held: the plan is unchanged; if it is applied after a newer plan of the resource, it is refused as stale"
            } else {
                "it was stale"
            }
        ))?;
    }
    Ok(exit::OK)
}
