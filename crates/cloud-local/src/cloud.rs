//! [`LocalCloud`]: the `Cloud` port over one environment's SQLite file.
//!
//! Each port call takes the connection lock, opens one `IMMEDIATE`
//! transaction, first consumes a pending throttle fault, and commits at the
//! end, so a call is atomic and two processes on one file see each other's
//! work whole.
//!
//! Refusals follow Cloud Control's split:
//! - the API refuses the call (`Err(CloudError::Service)`): unknown type,
//!   malformed patch document or desired state, client-token conflict,
//!   `get` of a missing resource, unknown request token, throttling;
//! - the handler accepts the request and it ends `FAILED` (an `Ok` event
//!   with an `error_code`): duplicate, invalid properties, missing resource
//!   on update/delete, create-only or read-only property in a patch, a patch
//!   that does not apply, and what the service itself refuses (deletion
//!   protection, a missing RDS master password: `refusals`). A failed
//!   request changes no resource.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use infraguard_core::schema::{pointer_touches, pointer_under};
use infraguard_core::{
    Clock, Cloud, CloudError, ErrorCode, Identity, ListPage, Operation, OperationStatus,
    ProgressEvent, ResourceDescription, ResourceSchema, ResourceType,
};
use infraguard_schema::{Catalog, is_intrinsic, validate_create, validate_state};
use json_patch::PatchOperation;
use rusqlite::{Connection, TransactionBehavior};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::Faults;
use crate::attributes::{self, Context};
use crate::db::{self, RequestRow};
use crate::error::LocalCloudError;
use crate::pointer;
use crate::random::Rng;
use crate::refusals;

/// Which environment an account stands for, and where it lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalAccount {
    pub env: String,
    pub region: String,
}

/// Page size of `list` unless [`LocalCloud::set_page_size`] says otherwise;
/// Cloud Control's own default is 100 too.
const DEFAULT_PAGE_SIZE: usize = 100;

/// Seconds a client should wait before polling an `IN_PROGRESS` request.
const RETRY_AFTER_SECS: u64 = 1;

/// One environment's embedded cloud.
pub struct LocalCloud {
    // A std Mutex, not a pool: rusqlite's Connection is not Sync, every call
    // is a short transaction, and one writer at a time is what SQLite allows
    // anyway. The Rng lives under the same lock because every call that
    // draws from it already holds it.
    inner: Mutex<Inner>,
    account: LocalAccount,
    account_id: String,
    clock: Arc<dyn Clock>,
    calls: AtomicU64,
    page_size: usize,
    path: Option<PathBuf>,
}

struct Inner {
    conn: Connection,
    rng: Rng,
}

