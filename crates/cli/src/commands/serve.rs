//! `infraguard serve`: the MCP server that `.mcp.json` starts (`aws-dev` as
//! `serve --env dev`, `aws-prod` as `serve --env prod`). Resolves the
//! project and flags, opens the engine API (`project::open_api`), and hands
//! it to `infraguard-mcp`.

use std::path::Path;

use anyhow::Result;
use infraguard_mcp::{InfraguardServer, McpError, Transport};

use crate::exit::{self, BadInput};
use crate::project;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Serve only this environment (as aws-dev / aws-prod in .mcp.json do). Without it, one server serves every environment and tools take an `environment` argument.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio. ADDR must be a loopback address, e.g. 127.0.0.1:8765.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// Make every served environment read-only: writes are refused unless a human approves them.
    #[arg(long)]
    pub readonly: bool,
}

pub fn run(dir: Option<&Path>, args: &ServeArgs) -> Result<i32> {
    // Check the address before opening anything, so a wrong flag fails fast.
    let transport = match &args.http {
        Some(addr) => Transport::Http(
            infraguard_mcp::loopback_addr(addr).map_err(|e| BadInput(e.to_string()))?,
        ),
        None => Transport::Stdio,
    };
    let (root, api) = project::open_api(dir, |config| {
        // A server for one environment writes only there: its tools take no
        // other environment (the MCP server's `--env` scope). The others
        // stay open for reading: the promotion's dev side, sync, drift and
        // the cost review. The one write a prod server makes in dev is the
        // promotion's own bookkeeping (dev's PromotionStatus tag), planned
        // and audited like any change.
        if let Some(env) = &args.env
            && config.environment(env).is_err()
        {
            let known: Vec<String> = config.environments.iter().map(|e| e.name.clone()).collect();
            return Err(BadInput(format!(
                "--env {env}: this project has no such environment; it has {}",
                known.join(", ")
            ))
            .into());
        }
        if args.readonly {
            for e in &mut config.environments {
                e.read_only = true;
            }
        }
        Ok(())
    })?;
    let server = InfraguardServer::new(api, args.env.clone()).map_err(|e| match e {
        // The engine could not answer: a failure, not a wrong flag.
        e @ McpError::Engine { .. } => anyhow::Error::new(e),
        e => BadInput(e.to_string()).into(),
    })?;
    let server = server.with_root(root);
    infraguard_mcp::run(server, transport)?;
    Ok(exit::OK)
}
