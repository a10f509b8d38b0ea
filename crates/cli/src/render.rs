//! How results reach people (tables, narrated plans) and programs (JSON).

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use infraguard_core::approval::Approval;
use infraguard_core::plan::{GateDecision, Plan};
use infraguard_engine::ProjectConfig;
use serde::Serialize;

pub fn error_chain(err: &anyhow::Error) -> String {
    let mut s = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
    }
    s
}

pub fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

/// A plan for people: template, explanation, findings, cost, gate, next step.
pub fn plan(plan: &Plan, config: &ProjectConfig) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Plan {}: {} {} `{}` in {}\n\n",
        plan.id,
        plan.operation,
        plan.type_name,
        plan.identifier.as_deref().unwrap_or("(generated name)"),
        plan.env
    ));
    s.push_str("📄 CloudFormation template\n");
    s.push_str(&plan.template.to_pretty_json());
    s.push_str("\n\n📝 Explanation\n");
    s.push_str(&plan.explanation);
    s.push_str("\n\n");
    s.push_str(&findings(plan));
    s.push('\n');
    s.push_str(&infraguard_cost::render_estimate(
        &plan.cost,
        config.cost_threshold,
    ));
    s.push_str("\n\n");
    s.push_str(&gate(plan));
    s
}

pub fn findings(plan: &Plan) -> String {
    let open = plan.open_findings().count();
    let status = if open == 0 { "PASSED" } else { "FAILED" };
    let mut s = format!(
        "🔒 Security scan: {status} ({} finding(s), {open} open)\n",
        plan.findings.len()
    );
    let mut sorted: Vec<_> = plan.findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in sorted {
        let mark = match &f.suppressed {
            Some(sup) => format!(" [suppressed by {}: {}]", sup.source, sup.reason),
            None => String::new(),
        };
        s.push_str(&format!(
            "   {:<8} {} {}{}\n            at {}: {}\n            fix: {}\n",
            f.severity.as_str(),
            f.rule,
            f.checkov_id
                .as_deref()
                .map(|c| format!("({c})"))
                .unwrap_or_default(),
            mark,
            f.path,
            f.message,
            f.remediation
        ));
    }
    s
}

pub fn gate(plan: &Plan) -> String {
    match plan.gate.decision {
        GateDecision::Auto => format!(
            "🚦 Gate: automatic approval. Next: infraguard apply {}",
            plan.id
        ),
        GateDecision::ApprovalRequired | GateDecision::Refused => {
            let head = if plan.gate.decision == GateDecision::Refused {
                "🚦 Gate: REFUSED unless a human approves this exact plan"
            } else {
                "🚦 Gate: a human must approve this plan"
            };
            let mut s = format!("{head}\n");
            for r in &plan.gate.reasons {
                s.push_str(&format!("   - {r}\n"));
            }
            if let Some(a) = &plan.gate.approval_id {
                s.push_str(&format!(
                    "   Next: a human runs `infraguard approve {a}` (or `infraguard deny {a}`), then `infraguard apply {}`",
                    plan.id
                ));
            }
            s
        }
    }
}

pub fn approvals(list: &[Approval]) -> String {
    if list.is_empty() {
        return "No approvals.".into();
    }
    table(
        &["approval", "status", "plan", "what", "reasons", "requested"],
        list.iter()
            .map(|a| {
                vec![
                    a.id.clone(),
                    a.status.as_str().into(),
                    a.plan_id.clone(),
                    a.summary.clone(),
                    a.reasons.join("\n"),
                    format!("{} by {}", a.requested_at, a.requested_by),
                ]
            })
            .collect(),
    )
}
