//! Asking a human about a pending approval, in the form the engine says it
//! needs ([`infraguard_engine::attest`]), and reading the answer back from
//! the engine.
//!
//! The server never decides who is a human: it asks the engine which
//! attestation the approval needs, hands what the user did to the engine as
//! a [`Proof`] and reports the engine's record of it.
//!
//! - `advisory`: a form elicitation (on 2026-07-28, an input-required result
//!   carrying it). An accept becomes a [`Proof::Confirmation`], which the
//!   engine records as `unverified:…`; a decline is a denial (anyone may say
//!   no); a dismissal leaves the approval pending.
//! - `guarded`, `aws-enforced`: an accept in the client proves nothing, so
//!   no form is sent. The user is pointed at the approval page (a URL-mode
//!   elicitation, where the client supports one) and at `infraguard approve
//!   ID`, both of which ask for an approver's code. Whatever the client
//!   answers, the server then reads the approval's status from the engine.
//!
//! Either way, only an answer to a question this server asked counts: an
//! input-required question carries a nonce in its `requestState`, opened as
//! a single-use record in the engine's store, and a retried call's answer is
//! read only when it brings that nonce back (once).
//!
//! # The input-required form and the tool macro
//!
//! On 2026-07-28 a question is not a request to the client but a result:
//! the tool call ends with an `InputRequiredResult` (`inputRequests` plus
//! `requestState`), and the client calls the tool again with
//! `inputResponses` and the same `requestState`. `#[tool]` cannot express
//! this: its typed outputs (`Json<T>`, and `Result<Json<T>, E>`) only make a
//! complete result, and rmcp refuses an input-required result from an error
//! branch. So a tool that may ask ([`HumanAnswer::AskAndRetry`]) returns
//! rmcp's `CallToolResponse` itself, and declares its `outputSchema` in its
//! `#[tool]` attribute; the retried call's answers reach it through the
//! [`Answers`] extractor, one argument of the tool method.

use infraguard_core::approval::{Approval, ApprovalStatus};
use infraguard_core::money::Money;
use infraguard_core::plan::Plan;
use infraguard_engine::{Attestation, Caller, EngineError, Proof, Subject};
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitationAction, InputRequest, InputRequests,
    InputRequiredResult, InputResponses, ProtocolVersion,
};
use rmcp::service::{ElicitationMode, RequestContext};
use rmcp::{ErrorData, RoleServer};
use serde_json::{Value, json};

use super::approvals::{Decision, Pending, the_code};
use super::{InfraguardServer, client_name};

/// Key of the approval question in an input-required result (2026-07-28).
const APPROVAL_INPUT: &str = "approval";

/// A retried call's answers to a question this server asked in an earlier
/// round (2026-07-28): `inputResponses` and `requestState` of the call.
/// Empty on a first call, and with every older protocol.
pub(super) struct Answers {
    responses: Option<InputResponses>,
    state: Option<String>,
}

impl<S> FromContextPart<ToolCallContext<'_, S>> for Answers {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        Ok(Answers {
            responses: context.input_responses.take(),
            state: context.request_state.take(),
        })
    }
}

/// What became of the question, as the engine recorded it.
pub(super) enum HumanAnswer {
    Approved(Decision),
    Denied(Decision),
    /// The 2026-07-28 form: the client must ask and retry the call.
    AskAndRetry(InputRequiredResult),
    /// Still pending, and how a human can approve it.
    Pending(Pending),
}

impl InfraguardServer {
    /// Ask about a pending approval by id (its plan is the one the approval
    /// names); `None` when it is no longer pending.
    pub(super) async fn ask_about(
        &self,
        approval_id: &str,
        answers: &Answers,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
    ) -> Result<Option<HumanAnswer>, ErrorData> {
        let aid = approval_id.to_string();
        let found = self
            .blocking(caller, move |e, c| {
                let approval = e
                    .approvals(c, Some(ApprovalStatus::Pending))?
                    .into_iter()
                    .find(|a| a.id == aid);
                match approval {
                    Some(a) => {
                        let plan = e.plan_by_id(c, a.plan_id.clone())?;
                        Ok(Some((a, plan)))
                    }
                    None => Ok::<_, EngineError>(None),
                }
            })
            .await?;
        match found {
            Ok(Some((approval, plan))) => self
                .ask_human(&plan, &approval, answers, context, caller)
                .await
                .map(Some),
            Ok(None) => Ok(None),
            Err(e) => {
                let why = format!("the approval could not be read ({e})");
                let pending = self.pending(caller, approval_id, None, why).await?;
                Ok(Some(HumanAnswer::Pending(pending)))
            }
        }
    }

