"""The seed's own setup: the two servers `infraguard init` writes into
`.mcp.json` (aws-dev, aws-prod), one client per server, started exactly as an
MCP client would start them (command, args, env from the file, in the
project folder). aws-dev writes dev only; aws-prod writes prod only and
promotes, reading dev read-only; either server reads both for sync, drift
and the cost review."""

from __future__ import annotations

import json

import anyio
from mcp import Client, StdioServerParameters
from mcp_harness import S3, Project, ok, refused, session, walk

BUCKET = "synthcoreai-documents-dev"
PROD_BUCKET = "synthcoreai-documents-prod"


def server(project: Project, name: str) -> StdioServerParameters:
    spec = json.loads((project.root / ".mcp.json").read_text())["mcpServers"][name]
    return StdioServerParameters(command=project.bin, args=spec["args"], env=spec["env"], cwd=str(project.root))


class Accept:
    """The person at the client accepts (advisory project: recorded unverified)."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    async def __call__(self, context, params):
        from mcp.types import ElicitResult

        self.prompts.append(params.message)
        return ElicitResult(action="accept", content={"note": "ok"})


def test_the_two_generated_servers_promote_sync_drift_and_review_costs(project: Project) -> None:
    user = Accept()

    async def run() -> None:
        async with Client(server(project, "aws-dev"), mode="legacy", elicitation_callback=user) as dev:
            creds = await session(dev)
            chain = await walk(dev, creds, S3, properties={"BucketName": BUCKET})
            created = ok(await dev.call_tool("create_resource", chain.mutation_args()))
            assert created["status"] == "SUCCESS" and created["environment"] == "dev"

            # aws-dev never writes prod: no prod mutation, no promotion.
            msg = refused(await dev.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))
            assert "writes prod" in msg and "serve --env prod" in msg, msg
            msg = refused(await dev.call_tool("generate_infrastructure_code", {
                "resource_type": S3, "credentials_token": creds, "properties": {"BucketName": PROD_BUCKET}, "environment": "prod"}))
            assert "serve --env prod" in msg, msg
            # It reads prod for sync, drift and costs.
            sync = ok(await dev.call_tool("check_sync_status", {"resource_type": S3}))
            assert [d["identifier"] for d in sync["dev_only"]] == [BUCKET], sync
            ok(await dev.call_tool("detect_drift", {"resource_type": S3}))
            costs = ok(await dev.call_tool("cost_report", {}))
            assert [e["env"] for e in costs["environments"]] == ["aws-dev", "aws-prod"]

        async with Client(server(project, "aws-prod"), mode="legacy", elicitation_callback=user) as prod:
            sync = ok(await prod.call_tool("check_sync_status", {"resource_type": S3}))
            assert [d["identifier"] for d in sync["dev_only"]] == [BUCKET], sync
            promoted = ok(await prod.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))
            assert promoted["status"] == "synced" and promoted["prod_id"] == PROD_BUCKET, promoted
            # Asked for prod, as every prod write (advisory: unverified).
            assert PROD_BUCKET in user.prompts[-1]
            assert promoted["approved_by"][0]["approved_by"].startswith("unverified:"), promoted
            # Its one dev write, the PromotionStatus tag, waits for an approval
            # (aws-prod runs read-only throughout), and the message says so.
            assert promoted["dev_tags"][-1]["outcome"] == "awaiting_approval", promoted["dev_tags"]
            assert "waits for approval" in promoted["message"], promoted["message"]
            after = ok(await prod.call_tool("check_sync_status", {"resource_type": S3}))
            assert [(s["dev"], s["prod"]) for s in after["synced"]] == [(BUCKET, PROD_BUCKET)], after
            assert after["needs_review"] == [], after
            drift = ok(await prod.call_tool("detect_drift", {"resource_type": S3}))
            assert drift is not None
            costs = ok(await prod.call_tool("cost_report", {}))
            envs = {e["env"]: e for e in costs["environments"]}
            assert envs["aws-dev"]["resources"] == 1 and envs["aws-prod"]["resources"] == 1, costs

    anyio.run(run)
    assert set(project.resources("dev")) == {BUCKET}
    assert set(project.resources("prod")) == {PROD_BUCKET}


def test_preflight_over_mcp_runs_the_checklist_and_the_apps_own_checks(project: Project) -> None:
    config = project.root / "infraguard.toml"
    config.write_text(config.read_text() + '\n[preflight]\ncommands = ["echo lint clean", "echo type error >&2; exit 2"]\n')

    async def run() -> dict:
        async with Client(server(project, "aws-prod"), mode="legacy") as prod:
            return ok(await prod.call_tool("preflight", {}))

    report = anyio.run(run)
    assert report["env"] == "prod" and report["ready"] is False, report
    by_key = {c["key"]: c for c in report["checks"]}
    assert {"promotion", "drift", "findings"} <= set(by_key), list(by_key)
    assert by_key["command: echo lint clean"]["ok"] is True
    failing = by_key["command: echo type error >&2; exit 2"]
    assert failing["ok"] is False and any("type error" in d for d in failing["details"]), failing
