//! The MCP crate's errors: starting a server, and arguments the engine never
//! sees because the adapter could not route them (wrong environment, wrong
//! region, unreadable usage). Each message names the value and the next step.

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error(
        "--http {addr}: the MCP server only listens on a loopback address (127.0.0.1, ::1); use e.g. --http 127.0.0.1:8765"
    )]
    NotLoopback { addr: String },

    #[error("--http {addr} is not an address: write HOST:PORT, e.g. --http 127.0.0.1:8765")]
    BadAddress { addr: String },

    #[error("cannot listen on {addr}: {source}; choose another port")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the MCP server could not {what} from the engine: {source}; `infraguard doctor` checks the project and the guard"
    )]
    Engine {
        what: &'static str,
        #[source]
        source: infraguard_engine::EngineError,
    },

    #[error("the MCP server stopped with an error: {0}")]
    Transport(String),

    #[error("--env {env}: this project has no such environment; it has {}", known.join(", "))]
    UnknownEnvironment { env: String, known: Vec<String> },

    #[error(
        "environment `{requested}`: this project has no such environment; it has {} (infraguard.toml's [environments]){hint}",
        known.join(", ")
    )]
    NoSuchEnvironment {
        requested: String,
        known: Vec<String>,
        hint: String,
    },

    #[error(
        "this server serves only environment `{served}`, not `{requested}`: call the MCP server started with `infraguard serve --env {requested}` (aws-{requested} in .mcp.json)"
    )]
    OtherEnvironment { served: String, requested: String },

    #[error("this server serves {}: pass `environment` with one of them", known.join(", "))]
    EnvironmentNeeded { known: Vec<String> },

    #[error(
        "region `{requested}` is not the region of environment `{env}` ({actual}): omit `region` or pass {actual}; another region needs its own environment in infraguard.toml"
    )]
    OtherRegion {
        env: String,
        requested: String,
        actual: String,
    },

    #[error(
        "this server writes only environment `{served}`, and {tool} writes prod: call it on the prod server (`infraguard serve --env prod`, aws-prod in .mcp.json) or one started without --env, or run `infraguard promote --type TYPE --id IDENTIFIER` in the project folder"
    )]
    NeedsBothEnvironments { served: String, tool: &'static str },

    #[error("{tool}: {message}")]
    BadArgument { tool: &'static str, message: String },
}