    /// Ask the client's user about `approval`, in whichever form the level
    /// and the session allow, and report what the engine recorded.
    pub(super) async fn ask_human(
        &self,
        plan: &Plan,
        approval: &Approval,
        answers: &Answers,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
    ) -> Result<HumanAnswer, ErrorData> {
        // The engine says what this approval needs from a person; a server
        // that cannot read it asks for a code, which a confirmation never
        // replaces.
        let id = approval.id.clone();
        let confirmable = self
            .blocking(caller, move |e, c| e.attestation(c, Subject::Approval(id)))
            .await?
            .is_ok_and(|wanted| wanted == Attestation::Confirmation);
        // A retried call carrying the answer (2026-07-28): only an answer to
        // the question this server asked about this very approval counts.
        let answer = answers
            .responses
            .as_ref()
            .and_then(|r| r.get(APPROVAL_INPUT));
        let asked_here = match (answer, answers.state.clone()) {
            (Some(_), Some(state)) => {
                let id = approval.id.clone();
                self.blocking(caller, move |e, c| e.take_question(c, id, state))
                    .await?
                    .unwrap_or(false)
            }
            _ => false,
        };
        if let Some(answer) = answer
            && asked_here
        {
            if !confirmable {
                // The answer to a URL question says only that the user saw
                // the page; the engine says whether a code was entered.
                return self
                    .recheck(
                        approval,
                        caller,
                        format!(
                            "the approval page was offered, but {} has not been entered yet",
                            the_code(self.level_of(&approval.env))
                        ),
                    )
                    .await;
            }
            let action = answer
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("cancel")
                .to_string();
            let note = answer
                .get("content")
                .and_then(|c| c.get("note"))
                .and_then(Value::as_str)
                .map(str::to_string);
            return self
                .record_answer(approval, &action, note, context, caller)
                .await;
        }
        if confirmable {
            self.ask_to_confirm(plan, approval, context, caller).await
        } else {
            self.ask_for_code(approval, context, caller).await
        }
    }

