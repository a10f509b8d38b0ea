//! A test fixture, not a product: serves the approval page for one pending
//! approval over an in-memory backend, so that a real browser can be pointed
//! at it (tests/page/test_approval_page.py).
//!
//! ```text
//! page_fixture [--needs-code] [--decision-log FILE] [--level LEVEL]
//! ```
//!
//! Prints the page's URL on stdout, then serves until stdin closes. With
//! `--needs-code`, Approve is accepted only with the fixture's fixed code;
//! every decision asked for (accepted or refused) is appended to the
//! decision log as one JSON line.

use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use infraguard_guard::page::{
    ApprovalView, Decision, DecisionInput, FindingView, PageBackend, PageServer,
};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

const APPROVAL_ID: &str = "ap-3f9c2a71";

/// The one code the fixture accepts. Never printed: the browser test knows it.
const CODE: &str = "123456";

struct Fixture {
    view: Mutex<ApprovalView>,
    needs_code: bool,
    log: Option<PathBuf>,
}

impl Fixture {
    fn record(&self, input: &DecisionInput, outcome: &str, message: &str) {
        let Some(path) = &self.log else { return };
        let line = serde_json::json!({
            "approval_id": APPROVAL_ID,
            "decision": input.decision,
            "approver": input.approver,
            "code": input.code,
            "note": input.note,
            "outcome": outcome,
            "message": message,
        });
        let appended = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = appended {
            eprintln!("page_fixture: cannot append to {}: {e}", path.display());
        }
    }
}

impl PageBackend for Fixture {
    fn view(&self, approval_id: &str) -> Result<ApprovalView, String> {
        let view = self.view.lock().unwrap_or_else(|e| e.into_inner());
        if approval_id == view.approval_id {
            Ok(view.clone())
        } else {
            Err(format!("no approval {approval_id}"))
        }
    }

    fn decide(&self, approval_id: &str, input: &DecisionInput) -> Result<String, String> {
        let mut view = self.view.lock().unwrap_or_else(|e| e.into_inner());
        if approval_id != view.approval_id || view.status != "pending" {
            return Err(format!("approval {approval_id} is not pending"));
        }
        let answer = match input.decision {
            Decision::Approve if self.needs_code && input.code.as_deref() != Some(CODE) => Err(
                "Wrong code: the approver's code did not match, so nothing was approved. \
                 Check your authenticator and try again."
                    .to_owned(),
            ),
            Decision::Approve => {
                view.status = "approved".to_owned();
                Ok(format!(
                    "Approval {approval_id} granted; the plan is being applied."
                ))
            }
            Decision::Deny => {
                view.status = "denied".to_owned();
                Ok(format!(
                    "Approval {approval_id} denied; nothing will be changed."
                ))
            }
        };
        match &answer {
            Ok(message) => self.record(input, &view.status, message),
            Err(message) => self.record(input, "refused", message),
        }
        answer
    }

    fn needs_code(&self) -> bool {
        self.needs_code
    }
}

fn view(level: &str, expires_at: OffsetDateTime) -> ApprovalView {
    let template = serde_json::to_string_pretty(&serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "DocumentsBucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": "synthcoreai-documents-prod",
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": true,
                        "BlockPublicPolicy": false,
                        "IgnorePublicAcls": true,
                        "RestrictPublicBuckets": true
                    },
                    "Tags": [
                        {"Key": "Environment", "Value": "prod"},
                        {"Key": "ManagedBy", "Value": "infraguard"}
                    ]
                }
            }
        }
    }))
    .unwrap_or_default();
    ApprovalView {
        approval_id: APPROVAL_ID.to_owned(),
        plan_id: "plan-8d41e0b7".to_owned(),
        status: "pending".to_owned(),
        summary: "update AWS::S3::Bucket synthcoreai-documents-prod in prod ($0.02/month)"
            .to_owned(),
        reasons: vec![
            "prod write: every change in prod needs a human".to_owned(),
            "1 open finding of severity HIGH".to_owned(),
        ],
        env: "prod".to_owned(),
        operation: "update".to_owned(),
        type_name: "AWS::S3::Bucket".to_owned(),
        identifier: Some("synthcoreai-documents-prod".to_owned()),
        template,
        explanation: "Turns on versioning for the bucket synthcoreai-documents-prod, so \
                      overwritten and deleted objects can be recovered.\nThe public access \
                      block keeps BlockPublicPolicy off, as before."
            .to_owned(),
        findings: vec![
            FindingView {
                rule: "IG-S3-002".to_owned(),
                severity: "HIGH".to_owned(),
                title: "Public bucket policies are not blocked".to_owned(),
                path: "/Resources/DocumentsBucket/Properties/PublicAccessBlockConfiguration/BlockPublicPolicy".to_owned(),
                message: "BlockPublicPolicy is false: a bucket policy could make <script>alert('x')</script> objects public.".to_owned(),
                remediation: "Set BlockPublicPolicy to true.".to_owned(),
                suppressed: None,
            },
            FindingView {
                rule: "IG-S3-007".to_owned(),
                severity: "LOW".to_owned(),
                title: "No access logging".to_owned(),
                path: "/Resources/DocumentsBucket/Properties".to_owned(),
                message: "LoggingConfiguration is not set.".to_owned(),
                remediation: "Send access logs to a logging bucket.".to_owned(),
                suppressed: Some("by alice: access is logged by CloudTrail data events".to_owned()),
            },
        ],
        monthly_cost: "$0.02/month".to_owned(),
        cost_breakdown: vec![
            "S3 Standard storage: 1 GB x $0.023/GB-month = $0.02".to_owned(),
            "PUT requests: 1,000 x $0.005/1,000 = $0.01 (rounded into the total)".to_owned(),
        ],
        diff: Some(
            "- /VersioningConfiguration/Status: Suspended\n+ /VersioningConfiguration/Status: Enabled"
                .to_owned(),
        ),
        expires_at: Some(
            expires_at
                .format(&Rfc3339)
                .unwrap_or_else(|_| expires_at.to_string()),
        ),
        level: level.to_owned(),
        mfa_serial: (level == "aws-enforced")
            .then(|| "arn:aws:iam::222222222222:mfa/alice".to_owned()),
    }
}

fn main() {
    let mut needs_code = false;
    let mut log = None;
    let mut level = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--needs-code" => needs_code = true,
            "--decision-log" => log = args.next().map(PathBuf::from),
            "--level" => level = args.next(),
            other => {
                eprintln!(
                    "page_fixture: unknown argument {other:?}; usage: page_fixture [--needs-code] [--decision-log FILE] [--level LEVEL]"
                );
                std::process::exit(2);
            }
        }
    }
    let level = level.unwrap_or_else(|| if needs_code { "guarded" } else { "advisory" }.into());
    // Whole seconds, so the page shows a plain RFC 3339 time.
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    let expires_at = now + Duration::minutes(30);
    let fixture = Arc::new(Fixture {
        view: Mutex::new(view(&level, expires_at)),
        needs_code,
        log,
    });

    let run = || -> Result<PageServer, Box<dyn std::error::Error>> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let page = PageServer::start_thread(listener, fixture.clone())?;
        let url = page.url_for(APPROVAL_ID, Some(expires_at))?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{url}")?;
        out.flush()?;
        Ok(page)
    };
    let page = match run() {
        Ok(page) => page,
        Err(e) => {
            eprintln!("page_fixture: {e}");
            std::process::exit(1);
        }
    };
    // Serve until whoever started us closes our stdin.
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
    }
    page.shutdown();
}
