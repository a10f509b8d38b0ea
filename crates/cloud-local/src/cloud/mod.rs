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
//!
//! # Layout
//!
//! - this file: [`LocalCloud`] itself (opening, faults, the per-call
//!   transaction) and accepting a mutation (idempotency, parking it for
//!   `pending_polls`);
//! - `request`: a mutation as sent, its shape checks and idempotency hash,
//!   and the event a stored request shows;
//! - `execute`: the handlers that do a create, update or delete, and their
//!   refusals;
//! - `port`: the `impl Cloud`, with `list` paging and filters.

mod execute;
mod port;
mod request;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use infraguard_core::{
    Clock, CloudError, ErrorCode, OperationStatus, ProgressEvent, ResourceSchema, ResourceType,
};
use infraguard_schema::Catalog;
use rusqlite::{Connection, TransactionBehavior};
use serde_json::Value;

use crate::Faults;
use crate::attributes::Context;
use crate::db::{self, RequestRow};
use crate::error::LocalCloudError;
use crate::random::Rng;

use execute::execute;
use request::{Mutation, original_event};

/// Which environment an account stands for, and where it lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalAccount {
    pub env: String,
    pub region: String,
}

/// Page size of `list` unless [`LocalCloud::set_page_size`] says otherwise;
/// Cloud Control's own default is 100 too.
const DEFAULT_PAGE_SIZE: usize = 100;

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
