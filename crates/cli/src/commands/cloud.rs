//! `infraguard cloud serve`: one environment's local cloud on the Cloud
//! Control wire protocol (awsJson 1.0, `X-Amz-Target:
//! CloudApiService.*`), so that boto3, the AWS CLI, aws-sdk-rust — and
//! infraguard's own AWS backend — can talk to it with `--endpoint-url`.
//!
//! Loopback only: the endpoint checks no signatures, so it must not be
//! reachable from another machine. It stops on Ctrl-C or when its standard
//! input closes (so a test or a supervising process can stop it by closing
//! the pipe). The protocol itself is `infraguard_cloud_local::wire`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use infraguard_core::SystemClock;
use infraguard_core::cloud::Cloud;
use infraguard_core::env::Backend;
use infraguard_engine::config::{CONFIG_FILE, STATE_DIR};
use infraguard_engine::served::ReadOnlyCloud;

use crate::exit::{self, BadInput};
use crate::project;

#[derive(clap::Subcommand, Debug)]
pub enum CloudCommand {
    /// Serve an environment's local cloud on the Cloud Control wire protocol at http://ADDR (loopback only).
    Serve(CloudServeArgs),
}

#[derive(clap::Args, Debug)]
pub struct CloudServeArgs {
    /// The environment whose local cloud to serve (its backend must be `local`).
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Loopback address to listen on; port 0 picks a free port (the URL is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4566")]
    pub addr: String,
}

pub fn run(dir: Option<&Path>, command: &CloudCommand) -> Result<i32> {
    match command {
        CloudCommand::Serve(args) => serve(dir, args),
    }
}

fn serve(dir: Option<&Path>, args: &CloudServeArgs) -> Result<i32> {
    // Check the address before opening anything, so a wrong flag fails fast.
    let addr = loopback(&args.addr)?;
    let root = project::find_root(&project::start_dir(dir)?)?;
    let config = project::load_config(&root)?;
    let env = config.environment(&args.env).map_err(|_| {
        let known: Vec<&str> = config
            .environments
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        BadInput(format!(
            "--env {}: this project has no such environment; it has {}",
            args.env,
            known.join(", ")
        ))
    })?;
    if env.backend != Backend::Local {
        return Err(BadInput(format!(
            "--env {}: its backend is `{}`; only a local cloud can be served (set `backend = \"local\"` under [environments.{}] in {CONFIG_FILE})",
            env.name,
            env.backend.as_str(),
            env.name
        ))
        .into());
    }
    // An adopted project's clouds live in the guard, and a read-only
    // environment is written only through the gate: both are served through
    // the engine API, reads only; a write is refused (AccessDenied) and
    // audited by the engine.
    let guarded = matches!(project::host_at(&root)?, project::Host::Guard { .. });
    let read_only = guarded || env.read_only;
    let cloud: Arc<dyn Cloud> = if read_only {
        let p = project::open(Some(&root))?;
        Arc::new(ReadOnlyCloud::new(p.api, p.caller, &env.name))
    } else {
        // The same file `project::open_engine` opens for this environment, so
        // the served cloud is the one the engine plans and applies against.
        Arc::new(project::open_local_cloud(
            &root.join(STATE_DIR),
            env,
            Arc::new(SystemClock),
        )?)
    };
    let listener = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let url = format!("http://{bound}");
    {
        let mut stdout = crate::output::stdout();
        writeln!(
            stdout,
            "serving the local cloud of `{}` ({}) on the Cloud Control wire protocol at {url}{}",
            env.name,
            env.region,
            if guarded {
                " — read-only: the project is guarded (writes are refused with AccessDenied and audited)"
            } else if read_only {
                " — read-only: the environment is (writes are refused with AccessDenied and audited; plan them instead)"
            } else {
                ""
            }
        )?;
        writeln!(
            stdout,
            "try: aws cloudcontrol list-resources --type-name AWS::S3::Bucket --endpoint-url {url} --region {}",
            env.region
        )?;
        stdout.flush()?;
    }
    eprintln!("stop with Ctrl-C or by closing standard input");

    let stop = Arc::new(AtomicBool::new(false));
    let on_eof = stop.clone();
    // Detached: it blocks in read() and ends with the process.
    std::thread::spawn(move || {
        let mut sink = [0u8; 256];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        on_eof.store(true, Ordering::SeqCst);
    });
    infraguard_cloud_local::wire::serve(cloud, listener, stop)
        .with_context(|| format!("the wire endpoint at {url} failed"))?;
    Ok(exit::OK)
}

/// The one address to bind, refusing anything that is not loopback.
fn loopback(addr: &str) -> Result<SocketAddr> {
    let bad = |why: String| {
        BadInput(format!(
            "--addr {addr}: {why}; use a loopback address such as 127.0.0.1:4566"
        ))
    };
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| bad(format!("not a host:port ({e})")))?
        .collect();
    match addrs.iter().find(|a| a.ip().is_loopback()) {
        Some(a) if addrs.iter().all(|a| a.ip().is_loopback()) => Ok(*a),
        _ => Err(
            bad("the endpoint checks no signatures, so it only listens on loopback".into()).into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_accepted() {
        assert_eq!(loopback("127.0.0.1:0").unwrap().port(), 0);
        assert!(loopback("[::1]:4566").unwrap().ip().is_loopback());
        for bad in [
            "0.0.0.0:4566",
            "192.168.1.10:80",
            "[::]:4566",
            "nonsense",
            "127.0.0.1",
        ] {
            let err = loopback(bad).unwrap_err();
            assert!(err.downcast_ref::<BadInput>().is_some(), "{bad}: {err}");
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}
