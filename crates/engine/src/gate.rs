//! The gate: what a plan needs before it may be applied, following the seed's
//! Quick Reference table.
//!
//! | plan                                     | decision            |
//! |------------------------------------------|---------------------|
//! | read-only environment, any write         | refused (a human may lift it for this plan) |
//! | delete, anywhere                         | approval required   |
//! | cost ≥ threshold                         | approval required   |
//! | open findings at/above the block level   | approval required   |
//! | cost unknown                             | approval required   |
//! | otherwise                                | auto                |
//!
//! With `[approval] auto_promote_low_cost` on, [`auto_promotion`] lets the
//! policy, not a person, approve one kind of prod write: the promotion of a
//! tested, unchanged, clean, cheap dev resource.

use infraguard_core::env::Environment;
use infraguard_core::finding::{Finding, Severity};
use infraguard_core::money::{CostEstimate, Money};
use infraguard_core::plan::GateDecision;
use infraguard_core::resource::Operation;

pub struct GateInput<'a> {
    pub env: &'a Environment,
    pub operation: Operation,
    pub cost: &'a CostEstimate,
    pub findings: &'a [Finding],
    pub threshold: Money,
    pub block_at: Severity,
    pub scanned: bool,
}

/// The findings that stop a change for a person: open (not suppressed) and
/// at or above `block_at`. The one place the gate, promotion and preflight
/// ask.
pub fn blocking(findings: &[Finding], block_at: Severity) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.is_open() && f.severity >= block_at)
        .collect()
}

pub fn decide(input: &GateInput<'_>) -> (GateDecision, Vec<String>) {
    let mut reasons = Vec::new();
    let env = &input.env.name;
    if input.operation == Operation::Delete {
        reasons.push(format!(
            "deletes a resource in {env}: deletes always need a human"
        ));
    }
    // A delete saves money: its cost is not a reason for a human (the
    // delete itself is).
    // The cost crate decides, on the amount rounded to cents as shown:
    // "$10.00" is never treated as under $10.
    if input.operation != Operation::Delete
        && input.cost.known
        && infraguard_cost::threshold_decision(input.cost, input.threshold)
            == infraguard_cost::ThresholdDecision::RequiresApproval
    {
        reasons.push(format!(
            "costs {}/month, at or above the {} threshold",
            input.cost.monthly_usd, input.threshold
        ));
    }
    if !input.cost.known && input.operation != Operation::Delete {
        reasons.push("the monthly cost could not be estimated".to_string());
    }
    let blocking = blocking(input.findings, input.block_at);
    if !blocking.is_empty() {
        let ids: Vec<String> = blocking
            .iter()
            .map(|f| format!("{} ({})", f.rule, f.severity))
            .collect();
        reasons.push(format!(
            "{} unresolved security finding(s) at or above {}: {}",
            blocking.len(),
            input.block_at,
            ids.join(", ")
        ));
    }
    if !input.scanned && input.env.read_only {
        reasons.push(format!("security scanning is disabled for {env}"));
    }
    if input.env.read_only {
        reasons.insert(
            0,
            format!("{env} is read-only: every write needs a human's approval of this exact plan"),
        );
        return (GateDecision::Refused, reasons);
    }
    if reasons.is_empty() {
        (GateDecision::Auto, reasons)
    } else {
        (GateDecision::ApprovalRequired, reasons)
    }
}

/// What promotion knows of the dev resource a prod create copies.
pub struct DevFacts<'a> {
    /// The dev plan infraguard last applied to it; `None` when infraguard
    /// did not make it (nothing shows it was tested there).
    pub applied_by: Option<&'a str>,
    /// Live in dev as infraguard applied it (not changed outside since).
    pub unchanged: bool,
}

