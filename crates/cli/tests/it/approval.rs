//! `approve` hands the engine a proof and the engine decides:
//!
//! - advisory (the engine in the CLI's process): a `yes` typed at a terminal
//!   approves, recorded as `unverified:` and never `human:`, even through a
//!   pseudo-terminal; without a terminal nothing is approved;
//! - adopted (the engine behind the guard's socket): the approver's code is
//!   the proof, read from standard input when it is not a terminal; a wrong
//!   code is refused with exit 3.
//!
//! Also: the state folder is the owner's only, and an adopted project opens
//! no local state.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use infraguard_core::env_vars;
use infraguard_engine::{
    Actor, ApplyOutcome, Caller, FactorError, Factors, PlanRequest, ProjectConfig, RawConfig,
};
use infraguard_guard::wire::{GuardReply, GuardRequest, WireError};
use serde_json::{Value, json};

use super::harness::*;

fn actors(d: &Project) -> Vec<(String, String)> {
    d.json(&["audit"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_yes_typed_at_a_pty_approves_as_unverified_never_as_human() {
    let d = &Project::new().build();
    let approval = d.pending_prod_approval();

    let out = d.approve_at_terminal(&approval, "yes");
    assert_eq!(code(&out), 0, "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("unverified: anyone at this keyboard could have typed yes"),
        "{stdout}"
    );
    assert!(stdout.contains("infraguard doctor"), "{stdout}");

    let all = d.json(&["approvals", "--all"]);
    assert_eq!(all[0]["status"], "approved");
    let decided_by = all[0]["decided_by"].as_str().unwrap();
    assert!(decided_by.starts_with("unverified:"), "{decided_by}");

    let log = actors(d);
    let granted: Vec<_> = log
        .iter()
        .filter(|(action, _)| action == "approval.granted")
        .collect();
    assert_eq!(granted.len(), 1, "{log:?}");
    assert!(granted[0].1.starts_with("unverified:"), "{log:?}");
    assert!(granted[0].1.contains("typed yes at a terminal"), "{log:?}");
    assert!(
        log.iter().all(|(_, actor)| !actor.starts_with("human:")),
        "{log:?}"
    );
}

#[test]
fn without_a_terminal_an_advisory_approve_approves_nothing() {
    let d = &Project::new().build();
    let approval = d.pending_prod_approval();

    // `approve ID < /dev/null`, and a pipe typing yes: neither is a terminal.
    let null = d.run(&["approve", &approval]);
    assert_eq!(code(&null), 3, "{}", text(&null));
    assert!(stderr(&null).contains("not a terminal"), "{}", text(&null));
    let piped = d.run_with_input(&["approve", &approval], Some("yes\n"));
    assert_eq!(code(&piped), 3, "{}", text(&piped));

    assert_eq!(d.json(&["approvals"])[0]["status"], "pending");
    assert!(
        actors(d)
            .iter()
            .all(|(action, _)| action != "approval.granted"),
        "{:?}",
        actors(d)
    );
}

#[test]
fn a_person_who_does_not_type_yes_approves_nothing() {
    let d = &Project::new().build();
    let approval = d.pending_prod_approval();
    let out = d.approve_at_terminal(&approval, "y");
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert_eq!(d.json(&["approvals"])[0]["status"], "pending");
}

#[test]
fn the_state_folder_is_the_owners_only() {
    let d = &Project::new().build();
    // Opening the engine makes state.db and the local clouds.
    d.ok(&["envs"]);
    d.pending_prod_approval();
    let state = d.path().join(".infraguard");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state), 0o700);
    let mut files = 0;
    for entry in std::fs::read_dir(&state).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files += 1;
    }
    for want in ["state.db", "cloud-dev.db", "cloud-prod.db", ".gitignore"] {
        assert!(state.join(want).is_file(), "no {want}");
    }
    assert!(files >= 4);

    // An older project's looser folder is tightened when it is next opened.
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        state.join("state.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    d.ok(&["envs"]);
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&state.join("state.db")), 0o600);
}

#[test]
fn a_guard_socket_without_a_project_id_says_to_adopt() {
    let d = &Project::new().build();
    let nowhere = d.path().join("nowhere.sock");
    let out = d
        .command()
        .args(["envs"])
        .env(env_vars::INFRAGUARD_GUARD_SOCKET, nowhere)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        stderr(&out).contains("infraguard guard adopt"),
        "{}",
        text(&out)
    );

    d.add_config("\n[guard]\nsocket = \"/nonexistent/guard.sock\"\n");
    let out = d.run(&["approvals"]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        stderr(&out).contains("infraguard guard adopt"),
        "{}",
        text(&out)
    );
}

