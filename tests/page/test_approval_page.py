"""The approval page in a real browser: headless Debian Chromium driven by
Playwright (the pip wheel's bundled driver; no browser download).

What it checks: the page renders the plan readably (a screenshot is saved to
target/page-screenshots/), plan content shows as text and never runs, and a
person can decide with the keyboard alone: the code field has focus, Enter
approves, Tab reaches Deny.

Everything that depends on what serves the page is in the `approval_page`
fixture: today the `page_fixture` example of the guard crate (an in-memory
backend); pointing these tests at the real `infraguard` binary means
replacing that one fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "target" / "page-screenshots"


@dataclass
class ApprovalPage:
    """One pending approval's page, as the tests see it."""

    url: str
    #: A code the backend accepts for Approve ("" when no code is needed).
    code: str
    #: A code it refuses.
    wrong_code: str
    #: Every decision the backend was asked for, oldest first:
    #: dicts with at least "decision", "code" and "outcome".
    decisions: Callable[[], list[dict]]


# ---------- what serves the page (the only part tied to the fixture binary) ----------


@pytest.fixture(scope="session")
def page_fixture_bin() -> Path:
    given = os.environ.get("PAGE_FIXTURE_BIN")
    if given:
        return Path(given)
    subprocess.run(
        ["cargo", "build", "--quiet", "-p", "infraguard-guard", "--example", "page_fixture"],
        cwd=ROOT,
        check=True,
    )
    return ROOT / "target" / "debug" / "examples" / "page_fixture"


@pytest.fixture
def approval_page(page_fixture_bin: Path, tmp_path: Path) -> Iterator[Callable[..., ApprovalPage]]:
    """Starts the fixture server for one pending approval; stops it at the end."""
    started: list[subprocess.Popen] = []

    def start(needs_code: bool = True) -> ApprovalPage:
        log = tmp_path / f"decisions-{len(started)}.jsonl"
        args = [str(page_fixture_bin), "--decision-log", str(log)]
        if needs_code:
            args.append("--needs-code")
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        started.append(proc)
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), f"no URL from the fixture: {url!r} {proc.stderr.read() if proc.poll() is not None else ''}"

        def decisions() -> list[dict]:
            if not log.exists():
                return []
            return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

        return ApprovalPage(
            url=url,
            code="123456" if needs_code else "",
            wrong_code="000000",
            decisions=decisions,
        )

    yield start
    for proc in started:
        # The fixture exits when its stdin closes.
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && (document.activeElement.id || document.activeElement.textContent)")


# ---------- the tests ----------


def test_the_page_renders_the_plan_readably(approval_page, page):
    ap = approval_page(needs_code=True)
    response = page.goto(ap.url)
    assert response.status == 200
    headers = response.headers
    assert headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "approval.png"), full_page=True)

    expect(page.locator("h1")).to_have_text(
        "update AWS::S3::Bucket synthcoreai-documents-prod in prod ($0.02/month)"
    )
    for text in [
        "guarded",
        "Why a human is needed",
        "prod write: every change in prod needs a human",
        "S3 Standard storage: 1 GB x $0.023/GB-month = $0.02",
        "+ /VersioningConfiguration/Status: Enabled",
        "- /VersioningConfiguration/Status: Suspended",
        "Public bucket policies are not blocked",
        "by alice: access is logged by CloudTrail data events",
    ]:
        expect(page.get_by_text(text, exact=False).first).to_be_visible()
    expect(page.locator("pre.template")).to_contain_text('"BucketName": "synthcoreai-documents-prod"')
    # The finding's <script> is shown as text, not run.
    expect(page.locator("table.findings")).to_contain_text("<script>alert('x')</script>")
    assert page.locator("script").count() == 0
    expect(page.locator("table.findings tbody tr")).to_have_count(2)

    # Labels name every field, and the code field has focus from the start.
    expect(page.get_by_label("Approver code")).to_have_attribute("inputmode", "numeric")
    expect(page.get_by_label("Approver code")).to_have_attribute("autocomplete", "one-time-code")
    expect(page.get_by_label("Approver name")).to_be_visible()
    expect(page.get_by_label("Note (optional)")).to_be_visible()
    expect(page.get_by_label("Approver code")).to_be_focused()


def test_keyboard_only_approve_with_the_code(approval_page, page):
    ap = approval_page(needs_code=True)
    page.goto(ap.url)
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(ap.code)
    page.keyboard.press("Tab")
    assert focused_id(page) == "approver"
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    assert focused_id(page) == "note"
    page.keyboard.type("versioning, as agreed")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Approved")
    expect(page.get_by_text("granted; the plan is being applied")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "approved.png"), full_page=True)
    [decision] = ap.decisions()
    assert decision["decision"] == "approve"
    assert decision["code"] == ap.code
    assert decision["approver"] == "alice"
    assert decision["note"] == "versioning, as agreed"
    assert decision["outcome"] == "approved"

    # The page is single-use.
    again = page.goto(ap.url)
    assert again.status == 410
    expect(page.locator("h1")).to_have_text("This approval page is gone")


def test_a_wrong_code_is_refused_in_words(approval_page, page):
    ap = approval_page(needs_code=True)
    page.goto(ap.url)
    # Autofocus lands after load; a person would see the caret there.
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(ap.wrong_code)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Not approved")
    expect(page.get_by_text("Wrong code")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "refused.png"), full_page=True)
    [decision] = ap.decisions()
    assert decision["decision"] == "approve"
    assert decision["code"] == ap.wrong_code
    assert decision["outcome"] == "refused"

    # The way back is a link, reachable by keyboard, and the page still works.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Back to the approval")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#code")).to_be_focused()


def test_a_short_code_is_stopped_by_the_browser_before_sending(approval_page, page):
    ap = approval_page(needs_code=True)
    page.goto(ap.url)
    # Autofocus lands after load; a person would see the caret there.
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert page.url == ap.url, "the form was not sent"
    assert ap.decisions() == []


def test_keyboard_only_deny(approval_page, page):
    ap = approval_page(needs_code=True)
    page.goto(ap.url)
    expect(page.locator("#code")).to_be_focused()
    # Tab order: code, approver, note, Approve, Deny.
    order = []
    for _ in range(4):
        page.keyboard.press("Tab")
        order.append(focused_id(page))
    assert order == ["approver", "note", "Approve", "Deny"]
    # The focused button shows a visible outline.
    outline = page.locator("button.deny").evaluate("b => getComputedStyle(b).outlineStyle")
    assert outline == "solid"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Denied")
    [decision] = ap.decisions()
    assert decision["decision"] == "deny"
    assert decision["code"] is None
    assert decision["outcome"] == "denied"


def test_without_a_code_enter_in_the_note_approves(approval_page, page):
    ap = approval_page(needs_code=False)
    page.goto(ap.url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "approval-advisory.png"), full_page=True)
    # At the advisory level the page says the decision is unverified.
    expect(page.locator(".level-note")).to_contain_text("unverified")
    assert page.locator("#code").count() == 0
    page.keyboard.press("Tab")
    assert focused_id(page) == "note"
    page.keyboard.type("fine")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Approved")
    [decision] = ap.decisions()
    assert decision["decision"] == "approve"
    assert decision["note"] == "fine"
