//! `infraguard init`: a new project in the current folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use infraguard_core::env::Backend;
use infraguard_engine::RawConfig;
use infraguard_engine::config::{CONFIG_FILE, STATE_DIR, check_prefix};
use infraguard_engine::env_vars;
use serde_json::json;

use crate::args::{BackendArg, InitArgs, Output};
use crate::exit::{self, BadInput};
use crate::project;
use crate::render;

pub const MCP_FILE: &str = ".mcp.json";

/// The command an MCP client should start: `infraguard` when that is this
/// very binary on PATH, else this binary's absolute path.
fn server_command() -> String {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    let on_path = std::env::var_os(infraguard_engine::env_vars::PATH).and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("infraguard"))
            .find(|p| p.is_file())
            .and_then(|p| p.canonicalize().ok())
    });
    match (me, on_path) {
        (Some(me), Some(p)) if me == p => "infraguard".into(),
        (Some(me), _) => me.display().to_string(),
        _ => "infraguard".into(),
    }
}

pub fn mcp_json(raw: &RawConfig) -> serde_json::Value {
    let mut servers = serde_json::Map::new();
    for (name, e) in &raw.environments {
        let mut env = serde_json::Map::new();
        if let Some(p) = &e.profile {
            env.insert(env_vars::AWS_PROFILE.into(), json!(p));
        }
        env.insert(env_vars::AWS_REGION.into(), json!(e.region));
        env.insert(
            env_vars::SECURITY_SCANNING.into(),
            json!(if e.security_scanning {
                "enabled"
            } else {
                "disabled"
            }),
        );
        if e.read_only {
            env.insert(env_vars::INFRAGUARD_READONLY.into(), json!("true"));
        }
        servers.insert(
            format!("aws-{name}"),
            json!({"command": server_command(), "args": ["serve", "--env", name], "env": env}),
        );
    }
    json!({"mcpServers": servers})
}

/// Write a new project into `dir`. Refuses to overwrite anything.
pub fn write_project(dir: &Path, project: &str, prefix: &str, backend: Backend) -> Result<PathBuf> {
    if project.trim().is_empty() {
        return Err(BadInput(
            "--project is empty: give the project's name, e.g. --project SynthCore".into(),
        )
        .into());
    }
    check_prefix(prefix)?;
    for f in [CONFIG_FILE, MCP_FILE] {
        let p = dir.join(f);
        if p.exists() {
            return Err(BadInput(format!(
                "{} already exists: this folder already holds a project; use it, or run init in an empty folder",
                p.display()
            ))
            .into());
        }
    }
    let mut raw = RawConfig::new_project(project.trim(), prefix, backend);
    if backend == Backend::Aws {
        pin_accounts(&mut raw);
    }
    let header = "# infraguard project configuration. Environment variables AWS_PROFILE, AWS_REGION,\n\
# SECURITY_SCANNING and INFRAGUARD_READONLY override it for one process.\n\n";
    let config_path = dir.join(CONFIG_FILE);
    std::fs::write(&config_path, format!("{header}{}", raw.to_toml()))
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    std::fs::write(dir.join(MCP_FILE), render::json(&mcp_json(&raw)) + "\n")
        .with_context(|| format!("cannot write {}", dir.join(MCP_FILE).display()))?;
    let state = dir.join(STATE_DIR);
    project::private_dir(&state)?;
    // State holds the signing secret and local clouds: keep it out of git.
    let ignore = state.join(".gitignore");
    project::private_file(&ignore)?;
    std::fs::write(&ignore, "*\n").context("cannot write .infraguard/.gitignore")?;
    Ok(config_path)
}

/// Pin each AWS environment to the account its profile signs in to (STS
/// `GetCallerIdentity`). An environment whose account cannot be read is
/// left unpinned, with a note saying how to pin it by hand.
fn pin_accounts(raw: &mut RawConfig) {
    for (name, e) in raw.environments.iter_mut() {
        let env = infraguard_core::Environment {
            name: name.clone(),
            tag_value: e.tag_value.clone().unwrap_or_default(),
            backend: Backend::Aws,
            profile: e.profile.clone(),
            region: e.region.clone(),
            read_only: e.read_only,
            scanning: e.security_scanning,
            account_id: None,
            approval_role: None,
        };
        let who = infraguard_cloud_aws::AwsCloud::connect(&env)
            .and_then(|c| infraguard_core::Cloud::identity(&c));
        match who {
            Ok(id) if infraguard_core::env::is_account_id(&id.account_id) => {
                eprintln!(
                    "  {name}: pinned to AWS account {} ({})",
                    id.account_id, id.arn
                );
                e.account_id = Some(id.account_id);
            }
            Ok(id) => eprintln!(
                "  {name}: STS answered account `{}`, which is no account id; set `account_id` under [environments.{name}] by hand",
                id.account_id
            ),
            Err(err) => eprintln!(
                "  {name}: not pinned: the account of profile `{}` could not be read ({err}); set `account_id = \"123456789012\"` under [environments.{name}] once it can, so that no other account's credentials act for {name}",
                e.profile.as_deref().unwrap_or("default")
            ),
        }
    }
}

pub fn run(dir: Option<&Path>, args: &InitArgs, output: Output) -> Result<i32> {
    let dir = project::start_dir(dir)?;
    let backend = match args.backend {
        BackendArg::Local => Backend::Local,
        BackendArg::Aws => Backend::Aws,
    };
    let path = write_project(&dir, &args.project, &args.prefix, backend)?;
    if output == Output::Json {
        println!(
            "{}",
            render::json(&json!({"config": path, "mcp": dir.join(MCP_FILE)}))
        );
    } else {
        println!(
            "Created {} and {} in {}",
            CONFIG_FILE,
            MCP_FILE,
            dir.display()
        );
        println!("  dev:  {} backend, full access", backend.as_str());
        println!(
            "  prod: {} backend, read-only until a human approves",
            backend.as_str()
        );
        println!("Next: infraguard envs");
    }
    Ok(exit::OK)
}
