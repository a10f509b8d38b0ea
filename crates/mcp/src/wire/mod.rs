//! The JSON-RPC wire in front of rmcp: every incoming message is checked here
//! before rmcp sees it, and a malformed one gets a JSON-RPC error reply.
//!
//! rmcp drops input it cannot parse without a word (invalid JSON, invalid
//! UTF-8, JSON nested past serde_json's recursion limit), so a client that
//! sent it waits forever. JSON-RPC 2.0 wants a reply: `-32700` Parse error
//! with `"id": null` for input that is not JSON, `-32600` Invalid Request for
//! JSON that is not a request object, `-32602` Invalid params for a request
//! whose params do not fit its method.
//!
//! # Main items
//!
//! - [`decode`]: one message's bytes → a message for rmcp, an error reply, or
//!   nothing (a blank line, a notification that cannot be read — JSON-RPC
//!   never answers a notification).
//! - [`LineReader`]: newline-delimited reading with a cap on a line's length
//!   ([`MAX_MESSAGE_BYTES`]), so a peer that never sends a newline cannot
//!   grow memory without bound.
//! - [`WireTransport`]: the stdio transport: a reader task runs [`decode`] on
//!   every line, answers bad ones itself and forwards good ones to rmcp; one
//!   shared writer carries both rmcp's messages and those replies, a whole
//!   line at a time, so they never interleave.
//! - [`check_http_body`]: the same check as an axum middleware in front of
//!   the streamable HTTP service, which would otherwise answer a bad body
//!   with `415` and a plain-text message.
//!
//! Not here: anything about tools. A tool call whose arguments have the
//! wrong shape is a well-formed request; `server::parse` answers it.
//!
//! Nothing in this module logs a message's content: only its length, the
//! error code and, for a request, its method.

use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ServerJsonRpcMessage};
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, mpsc};

/// The longest message accepted, in bytes: one stdio line or one HTTP body.
/// Matches rmcp's own cap on an HTTP request body.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// How deep a message's JSON may nest. This is serde_json's own recursion
/// limit, which rmcp relies on; named here so error messages can say it.
pub const MAX_NESTING: usize = 128;

/// JSON-RPC 2.0 error codes this module answers with.
pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;
pub const INVALID_PARAMS: i32 = -32602;

/// A JSON-RPC error reply to a message that rmcp will never see.
#[derive(Clone, Debug, PartialEq)]
pub struct WireError {
    pub code: i32,
    pub message: String,
    /// The request's id when it could be read (a string or an integer),
    /// otherwise `null`, as JSON-RPC 2.0 §5 asks.
    pub id: Value,
}

impl WireError {
    fn parse(message: impl Into<String>) -> Self {
        Self {
            code: PARSE_ERROR,
            message: format!("Parse error: {}", message.into()),
            id: Value::Null,
        }
    }

    fn invalid_request(message: impl Into<String>, id: Value) -> Self {
        Self {
            code: INVALID_REQUEST,
            message: format!("Invalid Request: {}", message.into()),
            id,
        }
    }

    /// The reply to a message longer than [`MAX_MESSAGE_BYTES`].
    pub fn too_long() -> Self {
        Self::invalid_request(
            format!(
                "the message is longer than {} MiB; send smaller messages",
                MAX_MESSAGE_BYTES / (1024 * 1024)
            ),
            Value::Null,
        )
    }

    /// The JSON-RPC error object. `id` is always present (`null` when
    /// unknown), which rmcp's own `JsonRpcError` would omit.
    pub fn to_json(&self) -> Value {
        json!({
            "jsonrpc": "2.0",
            "id": self.id,
            "error": {"code": self.code, "message": self.message},
        })
    }

    /// The reply as one newline-terminated line.
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = self.to_json().to_string().into_bytes();
        line.push(b'\n');
        line
    }
}

/// What to do with one incoming message.
#[derive(Debug)]
pub enum Decoded {
    /// A well-formed message: hand it to rmcp.
    Message(Box<ClientJsonRpcMessage>),
    /// A malformed one: send this reply instead.
    Reply(WireError),
    /// Nothing was sent (only whitespace).
    Blank,
    /// A notification or a response that cannot be read. JSON-RPC answers
    /// neither, so it is dropped; `method` (a notification's) is for the log.
    /// Answering a bad response could start an error storm with a peer that
    /// answers errors in turn.
    Dropped { method: Option<String> },
}

