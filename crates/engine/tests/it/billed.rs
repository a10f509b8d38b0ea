//! The cost review on AWS: what Cost Explorer billed sits beside each
//! estimate, on the estimate's own line where the service has one; on the
//! local cloud the report says it is estimates only. The `Account` port
//! here answers `spend` as Cost Explorer would for a fixed bill, and
//! records the period it was asked for.

use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};

use infraguard_core::account::{Account, SessionRequest, Simulated, SpendPeriod, TrailEvent};
use infraguard_core::clock::Timestamp;
use infraguard_core::cloud::{Cloud, CloudError, ErrorCode};
use infraguard_core::env::Backend;
use infraguard_core::money::Money;
use infraguard_engine::PlanRequest;
use serde_json::{Value, json};

use super::harness::*;

/// Cost Explorer for one account: a bill for November and December 2026.
struct Bill {
    asked: Mutex<Vec<(String, String)>>,
    refuse: bool,
}

fn usd(s: &str) -> Money {
    Money::parse(s).unwrap()
}

impl Account for Bill {
    fn assume_approval_role(&self, _: &SessionRequest) -> Result<Box<dyn Cloud>, CloudError> {
        Err(CloudError::service(ErrorCode::AccessDenied, "not here"))
    }
    fn simulate(&self, _: &str, _: &[String]) -> Result<Vec<Simulated>, CloudError> {
        Ok(Vec::new())
    }
    fn trust_policy(&self, _: &str) -> Result<Value, CloudError> {
        Ok(json!({}))
    }
    fn write_events(&self, _: i64, _: i64) -> Result<Vec<TrailEvent>, CloudError> {
        Ok(Vec::new())
    }
    fn spend(&self, start: &str, end: &str) -> Result<Vec<SpendPeriod>, CloudError> {
        self.asked.lock().unwrap().push((start.into(), end.into()));
        if self.refuse {
            return Err(CloudError::service(
                ErrorCode::AccessDenied,
                "AccessDeniedException: User: arn:aws:iam::222222222222:user/agent is not authorized to perform: ce:GetCostAndUsage",
            ));
        }
        Ok(vec![
            SpendPeriod {
                start: "2026-11-01".into(),
                end: "2026-12-01".into(),
                estimated: false,
                services: vec![
                    ("Amazon Simple Storage Service".into(), usd("2.871")),
                    ("Tax".into(), usd("0.52")),
                ],
            },
            SpendPeriod {
                start: "2026-12-01".into(),
                end: "2026-12-04".into(),
                estimated: true,
                services: vec![
                    ("Amazon Simple Storage Service".into(), usd("0.3049")),
                    ("AWS Lambda".into(), usd("0.00")),
                ],
            },
        ])
    }
}

/// The harness's engine on 2026-12-03, with prod on the aws backend and
/// `bill` as prod's account.
fn on_aws(dir: &std::path::Path, refuse: bool) -> (TestEngine, Arc<Bill>) {
    let clock = Arc::new(ManualClock(AtomicI64::new(
        Timestamp::parse_rfc3339("2026-12-03T10:00:00Z")
            .unwrap()
            .unix(),
    )));
    let e = engine_with(dir, clock, |raw| {
        let prod = raw.environments.get_mut("prod").unwrap();
        prod.backend = Backend::Aws;
        prod.profile = Some("synthcoreai-prod".into());
    });
    let bill = Arc::new(Bill {
        asked: Mutex::new(Vec::new()),
        refuse,
    });
    (e.with_account("prod", bill.clone()), bill)
}

fn bucket(e: &TestEngine, env: &str, name: &str) {
    let plan = e
        .plan(PlanRequest::create(
            env,
            "AWS::S3::Bucket",
            None,
            json!({"BucketName": name}),
            agent(),
        ))
        .unwrap();
    approve_and_apply(e, &plan);
}

