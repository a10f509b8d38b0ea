//! The approval page over real HTTP on 127.0.0.1, with a fake backend that
//! records every call: what the page shows, what it refuses before the
//! backend hears of it, and what reaches `decide`.
//!
//! The client is raw HTTP/1.1 over a std `TcpStream`, so a test reads exactly
//! the bytes a browser would get.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use infraguard_guard::page::{
    ApprovalView, Decision, DecisionInput, FindingView, PageBackend, PageError, PageOptions,
    PageServer,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const START: OffsetDateTime = datetime!(2026-12-02 08:00 UTC);

// ---------- the fake backend ----------

struct Fake {
    view: Mutex<ApprovalView>,
    needs_code: bool,
    /// What `decide` answers; `Ok` also closes the approval.
    answer: Mutex<Result<String, String>>,
    /// A refusal also closes the approval (as a lockout would).
    refusal_locks: Mutex<bool>,
    calls: Mutex<Vec<(String, DecisionInput)>>,
}

impl Fake {
    fn new(view: ApprovalView, needs_code: bool) -> Arc<Fake> {
        Arc::new(Fake {
            view: Mutex::new(view),
            needs_code,
            answer: Mutex::new(Ok("approved; the plan is being applied".to_owned())),
            refusal_locks: Mutex::new(false),
            calls: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> Vec<(String, DecisionInput)> {
        self.calls.lock().unwrap().clone()
    }

    fn answer(&self, answer: Result<&str, &str>) {
        *self.answer.lock().unwrap() = answer.map(str::to_owned).map_err(str::to_owned);
    }
}

impl PageBackend for Fake {
    fn view(&self, approval_id: &str) -> Result<ApprovalView, String> {
        let view = self.view.lock().unwrap().clone();
        if view.approval_id == approval_id {
            Ok(view)
        } else {
            Err(format!("no approval {approval_id}"))
        }
    }

    fn decide(&self, approval_id: &str, input: &DecisionInput) -> Result<String, String> {
        self.calls
            .lock()
            .unwrap()
            .push((approval_id.to_owned(), input.clone()));
        let answer = self.answer.lock().unwrap().clone();
        if answer.is_ok() {
            self.view.lock().unwrap().status = match input.decision {
                Decision::Approve => "approved".to_owned(),
                Decision::Deny => "denied".to_owned(),
            };
        } else if *self.refusal_locks.lock().unwrap() {
            self.view.lock().unwrap().status = "denied".to_owned();
        }
        answer
    }

    fn needs_code(&self) -> bool {
        self.needs_code
    }
}

fn view() -> ApprovalView {
    ApprovalView {
        approval_id: "ap-7f3a".to_owned(),
        plan_id: "plan-19c2".to_owned(),
        status: "pending".to_owned(),
        summary: "update AWS::S3::Bucket synthcoreai-documents-prod in prod ($0.02/month)".to_owned(),
        reasons: vec!["prod write".to_owned(), "1 open finding (HIGH)".to_owned()],
        env: "prod".to_owned(),
        operation: "update".to_owned(),
        type_name: "AWS::S3::Bucket".to_owned(),
        identifier: Some("synthcoreai-documents-prod".to_owned()),
        template: "{\n  \"Resources\": {\n    \"Bucket\": {\n      \"Type\": \"AWS::S3::Bucket\"\n    }\n  }\n}".to_owned(),
        explanation: "Turns on versioning for the documents bucket.".to_owned(),
        findings: vec![FindingView {
            rule: "S3_PUBLIC_ACCESS".to_owned(),
            severity: "HIGH".to_owned(),
            title: "Public access block is off".to_owned(),
            path: "/Resources/Bucket/Properties/PublicAccessBlockConfiguration".to_owned(),
            message: "The bucket can be made public.".to_owned(),
            remediation: "Set all four PublicAccessBlockConfiguration flags to true.".to_owned(),
            suppressed: None,
        }],
        monthly_cost: "$0.02/month".to_owned(),
        cost_breakdown: vec!["storage: 1 GB x $0.023/GB-month = $0.02".to_owned()],
        diff: Some("- /VersioningConfiguration/Status: Suspended\n+ /VersioningConfiguration/Status: Enabled".to_owned()),
        expires_at: None,
        level: "guarded".to_owned(),
        mfa_serial: None,
    }
}

// ---------- the harness ----------

/// A clock the test moves by hand.
#[derive(Clone, Default)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.whole_seconds(), Ordering::SeqCst);
    }

    fn options(&self) -> PageOptions {
        let offset = Arc::clone(&self.0);
        PageOptions {
            clock: Arc::new(move || START + Duration::seconds(offset.load(Ordering::SeqCst))),
        }
    }
}

struct Harness {
    page: PageServer,
    fake: Arc<Fake>,
    clock: TestClock,
}

impl Harness {
    fn new(view: ApprovalView, needs_code: bool) -> Harness {
        let fake = Fake::new(view, needs_code);
        let clock = TestClock::default();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let backend: Arc<dyn PageBackend> = fake.clone();
        let page = PageServer::start_thread_with(listener, backend, clock.options()).unwrap();
        Harness { page, fake, clock }
    }

