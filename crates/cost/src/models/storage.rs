//! Storage services: S3 buckets, ECR repositories, DynamoDB tables and
//! ElastiCache Serverless caches.

use rust_decimal::Decimal;
use serde_json::Value;

use super::free;
use crate::dec::dec;
use crate::model::{Ctx, HOURS_PER_MONTH, MILLION, Model, Pricing, THOUSAND, key};
use crate::usage::UsageKey;

static BUCKET_USAGE: &[UsageKey] = &[
    key(
        "storage_gb",
        "GB",
        "10",
        "average data stored (S3 Standard)",
    ),
    key(
        "monthly_put_requests",
        "requests",
        "10000",
        "PUT, COPY, POST and LIST requests a month",
    ),
    key(
        "monthly_get_requests",
        "requests",
        "10000",
        "GET, SELECT and other requests a month",
    ),
];

const BUCKET: Model = Model {
    type_name: "AWS::S3::Bucket",
    service: "S3 Storage",
    usage: BUCKET_USAGE,
    pricing: Pricing::Priced(bucket),
};

fn bucket(ctx: &mut Ctx<'_>, props: &Value) {
    let gb = ctx.usage("storage_gb");
    // AWS's tiers are 50 TB and 450 TB, counted in GB of 1,024 per TB.
    ctx.charge_tiers(
        "Storage, S3 Standard",
        &[
            (
                dec("51200"),
                "first 50 TB",
                "s3.storage.standard.first_50tb",
            ),
            (
                dec("460800"),
                "next 450 TB",
                "s3.storage.standard.next_450tb",
            ),
            (
                Decimal::ZERO,
                "over 500 TB",
                "s3.storage.standard.over_500tb",
            ),
        ],
        gb,
    );
    let puts = ctx.usage("monthly_put_requests");
    ctx.charge(
        "PUT, COPY, POST, LIST requests",
        "s3.requests.put",
        puts / THOUSAND,
    );
    let gets = ctx.usage("monthly_get_requests");
    ctx.charge(
        "GET, SELECT and other requests",
        "s3.requests.get",
        gets / THOUSAND,
    );

    if let Ok(Some(status)) = ctx.text(props, "/VersioningConfiguration/Status")
        && status.eq_ignore_ascii_case("Enabled")
    {
        ctx.note("versioning is enabled: noncurrent versions are billed as storage; count them in storage_gb");
    }
    if props.pointer("/LifecycleConfiguration").is_some()
        || props.pointer("/IntelligentTieringConfigurations").is_some()
    {
        ctx.note("lifecycle transitions and other storage classes are not modelled: all storage is priced as S3 Standard");
    }
    ctx.note("data transfer out to the internet is not included");
}

static REPOSITORY_USAGE: &[UsageKey] = &[key("storage_gb", "GB", "1", "average image data stored")];

const REPOSITORY: Model = Model {
    type_name: "AWS::ECR::Repository",
    service: "ECR",
    usage: REPOSITORY_USAGE,
    pricing: Pricing::Priced(|ctx, _props| {
        let gb = ctx.usage("storage_gb");
        ctx.charge("Image storage", "ecr.storage", gb);
        ctx.note("data transfer out of the region is not included");
    }),
};

static TABLE_USAGE: &[UsageKey] = &[
    key(
        "storage_gb",
        "GB",
        "1",
        "average table size, indexes included",
    ),
    key(
        "monthly_write_request_units",
        "WRU",
        "1000000",
        "write request units a month (on-demand)",
    ),
    key(
        "monthly_read_request_units",
        "RRU",
        "1000000",
        "read request units a month (on-demand)",
    ),
];

const TABLE: Model = Model {
    type_name: "AWS::DynamoDB::Table",
    service: "DynamoDB Tables",
    usage: TABLE_USAGE,
    pricing: Pricing::Priced(table),
};

fn table(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(mode), Ok(class), Ok(pitr)) = (
        ctx.text(props, "/BillingMode"),
        ctx.text(props, "/TableClass"),
        ctx.flag(
            props,
            "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled",
        ),
    ) else {
        return;
    };
    if let Some(class) = class.filter(|c| !c.eq_ignore_ascii_case("STANDARD")) {
        ctx.unknown(format!(
            "unknown price for table class {class}: only STANDARD is in the catalog"
        ));
        return;
    }
    // CloudFormation's default billing mode is PROVISIONED.
    let on_demand = mode.is_some_and(|m| m.eq_ignore_ascii_case("PAY_PER_REQUEST"));
    if on_demand {
        let writes = ctx.usage("monthly_write_request_units");
        ctx.charge(
            "Write request units (on-demand)",
            "dynamodb.ondemand.write",
            writes / MILLION,
        );
        let reads = ctx.usage("monthly_read_request_units");
        ctx.charge(
            "Read request units (on-demand)",
            "dynamodb.ondemand.read",
            reads / MILLION,
        );
    } else {
        provisioned(ctx, props);
    }
    let gb = ctx.usage("storage_gb");
    ctx.charge_tiers(
        "Storage",
        &[
            (dec("25"), "first 25 GB free", "dynamodb.storage.first_25gb"),
            (Decimal::ZERO, "over 25 GB", "dynamodb.storage.over_25gb"),
        ],
        gb,
    );
    if pitr == Some(true) {
        ctx.charge("Point-in-time recovery backups", "dynamodb.pitr", gb);
    }
    if props.pointer("/StreamSpecification").is_some() {
        ctx.note("DynamoDB Streams reads beyond the free allowance are not included");
    }
    ctx.note("the 25 GB storage allowance is per account; it is applied to this table");
}

