//! `aws-enforced` approvals in the engine: an approval role on prod makes
//! an approval an MFA session from the `Account` port, and the plan is
//! applied with that session's cloud, never the engine's own.
//!
//! The port here is a stand-in: it opens a session only for the code
//! `135790` (what STS would do with the approver's device), records what
//! it was asked, and its session cloud counts the writes it carries.

use std::sync::{Arc, Mutex};

use infraguard_cloud_local::{LocalAccount, LocalCloud};
use infraguard_core::ResourceType;
use infraguard_core::account::{Account, SessionRequest, Simulated, SpendPeriod, TrailEvent};
use infraguard_core::approval::ApprovalStatus;
use infraguard_core::clock::SystemClock;
use infraguard_core::cloud::{Cloud, CloudError, ErrorCode, ProgressEvent};
use infraguard_core::env::ApprovalRole;
use infraguard_core::store::Store;
use infraguard_engine::{ApplyOutcome, EngineError, Level, PlanRequest};
use serde_json::{Value, json};

use super::harness::*;

const CODE: &str = "135790";
const ROLE: &str = "arn:aws:iam::222222222222:role/approver";
const MFA: &str = "arn:aws:iam::222222222222:mfa/alice";

/// Writes the session cloud made.
type Writes = Arc<Mutex<Vec<String>>>;

struct Sessions {
    prod_db: std::path::PathBuf,
    asked: Mutex<Vec<SessionRequest>>,
    writes: Writes,
}

/// The session's cloud: the prod cloud, counting its writes.
struct Counting {
    inner: LocalCloud,
    writes: Writes,
}

impl Cloud for Counting {
    fn create(&self, t: &ResourceType, d: &Value, ct: &str) -> Result<ProgressEvent, CloudError> {
        self.writes.lock().unwrap().push(format!("create {t}"));
        self.inner.create(t, d, ct)
    }
    fn get(
        &self,
        t: &ResourceType,
        id: &str,
    ) -> Result<infraguard_core::ResourceDescription, CloudError> {
        self.inner.get(t, id)
    }
    fn update(
        &self,
        t: &ResourceType,
        id: &str,
        p: &Value,
        ct: &str,
    ) -> Result<ProgressEvent, CloudError> {
        self.writes.lock().unwrap().push(format!("update {t} {id}"));
        self.inner.update(t, id, p, ct)
    }
    fn delete(&self, t: &ResourceType, id: &str, ct: &str) -> Result<ProgressEvent, CloudError> {
        self.writes.lock().unwrap().push(format!("delete {t} {id}"));
        self.inner.delete(t, id, ct)
    }
    fn list(
        &self,
        t: &ResourceType,
        nt: Option<&str>,
        rm: Option<&Value>,
    ) -> Result<infraguard_core::ListPage, CloudError> {
        self.inner.list(t, nt, rm)
    }
    fn request_status(&self, rt: &str) -> Result<ProgressEvent, CloudError> {
        self.inner.request_status(rt)
    }
    fn schema(&self, t: &ResourceType) -> Result<infraguard_core::ResourceSchema, CloudError> {
        self.inner.schema(t)
    }
    fn identity(&self) -> Result<infraguard_core::Identity, CloudError> {
        self.inner.identity()
    }
}

impl Account for Sessions {
    fn assume_approval_role(&self, r: &SessionRequest) -> Result<Box<dyn Cloud>, CloudError> {
        self.asked.lock().unwrap().push(r.clone());
        if r.token_code != CODE {
            return Err(CloudError::service(
                ErrorCode::AccessDenied,
                "AccessDenied: MultiFactorAuthentication failed with invalid MFA one time pass code.",
            ));
        }
        let account = LocalAccount {
            env: "prod".into(),
            region: "us-east-1".into(),
        };
        Ok(Box::new(Counting {
            inner: LocalCloud::open(&self.prod_db, account, Arc::new(SystemClock)).unwrap(),
            writes: self.writes.clone(),
        }))
    }
    fn simulate(&self, _: &str, actions: &[String]) -> Result<Vec<Simulated>, CloudError> {
        Ok(actions
            .iter()
            .map(|a| Simulated {
                action: a.clone(),
                decision: "implicitDeny".into(),
            })
            .collect())
    }
    fn trust_policy(&self, _: &str) -> Result<Value, CloudError> {
        Ok(
            json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
        )
    }
    fn write_events(&self, _: i64, _: i64) -> Result<Vec<TrailEvent>, CloudError> {
        Ok(Vec::new())
    }
    fn spend(&self, _: &str, _: &str) -> Result<Vec<SpendPeriod>, CloudError> {
        Ok(Vec::new())
    }
}

/// The harness's engine, with an approval role on prod and `Sessions` as
/// prod's account.
fn enforced(dir: &std::path::Path) -> (TestEngine, Arc<Sessions>) {
    let mut config = config_with(|_| {});
    for e in &mut config.environments {
        if e.name == "prod" {
            e.account_id = Some("222222222222".into());
            e.approval_role = Some(ApprovalRole {
                role_arn: ROLE.into(),
                mfa_serial: MFA.into(),
                profile: None,
            });
        }
    }
    let sessions = Arc::new(Sessions {
        prod_db: dir.join("cloud-prod.db"),
        asked: Mutex::new(Vec::new()),
        writes: Arc::new(Mutex::new(Vec::new())),
    });
    let engine =
        engine_of(dir, Arc::new(SystemClock), config).with_account("prod", sessions.clone());
    (engine, sessions)
}

