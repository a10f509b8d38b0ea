//! The README's exit codes and a closed pipe, through the real binary; and
//! secrets never printed nor stored in clear.

use std::process::Stdio;

use super::harness::*;

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let dir = project();
    let d = dir.path();
    dev_bucket(d, "documents");
    for args in [
        &["resources", "list", "--env", "dev"][..],
        &["resources", "list", "--env", "dev", "--output", "json"][..],
        &["types"][..],
    ] {
        // The reader is gone before the first byte: every write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = command(d)
            .args(args)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(code(&out), 0, "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_wrong_or_missing_identifier_is_bad_input() {
    let dir = project();
    let d = dir.path();
    let unknown = run_in(
        d,
        &[
            "resources",
            "get",
            "--env",
            "dev",
            "--type",
            "AWS::S3::Bucket",
            "--id",
            "no-such-bucket",
        ],
    );
    assert_eq!(code(&unknown), 2, "{}", text(&unknown));
    assert!(
        stderr(&unknown).contains("no-such-bucket"),
        "{}",
        text(&unknown)
    );
    let update = run_in(
        d,
        &[
            "plan",
            "--env",
            "dev",
            "--type",
            "AWS::S3::Bucket",
            "--operation",
            "update",
            "--id",
            "no-such-bucket",
            "--patch",
            "[]",
        ],
    );
    assert_eq!(code(&update), 2, "{}", text(&update));
    let missing = run_in(
        d,
        &[
            "plan",
            "--env",
            "dev",
            "--type",
            "AWS::S3::Bucket",
            "--operation",
            "delete",
        ],
    );
    assert_eq!(code(&missing), 2, "{}", text(&missing));
    assert!(stderr(&missing).contains("--id"), "{}", text(&missing));
    let clap_missing = run_in(
        d,
        &[
            "resources",
            "get",
            "--env",
            "dev",
            "--type",
            "AWS::S3::Bucket",
        ],
    );
    assert_eq!(code(&clap_missing), 2, "{}", text(&clap_missing));
}

#[test]
fn drift_found_exits_4_and_clean_exits_0() {
    let dir = project();
    let d = dir.path();
    let dev = dev_bucket(d, "documents");
    let promote = ["promote", "--type", "AWS::S3::Bucket", "--id", dev.as_str()];
    let waiting = expect_json(d, &promote, 3);
    approve_yes(d, waiting["gate"]["approval_id"].as_str().unwrap());
    expect_json(d, &promote, 0);
    assert_eq!(
        expect_json(d, &["drift"], 0)["drifted"],
        serde_json::json!([])
    );
    expect(d, &["sync"], 0);
    // Change dev only: the pair drifts.
    expect(
        d,
        &[
            "resources",
            "update",
            "--env",
            "dev",
            "--type",
            "AWS::S3::Bucket",
            "--id",
            dev.as_str(),
            "--patch",
            r#"[{"op":"add","path":"/VersioningConfiguration","value":{"Status":"Enabled"}}]"#,
        ],
        0,
    );
    let drift = expect_json(d, &["drift"], 4);
    assert!(!drift["drifted"].as_array().unwrap().is_empty(), "{drift}");
    expect(d, &["drift"], 4);
}

#[test]
fn secrets_are_not_printed_nor_stored_in_clear_and_access_keys_are_refused() {
    let dir = project();
    let d = dir.path();
    let secret = "pw-cli-Qx81-unguessable";
    let props = serde_json::json!({
        "Role": "arn:aws:iam::000000000000:role/worker",
        "Runtime": "python3.12",
        "Handler": "index.handler",
        "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"},
        "Environment": {"Variables": {"DB_PASSWORD": secret}}
    })
    .to_string();
    let base = [
        "plan",
        "--env",
        "dev",
        "--type",
        "AWS::Lambda::Function",
        "--purpose",
        "worker",
        "--properties",
    ];
    let mut args = base.to_vec();
    args.push(&props);
    let out = run_in(d, &[&args[..], &["--output", "json"]].concat());
    let printed = text(&out);
    assert!(!printed.contains(secret), "{printed}");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = plan["id"].as_str().unwrap();
    for cmd in [
        &["show", id][..],
        &["plans", "--output", "json"][..],
        &["show", id, "--output", "json"][..],
    ] {
        let out = run_in(d, cmd);
        assert!(!text(&out).contains(secret), "{cmd:?}: {}", text(&out));
    }
    let state = d.join(".infraguard");
    for f in ["state.db", "state.db-wal"] {
        let bytes = std::fs::read(state.join(f)).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{f} holds the secret"
        );
    }

    let key_props = props.replace(secret, "AKIAIOSFODNN7EXAMPLE");
    let mut args = base.to_vec();
    args.push(&key_props);
    let refused = run_in(d, &args);
    assert_eq!(code(&refused), 2, "{}", text(&refused));
    assert!(
        stderr(&refused).contains("Secrets Manager"),
        "{}",
        text(&refused)
    );
    assert!(
        !text(&refused).contains("AKIAIOSFODNN7EXAMPLE"),
        "{}",
        text(&refused)
    );
}

