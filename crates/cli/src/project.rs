//! The project on disk: finding it, loading its configuration and opening
//! the engine over its clouds and state.
//!
//! ```text
//! infraguard.toml          configuration (written by `infraguard init`)
//! infraguard-usage.toml    optional usage assumptions for cost estimates
//! .mcp.json                MCP servers aws-dev / aws-prod for agents
//! .infraguard/state.db     plans, approvals, audit log, token use
//! .infraguard/cloud-ENV.db the local cloud of each local environment
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::clock::{Clock, SystemClock};
use infraguard_core::cloud::Cloud;
use infraguard_core::env::Backend;
use infraguard_engine::config::{CONFIG_FILE, STATE_DIR, USAGE_FILE};
use infraguard_engine::{Engine, ProjectConfig, RawConfig, SqliteStore};

use crate::exit::BadInput;

pub type AnyEngine = Engine<Box<dyn Cloud>, SqliteStore>;

/// The folder to start from: `-C DIR` or the current folder.
pub fn start_dir(directory: Option<&Path>) -> Result<PathBuf> {
    match directory {
        Some(d) => {
            if !d.is_dir() {
                return Err(BadInput(format!("-C {}: no such folder", d.display())).into());
            }
            Ok(d.to_path_buf())
        }
        None => std::env::current_dir().context("cannot read the current folder"),
    }
}

/// Walk up from `start` to the folder holding infraguard.toml.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    let mut dir = Some(start.as_path());
    while let Some(d) = dir {
        if d.join(CONFIG_FILE).is_file() {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    Err(BadInput(format!(
        "no {CONFIG_FILE} in {} or any folder above it: run `infraguard init --project NAME --prefix PREFIX` to make a project here, `-C DIR` to point at one, or `infraguard quickstart` to try a scratch one",
        start.display()
    ))
    .into())
}

/// Where the local cloud of environment `env` lives.
pub fn local_cloud_path(root: &Path, env: &str) -> PathBuf {
    root.join(STATE_DIR).join(format!("cloud-{env}.db"))
}

pub fn load_config(root: &Path) -> Result<ProjectConfig> {
    let path = root.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let raw = RawConfig::parse(&text)?;
    Ok(ProjectConfig::resolve(
        &raw,
        &infraguard_engine::env_vars::process_vars(),
    )?)
}

/// Open the engine of the project at `root`, with `only_env` limiting which
/// environments get a backend (an MCP server for one environment opens one).
pub fn open_engine(root: &Path, config: ProjectConfig) -> Result<AnyEngine> {
    let state = root.join(STATE_DIR);
    std::fs::create_dir_all(&state)
        .with_context(|| format!("cannot create {}", state.display()))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut clouds: BTreeMap<String, Box<dyn Cloud>> = BTreeMap::new();
    for env in &config.environments {
        let cloud: Box<dyn Cloud> = match env.backend {
            Backend::Local => {
                let path = local_cloud_path(root, &env.name);
                let account = LocalAccount {
                    env: env.name.clone(),
                    region: env.region.clone(),
                };
                Box::new(
                    LocalCloud::open(&path, account, clock.clone()).with_context(|| {
                        format!("cannot open the local cloud of `{}`", env.name)
                    })?,
                )
            }
            Backend::Aws => {
                Box::new(infraguard_cloud_aws::AwsCloud::connect(env).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot connect environment `{}` to AWS (profile {}, region {}): {e}",
                        env.name,
                        env.profile.as_deref().unwrap_or("default"),
                        env.region
                    )
                })?)
            }
        };
        clouds.insert(env.name.clone(), cloud);
    }
    // Live prices when an environment is on real AWS: its profile signs the
    // Price List calls; the catalog answers whatever they cannot (no
    // network, no pricing:GetProducts permission).
    let live_prices = config
        .environments
        .iter()
        .find(|e| e.backend == Backend::Aws)
        .map(infraguard_cloud_aws::live_prices)
        .transpose()
        .map_err(|e| anyhow::anyhow!("cannot set up live AWS prices: {e}"))?;
    let store = SqliteStore::open(&state.join("state.db"))?;
    let signing_key = store.secret()?;
    let mut engine = Engine::new(config, clouds, store, clock)?.with_signing_key(signing_key);
    if let Some(prices) = live_prices {
        engine = engine.with_price_source(prices);
    }
    let usage_path = root.join(USAGE_FILE);
    if usage_path.is_file() {
        let text = std::fs::read_to_string(&usage_path)
            .with_context(|| format!("cannot read {}", usage_path.display()))?;
        let usage = infraguard_cost::UsageFile::parse(&text)
            .map_err(|e| BadInput(format!("{}: {e}", usage_path.display())))?;
        engine = engine.with_usage_file(usage);
    }
    Ok(engine)
}

/// Find, load and open in one step.
pub fn open(directory: Option<&Path>) -> Result<(PathBuf, AnyEngine)> {
    let root = find_root(&start_dir(directory)?)?;
    let config = load_config(&root)?;
    let engine = open_engine(&root, config)?;
    Ok((root, engine))
}

/// Read `@FILE` arguments; anything else is the value itself.
pub fn arg_text(value: &str, what: &str) -> Result<String> {
    match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| BadInput(format!("{what} file `{path}`: {e}")).into()),
        None => Ok(value.to_string()),
    }
}

/// Parse a JSON argument, naming the flag and the position of the error.
pub fn json_arg(value: &str, flag: &str) -> Result<serde_json::Value> {
    let text = arg_text(value, flag)?;
    serde_json::from_str(&text).map_err(|e| {
        BadInput(format!(
            "{flag} is not valid JSON ({e}): got `{}`; quote it for the shell, e.g. {flag} '{{\"Key\": \"Value\"}}'",
            text.chars().take(80).collect::<String>()
        ))
        .into()
    })
}

/// The engine API of the project found from `directory`, for surfaces that
/// must not care where the engine runs (`serve`). For now always the
/// in-process engine (level `advisory`); `tighten` may only restrict the
/// configuration before it opens (`serve --env` serves, and so opens, one
/// environment; `serve --readonly` makes every environment read-only).
pub fn open_api(
    directory: Option<&Path>,
    tighten: impl FnOnce(&mut ProjectConfig) -> Result<()>,
) -> Result<(PathBuf, Arc<dyn infraguard_engine::EngineApi>)> {
    let root = find_root(&start_dir(directory)?)?;
    let mut config = load_config(&root)?;
    tighten(&mut config)?;
    let engine = open_engine(&root, config)?;
    Ok((root, Arc::new(engine)))
}
