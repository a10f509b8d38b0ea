"""The trust boundary, attacked for real.

The agent is the project user's OS account: a shell, a pseudo-terminal, every
file that account can reach, MCP clients it starts itself. The guard runs as
its own account and holds the state, the policy, the local clouds and the
approvers' secrets. Each family below is one test, run as the project user
against a guarded project: it must fail with no cloud call (the guarded
cloud's request log, read as root, does not grow) and leave an audit record of
the attempt. Then the person's path, with a code from the enrolled secret (the
test reads it as root: it stands in for the phone), approves from the CLI, the
approval page in Chromium and MCP. Last, the same attacks against an advisory
project, where they work, and what `doctor` says there.

Families (the guard issue's list):
  1. a typed `yes` through script(1), a Python pty, tmux send-keys
  2. config and environment edits that loosen the policy
  3. shadow projects: -C elsewhere, symlinks to the guard's files
  4. the guard's files read or written directly; the socket spoken raw
  5. forged and replayed tokens; guessed approval-page paths
  6. an auto-accepting MCP client over stdio and over HTTP
  7. `cloud serve` writes
  8. audit rewriting
  9. wrong and replayed codes, and the lock after five
 10. enrolling without root
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from trust_harness import Accounts, Guard, Project, new_project, now_step

S3 = "AWS::S3::Bucket"
HUMAN = "human:"


# ---------- what every refusal must leave behind ----------


def refused_without_a_trace_in_the_cloud(project: Project, approval_id: str, requests_before: int) -> None:
    """The approval is still pending, and the guarded cloud saw no request."""
    assert project.approval(approval_id)["status"] == "pending"
    assert project.prod_requests() == requests_before
    assert project.prod_resources() == []


def audited(project: Project, action: str, since: int, **details: str) -> list[dict]:
    """Audit entries after `since` with this action (and these details)."""
    found = [
        e for e in project.audit()
        if e["seq"] > since and e["action"] == action and all(str((e.get("details") or {}).get(k)) == v for k, v in details.items())
    ]
    assert found, f"no `{action}` {details} in the audit after seq {since}: {[(e['seq'], e['action']) for e in project.audit()]}"
    return found


def last_seq(project: Project) -> int:
    return max((e["seq"] for e in project.audit()), default=0)


def from_the_agent(accounts: Accounts, entry: dict) -> None:
    """The guard names the caller by its socket peer: the project user's uid,
    never a human, whatever $USER said."""
    assert not entry["actor"].startswith(HUMAN), entry
    assert f"uid {accounts.dev_uid} " in entry["actor"], entry


# ---------- 1. a typed yes through a pseudo-terminal ----------


def test_1_a_typed_yes_through_a_pty_approves_nothing(accounts: Accounts, guarded: Project) -> None:
    plan = guarded.plan_prod_bucket("docs")
    a = plan["gate"]["approval_id"]
    before, since = guarded.prod_requests(), last_seq(guarded)
    ig = f"{accounts.bin} -C {guarded.root}"

    # script(1) gives `approve` a terminal and types yes; $USER claims alice.
    r = accounts.dev("script", "-qec", f"{ig} approve {a}", "/dev/null", input="yes\n", env=accounts.dev_env(USER="alice"))
    assert r.returncode != 0, r.stdout
    # A Python pty, as an expect script would.
    code = f"""
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv("{accounts.bin}", ["infraguard", "-C", "{guarded.root}", "approve", "{a}"])
time.sleep(0.5)
os.write(fd, b"yes\\n")
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"""
    r = accounts.dev_python(code)
    assert r.returncode != 0, r.stdout
    # tmux send-keys into a session running `approve`.
    session = f"ig{os.getpid()}"
    r = accounts.dev("tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", f"{ig} approve {a}; echo EXIT=$?; sleep 30")
    assert r.returncode == 0, r.stderr
    try:
        time.sleep(1.0)
        accounts.dev("tmux", "send-keys", "-t", session, "yes", "Enter")
        deadline = time.monotonic() + 20
        pane = ""
        while time.monotonic() < deadline and "EXIT=" not in pane:
            time.sleep(0.3)
            pane = accounts.dev("tmux", "capture-pane", "-p", "-t", session).stdout
        assert "EXIT=" in pane and "EXIT=0" not in pane, pane
    finally:
        accounts.dev("tmux", "kill-session", "-t", session)

    # The plan cannot be applied either.
    r = guarded.ig("apply", plan["id"])
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    refused_without_a_trace_in_the_cloud(guarded, a, before)
    tries = audited(guarded, "approval.refused", since, approval_id=a)
    assert len(tries) >= 3, tries
    for e in tries:
        from_the_agent(accounts, e)
    # $USER=alice named the caller, as an agent: a label, not a person.
    assert any(e["actor"].startswith("agent:alice via cli") for e in tries), tries


# ---------- 2. config and environment edits ----------


def test_2_config_and_environment_cannot_loosen_the_policy(accounts: Accounts, guarded: Project) -> None:
    def loosen(text: str) -> str:
        text = text.replace('read_only = true', 'read_only = false')
        text = text.replace('security_scanning = true', 'security_scanning = false')
        text = text.replace('cost_threshold_usd = "10.00"', 'cost_threshold_usd = "1000000"\nauto_promote_low_cost = true')
        return text

    guarded.write_toml(loosen)
    assert 'read_only = true' not in (guarded.root / "infraguard.toml").read_text()
    since = last_seq(guarded)
    env = accounts.dev_env(INFRAGUARD_READONLY="false", SECURITY_SCANNING="disabled")
    before = guarded.prod_requests()

    plan = guarded.ig_json("plan", "--env", "prod", "--type", S3, "--purpose", "loose", env=env)
    assert plan["gate"]["decision"] != "auto", plan["gate"]
    assert any("read-only" in r for r in plan["gate"]["reasons"]), plan["gate"]
    r = guarded.ig("apply", plan["id"], env=env)
    assert r.returncode == 3, (r.stdout, r.stderr)

    # The guard's policy is unchanged, doctor says what it ignored, and the
    # audit records it.
    shown = guarded.ig("guard", "policy", "show")
    assert shown.returncode == 0, shown.stderr
    assert "read_only = true" in shown.stdout and 'cost_threshold_usd = "10.00"' in shown.stdout, shown.stdout
    doctor = guarded.ig_json("doctor", env=env)
    notes = " ".join(doctor["notes"])
    assert "ignored" in notes and "read_only" in notes, doctor
    assert "auto_promote_low_cost = true ignored" in notes, doctor
    assert {e["name"]: e["level"] for e in doctor["environments"]} == {"dev": "guarded", "prod": "guarded"}, doctor
    envs = guarded.ig_json("envs", env=env)
    assert {e["name"]: e["level"] for e in envs["environments"]} == {"dev": "guarded", "prod": "guarded"}, envs
    ignored = audited(guarded, "policy.workspace_ignored", since)
    from_the_agent(accounts, ignored[0])

    # Loosening through the guard needs an approver's code: none, or a wrong one, fails.
    for stdin in ("\n", "123456\n", "yes\n"):
        r = guarded.ig("guard", "policy", "set", "environments.prod.read_only", "false", input=stdin)
        assert r.returncode != 0, (stdin, r.stdout)
        # Automated promotion is a loosening too.
        r = guarded.ig("guard", "policy", "set", "approval.auto_promote_low_cost", "true", input=stdin)
        assert r.returncode != 0, (stdin, r.stdout)
    shown = guarded.ig("guard", "policy", "show")
    assert "read_only = true" in shown.stdout
    assert "auto_promote_low_cost = true" not in shown.stdout
    refused_without_a_trace_in_the_cloud(guarded, plan["gate"]["approval_id"], before)


# ---------- 3. shadow projects ----------


def test_3_a_shadow_project_cannot_reach_the_guarded_state(accounts: Accounts, guarded: Project, guard: Guard) -> None:
    plan = guarded.plan_prod_bucket("shadowed")
    a = plan["gate"]["approval_id"]
    before = guarded.prod_requests()
    project_dir = guard.project_dir(guarded.id)

    # (a) A copy of the project without [guard]: an advisory project with
    # its own local clouds. Whatever it approves stays there.
    shadow = new_project(accounts, None)
    r = shadow.ig("plan", "--env", "prod", "--type", S3, "--purpose", "shadowed", "--output", "json")
    assert r.returncode == 0, r.stderr

    # (b) Its cloud and state symlinked to the guard's files: unreadable.
    for name in ("cloud-prod.db", "state.db"):
        link = shadow.root / ".infraguard" / name
        accounts.dev("rm", "-f", str(link))
        r = accounts.dev("ln", "-s", str(project_dir / name), str(link))
        assert r.returncode == 0, r.stderr
    r = shadow.ig("resources", "list", "--env", "prod")
    assert r.returncode != 0, r.stdout
    r = accounts.dev("script", "-qec", f"{accounts.bin} -C {shadow.root} approve {a}", "/dev/null", input="yes\n")
    assert r.returncode != 0

    # (c) -C into the guard's home: not even listable.
    r = accounts.dev(str(accounts.bin), "-C", str(project_dir), "resources", "list", "--env", "prod")
    assert r.returncode != 0

    # (d) The adopted project's id in another folder's infraguard.toml goes
    # through the same guard, with the same policy.
    other = new_project(accounts, None)
    text = (guarded.root / "infraguard.toml").read_text()
    other.write_toml(lambda _: text.replace('read_only = true', 'read_only = false'))
    accounts.dev("rm", "-rf", str(other.root / ".infraguard"))
    r = accounts.dev("script", "-qec", f"{accounts.bin} -C {other.root} approve {a}", "/dev/null", input="yes\n")
    assert r.returncode != 0
    r = other.ig("apply", plan["id"])
    assert r.returncode == 3, (r.stdout, r.stderr)

    refused_without_a_trace_in_the_cloud(guarded, a, before)


# ---------- 4. the guard's files and its socket ----------


def test_4_the_guards_files_are_out_of_reach_and_the_socket_names_the_caller(accounts: Accounts, guarded: Project, guard: Guard) -> None:
    plan = guarded.plan_prod_bucket("files")
    a = plan["gate"]["approval_id"]
    before, since = guarded.prod_requests(), last_seq(guarded)
    files = guard.files()
    assert any(p.name == "state.db" for p in files) and any(p.name == "factors.key" for p in files), files

    # Every file and folder of the guard: 0600 / 0700, owned by the guard.
    for p in files:
        st = p.lstat()
        assert st.st_uid == accounts.guard_uid, p
        assert st.st_mode & 0o077 == 0, f"{p} is {oct(st.st_mode)}"

    # Read, write, list, sqlite UPDATE: all refused by the kernel.
    probe = f"""
