//! The Cloud Control wire protocol on loopback, so that boto3, the AWS CLI
//! and aws-sdk-rust can talk to the local cloud (`--endpoint-url`).
//!
//! Protocol: awsJson 1.0 over HTTP/1.1. Every call is `POST /` with
//! `X-Amz-Target: CloudApiService.<Operation>` and a JSON body; the reply is
//! `application/x-amz-json-1.0`. Operations served: `CreateResource`,
//! `GetResource`, `UpdateResource`, `DeleteResource`, `ListResources`,
//! `GetResourceRequestStatus`, with AWS's request and response shapes
//! (`DesiredState`, `PatchDocument`, `ResourceModel` and `Properties` are
//! JSON documents inside JSON strings; `EventTime` and `RetryAfter` are epoch
//! seconds). Errors are AWS error bodies, `{"__type": "…Exception",
//! "message": "…"}`, with HTTP 400 (500 for the local cloud's own failures).
//!
//! The HTTP side is deliberately small: request line, headers,
//! `Content-Length` bodies (no chunked uploads; AWS SDKs send a length),
//! `Expect: 100-continue`, keep-alive and pipelining. One thread per
//! connection, at most [`MAX_CONNECTIONS`] at once. Signatures
//! (`Authorization: AWS4-HMAC-SHA256 …`) are accepted without checking: the
//! endpoint is for loopback only, and the local cloud has no credentials.
//!
//! Not here: binding (the caller passes a bound listener, so tests use
//! `127.0.0.1:0`) and TLS.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use infraguard_core::{Cloud, CloudError, ErrorCode, ProgressEvent, ResourceType, Timestamp};
use infraguard_schema::Catalog;
use serde_json::{Map, Value, json};

use crate::random::Rng;

/// Connections served at once; a connection beyond that is answered 503
/// (`ServiceUnavailableException`) and closed.
pub const MAX_CONNECTIONS: usize = 64;

/// How often a blocked connection read looks at the stop flag.
const POLL: Duration = Duration::from_millis(50);
/// How often the idle accept loop looks for a new connection (and at the
/// stop flag); short, because it is the delay a new client may see.
const ACCEPT_POLL: Duration = Duration::from_millis(5);
/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A request must arrive whole within this long once it has started.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Cloud Control caps a desired state at 16 KB of JSON; this leaves room
/// for the envelope and for patches while refusing absurd uploads.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

const TARGET_PREFIX: &str = "CloudApiService.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Serve the Cloud Control protocol on `listener` until `stop` is set.
///
/// Returns once every connection has closed (each notices `stop` within
/// [`POLL`]). Errors: the listener failing in a way that is not transient.
pub fn serve<C: Cloud + ?Sized + 'static>(
    cloud: Arc<C>,
    listener: TcpListener,
    stop: Arc<AtomicBool>,
) -> io::Result<()> {
    // Non-blocking accept so the loop can notice `stop` without a wake-up
    // connection.
    listener.set_nonblocking(true)?;
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let result = loop {
        if stop.load(Ordering::SeqCst) {
            break Ok(());
        }
        match listener.accept() {
            Ok((stream, _peer)) => {
                workers.retain(|w| !w.is_finished());
                if workers.len() >= MAX_CONNECTIONS {
                    refuse_busy(stream);
                    continue;
                }
                let cloud = Arc::clone(&cloud);
                let stop = Arc::clone(&stop);
                let worker = thread::Builder::new()
                    .name("infraguard-wire".into())
                    .spawn(move || {
                        // A connection that fails only affects its client.
                        let _ = serve_connection(&*cloud, stream, &stop);
                    })?;
                workers.push(worker);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                ) => {}
            Err(e) => break Err(e),
        }
    };
    for w in workers {
        let _ = w.join();
    }
    result
}

fn refuse_busy(mut stream: TcpStream) {
    let body = error_body(
        "ServiceUnavailableException",
        "too many open connections to the local cloud; retry shortly",
    );
    let _ = stream.set_nonblocking(false);
    let _ = write_response(&mut stream, 503, &body, "busy", false);
}

/// One parsed HTTP request.
#[derive(Debug, Clone, PartialEq)]
struct Request {
    method: String,
    target: Option<String>,
    body: Vec<u8>,
    keep_alive: bool,
}

