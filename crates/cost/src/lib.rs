//! Monthly cost estimates you can check, and monthly cost reports with alerts.
//!
//! # Layout
//!
//! - [`catalog`](mod@catalog): the embedded, dated [`Price`] catalog (us-east-1) with the
//!   source of every price, and the [`PriceSource`] port that live AWS Price
//!   List lookups plug into ([`CachedSource`] keeps their answers).
//! - [`usage`]: usage figures ([`Usage`], [`UsageKey`]) with stated defaults,
//!   overridable by the usage file ([`UsageFile`]) and by a `usage` argument
//!   ([`parse_usage_arg`]).
//! - `models` (private): one cost model per resource type; [`estimate`] is
//!   the entry point, [`usage_keys`] lists what a type reads.
//! - [`gate`]: the cost threshold ([`threshold_decision`]) and the
//!   `💰 Cost Estimation` display ([`render_estimate`]).
//! - [`report`]: the per-environment monthly report with alert thresholds.
//! - [`live`]: the Price List API as a [`PriceSource`] ([`PriceList`] over a
//!   [`PriceListClient`] the AWS backend implements), with the key → query
//!   mapping and the response parser.
//! - [`billing`]: properties for the billing alarm or budget the user can
//!   create through the normal gated workflow.
//!
//! Money is exact decimal throughout; only display rounds (to cents). A
//! month is 730 hours. This crate does no I/O: the caller reads the usage
//! file and passes its text.
//!
//! What it is not: a bill. Estimates price one resource from its properties
//! and assumed usage; data transfer, account-level free tiers and
//! cross-resource charges are named in the notes where they apply.

pub mod billing;
pub mod catalog;
mod dec;
pub mod error;
pub mod gate;
pub mod live;
mod model;
mod models;
pub mod report;
pub mod usage;

use infraguard_core::{CostEstimate, Money, ResourceType};
use serde_json::Value;

pub use billing::{billing_alarm_properties, billing_topic_properties, budget_properties};
pub use catalog::{CachedSource, Price, PriceCatalog, PriceSource, catalog};
pub use error::CostError;
pub use gate::{ThresholdDecision, estimate_json, render_estimate, threshold_decision};
pub use live::{PriceList, PriceListClient};
pub use report::parse_cost_tag;
pub use usage::{Usage, UsageFile, UsageKey, UsageValue, parse_usage_arg};

use model::{Ctx, Pricing};

/// The seed's approval threshold: a resource at or above $10/month needs a human.
pub const DEFAULT_APPROVAL_THRESHOLD: Money = Money(dec::dec("10"));
/// The seed's monthly alert thresholds.
pub const DEFAULT_ALERT_THRESHOLDS: [Money; 3] = [
    Money(dec::dec("25")),
    Money(dec::dec("50")),
    Money(dec::dec("100")),
];

/// The note carried by every type that costs nothing by itself.
pub const NO_CHARGE_NOTE: &str = "$0, no charge for this resource type";

/// Estimate one resource's monthly cost from the embedded catalog.
///
/// `usage` is the merged override set (argument over usage file); figures it
/// does not give take the model's defaults, and every figure used is listed
/// in the estimate's assumptions. Errors: a malformed region, a negative or
/// absurd usage figure, or a strict (argument) usage key the type does not
/// know. A type with no cost model is `Ok` with `known: false` and a note.
pub fn estimate(
    type_name: &ResourceType,
    properties: &Value,
    region: &str,
    usage: &Usage,
) -> Result<CostEstimate, CostError> {
    estimate_with(None, type_name, properties, region, usage)
}