#[test]
fn on_aws_the_review_shows_what_cost_explorer_billed_beside_each_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let (e, bill) = on_aws(dir.path(), false);
    bucket(&e, "dev", "synthcoreai-documents-dev");
    bucket(&e, "prod", "synthcoreai-documents-prod");

    let report = e.cost_report(None).unwrap();
    // One call, from the first of last month to tomorrow (the end is exclusive).
    assert_eq!(
        *bill.asked.lock().unwrap(),
        vec![("2026-11-01".to_string(), "2026-12-04".to_string())]
    );
    let dev = &report.environments[0];
    assert_eq!(dev.env, "aws-dev");
    assert!(dev.actual.is_none());
    assert!(dev.actual_note.as_deref().unwrap().contains("local cloud"));
    let prod = &report.environments[1];
    let actual = prod.actual.as_ref().expect("prod is on AWS");
    assert_eq!(actual.month_to_date_usd, usd("0.30"));
    assert_eq!(actual.last_month_usd, usd("3.39"));
    assert!(actual.estimated);
    // AWS's S3 sits on the estimate's S3 line; Tax has a line of its own;
    // Lambda at $0.00 both months is left out.
    let lines: Vec<(&str, &str, Money, Money)> = actual
        .services
        .iter()
        .map(|l| {
            (
                l.service.as_str(),
                l.aws_service.as_str(),
                l.month_to_date_usd,
                l.last_month_usd,
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (
                "S3 Storage",
                "Amazon Simple Storage Service",
                usd("0.30"),
                usd("2.87")
            ),
            ("Tax", "Tax", Money::ZERO, usd("0.52")),
        ]
    );

    let tree = infraguard_cost::report::render_tree(&report);
    let prod_part = tree.split("aws-prod:").nth(1).unwrap();
    assert!(
        prod_part
            .contains("├─ S3 Storage: $0.28 · billed $0.30 this month so far, $2.87 last month"),
        "{tree}"
    );
    assert!(
        prod_part
            .contains("├─ Tax: not tracked · billed $0.00 this month so far, $0.52 last month"),
        "{tree}"
    );
    assert!(
        prod_part.contains(
            "billed $0.30 this month so far (not final), $3.39 last month (Cost Explorer)"
        ),
        "{tree}"
    );
    let dev_part = tree
        .split("aws-dev:")
        .nth(1)
        .unwrap()
        .split("aws-prod:")
        .next()
        .unwrap();
    assert!(
        dev_part.contains("(estimates only: the local cloud sends no bill)"),
        "{tree}"
    );
    // dev has no bill, so the combined line adds no partial bill.
    assert!(
        !tree
            .lines()
            .any(|l| l.starts_with("Combined Total") && l.contains("billed")),
        "{tree}"
    );
}

#[test]
fn when_cost_explorer_refuses_the_review_says_so_and_keeps_the_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = on_aws(dir.path(), true);
    bucket(&e, "prod", "synthcoreai-documents-prod");
    let report = e.cost_report(Some("prod")).unwrap();
    let prod = &report.environments[0];
    assert!(prod.actual.is_none());
    let note = prod.actual_note.as_deref().unwrap();
    assert!(
        note.contains("ce:GetCostAndUsage") && note.contains("AccessDenied"),
        "{note}"
    );
    assert_eq!(prod.total_usd, report.combined_total_usd);
    assert!(!prod.total_usd.0.is_zero());
}

#[test]
fn billing_alerts_mail_the_configured_address_and_a_rerun_plans_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine_with(
        dir.path(),
        Arc::new(infraguard_core::clock::SystemClock),
        |raw| raw.cost.alert_email = Some("ops@example.com".into()),
    );
    let plans = e
        .plan_billing_alarms("dev", None, &agent())
        .unwrap()
        .into_inner();
    let kinds: Vec<&str> = plans.iter().map(|p| p.type_name.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "AWS::SNS::Topic",
            "AWS::CloudWatch::Alarm",
            "AWS::CloudWatch::Alarm",
            "AWS::CloudWatch::Alarm"
        ]
    );
    for p in &plans {
        approve_and_apply(&e, p);
    }
    let topic_arn = e.list_resources("dev", Some("AWS::SNS::Topic")).unwrap()[0]
        .1
        .identifier
        .clone();
    assert!(
        topic_arn.ends_with(":synthcoreai-billing-alerts-dev"),
        "{topic_arn}"
    );
    for (_, alarm) in e
        .list_resources("dev", Some("AWS::CloudWatch::Alarm"))
        .unwrap()
    {
        let live = e
            .get_resource("dev", "AWS::CloudWatch::Alarm", &alarm.identifier)
            .unwrap();
        assert_eq!(live.properties["AlarmActions"], json!([topic_arn]));
    }
    // A second run finds all four and plans nothing.
    let again = e
        .plan_billing_alarms("dev", None, &agent())
        .unwrap()
        .into_inner();
    assert!(again.is_empty(), "{again:?}");
}
