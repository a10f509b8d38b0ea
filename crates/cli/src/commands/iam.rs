//! `infraguard iam lint|suggest|extend`: IAM least privilege from the
//! command line (the seed's Step 4).
//!
//! - `lint FILE|-`: a policy document or a template; output and exit codes
//!   as `infraguard scan` (table, `--format json` with a `findings` list and
//!   `expansions`, or SARIF; exit 1 when an open finding is at or above
//!   `--fail-on`, 2 for unreadable input). Works without a project; inside
//!   one, proposed ARNs use its prefix (and with `--env`, that
//!   environment's account and region).
//! - `suggest "CAPABILITY" [--resource NAME]...`: the minimal policy with a
//!   conventional name. Exit 0 with a policy; 2 when the capability is
//!   unknown or ambiguous (the known capabilities are listed; nothing is
//!   guessed). `--list` prints the capabilities.
//! - `expand PATTERN...`: the actions each pattern grants; exit 2 when one
//!   matches no action (with the nearest real ones).
//! - `extend --env ENV --user NAME|--role NAME "CAPABILITY"`: current vs
//!   proposed permissions and the plan of the smallest change (apply it
//!   with `infraguard apply`). Exit 0 when planned or already granted, 2 for
//!   an unknown or ambiguous capability, 3 when a person must decide.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Result;
use infraguard_core::Severity;
use infraguard_engine::iam::{ExtendReport, ExtendRequest, ExtendStatus};
use infraguard_policy::iam_tools::{
    self, LintOptions, LintReport, SuggestContext, SuggestRequest, Suggestion,
};
use infraguard_policy::report;

use crate::args::{Cli, Output};
use crate::exit::{self, BadInput};
use crate::project;
use crate::render;

#[derive(clap::Args, Debug)]
pub struct IamArgs {
    #[command(subcommand)]
    pub command: IamCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum IamCommand {
    /// Check a policy document or template for least privilege (exit 1 on findings at or above --fail-on).
    Lint(LintArgs),
    /// The minimal policy, conventionally named, for a capability ("upload files to S3").
    Suggest(SuggestArgs),
    /// Plan the smallest change that gives a user or role a capability.
    Extend(ExtendArgs),
    /// The actions a wildcard grants (`s3:Get*`), or the nearest real ones to a misspelling.
    Expand(ExpandArgs),
}

#[derive(clap::Args, Debug)]
pub struct ExpandArgs {
    /// Action patterns, e.g. 's3:Get*' 'ses:*' (quote them for the shell).
    #[arg(value_name = "PATTERN", required = true)]
    pub patterns: Vec<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    Table,
    Json,
    Sarif,
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// A policy document, a {"PolicyName", "PolicyDocument"} wrapper or a template; `-` reads stdin.
    #[arg(value_name = "FILE|-")]
    pub file: PathBuf,
    /// Report format (`--output json` is the same as `--format json`).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<LintFormat>,
    /// Exit 1 when an open finding is at or above this severity (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "low", value_parser = parse_severity)]
    pub fail_on: Severity,
    /// Resource-name prefix for proposed ARNs (default: the project's).
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Use this environment's account and region in proposed ARNs (needs a project).
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct SuggestArgs {
    /// What the workload must do, e.g. "upload files to S3", or a capability id.
    #[arg(value_name = "CAPABILITY", required_unless_present = "list")]
    pub capability: Option<String>,
    /// A resource it touches (name or ARN); repeat for several. Default: every {prefix}-* resource.
    #[arg(long = "resource", value_name = "NAME|ARN")]
    pub resources: Vec<String>,
    /// The environment whose account and region go into ARNs (inside a project).
    #[arg(long, value_name = "ENV", default_value = "dev")]
    pub env: String,
    /// Outside a project: the policy-name prefix (e.g. SynthCoreAI).
    #[arg(long, value_name = "PREFIX")]
    pub iam_prefix: Option<String>,
    /// Outside a project: the resource-name prefix (e.g. synthcoreai).
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// List the capabilities it knows.
    #[arg(long)]
    pub list: bool,
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("principal").required(true).args(["user", "role"])))]
pub struct ExtendArgs {
    /// What the principal must be able to do, e.g. "upload files to S3", or a capability id.
    #[arg(value_name = "CAPABILITY")]
    pub capability: String,
    /// The environment (dev first; then promote).
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The IAM user's name.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// The IAM role's name.
    #[arg(long, value_name = "NAME")]
    pub role: Option<String>,
    /// A resource it touches (name or ARN); repeat for several.
    #[arg(long = "resource", value_name = "NAME|ARN")]
    pub resources: Vec<String>,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

pub fn run(cli: &Cli, args: &IamArgs) -> Result<i32> {
    let mut out = crate::output::stdout();
    match &args.command {
        IamCommand::Lint(a) => lint(cli, a, &mut out),
        IamCommand::Suggest(a) => suggest(cli, a, &mut out),
        IamCommand::Extend(a) => extend(cli, a, &mut out),
        IamCommand::Expand(a) => expand(cli, a, &mut out),
    }
}

fn read_input(path: &PathBuf) -> Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| BadInput(format!("cannot read the policy from stdin: {e}")))?;
        return Ok(s);
    }
    std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("cannot read {}: {e}", path.display())).into())
}

