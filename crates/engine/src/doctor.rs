//! `infraguard doctor`: the level each environment runs at, said plainly,
//! with the reasons and what would raise it.
//!
//! The level is a property of where the engine runs and who can reach its
//! files, so it is decided here, from what the host told the engine
//! ([`Engine::guarded`]) and who is asking.

use infraguard_core::cloud::Cloud;
use infraguard_core::env::Backend;
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};

use crate::api::{Caller, Level};
use crate::engine::Engine;

/// One environment's level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvLevel {
    pub name: String,
    pub level: Level,
    pub reasons: Vec<String>,
    pub fixes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoctorReport {
    pub environments: Vec<EnvLevel>,
    /// Configuration values that were applied or ignored (a looser value
    /// than the guard's policy is ignored and named here).
    pub notes: Vec<String>,
}

const ADVISORY: &str = "the engine runs in the caller's process, under the caller's OS account: it stops mistakes and leaves a trace, but an agent with a shell can get around it (edit infraguard.toml, write .infraguard/, answer its own prompts)";
const UNVERIFIED: &str = "approvals here are unverified confirmations (a terminal `yes`, an MCP elicitation accept, a click on the approval page): anything that can type can give them";

impl<C: Cloud, S: Store> Engine<C, S> {
    pub fn doctor_report(&self, caller: &Caller) -> DoctorReport {
        let approvers = self
            .factors
            .as_ref()
            .map(|f| f.approvers())
            .unwrap_or_default();
        let same_account = match (self.host_uid, caller.peer.as_ref()) {
            (Some(host), Some(peer)) => host == peer.uid,
            _ => false,
        };
        let environments = self
            .config
            .environments
            .iter()
            .map(|env| {
                let mut reasons = Vec::new();
                let mut fixes = Vec::new();
                let level = match self.level {
                    Level::Advisory => {
                        reasons.push(ADVISORY.to_string());
                        reasons.push(UNVERIFIED.to_string());
                        fixes.push("sudo infraguard guard install   (the guard under its own OS account)".to_string());
                        fixes.push("sudo infraguard guard enroll --approver NAME   (a person's authenticator)".to_string());
                        fixes.push("infraguard guard adopt   (in this project folder: move its state into the guard)".to_string());
                        Level::Advisory
                    }
                    _ if same_account => {
                        reasons.push(format!(
                            "the guard runs under your own OS account (uid {}): you can read and change its files, so it is no boundary",
                            self.host_uid.unwrap_or_default()
                        ));
                        fixes.push("sudo infraguard guard install   (runs the guard as the system account `infraguard`)".to_string());
                        Level::Advisory
                    }
                    level => {
                        reasons.push(format!(
                            "the guard (uid {}) holds this project's state, policy, token secret and cloud access out of your account's reach",
                            self.host_uid.unwrap_or_default()
                        ));
                        if approvers.is_empty() {
                            reasons.push("no approver is enrolled: nothing that needs a human can be approved until one is".to_string());
                            fixes.push("sudo infraguard guard enroll --approver NAME".to_string());
                        } else {
                            reasons.push(format!(
                                "a human approval is a code from an enrolled approver's authenticator ({}), checked by the guard",
                                approvers.join(", ")
                            ));
                        }
                        if env.backend == Backend::Aws {
                            reasons.push(format!(
                                "infraguard's own path is guarded, but AWS does not know it: whatever credentials your account holds for {}'s account are not checked here",
                                env.name
                            ));
                        }
                        level
                    }
                };
                EnvLevel {
                    name: env.name.clone(),
                    level,
                    reasons,
                    fixes,
                }
            })
            .collect();
        DoctorReport {
            environments,
            notes: self.config.notes.clone(),
        }
    }
}
