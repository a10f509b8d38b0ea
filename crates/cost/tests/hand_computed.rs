//! Estimates checked against arithmetic done by hand from the price table
//! (`shared/reference/prices.md`, and the catalog's from-memory entries where
//! the table has no price). Each expectation must hold within one cent.

use infraguard_core::{CostEstimate, Money, ResourceType};
use infraguard_cost::report::{self, ReportItem};
use infraguard_cost::{
    DEFAULT_ALERT_THRESHOLDS, DEFAULT_APPROVAL_THRESHOLD, ThresholdDecision, Usage, UsageFile,
    estimate, parse_usage_arg, render_estimate, threshold_decision,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;

fn est_in(region: &str, ty: &str, props: Value, usage: &str) -> CostEstimate {
    let ty = ResourceType::new(ty).unwrap();
    let usage = parse_usage_arg(usage).unwrap();
    estimate(&ty, &props, region, &usage).unwrap()
}

fn est(ty: &str, props: Value, usage: &str) -> CostEstimate {
    est_in("us-east-1", ty, props, usage)
}

/// Within a cent of `expected`, and fully known.
#[track_caller]
fn assert_usd(e: &CostEstimate, expected: &str) {
    let want = Decimal::from_str(expected).unwrap();
    let diff = (e.monthly_usd.0 - want).abs();
    assert!(
        diff < Decimal::new(1, 2),
        "expected ${expected}, got {} ({e:#?})",
        e.monthly_usd.0
    );
    assert!(e.known, "expected a known estimate: {:?}", e.notes);
}

fn has_note(e: &CostEstimate, needle: &str) -> bool {
    e.notes.iter().any(|n| n.contains(needle))
}

// ---------------------------------------------------------------- RDS ----

#[test]
fn rds_postgres_t3_micro_20gb_gp3() {
    // 0.018 × 730 = 13.14; 20 × 0.115 = 2.30; total 15.44
    let e = est(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20", "StorageType": "gp3"}),
        "",
    );
    assert_usd(&e, "15.44");
    assert_eq!(e.monthly_usd.to_string(), "$15.44");
    assert_eq!(e.tag_value(), "15.44 USD/month");
    assert_eq!(e.breakdown[0].monthly_cost, Money::parse("13.14").unwrap());
    assert_eq!(e.breakdown[1].monthly_cost, Money::parse("2.3").unwrap());
}

#[test]
fn rds_mysql_t3_small_the_seeds_example_at_730_hours() {
    // 0.034 × 730 = 24.82; 20 × 0.115 = 2.30; total 27.12 (the seed's 26.78 used 720 h)
    let e = est(
        "AWS::RDS::DBInstance",
        json!({"Engine": "mysql", "DBInstanceClass": "db.t3.small", "AllocatedStorage": 20}),
        "",
    );
    assert_usd(&e, "27.12");
    assert_eq!(
        threshold_decision(&e, DEFAULT_APPROVAL_THRESHOLD),
        ThresholdDecision::RequiresApproval
    );
}

#[test]
fn rds_multi_az_doubles_instance_and_storage() {
    // 0.016 × 730 × 2 = 23.36; 20 × 0.115 × 2 = 4.60; total 27.96
    let e = est(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20", "MultiAZ": true}),
        "",
    );
    assert_usd(&e, "27.96");
    assert!(e.breakdown[0].name.contains("Multi-AZ"));
}

#[test]
fn rds_io1_with_provisioned_iops() {
    // 0.017 × 730 = 12.41; 100 × 0.125 = 12.50; 1000 × 0.10 = 100.00; total 124.91
    let e = est(
        "AWS::RDS::DBInstance",
        json!({"Engine": "mysql", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "100", "Iops": 1000}),
        "",
    );
    assert_usd(&e, "124.91");
    assert_eq!(e.breakdown[1].name, "Storage (io1)");
}

#[test]
fn rds_hours_overridden_by_argument() {
    // 0.018 × 200 = 3.60; 20 × 0.115 = 2.30; total 5.90
    let e = est(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20"}),
        "monthly_hours=200",
    );
    assert_usd(&e, "5.90");
    assert_eq!(e.assumptions[0].key, "monthly_hours");
    assert_eq!(e.assumptions[0].source, "argument");
    assert_eq!(
        threshold_decision(&e, DEFAULT_APPROVAL_THRESHOLD),
        ThresholdDecision::AutoApproved
    );
}

#[test]
fn rds_unknown_class_is_named_not_guessed() {
    // Storage is still priced: 20 × 0.115 = 2.30 as a lower bound.
    let e = est(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "DBInstanceClass": "db.x2iedn.32xlarge", "AllocatedStorage": "20"}),
        "",
    );
    assert!(!e.known);
    assert!(
        has_note(&e, "unknown price for db.x2iedn.32xlarge (postgres)"),
        "{:?}",
        e.notes
    );
    assert_eq!(e.monthly_usd, Money::parse("2.3").unwrap());
    assert_eq!(e.tag_value(), "unknown");
    assert_eq!(
        threshold_decision(&e, DEFAULT_APPROVAL_THRESHOLD),
        ThresholdDecision::RequiresApproval
    );
}