/// Check one message (a stdio line without its newline, or an HTTP body).
pub fn decode(bytes: &[u8]) -> Decoded {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    // RFC 8259 §8.1 lets a parser ignore a byte order mark; rmcp does too.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Decoded::Reply(WireError::parse(format!(
                "the message is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            )));
        }
    };
    if text.trim().is_empty() {
        return Decoded::Blank;
    }
    // serde_json stops at MAX_NESTING levels, so a 10,000-deep document is
    // refused here in bounded time and stack.
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) if is_recursion_limit(&e) => {
            return Decoded::Reply(WireError::parse(format!(
                "the JSON nests deeper than {MAX_NESTING} levels"
            )));
        }
        Err(e) => return Decoded::Reply(WireError::parse(format!("the message is not JSON: {e}"))),
    };
    let object = match &value {
        Value::Object(o) => o,
        Value::Array(a) if a.is_empty() => {
            return Decoded::Reply(WireError::invalid_request(
                "an empty array is not a request",
                Value::Null,
            ));
        }
        Value::Array(_) => {
            return Decoded::Reply(WireError::invalid_request(
                "batches are not supported (MCP removed them); send one message at a time",
                Value::Null,
            ));
        }
        other => {
            return Decoded::Reply(WireError::invalid_request(
                format!("a message is a JSON object, not {}", json_kind(other)),
                Value::Null,
            ));
        }
    };

    let id = match object.get("id") {
        Some(id @ Value::String(_)) => id.clone(),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Value::Number(n.clone()),
        _ => Value::Null,
    };
    let method = object
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let is_notification = method.is_some() && !object.contains_key("id");
    let is_response = !object.contains_key("method")
        && (object.contains_key("result") || object.contains_key("error"));
    if is_response {
        // An error with no id (our own reply, sent back) answers nothing we
        // asked, and before the handshake rmcp would end the session on it.
        if id.is_null() {
            return Decoded::Dropped { method: None };
        }
        return match serde_json::from_value::<ClientJsonRpcMessage>(value) {
            Ok(message) => Decoded::Message(Box::new(message)),
            Err(_) => Decoded::Dropped { method: None },
        };
    }
    // Checked before rmcp's parse, whose error for any of these is the same
    // "unrecognized JSON-RPC message".
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        if is_notification {
            return Decoded::Dropped { method };
        }
        return Decoded::Reply(WireError::invalid_request("`jsonrpc` must be \"2.0\"", id));
    }
    if let Some(raw) = object.get("id")
        && id.is_null()
    {
        return Decoded::Reply(WireError::invalid_request(
            format!(
                "`id` must be a string or an integer, not {}",
                json_kind(raw)
            ),
            Value::Null,
        ));
    }
    if let Some(m) = object.get("method")
        && !m.is_string()
    {
        return Decoded::Reply(WireError::invalid_request(
            format!("`method` must be a string, not {}", json_kind(m)),
            id,
        ));
    }
    if let Some(p) = object.get("params")
        && !p.is_object()
    {
        if is_notification {
            return Decoded::Dropped { method };
        }
        return Decoded::Reply(WireError {
            code: INVALID_PARAMS,
            message: format!(
                "Invalid params: `params` must be an object, not {}",
                json_kind(p)
            ),
            id,
        });
    }

    let params = object.get("params").cloned();
    match serde_json::from_value::<ClientJsonRpcMessage>(value) {
        // rmcp takes a standard method whose params do not fit as a custom
        // request, and answers "method not found" naming a method it has.
        Ok(ClientJsonRpcMessage::Request(r)) if matches!(&r.request, ClientRequest::CustomRequest(c) if is_standard_request(&c.method)) =>
        {
            let method = method.unwrap_or_default();
            let detail = params_error(&method, params.unwrap_or(Value::Null));
            Decoded::Reply(WireError {
                code: INVALID_PARAMS,
                message: format!(
                    "Invalid params: the params of `{method}` do not fit its schema{detail}"
                ),
                id,
            })
        }
        Ok(message) => Decoded::Message(Box::new(message)),
        Err(_) if is_notification => Decoded::Dropped { method },
        // A request (method and id) whose params the method does not accept.
        Err(e) if method.is_some() => Decoded::Reply(WireError {
            code: INVALID_PARAMS,
            message: format!(
                "Invalid params: the params of `{}` do not fit its schema: {}",
                method.unwrap_or_default(),
                redacted_serde_message(&e)
            ),
            id,
        }),
        Err(_) => Decoded::Reply(WireError::invalid_request(
            "a message has `method` (a request or notification), or `result` or `error` (a response), not both",
            id,
        )),
    }
}

