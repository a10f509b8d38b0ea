//! The embedded price catalog, and the [`PriceSource`] port live prices plug into.
//!
//! Every [`Price`] carries its unit, region, source and the date it was read,
//! so an estimate can say where each number came from. Two sources exist:
//!
//! - [`SOURCE_PRICES_MD`]: the project's checked reference table
//!   (`shared/reference/prices.md`, us-east-1, read 2026).
//! - [`SOURCE_MEMORY`]: prices the reference table does not give, added from
//!   knowledge of AWS's public us-east-1 list prices. They are marked as such
//!   and have not been verified here; replace them with live Price List API
//!   results where credentials exist.
//!
//! Only us-east-1 is in the catalog. A lookup for another region falls back
//! to us-east-1 and says so ([`PriceCatalog::lookup`] returns `fell_back`),
//! and the estimate carries a note. A class or engine that has no entry is
//! not guessed: the model reports the price as unknown.
//!
//! Keys are dotted names (`rds.instance.postgres.db.t3.micro`,
//! `s3.requests.put`). The unit is the unit of the price, and a cost
//! component's quantity is expressed in that same unit.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use infraguard_core::Money;
use serde::{Deserialize, Serialize};

use crate::dec::dec;

/// The region every catalog price is for.
pub const CATALOG_REGION: &str = "us-east-1";
/// Source of prices taken from the project's reference table.
pub const SOURCE_PRICES_MD: &str = "shared/reference/prices.md (read 2026)";
/// Source of prices added from memory; distinguishable on purpose.
pub const SOURCE_MEMORY: &str = "AWS public price list, from memory, not verified here";
const READ_PRICES_MD: &str = "2026";
const READ_MEMORY: &str = "not read: recalled 2026-11-26";

/// One list price. Strings are `Cow` so that the embedded catalog borrows
/// `'static` text while a live [`PriceSource`] can return owned values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub key: Cow<'static, str>,
    pub description: Cow<'static, str>,
    /// Unit the price is per (`GB-month`, `1k requests`, `hours`).
    pub unit: Cow<'static, str>,
    pub usd: Money,
    pub region: Cow<'static, str>,
    pub source: Cow<'static, str>,
    pub read_on: Cow<'static, str>,
}

/// Where prices come from besides the embedded catalog: the AWS backend
/// implements this over `pricing:GetProducts`. Returning `None` means "no
/// price from this source"; the catalog is then used.
pub trait PriceSource {
    fn price(&self, key: &str, region: &str) -> Option<Price>;
}

/// Lookups into the embedded catalog.
#[derive(Clone, Copy, Debug, Default)]
pub struct PriceCatalog;

impl PriceCatalog {
    /// The price for `key` in `region`; when the catalog has no price of that
    /// region, the us-east-1 price with `fell_back = true`.
    pub fn lookup(&self, key: &str, region: &str) -> Option<(&'static Price, bool)> {
        let index = index();
        if let Some(p) = index.get(&(key, region)) {
            return Some((p, false));
        }
        index
            .get(&(key, CATALOG_REGION))
            .map(|p| (*p, region != CATALOG_REGION))
    }
}

/// The catalog answers only for the regions it holds; falling back is the
/// estimator's decision, because it has to say so in the estimate.
impl PriceSource for PriceCatalog {
    fn price(&self, key: &str, region: &str) -> Option<Price> {
        index().get(&(key, region)).map(|p| (*p).clone())
    }
}

/// Remembers every answer (including "no price") of a slower source, such
/// as the Price List API, so each key and region is asked once per process.
pub struct CachedSource<S> {
    inner: S,
    cache: Mutex<HashMap<(String, String), Option<Price>>>,
}

impl<S: PriceSource> CachedSource<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl<S: PriceSource> PriceSource for CachedSource<S> {
    fn price(&self, key: &str, region: &str) -> Option<Price> {
        let cache_key = (key.to_string(), region.to_string());
        // A poisoned lock only means another thread panicked mid-insert; the
        // map itself is still a valid cache.
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&cache_key)
        {
            return hit.clone();
        }
        let answer = self.inner.price(key, region);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cache_key, answer.clone());
        answer
    }
}