impl std::fmt::Debug for LocalCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCloud")
            .field("env", &self.account.env)
            .field("region", &self.account.region)
            .field("account_id", &self.account_id)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl LocalCloud {
    /// Open or create the environment's database (WAL, synchronous=NORMAL).
    /// On first creation it draws a random 12-digit account id (first digit
    /// non-zero) and stores it; later opens keep it. The region comes from
    /// `account` on every open, since configuration may change it.
    pub fn open(
        path: &Path,
        account: LocalAccount,
        clock: Arc<dyn Clock>,
    ) -> Result<LocalCloud, LocalCloudError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LocalCloudError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| LocalCloudError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        // Another process (the CLI next to a running server) may hold the
        // write lock for a moment; wait rather than fail.
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(open_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(LocalCloudError::Corrupt {
                path: path.display().to_string(),
                detail: format!("SQLite refused write-ahead logging (journal mode `{mode}`)"),
            });
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        Self::prepare(
            conn,
            &path.display().to_string(),
            account,
            clock,
            Some(path.to_path_buf()),
        )
    }

    /// A database that lives only as long as the value: for tests and
    /// throwaway runs.
    pub fn in_memory(
        account: LocalAccount,
        clock: Arc<dyn Clock>,
    ) -> Result<LocalCloud, LocalCloudError> {
        let conn = Connection::open_in_memory().map_err(|source| LocalCloudError::Open {
            path: PathBuf::from(":memory:"),
            source,
        })?;
        Self::prepare(conn, ":memory:", account, clock, None)
    }

    fn prepare(
        mut conn: Connection,
        label: &str,
        account: LocalAccount,
        clock: Arc<dyn Clock>,
        path: Option<PathBuf>,
    ) -> Result<LocalCloud, LocalCloudError> {
        let mut rng = Rng::from_os()?;
        let corrupt = |detail: String| LocalCloudError::Corrupt {
            path: label.to_string(),
            detail,
        };
        let open_err = |source: rusqlite::Error| match &path {
            Some(p) => LocalCloudError::Open {
                path: p.clone(),
                source,
            },
            None => LocalCloudError::Database(source),
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(open_err)?;
        let version = db::init(&tx).map_err(open_err)?;
        if let Some(v) = version.filter(|v| *v > db::SCHEMA_VERSION) {
            return Err(LocalCloudError::NewerSchema {
                path: label.to_string(),
                found: v,
                supported: db::SCHEMA_VERSION,
            });
        }
        match db::meta_get::<String>(&tx, "env").map_err(open_err)? {
            None => db::meta_set(&tx, "env", &account.env)?,
            Some(stored) if stored != account.env => {
                return Err(LocalCloudError::EnvironmentMismatch {
                    path: label.to_string(),
                    stored,
                    requested: account.env.clone(),
                });
            }
            Some(_) => {}
        }
        let account_id = match db::meta_get::<String>(&tx, "account_id").map_err(open_err)? {
            Some(id) if infraguard_core::env::is_account_id(&id) => id,
            Some(id) => return Err(corrupt(format!("its account id `{id}` is not 12 digits"))),
            None => {
                let id = rng.account_id();
                db::meta_set(&tx, "account_id", &id)?;
                id
            }
        };
        tx.commit().map_err(open_err)?;
        Ok(LocalCloud {
            inner: Mutex::new(Inner { conn, rng }),
            account,
            account_id,
            clock,
            calls: AtomicU64::new(0),
            page_size: DEFAULT_PAGE_SIZE,
            path,
        })
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn account(&self) -> &LocalAccount {
        &self.account
    }

    /// The database file, or `None` for an in-memory cloud.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Set the faults to inject; replaces the current counters.
    pub fn set_faults(&self, faults: &Faults) -> Result<(), LocalCloudError> {
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        db::set_faults(&tx, faults)?;
        tx.commit()?;
        Ok(())
    }

    /// The faults still pending.
    pub fn faults(&self) -> Result<Faults, LocalCloudError> {
        Ok(db::faults(&self.lock().conn)?)
    }

    /// Number of `Cloud` port calls served since open, throttled ones
    /// included (tests use it to prove that a refused plan made no call).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Resources per `list` page (at least 1).
    pub fn set_page_size(&mut self, n: usize) {
        self.page_size = n.max(1);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the database half
        // written (the transaction rolls back on drop), so the data behind a
        // poisoned lock is still sound.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count the call, open its transaction, consume a throttle fault.
    fn begin<'a>(&self, inner: &'a mut Inner) -> Result<Call<'a>, CloudError> {
        let call_number = self.calls.fetch_add(1, Ordering::Relaxed);
        let Inner { conn, rng } = inner;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(internal)?;
        if db::take_fault(&tx, "throttle_next").map_err(internal)? {
            tx.commit().map_err(internal)?;
            return Err(CloudError::service(
                ErrorCode::Throttling,
                "Rate exceeded (fault injected by the local cloud: throttle_next); retry after a pause",
            ));
        }
        let percent: Option<i64> = db::meta_get(&tx, "throttle_percent").map_err(internal)?;
        let percent = u32::try_from(percent.unwrap_or(0).max(0)).unwrap_or(100);
        // Drawn from the call's number, not the shared generator: the same
        // sequence of calls meets the same throttles, so a test that
        // passes once passes every time.
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&call_number.to_le_bytes());
        if percent > 0 && Rng::seeded(seed).chance(percent) {
            return Err(CloudError::service(
                ErrorCode::Throttling,
                format!(
                    "Rate exceeded (fault injected by the local cloud: throttle_percent {percent}); retry after a pause"
                ),
            ));
        }
        Ok(Call { tx, rng })
    }

    fn schema_of(type_name: &ResourceType) -> Result<&'static ResourceSchema, CloudError> {
        Catalog::builtin()
            .get(type_name)
            .map_err(|e| CloudError::service(ErrorCode::InvalidRequest, e.to_string()))
    }

    fn context<'a>(&'a self, rng: &'a mut Rng) -> Context<'a> {
        Context {
            account_id: &self.account_id,
            region: &self.account.region,
            now: self.clock.now(),
            rng,
        }
    }

    /// Accept a mutation: idempotency, fault injection, then either do the
    /// work now or park it for `pending_polls` polls.
    fn mutate(&self, req: Mutation<'_>, client_token: &str) -> Result<ProgressEvent, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        let schema = Self::schema_of(req.type_name)?;
        req.check_shape()?;
        let hash = req.hash();
        // An empty client token means "none": no idempotency, as when an SDK
        // caller leaves ClientToken out.
        let client_token = Some(client_token).filter(|t| !t.is_empty());
        if let Some(ct) = client_token
            && let Some(original) = db::request_by_client_token(&call.tx, ct).map_err(internal)?
        {
            if original.request_hash != hash {
                return Err(CloudError::service(
                    ErrorCode::Other("ClientTokenConflict".into()),
                    format!(
                        "client token `{ct}` was already used for a different request ({} {} {}); use a new client token for a new request",
                        original.operation.cloud_control_name(),
                        original.type_name,
                        original.identifier.as_deref().unwrap_or("(no identifier)"),
                    ),
                ));
            }
            call.tx.commit().map_err(internal)?;
            return original_event(&original);
        }
        let faults = db::faults(&call.tx).map_err(internal)?;
        let inject_failure = db::take_fault(&call.tx, "fail_next").map_err(internal)?;
        let now = self.clock.now().rfc3339();
        let mut row = RequestRow {
            request_token: call.rng.uuid(),
            client_token: client_token.map(str::to_string),
            request_hash: hash,
            operation: req.operation,
            type_name: req.type_name.as_str().to_string(),
            identifier: req
                .identifier
                .map(str::to_string)
                .or_else(|| req.input.and_then(|d| schema.identifier_of(d))),
            status: OperationStatus::InProgress,
            error_code: None,
            status_message: None,
            event_time: now,
            resource_model: None,
            pending_input: None,
            polls_left: 0,
            inject_failure,
        };
        if faults.pending_polls > 0 {
            row.polls_left = faults.pending_polls;
            row.pending_input = req.input.map(Value::to_string);
        } else {
            let mut ctx = self.context(call.rng);
            let outcome = execute(&call.tx, schema, &req, inject_failure, &mut ctx)?;
            outcome.record(&mut row);
        }
        db::save_request(&call.tx, &row).map_err(internal)?;
        call.tx.commit().map_err(internal)?;
        original_event(&row)
    }
}

