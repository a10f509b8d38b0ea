//! The HTTP/1.1 side, deliberately small: the request line, headers,
//! `Content-Length` bodies, `Expect: 100-continue` and keep-alive on the way
//! in; a status line, headers and a body on the way out.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A request must arrive whole within this long once it has started.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Cloud Control caps a desired state at 16 KB of JSON; this leaves room
/// for the envelope and for patches while refusing absurd uploads.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// One parsed HTTP request.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Request {
    pub(super) method: String,
    pub(super) target: Option<String>,
    pub(super) body: Vec<u8>,
    pub(super) keep_alive: bool,
}

/// Why a connection must answer and close without a full request.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct HttpError {
    pub(super) status: u16,
    pub(super) message: String,
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
pub(super) fn read_request(
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

pub(super) fn http_error_type(status: u16) -> &'static str {
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

pub(super) fn write_response(
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

pub(super) fn write_raw(
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

fn body_type(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body)
        .ok()?
        .get("__type")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
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
}
