//! Serve a local cloud's Cloud Control endpoint on loopback, for trying
//! SDK clients against it by hand:
//!
//! ```text
//! cargo run -p infraguard-cloud-local --example serve -- [PORT] [DB-FILE] [REGION]
//! aws cloudcontrol list-resources --type-name AWS::S3::Bucket \
//!     --endpoint-url http://127.0.0.1:PORT --region us-east-1
//! ```
//!
//! PORT defaults to 0 (any free port; the chosen one is printed), DB-FILE to
//! an in-memory database, REGION to us-east-1. It stops when its standard
//! input closes, so a script can end it by closing the pipe.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use infraguard_cloud_local::{LocalAccount, LocalCloud, wire};
use infraguard_core::SystemClock;

fn main() {
    if let Err(e) = run() {
        eprintln!("serve: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = match args.first() {
        Some(p) => p
            .parse()
            .map_err(|_| format!("PORT `{p}` is not a port number"))?,
        None => 0,
    };
    let region = args.get(2).cloned().unwrap_or_else(|| "us-east-1".into());
    let account = LocalAccount {
        env: "dev".into(),
        region,
    };
    let cloud = match args.get(1).filter(|p| p.as_str() != ":memory:") {
        Some(path) => LocalCloud::open(Path::new(path), account, Arc::new(SystemClock))?,
        None => LocalCloud::in_memory(account, Arc::new(SystemClock))?,
    };
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    println!(
        "listening on http://{} (account {})",
        listener.local_addr()?,
        cloud.account_id()
    );
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            stop.store(true, Ordering::SeqCst);
        });
    }
    wire::serve(Arc::new(cloud), listener, stop)?;
    Ok(())
}
