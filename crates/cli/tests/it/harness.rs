//! Running the real `infraguard` binary in a project folder: exit codes,
//! stdout, JSON, and a person at a terminal.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_infraguard")
}

/// `infraguard -C DIR`, without the environment variables that would
/// override the project's configuration.
pub fn command(dir: &Path) -> Command {
    let mut c = Command::new(bin());
    c.args(["-C", dir.to_str().expect("utf-8 path")])
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("SECURITY_SCANNING")
        .env_remove("INFRAGUARD_READONLY")
        .env_remove("INFRAGUARD_GUARD_SOCKET");
    c
}

/// Run with no standard input (as an agent's shell: no terminal).
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    command(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run infraguard")
}

/// Run with `input` on standard input (a pipe, not a terminal).
pub fn run_with_input(dir: &Path, args: &[&str], input: Option<&str>) -> Output {
    let mut child = command(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run infraguard");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(s) = input {
        stdin.write_all(s.as_bytes()).expect("write stdin");
    }
    drop(stdin);
    child.wait_with_output().expect("wait for infraguard")
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Both streams, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run, check the exit code, return stdout.
pub fn expect(dir: &Path, args: &[&str], expected: i32) -> String {
    let out = run_in(dir, args);
    assert_eq!(code(&out), expected, "infraguard {args:?}\n{}", text(&out));
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Run with `--output json`, check the exit code, parse stdout.
pub fn expect_json(dir: &Path, args: &[&str], expected: i32) -> Value {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let s = expect(dir, &all, expected);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {s}"))
}

pub fn ok(dir: &Path, args: &[&str]) -> String {
    expect(dir, args, 0)
}

pub fn json(dir: &Path, args: &[&str]) -> Value {
    expect_json(dir, args, 0)
}

/// A new project (`infraguard init`) in a temporary folder.
pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    ok(
        dir.path(),
        &["init", "--project", "SynthCore", "--prefix", "synthcoreai"],
    );
    dir
}

/// `approve` under a pseudo-terminal (script(1)), someone typing `answer`:
/// a person, or an agent with a pty. The engine cannot tell which.
pub fn approve_at_terminal(dir: &Path, approval: &str, answer: &str) -> Output {
    let cmd = format!("{} -C {} approve {approval}", bin(), dir.display());
    let mut child = Command::new("script")
        .env_remove("INFRAGUARD_GUARD_SOCKET")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{answer}\n").as_bytes())
        .expect("type the answer");
    child.wait_with_output().expect("wait for script")
}

/// Someone types `yes` at a terminal in an advisory project; the approval
/// must succeed (as unverified).
pub fn approve_yes(dir: &Path, approval: &str) {
    let out = approve_at_terminal(dir, approval, "yes");
    assert_eq!(code(&out), 0, "approve {approval}: {}", text(&out));
}

/// A dev bucket named by the convention, planned and applied (the gate lets
/// a cheap, clean dev create through). Returns its name.
pub fn dev_bucket(d: &Path, purpose: &str) -> String {
    let plan = expect_json(
        d,
        &[
            "plan",
            "--env",
            "dev",
            "--type",
            "AWS::S3::Bucket",
            "--purpose",
            purpose,
        ],
        0,
    );
    expect(d, &["apply", plan["id"].as_str().unwrap()], 0);
    format!("synthcoreai-{purpose}-dev")
}
