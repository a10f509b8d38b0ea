//! The conformance suite every [`Cloud`] implementation must pass.
//!
//! It is written against the port only, so the local cloud, the AWS backend
//! against an emulator, and the AWS backend against the local cloud's wire
//! endpoint all run the same checks. Each check returns `Err(description)`
//! instead of panicking so that a harness can report every failure at once.
//!
//! Where real AWS and known emulators differ, [`Tolerance`] says which
//! behaviours to accept; every tolerance names the backend that needs it.

use serde_json::{Value, json};

use crate::cloud::{Cloud, CloudError, ErrorCode, OperationStatus, ProgressEvent};
use crate::resource::ResourceType;

/// Differences from AWS that a backend is allowed.
#[derive(Clone, Debug, Default)]
pub struct Tolerance {
    /// fakecloud reports a duplicate create as `GeneralServiceException`
    /// instead of AWS's `AlreadyExists`.
    pub duplicate_as_general_exception: bool,
    /// fakecloud stores any property without checking create-only rules.
    pub skip_not_updatable: bool,
    /// fakecloud does not validate required properties.
    pub skip_required_properties: bool,
    /// winterbaume stores a bucket's model as given: no generated `Arn`.
    pub no_generated_attributes: bool,
    /// winterbaume ignores `ClientToken`: a retry is a second create.
    pub no_client_token_idempotency: bool,
}

/// What the suite needs from the harness.
pub struct Fixture {
    /// Unique per run, lowercase, used in every name (`conf-1a2b`).
    pub prefix: String,
    pub tolerance: Tolerance,
    /// Upper bound on status polls per request.
    pub max_polls: usize,
    /// Called between polls (a real sleep for AWS, nothing for local).
    pub pause: fn(u64),
}

impl Fixture {
    pub fn new(prefix: &str) -> Fixture {
        Fixture {
            prefix: prefix.to_string(),
            tolerance: Tolerance::default(),
            max_polls: 50,
            pause: |_| {},
        }
    }
}

