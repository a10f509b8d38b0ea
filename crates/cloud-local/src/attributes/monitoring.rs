//! Monitoring and spend: CloudWatch Logs log groups, CloudWatch alarms,
//! budgets.

use serde_json::{Value, json};

use super::{Context, Gen, Rules, default_name};
use infraguard_core::pointer;

pub(super) static RULES: &[Rules] = &[
    Rules {
        type_name: "AWS::Logs::LogGroup",
        create: log_group,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::CloudWatch::Alarm",
        create: alarm,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::Budgets::Budget",
        create: budget,
        update: None,
        max_name_len: None,
    },
];

fn log_group(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("LogGroupName", cx.rng);
    g.put("/Arn", format!("arn:aws:logs:{r}:{a}:log-group:{n}:*"));
}

fn alarm(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("AlarmName", cx.rng);
    g.put("/Arn", format!("arn:aws:cloudwatch:{r}:{a}:alarm:{n}"));
}

fn budget(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let n = match g
        .props
        .pointer("/Budget/BudgetName")
        .and_then(Value::as_str)
    {
        Some(n) => n.to_string(),
        None => {
            let n = default_name(g.schema, cx.rng);
            if g.props.get("Budget").is_some_and(Value::is_object) {
                pointer::set(g.props, "/Budget/BudgetName", json!(n));
            }
            n
        }
    };
    g.put("/Id", n);
}
