//! The README's exit codes and a closed pipe, through the real binary; and
//! secrets never printed nor stored in clear.

use std::process::Stdio;

use super::harness::*;

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let d = &Project::new().build();
    d.dev_bucket("documents");
    for args in [
        &["resources", "list", "--env", "dev"][..],
        &["resources", "list", "--env", "dev", "--output", "json"][..],
        &["types"][..],
    ] {
        // The reader is gone before the first byte: every write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = d
            .command()
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
    let d = &Project::new().build();
    let unknown = d.run(&resource_args(
        &["resources", "get"],
        "dev",
        "AWS::S3::Bucket",
        "no-such-bucket",
        &[],
    ));
    assert_eq!(code(&unknown), 2, "{}", text(&unknown));
    assert!(
        stderr(&unknown).contains("no-such-bucket"),
        "{}",
        text(&unknown)
    );
    let bucket_plan = |more: &[&str]| {
        let flags = ["plan", "--env", "dev", "--type", "AWS::S3::Bucket"];
        words(&[&flags[..], more].concat())
    };
    let update = d.run(&bucket_plan(&[
        "--operation",
        "update",
        "--id",
        "no-such-bucket",
        "--patch",
        "[]",
    ]));
    assert_eq!(code(&update), 2, "{}", text(&update));
    let missing = d.run(&bucket_plan(&["--operation", "delete"]));
    assert_eq!(code(&missing), 2, "{}", text(&missing));
    assert!(stderr(&missing).contains("--id"), "{}", text(&missing));
    let clap_missing = d.run(&[
        "resources",
        "get",
        "--env",
        "dev",
        "--type",
        "AWS::S3::Bucket",
    ]);
    assert_eq!(code(&clap_missing), 2, "{}", text(&clap_missing));
}

#[test]
fn drift_found_exits_4_and_clean_exits_0() {
    let d = &Project::new().build();
    let dev = d.dev_bucket("documents");
    let promote = ["promote", "--type", "AWS::S3::Bucket", "--id", dev.as_str()];
    let waiting = d.expect_json(&promote, 3);
    d.approve_yes(waiting["gate"]["approval_id"].as_str().unwrap());
    d.expect_json(&promote, 0);
    assert_eq!(
        d.expect_json(&["drift"], 0)["drifted"],
        serde_json::json!([])
    );
    d.expect(&["sync"], 0);
    // Change dev only: the pair drifts.
    d.expect(
        &resource_args(
            &["resources", "update"],
            "dev",
            "AWS::S3::Bucket",
            dev.as_str(),
            &[
                "--patch",
                r#"[{"op":"add","path":"/VersioningConfiguration","value":{"Status":"Enabled"}}]"#,
            ],
        ),
        0,
    );
    let drift = d.expect_json(&["drift"], 4);
    assert!(!drift["drifted"].as_array().unwrap().is_empty(), "{drift}");
    d.expect(&["drift"], 4);
}

#[test]
fn secrets_are_not_printed_nor_stored_in_clear_and_access_keys_are_refused() {
    let d = &Project::new().build();
    let secret = "pw-cli-Qx81-unguessable";
    let props = serde_json::json!({
        "Role": "arn:aws:iam::000000000000:role/worker",
        "Runtime": "python3.12",
        "Handler": "index.handler",
        "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"},
        "Environment": {"Variables": {"DB_PASSWORD": secret}}
    })
    .to_string();
    let worker = |props: &str| {
        plan_args(
            "dev",
            "AWS::Lambda::Function",
            "worker",
            &["--properties", props],
        )
    };
    let out = d.run(&[worker(&props), words(&["--output", "json"])].concat());
    let printed = text(&out);
    assert!(!printed.contains(secret), "{printed}");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = plan["id"].as_str().unwrap();
    for cmd in [
        &["show", id][..],
        &["plans", "--output", "json"][..],
        &["show", id, "--output", "json"][..],
    ] {
        let out = d.run(cmd);
        assert!(!text(&out).contains(secret), "{cmd:?}: {}", text(&out));
    }
    let state = d.path().join(".infraguard");
    for f in ["state.db", "state.db-wal"] {
        let bytes = std::fs::read(state.join(f)).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{f} holds the secret"
        );
    }

    let key_props = props.replace(secret, "AKIAIOSFODNN7EXAMPLE");
    let refused = d.run(&worker(&key_props));
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
    let d = &Project::new().build();
    d.add_config("\n[preflight]\ncommands = [\"echo lint clean\", \"echo 'src/a.ts: error TS2322' >&2; exit 3\"]\ntimeout_seconds = 30\n");
    let report = d.expect_json(&["preflight", "dev"], 4);
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
    let d = &Project::new().build();
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
    let base = d.config();
    let with = |url: &str| format!("{base}\n[preflight]\nproduction_url = \"{url}\"\n");
    d.write_config(&with(&format!("http://127.0.0.1:{port}/health")));

    // dev's checklist has no production URL line.
    let out = d.run(&["--output", "json", "preflight", "dev"]);
    let dev: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !dev["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["key"] == "production_url"),
        "{dev}"
    );
    let url_line = |prod: &serde_json::Value| {
        prod["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == "production_url")
            .cloned()
            .expect("the production URL line")
    };
    let out = d.run(&["--output", "json", "preflight", "prod"]);
    let prod: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let line = url_line(&prod);
    assert_eq!(line["ok"], true, "{line}");
    assert!(
        line["details"][0].as_str().unwrap().contains("200 OK"),
        "{line}"
    );
    let request = seen.join().unwrap();
    assert!(request.starts_with("GET /health HTTP/1.1\r\n"), "{request}");

    // Nothing listens there now: the line fails, so prod is not ready.
    let out = d.run(&["--output", "json", "preflight", "prod"]);
    assert_eq!(code(&out), 4, "{}", text(&out));
    let prod: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let line = url_line(&prod);
    assert_eq!(line["ok"], false, "{line}");
    assert_eq!(prod["ready"], false);

    // A URL that is not one is refused when the config is read (a
    // configuration error, exit 1), naming the key.
    d.write_config(&with("app.synthcore.ai"));
    let out = d.run(&["preflight", "prod"]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert!(
        text(&out).contains("preflight.production_url") && text(&out).contains("app.synthcore.ai"),
        "{}",
        text(&out)
    );
}

#[test]
fn import_plans_the_tagging_and_a_missing_resource_is_bad_input() {
    let d = &Project::new().build();
    let out = d.run(&resource_args(
        &["import"],
        "dev",
        "AWS::S3::Bucket",
        "synthcoreai-nowhere-dev",
        &[],
    ));
    assert_eq!(code(&out), 2, "{}", text(&out));
    // A resource infraguard made already carries the standard: nothing to import.
    let id = d.dev_bucket("tracked");
    let out = d.run(&[
        "import",
        "--env",
        "dev",
        "--type",
        "AWS::S3::Bucket",
        "--id",
        &id,
    ]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        stderr(&out).contains("already carries the tag standard"),
        "{}",
        text(&out)
    );
}
