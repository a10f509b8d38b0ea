//! The AWS backend against loopback endpoints: the local cloud's Cloud
//! Control wire endpoint (always), a recording stub for STS and
//! CloudFormation (always), moto for STS and fakecloud for Cloud Control
//! (when installed; otherwise the test prints why it skipped).

mod harness;

use std::sync::{Arc, Mutex};

use harness::{
    Stub, Winterbaume, Wire, backend, describe_type_reply, free_port, prefix, sts_identity_reply,
};
use infraguard_cloud_aws::{AwsCloud, ConnectOptions, StaticCredentials};
use infraguard_cloud_local::Faults;
use infraguard_core::conformance::{Fixture, Tolerance, run_all};
use infraguard_core::{Cloud, CloudError, ErrorCode, OperationStatus, ResourceType};
use serde_json::json;

fn bucket() -> ResourceType {
    ResourceType::new("AWS::S3::Bucket").expect("type")
}

fn sts_for(wire: &Wire) -> Stub {
    let account = wire.cloud.account_id().to_string();
    Stub::start(move |_| sts_identity_reply(&account))
}

#[test]
fn conformance_suite_passes_over_the_local_wire_endpoint() {
    let wire = Wire::start("eu-west-1");
    let sts = sts_for(&wire);
    let cloud = backend(&wire, &sts, "eu-west-1");
    let n = run_all(&cloud, &Fixture::new(&prefix("cw"))).unwrap_or_else(|e| panic!("{e}"));
    assert!(n >= 11, "only {n} checks ran");
}