/// Provisioned capacity of the table and of each global secondary index,
/// all billed per capacity-unit hour.
fn provisioned(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(rcu), Ok(wcu)) = (
        ctx.number(props, "/ProvisionedThroughput/ReadCapacityUnits"),
        ctx.number(props, "/ProvisionedThroughput/WriteCapacityUnits"),
    ) else {
        return;
    };
    let (Some(mut rcu), Some(mut wcu)) = (rcu, wcu) else {
        ctx.unknown("BillingMode is PROVISIONED but ProvisionedThroughput is not set: capacity not included");
        return;
    };
    let Ok(indexes) = ctx.list_len(props, "/GlobalSecondaryIndexes") else {
        return;
    };
    for i in 0..indexes {
        let (Ok(r), Ok(w)) = (
            ctx.number(
                props,
                &format!("/GlobalSecondaryIndexes/{i}/ProvisionedThroughput/ReadCapacityUnits"),
            ),
            ctx.number(
                props,
                &format!("/GlobalSecondaryIndexes/{i}/ProvisionedThroughput/WriteCapacityUnits"),
            ),
        ) else {
            return;
        };
        rcu += r.unwrap_or_default();
        wcu += w.unwrap_or_default();
    }
    let with_indexes = if indexes > 0 { ", table + indexes" } else { "" };
    if let Some(q) = ctx.mul(wcu, HOURS_PER_MONTH) {
        ctx.charge(
            format!(
                "Provisioned write capacity ({} WCU{with_indexes})",
                wcu.normalize()
            ),
            "dynamodb.provisioned.wcu",
            q,
        );
    }
    if let Some(q) = ctx.mul(rcu, HOURS_PER_MONTH) {
        ctx.charge(
            format!(
                "Provisioned read capacity ({} RCU{with_indexes})",
                rcu.normalize()
            ),
            "dynamodb.provisioned.rcu",
            q,
        );
    }
    ctx.note("the free tier of 25 WCU and 25 RCU is per account and is not subtracted");
}

static CACHE_USAGE: &[UsageKey] = &[
    key(
        "average_data_stored_gb",
        "GB",
        "1",
        "average data stored in the cache",
    ),
    key(
        "monthly_ecpus",
        "ECPUs",
        "100000000",
        "ElastiCache Processing Units used a month",
    ),
];

const SERVERLESS_CACHE: Model = Model {
    type_name: "AWS::ElastiCache::ServerlessCache",
    service: "ElastiCache",
    usage: CACHE_USAGE,
    pricing: Pricing::Priced(serverless_cache),
};

fn serverless_cache(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(engine), Ok(limit_min)) = (
        ctx.text(props, "/Engine"),
        ctx.number(props, "/CacheUsageLimits/DataStorage/Minimum"),
    ) else {
        return;
    };
    let Some(engine) = engine.map(str::to_ascii_lowercase) else {
        ctx.unknown("Engine is not set: cannot price the cache");
        return;
    };
    // Each engine bills at least a minimum of data stored.
    let (label, engine_min) = match engine.as_str() {
        "redis" => ("Redis OSS", dec("1")),
        "valkey" => ("Valkey", dec("0.1")),
        "memcached" => ("Memcached", dec("1")),
        other => {
            ctx.unknown(format!(
                "unknown price for ElastiCache Serverless engine `{other}`"
            ));
            return;
        }
    };
    let stored = ctx.usage("average_data_stored_gb");
    let floor = limit_min.map_or(engine_min, |m| m.max(engine_min));
    let billed = stored.max(floor);
    if billed > stored {
        ctx.note(format!(
            "{label} bills at least {} GB of data stored",
            floor.normalize()
        ));
    }
    if let Some(gb_hours) = ctx.mul(billed, HOURS_PER_MONTH) {
        ctx.charge(
            format!("Data stored ({label})"),
            &format!("elasticache.serverless.{engine}.storage"),
            gb_hours,
        );
    }
    let ecpus = ctx.usage("monthly_ecpus");
    ctx.charge(
        format!("ElastiCache Processing Units ({label})"),
        &format!("elasticache.serverless.{engine}.ecpu"),
        ecpus / MILLION,
    );
}

/// This family's models, priced and free.
pub(super) const MODELS: &[Model] = &[
    BUCKET,
    TABLE,
    REPOSITORY,
    SERVERLESS_CACHE,
    free(
        "AWS::S3::BucketPolicy",
        "S3 Storage",
        "a bucket policy is free; the bucket is priced on AWS::S3::Bucket",
    ),
];
