//! The project on disk: finding it, loading its configuration and opening
//! the engine API over it: the engine in this process (level `advisory`), or
//! the guard's, when the project is adopted.
//!
//! ```text
//! infraguard.toml          configuration (written by `infraguard init`);
//!                          `[guard]` names the guard's socket and project id
//! infraguard-usage.toml    optional usage assumptions for cost estimates
//! .mcp.json                MCP servers aws-dev / aws-prod for agents
//! .infraguard/state.db     plans, approvals, audit log, token use (0600)
//! .infraguard/cloud-ENV.db the local cloud of each local environment (0600)
//! ```
//!
//! Main types: [`Opened`] (what every command works with), [`AnyEngine`]
//! (the in-process engine, for hosts such as `serve` and the guard).
//! Not here: any rule about what needs approval (the engine's), or who is a
//! human (the engine's, from a proof).

use std::collections::BTreeMap;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::clock::{Clock, SystemClock};
use infraguard_core::cloud::Cloud;
use infraguard_core::env::Backend;
use infraguard_core::env::Environment;
use infraguard_core::store::Store;
use infraguard_engine::config::{CONFIG_FILE, STATE_DIR, StateBackend, USAGE_FILE};
use infraguard_engine::env_vars;
use infraguard_engine::{Caller, Engine, EngineApi, ProjectConfig, RawConfig, SqliteStore};

use crate::exit::BadInput;

pub type AnyEngine = Engine<Box<dyn Cloud>, Box<dyn Store>>;

/// The store's file in a state folder.
pub const STATE_DB: &str = "state.db";

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

/// The local cloud file of `env` in a state folder.
pub fn cloud_file(state: &Path, env: &str) -> PathBuf {
    state.join(format!("cloud-{env}.db"))
}

pub fn load_config(root: &Path) -> Result<ProjectConfig> {
    let (_, raw) = read_raw(root)?;
    Ok(ProjectConfig::resolve(
        &raw,
        &infraguard_engine::env_vars::process_vars(),
    )?)
}

/// `infraguard.toml`'s text and its raw reading.
fn read_raw(root: &Path) -> Result<(String, RawConfig)> {
    let path = root.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let raw = RawConfig::parse(&text)?;
    Ok((text, raw))
}

/// Make `dir` (the state folder) and keep it to its owner: it holds the
/// token signing secret, the audit log and the local clouds.
pub fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    set_mode(dir, 0o700)
}

/// Create `path` as an owner-only file if it is missing (SQLite then opens
/// it as an empty database), and tighten it if it exists. SQLite gives the
/// `-wal` and `-shm` files it makes later the database file's mode.
pub fn private_file(path: &Path) -> Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    set_mode(path, 0o600)
}

/// After SQLite opened `db`: tighten the files it made beside it (an older
/// project's may predate [`private_file`]).
fn private_sidecars(db: &Path) -> Result<()> {
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let side = PathBuf::from(name);
        if side.exists() {
            set_mode(&side, 0o600)?;
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    let current = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions()
        .mode()
        & 0o777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot make {} private (mode {mode:o})", path.display()))?;
    }
    Ok(())
}

/// Open the in-process engine of the project at `root`: its state in
/// `root/.infraguard`, its usage assumptions in `root/infraguard-usage.toml`.
pub fn open_engine(root: &Path, config: ProjectConfig) -> Result<AnyEngine> {
    let engine = open_engine_at(&root.join(STATE_DIR), config)?;
    with_usage(engine, &root.join(USAGE_FILE))
}