/// Every price in the catalog.
pub fn catalog() -> &'static [Price] {
    CATALOG
}

fn index() -> &'static HashMap<(&'static str, &'static str), &'static Price> {
    static INDEX: OnceLock<HashMap<(&'static str, &'static str), &'static Price>> = OnceLock::new();
    INDEX.get_or_init(|| {
        CATALOG
            .iter()
            .map(|p| ((p.key.as_ref(), p.region.as_ref()), p))
            .collect()
    })
}

const fn from_table(
    key: &'static str,
    description: &'static str,
    unit: &'static str,
    usd: &str,
) -> Price {
    Price {
        key: Cow::Borrowed(key),
        description: Cow::Borrowed(description),
        unit: Cow::Borrowed(unit),
        usd: Money(dec(usd)),
        region: Cow::Borrowed(CATALOG_REGION),
        source: Cow::Borrowed(SOURCE_PRICES_MD),
        read_on: Cow::Borrowed(READ_PRICES_MD),
    }
}

const fn from_memory(
    key: &'static str,
    description: &'static str,
    unit: &'static str,
    usd: &str,
) -> Price {
    Price {
        key: Cow::Borrowed(key),
        description: Cow::Borrowed(description),
        unit: Cow::Borrowed(unit),
        usd: Money(dec(usd)),
        region: Cow::Borrowed(CATALOG_REGION),
        source: Cow::Borrowed(SOURCE_MEMORY),
        read_on: Cow::Borrowed(READ_MEMORY),
    }
}