/// Why a connection must answer and close without a full request.
#[derive(Debug, Clone, PartialEq)]
struct HttpError {
    status: u16,
    message: String,
}

impl HttpError {
    fn new(status: u16, message: impl Into<String>) -> HttpError {
        HttpError {
            status,
            message: message.into(),
        }
    }
}

/// The parts of a request head this server uses.
#[derive(Debug, Clone, PartialEq)]
struct Head {
    method: String,
    target: Option<String>,
    content_length: usize,
    keep_alive: bool,
    expect_continue: bool,
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

fn parse_head(head: &[u8]) -> Result<Head, HttpError> {
    let text =
        std::str::from_utf8(head).map_err(|_| HttpError::new(400, "request head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(_path), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::new(
            400,
            format!("malformed request line `{request_line}`"),
        ));
    };
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        other => {
            return Err(HttpError::new(
                505,
                format!("HTTP version `{other}` is not supported; use HTTP/1.1"),
            ));
        }
    };
    let mut head = Head {
        method: method.to_string(),
        target: None,
        content_length: 0,
        keep_alive: http11,
        expect_continue: false,
    };
    let mut saw_length = false;
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(HttpError::new(
                400,
                format!("malformed header line `{line}`"),
            ));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                let n: usize = value.parse().map_err(|_| {
                    HttpError::new(400, format!("Content-Length `{value}` is not a number"))
                })?;
                if saw_length && n != head.content_length {
                    return Err(HttpError::new(400, "conflicting Content-Length headers"));
                }
                head.content_length = n;
                saw_length = true;
            }
            "transfer-encoding" if !value.eq_ignore_ascii_case("identity") => {
                return Err(HttpError::new(
                    411,
                    format!(
                        "Transfer-Encoding `{value}` is not supported; send the body with a Content-Length"
                    ),
                ));
            }
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.split(',').any(|t| t.trim() == "close") {
                    head.keep_alive = false;
                } else if v.split(',').any(|t| t.trim() == "keep-alive") {
                    head.keep_alive = true;
                }
            }
            "expect" => head.expect_continue = value.eq_ignore_ascii_case("100-continue"),
            "x-amz-target" => head.target = Some(value.to_string()),
            _ => {}
        }
    }
    if head.content_length > MAX_BODY_BYTES {
        return Err(HttpError::new(
            413,
            format!(
                "a body of {} bytes is over the local cloud's limit of {MAX_BODY_BYTES}",
                head.content_length
            ),
        ));
    }
    Ok(head)
}

/// Read one request from `stream`, keeping any bytes past it in `buf` for
/// the next (pipelining). `Ok(None)`: the client closed, went idle too long,
/// or the server is stopping.
fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    stop: &AtomicBool,
) -> Result<Option<Request>, HttpError> {
    let waiting_since = Instant::now();
    let mut started: Option<Instant> = (!buf.is_empty()).then(Instant::now);
    let mut head: Option<(Head, usize)> = None;
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if head.is_none()
            && let Some(end) = find_head_end(buf)
        {
            let h = parse_head(&buf[..end])?;
            if h.expect_continue && buf.len() < end + h.content_length {
                let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
            }
            head = Some((h, end));
        }
        if let Some((h, end)) = &head
            && buf.len() >= end + h.content_length
        {
            let body = buf[*end..end + h.content_length].to_vec();
            buf.drain(..end + h.content_length);
            return Ok(Some(Request {
                method: h.method.clone(),
                target: h.target.clone(),
                body,
                keep_alive: h.keep_alive,
            }));
        }
        if head.is_none() && buf.len() > MAX_HEAD_BYTES {
            return Err(HttpError::new(431, "request head is over 64 KiB"));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                started.get_or_insert_with(Instant::now);
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                match started {
                    Some(t) if t.elapsed() > REQUEST_TIMEOUT => {
                        return Err(HttpError::new(408, "the request did not arrive in time"));
                    }
                    None if waiting_since.elapsed() > IDLE_TIMEOUT => return Ok(None),
                    _ => {}
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Ok(None),
        }
    }
}

