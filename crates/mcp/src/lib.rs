//! The infraguard MCP server: the engine's guarded workflow as MCP tools, over
//! stdio (what `.mcp.json` starts) or streamable HTTP on loopback.
//!
//! # Layout
//!
//! - [`server`]: [`InfraguardServer`], the rmcp `ServerHandler`. Every tool
//!   is one `#[tool]` method (name, description, annotations and
//!   `outputSchema` in its attribute, its typed arguments beside it) in the
//!   child module of its stage: `session_tools`, `chain_tools`,
//!   `mutation_tools`, `read_tools`, `plan_tools`, `cost_tools`,
//!   `promotion_tools`, `iam_tools`; their `#[tool_router]`s are added
//!   together in `server`. [`server::params`] holds the flattened
//!   `environment` argument and the argument parser; `elicitation` asks the
//!   client's user when the gate needs a human. Adding a tool is one method
//!   in one stage file, plus its test.
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

pub mod error;
pub mod log;
pub mod server;
pub mod transport;
pub mod wire;

pub use error::McpError;
pub use server::InfraguardServer;
pub use server::all_tools;
pub use transport::{Transport, loopback_addr, run};
