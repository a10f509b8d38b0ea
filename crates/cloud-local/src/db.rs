//! The SQLite layout of one environment's local cloud, and every query.
//!
//! Three tables:
//! - `resources`: one row per resource, keyed `(type, identifier)`; the
//!   primary key is also the index `list` walks, so a page is a range scan.
//!   `properties` is the full state as JSON, write-only values included
//!   (the resource's own copy; the port strips them on the way out).
//! - `requests`: one row per accepted mutation: its request token, the
//!   client token (UNIQUE, so a retry finds its original), a hash of the
//!   request for conflict detection, its current status, and for requests
//!   still `IN_PROGRESS` the input and the polls left before the work runs.
//! - `meta`: key/value: schema version, environment name, account id, and
//!   the fault-injection counters (kept here so that another process, such
//!   as the CLI, can set them while a server runs).
//!
//! Functions take a `&Connection`; callers run them inside one transaction
//! per port call so that every multi-step change is atomic.

use infraguard_core::{ErrorCode, Operation, OperationStatus};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::Faults;
use crate::error::LocalCloudError;

/// Bumped when the layout changes; an older build refuses a newer file.
pub const SCHEMA_VERSION: i64 = 1;

const CREATE_TABLES: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS resources (
    type       TEXT NOT NULL,
    identifier TEXT NOT NULL,
    properties TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (type, identifier)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS requests (
    request_token  TEXT PRIMARY KEY NOT NULL,
    client_token   TEXT UNIQUE,
    request_hash   TEXT NOT NULL,
    operation      TEXT NOT NULL,
    type           TEXT NOT NULL,
    identifier     TEXT,
    status         TEXT NOT NULL,
    error_code     TEXT,
    status_message TEXT,
    event_time     TEXT NOT NULL,
    resource_model TEXT,
    pending_input  TEXT,
    polls_left     INTEGER NOT NULL DEFAULT 0,
    inject_failure INTEGER NOT NULL DEFAULT 0
);
";

/// Create the tables if missing; check the version.
pub fn init(conn: &Connection) -> Result<Option<i64>, rusqlite::Error> {
    conn.execute_batch(CREATE_TABLES)?;
    for key in [
        "throttle_next",
        "fail_next",
        "pending_polls",
        "throttle_percent",
    ] {
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, 0)",
            params![key],
        )?;
    }
    let version: Option<i64> = meta_get(conn, "schema_version")?;
    if version.is_none() {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
            params![SCHEMA_VERSION],
        )?;
    }
    Ok(version)
}

pub fn meta_get<T: rusqlite::types::FromSql>(
    conn: &Connection,
    key: &str,
) -> Result<Option<T>, rusqlite::Error> {
    conn.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()
}

pub fn meta_set<T: rusqlite::ToSql>(
    conn: &Connection,
    key: &str,
    value: T,
) -> Result<(), rusqlite::Error> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
        .execute(params![key, value])?;
    Ok(())
}

pub fn faults(conn: &Connection) -> Result<Faults, rusqlite::Error> {
    let get = |k: &str| -> Result<u32, rusqlite::Error> {
        let v: Option<i64> = meta_get(conn, k)?;
        Ok(u32::try_from(v.unwrap_or(0).max(0)).unwrap_or(u32::MAX))
    };
    Ok(Faults {
        throttle_next: get("throttle_next")?,
        fail_next: get("fail_next")?,
        pending_polls: get("pending_polls")?,
        throttle_percent: get("throttle_percent")?,
    })
}

pub fn set_faults(conn: &Connection, f: &Faults) -> Result<(), rusqlite::Error> {
    meta_set(conn, "throttle_next", i64::from(f.throttle_next))?;
    meta_set(conn, "fail_next", i64::from(f.fail_next))?;
    meta_set(conn, "pending_polls", i64::from(f.pending_polls))?;
    meta_set(conn, "throttle_percent", i64::from(f.throttle_percent))?;
    Ok(())
}

/// Consume one unit of a fault counter; `true` if one was pending.
pub fn take_fault(conn: &Connection, key: &str) -> Result<bool, rusqlite::Error> {
    // Read first: most calls find no fault, and a plain read takes no write
    // lock that would contend with another process.
    let pending: Option<i64> = meta_get(conn, key)?;
    if pending.unwrap_or(0) <= 0 {
        return Ok(false);
    }
    let changed = conn
        .prepare_cached("UPDATE meta SET value = value - 1 WHERE key = ?1 AND value > 0")?
        .execute(params![key])?;
    Ok(changed == 1)
}

