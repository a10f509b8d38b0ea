//! The IAM extension workflow end to end on two local clouds (one account
//! each) and a real SQLite store: a user with SES send-only gains S3 file
//! upload in dev through a normal plan, and the new policy is promoted to
//! prod with a human's approval; plus the inline-statement and
//! attach-existing-policy paths, an unknown capability, and lint/suggest
//! with the environment's account.

use infraguard_core::plan::GateDecision;
use infraguard_engine::iam::{ChangeKind, ExtendReport, ExtendRequest, ExtendStatus};
use infraguard_engine::{ApplyOutcome, PlanRequest, PromotionState};
use serde_json::{Value, json};

use super::harness::*;

const USER: &str = "AWS::IAM::User";
const ROLE: &str = "AWS::IAM::Role";
const POLICY: &str = "AWS::IAM::ManagedPolicy";

fn apply(e: &TestEngine, plan_id: &str) -> String {
    match e.apply(plan_id, &agent(), &mut |_| {}).unwrap() {
        ApplyOutcome::Applied { event, .. } => event.identifier.unwrap(),
        other => panic!("not applied: {other:#?}"),
    }
}

fn ses_send_only() -> Value {
    json!({
        "PolicyName": "SynthCoreAI-SES-SendOnly",
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": ["ses:SendEmail", "ses:SendRawEmail"],
            "Resource": "arn:aws:ses:us-east-1:*:identity/*"
        }]}
    })
}

/// A dev user or role with the given inline policies, created through the
/// engine (automatic in dev).
fn create_principal(e: &TestEngine, t: &str, purpose: &str, policies: Value) -> String {
    let mut props = json!({"Policies": policies});
    if t == ROLE {
        props["AssumeRolePolicyDocument"] = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    }
    let plan = e
        .plan(PlanRequest::create("dev", t, Some(purpose), props, agent()))
        .unwrap();
    assert_eq!(plan.gate.decision, GateDecision::Auto, "{:#?}", plan.gate);
    apply(e, &plan.id)
}

fn extend(e: &TestEngine, env: &str, t: &str, who: &str, capability: &str) -> ExtendReport {
    e.iam_extend(&ExtendRequest {
        env: env.into(),
        principal_type: t.into(),
        principal: who.into(),
        capability: capability.into(),
        resources: vec![],
        actor: agent(),
    })
    .unwrap()
}

#[test]
fn a_ses_send_only_user_gains_s3_upload_in_dev_and_it_is_promoted_to_prod() {
    let (_dir, e) = project();
    let user = create_principal(&e, USER, "app", json!([ses_send_only()]));
    assert_eq!(user, "synthcoreai-app-dev");

    // The user exists in prod too (promoted earlier, approved by a human).
    let first = e
        .promote(USER, &user, false, &agent(), &mut |_| {})
        .unwrap();
    assert_eq!(first.status, PromotionState::AwaitingApproval, "{first:#?}");
    e.approve_with(
        first.gate.as_ref().unwrap().approval_id.as_ref().unwrap(),
        &caller(),
        &confirm(),
        None,
    )
    .unwrap();
    let user_promoted = e
        .promote(USER, &user, false, &agent(), &mut |_| {})
        .unwrap();
    assert_eq!(
        user_promoted.status,
        PromotionState::Synced,
        "{user_promoted:#?}"
    );
    let prod_user = user_promoted.prod_id.clone().unwrap();
    assert_eq!(prod_user, "synthcoreai-app-prod");

    // Extension in dev: what is there, what is missing, one plan.
    let r = extend(&e, "dev", USER, &user, "I need to add file upload to S3");
    assert_eq!(r.status, ExtendStatus::Planned, "{r:#?}");
    assert_eq!(r.change, Some(ChangeKind::NewManagedPolicy));
    assert_eq!(r.policy_name.as_deref(), Some("SynthCoreAI-S3-FileUpload"));
    let current: Vec<&str> = r.current_policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(current, ["SynthCoreAI-SES-SendOnly"]);
    let added: Vec<(&str, &str)> = r
        .diff
        .added
        .iter()
        .map(|g| (g.action.as_str(), g.resource.as_str()))
        .collect();
    assert_eq!(
        added,
        [
            ("s3:PutObject", "arn:aws:s3:::synthcoreai-*/*"),
            ("s3:GetObject", "arn:aws:s3:::synthcoreai-*/*")
        ]
    );
    assert!(r.diff_text.contains("  ses:SendEmail"), "{}", r.diff_text);
    assert!(r.diff_text.contains("+ s3:PutObject"), "{}", r.diff_text);
    let plan = r.plan.clone().unwrap();
    assert_eq!(plan.env, "dev");
    assert_eq!(plan.type_name.as_str(), POLICY);
    assert_eq!(
        plan.desired_state["ManagedPolicyName"],
        "SynthCoreAI-S3-FileUpload"
    );
    assert_eq!(plan.desired_state["Users"], json!([user]));
    assert_eq!(
        plan.desired_state["PolicyDocument"]["Statement"][0]["Resource"],
        "arn:aws:s3:::synthcoreai-*/*"
    );
    // Scanned like any plan: a least-privilege policy has no open finding.
    assert_eq!(plan.open_findings().count(), 0, "{:#?}", plan.findings);
    assert_eq!(plan.gate.decision, GateDecision::Auto, "{:#?}", plan.gate);
    assert!(r.message.contains("infraguard apply"), "{}", r.message);

    // Applied in dev: the user now has it, and asking again changes nothing.
    let policy_arn = apply(&e, &plan.id);
    assert!(
        policy_arn.ends_with(":policy/SynthCoreAI-S3-FileUpload"),
        "{policy_arn}"
    );
    let again = extend(&e, "dev", USER, &user, "upload files to s3");
    assert_eq!(again.status, ExtendStatus::AlreadyGranted, "{again:#?}");
    assert!(again.plan.is_none());
    assert_eq!(again.current_policies.len(), 2);

    // In prod the user does not have it yet.
    let before = extend(&e, "prod", USER, &prod_user, "s3-file-upload");
    assert_eq!(before.diff.added.len(), 2);

    // Promotion: the prod plan waits for a human; then the policy exists in
    // prod, attached to the prod user.
    let waiting = e
        .promote(POLICY, &policy_arn, true, &agent(), &mut |_| {})
        .unwrap();
    assert_eq!(
        waiting.status,
        PromotionState::AwaitingApproval,
        "{waiting:#?}"
    );
    let approval = waiting.gate.as_ref().unwrap().approval_id.clone().unwrap();
    assert!(
        e.approve_with(&approval, &caller(), &agent_code(), None)
            .is_err(),
        "an agent cannot approve"
    );
    e.approve_with(
        &approval,
        &caller(),
        &confirm(),
        Some("S3 upload for the app"),
    )
    .unwrap();
    let done = e
        .promote(POLICY, &policy_arn, true, &agent(), &mut |_| {})
        .unwrap();
    assert_eq!(done.status, PromotionState::Synced, "{done:#?}");
    let prod_arn = done.prod_id.clone().unwrap();
    assert_ne!(prod_arn, policy_arn, "a different account");
    let prod_policy = e.get_resource("prod", POLICY, &prod_arn).unwrap();
    assert_eq!(prod_policy.properties["Users"], json!([prod_user]));
    assert_eq!(
        prod_policy.properties["ManagedPolicyName"],
        "SynthCoreAI-S3-FileUpload"
    );

    let after = extend(&e, "prod", USER, &prod_user, "s3-file-upload");
    assert_eq!(after.status, ExtendStatus::AlreadyGranted, "{after:#?}");
    let names: Vec<&str> = after
        .current_policies
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["SynthCoreAI-SES-SendOnly", "SynthCoreAI-S3-FileUpload"]
    );
}

