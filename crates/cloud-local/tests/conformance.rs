//! The core conformance suite against the local cloud: in memory, on a
//! file, and with every mutation held `IN_PROGRESS` for two polls.

use std::sync::Arc;

use infraguard_cloud_local::{Faults, LocalAccount, LocalCloud};
use infraguard_core::SystemClock;
use infraguard_core::conformance::{Fixture, run_all};

fn account() -> LocalAccount {
    LocalAccount {
        env: "dev".into(),
        region: "us-east-1".into(),
    }
}

#[test]
fn in_memory_cloud_passes_the_suite() {
    let cloud = LocalCloud::in_memory(account(), Arc::new(SystemClock)).expect("open");
    let n = run_all(&cloud, &Fixture::new("conf-mem")).unwrap_or_else(|e| panic!("{e}"));
    assert!(n >= 11, "only {n} checks ran");
}

#[test]
fn file_backed_cloud_passes_the_suite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dev.db");
    let cloud = LocalCloud::open(&path, account(), Arc::new(SystemClock)).expect("open");
    run_all(&cloud, &Fixture::new("conf-file")).unwrap_or_else(|e| panic!("{e}"));
    // And again after reopening: state and tokens from the first run must
    // not get in the way of a second one with a new prefix.
    drop(cloud);
    let cloud = LocalCloud::open(&path, account(), Arc::new(SystemClock)).expect("reopen");
    run_all(&cloud, &Fixture::new("conf-file2")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn pending_requests_pass_the_suite_through_polling() {
    let cloud = LocalCloud::in_memory(account(), Arc::new(SystemClock)).expect("open");
    cloud
        .set_faults(&Faults {
            pending_polls: 2,
            ..Faults::default()
        })
        .expect("faults");
    let before = cloud.calls();
    run_all(&cloud, &Fixture::new("conf-pend")).unwrap_or_else(|e| panic!("{e}"));
    // Every mutation needed polls, so the suite made many more calls than
    // it has checks.
    assert!(
        cloud.calls() - before > 40,
        "{} calls",
        cloud.calls() - before
    );
}
