//! The guard daemon: listens on a Unix socket, hosts the engine of every
//! adopted project, and answers one [`GuardRequest`] per connection.
//!
//! ```text
//! HOME/                     0700, the guard's account
//!   guard.db                approvers' factors (secrets encrypted), the guard's own audit
//!   factors.key             the factors' encryption key (0600)
//!   projects/prj-…/         one folder per adopted project
//!     policy.toml           the guard's policy for it (the workspace can only tighten)
//!     root                  the folder it was adopted from
//!     state.db, cloud-ENV.db
//! ```
//!
//! Identity comes from the kernel (`SO_PEERCRED`), never from the request:
//! the caller's uid, account name and pid go into every audit record.
//! Enrolling an approver takes root or an enrolled approver's code.

use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use infraguard_core::cloud::{Cloud, ProgressEvent};
use infraguard_engine::config::RawConfig;
use infraguard_engine::{
    Caller, Engine, EngineError, ErrorKind, Factors, Peer, ProjectConfig, Proof, SqliteStore,
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::factors::{TotpFactors, check_name};
use crate::files;
use crate::wire::{
    AdoptReply, EnrollStartReply, GuardReply, GuardRequest, HelloReply, MAX_LINE, PROTOCOL,
    WireError,
};

/// The engine a guard hosts for one project.
pub type HostedEngine = Engine<Box<dyn Cloud>, Box<dyn infraguard_core::store::Store>>;

/// Opens a project's engine from its state folder and configuration (the
/// binary wires the clouds; the guard adds its factors and level).
pub type Opener =
    Arc<dyn Fn(&Path, ProjectConfig) -> Result<HostedEngine, String> + Send + Sync + 'static>;

/// Makes the approval page's URL for `project/approval_id`.
pub type PageUrls = Arc<dyn Fn(&str, &str) -> Option<String> + Send + Sync + 'static>;

pub struct GuardOptions {
    pub home: PathBuf,
    pub socket: PathBuf,
    /// Group that may connect (mode 0660); `None` leaves the socket 0600.
    pub socket_gid: Option<u32>,
}

/// The guard's state shared by every connection.
pub struct Guard {
    home: PathBuf,
    factors: Arc<TotpFactors>,
    opener: Opener,
    uid: u32,
    /// The guard's own log (enrolments, refused requests), beside the projects'.
    log: SqliteStore,
    /// Workspace notes already audited, so a looser value is recorded once
    /// per guard run, not on every call.
    noted: Mutex<HashSet<String>>,
    page: Mutex<Option<PageUrls>>,
    page_base: Mutex<Option<String>>,
}

fn fail(kind: ErrorKind, message: impl Into<String>) -> EngineError {
    EngineError::Remote {
        kind,
        message: message.into(),
    }
}

fn io(what: &str, e: std::io::Error) -> EngineError {
    fail(ErrorKind::Failure, format!("{what}: {e}"))
}

/// The account name of `uid`, from /etc/passwd.
pub fn user_name(uid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _ = f.next();
        (f.next()?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

/// The uid of account `name`, from /etc/passwd.
pub fn user_name_to_uid(name: &str) -> Option<u32> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        let _ = f.next();
        f.next()?.parse().ok()
    })
}

