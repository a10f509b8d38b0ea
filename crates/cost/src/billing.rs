//! Properties for the billing alerts the seed asks for, to be sent through
//! the normal gated plan (template → scan → estimate → approval → apply),
//! never around it.
//!
//! Two ways to be told when an account's charges cross a threshold:
//!
//! - an `AWS::CloudWatch::Alarm` on `AWS/Billing` `EstimatedCharges`
//!   (Currency `USD`, statistic `Maximum`, period 6 hours, as AWS publishes
//!   the metric). Billing metrics exist only in us-east-1, so the alarm must
//!   be created there, and "Receive Billing Alerts" must be enabled in the
//!   account. Its `AlarmActions` name the SNS topic of
//!   [`billing_topic_properties`], which e-mails the person: an alarm
//!   without one only changes state in the console.
//! - an `AWS::Budgets::Budget` of type COST, monthly, with the limit as
//!   budget limit; add `NotificationsWithSubscribers` to be emailed.

use infraguard_core::Money;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// A JSON number with the decimal's exact digits (`25`, `12.5`).
fn number(d: Decimal) -> Value {
    let text = d.normalize().to_string();
    serde_json::from_str::<Value>(&text).unwrap_or_else(|_| {
        // Unreachable for a Decimal's own text; keep a number either way.
        use rust_decimal::prelude::ToPrimitive;
        json!(d.to_f64().unwrap_or(0.0))
    })
}

/// An `AWS::CloudWatch::Alarm` that fires when the month's estimated charges
/// reach `threshold` US dollars.
pub fn billing_alarm_properties(threshold: Money, name: &str, topic_arn: &str) -> Value {
    json!({
        "AlarmActions": [topic_arn],
        "AlarmName": name,
        "AlarmDescription": format!(
            "Estimated AWS charges this month reached {threshold} (billing alert set up by infraguard)"
        ),
        "Namespace": "AWS/Billing",
        "MetricName": "EstimatedCharges",
        "Dimensions": [{ "Name": "Currency", "Value": "USD" }],
        "Statistic": "Maximum",
        "Period": 21600,
        "EvaluationPeriods": 1,
        "Threshold": number(threshold.0),
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    })
}

/// The `AWS::SNS::Topic` the billing alarms notify, with `email`
/// subscribed (AWS mails a confirmation link first; until it is clicked the
/// subscription is pending and nothing is delivered).
///
/// Not encrypted: CloudWatch cannot publish to a topic under the AWS
/// managed key `alias/aws/sns`, and an alarm's message carries only the
/// alarm's name and the threshold. The scan says so (IG-SNS-001), and the
/// approver sees it.
pub fn billing_topic_properties(name: &str, email: &str) -> Value {
    json!({
        "TopicName": name,
        "DisplayName": "AWS billing alerts",
        "Subscription": [{ "Protocol": "email", "Endpoint": email }],
    })
}

/// An `AWS::Budgets::Budget` with a monthly cost limit of `limit` US dollars.
pub fn budget_properties(limit: Money, name: &str) -> Value {
    json!({
        "Budget": {
            "BudgetName": name,
            "BudgetType": "COST",
            "TimeUnit": "MONTHLY",
            "BudgetLimit": { "Amount": number(limit.0), "Unit": "USD" },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::ResourceType;

    #[test]
    fn billing_alarm_matches_what_aws_publishes_and_is_priced_like_any_alarm() {
        let topic = "arn:aws:sns:us-east-1:222222222222:synthcore-billing-alerts-prod";
        let props =
            billing_alarm_properties(Money::from_cents(2500), "synthcore-billing-25", topic);
        assert_eq!(props["AlarmActions"], json!([topic]));
        assert_eq!(props["Namespace"], "AWS/Billing");
        assert_eq!(props["MetricName"], "EstimatedCharges");
        assert_eq!(
            props["Dimensions"][0],
            json!({"Name": "Currency", "Value": "USD"})
        );
        assert_eq!(props["Statistic"], "Maximum");
        assert_eq!(props["Period"], 21600);
        assert_eq!(props["Threshold"], json!(25));
        assert_eq!(props["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
        // One standard-resolution alarm: 1 × $0.10.
        let est = crate::estimate(
            &ResourceType::new("AWS::CloudWatch::Alarm").unwrap(),
            &props,
            "us-east-1",
            &crate::Usage::default(),
        )
        .unwrap();
        assert_eq!(est.monthly_usd, Money::parse("0.10").unwrap());
    }

    #[test]
    fn the_topic_mails_the_address() {
        let t = billing_topic_properties("synthcore-billing-alerts-prod", "ops@example.com");
        assert_eq!(
            t["Subscription"],
            json!([{"Protocol": "email", "Endpoint": "ops@example.com"}])
        );
        assert_eq!(t["TopicName"], "synthcore-billing-alerts-prod");
    }

    #[test]
    fn budget_has_a_numeric_monthly_cost_limit() {
        let props = budget_properties(Money::parse("12.5").unwrap(), "synthcore-monthly");
        assert_eq!(
            props,
            json!({"Budget": {"BudgetName": "synthcore-monthly", "BudgetType": "COST",
                "TimeUnit": "MONTHLY", "BudgetLimit": {"Amount": 12.5, "Unit": "USD"}}})
        );
    }
}
