//! The guard's socket protocol: one request per connection, as one line of
//! JSON; the guard answers with zero or more progress lines and one final
//! line, then closes.
//!
//! ```text
//! → {"type":"engine","project":"prj-…","caller":{…},"config":"…toml…","request":{"op":"plan",…}}
//! ← {"progress":{…ProgressEvent…}}
//! ← {"ok":…}            or   {"error":{"kind":"bad_input","message":"…"}}
//! ```
//!
//! Lines are capped at [`MAX_LINE`]; the caller's identity is not in the
//! request but taken from the socket (`SO_PEERCRED`).

use std::collections::BTreeMap;

use infraguard_core::cloud::ProgressEvent;
use infraguard_engine::{Caller, ErrorKind, Proof, Request};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The longest line either side sends (an adopted local cloud travels in
/// one request).
pub const MAX_LINE: usize = 256 * 1024 * 1024;

/// Bumped when a request or reply changes shape.
pub const PROTOCOL: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // one request per connection: size does not matter
pub enum GuardRequest {
    /// Who the guard is: version, account, approvers, page address.
    Hello,
    /// One engine call for an adopted project. `config` is the workspace's
    /// `infraguard.toml`, which can only tighten the guard's policy.
    Engine {
        project: String,
        caller: Caller,
        config: Option<String>,
        #[serde(default)]
        vars: BTreeMap<String, String>,
        request: Request,
    },
    /// Take a project's state into the guard. `clouds` holds each local
    /// environment's SQLite file, base64.
    Adopt {
        root: String,
        config: String,
        #[serde(default)]
        clouds: BTreeMap<String, String>,
    },
    /// Start enrolling an approver: root only, or an enrolled approver's code.
    EnrollStart {
        approver: String,
        proof: Option<Proof>,
    },
    /// Finish an enrolment with a code from the new authenticator.
    EnrollFinish { approver: String, code: String },
    /// The enrolled approvers' names.
    Approvers,
    /// Change one key of a project's guard policy (loosening needs a code).
    PolicySet {
        project: String,
        key: String,
        value: String,
        proof: Option<Proof>,
    },
    /// A project's guard policy, as TOML.
    PolicyShow { project: String },
}

impl GuardRequest {
    /// Names the request for logs; never its arguments.
    pub fn label(&self) -> String {
        match self {
            GuardRequest::Hello => "hello".into(),
            GuardRequest::Engine { request, .. } => format!("engine.{}", request.op()),
            GuardRequest::Adopt { .. } => "adopt".into(),
            GuardRequest::EnrollStart { .. } => "enroll.start".into(),
            GuardRequest::EnrollFinish { .. } => "enroll.finish".into(),
            GuardRequest::Approvers => "approvers".into(),
            GuardRequest::PolicySet { .. } => "policy.set".into(),
            GuardRequest::PolicyShow { .. } => "policy.show".into(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardReply {
    Progress(ProgressEvent),
    Ok(Value),
    Error(WireError),
}

/// What `Hello` answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HelloReply {
    pub protocol: u32,
    pub version: String,
    /// The guard's own OS account.
    pub uid: u32,
    pub user: Option<String>,
    /// The caller as the kernel reported it.
    pub peer: infraguard_engine::Peer,
    pub approvers: Vec<String>,
    /// `http://127.0.0.1:PORT`, when the guard serves approval pages.
    pub page: Option<String>,
}

/// What `Adopt` answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdoptReply {
    pub project: String,
    /// Policy values where the workspace was looser than the defaults.
    pub notes: Vec<String>,
}

/// What `EnrollStart` answers: shown once, on the enrolling person's terminal.
#[derive(Clone, Serialize, Deserialize)]
pub struct EnrollStartReply {
    pub approver: String,
    /// `otpauth://totp/…` with the secret: for the authenticator app only.
    pub otpauth_url: String,
}