    /// Advisory: a form the user accepts or declines.
    async fn ask_to_confirm(
        &self,
        plan: &Plan,
        approval: &Approval,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
    ) -> Result<HumanAnswer, ErrorData> {
        let message = approval_prompt(plan, approval, self.config.cost_threshold);
        let params = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message,
            requested_schema: serde_json::from_value(json!({
                "type": "object",
                "properties": {
                    "note": {"type": "string", "title": "Note", "description": "Optional note for the audit log"}
                }
            }))
            .map_err(|e| ErrorData::internal_error(format!("approval form schema: {e}"), None))?,
        };
        let no_elicitation =
            "the client did not declare elicitation, so the server cannot ask the user";
        if new_protocol(context) {
            let can_elicit = context
                .client_capabilities()
                .is_some_and(|c| c.elicitation.is_some());
            if !can_elicit {
                return self.pending_answer(caller, approval, no_elicitation).await;
            }
            return self.ask_and_retry(&approval.id, params, caller).await;
        }
        if !context
            .peer
            .supported_elicitation_modes()
            .contains(&ElicitationMode::Form)
        {
            return self.pending_answer(caller, approval, no_elicitation).await;
        }
        match context.peer.create_elicitation(params).await {
            Ok(result) => {
                let action = match result.action {
                    ElicitationAction::Accept => "accept",
                    ElicitationAction::Decline => "decline",
                    _ => "cancel",
                };
                let note = result
                    .content
                    .as_ref()
                    .and_then(|c| c.get("note"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                self.record_answer(approval, action, note, context, caller)
                    .await
            }
            Err(e) => {
                let why = format!("asking the user through the client failed ({e})");
                self.pending_answer(caller, approval, &why).await
            }
        }
    }

    /// Guarded, aws-enforced: point the user at the approval page, where
    /// the client can show one, then read the status back.
    async fn ask_for_code(
        &self,
        approval: &Approval,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
    ) -> Result<HumanAnswer, ErrorData> {
        let Some(url) = self.page_of(caller, &approval.id).await? else {
            return self
                .pending_answer(
                    caller,
                    approval,
                    "an accept in this client cannot approve here, and the engine's host serves no approval page to show",
                )
                .await;
        };
        let level = self.level_of(&approval.env);
        let message = format!(
            "infraguard: {} needs {} ({}). Open this page and enter it: {url}\n\
             Or run `infraguard approve {id}` in the project folder. Answering here approves nothing by itself.",
            approval.summary,
            the_code(level),
            approval.reasons.join("; "),
            id = approval.id,
        );
        let no_url = "the client does not support URL elicitation, so the server cannot show the user the approval page";
        if new_protocol(context) {
            let can_url = context
                .client_capabilities()
                .is_some_and(|c| c.elicitation.as_ref().is_some_and(|e| e.url.is_some()));
            if !can_url {
                return self.pending_answer(caller, approval, no_url).await;
            }
            let params = ElicitRequestParams::UrlElicitationParams {
                meta: None,
                message,
                url,
                // 2026-07-28 has no elicitation id: the requestState names the question.
                elicitation_id: String::new(),
            };
            return self.ask_and_retry(&approval.id, params, caller).await;
        }
        if !context
            .peer
            .supported_elicitation_modes()
            .contains(&ElicitationMode::Url)
        {
            return self.pending_answer(caller, approval, no_url).await;
        }
        let params = ElicitRequestParams::UrlElicitationParams {
            meta: None,
            message,
            url,
            elicitation_id: format!("{}.{}", approval.id, nonce()?),
        };
        match context.peer.create_elicitation(params).await {
            // Whatever the client answers, the engine's record decides.
            Ok(_) => {
                self.recheck(
                    approval,
                    caller,
                    format!(
                        "the approval page was shown, but {} has not been entered yet",
                        the_code(level)
                    ),
                )
                .await
            }
            Err(e) => {
                let why = format!("showing the approval page through the client failed ({e})");
                self.pending_answer(caller, approval, &why).await
            }
        }
    }

    /// The 2026-07-28 form: the engine opens the question, the client gets it.
    async fn ask_and_retry(
        &self,
        approval_id: &str,
        params: ElicitRequestParams,
        caller: &Caller,
    ) -> Result<HumanAnswer, ErrorData> {
        let id = approval_id.to_string();
        let state = match self
            .blocking(caller, move |e, c| e.ask_question(c, id))
            .await?
        {
            Ok(s) => s,
            Err(e) => {
                return Err(ErrorData::internal_error(
                    format!("the approval question could not be opened: {e}"),
                    None,
                ));
            }
        };
        let mut requests = InputRequests::new();
        requests.insert(
            APPROVAL_INPUT.to_string(),
            InputRequest::Elicitation(ElicitRequest::new(params)),
        );
        Ok(HumanAnswer::AskAndRetry(InputRequiredResult::new(
            Some(requests),
            Some(state),
        )))
    }

    /// Advisory: pass the user's answer to the engine. The engine weighs
    /// the confirmation; where it refuses one, the approval stays pending
    /// and the result says how a code can approve it.
    async fn record_answer(
        &self,
        approval: &Approval,
        action: &str,
        note: Option<String>,
        context: &RequestContext<RoleServer>,
        caller: &Caller,
    ) -> Result<HumanAnswer, ErrorData> {
        let level = self.level_of(&approval.env);
        let id = approval.id.clone();
        match action {
            "accept" => {
                let proof = Proof::Confirmation {
                    how: format!("accepted in the MCP client {}", client_name(context)),
                };
                let r = self
                    .blocking(caller, move |e, c| e.approve(c, id, proof, note))
                    .await?;
                match r {
                    Ok(a) => Ok(HumanAnswer::Approved(Decision::of(&a, level))),
                    Err(err) => {
                        let why =
                            format!("the engine did not accept the client's confirmation: {err}");
                        self.pending_answer(caller, approval, &why).await
                    }
                }
            }
            "decline" => {
                let note = note.or_else(|| Some("declined in the MCP client".into()));
                let r = self
                    .blocking(caller, move |e, c| e.deny(c, id, note))
                    .await?;
                match r {
                    Ok(a) => Ok(HumanAnswer::Denied(Decision::of(&a, level))),
                    Err(err) => {
                        let why = format!("the user's denial could not be recorded: {err}");
                        self.pending_answer(caller, approval, &why).await
                    }
                }
            }
            _ => {
                self.pending_answer(
                    caller,
                    approval,
                    "the user dismissed the question without answering",
                )
                .await
            }
        }
    }

    /// The approval's status as the engine has it now.
    async fn recheck(
        &self,
        approval: &Approval,
        caller: &Caller,
        why_pending: String,
    ) -> Result<HumanAnswer, ErrorData> {
        let level = self.level_of(&approval.env);
        let aid = approval.id.clone();
        let r = self
            .blocking(caller, move |e, c| {
                e.approvals(c, None)
                    .map(|list| list.into_iter().find(|a| a.id == aid))
            })
            .await?;
        match r {
            Ok(Some(a)) if a.status == ApprovalStatus::Approved => {
                Ok(HumanAnswer::Approved(Decision::of(&a, level)))
            }
            Ok(Some(a)) if a.status == ApprovalStatus::Denied => {
                Ok(HumanAnswer::Denied(Decision::of(&a, level)))
            }
            Ok(_) => self.pending_answer(caller, approval, &why_pending).await,
            Err(e) => {
                let why = format!("the approval's status could not be read ({e})");
                self.pending_answer(caller, approval, &why).await
            }
        }
    }

    async fn pending_answer(
        &self,
        caller: &Caller,
        approval: &Approval,
        why: &str,
    ) -> Result<HumanAnswer, ErrorData> {
        self.pending(caller, &approval.id, Some(&approval.env), why.to_string())
            .await
            .map(HumanAnswer::Pending)
    }
}

fn new_protocol(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
}

/// 16 random bytes, hex.
fn nonce() -> Result<String, ErrorData> {
    infraguard_engine::hash::random_hex(16).map_err(|e| {
        ErrorData::internal_error(
            format!("no randomness for the approval question: {e}"),
            None,
        )
    })
}

/// What the user sees when asked (advisory): the change, why a human is
/// needed, the cost with its breakdown, the open findings, the template,
/// and what an accept counts as here.
fn approval_prompt(plan: &Plan, approval: &Approval, threshold: Money) -> String {
    let mut lines = vec![
        format!("infraguard asks for your approval: {}", approval.summary),
        format!("Why a human must decide: {}", approval.reasons.join("; ")),
        infraguard_cost::render_estimate(&plan.cost, threshold)
            .trim_end()
            .to_string(),
    ];
    let open: Vec<_> = plan.open_findings().collect();
    if open.is_empty() {
        lines.push("Security scan: no open findings.".into());
    } else {
        lines.push(format!("Security scan: {} open finding(s):", open.len()));
        lines.extend(
            open.iter()
                .map(|f| format!("   - [{}] {} {}: {}", f.severity, f.rule, f.path, f.title)),
        );
    }
    let template = plan.template.to_pretty_json();
    // Keep the prompt readable; the full template was shown by `explain`.
    let shown: String = template.chars().take(3000).collect();
    lines.push(format!(
        "CloudFormation template{}:\n{shown}",
        if shown.len() < template.len() {
            " (first 3000 characters)"
        } else {
            ""
        }
    ));
    lines.push(format!(
        "Accept to approve {} (plan {}), decline to deny it. This project is advisory: your accept is recorded as an unverified confirmation.",
        approval.id, plan.id
    ));
    lines.join("\n")
}
