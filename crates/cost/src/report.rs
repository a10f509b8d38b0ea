//! The monthly cost report: per environment, one line per service, a total,
//! the combined total, and the alert thresholds each total has crossed.
//!
//! Input is one [`ReportItem`] per tracked resource with its estimate (the
//! engine reads them from the tracking tags or its store). Each service line
//! is rounded to cents and the totals are sums of the rounded lines, so the
//! numbers on screen add up. A resource whose estimate is not fully known
//! counts with its lower bound and is flagged, so a total is never presented
//! as more certain than it is.
//!
//! Thresholds are compared per environment (each is its own AWS account,
//! where a billing alarm would fire) and on the combined total.

use std::fmt::Write as _;

use infraguard_core::Money;
use serde::{Deserialize, Serialize};

use crate::{service_label, service_rank};

/// One tracked resource and its monthly estimate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportItem {
    /// Environment label as it should be shown (`aws-dev`, `prod`).
    pub env: String,
    pub type_name: String,
    pub identifier: String,
    pub monthly: Money,
    pub known: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceLine {
    /// `S3 Storage`, `RDS Database`, ...
    pub service: String,
    /// Sum of the line's resources, rounded to cents.
    pub monthly_usd: Money,
    pub resources: usize,
    /// Resources on this line whose cost is not fully known.
    pub unknown: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvReport {
    pub env: String,
    /// In the registry's service order (S3, SES, RDS, Lambda, ... as the
    /// seed shows them), including $0 lines.
    pub services: Vec<ServiceLine>,
    pub total_usd: Money,
    pub resources: usize,
    pub unknown_resources: usize,
    /// Thresholds this environment's total is at or above, ascending.
    pub alerts: Vec<Money>,
    /// What AWS billed, from Cost Explorer, beside the estimate: on AWS,
    /// when the caller may read it.
    #[serde(default)]
    pub actual: Option<ActualSpend>,
    /// Why there is no actual spend (the local cloud has no bill; AWS's
    /// refusal), so a reader knows the lines are estimates only.
    #[serde(default)]
    pub actual_note: Option<String>,
}

/// An environment's spend as AWS billed it (Cost Explorer, unblended).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActualSpend {
    /// From the first of this month to today.
    pub month_to_date_usd: Money,
    pub last_month_usd: Money,
    /// AWS says this month's figures are not final yet.
    pub estimated: bool,
    /// Per service, largest month to date first.
    pub services: Vec<ActualLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActualLine {
    /// The estimate's line label where the service has one (`S3 Storage`),
    /// else AWS's name.
    pub service: String,
    /// AWS's own name (`Amazon Simple Storage Service`).
    pub aws_service: String,
    pub month_to_date_usd: Money,
    pub last_month_usd: Money,
}

/// The estimate's label for a service Cost Explorer names: one AWS service
/// per line of the registry, so actual and estimate sit on one line.
/// Services without one (tax, support, CloudWatch, which bills logs and
/// alarms together) keep AWS's name.
pub fn label_of_billed_service(aws_name: &str) -> Option<&'static str> {
    const BILLED: [(&str, &str); 20] = [
        ("Amazon Simple Storage Service", "S3 Storage"),
        ("Amazon Simple Email Service", "SES Emails"),
        ("Amazon Relational Database Service", "RDS Database"),
        ("AWS Lambda", "Lambda Execution"),
        ("AWS Step Functions", "Step Functions"),
        ("AWS Amplify", "Amplify Hosting"),
        ("Amazon Virtual Private Cloud", "VPC Networking"),
        ("Amazon Elastic Compute Cloud - Compute", "EC2 Instances"),
        ("Amazon API Gateway", "API Gateway"),
        ("Amazon CloudFront", "CloudFront"),
        ("Amazon Simple Queue Service", "SQS Queues"),
        ("Amazon Simple Notification Service", "SNS Notifications"),
        ("Amazon EventBridge", "EventBridge"),
        ("AWS Key Management Service", "KMS Keys"),
        ("AWS Secrets Manager", "Secrets Manager"),
        ("AWS Systems Manager", "SSM Parameters"),
        ("Amazon Cognito", "Cognito Users"),
        ("Amazon EC2 Container Registry (ECR)", "ECR"),
        ("Amazon DynamoDB", "DynamoDB Tables"),
        ("Amazon ElastiCache", "ElastiCache"),
    ];
    BILLED
        .iter()
        .find(|(aws, _)| *aws == aws_name)
        .map(|(_, label)| *label)
}

