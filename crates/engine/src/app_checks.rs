//! The app's own deployment checks (`[preflight] commands`, the seed's
//! `pnpm lint`, `pnpm type-check`, `pnpm build`), each a line of the
//! preflight checklist.
//!
//! They run in the caller's process, as the caller, in the project folder:
//! never in the guard, whose account must not run what a workspace (which
//! the agent can edit) names. Each has a time limit; what it printed is kept
//! (its last lines) in the checklist line.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::drift::PreflightCheck;

/// How many of a command's last output lines a checklist line keeps.
const KEPT_LINES: usize = 20;

/// Add the project's `[preflight] commands` to `report`, run in `root`, and
/// make `ready` say whether every line, theirs included, passed.
pub fn add_to(
    report: &mut crate::drift::PreflightReport,
    root: &Path,
    config: &crate::config::ProjectConfig,
) {
    if config.preflight_commands.is_empty() {
        return;
    }
    report.checks.extend(run(
        root,
        &config.preflight_commands,
        Duration::from_secs(config.preflight_timeout_seconds),
    ));
    report.ready = report.checks.iter().all(|c| c.ok);
}

/// Run each command with `sh -c` in `root`; one check per command.
pub fn run(root: &Path, commands: &[String], timeout: Duration) -> Vec<PreflightCheck> {
    commands.iter().map(|c| run_one(root, c, timeout)).collect()
}

fn run_one(root: &Path, command: &str, timeout: Duration) -> PreflightCheck {
    let check = |ok: bool, details: Vec<String>| PreflightCheck {
        key: format!("command: {command}"),
        title: format!("`{command}` succeeds"),
        ok,
        details,
    };
    let mut child = match Command::new("sh")
        .arg("-c")
        .arg(format!("{command} 2>&1"))
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        // Its own process group, so a timeout stops what it started too.
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return check(
                false,
                vec![format!("could not start `sh -c {command}`: {e}")],
            );
        }
    };
    // Read on a thread so a chatty command cannot fill the pipe and stall.
    let mut out = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_string(&mut text);
        }
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= timeout => {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let text = reader.join().unwrap_or_default();
    let mut tail: Vec<String> = text
        .lines()
        .rev()
        .take(KEPT_LINES)
        .map(str::to_string)
        .collect();
    tail.reverse();
    match status {
        Some(s) if s.success() => check(true, tail),
        Some(s) => {
            let mut d = vec![format!(
                "`{command}` failed ({}) in {}",
                s.code()
                    .map(|c| format!("exit {c}"))
                    .unwrap_or_else(|| "killed by a signal".into()),
                root.display()
            )];
            d.extend(tail);
            check(false, d)
        }
        None => {
            let mut d = vec![format!(
                "`{command}` did not finish within {} s and was stopped ([preflight] timeout_seconds)",
                timeout.as_secs()
            )];
            d.extend(tail);
            check(false, d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_failing_and_slow_commands_are_checklist_lines() {
        let dir = tempfile::tempdir().unwrap();
        let checks = run(
            dir.path(),
            &[
                "echo lint clean".into(),
                "echo 'src/a.ts: error TS2322' && exit 2".into(),
                "sleep 5".into(),
            ],
            Duration::from_millis(500),
        );
        assert!(checks[0].ok && checks[0].details == ["lint clean"]);
        assert!(!checks[1].ok);
        assert!(
            checks[1].details[0].contains("exit 2"),
            "{:?}",
            checks[1].details
        );
        assert!(checks[1].details.iter().any(|l| l.contains("TS2322")));
        assert!(!checks[2].ok && checks[2].details[0].contains("did not finish"));
    }
}