type Check<C> = (&'static str, fn(&C, &Fixture) -> Result<(), String>);

/// Every check, by name.
pub fn checks<C: Cloud>() -> Vec<Check<C>> {
    vec![
        ("identity_has_account", identity_has_account),
        ("create_get_delete_bucket", create_get_delete_bucket),
        ("client_token_is_idempotent", client_token_is_idempotent),
        ("duplicate_create_is_refused", duplicate_create_is_refused),
        ("get_unknown_is_not_found", get_unknown_is_not_found),
        ("update_applies_json_patch", update_applies_json_patch),
        (
            "create_only_property_is_not_updatable",
            create_only_property_is_not_updatable,
        ),
        (
            "missing_required_property_is_invalid",
            missing_required_property_is_invalid,
        ),
        (
            "list_paginates_and_carries_properties",
            list_paginates_and_carries_properties,
        ),
        ("delete_unknown_is_not_found", delete_unknown_is_not_found),
        (
            "unknown_request_token_is_an_error",
            unknown_request_token_is_an_error,
        ),
    ]
}

/// Run every check; `Err` lists each failure.
pub fn run_all<C: Cloud>(cloud: &C, fixture: &Fixture) -> Result<usize, String> {
    let mut failures = Vec::new();
    let all = checks::<C>();
    for (name, check) in &all {
        if let Err(e) = check(cloud, fixture) {
            failures.push(format!("{name}: {e}"));
        }
    }
    if failures.is_empty() {
        Ok(all.len())
    } else {
        Err(failures.join("\n"))
    }
}

fn bucket() -> ResourceType {
    ResourceType::new("AWS::S3::Bucket").expect("valid type")
}

fn token(fixture: &Fixture, what: &str) -> String {
    format!("{}-{what}", fixture.prefix)
}

/// Poll until the request ends; a `FAILED` end is returned, not an error.
pub fn wait<C: Cloud>(
    cloud: &C,
    event: ProgressEvent,
    fixture: &Fixture,
) -> Result<ProgressEvent, String> {
    let mut event = event;
    for _ in 0..fixture.max_polls {
        if event.operation_status.is_terminal() {
            return Ok(event);
        }
        (fixture.pause)(event.retry_after.unwrap_or(1));
        event = cloud
            .request_status(&event.request_token)
            .map_err(|e| format!("request_status({}) failed: {e}", event.request_token))?;
    }
    Err(format!(
        "request {} still {} after {} polls",
        event.request_token,
        event.operation_status.as_str(),
        fixture.max_polls
    ))
}

/// Create and wait; the created identifier.
fn create_ok<C: Cloud>(
    cloud: &C,
    fixture: &Fixture,
    t: &ResourceType,
    props: &Value,
    client_token: &str,
) -> Result<String, String> {
    let ev = cloud
        .create(t, props, client_token)
        .map_err(|e| format!("create {t} refused: {e}"))?;
    let ev = wait(cloud, ev, fixture)?;
    if ev.operation_status != OperationStatus::Success {
        return Err(format!(
            "create {t} ended {}: {:?} {:?}",
            ev.operation_status.as_str(),
            ev.error_code,
            ev.status_message
        ));
    }
    ev.identifier
        .ok_or_else(|| format!("create {t} succeeded without an identifier"))
}

fn delete_quietly<C: Cloud>(cloud: &C, fixture: &Fixture, t: &ResourceType, id: &str) {
    if let Ok(ev) = cloud.delete(t, id, &token(fixture, &format!("cleanup-{id}"))) {
        let _ = wait(cloud, ev, fixture);
    }
}

/// The error code of a refused call or a failed request.
fn failure_code<C: Cloud>(
    cloud: &C,
    fixture: &Fixture,
    result: Result<ProgressEvent, CloudError>,
) -> Result<ErrorCode, String> {
    match result {
        Err(CloudError::Service { code, .. }) => Ok(code),
        Err(other) => Err(format!("expected a service error, got {other}")),
        Ok(ev) => {
            let ev = wait(cloud, ev, fixture)?;
            match (ev.operation_status, ev.error_code) {
                (OperationStatus::Failed, Some(code)) => Ok(code),
                (status, code) => Err(format!(
                    "expected a failure, got {} ({code:?})",
                    status.as_str()
                )),
            }
        }
    }
}

fn identity_has_account<C: Cloud>(cloud: &C, _f: &Fixture) -> Result<(), String> {
    let id = cloud
        .identity()
        .map_err(|e| format!("identity failed: {e}"))?;
    if !crate::env::is_account_id(&id.account_id) {
        return Err(format!("account id `{}` is not 12 digits", id.account_id));
    }
    if id.region.is_empty() {
        return Err("identity has no region".into());
    }
    Ok(())
}

fn create_get_delete_bucket<C: Cloud>(cloud: &C, f: &Fixture) -> Result<(), String> {
    let t = bucket();
    let name = format!("{}-cgd", f.prefix);
    let props = json!({"BucketName": name, "VersioningConfiguration": {"Status": "Enabled"}});
    let id = create_ok(cloud, f, &t, &props, &token(f, "cgd-create"))?;
    if id != name {
        return Err(format!("bucket identifier `{id}`, expected `{name}`"));
    }
    let got = cloud
        .get(&t, &id)
        .map_err(|e| format!("get after create: {e}"))?;
    if got.properties["VersioningConfiguration"]["Status"] != "Enabled" {
        return Err(format!("get lost a property: {}", got.properties));
    }
    if !f.tolerance.no_generated_attributes
        && !got.properties["Arn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:s3:::"))
    {
        return Err(format!("no generated Arn in {}", got.properties));
    }
    let ev = cloud
        .delete(&t, &id, &token(f, "cgd-delete"))
        .map_err(|e| format!("delete refused: {e}"))?;
    let ev = wait(cloud, ev, f)?;
    if ev.operation_status != OperationStatus::Success {
        return Err(format!("delete ended {}", ev.operation_status.as_str()));
    }
    match cloud.get(&t, &id) {
        Err(CloudError::Service {
            code: ErrorCode::NotFound,
            ..
        }) => Ok(()),
        other => Err(format!(
            "get after delete: expected NotFound, got {other:?}"
        )),
    }
}