/// The actual spend from what Cost Explorer answered for one
/// environment: `this_month` and `last_month` are each a list of
/// (AWS service, amount); a service may appear in either or both.
pub fn actual_spend(
    this_month: &[(String, Money)],
    last_month: &[(String, Money)],
    estimated: bool,
) -> ActualSpend {
    let mut lines: Vec<ActualLine> = Vec::new();
    let mut line = |aws: &str| -> usize {
        if let Some(i) = lines.iter().position(|l| l.aws_service == aws) {
            return i;
        }
        lines.push(ActualLine {
            service: label_of_billed_service(aws).unwrap_or(aws).to_string(),
            aws_service: aws.to_string(),
            month_to_date_usd: Money::ZERO,
            last_month_usd: Money::ZERO,
        });
        lines.len() - 1
    };
    let mut at: Vec<(usize, Money, bool)> = Vec::new();
    for (aws, amount) in this_month {
        at.push((line(aws), *amount, true));
    }
    for (aws, amount) in last_month {
        at.push((line(aws), *amount, false));
    }
    for (i, amount, this) in at {
        let l = &mut lines[i];
        let slot = if this {
            &mut l.month_to_date_usd
        } else {
            &mut l.last_month_usd
        };
        *slot = add(*slot, amount);
    }
    for l in &mut lines {
        l.month_to_date_usd = l.month_to_date_usd.round_cents();
        l.last_month_usd = l.last_month_usd.round_cents();
    }
    // Lines AWS lists at $0.00 both months say nothing.
    lines.retain(|l| !(l.month_to_date_usd.0.is_zero() && l.last_month_usd.0.is_zero()));
    lines.sort_by(|a, b| {
        b.month_to_date_usd
            .cmp(&a.month_to_date_usd)
            .then_with(|| b.last_month_usd.cmp(&a.last_month_usd))
            .then_with(|| a.service.cmp(&b.service))
    });
    ActualSpend {
        month_to_date_usd: lines
            .iter()
            .fold(Money::ZERO, |t, l| add(t, l.month_to_date_usd)),
        last_month_usd: lines
            .iter()
            .fold(Money::ZERO, |t, l| add(t, l.last_month_usd)),
        estimated,
        services: lines,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `November 2026`.
    pub month: String,
    /// Alert thresholds, ascending, without duplicates.
    pub thresholds: Vec<Money>,
    /// In order of first appearance in the items.
    pub environments: Vec<EnvReport>,
    pub combined_total_usd: Money,
    pub combined_alerts: Vec<Money>,
    pub unknown_resources: usize,
}

pub fn build(items: &[ReportItem], thresholds: &[Money], month_label: &str) -> Report {
    build_for(&[], items, thresholds, month_label)
}

/// [`build`], with `envs` listed first and in this order even when they
/// hold nothing (an empty prod shows as $0.00, not as missing).
pub fn build_for(
    envs: &[String],
    items: &[ReportItem],
    thresholds: &[Money],
    month_label: &str,
) -> Report {
    let mut thresholds = thresholds.to_vec();
    thresholds.sort();
    thresholds.dedup();

    let mut envs: Vec<&str> = envs.iter().map(String::as_str).collect();
    for item in items {
        if !envs.contains(&item.env.as_str()) {
            envs.push(&item.env);
        }
    }

    let environments: Vec<EnvReport> = envs
        .iter()
        .map(|env| {
            let mine: Vec<&ReportItem> = items.iter().filter(|i| i.env == *env).collect();
            let mut services: Vec<(String, Money, usize, usize)> = Vec::new();
            for item in &mine {
                let label = service_label(&item.type_name);
                match services.iter_mut().find(|s| s.0 == label) {
                    Some(line) => {
                        line.1 = add(line.1, item.monthly);
                        line.2 += 1;
                        line.3 += usize::from(!item.known);
                    }
                    None => services.push((label, item.monthly, 1, usize::from(!item.known))),
                }
            }
            services.sort_by(|a, b| {
                service_rank(&a.0)
                    .cmp(&service_rank(&b.0))
                    .then_with(|| a.0.cmp(&b.0))
            });
            let services: Vec<ServiceLine> = services
                .into_iter()
                .map(|(service, sum, resources, unknown)| ServiceLine {
                    service,
                    monthly_usd: sum.round_cents(),
                    resources,
                    unknown,
                })
                .collect();
            let total = services
                .iter()
                .fold(Money::ZERO, |t, s| add(t, s.monthly_usd));
            let unknown = services.iter().map(|s| s.unknown).sum();
            EnvReport {
                env: env.to_string(),
                alerts: crossed(total, &thresholds),
                total_usd: total,
                resources: mine.len(),
                unknown_resources: unknown,
                services,
                actual: None,
                actual_note: None,
            }
        })
        .collect();

    let combined = environments
        .iter()
        .fold(Money::ZERO, |t, e| add(t, e.total_usd));
    Report {
        month: month_label.to_string(),
        combined_alerts: crossed(combined, &thresholds),
        combined_total_usd: combined,
        unknown_resources: environments.iter().map(|e| e.unknown_resources).sum(),
        thresholds,
        environments,
    }
}

/// `November 2026` for `2026-11-26` (or `2026-11`): the report's heading
/// from the caller's clock. `None` for anything else.
pub fn month_label(iso_date: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut parts = iso_date.trim().split('-');
    let year = parts
        .next()
        .filter(|y| y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()))?;
    let month: usize = parts.next().filter(|m| m.len() == 2)?.parse().ok()?;
    let name = MONTHS.get(month.checked_sub(1)?)?;
    Some(format!("{name} {year}"))
}

