//! Compute and hosting: Lambda functions, Step Functions state machines,
//! Amplify apps and branches.

use serde_json::{Value, json};

use super::{Context, Gen, Rules};

pub(super) static RULES: &[Rules] = &[
    Rules {
        type_name: "AWS::Lambda::Function",
        create: function,
        update: Some(function_update),
        max_name_len: Some(64),
    },
    Rules {
        type_name: "AWS::StepFunctions::StateMachine",
        create: state_machine,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::Amplify::App",
        create: app,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::Amplify::Branch",
        create: branch,
        update: None,
        max_name_len: None,
    },
];

fn function(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("FunctionName", cx.rng);
    g.put("/Arn", format!("arn:aws:lambda:{r}:{a}:function:{n}"));
    g.put("/SnapStartResponse", snap_start_response(g.props));
}

/// SnapStart's status follows its setting.
fn function_update(g: &mut Gen<'_>, _old: &Value, _cx: &mut Context<'_>) {
    let resp = snap_start_response(g.props);
    g.replace("/SnapStartResponse", resp);
}

fn state_machine(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let n = g.name("StateMachineName", cx.rng);
    g.put("/Arn", format!("arn:aws:states:{r}:{a}:stateMachine:{n}"));
    g.put("/Name", n);
    g.put("/StateMachineRevisionId", "INITIAL");
}

fn app(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let id = format!("d{}", cx.rng.lower_alnum(13));
    if let Some(n) = g.str("Name") {
        g.put("/AppName", n);
    }
    g.put("/Arn", format!("arn:aws:amplify:{r}:{a}:apps/{id}"));
    g.put("/DefaultDomain", format!("{id}.amplifyapp.com"));
    g.put("/AppId", id);
}

fn branch(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let (a, r) = (cx.account_id, cx.region);
    let app = g.str("AppId").unwrap_or_default();
    let branch = g.str("BranchName").unwrap_or_default();
    g.put(
        "/Arn",
        format!("arn:aws:amplify:{r}:{a}:apps/{app}/branches/{branch}"),
    );
}

fn snap_start_response(props: &Value) -> Value {
    let apply_on = props
        .pointer("/SnapStart/ApplyOn")
        .and_then(Value::as_str)
        .unwrap_or("None");
    let status = if apply_on == "PublishedVersions" {
        "On"
    } else {
        "Off"
    };
    json!({"ApplyOn": apply_on, "OptimizationStatus": status})
}