import json, os, sqlite3, sys
results = {{}}
for path in {json.dumps([str(p) for p in files] + [str(guard.home)])}:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        results[path] = "read"
    except PermissionError:
        results[path] = "denied"
    except FileNotFoundError:
        results[path] = "denied"
try:
    db = sqlite3.connect("{guard.project_dir(guarded.id) / 'state.db'}")
    db.execute("UPDATE approvals SET status = 'approved'")
    db.commit()
    results["update"] = "done"
except sqlite3.Error as e:
    results["update"] = "refused: " + str(e)
print(json.dumps(results))
"""
    r = accounts.dev_python(probe)
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    assert results.pop("update").startswith("refused"), results
    assert set(results.values()) == {"denied"}, results

    # The socket spoken raw: a caller claiming to be a human, through the
    # approval page's channel, with a confirmation. The guard replaces the
    # peer with the socket's credentials and refuses the confirmation.
    request = {
        "type": "engine",
        "project": guarded.id,
        "caller": {"name": "human:alice", "channel": "approval-page", "peer": {"uid": 0, "pid": 1, "user": "root"}},
        "config": None,
        "vars": {},
        "request": {"op": "approve", "approval_id": a, "proof": {"kind": "confirmation", "how": "clicked Approve"}, "note": None},
    }
    raw = f"""