/// The seed's "automate promotion for low-cost resources": whether the
/// prod create of a promotion may be approved by the policy instead of a
/// person. Only a create, outside `aws-enforced` environments (AWS itself
/// wants the approver's MFA session there), of a dev resource infraguard
/// applied and nobody changed since, whose prod plan the gate would pass
/// but for the environment being read-only: a known cost under the
/// threshold, no open finding at the block level, scanning on. `Ok` says
/// why it may, for the audit; `Err` why not.
pub fn auto_promotion(input: &GateInput<'_>, dev: &DevFacts<'_>) -> Result<String, String> {
    if input.operation != Operation::Create {
        return Err(format!("a promotion {} is not automated", input.operation));
    }
    if input.env.approval_role.is_some() {
        return Err(format!(
            "{} is aws-enforced: AWS itself wants the approver's MFA session",
            input.env.name
        ));
    }
    let Some(dev_plan) = dev.applied_by else {
        return Err(
            "infraguard did not make it in dev, so nothing shows it was tested there".into(),
        );
    };
    if !dev.unchanged {
        return Err("it was changed in dev outside infraguard since it was applied".into());
    }
    if !input.scanned {
        return Err(format!("security scanning is off for {}", input.env.name));
    }
    let writable = Environment {
        read_only: false,
        ..input.env.clone()
    };
    let (decision, reasons) = decide(&GateInput {
        env: &writable,
        ..*input
    });
    if decision != GateDecision::Auto {
        return Err(reasons.join("; "));
    }
    Ok(format!(
        "approved by the policy approval.auto_promote_low_cost: the dev resource was applied by plan {dev_plan} and is unchanged, no open finding at or above {}, {}/month under the {} threshold",
        input.block_at, input.cost.monthly_usd, input.threshold
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::env::Backend;

    fn env(read_only: bool) -> Environment {
        Environment {
            name: if read_only { "prod" } else { "dev" }.into(),
            tag_value: "x".into(),
            account_id: None,
            approval_role: None,
            backend: Backend::Local,
            profile: None,
            region: "us-east-1".into(),
            read_only,
            scanning: true,
        }
    }

    fn cost(usd: &str) -> CostEstimate {
        CostEstimate {
            monthly_usd: Money::parse(usd).unwrap(),
            breakdown: vec![],
            assumptions: vec![],
            notes: vec![],
            known: true,
        }
    }

    fn finding(sev: Severity) -> Finding {
        Finding {
            rule: "IG-T-1".into(),
            checkov_id: None,
            severity: sev,
            title: "t".into(),
            resource: "R".into(),
            type_name: "AWS::S3::Bucket".into(),
            path: "Properties".into(),
            message: "m".into(),
            remediation: "r".into(),
            fix: None,
            suppressed: None,
        }
    }

    /// The gate's input under the seed's policy: $10 threshold, findings
    /// from Medium up block, the scan ran.
    fn input<'a>(
        e: &'a Environment,
        op: Operation,
        c: &'a CostEstimate,
        f: &'a [Finding],
    ) -> GateInput<'a> {
        GateInput {
            env: e,
            operation: op,
            cost: c,
            findings: f,
            threshold: Money::parse("10").unwrap(),
            block_at: Severity::Medium,
            scanned: true,
        }
    }

    fn run(e: &Environment, op: Operation, c: &CostEstimate, f: &[Finding]) -> GateDecision {
        decide(&input(e, op, c, f)).0
    }

    #[test]
    fn follows_the_quick_reference_table() {
        use GateDecision::{ApprovalRequired, Auto, Refused};
        let (dev, prod) = (env(false), env(true));
        let high = [finding(Severity::High)];
        let low = [finding(Severity::Low)];
        // (environment, operation, monthly cost, findings, decision): one
        // row of the seed's quick-reference table each.
        let rows: [(&Environment, Operation, &str, &[Finding], GateDecision); 7] = [
            (&dev, Operation::Create, "9.99", &[], Auto),
            (&dev, Operation::Create, "10.00", &[], ApprovalRequired),
            (&dev, Operation::Delete, "0", &[], ApprovalRequired),
            (&dev, Operation::Update, "1", &[], Auto),
            (&prod, Operation::Create, "0", &[], Refused),
            (&dev, Operation::Create, "1", &high, ApprovalRequired),
            (&dev, Operation::Create, "1", &low, Auto),
        ];
        for (e, op, usd, findings, want) in rows {
            assert_eq!(
                run(e, op, &cost(usd), findings),
                want,
                "{} {op:?} ${usd} {findings:?}",
                e.name
            );
        }
    }

    #[test]
    fn suppressed_findings_do_not_block() {
        let mut f = finding(Severity::Critical);
        f.suppressed = Some(infraguard_core::finding::Suppression {
            source: "accepted".into(),
            reason: "r".into(),
        });
        assert_eq!(
            run(&env(false), Operation::Create, &cost("1"), &[f]),
            GateDecision::Auto
        );
    }

    #[test]
    fn unknown_cost_needs_a_human() {
        let mut c = cost("0");
        c.known = false;
        assert_eq!(
            run(&env(false), Operation::Create, &c, &[]),
            GateDecision::ApprovalRequired
        );
    }

    #[test]
    fn auto_promotion_covers_only_a_tested_unchanged_clean_cheap_create() {
        let prod = env(true);
        let cheap = cost("0.28");
        let ask =
            |e: &Environment, op: Operation, c: &CostEstimate, f: &[Finding], dev: DevFacts<'_>| {
                auto_promotion(&input(e, op, c, f), &dev)
            };
        let tested = || DevFacts {
            applied_by: Some("plan-1"),
            unchanged: true,
        };
        let ok = ask(&prod, Operation::Create, &cheap, &[], tested()).unwrap();
        assert!(ok.contains("plan-1") && ok.contains("$0.28"), "{ok}");

        let refused = |r: Result<String, String>, why: &str| {
            let e = r.unwrap_err();
            assert!(e.contains(why), "{why}: {e}");
        };
        refused(
            ask(&prod, Operation::Update, &cheap, &[], tested()),
            "not automated",
        );
        refused(
            ask(&prod, Operation::Delete, &cheap, &[], tested()),
            "not automated",
        );
        let mut enforced = prod.clone();
        enforced.approval_role = Some(infraguard_core::env::ApprovalRole {
            role_arn: "arn:aws:iam::222222222222:role/approver".into(),
            mfa_serial: "arn:aws:iam::222222222222:mfa/alice".into(),
            profile: None,
        });
        refused(
            ask(&enforced, Operation::Create, &cheap, &[], tested()),
            "aws-enforced",
        );
        refused(
            ask(
                &prod,
                Operation::Create,
                &cheap,
                &[],
                DevFacts {
                    applied_by: None,
                    unchanged: true,
                },
            ),
            "did not make it",
        );
        refused(
            ask(
                &prod,
                Operation::Create,
                &cheap,
                &[],
                DevFacts {
                    applied_by: Some("plan-1"),
                    unchanged: false,
                },
            ),
            "changed in dev",
        );
        refused(
            ask(&prod, Operation::Create, &cost("10.00"), &[], tested()),
            "threshold",
        );
        refused(
            ask(
                &prod,
                Operation::Create,
                &cheap,
                &[finding(Severity::Medium)],
                tested(),
            ),
            "finding",
        );
        let mut unknown = cheap.clone();
        unknown.known = false;
        refused(
            ask(&prod, Operation::Create, &unknown, &[], tested()),
            "could not be estimated",
        );
    }
}
