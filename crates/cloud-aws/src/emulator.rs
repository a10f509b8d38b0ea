//! Emulator processes for tests: a free loopback port, a program the test
//! needs (or a failure when `INFRAGUARD_REQUIRE_TOOLS=1` and it is missing),
//! and a process started on loopback and killed on drop. Only tests and
//! benches enable it (feature `emulators`); it is here so that every crate's
//! tests start moto the same way.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// An emulator process, killed (and reaped) on drop.
pub struct Process {
    pub child: Child,
    pub url: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `INFRAGUARD_REQUIRE_TOOLS=1` (exported by `scripts/test.sh`): a test
/// whose outside tool is missing fails instead of skipping.
pub const REQUIRE_TOOLS: &str = "INFRAGUARD_REQUIRE_TOOLS";

/// The program a test needs, or `None` after a printed note when the
/// developer runs `cargo test` by hand without it. Panics, saying how to
/// install it, when [`REQUIRE_TOOLS`] is `1`: CI must not pass a test that
/// did not run.
pub fn required_program(test: &str, var: &str, name: &str, install: &str) -> Option<PathBuf> {
    if let Some(p) = find_program(var, name) {
        return Some(p);
    }
    let why = match std::env::var_os(var) {
        Some(v) => format!("{var}={} is not a file", PathBuf::from(v).display()),
        None => format!("{name} is not on PATH and {var} is unset"),
    };
    if std::env::var(REQUIRE_TOOLS).is_ok_and(|v| v == "1") {
        panic!("{test}: {why}, and {REQUIRE_TOOLS}=1 requires it; install it with: {install}");
    }
    eprintln!(
        "note: {test} did not run: {why} (install: {install}; {REQUIRE_TOOLS}=1 makes this a failure)"
    );
    None
}

/// A program from an explicit variable, else from PATH.
pub fn find_program(var: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var).map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Start `program args…` and wait until `GET health_path` answers 200.
pub fn start_process(
    program: &PathBuf,
    args: &[String],
    port: u16,
    health_path: &str,
) -> Result<Process, String> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let process = Process {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if http_status(port, health_path) == Some(200) {
            return Ok(process);
        }
        thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "{} did not answer GET {health_path} on port {port} within 60 s",
        program.display()
    ))
}

pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}