    fn addr(&self) -> SocketAddr {
        self.page.local_addr()
    }

    /// The page's path for the fake's approval.
    fn path(&self) -> String {
        let url = self.page.url_for("ap-7f3a", None).unwrap();
        let prefix = format!("http://{}", self.addr());
        url.strip_prefix(&prefix).unwrap().to_owned()
    }

    fn get(&self, path: &str) -> Reply {
        http(self.addr(), "GET", path, &[], b"")
    }

    fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = form(fields);
        http(
            self.addr(),
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of the hidden CSRF field.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a csrf field")
            + 19;
        let len = self.body[at..].find('"').unwrap();
        self.body[at..at + len].to_owned()
    }
}

fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    http_with_host(addr, &addr.to_string(), method, path, headers, body)
}

fn http_with_host(
    addr: SocketAddr,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) and close before reading all of a large
    // body; the answer is what the test checks.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let raw = String::from_utf8(raw).expect("a UTF-8 answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn assert_security_headers(reply: &Reply) {
    assert_eq!(
        reply.header("Content-Security-Policy"),
        Some("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
        "{reply:?}"
    );
    assert_eq!(reply.header("X-Frame-Options"), Some("DENY"));
    assert_eq!(reply.header("Referrer-Policy"), Some("no-referrer"));
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
}

// ---------- the tests ----------

