//! `infraguard guard …`: run, install, enrol approvers, adopt a project,
//! change the guard's policy; and `infraguard doctor`.
//!
//! Every decision is the guard's or the engine's: these commands carry a
//! request over the socket and show the answer. What they add is the person
//! at the terminal: they read the approver's code from it (or from standard
//! input when it is not a terminal: the code is the proof, not the
//! terminal).

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use base64::Engine as _;
use infraguard_core::env::Backend;
use infraguard_engine::config::{CONFIG_FILE, RawConfig, RawGuard, STATE_DIR};
use infraguard_engine::{Proof, env_vars};
use infraguard_guard::client;
use infraguard_guard::server::{GuardOptions, Opener};
use infraguard_guard::wire::{AdoptReply, EnrollStartReply, GuardRequest, HelloReply};
use serde_json::{Value, json};

use crate::args::{Cli, Output};
use crate::exit::{self, BadInput};
use crate::project;

/// Where `guard install` puts things.
pub const SYSTEM_HOME: &str = "/var/lib/infraguard";
pub const SYSTEM_SOCKET: &str = "/run/infraguard/guard.sock";
pub const SYSTEM_ACCOUNT: &str = "infraguard";
pub const SYSTEM_BINARY: &str = "/usr/local/lib/infraguard/infraguard";
pub const SYSTEMD_UNIT: &str = "/etc/systemd/system/infraguard.service";

#[derive(clap::Subcommand, Debug)]
pub enum GuardCommand {
    /// Run the guard in the foreground (as its own OS account; for containers and tests).
    Run(RunArgs),
    /// Set the guard up for real (root): system account, home, socket, root-owned binary, systemd unit.
    Install(InstallArgs),
    /// Undo `guard install` (root). Adopted projects' state is kept in the home unless --purge.
    Uninstall(UninstallArgs),
    /// Enrol an approver's authenticator (root, or an enrolled approver's code).
    Enroll(EnrollArgs),
    /// List the enrolled approvers.
    Approvers(SocketArg),
    /// Who the guard is: version, account, approvers, approval page address.
    Status(SocketArg),
    /// Move this project's state into the guard; from then on every command goes through it.
    Adopt(SocketArg),
    /// Show or change the guard's policy for this project.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(clap::Args, Debug)]
pub struct SocketArg {
    /// The guard's socket (default: [guard] socket in infraguard.toml, $INFRAGUARD_GUARD_SOCKET, /run/infraguard/guard.sock).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The guard's home (made 0700): its database, key and adopted projects.
    #[arg(long, value_name = "DIR")]
    pub home: PathBuf,
    #[arg(long, value_name = "PATH")]
    pub socket: PathBuf,
    /// Loopback address for approval pages; port 0 picks one; `none` serves none.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub page_addr: String,
    /// Group whose members may connect (socket 0660); without it only the guard's own account can.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Stop when standard input closes (tests, supervisors).
    #[arg(long)]
    pub stop_on_stdin_close: bool,
}

#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Add this user to the `infraguard` group so their CLI and MCP servers can reach the guard.
    #[arg(long, value_name = "USER")]
    pub user: Vec<String>,
    /// Set up everything but the systemd unit (containers without systemd).
    #[arg(long)]
    pub no_systemd: bool,
}

#[derive(clap::Args, Debug)]
pub struct UninstallArgs {
    /// Also delete the guard's home (every adopted project's state and audit log).
    #[arg(long)]
    pub purge: bool,
}

#[derive(clap::Args, Debug)]
pub struct EnrollArgs {
    /// The approver's name, as the audit log will call them.
    #[arg(long, value_name = "NAME")]
    pub approver: String,
    /// Not root: an enrolled approver vouches with their code (asked for).
    #[arg(long, value_name = "NAME")]
    pub vouching_approver: Option<String>,
    #[command(flatten)]
    pub socket: SocketArg,
}

#[derive(clap::Subcommand, Debug)]
pub enum PolicyCommand {
    /// The guard's policy for this project, as TOML.
    Show(SocketArg),
    /// Change one key (loosening asks for an approver's code): e.g. `approval.cost_threshold_usd 25`.
    Set(PolicySetArgs),
}

