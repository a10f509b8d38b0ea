//! Live prices from the AWS Price List API (`pricing:GetProducts`), as a
//! [`PriceSource`] in front of the embedded catalog.
//!
//! This crate does no I/O, so the call itself sits behind [`PriceListClient`]
//! (the AWS backend implements it with `aws-sdk-pricing`; tests use a stub).
//! What lives here is the part that needs no network:
//!
//! - [`price_list_query`]: which service code and `TERM_MATCH` filters find
//!   the product behind a catalog key, and how to convert AWS's unit to the
//!   catalog's (S3 lists requests one by one, the catalog per 1,000);
//! - [`price_from_products`]: read the `OnDemand` price dimension out of the
//!   `PriceList` JSON documents GetProducts returns.
//!
//! Only keys whose products can be named with confidence are mapped (RDS
//! and EC2 instances, Lambda, S3 Standard, DynamoDB on-demand). The filter
//! values follow the Price List attribute names as remembered, not verified
//! against the live API here; a query that finds nothing simply leaves the
//! catalog price in place. Wrap a [`PriceList`] in [`crate::CachedSource`]
//! so each key is fetched once per process.

use std::borrow::Cow;
use std::str::FromStr;

use infraguard_core::Money;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::catalog::{Price, PriceCatalog, PriceSource};
use crate::dec::dec;
use crate::error::CostError;

/// Source label of a price read from the Price List API.
pub const SOURCE_PRICE_LIST: &str = "AWS Price List API (pricing:GetProducts)";

/// What to ask GetProducts for one catalog key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceListQuery {
    /// `AmazonRDS`, `AWSLambda`, ...
    pub service_code: &'static str,
    /// `TERM_MATCH` filters as (field, value).
    pub filters: Vec<(&'static str, String)>,
    /// How many AWS units make one catalog unit (1,000 requests for S3's
    /// `1k requests`; 1 when the units agree).
    pub per: Decimal,
    /// AWS `beginRange` of the tier the key stands for (in AWS units).
    pub begin_range: Decimal,
}