fn client_token_is_idempotent<C: Cloud>(cloud: &C, f: &Fixture) -> Result<(), String> {
    if f.tolerance.no_client_token_idempotency {
        return Ok(());
    }
    let t = bucket();
    let name = format!("{}-idem", f.prefix);
    let props = json!({"BucketName": name});
    let tok = token(f, "idem-create");
    let first = cloud.create(&t, &props, &tok).map_err(|e| e.to_string())?;
    let first = wait(cloud, first, f)?;
    let second = cloud
        .create(&t, &props, &tok)
        .map_err(|e| format!("retry with the same client token refused: {e}"))?;
    let second = wait(cloud, second, f)?;
    let result = if second.request_token != first.request_token {
        Err(format!(
            "retry made a new request {} (first {})",
            second.request_token, first.request_token
        ))
    } else if second.operation_status != OperationStatus::Success {
        Err(format!("retry ended {}", second.operation_status.as_str()))
    } else {
        Ok(())
    };
    delete_quietly(cloud, f, &t, &name);
    result
}

fn duplicate_create_is_refused<C: Cloud>(cloud: &C, f: &Fixture) -> Result<(), String> {
    let t = bucket();
    let name = format!("{}-dup", f.prefix);
    let props = json!({"BucketName": name});
    create_ok(cloud, f, &t, &props, &token(f, "dup-1"))?;
    let code = failure_code(cloud, f, cloud.create(&t, &props, &token(f, "dup-2")));
    delete_quietly(cloud, f, &t, &name);
    match code? {
        ErrorCode::AlreadyExists => Ok(()),
        // fakecloud: duplicates fail as GeneralServiceException (AWS: AlreadyExists).
        ErrorCode::GeneralServiceException if f.tolerance.duplicate_as_general_exception => Ok(()),
        other => Err(format!(
            "duplicate create gave {other}, expected AlreadyExists"
        )),
    }
}

fn get_unknown_is_not_found<C: Cloud>(cloud: &C, f: &Fixture) -> Result<(), String> {
    match cloud.get(&bucket(), &format!("{}-never-made", f.prefix)) {
        Err(CloudError::Service {
            code: ErrorCode::NotFound,
            ..
        }) => Ok(()),
        other => Err(format!("expected NotFound, got {other:?}")),
    }
}

