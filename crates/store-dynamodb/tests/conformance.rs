//! The `Store` conformance suite on DynamoDB, in moto's server (someone
//! else's emulator, started on 127.0.0.1 and killed at the end): each store
//! a fresh table made by `DynamoStore::init`, a second handle on the same
//! table for "another machine". Also: nothing secret in the table in clear,
//! `init`'s report and re-run, `migrate` from SQLite keeping the chain.

use std::sync::atomic::{AtomicUsize, Ordering};

use infraguard_cloud_aws::emulator::{Process, free_port, required_program, start_process};
use infraguard_core::store::Store;
use infraguard_engine::SqliteStore;
use infraguard_engine::store_conformance::{self, Stores};
use infraguard_store_dynamodb::{DynamoConfig, DynamoStore};

fn moto(test: &str) -> Option<Process> {
    let program = required_program(
        test,
        "MOTO_SERVER_BIN",
        "moto_server",
        "pip install 'moto[server]==5.2.5' (scripts/test.sh does)",
    )?;
    let (python, args, port) = serial_moto(&program);
    Some(start_process(&python, &args, port, "/moto-api/").unwrap_or_else(|e| panic!("{e}")))
}

/// moto's server under one lock, by the Python beside `moto_server`
/// (tests/aws/moto_serial.py says why: its threaded server undoes
/// concurrent writes when a transaction is cancelled).
fn serial_moto(moto_server: &std::path::Path) -> (std::path::PathBuf, Vec<String>, u16) {
    let python = moto_server.with_file_name("python");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/aws/moto_serial.py"
    );
    let port = free_port();
    let args = vec![
        script.to_string(),
        "-H".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
    ];
    (python, args, port)
}

fn config(url: &str, table: &str) -> DynamoConfig {
    DynamoConfig {
        table: table.into(),
        region: "eu-west-1".into(),
        profile: None,
        endpoint_url: Some(url.into()),
        credentials: Some(("testing".into(), "testing".into())),
    }
}

struct Moto {
    url: String,
    tables: AtomicUsize,
}

impl Stores for Moto {
    type S = DynamoStore;
    fn fresh(&self) -> DynamoStore {
        let n = self.tables.fetch_add(1, Ordering::SeqCst);
        let (store, report) =
            DynamoStore::init(&config(&self.url, &format!("state-{n}"))).expect("init");
        assert!(report.created);
        store
    }
    fn again(&self, first: &DynamoStore) -> DynamoStore {
        DynamoStore::open(&config(&self.url, first.table())).expect("open again")
    }
}

#[test]
fn dynamodb_passes_the_store_conformance_suite() {
    let Some(moto) = moto("dynamodb_passes_the_store_conformance_suite") else {
        return;
    };
    store_conformance::run(&Moto {
        url: moto.url.clone(),
        tables: AtomicUsize::new(0),
    });
}

#[test]
fn init_says_what_it_made_and_can_run_again() {
    let Some(moto) = moto("init_says_what_it_made_and_can_run_again") else {
        return;
    };
    let cfg = config(&moto.url, "team-state");
    let (_, made) = DynamoStore::init(&cfg).expect("init");
    assert!(made.created);
    assert!(made.deletion_protection, "{made:?}");
    assert!(made.point_in_time_recovery, "{made:?}");
    assert_eq!(made.ttl_attribute, "ttl");
    assert!(
        made.arn
            .as_deref()
            .is_some_and(|a| a.ends_with(":table/team-state")),
        "{made:?}"
    );
    let (_, again) = DynamoStore::init(&cfg).expect("init again");
    assert!(!again.created, "{again:?}");
    assert!(again.deletion_protection && again.point_in_time_recovery);
    // A table that is not ours is refused, not written to.
    let bad = DynamoStore::open(&config(&moto.url, "nobody-made-this")).expect_err("no table");
    assert!(bad.to_string().contains("infraguard state init"), "{bad}");
    let name = DynamoStore::open(&config(&moto.url, "a b")).expect_err("bad name");
    assert!(name.to_string().contains("`a b`"), "{name}");
}

#[test]
fn migrate_moves_a_sqlite_state_and_keeps_its_chain() {
    let Some(moto) = moto("migrate_moves_a_sqlite_state_and_keeps_its_chain") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("state.db")).expect("sqlite");
    let p = store_conformance::sample_plan("p1", "prod", "h1");
    let a = store_conformance::sample_approval("a1", &p);
    sqlite
        .insert_plan(&p, Some(&a), &[store_conformance::record("plan.created")])
        .expect("plan");
    sqlite
        .insert_plan(
            &store_conformance::sample_plan("p2", "dev", "h2"),
            None,
            &[store_conformance::record("plan.created")],
        )
        .expect("plan");
    assert!(sqlite.spend_token("tok", 2_000_000_000).expect("spend"));
    sqlite
        .record_applied(&infraguard_core::store::AppliedState {
            env: "dev".into(),
            type_name: "AWS::S3::Bucket".into(),
            identifier: "b".into(),
            properties: serde_json::json!({"BucketName": "b"}),
            plan_id: "p2".into(),
            at: "2026-12-03T10:00:00Z".into(),
        })
        .expect("applied");
    // More than one transaction's worth of entries.
    let many: Vec<_> = (0..120)
        .map(|i| store_conformance::record(&format!("note {i}")))
        .collect();
    sqlite.append_audit(&many).expect("notes");
    let cfg = config(&moto.url, "migrated");
    DynamoStore::init(&cfg).expect("init");
    let (store, report) =
        DynamoStore::migrate(&cfg, &sqlite, &["dev".into(), "prod".into()]).expect("migrate");
    assert_eq!(
        (
            report.plans,
            report.approvals,
            report.applied,
            report.spent_tokens,
            report.audit_entries
        ),
        (2, 1, 1, 1, 122),
        "{report:?}"
    );
    assert!(report.audit_ok, "{report:?}");
    let v = infraguard_engine::audit::verify(&sqlite.audit_key(), &sqlite.audit_log().unwrap());
    assert_eq!(report.audit_head, v.head, "the same chain on both");
    assert_eq!(store.plan("p1").unwrap(), Some(p.clone()));
    assert_eq!(store.approval_for_plan("p1").unwrap(), Some(a));
    assert!(store.token_spent("tok").unwrap());
    // The chain goes on from where it was.
    store
        .append_audit(&[store_conformance::record("after")])
        .expect("append");
    let log = store.audit_log().unwrap();
    assert_eq!(log.len(), 123);
    assert!(infraguard_engine::audit::verify(&store.audit_key(), &log).ok);
    // A second migration into a table with history is refused.
    let again = DynamoStore::migrate(&cfg, &sqlite, &[]).expect_err("not empty");
    assert!(again.to_string().contains("new table"), "{again}");
}
