"""Benchmark of the MCP server, for the closing note.

Measures, with the binary given by $INFRAGUARD_BIN (default: the release
build, target/release/infraguard):

1. spawn -> `initialize` reply and spawn -> `tools/list` reply, median (and
   min / p90) over 30 runs, raw JSON-RPC over the process's pipes;
2. the seed's S3 workflow end to end through the Python `mcp` client
   (check -> session -> generate -> explain -> scan -> create), median of 10;
3. idle RSS of a server that has answered `initialize`, from /proc/PID/status;
4. for reference, spawn -> exit of `infraguard --version` (process start-up
   alone) and the load average, since the machine may be shared.

Run from the repo root:  python tests/mcp/bench.py [--runs 30] [--json]
Each run uses a fresh `infraguard init` project in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

REPO = Path(__file__).resolve().parents[2]

INIT = json.dumps({
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}) + "\n"
INITIALIZED = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n"
LIST = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}) + "\n"


def binary() -> str:
    return str(Path(os.environ.get("INFRAGUARD_BIN", REPO / "target" / "release" / "infraguard")).resolve())


def make_project(bin_: str, parent: Path, name: str) -> Path:
    root = parent / name
    root.mkdir()
    subprocess.run([bin_, "-C", str(root), "init", "--project", "SynthCore", "--prefix", "synthcoreai"],
                   check=True, capture_output=True, timeout=60)
    return root


def spawn_once(bin_: str, root: Path) -> tuple[float, float]:
    """Milliseconds from spawn to the initialize reply and to the tools/list reply."""
    t0 = time.perf_counter()
    p = subprocess.Popen([bin_, "-C", str(root), "serve", "--env", "dev"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert p.stdin and p.stdout
    try:
        p.stdin.write(INIT.encode())
        p.stdin.flush()
        line = p.stdout.readline()
        t_init = time.perf_counter()
        assert json.loads(line)["id"] == 1, line
        p.stdin.write((INITIALIZED + LIST).encode())
        p.stdin.flush()
        line = p.stdout.readline()
        t_list = time.perf_counter()
        reply = json.loads(line)
        assert reply["id"] == 2 and "create_resource" in {t["name"] for t in reply["result"]["tools"]}, line[:200]
    finally:
        p.stdin.close()
        p.wait(timeout=10)
    return (t_init - t0) * 1000, (t_list - t0) * 1000


def version_once(bin_: str) -> float:
    """Milliseconds to spawn and finish `infraguard --version`: the floor set by
    process start-up on this machine, for reading the numbers above."""
    t0 = time.perf_counter()
    subprocess.run([bin_, "--version"], check=True, capture_output=True, timeout=60)
    return (time.perf_counter() - t0) * 1000


def idle_rss_kb(bin_: str, root: Path) -> int:
    p = subprocess.Popen([bin_, "-C", str(root), "serve", "--env", "dev"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert p.stdin and p.stdout
    try:
        p.stdin.write(INIT.encode())
        p.stdin.flush()
        p.stdout.readline()
        p.stdin.write((INITIALIZED + LIST).encode())
        p.stdin.flush()
        p.stdout.readline()
        time.sleep(1.0)
        status = Path(f"/proc/{p.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    finally:
        p.stdin.close()
        p.wait(timeout=10)


async def seed_workflow(bin_: str, root: Path, bucket: str) -> float:
    """Seconds for the seed's S3 workflow, spawn included."""
    t0 = time.perf_counter()
    params = StdioServerParameters(command=bin_, args=["-C", str(root), "serve", "--env", "dev"])
    async with Client(params, mode="legacy") as c:
        check = (await c.call_tool("check_environment_variables", {})).structured_content
        info = (await c.call_tool("get_aws_session_info", {"environment_token": check["environment_token"]})).structured_content
        creds = info["credentials_token"]
        gen = (await c.call_tool("generate_infrastructure_code", {
            "resource_type": "AWS::S3::Bucket", "credentials_token": creds,
            "properties": {"BucketName": bucket, "Tags": [{"Key": "Project", "Value": "SynthCore"}]}})).structured_content
        exp = (await c.call_tool("explain", {"generated_code_token": gen["properties_token"],
                                             "content": gen["properties_for_explanation"], "operation": "create"})).structured_content
        scan = (await c.call_tool("run_checkov", {"explained_token": exp["explained_token"]})).structured_content
        created = await c.call_tool("create_resource", {
            "resource_type": "AWS::S3::Bucket", "credentials_token": creds,
            "explained_token": exp["explained_token"], "security_scan_token": scan["security_scan_token"]})
        assert not created.is_error, created.content[0].text
    return time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--workflow-runs", type=int, default=10)
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args()
    bin_ = binary()
    if not Path(bin_).is_file():
        print(f"no binary at {bin_}: cargo build --release -p infraguard-cli, or set INFRAGUARD_BIN", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(bin_, Path(tmp), "bench")
        spawn_once(bin_, root)  # warm the page cache and create the state files
        inits, lists = zip(*(spawn_once(bin_, root) for _ in range(args.runs)))
        floor = [version_once(bin_) for _ in range(args.runs)]
        rss = idle_rss_kb(bin_, root)
        flows = [anyio.run(seed_workflow, bin_, root, f"synthcoreai-bench{i}-dev") for i in range(args.workflow_runs)]
    result = {
        "binary": bin_,
        "runs": args.runs,
        "spawn_to_initialize_ms": {"median": statistics.median(inits), "min": min(inits), "p90": pct(list(inits), 0.9)},
        "spawn_to_tools_list_ms": {"median": statistics.median(lists), "min": min(lists), "p90": pct(list(lists), 0.9)},
        "spawn_to_exit_of_version_ms": {"median": statistics.median(floor), "min": min(floor)},
        "load_average_1m": os.getloadavg()[0],
        "seed_s3_workflow_s": {"median": statistics.median(flows), "min": min(flows), "max": max(flows), "runs": len(flows)},
        "idle_rss_mb": round(rss / 1024, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        i, l, f = result["spawn_to_initialize_ms"], result["spawn_to_tools_list_ms"], result["seed_s3_workflow_s"]
        print(f"binary: {bin_}")
        print(f"spawn -> initialize reply: median {i['median']:.2f} ms (min {i['min']:.2f}, p90 {i['p90']:.2f}) over {args.runs} runs")
        print(f"spawn -> tools/list reply: median {l['median']:.2f} ms (min {l['min']:.2f}, p90 {l['p90']:.2f}) over {args.runs} runs")
        v = result["spawn_to_exit_of_version_ms"]
        print(f"floor: spawn -> exit of `infraguard --version`: median {v['median']:.2f} ms (min {v['min']:.2f}); load average {result['load_average_1m']:.2f}")
        print(f"seed S3 workflow, Python client, spawn included: median {f['median'] * 1000:.1f} ms over {f['runs']} runs")
        print(f"idle RSS: {result['idle_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
