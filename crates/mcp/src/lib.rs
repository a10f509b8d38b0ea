//! The infraguard MCP server: the engine's guarded workflow as MCP tools, over
//! stdio (what `.mcp.json` starts) or streamable HTTP on loopback.
//!
//! # Layout
//!
//! - [`server`]: [`InfraguardServer`], the rmcp `ServerHandler`; one thin
//!   adapter per engine call, plus the elicitation that asks the client's
//!   user when the gate needs a human. Its child module `project_tools`
//!   holds the tools beyond the token chain: cost report and billing alarm
//!   plans, promotion, sync and drift checks, IAM lint / suggest / extend.
//! - [`tools`]: the tool catalog — names the seed's workflow calls,
//!   descriptions, input schemas, read-only / destructive / idempotent hints.
//! - [`args`]: the typed arguments whose JSON schemas `tools/list` shows.
//! - [`transport`]: stdio and HTTP serving, loopback-only addresses, logging
//!   to stderr.
//! - [`wire`]: the checks in front of rmcp on both transports: a malformed
//!   message gets a JSON-RPC error reply (`-32700`, `-32600`, `-32602`).
//! - [`log`]: the log format, which prints identifiers and tool argument
//!   keys, never a message's content.
//! - [`error`]: the crate's error type, [`McpError`].
//!
//! Not here: any guard. Tokens, the gate, approvals and the audit log are the
//! engine's (`infraguard-engine`); a refusal the engine returns is passed to
//! the agent as a tool error that names the step to take next.

pub mod args;
pub mod error;
pub mod log;
pub mod server;
pub mod tools;
pub mod transport;
pub mod wire;

pub use error::McpError;
pub use server::InfraguardServer;
pub use tools::{ToolName, all_tools};
pub use transport::{Transport, loopback_addr, run};
