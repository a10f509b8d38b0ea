//! `infraguard costs`: the monthly cost review per environment, with alerts,
//! and (on request) plans for the billing alarms.

use anyhow::Result;

use crate::args::{Cli, Output};
use crate::exit::{self, BadInput};
use crate::project;
use crate::render;

#[derive(clap::Args, Debug)]
pub struct CostsArgs {
    /// Only this environment (default: all, with a combined total).
    #[arg(long)]
    pub env: Option<String>,
    /// Plan the billing alerts in --env: an SNS topic that e-mails --email
    /// (or `[cost] alert_email`) and one CloudWatch alarm on
    /// EstimatedCharges per alert threshold that notifies it (applied with
    /// `infraguard apply`, through the gate). The environment must be in
    /// us-east-1, where AWS publishes billing metrics.
    #[arg(long, requires = "env")]
    pub billing_alarm: bool,
    /// The address the billing alarms mail (with --billing-alarm).
    #[arg(long, value_name = "ADDRESS", requires = "billing_alarm")]
    pub email: Option<String>,
}

pub fn run(cli: &Cli, args: &CostsArgs) -> Result<i32> {
    let p = project::open(cli.directory.as_deref())?;
    if args.billing_alarm {
        let env = args
            .env
            .as_deref()
            .ok_or_else(|| BadInput("--billing-alarm needs --env".into()))?;
        let plans = p
            .api
            .plan_billing_alarms(&p.caller, env.into(), args.email.clone())?;
        if cli.output == Output::Json {
            println!("{}", render::json(&plans));
        } else {
            if plans.is_empty() {
                println!("The billing alerts of {env} exist already: nothing to plan.");
            }
            for p in &plans {
                println!(
                    "Plan {}: {} `{}` in {}",
                    p.id,
                    p.type_name,
                    p.identifier.as_deref().unwrap_or("?"),
                    p.env
                );
                println!("{}\n", render::gate(p));
            }
        }
        return Ok(exit::OK);
    }
    let report = p.api.cost_report(&p.caller, args.env.clone())?;
    if cli.output == Output::Json {
        println!(
            "{}",
            render::json(&infraguard_cost::report::to_json(&report))
        );
    } else {
        println!("{}", infraguard_cost::report::render_tree(&report));
        println!(
            "Tip: `infraguard costs --env prod --billing-alarm` plans CloudWatch billing alarms at {}.",
            p.config
                .alert_thresholds
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(exit::OK)
}