/// The project's prefix, when run inside a project.
fn project_prefixes(cli: &Cli) -> Option<(String, String)> {
    let root = project::find_root(&project::start_dir(cli.directory.as_deref()).ok()?).ok()?;
    let config = project::load_config(&root).ok()?;
    Some((config.prefix, config.iam_prefix))
}

fn lint(cli: &Cli, args: &LintArgs, out: &mut dyn Write) -> Result<i32> {
    let text = match read_input(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::BAD_INPUT);
        }
    };
    let result = match &args.env {
        Some(env) => {
            let p = project::open(cli.directory.as_deref())?;
            p.api
                .iam_lint(&p.caller, text.clone(), Some(env.clone()))
                .map_err(|e| e.to_string())
        }
        None => {
            let prefix = args
                .prefix
                .clone()
                .or_else(|| project_prefixes(cli).map(|p| p.0));
            iam_tools::lint_text(
                &text,
                &LintOptions {
                    prefix,
                    ..LintOptions::default()
                },
            )
            .map_err(|e| e.to_string())
        }
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return Ok(exit::BAD_INPUT);
        }
    };
    let format = args.format.unwrap_or(if cli.output == Output::Json {
        LintFormat::Json
    } else {
        LintFormat::Table
    });
    match format {
        LintFormat::Table => write!(out, "{}", lint_table(&report))?,
        LintFormat::Json => writeln!(out, "{}", render::json(&report.json()))?,
        LintFormat::Sarif => {
            let uri = args.file.display().to_string();
            let sarif = report::sarif_with_source(&report.report, &uri, &text);
            writeln!(out, "{}", render::json(&sarif))?;
        }
    }
    Ok(if report.report.failing(args.fail_on) > 0 {
        exit::FAILURE
    } else {
        exit::OK
    })
}

fn lint_table(r: &LintReport) -> String {
    let mut s = report::table(&r.report);
    for f in r.report.findings.iter().filter(|f| f.fix.is_some()) {
        if let Some(ops) = f.fix.as_ref().and_then(|v| v.as_array()) {
            s.push_str(&format!(
                "\nProposed for {} {} ({}):\n",
                f.resource, f.path, f.rule
            ));
            for op in ops {
                s.push_str(&format!(
                    "  {} {}: {}\n",
                    op["op"].as_str().unwrap_or(""),
                    op["path"].as_str().unwrap_or(""),
                    op["value"]
                ));
            }
        }
    }
    for e in &r.expansions {
        s.push_str(&format!(
            "\n`{}` expands to {} action(s){}\n",
            e.pattern,
            e.actions.len(),
            if e.actions.len() <= 12 && !e.actions.is_empty() {
                format!(": {}", e.actions.join(", "))
            } else {
                " (--format json lists them)".into()
            }
        ));
    }
    s
}

fn suggest(cli: &Cli, args: &SuggestArgs, out: &mut dyn Write) -> Result<i32> {
    if args.list {
        let caps = iam_tools::capabilities();
        if cli.output == Output::Json {
            writeln!(out, "{}", render::json(&caps))?;
        } else {
            writeln!(out, "{}", capability_table(&caps))?;
        }
        return Ok(exit::OK);
    }
    let capability = args.capability.clone().unwrap_or_default();
    let suggestion = if args.iam_prefix.is_some() || args.prefix.is_some() {
        let (Some(iam_prefix), Some(prefix)) = (args.iam_prefix.clone(), args.prefix.clone())
        else {
            return Err(BadInput(
                "give both --iam-prefix and --prefix (or run inside a project)".into(),
            )
            .into());
        };
        iam_tools::suggest(
            &SuggestRequest {
                capability,
                resources: args.resources.clone(),
            },
            &SuggestContext {
                iam_prefix,
                prefix,
                account: None,
                region: None,
            },
        )
    } else {
        let p = project::open(cli.directory.as_deref()).map_err(|e| {
            BadInput(format!(
                "{e}; outside a project give --iam-prefix and --prefix (e.g. --iam-prefix SynthCoreAI --prefix synthcoreai)"
            ))
        })?;
        p.api.iam_suggest(
            &p.caller,
            capability,
            args.resources.clone(),
            args.env.clone(),
        )?
    };
    if cli.output == Output::Json {
        writeln!(out, "{}", render::json(&suggestion))?;
    } else {
        write!(out, "{}", suggestion_text(&suggestion))?;
    }
    Ok(match suggestion {
        Suggestion::Known(_) => exit::OK,
        _ => exit::BAD_INPUT,
    })
}

