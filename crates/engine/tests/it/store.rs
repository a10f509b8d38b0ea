//! The `Store` conformance suite on SQLite: fresh databases in temporary
//! folders, a second handle opened on the same file for "another machine".

use std::sync::Mutex;

use infraguard_engine::SqliteStore;
use infraguard_engine::store_conformance::{self, Stores};

#[derive(Default)]
struct Sqlite {
    dirs: Mutex<Vec<tempfile::TempDir>>,
}

impl Stores for Sqlite {
    type S = SqliteStore;
    fn fresh(&self) -> SqliteStore {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("state.db")).expect("open");
        self.dirs.lock().expect("dirs").push(dir);
        store
    }
    fn again(&self, first: &SqliteStore) -> SqliteStore {
        SqliteStore::open(first.path().expect("a file")).expect("open again")
    }
}

#[test]
fn sqlite_passes_the_store_conformance_suite() {
    store_conformance::run(&Sqlite::default());
}

#[test]
fn sqlite_keeps_no_secret_in_clear() {
    let stores = Sqlite::default();
    let s = stores.fresh();
    let mut p = store_conformance::sample_plan("p", "dev", "h");
    p.type_name =
        infraguard_core::resource::ResourceType::new("AWS::SecretsManager::Secret").expect("type");
    p.desired_state = serde_json::json!({"Name": "db", "SecretString": "hunter2-in-sqlite"});
    infraguard_core::store::Store::insert_plan(&s, &p, None, &[]).expect("insert");
    let path = s.path().expect("file").to_path_buf();
    drop(s);
    let mut bytes = std::fs::read(&path).expect("db");
    if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    let found = bytes.windows(17).any(|w| w == b"hunter2-in-sqlite");
    assert!(!found, "the secret is in state.db in clear");
}
