//! Latency of the Cloud Control wire endpoint over one keep-alive loopback
//! connection (`cargo bench -p infraguard-cloud-local --bench wire`).
//!
//! Plain `std::time`, no harness: 1,000 `CreateResource` calls, then 5,000
//! `GetResource` calls, each a full HTTP round trip with JSON bodies.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use infraguard_cloud_local::{LocalAccount, LocalCloud, wire};
use infraguard_core::SystemClock;
use serde_json::{Value, json};

const CREATES: usize = 1_000;
const GETS: usize = 5_000;

type BoxError = Box<dyn std::error::Error>;

fn main() {
    if let Err(e) = run() {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

fn call(
    stream: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    op: &str,
    body: &Value,
) -> Result<Value, BoxError> {
    let body = body.to_string();
    write!(
        stream,
        "POST / HTTP/1.1\r\nX-Amz-Target: CloudApiService.{op}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(format!("{op}: {line}").into());
    }
    let mut len = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let h = line.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':')
            && n.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse()?;
        }
    }
    let mut buf = vec![0; len];
    reader.read_exact(&mut buf)?;
    Ok(serde_json::from_slice(&buf)?)
}

fn run() -> Result<(), BoxError> {
    let dir = tempfile::tempdir()?;
    let account = LocalAccount {
        env: "bench".into(),
        region: "us-east-1".into(),
    };
    let cloud = Arc::new(LocalCloud::open(
        &dir.path().join("wire.db"),
        account,
        Arc::new(SystemClock),
    )?);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let (cloud, stop) = (Arc::clone(&cloud), Arc::clone(&stop));
        std::thread::spawn(move || wire::serve(cloud, listener, stop))
    };

    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);

    let start = Instant::now();
    for i in 0..CREATES {
        let desired = json!({"BucketName": format!("wire-{i:04}")}).to_string();
        let out = call(
            &mut stream,
            &mut reader,
            "CreateResource",
            &json!({"TypeName": "AWS::S3::Bucket", "DesiredState": desired, "ClientToken": format!("w-{i}")}),
        )?;
        if out["ProgressEvent"]["OperationStatus"] != "SUCCESS" {
            return Err(format!("create {i}: {out}").into());
        }
    }
    let t = start.elapsed();
    println!(
        "CreateResource: {CREATES} calls in {t:.2?}, {:.1} µs per call",
        t.as_secs_f64() * 1e6 / CREATES as f64
    );

    let start = Instant::now();
    for i in 0..GETS {
        let id = format!("wire-{:04}", i % CREATES);
        call(
            &mut stream,
            &mut reader,
            "GetResource",
            &json!({"TypeName": "AWS::S3::Bucket", "Identifier": id}),
        )?;
    }
    let t = start.elapsed();
    println!(
        "GetResource: {GETS} calls in {t:.2?}, {:.1} µs per call",
        t.as_secs_f64() * 1e6 / GETS as f64
    );

    drop(reader);
    drop(stream);
    stop.store(true, Ordering::SeqCst);
    server.join().map_err(|_| "server thread panicked")??;
    Ok(())
}
