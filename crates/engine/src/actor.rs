//! Who asks for a change or decides on one.
//!
//! Only `Human` may grant approvals. Each surface builds its actor from what
//! it can tell: the CLI's `approve` runs only at an interactive terminal; the
//! MCP server's only human is the user answering an elicitation prompt.

use std::fmt;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    Human,
    Agent,
    System,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// User name, MCP client name, or `infraguard`.
    pub name: String,
    /// `cli`, `mcp`, `mcp-elicitation`, `quickstart`...
    pub channel: String,
}

impl Actor {
    pub fn human(name: &str, channel: &str) -> Actor {
        Actor {
            kind: ActorKind::Human,
            name: name.into(),
            channel: channel.into(),
        }
    }
    pub fn agent(name: &str, channel: &str) -> Actor {
        Actor {
            kind: ActorKind::Agent,
            name: name.into(),
            channel: channel.into(),
        }
    }
    pub fn system() -> Actor {
        Actor {
            kind: ActorKind::System,
            name: "infraguard".into(),
            channel: "engine".into(),
        }
    }
    pub fn is_human(&self) -> bool {
        self.kind == ActorKind::Human
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ActorKind::Human => "human",
            ActorKind::Agent => "agent",
            ActorKind::System => "system",
        };
        write!(f, "{kind}:{} via {}", self.name, self.channel)
    }
}
