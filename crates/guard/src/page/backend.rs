//! [`EnginePages`]: the page's backend over any [`EngineApi`], so the guard
//! (one hosted engine per project) and an advisory process (its own
//! in-process engine) serve the same page. What a decision proves is the
//! engine's to weigh: Approve sends the approver's code when one was typed,
//! or a confirmation; at level `guarded` the engine refuses the latter.

use std::sync::Arc;

use infraguard_core::approval::Approval;
use infraguard_core::plan::Plan;
use infraguard_core::resource::Operation;
use infraguard_engine::{ApplyOutcome, Attestation, Caller, EngineApi, Level, Proof, Subject};

use super::{ApprovalView, Decision, DecisionInput, FindingView, PageBackend};

/// Finds the engine for a page key (`approval_id`, or `project/approval_id`
/// in the guard) and the approval id within it.
pub type Resolve =
    Arc<dyn Fn(&str) -> Result<(Arc<dyn EngineApi>, String), String> + Send + Sync + 'static>;

pub struct EnginePages {
    resolve: Resolve,
    level: Level,
}

impl EnginePages {
    pub fn new(resolve: Resolve, level: Level) -> EnginePages {
        EnginePages { resolve, level }
    }

    /// Pages over one engine, keyed by approval id.
    pub fn single(api: Arc<dyn EngineApi>, level: Level) -> EnginePages {
        EnginePages::new(
            Arc::new(move |key: &str| Ok((api.clone(), key.to_string()))),
            level,
        )
    }
}

/// Who decides on a page: a browser on loopback, which could be anyone
/// with the URL. The proof, not this name, is what counts.
fn page_caller() -> Caller {
    Caller::new("approval-page", "approval-page")
}

/// The page's view of an approval and its plan.
pub fn view_of(approval: &Approval, plan: &Plan, level: Level) -> ApprovalView {
    let findings = plan
        .findings
        .iter()
        .map(|f| FindingView {
            rule: match &f.checkov_id {
                Some(c) => format!("{} ({c})", f.rule),
                None => f.rule.clone(),
            },
            severity: f.severity.to_string(),
            title: f.title.clone(),
            path: f.path.clone(),
            message: f.message.clone(),
            remediation: f.remediation.clone(),
            suppressed: f
                .suppressed
                .as_ref()
                .map(|s| format!("{}: {}", s.source, s.reason)),
        })
        .collect();
    let diff = match (plan.operation, &plan.patch) {
        (Operation::Update, Some(patch)) => Some(
            patch
                .as_array()
                .map(|ops| {
                    ops.iter()
                        .map(|op| {
                            let kind = op.get("op").and_then(|v| v.as_str()).unwrap_or("?");
                            let path = op.get("path").and_then(|v| v.as_str()).unwrap_or("?");
                            let sign = match kind {
                                "remove" => "-",
                                "add" => "+",
                                _ => "~",
                            };
                            match op.get("value") {
                                Some(v) => format!("{sign} {path} ({kind}): {v}"),
                                None => format!("{sign} {path} ({kind})"),
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default(),
        ),
        _ => None,
    };
    ApprovalView {
        approval_id: approval.id.clone(),
        plan_id: plan.id.clone(),
        status: approval.status.as_str().into(),
        summary: approval.summary.clone(),
        reasons: approval.reasons.clone(),
        env: plan.env.clone(),
        operation: plan.operation.to_string(),
        type_name: plan.type_name.to_string(),
        identifier: plan.identifier.clone(),
        template: plan.template.to_pretty_json(),
        explanation: plan.explanation.clone(),
        findings,
        monthly_cost: format!("{}/month", plan.cost.monthly_usd),
        cost_breakdown: plan
            .cost
            .breakdown
            .iter()
            .map(|c| {
                format!(
                    "{}: {} {} × {} = {}",
                    c.name, c.monthly_quantity, c.unit, c.price, c.monthly_cost
                )
            })
            .collect(),
        diff,
        expires_at: None,
        level: level.as_str().into(),
        mfa_serial: None,
    }
}

/// What the engine says approving `id` needs from a person.
fn attestation(api: &dyn EngineApi, caller: &Caller, id: &str) -> Option<Attestation> {
    api.attestation(caller, Subject::Approval(id.to_string()))
        .ok()
}

impl PageBackend for EnginePages {
    fn view(&self, key: &str) -> Result<ApprovalView, String> {
        let (api, id) = (self.resolve)(key)?;
        let caller = page_caller();
        let approval = api
            .approvals(&caller, None)
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| format!("no approval `{id}`"))?;
        let plan = api
            .plan_by_id(&caller, approval.plan_id.clone())
            .map_err(|e| e.to_string())?;
        let mut view = view_of(&approval, &plan, self.level);
        if let Some(Attestation::AwsMfa { mfa_serial, .. }) =
            attestation(api.as_ref(), &caller, &approval.id)
        {
            view.level = Level::AwsEnforced.as_str().into();
            view.mfa_serial = Some(mfa_serial);
        }
        Ok(view)
    }

    fn decide(&self, key: &str, input: &DecisionInput) -> Result<String, String> {
        let (api, id) = (self.resolve)(key)?;
        let caller = page_caller();
        let note = input.note.clone().filter(|n| !n.trim().is_empty());
        match input.decision {
            Decision::Approve
                if matches!(
                    attestation(api.as_ref(), &caller, &id),
                    Some(Attestation::AwsMfa { .. })
                ) =>
            {
                // aws-enforced: the code goes to AWS STS, and the plan is
                // applied here with the session it opens.
                let code = input.code.clone().unwrap_or_default();
                let done = api
                    .approve_mfa(&caller, id, code, note, &mut |_| {})
                    .map_err(|e| e.to_string())?;
                let applied = match &done.outcome {
                    ApplyOutcome::Applied { event, .. } => format!(
                        "applied with that session ({})",
                        event.identifier.as_deref().unwrap_or("done")
                    ),
                    ApplyOutcome::NeedsApproval { .. } => {
                        "not applied: it still needs an approval".into()
                    }
                    ApplyOutcome::Refused { reasons, .. } => {
                        format!("not applied: {}", reasons.join("; "))
                    }
                };
                Ok(format!(
                    "Approved by {} with the AWS MFA session {}; plan {} {applied}.",
                    done.approval.decided_by.unwrap_or_default(),
                    done.session_name,
                    done.approval.plan_id
                ))
            }
            Decision::Approve => {
                let proof = match input
                    .code
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                {
                    Some(code) => Proof::Code {
                        approver: input.approver.clone().filter(|a| !a.trim().is_empty()),
                        code: code.to_string(),
                    },
                    None => Proof::Confirmation {
                        how: "clicked Approve on the approval page".into(),
                    },
                };
                let a = api
                    .approve(&caller, id, proof, note)
                    .map_err(|e| e.to_string())?;
                let by = a.decided_by.unwrap_or_default();
                let unverified = if by.starts_with("unverified:") {
                    " (unverified: anyone with this page could have clicked; `infraguard doctor` explains)"
                } else {
                    ""
                };
                Ok(format!(
                    "Approved by {by}{unverified}. Plan {} can now be applied (`infraguard apply {}`, or the agent's retry).",
                    a.plan_id, a.plan_id
                ))
            }
            Decision::Deny => {
                let a = api.deny(&caller, id, note).map_err(|e| e.to_string())?;
                Ok(format!("Denied: plan {} will not be applied.", a.plan_id))
            }
        }
    }

    fn needs_code(&self) -> bool {
        self.level != Level::Advisory
    }
}
