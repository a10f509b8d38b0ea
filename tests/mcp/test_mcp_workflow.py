"""The seed's S3 workflow, step by step, through the Python MCP SDK: over
stdio in both protocol generations (the initialize handshake and the
handshake-free 2026-07-28 form), and over streamable HTTP."""

from __future__ import annotations

import anyio
import pytest
from mcp_harness import S3, SEED_TAGS, Project, http_server, ok, session, walk
from mcp import Client

MUTATORS = {"create_resource", "update_resource", "delete_resource"}


async def seed_s3_workflow(client: Client, project: Project, bucket: str) -> None:
    listed = await client.list_tools()
    names = {t.name for t in listed.tools}
    assert {
        "check_environment_variables", "get_aws_session_info", "get_aws_account_info",
        "generate_infrastructure_code", "explain", "run_checkov", "approve_security_findings",
        "create_resource", "get_resource", "update_resource", "delete_resource", "list_resources",
        "get_resource_request_status", "get_resource_schema_information", "estimate_cost",
        "list_pending_approvals",
    } <= names
    for t in listed.tools:
        assert t.description and t.input_schema["type"] == "object"
        assert t.annotations is not None
        assert t.annotations.read_only_hint is (t.name not in MUTATORS and t.name in {
            "get_aws_account_info", "get_resource", "list_resources", "get_resource_request_status",
            "get_resource_schema_information", "estimate_cost", "list_pending_approvals", "list_plans", "list_locks",
            "check_sync_status", "detect_drift", "lint_iam_policy", "suggest_iam_policy"})
    assert next(t for t in listed.tools if t.name == "delete_resource").annotations.destructive_hint is True

    # Steps 1-2.
    creds = await session(client)
    # Step 3.2 first, as the seed asks: the estimate.
    est = ok(await client.call_tool("estimate_cost", {"resource_type": S3, "properties": {"BucketName": bucket}, "usage": {"storage_gb": 10}}))
    assert est["over_cost_threshold"] is False and "Monthly Cost" in est["display"]

    # Steps 3.1 (1)-(5).
    chain = await walk(client, creds, S3, properties={"BucketName": bucket, "Tags": SEED_TAGS})
    assert chain.generated["operation"] == "create"
    assert "AWS::S3::Bucket" in chain.explained["cloudformation_template"]
    assert chain.explained["explanation"]
    assert chain.scanned["summary"].startswith(chain.scanned["scan_status"])
    assert isinstance(chain.scanned["findings"], list)

    # (6) the seed asks on FAILED; here the findings are LOW, so the user proceeds.
    if chain.scanned["scan_status"] == "FAILED":
        d = ok(await client.call_tool("approve_security_findings", {
            "security_scan_token": chain.scanned["security_scan_token"], "decision": "proceed", "reason": "dev bucket"}))
        assert d["decision"] == "proceed"

    # (7) create, with the seed's arguments.
    progress: list[float] = []

    async def on_progress(p: float, total: float | None, message: str | None) -> None:
        progress.append(p)

    created = ok(await client.call_tool(
        "create_resource",
        chain.mutation_args(resource_type=S3),
        progress_callback=on_progress,
    ))
    assert created["status"] == "SUCCESS" and created["identifier"] == bucket
    assert progress, "no progress notification while the Cloud Control request ran"

    # The bucket is there, with the tag standard applied.
    assert bucket in project.resources("dev")
    listed_ids = ok(await client.call_tool("list_resources", {"resource_type": S3}))["resources"]
    assert bucket in listed_ids
    got = ok(await client.call_tool("get_resource", {"resource_type": S3, "identifier": bucket}))
    tags = {t["Key"]: t["Value"] for t in got["Tags"]}
    assert tags["Environment"] == "development" and tags["Project"] == "SynthCore"
    assert tags["PromotionStatus"] == "dev-only"
    # The seed's own tag values are kept; CreatedBy names the MCP client
    # (the Python SDK's clientInfo name is "mcp").
    assert tags["MANAGED_BY"] == "CCAPI-MCP-SERVER" and tags["MCP_SERVER_VERSION"] == "1.0.0", tags
    assert tags["CreatedBy"] == "mcp", tags
    status = ok(await client.call_tool("get_resource_request_status", {"request_token": created["request_token"]}))
    assert status["OperationStatus"] == "SUCCESS"

    # An update goes through the same chain.
    upd = await walk(client, creds, S3, identifier=bucket,
                     patch_document=[{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}}])
    assert upd.generated["operation"] == "update"
    updated = ok(await client.call_tool("update_resource", upd.mutation_args(resource_type=S3, identifier=bucket)))
    assert updated["status"] == "SUCCESS"
    assert project.resources("dev")[bucket]["VersioningConfiguration"] == {"Status": "Enabled"}

    schema = ok(await client.call_tool("get_resource_schema_information", {"resource_type": S3}))
    assert schema
    account = ok(await client.call_tool("get_aws_account_info", {}))
    assert [e["name"] for e in account["environments"]] == ["dev"]


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_seed_s3_workflow_over_stdio(project: Project, mode: str) -> None:
    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode=mode) as client:
            # legacy: the newest handshake version; otherwise handshake-free.
            assert client.session.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
            await seed_s3_workflow(client, project, "synthcoreai-documents-dev")

    anyio.run(run)
    # Every step is in the audit log, in order.
    actions = [e["action"] for e in project.audit()]
    assert actions.count("apply.succeeded") == 2
    assert project.cli("audit", "verify").returncode == 0


