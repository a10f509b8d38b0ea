//! The Cloud Control wire endpoint, driven with raw HTTP/1.1 over loopback
//! the way an AWS SDK would: awsJson 1.0 bodies, `X-Amz-Target` headers,
//! JSON documents inside strings, AWS error bodies.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use infraguard_cloud_local::{Faults, LocalAccount, LocalCloud, wire};
use infraguard_core::SystemClock;
use serde_json::{Value, json};

/// A served local cloud that stops when dropped.
struct Server {
    addr: SocketAddr,
    cloud: Arc<LocalCloud>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    fn start() -> Server {
        let account = LocalAccount {
            env: "dev".into(),
            region: "us-west-2".into(),
        };
        let cloud = Arc::new(LocalCloud::in_memory(account, Arc::new(SystemClock)).expect("cloud"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (cloud, stop) = (Arc::clone(&cloud), Arc::clone(&stop));
            std::thread::spawn(move || wire::serve(cloud, listener, stop))
        };
        Server {
            addr,
            cloud,
            stop,
            thread: Some(thread),
        }
    }

    fn connect(&self) -> Client {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Client {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            stream,
        }
    }

    /// Stop and wait for `serve` to return.
    fn shutdown(&mut self) -> std::io::Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take() {
            Some(t) => t.join().expect("serve thread panicked"),
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn raw_request(op: &str, body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "POST / HTTP/1.1\r\nHost: cloudcontrolapi.us-west-2.amazonaws.com\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: CloudApiService.{op}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20261126/us-west-2/cloudcontrolapi/aws4_request, SignedHeaders=host, Signature=00\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl Client {
    fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    fn read_response(&mut self) -> Response {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line `{line}`"));
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).expect("header");
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':').expect("header colon");
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().expect("length"))
            .unwrap_or(0);
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).expect("body");
        let body = if body.is_empty() {
            Value::Null
        } else if headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.contains("xml"))
        {
            // STS speaks XML: kept as a string for the test to read.
            Value::String(String::from_utf8(body).expect("utf-8 body"))
        } else {
            serde_json::from_slice(&body).expect("json body")
        };
        Response {
            status,
            headers,
            body,
        }
    }

    fn call(&mut self, op: &str, body: Value) -> Response {
        self.send_raw(&raw_request(op, &body));
        self.read_response()
    }
}

fn doc(v: &Value) -> Value {
    serde_json::from_str(v.as_str().expect("a JSON document in a string")).expect("json document")
}

