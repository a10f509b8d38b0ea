//! Cloud Control semantics of the local cloud, one behaviour per test:
//! idempotency, refusals, faults, persistence, pagination, generated
//! attributes and write-only secrecy.

use std::path::Path;
use std::sync::{Arc, Mutex};

use infraguard_cloud_local::{Faults, LocalAccount, LocalCloud, LocalCloudError};
use infraguard_core::{
    Clock, Cloud, CloudError, ErrorCode, OperationStatus, ProgressEvent, ResourceType, Timestamp,
};
use serde_json::{Value, json};

/// A clock tests can move.
struct TestClock(Mutex<i64>);

impl TestClock {
    fn at(secs: i64) -> Arc<TestClock> {
        Arc::new(TestClock(Mutex::new(secs)))
    }
    fn advance(&self, secs: i64) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) += secs;
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix(*self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

const T0: i64 = 1_795_651_200; // 2026-11-26T00:00:00Z

fn account(region: &str) -> LocalAccount {
    LocalAccount {
        env: "dev".into(),
        region: region.into(),
    }
}

fn cloud() -> LocalCloud {
    LocalCloud::in_memory(account("eu-central-1"), TestClock::at(T0)).expect("open")
}

fn ty(name: &str) -> ResourceType {
    ResourceType::new(name).expect("type name")
}

fn bucket() -> ResourceType {
    ty("AWS::S3::Bucket")
}

fn code_of(r: Result<ProgressEvent, CloudError>) -> ErrorCode {
    match r {
        Err(CloudError::Service { code, .. }) => code,
        Err(e) => panic!("expected a service error, got {e}"),
        Ok(ev) => panic!("expected a refusal, got {ev:?}"),
    }
}

/// A create that must succeed at once; its identifier.
fn create(c: &LocalCloud, t: &ResourceType, props: Value, token: &str) -> String {
    let ev = c.create(t, &props, token).expect("create accepted");
    assert_eq!(
        ev.operation_status,
        OperationStatus::Success,
        "create {t} {props}: {:?} {:?}",
        ev.error_code,
        ev.status_message
    );
    ev.identifier.expect("identifier")
}

fn failed(ev: &ProgressEvent, code: ErrorCode) {
    assert_eq!(ev.operation_status, OperationStatus::Failed, "{ev:?}");
    assert_eq!(ev.error_code.as_ref(), Some(&code), "{ev:?}");
}

fn role_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    })
}

#[test]
fn retry_with_same_client_token_returns_the_original_request() {
    let c = cloud();
    let props = json!({"BucketName": "idem"});
    let first = c.create(&bucket(), &props, "tok-1").expect("create");
    let second = c.create(&bucket(), &props, "tok-1").expect("retry");
    assert_eq!(first, second);
    // Keys in another order are the same request.
    let patch = json!([{"op": "add", "path": "/Tags", "value": [{"Key": "a", "Value": "b"}]}]);
    let u1 = c
        .update(&bucket(), "idem", &patch, "tok-2")
        .expect("update");
    let reordered = json!([{"value": [{"Value": "b", "Key": "a"}], "path": "/Tags", "op": "add"}]);
    let u2 = c
        .update(&bucket(), "idem", &reordered, "tok-2")
        .expect("retry update");
    assert_eq!(u1.request_token, u2.request_token);
    let page = c.list(&bucket(), None, None).expect("list");
    assert_eq!(page.resources.len(), 1);
}