#[test]
fn an_adopted_project_opens_no_local_state() {
    let d = &Project::new().without_state().build();
    let socket = d.path().join("no-guard.sock");
    d.add_config(&format!(
        "\n[guard]\nsocket = \"{}\"\nproject = \"prj-test\"\n",
        socket.display()
    ));
    let out = d.run(&["approvals"]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert!(
        stderr(&out).contains("cannot reach the guard"),
        "{}",
        text(&out)
    );
    // Its local clouds are the guard's: `cloud serve` reads them through
    // the guard (here unreachable), never from the workspace.
    let serve = d.run(&["cloud", "serve", "--env", "dev", "--addr", "127.0.0.1:0"]);
    assert_eq!(code(&serve), 1, "{}", text(&serve));
    assert!(
        stderr(&serve).contains("cannot reach the guard"),
        "{}",
        text(&serve)
    );
    assert!(
        !d.path().join(".infraguard").exists(),
        "an adopted project must not open .infraguard/"
    );
}

/// Accepts `123456` as alice's code; anything else is wrong.
struct OneCode;

impl Factors for OneCode {
    fn verify(&self, approver: Option<&str>, code: &str, _: i64) -> Result<String, FactorError> {
        match (approver, code) {
            (Some(a), _) if a != "alice" => Err(FactorError::UnknownApprover(a.into())),
            (_, "123456") => Ok("alice".into()),
            _ => Err(FactorError::WrongCode),
        }
    }
    fn approvers(&self) -> Vec<String> {
        vec!["alice".into()]
    }
}

/// A stand-in for the guard: the real engine, guarded by [`OneCode`],
/// behind a Unix socket speaking the guard's wire protocol. Returns the
/// socket, the pending approval's id and the callers it saw.
fn fake_guard(
    workspace: &Project,
    state: &Path,
) -> (std::path::PathBuf, String, Arc<Mutex<Vec<Caller>>>) {
    let config = ProjectConfig::resolve(
        &RawConfig::parse(&workspace.config()).unwrap(),
        &BTreeMap::new(),
    )
    .unwrap();
    let engine = local_engine(config, state).guarded(Arc::new(OneCode), u32::MAX);
    let plan = engine
        .plan(PlanRequest::create(
            "prod",
            "AWS::S3::Bucket",
            Some("documents"),
            json!({}),
            Actor::agent("test", "test"),
        ))
        .unwrap();
    let approval = match engine
        .apply(&plan.id, &Actor::agent("test", "test"), &mut |_| {})
        .unwrap()
    {
        ApplyOutcome::NeedsApproval { approval, .. } => approval.id,
        _ => panic!("prod create should wait for a human"),
    };

    let socket = state.join("guard.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let callers = seen.clone();
    // Detached: it ends with the test process.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let stream = stream.unwrap();
            let mut line = String::new();
            BufReader::new(&stream).read_line(&mut line).unwrap();
            let reply = match serde_json::from_str::<GuardRequest>(&line).unwrap() {
                GuardRequest::Engine {
                    project,
                    caller,
                    request,
                    ..
                } => {
                    assert_eq!(project, "prj-test");
                    callers.lock().unwrap().push(caller.clone());
                    match infraguard_engine::api::dispatch(&engine, &caller, request, &mut |_| {}) {
                        Ok(v) => GuardReply::Ok(v),
                        Err(e) => GuardReply::Error(WireError {
                            kind: e.kind(),
                            message: e.to_string(),
                        }),
                    }
                }
                _ => GuardReply::Ok(Value::Null),
            };
            let mut out = serde_json::to_vec(&reply).unwrap();
            out.push(b'\n');
            (&stream).write_all(&out).unwrap();
        }
    });
    (socket, approval, seen)
}

#[test]
fn an_adopted_project_approves_only_with_an_approvers_code() {
    let d = &Project::new().without_state().build();
    let guard_state = tempfile::tempdir().unwrap();
    let (socket, approval, callers) = fake_guard(d, guard_state.path());
    d.add_config(&format!(
        "\n[guard]\nsocket = \"{}\"\nproject = \"prj-test\"\n",
        socket.display()
    ));

    // The CLI sees the guard's approvals, not a local store.
    let pending = d.json(&["approvals"]);
    assert_eq!(pending[0]["id"], approval.as_str(), "{pending}");

    // A typed yes is no proof here; a pipe is fine for a code.
    let yes = d.run_with_input(&["approve", &approval], Some("yes\n"));
    assert_eq!(code(&yes), 3, "{}", text(&yes));
    let wrong = d.run_with_input(&["approve", &approval], Some("000000\n"));
    assert_eq!(code(&wrong), 3, "{}", text(&wrong));
    assert!(stderr(&wrong).contains("not valid"), "{}", text(&wrong));
    let nothing = d.run(&["approve", &approval]);
    assert_eq!(code(&nothing), 3, "{}", text(&nothing));
    let stranger = d.run_with_input(
        &["approve", &approval, "--approver", "mallory"],
        Some("123456\n"),
    );
    assert_eq!(code(&stranger), 3, "{}", text(&stranger));
    assert_eq!(d.json(&["approvals"])[0]["status"], "pending");

    let right = d.run_with_input(
        &["approve", &approval, "--approver", "alice"],
        Some("123456\n"),
    );
    assert_eq!(code(&right), 0, "{}", text(&right));
    assert!(
        String::from_utf8_lossy(&right.stdout).contains("human:alice"),
        "{}",
        text(&right)
    );
    let all = d.json(&["approvals", "--all"]);
    assert!(
        all[0]["decided_by"]
            .as_str()
            .unwrap()
            .starts_with("human:alice"),
        "{all}"
    );
    assert!(!d.path().join(".infraguard").exists());
    let seen = callers.lock().unwrap();
    assert!(seen.iter().all(|c| c.channel == "cli"), "{seen:?}");
}