import json, socket
s = socket.socket(socket.AF_UNIX)
s.connect("{guard.socket}")
s.sendall({json.dumps(json.dumps(request))}.encode() + b"\\n")
print(s.makefile().read())
"""
    r = accounts.dev_python(raw)
    assert r.returncode == 0, r.stderr
    reply = [json.loads(line) for line in r.stdout.splitlines() if line.strip()][-1]
    assert "proves nothing here" in reply["error"]["message"], reply
    refused_without_a_trace_in_the_cloud(guarded, a, before)
    [entry] = audited(guarded, "approval.refused", since, approval_id=a, proof="confirmation")
    from_the_agent(accounts, entry)
    # The name it gave is a label: it cannot spell another kind.
    assert entry["actor"].startswith("agent:human_alice via approval-page"), entry


# ---------- 5. forged and replayed tokens, guessed pages ----------


def test_5_forged_and_replayed_tokens_and_guessed_pages(accounts: Accounts, guarded: Project, guard: Guard) -> None:
    from mcp import Client
    from mcp_harness import ok, refused, session, walk

    async def run() -> None:
        async with Client(agent_server(accounts, guarded), mode="legacy") as client:
            creds = await session(client, {"environment": "prod"})
            chain = await walk(client, creds, S3, {"environment": "prod"}, properties={"BucketName": "acme-tokens-prod"})
            args = chain.mutation_args(environment="prod")
            # A forged explained token: one character changed.
            t = args["explained_token"]
            forged = dict(args, explained_token=t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1])
            msg = refused(await client.call_tool("create_resource", forged))
            assert "token" in msg.lower(), msg
            # A made-up security token.
            msg = refused(await client.call_tool("create_resource", dict(args, security_scan_token="scan-" + "0" * 40)))
            assert "token" in msg.lower(), msg
            # The real chain: pending, not applied (no human).
            first = await client.call_tool("create_resource", args)
            text = first.content[0].text
            assert "pending" in text.lower() or first.is_error, text
            assert guarded.prod_resources() == []
            return text

    before = guarded.prod_requests()
    run_async(run)
    [pending] = guarded.ig_json("approvals")
    assert guarded.prod_requests() == before

    # Guessed page paths: 404, whatever the shape.
    port = int(guard.hello["page"].rsplit(":", 1)[1])
    for path in ("/a/" + "0" * 48, "/a/" + pending["id"], "/" + pending["id"], "/a/../state.db"):
        status = http_status(port, path)
        assert status in (400, 404, 410), (path, status)
    refused_without_a_trace_in_the_cloud(guarded, pending["id"], before)


# ---------- 6. an auto-accepting MCP client ----------


class AlwaysAccept:
    """The agent's own client: accepts every elicitation, form or URL."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, context, params):
        from mcp.types import ElicitResult

        self.asked.append(getattr(params, "mode", "form") or "form")
        return ElicitResult(action="accept", content={"note": "ok"} if getattr(params, "mode", "form") != "url" else None)