#[test]
fn same_client_token_for_a_different_request_is_refused() {
    let c = cloud();
    create(&c, &bucket(), json!({"BucketName": "one"}), "shared");
    let err = c
        .create(&bucket(), &json!({"BucketName": "two"}), "shared")
        .expect_err("conflict");
    match err {
        CloudError::Service { code, message } => {
            assert_eq!(code, ErrorCode::Other("ClientTokenConflict".into()));
            assert!(message.contains("`shared`"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert!(
        c.get(&bucket(), "two").is_err(),
        "the refused request acted"
    );
    // A delete is a different request too.
    assert_eq!(
        code_of(c.delete(&bucket(), "one", "shared")),
        ErrorCode::Other("ClientTokenConflict".into())
    );
    assert!(c.get(&bucket(), "one").is_ok());
}

#[test]
fn state_and_account_survive_reopening_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("envs").join("dev.db");
    let clock = TestClock::at(T0);
    let (account_id, token) = {
        let c = LocalCloud::open(&path, account("us-east-1"), clock.clone()).expect("open");
        create(&c, &bucket(), json!({"BucketName": "kept"}), "persist-1");
        let ev = c.delete(&bucket(), "missing", "persist-2").expect("delete");
        (c.account_id().to_string(), ev.request_token)
    };
    // The region may change between runs; the account may not.
    let c = LocalCloud::open(&path, account("eu-west-1"), clock).expect("reopen");
    assert_eq!(c.account_id(), account_id);
    assert_eq!(c.identity().expect("identity").region, "eu-west-1");
    let got = c.get(&bucket(), "kept").expect("bucket kept");
    assert_eq!(got.properties["Arn"], "arn:aws:s3:::kept");
    // Old requests and client tokens are remembered too.
    failed(
        &c.request_status(&token).expect("status"),
        ErrorCode::NotFound,
    );
    let retry = c
        .create(&bucket(), &json!({"BucketName": "kept"}), "persist-1")
        .expect("retry");
    assert_eq!(retry.operation_status, OperationStatus::Success);
}

#[test]
fn a_database_of_another_environment_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dev.db");
    drop(LocalCloud::open(&path, account("us-east-1"), TestClock::at(T0)).expect("open"));
    let prod = LocalAccount {
        env: "prod".into(),
        region: "us-east-1".into(),
    };
    match LocalCloud::open(&path, prod, TestClock::at(T0)) {
        Err(e @ LocalCloudError::EnvironmentMismatch { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("`dev`") && msg.contains("`prod`"), "{msg}");
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_a_database_is_reported_with_its_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("junk.db");
    std::fs::write(&path, vec![b'x'; 4096]).expect("write junk");
    let err = LocalCloud::open(&path, account("us-east-1"), TestClock::at(T0)).expect_err("junk");
    assert!(err.to_string().contains("junk.db"), "{err}");
}

#[test]
fn account_ids_are_twelve_digits_and_differ_between_environments() {
    let a = cloud();
    let b = cloud();
    for c in [&a, &b] {
        let id = c.account_id();
        assert_eq!(id.len(), 12);
        assert!(id.bytes().all(|x| x.is_ascii_digit()) && !id.starts_with('0'));
    }
    assert_ne!(a.account_id(), b.account_id());
    let me = a.identity().expect("identity");
    assert_eq!(
        me.arn,
        format!("arn:aws:iam::{}:user/infraguard-local", a.account_id())
    );
    assert_eq!(me.auth_kind, "local (embedded cloud)");
    assert_eq!(me.profile, None);
}

fn stored_properties(path: &Path, t: &str, id: &str) -> Value {
    let conn = rusqlite::Connection::open(path).expect("open raw");
    let text: String = conn
        .query_row(
            "SELECT properties FROM resources WHERE type = ?1 AND identifier = ?2",
            [t, id],
            |r| r.get(0),
        )
        .expect("row");
    serde_json::from_str(&text).expect("json")
}

#[test]
fn write_only_properties_are_stored_but_never_returned() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dev.db");
    let c = LocalCloud::open(&path, account("us-east-1"), TestClock::at(T0)).expect("open");
    let t = ty("AWS::RDS::DBInstance");
    let props = json!({
        "DBInstanceIdentifier": "appdb",
        "Engine": "postgres",
        "DBInstanceClass": "db.t4g.micro",
        "AllocatedStorage": "20",
        "MasterUsername": "app",
        "MasterUserPassword": "hunter2-very-secret"
    });
    let ev = c.create(&t, &props, "wo-1").expect("create");
    assert_eq!(
        ev.operation_status,
        OperationStatus::Success,
        "{:?}",
        ev.status_message
    );
    let model = ev.resource_model.expect("model");
    assert!(!model.contains("hunter2"), "{model}");
    let got = c.get(&t, "appdb").expect("get");
    assert!(got.properties.get("MasterUserPassword").is_none());
    assert_eq!(got.properties["Endpoint"]["Port"], "5432");
    let listed = c.list(&t, None, None).expect("list");
    assert!(
        !listed.resources[0]
            .properties
            .to_string()
            .contains("hunter2")
    );
    // The resource keeps its own copy.
    assert_eq!(
        stored_properties(&path, t.as_str(), "appdb")["MasterUserPassword"],
        "hunter2-very-secret"
    );
    // A rotation through a patch is accepted and stays hidden.
    let patch =
        json!([{"op": "replace", "path": "/MasterUserPassword", "value": "rotated-secret"}]);
    let ev = c.update(&t, "appdb", &patch, "wo-2").expect("update");
    assert_eq!(
        ev.operation_status,
        OperationStatus::Success,
        "{:?}",
        ev.status_message
    );
    assert!(
        !ev.resource_model
            .unwrap_or_default()
            .contains("rotated-secret")
    );
    assert_eq!(
        stored_properties(&path, t.as_str(), "appdb")["MasterUserPassword"],
        "rotated-secret"
    );
}

#[test]
fn nested_write_only_properties_are_hidden() {
    let c = cloud();
    let t = ty("AWS::Lambda::Function");
    let props = json!({
        "FunctionName": "fn",
        "Role": format!("arn:aws:iam::{}:role/fn-role", c.account_id()),
        "Runtime": "python3.13",
        "Handler": "index.handler",
        "Code": {"ZipFile": "def handler(e, c): return 'secret-code'"}
    });
    create(&c, &t, props, "nwo-1");
    let got = c.get(&t, "fn").expect("get");
    assert!(
        !got.properties.to_string().contains("secret-code"),
        "{}",
        got.properties
    );
    assert_eq!(
        got.properties["Arn"],
        format!("arn:aws:lambda:eu-central-1:{}:function:fn", c.account_id())
    );
    assert_eq!(
        got.properties["SnapStartResponse"]["OptimizationStatus"],
        "Off"
    );
}

#[test]
fn throttle_faults_fail_the_next_calls_then_clear() {
    let c = cloud();
    c.set_faults(&Faults {
        throttle_next: 2,
        ..Faults::default()
    })
    .expect("faults");
    let calls = c.calls();
    match c.identity() {
        Err(e @ CloudError::Service { .. }) => {
            assert_eq!(e.code(), Some(&ErrorCode::Throttling));
            assert!(e.is_transient());
        }
        other => panic!("expected throttling, got {other:?}"),
    }
    assert_eq!(
        code_of(c.create(&bucket(), &json!({"BucketName": "thr"}), "thr-1")),
        ErrorCode::Throttling
    );
    assert!(
        c.get(&bucket(), "thr")
            .is_err_and(|e| e.code() == Some(&ErrorCode::NotFound))
    );
    // The throttled create did not consume its client token.
    create(&c, &bucket(), json!({"BucketName": "thr"}), "thr-1");
    assert_eq!(c.faults().expect("faults"), Faults::default());
    assert_eq!(c.calls() - calls, 4);
}

#[test]
fn failure_faults_end_mutations_failed_without_changes() {
    let c = cloud();
    c.set_faults(&Faults {
        fail_next: 1,
        ..Faults::default()
    })
    .expect("faults");
    let ev = c
        .create(&bucket(), &json!({"BucketName": "fail"}), "fail-1")
        .expect("accepted");
    failed(&ev, ErrorCode::ServiceInternalError);
    assert!(ev.error_code.as_ref().is_some_and(ErrorCode::is_transient));
    assert!(c.get(&bucket(), "fail").is_err());
    // Retrying with the same token returns the same failure; a new token works.
    assert_eq!(
        c.create(&bucket(), &json!({"BucketName": "fail"}), "fail-1")
            .expect("retry"),
        ev
    );
    create(&c, &bucket(), json!({"BucketName": "fail"}), "fail-2");
}

#[test]
fn faults_are_shared_through_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dev.db");
    let server = LocalCloud::open(&path, account("us-east-1"), TestClock::at(T0)).expect("open");
    let cli = LocalCloud::open(&path, account("us-east-1"), TestClock::at(T0)).expect("open 2");
    cli.set_faults(&Faults {
        throttle_next: 1,
        ..Faults::default()
    })
    .expect("faults");
    assert!(server.identity().is_err());
    assert!(server.identity().is_ok());
    assert_eq!(cli.faults().expect("faults").throttle_next, 0);
}

#[test]
fn pending_requests_act_only_on_the_last_poll() {
    let clock = TestClock::at(T0);
    let c = LocalCloud::in_memory(account("us-east-1"), clock.clone()).expect("open");
    c.set_faults(&Faults {
        pending_polls: 3,
        ..Faults::default()
    })
    .expect("faults");
    let ev = c
        .create(&bucket(), &json!({"BucketName": "slow"}), "slow-1")
        .expect("accepted");
    assert_eq!(ev.operation_status, OperationStatus::InProgress);
    assert_eq!(ev.retry_after, Some(1));
    assert_eq!(ev.resource_model, None);
    // A retry shows the same request and does not move it on.
    assert_eq!(
        c.create(&bucket(), &json!({"BucketName": "slow"}), "slow-1")
            .expect("retry"),
        ev
    );
    for _ in 0..2 {
        let status = c.request_status(&ev.request_token).expect("poll");
        assert_eq!(status.operation_status, OperationStatus::InProgress);
        assert!(
            c.get(&bucket(), "slow").is_err(),
            "resource exists before the work ran"
        );
    }
    clock.advance(30);
    let done = c.request_status(&ev.request_token).expect("last poll");
    assert_eq!(done.operation_status, OperationStatus::Success);
    assert_eq!(done.identifier.as_deref(), Some("slow"));
    assert_eq!(done.event_time, "2026-11-26T00:00:30Z");
    assert!(
        done.resource_model
            .as_deref()
            .is_some_and(|m| m.contains("arn:aws:s3:::slow"))
    );
    assert!(c.get(&bucket(), "slow").is_ok());
    // Terminal requests stay as they ended.
    assert_eq!(c.request_status(&ev.request_token).expect("again"), done);
}

#[test]
fn pending_failures_surface_on_the_last_poll() {
    let c = cloud();
    create(&c, &bucket(), json!({"BucketName": "dup"}), "pf-0");
    c.set_faults(&Faults {
        pending_polls: 1,
        ..Faults::default()
    })
    .expect("faults");
    let ev = c
        .create(&bucket(), &json!({"BucketName": "dup"}), "pf-1")
        .expect("accepted");
    assert_eq!(ev.operation_status, OperationStatus::InProgress);
    failed(
        &c.request_status(&ev.request_token).expect("poll"),
        ErrorCode::AlreadyExists,
    );
}

#[test]
fn refused_updates_change_nothing() {
    let c = cloud();
    let id = create(
        &c,
        &bucket(),
        json!({"BucketName": "steady", "VersioningConfiguration": {"Status": "Enabled"}}),
        "r-0",
    );
    let before = c.get(&bucket(), &id).expect("get");
    let cases = [
        (
            json!([{"op": "replace", "path": "/BucketName", "value": "other"}]),
            ErrorCode::NotUpdatable,
        ),
        // Replacing the whole document also rewrites the create-only name.
        (
            json!([{"op": "replace", "path": "", "value": {"BucketName": "steady"}}]),
            ErrorCode::NotUpdatable,
        ),
        (
            json!([{"op": "move", "from": "/BucketName", "path": "/X"}]),
            ErrorCode::NotUpdatable,
        ),
        (
            json!([{"op": "replace", "path": "/Arn", "value": "arn:aws:s3:::x"}]),
            ErrorCode::InvalidRequest,
        ),
        (
            json!([{"op": "test", "path": "/VersioningConfiguration/Status", "value": "Suspended"},
                {"op": "remove", "path": "/VersioningConfiguration"}]),
            ErrorCode::InvalidRequest,
        ),
        (
            json!([{"op": "remove", "path": "/NoSuchProperty"}]),
            ErrorCode::InvalidRequest,
        ),
        (
            json!([{"op": "add", "path": "/BucketNam", "value": "typo"}]),
            ErrorCode::InvalidRequest,
        ),
        (
            json!([{"op": "add", "path": "/VersioningConfiguration", "value": {"Ref": "X"}}]),
            ErrorCode::InvalidRequest,
        ),
    ];
    for (i, (patch, code)) in cases.into_iter().enumerate() {
        let ev = c
            .update(&bucket(), &id, &patch, &format!("r-{}", i + 1))
            .expect("accepted");
        failed(&ev, code);
        assert!(ev.status_message.as_deref().is_some_and(|m| !m.is_empty()));
        assert_eq!(
            c.get(&bucket(), &id).expect("get"),
            before,
            "patch {i} changed the bucket"
        );
    }
}

#[test]
fn not_updatable_message_names_the_property() {
    let c = cloud();
    create(&c, &bucket(), json!({"BucketName": "named"}), "nu-0");
    let ev = c
        .update(
            &bucket(),
            "named",
            &json!([{"op": "replace", "path": "/BucketName", "value": "x"}]),
            "nu-1",
        )
        .expect("accepted");
    let msg = ev.status_message.unwrap_or_default();
    assert!(
        msg.contains("/BucketName") && msg.contains("`named`"),
        "{msg}"
    );
}

#[test]
fn refused_creates_change_nothing_and_list_every_problem() {
    let c = cloud();
    let t = ty("AWS::DynamoDB::Table");
    let ev = c
        .create(
            &t,
            &json!({"TableName": "t", "Colour": "blue", "Arn": "arn:x"}),
            "rc-1",
        )
        .expect("accepted");
    failed(&ev, ErrorCode::InvalidRequest);
    let msg = ev.status_message.unwrap_or_default();
    assert!(msg.contains("KeySchema"), "{msg}");
    assert!(msg.contains("Colour"), "{msg}");
    assert!(msg.contains("Arn"), "{msg}");
    assert!(c.list(&t, None, None).expect("list").resources.is_empty());

    create(
        &c,
        &bucket(),
        json!({"BucketName": "orig", "Tags": [{"Key": "k", "Value": "1"}]}),
        "rc-2",
    );
    let dup = c
        .create(&bucket(), &json!({"BucketName": "orig"}), "rc-3")
        .expect("accepted");
    failed(&dup, ErrorCode::AlreadyExists);
    assert_eq!(dup.identifier.as_deref(), Some("orig"));
    assert_eq!(
        c.get(&bucket(), "orig").expect("get").properties["Tags"][0]["Value"],
        "1"
    );

    let wrong_type = c
        .create(
            &bucket(),
            &json!({"BucketName": 42, "VersioningConfiguration": "on"}),
            "rc-4",
        )
        .expect("accepted");
    failed(&wrong_type, ErrorCode::InvalidRequest);
}

#[test]
fn api_level_refusals_are_errors() {
    let c = cloud();
    match c.create(&ty("AWS::S3::Buckets"), &json!({}), "api-1") {
        Err(CloudError::Service {
            code: ErrorCode::InvalidRequest,
            message,
        }) => {
            assert!(
                message.contains("AWS::S3::Bucket"),
                "no suggestion in: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        code_of(c.create(&bucket(), &json!(["not", "an", "object"]), "api-2")),
        ErrorCode::InvalidRequest
    );
    create(&c, &bucket(), json!({"BucketName": "pat"}), "api-3");
    for bad in [
        json!({"op": "add"}),
        json!([{"path": "/Tags"}]),
        json!([{"op": "frobnicate", "path": "/Tags"}]),
    ] {
        assert_eq!(
            code_of(c.update(&bucket(), "pat", &bad, "api-4")),
            ErrorCode::InvalidRequest,
            "{bad}"
        );
    }
    assert!(matches!(
        c.request_status("no-such-token"),
        Err(CloudError::Service {
            code: ErrorCode::NotFound,
            ..
        })
    ));
    assert!(matches!(
        c.schema(&ty("AWS::Nope::Thing")),
        Err(CloudError::Service {
            code: ErrorCode::InvalidRequest,
            ..
        })
    ));
    assert_eq!(
        c.schema(&bucket()).expect("schema").primary_identifier,
        ["/BucketName"]
    );
}

#[test]
fn update_and_delete_of_missing_resources_fail_not_found() {
    let c = cloud();
    let patch = json!([{"op": "add", "path": "/Tags", "value": []}]);
    failed(
        &c.update(&bucket(), "ghost", &patch, "m-1")
            .expect("accepted"),
        ErrorCode::NotFound,
    );
    failed(
        &c.delete(&bucket(), "ghost", "m-2").expect("accepted"),
        ErrorCode::NotFound,
    );
    create(&c, &bucket(), json!({"BucketName": "gone"}), "m-3");
    let ev = c.delete(&bucket(), "gone", "m-4").expect("delete");
    assert_eq!(ev.operation_status, OperationStatus::Success);
    assert!(matches!(
        c.get(&bucket(), "gone"),
        Err(CloudError::Service {
            code: ErrorCode::NotFound,
            ..
        })
    ));
}

#[test]
fn pagination_walks_every_resource_once_in_order() {
    let mut c = cloud();
    c.set_page_size(100);
    for i in 0..250 {
        // Created out of order on purpose.
        let n = (i * 7) % 250;
        create(
            &c,
            &bucket(),
            json!({"BucketName": format!("page-{n:03}")}),
            &format!("pg-{n}"),
        );
    }
    create(
        &c,
        &ty("AWS::SNS::Topic"),
        json!({"TopicName": "other-type"}),
        "pg-topic",
    );
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = c.list(&bucket(), next.as_deref(), None).expect("list");
        sizes.push(page.resources.len());
        for r in &page.resources {
            assert!(
                r.properties["Arn"].is_string(),
                "page entry without properties"
            );
        }
        seen.extend(page.resources.into_iter().map(|r| r.identifier));
        next = page.next_token;
        if next.is_none() {
            break;
        }
    }
    assert_eq!(sizes, [100, 100, 50]);
    let expected: Vec<String> = (0..250).map(|n| format!("page-{n:03}")).collect();
    assert_eq!(seen, expected);
}

#[test]
fn bad_or_foreign_list_tokens_are_refused() {
    let mut c = cloud();
    c.set_page_size(1);
    create(&c, &bucket(), json!({"BucketName": "aa1"}), "lt-1");
    create(&c, &bucket(), json!({"BucketName": "aa2"}), "lt-2");
    let token = c
        .list(&bucket(), None, None)
        .expect("list")
        .next_token
        .expect("more");
    for bad in ["zz", "abc", "not a token", "00"] {
        assert!(
            matches!(
                c.list(&bucket(), Some(bad), None),
                Err(CloudError::Service {
                    code: ErrorCode::InvalidRequest,
                    ..
                })
            ),
            "{bad} accepted"
        );
    }
    assert!(c.list(&ty("AWS::SNS::Topic"), Some(&token), None).is_err());
    let rest = c.list(&bucket(), Some(&token), None).expect("page 2");
    assert_eq!(rest.resources[0].identifier, "aa2");
    assert_eq!(rest.next_token, None);
}

#[test]
fn list_filters_by_resource_model() {
    let c = cloud();
    let t = ty("AWS::SQS::Queue");
    create(&c, &t, json!({"QueueName": "a", "DelaySeconds": 5}), "lf-1");
    create(&c, &t, json!({"QueueName": "b", "DelaySeconds": 0}), "lf-2");
    let page = c
        .list(&t, None, Some(&json!({"DelaySeconds": 5})))
        .expect("list");
    assert_eq!(page.resources.len(), 1);
    assert!(page.resources[0].identifier.ends_with("/a"));
}

#[test]
fn generated_attributes_carry_the_account_and_region() {
    let c = cloud();
    let a = c.account_id().to_string();
    let r = "eu-central-1";

    let q = create(
        &c,
        &ty("AWS::SQS::Queue"),
        json!({"QueueName": "jobs"}),
        "g-1",
    );
    assert_eq!(q, format!("https://sqs.{r}.amazonaws.com/{a}/jobs"));
    let got = c.get(&ty("AWS::SQS::Queue"), &q).expect("queue");
    assert_eq!(got.properties["Arn"], format!("arn:aws:sqs:{r}:{a}:jobs"));

    let topic = create(
        &c,
        &ty("AWS::SNS::Topic"),
        json!({"TopicName": "alerts"}),
        "g-2",
    );
    assert_eq!(topic, format!("arn:aws:sns:{r}:{a}:alerts"));

    let role = create(
        &c,
        &ty("AWS::IAM::Role"),
        json!({"RoleName": "app", "AssumeRolePolicyDocument": role_policy()}),
        "g-3",
    );
    let got = c.get(&ty("AWS::IAM::Role"), &role).expect("role");
    assert_eq!(got.properties["Arn"], format!("arn:aws:iam::{a}:role/app"));
    assert!(
        got.properties["RoleId"]
            .as_str()
            .is_some_and(|s| s.starts_with("AROA"))
    );

    let policy = create(
        &c,
        &ty("AWS::IAM::ManagedPolicy"),
        json!({"ManagedPolicyName": "read", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}),
        "g-4",
    );
    assert_eq!(policy, format!("arn:aws:iam::{a}:policy/read"));
    let got = c
        .get(&ty("AWS::IAM::ManagedPolicy"), &policy)
        .expect("policy");
    assert_eq!(got.properties["DefaultVersionId"], "v1");
    assert_eq!(got.properties["AttachmentCount"], 0);
    assert_eq!(got.properties["IsAttachable"], true);
    assert_eq!(got.properties["CreateDate"], "2026-11-26T00:00:00Z");

    let lg = create(
        &c,
        &ty("AWS::Logs::LogGroup"),
        json!({"LogGroupName": "/app/web"}),
        "g-5",
    );
    let got = c.get(&ty("AWS::Logs::LogGroup"), &lg).expect("log group");
    assert_eq!(
        got.properties["Arn"],
        format!("arn:aws:logs:{r}:{a}:log-group:/app/web:*")
    );

    let key = create(&c, &ty("AWS::KMS::Key"), json!({}), "g-6");
    assert_eq!(key.len(), 36);
    let got = c.get(&ty("AWS::KMS::Key"), &key).expect("key");
    assert_eq!(
        got.properties["Arn"],
        format!("arn:aws:kms:{r}:{a}:key/{key}")
    );

    let secret = create(
        &c,
        &ty("AWS::SecretsManager::Secret"),
        json!({"Name": "db-pass"}),
        "g-7",
    );
    let prefix = format!("arn:aws:secretsmanager:{r}:{a}:secret:db-pass-");
    assert!(
        secret.starts_with(&prefix) && secret.len() == prefix.len() + 6,
        "{secret}"
    );

    let sg = create(
        &c,
        &ty("AWS::EC2::SecurityGroup"),
        json!({"GroupDescription": "web"}),
        "g-8",
    );
    assert!(sg.starts_with("sg-") && sg.len() == 20, "{sg}");
    assert_eq!(
        c.get(&ty("AWS::EC2::SecurityGroup"), &sg)
            .expect("sg")
            .properties["GroupId"],
        sg.as_str()
    );

    let pool = create(
        &c,
        &ty("AWS::Cognito::UserPool"),
        json!({"UserPoolName": "users"}),
        "g-9",
    );
    assert!(
        pool.starts_with("eu-central-1_") && pool.len() == r.len() + 10,
        "{pool}"
    );
    let got = c.get(&ty("AWS::Cognito::UserPool"), &pool).expect("pool");
    assert_eq!(
        got.properties["ProviderURL"],
        format!("https://cognito-idp.{r}.amazonaws.com/{pool}")
    );

    let table = create(
        &c,
        &ty("AWS::DynamoDB::Table"),
        json!({
            "TableName": "orders",
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]
        }),
        "g-10",
    );
    let got = c.get(&ty("AWS::DynamoDB::Table"), &table).expect("table");
    assert_eq!(
        got.properties["Arn"],
        format!("arn:aws:dynamodb:{r}:{a}:table/orders")
    );
    assert!(got.properties.get("StreamArn").is_none());

    let cluster = create(
        &c,
        &ty("AWS::RDS::DBCluster"),
        json!({"DBClusterIdentifier": "Main", "Engine": "aurora-mysql", "MasterUsername": "admin", "ManageMasterUserPassword": true}),
        "g-11",
    );
    assert_eq!(cluster, "main");
    let got = c
        .get(&ty("AWS::RDS::DBCluster"), &cluster)
        .expect("cluster");
    assert_eq!(
        got.properties["DBClusterArn"],
        format!("arn:aws:rds:{r}:{a}:cluster:main")
    );
    assert_eq!(got.properties["Endpoint"]["Port"], "3306");
    assert!(
        got.properties["ReadEndpoint"]["Address"]
            .as_str()
            .is_some_and(|s| s.contains(".cluster-ro-"))
    );
    assert!(
        got.properties["MasterUserSecret"]["SecretArn"]
            .as_str()
            .is_some_and(|s| s.contains(&a))
    );

    let alarm = create(
        &c,
        &ty("AWS::CloudWatch::Alarm"),
        json!({"AlarmName": "cpu", "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1, "Threshold": 80, "MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Statistic": "Average", "Period": 300}),
        "g-12",
    );
    let got = c.get(&ty("AWS::CloudWatch::Alarm"), &alarm).expect("alarm");
    assert_eq!(
        got.properties["Arn"],
        format!("arn:aws:cloudwatch:{r}:{a}:alarm:cpu")
    );
}

#[test]
fn absent_names_are_generated() {
    let c = cloud();
    let id = create(&c, &bucket(), json!({}), "n-1");
    let (prefix, suffix) = id.split_once('-').expect("dash");
    assert_eq!(prefix, "bucket");
    assert_eq!(suffix.len(), 12);
    assert_eq!(
        c.get(&bucket(), &id).expect("get").properties["BucketName"],
        id.as_str()
    );
    // `null` desired state means "no properties".
    let id2 = create(&c, &bucket(), Value::Null, "n-2");
    assert_ne!(id, id2);
    let q = create(
        &c,
        &ty("AWS::SQS::Queue"),
        json!({"FifoQueue": true}),
        "n-3",
    );
    assert!(q.ends_with(".fifo"), "{q}");
}

#[test]
fn updates_keep_read_only_attributes_and_derive_new_ones() {
    let clock = TestClock::at(T0);
    let c = LocalCloud::in_memory(account("us-east-1"), clock.clone()).expect("open");
    let t = ty("AWS::DynamoDB::Table");
    let id = create(
        &c,
        &t,
        json!({
            "TableName": "events",
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]
        }),
        "u-1",
    );
    let arn = c.get(&t, &id).expect("get").properties["Arn"].clone();
    clock.advance(60);
    let patch = json!([{"op": "add", "path": "/StreamSpecification", "value": {"StreamViewType": "NEW_IMAGE"}}]);
    let ev = c.update(&t, &id, &patch, "u-2").expect("update");
    assert_eq!(
        ev.operation_status,
        OperationStatus::Success,
        "{:?}",
        ev.status_message
    );
    let got = c.get(&t, &id).expect("get");
    assert_eq!(got.properties["Arn"], arn);
    assert_eq!(
        got.properties["StreamArn"],
        format!(
            "{}/stream/2026-11-26T00:01:00.000",
            arn.as_str().unwrap_or_default()
        )
    );

    let p = ty("AWS::IAM::ManagedPolicy");
    let doc = |action: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]});
    let pid = create(
        &c,
        &p,
        json!({"ManagedPolicyName": "mp", "PolicyDocument": doc("s3:GetObject")}),
        "u-3",
    );
    clock.advance(60);
    let patch = json!([{"op": "replace", "path": "/PolicyDocument", "value": doc("s3:PutObject")}]);
    let ev = c.update(&p, &pid, &patch, "u-4").expect("update");
    assert_eq!(
        ev.operation_status,
        OperationStatus::Success,
        "{:?}",
        ev.status_message
    );
    let got = c.get(&p, &pid).expect("get");
    assert_eq!(got.properties["DefaultVersionId"], "v2");
    assert_eq!(got.properties["UpdateDate"], "2026-11-26T00:02:00Z");
    assert_eq!(got.properties["CreateDate"], "2026-11-26T00:01:00Z");
}