fn serve_connection<C: Cloud + ?Sized>(
    cloud: &C,
    mut stream: TcpStream,
    stop: &AtomicBool,
) -> io::Result<()> {
    // Accepted sockets may inherit the listener's non-blocking mode on some
    // platforms; reads here block with a short timeout instead, to notice
    // `stop`.
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(POLL))?;
    stream.set_nodelay(true)?;
    let mut rng = Rng::from_os().map_err(io::Error::other)?;
    let mut buf = Vec::new();
    loop {
        let request_id = rng.uuid();
        let request = match read_request(&mut stream, &mut buf, stop) {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(()),
            Err(e) => {
                let body = error_body(http_error_type(e.status), &e.message);
                return write_response(&mut stream, e.status, &body, &request_id, false);
            }
        };
        let (status, body) = if request.method != "POST" {
            (
                405,
                error_body(
                    "UnknownOperationException",
                    &format!(
                        "{} is not served; Cloud Control calls are POST / with an X-Amz-Target header",
                        request.method
                    ),
                ),
            )
        } else if request.target.is_none()
            && let Some(reply) = sts_identity(cloud, &request.body, &request_id)
        {
            let keep_alive = request.keep_alive && !stop.load(Ordering::SeqCst);
            let (status, xml) = match reply {
                Ok(xml) => (200, xml),
                Err(xml) => (500, xml),
            };
            write_raw(
                &mut stream,
                status,
                "text/xml",
                &xml,
                &request_id,
                keep_alive,
                None,
            )?;
            if !keep_alive {
                return Ok(());
            }
            continue;
        } else {
            match handle(cloud, request.target.as_deref(), &request.body) {
                Ok(v) => (200, v),
                Err(e) => (e.status, error_body(&e.kind, &e.message)),
            }
        };
        let keep_alive = request.keep_alive && !stop.load(Ordering::SeqCst);
        write_response(&mut stream, status, &body, &request_id, keep_alive)?;
        if !keep_alive {
            return Ok(());
        }
    }
}

fn http_error_type(status: u16) -> &'static str {
    match status {
        408 => "RequestTimeoutException",
        411 | 413 | 431 => "ValidationException",
        505 => "UnsupportedOperation",
        _ => "SerializationException",
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

fn write_response(
    stream: &mut TcpStream,
    status: u16,
    body: &Value,
    request_id: &str,
    keep_alive: bool,
) -> io::Result<()> {
    let body = body.to_string();
    // Some SDKs read the error type from a header before the body.
    let error_type = if status != 200 {
        body_type(&body)
    } else {
        None
    };
    write_raw(
        stream,
        status,
        CONTENT_TYPE,
        &body,
        request_id,
        keep_alive,
        error_type.as_deref(),
    )
}

fn write_raw(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
    request_id: &str,
    keep_alive: bool,
    error_type: Option<&str>,
) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: {request_id}\r\nConnection: {}\r\n",
        reason(status),
        body.len(),
        if keep_alive { "keep-alive" } else { "close" },
    );
    if let Some(kind) = error_type {
        out.push_str(&format!("x-amzn-ErrorType: {kind}\r\n"));
    }
    if status == 405 {
        out.push_str("Allow: POST\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    stream.write_all(out.as_bytes())?;
    stream.flush()
}

/// STS `GetCallerIdentity` (awsQuery: a form body, an XML reply), so that an
/// `aws` backend pointed at this endpoint (`AWS_ENDPOINT_URL`) can identify
/// itself as the local account. `None` when the body is not that call.
fn sts_identity<C: Cloud + ?Sized>(
    cloud: &C,
    body: &[u8],
    request_id: &str,
) -> Option<Result<String, String>> {
    let form = std::str::from_utf8(body).ok()?;
    if !form.split('&').any(|kv| kv == "Action=GetCallerIdentity") {
        return None;
    }
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    Some(match cloud.identity() {
        Ok(id) => Ok(format!(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>",
            escape(&id.arn),
            escape(&format!("AIDALOCAL{}", id.account_id)),
            escape(&id.account_id)
        )),
        Err(e) => Err(format!(
            "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            escape(&e.to_string())
        )),
    })
}

fn body_type(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body)
        .ok()?
        .get("__type")?
        .as_str()
        .map(str::to_string)
}

fn error_body(kind: &str, message: &str) -> Value {
    json!({"__type": kind, "message": message})
}

