//! CloudWatch: log groups and metric alarms.

use rust_decimal::Decimal;
use serde_json::Value;

use super::free;
use crate::dec::dec;
use crate::model::{Ctx, Model, Pricing, key};
use crate::usage::UsageKey;

static LOG_GROUP_USAGE: &[UsageKey] = &[
    key(
        "monthly_ingested_gb",
        "GB",
        "1",
        "log data ingested a month",
    ),
    key(
        "stored_gb",
        "GB",
        "1",
        "archived log data kept (compressed), about ingest × retention months",
    ),
];

const LOG_GROUP: Model = Model {
    type_name: "AWS::Logs::LogGroup",
    service: "CloudWatch Logs",
    usage: LOG_GROUP_USAGE,
    pricing: Pricing::Priced(log_group),
};

fn log_group(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(class), Ok(retention)) = (
        ctx.text(props, "/LogGroupClass"),
        ctx.number(props, "/RetentionInDays"),
    ) else {
        return;
    };
    let ingested = ctx.usage("monthly_ingested_gb");
    match class.unwrap_or("STANDARD").to_ascii_uppercase().as_str() {
        "STANDARD" => ctx.charge(
            "Ingestion (Standard class)",
            "logs.ingest.standard",
            ingested,
        ),
        "INFREQUENT_ACCESS" => ctx.charge(
            "Ingestion (Infrequent Access class)",
            "logs.ingest.infrequent_access",
            ingested,
        ),
        other => {
            ctx.unknown(format!("unknown price for log group class `{other}`"));
            return;
        }
    }
    let stored = ctx.usage("stored_gb");
    ctx.charge("Archived storage", "logs.storage", stored);
    if retention.is_none() {
        ctx.note("no RetentionInDays: logs never expire, so stored_gb grows every month");
    }
}

const ALARM: Model = Model {
    type_name: "AWS::CloudWatch::Alarm",
    service: "CloudWatch Alarms",
    usage: &[],
    pricing: Pricing::Priced(alarm),
};

/// CloudWatch bills an alarm per metric it evaluates; periods under a minute
/// make it a high-resolution alarm.
fn alarm(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(period), Ok(band)) = (
        ctx.number(props, "/Period"),
        ctx.text(props, "/ThresholdMetricId"),
    ) else {
        return;
    };
    let (mut metrics, mut shortest) = (Decimal::ZERO, period);
    if let Some(queries) = props.pointer("/Metrics").and_then(Value::as_array) {
        for (i, query) in queries.iter().enumerate() {
            if query.get("MetricStat").is_none() {
                continue;
            }
            metrics += Decimal::ONE;
            let Ok(p) = ctx.number(props, &format!("/Metrics/{i}/MetricStat/Period")) else {
                return;
            };
            shortest = match (shortest, p) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
    }
    let metrics = metrics.max(Decimal::ONE);
    // An anomaly-detection alarm evaluates the metric and its two band
    // edges, and is billed as three metrics.
    let metrics = if band.is_some() {
        metrics * dec("3")
    } else {
        metrics
    };
    let high_res = shortest.is_some_and(|p| p < dec("60"));
    let (name, price_key) = if high_res {
        (
            "Alarm metrics (high resolution)",
            "cloudwatch.alarm.high_resolution",
        )
    } else {
        (
            "Alarm metrics (standard resolution)",
            "cloudwatch.alarm.standard",
        )
    };
    ctx.charge(name, price_key, metrics);
    if band.is_some() {
        ctx.note("anomaly detection alarm: billed as three metrics");
    }
    ctx.note("the account's 10 free standard alarms are not subtracted");
}

/// This family's models, priced and free.
pub(super) const MODELS: &[Model] = &[
    LOG_GROUP,
    ALARM,
    free(
        "AWS::Budgets::Budget",
        "AWS Budgets",
        "budgets without actions are free (AWS public price list, from memory, not verified here); budget actions are separate resources",
    ),
];
