//! Who asks for a change or decides on one, as the audit log names them.
//!
//! Surfaces never build actors: they pass a [`crate::api::Caller`] and the
//! engine makes the actor. `Human` is only ever made by the engine from an
//! approver's factor it checked; a confirmation anyone at the keyboard could
//! give (a terminal `yes`, an elicitation accept) is `Unverified`.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// An enrolled approver, proven by a factor the engine checked.
    Human,
    /// Someone who confirmed at a terminal, in an MCP client or on the
    /// approval page: maybe a person, maybe an agent (level `advisory`).
    Unverified,
    Agent,
    System,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// User name, MCP client name, or `infraguard`.
    pub name: String,
    /// `cli`, `mcp`, `mcp-elicitation`, `quickstart`...
    pub channel: String,
}

impl Default for Actor {
    /// A placeholder the engine replaces with the real requester.
    fn default() -> Self {
        Actor::agent("unknown", "unknown")
    }
}

impl Actor {
    pub(crate) fn human(name: &str, channel: &str) -> Actor {
        Actor {
            kind: ActorKind::Human,
            name: name.into(),
            channel: channel.into(),
        }
    }
    pub(crate) fn unverified(name: &str, channel: &str) -> Actor {
        Actor {
            kind: ActorKind::Unverified,
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
            ActorKind::Unverified => "unverified",
            ActorKind::Agent => "agent",
            ActorKind::System => "system",
        };
        write!(f, "{kind}:{} via {}", self.name, self.channel)
    }
}
