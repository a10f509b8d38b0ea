//! The HTTP side of the page: [`PageServer`] serves `GET /a/<token>` (the
//! approval page) and `POST /a/<token>` (a decision) on a loopback listener
//! the caller binds, over a [`PageBackend`].
//!
//! What it guards against, since anything on the machine can connect to
//! loopback: a path nobody can guess (192 random bits, one per approval,
//! dropped once the approval is decided or expired); a CSRF token in the form,
//! so a page elsewhere cannot post a decision; a `Host` check, so a
//! DNS-rebinding page cannot read it; form-urlencoded bodies of a few KB only;
//! headers that keep the page out of frames, caches and referrers. It does not
//! decide whether a decision counts: that is the backend's answer, shown as
//! given.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, Path, Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::html::{self, FormParts, Tone};
use super::tokens::{self, Gone, Lookup, Tokens};
use super::{ApprovalView, Decision, DecisionInput, PageBackend};

/// The largest decision body accepted: the form's five short fields fit in
/// well under this.
pub const BODY_LIMIT: usize = 8 * 1024;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";

/// The clock the page reads to expire its tokens.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// How a [`PageServer`] runs, beyond its listener and backend.
#[derive(Clone)]
pub struct PageOptions {
    /// Injected so tests can expire a page without waiting.
    pub clock: Clock,
}

impl Default for PageOptions {
    fn default() -> Self {
        PageOptions {
            clock: Arc::new(OffsetDateTime::now_utc),
        }
    }
}

impl std::fmt::Debug for PageOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageOptions").finish_non_exhaustive()
    }
}

/// Why the page could not start or hand out a URL.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(
        "the approval page serves on loopback only, and {addr} is not a loopback address; bind 127.0.0.1:0 (or [::1]:0) instead"
    )]
    NotLoopback { addr: SocketAddr },
    #[error("the approval page could not {action}: {source}")]
    Io {
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "PageServer::start needs a running tokio runtime; call it from inside one, or use PageServer::start_thread"
    )]
    NoRuntime,
    #[error("no randomness for an approval page token: {0}")]
    Random(getrandom::Error),
    #[error("approval {approval_id} cannot have a page: {message}")]
    Approval {
        approval_id: String,
        message: String,
    },
    #[error("approval {approval_id} is {status}, not pending: there is nothing left to decide")]
    NotPending { approval_id: String, status: String },
    #[error("approval {approval_id} expired at {expires_at}; ask for a new plan and approval")]
    Expired {
        approval_id: String,
        expires_at: String,
    },
    #[error("the approval page at {addr} has been shut down")]
    Closed { addr: SocketAddr },
}

/// What the handlers share.
struct Shared {
    backend: Arc<dyn PageBackend>,
    // A std Mutex: it is held for map lookups only, never across an await.
    tokens: Mutex<Tokens>,
    clock: Clock,
    addr: SocketAddr,
    /// `Host` header values this server answers to.
    hosts: Vec<String>,
    closed: AtomicBool,
}

impl Shared {
    fn tokens(&self) -> MutexGuard<'_, Tokens> {
        // The table stays consistent between statements, so a panic elsewhere
        // leaves nothing half-written to fear.
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }
}

enum Running {
    /// On the caller's runtime.
    Task,
    /// On a thread of its own with its own runtime.
    Thread(JoinHandle<()>),
}

/// The approval page server. Serves until [`PageServer::shutdown`] or drop.
pub struct PageServer {
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    running: Option<Running>,
}

impl std::fmt::Debug for PageServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageServer")
            .field("addr", &self.shared.addr)
            .finish_non_exhaustive()
    }
}

impl PageServer {
    /// Serves on `listener` from the current tokio runtime (the guard daemon,
    /// the MCP server). Refuses a listener not bound to loopback.
    pub fn start(
        listener: std::net::TcpListener,
        backend: Arc<dyn PageBackend>,
    ) -> Result<PageServer, PageError> {
        PageServer::start_with(listener, backend, PageOptions::default())
    }