/// The requests rmcp parses into typed params (every `ClientRequest`
/// variant but `CustomRequest`).
fn is_standard_request(method: &str) -> bool {
    use rmcp::model::*;
    [
        PingRequestMethod::VALUE,
        InitializeResultMethod::VALUE,
        DiscoverRequestMethod::VALUE,
        CompleteRequestMethod::VALUE,
        SetLevelRequestMethod::VALUE,
        GetPromptRequestMethod::VALUE,
        ListPromptsRequestMethod::VALUE,
        ListResourcesRequestMethod::VALUE,
        ListResourceTemplatesRequestMethod::VALUE,
        ReadResourceRequestMethod::VALUE,
        SubscriptionsListenRequestMethod::VALUE,
        SubscribeRequestMethod::VALUE,
        UnsubscribeRequestMethod::VALUE,
        CallToolRequestMethod::VALUE,
        ListToolsRequestMethod::VALUE,
        GetTaskMethod::VALUE,
        UpdateTaskMethod::VALUE,
        CancelTaskMethod::VALUE,
        ListSkillsRequestMethod::VALUE,
        GetSkillRequestMethod::VALUE,
        ReadResourceDirectoryRequestMethod::VALUE,
    ]
    .contains(&method)
}

/// What is wrong with the params of the requests a client sends most, as
/// `": <reason>"`; empty for the others.
fn params_error(method: &str, params: Value) -> String {
    use rmcp::model::{CallToolRequestMethod, CallToolRequestParams, ConstString};
    use rmcp::model::{InitializeRequestParams, InitializeResultMethod};
    if method == CallToolRequestMethod::VALUE {
        // The two fields every tool call has, named with their place.
        match params.get("name") {
            None => return ": `params.name` is required: pass the tool's name".into(),
            Some(Value::String(_)) => {}
            Some(other) => {
                return format!(": `params.name` must be a string, not {}", json_kind(other));
            }
        }
        if let Some(args) = params.get("arguments")
            && !args.is_object()
            && !args.is_null()
        {
            return format!(
                ": `params.arguments` must be an object, not {}",
                json_kind(args)
            );
        }
    }
    let error = if method == CallToolRequestMethod::VALUE {
        serde_json::from_value::<CallToolRequestParams>(params).err()
    } else if method == InitializeResultMethod::VALUE {
        serde_json::from_value::<InitializeRequestParams>(params).err()
    } else {
        None
    };
    error.map_or_else(String::new, |e| format!(": {}", redacted_serde_message(&e)))
}

fn is_recursion_limit(e: &serde_json::Error) -> bool {
    // serde_json classifies it as a syntax error and offers no other test.
    e.to_string().starts_with("recursion limit exceeded")
}

/// The JSON type of `v`, with its article, for messages.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A serde error's message without the value it quotes.
///
/// serde writes `invalid type: string "AKIA…", expected u32`: the value may
/// be a secret, and these messages reach logs. The kind of value and what
/// was expected are kept.
pub fn redacted_serde_message(e: &serde_json::Error) -> String {
    redact_serde_text(&e.to_string())
}

fn redact_serde_text(text: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = text.strip_prefix(prefix)
            && let Some(at) = rest.rfind(", expected ")
        {
            let unexpected = &rest[..at];
            let kind = if unexpected.starts_with("floating point") {
                "floating point"
            } else {
                unexpected.split([' ', '`', '"']).next().unwrap_or("value")
            };
            return format!("{prefix}{kind}{}", &rest[at..]);
        }
    }
    if let Some(rest) = text.strip_prefix("unknown variant ")
        && let Some(at) = rest.rfind(", expected ")
    {
        return format!("unknown variant{}", &rest[at..]);
    }
    text.to_owned()
}

/// A line as [`LineReader`] returns it.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A whole line without its `\n` (the last line may lack one).
    Complete(&'a [u8]),
    /// The line passed the cap; the rest of it is skipped by the next read.
    TooLong,
}

/// Newline-delimited reading with a cap on a line's length.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max: usize,
    /// Set after [`Line::TooLong`] until that line's newline is consumed.
    discarding: bool,
}

impl<R: AsyncRead + Unpin> LineReader<BufReader<R>> {
    pub fn new(read: R, max: usize) -> Self {
        Self::buffered(BufReader::new(read), max)
    }
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    pub fn buffered(inner: R, max: usize) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            max,
            discarding: false,
        }
    }

    /// The next line, or `None` at the end of input. Never holds more than
    /// `max` bytes of a line.
    pub async fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        self.buf.clear();
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                self.discarding = false;
                return Ok(if self.buf.is_empty() {
                    None
                } else {
                    Some(Line::Complete(&self.buf))
                });
            }
            let newline = available.iter().position(|b| *b == b'\n');
            let take = newline.map_or(available.len(), |i| i + 1);
            let (end, line_ends) = match newline {
                Some(i) => (i, true),
                None => (available.len(), false),
            };
            if self.discarding {
                self.inner.consume(take);
                if line_ends {
                    self.discarding = false;
                }
                continue;
            }
            if self.buf.len() + end > self.max {
                self.buf.clear();
                self.inner.consume(take);
                self.discarding = !line_ends;
                return Ok(Some(Line::TooLong));
            }
            self.buf.extend_from_slice(&available[..end]);
            self.inner.consume(take);
            if line_ends {
                return Ok(Some(Line::Complete(&self.buf)));
            }
        }
    }
}

