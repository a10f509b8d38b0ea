//! Messaging: SQS queues, SNS topics, SES configuration sets, identities and
//! templates, EventBridge rules.

use serde_json::Value;

use super::{Context, Gen, Rules, default_name};

pub(super) static RULES: &[Rules] = &[
    Rules {
        type_name: "AWS::SQS::Queue",
        create: queue,
        update: None,
        // 80, less room for the `.fifo` a FIFO queue's name needs.
        max_name_len: Some(75),
    },
    Rules {
        type_name: "AWS::SNS::Topic",
        create: topic,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::SES::ConfigurationSet",
        create: configuration_set,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::SES::EmailIdentity",
        create: email_identity,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::SES::Template",
        create: template,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::Events::Rule",
        create: rule,
        update: None,
        max_name_len: None,
    },
];

fn queue(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("QueueName", cx.rng);
    g.put(
        "/QueueUrl",
        format!("https://sqs.{r}.amazonaws.com/{a}/{n}"),
    );
    g.put("/Arn", format!("arn:aws:sqs:{r}:{a}:{n}"));
}

fn topic(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("TopicName", cx.rng);
    g.put("/TopicArn", format!("arn:aws:sns:{r}:{a}:{n}"));
}

fn configuration_set(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    g.name("Name", cx.rng);
}

fn email_identity(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let identity = g.str("EmailIdentity").unwrap_or_default();
    // DKIM records live on the domain, also for an address identity.
    let domain = identity.rsplit('@').next().unwrap_or_default().to_string();
    for i in 1..=3 {
        let token = cx.rng.lower_alnum(32);
        g.put(
            &format!("/DkimDNSTokenName{i}"),
            format!("{token}._domainkey.{domain}"),
        );
        g.put(
            &format!("/DkimDNSTokenValue{i}"),
            format!("{token}.dkim.amazonses.com"),
        );
    }
}

fn template(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let n = g
        .props
        .pointer("/Template/TemplateName")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| default_name(g.schema, cx.rng));
    g.put("/Id", n);
}

fn rule(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("Name", cx.rng);
    g.put("/Arn", format!("arn:aws:events:{r}:{a}:rule/{n}"));
    g.put("/RuleName", n);
}