#[test]
fn an_inline_policy_of_the_same_service_gets_the_missing_statements() {
    let (_dir, e) = project();
    let read_only = json!({
        "PolicyName": "SynthCoreAI-S3-ReadOnly",
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "arn:aws:s3:::synthcoreai-*"},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::synthcoreai-*/*"}
        ]}
    });
    let role = create_principal(&e, ROLE, "worker", json!([read_only]));
    let r = extend(&e, "dev", ROLE, &role, "upload files to S3");
    assert_eq!(r.status, ExtendStatus::Planned, "{r:#?}");
    assert_eq!(r.change, Some(ChangeKind::AddInlineStatements));
    assert_eq!(r.policy_name.as_deref(), Some("SynthCoreAI-S3-ReadOnly"));
    // GetObject is granted already: only PutObject is added.
    let added: Vec<&str> = r.diff.added.iter().map(|g| g.action.as_str()).collect();
    assert_eq!(added, ["s3:PutObject"]);
    assert_eq!(r.diff.already_granted[0].action, "s3:GetObject");
    let plan = r.plan.unwrap();
    assert_eq!(plan.identifier.as_deref(), Some(role.as_str()));
    assert_eq!(
        plan.patch,
        Some(
            json!([{"op": "add", "path": "/Policies/0/PolicyDocument/Statement/-",
            "value": {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::synthcoreai-*/*"}}])
        )
    );
    apply(&e, &plan.id);
    let again = extend(&e, "dev", ROLE, &role, "upload files to S3");
    assert_eq!(again.status, ExtendStatus::AlreadyGranted, "{again:#?}");
}

#[test]
fn an_existing_conventional_policy_is_attached_not_duplicated() {
    let (_dir, e) = project();
    let first = create_principal(&e, USER, "app", json!([ses_send_only()]));
    let r = extend(&e, "dev", USER, &first, "publish to an sns topic");
    let arn = apply(&e, &r.plan.unwrap().id);
    let second = create_principal(&e, USER, "reports", json!([]));
    let r = extend(&e, "dev", USER, &second, "sns-publish");
    assert_eq!(r.change, Some(ChangeKind::AttachManagedPolicy), "{r:#?}");
    assert_eq!(
        r.plan.as_ref().unwrap().patch,
        Some(json!([{"op": "add", "path": "/ManagedPolicyArns", "value": [arn]}]))
    );
    apply(&e, &r.plan.unwrap().id);
    let again = extend(&e, "dev", USER, &second, "sns-publish");
    assert_eq!(again.status, ExtendStatus::AlreadyGranted, "{again:#?}");
    assert_eq!(again.current_policies[0].kind, "managed");
}

