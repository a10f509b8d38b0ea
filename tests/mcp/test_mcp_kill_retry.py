"""A mutation whose reply is lost because the server was killed (kill -9)
while it ran, retried by the agent with the same tokens on a restarted
server, through the real Python MCP SDK over stdio. The retry must answer
the first request's outcome (same Cloud Control client token), and never
make a second resource.

A VPC is created because the cloud names it: a second create would be a
second VPC rather than an `AlreadyExists`, so duplicates would show.

Every trial kills the server at a different moment: before the request
reaches the cloud, while it runs (some trials hold it IN_PROGRESS for one
poll through the local cloud's fault counters), or after it finished.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
from pathlib import Path

import anyio
from mcp_harness import Project, ok, session, walk
from mcp import Client

VPC = "AWS::EC2::VPC"
TRIALS = int(os.environ.get("INFRAGUARD_KILL_TRIALS", "50"))


def server_pids(root: Path) -> list[int]:
    """The `serve` processes of this project that are children of this test."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and str(root).encode() in cmd and b"serve" in cmd:
            found.append(int(entry.name))
    return found


def hold_requests(project: Project, polls: int) -> None:
    """The local cloud keeps each new request IN_PROGRESS for `polls` polls."""
    with sqlite3.connect(project.root / ".infraguard" / "cloud-dev.db", timeout=10) as db:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('pending_polls', ?)", (polls,))


async def killed_during_create(project: Project, cidr: str, delay: float) -> dict:
    """Walk the chain, call create_resource, kill -9 the server `delay` s
    later. Returns the tokens (and the plan id)."""
    tokens: dict = {}
    with anyio.fail_after(30):
        async with Client(project.stdio("--env", "dev")) as client:
            creds = await session(client)
            chain = await walk(client, creds, VPC, properties={"CidrBlock": cidr})
            tokens = {**chain.mutation_args(resource_type=VPC), "plan_id": chain.generated["plan_id"]}
            pids = server_pids(project.root)
            assert len(pids) == 1, pids

            async def create() -> None:
                try:
                    await client.call_tool("create_resource", {k: v for k, v in tokens.items() if k != "plan_id"})
                except Exception:  # the reply is lost with the server: that is the point
                    pass

            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(create)
                    await anyio.sleep(delay)
                    os.kill(pids[0], signal.SIGKILL)
                    await anyio.sleep(0.05)
                    tg.cancel_scope.cancel()
            except Exception:
                pass
    return tokens


async def retry(project: Project, tokens: dict) -> tuple[str, dict]:
    """A fresh server, the same call with the same tokens. Returns how it
    ended (`retried` or `new_chain`) and the created resource's answer."""
    with anyio.fail_after(30):
        async with Client(project.stdio("--env", "dev")) as client:
            args = {k: v for k, v in tokens.items() if k != "plan_id"}
            result = await client.call_tool("create_resource", args)
            if not result.is_error:
                return "retried", ok(result)
            message = result.content[0].text
            # The only refusal allowed: the request never reached the cloud,
            # which the server says, and then a new chain is safe.
            assert "never sent to the cloud" in message, message
            state = ok(await client.call_tool("list_plans", {"plan_id": tokens["plan_id"]}))["plans"][0]
            assert state["status"] == "planned" and state["request_token"] is None, state
            creds = await session(client)
            chain = await walk(client, creds, VPC, properties={"CidrBlock": tokens["cidr"]})
            return "new_chain", ok(await client.call_tool("create_resource", chain.mutation_args(resource_type=VPC)))


def test_kill_9_mid_create_then_retry_makes_no_duplicate(project: Project) -> None:
    rng = random.Random(1313)
    outcomes: dict[str, int] = {"retried": 0, "new_chain": 0}
    identifiers: list[str] = []
    started = time.monotonic()

    # Opens the local cloud's database, where the fault counters live.
    assert project.resources("dev", VPC) == {}

    async def main() -> None:
        for i in range(TRIALS):
            cidr = f"10.{i}.0.0/16"
            # Every fifth trial holds the request IN_PROGRESS for one poll
            # (about a second), so the kill lands with the request in flight.
            held = i % 5 == 4
            hold_requests(project, 1 if held else 0)
            delay = rng.uniform(0.05, 0.9) if held else rng.uniform(0.0, 0.04)
            tokens = await killed_during_create(project, cidr, delay)
            tokens["cidr"] = cidr
            hold_requests(project, 0)
            how, created = await retry(project, tokens)
            outcomes[how] += 1
            assert created["status"] == "SUCCESS", created
            identifiers.append(created["identifier"])

    anyio.run(main)
    elapsed = time.monotonic() - started

    live = project.resources("dev", VPC)
    duplicates = len(live) - TRIALS
    # Where each kill landed, as the retries found the plans.
    found: dict[str, int] = {}
    for e in project.audit():
        if e["action"] == "apply.retried":
            found[e["details"]["status"]] = found.get(e["details"]["status"], 0) + 1
    print(f"\nkill -9 trials: {TRIALS}, duplicates: {duplicates}, retried: {outcomes['retried']} "
          f"(plan found {found}), new chain after a never-sent plan: {outcomes['new_chain']}, "
          f"unsent (tokens unspent, plain retry): {outcomes['retried'] - sum(found.values())}, {elapsed:.1f} s")
    # The trials that held the request IN_PROGRESS were killed with it in flight.
    assert found.get("applying", 0) >= TRIALS // 10, found
    assert duplicates == 0, f"{len(live)} VPCs for {TRIALS} creates"
    assert sorted(identifiers) == sorted(live), "a retry answered another resource than the one it made"
    # Nothing is left half-done.

    async def leftovers() -> list:
        async with Client(project.stdio("--env", "dev")) as client:
            return ok(await client.call_tool("list_plans", {"status": "applying", "limit": 200}))["plans"]

    assert anyio.run(leftovers) == []