#[derive(clap::Args, Debug)]
pub struct PolicySetArgs {
    pub key: String,
    pub value: String,
    /// The approver whose code is asked for when the change loosens the policy.
    #[arg(long, value_name = "NAME")]
    pub approver: Option<String>,
    #[command(flatten)]
    pub socket: SocketArg,
}

pub fn run(cli: &Cli, command: &GuardCommand) -> Result<i32> {
    match command {
        GuardCommand::Run(a) => run_guard(a),
        GuardCommand::Install(a) => install(a),
        GuardCommand::Uninstall(a) => uninstall(a),
        GuardCommand::Enroll(a) => enroll(cli, a),
        GuardCommand::Approvers(s) => {
            let socket = socket_for(cli, s)?;
            let v = client::call(&socket, &GuardRequest::Approvers, &mut |_| {})?;
            show(cli.output, &v, |v| {
                let names: Vec<String> = serde_json::from_value(v.clone()).unwrap_or_default();
                if names.is_empty() {
                    "no approver is enrolled: `sudo infraguard guard enroll --approver NAME`".into()
                } else {
                    format!("enrolled approvers: {}", names.join(", "))
                }
            })
        }
        GuardCommand::Status(s) => {
            let socket = socket_for(cli, s)?;
            let v = client::call(&socket, &GuardRequest::Hello, &mut |_| {})?;
            show(cli.output, &v, |v| {
                let h: Option<HelloReply> = serde_json::from_value(v.clone()).ok();
                match h {
                    Some(h) => format!(
                        "guard {} at {} (protocol {}), running as uid {}{}; you are {}\napprovers: {}\napproval pages: {}",
                        h.version,
                        socket.display(),
                        h.protocol,
                        h.uid,
                        h.user.map(|u| format!(" ({u})")).unwrap_or_default(),
                        h.peer,
                        if h.approvers.is_empty() {
                            "none enrolled".into()
                        } else {
                            h.approvers.join(", ")
                        },
                        h.page.unwrap_or_else(|| "not served".into())
                    ),
                    None => v.to_string(),
                }
            })
        }
        GuardCommand::Adopt(s) => adopt(cli, s),
        GuardCommand::Policy(PolicyCommand::Show(s)) => {
            let (socket, project) = adopted(cli, s)?;
            let v = client::call(&socket, &GuardRequest::PolicyShow { project }, &mut |_| {})?;
            show(cli.output, &v, |v| {
                v["policy"].as_str().unwrap_or_default().to_string()
            })
        }
        GuardCommand::Policy(PolicyCommand::Set(a)) => policy_set(cli, a),
    }
}

fn show(output: Output, v: &Value, text: impl FnOnce(&Value) -> String) -> Result<i32> {
    if output == Output::Json {
        println!("{}", serde_json::to_string_pretty(v)?);
    } else {
        println!("{}", text(v));
    }
    Ok(exit::OK)
}

/// The socket: the flag, `[guard] socket`, the variable, or the system one.
fn socket_for(cli: &Cli, s: &SocketArg) -> Result<PathBuf> {
    if let Some(p) = &s.socket {
        return Ok(p.clone());
    }
    if let Ok(root) = project::find_root(&project::start_dir(cli.directory.as_deref())?)
        && let Ok(raw) = read_raw(&root)
        && let Some(sock) = raw.guard.and_then(|g| g.socket)
    {
        return Ok(PathBuf::from(sock));
    }
    if let Some(v) = env_vars::process_vars().get(env_vars::INFRAGUARD_GUARD_SOCKET) {
        return Ok(PathBuf::from(v));
    }
    Ok(PathBuf::from(SYSTEM_SOCKET))
}

fn read_raw(root: &Path) -> Result<RawConfig> {
    let text = std::fs::read_to_string(root.join(CONFIG_FILE))
        .with_context(|| format!("cannot read {}", root.join(CONFIG_FILE).display()))?;
    Ok(RawConfig::parse(&text)?)
}

