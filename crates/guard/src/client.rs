//! The client side of the guard's socket: [`SocketTransport`] carries engine
//! calls ([`infraguard_engine::Remote`] over it is the engine API), and
//! [`call`] carries the guard's own requests (adopt, enroll, policy).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use infraguard_core::cloud::ProgressEvent;
use infraguard_engine::{Caller, EngineError, ErrorKind, Remote, Request, Transport};
use serde_json::Value;

use crate::wire::{GuardReply, GuardRequest, MAX_LINE};

/// How long to wait for the next line of an answer (an apply sends progress
/// lines while it waits on the cloud).
const READ_TIMEOUT: Duration = Duration::from_secs(15 * 60);

fn failure(message: String) -> EngineError {
    EngineError::Remote {
        kind: ErrorKind::Failure,
        message,
    }
}

/// Send one request to the guard at `socket` and read its answer.
pub fn call(
    socket: &Path,
    request: &GuardRequest,
    progress: &mut dyn FnMut(&ProgressEvent),
) -> Result<Value, EngineError> {
    let stream = UnixStream::connect(socket).map_err(|e| {
        failure(format!(
            "cannot reach the guard at {} ({e}): is it running (`systemctl status infraguard`), and is your account in the `infraguard` group? `infraguard doctor` checks",
            socket.display()
        ))
    })?;
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .map_err(|e| failure(format!("guard socket: {e}")))?;
    let mut line = serde_json::to_vec(request)
        .map_err(|e| failure(format!("cannot encode the request: {e}")))?;
    line.push(b'\n');
    (&stream).write_all(&line).map_err(|e| {
        failure(format!(
            "cannot write to the guard at {}: {e}",
            socket.display()
        ))
    })?;
    let mut reader = BufReader::new(&stream);
    loop {
        let mut buf = Vec::new();
        let n = Read::by_ref(&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| failure(format!("reading the guard's answer: {e}")))?;
        if n == 0 {
            return Err(failure(format!(
                "the guard at {} closed the connection without an answer to {}",
                socket.display(),
                request.label()
            )));
        }
        let reply: GuardReply = serde_json::from_slice(&buf).map_err(|e| {
            failure(format!(
                "the guard's answer could not be read ({e}); are the guard and this binary the same version?"
            ))
        })?;
        match reply {
            GuardReply::Progress(ev) => progress(&ev),
            GuardReply::Ok(v) => return Ok(v),
            GuardReply::Error(e) => {
                return Err(EngineError::Remote {
                    kind: e.kind,
                    message: e.message,
                });
            }
        }
    }
}

/// Engine calls for one adopted project, over the guard's socket.
pub struct SocketTransport {
    pub socket: PathBuf,
    pub project: String,
    /// The workspace's `infraguard.toml`: it can only tighten the guard's policy.
    pub config: Option<String>,
    pub vars: BTreeMap<String, String>,
}

impl Transport for SocketTransport {
    fn call(
        &self,
        caller: &Caller,
        request: Request,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<Value, EngineError> {
        call(
            &self.socket,
            &GuardRequest::Engine {
                project: self.project.clone(),
                caller: caller.clone(),
                config: self.config.clone(),
                vars: self.vars.clone(),
                request,
            },
            progress,
        )
    }
}

/// The engine API of the project `project` hosted by the guard at `socket`.
pub fn connect(
    socket: &Path,
    project: &str,
    config: Option<String>,
    vars: BTreeMap<String, String>,
) -> Remote<SocketTransport> {
    Remote::new(SocketTransport {
        socket: socket.to_path_buf(),
        project: project.to_string(),
        config,
        vars,
    })
}