#[test]
fn every_port_call_is_counted() {
    let c = cloud();
    assert_eq!(c.calls(), 0);
    let _ = c.identity();
    let _ = c.schema(&bucket());
    let _ = c.get(&bucket(), "nothing");
    let _ = c.list(&bucket(), None, None);
    let _ = c.request_status("nothing");
    let _ = c.create(&ty("AWS::Not::Known"), &json!({}), "x");
    assert_eq!(c.calls(), 6);
}

/// Minimal valid properties for every type in the builtin catalog.
fn minimal_properties(t: &str, account: &str) -> Option<Value> {
    let role = format!("arn:aws:iam::{account}:role/app");
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]});
    Some(match t {
        "AWS::Amplify::App" => json!({"Name": "app"}),
        "AWS::Amplify::Branch" => json!({"AppId": "d1234567890abc", "BranchName": "main"}),
        "AWS::ApiGateway::RestApi" => json!({"Name": "api"}),
        "AWS::ApiGatewayV2::Api" => json!({"Name": "http-api", "ProtocolType": "HTTP"}),
        "AWS::Budgets::Budget" => {
            json!({"Budget": {"BudgetType": "COST", "TimeUnit": "MONTHLY", "BudgetLimit": {"Amount": 100, "Unit": "USD"}}})
        }
        "AWS::CloudFront::Distribution" => json!({"DistributionConfig": {
            "Enabled": true,
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "redirect-to-https"},
            "Origins": [{"Id": "o", "DomainName": "example.com", "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"}}]
        }}),
        "AWS::CloudWatch::Alarm" => {
            json!({"ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1, "Threshold": 1, "MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "Sum", "Period": 60})
        }
        "AWS::Cognito::UserPool" => json!({}),
        "AWS::Cognito::UserPoolClient" => json!({"UserPoolId": "us-east-1_AbCdEfGhI"}),
        "AWS::DynamoDB::Table" => {
            json!({"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"})
        }
        "AWS::EC2::SecurityGroup" => json!({"GroupDescription": "d"}),
        "AWS::EC2::Subnet" => json!({"VpcId": "vpc-0123456789abcdef0", "CidrBlock": "10.0.1.0/24"}),
        "AWS::EC2::VPC" => json!({"CidrBlock": "10.0.0.0/16"}),
        "AWS::ECR::Repository" => json!({}),
        "AWS::ElastiCache::ServerlessCache" => {
            json!({"ServerlessCacheName": "cache", "Engine": "valkey"})
        }
        "AWS::Events::Rule" => json!({"ScheduleExpression": "rate(1 hour)"}),
        "AWS::IAM::Group" => json!({}),
        "AWS::IAM::ManagedPolicy" => json!({"PolicyDocument": doc}),
        "AWS::IAM::Policy" => {
            json!({"PolicyName": "inline", "PolicyDocument": doc, "Roles": ["app"]})
        }
        "AWS::IAM::Role" => json!({"AssumeRolePolicyDocument": role_policy()}),
        "AWS::IAM::User" => json!({}),
        "AWS::KMS::Key" => json!({}),
        "AWS::Lambda::Function" => {
            json!({"Role": role, "Runtime": "nodejs22.x", "Handler": "index.handler", "Code": {"ZipFile": "exports.handler = async () => 1;"}})
        }
        "AWS::Logs::LogGroup" => json!({}),
        "AWS::RDS::DBCluster" => {
            json!({"Engine": "aurora-postgresql", "MasterUsername": "app", "MasterUserPassword": "a-long-password"})
        }
        "AWS::RDS::DBInstance" => {
            json!({"Engine": "mysql", "DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20", "MasterUsername": "app", "MasterUserPassword": "a-long-password"})
        }
        "AWS::RDS::DBSubnetGroup" => {
            json!({"DBSubnetGroupDescription": "d", "SubnetIds": ["subnet-1", "subnet-2"]})
        }
        "AWS::S3::Bucket" => json!({}),
        "AWS::S3::BucketPolicy" => json!({"Bucket": "some-bucket", "PolicyDocument": doc}),
        "AWS::SecretsManager::Secret" => json!({"GenerateSecretString": {"PasswordLength": 32}}),
        "AWS::SES::ConfigurationSet" => json!({}),
        "AWS::SES::EmailIdentity" => json!({"EmailIdentity": "example.com"}),
        "AWS::SES::Template" => {
            json!({"Template": {"TemplateName": "welcome", "SubjectPart": "Hi", "TextPart": "Hello"}})
        }
        "AWS::SNS::Topic" => json!({}),
        "AWS::SQS::Queue" => json!({}),
        "AWS::SSM::Parameter" => json!({"Type": "String", "Value": "v"}),
        "AWS::StepFunctions::StateMachine" => {
            json!({"RoleArn": role, "DefinitionString": "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"End\":true}}}"})
        }
        _ => return None,
    })
}

