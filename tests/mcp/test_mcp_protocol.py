"""Protocol hygiene seen from outside: stdout carries JSON-RPC and nothing
else (logs go to stderr, at the level INFRAGUARD_LOG sets), `--http` listens
only on loopback, and a wrong `--env` fails at start."""

from __future__ import annotations

import json
import os
import subprocess

from mcp_harness import SEED_TOOLS, Project


def rpc(id_: int, method: str, params: dict) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params}) + "\n"


def test_stdout_is_only_json_rpc_and_logs_go_to_stderr(project: Project) -> None:
    messages = (
        rpc(1, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}})
        + json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n"
        + rpc(2, "tools/list", {})
        + rpc(3, "tools/call", {"name": "create_resource", "arguments": {}})
        + rpc(4, "tools/call", {"name": "no_such_tool", "arguments": {}})
        + rpc(5, "tools/call", {"name": "get_resource", "arguments": {"identifier": 7}})
    )
    env = {**os.environ, "INFRAGUARD_LOG": "debug"}
    p = subprocess.run(
        [project.bin, "-C", str(project.root), "serve", "--env", "dev"],
        input=messages, capture_output=True, text=True, timeout=60, env=env,
    )
    replies = {}
    for line in p.stdout.splitlines():
        msg = json.loads(line)  # any non-JSON line fails here
        assert msg["jsonrpc"] == "2.0"
        replies[msg.get("id")] = msg
    assert replies[1]["result"]["serverInfo"]["name"] == "infraguard"
    names = [t["name"] for t in replies[2]["result"]["tools"]]
    assert len(names) == len(set(names)), names
    assert SEED_TOOLS <= set(names), SEED_TOOLS - set(names)
    # A refused step is a tool result the agent reads, not a protocol error.
    refusal = replies[3]["result"]
    assert refusal["isError"] is True and "call get_aws_session_info first" in refusal["content"][0]["text"]
    # Unroutable requests are protocol errors.
    assert replies[4]["error"]["code"] == -32602
    assert replies[5]["error"]["code"] == -32602 and "`identifier` must be string" in replies[5]["error"]["message"]
    assert "tool call" in p.stderr  # the debug log reached stderr


def test_http_refuses_non_loopback_addresses(project: Project) -> None:
    for addr in ("0.0.0.0:8765", "10.1.2.3:80"):
        p = project.cli("serve", "--http", addr, check=False)
        assert p.returncode == 2 and "loopback" in p.stderr, p.stderr


def test_unknown_environment_fails_at_start(project: Project) -> None:
    p = project.cli("serve", "--env", "staging", check=False)
    assert p.returncode == 2 and "dev, prod" in p.stderr, p.stderr


def test_every_handshake_version_rmcp_negotiates_is_answered(project: Project) -> None:
    listed = []
    for version in ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"):
        init = rpc(1, "initialize", {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}})
        p = subprocess.run(
            [project.bin, "-C", str(project.root), "serve", "--env", "dev"],
            input=init + json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n" + rpc(2, "tools/list", {}),
            capture_output=True, text=True, timeout=60,
        )
        replies = {m.get("id"): m for m in map(json.loads, p.stdout.splitlines())}
        assert replies[1]["result"]["protocolVersion"] == version, replies[1]
        listed.append(sorted(t["name"] for t in replies[2]["result"]["tools"]))
    # Every version lists the same tools, the seed's among them.
    assert SEED_TOOLS <= set(listed[0]) and all(names == listed[0] for names in listed), listed