#[test]
fn rds_class_from_a_parameter_is_unknown_with_the_property_named() {
    let e = est(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "DBInstanceClass": {"Ref": "DbClass"}, "AllocatedStorage": "20"}),
        "",
    );
    assert!(!e.known);
    assert!(
        has_note(&e, "DBInstanceClass") && has_note(&e, "intrinsic"),
        "{:?}",
        e.notes
    );
}

// ----------------------------------------------------------------- S3 ----

#[test]
fn s3_defaults_with_corrected_request_prices() {
    // 10 GB × 0.023 = 0.23; 10,000 PUT = 10 × 0.005 = 0.05; 10,000 GET = 10 × 0.0004 = 0.004
    // total 0.284 (the seed's request prices would give 0.2304)
    let e = est(
        "AWS::S3::Bucket",
        json!({"BucketName": "synthcoreai-documents-dev"}),
        "",
    );
    assert_usd(&e, "0.284");
    assert_eq!(e.tag_value(), "0.28 USD/month");
    let put = e
        .breakdown
        .iter()
        .find(|c| c.name.starts_with("PUT"))
        .unwrap();
    assert_eq!(
        (put.unit.as_str(), put.price),
        ("1k requests", Money::parse("0.005").unwrap())
    );
}

#[test]
fn s3_busy_bucket_crosses_the_threshold() {
    // 100 × 0.023 = 2.30; 1,000,000 PUT = 1000 × 0.005 = 5.00; 10,000,000 GET = 10,000 × 0.0004 = 4.00
    // total 11.30
    let e = est(
        "AWS::S3::Bucket",
        json!({}),
        "storage_gb=100,monthly_put_requests=1000000,monthly_get_requests=10000000",
    );
    assert_usd(&e, "11.30");
    assert_eq!(
        threshold_decision(&e, DEFAULT_APPROVAL_THRESHOLD),
        ThresholdDecision::RequiresApproval
    );
}

#[test]
fn s3_storage_tiers() {
    // 51,200 GB × 0.023 = 1177.60; 8,800 GB × 0.022 = 193.60; requests 0.054; total 1371.254
    let e = est("AWS::S3::Bucket", json!({}), "storage_gb=60000");
    assert_usd(&e, "1371.254");
    assert_eq!(e.breakdown[1].name, "Storage, S3 Standard (next 450 TB)");
}

// ------------------------------------------------------------- Lambda ----