    pub fn start_with(
        listener: std::net::TcpListener,
        backend: Arc<dyn PageBackend>,
        options: PageOptions,
    ) -> Result<PageServer, PageError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| PageError::NoRuntime)?;
        let (shared, listener) = prepare(listener, backend, options)?;
        let listener = {
            let _entered = handle.enter();
            tokio::net::TcpListener::from_std(listener).map_err(|source| PageError::Io {
                action: "register its listener with the tokio runtime",
                source,
            })?
        };
        let (stop, stopped) = tokio::sync::oneshot::channel();
        handle.spawn(serve(listener, Arc::clone(&shared), stopped));
        Ok(PageServer {
            shared,
            stop: Some(stop),
            running: Some(Running::Task),
        })
    }

    /// Serves on `listener` from a thread of its own (for sync callers such as
    /// the CLI). Refuses a listener not bound to loopback.
    pub fn start_thread(
        listener: std::net::TcpListener,
        backend: Arc<dyn PageBackend>,
    ) -> Result<PageServer, PageError> {
        PageServer::start_thread_with(listener, backend, PageOptions::default())
    }

    pub fn start_thread_with(
        listener: std::net::TcpListener,
        backend: Arc<dyn PageBackend>,
        options: PageOptions,
    ) -> Result<PageServer, PageError> {
        let (shared, listener) = prepare(listener, backend, options)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| PageError::Io {
                action: "start its runtime",
                source,
            })?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(|source| PageError::Io {
                action: "register its listener with the tokio runtime",
                source,
            })?
        };
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("infraguard-page".to_owned())
            .spawn(move || runtime.block_on(serve(listener, for_thread, stopped)))
            .map_err(|source| PageError::Io {
                action: "start its thread",
                source,
            })?;
        Ok(PageServer {
            shared,
            stop: Some(stop),
            running: Some(Running::Thread(thread)),
        })
    }

    /// The address the page is served on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The page's URL for a pending approval: `http://127.0.0.1:PORT/a/<token>`.
    ///
    /// The same approval asked again gets its live URL back. The page expires
    /// at `expires_at` or at the approval's own `expires_at`, whichever comes
    /// first, and is dropped as soon as it is decided.
    ///
    /// Calls [`PageBackend::view`] on this thread to check the approval is
    /// pending; from async code whose backend blocks, call it from
    /// `spawn_blocking`.
    pub fn url_for(
        &self,
        approval_id: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<String, PageError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(PageError::Closed {
                addr: self.shared.addr,
            });
        }
        let view =
            self.shared
                .backend
                .view(approval_id)
                .map_err(|message| PageError::Approval {
                    approval_id: approval_id.to_owned(),
                    message,
                })?;
        if view.status != "pending" {
            return Err(PageError::NotPending {
                approval_id: approval_id.to_owned(),
                status: view.status,
            });
        }
        let expires_at = earliest(expires_at, view_expiry(&view));
        let now = self.shared.now();
        if let Some(at) = expires_at.filter(|at| tokens::is_expired(Some(*at), now)) {
            return Err(PageError::Expired {
                approval_id: approval_id.to_owned(),
                expires_at: at.format(&Rfc3339).unwrap_or_else(|_| at.to_string()),
            });
        }
        let token = self
            .shared
            .tokens()
            .issue(approval_id, expires_at, now)
            .map_err(PageError::Random)?;
        Ok(format!("http://{}/a/{}", self.shared.addr, token))
    }

    /// Drops the page of an approval decided or withdrawn elsewhere.
    pub fn revoke(&self, approval_id: &str) {
        self.shared.tokens().retire_approval(
            approval_id,
            &Gone::Closed("it was closed by the process that serves this page".to_owned()),
        );
    }

    /// Stops serving; on its own thread, waits for the thread to end.
    pub fn shutdown(mut self) {
        self.signal_stop();
        if let Some(Running::Thread(thread)) = self.running.take() {
            let _ = thread.join();
        }
    }

    fn signal_stop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

fn prepare(
    listener: std::net::TcpListener,
    backend: Arc<dyn PageBackend>,
    options: PageOptions,
) -> Result<(Arc<Shared>, std::net::TcpListener), PageError> {
    let addr = listener.local_addr().map_err(|source| PageError::Io {
        action: "read its listener's address",
        source,
    })?;
    check_loopback(addr)?;
    listener
        .set_nonblocking(true)
        .map_err(|source| PageError::Io {
            action: "make its listener non-blocking",
            source,
        })?;
    let mut hosts = vec![addr.to_string()];
    hosts.push(format!("localhost:{}", addr.port()));
    let shared = Arc::new(Shared {
        backend,
        tokens: Mutex::new(Tokens::default()),
        clock: options.clock,
        addr,
        hosts,
        closed: AtomicBool::new(false),
    });
    Ok((shared, listener))
}

fn check_loopback(addr: SocketAddr) -> Result<(), PageError> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(PageError::NotLoopback { addr })
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let app = Router::new()
        .route("/a/{token}", get(show).post(decide))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), frame))
        .with_state(shared);
    // The serve future only ends on the stop signal; an accept error is
    // retried inside axum.
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await;
}