fn capability_table(caps: &[iam_tools::CapabilityInfo]) -> String {
    render::table(
        &["id", "policy", "what", "resource", "actions"],
        caps.iter()
            .map(|c| {
                vec![
                    c.id.clone(),
                    c.policy_suffix.clone(),
                    c.title.clone(),
                    c.resource_kind.clone(),
                    c.actions.join(", "),
                ]
            })
            .collect(),
    )
}

fn suggestion_text(s: &Suggestion) -> String {
    match s {
        Suggestion::Known(p) => {
            let mut t = format!(
                "{} ({}: {})\n{}\n",
                p.policy_name,
                p.capability,
                p.title,
                render::json(&p.document)
            );
            for n in &p.notes {
                t.push_str(&format!("note: {n}\n"));
            }
            t
        }
        Suggestion::Unknown { message, known, .. } => {
            format!(
                "{message}\n\nKnown capabilities:\n{}\n",
                capability_table(known)
            )
        }
        Suggestion::Ambiguous {
            message,
            candidates,
            ..
        } => format!("{message}\n{}\n", capability_table(candidates)),
    }
}

fn expand(cli: &Cli, args: &ExpandArgs, out: &mut dyn Write) -> Result<i32> {
    let expansions: Vec<iam_tools::Expansion> = args
        .patterns
        .iter()
        .map(|p| iam_tools::expand_action(p))
        .collect();
    if cli.output == Output::Json {
        writeln!(out, "{}", render::json(&expansions))?;
    } else {
        for e in &expansions {
            match &e.problem {
                Some(why) => {
                    writeln!(out, "{}: {why}", e.pattern)?;
                    if !e.suggestions.is_empty() {
                        writeln!(out, "  did you mean: {}", e.suggestions.join(", "))?;
                    }
                }
                None => {
                    writeln!(out, "{} grants {} action(s):", e.pattern, e.actions.len())?;
                    for a in &e.actions {
                        writeln!(out, "  {a}")?;
                    }
                }
            }
        }
    }
    Ok(if expansions.iter().any(|e| e.problem.is_some()) {
        exit::BAD_INPUT
    } else {
        exit::OK
    })
}

fn extend(cli: &Cli, args: &ExtendArgs, out: &mut dyn Write) -> Result<i32> {
    let (principal_type, principal) = match (&args.user, &args.role) {
        (Some(u), _) => ("AWS::IAM::User", u.clone()),
        (_, Some(r)) => ("AWS::IAM::Role", r.clone()),
        _ => return Err(BadInput("give --user NAME or --role NAME".into()).into()),
    };
    let p = project::open(cli.directory.as_deref())?;
    let report = p.api.iam_extend(
        &p.caller,
        ExtendRequest {
            env: args.env.clone(),
            principal_type: principal_type.into(),
            principal,
            capability: args.capability.clone(),
            resources: args.resources.clone(),
            actor: super::cli_requester(),
        },
    )?;
    if cli.output == Output::Json {
        writeln!(out, "{}", render::json(&report))?;
    } else {
        write!(out, "{}", extend_text(&report, &p.config))?;
    }
    Ok(match report.status {
        ExtendStatus::Planned | ExtendStatus::AlreadyGranted => exit::OK,
        ExtendStatus::UnknownCapability | ExtendStatus::AmbiguousCapability => exit::BAD_INPUT,
        ExtendStatus::Blocked => exit::GATED,
    })
}

fn extend_text(r: &ExtendReport, config: &infraguard_engine::ProjectConfig) -> String {
    let mut t = format!("{} `{}` in {}\n", r.principal_type, r.principal, r.env);
    match r.status {
        ExtendStatus::UnknownCapability | ExtendStatus::AmbiguousCapability => {
            t.push_str(&suggestion_text(&r.suggestion));
            return t;
        }
        _ => {}
    }
    t.push_str("Attached policies:\n");
    if r.current_policies.is_empty() {
        t.push_str("  (none)\n");
    }
    for p in &r.current_policies {
        t.push_str(&format!(
            "  {} ({}{})\n",
            p.name,
            p.kind,
            p.arn
                .as_deref()
                .map(|a| format!(", {a}"))
                .unwrap_or_default()
        ));
    }
    t.push_str("\nPermissions (+ proposed):\n");
    t.push_str(&r.diff_text);
    if let Some(plan) = &r.plan {
        t.push('\n');
        t.push_str(&render::plan(plan, config));
        t.push('\n');
    }
    t.push_str(&format!("\n{}\n", r.message));
    t
}