/// Read a `CostEstimate` tag back into money: `15.44 USD/month` (what
/// infraguard writes), or the seed's `$0.25/month`. `None` for `unknown` or
/// anything else, so the caller can mark the resource's cost unknown.
pub fn parse_cost_tag(value: &str) -> Option<Money> {
    let v = value.trim();
    let amount = v
        .strip_suffix("USD/month")
        .or_else(|| v.strip_suffix("/month"))?
        .trim();
    let amount = amount.strip_prefix('$').unwrap_or(amount);
    // A tag is input like any other: a negative or absurd amount is not one
    // infraguard wrote.
    Money::parse(amount).filter(|m| !m.0.is_sign_negative() && m.0 <= crate::usage::MAX_USAGE)
}

/// Sums saturate instead of panicking: items can come from tags, which are
/// input, and a sum that large is flagged by every threshold anyway.
fn add(a: Money, b: Money) -> Money {
    Money(a.0.saturating_add(b.0))
}

fn crossed(total: Money, thresholds: &[Money]) -> Vec<Money> {
    thresholds.iter().copied().filter(|t| total >= *t).collect()
}

fn alert_suffix(alerts: &[Money]) -> String {
    match alerts.last() {
        Some(highest) => format!("  🚨 over {highest}"),
        None => String::new(),
    }
}

/// `$2.31 this month so far, $2.87 last month`.
fn billed_pair(a: &ActualLine) -> String {
    format!(
        "{} this month so far, {} last month",
        a.month_to_date_usd, a.last_month_usd
    )
}

/// The seed's `📊 Monthly AWS Costs` tree, with alert flags; on AWS, what
/// Cost Explorer says was billed beside each estimate.
pub fn render_tree(report: &Report) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail; the results are ignored for brevity.
    let _ = writeln!(out, "📊 Monthly AWS Costs ({})", report.month);
    if report.environments.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "No tracked resources.");
        return out;
    }
    for env in &report.environments {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}:", env.env);
        let actual_of = |service: &str| {
            env.actual
                .as_ref()
                .and_then(|a| a.services.iter().find(|l| l.service == service))
        };
        // $0 lines (IAM, security groups, ...) stay in the JSON only.
        for line in env.services.iter().filter(|l| {
            l.unknown > 0 || !l.monthly_usd.0.is_zero() || actual_of(&l.service).is_some()
        }) {
            let flag = if line.unknown > 0 {
                " (not fully known)"
            } else {
                ""
            };
            let billed = actual_of(&line.service)
                .map(|a| format!(" · billed {}", billed_pair(a)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "├─ {}: {}{flag}{billed}",
                line.service, line.monthly_usd
            );
        }
        if let Some(actual) = &env.actual {
            // What AWS billed for services no tracked resource explains.
            for a in actual
                .services
                .iter()
                .filter(|a| !env.services.iter().any(|l| l.service == a.service))
            {
                let _ = writeln!(
                    out,
                    "├─ {}: not tracked · billed {}",
                    a.service,
                    billed_pair(a)
                );
            }
        }
        if env.unknown_resources > 0 {
            let _ = writeln!(
                out,
                "├─ ⚠️ {} resource(s) with unknown cost: the total is a lower bound",
                env.unknown_resources
            );
        }
        match (&env.actual, &env.actual_note) {
            (Some(a), _) => {
                let _ = writeln!(
                    out,
                    "└─ Total: {} estimated/month{} · billed {} this month so far{}, {} last month (Cost Explorer)",
                    env.total_usd,
                    alert_suffix(&env.alerts),
                    a.month_to_date_usd,
                    if a.estimated { " (not final)" } else { "" },
                    a.last_month_usd,
                );
            }
            (None, note) => {
                let _ = writeln!(
                    out,
                    "└─ Total: {}{}",
                    env.total_usd,
                    alert_suffix(&env.alerts)
                );
                if let Some(note) = note {
                    let _ = writeln!(out, "   ({note})");
                }
            }
        }
    }
    let _ = writeln!(out);
    // Billed beside the combined estimate only when every environment has
    // a bill to add: a partial sum would read as the whole.
    let billed: Option<Vec<&ActualSpend>> = report
        .environments
        .iter()
        .map(|e| e.actual.as_ref())
        .collect();
    let billed = billed
        .map(|all| {
            let (mtd, last) = all.iter().fold((Money::ZERO, Money::ZERO), |(m, l), a| {
                (add(m, a.month_to_date_usd), add(l, a.last_month_usd))
            });
            format!(" · billed {mtd} this month so far, {last} last month")
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Combined Total: {}/month{}{billed}",
        report.combined_total_usd,
        alert_suffix(&report.combined_alerts)
    );
    if !report.thresholds.is_empty() {
        let list: Vec<String> = report.thresholds.iter().map(Money::to_string).collect();
        let _ = writeln!(out);
        let _ = writeln!(out, "Cost alerts ({}):", list.join(", "));
        let mut any = false;
        let rows = report
            .environments
            .iter()
            .map(|e| (e.env.as_str(), e.total_usd, &e.alerts))
            .chain(std::iter::once((
                "combined",
                report.combined_total_usd,
                &report.combined_alerts,
            )));
        for (name, total, alerts) in rows {
            if alerts.is_empty() {
                continue;
            }
            any = true;
            let hit: Vec<String> = alerts.iter().map(Money::to_string).collect();
            let _ = writeln!(out, "- {name}: {total} crossed {}", hit.join(", "));
        }
        if !any {
            let _ = writeln!(out, "- none crossed");
        }
    }
    out
}

