//! Storage: S3 buckets, DynamoDB tables, ECR repositories and ElastiCache
//! serverless caches.

use infraguard_core::Timestamp;
use serde_json::Value;

use super::{Context, Gen, Rules};
use infraguard_core::pointer;

pub(super) static RULES: &[Rules] = &[
    Rules {
        type_name: "AWS::S3::Bucket",
        create: bucket,
        update: None,
        max_name_len: Some(63),
    },
    Rules {
        type_name: "AWS::DynamoDB::Table",
        create: table,
        update: Some(table_update),
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::ECR::Repository",
        create: repository,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::ElastiCache::ServerlessCache",
        create: serverless_cache,
        update: None,
        max_name_len: Some(40),
    },
];

fn bucket(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let r = cx.region;
    let n = g.name("BucketName", cx.rng);
    g.put("/Arn", format!("arn:aws:s3:::{n}"));
    g.put("/DomainName", format!("{n}.s3.amazonaws.com"));
    g.put("/RegionalDomainName", format!("{n}.s3.{r}.amazonaws.com"));
    g.put(
        "/DualStackDomainName",
        format!("{n}.s3.dualstack.{r}.amazonaws.com"),
    );
    g.put(
        "/WebsiteURL",
        format!("http://{n}.s3-website-{r}.amazonaws.com"),
    );
}

fn table(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("TableName", cx.rng);
    let arn = format!("arn:aws:dynamodb:{r}:{a}:table/{n}");
    if g.props.get("StreamSpecification").is_some() {
        g.put("/StreamArn", stream_arn(&arn, cx.now));
    }
    g.put("/Arn", arn);
}

/// A stream turned on gets its ARN, one turned off loses it.
fn table_update(g: &mut Gen<'_>, _old: &Value, cx: &mut Context<'_>) {
    let has_stream = g.props.get("StreamSpecification").is_some();
    let arn = g.str("Arn").unwrap_or_default();
    match (has_stream, g.props.get("StreamArn").is_some()) {
        (true, false) => g.put("/StreamArn", stream_arn(&arn, cx.now)),
        (false, true) => {
            pointer::remove(g.props, "/StreamArn");
        }
        _ => {}
    }
}

fn repository(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("RepositoryName", cx.rng);
    g.put("/Arn", format!("arn:aws:ecr:{r}:{a}:repository/{n}"));
    g.put(
        "/RepositoryUri",
        format!("{a}.dkr.ecr.{r}.amazonaws.com/{n}"),
    );
}

fn serverless_cache(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("ServerlessCacheName", cx.rng);
    let host = format!(
        "{n}-{}.serverless.{r}.cache.amazonaws.com",
        cx.rng.lower_alnum(6)
    );
    g.put(
        "/ARN",
        format!("arn:aws:elasticache:{r}:{a}:serverlesscache:{n}"),
    );
    g.put("/Status", "available");
    g.put("/CreateTime", cx.now.rfc3339());
    g.put("/Endpoint/Address", host.clone());
    g.put("/Endpoint/Port", "6379");
    g.put("/ReaderEndpoint/Address", host);
    g.put("/ReaderEndpoint/Port", "6380");
}

/// DynamoDB stream ARNs end in the stream's creation time with milliseconds.
fn stream_arn(table_arn: &str, now: Timestamp) -> String {
    let t = now.0;
    format!(
        "{table_arn}/stream/{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
