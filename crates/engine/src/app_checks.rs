//! The app's own deployment checks (`[preflight] commands`, the seed's
//! `pnpm lint`, `pnpm type-check`, `pnpm build`), each a line of the
//! preflight checklist.
//!
//! They run in the caller's process, as the caller, in the project folder:
//! never in the guard, whose account must not run what a workspace (which
//! the agent can edit) names. Each has a time limit; what it printed is kept
//! (its last lines) in the checklist line.
//!
//! And the seed's last line, "production URL": when `[preflight]
//! production_url` is set, `preflight` of the production environment asks
//! it for the page (one GET, no redirects followed) and says what answered.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::preflight::PreflightCheck;

/// How many of a command's last output lines a checklist line keeps.
const KEPT_LINES: usize = 20;

/// How long the production URL has to answer.
const URL_TIMEOUT: Duration = Duration::from_secs(15);

/// Add the project's `[preflight] commands` to `report`, run in `root`,
/// and in the production environment the `production_url` check; make
/// `ready` say whether every line, theirs included, passed.
pub fn add_to(
    report: &mut crate::preflight::PreflightReport,
    root: &Path,
    config: &crate::config::ProjectConfig,
) {
    let production = config
        .promotion_envs()
        .is_ok_and(|(_, prod)| prod.name == report.env);
    let url = config.production_url.as_deref().filter(|_| production);
    if config.preflight_commands.is_empty() && url.is_none() {
        return;
    }
    report.checks.extend(run(
        root,
        &config.preflight_commands,
        Duration::from_secs(config.preflight_timeout_seconds),
    ));
    if let Some(url) = url {
        report.checks.push(url_check(url, URL_TIMEOUT));
    }
    report.ready = report.checks.iter().all(|c| c.ok);
}

/// An `http://` or `https://` URL, split for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// As given, trimmed.
    pub text: String,
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// `/` when the URL has none; with the query.
    pub path: String,
}

impl Url {
    /// The error says what is wrong with `text`.
    pub fn parse(text: &str) -> Result<Url, String> {
        let t = text.trim();
        let (tls, rest) = if let Some(r) = t.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = t.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(format!("`{t}` is not an http:// or https:// URL"));
        };
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("`{t}` has a space in it"));
        }
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        let authority = authority.split('#').next().unwrap_or_default();
        let path = path.split('#').next().unwrap_or("/").to_string();
        if authority.contains('@') {
            return Err(format!(
                "`{t}` carries a user name or password: leave them out"
            ));
        }
        // `host:port`, `[v6]:port`, or either without a port.
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((h, "")) => (format!("[{h}]"), None),
                Some((h, rest)) => (
                    format!("[{h}]"),
                    Some(rest.strip_prefix(':').unwrap_or(rest)),
                ),
                None => return Err(format!("`{t}` has an IPv6 host without its closing `]`")),
            },
            None => match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            },
        };
        let port = match port {
            None => {
                if tls {
                    443
                } else {
                    80
                }
            }
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("`{t}` has port `{p}`, not a number from 1 to 65535"))?,
        };
        if host.is_empty() {
            return Err(format!("`{t}` names no host"));
        }
        Ok(Url {
            text: t.to_string(),
            tls,
            host,
            port,
            path,
        })
    }
}

/// The checklist line of the production URL: it answers with a status
/// below 400 within `timeout`.
pub fn url_check(url: &str, timeout: Duration) -> PreflightCheck {
    let check = |ok: bool, details: Vec<String>| PreflightCheck {
        key: "production_url".into(),
        title: format!("The production URL {url} answers"),
        ok,
        details,
    };
    let parsed = match Url::parse(url) {
        Ok(u) => u,
        Err(why) => return check(false, vec![why]),
    };
    let started = Instant::now();
    match fetch_status(&parsed, timeout) {
        Ok((code, line)) => {
            let said = format!(
                "GET {} answered `{line}` in {} ms",
                parsed.text,
                started.elapsed().as_millis()
            );
            if code < 400 {
                check(true, vec![said])
            } else {
                check(
                    false,
                    vec![said, format!("HTTP {code}: the app is not serving there")],
                )
            }
        }
        Err(why) => check(false, vec![format!("GET {}: {why}", parsed.text)]),
    }
}