#[test]
fn lambda_x86_defaults() {
    // 100,000 × 0.1 s × 0.125 GB = 1,250 GB-s × 0.0000166667 = 0.020833375
    // 0.1M requests × 0.20 = 0.02; total 0.040833375
    let e = est(
        "AWS::Lambda::Function",
        json!({"Runtime": "python3.13"}),
        "",
    );
    assert_usd(&e, "0.040833375");
    assert_eq!(e.breakdown[1].monthly_quantity, Decimal::from(1250));
    assert!(has_note(&e, "128 MB"));
}

#[test]
fn lambda_arm64_gb_seconds() {
    // 1,000,000 × 0.2 s × 0.5 GB = 100,000 GB-s × 0.0000133334 = 1.33334
    // 1M requests × 0.20 = 0.20; total 1.53334
    let e = est(
        "AWS::Lambda::Function",
        json!({"MemorySize": 512, "Architectures": ["arm64"]}),
        "monthly_requests=1000000,average_duration_ms=200",
    );
    assert_usd(&e, "1.53334");
    assert_eq!(e.breakdown[1].name, "Compute (arm64, 512 MB)");
}

#[test]
fn lambda_x86_large() {
    // 3,000,000 × 0.5 s × 1 GB = 1,500,000 GB-s × 0.0000166667 = 25.00005; 3M × 0.20 = 0.60
    // total 25.60005
    let e = est(
        "AWS::Lambda::Function",
        json!({"MemorySize": "1024"}),
        r#"{"monthly_requests": 3000000, "average_duration_ms": 500}"#,
    );
    assert_usd(&e, "25.60005");
}

// ------------------------------------------------------------ Cognito ----

#[test]
fn cognito_essentials_after_10k_free() {
    // (25,000 − 10,000) × 0.015 = 225.00
    let e = est(
        "AWS::Cognito::UserPool",
        json!({"UserPoolTier": "ESSENTIALS"}),
        "monthly_active_users=25000",
    );
    assert_usd(&e, "225");
}

#[test]
fn cognito_lite_tiers() {
    // 10,000 free; 90,000 × 0.0055 = 495.00; 50,000 × 0.0046 = 230.00; total 725.00
    let e = est(
        "AWS::Cognito::UserPool",
        json!({"UserPoolTier": "LITE"}),
        "monthly_active_users=150000",
    );
    assert_usd(&e, "725");
    assert_eq!(e.breakdown.len(), 3);
}

#[test]
fn cognito_plus_has_no_free_tier() {
    // 5,000 × 0.02 = 100.00
    let e = est(
        "AWS::Cognito::UserPool",
        json!({"UserPoolTier": "PLUS"}),
        "monthly_active_users=5000",
    );
    assert_usd(&e, "100");
}

#[test]
fn cognito_default_pool_under_the_free_tier() {
    // Essentials by default; 1,000 MAU ≤ 10,000 free: 0.00
    let e = est(
        "AWS::Cognito::UserPool",
        json!({"UserPoolName": "users"}),
        "",
    );
    assert_usd(&e, "0");
    assert!(has_note(&e, "Essentials"));
}

// ----------------------------------------------------------- DynamoDB ----

#[test]
fn dynamodb_on_demand() {
    // 5M writes × 0.625 = 3.125; 20M reads × 0.125 = 2.50; (30 − 25) GB × 0.25 = 1.25; total 6.875
    let e = est(
        "AWS::DynamoDB::Table",
        json!({"BillingMode": "PAY_PER_REQUEST"}),
        "monthly_write_request_units=5000000,monthly_read_request_units=20000000,storage_gb=30",
    );
    assert_usd(&e, "6.875");
}

