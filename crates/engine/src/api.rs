//! The engine API: every operation a surface (the CLI, the MCP server, the
//! approval page) asks of the engine, as one trait, [`EngineApi`], with two
//! implementations:
//!
//! - [`Engine`] itself, in the caller's process (level `advisory`);
//! - [`Remote`], which sends each call as a [`Request`] over a
//!   [`Transport`] (the guard's Unix socket) to an engine hosted elsewhere,
//!   where [`dispatch`] turns it back into the same trait call.
//!
//! So no decision is made twice: a surface never knows which side of the
//! socket the engine is on, and the guard runs the very code the
//! in-process engine runs.
//!
//! Who asks is a [`Caller`]; the host decides what it may claim. A caller's
//! word never makes it a human: the engine says which [`Attestation`] a
//! decision needs, and weighs the [`Proof`] the host brings back (see
//! [`crate::attest`]).
//!
//! The operation list is written once, in the `engine_api!` invocation
//! below: the trait method, the wire request, the remote stub and the
//! dispatch arm all come from one line.

use std::collections::BTreeMap;
use std::fmt;

use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::audit::AuditEntry;
use infraguard_core::cloud::{Cloud, ListPage, ProgressEvent, ResourceDescription};
use infraguard_core::plan::{Plan, PlanStatus};
use infraguard_core::resource::{Operation, ResourceType};
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attest::{Attestation, Subject};
use crate::audit::Verification;
use crate::chain::{
    EnvironmentCheck, Explained, FindingsDecision, FindingsOutcome, Generated, Scanned, SessionInfo,
};
use crate::config::ProjectConfig;
use crate::doctor::{DoctorReport, IamTemplates};
use crate::drift::{DriftReport, PreflightReport};
use crate::engine::{ApplyOutcome, Engine, EnvReport, Estimate, PlanRequest, PlanState};
use crate::error::{EngineError, ErrorKind};
use crate::iam::{AttachedPolicy, ExtendReport, ExtendRequest};
use crate::locks::LockReport;
use crate::mfa::MfaApproval;
use crate::promote::PromotionReport;
use crate::redact::Shown;
use crate::sync::SyncReport;
use crate::trail::TrailReport;

/// How far an environment's approvals can be trusted (the levels table of
/// the README and `../shared/DESIGN.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// The engine runs in the caller's process: it stops mistakes and
    /// leaves a trace; an agent with a shell can get around it.
    Advisory,
    /// The guard holds state, policy, secrets and credentials under its own
    /// OS account; an approval needs an enrolled approver's code.
    Guarded,
    /// AWS itself refuses the writes without an MFA session.
    AwsEnforced,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Advisory => "advisory",
            Level::Guarded => "guarded",
            Level::AwsEnforced => "aws-enforced",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The OS process on the other end of the guard's socket, as the kernel
/// reports it (`SO_PEERCRED`). Only the guard sets it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub uid: u32,
    pub pid: Option<i32>,
    /// The account name of `uid`, when the guard could look it up.
    pub user: Option<String>,
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "uid {}", self.uid)?;
        if let Some(u) = &self.user {
            write!(f, " {u}")?;
        }
        if let Some(p) = self.pid {
            write!(f, ", pid {p}")?;
        }
        Ok(())
    }
}

/// Who asks, as the surface can tell: a name and a channel. Never a human
/// by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The MCP client's name (`claude-code`), or the OS user on the CLI.
    pub name: String,
    /// `cli`, `mcp`, `approval-page`, `quickstart`...
    pub channel: String,
    /// Set by the guard from the socket's peer credentials; whatever a
    /// client sends here is replaced.
    #[serde(default)]
    pub peer: Option<Peer>,
}

impl Caller {
    pub fn new(name: &str, channel: &str) -> Caller {
        Caller {
            name: name.into(),
            channel: channel.into(),
            peer: None,
        }
    }

    /// How the audit log names this caller's process.
    pub fn channel_label(&self) -> String {
        match &self.peer {
            Some(p) => format!("{} ({p})", self.channel),
            None => self.channel.clone(),
        }
    }
}