/// One GET; the status code and the status line.
fn fetch_status(url: &Url, timeout: Duration) -> Result<(u16, String), String> {
    let host = url.host.trim_start_matches('[').trim_end_matches(']');
    let addr = (host, url.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} resolves to no address"))?;
    let tcp = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    tcp.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let default_port = if url.tls { 443 } else { 80 };
    let host_header = if url.port == default_port {
        url.host.clone()
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: infraguard-preflight\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path
    );
    let head = if url.tls {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if roots.is_empty() {
            return Err(
                "no trusted root certificates on this machine (install ca-certificates)".into(),
            );
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| format!("`{host}` is not a TLS server name: {e}"))?;
        let conn = rustls::ClientConnection::new(Arc::new(config), name)
            .map_err(|e| format!("TLS set-up: {e}"))?;
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        exchange(&mut stream, &request)?
    } else {
        let mut stream = tcp;
        exchange(&mut stream, &request)?
    };
    let line = head.lines().next().unwrap_or_default().trim().to_string();
    let code = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|_| line.starts_with("HTTP/"))
        .ok_or_else(|| {
            format!(
                "the answer is not HTTP: `{}`",
                line.chars().take(80).collect::<String>()
            )
        })?;
    Ok((code, line))
}

/// Send `request`, read up to the end of the status line (at most 8 KiB).
fn exchange(stream: &mut (impl Read + Write), request: &str) -> Result<String, String> {
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("sending the request failed: {e}"))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 8192 {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("no answer: {e}")),
        }
    }
    if head.is_empty() {
        return Err("the server closed the connection without answering".into());
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
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

    /// A loopback server that answers each connection with `reply`.
    fn answering(reply: &'static str) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in listener.incoming().take(4) {
                let Ok(mut conn) = conn else { return };
                let mut buf = [0u8; 2048];
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(reply.as_bytes());
            }
        });
        port
    }

    #[test]
    fn the_production_url_answers_or_says_why_not() {
        let up = answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        let c = url_check(
            &format!("http://127.0.0.1:{up}/health"),
            Duration::from_secs(5),
        );
        assert!(c.ok, "{c:?}");
        assert!(c.details[0].contains("answered `HTTP/1.1 200 OK`"), "{c:?}");

        let down = answering("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        let c = url_check(&format!("http://127.0.0.1:{down}/"), Duration::from_secs(5));
        assert!(!c.ok && c.details[1].contains("HTTP 503"), "{c:?}");

        let junk = answering("SSH-2.0-OpenSSH\r\n");
        let c = url_check(&format!("http://127.0.0.1:{junk}/"), Duration::from_secs(5));
        assert!(!c.ok && c.details[0].contains("not HTTP"), "{c:?}");

        // TLS to a server that speaks plain HTTP fails in words, not a hang.
        let plain = answering("HTTP/1.1 200 OK\r\n\r\n");
        let c = url_check(
            &format!("https://127.0.0.1:{plain}/"),
            Duration::from_secs(5),
        );
        assert!(!c.ok, "{c:?}");

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let c = url_check(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(5));
        assert!(!c.ok && c.details[0].contains("cannot connect"), "{c:?}");
    }

    #[test]
    fn urls_are_checked_and_split() {
        let u = Url::parse(" https://app.synthcore.ai/health?x=1#top ").unwrap();
        assert_eq!(
            (u.tls, u.host.as_str(), u.port, u.path.as_str()),
            (true, "app.synthcore.ai", 443, "/health?x=1")
        );
        let u = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!((u.port, u.path.as_str()), (8080, "/"));
        let u = Url::parse("https://[::1]/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 443));
        let u = Url::parse("http://[::1]:8080").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 8080));
        assert!(Url::parse("http://[::1/").is_err());
        for (bad, why) in [
            ("ftp://x", "not an http"),
            ("https://", "no host"),
            ("https://a b", "space"),
            ("https://u:p@host/", "password"),
            ("https://host:99999/", "port `99999`"),
        ] {
            let e = Url::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

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
