//! The guard over its real socket, in this process: adopt a project, plan a
//! prod change through the engine API, see a confirmation refused and an
//! approver's code accepted, apply. The OS-account attacks are in
//! `tests/trust/test_attacks.py` (they need root and separate accounts).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::clock::{Clock, SystemClock};
use infraguard_core::cloud::Cloud;
use infraguard_core::env::Backend;
use infraguard_engine::{
    ApplyOutcome, Caller, Engine, EngineApi, EngineError, Level, PlanRequest, Proof, RawConfig,
    SqliteStore,
};
use infraguard_guard::client;
use infraguard_guard::server::{self, Guard, GuardOptions, HostedEngine, Opener};
use infraguard_guard::wire::{AdoptReply, EnrollStartReply, GuardRequest};
use serde_json::json;

fn opener() -> Opener {
    Arc::new(|dir: &Path, config| {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let mut clouds: BTreeMap<String, Box<dyn Cloud>> = BTreeMap::new();
        for env in &config.environments {
            let cloud = LocalCloud::open(
                &dir.join(format!("cloud-{}.db", env.name)),
                LocalAccount {
                    env: env.name.clone(),
                    region: env.region.clone(),
                },
                clock.clone(),
            )
            .map_err(|e| e.to_string())?;
            clouds.insert(env.name.clone(), Box::new(cloud));
        }
        let store = SqliteStore::open(&dir.join("state.db")).map_err(|e| e.to_string())?;
        let key = store.secret().map_err(|e| e.to_string())?;
        let store: Box<dyn infraguard_core::store::Store> = Box::new(store);
        let e: HostedEngine = Engine::new(config, clouds, store, clock)
            .map_err(|e| e.to_string())?
            .with_signing_key(key);
        Ok(e)
    })
}