fn update_applies_json_patch<C: Cloud>(cloud: &C, f: &Fixture) -> Result<(), String> {
    let t = bucket();
    let name = format!("{}-upd", f.prefix);
    let id = create_ok(
        cloud,
        f,
        &t,
        &json!({"BucketName": name}),
        &token(f, "upd-create"),
    )?;
    let patch = json!([
        {"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}},
        {"op": "add", "path": "/Tags", "value": [{"Key": "Purpose", "Value": "conformance"}]}
    ]);
    let result = (|| {
        let ev = cloud
            .update(&t, &id, &patch, &token(f, "upd-update"))
            .map_err(|e| format!("update refused: {e}"))?;
        let ev = wait(cloud, ev, f)?;
        if ev.operation_status != OperationStatus::Success {
            return Err(format!(
                "update ended {}: {:?}",
                ev.operation_status.as_str(),
                ev.status_message
            ));
        }
        let got = cloud.get(&t, &id).map_err(|e| e.to_string())?;
        if got.properties["VersioningConfiguration"]["Status"] != "Enabled" {
            return Err(format!("patch not applied: {}", got.properties));
        }
        Ok(())
    })();
    delete_quietly(cloud, f, &t, &id);
    result
}

fn create_only_property_is_not_updatable<C: Cloud>(cloud: &C, f: &Fixture) -> Result<(), String> {
    if f.tolerance.skip_not_updatable {
        return Ok(());
    }
    let t = bucket();
    let name = format!("{}-cop", f.prefix);
    let id = create_ok(
        cloud,
        f,
        &t,
        &json!({"BucketName": name}),
        &token(f, "cop-create"),
    )?;
    let patch = json!([{"op": "replace", "path": "/BucketName", "value": format!("{name}-x")}]);
    let code = failure_code(
        cloud,
        f,
        cloud.update(&t, &id, &patch, &token(f, "cop-update")),
    );
    let still_there = cloud.get(&t, &id).is_ok();
    delete_quietly(cloud, f, &t, &id);
    match code? {
        ErrorCode::NotUpdatable if still_there => Ok(()),
        ErrorCode::NotUpdatable => Err("resource vanished after a refused update".into()),
        other => Err(format!("expected NotUpdatable, got {other}")),
    }
}

fn missing_required_property_is_invalid<C: Cloud>(cloud: &C, f: &Fixture) -> Result<(), String> {
    if f.tolerance.skip_required_properties {
        return Ok(());
    }
    let t = ResourceType::new("AWS::DynamoDB::Table").expect("valid type");
    let props = json!({"TableName": format!("{}-noreq", f.prefix)});
    match failure_code(cloud, f, cloud.create(&t, &props, &token(f, "noreq")))? {
        ErrorCode::InvalidRequest => Ok(()),
        other => Err(format!(
            "expected InvalidRequest for a table without KeySchema, got {other}"
        )),
    }
}

fn list_paginates_and_carries_properties<C: Cloud>(cloud: &C, f: &Fixture) -> Result<(), String> {
    let t = bucket();
    let names: Vec<String> = (0..3).map(|i| format!("{}-list{i}", f.prefix)).collect();
    for (i, n) in names.iter().enumerate() {
        create_ok(
            cloud,
            f,
            &t,
            &json!({"BucketName": n}),
            &token(f, &format!("list-{i}")),
        )?;
    }
    let result = (|| {
        let mut seen = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..10_000 {
            let page = cloud
                .list(&t, next.as_deref(), None)
                .map_err(|e| format!("list failed: {e}"))?;
            for r in page.resources {
                if names.contains(&r.identifier) && !r.properties.is_object() {
                    return Err(format!("list entry {} has no properties", r.identifier));
                }
                seen.push(r.identifier);
            }
            next = page.next_token;
            if next.is_none() {
                break;
            }
        }
        for n in &names {
            if seen.iter().filter(|s| *s == n).count() != 1 {
                return Err(format!(
                    "{n} listed {} times",
                    seen.iter().filter(|s| *s == n).count()
                ));
            }
        }
        Ok(())
    })();
    for n in &names {
        delete_quietly(cloud, f, &t, n);
    }
    result
}

fn delete_unknown_is_not_found<C: Cloud>(cloud: &C, f: &Fixture) -> Result<(), String> {
    let id = format!("{}-never-made", f.prefix);
    match failure_code(
        cloud,
        f,
        cloud.delete(&bucket(), &id, &token(f, "del-unknown")),
    )? {
        ErrorCode::NotFound => Ok(()),
        other => Err(format!("expected NotFound, got {other}")),
    }
}

fn unknown_request_token_is_an_error<C: Cloud>(cloud: &C, _f: &Fixture) -> Result<(), String> {
    match cloud.request_status("00000000-0000-0000-0000-000000000000") {
        Err(_) => Ok(()),
        Ok(ev) => Err(format!(
            "unknown request token answered {:?}",
            ev.operation_status
        )),
    }
}