/// What a person offers when approving.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Proof {
    /// A confirmation anyone at the keyboard could give: `yes` typed at a
    /// terminal, an accepted MCP elicitation, a click on the approval page.
    /// Counts only where the level is `advisory`, and then as *unverified*.
    Confirmation {
        /// How it was given (`typed yes at a terminal`).
        how: String,
    },
    /// An enrolled approver's one-time code (TOTP), checked by the host's
    /// [`Factors`].
    Code {
        approver: Option<String>,
        code: String,
    },
}

impl fmt::Debug for Proof {
    // The code is a secret for its 30 seconds: never in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proof::Confirmation { how } => write!(f, "Confirmation({how})"),
            Proof::Code { approver, .. } => write!(f, "Code(approver={approver:?}, code=******)"),
        }
    }
}

/// Why an approver's code was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum FactorError {
    #[error(
        "no approver is enrolled: a person enrols one with `sudo infraguard guard enroll --approver NAME`"
    )]
    NoApprovers,
    #[error("no approver `{0}` is enrolled; `infraguard guard approvers` lists them")]
    UnknownApprover(String),
    #[error(
        "the code is not valid for any enrolled approver (a code is 6 digits from the approver's authenticator and changes every 30 s)"
    )]
    WrongCode,
    #[error("that code was already used; wait for the next one")]
    Replayed,
    #[error("approvals are locked until {until} after {attempts} wrong codes in ten minutes")]
    Locked { until: String, attempts: u32 },
    #[error("the approvers' records could not be read: {0}")]
    Storage(String),
}

/// An approver's factor, checked by whoever holds the enrolled secrets (the
/// guard). The engine asks; it never sees a secret.
pub trait Factors: Send + Sync {
    /// Check `code`, for `approver` or any enrolled approver. `Ok` names the
    /// approver; a code counts once, and wrong codes lock approvals for a
    /// while (the implementation's documented rule).
    fn verify(
        &self,
        approver: Option<&str>,
        code: &str,
        now_unix: i64,
    ) -> Result<String, FactorError>;
    /// Names of the enrolled approvers.
    fn approvers(&self) -> Vec<String>;
}