/// The socket and project id of an adopted project.
fn adopted(cli: &Cli, s: &SocketArg) -> Result<(PathBuf, String)> {
    let root = project::find_root(&project::start_dir(cli.directory.as_deref())?)?;
    let raw = read_raw(&root)?;
    let project = raw
        .guard
        .as_ref()
        .and_then(|g| g.project.clone())
        .ok_or_else(|| {
            BadInput(format!(
                "{} is not adopted by a guard: run `infraguard guard adopt` there first",
                root.display()
            ))
        })?;
    Ok((socket_for(cli, s)?, project))
}

/// Read one line: the approver's code, from the terminal or standard input.
pub fn read_code(prompt: &str) -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{prompt}");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let code = line.trim().to_string();
    if code.is_empty() {
        return Err(BadInput(
            "no code was given (6 digits from the approver's authenticator)".into(),
        )
        .into());
    }
    Ok(code)
}

fn run_guard(a: &RunArgs) -> Result<i32> {
    let page_addr = match a.page_addr.trim() {
        "none" | "" => None,
        text => {
            let addr: std::net::SocketAddr = text.parse().map_err(|_| {
                BadInput(format!(
                    "--page-addr {text}: not an address like 127.0.0.1:0"
                ))
            })?;
            if !addr.ip().is_loopback() {
                return Err(BadInput(format!(
                    "--page-addr {text}: approval pages are served on loopback only (127.0.0.1)"
                ))
                .into());
            }
            Some(addr)
        }
    };
    let socket_gid = match &a.group {
        Some(g) => {
            Some(group_id(g).ok_or_else(|| BadInput(format!("--group {g}: no such group")))?)
        }
        None => None,
    };
    let opener: Opener = Arc::new(|dir: &Path, config| {
        project::open_engine_at(dir, config).map_err(|e| format!("{e:#}"))
    });
    let opts = GuardOptions {
        home: a.home.clone(),
        socket: a.socket.clone(),
        socket_gid,
    };
    infraguard_guard::server::run(opts, page_addr, a.stop_on_stdin_close, opener, |info| {
        println!(
            "{}",
            json!({"socket": info.socket, "page": info.page, "uid": info.uid})
        );
        let _ = std::io::stdout().flush();
    })?;
    Ok(exit::OK)
}

/// The gid of group `name` (or a number), from /etc/group.
fn group_id(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        let _ = f.next();
        f.next()?.parse().ok()
    })
}

fn enroll(cli: &Cli, a: &EnrollArgs) -> Result<i32> {
    let socket = socket_for(cli, &a.socket)?;
    let proof = match &a.vouching_approver {
        Some(who) => Some(Proof::Code {
            approver: Some(who.clone()),
            code: read_code(&format!("Code of approver {who} (6 digits): "))?,
        }),
        None => None,
    };
    let v = client::call(
        &socket,
        &GuardRequest::EnrollStart {
            approver: a.approver.clone(),
            proof,
        },
        &mut |_| {},
    )?;
    let start: EnrollStartReply = serde_json::from_value(v)?;
    if cli.output == Output::Json {
        println!(
            "{}",
            json!({"approver": start.approver, "otpauth_url": start.otpauth_url})
        );
    } else {
        println!(
            "Enrolling approver {}. Add this to their authenticator app (shown once):\n",
            start.approver
        );
        if let Ok(qr) = qrcode::QrCode::new(start.otpauth_url.as_bytes()) {
            println!(
                "{}",
                qr.render::<qrcode::render::unicode::Dense1x2>()
                    .quiet_zone(true)
                    .build()
            );
        }
        println!("otpauth URL: {}\n", start.otpauth_url);
    }
    std::io::stdout().flush()?;
    let code = read_code("Code now shown by the authenticator (6 digits): ")?;
    let v = client::call(
        &socket,
        &GuardRequest::EnrollFinish {
            approver: a.approver.clone(),
            code,
        },
        &mut |_| {},
    )?;
    show(cli.output, &v, |_| {
        format!(
            "✅ approver {} is enrolled: their codes now approve plans in guarded projects",
            a.approver
        )
    })
}