/// [`estimate`], asking `live` for each price first (e.g. the AWS Price List
/// API, cached); the catalog answers whatever `live` does not.
pub fn estimate_with(
    live: Option<&dyn PriceSource>,
    type_name: &ResourceType,
    properties: &Value,
    region: &str,
    usage: &Usage,
) -> Result<CostEstimate, CostError> {
    check_region(region)?;
    usage.check_values()?;
    let model = models::find(type_name.as_str());
    let keys: &'static [UsageKey] = model.map_or(&[], |m| m.usage);
    let mut ignored = Vec::new();
    for (key, value) in usage.iter() {
        if keys.iter().any(|k| k.key == key) {
            continue;
        }
        if value.strict {
            return Err(unknown_key(type_name, key, keys));
        }
        ignored.push(format!(
            "{} key `{key}` does not apply to {type_name}: ignored",
            value.source
        ));
    }

    let Some(model) = model else {
        let mut notes = vec![format!(
            "no cost model for {type_name}: its cost is unknown and must be checked by hand"
        )];
        notes.extend(ignored);
        return Ok(CostEstimate {
            monthly_usd: Money::ZERO,
            breakdown: Vec::new(),
            assumptions: Vec::new(),
            notes,
            known: false,
        });
    };
    let mut ctx = Ctx::new(region, usage, keys, live);
    match model.pricing {
        Pricing::Free(why) => ctx.note(format!("{NO_CHARGE_NOTE}: {why}")),
        Pricing::Priced(price) => price(&mut ctx, properties),
    }
    for note in ignored {
        ctx.note(note);
    }
    Ok(ctx.finish())
}

/// The usage figures a type reads, with units, defaults and descriptions.
/// Empty for free types and types without a model.
pub fn usage_keys(type_name: &ResourceType) -> Vec<UsageKey> {
    models::find(type_name.as_str()).map_or_else(Vec::new, |m| m.usage.to_vec())
}

/// Check every key of `usage` against the type, strict or not: for a CLI or
/// MCP front end that wants to refuse a bad `usage` argument before planning.
pub fn check_usage_keys(type_name: &ResourceType, usage: &Usage) -> Result<(), CostError> {
    let keys = models::find(type_name.as_str()).map_or(&[][..], |m| m.usage);
    match usage
        .iter()
        .find(|(k, _)| !keys.iter().any(|u| u.key == *k))
    {
        Some((key, _)) => Err(unknown_key(type_name, key, keys)),
        None => usage.check_values(),
    }
}

/// The line of the monthly report a type's cost goes to (`S3 Storage`,
/// `RDS Database`); for a type without a model, its service name.
pub fn service_label(type_name: &str) -> String {
    models::find(type_name).map_or_else(
        || {
            type_name
                .split("::")
                .nth(1)
                .unwrap_or(type_name)
                .to_string()
        },
        |m| m.service.to_string(),
    )
}

/// Every type with a cost model (priced or free).
pub fn modelled_types() -> Vec<&'static str> {
    models::all().map(|m| m.type_name).collect()
}

/// Report-line order: [`models::SERVICE_ORDER`], then any other service.
pub(crate) fn service_rank(service: &str) -> usize {
    let order = models::SERVICE_ORDER;
    order
        .iter()
        .position(|s| *s == service)
        .unwrap_or(order.len())
}

fn unknown_key(type_name: &ResourceType, key: &str, keys: &[UsageKey]) -> CostError {
    let known = if keys.is_empty() {
        "none".to_string()
    } else {
        keys.iter().map(|k| k.key).collect::<Vec<_>>().join(", ")
    };
    CostError::UnknownUsageKey {
        key: key.to_string(),
        type_name: type_name.to_string(),
        known,
    }
}