#[test]
fn full_lifecycle_over_one_keep_alive_connection() {
    let server = Server::start();
    let mut c = server.connect();
    let account = server.cloud.account_id().to_string();

    let r = c.call(
        "CreateResource",
        json!({"TypeName": "AWS::SQS::Queue", "DesiredState": json!({"QueueName": "jobs"}).to_string(), "ClientToken": "wire-1"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("Content-Type"), Some("application/x-amz-json-1.0"));
    assert!(r.header("x-amzn-RequestId").is_some());
    let ev = &r.body["ProgressEvent"];
    assert_eq!(ev["Operation"], "CREATE");
    assert_eq!(ev["OperationStatus"], "SUCCESS");
    assert_eq!(ev["TypeName"], "AWS::SQS::Queue");
    assert!(ev["EventTime"].is_f64(), "{ev}");
    let id = ev["Identifier"].as_str().expect("identifier").to_string();
    assert_eq!(
        id,
        format!("https://sqs.us-west-2.amazonaws.com/{account}/jobs")
    );
    assert_eq!(
        doc(&ev["ResourceModel"])["Arn"],
        format!("arn:aws:sqs:us-west-2:{account}:jobs")
    );

    let r = c.call(
        "GetResource",
        json!({"TypeName": "AWS::SQS::Queue", "Identifier": id}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["TypeName"], "AWS::SQS::Queue");
    assert_eq!(r.body["ResourceDescription"]["Identifier"], id.as_str());
    assert_eq!(
        doc(&r.body["ResourceDescription"]["Properties"])["QueueName"],
        "jobs"
    );

    let patch = json!([{"op": "add", "path": "/DelaySeconds", "value": 5}]).to_string();
    let r = c.call(
        "UpdateResource",
        json!({"TypeName": "AWS::SQS::Queue", "Identifier": id, "PatchDocument": patch, "ClientToken": "wire-2"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["ProgressEvent"]["OperationStatus"], "SUCCESS");
    let token = r.body["ProgressEvent"]["RequestToken"]
        .as_str()
        .expect("token")
        .to_string();

    let r = c.call(
        "ListResources",
        json!({"TypeName": "AWS::SQS::Queue", "MaxResults": 10}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let list = r.body["ResourceDescriptions"]
        .as_array()
        .expect("descriptions");
    assert_eq!(list.len(), 1);
    assert_eq!(doc(&list[0]["Properties"])["DelaySeconds"], 5);
    assert!(r.body.get("NextToken").is_none());

    let r = c.call("GetResourceRequestStatus", json!({"RequestToken": token}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["ProgressEvent"]["Operation"], "UPDATE");

    let r = c.call(
        "DeleteResource",
        json!({"TypeName": "AWS::SQS::Queue", "Identifier": id, "ClientToken": "wire-3"}),
    );
    assert_eq!(r.body["ProgressEvent"]["OperationStatus"], "SUCCESS");
    let r = c.call(
        "GetResource",
        json!({"TypeName": "AWS::SQS::Queue", "Identifier": id}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.body["__type"], "ResourceNotFoundException");
    assert!(r.body["message"].as_str().is_some_and(|m| m.contains(&id)));
    assert_eq!(
        r.header("x-amzn-ErrorType"),
        Some("ResourceNotFoundException")
    );
}

#[test]
fn handler_failures_are_failed_events_not_http_errors() {
    let server = Server::start();
    let mut c = server.connect();
    let desired = json!({"BucketName": "dup"}).to_string();
    let first = c.call(
        "CreateResource",
        json!({"TypeName": "AWS::S3::Bucket", "DesiredState": desired, "ClientToken": "a"}),
    );
    assert_eq!(first.body["ProgressEvent"]["OperationStatus"], "SUCCESS");
    let second = c.call(
        "CreateResource",
        json!({"TypeName": "AWS::S3::Bucket", "DesiredState": desired, "ClientToken": "b"}),
    );
    assert_eq!(second.status, 200);
    assert_eq!(second.body["ProgressEvent"]["OperationStatus"], "FAILED");
    assert_eq!(second.body["ProgressEvent"]["ErrorCode"], "AlreadyExists");
    assert!(second.body["ProgressEvent"]["StatusMessage"].is_string());
    // The same client token for another request is an API error.
    let other = json!({"BucketName": "other"}).to_string();
    let r = c.call(
        "CreateResource",
        json!({"TypeName": "AWS::S3::Bucket", "DesiredState": other, "ClientToken": "a"}),
    );
    assert_eq!(
        (r.status, r.body["__type"].as_str()),
        (400, Some("ClientTokenConflictException"))
    );
}

#[test]
fn api_errors_use_aws_exception_names() {
    let server = Server::start();
    let mut c = server.connect();
    let cases = [
        (
            "CreateResource",
            json!({"TypeName": "AWS::S3::Buckt", "DesiredState": "{}"}),
            "TypeNotFoundException",
        ),
        (
            "CreateResource",
            json!({"TypeName": "AWS::S3::Bucket"}),
            "ValidationException",
        ),
        (
            "CreateResource",
            json!({"TypeName": "AWS::S3::Bucket", "DesiredState": "{not json"}),
            "ValidationException",
        ),
        (
            "CreateResource",
            json!({"DesiredState": "{}"}),
            "ValidationException",
        ),
        (
            "GetResource",
            json!({"TypeName": "s3 bucket", "Identifier": "x"}),
            "ValidationException",
        ),
        (
            "GetResourceRequestStatus",
            json!({"RequestToken": "nope"}),
            "RequestTokenNotFoundException",
        ),
        (
            "UpdateResource",
            json!({"TypeName": "AWS::S3::Bucket", "Identifier": "x", "PatchDocument": "{}"}),
            "InvalidRequestException",
        ),
        (
            "ListResources",
            json!({"TypeName": "AWS::S3::Bucket", "NextToken": "bogus"}),
            "InvalidRequestException",
        ),
        (
            "CancelResourceRequest",
            json!({"RequestToken": "x"}),
            "UnknownOperationException",
        ),
    ];
    for (op, body, kind) in cases {
        let r = c.call(op, body.clone());
        assert_eq!(r.status, 400, "{op} {body}: {:?}", r.body);
        assert_eq!(r.body["__type"], kind, "{op} {body}: {:?}", r.body);
        assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let r = c.call(
        "CreateResource",
        json!({"TypeName": "AWS::S3::Buckt", "DesiredState": "{}"}),
    );
    assert!(
        r.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("AWS::S3::Bucket")),
        "{:?}",
        r.body
    );
    // A body that is not JSON at all.
    c.send_raw(b"POST / HTTP/1.1\r\nX-Amz-Target: CloudApiService.GetResource\r\nContent-Length: 5\r\n\r\n{nope");
    let r = c.read_response();
    assert_eq!(
        (r.status, r.body["__type"].as_str()),
        (400, Some("SerializationException"))
    );
}

#[test]
fn throttling_and_pending_requests_show_on_the_wire() {
    let server = Server::start();
    let mut c = server.connect();
    server
        .cloud
        .set_faults(&Faults {
            throttle_next: 1,
            pending_polls: 1,
            ..Faults::default()
        })
        .expect("faults");
    let body = json!({"TypeName": "AWS::SNS::Topic", "DesiredState": json!({"TopicName": "t"}).to_string(), "ClientToken": "p-1"});
    let r = c.call("CreateResource", body.clone());
    assert_eq!(
        (r.status, r.body["__type"].as_str()),
        (400, Some("ThrottlingException"))
    );
    let r = c.call("CreateResource", body);
    let ev = &r.body["ProgressEvent"];
    assert_eq!(ev["OperationStatus"], "IN_PROGRESS");
    let retry_after = ev["RetryAfter"].as_f64().expect("RetryAfter");
    let event_time = ev["EventTime"].as_f64().expect("EventTime");
    assert_eq!(retry_after - event_time, 1.0);
    let token = ev["RequestToken"].as_str().expect("token").to_string();
    let r = c.call("GetResourceRequestStatus", json!({"RequestToken": token}));
    assert_eq!(r.body["ProgressEvent"]["OperationStatus"], "SUCCESS");
    assert!(r.body["ProgressEvent"].get("RetryAfter").is_none());
}

#[test]
fn pipelined_requests_and_expect_continue_are_answered_in_order() {
    let server = Server::start();
    let mut c = server.connect();
    let mut both = raw_request("GetResourceRequestStatus", &json!({"RequestToken": "one"}));
    both.extend(raw_request(
        "ListResources",
        &json!({"TypeName": "AWS::S3::Bucket"}),
    ));
    c.send_raw(&both);
    assert_eq!(
        c.read_response().body["__type"],
        "RequestTokenNotFoundException"
    );
    assert_eq!(c.read_response().body["ResourceDescriptions"], json!([]));

    // Head first, body only after the interim 100 Continue.
    let body = json!({"TypeName": "AWS::S3::Bucket"}).to_string();
    c.send_raw(
        format!(
            "POST / HTTP/1.1\r\nX-Amz-Target: CloudApiService.ListResources\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let mut interim = String::new();
    c.reader.read_line(&mut interim).expect("interim");
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    let mut blank = String::new();
    c.reader.read_line(&mut blank).expect("blank");
    c.send_raw(body.as_bytes());
    assert_eq!(c.read_response().status, 200);
}

#[test]
fn sts_get_caller_identity_names_the_local_account() {
    let server = Server::start();
    let mut c = server.connect();
    let form = "Action=GetCallerIdentity&Version=2011-06-15";
    c.send_raw(
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        )
        .as_bytes(),
    );
    let r = c.read_response();
    assert_eq!(r.status, 200);
    let xml = r.body.as_str().expect("an XML body");
    let account = server.cloud.account_id().to_string();
    assert!(
        xml.contains(&format!("<Account>{account}</Account>")),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "<Arn>arn:aws:iam::{account}:user/infraguard-local</Arn>"
        )),
        "{xml}"
    );
    // The connection stays usable for Cloud Control calls.
    let r = c.call("ListResources", json!({"TypeName": "AWS::S3::Bucket"}));
    assert_eq!(r.status, 200);
}

#[test]
fn non_post_chunked_and_close_requests() {
    let server = Server::start();
    let mut c = server.connect();
    c.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("Allow"), Some("POST"));

    let mut c = server.connect();
    c.send_raw(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    let r = c.read_response();
    assert_eq!(r.status, 411);
    assert_eq!(r.header("Connection"), Some("close"));

    let mut c = server.connect();
    c.send_raw(b"POST / HTTP/1.1\r\nX-Amz-Target: CloudApiService.ListResources\r\nConnection: close\r\nContent-Length: 30\r\n\r\n{\"TypeName\":\"AWS::S3::Bucket\"}");
    let r = c.read_response();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.header("Connection"), Some("close"));
    let mut rest = Vec::new();
    c.reader.read_to_end(&mut rest).expect("server closes");
    assert!(rest.is_empty());
}

#[test]
fn serve_returns_when_stopped_even_with_idle_connections() {
    let mut server = Server::start();
    let _idle = server.connect();
    let started = std::time::Instant::now();
    server.shutdown().expect("serve ended cleanly");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn protected_deletes_are_failed_events_with_the_services_words() {
    let server = Server::start();
    let mut c = server.connect();
    let desired =
        json!({"TableName": "ledger", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                         "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                         "BillingMode": "PAY_PER_REQUEST", "DeletionProtectionEnabled": true})
        .to_string();
    let r = c.call(
        "CreateResource",
        json!({"TypeName": "AWS::DynamoDB::Table", "DesiredState": desired, "ClientToken": "dp-1"}),
    );
    assert_eq!(
        r.body["ProgressEvent"]["OperationStatus"], "SUCCESS",
        "{:?}",
        r.body
    );
    let r = c.call(
        "DeleteResource",
        json!({"TypeName": "AWS::DynamoDB::Table", "Identifier": "ledger", "ClientToken": "dp-2"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let ev = &r.body["ProgressEvent"];
    assert_eq!(ev["OperationStatus"], "FAILED", "{ev}");
    assert_eq!(ev["ErrorCode"], "InvalidRequest", "{ev}");
    assert!(
        ev["StatusMessage"].as_str().is_some_and(|m| m.starts_with(
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."
        )),
        "{ev}"
    );
    let r = c.call(
        "GetResource",
        json!({"TypeName": "AWS::DynamoDB::Table", "Identifier": "ledger"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
}