#[test]
fn the_url_is_loopback_unguessable_and_reused_for_the_same_approval() {
    let h = Harness::new(view(), true);
    let url = h.page.url_for("ap-7f3a", None).unwrap();
    let prefix = format!("http://127.0.0.1:{}/a/", h.addr().port());
    let token = url.strip_prefix(&prefix).expect("a loopback URL");
    assert!(token.len() >= 32, "at least 128 bits: {token}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(h.page.url_for("ap-7f3a", None).unwrap(), url);
}

#[test]
fn url_for_refuses_unknown_and_closed_approvals() {
    let h = Harness::new(view(), true);
    let err = h.page.url_for("ap-nope", None).unwrap_err();
    assert!(matches!(err, PageError::Approval { .. }), "{err}");
    assert!(err.to_string().contains("ap-nope"), "{err}");

    h.fake.view.lock().unwrap().status = "approved".to_owned();
    let err = h.page.url_for("ap-7f3a", None).unwrap_err();
    assert!(matches!(err, PageError::NotPending { .. }), "{err}");

    h.fake.view.lock().unwrap().status = "pending".to_owned();
    let err = h
        .page
        .url_for("ap-7f3a", Some(START - Duration::minutes(1)))
        .unwrap_err();
    assert!(matches!(err, PageError::Expired { .. }), "{err}");
}

#[test]
fn unknown_paths_are_404_with_the_same_headers() {
    let h = Harness::new(view(), true);
    let _live = h.path();
    for path in [
        "/",
        "/a/",
        "/a/0123456789abcdef0123456789abcdef",
        "/favicon.ico",
    ] {
        let reply = h.get(path);
        assert_eq!(reply.status, 404, "{path}: {reply:?}");
        assert_security_headers(&reply);
        assert!(
            !reply.body.contains("ap-7f3a"),
            "{path} shows nothing of an approval"
        );
    }
    let reply = h.post_form(
        "/a/0123456789abcdef0123456789abcdef",
        &[("decision", "approve")],
    );
    assert_eq!(reply.status, 404);
    assert!(h.fake.calls().is_empty());
}

#[test]
fn the_page_shows_the_whole_plan_with_security_headers() {
    let mut v = view();
    v.expires_at = Some("2026-12-02T09:00:00Z".to_owned());
    let h = Harness::new(v, true);
    let reply = h.get(&h.path());
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_security_headers(&reply);
    assert_eq!(
        reply.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    // Paths carry <wbr> after each slash, to break there.
    let body = &reply.body.replace("<wbr>", "");
    for shown in [
        "update AWS::S3::Bucket synthcoreai-documents-prod in prod ($0.02/month)",
        "guarded",
        "prod write",
        "1 open finding (HIGH)",
        "&quot;Resources&quot;",
        "Turns on versioning for the documents bucket.",
        "S3_PUBLIC_ACCESS",
        "Public access block is off",
        "/Resources/Bucket/Properties/PublicAccessBlockConfiguration",
        "Set all four PublicAccessBlockConfiguration flags to true.",
        "$0.02/month",
        "storage: 1 GB x $0.023/GB-month = $0.02",
        "- /VersioningConfiguration/Status: Suspended",
        "+ /VersioningConfiguration/Status: Enabled",
        "2026-12-02T09:00:00Z",
        ">Approve</button>",
        ">Deny</button>",
    ] {
        assert!(body.contains(shown), "the page shows {shown:?}:\n{body}");
    }
    assert!(!body.contains("<script"), "no script on the page");
    assert!(!body.contains("src=\"http"), "no external asset");
}

#[test]
fn plan_content_cannot_inject_markup() {
    let mut v = view();
    let evil_bucket = "docs\"><img src=x onerror=alert(1)>";
    v.summary = format!("create AWS::S3::Bucket {evil_bucket} in prod");
    v.identifier = Some(evil_bucket.to_owned());
    v.template = format!("{{\"BucketName\": \"{evil_bucket}</pre><script>alert(2)</script>\"}}");
    v.reasons = vec!["<b>bold</b> reason".to_owned()];
    v.findings[0].message = "<script>alert('finding')</script>".to_owned();
    v.findings[0].severity = "HIGH\" onmouseover=\"alert(3)".to_owned();
    v.findings[0].suppressed = Some("<i>accepted</i>".to_owned());
    v.diff = Some(format!("+ /BucketName: {evil_bucket}"));
    v.cost_breakdown = vec!["<u>storage</u>".to_owned()];
    v.level = "advisory\"><script>alert(4)</script>".to_owned();
    let h = Harness::new(v, true);
    let body = h.get(&h.path()).body;
    for forbidden in [
        "<script",
        "<img",
        "<b>bold",
        "<i>accepted",
        "<u>storage",
        "onmouseover=\"alert",
    ] {
        assert!(
            !body.contains(forbidden),
            "{forbidden:?} reached the page:\n{body}"
        );
    }
    assert!(body.contains("&lt;script&gt;alert(&#39;finding&#39;)&lt;/script&gt;"));
    assert!(body.contains("docs&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn the_code_fields_appear_only_when_the_backend_needs_a_code() {
    let h = Harness::new(view(), true);
    let body = h.get(&h.path()).body;
    for part in [
        "<label for=\"code\">",
        "id=\"code\" name=\"code\"",
        "inputmode=\"numeric\"",
        "autocomplete=\"one-time-code\"",
        "autofocus",
        "<label for=\"approver\">",
        "id=\"approver\"",
        "<label for=\"note\">",
    ] {
        assert!(body.contains(part), "{part:?} on a page that needs a code");
    }
    // Approve comes first, so Enter in a field approves; Deny needs no code.
    let approve = body.find("value=\"approve\"").unwrap();
    let deny = body.find("value=\"deny\"").unwrap();
    assert!(approve < deny);
    assert!(body[deny..].starts_with("value=\"deny\" formnovalidate"));
    // The code field comes first in the tab order, where focus starts.
    assert!(body.find("id=\"code\"").unwrap() < body.find("id=\"approver\"").unwrap());

    let h = Harness::new(view(), false);
    let body = h.get(&h.path()).body;
    assert!(!body.contains("name=\"code\""));
    assert!(!body.contains("name=\"approver\""));
    assert!(body.contains("<label for=\"note\">"));
}

#[test]
fn a_decision_reaches_the_backend_with_the_typed_fields_then_the_page_is_gone() {
    let h = Harness::new(view(), true);
    let path = h.path();
    let csrf = h.get(&path).csrf();
    let reply = h.post_form(
        &path,
        &[
            ("csrf", &csrf),
            ("code", " 123456 "),
            ("approver", "alice"),
            ("note", "ship it ✓ & done"),
            ("decision", "approve"),
        ],
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_security_headers(&reply);
    assert!(reply.body.contains("Approved"));
    assert!(reply.body.contains("approved; the plan is being applied"));
    assert_eq!(
        h.fake.calls(),
        vec![(
            "ap-7f3a".to_owned(),
            DecisionInput {
                decision: Decision::Approve,
                approver: Some("alice".to_owned()),
                code: Some("123456".to_owned()),
                note: Some("ship it ✓ & done".to_owned()),
            }
        )]
    );

    let again = h.get(&path);
    assert_eq!(again.status, 410, "{again:?}");
    assert!(again.body.contains("already decided"));
    let replay = h.post_form(
        &path,
        &[("csrf", &csrf), ("decision", "approve"), ("code", "123456")],
    );
    assert_eq!(replay.status, 410);
    assert_eq!(h.fake.calls().len(), 1, "a used page decides nothing");
}

#[test]
fn deny_needs_no_code_and_empty_fields_are_none() {
    let h = Harness::new(view(), true);
    h.fake.answer(Ok("denied"));
    let path = h.path();
    let csrf = h.get(&path).csrf();
    let reply = h.post_form(
        &path,
        &[
            ("csrf", &csrf),
            ("code", ""),
            ("approver", ""),
            ("note", ""),
            ("decision", "deny"),
        ],
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.body.contains("Denied"));
    assert_eq!(
        h.fake.calls()[0].1,
        DecisionInput {
            decision: Decision::Deny,
            approver: None,
            code: None,
            note: None
        }
    );
}

#[test]
fn a_refusal_is_shown_in_words_and_the_page_stays_open() {
    let h = Harness::new(view(), true);
    h.fake.answer(Err("wrong code for alice; 4 tries left"));
    let path = h.path();
    let csrf = h.get(&path).csrf();
    let reply = h.post_form(
        &path,
        &[("csrf", &csrf), ("code", "000000"), ("decision", "approve")],
    );
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(reply.body.contains("Not approved"));
    assert!(reply.body.contains("wrong code for alice; 4 tries left"));
    assert!(
        reply.body.contains(&format!("href=\"{path}\"")),
        "a way back"
    );
    assert_eq!(h.get(&path).status, 200, "still open after a refusal");
    assert_eq!(h.fake.calls().len(), 1);
}

#[test]
fn a_refusal_that_closes_the_approval_closes_the_page() {
    let h = Harness::new(view(), true);
    h.fake.answer(Err("locked after 5 wrong codes"));
    let path = h.path();
    let csrf = h.get(&path).csrf();
    // The backend locks the approval as it refuses.
    *h.fake.refusal_locks.lock().unwrap() = true;
    let reply = h.post_form(
        &path,
        &[("csrf", &csrf), ("code", "000000"), ("decision", "approve")],
    );
    assert_eq!(reply.status, 403);
    assert!(reply.body.contains("locked after 5 wrong codes"));
    assert_eq!(h.get(&path).status, 410);
}

#[test]
fn a_wrong_or_missing_csrf_token_never_reaches_the_backend() {
    let h = Harness::new(view(), true);
    let path = h.path();
    let csrf = h.get(&path).csrf();
    let mut wrong = csrf.clone();
    wrong.replace_range(0..1, if csrf.starts_with('0') { "1" } else { "0" });
    for fields in [
        vec![
            ("csrf", wrong.as_str()),
            ("decision", "approve"),
            ("code", "123456"),
        ],
        vec![("decision", "approve"), ("code", "123456")],
        vec![("csrf", ""), ("decision", "deny")],
    ] {
        let reply = h.post_form(&path, &fields);
        assert_eq!(reply.status, 403, "{fields:?}: {reply:?}");
        assert!(reply.body.contains("did not come from this page"));
    }
    assert!(h.fake.calls().is_empty());
    assert_eq!(h.get(&path).status, 200, "the page still works");
}

#[test]
fn only_small_form_bodies_are_read() {
    let h = Harness::new(view(), true);
    let path = h.path();
    let csrf = h.get(&path).csrf();
    let body = form(&[("csrf", &csrf), ("decision", "approve")]);

    let json = http(
        h.addr(),
        "POST",
        &path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(json.status, 415, "{json:?}");
    assert!(json.body.contains("application/x-www-form-urlencoded"));
    let none = http(h.addr(), "POST", &path, &[], body.as_bytes());
    assert_eq!(none.status, 415);

    let big = format!("{body}&note={}", "x".repeat(64 * 1024));
    let reply = http(
        h.addr(),
        "POST",
        &path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        big.as_bytes(),
    );
    assert_eq!(reply.status, 413, "{reply:?}");

    let bad = h.post_form(&path, &[("csrf", &csrf), ("decision", "maybe")]);
    assert_eq!(bad.status, 400);
    assert!(h.fake.calls().is_empty());
}

#[test]
fn an_expired_page_is_gone_and_decides_nothing() {
    let h = Harness::new(view(), true);
    let url = h
        .page
        .url_for("ap-7f3a", Some(START + Duration::minutes(5)))
        .unwrap();
    let path = url
        .split_once("/a/")
        .map(|(_, t)| format!("/a/{t}"))
        .unwrap();
    let csrf = h.get(&path).csrf();
    h.clock.advance(Duration::minutes(6));
    let reply = h.post_form(
        &path,
        &[("csrf", &csrf), ("decision", "approve"), ("code", "123456")],
    );
    assert_eq!(reply.status, 410, "{reply:?}");
    assert!(reply.body.contains("expired"));
    assert_eq!(h.get(&path).status, 410);
    assert!(h.fake.calls().is_empty());
}

#[test]
fn the_approvals_own_expiry_counts_too() {
    let mut v = view();
    v.expires_at = Some("2026-12-02T08:10:00Z".to_owned());
    let h = Harness::new(v, true);
    let path = h.path();
    assert_eq!(h.get(&path).status, 200);
    h.clock.advance(Duration::minutes(11));
    assert_eq!(h.get(&path).status, 410);
}

#[test]
fn an_approval_decided_elsewhere_or_revoked_is_gone() {
    let h = Harness::new(view(), true);
    let path = h.path();
    h.fake.view.lock().unwrap().status = "approved".to_owned();
    let reply = h.get(&path);
    assert_eq!(reply.status, 410);
    assert!(reply.body.contains("it is approved"));

    let h = Harness::new(view(), true);
    let path = h.path();
    h.page.revoke("ap-7f3a");
    assert_eq!(h.get(&path).status, 410);

    // Shown while pending, decided elsewhere before the person submits.
    let h = Harness::new(view(), true);
    let path = h.path();
    let csrf = h.get(&path).csrf();
    h.fake.view.lock().unwrap().status = "denied".to_owned();
    let reply = h.post_form(
        &path,
        &[("csrf", &csrf), ("decision", "approve"), ("code", "123456")],
    );
    assert_eq!(reply.status, 410, "{reply:?}");
    assert!(reply.body.contains("it is denied"));
    assert!(h.fake.calls().is_empty());
}

#[test]
fn another_host_name_is_refused() {
    let h = Harness::new(view(), true);
    let path = h.path();
    let reply = http_with_host(h.addr(), "evil.example:80", "GET", &path, &[], b"");
    assert_eq!(reply.status, 421, "{reply:?}");
    assert!(!reply.body.contains("ap-7f3a"));
    let local = http_with_host(
        h.addr(),
        &format!("localhost:{}", h.addr().port()),
        "GET",
        &path,
        &[],
        b"",
    );
    assert_eq!(local.status, 200);
}

#[test]
fn start_runs_on_the_callers_runtime_and_needs_one() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let backend: Arc<dyn PageBackend> = Fake::new(view(), false);
    let err = PageServer::start(listener, Arc::clone(&backend)).unwrap_err();
    assert!(matches!(err, PageError::NoRuntime), "{err}");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let page = runtime
        .block_on(async { PageServer::start(listener, backend) })
        .unwrap();
    let url = page.url_for("ap-7f3a", None).unwrap();
    let path = url
        .split_once("/a/")
        .map(|(_, t)| format!("/a/{t}"))
        .unwrap();
    let reply = http(page.local_addr(), "GET", &path, &[], b"");
    assert_eq!(reply.status, 200);

    page.shutdown();
}

#[test]
fn after_shutdown_the_port_is_closed() {
    let h = Harness::new(view(), true);
    let addr = h.addr();
    h.page.shutdown();
    assert!(
        TcpStream::connect(addr).is_err(),
        "nothing listens on {addr}"
    );
}

#[test]
fn the_server_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<PageServer>();
}

/// A backend whose `decide` waits until the test lets it go.
struct Slow {
    entered: Mutex<std::sync::mpsc::Sender<()>>,
    release: Mutex<std::sync::mpsc::Receiver<()>>,
    calls: Mutex<usize>,
}

impl PageBackend for Slow {
    fn view(&self, _approval_id: &str) -> Result<ApprovalView, String> {
        Ok(view())
    }

    fn decide(&self, _approval_id: &str, _input: &DecisionInput) -> Result<String, String> {
        *self.calls.lock().unwrap() += 1;
        self.entered.lock().unwrap().send(()).unwrap();
        self.release.lock().unwrap().recv().unwrap();
        Ok("approved".to_owned())
    }

    fn needs_code(&self) -> bool {
        false
    }
}

#[test]
fn a_second_decision_while_one_is_being_recorded_waits_its_turn() {
    let (entered_tx, entered) = std::sync::mpsc::channel();
    let (release, release_rx) = std::sync::mpsc::channel();
    let slow = Arc::new(Slow {
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
        calls: Mutex::new(0),
    });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let page = PageServer::start_thread(listener, slow.clone()).unwrap();
    let addr = page.local_addr();
    let url = page.url_for("ap-7f3a", None).unwrap();
    let path = url
        .split_once("/a/")
        .map(|(_, t)| format!("/a/{t}"))
        .unwrap();
    let csrf = http(addr, "GET", &path, &[], b"").csrf();
    let body = form(&[("csrf", &csrf), ("decision", "approve")]);
    let content_type = [("Content-Type", "application/x-www-form-urlencoded")];

    let first = {
        let (path, body) = (path.clone(), body.clone());
        std::thread::spawn(move || http(addr, "POST", &path, &content_type, body.as_bytes()))
    };
    entered.recv().unwrap();
    let second = http(addr, "POST", &path, &content_type, body.as_bytes());
    assert_eq!(second.status, 409, "{second:?}");
    release.send(()).unwrap();
    assert_eq!(first.join().unwrap().status, 200);
    assert_eq!(*slow.calls.lock().unwrap(), 1);
}
