//! The edge: API Gateway REST and HTTP/WebSocket APIs, CloudFront
//! distributions.

use super::{Context, Gen, Rules};

pub(super) static RULES: &[Rules] = &[
    Rules {
        type_name: "AWS::ApiGateway::RestApi",
        create: rest_api,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::ApiGatewayV2::Api",
        create: v2_api,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::CloudFront::Distribution",
        create: distribution,
        update: None,
        max_name_len: None,
    },
];

fn rest_api(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    g.put("/RestApiId", cx.rng.lower_alnum(10));
    g.put("/RootResourceId", cx.rng.lower_alnum(10));
}

fn v2_api(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let id = cx.rng.lower_alnum(10);
    let scheme = if g.str("ProtocolType").as_deref() == Some("WEBSOCKET") {
        "wss"
    } else {
        "https"
    };
    g.put(
        "/ApiEndpoint",
        format!("{scheme}://{id}.execute-api.{r}.amazonaws.com"),
    );
    g.put(
        "/ExecuteApiArn",
        format!("arn:aws:execute-api:{r}:{a}:{id}"),
    );
    g.put("/ApiId", id);
}

fn distribution(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    g.put("/Id", format!("E{}", cx.rng.upper_alnum(13)));
    g.put(
        "/DomainName",
        format!("d{}.cloudfront.net", cx.rng.lower_alnum(13)),
    );
}
