"""Shared harness for the MCP tests: a fresh `infraguard init` project per
test (the `project` fixture, exposed by conftest.py), the server binary over
stdio or streamable HTTP, the token chain walked through a real MCP client
(the Python `mcp` SDK), and read-backs through the CLI that prove whether the
cloud was touched.

The binary is $INFRAGUARD_BIN, or target/debug/infraguard under the repo root.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

REPO = Path(__file__).resolve().parents[2]

S3 = "AWS::S3::Bucket"
RDS = "AWS::RDS::DBInstance"

# Every tool the seed calls by name.
SEED_TOOLS = {
    "check_environment_variables", "get_aws_session_info", "get_aws_account_info",
    "generate_infrastructure_code", "explain", "run_checkov", "approve_security_findings",
    "create_resource", "update_resource", "get_resource", "list_resources",
}

# The seed's tag list (step 3.1), as an agent following it would send it.
SEED_TAGS = [
    {"Key": "MANAGED_BY", "Value": "CCAPI-MCP-SERVER"},
    {"Key": "MCP_SERVER_SOURCE_CODE", "Value": "https://github.com/awslabs/mcp/tree/main/src/ccapi-mcp-server"},
    {"Key": "MCP_SERVER_VERSION", "Value": "1.0.0"},
    {"Key": "Environment", "Value": "development"},
    {"Key": "Project", "Value": "SynthCore"},
]

# The seed's RDS example, with the settings that keep the scan below MEDIUM,
# so that cost is the only reason a human is needed.
RDS_PROPS = {
    "DBInstanceIdentifier": "synthcoreai-db-dev",
    "Engine": "postgres",
    "EngineVersion": "15.4",
    "DBInstanceClass": "db.t3.micro",
    "AllocatedStorage": "20",
    "StorageType": "gp3",
    "MasterUsername": "synthcoreai_admin",
    "ManageMasterUserPassword": True,
    "StorageEncrypted": True,
    "DeletionProtection": True,
    "BackupRetentionPeriod": 7,
}


def binary() -> str:
    path = Path(os.environ.get("INFRAGUARD_BIN", REPO / "target" / "debug" / "infraguard")).resolve()
    if not path.is_file():
        pytest.fail(f"no infraguard binary at {path}: run `cargo build -p infraguard-cli` or set INFRAGUARD_BIN")
    return str(path)


@dataclass
class Project:
    """A fresh project folder made by `infraguard init`."""

    root: Path
    bin: str

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        p = subprocess.run(
            [self.bin, "-C", str(self.root), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and p.returncode != 0:
            raise AssertionError(f"infraguard {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
        return p

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli("--output", "json", *args).stdout)

    def resources(self, env: str, type_name: str = S3) -> dict[str, Any]:
        """Identifier -> properties, as the local cloud holds them now."""
        listed = self.cli_json("resources", "list", "--env", env, "--type", type_name)
        return {r["identifier"]: r["properties"] for r in listed}

    def audit(self) -> list[dict[str, Any]]:
        return self.cli_json("audit")

    def applies_started(self) -> int:
        return sum(1 for e in self.audit() if e["action"] == "apply.started")

    def snapshot(self) -> tuple[dict, dict, int]:
        """Everything a cloud call would change: both clouds and the audit log's apply count."""
        return (self.resources("dev"), self.resources("prod"), self.applies_started())

    def set_toml(self, section: str, key: str, value: str) -> None:
        path = self.root / "infraguard.toml"
        text = path.read_text()
        header = f"[{section}]"
        lines = text.splitlines()
        start = lines.index(header)
        for i in range(start + 1, len(lines)):
            if lines[i].startswith("["):
                break
            if lines[i].split("=")[0].strip() == key:
                lines[i] = f"{key} = {value}"
                path.write_text("\n".join(lines) + "\n")
                return
        raise AssertionError(f"{key} not in {header}")

    def approve_at_terminal(self, approval_id: str) -> subprocess.CompletedProcess:
        """`infraguard approve` insists on a terminal, so give it one with script(1)."""
        cmd = f"{self.bin} -C {self.root} approve {approval_id}"
        return subprocess.run(
            ["script", "-qec", cmd, "/dev/null"],
            input="yes\n",
            capture_output=True,
            text=True,
            timeout=60,
        )

    def stdio(self, *serve_args: str) -> StdioServerParameters:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INFRAGUARD_")}
        return StdioServerParameters(command=self.bin, args=["-C", str(self.root), "serve", *serve_args], env=env)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    bin_ = binary()
    subprocess.run([bin_, "-C", str(root), "init", "--project", "SynthCore", "--prefix", "synthcoreai"], check=True, capture_output=True, timeout=60)
    return Project(root, bin_)


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def http_server(project: Project, *serve_args: str):
    """`infraguard serve --http 127.0.0.1:PORT`, killed at the end. Yields the URL."""
    port = free_port()
    proc = subprocess.Popen(
        [project.bin, "-C", str(project.root), "serve", "--http", f"127.0.0.1:{port}", *serve_args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited {proc.returncode}: {proc.stderr.read().decode()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise AssertionError("the HTTP server did not start listening in 20 s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def ok(result) -> dict[str, Any]:
    """The structured content of a successful call, or a failure showing the message."""
    text = result.content[0].text if result.content else ""
    assert not result.is_error, f"tool refused: {text}"
    assert isinstance(result.structured_content, dict), f"no structured content: {text}"
    # Structured content and text carry the same result.
    assert json.loads(text) == result.structured_content
    return result.structured_content


def refused(result) -> str:
    """The message of a refused call."""
    assert result.is_error, f"expected a refusal, got {result.structured_content}"
    return result.content[0].text


@dataclass
class Chain:
    """Tokens of one walk through the chain."""

    credentials_token: str
    generated: dict[str, Any] = field(default_factory=dict)
    explained: dict[str, Any] = field(default_factory=dict)
    scanned: dict[str, Any] = field(default_factory=dict)

    def mutation_args(self, **extra: Any) -> dict[str, Any]:
        return {
            "credentials_token": self.credentials_token,
            "explained_token": self.explained["explained_token"],
            "security_scan_token": self.scanned["security_scan_token"],
            **extra,
        }


async def session(client: Client, env_args: dict[str, Any] | None = None) -> str:
    """Steps 1 and 2: the credentials token."""
    env_args = env_args or {}
    check = ok(await client.call_tool("check_environment_variables", dict(env_args)))
    assert check["ok"] is True, check
    info = ok(await client.call_tool("get_aws_session_info", {"environment_token": check["environment_token"], **env_args}))
    for key in ("profile", "authentication", "account_id", "region", "credentials_token"):
        assert key in info, key
    return info["credentials_token"]


async def walk(client: Client, credentials_token: str, resource_type: str, env_args: dict[str, Any] | None = None, **generate: Any) -> Chain:
    """Steps 3-5 exactly as the seed writes them."""
    env_args = env_args or {}
    chain = Chain(credentials_token)
    chain.generated = ok(
        await client.call_tool(
            "generate_infrastructure_code",
            {"resource_type": resource_type, "credentials_token": credentials_token, **generate, **env_args},
        )
    )
    assert chain.generated["properties_token"] == chain.generated["generated_code_token"]
    chain.explained = ok(
        await client.call_tool(
            "explain",
            {
                "generated_code_token": chain.generated["properties_token"],
                "content": chain.generated["properties_for_explanation"],
                "operation": chain.generated["operation"],
                "context": "test",
                **env_args,
            },
        )
    )
    chain.scanned = ok(await client.call_tool("run_checkov", {"explained_token": chain.explained["explained_token"], **env_args}))
    assert chain.scanned["scan_status"] in ("PASSED", "FAILED")
    return chain
