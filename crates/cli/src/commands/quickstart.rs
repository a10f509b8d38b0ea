//! `infraguard quickstart`: the whole guarded workflow in a new scratch
//! project, narrated. It asks the same engine API as the commands a user
//! would type, and prints those commands so they can be tried next. The
//! scratch project is advisory (the engine in this process), so its approval
//! is a confirmation, recorded as unverified.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use infraguard_core::approval::ApprovalStatus;
use infraguard_core::env::Backend;
use infraguard_engine::{ApplyOutcome, Caller, PlanRequest, Proof};
use serde_json::json;

use crate::args::QuickstartArgs;
use crate::exit;
use crate::project;
use crate::render;

fn step(n: u32, title: &str, command: &str) {
    println!("\n━━ Step {n}: {title}");
    println!("   $ {command}");
}

fn scratch_dir(args: &QuickstartArgs) -> Result<PathBuf> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default();
            std::env::temp_dir().join(format!(
                "infraguard-quickstart-{stamp}-{}",
                std::process::id()
            ))
        }
    };
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(crate::exit::BadInput(format!(
            "{} is not empty: give --dir a new or empty folder",
            dir.display()
        )));
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

pub fn run(args: &QuickstartArgs) -> Result<i32> {
    let dir = scratch_dir(args)?;
    let started = std::time::Instant::now();
    println!(
        "infraguard quickstart: the guarded workflow on the embedded local cloud (no AWS account needed)."
    );
    println!("Scratch project: {}", dir.display());

    step(
        1,
        "make a project with dev (full access) and prod (read-only)",
        "infraguard init --project SynthCore --prefix synthcoreai",
    );
    super::init::write_project(&dir, "SynthCore", "synthcoreai", Backend::Local)?;
    println!("   wrote infraguard.toml and .mcp.json (servers aws-dev and aws-prod)");
    let p = project::open_in_process(&dir, Caller::new(&super::cli_user(), "quickstart"))?;
    let (api, caller) = (&p.api, &p.caller);

    step(2, "see where changes would go", "infraguard envs");
    for r in api.environments(caller)? {
        println!(
            "   {:<5} backend {}, account {}, region {}, {}",
            r.env.name,
            r.env.backend.as_str(),
            r.identity
                .as_ref()
                .map(|i| i.account_id.as_str())
                .unwrap_or("?"),
            r.env.region,
            if r.env.read_only {
                "read-only"
            } else {
                "writable"
            }
        );
    }

    // A placeholder: the engine names the requester from the caller.
    let requester = super::cli_requester();
    step(
        3,
        "plan a bucket in dev: template, explanation, scan, cost, gate",
        "infraguard plan --env dev --type AWS::S3::Bucket --purpose documents --properties '{\"VersioningConfiguration\":{\"Status\":\"Enabled\"}}'",
    );
    let dev_plan = api.plan(
        caller,
        PlanRequest::create(
            "dev",
            "AWS::S3::Bucket",
            Some("documents"),
            json!({"VersioningConfiguration": {"Status": "Enabled"}}),
            requester.clone(),
        ),
    )?;
    println!("{}", indent(&render::plan(&dev_plan, &p.config)));

    step(
        4,
        "apply it: the gate allows it without a human",
        &format!("infraguard apply {}", dev_plan.id),
    );
    let mut progress = |_: &infraguard_core::cloud::ProgressEvent| {};
    match api.apply(caller, dev_plan.id.clone(), &mut progress)? {
        ApplyOutcome::Applied { event, .. } => println!(
            "   ✅ created {} ({})",
            event.identifier.as_deref().unwrap_or("?"),
            event.operation_status.as_str()
        ),
        other => bail!(
            "quickstart expected the dev bucket to apply, got {}",
            outcome_name(&other)
        ),
    }

    step(
        5,
        "list what dev now holds",
        "infraguard resources list --env dev",
    );
    for (t, r) in api.list_resources(caller, "dev".into(), None)? {
        println!("   {t}  {}", r.identifier);
    }

    step(
        6,
        "plan the same bucket in prod",
        "infraguard plan --env prod --type AWS::S3::Bucket --purpose documents --properties '{}'",
    );
    let prod_plan = api.plan(
        caller,
        PlanRequest::create(
            "prod",
            "AWS::S3::Bucket",
            Some("documents"),
            json!({}),
            requester,
        ),
    )?;
    println!("{}", indent(&render::gate(&prod_plan)));

    step(
        7,
        "try to apply it: prod is read-only, so it is refused",
        &format!("infraguard apply {}", prod_plan.id),
    );
    let approval = match api.apply(caller, prod_plan.id.clone(), &mut progress)? {
        ApplyOutcome::NeedsApproval { approval, .. } => {
            println!("   ⛔ refused: waiting for a human ({})", approval.id);
            approval
        }
        other => bail!(
            "quickstart expected prod to refuse, got {}",
            outcome_name(&other)
        ),
    };

    step(8, "see what waits for a human", "infraguard approvals");
    println!(
        "{}",
        indent(&render::approvals(
            &api.approvals(caller, Some(ApprovalStatus::Pending))?
        ))
    );

    step(
        9,
        "approve it (here quickstart does, as you: an unverified confirmation)",
        &format!("infraguard approve {}", approval.id),
    );
    println!(
        "   (this scratch project is advisory: `approve` asks for a typed `yes`, which anything at the keyboard could give, so it is recorded as unverified; with the guard, an approver's code is the only proof: `infraguard doctor` explains)"
    );
    let granted = api.approve(
        caller,
        approval.id.clone(),
        Proof::Confirmation {
            how: "ran infraguard quickstart".into(),
        },
        Some("approved in quickstart".into()),
    )?;
    println!(
        "   ✅ {} approved by {}",
        granted.id,
        granted.decided_by.as_deref().unwrap_or("?")
    );

    step(
        10,
        "apply again: now it runs",
        &format!("infraguard apply {}", prod_plan.id),
    );
    match api.apply(caller, prod_plan.id.clone(), &mut progress)? {
        ApplyOutcome::Applied { event, .. } => {
            println!(
                "   ✅ created {} in prod",
                event.identifier.as_deref().unwrap_or("?")
            )
        }
        other => bail!(
            "quickstart expected the approved prod plan to apply, got {}",
            outcome_name(&other)
        ),
    }

    step(
        11,
        "every decision and change, in order, hash-chained",
        "infraguard audit && infraguard audit verify",
    );
    for e in api.audit_log(caller)? {
        println!(
            "   #{:<3} {:<20} {:<9} {}",
            e.seq, e.action, e.outcome, e.actor
        );
    }
    let v = api.audit_verify(caller)?;
    println!(
        "   {} audit chain: {} entries",
        if v.ok { "✅ intact" } else { "❌ BROKEN" },
        v.entries
    );

    println!(
        "\nDone in {:.1} s. Try it yourself:",
        started.elapsed().as_secs_f64()
    );
    println!("   cd {}", dir.display());
    println!("   infraguard resources list --env prod");
    Ok(if v.ok { exit::OK } else { exit::FAILURE })
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn outcome_name(o: &ApplyOutcome) -> &'static str {
    match o {
        ApplyOutcome::Applied { .. } => "applied",
        ApplyOutcome::NeedsApproval { .. } => "needs approval",
        ApplyOutcome::Refused { .. } => "refused",
    }
}
