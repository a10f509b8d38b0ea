//! Print the seed's cost examples as infraguard shows them: the S3, SES and
//! RDS estimates of "3.2 Estimate Costs" and the "Monthly Cost Review" tree.
//!
//! Run: `cargo run -p infraguard-cost --example seed`.

use infraguard_core::ResourceType;
use infraguard_cost::report::{self, ReportItem};
use infraguard_cost::{
    DEFAULT_ALERT_THRESHOLDS, DEFAULT_APPROVAL_THRESHOLD, estimate, parse_usage_arg,
    render_estimate,
};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let examples = [
        (
            "AWS::S3::Bucket",
            json!({"BucketName": "synthcoreai-documents-dev"}),
            "",
        ),
        (
            "AWS::SES::EmailIdentity",
            json!({"EmailIdentity": "synthcore.ai"}),
            "",
        ),
        (
            "AWS::RDS::DBInstance",
            json!({"Engine": "mysql", "DBInstanceClass": "db.t3.small", "AllocatedStorage": "20"}),
            "",
        ),
    ];
    let mut items = Vec::new();
    for (ty, props, usage) in examples {
        let ty = ResourceType::new(ty)?;
        let e = estimate(&ty, &props, "us-east-1", &parse_usage_arg(usage)?)?;
        println!("{ty}\n{}", render_estimate(&e, DEFAULT_APPROVAL_THRESHOLD));
        items.push(ReportItem {
            env: "aws-dev".into(),
            type_name: ty.to_string(),
            identifier: ty.resource().to_string(),
            monthly: e.monthly_usd,
            known: e.known,
        });
    }
    let r = report::build(&items, &DEFAULT_ALERT_THRESHOLDS, "November 2026");
    println!("{}", report::render_tree(&r));
    Ok(())
}
