//! Running the real `infraguard` binary in a project folder: exit codes,
//! stdout, JSON, and a person at a terminal.
//!
//! - [`Project`], made by [`Project::new`] … [`ProjectBuilder::build`]: a
//!   folder (by default one `infraguard init` made), the environment every
//!   run in it gets, and the runs themselves (`run`, `ok`, `json`, …).
//! - [`plan_args`], [`resource_args`]: the argument lists most tests repeat.
//! - [`local_engine`]: the engine over the embedded local cloud, in-process,
//!   for a stand-in guard and the bench.
//! - [`filters`] and [`snapshot!`]: insta snapshots of what a user reads,
//!   with everything that differs between runs or machines redacted (the
//!   list is [`redact`], shared with the MCP server's tests).
//!
//! Also compiled into the bench (`benches/workflow.rs`), hence the
//! `dead_code` allowance.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::clock::{Clock, SystemClock};
use infraguard_core::env_vars;
use infraguard_engine::{Engine, ProjectConfig, SqliteStore};
use serde_json::Value;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_infraguard")
}

/// Who runs every command: a fixed name, so that `CreatedBy` tags and audit
/// actors are the same on every machine.
pub const USER: &str = "tester";

/// A folder the binary runs in, and the environment it runs with.
pub struct Project {
    root: PathBuf,
    env: Vec<(String, String)>,
    // Removed when the project is dropped; `None` for a folder the test owns.
    _temp: Option<tempfile::TempDir>,
}

/// How [`Project::new`] makes the folder.
pub struct ProjectBuilder {
    init: Option<(String, String)>,
    config: Vec<String>,
    env: Vec<(String, String)>,
    keep_state: bool,
}