fn adopt(cli: &Cli, s: &SocketArg) -> Result<i32> {
    let root = project::find_root(&project::start_dir(cli.directory.as_deref())?)?;
    let path = root.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut raw = RawConfig::parse(&text)?;
    if raw
        .guard
        .as_ref()
        .and_then(|g| g.project.as_ref())
        .is_some()
    {
        return Err(BadInput(format!(
            "{} is already adopted (see [guard] in {CONFIG_FILE})",
            root.display()
        ))
        .into());
    }
    let socket = socket_for(cli, s)?;
    let state = root.join(STATE_DIR);
    let mut clouds = BTreeMap::new();
    for (name, env) in &raw.environments {
        let file = project::cloud_file(&state, name);
        if env.backend == Backend::Local && file.is_file() {
            let bytes = sqlite_snapshot(&file)?;
            clouds.insert(
                name.clone(),
                base64::engine::general_purpose::STANDARD.encode(bytes),
            );
        }
    }
    let v = client::call(
        &socket,
        &GuardRequest::Adopt {
            root: root.display().to_string(),
            config: text.clone(),
            clouds,
        },
        &mut |_| {},
    )?;
    let reply: AdoptReply = serde_json::from_value(v.clone())?;
    raw.guard = Some(RawGuard {
        socket: Some(socket.display().to_string()),
        project: Some(reply.project.clone()),
    });
    std::fs::write(&path, raw.to_toml())
        .with_context(|| format!("cannot write {}", path.display()))?;
    // The guard holds the state now; a local copy would only mislead.
    if state.is_dir() {
        std::fs::remove_dir_all(&state)
            .with_context(|| format!("cannot remove {} after adoption", state.display()))?;
    }
    show(cli.output, &v, |_| {
        let mut s = format!(
            "✅ adopted as {} by the guard at {}: its state, policy and local clouds now live there.\n   Every infraguard command and MCP server in this folder goes through the guard; `infraguard doctor` shows the level.",
            reply.project,
            socket.display()
        );
        for n in &reply.notes {
            s.push_str(&format!("\nnote: {n}"));
        }
        s
    })
}

/// A consistent copy of a SQLite file (its WAL folded in).
fn sqlite_snapshot(file: &Path) -> Result<Vec<u8>> {
    let conn = rusqlite::Connection::open(file)
        .with_context(|| format!("cannot open {}", file.display()))?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .with_context(|| format!("cannot checkpoint {}", file.display()))?;
    drop(conn);
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

fn policy_set(cli: &Cli, a: &PolicySetArgs) -> Result<i32> {
    let (socket, project) = adopted(cli, &a.socket)?;
    let request = |proof: Option<Proof>| GuardRequest::PolicySet {
        project: project.clone(),
        key: a.key.clone(),
        value: a.value.clone(),
        proof,
    };
    let v = match client::call(&socket, &request(None), &mut |_| {}) {
        Ok(v) => v,
        Err(e)
            if e.kind() == infraguard_engine::ErrorKind::Gated
                && e.to_string().contains("code") =>
        {
            eprintln!("{e}");
            let code = read_code("Approver code (6 digits): ")?;
            client::call(
                &socket,
                &request(Some(Proof::Code {
                    approver: a.approver.clone(),
                    code,
                })),
                &mut |_| {},
            )?
        }
        Err(e) => return Err(e.into()),
    };
    show(cli.output, &v, |_| {
        format!("✅ {} = {} in the guard's policy", a.key, a.value)
    })
}

fn run_cmd(program: &str, args: &[&str]) -> Result<()> {
    let status = std::process::Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        return Err(anyhow!("`{program} {}` failed ({status})", args.join(" ")));
    }
    Ok(())
}

fn require_root(what: &str) -> Result<()> {
    let uid = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap_or(u32::MAX);
    if uid != 0 {
        return Err(BadInput(format!(
            "`infraguard guard {what}` sets up system accounts and files: run it with sudo"
        ))
        .into());
    }
    Ok(())
}