fn valid_project_id(id: &str) -> bool {
    id.strip_prefix("prj-")
        .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Guard {
    /// Open (or make) the guard's home. Its owner is the guard's account
    /// (the process that made it, or `guard install`).
    pub fn open(home: &Path, opener: Opener) -> Result<Guard, EngineError> {
        files::private_dir(home).map_err(|e| io(&format!("cannot make {}", home.display()), e))?;
        let uid = std::fs::metadata(home)
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .map_err(|e| io("cannot read the guard's home", e))?;
        files::private_dir(&home.join("projects"))
            .map_err(|e| io("cannot make the projects folder", e))?;
        let factors = TotpFactors::open(&home.join("guard.db"), &home.join("factors.key"))
            .map_err(|e| fail(ErrorKind::Failure, e.to_string()))?;
        let log = SqliteStore::open(&home.join("guard-audit.db"))?;
        files::tighten_files(home).map_err(|e| io("cannot set the guard's file modes", e))?;
        Ok(Guard {
            home: home.to_path_buf(),
            factors: Arc::new(factors),
            opener,
            uid,
            log,
            noted: Mutex::new(HashSet::new()),
            page: Mutex::new(None),
            page_base: Mutex::new(None),
        })
    }

    /// Serve approval pages: `urls` makes a page's URL, `base` is shown by `hello`.
    pub fn set_page(&self, base: String, urls: PageUrls) {
        if let Ok(mut p) = self.page.lock() {
            *p = Some(urls);
        }
        if let Ok(mut b) = self.page_base.lock() {
            *b = Some(base);
        }
    }

    pub fn factors(&self) -> Arc<TotpFactors> {
        self.factors.clone()
    }

    fn project_dir(&self, id: &str) -> Result<PathBuf, EngineError> {
        let dir = self.home.join("projects").join(id);
        if !valid_project_id(id) || !dir.is_dir() {
            return Err(fail(
                ErrorKind::BadInput,
                format!(
                    "the guard hosts no project `{id}`: run `infraguard guard adopt` in the project folder"
                ),
            ));
        }
        Ok(dir)
    }

    fn policy(&self, dir: &Path) -> Result<RawConfig, EngineError> {
        let text = std::fs::read_to_string(dir.join("policy.toml"))
            .map_err(|e| io("cannot read the project's guard policy", e))?;
        RawConfig::parse(&text)
    }

    /// The engine of project `id`, with the workspace's config tightening the
    /// guard's policy.
    pub fn engine(
        &self,
        id: &str,
        workspace: Option<&str>,
        vars: &BTreeMap<String, String>,
    ) -> Result<HostedEngine, EngineError> {
        let dir = self.project_dir(id)?;
        let policy = self.policy(&dir)?;
        let ws = match workspace {
            Some(text) => Some(RawConfig::parse(text)?),
            None => None,
        };
        let config = infraguard_engine::policy::effective(&policy, ws.as_ref(), vars)?;
        let engine = (self.opener)(&dir, config).map_err(|e| fail(ErrorKind::Failure, e))?;
        let _ = files::tighten_files(&dir);
        let mut engine = engine.guarded(self.factors.clone() as Arc<dyn Factors>, self.uid);
        if let Some(urls) = self.page.lock().ok().and_then(|p| p.clone()) {
            let project = id.to_string();
            engine = engine.with_page_urls(Arc::new(move |approval_id: &str| {
                urls(&project, approval_id)
            }));
        }
        Ok(engine)
    }

    fn audit_notes(&self, engine: &HostedEngine, project: &str, caller: &Caller) {
        let notes: Vec<String> = engine
            .config()
            .notes
            .iter()
            .filter(|n| n.contains("ignored"))
            .cloned()
            .collect();
        for n in notes {
            let key = format!("{project}\u{0}{n}");
            let fresh = self
                .noted
                .lock()
                .map(|mut s| s.insert(key))
                .unwrap_or(false);
            if fresh {
                let _ = engine.host_event(
                    caller,
                    "policy.workspace_ignored",
                    "ignored",
                    json!({"note": n}),
                );
            }
        }
    }

    fn guard_event(&self, peer: &Peer, action: &str, outcome: &str, details: Value) {
        let rec = infraguard_core::audit::AuditRecord {
            at: infraguard_core::clock::Timestamp::from_unix(now()).rfc3339(),
            actor: format!("peer:{peer}"),
            action: action.into(),
            env: None,
            plan_id: None,
            content_hash: None,
            outcome: outcome.into(),
            details,
        };
        use infraguard_core::store::Store;
        if let Err(e) = self.log.append_audit(&[rec]) {
            tracing::error!("the guard's own audit could not be written: {e}");
        }
    }

    /// Answer one request from `peer`.
    pub fn handle(
        &self,
        request: GuardRequest,
        peer: &Peer,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<Value, EngineError> {
        match request {
            GuardRequest::Hello => to_value(HelloReply {
                protocol: PROTOCOL,
                version: env!("CARGO_PKG_VERSION").into(),
                uid: self.uid,
                user: user_name(self.uid),
                peer: peer.clone(),
                approvers: self.factors.approvers(),
                page: self.page_base.lock().ok().and_then(|b| b.clone()),
            }),
            GuardRequest::Engine {
                project,
                mut caller,
                config,
                vars,
                request,
            } => {
                // Who asks is what the kernel says, whatever the request claims.
                caller.peer = Some(peer.clone());
                let engine = self.engine(&project, config.as_deref(), &vars)?;
                self.audit_notes(&engine, &project, &caller);
                infraguard_engine::api::dispatch(&engine, &caller, request, progress)
            }
            GuardRequest::Adopt {
                root,
                config,
                clouds,
            } => self.adopt(peer, &root, &config, &clouds),
            GuardRequest::EnrollStart { approver, proof } => {
                check_name(&approver).map_err(|e| fail(ErrorKind::BadInput, e))?;
                let by = match (peer.uid, &proof) {
                    (0, _) => "root".to_string(),
                    (
                        _,
                        Some(Proof::Code {
                            approver: who,
                            code,
                        }),
                    ) => match self.factors.verify(who.as_deref(), code, now()) {
                        Ok(name) => format!("approver {name}"),
                        Err(e) => {
                            self.guard_event(
                                peer,
                                "enroll.refused",
                                "refused",
                                json!({"approver": approver, "reason": e.to_string()}),
                            );
                            return Err(fail(ErrorKind::Gated, format!("enrolment refused: {e}")));
                        }
                    },
                    _ => {
                        self.guard_event(peer, "enroll.refused", "refused", json!({"approver": approver, "reason": "not root and no approver's code"}));
                        return Err(fail(
                            ErrorKind::Gated,
                            "enrolling an approver takes root (`sudo infraguard guard enroll --approver NAME`) or an enrolled approver's code (`--approver-code`): an agent must not be able to enrol itself",
                        ));
                    }
                };
                let url = self
                    .factors
                    .enroll_start(&approver, now())
                    .map_err(|e| fail(ErrorKind::BadInput, e.to_string()))?;
                self.guard_event(
                    peer,
                    "enroll.started",
                    "pending",
                    json!({"approver": approver, "by": by}),
                );
                to_value(EnrollStartReply {
                    approver,
                    otpauth_url: url,
                })
            }
            GuardRequest::EnrollFinish { approver, code } => {
                match self.factors.enroll_finish(&approver, &code, now()) {
                    Ok(()) => {
                        self.guard_event(
                            peer,
                            "enroll.finished",
                            "ok",
                            json!({"approver": approver}),
                        );
                        to_value(json!({"approver": approver, "enrolled": true}))
                    }
                    Err(e) => {
                        self.guard_event(
                            peer,
                            "enroll.refused",
                            "refused",
                            json!({"approver": approver, "reason": e.to_string()}),
                        );
                        Err(fail(
                            ErrorKind::Gated,
                            format!("enrolment of {approver} not finished: {e}"),
                        ))
                    }
                }
            }
            GuardRequest::Approvers => to_value(self.factors.approvers()),
            GuardRequest::PolicySet {
                project,
                key,
                value,
                proof,
            } => {
                let dir = self.project_dir(&project)?;
                let policy = self.policy(&dir)?;
                let engine = self.engine(&project, None, &BTreeMap::new())?;
                let caller = Caller {
                    name: peer
                        .user
                        .clone()
                        .unwrap_or_else(|| format!("uid{}", peer.uid)),
                    channel: "guard policy".into(),
                    peer: Some(peer.clone()),
                };
                let next = engine.policy_change(&policy, &key, &value, &caller, proof.as_ref())?;
                files::write_private(&dir.join("policy.toml"), next.to_toml().as_bytes())
                    .map_err(|e| io("cannot write the guard policy", e))?;
                to_value(
                    json!({"project": project, "key": key, "value": value, "policy": next.to_toml()}),
                )
            }
            GuardRequest::PolicyShow { project } => {
                let dir = self.project_dir(&project)?;
                to_value(json!({"project": project, "policy": self.policy(&dir)?.to_toml()}))
            }
        }
    }

    fn adopt(
        &self,
        peer: &Peer,
        root: &str,
        config: &str,
        clouds: &BTreeMap<String, String>,
    ) -> Result<Value, EngineError> {
        let workspace = RawConfig::parse(config)?;
        let (policy, notes) = infraguard_engine::policy::adoption_policy(&workspace);
        // Resolving checks the policy before anything is written.
        ProjectConfig::resolve(&policy, &BTreeMap::new())?;
        let id = format!(
            "prj-{}",
            infraguard_engine::hash::random_hex(8)
                .map_err(|e| fail(ErrorKind::Failure, e.to_string()))?
        );
        let dir = self.home.join("projects").join(&id);
        files::private_dir(&dir).map_err(|e| io("cannot make the project folder", e))?;
        for (env, b64) in clouds {
            if !policy.environments.contains_key(env) {
                return Err(fail(
                    ErrorKind::BadInput,
                    format!("the project has no environment `{env}` for the cloud sent with it"),
                ));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| {
                    fail(
                        ErrorKind::BadInput,
                        format!("the local cloud of `{env}` is not base64: {e}"),
                    )
                })?;
            files::write_private(&dir.join(format!("cloud-{env}.db")), &bytes)
                .map_err(|e| io("cannot write a local cloud", e))?;
        }
        files::write_private(&dir.join("policy.toml"), policy.to_toml().as_bytes())
            .map_err(|e| io("cannot write the guard policy", e))?;
        files::write_private(&dir.join("root"), root.as_bytes())
            .map_err(|e| io("cannot write the project's root", e))?;
        let engine = self.engine(&id, None, &BTreeMap::new())?;
        let caller = Caller {
            name: peer
                .user
                .clone()
                .unwrap_or_else(|| format!("uid{}", peer.uid)),
            channel: "guard adopt".into(),
            peer: Some(peer.clone()),
        };
        engine.host_event(&caller, "project.adopted", "ok", json!({"root": root, "environments": policy.environments.keys().collect::<Vec<_>>(), "notes": notes}))?;
        self.guard_event(
            peer,
            "project.adopted",
            "ok",
            json!({"project": id, "root": root}),
        );
        to_value(AdoptReply { project: id, notes })
    }
}

fn to_value<T: serde::Serialize>(v: T) -> Result<Value, EngineError> {
    serde_json::to_value(v)
        .map_err(|e| fail(ErrorKind::Failure, format!("cannot encode the answer: {e}")))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Bind the socket: an old socket file is replaced; the folder is made 0755
/// (so group members can reach the socket) and the socket 0660 with
/// `socket_gid`, or 0600 without.
pub fn bind(opts: &GuardOptions) -> Result<UnixListener, EngineError> {
    if let Some(parent) = opts.socket.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io("cannot make the socket's folder", e))?;
    }
    match std::fs::symlink_metadata(&opts.socket) {
        Ok(m) if m.file_type().is_socket_like() => {
            let _ = std::fs::remove_file(&opts.socket);
        }
        Ok(_) => {
            return Err(fail(
                ErrorKind::BadInput,
                format!(
                    "{} exists and is not a socket: remove it or pick another --socket",
                    opts.socket.display()
                ),
            ));
        }
        Err(_) => {}
    }
    let listener = UnixListener::bind(&opts.socket)
        .map_err(|e| io(&format!("cannot listen on {}", opts.socket.display()), e))?;
    let mode = if opts.socket_gid.is_some() {
        0o660
    } else {
        0o600
    };
    if let Some(gid) = opts.socket_gid {
        std::os::unix::fs::chown(&opts.socket, None, Some(gid))
            .map_err(|e| io("cannot give the socket to its group", e))?;
    }
    std::fs::set_permissions(&opts.socket, std::fs::Permissions::from_mode(mode))
        .map_err(|e| io("cannot set the socket's mode", e))?;
    Ok(listener)
}

trait SocketLike {
    fn is_socket_like(&self) -> bool;
}

impl SocketLike for std::fs::FileType {
    fn is_socket_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_socket()
    }
}

