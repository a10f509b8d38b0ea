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

/// Only the engine makes one of kind `Human` or `Unverified` (from a proof
/// it checked): the fields are crate-private and an `Actor` is never read
/// back from the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub(crate) kind: ActorKind,
    /// User name, MCP client name, or `infraguard`.
    pub(crate) name: String,
    /// `cli`, `mcp`, `mcp-elicitation`, `quickstart`...
    pub(crate) channel: String,
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
            name: label(name),
            channel: channel.into(),
        }
    }
    /// A caller's self-given name is a label only: it cannot spell another
    /// kind (`human:alice` becomes `agent:human_alice`), and it is short.
    pub fn agent(name: &str, channel: &str) -> Actor {
        Actor {
            kind: ActorKind::Agent,
            name: label(name),
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
    /// A policy of the project that decides in a person's place (the
    /// `approval.auto_promote_low_cost` promotion): never a human.
    pub fn policy(key: &str) -> Actor {
        Actor {
            kind: ActorKind::System,
            name: "policy".into(),
            channel: label(key),
        }
    }
    /// The name the audit shows after the kind (`alice`, `claude-code`).
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn kind(&self) -> ActorKind {
        self.kind
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

/// A name a caller chose, made safe for the audit: no `:` (which would
/// read as a kind), no control characters, at most 64 characters.
fn label(name: &str) -> String {
    let clean: String = name
        .trim()
        .chars()
        .map(|c| if c == ':' || c.is_control() { '_' } else { c })
        .take(64)
        .collect();
    if clean.is_empty() {
        "unknown".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callers_name_cannot_spell_another_kind() {
        assert_eq!(
            Actor::agent("human:alice", "cli").to_string(),
            "agent:human_alice via cli"
        );
        assert_eq!(
            Actor::unverified("  \n", "mcp").to_string(),
            "unverified:unknown via mcp"
        );
        assert_eq!(Actor::agent(&"x".repeat(200), "cli").name.len(), 64);
    }
}
