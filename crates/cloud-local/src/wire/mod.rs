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
//!
//! # Layout
//!
//! - this file: [`serve`], the accept loop and one connection's
//!   request–reply loop;
//! - `http`: the HTTP/1.1 subset — parsing a request, writing a reply;
//! - `cloud_control`: the Cloud Control operations, their JSON shapes and
//!   how port errors become AWS exceptions;
//! - `sts`: STS `GetCallerIdentity`, so an `aws` backend pointed here can
//!   identify itself.

mod cloud_control;
mod http;
mod sts;

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use infraguard_core::Cloud;
use serde_json::{Value, json};

use crate::random::Rng;

use cloud_control::handle;
use http::{http_error_type, read_request, write_raw, write_response};
use sts::sts_identity;

/// Connections served at once; a connection beyond that is answered 503
/// (`ServiceUnavailableException`) and closed.
pub const MAX_CONNECTIONS: usize = 64;

/// How often a blocked connection read looks at the stop flag.
const POLL: Duration = Duration::from_millis(50);
/// How often the idle accept loop looks for a new connection (and at the
/// stop flag); short, because it is the delay a new client may see.
const ACCEPT_POLL: Duration = Duration::from_millis(5);

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

fn error_body(kind: &str, message: &str) -> Value {
    json!({"__type": kind, "message": message})
}
