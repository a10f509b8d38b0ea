"""Cloud Control requests that take time or fail, through the MCP server:
progress notifications while a request is polled, and a failed request
reported as a tool error in words the agent can act on. Faults are set in
the local cloud's database, the way its reliability tests set them."""

from __future__ import annotations

import sqlite3

import anyio
from mcp_harness import S3, Project, ok, refused, session, walk
from mcp import Client


def set_fault(project: Project, env: str, key: str, value: int) -> None:
    db = project.root / ".infraguard" / f"cloud-{env}.db"
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def test_progress_is_reported_while_the_request_is_polled(project: Project) -> None:
    updates: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, message))

    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            creds = await session(client)
            chain = await walk(client, creds, S3, properties={"BucketName": "synthcoreai-slow-dev"})
            set_fault(project, "dev", "pending_polls", 2)
            created = ok(await client.call_tool("create_resource", chain.mutation_args(), progress_callback=on_progress))
            assert created["status"] == "SUCCESS"

    anyio.run(run)
    assert len(updates) >= 3, updates
    assert [p for p, _ in updates] == sorted(p for p, _ in updates), "progress must increase"
    assert "IN_PROGRESS" in (updates[0][1] or "")
    assert "SUCCESS" in (updates[-1][1] or "")
    assert "synthcoreai-slow-dev" in project.resources("dev")


def test_a_failed_request_is_a_tool_error_that_says_what_happened(project: Project) -> None:
    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            creds = await session(client)
            chain = await walk(client, creds, S3, properties={"BucketName": "synthcoreai-fails-dev"})
            set_fault(project, "dev", "fail_next", 1)
            r = await client.call_tool("create_resource", chain.mutation_args())
            msg = refused(r)
            assert r.structured_content["error"] == "cloud_error", r.structured_content
            assert "ServiceInternalError" in msg and "synthcoreai-fails-dev" not in project.resources("dev")

    anyio.run(run)
    assert [e["action"] for e in project.audit()][-1] == "apply.failed"