/// `us-east-1`, `eu-west-1`, `us-gov-west-1`: lowercase words joined by `-`,
/// ending in a number.
fn check_region(region: &str) -> Result<(), CostError> {
    let parts: Vec<&str> = region.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if well_formed {
        Ok(())
    } else {
        Err(CostError::InvalidRegion(region.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(name: &str) -> ResourceType {
        ResourceType::new(name).unwrap()
    }

    #[test]
    fn every_schema_type_has_a_model_and_no_type_is_listed_twice() {
        let modelled = modelled_types();
        // The schema crate is a dev-dependency only: the list of types is
        // the catalog's, so a new type fails here until it has a model.
        for ty in infraguard_schema::Catalog::builtin().types() {
            assert!(
                modelled.contains(&ty.as_str()),
                "{ty} has no cost model: add one in crates/cost/src/models/"
            );
        }
        let mut sorted = modelled.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), modelled.len());
    }

    #[test]
    fn every_model_runs_on_empty_properties_without_reading_undeclared_usage() {
        for ty in modelled_types() {
            let est = estimate(&t(ty), &json!({}), "us-east-1", &Usage::default()).unwrap();
            assert!(
                !est.notes.iter().any(|n| n.starts_with("internal")),
                "{ty}: {:?}",
                est.notes
            );
            // Every default the model used is listed, with source "default".
            for a in &est.assumptions {
                assert_eq!(a.source, "default", "{ty}");
                assert!(
                    usage_keys(&t(ty)).iter().any(|k| k.key == a.key),
                    "{ty} {}",
                    a.key
                );
            }
        }
    }

    #[test]
    fn usage_keys_list_defaults_for_tool_descriptions() {
        let keys = usage_keys(&t("AWS::S3::Bucket"));
        let v = serde_json::to_value(&keys).unwrap();
        assert_eq!(v[0]["key"], "storage_gb");
        assert_eq!(v[0]["unit"], "GB");
        assert_eq!(v[0]["default"], "10");
        assert!(usage_keys(&t("AWS::IAM::Role")).is_empty());
        assert!(usage_keys(&t("AWS::Foo::Bar")).is_empty());
    }

    #[test]
    fn free_types_say_no_charge_not_unknown() {
        for ty in [
            "AWS::IAM::Role",
            "AWS::EC2::VPC",
            "AWS::S3::BucketPolicy",
            "AWS::RDS::DBSubnetGroup",
        ] {
            let est = estimate(&t(ty), &json!({}), "us-east-1", &Usage::default()).unwrap();
            assert!(est.known, "{ty}");
            assert_eq!(est.monthly_usd, Money::ZERO);
            assert!(
                est.notes[0].starts_with(NO_CHARGE_NOTE),
                "{ty}: {:?}",
                est.notes
            );
            assert_eq!(est.tag_value(), "0.00 USD/month");
        }
    }

    #[test]
    fn unknown_types_are_ok_but_not_known() {
        let est = estimate(
            &t("AWS::Foo::Bar"),
            &json!({}),
            "us-east-1",
            &Usage::default(),
        )
        .unwrap();
        assert!(!est.known);
        assert!(est.notes[0].contains("no cost model for AWS::Foo::Bar"));
        assert_eq!(est.tag_value(), "unknown");
        assert_eq!(service_label("AWS::Foo::Bar"), "Foo");
    }

    #[test]
    fn argument_keys_are_strict_and_file_keys_are_lenient() {
        let bucket = t("AWS::S3::Bucket");
        let arg = parse_usage_arg("monthly_emails=10").unwrap();
        let err = estimate(&bucket, &json!({}), "us-east-1", &arg).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`monthly_emails`")
                && text.contains("storage_gb, monthly_put_requests, monthly_get_requests"),
            "{text}"
        );
        let file = UsageFile::parse("[purpose.docs]\nmonthly_emails = 10\nstorage_gb = 1")
            .unwrap()
            .for_resource(None, Some("docs"));
        let est = estimate(&bucket, &json!({}), "us-east-1", &file).unwrap();
        assert!(
            est.notes
                .iter()
                .any(|n| n.contains("usage file key `monthly_emails` does not apply"))
        );
        assert!(check_usage_keys(&bucket, &file).is_err());
        assert!(check_usage_keys(&bucket, &parse_usage_arg("storage_gb=3").unwrap()).is_ok());
    }

    #[test]
    fn bad_regions_and_bad_values_are_errors() {
        let bucket = t("AWS::S3::Bucket");
        for bad in ["", "useast1", "US-EAST-1", "us-east-", "us-east-one"] {
            assert_eq!(
                estimate(&bucket, &json!({}), bad, &Usage::default()).unwrap_err(),
                CostError::InvalidRegion(bad.to_string())
            );
        }
        assert!(estimate(&bucket, &json!({}), "us-gov-west-1", &Usage::default()).is_ok());
        let negative = Usage::from_pairs(
            &[("storage_gb".into(), rust_decimal::Decimal::NEGATIVE_ONE)],
            "argument",
        );
        assert!(matches!(
            estimate(&bucket, &json!({}), "us-east-1", &negative),
            Err(CostError::NegativeUsage { .. })
        ));
    }

    #[test]
    fn report_lines_follow_the_seed_order() {
        let order: Vec<usize> = [
            "S3 Storage",
            "SES Emails",
            "RDS Database",
            "Lambda Execution",
        ]
        .iter()
        .map(|s| service_rank(s))
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }
}