/// Accept connections until `shutdown` resolves.
pub async fn serve(
    guard: Arc<Guard>,
    listener: UnixListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let g = guard.clone();
                    tokio::spawn(async move { connection(g, stream).await });
                }
                Err(e) => tracing::warn!("accept failed: {e}"),
            },
        }
    }
}

async fn write_reply(stream: &mut tokio::net::unix::OwnedWriteHalf, reply: &GuardReply) -> bool {
    let Ok(mut line) = serde_json::to_vec(reply) else {
        return false;
    };
    line.push(b'\n');
    stream.write_all(&line).await.is_ok()
}

async fn connection(guard: Arc<Guard>, stream: UnixStream) {
    let peer = match stream.peer_cred() {
        Ok(c) => Peer {
            uid: c.uid(),
            pid: c.pid(),
            user: user_name(c.uid()),
        },
        Err(e) => {
            tracing::warn!("no peer credentials on a connection: {e}");
            return;
        }
    };
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read).take(MAX_LINE as u64 + 1);
    let mut line = Vec::new();
    let answer = match reader.read_until(b'\n', &mut line).await {
        Ok(0) => return,
        Ok(_) if line.len() > MAX_LINE => Err(fail(ErrorKind::BadInput, "the request is too long")),
        Ok(_) => match serde_json::from_slice::<GuardRequest>(&line) {
            Ok(req) => Ok(req),
            Err(e) => Err(fail(
                ErrorKind::BadInput,
                format!(
                    "the request is not one the guard understands ({e}); are the guard and this binary the same version?"
                ),
            )),
        },
        Err(e) => Err(fail(
            ErrorKind::BadInput,
            format!("reading the request: {e}"),
        )),
    };
    drop(line);
    let request = match answer {
        Ok(r) => r,
        Err(e) => {
            guard.guard_event(
                &peer,
                "request.refused",
                "refused",
                json!({"reason": e.to_string()}),
            );
            let _ = write_reply(&mut write, &GuardReply::Error(wire_error(&e))).await;
            return;
        }
    };
    let label = request.label();
    tracing::info!("{label} from {peer}");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<GuardReply>();
    let g = guard.clone();
    let worker = tokio::task::spawn_blocking(move || {
        let mut progress = |ev: &ProgressEvent| {
            let _ = tx.send(GuardReply::Progress(ev.clone()));
        };
        let reply = match g.handle(request, &peer, &mut progress) {
            Ok(v) => GuardReply::Ok(v),
            Err(e) => GuardReply::Error(wire_error(&e)),
        };
        let _ = tx.send(reply);
    });
    while let Some(reply) = rx.recv().await {
        if !write_reply(&mut write, &reply).await {
            break;
        }
    }
    let _ = worker.await;
}

