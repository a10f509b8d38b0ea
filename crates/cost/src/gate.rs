//! The cost threshold and the `💰 Cost Estimation` display.
//!
//! The seed approves resources under $10/month automatically and sends
//! resources at or above it to a human. The comparison is made on the amount
//! rounded to cents, the amount the user sees: an estimate shown as `$10.00`
//! never says "under $10". An estimate that is not fully known always needs
//! a human, because its total is only a lower bound.

use std::fmt::Write as _;

use infraguard_core::{CostEstimate, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What the cost alone asks of the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdDecision {
    AutoApproved,
    RequiresApproval,
}

/// `RequiresApproval` when the cost (in cents) is at or above `threshold`, or
/// not fully known.
pub fn threshold_decision(estimate: &CostEstimate, threshold: Money) -> ThresholdDecision {
    if !estimate.known || estimate.monthly_usd.round_cents() >= threshold {
        ThresholdDecision::RequiresApproval
    } else {
        ThresholdDecision::AutoApproved
    }
}

/// The approval line shown under an estimate.
pub fn approval_line(estimate: &CostEstimate, threshold: Money) -> String {
    match threshold_decision(estimate, threshold) {
        ThresholdDecision::AutoApproved => format!("✅ Auto-approved (<{threshold}/month)"),
        ThresholdDecision::RequiresApproval if !estimate.known => format!(
            "⚠️ REQUIRES APPROVAL: the cost is not fully known (at least {}/month; threshold {threshold}/month)",
            estimate.monthly_usd
        ),
        ThresholdDecision::RequiresApproval => format!(
            "⚠️ REQUIRES APPROVAL (≥{threshold}/month): {}/month",
            estimate.monthly_usd
        ),
    }
}

/// The seed's display: total, breakdown, assumed usage, notes, the
/// `CostEstimate` tag value and the approval line.
pub fn render_estimate(estimate: &CostEstimate, threshold: Money) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail; the results are ignored for brevity.
    let _ = writeln!(out, "💰 Cost Estimation:");
    let total = if estimate.known {
        estimate.monthly_usd.to_string()
    } else {
        format!("at least {} (not fully known)", estimate.monthly_usd)
    };
    let _ = writeln!(out, "   Monthly Cost: {total}");
    if !estimate.breakdown.is_empty() {
        let _ = writeln!(out, "   Breakdown:");
        for c in &estimate.breakdown {
            let _ = writeln!(
                out,
                "   - {}: {} @ {} = {}",
                c.name,
                quantity(c.monthly_quantity, &c.unit),
                price_text(c.price),
                cost_text(c.monthly_cost)
            );
        }
    }
    if !estimate.assumptions.is_empty() {
        let _ = writeln!(out, "   Assumed usage:");
        for a in &estimate.assumptions {
            let _ = writeln!(
                out,
                "   - {} = {} {} ({})",
                a.key,
                short(a.value),
                a.unit,
                a.source
            );
        }
    }
    if !estimate.notes.is_empty() {
        let _ = writeln!(out, "   Notes:");
        for n in &estimate.notes {
            let _ = writeln!(out, "   - {n}");
        }
    }
    let _ = writeln!(out, "   CostEstimate tag: {}", estimate.tag_value());
    let _ = writeln!(out);
    let _ = writeln!(out, "   {}", approval_line(estimate, threshold));
    out
}

/// An estimate for programs (the `estimate_cost` MCP tool, `--output
/// json`): the [`CostEstimate`] fields (`monthly_usd`, `breakdown` with
/// Infracost-shaped components, `assumptions`, `notes`, `known`) plus the
/// threshold, the decision and the `CostEstimate` tag value. Money is a
/// decimal string throughout.
pub fn estimate_json(estimate: &CostEstimate, threshold: Money) -> serde_json::Value {
    let mut value = serde_json::to_value(estimate).unwrap_or_else(
        |e| serde_json::json!({ "error": format!("cannot serialize estimate: {e}") }),
    );
    if let Some(object) = value.as_object_mut() {
        object.insert("threshold_usd".into(), serde_json::json!(threshold));
        object.insert(
            "threshold_decision".into(),
            serde_json::json!(threshold_decision(estimate, threshold)),
        );
        object.insert("tag_value".into(), serde_json::json!(estimate.tag_value()));
    }
    value
}

/// `730 hours`, or `10 × 1k requests` when the unit starts with a count.
fn quantity(q: Decimal, unit: &str) -> String {
    if unit.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{} × {unit}", short(q))
    } else {
        format!("{} {unit}", short(q))
    }
}