def agent_server(accounts: Accounts, project: Project, *serve_args: str):
    """`infraguard serve` started by the agent: as the project user."""
    from mcp import StdioServerParameters

    return StdioServerParameters(
        command="setpriv",
        args=[f"--reuid={accounts.dev_user}", f"--regid={accounts.dev_user}", "--init-groups", str(accounts.bin), "-C", str(project.root), "serve", *serve_args],
        env=accounts.dev_env(),
        cwd=str(project.root),
    )


@pytest.mark.parametrize("transport", ["stdio-legacy", "stdio-2026-07-28", "http"])
def test_6_an_auto_accepting_mcp_client_approves_nothing(accounts: Accounts, guarded: Project, transport: str) -> None:
    from mcp import Client
    from mcp_harness import free_port, ok, session, walk

    user = AlwaysAccept()
    before, since = guarded.prod_requests(), last_seq(guarded)
    results: list = []

    async def attack(target, mode: str) -> None:
        async with Client(target, mode=mode, elicitation_callback=user) as client:
            creds = await session(client, {"environment": "prod"})
            chain = await walk(client, creds, S3, {"environment": "prod"}, properties={"BucketName": "acme-accepted-prod"})
            for _ in range(3):  # and the retries an eager agent makes
                results.append(await client.call_tool("create_resource", chain.mutation_args(environment="prod")))

    if transport == "http":
        port = free_port()
        server = subprocess.Popen(
            accounts.as_dev(str(accounts.bin), "-C", str(guarded.root), "serve", "--http", f"127.0.0.1:{port}"),
            env=accounts.dev_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            wait_listening(port, server)
            run_async(attack, f"http://127.0.0.1:{port}/mcp", "legacy")
        finally:
            server.kill()
            server.wait()
    else:
        run_async(attack, agent_server(accounts, guarded), transport.removeprefix("stdio-"))

    [a] = guarded.ig_json("approvals")
    for r in results:
        payload = r.structured_content or {}
        text = r.content[0].text if r.content else ""
        assert payload.get("status") != "SUCCESS", text
        assert a["id"] in text, text
        assert payload.get("approval_page", "").startswith("http://127.0.0.1:"), text
    refused_without_a_trace_in_the_cloud(guarded, a["id"], before)
    # What the server asked, it asked as a URL (the page), never a form a
    # client could accept.
    assert "form" not in user.asked, user.asked
    for e in guarded.audit():
        if e["seq"] > since:
            assert not e["actor"].startswith(HUMAN), e


# ---------- 7. cloud serve ----------


def test_7_cloud_serve_reads_but_cannot_write_the_guarded_cloud(accounts: Accounts, guarded: Project, guard: Guard) -> None:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    # A bucket the person approved, so that there is something to delete.
    plan = guarded.plan_prod_bucket("served")
    assert guarded.ig("approve", plan["gate"]["approval_id"], input=guard.approvers["alice"].next_code() + "\n").returncode == 0
    assert guarded.ig("apply", plan["id"]).returncode == 0
    before, since = guarded.prod_requests(), last_seq(guarded)

    for env in ("prod", "dev"):
        server = subprocess.Popen(
            accounts.as_dev(str(accounts.bin), "-C", str(guarded.root), "cloud", "serve", "--env", env, "--addr", "127.0.0.1:0"),
            env=accounts.dev_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            line = server.stdout.readline()
            assert "read-only" in line and "guarded" in line, line
            url = line.split(" at ", 1)[1].split()[0]
            cc = boto3.client(
                "cloudcontrol", endpoint_url=url, region_name="us-east-1",
                aws_access_key_id="test", aws_secret_access_key="test",
                config=Config(retries={"max_attempts": 1, "mode": "standard"}),
            )
            listed = cc.list_resources(TypeName=S3)["ResourceDescriptions"]
            if env == "prod":
                assert [r["Identifier"] for r in listed] == ["acme-served-prod"], listed
                with pytest.raises(ClientError) as refused:
                    cc.delete_resource(TypeName=S3, Identifier="acme-served-prod")
                assert refused.value.response["Error"]["Code"] == "AccessDeniedException", refused.value.response
            with pytest.raises(ClientError) as refused:
                cc.create_resource(TypeName=S3, DesiredState=json.dumps({"BucketName": f"acme-raw-{env}"}))
            assert refused.value.response["Error"]["Code"] == "AccessDeniedException", refused.value.response
            assert "skip the gate" in refused.value.response["Error"]["Message"]
        finally:
            server.stdin.close()
            server.wait(timeout=10)

    assert guarded.prod_requests() == before
    assert guarded.prod_resources() == [(S3, "acme-served-prod")]
    tries = audited(guarded, "wire.write_refused", since)
    assert len(tries) == 3, tries
    for e in tries:
        from_the_agent(accounts, e)


# ---------- 8. audit rewriting ----------


def test_8_the_audit_cannot_be_rewritten(accounts: Accounts, guarded: Project, guard: Guard) -> None:
    plan = guarded.plan_prod_bucket("audited")
    a = plan["gate"]["approval_id"]
    accounts.dev("script", "-qec", f"{accounts.bin} -C {guarded.root} approve {a}", "/dev/null", input="yes\n")
    entries = guarded.audit()
    assert any(e["action"] == "approval.refused" for e in entries)

    # A local state.db with an approved row and a clean chain of its own: the
    # adopted project never reads it.
    accounts.dev("mkdir", "-p", str(guarded.root / ".infraguard"))
    forged = f"""
import sqlite3
db = sqlite3.connect("{guarded.root / '.infraguard' / 'state.db'}")
db.execute("CREATE TABLE IF NOT EXISTS approvals (id TEXT, status TEXT)")
db.execute("INSERT INTO approvals VALUES ('{a}', 'approved')")
db.commit()
"""
    assert accounts.dev_python(forged).returncode == 0
    # The guard's audit database: not writable, not even openable.
    r = accounts.dev_python(f"import sqlite3; sqlite3.connect('{guard.project_dir(guarded.id) / 'state.db'}').execute('DELETE FROM audit')")
    assert r.returncode != 0

    v = guarded.ig_json("audit", "verify")
    assert v["ok"] is True, v
    after = guarded.audit()
    assert [e["hash"] for e in after[: len(entries)]] == [e["hash"] for e in entries]
    assert guarded.approval(a)["status"] == "pending"
    r = guarded.ig("apply", plan["id"])
    assert r.returncode == 3


# ---------- 9. wrong and replayed codes, the lock ----------


def test_9_wrong_and_replayed_codes_and_the_lock(accounts: Accounts, guarded: Project, guard: Guard) -> None:
    alice = guard.approvers["alice"]
    first = guarded.plan_prod_bucket("first")
    second = guarded.plan_prod_bucket("second")
    a1, a2 = first["gate"]["approval_id"], second["gate"]["approval_id"]
    since = last_seq(guarded)

    # The person approves the first with a valid code.
    code = alice.next_code()
    r = guarded.ig("approve", a1, input=code + "\n")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert guarded.approval(a1)["decided_by"].startswith("human:alice via code"), guarded.approval(a1)

    # The agent saw that code (a shared terminal, a log): replayed, refused.
    before = guarded.prod_requests()
    r = guarded.ig("approve", a2, input=code + "\n")
    assert r.returncode == 3, (r.stdout, r.stderr)
    # Wrong codes, until the guard locks approvals.
    for _ in range(4):
        r = guarded.ig("approve", a2, input=alice.wrong_code() + "\n")
        assert r.returncode == 3
    # Locked: even the right code is refused now (it would be the sixth try).
    r = guarded.ig("approve", a2, input=alice.next_code() + "\n")
    assert r.returncode == 3
    assert "lock" in (r.stdout + r.stderr).lower(), r.stderr
    refused_without_a_trace_in_the_cloud(guarded, a2, before)
    tries = audited(guarded, "approval.refused", since, approval_id=a2)
    assert len(tries) >= 6, tries
    for e in tries:
        from_the_agent(accounts, e)


# ---------- 10. enrolling without root ----------


def test_10_enrolling_without_root(accounts: Accounts, guarded: Project, guard: Guard) -> None:
    def approvers() -> list[str]:
        out = subprocess.run([str(accounts.bin), "guard", "approvers", "--socket", str(guard.socket), "--output", "json"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        rows = data["approvers"] if isinstance(data, dict) else data
        return sorted(a["name"] if isinstance(a, dict) else a for a in rows)

    assert approvers() == ["alice", "bob"]
    # The agent enrols itself: refused before any secret is shown.
    r = guarded.ig("guard", "enroll", "--approver", "mallory", "--socket", str(guard.socket), input="000000\n")
    assert r.returncode != 0 and "otpauth" not in r.stdout, r.stdout
    # Vouched for by alice with a wrong code: refused.
    r = guarded.ig("guard", "enroll", "--approver", "mallory", "--vouching-approver", "alice", "--socket", str(guard.socket), input=guard.approvers["alice"].wrong_code() + "\n000000\n")
    assert r.returncode != 0 and "otpauth" not in r.stdout, r.stdout
    assert approvers() == ["alice", "bob"]


# ---------- the person's path ----------


def test_the_person_approves_from_the_cli_and_the_plan_applies(accounts: Accounts, guarded: Project, guard: Guard) -> None:
    plan = guarded.plan_prod_bucket("person")
    a = plan["gate"]["approval_id"]
    r = guarded.ig("approve", a, "--approver", "bob", input=guard.approvers["bob"].next_code() + "\n")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "human:bob" in r.stdout, r.stdout
    r = guarded.ig("apply", plan["id"])
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert guarded.prod_resources() == [(S3, "acme-person-prod")]
    granted = [e for e in guarded.audit() if e["action"] == "approval.granted"]
    assert granted and granted[-1]["actor"].startswith("human:bob via code via cli"), granted
    assert f"uid {accounts.dev_uid} " in granted[-1]["actor"], granted
    assert guarded.ig_json("audit", "verify")["ok"] is True


def test_the_person_approves_on_the_page_and_the_agents_retry_applies(accounts: Accounts, guarded: Project, guard: Guard) -> None:
    from mcp import Client
    from mcp_harness import ok, session, walk

    playwright_api = pytest.importorskip("playwright.sync_api")
    alice = guard.approvers["alice"]
    shown: dict = {}

    async def agent_asks() -> None:
        async with Client(agent_server(accounts, guarded), mode="legacy") as client:
            creds = await session(client, {"environment": "prod"})
            chain = await walk(client, creds, S3, {"environment": "prod"}, properties={"BucketName": "acme-paged-prod"})
            first = await client.call_tool("create_resource", chain.mutation_args(environment="prod"))
            shown["first"] = first.structured_content or {}
            shown["page"] = shown["first"].get("approval_page")
            assert shown["page"], first.content[0].text
            assert guarded.prod_resources() == []

            # The person opens the page and types the code from the phone.
            await anyio.to_thread.run_sync(approve_on_page, playwright_api, shown["page"], alice.next_code())

            # The agent retries the same call: now it applies.
            again = ok(await client.call_tool("create_resource", chain.mutation_args(environment="prod")))
            shown["again"] = again

    run_async(agent_asks)
    print(json.dumps(shown["again"], indent=1))
    assert shown["again"]["status"] == "SUCCESS", shown["again"]
    assert shown["again"]["approved_by"].startswith("human:alice via code via approval-page"), shown["again"]
    assert guarded.prod_resources() == [(S3, "acme-paged-prod")]


def approve_on_page(playwright_api, url: str, code: str) -> None:
    chromium = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        try:
            page = browser.new_page()
            page.goto(url)
            playwright_api.expect(page.locator("#code")).to_be_focused()
            page.keyboard.type(code)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            playwright_api.expect(page.locator("h1")).to_have_text("Approved")
            shots = Path(__file__).resolve().parents[2] / "target" / "page-screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "guarded-approved.png"), full_page=True)
        finally:
            browser.close()


def test_the_person_loosens_the_policy_with_a_code(accounts: Accounts, guarded: Project, guard: Guard) -> None:
    r = guarded.ig("guard", "policy", "set", "approval.cost_threshold_usd", "25", input=guard.approvers["alice"].next_code() + "\n")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert 'cost_threshold_usd = "25' in guarded.ig("guard", "policy", "show").stdout


# ---------- the same attacks, advisory ----------


def test_advisory_projects_say_what_an_agent_can_do_there(accounts: Accounts, advisory: Project) -> None:
    from mcp import Client
    from mcp_harness import ok, session, walk

    doctor = advisory.ig_json("doctor")
    levels = {e["name"]: e for e in doctor["environments"]}
    assert levels["prod"]["level"] == "advisory" and levels["dev"]["level"] == "advisory", doctor
    assert any("get around" in r for r in levels["prod"]["reasons"]), levels["prod"]
    assert levels["prod"]["fixes"], levels["prod"]
    envs = advisory.ig_json("envs")
    assert {e["name"]: e["level"] for e in envs["environments"]} == {"dev": "advisory", "prod": "advisory"}, envs

    # script(1) typing yes approves here, recorded as unverified.
    plan = advisory.ig_json("plan", "--env", "prod", "--type", S3, "--purpose", "yes")
    a = plan["gate"]["approval_id"]
    r = accounts.dev("script", "-qec", f"{accounts.bin} -C {advisory.root} approve {a}", "/dev/null", input="yes\n")
    assert r.returncode == 0, r.stdout
    [decided] = [x for x in advisory.ig_json("approvals", "--all") if x["id"] == a]
    assert decided["status"] == "approved" and decided["decided_by"].startswith("unverified:"), decided

    # An auto-accepting client approves too, as unverified.
    user = AlwaysAccept()

    async def run() -> dict:
        async with Client(agent_server(accounts, advisory), mode="legacy", elicitation_callback=user) as client:
            creds = await session(client, {"environment": "prod"})
            chain = await walk(client, creds, S3, {"environment": "prod"}, properties={"BucketName": "acme-accepted-prod"})
            return ok(await client.call_tool("create_resource", chain.mutation_args(environment="prod")))

    created = run_async(run)
    assert created["status"] == "SUCCESS" and created["approved_by"].startswith("unverified:"), created

    # `cloud serve` of read-only prod takes no writes here either (the agent
    # could edit read_only first: that is what advisory means).
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    server = subprocess.Popen(
        accounts.as_dev(str(accounts.bin), "-C", str(advisory.root), "cloud", "serve", "--env", "prod", "--addr", "127.0.0.1:0"),
        env=accounts.dev_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = server.stdout.readline()
        assert "read-only" in line, line
        cc = boto3.client(
            "cloudcontrol", endpoint_url=line.split(" at ", 1)[1].split()[0], region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )
        with pytest.raises(ClientError) as refused:
            cc.delete_resource(TypeName=S3, Identifier="acme-accepted-prod")
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    assert [e for e in advisory.audit() if e["action"] == "wire.write_refused"]
    # No advisory record ever claims a human.
    assert not [e for e in advisory.audit() if e["actor"].startswith(HUMAN)]


# ---------- helpers ----------


def run_async(fn, *args):
    """anyio.run on a thread of its own: Playwright's sync API (the page
    tests, and the page step here) keeps an event loop on the main thread."""
    import threading

    out: dict = {}

    def target() -> None:
        try:
            out["value"] = anyio.run(fn, *args)
        except BaseException as e:  # re-raised on the test's thread
            out["error"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def http_status(port: int, path: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        head = s.recv(64).decode(errors="replace")
    return int(head.split()[1])


def wait_listening(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}: {proc.stderr.read().decode()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the HTTP server did not listen in 20 s")