/// Around every response: the Host check, the closed check, and the
/// security headers.
async fn frame(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let host_ok = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| shared.hosts.iter().any(|ok| ok.eq_ignore_ascii_case(h)));
    let mut response = if shared.closed.load(Ordering::SeqCst) {
        message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Page closed",
            "This approval page is closed",
            "The process that served it has stopped. Ask for the approval's page again.",
            Tone::Neutral,
            None,
        )
    } else if !host_ok {
        message(
            StatusCode::MISDIRECTED_REQUEST,
            "Wrong address",
            "Wrong address",
            "Open the page at the exact address you were given (http://127.0.0.1:…).",
            Tone::Refused,
            None,
        )
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn show(State(shared): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    let entry = match live_entry(&shared, &token) {
        Ok(entry) => entry,
        Err(no_page) => return no_page.into_response(),
    };
    let view = match backend_view(&shared, &entry.approval_id).await {
        Ok(view) => view,
        Err(gone) => {
            shared.tokens().retire(&token, gone.clone());
            return gone_page(&gone);
        }
    };
    let action = format!("/a/{token}");
    let body = html::approval_page(
        &view,
        &FormParts {
            action: &action,
            csrf: &entry.csrf,
            needs_code: shared.backend.needs_code() || view.mfa_serial.is_some(),
        },
    );
    html_response(StatusCode::OK, body)
}

/// The form's fields, all optional so that a missing one is our message,
/// not the extractor's.
#[derive(Debug, Deserialize)]
struct DecisionForm {
    csrf: Option<String>,
    decision: Option<String>,
    approver: Option<String>,
    code: Option<String>,
    note: Option<String>,
}

async fn decide(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    headers: HeaderMap,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Response {
    let entry = match live_entry(&shared, &token) {
        Ok(entry) => entry,
        Err(no_page) => return no_page.into_response(),
    };
    let back = format!("/a/{token}");
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return form_refused(&rejection, &headers, &back),
    };
    let csrf_ok = form
        .csrf
        .as_deref()
        .is_some_and(|sent| tokens::same_token(sent, &entry.csrf));
    if !csrf_ok {
        return message(
            StatusCode::FORBIDDEN,
            "Refused",
            "Decision refused: the form did not come from this page",
            "Nothing was decided. Open the approval page again and decide there.",
            Tone::Refused,
            Some(&back),
        );
    }
    let input = match decision_input(form) {
        Ok(input) => input,
        Err(problem) => {
            return message(
                StatusCode::BAD_REQUEST,
                "Refused",
                "Decision refused",
                &format!("Nothing was decided: {problem}."),
                Tone::Refused,
                Some(&back),
            );
        }
    };
    // Decided elsewhere or expired since the page was shown: say so (410)
    // rather than pass the backend a decision it can only refuse.
    if let Err(gone) = backend_view(&shared, &entry.approval_id).await {
        shared.tokens().retire(&token, gone.clone());
        return gone_page(&gone);
    }
    if !shared.tokens().begin_decision(&token) {
        return message(
            StatusCode::CONFLICT,
            "Busy",
            "A decision is already being recorded",
            "Another decision from this page is in progress. Open the page again in a moment to see the outcome.",
            Tone::Neutral,
            Some(&back),
        );
    }
    let backend = Arc::clone(&shared.backend);
    let approval_id = entry.approval_id.clone();
    let for_backend = input.clone();
    let outcome =
        tokio::task::spawn_blocking(move || backend.decide(&approval_id, &for_backend)).await;
    let verb = match input.decision {
        Decision::Approve => "Approved",
        Decision::Deny => "Denied",
    };
    match outcome {
        Ok(Ok(said)) => {
            shared.tokens().retire(&token, Gone::Decided(said.clone()));
            message(StatusCode::OK, verb, verb, &said, Tone::Ok, None)
        }
        Ok(Err(refusal)) => {
            // A refusal may have closed the approval (locked, decided
            // elsewhere): then the page goes too.
            let still_open = backend_view(&shared, &entry.approval_id).await.is_ok();
            let back = if still_open {
                shared.tokens().end_decision(&token);
                Some(back.as_str())
            } else {
                shared
                    .tokens()
                    .retire(&token, Gone::Closed(refusal.clone()));
                None
            };
            let what = match input.decision {
                Decision::Approve => "Not approved",
                Decision::Deny => "Not denied",
            };
            message(
                StatusCode::FORBIDDEN,
                what,
                what,
                &refusal,
                Tone::Refused,
                back,
            )
        }
        Err(_panicked) => {
            shared.tokens().end_decision(&token);
            message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Failed",
                "The decision could not be recorded",
                "The engine failed while recording it; nothing is known to have been decided. Check the approval's status before trying again.",
                Tone::Refused,
                Some(&back),
            )
        }
    }
}

/// Why a token leads to no page.
enum NoPage {
    Gone(Gone),
    Unknown,
}