/// Open an engine whose everything lives in `state_dir`: the local clouds
/// (`cloud-ENV.db`), the store and its signing key (`state.db`) and the
/// usage assumptions (`infraguard-usage.toml`, optional). For hosts that keep
/// a project's state away from its workspace (the guard).
pub fn open_engine_at(state: &Path, config: ProjectConfig) -> Result<AnyEngine> {
    private_dir(state)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut clouds: BTreeMap<String, Box<dyn Cloud>> = BTreeMap::new();
    for env in &config.environments {
        let cloud: Box<dyn Cloud> = match env.backend {
            Backend::Local => Box::new(open_local_cloud(state, env, clock.clone())?),
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
    let store = open_store(state, &config.state)?;
    let signing_key = store.audit_key();
    // STS, IAM and CloudTrail of each AWS environment: MFA sessions for
    // approvers, doctor's checks, the CloudTrail cross-check. Credentials
    // resolve on the first call, so this stays offline.
    let mut accounts = Vec::new();
    for env in config
        .environments
        .iter()
        .filter(|e| e.backend == Backend::Aws)
    {
        let approver = env
            .approval_role
            .as_ref()
            .and_then(|r| r.profile.as_deref());
        let account = infraguard_cloud_aws::AwsAccount::connect_with(
            infraguard_cloud_aws::ConnectOptions::for_environment(env),
            approver,
        )
        .map_err(|e| anyhow::anyhow!("cannot set up AWS account calls for `{}`: {e}", env.name))?;
        accounts.push((env.name.clone(), Arc::new(account)));
    }
    let mut engine = Engine::new(config, clouds, store, clock)?.with_signing_key(signing_key);
    for (name, account) in accounts {
        engine = engine.with_account(&name, account);
    }
    if let Some(prices) = live_prices {
        engine = engine.with_price_source(prices);
    }
    with_usage(engine, &state.join(USAGE_FILE))
}

/// The SQLite state in `state` (`state.db`, owner-only).
pub fn open_sqlite(state: &Path) -> Result<SqliteStore> {
    let db = state.join(STATE_DB);
    private_file(&db)?;
    let store = SqliteStore::open(&db)?;
    private_sidecars(&db)?;
    Ok(store)
}

/// Where `[state]` puts the project's state: `state.db` in `state`, or
/// the team's DynamoDB table (`AWS_ENDPOINT_URL_DYNAMODB` overrides its
/// endpoint).
pub fn open_store(state: &Path, backend: &StateBackend) -> Result<Box<dyn Store>> {
    Ok(match backend {
        StateBackend::Sqlite => Box::new(open_sqlite(state)?),
        StateBackend::Dynamodb { .. } => Box::new(infraguard_store_dynamodb::DynamoStore::open(
            &dynamo_config(backend)?,
        )?),
    })
}

/// The DynamoDB settings of `[state]`, with the endpoint variable.
pub fn dynamo_config(backend: &StateBackend) -> Result<infraguard_store_dynamodb::DynamoConfig> {
    let StateBackend::Dynamodb {
        table,
        region,
        profile,
    } = backend
    else {
        return Err(BadInput(format!(
            "the state is {} here, not DynamoDB: set `[state] backend = \"dynamodb\"` with its `table` in {CONFIG_FILE}",
            backend.as_str()
        ))
        .into());
    };
    Ok(infraguard_store_dynamodb::DynamoConfig {
        table: table.clone(),
        region: region.clone(),
        profile: profile.clone(),
        endpoint_url: std::env::var(env_vars::AWS_ENDPOINT_URL_DYNAMODB)
            .ok()
            .filter(|u| !u.is_empty()),
        credentials: None,
    })
}

/// The usage assumptions in `path`, when that file exists.
fn with_usage(engine: AnyEngine, path: &Path) -> Result<AnyEngine> {
    if !path.is_file() {
        return Ok(engine);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let usage = infraguard_cost::UsageFile::parse(&text)
        .map_err(|e| BadInput(format!("{}: {e}", path.display())))?;
    Ok(engine.with_usage_file(usage))
}

/// The local cloud of `env`, in `state` (`cloud-ENV.db`, owner-only).
pub fn open_local_cloud(
    state: &Path,
    env: &Environment,
    clock: Arc<dyn Clock>,
) -> Result<LocalCloud> {
    private_dir(state)?;
    let path = cloud_file(state, &env.name);
    private_file(&path)?;
    let account = LocalAccount {
        env: env.name.clone(),
        region: env.region.clone(),
    };
    let cloud = LocalCloud::open(&path, account, clock)
        .with_context(|| format!("cannot open the local cloud of `{}`", env.name))?;
    private_sidecars(&path)?;
    Ok(cloud)
}

/// Where a project's engine runs, as `infraguard.toml` and the environment
/// say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// In this process, over `.infraguard/`.
    InProcess,
    /// In the guard listening at `socket`, which knows the project as `project`.
    Guard { socket: PathBuf, project: String },
}

/// `INFRAGUARD_GUARD_SOCKET` over `[guard] socket`; the project id only
/// comes from `[guard] project` (adoption writes it).
fn host(raw: &RawConfig, vars: &BTreeMap<String, String>) -> Result<Host> {
    let from_env = vars
        .get(env_vars::INFRAGUARD_GUARD_SOCKET)
        .filter(|s| !s.trim().is_empty())
        .cloned();
    let guard = raw.guard.clone().unwrap_or_default();
    let from_file = guard.socket.filter(|s| !s.trim().is_empty());
    let Some(socket) = from_env.or(from_file) else {
        return Ok(Host::InProcess);
    };
    match guard.project.filter(|p| !p.trim().is_empty()) {
        Some(project) => Ok(Host::Guard {
            socket: PathBuf::from(socket),
            project,
        }),
        None => Err(BadInput(format!(
            "the guard's socket is set ({socket}) but {CONFIG_FILE} names no project it hosts (`[guard] project`): run `infraguard guard adopt` in this folder first"
        ))
        .into()),
    }
}

/// Where the engine of the project at `root` runs, without opening it.
pub fn host_at(root: &Path) -> Result<Host> {
    let (_, raw) = read_raw(root)?;
    host(&raw, &env_vars::process_vars())
}

/// Only the variables infraguard reads go to the guard: the rest of this
/// process's environment (tokens, keys) is none of its business.
fn declared(vars: BTreeMap<String, String>) -> BTreeMap<String, String> {
    vars.into_iter()
        .filter(|(k, _)| env_vars::ALL.iter().any(|(name, _)| name == k))
        .collect()
}

/// An opened project: every command asks `api` as `caller`.
pub struct Opened {
    pub root: PathBuf,
    /// The engine: in this process, or the guard's over its socket.
    pub api: Arc<dyn EngineApi>,
    /// Who asks. The OS user's name is a label only: it proves nothing (the
    /// guard replaces it with the socket's peer credentials).
    pub caller: Caller,
    /// The configuration in force (`api.config()`: the guard's effective
    /// policy when adopted).
    pub config: ProjectConfig,
}

/// Find, load and open in one step, as the CLI user on channel `cli`.
pub fn open(directory: Option<&Path>) -> Result<Opened> {
    let root = find_root(&start_dir(directory)?)?;
    open_at(&root, Caller::new(&crate::commands::cli_user(), "cli"))
}

/// Open the project at `root` for `caller`. An adopted project opens no
/// local state or cloud: its `.infraguard/` is not the truth any more.
pub fn open_at(root: &Path, caller: Caller) -> Result<Opened> {
    let (text, raw) = read_raw(root)?;
    let vars = env_vars::process_vars();
    let host = host(&raw, &vars)?;
    open_host(root, caller, host, text, raw, vars)
}

/// Open the project at `root` with the engine in this process, whatever
/// `[guard]` or the environment say (the quickstart's scratch project).
pub fn open_in_process(root: &Path, caller: Caller) -> Result<Opened> {
    let (text, raw) = read_raw(root)?;
    let vars = env_vars::process_vars();
    open_host(root, caller, Host::InProcess, text, raw, vars)
}

fn open_host(
    root: &Path,
    caller: Caller,
    host: Host,
    text: String,
    raw: RawConfig,
    vars: BTreeMap<String, String>,
) -> Result<Opened> {
    let api: Arc<dyn EngineApi> = match &host {
        Host::InProcess => {
            let config = ProjectConfig::resolve(&raw, &vars)?;
            Arc::new(open_engine(root, config)?)
        }
        Host::Guard { socket, project } => Arc::new(infraguard_guard::client::connect(
            socket,
            project,
            Some(text),
            declared(vars),
        )),
    };
    let config = api.config(&caller)?;
    Ok(Opened {
        root: root.to_path_buf(),
        api,
        caller,
        config,
    })
}

/// Read `@FILE` arguments; anything else is the value itself.
///
/// The file is read with the scanner's bounded reader: a regular UTF-8 file
/// of at most 1 MiB (a Cloud Control desired state or patch is far smaller),
/// never a device, FIFO or socket, so `@/dev/zero` is refused at once.
pub fn arg_text(value: &str, what: &str) -> Result<String> {
    /// A desired state or a patch is a few KB; this leaves ample room.
    const MAX_ARG_FILE_BYTES: u64 = 1024 * 1024;
    match value.strip_prefix('@') {
        Some(path) => infraguard_policy::input::read_text_file(Path::new(path), MAX_ARG_FILE_BYTES)
            .map_err(|e| BadInput(format!("{what} file: {e}")).into()),
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

/// The engine API for `serve` (the MCP server), which must not care where
/// the engine runs: the guard's when the project is adopted (`tighten` then
/// only validates: the guard's policy rules, and `--readonly` travels as
/// `INFRAGUARD_READONLY`), otherwise the engine in this process, which then
/// serves its own one-time approval pages on 127.0.0.1 (level `advisory`:
/// a click there approves as unverified).
pub fn open_api(
    directory: Option<&Path>,
    tighten: impl FnOnce(&mut ProjectConfig) -> Result<()>,
) -> Result<(PathBuf, Arc<dyn infraguard_engine::EngineApi>)> {
    let root = find_root(&start_dir(directory)?)?;
    let (text, raw) = read_raw(&root)?;
    let mut vars = env_vars::process_vars();
    let mut config = ProjectConfig::resolve(&raw, &vars)?;
    let was_read_only: Vec<bool> = config.environments.iter().map(|e| e.read_only).collect();
    tighten(&mut config)?;
    match host(&raw, &vars)? {
        Host::Guard { .. } => {
            if config
                .environments
                .iter()
                .zip(&was_read_only)
                .any(|(e, was)| e.read_only && !was)
            {
                vars.insert(env_vars::INFRAGUARD_READONLY.into(), "true".into());
            }
            let caller = Caller::new(&crate::commands::cli_user(), "mcp");
            let h = host(&raw, &vars)?;
            let opened = open_host(&root, caller, h, text, raw, vars)?;
            Ok((root, opened.api))
        }
        Host::InProcess => {
            let engine = open_engine(&root, config)?;
            let slot: Arc<std::sync::OnceLock<Arc<infraguard_guard::page::PageServer>>> =
                Arc::new(std::sync::OnceLock::new());
            let urls = slot.clone();
            let engine = Arc::new(engine.with_page_urls(Arc::new(move |approval_id: &str| {
                urls.get().and_then(|p| p.url_for(approval_id, None).ok())
            })));
            let api: Arc<dyn EngineApi> = engine;
            // Pages are a convenience here: without a free loopback port the
            // server still runs, and says `infraguard approve ID` instead.
            if let Ok(listener) = std::net::TcpListener::bind("127.0.0.1:0") {
                let pages = infraguard_guard::page::EnginePages::single(
                    api.clone(),
                    infraguard_engine::Level::Advisory,
                );
                if let Ok(server) =
                    infraguard_guard::page::PageServer::start_thread(listener, Arc::new(pages))
                {
                    let _ = slot.set(Arc::new(server));
                }
            }
            Ok((root, api))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_engine::config::RawGuard;

    fn raw(socket: Option<&str>, project: Option<&str>) -> RawConfig {
        let mut raw = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local);
        raw.guard = (socket.is_some() || project.is_some()).then(|| RawGuard {
            socket: socket.map(Into::into),
            project: project.map(Into::into),
        });
        raw
    }

    fn vars(socket: Option<&str>) -> BTreeMap<String, String> {
        socket
            .map(|s| (env_vars::INFRAGUARD_GUARD_SOCKET.to_string(), s.to_string()))
            .into_iter()
            .collect()
    }

    #[test]
    fn without_a_socket_the_engine_runs_here() {
        assert_eq!(
            host(&raw(None, None), &vars(None)).unwrap(),
            Host::InProcess
        );
        // An id alone (a socket removed by hand) is not an adoption to follow.
        assert_eq!(
            host(&raw(None, Some("prj-1")), &vars(Some(" "))).unwrap(),
            Host::InProcess
        );
    }

    #[test]
    fn the_environment_names_the_socket_over_the_file() {
        assert_eq!(
            host(
                &raw(Some("/file.sock"), Some("prj-1")),
                &vars(Some("/env.sock"))
            )
            .unwrap(),
            Host::Guard {
                socket: "/env.sock".into(),
                project: "prj-1".into()
            }
        );
        assert_eq!(
            host(&raw(Some("/file.sock"), Some("prj-1")), &vars(None)).unwrap(),
            Host::Guard {
                socket: "/file.sock".into(),
                project: "prj-1".into()
            }
        );
    }

    #[test]
    fn a_socket_without_a_project_id_says_to_adopt() {
        for (r, v) in [
            (raw(Some("/file.sock"), None), vars(None)),
            (raw(None, None), vars(Some("/env.sock"))),
        ] {
            let err = host(&r, &v).unwrap_err();
            assert!(err.downcast_ref::<BadInput>().is_some(), "{err}");
            assert!(err.to_string().contains("infraguard guard adopt"), "{err}");
        }
    }
}