impl Project {
    /// A project `infraguard init --project SynthCore --prefix synthcoreai`
    /// makes in a new temporary folder, unless told otherwise.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> ProjectBuilder {
        ProjectBuilder {
            init: Some(("SynthCore".into(), "synthcoreai".into())),
            config: Vec::new(),
            env: Vec::new(),
            keep_state: true,
        }
    }

    /// A new empty temporary folder (no project).
    pub fn empty() -> Project {
        Project::new().uninitialised().build()
    }

    /// An existing folder the test owns (a subfolder, quickstart's target).
    pub fn at(dir: &Path) -> Project {
        Project {
            root: dir.to_path_buf(),
            env: Vec::new(),
            _temp: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `infraguard -C DIR` in DIR, without the environment variables that
    /// would override the project's configuration, as [`USER`].
    pub fn command(&self) -> Command {
        let mut c = Command::new(bin());
        c.current_dir(&self.root)
            .arg("-C")
            .arg(&self.root)
            .env_remove(env_vars::AWS_PROFILE)
            .env_remove(env_vars::AWS_REGION)
            .env_remove(env_vars::SECURITY_SCANNING)
            .env_remove(env_vars::INFRAGUARD_READONLY)
            .env_remove(env_vars::INFRAGUARD_GUARD_SOCKET)
            .env_remove(env_vars::USERNAME)
            .env(env_vars::USER, USER)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Run with no standard input (as an agent's shell: no terminal).
    pub fn run<S: AsRef<str>>(&self, args: &[S]) -> Output {
        self.command()
            .args(args.iter().map(AsRef::as_ref))
            .stdin(Stdio::null())
            .output()
            .expect("run infraguard")
    }

    /// Run with `input` on standard input (a pipe, not a terminal).
    pub fn run_with_input<S: AsRef<str>>(&self, args: &[S], input: Option<&str>) -> Output {
        let mut child = self.spawn(args, Stdio::piped());
        let mut stdin = child.stdin.take().expect("stdin");
        if let Some(s) = input {
            stdin.write_all(s.as_bytes()).expect("write stdin");
        }
        drop(stdin);
        child.wait_with_output().expect("wait for infraguard")
    }

    /// Started with `stdin`, its output piped.
    fn spawn<S: AsRef<str>>(&self, args: &[S], stdin: Stdio) -> Child {
        self.command()
            .args(args.iter().map(AsRef::as_ref))
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run infraguard")
    }

    /// [`Project::run`], failing the test, and killing the process, if it
    /// has not ended within 20 s: for tests that guard against a hang.
    pub fn run_quickly<S: AsRef<str>>(&self, args: &[S]) -> Output {
        let mut child = self.spawn(args, Stdio::null());
        let start = Instant::now();
        while child.try_wait().expect("wait").is_none() {
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                let shown: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
                panic!("infraguard {shown:?} did not end within 20 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("output")
    }

    /// Run, check the exit code, return stdout.
    pub fn expect<S: AsRef<str>>(&self, args: &[S], expected: i32) -> String {
        let out = self.run(args);
        let shown: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        assert_eq!(code(&out), expected, "infraguard {shown:?}\n{}", text(&out));
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Run with `--output json`, check the exit code, parse stdout.
    pub fn expect_json<S: AsRef<str>>(&self, args: &[S], expected: i32) -> Value {
        let mut all: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        all.extend(["--output", "json"]);
        let s = self.expect(&all, expected);
        serde_json::from_str(&s).unwrap_or_else(|e| panic!("{all:?} printed no JSON ({e}): {s}"))
    }

    pub fn ok<S: AsRef<str>>(&self, args: &[S]) -> String {
        self.expect(args, 0)
    }

    pub fn json<S: AsRef<str>>(&self, args: &[S]) -> Value {
        self.expect_json(args, 0)
    }

    /// `infraguard.toml` as it is now.
    pub fn config(&self) -> String {
        std::fs::read_to_string(self.root.join("infraguard.toml")).expect("infraguard.toml")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.root.join("infraguard.toml"), text).expect("write infraguard.toml");
    }

    /// Append `section` to `infraguard.toml`.
    pub fn add_config(&self, section: &str) {
        self.write_config(&(self.config() + section));
    }

    /// `approve` under a pseudo-terminal (script(1)), someone typing
    /// `answer`: a person, or an agent with a pty. The engine cannot tell
    /// which.
    pub fn approve_at_terminal(&self, approval: &str, answer: &str) -> Output {
        let cmd = format!("{} -C {} approve {approval}", bin(), self.root.display());
        let mut child = Command::new("script")
            .env_remove(env_vars::INFRAGUARD_GUARD_SOCKET)
            .env(env_vars::USER, USER)
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

    /// Someone types `yes` at a terminal in an advisory project; the
    /// approval must succeed (as unverified).
    pub fn approve_yes(&self, approval: &str) {
        let out = self.approve_at_terminal(approval, "yes");
        assert_eq!(code(&out), 0, "approve {approval}: {}", text(&out));
    }

    /// A dev bucket named by the convention, planned and applied (the gate
    /// lets a cheap, clean dev create through). Returns its name.
    pub fn dev_bucket(&self, purpose: &str) -> String {
        let plan = self.json(&plan_args("dev", "AWS::S3::Bucket", purpose, &[]));
        self.ok(&["apply", plan["id"].as_str().unwrap()]);
        format!("synthcoreai-{purpose}-dev")
    }

    /// A prod create waiting for a human: planned, refused by `apply`
    /// (exit 3). Returns the pending approval's id.
    pub fn pending_prod_approval(&self) -> String {
        let plan = self.json(&plan_args(
            "prod",
            "AWS::S3::Bucket",
            "documents",
            &["--properties", "{}"],
        ));
        self.expect(&["apply", plan["id"].as_str().unwrap()], 3);
        let approvals = self.json(&["approvals"]);
        assert_eq!(approvals[0]["status"], "pending", "{approvals}");
        approvals[0]["id"].as_str().unwrap().to_string()
    }
}

impl ProjectBuilder {
    /// `init --project NAME --prefix PREFIX` instead of SynthCore's.
    pub fn named(mut self, name: &str, prefix: &str) -> Self {
        self.init = Some((name.into(), prefix.into()));
        self
    }

    /// No `init`: an empty folder.
    pub fn uninitialised(mut self) -> Self {
        self.init = None;
        self
    }

    /// A section appended to the `infraguard.toml` init wrote.
    pub fn config(mut self, section: &str) -> Self {
        self.config.push(section.into());
        self
    }

    /// An environment variable for every run in the project.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Remove `.infraguard/` after init (an adopted project has none).
    pub fn without_state(mut self) -> Self {
        self.keep_state = false;
        self
    }

    pub fn build(self) -> Project {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut project = Project::at(temp.path());
        project._temp = Some(temp);
        if let Some((name, prefix)) = &self.init {
            project.ok(&["init", "--project", name, "--prefix", prefix]);
            if !self.config.is_empty() {
                project.add_config(&self.config.concat());
            }
            if !self.keep_state {
                std::fs::remove_dir_all(project.root.join(".infraguard"))
                    .expect("init made .infraguard/");
            }
        }
        project.env = self.env;
        project
    }
}

/// Arguments as the owned strings the builders below make.
pub fn words(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// `plan --env ENV --type TYPE --purpose PURPOSE`, then `more`.
pub fn plan_args(env: &str, type_name: &str, purpose: &str, more: &[&str]) -> Vec<String> {
    let mut args = vec![
        "plan",
        "--env",
        env,
        "--type",
        type_name,
        "--purpose",
        purpose,
    ];
    args.extend(more);
    args.into_iter().map(String::from).collect()
}

/// `WORDS --env ENV --type TYPE --id ID`, then `more`: one resource
/// (`resources get`, `import`, `plan --operation update`, …).
pub fn resource_args(
    subcommand: &[&str],
    env: &str,
    type_name: &str,
    id: &str,
    more: &[&str],
) -> Vec<String> {
    let flags = ["--env", env, "--type", type_name, "--id", id];
    words(&[subcommand, &flags[..], more].concat())
}

/// `infraguard quickstart --dir TARGET`, outside any project.
pub fn quickstart(target: &Path) -> Output {
    Command::new(bin())
        .args(["quickstart", "--dir", target.to_str().expect("utf-8 path")])
        .env(env_vars::USER, USER)
        .output()
        .expect("run infraguard quickstart")
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Both streams, for assertion messages.
pub fn text(out: &Output) -> String {
    format!("stdout: {}\nstderr: {}", stdout(out), stderr(out))
}

/// The engine over the embedded local cloud of each environment of
/// `config`, its clouds and state in `state` (as a project's
/// `.infraguard/`), signing with the store's key.
pub fn local_engine(config: ProjectConfig, state: &Path) -> Engine<LocalCloud, SqliteStore> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let clouds: BTreeMap<String, LocalCloud> = config
        .environments
        .iter()
        .map(|e| {
            let account = LocalAccount {
                env: e.name.clone(),
                region: e.region.clone(),
            };
            let db = state.join(format!("cloud-{}.db", e.name));
            let cloud = LocalCloud::open(&db, account, clock.clone()).expect("local cloud");
            (e.name.clone(), cloud)
        })
        .collect();
    let store = SqliteStore::open(&state.join("state.db")).expect("state store");
    let key = store.secret().expect("signing key");
    Engine::new(config, clouds, store, clock)
        .expect("engine")
        .with_signing_key(key)
}

/// The redactions, one list with the MCP server's tests.
#[path = "../../../mcp/tests/harness/redact.rs"]
pub mod redact;

/// [`redact::filters`] of `dirs` and this binary's version.
pub fn filters(dirs: &[&Path]) -> Vec<(String, String)> {
    redact::filters(dirs, env!("CARGO_PKG_VERSION"))
}