/// A wire for [`Remote`]: sends one request, forwards progress events,
/// returns the answer's JSON or the engine's error.
pub trait Transport: Send + Sync {
    fn call(
        &self,
        caller: &Caller,
        request: Request,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<Value, EngineError>;
}

/// The engine on the far side of a [`Transport`].
pub struct Remote<T: Transport> {
    transport: T,
}

impl<T: Transport> Remote<T> {
    pub fn new(transport: T) -> Self {
        Remote { transport }
    }
}

fn decode<R: serde::de::DeserializeOwned>(op: &str, v: Value) -> Result<R, EngineError> {
    serde_json::from_value(v).map_err(|e| EngineError::Remote {
        kind: ErrorKind::Failure,
        message: format!("the guard's answer to `{op}` could not be read ({e}); are the guard and this binary the same version? (`infraguard doctor`)"),
    })
}

fn encode<R: Serialize>(r: R) -> Result<Value, EngineError> {
    serde_json::to_value(r).map_err(|e| EngineError::Remote {
        kind: ErrorKind::Failure,
        message: format!("an answer could not be encoded: {e}"),
    })
}

/// One list, four products: the trait methods, the wire [`Request`], the
/// [`Remote`] stubs and the [`dispatch`] arms. Operations marked `progress`
/// also take the caller's progress sink.
macro_rules! engine_api {
    (
        $( $(#[$doc:meta])* fn $name:ident ( $( $arg:ident : $ty:ty ),* ) -> $ret:ty ; )*
        progress:
        $( $(#[$pdoc:meta])* fn $pname:ident ( $( $parg:ident : $pty:ty ),* ) -> $pret:ty ; )*
    ) => {
        /// One engine call on the wire. Its `Debug` names the operation
        /// only: arguments may hold secrets.
        #[derive(Serialize, Deserialize)]
        #[serde(tag = "op", rename_all = "snake_case")]
        #[allow(non_camel_case_types)]
        pub enum Request {
            $( $name { $( $arg: $ty ),* }, )*
            $( $pname { $( $parg: $pty ),* }, )*
        }

        impl Request {
            pub fn op(&self) -> &'static str {
                match self {
                    $( Request::$name { .. } => stringify!($name), )*
                    $( Request::$pname { .. } => stringify!($pname), )*
                }
            }
        }

        impl fmt::Debug for Request {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "Request({})", self.op())
            }
        }

        /// Everything a surface asks of the engine.
        #[allow(clippy::too_many_arguments)]
        pub trait EngineApi: Send + Sync {
            $( $(#[$doc])* fn $name(&self, caller: &Caller, $( $arg: $ty ),* ) -> Result<$ret, EngineError>; )*
            $( $(#[$pdoc])* fn $pname(&self, caller: &Caller, $( $parg: $pty, )* progress: &mut dyn FnMut(&ProgressEvent)) -> Result<$pret, EngineError>; )*
        }

        #[allow(clippy::too_many_arguments)]
        impl<T: Transport> EngineApi for Remote<T> {
            $( fn $name(&self, caller: &Caller, $( $arg: $ty ),* ) -> Result<$ret, EngineError> {
                let v = self.transport.call(caller, Request::$name { $( $arg ),* }, &mut |_| {})?;
                decode(stringify!($name), v)
            } )*
            $( fn $pname(&self, caller: &Caller, $( $parg: $pty, )* progress: &mut dyn FnMut(&ProgressEvent)) -> Result<$pret, EngineError> {
                let v = self.transport.call(caller, Request::$pname { $( $parg ),* }, progress)?;
                decode(stringify!($pname), v)
            } )*
        }

        /// Run one wire request against `api` (the guard's side of [`Remote`]).
        pub fn dispatch(
            api: &dyn EngineApi,
            caller: &Caller,
            request: Request,
            progress: &mut dyn FnMut(&ProgressEvent),
        ) -> Result<Value, EngineError> {
            match request {
                $( Request::$name { $( $arg ),* } => encode(api.$name(caller, $( $arg ),* )?), )*
                $( Request::$pname { $( $parg ),* } => encode(api.$pname(caller, $( $parg, )* progress)?), )*
            }
        }
    };
}

engine_api! {
    /// The project's resolved configuration (the guard's effective policy when guarded).
    fn config() -> ProjectConfig;
    /// The level of each environment, with reasons and fixes.
    fn doctor() -> DoctorReport;
    /// The agent's read-only policy and the MFA-gated approval role of an AWS environment.
    fn iam_templates(env: String, agent_role: Option<String>, approver_arn: Option<String>) -> IamTemplates;
    /// CloudTrail's write events of an AWS environment, matched to the audit log.
    fn cloudtrail_check(env: String, days: u32) -> TrailReport;
    fn environments() -> Vec<EnvReport>;
    fn get_resource(env: String, type_name: String, identifier: String) -> Shown<ResourceDescription>;
    fn list_page(env: String, type_name: String, next_token: Option<String>) -> Shown<ListPage>;
    fn list_resources(env: String, type_name: Option<String>) -> Shown<Vec<(ResourceType, ResourceDescription)>>;
    fn request_status(env: String, request_token: String) -> ProgressEvent;
    /// A write that reached a read-only Cloud Control wire endpoint: always
    /// refused, and the attempt audited.
    fn wire_write(env: String, operation: String, type_name: String, identifier: Option<String>) -> ();
    fn plan(req: PlanRequest) -> Shown<Plan>;
    /// Bring an existing resource under tracking: a gated plan that tags it.
    fn plan_import(env: String, type_name: String, identifier: String) -> Shown<Plan>;
    fn plan_by_id(plan_id: String) -> Shown<Plan>;
    fn plans(env: Option<String>, limit: usize) -> Shown<Vec<Plan>>;
    /// Where one plan stands and what to do next.
    fn plan_state(plan_id: String) -> PlanState;
    /// The newest plans (of one environment, in one status), where each stands.
    fn plan_states(env: Option<String>, status: Option<PlanStatus>, limit: usize) -> Vec<PlanState>;
    fn approvals(status: Option<ApprovalStatus>) -> Vec<Approval>;
    /// What a person must give for a decision (approving, unlocking): the
    /// host asks for exactly this and brings it back as a [`Proof`].
    fn attestation(subject: Subject) -> Attestation;
    /// Approve with a proof the engine weighs by its level.
    fn approve(approval_id: String, proof: Proof, note: Option<String>) -> Approval;
    /// Anyone may say no.
    fn deny(approval_id: String, note: Option<String>) -> Approval;
    /// The URL of the one-time approval page for a pending approval, when the host serves one.
    fn approval_page(approval_id: String) -> Option<String>;
    /// Open the approval question an MCP server asks; its `requestState`.
    fn ask_question(approval_id: String) -> String;
    /// Whether `state` answers the open question about the approval (once).
    fn take_question(approval_id: String, state: String) -> bool;
    fn audit_log() -> Vec<AuditEntry>;
    fn audit_verify() -> Verification;
    /// Every resource lock, held or stale, with its holder.
    fn locks() -> Vec<LockReport>;
    /// Lock a whole environment (`state lock`): nothing is planned or applied there until unlocked.
    fn lock_environment(env: String, reason: Option<String>) -> LockReport;
    /// Remove a lock (`state unlock`): a held one needs a person's proof.
    fn unlock(lock_id: String, proof: Option<Proof>, note: Option<String>) -> LockReport;
    fn estimate_only(env: String, type_name: String, properties: Value, usage: Option<infraguard_cost::Usage>) -> Estimate;
    fn check_environment(env: String, vars: BTreeMap<String, String>) -> EnvironmentCheck;
    fn session_info(env: String, environment_token: Option<String>) -> SessionInfo;
    fn generate(req: PlanRequest, credentials_token: Option<String>) -> Generated;
    fn explain_step(env: String, generated_code_token: Option<String>) -> Explained;
    fn scan_step(env: String, explained_token: Option<String>) -> Scanned;
    fn findings_decision(env: String, security_scan_token: Option<String>, decision: FindingsDecision, findings: Vec<String>, reason: Option<String>) -> FindingsOutcome;
    fn cost_report(env: Option<String>) -> infraguard_cost::report::Report;
    /// `email` is who the alarms' topic mails; `[cost] alert_email` when absent.
    fn plan_billing_alarms(env: String, email: Option<String>) -> Shown<Vec<Plan>>;
    fn sync_status(type_name: Option<String>) -> SyncReport;
    fn drift(type_name: Option<String>) -> DriftReport;
    fn preflight(env: String) -> PreflightReport;
    fn iam_lint(text: String, env: Option<String>) -> infraguard_policy::iam_tools::LintReport;
    fn iam_suggest(capability: String, resources: Vec<String>, env: String) -> infraguard_policy::iam_tools::Suggestion;
    fn iam_attached_policies(env: String, principal_type: String, principal: String) -> Vec<AttachedPolicy>;
    fn iam_extend(req: ExtendRequest) -> ExtendReport;
    progress:
    fn apply(plan_id: String) -> ApplyOutcome;
    /// `resource_type` and `identifier`, when given, must be the tokens' plan's.
    fn apply_step(env: String, operation: Operation, credentials_token: Option<String>, explained_token: Option<String>, security_scan_token: Option<String>, resource_type: Option<String>, identifier: Option<String>) -> ApplyOutcome;
    fn promote(type_name: String, dev_id: String, with_dependencies: bool) -> PromotionReport;
    /// Finish a plan left `applying`, with its own client token.
    fn resume_plan(plan_id: String) -> ApplyOutcome;
    /// In an `aws-enforced` environment: the approver's AWS MFA code opens
    /// the approval role's session for this plan, which applies it.
    fn approve_mfa(approval_id: String, code: String, note: Option<String>) -> MfaApproval;
}

/// The engine in this process is the API's first implementation: each
/// method names who asks and hands over to the engine's own function.
#[allow(clippy::too_many_arguments)]
impl<C: Cloud, S: Store> EngineApi for Engine<C, S> {
    fn config(&self, _: &Caller) -> Result<ProjectConfig, EngineError> {
        Ok(self.config.clone())
    }
    fn doctor(&self, caller: &Caller) -> Result<DoctorReport, EngineError> {
        Ok(self.doctor_report(caller))
    }
    fn iam_templates(
        &self,
        _: &Caller,
        env: String,
        agent_role: Option<String>,
        approver_arn: Option<String>,
    ) -> Result<IamTemplates, EngineError> {
        Engine::iam_templates(self, &env, agent_role.as_deref(), approver_arn.as_deref())
    }
    fn cloudtrail_check(
        &self,
        _: &Caller,
        env: String,
        days: u32,
    ) -> Result<TrailReport, EngineError> {
        Engine::cloudtrail_check(self, &env, days)
    }
    fn environments(&self, _: &Caller) -> Result<Vec<EnvReport>, EngineError> {
        Ok(Engine::environments(self))
    }
    fn get_resource(
        &self,
        _: &Caller,
        env: String,
        type_name: String,
        identifier: String,
    ) -> Result<Shown<ResourceDescription>, EngineError> {
        let r = Engine::get_resource(self, &env, &type_name, &identifier)?;
        Ok(Shown::resource(&type_name, r))
    }
    fn list_page(
        &self,
        _: &Caller,
        env: String,
        type_name: String,
        next_token: Option<String>,
    ) -> Result<Shown<ListPage>, EngineError> {
        Engine::list_page(self, &env, &type_name, next_token.as_deref()).map(Shown::new)
    }
    fn list_resources(
        &self,
        _: &Caller,
        env: String,
        type_name: Option<String>,
    ) -> Result<Shown<Vec<(ResourceType, ResourceDescription)>>, EngineError> {
        Engine::list_resources(self, &env, type_name.as_deref()).map(Shown::new)
    }
    fn request_status(
        &self,
        _: &Caller,
        env: String,
        request_token: String,
    ) -> Result<ProgressEvent, EngineError> {
        Engine::request_status(self, &env, &request_token)
    }
    fn plan(&self, caller: &Caller, mut req: PlanRequest) -> Result<Shown<Plan>, EngineError> {
        req.actor = self.requester(caller);
        Engine::plan(self, req)
    }
    fn plan_by_id(&self, _: &Caller, plan_id: String) -> Result<Shown<Plan>, EngineError> {
        Engine::plan_by_id(self, &plan_id)
    }
    fn plans(
        &self,
        _: &Caller,
        env: Option<String>,
        limit: usize,
    ) -> Result<Shown<Vec<Plan>>, EngineError> {
        Engine::plans(self, env.as_deref(), limit)
    }
    fn plan_state(&self, _: &Caller, plan_id: String) -> Result<PlanState, EngineError> {
        Engine::plan_state(self, &plan_id)
    }
    fn plan_states(
        &self,
        _: &Caller,
        env: Option<String>,
        status: Option<PlanStatus>,
        limit: usize,
    ) -> Result<Vec<PlanState>, EngineError> {
        Engine::plan_states(self, env.as_deref(), status, limit)
    }
    fn approvals(
        &self,
        _: &Caller,
        status: Option<ApprovalStatus>,
    ) -> Result<Vec<Approval>, EngineError> {
        Engine::approvals(self, status)
    }
    fn attestation(&self, _: &Caller, subject: Subject) -> Result<Attestation, EngineError> {
        Engine::attestation(self, &subject)
    }
    fn approve(
        &self,
        caller: &Caller,
        approval_id: String,
        proof: Proof,
        note: Option<String>,
    ) -> Result<Approval, EngineError> {
        self.approve_with(&approval_id, caller, &proof, note.as_deref())
    }
    fn deny(
        &self,
        caller: &Caller,
        approval_id: String,
        note: Option<String>,
    ) -> Result<Approval, EngineError> {
        Engine::deny(self, &approval_id, &self.requester(caller), note.as_deref())
    }
    fn plan_import(
        &self,
        caller: &Caller,
        env: String,
        type_name: String,
        identifier: String,
    ) -> Result<Shown<Plan>, EngineError> {
        Engine::plan_import(self, &env, &type_name, &identifier, &self.requester(caller))
    }
    fn wire_write(
        &self,
        caller: &Caller,
        env: String,
        operation: String,
        type_name: String,
        identifier: Option<String>,
    ) -> Result<(), EngineError> {
        Engine::wire_write(
            self,
            caller,
            &env,
            &operation,
            &type_name,
            identifier.as_deref(),
        )
    }
    fn approval_page(
        &self,
        _: &Caller,
        approval_id: String,
    ) -> Result<Option<String>, EngineError> {
        // The engine serves no page itself: its host (the guard, `serve`)
        // gives it the URLs of the pages it serves (`with_page_urls`).
        Engine::page_url(self, &approval_id)
    }
    fn ask_question(&self, _: &Caller, approval_id: String) -> Result<String, EngineError> {
        Engine::ask_question(self, &approval_id)
    }
    fn take_question(
        &self,
        _: &Caller,
        approval_id: String,
        state: String,
    ) -> Result<bool, EngineError> {
        Engine::take_question(self, &approval_id, &state)
    }
    fn audit_log(&self, _: &Caller) -> Result<Vec<AuditEntry>, EngineError> {
        Engine::audit_log(self)
    }
    fn locks(&self, _: &Caller) -> Result<Vec<LockReport>, EngineError> {
        Engine::locks(self)
    }
    fn lock_environment(
        &self,
        caller: &Caller,
        env: String,
        reason: Option<String>,
    ) -> Result<LockReport, EngineError> {
        Engine::lock_environment(self, caller, &env, reason.as_deref())
    }
    fn unlock(
        &self,
        caller: &Caller,
        lock_id: String,
        proof: Option<Proof>,
        note: Option<String>,
    ) -> Result<LockReport, EngineError> {
        Engine::unlock(self, caller, &lock_id, proof.as_ref(), note.as_deref())
    }
    fn audit_verify(&self, _: &Caller) -> Result<Verification, EngineError> {
        Engine::audit_verify(self)
    }
    fn estimate_only(
        &self,
        caller: &Caller,
        env: String,
        type_name: String,
        properties: Value,
        usage: Option<infraguard_cost::Usage>,
    ) -> Result<Estimate, EngineError> {
        Engine::estimate_only(
            self,
            &env,
            &type_name,
            &properties,
            usage.as_ref(),
            &self.requester(caller),
        )
    }
    fn check_environment(
        &self,
        _: &Caller,
        env: String,
        vars: BTreeMap<String, String>,
    ) -> Result<EnvironmentCheck, EngineError> {
        Engine::check_environment(self, &env, &vars)
    }
    fn session_info(
        &self,
        _: &Caller,
        env: String,
        environment_token: Option<String>,
    ) -> Result<SessionInfo, EngineError> {
        Engine::session_info(self, &env, environment_token.as_deref())
    }
    fn generate(
        &self,
        caller: &Caller,
        mut req: PlanRequest,
        credentials_token: Option<String>,
    ) -> Result<Generated, EngineError> {
        req.actor = self.requester(caller);
        Engine::generate(self, req, credentials_token.as_deref())
    }
    fn explain_step(
        &self,
        _: &Caller,
        env: String,
        generated_code_token: Option<String>,
    ) -> Result<Explained, EngineError> {
        Engine::explain_step(self, &env, generated_code_token.as_deref())
    }
    fn scan_step(
        &self,
        _: &Caller,
        env: String,
        explained_token: Option<String>,
    ) -> Result<Scanned, EngineError> {
        Engine::scan_step(self, &env, explained_token.as_deref())
    }
    fn findings_decision(
        &self,
        caller: &Caller,
        env: String,
        security_scan_token: Option<String>,
        decision: FindingsDecision,
        findings: Vec<String>,
        reason: Option<String>,
    ) -> Result<FindingsOutcome, EngineError> {
        Engine::findings_decision(
            self,
            &env,
            security_scan_token.as_deref(),
            decision,
            &findings,
            reason.as_deref(),
            &self.requester(caller),
        )
    }
    fn cost_report(
        &self,
        _: &Caller,
        env: Option<String>,
    ) -> Result<infraguard_cost::report::Report, EngineError> {
        Engine::cost_report(self, env.as_deref())
    }
    fn plan_billing_alarms(
        &self,
        caller: &Caller,
        env: String,
        email: Option<String>,
    ) -> Result<Shown<Vec<Plan>>, EngineError> {
        Engine::plan_billing_alarms(self, &env, email.as_deref(), &self.requester(caller))
    }
    fn sync_status(
        &self,
        _: &Caller,
        type_name: Option<String>,
    ) -> Result<SyncReport, EngineError> {
        Engine::sync_status(self, type_name.as_deref())
    }
    fn drift(&self, _: &Caller, type_name: Option<String>) -> Result<DriftReport, EngineError> {
        Engine::drift(self, type_name.as_deref())
    }
    fn preflight(&self, _: &Caller, env: String) -> Result<PreflightReport, EngineError> {
        Engine::preflight(self, &env)
    }
    fn iam_lint(
        &self,
        _: &Caller,
        text: String,
        env: Option<String>,
    ) -> Result<infraguard_policy::iam_tools::LintReport, EngineError> {
        Engine::iam_lint(self, &text, env.as_deref())
    }
    fn iam_suggest(
        &self,
        _: &Caller,
        capability: String,
        resources: Vec<String>,
        env: String,
    ) -> Result<infraguard_policy::iam_tools::Suggestion, EngineError> {
        Engine::iam_suggest(self, &capability, &resources, &env)
    }
    fn iam_attached_policies(
        &self,
        _: &Caller,
        env: String,
        principal_type: String,
        principal: String,
    ) -> Result<Vec<AttachedPolicy>, EngineError> {
        Engine::iam_attached_policies(self, &env, &principal_type, &principal)
    }
    fn iam_extend(
        &self,
        caller: &Caller,
        mut req: ExtendRequest,
    ) -> Result<ExtendReport, EngineError> {
        req.actor = self.requester(caller);
        Engine::iam_extend(self, &req)
    }
    fn apply(
        &self,
        caller: &Caller,
        plan_id: String,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<ApplyOutcome, EngineError> {
        Engine::apply(self, &plan_id, &self.requester(caller), progress)
    }
    fn apply_step(
        &self,
        caller: &Caller,
        env: String,
        operation: Operation,
        credentials_token: Option<String>,
        explained_token: Option<String>,
        security_scan_token: Option<String>,
        resource_type: Option<String>,
        identifier: Option<String>,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<ApplyOutcome, EngineError> {
        Engine::apply_step(
            self,
            &env,
            operation,
            credentials_token.as_deref(),
            explained_token.as_deref(),
            security_scan_token.as_deref(),
            crate::chain::Claimed {
                type_name: resource_type.as_deref(),
                identifier: identifier.as_deref(),
            },
            &self.requester(caller),
            progress,
        )
    }
    fn resume_plan(
        &self,
        caller: &Caller,
        plan_id: String,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<ApplyOutcome, EngineError> {
        Engine::resume(self, &plan_id, &self.requester(caller), progress)
    }
    fn approve_mfa(
        &self,
        caller: &Caller,
        approval_id: String,
        code: String,
        note: Option<String>,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<MfaApproval, EngineError> {
        Engine::approve_mfa(self, &approval_id, caller, &code, note.as_deref(), progress)
    }
    fn promote(
        &self,
        caller: &Caller,
        type_name: String,
        dev_id: String,
        with_dependencies: bool,
        progress: &mut dyn FnMut(&ProgressEvent),
    ) -> Result<PromotionReport, EngineError> {
        Engine::promote(
            self,
            &type_name,
            &dev_id,
            with_dependencies,
            &self.requester(caller),
            progress,
        )
    }
}
