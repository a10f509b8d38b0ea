"""Every mutating tool against forged and misused tokens: no token, a
made-up token, a token from another step, a replayed token, an expired
token, a token for other content, and a token from the other environment.
Each must be refused, with the reason and the next step in the message, and
with no cloud call: both clouds unchanged and no `apply.started` in the
audit log."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
from mcp_harness import S3, Chain, Project, ok, refused, session, walk
from mcp import Client
from mcp_types import ElicitResult

TARGET = "synthcoreai-target-dev"
PATCH = [{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}}]


async def always_accept(context, params) -> ElicitResult:
    # Deletes always need a human; this user says yes, so the genuine call applies.
    return ElicitResult(action="accept", content={})


async def create_bucket(client: Client, creds: str, name: str) -> None:
    chain = await walk(client, creds, S3, properties={"BucketName": name})
    ok(await client.call_tool("create_resource", chain.mutation_args()))


async def chain_for(tool: str, client: Client, creds: str, name: str) -> Chain:
    if tool == "create_resource":
        return await walk(client, creds, S3, properties={"BucketName": name})
    if tool == "update_resource":
        return await walk(client, creds, S3, identifier=name, patch_document=PATCH)
    return await walk(client, creds, S3, identifier=name, operation="delete")


def attacks(good: Chain, other: Chain, prod: Chain, create_chain: Chain | None) -> list[tuple[str, dict[str, Any], str]]:
    g = good.mutation_args()
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("no token at all", {"resource_type": S3}, "needs a credentials_token"),
        ("no security_scan_token", {k: v for k, v in g.items() if k != "security_scan_token"}, "call run_checkov first"),
        ("no explained_token", {k: v for k, v in g.items() if k != "explained_token"}, "call explain first"),
        ("made-up scan token", {**g, "security_scan_token": "ig1.eyJraW5kIjoic2VjdXJpdHlfc2NhbiJ9.AAAA"}, "not issued by this server"),
        ("made-up credentials", {**g, "credentials_token": "synthcoreai-dev-session"}, "not issued by this server"),
        ("tampered scan token", {**g, "security_scan_token": g["security_scan_token"][:-3] + "AAA"}, "not issued by this server"),
        ("generated token as explained", {**g, "explained_token": good.generated["generated_code_token"]}, "was given a generated_code_token"),
        ("explained token as scan", {**g, "security_scan_token": g["explained_token"]}, "was given a explained_token"),
        ("scan token as credentials", {**g, "credentials_token": g["security_scan_token"]}, "was given a security_scan_token"),
        ("scan token of other content", {**g, "security_scan_token": other.scanned["security_scan_token"]}, "not issued for this explained_token"),
        ("explained token of other content", {**g, "explained_token": other.explained["explained_token"]}, "not issued for this explained_token"),
        ("tokens of the other environment", prod.mutation_args(), "issued for environment `prod`"),
        ("prod credentials with dev tokens", {**g, "credentials_token": prod.credentials_token}, "issued for environment `prod`"),
    ]
    if create_chain is not None:
        cases.append(("a create plan's tokens", create_chain.mutation_args(), "create_resource"))
    return cases


@pytest.mark.parametrize("tool", ["create_resource", "update_resource", "delete_resource"])
def test_token_attacks_are_refused_without_a_cloud_call(project: Project, tool: str) -> None:
    async def run() -> None:
        async with (
            Client(project.stdio("--env", "dev"), mode="legacy", elicitation_callback=always_accept) as dev,
            Client(project.stdio("--env", "prod"), mode="legacy") as prod_client,
        ):
            creds = await session(dev)
            if tool != "create_resource":
                await create_bucket(dev, creds, TARGET)
                await create_bucket(dev, creds, "synthcoreai-other-dev")
            good = await chain_for(tool, dev, creds, TARGET)
            other = await chain_for(tool, dev, creds, "synthcoreai-other-dev")
            prod_creds = await session(prod_client)
            prod = await walk(prod_client, prod_creds, S3, properties={"BucketName": "synthcoreai-target-prod"})
            create_chain = None
            if tool != "create_resource":
                create_chain = await walk(dev, creds, S3, properties={"BucketName": "synthcoreai-third-dev"})

            before = project.snapshot()
            for name, args, expected in attacks(good, other, prod, create_chain):
                msg = refused(await dev.call_tool(tool, args))
                assert expected in msg, f"{name}: {msg}"
                assert project.snapshot() == before, f"{name} reached the cloud"

            # The genuine call still works: no attack spent or spoiled its tokens.
            # Properties passed along are ignored; the scanned content is applied.
            applied = ok(await dev.call_tool(tool, good.mutation_args(properties={"BucketName": "synthcoreai-smuggled-dev"})))
            assert applied["status"] == "SUCCESS"
            after_genuine = project.snapshot()
            assert "synthcoreai-smuggled-dev" not in after_genuine[0]
            if tool == "create_resource":
                assert TARGET in after_genuine[0]
            elif tool == "update_resource":
                assert after_genuine[0][TARGET]["VersioningConfiguration"] == {"Status": "Enabled"}
            else:
                assert TARGET not in after_genuine[0]

            # Replayed: the same tokens again answer the first outcome (a
            # retry after a lost reply), and the cloud is not asked again.
            again = ok(await dev.call_tool(tool, good.mutation_args()))
            assert again["status"] == "SUCCESS" and again["plan_id"] == applied["plan_id"], again
            assert again["request_token"] == applied["request_token"], again
            assert project.snapshot() == after_genuine

    anyio.run(run)


async def walked_in_time(setup):
    """Run a setup coroutine factory; with a 1 s token lifetime a step slower
    than that (a loaded machine) spoils only the setup, which is walked again."""
    for attempt in range(3):
        try:
            return await setup()
        except AssertionError as e:
            if "expired" not in str(e) or attempt == 2:
                raise
    return None


def test_expired_tokens_are_refused_without_a_cloud_call(project: Project) -> None:
    project.set_toml("tokens", "ttl_seconds", "1")

    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy", elicitation_callback=always_accept) as dev:
            # One bucket per chain: a resource has one plan in flight at a time.
            other = "synthcoreai-other-dev"

            async def target() -> None:
                await create_bucket(dev, await session(dev), TARGET)
                await create_bucket(dev, await session(dev), other)

            await walked_in_time(target)
            chains = {}
            for tool in ("create_resource", "update_resource", "delete_resource"):
                name = {"create_resource": "synthcoreai-new-dev", "update_resource": TARGET}.get(tool, other)

                async def fresh(tool: str = tool, name: str = name) -> Chain:
                    # Fresh credentials per chain: they expire too.
                    return await chain_for(tool, dev, await session(dev), name)

                chains[tool] = await walked_in_time(fresh)
            time.sleep(2.2)
            before = project.snapshot()
            for tool, chain in chains.items():
                msg = refused(await dev.call_tool(tool, chain.mutation_args()))
                assert "expired" in msg and "again" in msg, f"{tool}: {msg}"
            assert project.snapshot() == before

    anyio.run(run)