fn parse_json(text: &str, what: impl FnOnce() -> String) -> Result<Value, LocalCloudError> {
    serde_json::from_str(text).map_err(|e| LocalCloudError::StoredJson {
        what: what(),
        detail: e.to_string(),
    })
}

pub fn get_resource(
    conn: &Connection,
    type_name: &str,
    id: &str,
) -> Result<Option<Value>, LocalCloudError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT properties FROM resources WHERE type = ?1 AND identifier = ?2")?
        .query_row(params![type_name, id], |r| r.get(0))
        .optional()?;
    text.map(|t| parse_json(&t, || format!("{type_name} {id}")))
        .transpose()
}

pub fn insert_resource(
    conn: &Connection,
    type_name: &str,
    id: &str,
    props: &Value,
    now: &str,
) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(
        "INSERT INTO resources (type, identifier, properties, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![type_name, id, props.to_string(), now])?;
    Ok(())
}

pub fn update_resource(
    conn: &Connection,
    type_name: &str,
    id: &str,
    props: &Value,
    now: &str,
) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(
        "UPDATE resources SET properties = ?3, updated_at = ?4 WHERE type = ?1 AND identifier = ?2",
    )?
    .execute(params![type_name, id, props.to_string(), now])?;
    Ok(())
}

pub fn delete_resource(
    conn: &Connection,
    type_name: &str,
    id: &str,
) -> Result<bool, rusqlite::Error> {
    let n = conn
        .prepare_cached("DELETE FROM resources WHERE type = ?1 AND identifier = ?2")?
        .execute(params![type_name, id])?;
    Ok(n == 1)
}

/// Up to `limit` resources of a type with identifiers after `after`, in
/// identifier order: a range scan of the primary key.
pub fn list_after(
    conn: &Connection,
    type_name: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, Value)>, LocalCloudError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // A plain `identifier > ?2` rather than `(?2 IS NULL OR …)`, which would
    // keep SQLite from turning the bound into a range on the key. The empty
    // string sorts before every identifier, so it stands for "from
    // the start".
    let mut stmt = conn.prepare_cached(
        "SELECT identifier, properties FROM resources
         WHERE type = ?1 AND identifier > ?2
         ORDER BY identifier LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![type_name, after.unwrap_or(""), limit], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, text) = row?;
        let props = parse_json(&text, || format!("{type_name} {id}"))?;
        out.push((id, props));
    }
    Ok(out)
}

/// One row of `requests`.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRow {
    pub request_token: String,
    pub client_token: Option<String>,
    pub request_hash: String,
    pub operation: Operation,
    pub type_name: String,
    pub identifier: Option<String>,
    pub status: OperationStatus,
    pub error_code: Option<ErrorCode>,
    pub status_message: Option<String>,
    pub event_time: String,
    pub resource_model: Option<String>,
    pub pending_input: Option<String>,
    pub polls_left: u32,
    pub inject_failure: bool,
}

fn status_from(s: &str) -> Option<OperationStatus> {
    Some(match s {
        "PENDING" => OperationStatus::Pending,
        "IN_PROGRESS" => OperationStatus::InProgress,
        "SUCCESS" => OperationStatus::Success,
        "FAILED" => OperationStatus::Failed,
        "CANCEL_IN_PROGRESS" => OperationStatus::CancelInProgress,
        "CANCEL_COMPLETE" => OperationStatus::CancelComplete,
        _ => return None,
    })
}

const REQUEST_COLUMNS: &str =
    "request_token, client_token, request_hash, operation, type, identifier,
    status, error_code, status_message, event_time, resource_model, pending_input, polls_left,
    inject_failure";

fn request_from_row(r: &rusqlite::Row<'_>) -> Result<RequestRow, rusqlite::Error> {
    let bad = |i: usize, what: &str, v: String| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown {what} `{v}` in the requests table").into(),
        )
    };
    let op: String = r.get(3)?;
    let status: String = r.get(6)?;
    let polls: i64 = r.get(12)?;
    Ok(RequestRow {
        request_token: r.get(0)?,
        client_token: r.get(1)?,
        request_hash: r.get(2)?,
        operation: op.parse().map_err(|_| bad(3, "operation", op.clone()))?,
        type_name: r.get(4)?,
        identifier: r.get(5)?,
        status: status_from(&status).ok_or_else(|| bad(6, "status", status.clone()))?,
        error_code: r.get::<_, Option<String>>(7)?.map(|c| ErrorCode::parse(&c)),
        status_message: r.get(8)?,
        event_time: r.get(9)?,
        resource_model: r.get(10)?,
        pending_input: r.get(11)?,
        polls_left: u32::try_from(polls.max(0)).unwrap_or(u32::MAX),
        inject_failure: r.get::<_, i64>(13)? != 0,
    })
}

