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
        ResourcesCommand::List { env, type_name } => {
            let list = p
                .api
                .list_resources(&p.caller, env.clone(), type_name.clone())?;
            if cli.output == Output::Json {
                let items: Vec<Value> = list
                    .iter()
                    .map(|(t, r)| json!({"type": t, "identifier": r.identifier, "properties": r.properties}))
                    .collect();
                println!("{}", render::json(&items));
                return Ok(exit::OK);
            }
            if list.is_empty() {
                println!(
                    "No resources in {env}{}.",
                    type_name
                        .as_deref()
                        .map(|t| format!(" of type {t}"))
                        .unwrap_or_default()
                );
                return Ok(exit::OK);
            }
            let rows = list
                .iter()
                .map(|(t, r)| {
                    vec![
                        t.to_string(),
                        r.identifier.clone(),
                        tag(&r.properties, "Purpose"),
                        tag(&r.properties, "PromotionStatus"),
                        tag(&r.properties, "CostEstimate"),
                    ]
                })
                .collect();
            println!(
                "{}",
                render::table(
                    &["type", "identifier", "purpose", "promotion", "cost"],
                    rows
                )
            );
            println!("{} resource(s) in {env}", list.len());
            Ok(exit::OK)
        }
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
