//! The edge: API Gateway REST, HTTP and WebSocket APIs, and CloudFront
//! distributions.

use serde_json::Value;

use crate::model::{Ctx, MILLION, Model, Pricing, TEN_THOUSAND, key};
use crate::usage::UsageKey;

static REST_USAGE: &[UsageKey] = &[key(
    "monthly_requests",
    "requests",
    "100000",
    "API calls a month",
)];

const REST_API: Model = Model {
    type_name: "AWS::ApiGateway::RestApi",
    service: "API Gateway",
    usage: REST_USAGE,
    pricing: Pricing::Priced(|ctx, _props| {
        let requests = ctx.usage("monthly_requests");
        ctx.charge(
            "REST API requests",
            "apigateway.rest.requests",
            requests / MILLION,
        );
        ctx.note("stage caching and data transfer out are not included");
    }),
};

static V2_USAGE: &[UsageKey] = &[
    key(
        "monthly_requests",
        "requests",
        "100000",
        "HTTP API calls a month (each 512 KB is one request)",
    ),
    key(
        "monthly_messages",
        "messages",
        "100000",
        "WebSocket messages a month (each 32 KB is one message)",
    ),
    key(
        "monthly_connection_minutes",
        "minutes",
        "100000",
        "WebSocket connection minutes a month",
    ),
];

const V2_API: Model = Model {
    type_name: "AWS::ApiGatewayV2::Api",
    service: "API Gateway",
    usage: V2_USAGE,
    pricing: Pricing::Priced(v2_api),
};

fn v2_api(ctx: &mut Ctx<'_>, props: &Value) {
    let Ok(protocol) = ctx.text(props, "/ProtocolType") else {
        return;
    };
    let protocol = protocol.map(str::to_ascii_uppercase).unwrap_or_else(|| {
        ctx.note("ProtocolType is not set (OpenAPI body): priced as an HTTP API");
        "HTTP".to_string()
    });
    match protocol.as_str() {
        "HTTP" => {
            let requests = ctx.usage("monthly_requests");
            ctx.charge(
                "HTTP API requests",
                "apigateway.http.requests",
                requests / MILLION,
            );
        }
        "WEBSOCKET" => {
            let messages = ctx.usage("monthly_messages");
            ctx.charge(
                "WebSocket messages",
                "apigateway.websocket.messages",
                messages / MILLION,
            );
            let minutes = ctx.usage("monthly_connection_minutes");
            ctx.charge(
                "WebSocket connection minutes",
                "apigateway.websocket.minutes",
                minutes / MILLION,
            );
        }
        other => ctx.unknown(format!("unknown price for API protocol `{other}`")),
    }
    ctx.note("data transfer out is not included");
}

static DISTRIBUTION_USAGE: &[UsageKey] = &[
    key(
        "monthly_data_transfer_gb",
        "GB",
        "10",
        "data transferred out to viewers a month",
    ),
    key(
        "monthly_https_requests",
        "requests",
        "1000000",
        "HTTPS requests a month",
    ),
];

const DISTRIBUTION: Model = Model {
    type_name: "AWS::CloudFront::Distribution",
    service: "CloudFront",
    usage: DISTRIBUTION_USAGE,
    pricing: Pricing::Priced(|ctx, props| {
        let gb = ctx.usage("monthly_data_transfer_gb");
        ctx.charge(
            "Data transfer out (US/Europe, first 10 TB)",
            "cloudfront.transfer.us_eu",
            gb,
        );
        let requests = ctx.usage("monthly_https_requests");
        ctx.charge(
            "HTTPS requests (US/Europe)",
            "cloudfront.requests.https.us_eu",
            requests / TEN_THOUSAND,
        );
        let price_class = props
            .pointer("/DistributionConfig/PriceClass")
            .and_then(Value::as_str)
            .unwrap_or("PriceClass_All");
        if price_class != "PriceClass_100" {
            ctx.note(format!("{price_class} also serves from edges outside the US and Europe, which cost more; US/Europe rates are used"));
        }
        ctx.note("the always-free allowance (1 TB and 10M requests a month, per account) is not subtracted");
    }),
};

/// This family's models, priced and free.
pub(super) const MODELS: &[Model] = &[REST_API, V2_API, DISTRIBUTION];