#[test]
fn the_wire_endpoint_alone_serves_the_backend_identity_included() {
    // One endpoint for every service, as `AWS_ENDPOINT_URL` pointed at
    // `infraguard cloud serve` gives it: STS GetCallerIdentity is answered
    // by the local cloud itself, with its own account.
    let wire = Wire::start("eu-west-1");
    let cloud = AwsCloud::connect_with(ConnectOptions::for_emulator(
        "dev",
        "eu-west-1",
        &wire.url(),
    ))
    .expect("connect");
    let id = cloud
        .identity()
        .unwrap_or_else(|e| panic!("identity over the wire endpoint: {e}"));
    assert_eq!(id.account_id, wire.cloud.account_id());
    assert_eq!(id.region, "eu-west-1");
    run_all(&cloud, &Fixture::new(&prefix("ws"))).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn conformance_suite_passes_when_every_mutation_needs_polls() {
    let wire = Wire::start("eu-west-1");
    wire.cloud
        .set_faults(&Faults {
            pending_polls: 2,
            ..Faults::default()
        })
        .expect("faults");
    let sts = sts_for(&wire);
    let cloud = backend(&wire, &sts, "eu-west-1");
    run_all(&cloud, &Fixture::new(&prefix("cp"))).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_call_is_signed_for_the_environments_region() {
    // The anchor server signed creates for one region and polled another;
    // here the variables name other regions, and every call must still be
    // signed for the environment's own.
    let cc = Stub::start(|seen| {
        let event = |status: &str| {
            json!({"ProgressEvent": {"TypeName": "AWS::S3::Bucket", "Identifier": "b1",
                "RequestToken": "rt-1", "Operation": "CREATE", "OperationStatus": status,
                "EventTime": 1.7e9}})
        };
        let body = match seen.target.as_deref() {
            Some("CloudApiService.CreateResource") => event("IN_PROGRESS"),
            Some("CloudApiService.GetResourceRequestStatus") => event("SUCCESS"),
            Some("CloudApiService.ListResources") => {
                json!({"TypeName": "AWS::S3::Bucket", "ResourceDescriptions": []})
            }
            _ => json!({"__type": "UnknownOperationException", "message": "no"}),
        };
        (200, "application/x-amz-json-1.0", body.to_string())
    });
    let sts = Stub::start(|_| sts_identity_reply("123456789012"));
    let mut opts = ConnectOptions::for_emulator("dev", "eu-central-1", &cc.url());
    opts.service_endpoints.insert("sts".into(), sts.url());
    opts.vars.insert("AWS_REGION".into(), "us-west-2".into());
    opts.vars
        .insert("AWS_DEFAULT_REGION".into(), "ap-south-1".into());
    let cloud = AwsCloud::connect_with(opts).expect("connect");
    assert_eq!(cloud.region(), "eu-central-1");

    let ev = cloud
        .create(&bucket(), &json!({"BucketName": "b1"}), "t-1")
        .expect("create");
    assert_eq!(ev.operation_status, OperationStatus::InProgress);
    let ev = cloud.request_status(&ev.request_token).expect("status");
    assert_eq!(ev.operation_status, OperationStatus::Success);
    cloud.list(&bucket(), None, None).expect("list");
    let id = cloud.identity().expect("identity");
    assert_eq!(id.region, "eu-central-1");

    let mut seen = cc.seen();
    seen.extend(sts.seen());
    assert_eq!(seen.len(), 4);
    for s in &seen {
        assert_eq!(
            s.signed_region().as_deref(),
            Some("eu-central-1"),
            "{:?}",
            s.target
        );
    }
}

#[test]
fn without_an_environment_region_aws_region_then_aws_default_region_decide() {
    let sts = Stub::start(|_| sts_identity_reply("123456789012"));
    let connect = |vars: &[(&str, &str)]| {
        let mut opts = ConnectOptions::for_emulator("dev", "unused", &sts.url());
        opts.region = None;
        opts.vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AwsCloud::connect_with(opts).expect("connect")
    };
    let a = connect(&[
        ("AWS_REGION", "eu-north-1"),
        ("AWS_DEFAULT_REGION", "sa-east-1"),
    ]);
    assert_eq!(a.region(), "eu-north-1");
    let b = connect(&[("AWS_DEFAULT_REGION", "sa-east-1")]);
    assert_eq!(b.region(), "sa-east-1");
    b.identity().expect("identity");
    let last = sts.seen().pop().expect("a call");
    assert_eq!(last.signed_region().as_deref(), Some("sa-east-1"));
}

#[test]
fn errors_keep_the_aws_code_and_say_what_to_do() {
    let wire = Wire::start("us-east-1");
    let sts = sts_for(&wire);
    let cloud = backend(&wire, &sts, "us-east-1");
    let name = format!("{}-dup", prefix("err"));
    let props = json!({"BucketName": name});
    let ev = cloud.create(&bucket(), &props, "dup-1").expect("create");
    assert_eq!(ev.operation_status, OperationStatus::Success);
    // A duplicate is refused or fails, AlreadyExists either way, naming it.
    let message = match cloud.create(&bucket(), &props, "dup-2") {
        Err(CloudError::Service {
            code: ErrorCode::AlreadyExists,
            message,
        }) => message,
        Ok(ev) if ev.error_code == Some(ErrorCode::AlreadyExists) => {
            ev.status_message.unwrap_or_default()
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    };
    assert!(
        message.contains(&format!("AWS::S3::Bucket `{name}` already exists")),
        "{message}"
    );

    match cloud.get(&bucket(), "never-made-xyz") {
        Err(CloudError::Service {
            code: ErrorCode::NotFound,
            message,
        }) => {
            assert!(!message.is_empty())
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    match cloud.request_status("00000000-0000-0000-0000-000000000000") {
        Err(CloudError::Service {
            code: ErrorCode::NotFound,
            ..
        }) => {}
        other => panic!("expected NotFound for an unknown token, got {other:?}"),
    }
    let bad_type = ResourceType::new("AWS::Nope::Thing").expect("type");
    match cloud.create(&bad_type, &json!({}), "bad-type") {
        Err(CloudError::Service {
            code: ErrorCode::InvalidRequest,
            ..
        }) => {}
        Ok(ev) if ev.error_code == Some(ErrorCode::InvalidRequest) => {}
        other => panic!("expected InvalidRequest for an unknown type, got {other:?}"),
    }
}

#[test]
fn client_tokens_that_aws_would_reject_still_make_one_request() {
    let wire = Wire::start("us-east-1");
    let sts = sts_for(&wire);
    let cloud = backend(&wire, &sts, "us-east-1");
    let props = json!({"BucketName": format!("{}-tok", prefix("tok"))});
    let token = "cleanup-arn:aws:iam::123456789012:role/x";
    let a = cloud.create(&bucket(), &props, token).expect("first");
    let b = cloud.create(&bucket(), &props, token).expect("retry");
    assert_eq!(a.request_token, b.request_token);
    assert_eq!(b.operation_status, OperationStatus::Success);
}

#[test]
fn an_unreachable_endpoint_is_a_transport_error() {
    let port = free_port();
    let cloud = AwsCloud::connect_with(ConnectOptions::for_emulator(
        "dev",
        "us-east-1",
        &format!("http://127.0.0.1:{port}"),
    ))
    .expect("connect");
    match cloud.get(&bucket(), "x") {
        Err(e @ CloudError::Transport(_)) => assert!(e.is_transient()),
        other => panic!("expected Transport, got {other:?}"),
    }
}

#[test]
fn throttling_is_retried_by_the_sdk_a_few_times_then_reported() {
    let wire = Wire::start("us-east-1");
    let sts = sts_for(&wire);
    let mut opts = ConnectOptions::for_emulator("dev", "us-east-1", &wire.url());
    opts.service_endpoints.insert("sts".into(), sts.url());
    opts.max_attempts = 3;
    let cloud = AwsCloud::connect_with(opts).expect("connect");
    wire.cloud
        .set_faults(&Faults {
            throttle_next: 2,
            ..Faults::default()
        })
        .expect("faults");
    let before = wire.cloud.calls();
    match cloud.get(&bucket(), "never-made") {
        Err(CloudError::Service {
            code: ErrorCode::NotFound,
            ..
        }) => {}
        other => panic!("expected NotFound after two throttled attempts, got {other:?}"),
    }
    assert_eq!(
        wire.cloud.calls() - before,
        3,
        "two throttled attempts and one answer"
    );
    assert_eq!(cloud.calls(), 1, "one port call");

    // With one attempt the throttle reaches the caller, transient, with a hint.
    let once = backend(&wire, &sts, "us-east-1");
    wire.cloud
        .set_faults(&Faults {
            throttle_next: 1,
            ..Faults::default()
        })
        .expect("faults");
    match once.get(&bucket(), "never-made") {
        Err(
            e @ CloudError::Service {
                code: ErrorCode::Throttling,
                ..
            },
        ) => {
            assert!(e.is_transient());
            assert!(e.to_string().contains("same client token"), "{e}");
        }
        other => panic!("expected Throttling, got {other:?}"),
    }
}

#[test]
fn calling_from_inside_an_async_task_answers_instead_of_panicking() {
    let wire = Wire::start("us-east-1");
    let sts = sts_for(&wire);
    let cloud = backend(&wire, &sts, "us-east-1");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let result = rt.block_on(async { cloud.get(&bucket(), "never-made") });
    assert!(
        matches!(
            result,
            Err(CloudError::Service {
                code: ErrorCode::NotFound,
                ..
            })
        ),
        "{result:?}"
    );
    // And dropping the backend inside an async context is safe too.
    rt.block_on(async move { drop(cloud) });
}

#[test]
fn schemas_come_from_the_catalog_else_describe_type_cached_on_disk() {
    let schema = json!({
        "typeName": "Acme::Widget::Thing",
        "properties": {"Name": {"type": "string"}, "Arn": {"type": "string"}},
        "primaryIdentifier": ["/properties/Name"],
        "readOnlyProperties": ["/properties/Arn"],
        "required": ["Name"],
        "additionalProperties": false,
        "handlers": {"create": {"permissions": ["acme:CreateThing"]}}
    });
    let answered = Arc::new(Mutex::new(0));
    let count = answered.clone();
    let cfn = Stub::start(move |seen| {
        *count.lock().expect("count") += 1;
        if seen.body.contains("TypeName=Acme%3A%3AWidget%3A%3AThing") {
            describe_type_reply("Acme::Widget::Thing", &schema)
        } else {
            harness::query_error_reply("TypeNotFoundException", "The type does not exist")
        }
    });
    let cache = tempfile::tempdir().expect("tmp");
    let connect = || {
        let mut opts = ConnectOptions::for_emulator("dev", "us-east-1", &cfn.url());
        opts.schema_cache_dir = Some(cache.path().to_path_buf());
        AwsCloud::connect_with(opts).expect("connect")
    };
    let cloud = connect();
    // Embedded: no call.
    assert_eq!(
        cloud.schema(&bucket()).expect("bucket").primary_identifier,
        vec!["/BucketName"]
    );
    assert_eq!(*answered.lock().expect("count"), 0);

    let t = ResourceType::new("Acme::Widget::Thing").expect("type");
    let s = cloud.schema(&t).expect("fetched");
    assert_eq!(s.required, vec!["Name"]);
    assert_eq!(*answered.lock().expect("count"), 1);
    assert!(
        cache
            .path()
            .join("us-east-1/Acme--Widget--Thing.json")
            .is_file()
    );

    // A new session reads the disk cache instead of asking again.
    let again = connect();
    assert_eq!(again.schema(&t).expect("cached").required, vec!["Name"]);
    assert_eq!(*answered.lock().expect("count"), 1);

    let missing = ResourceType::new("Acme::Widget::Missing").expect("type");
    match again.schema(&missing) {
        Err(CloudError::Service {
            code: ErrorCode::InvalidRequest,
            message,
        }) => {
            assert!(message.contains("does not exist"), "{message}")
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn identity_and_session_info_hold_no_credential_characters() {
    let sts = Stub::start(|_| sts_identity_reply("210987654321"));
    let mut opts = ConnectOptions::for_emulator("prod", "eu-west-2", &sts.url());
    opts.credentials = Some(StaticCredentials {
        access_key_id: "AKIAIGTESTKEYVALUE01".into(),
        secret_access_key: "s3cr3t/VALUE+never-shown".into(),
        session_token: Some("SESSIONTOKENVALUE".into()),
    });
    let cloud = AwsCloud::connect_with(opts).expect("connect");
    let id = cloud.identity().expect("identity");
    assert_eq!(id.account_id, "210987654321");
    assert_eq!(id.auth_kind, "Static Credentials");
    let shown = format!(
        "{} {id:?} {cloud:?}",
        serde_json::to_string(&id).expect("json")
    );
    for secret in ["AKIAIGTESTKEYVALUE01", "s3cr3t", "SESSIONTOKENVALUE"] {
        assert!(!shown.contains(secret), "{secret} leaked into {shown}");
    }
    // Asked once per session.
    cloud.identity().expect("again");
    assert_eq!(sts.seen().len(), 1);
}

#[test]
fn identity_from_moto_sts() {
    let Some(program) = harness::required_program(
        "identity_from_moto_sts",
        "MOTO_SERVER_BIN",
        "moto_server",
        "pip install 'moto[server]==5.2.5' (scripts/test.sh does)",
    ) else {
        return;
    };
    let port = free_port();
    let args = [
        "-H".to_string(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
    ];
    let moto = harness::start_process(&program, &args, port, "/moto-api/")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut opts = ConnectOptions::for_emulator("dev", "eu-west-1", &moto.url);
    opts.max_attempts = 1;
    let cloud = AwsCloud::connect_with(opts).expect("connect");
    let id = cloud
        .identity()
        .unwrap_or_else(|e| panic!("moto GetCallerIdentity: {e}"));
    // moto's fixed account.
    assert_eq!(id.account_id, "123456789012");
    assert!(id.arn.starts_with("arn:aws:"), "{}", id.arn);
    assert_eq!(id.region, "eu-west-1");
    assert_eq!(id.auth_kind, "Static Credentials");
}

#[test]
fn conformance_suite_against_winterbaume() {
    let wb = Winterbaume::start();
    // winterbaume mocks Cloud Control only; identity comes from a stub with
    // its account.
    let sts = Stub::start(|_| sts_identity_reply(Winterbaume::ACCOUNT));
    let mut opts = ConnectOptions::for_emulator("dev", "us-east-1", &wb.url());
    opts.service_endpoints.insert("sts".into(), sts.url());
    let cloud = AwsCloud::connect_with(opts).expect("connect");
    let mut fixture = Fixture::new(&prefix("wb"));
    fixture.tolerance = Tolerance {
        // Each flag is needed (measured by turning it off against 1.1.0):
        // winterbaume keeps a generic model store for most types.
        no_generated_attributes: true,
        no_client_token_idempotency: true,
        skip_not_updatable: true,
        skip_required_properties: true,
        ..Tolerance::default()
    };
    let n = run_all(&cloud, &fixture).unwrap_or_else(|e| panic!("{e}"));
    assert!(n >= 11);
}

/// The same suite against fakecloud, a stricter emulator (generated ARNs,
/// client tokens) that takes about 45 minutes to build on 2 cores, which a
/// 90-minute CI run cannot afford; run it by hand:
/// `FAKECLOUD_BIN=… cargo test -p infraguard-cloud-aws --test backend -- --ignored`.
#[test]
#[ignore = "needs fakecloud (scripts/emulators.sh ensure-fakecloud, ~45 min build); run with --ignored"]
fn conformance_suite_against_fakecloud() {
    let program = harness::find_program("FAKECLOUD_BIN", "fakecloud").expect(
        "fakecloud not on PATH and FAKECLOUD_BIN unset: scripts/emulators.sh ensure-fakecloud installs 0.51.0",
    );
    let port = free_port();
    let args = [
        "--addr".to_string(),
        format!("127.0.0.1:{port}"),
        "--log-level".into(),
        "error".into(),
    ];
    let fc = harness::start_process(&program, &args, port, "/_fakecloud/health")
        .unwrap_or_else(|e| panic!("{e}"));
    let cloud = AwsCloud::connect_with(ConnectOptions::for_emulator("dev", "us-east-1", &fc.url))
        .expect("connect");
    let mut fixture = Fixture::new(&prefix("fc"));
    fixture.tolerance = Tolerance {
        // Each flag is needed (measured by turning it off against 0.51.0):
        // - a duplicate create fails GeneralServiceException (AWS: AlreadyExists);
        // - a create-only change (BucketName) succeeds (AWS: NotUpdatable);
        // - a table without KeySchema fails GeneralServiceException (AWS:
        //   InvalidRequest).
        duplicate_as_general_exception: true,
        skip_not_updatable: true,
        skip_required_properties: true,
        ..Tolerance::default()
    };
    let n = run_all(&cloud, &fixture).unwrap_or_else(|e| panic!("{e}"));
    assert!(n >= 11);
}

/// Set in the child processes of `auth_kind_and_region_follow_how_credentials_resolved`.
const CHILD: &str = "INFRAGUARD_AWS_TEST_CHILD";

/// Run in a child process with a prepared environment (the test binary
/// itself, re-run with `--exact`), because credential variables and
/// profile files are read from the process and tests cannot set those on
/// themselves. Prints one line the parent reads.
#[test]
fn child_reports_identity() {
    let Ok(sts_url) = std::env::var(CHILD) else {
        eprintln!(
            "note: child_reports_identity is a helper: it checks only when auth_kind_and_region_follow_how_credentials_resolved runs it as a child"
        );
        return;
    };
    let vars: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    let mut opts = ConnectOptions::for_emulator("dev", "unused", &sts_url);
    opts.endpoint_url = None; // AWS_ENDPOINT_URL from the environment, as users set it
    opts.region = None;
    opts.credentials = None;
    opts.vars = vars;
    let cloud = AwsCloud::connect_with(opts).unwrap_or_else(|e| panic!("connect: {e}"));
    let id = match cloud.identity() {
        Ok(id) => id,
        Err(e) => {
            // One line, so the parent can read it among the harness output.
            println!(
                "IDENTITY error code={:?}|{}",
                e.code(),
                e.to_string().replace('\n', " ")
            );
            return;
        }
    };
    println!(
        "IDENTITY kind={}|region={}|profile={}|account={}",
        id.auth_kind,
        id.region,
        id.profile.as_deref().unwrap_or("-"),
        id.account_id
    );
}

#[test]
fn auth_kind_and_region_follow_how_credentials_resolved() {
    let sts = Stub::start(|_| sts_identity_reply("123456789012"));
    // SSO's GetRoleCredentials (restJson), as the SSO portal would answer.
    let sso = Stub::start(|_| {
        let body = json!({"roleCredentials": {"accessKeyId": "ASIASSOKEYVALUE", "secretAccessKey": "sso-secret-value",
            "sessionToken": "sso-session-value", "expiration": 4_102_444_800_000u64}});
        (200, "application/json", body.to_string())
    });
    let home = tempfile::tempdir().expect("home");
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(aws.join("sso/cache")).expect("dirs");
    std::fs::write(
        aws.join("config"),
        "[profile ci]\nregion = eu-west-3\n\n[profile dev-sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = ap-northeast-3\n",
    )
    .expect("config");
    std::fs::write(
        aws.join("credentials"),
        "[ci]\naws_access_key_id = AKIAPROFILEKEYVALUE\naws_secret_access_key = profile-secret-value\n",
    )
    .expect("credentials");
    // The token `aws sso login` caches, named by the SHA-1 of the start URL.
    std::fs::write(
        aws.join("sso/cache/e8be5486177c5b5392bd9aa76563515b29358e6e.json"),
        json!({"accessToken": "sso-access-token-value", "expiresAt": "2099-01-01T00:00:00Z",
            "region": "us-east-1", "startUrl": "https://example.awsapps.com/start"})
        .to_string(),
    )
    .expect("token");

    let run = |extra: &[(&str, String)]| -> String {
        let exe = std::env::current_exe().expect("test binary");
        let mut cmd = std::process::Command::new(exe);
        cmd.args([
            "--exact",
            "child_reports_identity",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env(CHILD, sts.url())
        // Every AWS call of the child goes to loopback: STS to its stub,
        // SSO to its stub, anything else to the STS stub; and never to
        // instance metadata.
        .env("AWS_ENDPOINT_URL", sts.url())
        .env("AWS_ENDPOINT_URL_SSO", sso.url())
        .env("AWS_EC2_METADATA_DISABLED", "true");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("child");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
        for secret in [
            "AKIAENVKEYVALUE",
            "env-secret",
            "AKIAPROFILEKEYVALUE",
            "profile-secret",
            "ASIASSOKEYVALUE",
            "sso-secret",
            "sso-session-value",
            "sso-access-token",
        ] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "{secret} leaked:\n{stdout}\n{stderr}"
            );
        }
        stdout
            .lines()
            .find_map(|l| l.split_once("IDENTITY ").map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("no IDENTITY line in:\n{stdout}\n{stderr}"))
            .to_string()
    };

    let env_keys = run(&[
        ("AWS_ACCESS_KEY_ID", "AKIAENVKEYVALUE".into()),
        ("AWS_SECRET_ACCESS_KEY", "env-secret-value".into()),
        ("AWS_DEFAULT_REGION", "ca-central-1".into()),
    ]);
    assert_eq!(
        env_keys,
        "kind=Environment Variables|region=ca-central-1|profile=-|account=123456789012"
    );

    // Keys in the environment go before a named profile (the SDK's chain),
    // and the identity then names no profile.
    let env_over_profile = run(&[
        ("AWS_ACCESS_KEY_ID", "AKIAENVKEYVALUE".into()),
        ("AWS_SECRET_ACCESS_KEY", "env-secret-value".into()),
        ("AWS_PROFILE", "ci".into()),
    ]);
    assert_eq!(
        env_over_profile,
        "kind=Environment Variables|region=eu-west-3|profile=-|account=123456789012"
    );

    // No region in the environment or the variables: the profile's.
    let profile = run(&[("AWS_PROFILE", "ci".into())]);
    assert_eq!(
        profile,
        "kind=Profile|region=eu-west-3|profile=ci|account=123456789012"
    );
    // AWS_REGION still goes before the profile.
    let profile = run(&[
        ("AWS_PROFILE", "ci".into()),
        ("AWS_REGION", "us-west-1".into()),
    ]);
    assert_eq!(
        profile,
        "kind=Profile|region=us-west-1|profile=ci|account=123456789012"
    );

    let sso_profile = run(&[("AWS_PROFILE", "dev-sso".into())]);
    assert_eq!(
        sso_profile,
        "kind=AWS SSO Profile|region=ap-northeast-3|profile=dev-sso|account=123456789012"
    );
    assert_eq!(sso.seen().len(), 1, "one GetRoleCredentials call");

    // A named profile that does not exist: refused before any STS call, with
    // the code and what to do.
    let before = sts.seen().len();
    let missing = run(&[
        ("AWS_PROFILE", "nope".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]);
    assert!(
        missing.starts_with("error code=Some(InvalidCredentials)|"),
        "{missing}"
    );
    assert!(missing.contains("profile `nope`"), "{missing}");
    assert_eq!(sts.seen().len(), before);
    // The STS call was signed with the SSO role's keys, for the profile's region.
    let last = sts.seen().pop().expect("sts call");
    assert!(
        last.authorization
            .as_deref()
            .is_some_and(|a| a.contains("Credential=ASIASSOKEYVALUE/"))
    );
    assert_eq!(last.signed_region().as_deref(), Some("ap-northeast-3"));
}

#[test]
fn connecting_an_environment_makes_no_call_and_uses_its_region() {
    // `open_engine` connects every environment at start-up; that must be
    // cheap and offline (credentials resolve lazily, on the first call).
    let env = infraguard_core::Environment {
        name: "prod".into(),
        tag_value: "production".into(),
        account_id: None,
        approval_role: None,
        backend: infraguard_core::Backend::Aws,
        profile: None,
        region: "eu-south-1".into(),
        read_only: true,
        scanning: true,
    };
    let started = std::time::Instant::now();
    let cloud = AwsCloud::connect(&env).expect("connect");
    assert_eq!(cloud.region(), "eu-south-1");
    assert_eq!(cloud.calls(), 0);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_request_that_failed_for_access_names_the_missing_actions() {
    // Cloud Control accepts the create, then the handler is refused: the
    // failure arrives in a FAILED event, with AWS's words and no action.
    let cc = Stub::start(|seen| {
        let status = match seen.target.as_deref() {
            Some("CloudApiService.CreateResource") => "IN_PROGRESS",
            _ => "FAILED",
        };
        let mut event = json!({"TypeName": "AWS::S3::Bucket", "Identifier": "acme-logs",
            "RequestToken": "rt-9", "Operation": "CREATE", "OperationStatus": status, "EventTime": 1.7e9});
        if status == "FAILED" {
            event["ErrorCode"] = json!("AccessDenied");
            event["StatusMessage"] = json!("Access Denied (Service: S3, Status Code: 403)");
        }
        (
            200,
            "application/x-amz-json-1.0",
            json!({"ProgressEvent": event}).to_string(),
        )
    });
    let cloud = AwsCloud::connect_with(ConnectOptions::for_emulator("dev", "us-east-1", &cc.url()))
        .expect("connect");
    let ev = cloud
        .create(&bucket(), &json!({"BucketName": "acme-logs"}), "t-9")
        .expect("accepted");
    let ev = cloud.request_status(&ev.request_token).expect("status");
    assert_eq!(ev.operation_status, OperationStatus::Failed);
    assert_eq!(ev.error_code, Some(ErrorCode::AccessDenied));
    let message = ev.status_message.expect("message");
    assert!(
        message.starts_with("Access Denied (Service: S3"),
        "{message}"
    );
    // Cloud Control's action and the bucket handler's own, from the schema.
    assert!(
        message.contains("missing permission: cloudformation:CreateResource, s3:CreateBucket"),
        "{message}"
    );
}

#[test]
fn a_pinned_environment_refuses_credentials_of_another_account_before_any_call() {
    let wire = Wire::start("us-east-1");
    // The credentials sign in to 222222222222; the environment is prod's 111111111111.
    let sts = Stub::start(|_| sts_identity_reply("222222222222"));
    let mut opts = ConnectOptions::for_emulator("prod", "us-east-1", &wire.url());
    opts.service_endpoints.insert("sts".into(), sts.url());
    opts.expected_account = Some("111111111111".into());
    let cloud = AwsCloud::connect_with(opts).expect("connect");
    let before = wire.cloud.calls();
    let t = ResourceType::new("AWS::S3::Bucket").unwrap();
    let err = cloud
        .create(
            &t,
            &serde_json::json!({"BucketName": "synthcoreai-x-prod"}),
            "tok",
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("111111111111") && msg.contains("222222222222"),
        "{msg}"
    );
    assert!(msg.contains("nothing was sent"), "{msg}");
    assert_eq!(
        err.code(),
        Some(&infraguard_core::ErrorCode::Other(
            infraguard_cloud_aws::ACCOUNT_MISMATCH.into()
        ))
    );
    for refused in [
        cloud.get(&t, "synthcoreai-x-prod").map(|_| ()),
        cloud.list(&t, None, None).map(|_| ()),
        cloud.delete(&t, "synthcoreai-x-prod", "tok2").map(|_| ()),
    ] {
        assert!(refused.is_err());
    }
    // Not one Cloud Control request reached the cloud.
    assert_eq!(wire.cloud.calls(), before);

    // The right account passes.
    let sts = Stub::start(|_| sts_identity_reply("111111111111"));
    let mut opts = ConnectOptions::for_emulator("prod", "us-east-1", &wire.url());
    opts.service_endpoints.insert("sts".into(), sts.url());
    opts.expected_account = Some("111111111111".into());
    let cloud = AwsCloud::connect_with(opts).expect("connect");
    cloud
        .list(&t, None, None)
        .expect("pinned to the right account");
}