#[test]
fn every_catalog_type_can_be_created_read_listed_and_deleted() {
    let c = cloud();
    let a = c.account_id().to_string();
    let catalog = infraguard_schema::Catalog::builtin();
    let mut missing = Vec::new();
    let types = catalog.types();
    assert!(!types.is_empty(), "the catalog has no types");
    for t in types {
        let Some(props) = minimal_properties(t.as_str(), &a) else {
            missing.push(t.to_string());
            continue;
        };
        let schema = catalog.get(t).expect("schema");
        let id = create(&c, t, props, &format!("every-{t}"));
        assert!(!id.is_empty(), "{t}: empty identifier");
        let got = c.get(t, &id).unwrap_or_else(|e| panic!("{t} {id}: {e}"));
        assert_eq!(
            schema.identifier_of(&got.properties).as_deref(),
            Some(id.as_str()),
            "{t}"
        );
        for p in &schema.write_only {
            assert!(
                got.properties.pointer(p).is_none(),
                "{t}: write-only {p} returned"
            );
        }
        // Every generated ARN names this account (S3 ARNs carry none).
        for (k, v) in got.properties.as_object().expect("object") {
            if let Some(s) = v
                .as_str()
                .filter(|s| s.starts_with("arn:aws:") && k.ends_with("Arn"))
                && !s.starts_with("arn:aws:s3:::")
            {
                assert!(s.contains(&a), "{t}: {k} = {s} lacks the account id");
            }
        }
        let page = c.list(t, None, None).expect("list");
        assert!(
            page.resources.iter().any(|r| r.identifier == id),
            "{t}: not listed"
        );
        // An empty patch re-validates the stored state: what the cloud
        // generated must pass the schema's own checks (patterns included).
        let ev = c
            .update(t, &id, &json!([]), &format!("every-up-{t}"))
            .expect("update");
        assert_eq!(
            ev.operation_status,
            OperationStatus::Success,
            "{t}: {:?}",
            ev.status_message
        );
        let ev = c.delete(t, &id, &format!("every-del-{t}")).expect("delete");
        assert_eq!(ev.operation_status, OperationStatus::Success, "{t}");
    }
    assert!(missing.is_empty(), "no minimal properties for {missing:?}");
}