/// An error reply: HTTP status, AWS exception name, message.
#[derive(Debug, Clone, PartialEq)]
struct WireError {
    status: u16,
    kind: String,
    message: String,
}

impl WireError {
    fn validation(message: impl Into<String>) -> WireError {
        WireError {
            status: 400,
            kind: "ValidationException".into(),
            message: message.into(),
        }
    }
}

/// Map a port error to Cloud Control's exception for `operation`.
fn cloud_error(e: CloudError, operation: &str, type_name: Option<&ResourceType>) -> WireError {
    match e {
        CloudError::Service { code, message } => {
            let kind = match &code {
                ErrorCode::NotFound if operation == "GetResourceRequestStatus" => {
                    "RequestTokenNotFoundException".to_string()
                }
                ErrorCode::NotFound => "ResourceNotFoundException".into(),
                ErrorCode::InvalidRequest
                    if type_name.is_some_and(|t| Catalog::builtin().get(t).is_err()) =>
                {
                    "TypeNotFoundException".into()
                }
                ErrorCode::InternalFailure => "HandlerInternalFailureException".into(),
                ErrorCode::GeneralServiceException => "GeneralServiceException".into(),
                ErrorCode::ServiceTimeout => "ServiceInternalErrorException".into(),
                ErrorCode::ServiceInternalError => "ServiceInternalErrorException".into(),
                other => format!("{}Exception", other.as_str()),
            };
            WireError {
                status: 400,
                kind,
                message,
            }
        }
        CloudError::Transport(m) | CloudError::Internal(m) => WireError {
            status: 500,
            kind: "InternalFailure".into(),
            message: m,
        },
    }
}

/// The JSON object of a request body (an empty body is `{}`).
fn input(body: &[u8]) -> Result<Map<String, Value>, WireError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(WireError {
            status: 400,
            kind: "SerializationException".into(),
            message: format!(
                "the request body must be a JSON object, got {}",
                kind_of(&other)
            ),
        }),
        Err(e) => Err(WireError {
            status: 400,
            kind: "SerializationException".into(),
            message: format!("the request body is not valid JSON: {e}"),
        }),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn opt_str<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, WireError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(WireError::validation(format!(
            "{key} must be a string, got {}",
            kind_of(other)
        ))),
    }
}

fn req_str<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a str, WireError> {
    opt_str(m, key)?.ok_or_else(|| WireError::validation(format!("{key} is required")))
}

/// A field that carries a JSON document as a string (DesiredState, …).
fn json_doc(m: &Map<String, Value>, key: &str) -> Result<Option<Value>, WireError> {
    opt_str(m, key)?
        .map(|s| {
            serde_json::from_str(s).map_err(|e| {
                WireError::validation(format!("{key} must hold a JSON document as a string: {e}"))
            })
        })
        .transpose()
}

fn type_name(m: &Map<String, Value>) -> Result<ResourceType, WireError> {
    let raw = req_str(m, "TypeName")?;
    ResourceType::new(raw).map_err(|e| WireError::validation(e.to_string()))
}

/// Epoch seconds, the awsJson timestamp format.
fn epoch(rfc3339: &str) -> Option<f64> {
    Timestamp::parse_rfc3339(rfc3339).map(|t| t.0.unix_timestamp_nanos() as f64 / 1e9)
}

fn event_json(ev: &ProgressEvent) -> Value {
    let mut m = Map::new();
    m.insert("TypeName".into(), json!(ev.type_name.as_str()));
    if let Some(id) = &ev.identifier {
        m.insert("Identifier".into(), json!(id));
    }
    m.insert("RequestToken".into(), json!(ev.request_token));
    m.insert("Operation".into(), json!(ev.operation.cloud_control_name()));
    m.insert(
        "OperationStatus".into(),
        json!(ev.operation_status.as_str()),
    );
    let time = epoch(&ev.event_time);
    if let Some(t) = time {
        m.insert("EventTime".into(), json!(t));
    }
    if let Some(model) = &ev.resource_model {
        m.insert("ResourceModel".into(), json!(model));
    }
    if let Some(msg) = &ev.status_message {
        m.insert("StatusMessage".into(), json!(msg));
    }
    if let Some(code) = &ev.error_code {
        m.insert("ErrorCode".into(), json!(code.as_str()));
    }
    // On the wire RetryAfter is a point in time, not a delay.
    if let (Some(after), Some(t)) = (ev.retry_after, time) {
        m.insert("RetryAfter".into(), json!(t + after as f64));
    }
    Value::Object(m)
}

