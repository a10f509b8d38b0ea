"""The approval page of an `aws-enforced` environment, in a real browser,
reached the way an agent reaches it: over MCP.

What runs, all on 127.0.0.1: the stand-in AWS of tests/aws (STS checks the
approver's MFA code against a TOTP secret only this test knows; Cloud
Control refuses writes the caller's policies do not allow), `infraguard
serve --env prod` started by a real MCP client (the Python SDK) with the
agent's read-only key, and headless Debian Chromium driven by Playwright.

The agent asks for a prod write: it gets a pending approval and the page's
URL, and no elicitation asks anything (form-mode elicitation never carries
the code). The person opens the page: it asks for the AWS MFA code of the
role's device, a wrong code is AWS's AccessDenied in words, and the right
one applies exactly that plan with the session it opens. The stand-in's
request log shows which calls reached Cloud Control, signed by whom. The
stand-in follows AWS's documented behaviour; it was not run against AWS.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "aws"))
sys.path.insert(0, str(HERE.parent / "mcp"))
from test_aws_enforced import MFA, S3, Stack, code_now, wrong_code  # noqa: E402

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

from page_harness import SCREENSHOTS  # noqa: E402  (the browser and page fixtures come from conftest.py)


class Recorder:
    """The agent's MCP client's user: records every question, accepts all."""

    def __init__(self) -> None:
        self.asked: list[dict] = []

    async def __call__(self, context, params):
        from mcp.types import ElicitResult

        self.asked.append({"mode": getattr(params, "mode", "form") or "form",
                           "message": getattr(params, "message", "")})
        return ElicitResult(action="accept", content={"note": "ok", "code": "123456"})


@pytest.fixture
def stack(tmp_path: Path):
    s = Stack(tmp_path)
    yield s
    s.close()


class Agent:
    """The agent's MCP session, on a thread of its own (Playwright's sync
    API holds an event loop on the test's thread). It walks the chain for a
    bucket in prod and calls create_resource twice (an eager agent
    retries), then keeps the server, and so its approval page, up until
    the test has used the page; then it retries once more and stops."""

    def __init__(self, stack: Stack, name: str, user: Recorder):
        import threading

        self.stack, self.name, self.user = stack, name, user
        self.results: list[dict] = []
        self.after: dict = {}
        self.asked_twice = threading.Event()
        self.page_done = threading.Event()
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        if not self.asked_twice.wait(120) or self.failure:
            self.finish()
            raise AssertionError("the agent's MCP session did not get as far as the approval")

    def _run(self) -> None:
        try:
            anyio.run(self._session)
        except BaseException as e:  # re-raised on the test's thread
            self.failure.append(e)
            self.asked_twice.set()

    async def _session(self) -> None:
        from mcp import Client, StdioServerParameters
        from mcp_harness import session, walk

        stack = self.stack
        server = StdioServerParameters(command=stack.bin, args=["-C", str(stack.project), "serve", "--env", "prod"],
                                       env=stack.env(), cwd=str(stack.project))
        async with Client(server, mode="legacy", elicitation_callback=self.user) as client:
            creds = await session(client, {"environment": "prod"})
            chain = await walk(client, creds, S3, {"environment": "prod"}, properties={"BucketName": self.name})
            for _ in range(2):
                self.results.append(result(await client.call_tool(
                    "create_resource", chain.mutation_args(environment="prod"))))
            self.asked_twice.set()
            await anyio.to_thread.run_sync(self.page_done.wait, 300)
            self.after = result(await client.call_tool("create_resource", chain.mutation_args(environment="prod")))

    def finish(self) -> dict:
        """Lets the agent retry once more; its answer."""
        self.page_done.set()
        self.thread.join(180)
        if self.failure:
            raise self.failure[0]
        return self.after


def result(r) -> dict:
    return {"error": r.is_error, "text": r.content[0].text if r.content else "", "data": r.structured_content or {}}


def test_the_agent_gets_a_page_and_the_person_applies_the_plan_there_with_the_mfa_code(stack: Stack, page):
    user = Recorder()
    agent = Agent(stack, "acme-paged-prod", user)
    results = agent.results

    # The agent got a pending approval and the page, nothing applied, and
    # nothing asked it for a code (no form the client could fill in).
    [pending] = stack.json("approvals")
    for r in results:
        assert r["data"].get("status") != "SUCCESS", r
        assert pending["id"] in r["text"], r
        assert "AWS MFA" in r["text"], r["text"]
    url = results[-1]["data"].get("approval_page", "")
    assert url.startswith("http://127.0.0.1:"), results[-1]
    assert [a for a in user.asked if a["mode"] == "form"] == [], user.asked
    assert stack.writes() == []
    assert [r for r in stack.requests() if r["action"] == "AssumeRole"] == []

    # The page asks for the AWS MFA code of the role's device, not an approver.
    response = page.goto(url)
    assert response.status == 200
    expect(page.locator(".level-note")).to_contain_text("AWS-enforced")
    expect(page.get_by_label("AWS MFA code")).to_be_focused()
    expect(page.get_by_text(MFA).first).to_be_visible()
    assert page.locator("#approver").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "aws-enforced.png"), full_page=True)

    # A wrong code: STS says AccessDenied, the page says so, nothing is written.
    page.keyboard.type(wrong_code())
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Not approved")
    expect(page.get_by_text("AccessDenied", exact=False).first).to_be_visible()
    assert all(r["decision"] == "denied" for r in stack.requests() if r["action"] == "AssumeRole")
    assert stack.writes() == []
    assert stack.json("approvals")[0]["status"] == "pending"

    # Back to the form; the right code applies the plan with the session.
    with page.expect_navigation():
        page.get_by_role("link", name="Back to the approval").click()
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(code_now())
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Approved")
    plan_id = pending["plan_id"]
    session = f"infraguard-plan-{plan_id}"
    expect(page.locator("main")).to_contain_text(f"with the AWS MFA session {session}")
    expect(page.locator("main")).to_contain_text("applied with that session (acme-paged-prod)")
    page.screenshot(path=str(SCREENSHOTS / "aws-enforced-approved.png"), full_page=True)

    # Exactly one write reached Cloud Control: that plan's, by that session.
    assert [(w["action"], w["decision"], w["session_name"], w["client_token"]) for w in stack.writes()] == [
        ("CreateResource", "allowed", session, f"infraguard-{plan_id}")]
    [assumed] = [r for r in stack.requests() if r["action"] == "AssumeRole" and r["decision"] == "allowed"]
    assert assumed["session_policy"]["Statement"], assumed
    # The agent's retry is told it is done; nothing more is written.
    after = agent.finish()
    assert not after["error"], after
    assert "acme-paged-prod" in after["text"], after
    assert len(stack.writes()) == 1
    granted = [e for e in stack.json("audit") if e["action"] == "approval.granted"]
    assert granted[-1]["actor"].startswith("human:alice via AWS MFA session"), granted
    assert stack.json("audit", "verify")["ok"]


def test_the_page_denies_without_a_code_and_nothing_reaches_aws(stack: Stack, page):
    user = Recorder()
    agent = Agent(stack, "acme-denied-prod", user)
    url = agent.results[-1]["data"]["approval_page"]
    page.goto(url)
    expect(page.locator("#code")).to_be_focused()
    with page.expect_navigation():
        page.get_by_role("button", name="Deny").click()
    expect(page.locator("h1")).to_have_text("Denied")
    after = agent.finish()
    assert after["data"].get("status") != "SUCCESS", after
    assert json.dumps(stack.json("approvals", "--all")).count('"denied"') == 1
    assert [r for r in stack.requests() if r["action"] == "AssumeRole"] == []
    assert stack.writes() == []