#[test]
fn email_identity_gets_dkim_records_on_its_domain() {
    let c = cloud();
    let t = ty("AWS::SES::EmailIdentity");
    let id = create(&c, &t, json!({"EmailIdentity": "ops@example.org"}), "ses-1");
    assert_eq!(id, "ops@example.org");
    let got = c.get(&t, &id).expect("get");
    for i in 1..=3 {
        let name = got.properties[format!("DkimDNSTokenName{i}")]
            .as_str()
            .expect("name");
        let value = got.properties[format!("DkimDNSTokenValue{i}")]
            .as_str()
            .expect("value");
        assert!(name.ends_with("._domainkey.example.org"), "{name}");
        assert!(value.ends_with(".dkim.amazonses.com"), "{value}");
    }
}

/// A FAILED event with `code` whose message contains `words`.
fn failed_saying(ev: &ProgressEvent, code: ErrorCode, words: &str) {
    failed(ev, code);
    let message = ev.status_message.as_deref().unwrap_or_default();
    assert!(message.contains(words), "{message:?} lacks {words:?}");
}

/// Each type with a deletion-protection switch, switched on, and the words
/// its service refuses a delete with.
fn protected_resources() -> Vec<(&'static str, Value, &'static str, Value)> {
    let off = |path: &str, v: Value| json!([{"op": "replace", "path": path, "value": v}]);
    vec![
        (
            "AWS::RDS::DBInstance",
            json!({"DBInstanceIdentifier": "prod-db", "Engine": "postgres", "DBInstanceClass": "db.t3.micro",
                   "AllocatedStorage": "20", "MasterUsername": "app", "ManageMasterUserPassword": true,
                   "DeletionProtection": true}),
            "Cannot delete protected DB Instance, please disable deletion protection and try again.",
            off("/DeletionProtection", json!(false)),
        ),
        (
            "AWS::RDS::DBCluster",
            json!({"DBClusterIdentifier": "prod-cluster", "Engine": "aurora-postgresql", "MasterUsername": "app",
                   "MasterUserPassword": "a-long-password", "DeletionProtection": true}),
            "Cannot delete protected Cluster, please disable deletion protection and try again.",
            off("/DeletionProtection", json!(false)),
        ),
        (
            "AWS::DynamoDB::Table",
            json!({"TableName": "orders", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                   "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                   "BillingMode": "PAY_PER_REQUEST", "DeletionProtectionEnabled": true}),
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
            off("/DeletionProtectionEnabled", json!(false)),
        ),
        (
            "AWS::Cognito::UserPool",
            json!({"UserPoolName": "users", "DeletionProtection": "ACTIVE"}),
            "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.",
            off("/DeletionProtection", json!("INACTIVE")),
        ),
        (
            "AWS::Logs::LogGroup",
            json!({"LogGroupName": "/app/audit", "DeletionProtectionEnabled": true}),
            "CloudWatch Logs refuses to delete a resource whose `DeletionProtectionEnabled` is on",
            off("/DeletionProtectionEnabled", json!(false)),
        ),
    ]
}

#[test]
fn deletes_under_deletion_protection_fail_and_keep_the_resource() {
    let c = cloud();
    for (t, props, words, switch_off) in protected_resources() {
        let t = ty(t);
        let id = create(&c, &t, props, &format!("dp-create-{t}"));
        let ev = c
            .delete(&t, &id, &format!("dp-del-{t}"))
            .expect("delete accepted");
        failed_saying(&ev, ErrorCode::InvalidRequest, words);
        assert_eq!(ev.identifier.as_deref(), Some(id.as_str()), "{t}");
        let message = ev.status_message.clone().unwrap_or_default();
        assert!(message.contains("was not deleted"), "{t}: {message}");
        // Nothing changed: the resource is still there, in get and list.
        let still = c.get(&t, &id).unwrap_or_else(|e| panic!("{t} gone: {e}"));
        assert!(still.properties.is_object(), "{t}");
        let page = c.list(&t, None, None).expect("list");
        assert!(page.resources.iter().any(|r| r.identifier == id), "{t}");
        // A retry with the same token is the same refusal, not a delete.
        let again = c.delete(&t, &id, &format!("dp-del-{t}")).expect("retry");
        assert_eq!(again, ev, "{t}");
        assert!(c.get(&t, &id).is_ok(), "{t}");
        // Switched off, the delete goes through.
        let up = c
            .update(&t, &id, &switch_off, &format!("dp-off-{t}"))
            .expect("update accepted");
        assert_eq!(up.operation_status, OperationStatus::Success, "{t}: {up:?}");
        let ev = c
            .delete(&t, &id, &format!("dp-del2-{t}"))
            .expect("delete accepted");
        assert_eq!(ev.operation_status, OperationStatus::Success, "{t}: {ev:?}");
        assert_eq!(code_of_get(&c, &t, &id), ErrorCode::NotFound, "{t}");
    }
}

fn code_of_get(c: &LocalCloud, t: &ResourceType, id: &str) -> ErrorCode {
    match c.get(t, id) {
        Err(CloudError::Service { code, .. }) => code,
        other => panic!("expected a service error, got {other:?}"),
    }
}

#[test]
fn protection_off_or_absent_and_aurora_members_delete_normally() {
    let c = cloud();
    let t = ty("AWS::DynamoDB::Table");
    let table = json!({"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                       "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                       "BillingMode": "PAY_PER_REQUEST", "DeletionProtectionEnabled": false});
    let id = create(&c, &t, table, "np-1");
    let ev = c.delete(&t, &id, "np-2").expect("delete");
    assert_eq!(ev.operation_status, OperationStatus::Success, "{ev:?}");
    // An Aurora instance takes its protection from the cluster; its own
    // flag does not stop its delete.
    let i = ty("AWS::RDS::DBInstance");
    let member = json!({"Engine": "aurora-postgresql", "DBInstanceClass": "db.r6g.large",
                        "DBClusterIdentifier": "prod-cluster", "DeletionProtection": true});
    let id = create(&c, &i, member, "np-3");
    let ev = c.delete(&i, &id, "np-4").expect("delete");
    assert_eq!(ev.operation_status, OperationStatus::Success, "{ev:?}");
}

#[test]
fn protected_deletes_held_in_progress_fail_on_the_last_poll() {
    let c = cloud();
    let (t, props, words, _) = protected_resources().remove(0);
    let t = ty(t);
    let id = create(&c, &t, props, "pp-1");
    c.set_faults(&Faults {
        pending_polls: 2,
        ..Faults::default()
    })
    .expect("faults");
    let ev = c.delete(&t, &id, "pp-2").expect("delete");
    assert_eq!(ev.operation_status, OperationStatus::InProgress);
    let ev = c.request_status(&ev.request_token).expect("poll 1");
    assert_eq!(ev.operation_status, OperationStatus::InProgress);
    let ev = c.request_status(&ev.request_token).expect("poll 2");
    failed_saying(&ev, ErrorCode::InvalidRequest, words);
    assert!(c.get(&t, &id).is_ok());
}

#[test]
fn rds_creates_without_a_master_password_fail_and_create_nothing() {
    let c = cloud();
    let words = "The parameter MasterUserPassword must be provided and must not be blank.";
    let cases = [
        (
            "AWS::RDS::DBInstance",
            json!({"DBInstanceIdentifier": "nopass-db", "Engine": "postgres", "DBInstanceClass": "db.t3.micro",
                   "AllocatedStorage": "20", "MasterUsername": "app"}),
        ),
        (
            "AWS::RDS::DBCluster",
            json!({"DBClusterIdentifier": "nopass-cluster", "Engine": "aurora-mysql", "MasterUsername": "app"}),
        ),
    ];
    for (t, props) in cases {
        let t = ty(t);
        let ev = c.create(&t, &props, &format!("np-{t}")).expect("accepted");
        failed_saying(&ev, ErrorCode::InvalidRequest, words);
        let message = ev.status_message.clone().unwrap_or_default();
        assert!(message.contains("ManageMasterUserPassword"), "{message}");
        assert!(
            c.list(&t, None, None).expect("list").resources.is_empty(),
            "{t}"
        );
        // RDS keeping the password, or a restore, is fine.
        let mut managed = props.clone();
        managed["ManageMasterUserPassword"] = json!(true);
        create(&c, &t, managed, &format!("np-managed-{t}"));
    }
    let restored = json!({"DBInstanceIdentifier": "restored", "Engine": "postgres",
                          "DBInstanceClass": "db.t3.micro", "DBSnapshotIdentifier": "nightly"});
    create(&c, &ty("AWS::RDS::DBInstance"), restored, "np-restore");
    let member = json!({"Engine": "aurora-mysql", "DBInstanceClass": "db.r6g.large",
                        "DBClusterIdentifier": "nopass-cluster"});
    create(&c, &ty("AWS::RDS::DBInstance"), member, "np-member");
}

#[test]
fn invalid_bucket_names_and_patterns_fail_and_change_nothing() {
    let c = cloud();
    let ev = c
        .create(&bucket(), &json!({"BucketName": "Not_Valid..Name"}), "bn-1")
        .expect("accepted");
    failed_saying(
        &ev,
        ErrorCode::InvalidRequest,
        "`BucketName` is `Not_Valid..Name`, which does not match the pattern `^([a-z0-9][a-z0-9.-]*[a-z0-9])?$`",
    );
    failed_saying(
        &ev,
        ErrorCode::InvalidRequest,
        "contains two adjacent periods",
    );
    for name in ["192.168.5.4", "xn--bucket", "logs-s3alias", "ab"] {
        let ev = c
            .create(
                &bucket(),
                &json!({"BucketName": name}),
                &format!("bn-{name}"),
            )
            .expect("accepted");
        failed_saying(
            &ev,
            ErrorCode::InvalidRequest,
            "The specified bucket is not valid.",
        );
    }
    assert!(
        c.list(&bucket(), None, None)
            .expect("list")
            .resources
            .is_empty()
    );

    // An update whose result breaks a pattern changes nothing either.
    let f = ty("AWS::Lambda::Function");
    let role = format!("arn:aws:iam::{}:role/app", c.account_id());
    let id = create(
        &c,
        &f,
        json!({"FunctionName": "worker", "Role": role, "Runtime": "nodejs22.x", "Handler": "index.handler",
               "Code": {"ZipFile": "exports.handler = async () => 1;"}}),
        "bn-fn",
    );
    let patch = json!([{"op": "replace", "path": "/Role", "value": "lambda-role"}]);
    let ev = c.update(&f, &id, &patch, "bn-up").expect("accepted");
    failed_saying(&ev, ErrorCode::InvalidRequest, "does not match the pattern");
    assert_eq!(c.get(&f, &id).expect("get").properties["Role"], role);
}