fn bucket(e: &TestEngine, name: &str) -> (String, String) {
    let plan = e
        .plan(PlanRequest::create(
            "prod",
            "AWS::S3::Bucket",
            None,
            json!({"BucketName": name}),
            agent(),
        ))
        .unwrap();
    let approval = plan.gate.approval_id.clone().expect("prod needs a human");
    (plan.id.clone(), approval)
}

fn exists(e: &TestEngine, name: &str) -> bool {
    e.get_resource("prod", "AWS::S3::Bucket", name).is_ok()
}

#[test]
fn prod_with_an_approval_role_is_aws_enforced_and_dev_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = enforced(dir.path());
    assert_eq!(e.level_of("prod"), Level::AwsEnforced);
    assert_eq!(e.level_of("dev"), Level::Advisory);
    // What the engine tells a host to ask for: the role's MFA code in prod.
    let (_, approval) = bucket(&e, "attest-prod");
    assert_eq!(
        e.attestation(&infraguard_engine::Subject::Approval(approval))
            .unwrap(),
        infraguard_engine::Attestation::AwsMfa {
            env: "prod".into(),
            role_arn: ROLE.into(),
            mfa_serial: MFA.into(),
        }
    );
    let report = e.doctor_report(&caller());
    let prod = report
        .environments
        .iter()
        .find(|l| l.name == "prod")
        .unwrap();
    // The local cloud names an account the port's answers agree with.
    assert_eq!(prod.level, Level::AwsEnforced, "{:?}", prod.reasons);
}

#[test]
fn a_confirmation_or_a_guard_code_does_not_approve_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (e, sessions) = enforced(dir.path());
    let (plan, approval) = bucket(&e, "synthcoreai-confirm-prod");
    for proof in [confirm(), agent_code()] {
        let err = e
            .approve_with(&approval, &caller(), &proof, None)
            .unwrap_err();
        assert!(err.to_string().contains("aws-enforced"), "{err}");
    }
    assert_eq!(
        e.store().approval(&approval).unwrap().unwrap().status,
        ApprovalStatus::Pending
    );
    assert!(sessions.asked.lock().unwrap().is_empty());
    // An approval row forged to `approved` still has no session to write with.
    let mut forged = e.store().approval(&approval).unwrap().unwrap();
    forged.status = ApprovalStatus::Approved;
    forged.decided_by = Some("human:alice via forged".into());
    e.store()
        .decide_approval(&forged, ApprovalStatus::Pending, &[])
        .unwrap();
    match e.apply(&plan, &agent(), &mut noop()).unwrap() {
        ApplyOutcome::Refused { reasons, .. } => {
            assert!(reasons[0].contains("aws-enforced"), "{reasons:?}")
        }
        other => panic!("applied without an MFA session: {other:?}"),
    }
    assert!(!exists(&e, "synthcoreai-confirm-prod"));
    assert!(sessions.writes.lock().unwrap().is_empty());
}

#[test]
fn a_wrong_code_is_awss_refusal_and_the_right_one_applies_with_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let (e, sessions) = enforced(dir.path());
    let (plan, approval) = bucket(&e, "synthcoreai-mfa-prod");

    let err = e
        .approve_mfa(&approval, &caller(), "111111", None, &mut noop())
        .unwrap_err();
    assert!(matches!(err, EngineError::ApprovalRefused { .. }));
    assert!(err.to_string().contains("AccessDenied"), "{err}");
    // Not six digits: STS is not asked.
    assert!(
        e.approve_mfa(&approval, &caller(), "12345", None, &mut noop())
            .is_err()
    );
    assert_eq!(sessions.asked.lock().unwrap().len(), 1);
    assert!(!exists(&e, "synthcoreai-mfa-prod"));

    let done = e
        .approve_mfa(&approval, &caller(), CODE, Some("release 12"), &mut noop())
        .unwrap();
    assert!(
        matches!(done.outcome, ApplyOutcome::Applied { .. }),
        "{:?}",
        done.outcome
    );
    assert_eq!(done.session_name, format!("infraguard-plan-{plan}"));
    assert!(
        done.approval
            .decided_by
            .as_deref()
            .unwrap()
            .starts_with("human:alice via AWS MFA session infraguard-plan-")
    );
    assert!(exists(&e, "synthcoreai-mfa-prod"));
    assert_eq!(
        *sessions.writes.lock().unwrap(),
        vec!["create AWS::S3::Bucket".to_string()]
    );
    let asked = sessions.asked.lock().unwrap();
    let last = asked.last().unwrap();
    assert_eq!(
        (last.role_arn.as_str(), last.mfa_serial.as_str()),
        (ROLE, MFA)
    );
    assert_eq!(last.duration_seconds, 900);
    let policy: Value = serde_json::from_str(&last.policy).unwrap();
    assert!(
        policy
            .to_string()
            .contains("arn:aws:s3:::synthcoreai-mfa-prod")
    );
    assert!(!format!("{last:?}").contains(CODE), "the code is in Debug");
    // The audit: refused, granted, session, applied; the code nowhere.
    let log = e.audit_log().unwrap();
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(CODE) && !text.contains("111111"));
    for action in [
        "approval.refused",
        "approval.granted",
        "session.opened",
        "apply.succeeded",
    ] {
        assert!(log.iter().any(|a| a.action == action), "{action} missing");
    }
    assert!(e.audit_verify().unwrap().ok);
    drop(asked);
    // The approval is spent: a second code does not apply again.
    assert!(
        e.approve_mfa(&approval, &caller(), CODE, None, &mut noop())
            .is_err()
    );
    assert_eq!(sessions.writes.lock().unwrap().len(), 1);
}