/// Answer one Cloud Control call.
fn handle<C: Cloud + ?Sized>(
    cloud: &C,
    target: Option<&str>,
    body: &[u8],
) -> Result<Value, WireError> {
    let Some(operation) = target.and_then(|t| t.strip_prefix(TARGET_PREFIX)) else {
        return Err(WireError {
            status: 400,
            kind: "UnknownOperationException".into(),
            message: format!(
                "X-Amz-Target `{}` is not a Cloud Control operation; expected `{TARGET_PREFIX}<Operation>`",
                target.unwrap_or("")
            ),
        });
    };
    let m = input(body)?;
    match operation {
        "CreateResource" => {
            let t = type_name(&m)?;
            let desired = json_doc(&m, "DesiredState")?
                .ok_or_else(|| WireError::validation("DesiredState is required"))?;
            let token = opt_str(&m, "ClientToken")?.unwrap_or("");
            let ev = cloud
                .create(&t, &desired, token)
                .map_err(|e| cloud_error(e, operation, Some(&t)))?;
            Ok(json!({"ProgressEvent": event_json(&ev)}))
        }
        "GetResource" => {
            let t = type_name(&m)?;
            let id = req_str(&m, "Identifier")?;
            let d = cloud
                .get(&t, id)
                .map_err(|e| cloud_error(e, operation, Some(&t)))?;
            Ok(json!({
                "TypeName": t.as_str(),
                "ResourceDescription": {"Identifier": d.identifier, "Properties": d.properties.to_string()},
            }))
        }
        "UpdateResource" => {
            let t = type_name(&m)?;
            let id = req_str(&m, "Identifier")?;
            let patch = json_doc(&m, "PatchDocument")?
                .ok_or_else(|| WireError::validation("PatchDocument is required"))?;
            let token = opt_str(&m, "ClientToken")?.unwrap_or("");
            let ev = cloud
                .update(&t, id, &patch, token)
                .map_err(|e| cloud_error(e, operation, Some(&t)))?;
            Ok(json!({"ProgressEvent": event_json(&ev)}))
        }
        "DeleteResource" => {
            let t = type_name(&m)?;
            let id = req_str(&m, "Identifier")?;
            let token = opt_str(&m, "ClientToken")?.unwrap_or("");
            let ev = cloud
                .delete(&t, id, token)
                .map_err(|e| cloud_error(e, operation, Some(&t)))?;
            Ok(json!({"ProgressEvent": event_json(&ev)}))
        }
        "ListResources" => {
            let t = type_name(&m)?;
            let next = opt_str(&m, "NextToken")?;
            let model = json_doc(&m, "ResourceModel")?;
            // MaxResults is accepted and ignored: Cloud Control documents it
            // as reserved, and the page size is the cloud's.
            let page = cloud
                .list(&t, next, model.as_ref())
                .map_err(|e| cloud_error(e, operation, Some(&t)))?;
            let descriptions: Vec<Value> = page
                .resources
                .iter()
                .map(
                    |r| json!({"Identifier": r.identifier, "Properties": r.properties.to_string()}),
                )
                .collect();
            let mut out = json!({"TypeName": t.as_str(), "ResourceDescriptions": descriptions});
            if let Some(n) = page.next_token {
                out["NextToken"] = json!(n);
            }
            Ok(out)
        }
        "GetResourceRequestStatus" => {
            let token = req_str(&m, "RequestToken")?;
            let ev = cloud
                .request_status(token)
                .map_err(|e| cloud_error(e, operation, None))?;
            Ok(json!({"ProgressEvent": event_json(&ev)}))
        }
        other => Err(WireError {
            status: 400,
            kind: "UnknownOperationException".into(),
            message: format!(
                "`{other}` is not served by the local cloud; it serves CreateResource, GetResource, UpdateResource, DeleteResource, ListResources and GetResourceRequestStatus"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use infraguard_core::{Operation, OperationStatus};

    use super::*;

    #[test]
    fn parses_a_head_with_target_length_and_continue() {
        let head = b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: CloudApiService.GetResource\r\ncontent-length: 12\r\nExpect: 100-continue\r\n\r\n";
        let end = find_head_end(head).expect("end");
        assert_eq!(end, head.len());
        let h = parse_head(&head[..end]).expect("head");
        assert_eq!(h.target.as_deref(), Some("CloudApiService.GetResource"));
        assert_eq!(h.content_length, 12);
        assert!(h.keep_alive && h.expect_continue);
    }

    #[test]
    fn http10_and_connection_close_end_the_connection() {
        let h = parse_head(b"POST / HTTP/1.0\r\n\r\n").expect("head");
        assert!(!h.keep_alive);
        let h = parse_head(b"POST / HTTP/1.1\r\nConnection: close\r\n\r\n").expect("head");
        assert!(!h.keep_alive);
    }

    #[test]
    fn refuses_chunked_bodies_bad_lengths_and_versions() {
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
                .map_err(|e| e.status),
            Err(411)
        );
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n").map_err(|e| e.status),
            Err(400)
        );
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n")
                .map_err(|e| e.status),
            Err(413)
        );
        assert_eq!(
            parse_head(b"POST / HTTP/2\r\n\r\n").map_err(|e| e.status),
            Err(505)
        );
        assert_eq!(
            parse_head(b"garbage\r\n\r\n").map_err(|e| e.status),
            Err(400)
        );
    }

    #[test]
    fn events_use_epoch_seconds_and_retry_after_is_a_time() {
        let ev = ProgressEvent {
            type_name: ResourceType::new("AWS::S3::Bucket").expect("type"),
            identifier: Some("b".into()),
            request_token: "rt".into(),
            operation: Operation::Create,
            operation_status: OperationStatus::InProgress,
            event_time: "2026-11-26T00:00:00Z".into(),
            resource_model: None,
            status_message: None,
            error_code: None,
            retry_after: Some(5),
        };
        let v = event_json(&ev);
        assert_eq!(v["EventTime"], json!(1_795_651_200.0));
        assert_eq!(v["RetryAfter"], json!(1_795_651_205.0));
        assert_eq!(v["Operation"], "CREATE");
        assert_eq!(v["OperationStatus"], "IN_PROGRESS");
        assert!(v.get("ErrorCode").is_none());
    }

    #[test]
    fn error_codes_map_to_cloud_control_exceptions() {
        let kind = |code: ErrorCode, op: &str, t: Option<&str>| {
            let t = t.map(|t| ResourceType::new(t).expect("type"));
            cloud_error(CloudError::service(code, "m"), op, t.as_ref()).kind
        };
        assert_eq!(
            kind(ErrorCode::NotFound, "GetResource", None),
            "ResourceNotFoundException"
        );
        assert_eq!(
            kind(ErrorCode::NotFound, "GetResourceRequestStatus", None),
            "RequestTokenNotFoundException"
        );
        assert_eq!(
            kind(
                ErrorCode::InvalidRequest,
                "CreateResource",
                Some("AWS::S3::Nope")
            ),
            "TypeNotFoundException"
        );
        assert_eq!(
            kind(
                ErrorCode::InvalidRequest,
                "UpdateResource",
                Some("AWS::S3::Bucket")
            ),
            "InvalidRequestException"
        );
        assert_eq!(
            kind(ErrorCode::Throttling, "GetResource", None),
            "ThrottlingException"
        );
        assert_eq!(
            kind(
                ErrorCode::Other("ClientTokenConflict".into()),
                "CreateResource",
                None
            ),
            "ClientTokenConflictException"
        );
        let internal = cloud_error(CloudError::Internal("disk".into()), "GetResource", None);
        assert_eq!(
            (internal.status, internal.kind.as_str()),
            (500, "InternalFailure")
        );
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert_eq!(input(b"").expect("empty is {}"), Map::new());
        assert_eq!(
            input(b"[1]").map_err(|e| e.kind),
            Err("SerializationException".to_string())
        );
        assert_eq!(
            input(b"{nope").map_err(|e| e.kind),
            Err("SerializationException".to_string())
        );
    }
}
