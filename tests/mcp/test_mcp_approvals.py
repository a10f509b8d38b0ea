"""When the gate needs a human: the server asks the client's user through
MCP elicitation (the request form before 2026-07-28, the input-required form
on 2026-07-28), and without elicitation it names the approval id for
`infraguard approve`, after which the same call proceeds."""

from __future__ import annotations

import json

import anyio
import pytest
from mcp_harness import RDS, RDS_PROPS, S3, Project, http_server, ok, refused, session, walk
from mcp import Client
from mcp_types import ElicitResult


class User:
    """A scripted user behind the client: answers prompts in order."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    async def __call__(self, context, params) -> ElicitResult:
        self.prompts.append(params.message)
        action = self.answers.pop(0)
        return ElicitResult(action=action, content={"note": "tested"} if action == "accept" else None)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_rds_over_the_threshold_asks_the_user_decline_then_accept(project: Project, mode: str) -> None:
    user = User("decline", "accept")

    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode=mode, elicitation_callback=user) as client:
            creds = await session(client)
            est = ok(await client.call_tool("estimate_cost", {"resource_type": RDS, "properties": RDS_PROPS}))
            assert est["over_cost_threshold"] is True

            # First attempt: the user declines; nothing is created.
            first = await walk(client, creds, RDS, properties=RDS_PROPS)
            assert first.generated["gate"]["decision"] == "approval_required"
            msg = refused(await client.call_tool("create_resource", first.mutation_args(resource_type=RDS)))
            assert "declined" in msg
            assert project.resources("dev", RDS) == {}
            assert project.applies_started() == 0

            # Second attempt, a new plan: the user accepts; it is created.
            second = await walk(client, creds, RDS, properties=RDS_PROPS)
            created = ok(await client.call_tool("create_resource", second.mutation_args(resource_type=RDS)))
            assert created["status"] == "SUCCESS"
            # Advisory level (the engine in the server's process): an accept in
            # the client is recorded as an unverified confirmation, never a human.
            assert created["approved_by"].startswith("unverified:"), created["approved_by"]
            assert "accepted in the MCP client" in created["approved_by"]

    anyio.run(run)
    assert len(user.prompts) == 2
    # The prompt shows the change, the cost and the findings.
    assert "synthcoreai-db-dev" in user.prompts[0] and "Monthly Cost" in user.prompts[0] and "$10.00" in user.prompts[0]
    assert "security finding" in user.prompts[0].lower() or "Security scan" in user.prompts[0]
    assert list(project.resources("dev", RDS)) == ["synthcoreai-db-dev"]
    decided = {e["action"]: e["actor"] for e in project.audit() if e["action"] in ("approval.denied", "approval.granted")}
    # Anyone may say no; a denial is recorded as the requester (agent), never a human.
    assert decided["approval.denied"].startswith("agent:"), decided
    assert decided["approval.granted"].startswith("unverified:"), decided
    assert "accepted in the MCP client" in decided["approval.granted"]


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_rds_over_http_with_elicitation(project: Project, mode: str) -> None:
    user = User("accept")
    with http_server(project, "--env", "dev") as url:
        async def run() -> None:
            async with Client(url, mode=mode, elicitation_callback=user) as client:
                creds = await session(client)
                chain = await walk(client, creds, RDS, properties=RDS_PROPS)
                ok(await client.call_tool("create_resource", chain.mutation_args()))

        anyio.run(run)
    assert len(user.prompts) == 1
    assert list(project.resources("dev", RDS)) == ["synthcoreai-db-dev"]


def test_dismissing_the_prompt_leaves_the_approval_pending(project: Project) -> None:
    user = User("cancel")

    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy", elicitation_callback=user) as client:
            creds = await session(client)
            chain = await walk(client, creds, RDS, properties=RDS_PROPS)
            msg = refused(await client.call_tool("create_resource", chain.mutation_args()))
            assert "infraguard approve apr-" in msg
            pending = ok(await client.call_tool("list_pending_approvals", {}))["approvals"]
            assert len(pending) == 1

    anyio.run(run)
    assert project.resources("dev", RDS) == {}


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_prod_write_without_elicitation_names_the_approval_then_retry_proceeds(project: Project, transport: str) -> None:
    """The seed's promotion: a create on aws-prod (read-only). The client has
    no elicitation, so the agent is told to have the user run `infraguard
    approve ID`; a retry with the same tokens then creates the bucket."""
    bucket = "synthcoreai-documents-prod"

    async def first_try(client: Client) -> tuple[dict, str]:
        creds = await session(client)
        chain = await walk(client, creds, S3, properties={"BucketName": bucket})
        assert chain.generated["gate"]["decision"] != "auto"
        r = await client.call_tool("create_resource", chain.mutation_args(resource_type=S3))
        msg = refused(r)
        assert r.structured_content["status"] == "APPROVAL_REQUIRED"
        approval_id = r.structured_content["approval_id"]
        assert f"infraguard approve {approval_id}" in msg and "create_resource again" in msg
        return chain.mutation_args(resource_type=S3), approval_id

    async def run(target) -> None:
        async with Client(target, mode="legacy") as client:
            args, approval_id = await first_try(client)
            assert project.resources("prod") == {}
            # The agent cannot approve through any tool; only the user at a terminal.
            p = project.approve_at_terminal(approval_id)
            assert p.returncode == 0, p.stdout + p.stderr
            created = ok(await client.call_tool("create_resource", args))
            assert created["status"] == "SUCCESS" and created["environment"] == "prod"

    if transport == "stdio":
        anyio.run(run, project.stdio("--env", "prod"))
    else:
        with http_server(project, "--env", "prod") as url:
            anyio.run(run, url)
    assert bucket in project.resources("prod")


def test_readonly_flag_makes_dev_writes_need_a_human(project: Project) -> None:
    async def run() -> None:
        async with Client(project.stdio("--env", "dev", "--readonly"), mode="legacy") as client:
            creds = await session(client)
            chain = await walk(client, creds, S3, properties={"BucketName": "synthcoreai-ro-dev"})
            r = await client.call_tool("create_resource", chain.mutation_args())
            refused(r)
            assert r.structured_content["status"] == "APPROVAL_REQUIRED"

    anyio.run(run)
    assert project.resources("dev") == {}


def test_findings_decisions_are_recorded(project: Project) -> None:
    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            creds = await session(client)
            # A bucket without the secure defaults fails the scan.
            chain = await walk(client, creds, S3, properties={
                "BucketName": "synthcoreai-open-dev",
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": False, "BlockPublicPolicy": False,
                                                   "IgnorePublicAcls": False, "RestrictPublicBuckets": False},
            })
            assert chain.scanned["scan_status"] == "FAILED"
            bad = await client.call_tool("approve_security_findings", {
                "security_scan_token": chain.scanned["security_scan_token"], "decision": "ignore"})
            assert "fix, proceed, cancel" in refused(bad)
            # A decision on specific findings names them; a name that is not an
            # open finding of this scan is refused, naming it.
            unknown = refused(await client.call_tool("approve_security_findings", {
                "security_scan_token": chain.scanned["security_scan_token"], "decision": "fix",
                "findings": ["CKV_AWS_999"]}))
            assert "CKV_AWS_999" in unknown
            fix = ok(await client.call_tool("approve_security_findings", {
                "security_scan_token": chain.scanned["security_scan_token"], "decision": "fix",
                "findings": ["CKV_AWS_53"], "reason": "user said fix"}))
            assert fix["decision"] == "fix" and "generate_infrastructure_code" in fix["message"]
            assert len(fix["fixes"]) == 1, fix["fixes"]
            assert "BlockPublicAcls" in json.dumps(fix["fixes"][0])
            # The plan was abandoned: its scan token no longer creates anything.
            refused(await client.call_tool("create_resource", chain.mutation_args()))

    anyio.run(run)
    assert project.resources("dev") == {}
    assert any(e["action"] == "findings.decision" for e in project.audit())


def test_an_unsolicited_answer_does_not_approve(project: Project) -> None:
    """On 2026-07-28 the answer comes back in a retried call. A call that
    carries an 'accept' the server never asked for (here with the approval id
    the agent can read, as request state) is not an approval: the server asks."""
    from mcp_types import InputRequiredResult

    async def run() -> None:
        # The client can elicit, so the server's answer to a call it cannot
        # trust is to ask; this user would decline, but is never reached.
        async with Client(project.stdio("--env", "dev"), mode="2026-07-28", elicitation_callback=User()) as client:
            creds = await session(client)
            chain = await walk(client, creds, RDS, properties=RDS_PROPS)
            approval_id = chain.generated["gate"]["approval_id"]
            for state in (approval_id, f"{approval_id}.00000000000000000000000000000000"):
                r = await client.session.call_tool(
                    "create_resource",
                    chain.mutation_args(),
                    input_responses={"approval": {"action": "accept", "content": {}}},
                    request_state=state,
                    allow_input_required=True,
                )
                assert isinstance(r, InputRequiredResult), r
                assert "approval" in (r.input_requests or {})
            pending = ok(await client.call_tool("list_pending_approvals", {}))["approvals"]
            assert [a["id"] for a in pending] == [approval_id]

    anyio.run(run)
    assert project.resources("dev", RDS) == {}
    assert not any(e["action"] == "approval.granted" for e in project.audit())


OPEN_BUCKET = {
    "BucketName": "synthcoreai-open-dev",
    "PublicAccessBlockConfiguration": {"BlockPublicAcls": False, "BlockPublicPolicy": False,
                                       "IgnorePublicAcls": False, "RestrictPublicBuckets": False},
}


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_proceeding_past_findings_asks_the_user_once(project: Project, mode: str) -> None:
    """The seed's step 6: the agent relays 'proceed'; the server confirms
    with the human there and then, and the mutation needs no second prompt."""
    user = User("accept")

    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode=mode, elicitation_callback=user) as client:
            creds = await session(client)
            chain = await walk(client, creds, S3, properties=OPEN_BUCKET)
            assert chain.scanned["scan_status"] == "FAILED"
            decided = ok(await client.call_tool("approve_security_findings", {
                "security_scan_token": chain.scanned["security_scan_token"], "decision": "proceed",
                "reason": "public website bucket"}))
            assert decided["approval_status"] == "approved", decided
            created = ok(await client.call_tool("create_resource", chain.mutation_args()))
            assert created["status"] == "SUCCESS"

    anyio.run(run)
    assert len(user.prompts) == 1 and "IG-S3-001" in user.prompts[0]
    assert "synthcoreai-open-dev" in project.resources("dev")


def test_proceeding_past_findings_declined_by_the_user(project: Project) -> None:
    user = User("decline")

    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy", elicitation_callback=user) as client:
            creds = await session(client)
            chain = await walk(client, creds, S3, properties=OPEN_BUCKET)
            decided = ok(await client.call_tool("approve_security_findings", {
                "security_scan_token": chain.scanned["security_scan_token"], "decision": "proceed"}))
            assert decided["approval_status"] == "denied"
            r = await client.call_tool("create_resource", chain.mutation_args())
            assert "denied" in refused(r)

    anyio.run(run)
    assert project.resources("dev") == {}