#[test]
fn the_apps_own_checks_are_lines_of_the_preflight_checklist() {
    let dir = project();
    let d = dir.path();
    let config = d.join("infraguard.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[preflight]\ncommands = [\"echo lint clean\", \"echo 'src/a.ts: error TS2322' >&2; exit 3\"]\ntimeout_seconds = 30\n");
    std::fs::write(&config, text).unwrap();
    let report = expect_json(d, &["preflight", "dev"], 4);
    let checks = report["checks"].as_array().unwrap();
    let lint = checks
        .iter()
        .find(|c| c["key"] == "command: echo lint clean")
        .expect("lint line");
    assert_eq!(lint["ok"], true, "{lint}");
    let types = checks
        .iter()
        .find(|c| c["key"].as_str().unwrap().contains("TS2322"))
        .expect("type-check line");
    assert_eq!(types["ok"], false);
    let details = types["details"].to_string();
    assert!(
        details.contains("exit 3") && details.contains("error TS2322"),
        "{details}"
    );
    assert_eq!(report["ready"], false);
}

#[test]
fn preflight_of_prod_checks_the_production_url() {
    use std::io::{Read, Write};
    let dir = project();
    let d = dir.path();
    // The app, on loopback: it answers each request once with 200.
    let app = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = app.local_addr().unwrap().port();
    let seen = std::thread::spawn(move || {
        let (mut conn, _) = app.accept().unwrap();
        let mut buf = [0u8; 2048];
        let n = conn.read(&mut buf).unwrap();
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    let config = d.join("infraguard.toml");
    let base = std::fs::read_to_string(&config).unwrap();
    let with = |url: &str| format!("{base}\n[preflight]\nproduction_url = \"{url}\"\n");
    std::fs::write(&config, with(&format!("http://127.0.0.1:{port}/health"))).unwrap();

    // dev's checklist has no production URL line.
    let out = run_in(d, &["--output", "json", "preflight", "dev"]);
    let dev: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !dev["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["key"] == "production_url"),
        "{dev}"
    );
    let out = run_in(d, &["--output", "json", "preflight", "prod"]);
    let prod: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let line = prod["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "production_url")
        .cloned()
        .expect("the production URL line");
    assert_eq!(line["ok"], true, "{line}");
    assert!(
        line["details"][0].as_str().unwrap().contains("200 OK"),
        "{line}"
    );
    let request = seen.join().unwrap();
    assert!(request.starts_with("GET /health HTTP/1.1\r\n"), "{request}");

    // Nothing listens there now: the line fails, so prod is not ready.
    let out = run_in(d, &["--output", "json", "preflight", "prod"]);
    assert_eq!(code(&out), 4, "{}", text(&out));
    let prod: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let line = prod["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "production_url")
        .cloned()
        .unwrap();
    assert_eq!(line["ok"], false, "{line}");
    assert_eq!(prod["ready"], false);

    // A URL that is not one is refused when the config is read (a
    // configuration error, exit 1), naming the key.
    std::fs::write(&config, with("app.synthcore.ai")).unwrap();
    let out = run_in(d, &["preflight", "prod"]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert!(
        text(&out).contains("preflight.production_url") && text(&out).contains("app.synthcore.ai"),
        "{}",
        text(&out)
    );
}

#[test]
fn import_plans_the_tagging_and_a_missing_resource_is_bad_input() {
    let dir = project();
    let d = dir.path();
    let out = run_in(
        d,
        &[
            "import",
            "--env",
            "dev",
            "--type",
            "AWS::S3::Bucket",
            "--id",
            "synthcoreai-nowhere-dev",
        ],
    );
    assert_eq!(code(&out), 2, "{}", text(&out));
    // A resource infraguard made already carries the standard: nothing to import.
    let id = dev_bucket(d, "tracked");
    let out = run_in(
        d,
        &[
            "import",
            "--env",
            "dev",
            "--type",
            "AWS::S3::Bucket",
            "--id",
            &id,
        ],
    );
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        stderr(&out).contains("already carries the tag standard"),
        "{}",
        text(&out)
    );
}
