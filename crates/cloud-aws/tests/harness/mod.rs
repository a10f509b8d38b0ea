//! Shared harness for the backend's integration tests: the local cloud on
//! its wire endpoint, a recording stub server for services the local cloud
//! does not speak (STS, CloudFormation), winterbaume's Cloud Control
//! emulator served over HTTP ([`Winterbaume`]), and emulator processes
//! (moto) started on loopback and killed on drop. Nothing here listens
//! anywhere but 127.0.0.1.

#![allow(dead_code)] // Each test binary uses a different part.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use infraguard_cloud_aws::{AwsCloud, ConnectOptions};
use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::SystemClock;

/// The local cloud served on `127.0.0.1:0` until dropped.
pub struct Wire {
    pub addr: SocketAddr,
    pub cloud: Arc<LocalCloud>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Wire {
    pub fn start(region: &str) -> Wire {
        let local = LocalCloud::in_memory(
            LocalAccount {
                env: "dev".into(),
                region: region.into(),
            },
            Arc::new(SystemClock),
        )
        .expect("local cloud");
        let cloud = Arc::new(local);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (cloud.clone(), stop.clone());
        let thread = thread::spawn(move || {
            infraguard_cloud_local::wire::serve(c, listener, s).expect("wire serve");
        });
        Wire {
            addr,
            cloud,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One request as the stub saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub target: Option<String>,
    pub authorization: Option<String>,
    pub body: String,
}

impl Seen {
    /// The region of the SigV4 credential scope (`Credential=AK/DATE/REGION/…`).
    pub fn signed_region(&self) -> Option<String> {
        let auth = self.authorization.as_deref()?;
        let scope = auth.split("Credential=").nth(1)?;
        scope.split('/').nth(2).map(str::to_string)
    }
}

/// What the stub answers: status, content type, body.
pub type Reply = (u16, &'static str, String);

/// A loopback HTTP server that records every request and answers with
/// `respond`; one request per connection.
pub struct Stub {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Stub {
    pub fn start(respond: impl Fn(&Seen) -> Reply + Send + 'static) -> Stub {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let (addr, stop, thread) = serve_loopback(move |stream| {
            if let Some(raw) = read_http(&stream) {
                let req = raw.seen();
                let reply = respond(&req);
                log.lock().expect("log").push(req);
                write_reply(stream, reply);
            }
        });
        Stub {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serve loopback connections on a thread, one at a time, until the flag
/// is set; `handle` answers each (one request per connection).
fn serve_loopback(
    mut handle: impl FnMut(TcpStream) + Send + 'static,
) -> (SocketAddr, Arc<AtomicBool>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let thread = thread::spawn(move || {
        while !s.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((stream, _)) => handle(stream),
                Err(_) => thread::sleep(Duration::from_millis(1)),
            }
        }
    });
    (addr, stop, thread)
}

/// One HTTP/1.1 request as read off the socket.
struct RawRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn seen(&self) -> Seen {
        Seen {
            target: self.header("x-amz-target").map(str::to_string),
            authorization: self.header("authorization").map(str::to_string),
            body: String::from_utf8_lossy(&self.body).into_owned(),
        }
    }
}

fn read_http(stream: &TcpStream) -> Option<RawRequest> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let (mut headers, mut length) = (Vec::new(), 0usize);
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (name, value) = l.split_once(':')?;
        let (name, value) = (name.trim().to_string(), value.trim().to_string());
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().ok()?;
        }
        headers.push((name, value));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(RawRequest {
        method,
        path,
        headers,
        body,
    })
}

fn write_reply(mut stream: TcpStream, (status, content_type, body): Reply) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: stub\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// STS's GetCallerIdentity answer (awsQuery, XML).
pub fn sts_identity_reply(account: &str) -> Reply {
    let body = format!(
        r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::{account}:user/stub</Arn><UserId>AIDASTUB</UserId><Account>{account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#
    );
    (200, "text/xml", body)
}

/// CloudFormation's DescribeType answer carrying `schema`.
pub fn describe_type_reply(type_name: &str, schema: &serde_json::Value) -> Reply {
    let escaped = schema
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let body = format!(
        r#"<DescribeTypeResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeTypeResult><TypeName>{type_name}</TypeName><Type>RESOURCE</Type><Schema>{escaped}</Schema></DescribeTypeResult><ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></DescribeTypeResponse>"#
    );
    (200, "text/xml", body)
}

/// An AWS query-protocol error reply.
pub fn query_error_reply(code: &str, message: &str) -> Reply {
    let body = format!(
        r#"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>stub</RequestId></ErrorResponse>"#
    );
    (400, "text/xml", body)
}

/// The backend pointed at the wire endpoint for Cloud Control and at `sts`
/// for identity.
pub fn backend(wire: &Wire, sts: &Stub, region: &str) -> AwsCloud {
    let mut opts = ConnectOptions::for_emulator("dev", region, &wire.url());
    opts.service_endpoints.insert("sts".into(), sts.url());
    AwsCloud::connect_with(opts).expect("connect")
}

#[allow(unused_imports)] // each test binary uses a different part
pub use infraguard_cloud_aws::emulator::{
    Process, REQUIRE_TOOLS, find_program, free_port, required_program, start_process,
};

/// POST with an empty body (emulator reset endpoints).
pub fn http_post(url_port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", url_port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A prefix unique to this run, lowercase (bucket names).
pub fn prefix(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{what}-{:x}{:x}",
        std::process::id() % 0xfff,
        nanos % 0xffff
    )
}

/// winterbaume's Cloud Control emulator (`winterbaume-cloudcontrol`, an
/// in-process mock by another author) served as HTTP on `127.0.0.1:0` until
/// dropped, so that `AwsCloud` reaches it exactly as it reaches AWS: through
/// aws-sdk-cloudcontrol, its hyper client, SigV4 and the awsJson 1.0 wire
/// format. Fresh state per instance.
///
/// winterbaume ships no small server (`winterbaume-server` builds every AWS
/// service it mocks), so this is the transport only: each HTTP request
/// becomes one `MockRequest`, handled by winterbaume's own dispatch, and its
/// `MockResponse` is written back as it is. winterbaume picks the region
/// from the host name (`cloudcontrolapi.REGION.amazonaws.com`), so the
/// request's URI is given the region the SDK signed for. One request per
/// connection (`Connection: close`), one at a time.
pub struct Winterbaume {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Winterbaume {
    /// winterbaume's fixed account (`winterbaume_core::DEFAULT_ACCOUNT_ID`).
    pub const ACCOUNT: &str = winterbaume_core::DEFAULT_ACCOUNT_ID;

    pub fn start() -> Winterbaume {
        use winterbaume_core::MockService;

        let service = winterbaume_cloudcontrol::CloudControlService::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let (addr, stop, thread) = serve_loopback(move |stream| {
            let Some(request) = read_http(&stream).and_then(mock_request) else {
                return;
            };
            let response = rt.block_on(service.handle(request));
            write_mock_response(stream, response);
        });
        Winterbaume {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Winterbaume {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// winterbaume's request for one HTTP request: the region it reads from
/// the host name is the one the SDK signed for.
fn mock_request(raw: RawRequest) -> Option<winterbaume_core::MockRequest> {
    let region = raw
        .seen()
        .signed_region()
        .unwrap_or_else(|| "us-east-1".into());
    let mut headers = http::HeaderMap::new();
    for (name, value) in &raw.headers {
        headers.append(
            http::HeaderName::from_bytes(name.as_bytes()).ok()?,
            http::HeaderValue::from_str(value).ok()?,
        );
    }
    Some(winterbaume_core::MockRequest {
        method: raw.method,
        uri: format!("https://cloudcontrolapi.{region}.amazonaws.com{}", raw.path),
        headers,
        body: bytes::Bytes::from(raw.body),
    })
}

fn write_mock_response(mut stream: TcpStream, response: winterbaume_core::MockResponse) {
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        response.body.len()
    );
    for (name, value) in &response.headers {
        if name == http::header::CONTENT_LENGTH || name == http::header::CONNECTION {
            continue;
        }
        if let Ok(v) = value.to_str() {
            head.push_str(&format!("{name}: {v}\r\n"));
        }
    }
    if !response.headers.contains_key("x-amzn-requestid") {
        head.push_str("x-amzn-RequestId: winterbaume\r\n");
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&response.body);
}