/// The report for programs (`--output json`): money as decimal strings.
pub fn to_json(report: &Report) -> serde_json::Value {
    // Every field is a string, number, bool or list of them: serializing a
    // Report cannot fail, but a failure would still be reported, not hidden.
    serde_json::to_value(report)
        .unwrap_or_else(|e| serde_json::json!({ "error": format!("cannot serialize report: {e}") }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(env: &str, ty: &str, usd: &str) -> ReportItem {
        ReportItem {
            env: env.into(),
            type_name: ty.into(),
            identifier: format!("{ty}-{usd}"),
            monthly: Money::parse(usd).unwrap(),
            known: true,
        }
    }

    #[test]
    fn month_labels_come_from_iso_dates() {
        assert_eq!(month_label("2026-11-26").as_deref(), Some("November 2026"));
        assert_eq!(month_label("2026-01").as_deref(), Some("January 2026"));
        for bad in ["2026-13-01", "2026-00-01", "26-11-01", "November", ""] {
            assert_eq!(month_label(bad), None, "{bad}");
        }
    }

    #[test]
    fn cost_tags_read_back_in_both_spellings() {
        assert_eq!(parse_cost_tag("15.44 USD/month"), Money::parse("15.44"));
        assert_eq!(parse_cost_tag("$0.25/month"), Money::parse("0.25"));
        assert_eq!(parse_cost_tag("unknown"), None);
        assert_eq!(parse_cost_tag("-1 USD/month"), None);
        assert_eq!(parse_cost_tag("cheap/month"), None);
        assert_eq!(
            parse_cost_tag("79228162514264337593543950335 USD/month"),
            None
        );
        let e = crate::estimate(
            &infraguard_core::ResourceType::new("AWS::KMS::Key").unwrap(),
            &serde_json::json!({}),
            "us-east-1",
            &crate::Usage::default(),
        )
        .unwrap();
        assert_eq!(
            parse_cost_tag(&e.tag_value()),
            Some(e.monthly_usd.round_cents())
        );
    }

    #[test]
    fn huge_items_saturate_instead_of_panicking() {
        let mut big = item("dev", "AWS::S3::Bucket", "1");
        big.monthly = Money(rust_decimal::Decimal::MAX);
        let r = build(&[big.clone(), big], &crate::DEFAULT_ALERT_THRESHOLDS, "x");
        assert_eq!(r.combined_total_usd, Money(rust_decimal::Decimal::MAX));
        assert_eq!(r.combined_alerts.len(), 3);
    }

    #[test]
    fn empty_report_says_so() {
        let r = build(&[], &crate::DEFAULT_ALERT_THRESHOLDS, "November 2026");
        assert_eq!(r.combined_total_usd, Money::ZERO);
        assert!(render_tree(&r).contains("No tracked resources."));
    }

    #[test]
    fn lines_are_rounded_before_summing_so_the_screen_adds_up() {
        let items = [
            item("dev", "AWS::S3::Bucket", "0.284"),
            item("dev", "AWS::S3::Bucket", "0.284"),
            item("dev", "AWS::Lambda::Function", "0.0408"),
        ];
        let r = build(&items, &[], "November 2026");
        // S3: 0.568 -> 0.57; Lambda: 0.0408 -> 0.04; total 0.61 (not 0.6088 -> 0.61 by luck).
        assert_eq!(
            r.environments[0].services[0].monthly_usd,
            Money::parse("0.57").unwrap()
        );
        assert_eq!(r.environments[0].total_usd, Money::parse("0.61").unwrap());
        assert_eq!(r.environments[0].services[0].resources, 2);
    }
}