#[test]
fn unknown_capabilities_and_wrong_principals_make_no_plan() {
    let (_dir, e) = project();
    let user = create_principal(&e, USER, "app", json!([]));
    let plans_before = e.plans(None, 100).unwrap().len();
    let r = extend(&e, "dev", USER, &user, "launch rockets");
    assert_eq!(r.status, ExtendStatus::UnknownCapability);
    assert!(r.plan.is_none());
    let r = extend(&e, "dev", USER, &user, "send email notifications");
    assert_eq!(r.status, ExtendStatus::AmbiguousCapability);
    assert_eq!(
        e.plans(None, 100).unwrap().len(),
        plans_before,
        "no plan made"
    );
    let err = e
        .iam_extend(&ExtendRequest {
            env: "dev".into(),
            principal_type: "AWS::S3::Bucket".into(),
            principal: "x".into(),
            capability: "sns-publish".into(),
            resources: vec![],
            actor: agent(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("not a principal"), "{err}");
    let missing = extend_missing(&e);
    assert!(
        matches!(missing, infraguard_engine::EngineError::InvalidInput(_)),
        "{missing}"
    );
    assert!(
        missing
            .to_string()
            .contains("there is no AWS::IAM::User `nobody` in dev")
    );
}

fn extend_missing(e: &TestEngine) -> infraguard_engine::EngineError {
    e.iam_extend(&ExtendRequest {
        env: "dev".into(),
        principal_type: USER.into(),
        principal: "nobody".into(),
        capability: "sns-publish".into(),
        resources: vec![],
        actor: agent(),
    })
    .unwrap_err()
}

#[test]
fn lint_and_suggest_use_the_environments_account() {
    let (_dir, e) = project();
    let account = e.cloud("dev").unwrap();
    let account = infraguard_core::cloud::Cloud::identity(account)
        .unwrap()
        .account_id;
    let s = e
        .iam_suggest(
            "read the users table",
            &["synthcoreai-users-dev".into()],
            "dev",
        )
        .unwrap();
    let p = s.policy().unwrap();
    assert_eq!(p.policy_name, "SynthCoreAI-DynamoDB-ReadOnly");
    assert_eq!(
        p.resources[0],
        format!("arn:aws:dynamodb:us-east-1:{account}:table/synthcoreai-users-dev")
    );
    let r = e
        .iam_lint(
            r#"{"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}"#,
            Some("dev"),
        )
        .unwrap();
    let fix = r.report.findings[0].fix.as_ref().unwrap();
    assert_eq!(
        fix[0]["value"]["Resource"],
        format!("arn:aws:sqs:us-east-1:{account}:synthcoreai-*")
    );
    assert!(e.iam_lint("not a policy", None).is_err());
}

/// The issue's naming requirement, through the normal plan path: a managed
/// or inline policy named off the convention gets a finding with the
/// suggested name (the policy crate's IG-NAME-002).
#[test]
fn policies_named_off_the_convention_get_a_finding_with_the_suggested_name() {
    let (_dir, e) = project();
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::synthcoreai-*/*"}]});
    let plan = e
        .plan(PlanRequest::create(
            "dev",
            POLICY,
            None,
            json!({"ManagedPolicyName": "upload-policy", "PolicyDocument": doc}),
            agent(),
        ))
        .unwrap();
    let f = plan
        .findings
        .iter()
        .find(|f| f.rule == "IG-NAME-002")
        .unwrap_or_else(|| panic!("{:#?}", plan.findings));
    assert!(
        // The document's actions are exactly the "upload files to S3"
        // capability, so the suggestion is that capability's conventional name.
        f.message.contains("suggested: `SynthCoreAI-S3-FileUpload`"),
        "{}",
        f.message
    );
    let inline = e
        .plan(PlanRequest::create(
            "dev",
            USER,
            Some("ops"),
            json!({"Policies": [{"PolicyName": "mailer", "PolicyDocument": {"Statement": [{"Effect": "Allow",
                "Action": "ses:SendEmail", "Resource": "arn:aws:ses:us-east-1:*:identity/*"}]}}]}),
            agent(),
        ))
        .unwrap();
    let f = inline
        .findings
        .iter()
        .find(|f| f.rule == "IG-NAME-002")
        .unwrap_or_else(|| panic!("{:#?}", inline.findings));
    assert_eq!(f.path, "Properties/Policies/0/PolicyName");
    assert!(
        f.message.contains("suggested: `SynthCoreAI-SES-Mailer`"),
        "{}",
        f.message
    );
    // The conventional names made by `iam extend` pass.
    let user = create_principal(&e, USER, "app", json!([ses_send_only()]));
    let r = extend(&e, "dev", USER, &user, "send messages to an sqs queue");
    let plan = r.plan.unwrap();
    assert!(
        plan.findings.iter().all(|f| f.rule != "IG-NAME-002"),
        "{:#?}",
        plan.findings
    );
}