/// One port call in progress: its transaction and the random source.
struct Call<'a> {
    tx: rusqlite::Transaction<'a>,
    rng: &'a mut Rng,
}

fn internal(e: impl std::fmt::Display) -> CloudError {
    CloudError::Internal(format!("local cloud database: {e}"))
}

/// A mutation as the caller sent it.
struct Mutation<'a> {
    operation: Operation,
    type_name: &'a ResourceType,
    identifier: Option<&'a str>,
    /// Desired state (create) or patch document (update).
    input: Option<&'a Value>,
}

impl Mutation<'_> {
    /// API-level checks: the request must be well-formed to be accepted.
    fn check_shape(&self) -> Result<(), CloudError> {
        match (self.operation, self.input) {
            (Operation::Create, Some(Value::Object(_) | Value::Null)) => Ok(()),
            (Operation::Create, Some(other)) => Err(CloudError::service(
                ErrorCode::InvalidRequest,
                format!(
                    "DesiredState for {} must be a JSON object of properties, got `{}`",
                    self.type_name,
                    short(other)
                ),
            )),
            (Operation::Update, Some(patch)) => parse_patch(patch).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// What makes two requests "the same" for a client token.
    fn hash(&self) -> String {
        let mut text = String::new();
        text.push_str(self.operation.as_str());
        text.push('\n');
        text.push_str(self.type_name.as_str());
        text.push('\n');
        text.push_str(self.identifier.unwrap_or(""));
        text.push('\n');
        if let Some(input) = self.input {
            canonical(input, &mut text);
        }
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// JSON with object keys sorted, whatever map order serde_json was built
/// with, so that the same request always hashes the same.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                canonical(&map[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A value cut short for an error message.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn parse_patch(patch: &Value) -> Result<Vec<PatchOperation>, CloudError> {
    if !patch.is_array() {
        return Err(CloudError::service(
            ErrorCode::InvalidRequest,
            format!(
                "PatchDocument must be a JSON array of RFC 6902 operations, got `{}`",
                short(patch)
            ),
        ));
    }
    serde_json::from_value::<json_patch::Patch>(patch.clone())
        .map(|p| p.0)
        .map_err(|e| {
            CloudError::service(
                ErrorCode::InvalidRequest,
                format!(
                    "PatchDocument is not a valid RFC 6902 JSON Patch ({e}); each operation needs `op` (add, remove, replace, move, copy, test) and a `path`: `{}`",
                    short(patch)
                ),
            )
        })
}

/// The event a stored request shows now.
fn original_event(row: &RequestRow) -> Result<ProgressEvent, CloudError> {
    let type_name = ResourceType::new(&row.type_name).map_err(internal)?;
    Ok(ProgressEvent {
        type_name,
        identifier: row.identifier.clone(),
        request_token: row.request_token.clone(),
        operation: row.operation,
        operation_status: row.status,
        event_time: row.event_time.clone(),
        resource_model: row.resource_model.clone(),
        status_message: row.status_message.clone(),
        error_code: row.error_code.clone(),
        retry_after: (!row.status.is_terminal()).then_some(RETRY_AFTER_SECS),
    })
}

/// How a handler ended.
struct Outcome {
    status: OperationStatus,
    identifier: Option<String>,
    error_code: Option<ErrorCode>,
    message: Option<String>,
    model: Option<Value>,
}

impl Outcome {
    fn success(identifier: String, model: Option<Value>) -> Outcome {
        Outcome {
            status: OperationStatus::Success,
            identifier: Some(identifier),
            error_code: None,
            message: None,
            model,
        }
    }

    fn failed(code: ErrorCode, identifier: Option<String>, message: String) -> Outcome {
        Outcome {
            status: OperationStatus::Failed,
            identifier,
            error_code: Some(code),
            message: Some(message),
            model: None,
        }
    }

    fn record(self, row: &mut RequestRow) {
        row.status = self.status;
        if self.identifier.is_some() {
            row.identifier = self.identifier;
        }
        row.error_code = self.error_code;
        row.status_message = self.message;
        row.resource_model = self.model.map(|m| m.to_string());
        row.pending_input = None;
        row.polls_left = 0;
    }
}

/// Remove everything the schema marks write-only: AWS never returns those
/// (passwords, code archives), and secrets must not leave the store.
fn visible(schema: &ResourceSchema, props: &Value) -> Value {
    let mut out = props.clone();
    for pattern in &schema.write_only {
        pointer::remove_all(&mut out, pattern);
    }
    out
}

/// Every place in `props` that holds an unresolved intrinsic function.
/// Cloud Control takes literal values only; a `{"Ref": …}` reaching it is a
/// bug upstream that would otherwise be stored as an odd object.
fn intrinsics(props: &Value, here: &str, out: &mut Vec<String>) {
    if is_intrinsic(props) {
        out.push(format!(
            "`{}` holds the unresolved intrinsic function {}; Cloud Control takes literal values, resolve it first",
            if here.is_empty() { "/" } else { here },
            short(props)
        ));
        return;
    }
    match props {
        Value::Object(map) => {
            for (k, v) in map {
                intrinsics(
                    v,
                    &format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                intrinsics(v, &format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn problems_message(type_name: &ResourceType, messages: &[String]) -> String {
    let n = messages.len();
    format!(
        "{n} problem{} with the properties of {type_name}: {}",
        if n == 1 { "" } else { "s" },
        messages.join("; ")
    )
}

/// Run a mutation's handler inside the caller's transaction.
fn execute(
    tx: &Connection,
    schema: &ResourceSchema,
    req: &Mutation<'_>,
    inject_failure: bool,
    ctx: &mut Context<'_>,
) -> Result<Outcome, CloudError> {
    let t = req.type_name;
    if inject_failure {
        let id = req
            .identifier
            .map(str::to_string)
            .or_else(|| req.input.and_then(|d| schema.identifier_of(d)));
        return Ok(Outcome::failed(
            ErrorCode::ServiceInternalError,
            id,
            format!(
                "{} of {t} failed inside the service (fault injected by the local cloud: fail_next); nothing was changed, retry with a new client token",
                req.operation.cloud_control_name()
            ),
        ));
    }
    let now = ctx.now.rfc3339();
    match req.operation {
        Operation::Create => {
            let empty = Value::Object(Map::new());
            let desired = match req.input {
                Some(Value::Null) | None => &empty,
                Some(d) => d,
            };
            let mut messages: Vec<String> = validate_create(schema, desired)
                .into_iter()
                .map(|p| p.message)
                .collect();
            intrinsics(desired, "", &mut messages);
            if !messages.is_empty() {
                return Ok(Outcome::failed(
                    ErrorCode::InvalidRequest,
                    schema.identifier_of(desired),
                    problems_message(t, &messages),
                ));
            }
            // The service's own refusals come after the schema's, as the
            // handler only calls the service with a valid model.
            if let Some(r) = refusals::create(t.as_str(), desired) {
                return Ok(Outcome::failed(
                    r.code,
                    schema.identifier_of(desired),
                    r.message,
                ));
            }
            let mut props = desired.clone();
            attributes::generate(schema, &mut props, ctx);
            let Some(id) = schema.identifier_of(&props) else {
                return Ok(Outcome::failed(
                    ErrorCode::InvalidRequest,
                    None,
                    format!(
                        "cannot form the identifier of {t} from {}: each of {} must be a string or number",
                        short(&props),
                        schema.primary_identifier.join(", ")
                    ),
                ));
            };
            if db::get_resource(tx, t.as_str(), &id)?.is_some() {
                return Ok(Outcome::failed(
                    ErrorCode::AlreadyExists,
                    Some(id.clone()),
                    format!(
                        "{t} `{id}` already exists; choose another name or update the existing resource"
                    ),
                ));
            }
            db::insert_resource(tx, t.as_str(), &id, &props, &now).map_err(internal)?;
            Ok(Outcome::success(id, Some(visible(schema, &props))))
        }
        Operation::Update => {
            let id = req.identifier.unwrap_or_default().to_string();
            let Some(current) = db::get_resource(tx, t.as_str(), &id)? else {
                return Ok(not_found(t, &id));
            };
            let patch = parse_patch(req.input.unwrap_or(&Value::Null))?;
            if let Some(refusal) = check_patch_paths(schema, &id, &patch) {
                return Ok(refusal);
            }
            let mut next = current.clone();
            if let Err(e) = json_patch::patch(&mut next, &patch) {
                return Ok(Outcome::failed(
                    ErrorCode::InvalidRequest,
                    Some(id.clone()),
                    format!(
                        "the patch does not apply to {t} `{id}`: operation {} at `{}`: {}; read the resource again and build the patch from its current properties",
                        e.operation, e.path, e.kind
                    ),
                ));
            }
            if !next.is_object() {
                return Ok(Outcome::failed(
                    ErrorCode::InvalidRequest,
                    Some(id.clone()),
                    format!(
                        "the patch turns the properties of {t} `{id}` into `{}`, not an object",
                        short(&next)
                    ),
                ));
            }
            attributes::keep_read_only(schema, &current, &mut next);
            let mut messages: Vec<String> = validate_state(schema, &next)
                .into_iter()
                .map(|p| p.message)
                .collect();
            intrinsics(&next, "", &mut messages);
            if !messages.is_empty() {
                return Ok(Outcome::failed(
                    ErrorCode::InvalidRequest,
                    Some(id.clone()),
                    problems_message(t, &messages),
                ));
            }
            attributes::refresh_on_update(schema, &current, &mut next, ctx);
            db::update_resource(tx, t.as_str(), &id, &next, &now).map_err(internal)?;
            Ok(Outcome::success(id, Some(visible(schema, &next))))
        }
        Operation::Delete => {
            let id = req.identifier.unwrap_or_default().to_string();
            let Some(current) = db::get_resource(tx, t.as_str(), &id)? else {
                return Ok(not_found(t, &id));
            };
            if let Some(r) = refusals::delete(t.as_str(), &id, &current) {
                return Ok(Outcome::failed(r.code, Some(id), r.message));
            }
            if db::delete_resource(tx, t.as_str(), &id).map_err(internal)? {
                Ok(Outcome::success(id, None))
            } else {
                Ok(not_found(t, &id))
            }
        }
    }
}

fn not_found(t: &ResourceType, id: &str) -> Outcome {
    Outcome::failed(
        ErrorCode::NotFound,
        Some(id.to_string()),
        format!("{t} `{id}` does not exist in this account; list the type to see what does"),
    )
}

/// Refuse a patch that writes a create-only property (`NotUpdatable`) or a
/// read-only one (`InvalidRequest`).
fn check_patch_paths(
    schema: &ResourceSchema,
    id: &str,
    patch: &[PatchOperation],
) -> Option<Outcome> {
    let t = &schema.type_name;
    let mut create_only = Vec::new();
    let mut read_only = Vec::new();
    for op in patch {
        let written: Vec<&str> = match op {
            PatchOperation::Add(o) => vec![o.path.as_str()],
            PatchOperation::Remove(o) => vec![o.path.as_str()],
            PatchOperation::Replace(o) => vec![o.path.as_str()],
            // A move also removes its source.
            PatchOperation::Move(o) => vec![o.path.as_str(), o.from.as_str()],
            PatchOperation::Copy(o) => vec![o.path.as_str()],
            PatchOperation::Test(_) => vec![],
        };
        for p in written {
            // Writing a parent of a create-only property may change it, so
            // that counts too.
            if let Some(co) = schema.create_only.iter().find(|co| pointer_touches(co, p)) {
                create_only.push(format!("`{p}` (create-only `{co}`)"));
            // A parent of a read-only property may be rewritten: the
            // read-only values are carried over from the current state.
            } else if let Some(ro) = schema.read_only.iter().find(|ro| pointer_under(ro, p)) {
                read_only.push(format!("`{p}` (read-only `{ro}`)"));
            }
        }
    }
    if !create_only.is_empty() {
        return Some(Outcome::failed(
            ErrorCode::NotUpdatable,
            Some(id.to_string()),
            format!(
                "{t} `{id}` cannot change {} after creation: the patch writes {}; replace the resource (delete and create) to change it",
                if create_only.len() == 1 {
                    "this property"
                } else {
                    "these properties"
                },
                create_only.join(", ")
            ),
        ));
    }
    if !read_only.is_empty() {
        return Some(Outcome::failed(
            ErrorCode::InvalidRequest,
            Some(id.to_string()),
            format!(
                "the patch for {t} `{id}` writes {}, which the cloud sets; remove those operations",
                read_only.join(", ")
            ),
        ));
    }
    None
}

/// `list` continuation tokens: hex of `type \n last identifier`. Opaque to
/// callers; carrying the type lets a token from another type be refused.
fn encode_token(t: &ResourceType, last_id: &str) -> String {
    format!("{}\n{last_id}", t.as_str())
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_token(t: &ResourceType, token: &str) -> Result<String, CloudError> {
    let bad = || {
        CloudError::service(
            ErrorCode::InvalidRequest,
            format!(
                "NextToken `{}` was not issued by this cloud for {t}; start the listing again without a token",
                token.chars().take(64).collect::<String>()
            ),
        )
    };
    if !token.len().is_multiple_of(2) || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let bytes: Vec<u8> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    match text.split_once('\n') {
        Some((ty, last)) if ty == t.as_str() => Ok(last.to_string()),
        _ => Err(bad()),
    }
}

/// Whether a resource matches a `list` filter: every top-level property of
/// the filter equal in the resource (how Cloud Control uses ResourceModel to
/// scope a listing to a parent, e.g. a user pool's clients).
fn matches_model(props: &Value, model: &Map<String, Value>) -> bool {
    model.iter().all(|(k, v)| props.get(k) == Some(v))
}

impl Cloud for LocalCloud {
    fn create(
        &self,
        type_name: &ResourceType,
        desired_state: &Value,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError> {
        self.mutate(
            Mutation {
                operation: Operation::Create,
                type_name,
                identifier: None,
                input: Some(desired_state),
            },
            client_token,
        )
    }

    fn get(
        &self,
        type_name: &ResourceType,
        identifier: &str,
    ) -> Result<ResourceDescription, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        let schema = Self::schema_of(type_name)?;
        let found = db::get_resource(&call.tx, type_name.as_str(), identifier)?;
        call.tx.commit().map_err(internal)?;
        match found {
            Some(props) => Ok(ResourceDescription {
                identifier: identifier.to_string(),
                properties: visible(schema, &props),
            }),
            None => Err(CloudError::service(
                ErrorCode::NotFound,
                format!(
                    "{type_name} `{identifier}` does not exist in this account; list the type to see what does"
                ),
            )),
        }
    }

    fn update(
        &self,
        type_name: &ResourceType,
        identifier: &str,
        patch: &Value,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError> {
        self.mutate(
            Mutation {
                operation: Operation::Update,
                type_name,
                identifier: Some(identifier),
                input: Some(patch),
            },
            client_token,
        )
    }

    fn delete(
        &self,
        type_name: &ResourceType,
        identifier: &str,
        client_token: &str,
    ) -> Result<ProgressEvent, CloudError> {
        self.mutate(
            Mutation {
                operation: Operation::Delete,
                type_name,
                identifier: Some(identifier),
                input: None,
            },
            client_token,
        )
    }

    fn list(
        &self,
        type_name: &ResourceType,
        next_token: Option<&str>,
        resource_model: Option<&Value>,
    ) -> Result<ListPage, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        let schema = Self::schema_of(type_name)?;
        let filter = match resource_model {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) if m.is_empty() => None,
            Some(Value::Object(m)) => Some(m),
            Some(other) => {
                return Err(CloudError::service(
                    ErrorCode::InvalidRequest,
                    format!(
                        "ResourceModel for {type_name} must be a JSON object, got `{}`",
                        short(other)
                    ),
                ));
            }
        };
        let mut after = next_token
            .filter(|t| !t.is_empty())
            .map(|t| decode_token(type_name, t))
            .transpose()?;
        let page = self.page_size;
        let mut resources = Vec::with_capacity(page.min(1024));
        let mut more = false;
        // One extra row tells whether another page exists, so the last page
        // carries no token. With a filter, keep reading batches until the
        // page is full or the type is exhausted.
        loop {
            let batch = db::list_after(&call.tx, type_name.as_str(), after.as_deref(), page + 1)?;
            let exhausted = batch.len() <= page;
            for (id, props) in batch {
                after = Some(id.clone());
                if filter.is_some_and(|f| !matches_model(&props, f)) {
                    continue;
                }
                if resources.len() == page {
                    more = true;
                    break;
                }
                resources.push(ResourceDescription {
                    identifier: id,
                    properties: visible(schema, &props),
                });
            }
            if more || exhausted {
                break;
            }
        }
        call.tx.commit().map_err(internal)?;
        let next_token = if more {
            resources
                .last()
                .map(|r| encode_token(type_name, &r.identifier))
        } else {
            None
        };
        Ok(ListPage {
            type_name: type_name.clone(),
            resources,
            next_token,
        })
    }

    fn request_status(&self, request_token: &str) -> Result<ProgressEvent, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        // ErrorCode::NotFound rather than Other("RequestTokenNotFound"): the
        // engine handles one code for "no such thing"; the wire layer maps it
        // to AWS's RequestTokenNotFoundException for this operation.
        let Some(mut row) = db::request_by_token(&call.tx, request_token).map_err(internal)? else {
            return Err(CloudError::service(
                ErrorCode::NotFound,
                format!(
                    "request token `{request_token}` is unknown to this cloud; it comes from the event a create, update or delete returned"
                ),
            ));
        };
        if row.status == OperationStatus::InProgress {
            row.polls_left = row.polls_left.saturating_sub(1);
            if row.polls_left == 0 {
                let type_name = ResourceType::new(&row.type_name).map_err(internal)?;
                let schema = Self::schema_of(&type_name)?;
                let input: Option<Value> = row
                    .pending_input
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(internal)?;
                let req = Mutation {
                    operation: row.operation,
                    type_name: &type_name,
                    identifier: row
                        .identifier
                        .as_deref()
                        .filter(|_| row.operation != Operation::Create),
                    input: input.as_ref(),
                };
                let mut ctx = self.context(call.rng);
                let outcome = execute(&call.tx, schema, &req, row.inject_failure, &mut ctx)?;
                row.event_time = ctx.now.rfc3339();
                outcome.record(&mut row);
            }
            db::save_request(&call.tx, &row).map_err(internal)?;
        }
        call.tx.commit().map_err(internal)?;
        original_event(&row)
    }

    fn schema(&self, type_name: &ResourceType) -> Result<ResourceSchema, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        call.tx.commit().map_err(internal)?;
        Self::schema_of(type_name).cloned()
    }

    fn identity(&self) -> Result<Identity, CloudError> {
        let mut inner = self.lock();
        let call = self.begin(&mut inner)?;
        call.tx.commit().map_err(internal)?;
        Ok(Identity {
            account_id: self.account_id.clone(),
            arn: format!("arn:aws:iam::{}:user/infraguard-local", self.account_id),
            region: self.account.region.clone(),
            profile: None,
            auth_kind: "local (embedded cloud)".into(),
        })
    }
}