fn wire_error(e: &EngineError) -> WireError {
    WireError {
        kind: e.kind(),
        message: e.to_string(),
    }
}

/// Run the guard in the foreground until SIGTERM, Ctrl-C or (with
/// `stop_on_stdin_eof`, for tests and containers) the end of standard
/// input. Approval pages are served on `page_addr` (a loopback address).
pub fn run(
    opts: GuardOptions,
    page_addr: Option<std::net::SocketAddr>,
    stop_on_stdin_eof: bool,
    opener: Opener,
    ready: impl FnOnce(&HelloInfo),
) -> Result<(), EngineError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| io("cannot start the guard's runtime", e))?;
    let guard = Arc::new(Guard::open(&opts.home, opener)?);
    runtime.block_on(async move {
        let listener = bind(&opts)?;
        let mut page_base = None;
        let _page = match page_addr {
            Some(addr) => {
                let l = std::net::TcpListener::bind(addr)
                    .map_err(|e| io(&format!("cannot serve approval pages on {addr}"), e))?;
                let g = guard.clone();
                let resolve: crate::page::backend::Resolve = Arc::new(move |key: &str| {
                    let (project, id) = key
                        .split_once('/')
                        .ok_or_else(|| format!("no approval `{key}`"))?;
                    let engine = g
                        .engine(project, None, &BTreeMap::new())
                        .map_err(|e| e.to_string())?;
                    Ok((
                        Arc::new(engine) as Arc<dyn infraguard_engine::EngineApi>,
                        id.to_string(),
                    ))
                });
                let pages =
                    crate::page::EnginePages::new(resolve, infraguard_engine::Level::Guarded);
                let server = Arc::new(
                    crate::page::PageServer::start(l, Arc::new(pages))
                        .map_err(|e| fail(ErrorKind::Failure, e.to_string()))?,
                );
                let base = format!("http://{}", server.local_addr());
                let s = server.clone();
                guard.set_page(
                    base.clone(),
                    Arc::new(move |project: &str, id: &str| {
                        s.url_for(&format!("{project}/{id}"), None).ok()
                    }),
                );
                page_base = Some(base);
                Some(server)
            }
            None => None,
        };
        ready(&HelloInfo {
            socket: opts.socket.clone(),
            page: page_base,
            uid: guard.uid,
        });
        let shutdown = async move {
            let stdin_eof = async {
                if stop_on_stdin_eof {
                    let mut sink = Vec::new();
                    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let sigterm = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = stdin_eof => {},
                _ = sigterm => {},
                _ = tokio::signal::ctrl_c() => {},
            }
        };
        serve(guard, listener, shutdown).await;
        let _ = std::fs::remove_file(&opts.socket);
        Ok::<(), EngineError>(())
    })
}

/// What `run` says once it listens.
pub struct HelloInfo {
    pub socket: PathBuf,
    pub page: Option<String>,
    pub uid: u32,
}