/// The call to AWS, implemented by the AWS backend: one GetProducts query
/// (all pages), returning the `PriceList` entries (JSON documents as text).
pub trait PriceListClient {
    fn get_products(
        &self,
        service_code: &str,
        filters: &[(&'static str, String)],
    ) -> Result<Vec<String>, String>;
}

/// Catalog key → GetProducts query, for the keys that can be mapped.
pub fn price_list_query(key: &str, region: &str) -> Option<PriceListQuery> {
    let region_filter = ("regionCode", region.to_string());
    let one = Decimal::ONE;
    let query = |service_code, mut filters: Vec<(&'static str, String)>, per, begin_range| {
        filters.push(region_filter.clone());
        Some(PriceListQuery {
            service_code,
            filters,
            per,
            begin_range,
        })
    };
    if let Some(rest) = key.strip_prefix("rds.instance.") {
        let (engine, class) = rest.split_once('.')?;
        let engine = match engine {
            "postgres" => "PostgreSQL",
            "mysql" => "MySQL",
            "mariadb" => "MariaDB",
            "aurora-postgresql" => "Aurora PostgreSQL",
            "aurora-mysql" => "Aurora MySQL",
            _ => return None,
        };
        return query(
            "AmazonRDS",
            vec![
                ("instanceType", class.to_string()),
                ("databaseEngine", engine.to_string()),
                ("deploymentOption", "Single-AZ".to_string()),
            ],
            one,
            Decimal::ZERO,
        );
    }
    if let Some(class) = key.strip_prefix("ec2.instance.linux.") {
        return query(
            "AmazonEC2",
            vec![
                ("instanceType", class.to_string()),
                ("operatingSystem", "Linux".to_string()),
                ("tenancy", "Shared".to_string()),
                ("preInstalledSw", "NA".to_string()),
                ("capacitystatus", "Used".to_string()),
            ],
            one,
            Decimal::ZERO,
        );
    }
    let group = |g: &str| vec![("group", g.to_string())];
    match key {
        "lambda.requests" => query(
            "AWSLambda",
            group("AWS-Lambda-Requests"),
            dec("1000000"),
            Decimal::ZERO,
        ),
        "lambda.duration.x86_64" => query(
            "AWSLambda",
            group("AWS-Lambda-Duration"),
            one,
            Decimal::ZERO,
        ),
        "lambda.duration.arm64" => query(
            "AWSLambda",
            group("AWS-Lambda-Duration-ARM"),
            one,
            Decimal::ZERO,
        ),
        "s3.requests.put" => query(
            "AmazonS3",
            group("S3-API-Tier1"),
            dec("1000"),
            Decimal::ZERO,
        ),
        "s3.requests.get" => query(
            "AmazonS3",
            group("S3-API-Tier2"),
            dec("1000"),
            Decimal::ZERO,
        ),
        "s3.storage.standard.first_50tb"
        | "s3.storage.standard.next_450tb"
        | "s3.storage.standard.over_500tb" => {
            let begin = match key {
                "s3.storage.standard.first_50tb" => Decimal::ZERO,
                "s3.storage.standard.next_450tb" => dec("51200"),
                _ => dec("512000"),
            };
            query(
                "AmazonS3",
                vec![
                    ("productFamily", "Storage".to_string()),
                    ("volumeType", "Standard".to_string()),
                ],
                one,
                begin,
            )
        }
        "dynamodb.ondemand.write" => query(
            "AmazonDynamoDB",
            group("DDB-WriteUnits"),
            dec("1000000"),
            Decimal::ZERO,
        ),
        "dynamodb.ondemand.read" => query(
            "AmazonDynamoDB",
            group("DDB-ReadUnits"),
            dec("1000000"),
            Decimal::ZERO,
        ),
        _ => None,
    }
}

/// One `OnDemand` price dimension of a product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceDimension {
    pub unit: String,
    pub usd: Decimal,
    pub begin_range: Decimal,
    pub description: String,
}

/// Every `OnDemand` price dimension in GetProducts' `PriceList` documents.
pub fn on_demand_dimensions(products: &[String]) -> Result<Vec<PriceDimension>, CostError> {
    let bad = |reason: String| CostError::PriceList { reason };
    let mut out = Vec::new();
    for (i, text) in products.iter().enumerate() {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| bad(format!("PriceList entry {i} is not JSON ({e})")))?;
        let Some(terms) = doc.pointer("/terms/OnDemand").and_then(Value::as_object) else {
            continue; // reserved-only products have no on-demand price
        };
        for term in terms.values() {
            let Some(dims) = term.get("priceDimensions").and_then(Value::as_object) else {
                return Err(bad(format!(
                    "PriceList entry {i}: an OnDemand term has no priceDimensions"
                )));
            };
            for dim in dims.values() {
                let text_of =
                    |field: &str| dim.get(field).and_then(Value::as_str).unwrap_or_default();
                let usd = dim
                    .pointer("/pricePerUnit/USD")
                    .and_then(Value::as_str)
                    .and_then(|s| Decimal::from_str(s).ok())
                    .ok_or_else(|| {
                        bad(format!(
                            "PriceList entry {i}: a price dimension has no USD price"
                        ))
                    })?;
                let begin_range = Decimal::from_str(text_of("beginRange")).unwrap_or(Decimal::ZERO);
                out.push(PriceDimension {
                    unit: text_of("unit").to_string(),
                    usd,
                    begin_range,
                    description: text_of("description").to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// The catalog-shaped price for `key` out of GetProducts' answer: the
/// dimension whose `beginRange` is the query's, converted to the catalog's
/// unit. `Ok(None)` when the key is not mapped or nothing matched.
pub fn price_from_products(
    key: &str,
    region: &str,
    products: &[String],
    read_on: &str,
) -> Result<Option<Price>, CostError> {
    let Some(query) = price_list_query(key, region) else {
        return Ok(None);
    };
    let Some(dim) = on_demand_dimensions(products)?
        .into_iter()
        .find(|d| d.begin_range == query.begin_range)
    else {
        return Ok(None);
    };
    let Some(usd) = dim.usd.checked_mul(query.per) else {
        return Ok(None);
    };
    // Description and unit come from the catalog entry when there is one,
    // so a live price reads like the price it replaces.
    let template = PriceCatalog.lookup(key, region).map(|(p, _)| p);
    Ok(Some(Price {
        key: Cow::Owned(key.to_string()),
        description: Cow::Owned(
            template.map_or_else(|| dim.description.clone(), |p| p.description.to_string()),
        ),
        unit: Cow::Owned(template.map_or_else(|| dim.unit.clone(), |p| p.unit.to_string())),
        usd: Money(usd.normalize()),
        region: Cow::Owned(region.to_string()),
        source: Cow::Borrowed(SOURCE_PRICE_LIST),
        read_on: Cow::Owned(read_on.to_string()),
    }))
}

/// A [`PriceSource`] over a [`PriceListClient`]. Failures (no network, no
/// permission, nothing matched) answer `None`, so the catalog is used.
pub struct PriceList<C> {
    client: C,
    /// The date prices are read on, from the caller's clock (`2026-11-26`).
    read_on: String,
}

impl<C: PriceListClient> PriceList<C> {
    pub fn new(client: C, read_on: &str) -> Self {
        Self {
            client,
            read_on: read_on.to_string(),
        }
    }

    /// The live price for `key`, with the reason when there is none.
    pub fn fetch(&self, key: &str, region: &str) -> Result<Option<Price>, CostError> {
        let Some(query) = price_list_query(key, region) else {
            return Ok(None);
        };
        let products = self
            .client
            .get_products(query.service_code, &query.filters)
            .map_err(|reason| CostError::PriceList { reason })?;
        price_from_products(key, region, &products, &self.read_on)
    }
}

impl<C: PriceListClient> PriceSource for PriceList<C> {
    fn price(&self, key: &str, region: &str) -> Option<Price> {
        self.fetch(key, region).ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CachedSource;
    use infraguard_core::ResourceType;
    use serde_json::json;
    use std::cell::Cell;

    /// A GetProducts `PriceList` entry in the shape AWS returns.
    fn product(unit: &str, tiers: &[(&str, &str)]) -> String {
        let dims: serde_json::Map<String, Value> = tiers
            .iter()
            .enumerate()
            .map(|(i, (begin, usd))| {
                (
                    format!("SKU.TERM.RATE{i}"),
                    json!({"unit": unit, "beginRange": begin, "endRange": "Inf",
                           "description": format!("tier {i}"), "pricePerUnit": {"USD": usd}}),
                )
            })
            .collect();
        json!({
            "product": {"productFamily": "x", "attributes": {"regionCode": "eu-west-1"}, "sku": "SKU"},
            "serviceCode": "X",
            "terms": {"OnDemand": {"SKU.TERM": {"priceDimensions": dims, "sku": "SKU"}},
                      "Reserved": {"SKU.R": {"priceDimensions": {}}}}
        })
        .to_string()
    }

    struct Stub {
        answer: Result<Vec<String>, String>,
        calls: Cell<usize>,
    }
    impl PriceListClient for Stub {
        fn get_products(
            &self,
            service_code: &str,
            filters: &[(&'static str, String)],
        ) -> Result<Vec<String>, String> {
            self.calls.set(self.calls.get() + 1);
            assert!(
                filters.contains(&("regionCode", "eu-west-1".to_string())),
                "{service_code} {filters:?}"
            );
            self.answer.clone()
        }
    }

    #[test]
    fn queries_name_the_product_and_convert_units() {
        let q = price_list_query("rds.instance.postgres.db.t3.micro", "eu-west-1").unwrap();
        assert_eq!(q.service_code, "AmazonRDS");
        assert!(
            q.filters
                .contains(&("databaseEngine", "PostgreSQL".to_string()))
        );
        assert!(
            q.filters
                .contains(&("instanceType", "db.t3.micro".to_string()))
        );
        assert_eq!(
            price_list_query("s3.requests.put", "us-east-1")
                .unwrap()
                .per,
            dec("1000")
        );
        assert!(price_list_query("cognito.plus.mau", "us-east-1").is_none());
        assert!(price_list_query("rds.instance.oracle-ee.db.m5.large", "us-east-1").is_none());
    }

    #[test]
    fn a_live_price_replaces_the_catalog_and_the_estimate_says_so() {
        // S3 PUT at $0.0000054 per request in eu-west-1 → $0.0054 per 1k.
        let stub = Stub {
            answer: Ok(vec![product("Requests", &[("0", "0.0000054000")])]),
            calls: Cell::new(0),
        };
        let live = CachedSource::new(PriceList::new(stub, "2026-11-26"));
        let p = live.price("s3.requests.put", "eu-west-1").unwrap();
        assert_eq!(
            (p.usd, p.unit.as_ref()),
            (Money::parse("0.0054").unwrap(), "1k requests")
        );
        assert_eq!(
            (p.source.as_ref(), p.read_on.as_ref()),
            (SOURCE_PRICE_LIST, "2026-11-26")
        );

        let usage = crate::parse_usage_arg(
            "storage_gb=0,monthly_put_requests=10000,monthly_get_requests=0",
        )
        .unwrap();
        let ty = ResourceType::new("AWS::S3::Bucket").unwrap();
        let e = crate::estimate_with(Some(&live), &ty, &json!({}), "eu-west-1", &usage).unwrap();
        // 10 × 0.0054 = 0.054 live; the other keys answered the same stub (tier 0 matched).
        let put = e
            .breakdown
            .iter()
            .find(|c| c.name.starts_with("PUT"))
            .unwrap();
        assert_eq!(put.monthly_cost, Money::parse("0.054").unwrap());
        assert!(
            e.notes.iter().any(|n| n.contains(SOURCE_PRICE_LIST)),
            "{:?}",
            e.notes
        );
    }

    #[test]
    fn tiers_are_picked_by_begin_range() {
        let products = vec![product(
            "GB-Mo",
            &[("0", "0.024"), ("51200", "0.023"), ("512000", "0.022")],
        )];
        let p = price_from_products(
            "s3.storage.standard.next_450tb",
            "eu-west-1",
            &products,
            "d",
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.usd, Money::parse("0.023").unwrap());
    }

    #[test]
    fn failures_fall_back_to_the_catalog() {
        let stub = Stub {
            answer: Err("AccessDeniedException: pricing:GetProducts".into()),
            calls: Cell::new(0),
        };
        let live = PriceList::new(stub, "2026-11-26");
        let err = live
            .fetch("lambda.requests", "eu-west-1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("AccessDeniedException"), "{err}");
        assert!(live.price("lambda.requests", "eu-west-1").is_none());
        // Unmapped keys never reach the client.
        assert!(live.price("kms.key", "eu-west-1").is_none());
        assert_eq!(live.client.calls.get(), 2);

        let ty = ResourceType::new("AWS::Lambda::Function").unwrap();
        let e = crate::estimate_with(
            Some(&live),
            &ty,
            &json!({}),
            "eu-west-1",
            &crate::Usage::default(),
        )
        .unwrap();
        assert!(
            e.notes.iter().any(|n| n.contains("us-east-1 prices used")),
            "{:?}",
            e.notes
        );
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        assert!(matches!(
            on_demand_dimensions(&["not json".into()]),
            Err(CostError::PriceList { .. })
        ));
        let no_usd =
            json!({"terms": {"OnDemand": {"T": {"priceDimensions": {"D": {"unit": "Hrs"}}}}}})
                .to_string();
        assert!(on_demand_dimensions(&[no_usd]).is_err());
        let reserved_only = json!({"terms": {"Reserved": {}}}).to_string();
        assert_eq!(on_demand_dimensions(&[reserved_only]).unwrap(), vec![]);
    }
}