impl IntoResponse for NoPage {
    fn into_response(self) -> Response {
        match self {
            NoPage::Gone(gone) => gone_page(&gone),
            NoPage::Unknown => not_found_page(),
        }
    }
}

/// The live entry behind a token.
fn live_entry(shared: &Shared, token: &str) -> Result<tokens::Entry, NoPage> {
    let now = shared.now();
    let mut tokens = shared.tokens();
    // Every request retires what has expired, so an expired page does not
    // linger until someone happens to open it.
    tokens.sweep(now);
    match tokens.lookup(token, now) {
        Lookup::Live(entry) => Ok(entry),
        Lookup::Gone(gone) => Err(NoPage::Gone(gone)),
        Lookup::Unknown => Err(NoPage::Unknown),
    }
}

/// The backend's view of a still-open approval; `Err` says why it is gone.
async fn backend_view(shared: &Arc<Shared>, approval_id: &str) -> Result<ApprovalView, Gone> {
    let backend = Arc::clone(&shared.backend);
    let id = approval_id.to_owned();
    let view = tokio::task::spawn_blocking(move || backend.view(&id))
        .await
        .map_err(|_| Gone::Closed("the engine failed while reading it".to_owned()))?
        .map_err(Gone::Closed)?;
    if view.status != "pending" {
        return Err(Gone::Closed(format!("it is {}", view.status)));
    }
    if tokens::is_expired(view_expiry(&view), shared.now()) {
        return Err(Gone::Expired);
    }
    Ok(view)
}

fn decision_input(form: DecisionForm) -> Result<DecisionInput, &'static str> {
    let decision = match form.decision.as_deref() {
        Some("approve") => Decision::Approve,
        Some("deny") => Decision::Deny,
        _ => return Err("choose Approve or Deny"),
    };
    let filled = |value: Option<String>, max: usize, what: &'static str| match value
        .map(|v| v.trim().to_owned())
    {
        Some(v) if v.chars().count() > max => Err(what),
        Some(v) if v.is_empty() => Ok(None),
        other => Ok(other),
    };
    Ok(DecisionInput {
        decision,
        approver: filled(form.approver, 200, "the approver name is too long")?,
        code: filled(form.code, 64, "the code is too long")?,
        note: filled(
            form.note,
            1000,
            "the note is too long (1000 characters at most)",
        )?,
    })
}

fn form_refused(rejection: &FormRejection, headers: &HeaderMap, back: &str) -> Response {
    let status = rejection.status();
    let why = if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!("the form is larger than {BODY_LIMIT} bytes")
    } else if matches!(rejection, FormRejection::InvalidFormContentType(_)) {
        let sent = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        format!(
            "a decision must be sent as application/x-www-form-urlencoded, not {}",
            sent
        )
    } else {
        "the form could not be read".to_owned()
    };
    message(
        status,
        "Refused",
        "Decision refused",
        &format!("Nothing was decided: {why}."),
        Tone::Refused,
        Some(back),
    )
}

fn view_expiry(view: &ApprovalView) -> Option<OffsetDateTime> {
    view.expires_at
        .as_deref()
        .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok())
}

fn earliest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn not_found() -> Response {
    not_found_page()
}

fn not_found_page() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Not found",
        "No such page",
        "Check that you opened the whole address you were given.",
        Tone::Neutral,
        None,
    )
}

fn gone_page(gone: &Gone) -> Response {
    let text = match gone {
        Gone::Decided(said) => format!("This approval was already decided on this page.\n\n{said}"),
        Gone::Expired => {
            "This approval expired before it was decided. Nothing was changed; ask for a new plan and approval."
                .to_owned()
        }
        Gone::Closed(why) => format!("This approval is no longer open: {why}."),
    };
    message(
        StatusCode::GONE,
        "Approval gone",
        "This approval page is gone",
        &text,
        Tone::Neutral,
        None,
    )
}

fn message(
    status: StatusCode,
    title: &str,
    heading: &str,
    text: &str,
    tone: Tone,
    back: Option<&str>,
) -> Response {
    html_response(status, html::message_page(title, heading, text, tone, back))
}

fn html_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Checked on addresses rather than by binding one, so the test itself
    // never listens beyond loopback.
    #[test]
    fn only_loopback_listeners_are_accepted() {
        for ok in ["127.0.0.1:0", "127.0.0.1:8080", "127.9.9.9:1", "[::1]:443"] {
            assert!(check_loopback(ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for refused in ["0.0.0.0:8080", "192.168.1.20:80", "[::]:80", "10.0.0.1:1"] {
            let err = check_loopback(refused.parse().unwrap()).unwrap_err();
            assert!(matches!(err, PageError::NotLoopback { .. }));
            assert!(err.to_string().contains(refused), "{err}");
        }
    }
}