def test_seed_s3_workflow_over_http(project: Project) -> None:
    with http_server(project, "--env", "dev") as url:
        async def run() -> None:
            async with Client(url, mode="legacy") as client:
                await seed_s3_workflow(client, project, "synthcoreai-documents-dev")
            # And a second session on the same server, handshake-free.
            async with Client(url, mode="2026-07-28") as client:
                creds = await session(client)
                chain = await walk(client, creds, S3, properties={"BucketName": "synthcoreai-uploads-dev"})
                ok(await client.call_tool("create_resource", chain.mutation_args()))

        anyio.run(run)
    assert {"synthcoreai-documents-dev", "synthcoreai-uploads-dev"} <= set(project.resources("dev"))


def test_server_instructions_describe_the_chain(project: Project) -> None:
    async def run() -> str:
        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            return client.instructions or ""

    text = anyio.run(run)
    for step in ("check_environment_variables", "get_aws_session_info", "generate_infrastructure_code",
                 "explain", "run_checkov", "create_resource", "infraguard approve"):
        assert step in text, step


def test_one_server_for_every_environment_takes_an_environment_argument(project: Project) -> None:
    async def run() -> None:
        async with Client(project.stdio(), mode="legacy") as client:
            r = await client.call_tool("check_environment_variables", {})
            assert r.is_error and "environment" in r.content[0].text
            creds = await session(client, {"environment": "dev"})
            chain = await walk(client, creds, S3, {"environment": "dev"}, properties={"BucketName": "synthcoreai-docs-dev"})
            ok(await client.call_tool("create_resource", chain.mutation_args(environment="dev")))
            account = ok(await client.call_tool("get_aws_account_info", {}))
            assert sorted(e["name"] for e in account["environments"]) == ["dev", "prod"]

    anyio.run(run)
    assert "synthcoreai-docs-dev" in project.resources("dev")


def test_a_server_for_one_environment_refuses_another(project: Project) -> None:
    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            r = await client.call_tool("check_environment_variables", {"environment": "prod"})
            assert r.is_error and "serve --env prod" in r.content[0].text
            r = await client.call_tool("get_resource", {"resource_type": S3, "identifier": "x", "region": "eu-west-1"})
            assert r.is_error and "us-east-1" in r.content[0].text

    anyio.run(run)