pub fn request_by_token(
    conn: &Connection,
    token: &str,
) -> Result<Option<RequestRow>, rusqlite::Error> {
    conn.prepare_cached(&format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE request_token = ?1"
    ))?
    .query_row(params![token], request_from_row)
    .optional()
}

pub fn request_by_client_token(
    conn: &Connection,
    client_token: &str,
) -> Result<Option<RequestRow>, rusqlite::Error> {
    conn.prepare_cached(&format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE client_token = ?1"
    ))?
    .query_row(params![client_token], request_from_row)
    .optional()
}

/// Insert a new request or overwrite an existing one with the same token.
pub fn save_request(conn: &Connection, r: &RequestRow) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO requests ({REQUEST_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))?
    .execute(params![
        r.request_token,
        r.client_token,
        r.request_hash,
        r.operation.as_str(),
        r.type_name,
        r.identifier,
        r.status.as_str(),
        r.error_code.as_ref().map(ErrorCode::as_str),
        r.status_message,
        r.event_time,
        r.resource_model,
        r.pending_input,
        i64::from(r.polls_left),
        i64::from(r.inject_failure),
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().expect("memory db");
        init(&c).expect("init");
        c
    }

    #[test]
    fn init_is_idempotent_and_records_version() {
        let c = conn();
        assert_eq!(init(&c).expect("second init"), Some(SCHEMA_VERSION));
        assert_eq!(faults(&c).expect("faults"), Faults::default());
    }

    #[test]
    fn faults_round_trip_and_decrement_to_zero() {
        let c = conn();
        set_faults(
            &c,
            &Faults {
                throttle_next: 2,
                fail_next: 1,
                pending_polls: 3,
                throttle_percent: 20,
            },
        )
        .expect("set");
        assert!(take_fault(&c, "throttle_next").expect("take"));
        assert!(take_fault(&c, "throttle_next").expect("take"));
        assert!(!take_fault(&c, "throttle_next").expect("take"));
        let f = faults(&c).expect("faults");
        assert_eq!(
            f,
            Faults {
                throttle_next: 0,
                fail_next: 1,
                pending_polls: 3,
                throttle_percent: 20,
            }
        );
    }

    #[test]
    fn list_after_walks_identifiers_in_order() {
        let c = conn();
        for id in ["c", "a", "b"] {
            insert_resource(&c, "AWS::S3::Bucket", id, &json!({"BucketName": id}), "t")
                .expect("insert");
        }
        insert_resource(&c, "AWS::SQS::Queue", "q", &json!({}), "t").expect("insert");
        let first = list_after(&c, "AWS::S3::Bucket", None, 2).expect("list");
        assert_eq!(
            first.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let rest = list_after(&c, "AWS::S3::Bucket", Some("b"), 2).expect("list");
        assert_eq!(
            rest.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
        assert_eq!(rest[0].1, json!({"BucketName": "c"}));
    }

    #[test]
    fn request_rows_round_trip() {
        let c = conn();
        let row = RequestRow {
            request_token: "rt".into(),
            client_token: Some("ct".into()),
            request_hash: "h".into(),
            operation: Operation::Update,
            type_name: "AWS::S3::Bucket".into(),
            identifier: Some("b".into()),
            status: OperationStatus::Failed,
            error_code: Some(ErrorCode::NotUpdatable),
            status_message: Some("m".into()),
            event_time: "2026-11-26T00:00:00Z".into(),
            resource_model: None,
            pending_input: Some("[]".into()),
            polls_left: 2,
            inject_failure: true,
        };
        save_request(&c, &row).expect("save");
        assert_eq!(request_by_token(&c, "rt").expect("get"), Some(row.clone()));
        assert_eq!(request_by_client_token(&c, "ct").expect("get"), Some(row));
        assert_eq!(request_by_token(&c, "nope").expect("get"), None);
    }
}