fn install(a: &InstallArgs) -> Result<i32> {
    require_root("install")?;
    if group_id(SYSTEM_ACCOUNT).is_none() {
        run_cmd("groupadd", &["--system", SYSTEM_ACCOUNT])?;
    }
    if infraguard_guard::server::user_name_to_uid(SYSTEM_ACCOUNT).is_none() {
        run_cmd(
            "useradd",
            &[
                "--system",
                "--gid",
                SYSTEM_ACCOUNT,
                "--home-dir",
                SYSTEM_HOME,
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_ACCOUNT,
            ],
        )?;
    }
    for u in &a.user {
        run_cmd("usermod", &["-aG", SYSTEM_ACCOUNT, u])?;
    }
    std::fs::create_dir_all(SYSTEM_HOME)?;
    run_cmd(
        "chown",
        &[&format!("{SYSTEM_ACCOUNT}:{SYSTEM_ACCOUNT}"), SYSTEM_HOME],
    )?;
    run_cmd("chmod", &["0700", SYSTEM_HOME])?;
    // A root-owned copy: a binary in the user's ~/.cargo/bin could be swapped by the agent.
    let me = std::env::current_exe().context("cannot find this binary")?;
    std::fs::create_dir_all(Path::new(SYSTEM_BINARY).parent().unwrap_or(Path::new("/")))?;
    std::fs::copy(&me, SYSTEM_BINARY)
        .with_context(|| format!("cannot copy the binary to {SYSTEM_BINARY}"))?;
    run_cmd("chown", &["root:root", SYSTEM_BINARY])?;
    run_cmd("chmod", &["0755", SYSTEM_BINARY])?;
    let unit = format!(
        "[Unit]\nDescription=infraguard guard: approvals a coding agent cannot forge\nAfter=network.target\n\n[Service]\nUser={SYSTEM_ACCOUNT}\nGroup={SYSTEM_ACCOUNT}\nRuntimeDirectory=infraguard\nRuntimeDirectoryMode=0755\nExecStart={SYSTEM_BINARY} guard run --home {SYSTEM_HOME} --socket {SYSTEM_SOCKET} --group {SYSTEM_ACCOUNT}\nRestart=on-failure\nNoNewPrivileges=yes\nProtectSystem=strict\nReadWritePaths={SYSTEM_HOME}\nPrivateTmp=yes\n\n[Install]\nWantedBy=multi-user.target\n"
    );
    if !a.no_systemd {
        std::fs::write(SYSTEMD_UNIT, unit)
            .with_context(|| format!("cannot write {SYSTEMD_UNIT}"))?;
        run_cmd("systemctl", &["daemon-reload"])?;
        run_cmd("systemctl", &["enable", "--now", "infraguard.service"])?;
        println!(
            "✅ the guard runs as `{SYSTEM_ACCOUNT}` (systemd unit infraguard.service), socket {SYSTEM_SOCKET}"
        );
    } else {
        // systemd's RuntimeDirectory= would make the socket's folder; here it
        // is made once (a tmpfs /run loses it at reboot: run install again).
        let run_dir = Path::new(SYSTEM_SOCKET)
            .parent()
            .unwrap_or(Path::new("/run"));
        std::fs::create_dir_all(run_dir)
            .with_context(|| format!("cannot create {}", run_dir.display()))?;
        let run_dir_text = run_dir.display().to_string();
        run_cmd(
            "chown",
            &[&format!("{SYSTEM_ACCOUNT}:{SYSTEM_ACCOUNT}"), &run_dir_text],
        )?;
        run_cmd("chmod", &["0755", &run_dir_text])?;
        println!(
            "✅ set up account `{SYSTEM_ACCOUNT}`, home {SYSTEM_HOME}, binary {SYSTEM_BINARY}. Start the guard with:\n   setpriv --reuid {SYSTEM_ACCOUNT} --regid {SYSTEM_ACCOUNT} --init-groups {SYSTEM_BINARY} guard run --home {SYSTEM_HOME} --socket {SYSTEM_SOCKET} --group {SYSTEM_ACCOUNT}"
        );
    }
    println!(
        "Next: `sudo infraguard guard enroll --approver NAME`, then `infraguard guard adopt` in each project folder."
    );
    println!(
        "Linux only: macOS and Windows have no install step yet (run `guard run` under a separate account by hand)."
    );
    Ok(exit::OK)
}