/// A unit price exactly, but with at least cents: `$0.10`, `$0.0000166667`.
fn price_text(price: Money) -> String {
    let exact = price.0.normalize();
    if exact.scale() < 2 {
        format!("${exact:.2}")
    } else {
        format!("${exact}")
    }
}

/// A component's cost in cents, except that a cost under a cent is shown
/// (to four decimals) rather than as a misleading `$0.00`.
fn cost_text(cost: Money) -> String {
    let cent = Decimal::new(1, 2);
    if !cost.0.is_zero() && cost.0.abs() < cent {
        format!("${}", cost.0.round_dp(4).normalize())
    } else {
        cost.to_string()
    }
}

/// At most six decimals, without trailing zeros: display only.
fn short(d: Decimal) -> String {
    d.round_dp(6).normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::CostComponent;

    fn est(usd: &str, known: bool) -> CostEstimate {
        CostEstimate {
            monthly_usd: Money::parse(usd).unwrap(),
            breakdown: vec![CostComponent {
                name: "PUT, COPY, POST, LIST requests".into(),
                unit: "1k requests".into(),
                monthly_quantity: Decimal::from(10),
                price: Money::parse("0.005").unwrap(),
                monthly_cost: Money::parse("0.05").unwrap(),
            }],
            assumptions: vec![],
            notes: vec![],
            known,
        }
    }

    #[test]
    fn threshold_is_inclusive_and_compared_in_cents() {
        let ten = Money::from_cents(1000);
        assert_eq!(
            threshold_decision(&est("9.99", true), ten),
            ThresholdDecision::AutoApproved
        );
        assert_eq!(
            threshold_decision(&est("10.00", true), ten),
            ThresholdDecision::RequiresApproval
        );
        assert_eq!(
            threshold_decision(&est("9.994", true), ten),
            ThresholdDecision::AutoApproved
        );
        // Shown as $10.00, so it is not "under $10".
        assert_eq!(
            threshold_decision(&est("9.995", true), ten),
            ThresholdDecision::RequiresApproval
        );
        assert_eq!(
            threshold_decision(&est("0.10", false), ten),
            ThresholdDecision::RequiresApproval
        );
    }

    #[test]
    fn json_adds_the_decision_and_tag_to_the_estimate() {
        let v = estimate_json(&est("26.78", true), Money::from_cents(1000));
        assert_eq!(v["monthly_usd"], "26.78");
        assert_eq!(v["threshold_usd"], "10.00");
        assert_eq!(v["threshold_decision"], "requires_approval");
        assert_eq!(v["tag_value"], "26.78 USD/month");
        assert_eq!(v["breakdown"][0]["monthlyQuantity"], "10");
        assert_eq!(v["breakdown"][0]["price"], "0.005");
    }

    #[test]
    fn display_has_the_seed_header_breakdown_tag_and_approval_line() {
        let ten = Money::from_cents(1000);
        let text = render_estimate(&est("0.05", true), ten);
        assert!(
            text.starts_with("💰 Cost Estimation:\n   Monthly Cost: $0.05\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "   - PUT, COPY, POST, LIST requests: 10 × 1k requests @ $0.005 = $0.05\n"
            ),
            "{text}"
        );
        assert!(text.contains("CostEstimate tag: 0.05 USD/month"), "{text}");
        assert_eq!(price_text(Money::parse("0.1").unwrap()), "$0.10");
        assert_eq!(
            price_text(Money::parse("0.0000166667").unwrap()),
            "$0.0000166667"
        );
        assert_eq!(cost_text(Money::parse("0.004").unwrap()), "$0.004");
        assert_eq!(cost_text(Money::parse("0.020833375").unwrap()), "$0.02");
        assert_eq!(cost_text(Money::ZERO), "$0.00");
        assert!(
            text.trim_end()
                .ends_with("✅ Auto-approved (<$10.00/month)"),
            "{text}"
        );
        let text = render_estimate(&est("26.78", true), ten);
        assert!(
            text.contains("⚠️ REQUIRES APPROVAL (≥$10.00/month): $26.78/month"),
            "{text}"
        );
        let text = render_estimate(&est("1", false), ten);
        assert!(
            text.contains("Monthly Cost: at least $1.00 (not fully known)"),
            "{text}"
        );
        assert!(text.contains("CostEstimate tag: unknown"), "{text}");
    }
}
