//! `resources list|get|update|delete`. Update and delete are a plan and an
//! apply in one step, through the same gate.

use anyhow::Result;
use infraguard_core::resource::Operation;
use infraguard_engine::PlanRequest;
use serde_json::{Value, json};

use crate::args::{Cli, Output, ResourcesCommand};
use crate::exit;
use crate::project;
use crate::render;

fn tag(props: &Value, key: &str) -> String {
    let from_list = props
        .get("Tags")
        .and_then(Value::as_array)
        .and_then(|tags| {
            tags.iter()
                .find(|t| t.get("Key").and_then(Value::as_str) == Some(key))
                .and_then(|t| t.get("Value").and_then(Value::as_str))
        });
    from_list.unwrap_or("").to_string()
}

pub fn run(cli: &Cli, command: &ResourcesCommand) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    match command {
        ResourcesCommand::List { env, type_name } => list(cli, &p, env, type_name.as_deref()),
        ResourcesCommand::Get { env, type_name, id } => {
            let r = p
                .api
                .get_resource(&p.caller, env.clone(), type_name.clone(), id.clone())?;
            if cli.output == Output::Json {
                println!(
                    "{}",
                    render::json(
                        &json!({"type": type_name, "identifier": r.identifier, "properties": r.properties})
                    )
                );
            } else {
                println!("{} `{}` in {env}", type_name, r.identifier);
                println!("{}", render::json(&r.properties));
            }
            Ok(exit::OK)
        }
        ResourcesCommand::Update {
            env,
            type_name,
            id,
            patch,
        } => {
            let patch = project::json_arg(patch, "--patch")?;
            let plan = p.api.plan(
                &p.caller,
                PlanRequest {
                    env: env.clone(),
                    operation: Operation::Update,
                    type_name: type_name.clone(),
                    purpose: None,
                    properties: None,
                    identifier: Some(id.clone()),
                    patch: Some(patch),
                    usage: None,
                    actor: super::cli_requester(),
                },
            )?;
            if cli.output == Output::Table {
                println!("{}\n", render::plan(&plan, &p.config));
            }
            super::plan::apply_and_report(cli, &p, &plan.id)
        }
        ResourcesCommand::Delete { env, type_name, id } => {
            let plan = p.api.plan(
                &p.caller,
                PlanRequest {
                    env: env.clone(),
                    operation: Operation::Delete,
                    type_name: type_name.clone(),
                    purpose: None,
                    properties: None,
                    identifier: Some(id.clone()),
                    patch: None,
                    usage: None,
                    actor: super::cli_requester(),
                },
            )?;
            if cli.output == Output::Table {
                println!("{}\n", render::plan(&plan, &p.config));
            }
            super::plan::apply_and_report(cli, &p, &plan.id)
        }
    }
}

/// `resources list`, one Cloud Control page at a time: JSON is written as
/// each page arrives, and the table keeps only its five columns, so memory
/// does not grow with the resources' properties (10,000 buckets print in a
/// few MB).
fn list(cli: &Cli, p: &project::Opened, env: &str, type_name: Option<&str>) -> Result<i32> {
    let types: Vec<String> = match type_name {
        Some(t) => vec![t.to_string()],
        None => infraguard_schema::Catalog::builtin()
            .types()
            .into_iter()
            .map(|t| t.to_string())
            .collect(),
    };
    let json_out = cli.output == Output::Json;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut count = 0usize;
    if json_out {
        print!("[");
    }
    for t in &types {
        let mut next: Option<String> = None;
        loop {
            let page = p
                .api
                .list_page(&p.caller, env.to_string(), t.clone(), next.take())?;
            let type_label = page.type_name.to_string();
            // One write per page: a line at a time would be a system call
            // per line of pretty JSON.
            let mut chunk = String::new();
            for r in &page.resources {
                if json_out {
                    let item = json!({"type": type_label, "identifier": r.identifier, "properties": r.properties});
                    let text = render::json(&item).replace('\n', "\n  ");
                    chunk.push_str(if count == 0 { "\n  " } else { ",\n  " });
                    chunk.push_str(&text);
                } else {
                    rows.push(vec![
                        type_label.clone(),
                        r.identifier.clone(),
                        tag(&r.properties, "Purpose"),
                        tag(&r.properties, "PromotionStatus"),
                        tag(&r.properties, "CostEstimate"),
                    ]);
                }
                count += 1;
            }
            if !chunk.is_empty() {
                print!("{chunk}");
            }
            next = page.next_token.clone();
            if next.is_none() {
                break;
            }
        }
    }
    if json_out {
        println!("{}]", if count == 0 { "" } else { "\n" });
        return Ok(exit::OK);
    }
    if count == 0 {
        println!(
            "No resources in {env}{}.",
            type_name
                .map(|t| format!(" of type {t}"))
                .unwrap_or_default()
        );
        return Ok(exit::OK);
    }
    println!(
        "{}",
        render::table(
            &["type", "identifier", "purpose", "promotion", "cost"],
            rows
        )
    );
    println!("{count} resource(s) in {env}");
    Ok(exit::OK)
}