fn uninstall(a: &UninstallArgs) -> Result<i32> {
    require_root("uninstall")?;
    if Path::new(SYSTEMD_UNIT).exists() {
        let _ = run_cmd("systemctl", &["disable", "--now", "infraguard.service"]);
        std::fs::remove_file(SYSTEMD_UNIT)?;
        let _ = run_cmd("systemctl", &["daemon-reload"]);
    }
    let _ = std::fs::remove_file(SYSTEM_BINARY);
    if let Some(dir) = Path::new(SYSTEM_BINARY).parent() {
        let _ = std::fs::remove_dir(dir);
    }
    if a.purge {
        if let Some(dir) = Path::new(SYSTEM_SOCKET).parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
        let _ = std::fs::remove_dir_all(SYSTEM_HOME);
        let _ = run_cmd("userdel", &[SYSTEM_ACCOUNT]);
        let _ = run_cmd("groupdel", &[SYSTEM_ACCOUNT]);
        println!("✅ the guard is removed, with its home and account");
    } else {
        println!(
            "✅ the guard is stopped and removed; its home {SYSTEM_HOME} (adopted projects' state and audit) and account are kept (--purge removes them)"
        );
    }
    Ok(exit::OK)
}

/// `infraguard doctor`: the level of each environment, why, and what would raise it.
pub fn doctor(cli: &Cli, args: &crate::args::DoctorArgs) -> Result<i32> {
    let opened = project::open(cli.directory.as_deref())?;
    if args.iam_templates {
        return iam_templates(cli, &opened, args);
    }
    let report = opened.api.doctor(&opened.caller)?;
    if cli.output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(exit::OK);
    }
    for e in &report.environments {
        println!("{}: {}", e.name, e.level);
        for r in &e.reasons {
            println!("   - {r}");
        }
        for f in &e.fixes {
            println!("   fix: {f}");
        }
    }
    for n in &report.notes {
        println!("note: {n}");
    }
    Ok(exit::OK)
}

/// `doctor --iam-templates`: per AWS environment, the agent's read-only
/// policy and the MFA-gated approval role, as CloudFormation templates.
fn iam_templates(cli: &Cli, p: &project::Opened, args: &crate::args::DoctorArgs) -> Result<i32> {
    let config = p.api.config(&p.caller)?;
    let envs: Vec<String> = match &args.env {
        Some(e) => vec![e.clone()],
        None => config
            .environments
            .iter()
            .filter(|e| e.backend == infraguard_core::Backend::Aws)
            .map(|e| e.name.clone())
            .collect(),
    };
    if envs.is_empty() {
        return Err(crate::exit::BadInput(
            "no environment runs on AWS (`backend = \"aws\"`): the templates are for AWS accounts; name one with --env".into(),
        )
        .into());
    }
    let mut all = Vec::new();
    for env in envs {
        all.push(p.api.iam_templates(
            &p.caller,
            env,
            args.agent_role.clone(),
            args.approver_arn.clone(),
        )?);
    }
    if cli.output == Output::Json {
        println!("{}", serde_json::to_string_pretty(&all)?);
        return Ok(exit::OK);
    }
    for t in &all {
        for (what, doc, logical) in [
            (
                "the agent's read-only policy",
                &t.agent_read_only,
                "AgentReadOnly",
            ),
            (
                "the MFA-gated approval role",
                &t.approval_role,
                "ApprovalRole",
            ),
        ] {
            let r = &doc["Resources"][logical];
            println!(
                "# {}: {what} (apply with: infraguard plan --env {} --type {} --properties @FILE, FILE holding \"Properties\")",
                t.env,
                t.env,
                r["Type"].as_str().unwrap_or("?")
            );
            println!("{}", serde_json::to_string_pretty(doc)?);
        }
    }
    Ok(exit::OK)
}
