"""The MCP Inspector CLI (the version that runs on Node 20) lists the tools
and calls one, over stdio."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from mcp_harness import SEED_TOOLS, Project

INSPECTOR = "@modelcontextprotocol/inspector@0.15.0"


def inspector(project: Project, *method: str) -> dict:
    if shutil.which("npx") is None:
        message = "npx is not installed, so the MCP Inspector CLI cannot run (install Node.js 20 and npm)"
        if os.environ.get("INFRAGUARD_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    p = subprocess.run(
        ["npx", "-y", INSPECTOR, "--cli", project.bin, "serve", "--env", "dev", *method],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)


def test_inspector_lists_the_tools(project: Project) -> None:
    listed = inspector(project, "--method", "tools/list")
    names = [t["name"] for t in listed["tools"]]
    assert len(names) == len(set(names)) and SEED_TOOLS <= set(names), names
    create = next(t for t in listed["tools"] if t["name"] == "create_resource")
    assert create["annotations"]["readOnlyHint"] is False
    assert "security_scan_token" in create["inputSchema"]["properties"]


def test_inspector_calls_a_tool(project: Project) -> None:
    result = inspector(project, "--method", "tools/call", "--tool-name", "check_environment_variables")
    assert result.get("isError") is not True
    assert result["structuredContent"]["environment"] == "dev"
    assert result["structuredContent"]["environment_token"].startswith("ig1.")
