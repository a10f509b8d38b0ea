//! IAM: roles, users, groups, managed and inline policies.

use serde_json::Value;

use super::{Context, Gen, Rules};

pub(super) static RULES: &[Rules] = &[
    Rules {
        type_name: "AWS::IAM::Role",
        create: role,
        update: None,
        max_name_len: Some(64),
    },
    Rules {
        type_name: "AWS::IAM::User",
        create: user,
        update: None,
        max_name_len: Some(64),
    },
    Rules {
        type_name: "AWS::IAM::Group",
        create: group,
        update: None,
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::IAM::ManagedPolicy",
        create: managed_policy,
        update: Some(managed_policy_update),
        max_name_len: None,
    },
    Rules {
        type_name: "AWS::IAM::Policy",
        create: policy,
        update: None,
        max_name_len: None,
    },
];

fn role(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let a = cx.account_id;
    let n = g.name("RoleName", cx.rng);
    let path = g.str("Path").unwrap_or_else(|| "/".into());
    g.put("/Arn", format!("arn:aws:iam::{a}:role{path}{n}"));
    // IAM unique ids are 21 characters: a 4-letter kind prefix + 17.
    g.put("/RoleId", format!("AROA{}", cx.rng.upper_alnum(17)));
}

fn user(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let a = cx.account_id;
    let n = g.name("UserName", cx.rng);
    let path = g.str("Path").unwrap_or_else(|| "/".into());
    g.put("/Arn", format!("arn:aws:iam::{a}:user{path}{n}"));
}

fn group(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let a = cx.account_id;
    let n = g.name("GroupName", cx.rng);
    let path = g.str("Path").unwrap_or_else(|| "/".into());
    g.put("/Arn", format!("arn:aws:iam::{a}:group{path}{n}"));
}

fn managed_policy(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    let a = cx.account_id;
    let now = cx.now.rfc3339();
    let n = g.name("ManagedPolicyName", cx.rng);
    let path = g.str("Path").unwrap_or_else(|| "/".into());
    g.put("/PolicyArn", format!("arn:aws:iam::{a}:policy{path}{n}"));
    g.put("/PolicyId", format!("ANPA{}", cx.rng.upper_alnum(17)));
    g.put("/CreateDate", now.clone());
    g.put("/UpdateDate", now);
    g.put("/AttachmentCount", attachment_count(g.props));
    g.put("/DefaultVersionId", "v1");
    g.put("/IsAttachable", true);
    g.put("/PermissionsBoundaryUsageCount", 0);
}

/// A changed document is a new default version; attachments are recounted.
fn managed_policy_update(g: &mut Gen<'_>, old: &Value, cx: &mut Context<'_>) {
    if old.get("PolicyDocument") != g.props.get("PolicyDocument") {
        let version = old
            .get("DefaultVersionId")
            .and_then(Value::as_str)
            .and_then(|v| v.strip_prefix('v'))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(1);
        g.replace("/DefaultVersionId", format!("v{}", version + 1));
        g.replace("/UpdateDate", cx.now.rfc3339());
    }
    let count = attachment_count(g.props);
    g.replace("/AttachmentCount", count);
}

fn policy(g: &mut Gen<'_>, cx: &mut Context<'_>) {
    // CloudFormation's physical id of an inline policy: name + suffix.
    let n = g.str("PolicyName").unwrap_or_else(|| "Policy".into());
    g.put("/Id", format!("{n}-{}", cx.rng.upper_alnum(12)));
}

fn attachment_count(props: &Value) -> u64 {
    ["Roles", "Users", "Groups"]
        .iter()
        .filter_map(|k| props.get(*k).and_then(Value::as_array))
        .map(|v| v.len() as u64)
        .sum()
}