#[test]
fn dynamodb_provisioned() {
    // 5 WCU × 730 h × 0.00065 = 2.3725; 5 RCU × 730 h × 0.00013 = 0.4745; 1 GB free; total 2.847
    let e = est(
        "AWS::DynamoDB::Table",
        json!({"BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}),
        "",
    );
    assert_usd(&e, "2.847");
    // On-demand usage figures are not assumed for a provisioned table.
    assert!(
        !e.assumptions
            .iter()
            .any(|a| a.key.contains("request_units"))
    );
}

#[test]
fn dynamodb_provisioned_with_an_index_and_pitr() {
    // (5 + 2) WCU × 730 × 0.00065 = 3.3215; (5 + 2) RCU × 730 × 0.00013 = 0.6643;
    // 10 GB free; PITR 10 × 0.20 = 2.00; total 5.9858
    let e = est(
        "AWS::DynamoDB::Table",
        json!({
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            "GlobalSecondaryIndexes": [{"IndexName": "g", "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 2}}],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}
        }),
        "storage_gb=10",
    );
    assert_usd(&e, "5.9858");
}

// ------------------------------------------------------- SQS, KMS, ... ----

#[test]
fn sqs_standard_and_fifo() {
    // standard: 3M × 0.40 = 1.20; FIFO: 3M × 0.50 = 1.50
    assert_usd(
        &est("AWS::SQS::Queue", json!({}), "monthly_requests=3000000"),
        "1.20",
    );
    assert_usd(
        &est(
            "AWS::SQS::Queue",
            json!({"FifoQueue": true, "QueueName": "jobs.fifo"}),
            "monthly_requests=3000000",
        ),
        "1.50",
    );
}

#[test]
fn kms_key_and_requests() {
    // 1 key × 1.00 + 10,000 requests = 1 × 0.03 → 1.03
    assert_usd(&est("AWS::KMS::Key", json!({}), ""), "1.03");
    // 1.00 + 2,000,000 requests = 200 × 0.03 = 6.00 → 7.00
    assert_usd(
        &est(
            "AWS::KMS::Key",
            json!({"EnableKeyRotation": true}),
            "monthly_requests=2000000",
        ),
        "7.00",
    );
}

#[test]
fn logs_ingestion_and_storage() {
    // 10 GB × 0.50 = 5.00; 30 GB × 0.03 = 0.90; total 5.90
    let e = est(
        "AWS::Logs::LogGroup",
        json!({"RetentionInDays": 90}),
        "monthly_ingested_gb=10,stored_gb=30",
    );
    assert_usd(&e, "5.90");
}

#[test]
fn secret_with_a_replica() {
    // 2 secrets × 0.40 = 0.80; 50,000 calls = 5 × 0.05 = 0.25; total 1.05
    let e = est(
        "AWS::SecretsManager::Secret",
        json!({"ReplicaRegions": [{"Region": "us-west-2"}]}),
        "monthly_api_calls=50000",
    );
    assert_usd(&e, "1.05");
    assert!(has_note(&e, "from memory"), "{:?}", e.notes);
}

#[test]
fn ses_emails_on_the_identity() {
    // 5,000 emails = 5 × 0.10 = 0.50 (the seed's example)
    let e = est(
        "AWS::SES::EmailIdentity",
        json!({"EmailIdentity": "synthcore.ai"}),
        "",
    );
    assert_usd(&e, "0.50");
    let set = est("AWS::SES::ConfigurationSet", json!({"Name": "default"}), "");
    assert_usd(&set, "0");
    assert!(has_note(&set, "$0, no charge for this resource type"));
}

#[test]
fn cloudwatch_alarms_standard_and_high_resolution() {
    // 1 × 0.10; 1 × 0.30 for a 10-second period
    assert_usd(
        &est("AWS::CloudWatch::Alarm", json!({"Period": 300}), ""),
        "0.10",
    );
    assert_usd(
        &est("AWS::CloudWatch::Alarm", json!({"Period": 10}), ""),
        "0.30",
    );
}

#[test]
fn nat_gateway_from_the_price_table() {
    // 730 × 0.045 = 32.85; 10 GB × 0.045 = 0.45; total 33.30
    assert_usd(&est("AWS::EC2::NatGateway", json!({}), ""), "33.30");
}

#[test]
fn step_functions_standard_and_express() {
    // standard: 10,000 transitions = 10 × 0.025 = 0.25
    assert_usd(
        &est("AWS::StepFunctions::StateMachine", json!({}), ""),
        "0.25",
    );
    // express: 0.1M × 1.00 = 0.10; 100,000 × 1 s × 64/1024 GB = 6,250 GB-s × 0.00001667 = 0.1041875
    // total 0.2041875
    assert_usd(
        &est(
            "AWS::StepFunctions::StateMachine",
            json!({"StateMachineType": "EXPRESS"}),
            "",
        ),
        "0.2041875",
    );
}

#[test]
fn elasticache_serverless_valkey_minimum() {
    // 1 GB by default (above Valkey's 0.1 GB minimum): 1 × 730 × 0.084 = 61.32;
    // 100M ECPUs = 100 × 0.0023 = 0.23; total 61.55
    assert_usd(
        &est(
            "AWS::ElastiCache::ServerlessCache",
            json!({"Engine": "valkey"}),
            "",
        ),
        "61.55",
    );
    // Redis bills at least 1 GB: 0.2 GB → 1 × 730 × 0.125 = 91.25; 0 ECPUs; total 91.25
    let e = est(
        "AWS::ElastiCache::ServerlessCache",
        json!({"Engine": "redis"}),
        "average_data_stored_gb=0.2,monthly_ecpus=0",
    );
    assert_usd(&e, "91.25");
    assert!(has_note(&e, "at least 1 GB"));
}

#[test]
fn api_gateway_and_cloudfront() {
    // HTTP API: 5M × 1.00 = 5.00; REST: 1M × 3.50 = 3.50
    assert_usd(
        &est(
            "AWS::ApiGatewayV2::Api",
            json!({"ProtocolType": "HTTP"}),
            "monthly_requests=5000000",
        ),
        "5.00",
    );
    assert_usd(
        &est(
            "AWS::ApiGateway::RestApi",
            json!({}),
            "monthly_requests=1000000",
        ),
        "3.50",
    );
    // CloudFront: 10 GB × 0.085 = 0.85; 1M HTTPS = 100 × 0.01 = 1.00; total 1.85
    assert_usd(&est("AWS::CloudFront::Distribution", json!({}), ""), "1.85");
}

#[test]
fn free_type_says_no_charge() {
    let e = est("AWS::IAM::Role", json!({"RoleName": "r"}), "");
    assert_usd(&e, "0");
    assert!(
        e.notes[0].starts_with("$0, no charge for this resource type"),
        "{:?}",
        e.notes
    );
}

// ------------------------------------------------ regions and overrides ----

#[test]
fn region_without_prices_uses_us_east_1_and_says_so() {
    // Same arithmetic as the S3 defaults: 0.284
    let e = est_in("eu-west-1", "AWS::S3::Bucket", json!({}), "");
    assert_usd(&e, "0.284");
    assert!(
        has_note(
            &e,
            "no eu-west-1 prices in the catalog: us-east-1 prices used"
        ),
        "{:?}",
        e.notes
    );
    let home = est("AWS::S3::Bucket", json!({}), "");
    assert!(!has_note(&home, "prices used"));
}

#[test]
fn usage_file_and_argument_overrides_are_listed_with_their_sources() {
    // storage 50 × 0.023 = 1.15 (file, by resource); 100,000 PUT = 100 × 0.005 = 0.50 (file, by
    // purpose); 0 GET (argument); total 1.65
    let file = UsageFile::parse(
        r#"
        [resource."synthcoreai-documents-dev"]
        storage_gb = 50

        [purpose.documents]
        storage_gb = 5
        monthly_put_requests = 100000
        "#,
    )
    .unwrap();
    let from_file = file.for_resource(Some("synthcoreai-documents-dev"), Some("documents"));
    let args = parse_usage_arg("monthly_get_requests=0").unwrap();
    let usage = Usage::merged(&from_file, &args);
    let ty = ResourceType::new("AWS::S3::Bucket").unwrap();
    let e = estimate(&ty, &json!({}), "us-east-1", &usage).unwrap();
    assert_usd(&e, "1.65");
    let sources: Vec<(&str, &str)> = e
        .assumptions
        .iter()
        .map(|a| (a.key.as_str(), a.source.as_str()))
        .collect();
    assert_eq!(
        sources,
        [
            ("storage_gb", "usage file"),
            ("monthly_put_requests", "usage file"),
            ("monthly_get_requests", "argument")
        ]
    );
    let text = render_estimate(&e, DEFAULT_APPROVAL_THRESHOLD);
    assert!(
        text.contains("   - storage_gb = 50 GB (usage file)\n"),
        "{text}"
    );
}

// ------------------------------------------------------------ the gate ----

#[test]
fn threshold_at_9_99_is_auto_and_at_10_00_requires_approval() {
    // 99,900 emails = 99.9 × 0.10 = 9.99; 100,000 emails = 100 × 0.10 = 10.00
    let under = est("AWS::SES::EmailIdentity", json!({}), "monthly_emails=99900");
    assert_usd(&under, "9.99");
    assert_eq!(
        threshold_decision(&under, DEFAULT_APPROVAL_THRESHOLD),
        ThresholdDecision::AutoApproved
    );
    assert!(
        render_estimate(&under, DEFAULT_APPROVAL_THRESHOLD)
            .contains("✅ Auto-approved (<$10.00/month)")
    );

    let at = est(
        "AWS::SES::EmailIdentity",
        json!({}),
        "monthly_emails=100000",
    );
    assert_usd(&at, "10.00");
    assert_eq!(
        threshold_decision(&at, DEFAULT_APPROVAL_THRESHOLD),
        ThresholdDecision::RequiresApproval
    );
    assert!(
        render_estimate(&at, DEFAULT_APPROVAL_THRESHOLD)
            .contains("⚠️ REQUIRES APPROVAL (≥$10.00/month): $10.00/month")
    );
}

#[test]
fn rendered_estimate_matches_the_seed_layout() {
    let e = est(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20"}),
        "",
    );
    let text = render_estimate(&e, DEFAULT_APPROVAL_THRESHOLD);
    let expected_head = "💰 Cost Estimation:\n   Monthly Cost: $15.44\n   Breakdown:\n   \
        - Database instance (db.t3.micro, postgres, single-AZ): 730 hours @ $0.018 = $13.14\n   \
        - Storage (gp3): 20 GB-month @ $0.115 = $2.30\n";
    assert!(text.starts_with(expected_head), "{text}");
    assert!(
        text.contains("   CostEstimate tag: 15.44 USD/month\n"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("⚠️ REQUIRES APPROVAL (≥$10.00/month): $15.44/month"),
        "{text}"
    );
}

// ---------------------------------------------------------- JSON shape ----

#[test]
fn json_breakdown_is_shaped_like_infracost_with_decimal_strings() {
    let e = est(
        "AWS::RDS::DBInstance",
        json!({"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20"}),
        "",
    );
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["monthly_usd"], "15.44");
    let first = &v["breakdown"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["monthlyCost", "monthlyQuantity", "name", "price", "unit"]
    );
    assert_eq!(first["unit"], "hours");
    assert_eq!(first["monthlyQuantity"], "730");
    assert_eq!(first["price"], "0.018");
    assert_eq!(first["monthlyCost"], "13.14");
    assert_eq!(v["breakdown"][1]["monthlyCost"], "2.3");
}

// ------------------------------------------------------------- report ----

fn item(env: &str, ty: &str, usd: &str) -> ReportItem {
    ReportItem {
        env: env.into(),
        type_name: ty.into(),
        identifier: format!("{env}-{ty}"),
        monthly: Money::parse(usd).unwrap(),
        known: true,
    }
}

#[test]
fn report_tree_reproduces_the_seed_and_flags_the_25_alert() {
    let items = [
        item("aws-dev", "AWS::S3::Bucket", "0.45"),
        item("aws-dev", "AWS::SES::EmailIdentity", "0.30"),
        item("aws-dev", "AWS::Lambda::Function", "0.15"),
        item("aws-dev", "AWS::IAM::Role", "0"),
        item("aws-prod", "AWS::Lambda::Function", "1.20"),
        item("aws-prod", "AWS::RDS::DBInstance", "26.78"),
        item("aws-prod", "AWS::S3::Bucket", "2.50"),
        item("aws-prod", "AWS::SES::EmailIdentity", "5.00"),
    ];
    let r = report::build(&items, &DEFAULT_ALERT_THRESHOLDS, "November 2026");
    let text = report::render_tree(&r);
    let expected = "\
📊 Monthly AWS Costs (November 2026)

aws-dev:
├─ S3 Storage: $0.45
├─ SES Emails: $0.30
├─ Lambda Execution: $0.15
└─ Total: $0.90

aws-prod:
├─ S3 Storage: $2.50
├─ SES Emails: $5.00
├─ RDS Database: $26.78
├─ Lambda Execution: $1.20
└─ Total: $35.48  🚨 over $25.00

Combined Total: $36.38/month  🚨 over $25.00

Cost alerts ($25.00, $50.00, $100.00):
- aws-prod: $35.48 crossed $25.00
- combined: $36.38 crossed $25.00
";
    assert_eq!(text, expected);

    let v = report::to_json(&r);
    assert_eq!(v["combined_total_usd"], "36.38");
    assert_eq!(v["environments"][0]["alerts"], json!([]));
    assert_eq!(v["environments"][1]["alerts"], json!(["25"]));
    assert_eq!(v["combined_alerts"], json!(["25"]));
    assert_eq!(v["thresholds"], json!(["25", "50", "100"]));
    // The $0 IAM line is kept for programs.
    assert_eq!(v["environments"][0]["services"][3]["service"], "IAM");
}

#[test]
fn report_flags_50_and_100_and_unknown_costs() {
    let mut unknown = item("prod", "AWS::RDS::DBInstance", "2.30");
    unknown.known = false;
    let items = [
        item("dev", "AWS::S3::Bucket", "60"),
        item("prod", "AWS::RDS::DBInstance", "110"),
        unknown,
    ];
    let r = report::build(&items, &DEFAULT_ALERT_THRESHOLDS, "December 2026");
    // dev 60.00 ≥ 25, 50; prod 112.30 ≥ 25, 50, 100; combined 172.30 ≥ all three
    assert_eq!(
        r.environments[0].alerts,
        [Money::from_cents(2500), Money::from_cents(5000)]
    );
    assert_eq!(r.environments[1].alerts.len(), 3);
    assert_eq!(r.combined_total_usd, Money::parse("172.30").unwrap());
    let text = report::render_tree(&r);
    assert!(text.contains("└─ Total: $60.00  🚨 over $50.00"), "{text}");
    assert!(
        text.contains("├─ RDS Database: $112.30 (not fully known)"),
        "{text}"
    );
    assert!(
        text.contains("⚠️ 1 resource(s) with unknown cost"),
        "{text}"
    );
    assert!(
        text.contains("- prod: $112.30 crossed $25.00, $50.00, $100.00"),
        "{text}"
    );
    assert!(
        text.contains("Combined Total: $172.30/month  🚨 over $100.00"),
        "{text}"
    );

    let calm = report::build(
        &[item("dev", "AWS::S3::Bucket", "1")],
        &DEFAULT_ALERT_THRESHOLDS,
        "x",
    );
    assert!(report::render_tree(&calm).contains("- none crossed"));
}