static CATALOG: &[Price] = &[
    // --- S3 (prices.md; the seed's request prices are 10x too low) ---
    from_table(
        "s3.storage.standard.first_50tb",
        "S3 Standard storage, first 50 TB",
        "GB-month",
        "0.023",
    ),
    from_table(
        "s3.storage.standard.next_450tb",
        "S3 Standard storage, next 450 TB",
        "GB-month",
        "0.022",
    ),
    from_table(
        "s3.storage.standard.over_500tb",
        "S3 Standard storage, over 500 TB",
        "GB-month",
        "0.021",
    ),
    from_table(
        "s3.requests.put",
        "S3 PUT, COPY, POST, LIST requests",
        "1k requests",
        "0.005",
    ),
    from_table(
        "s3.requests.get",
        "S3 GET, SELECT and other requests",
        "1k requests",
        "0.0004",
    ),
    // --- SES ---
    from_table(
        "ses.email.outbound",
        "SES outbound email",
        "1k emails",
        "0.10",
    ),
    // --- RDS instances (single-AZ, on-demand) ---
    from_table(
        "rds.instance.postgres.db.t3.micro",
        "RDS PostgreSQL db.t3.micro, single-AZ",
        "hours",
        "0.018",
    ),
    from_table(
        "rds.instance.mysql.db.t3.small",
        "RDS MySQL db.t3.small, single-AZ",
        "hours",
        "0.034",
    ),
    from_table(
        "rds.instance.postgres.db.t4g.micro",
        "RDS PostgreSQL db.t4g.micro, single-AZ",
        "hours",
        "0.016",
    ),
    from_memory(
        "rds.instance.mysql.db.t3.micro",
        "RDS MySQL db.t3.micro, single-AZ",
        "hours",
        "0.017",
    ),
    from_memory(
        "rds.instance.postgres.db.t3.small",
        "RDS PostgreSQL db.t3.small, single-AZ",
        "hours",
        "0.036",
    ),
    from_memory(
        "rds.instance.mysql.db.t3.medium",
        "RDS MySQL db.t3.medium, single-AZ",
        "hours",
        "0.068",
    ),
    from_memory(
        "rds.instance.postgres.db.t3.medium",
        "RDS PostgreSQL db.t3.medium, single-AZ",
        "hours",
        "0.072",
    ),
    from_memory(
        "rds.instance.mysql.db.t4g.micro",
        "RDS MySQL db.t4g.micro, single-AZ",
        "hours",
        "0.016",
    ),
    from_memory(
        "rds.instance.mysql.db.t4g.small",
        "RDS MySQL db.t4g.small, single-AZ",
        "hours",
        "0.032",
    ),
    from_memory(
        "rds.instance.postgres.db.t4g.small",
        "RDS PostgreSQL db.t4g.small, single-AZ",
        "hours",
        "0.032",
    ),
    from_memory(
        "rds.instance.mysql.db.t4g.medium",
        "RDS MySQL db.t4g.medium, single-AZ",
        "hours",
        "0.065",
    ),
    from_memory(
        "rds.instance.postgres.db.t4g.medium",
        "RDS PostgreSQL db.t4g.medium, single-AZ",
        "hours",
        "0.065",
    ),
    from_memory(
        "rds.instance.mysql.db.m5.large",
        "RDS MySQL db.m5.large, single-AZ",
        "hours",
        "0.171",
    ),
    from_memory(
        "rds.instance.postgres.db.m5.large",
        "RDS PostgreSQL db.m5.large, single-AZ",
        "hours",
        "0.178",
    ),
    from_memory(
        "rds.instance.mariadb.db.t3.micro",
        "RDS MariaDB db.t3.micro, single-AZ",
        "hours",
        "0.017",
    ),
    from_memory(
        "rds.instance.mariadb.db.t3.small",
        "RDS MariaDB db.t3.small, single-AZ",
        "hours",
        "0.034",
    ),
    from_memory(
        "rds.instance.mariadb.db.t4g.micro",
        "RDS MariaDB db.t4g.micro, single-AZ",
        "hours",
        "0.016",
    ),
    from_memory(
        "rds.instance.aurora-postgresql.db.t3.medium",
        "Aurora PostgreSQL db.t3.medium instance",
        "hours",
        "0.082",
    ),
    from_memory(
        "rds.instance.aurora-postgresql.db.t4g.medium",
        "Aurora PostgreSQL db.t4g.medium instance",
        "hours",
        "0.073",
    ),
    from_memory(
        "rds.instance.aurora-postgresql.db.r6g.large",
        "Aurora PostgreSQL db.r6g.large instance",
        "hours",
        "0.26",
    ),
    from_memory(
        "rds.instance.aurora-mysql.db.t3.medium",
        "Aurora MySQL db.t3.medium instance",
        "hours",
        "0.082",
    ),
    from_memory(
        "rds.instance.aurora-mysql.db.t4g.medium",
        "Aurora MySQL db.t4g.medium instance",
        "hours",
        "0.073",
    ),
    from_memory(
        "rds.instance.aurora-mysql.db.r6g.large",
        "Aurora MySQL db.r6g.large instance",
        "hours",
        "0.26",
    ),
    from_memory(
        "rds.aurora.serverless_v2.acu",
        "Aurora Serverless v2 capacity",
        "ACU-hours",
        "0.12",
    ),
    // --- RDS storage ---
    from_table(
        "rds.storage.gp3",
        "RDS General Purpose (gp3) storage",
        "GB-month",
        "0.115",
    ),
    from_memory(
        "rds.storage.gp3.extra_iops",
        "RDS gp3 IOPS above the included baseline",
        "IOPS-month",
        "0.02",
    ),
    from_memory(
        "rds.storage.gp3.extra_throughput",
        "RDS gp3 throughput above the included baseline",
        "MiBps-month",
        "0.08",
    ),
    from_memory(
        "rds.storage.gp2",
        "RDS General Purpose (gp2) storage",
        "GB-month",
        "0.115",
    ),
    from_memory(
        "rds.storage.io1",
        "RDS Provisioned IOPS (io1) storage",
        "GB-month",
        "0.125",
    ),
    from_memory(
        "rds.storage.io1.iops",
        "RDS Provisioned IOPS (io1)",
        "IOPS-month",
        "0.10",
    ),
    from_memory(
        "rds.storage.io2",
        "RDS Provisioned IOPS (io2) storage",
        "GB-month",
        "0.125",
    ),
    from_memory(
        "rds.storage.io2.iops",
        "RDS Provisioned IOPS (io2)",
        "IOPS-month",
        "0.10",
    ),
    from_memory(
        "rds.storage.standard",
        "RDS magnetic (standard) storage",
        "GB-month",
        "0.10",
    ),
    from_memory(
        "rds.storage.standard.io",
        "RDS magnetic storage I/O requests",
        "1M requests",
        "0.10",
    ),
    from_memory(
        "rds.aurora.storage.standard",
        "Aurora Standard storage",
        "GB-month",
        "0.10",
    ),
    from_memory(
        "rds.aurora.io.standard",
        "Aurora Standard I/O requests",
        "1M requests",
        "0.20",
    ),
    from_memory(
        "rds.aurora.storage.iopt",
        "Aurora I/O-Optimized storage",
        "GB-month",
        "0.225",
    ),
    // --- Lambda ---
    from_table("lambda.requests", "Lambda requests", "1M requests", "0.20"),
    from_table(
        "lambda.duration.x86_64",
        "Lambda compute, x86_64",
        "GB-seconds",
        "0.0000166667",
    ),
    from_table(
        "lambda.duration.arm64",
        "Lambda compute, arm64",
        "GB-seconds",
        "0.0000133334",
    ),
    from_memory(
        "lambda.ephemeral_storage",
        "Lambda ephemeral storage above 512 MB",
        "GB-seconds",
        "0.0000000309",
    ),
    // --- Cognito user pools (pricing since November 2024) ---
    from_table(
        "cognito.lite.mau.first_10k",
        "Cognito Lite MAU, first 10,000 (free)",
        "MAU",
        "0",
    ),
    from_table(
        "cognito.lite.mau.next_90k",
        "Cognito Lite MAU, 10,001 to 100,000",
        "MAU",
        "0.0055",
    ),
    from_table(
        "cognito.lite.mau.next_900k",
        "Cognito Lite MAU, 100,001 to 1,000,000",
        "MAU",
        "0.0046",
    ),
    from_memory(
        "cognito.lite.mau.next_9m",
        "Cognito Lite MAU, 1,000,001 to 10,000,000",
        "MAU",
        "0.00325",
    ),
    from_memory(
        "cognito.lite.mau.over_10m",
        "Cognito Lite MAU, over 10,000,000",
        "MAU",
        "0.0025",
    ),
    from_table(
        "cognito.essentials.mau.first_10k",
        "Cognito Essentials MAU, first 10,000 (free)",
        "MAU",
        "0",
    ),
    from_table(
        "cognito.essentials.mau.over_10k",
        "Cognito Essentials MAU, over 10,000",
        "MAU",
        "0.015",
    ),
    from_table(
        "cognito.plus.mau",
        "Cognito Plus MAU (no free tier)",
        "MAU",
        "0.02",
    ),
    // --- CloudWatch ---
    from_table(
        "logs.ingest.standard",
        "CloudWatch Logs ingestion, Standard class",
        "GB",
        "0.50",
    ),
    from_memory(
        "logs.ingest.infrequent_access",
        "CloudWatch Logs ingestion, Infrequent Access class",
        "GB",
        "0.25",
    ),
    from_memory(
        "logs.storage",
        "CloudWatch Logs archived storage",
        "GB-month",
        "0.03",
    ),
    from_memory(
        "cloudwatch.alarm.standard",
        "CloudWatch alarm, standard resolution",
        "alarm metric-months",
        "0.10",
    ),
    from_memory(
        "cloudwatch.alarm.high_resolution",
        "CloudWatch alarm, high resolution (period under 60 s)",
        "alarm metric-months",
        "0.30",
    ),
    // --- DynamoDB ---
    from_table(
        "dynamodb.ondemand.write",
        "DynamoDB on-demand write request units",
        "1M WRU",
        "0.625",
    ),
    from_table(
        "dynamodb.ondemand.read",
        "DynamoDB on-demand read request units",
        "1M RRU",
        "0.125",
    ),
    from_table(
        "dynamodb.storage.first_25gb",
        "DynamoDB storage, first 25 GB (free)",
        "GB-month",
        "0",
    ),
    from_table(
        "dynamodb.storage.over_25gb",
        "DynamoDB storage over 25 GB",
        "GB-month",
        "0.25",
    ),
    from_memory(
        "dynamodb.provisioned.wcu",
        "DynamoDB provisioned write capacity",
        "WCU-hours",
        "0.00065",
    ),
    from_memory(
        "dynamodb.provisioned.rcu",
        "DynamoDB provisioned read capacity",
        "RCU-hours",
        "0.00013",
    ),
    from_memory(
        "dynamodb.pitr",
        "DynamoDB continuous backups (PITR)",
        "GB-month",
        "0.20",
    ),
    // --- SQS, SNS, EventBridge ---
    from_table(
        "sqs.requests.standard",
        "SQS standard queue requests",
        "1M requests",
        "0.40",
    ),
    from_table(
        "sqs.requests.fifo",
        "SQS FIFO queue requests",
        "1M requests",
        "0.50",
    ),
    from_memory(
        "sns.publish.standard",
        "SNS standard topic publishes",
        "1M requests",
        "0.50",
    ),
    from_memory(
        "sns.delivery.http",
        "SNS HTTP/S deliveries",
        "1M deliveries",
        "0.60",
    ),
    from_memory(
        "sns.delivery.email",
        "SNS email deliveries",
        "100k deliveries",
        "2.00",
    ),
    from_memory(
        "events.custom",
        "EventBridge custom events published",
        "1M events",
        "1.00",
    ),
    // --- KMS, Secrets Manager, SSM ---
    from_table("kms.key", "KMS customer managed key", "key-months", "1"),
    from_table(
        "kms.requests.symmetric",
        "KMS requests (symmetric keys)",
        "10k requests",
        "0.03",
    ),
    from_memory(
        "secretsmanager.secret",
        "Secrets Manager secret (each replica counts as a secret)",
        "secret-months",
        "0.40",
    ),
    from_memory(
        "secretsmanager.api",
        "Secrets Manager API calls",
        "10k calls",
        "0.05",
    ),
    from_memory(
        "ssm.parameter.advanced",
        "SSM Parameter Store advanced parameter",
        "parameter-months",
        "0.05",
    ),
    from_memory(
        "ssm.api.advanced",
        "SSM Parameter Store API interactions (advanced)",
        "10k interactions",
        "0.05",
    ),
    // --- API Gateway, CloudFront ---
    from_memory(
        "apigateway.rest.requests",
        "API Gateway REST API requests, first 333M",
        "1M requests",
        "3.50",
    ),
    from_memory(
        "apigateway.http.requests",
        "API Gateway HTTP API requests, first 300M",
        "1M requests",
        "1.00",
    ),
    from_memory(
        "apigateway.websocket.messages",
        "API Gateway WebSocket messages, first 1B",
        "1M messages",
        "1.00",
    ),
    from_memory(
        "apigateway.websocket.minutes",
        "API Gateway WebSocket connection minutes",
        "1M minutes",
        "0.25",
    ),
    from_memory(
        "cloudfront.transfer.us_eu",
        "CloudFront data transfer out (US/Europe), first 10 TB",
        "GB",
        "0.085",
    ),
    from_memory(
        "cloudfront.requests.https.us_eu",
        "CloudFront HTTPS requests (US/Europe)",
        "10k requests",
        "0.01",
    ),
    // --- Containers, caches, workflows, hosting ---
    from_memory("ecr.storage", "ECR image storage", "GB-month", "0.10"),
    from_memory(
        "elasticache.serverless.redis.storage",
        "ElastiCache Serverless (Redis OSS) data stored",
        "GB-hours",
        "0.125",
    ),
    from_memory(
        "elasticache.serverless.redis.ecpu",
        "ElastiCache Serverless (Redis OSS) ECPUs",
        "1M ECPUs",
        "0.0034",
    ),
    from_memory(
        "elasticache.serverless.valkey.storage",
        "ElastiCache Serverless (Valkey) data stored",
        "GB-hours",
        "0.084",
    ),
    from_memory(
        "elasticache.serverless.valkey.ecpu",
        "ElastiCache Serverless (Valkey) ECPUs",
        "1M ECPUs",
        "0.0023",
    ),
    from_memory(
        "elasticache.serverless.memcached.storage",
        "ElastiCache Serverless (Memcached) data stored",
        "GB-hours",
        "0.125",
    ),
    from_memory(
        "elasticache.serverless.memcached.ecpu",
        "ElastiCache Serverless (Memcached) ECPUs",
        "1M ECPUs",
        "0.0034",
    ),
    from_memory(
        "stepfunctions.standard.transitions",
        "Step Functions Standard state transitions",
        "1k transitions",
        "0.025",
    ),
    from_memory(
        "stepfunctions.express.requests",
        "Step Functions Express requests",
        "1M requests",
        "1.00",
    ),
    from_memory(
        "stepfunctions.express.duration",
        "Step Functions Express duration, first 1,000 GB-hours",
        "GB-seconds",
        "0.00001667",
    ),
    from_memory(
        "amplify.build",
        "Amplify Hosting build and deploy",
        "build minutes",
        "0.01",
    ),
    from_memory(
        "amplify.storage",
        "Amplify Hosting data storage",
        "GB-month",
        "0.023",
    ),
    from_memory(
        "amplify.transfer",
        "Amplify Hosting data transfer out",
        "GB",
        "0.15",
    ),
    // --- EC2 (types outside the schema catalog, priced because the table has them) ---
    from_table("ec2.natgateway.hours", "NAT gateway", "hours", "0.045"),
    from_table(
        "ec2.natgateway.data",
        "NAT gateway data processed",
        "GB",
        "0.045",
    ),
    from_table(
        "ec2.instance.linux.t3.micro",
        "EC2 t3.micro, Linux, on-demand",
        "hours",
        "0.0104",
    ),
    from_memory(
        "ebs.gp3.storage",
        "EBS gp3 volume storage",
        "GB-month",
        "0.08",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_are_unique_and_every_price_is_sourced_and_dated() {
        let mut seen = HashSet::new();
        for p in catalog() {
            assert!(seen.insert(p.key.as_ref()), "duplicate key {}", p.key);
            assert!(
                p.source == SOURCE_PRICES_MD || p.source == SOURCE_MEMORY,
                "{}",
                p.key
            );
            assert!(!p.read_on.is_empty() && !p.unit.is_empty() && !p.description.is_empty());
            assert_eq!(p.region, CATALOG_REGION);
        }
    }

    #[test]
    fn memory_prices_stay_distinguishable_from_the_reference_table() {
        let (p, _) = PriceCatalog.lookup("rds.storage.gp3", "us-east-1").unwrap();
        assert_eq!(p.source, SOURCE_PRICES_MD);
        let (p, _) = PriceCatalog
            .lookup("secretsmanager.secret", "us-east-1")
            .unwrap();
        assert_eq!(p.source, SOURCE_MEMORY);
        assert_eq!(p.read_on, READ_MEMORY);
    }

    #[test]
    fn other_regions_fall_back_to_us_east_1_and_say_so() {
        let (p, fell_back) = PriceCatalog.lookup("s3.requests.put", "eu-west-1").unwrap();
        assert!(fell_back);
        assert_eq!(p.usd, Money::parse("0.005").unwrap());
        let (_, fell_back) = PriceCatalog.lookup("s3.requests.put", "us-east-1").unwrap();
        assert!(!fell_back);
        assert!(
            PriceCatalog
                .lookup("rds.instance.postgres.db.x9.huge", "us-east-1")
                .is_none()
        );
        // As a source, the catalog answers only for regions it holds.
        assert!(PriceCatalog.price("s3.requests.put", "eu-west-1").is_none());
    }

    struct Counting(std::sync::atomic::AtomicUsize);
    impl PriceSource for Counting {
        fn price(&self, key: &str, _region: &str) -> Option<Price> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (key == "kms.key").then(|| Price {
                usd: Money::parse("0.9").unwrap(),
                source: Cow::Owned("live".into()),
                ..from_table("kms.key", "k", "key-months", "1")
            })
        }
    }

    #[test]
    fn cached_source_asks_once_per_key_including_misses() {
        let cached = CachedSource::new(Counting(Default::default()));
        for _ in 0..3 {
            assert_eq!(
                cached.price("kms.key", "eu-west-1").unwrap().usd,
                Money::parse("0.9").unwrap()
            );
            assert!(cached.price("nope", "eu-west-1").is_none());
        }
        assert_eq!(cached.inner.0.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
