//! Messaging: SES, SQS, SNS and EventBridge rules.
//!
//! SES charges per email sent. Every email goes out through a verified
//! identity, while a configuration set is optional and may be shared, so the
//! emails are estimated on `AWS::SES::EmailIdentity` and configuration sets
//! are $0 by themselves. That counts each email once.

use serde_json::Value;

use super::free;
use crate::model::{Ctx, MILLION, Model, Pricing, THOUSAND, key};
use crate::usage::UsageKey;

static IDENTITY_USAGE: &[UsageKey] = &[key(
    "monthly_emails",
    "emails",
    "5000",
    "emails sent from this identity a month",
)];

const EMAIL_IDENTITY: Model = Model {
    type_name: "AWS::SES::EmailIdentity",
    service: "SES Emails",
    usage: IDENTITY_USAGE,
    pricing: Pricing::Priced(|ctx, _props| {
        let emails = ctx.usage("monthly_emails");
        ctx.charge("Outbound emails", "ses.email.outbound", emails / THOUSAND);
        ctx.note("SES emails are estimated on the sending identity (configuration sets are $0), so each email is counted once; attachments and dedicated IPs are not included");
    }),
};

const CONFIGURATION_SET: Model = Model {
    type_name: "AWS::SES::ConfigurationSet",
    service: "SES Emails",
    usage: &[],
    pricing: Pricing::Priced(configuration_set),
};

fn configuration_set(ctx: &mut Ctx<'_>, props: &Value) {
    ctx.note("$0, no charge for this resource type: emails are estimated on the sending identity (AWS::SES::EmailIdentity)");
    if props.pointer("/VdmOptions").is_some() {
        ctx.unknown("VdmOptions: Virtual Deliverability Manager is charged per email and has no price in the catalog");
    }
    if props.pointer("/DeliveryOptions/SendingPoolName").is_some() {
        ctx.unknown("DeliveryOptions.SendingPoolName: dedicated IP addresses are charged monthly and have no price in the catalog");
    }
}

static QUEUE_USAGE: &[UsageKey] = &[key(
    "monthly_requests",
    "requests",
    "1000000",
    "API requests a month (each 64 KB of a payload is one request)",
)];

const QUEUE: Model = Model {
    type_name: "AWS::SQS::Queue",
    service: "SQS Queues",
    usage: QUEUE_USAGE,
    pricing: Pricing::Priced(queue),
};

fn queue(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(fifo), Ok(name)) = (ctx.flag(props, "/FifoQueue"), ctx.text(props, "/QueueName"))
    else {
        return;
    };
    let fifo = fifo.unwrap_or(false) || name.is_some_and(|n| n.ends_with(".fifo"));
    let requests = ctx.usage("monthly_requests");
    if fifo {
        ctx.charge("Requests (FIFO)", "sqs.requests.fifo", requests / MILLION);
    } else {
        ctx.charge(
            "Requests (standard)",
            "sqs.requests.standard",
            requests / MILLION,
        );
    }
    ctx.note("the account's first 1M requests a month are free; not subtracted");
}

static TOPIC_USAGE: &[UsageKey] = &[
    key(
        "monthly_publishes",
        "requests",
        "100000",
        "publish requests a month",
    ),
    key(
        "monthly_http_deliveries",
        "deliveries",
        "0",
        "deliveries to HTTP/S endpoints a month",
    ),
    key(
        "monthly_email_deliveries",
        "deliveries",
        "0",
        "deliveries to email addresses a month",
    ),
];

const TOPIC: Model = Model {
    type_name: "AWS::SNS::Topic",
    service: "SNS Notifications",
    usage: TOPIC_USAGE,
    pricing: Pricing::Priced(topic),
};

fn topic(ctx: &mut Ctx<'_>, props: &Value) {
    let (Ok(fifo), Ok(name)) = (ctx.flag(props, "/FifoTopic"), ctx.text(props, "/TopicName"))
    else {
        return;
    };
    if fifo == Some(true) || name.is_some_and(|n| n.ends_with(".fifo")) {
        ctx.unknown(
            "unknown price for FIFO topics (publish and payload prices): not in the catalog",
        );
        return;
    }
    let publishes = ctx.usage("monthly_publishes");
    ctx.charge(
        "Publish requests",
        "sns.publish.standard",
        publishes / MILLION,
    );
    let http = ctx.usage("monthly_http_deliveries");
    ctx.charge("HTTP/S deliveries", "sns.delivery.http", http / MILLION);
    let email = ctx.usage("monthly_email_deliveries");
    ctx.charge(
        "Email deliveries",
        "sns.delivery.email",
        email / rust_decimal::Decimal::from(100_000),
    );
    ctx.note("deliveries to SQS and Lambda are free; SMS and mobile push are not included");
}

static RULE_USAGE: &[UsageKey] = &[key(
    "monthly_custom_events",
    "events",
    "0",
    "custom events published to this rule's bus a month (AWS service events are free)",
)];

const RULE: Model = Model {
    type_name: "AWS::Events::Rule",
    service: "EventBridge",
    usage: RULE_USAGE,
    pricing: Pricing::Priced(|ctx, _props| {
        let events = ctx.usage("monthly_custom_events");
        ctx.charge("Custom events published", "events.custom", events / MILLION);
        ctx.note("rules, schedules and AWS service events on the default bus are free; only custom events you publish are charged");
    }),
};

/// This family's models, priced and free.
pub(super) const MODELS: &[Model] = &[
    EMAIL_IDENTITY,
    QUEUE,
    TOPIC,
    RULE,
    CONFIGURATION_SET,
    free(
        "AWS::SES::Template",
        "SES Emails",
        "email templates are free; emails are priced on AWS::SES::EmailIdentity",
    ),
];