/// The writer shared by rmcp's messages and the wire's error replies. `None`
/// once the transport is closed.
type SharedWriter<W> = Arc<Mutex<Option<W>>>;

async fn write_line<W: AsyncWrite + Unpin>(
    writer: &SharedWriter<W>,
    line: &[u8],
) -> std::io::Result<()> {
    let mut guard = writer.lock().await;
    let Some(w) = guard.as_mut() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotConnected,
            "the transport is closed",
        ));
    };
    w.write_all(line).await?;
    w.flush().await
}

/// The stdio transport: newline-delimited JSON-RPC with every line checked
/// by [`decode`] first.
pub struct WireTransport<W> {
    incoming: mpsc::Receiver<ClientJsonRpcMessage>,
    writer: SharedWriter<W>,
    reader: tokio::task::JoinHandle<()>,
}

impl<W: AsyncWrite + Send + Unpin + 'static> WireTransport<W> {
    /// Start reading `read` (on a task of the current runtime).
    pub fn new<R: AsyncRead + Send + Unpin + 'static>(read: R, write: W) -> Self {
        let writer: SharedWriter<W> = Arc::new(Mutex::new(Some(write)));
        // A few messages of slack; rmcp takes them one at a time.
        let (tx, incoming) = mpsc::channel(16);
        let reader = tokio::spawn(read_loop(
            LineReader::new(read, MAX_MESSAGE_BYTES),
            tx,
            writer.clone(),
        ));
        Self {
            incoming,
            writer,
            reader,
        }
    }
}

/// Reads lines until the end of input, the reader's failure or rmcp's
/// leaving. Runs on its own task, so no read is ever cancelled half-way.
async fn read_loop<R: AsyncBufRead + Unpin, W: AsyncWrite + Unpin>(
    mut lines: LineReader<R>,
    tx: mpsc::Sender<ClientJsonRpcMessage>,
    writer: SharedWriter<W>,
) {
    loop {
        let reply = match lines.next_line().await {
            Ok(None) => break,
            Err(e) => {
                tracing::error!("cannot read the client's input: {e}");
                break;
            }
            Ok(Some(Line::TooLong)) => WireError::too_long(),
            Ok(Some(Line::Complete(bytes))) => {
                let len = bytes.len();
                match decode(bytes) {
                    Decoded::Message(m) => {
                        if tx.send(*m).await.is_err() {
                            break;
                        }
                        continue;
                    }
                    Decoded::Blank => continue,
                    Decoded::Dropped { method } => {
                        tracing::debug!(
                            method,
                            len,
                            "dropped a notification or response that does not parse"
                        );
                        continue;
                    }
                    Decoded::Reply(e) => {
                        tracing::debug!(code = e.code, len, "answered a malformed message");
                        e
                    }
                }
            }
        };
        if write_line(&writer, &reply.to_line()).await.is_err() {
            break;
        }
    }
}

impl<W: AsyncWrite + Send + Unpin + 'static> rmcp::transport::Transport<RoleServer>
    for WireTransport<W>
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let writer = self.writer.clone();
        async move {
            let mut line = serde_json::to_vec(&item)?;
            line.push(b'\n');
            write_line(&writer, &line).await
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        self.incoming.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        let taken = self.writer.lock().await.take();
        if let Some(mut w) = taken {
            w.shutdown().await?;
        }
        Ok(())
    }
}

impl<W> Drop for WireTransport<W> {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Axum middleware: a POST whose JSON body [`decode`] refuses is answered
/// here with the JSON-RPC error and HTTP 400 (413 when too long); any other
/// request goes on to rmcp unchanged. A body that is not declared JSON is
/// left to rmcp, which answers `415`.
pub async fn check_http_body(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{Method, StatusCode, header};

    let declared_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if request.method() != Method::POST || !declared_json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_MESSAGE_BYTES).await {
        Ok(b) => b,
        Err(_) => return error_response(StatusCode::PAYLOAD_TOO_LARGE, &WireError::too_long()),
    };
    let error = match decode(&bytes) {
        Decoded::Message(_) => {
            let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
            return next.run(request).await;
        }
        Decoded::Blank => WireError::parse("the request body is empty"),
        Decoded::Dropped { method } => {
            tracing::debug!(
                method,
                "dropped a notification or response that does not parse"
            );
            // What the transport answers any notification with.
            return axum::response::IntoResponse::into_response(StatusCode::ACCEPTED);
        }
        Decoded::Reply(e) => e,
    };
    tracing::debug!(
        code = error.code,
        len = bytes.len(),
        "answered a malformed message"
    );
    error_response(StatusCode::BAD_REQUEST, &error)
}

fn error_response(status: axum::http::StatusCode, error: &WireError) -> axum::response::Response {
    let mut response =
        axum::response::Response::new(axum::body::Body::from(error.to_json().to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests;