/// RFC 6238 with SHA-1, as an authenticator app computes it.
fn totp(secret_b32: &str, unix: i64) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut n, mut key) = (0u64, 0, Vec::new());
    for c in secret_b32.bytes().filter(|c| *c != b'=') {
        bits = (bits << 5) | alphabet.iter().position(|a| *a == c).unwrap() as u64;
        n += 5;
        if n >= 8 {
            n -= 8;
            key.push((bits >> n) as u8);
        }
    }
    let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(&((unix / 30) as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 0xf) as usize;
    let v = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]) % 1_000_000;
    format!("{v:06}")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn a_project_adopted_by_the_guard_takes_only_an_approvers_code() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let socket = dir.path().join("guard.sock");
    let guard = Arc::new(Guard::open(&home, opener()).unwrap());
    let opts = GuardOptions {
        home: home.clone(),
        socket: socket.clone(),
        socket_gid: None,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(async { server::bind(&opts) }).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let g = guard.clone();
    let handle = rt.spawn(async move {
        server::serve(g, listener, async {
            let _ = stop_rx.await;
        })
        .await
    });

    // The home and its files are the guard's alone.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&home).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let config = RawConfig::new_project("SynthCore", "synthcoreai", Backend::Local).to_toml();
    let v = client::call(
        &socket,
        &GuardRequest::Adopt {
            root: "/tmp/example".into(),
            config: config.clone(),
            clouds: BTreeMap::new(),
        },
        &mut |_| {},
    )
    .unwrap();
    let adopted: AdoptReply = serde_json::from_value(v).unwrap();
    for f in std::fs::read_dir(home.join("projects").join(&adopted.project)).unwrap() {
        let f = f.unwrap();
        assert_eq!(
            f.metadata().unwrap().permissions().mode() & 0o777,
            0o600,
            "{:?}",
            f.path()
        );
    }

    // A looser workspace: prod writable, a huge threshold. Ignored.
    let loose = config
        .replace("read_only = true", "read_only = false")
        .replace(
            "cost_threshold_usd = \"10.00\"",
            "cost_threshold_usd = \"1000000\"",
        );
    let api = client::connect(&socket, &adopted.project, Some(loose), BTreeMap::new());
    let caller = Caller::new("claims-to-be-alice", "test");
    let cfg = api.config(&caller).unwrap();
    assert!(cfg.environment("prod").unwrap().read_only);
    assert!(
        cfg.notes
            .iter()
            .any(|n| n.contains("read_only = false ignored")),
        "{:?}",
        cfg.notes
    );
    let doctor = api.doctor(&caller).unwrap();
    assert!(
        doctor
            .notes
            .iter()
            .any(|n| n.contains("cost_threshold_usd"))
    );

    let plan = api
        .plan(
            &caller,
            PlanRequest::create(
                "prod",
                "AWS::S3::Bucket",
                Some("docs"),
                json!({}),
                Default::default(),
            ),
        )
        .unwrap();
    let aid = plan.gate.approval_id.clone().unwrap();
    // The engine named the caller from the socket, not from the request.
    assert!(plan.created_by.contains("uid "), "{}", plan.created_by);

    // A confirmation is refused in guarded mode; so is a code with no approver enrolled.
    let err = api
        .approve(
            &caller,
            aid.clone(),
            Proof::Confirmation {
                how: "typed yes".into(),
            },
            None,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("only an enrolled approver's code"),
        "{err}"
    );
    let code = Proof::Code {
        approver: None,
        code: "123456".into(),
    };
    assert!(api.approve(&caller, aid.clone(), code, None).is_err());

    // Enrol (this test runs as root in CI; elsewhere the guard refuses).
    let start = client::call(
        &socket,
        &GuardRequest::EnrollStart {
            approver: "alice".into(),
            proof: None,
        },
        &mut |_| {},
    );
    let am_root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if !am_root {
        let err = start.unwrap_err();
        assert!(err.to_string().contains("root"), "{err}");
        let _ = stop_tx.send(());
        rt.block_on(handle).unwrap();
        return;
    }
    let start: EnrollStartReply = serde_json::from_value(start.unwrap()).unwrap();
    let secret = start
        .otpauth_url
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    client::call(
        &socket,
        &GuardRequest::EnrollFinish {
            approver: "alice".into(),
            code: totp(&secret, now()),
        },
        &mut |_| {},
    )
    .unwrap();

    // The approver's next code approves; the same code again does not.
    let next = totp(&secret, now() + 30);
    let a = api
        .approve(
            &caller,
            aid.clone(),
            Proof::Code {
                approver: Some("alice".into()),
                code: next.clone(),
            },
            None,
        )
        .unwrap();
    assert!(
        a.decided_by.as_deref().unwrap().starts_with("human:alice"),
        "{a:?}"
    );
    let outcome = api.apply(&caller, plan.id.clone(), &mut |_| {}).unwrap();
    assert!(matches!(outcome, ApplyOutcome::Applied { .. }));
    let plan2 = api
        .plan(
            &caller,
            PlanRequest::create(
                "prod",
                "AWS::S3::Bucket",
                Some("docs2"),
                json!({}),
                Default::default(),
            ),
        )
        .unwrap();
    let err: EngineError = api
        .approve(
            &caller,
            plan2.gate.approval_id.clone().unwrap(),
            Proof::Code {
                approver: None,
                code: next,
            },
            None,
        )
        .unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");

    let log = api.audit_log(&caller).unwrap();
    assert!(log.iter().any(|e| e.action == "policy.workspace_ignored"));
    assert!(
        log.iter()
            .filter(|e| e.action == "approval.refused")
            .count()
            >= 3
    );
    assert!(!log.iter().any(|e| e.actor.starts_with("unverified:")));
    assert!(api.audit_verify(&caller).unwrap().ok);
    assert_eq!(
        api.doctor(&caller).unwrap().environments[0].level,
        // The test's guard runs as the caller's own account: no boundary.
        Level::Advisory
    );

    let _ = stop_tx.send(());
    rt.block_on(handle).unwrap();
}
