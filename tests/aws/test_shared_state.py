"""Two machines, one state: two project folders share one DynamoDB table.

What runs, all on 127.0.0.1:

- moto's server (someone else's emulator, from the test venv) holds the
  table, made by `infraguard state init`; it answers one request at a time,
  because its threaded server undoes concurrent writes when a transaction is
  cancelled (tests/aws/moto_serial.py), where DynamoDB's are isolated;
- one cloud both folders write to: `infraguard cloud serve` of a scratch
  project behind tests/aws/standin.py (STS and Cloud Control; it follows
  AWS's documented behaviour and was not run against AWS), whose request
  log shows every CreateResource that arrived;
- `one/` and `two/`: the same project checked out twice, `dev` and `prod` on
  the aws backend, `[state] backend = "dynamodb"`.

The claims tried: of two concurrent applies of one plan, one wins and the
other is told (50 trials, never a second CreateResource); an approval given
in one folder is what the other sees; a resource planned in one is locked
in the other, with who, where and since; an environment locked in one takes
no plan from the other; a held lock is removed only by a person; `audit
verify` holds from both, with one head.
"""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from test_aws_enforced import ACCOUNT, REGION, S3, WIDE, standin_config  # noqa: E402
from test_standin import binary, clean_env, start_backend, start_standin, stop_process  # noqa: E402

TABLE = "acme-infraguard-state"
TRIALS = int(os.environ.get("INFRAGUARD_RACE_TRIALS", "50"))


def moto_server() -> list[str]:
    """moto under one lock (tests/aws/moto_serial.py says why), from the venv that has moto."""
    try:
        import moto  # noqa: F401
    except ImportError:
        pytest.fail("moto is not installed in this Python: scripts/test.sh installs it (tests/aws/requirements.txt)")
    return [sys.executable, str(HERE / "moto_serial.py")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([*moto_server(), "-H", "127.0.0.1", "-p", str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env())
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("moto_server did not listen within 60 s")


class Team:
    """moto, the shared cloud and two checkouts of one project."""

    def __init__(self, root: Path):
        self.bin = binary()
        self.moto, self.moto_url = start_moto()
        self.backend, backend_url = start_backend(root / "backend")
        self.log = root / "requests.jsonl"
        self.standin, self.url = start_standin(standin_config(self.log, backend_url), root / "standin.json")
        self.aws = root / "aws"
        self.aws.mkdir()
        (self.aws / "credentials").write_text(
            f"[acme]\naws_access_key_id = {WIDE[0]}\naws_secret_access_key = {WIDE[1]}\n")
        (self.aws / "config").write_text(f"[profile acme]\nregion = {REGION}\n")
        self.one, self.two = root / "one", root / "two"
        for folder in (self.one, self.two):
            folder.mkdir()
            self.run(folder, "init", "--project", "Acme", "--prefix", "acme", check=True)
            (folder / "infraguard.toml").write_text(config_text(folder / "infraguard.toml"))

    def env(self) -> dict:
        env = clean_env()
        env.update({
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ENDPOINT_URL_DYNAMODB": self.moto_url,
            "AWS_CONFIG_FILE": str(self.aws / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.aws / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        return env

    def run(self, folder: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.bin, "-C", str(folder), *args], capture_output=True, text=True,
                              timeout=120, env=self.env(), stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            pytest.fail(f"infraguard {' '.join(args)} in {folder.name} exited {proc.returncode}:\n"
                        f"{proc.stdout}{proc.stderr}")
        assert WIDE[1] not in proc.stdout + proc.stderr, "a secret was printed"
        return proc

    def json(self, folder: Path, *args: str, code: int = 0):
        proc = self.run(folder, "--output", "json", *args)
        assert proc.returncode == code, f"{args} in {folder.name}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
        return json.loads(proc.stdout)

    def start(self, folder: Path, *args: str) -> subprocess.Popen:
        return subprocess.Popen([self.bin, "-C", str(folder), "--output", "json", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=self.env())

    def at_terminal(self, folder: Path, *args: str, answer: str) -> tuple[int, str]:
        """Run with a pseudo-terminal as its stdin and type `answer` at the prompt (a person)."""
        leader, follower = pty.openpty()
        proc = subprocess.Popen([self.bin, "-C", str(folder), *args], stdin=follower, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env())
        os.close(follower)
        os.write(leader, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=120)
        os.close(leader)
        return proc.returncode, out + err

    def creates(self) -> list[dict]:
        if not self.log.exists():
            return []
        lines = [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]
        return [r for r in lines if r["service"] == "cloudcontrol" and r["action"] == "CreateResource"]

    def close(self) -> None:
        stop_process(self.standin)
        stop_process(self.backend)
        self.moto.kill()
        self.moto.wait()


def config_text(path: Path) -> str:
    """The project's config with both environments on the shared cloud and the state in the table."""
    text = path.read_text()
    head = text.split("[environments.dev]")[0]
    envs = "".join(f"""
[environments.{name}]
backend = "aws"
profile = "acme"
region = "{REGION}"
account_id = "{ACCOUNT}"
read_only = {"true" if name == "prod" else "false"}
tag_value = "{tag}"
""" for name, tag in (("dev", "development"), ("prod", "production")))
    rest = text.split("[environments.prod]")[1]
    rest = rest[rest.find("\n[", 1):] if "\n[" in rest else ""
    return head + envs + rest + f"""
[state]
backend = "dynamodb"
table = "{TABLE}"
region = "{REGION}"
profile = "acme"
"""


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    t = Team(tmp_path_factory.mktemp("team"))
    try:
        made = t.json(t.one, "state", "init")
        assert made["created"] and made["deletion_protection"] and made["point_in_time_recovery"], made
        yield t
    finally:
        t.close()


def test_both_folders_read_one_state(team: Team):
    shown = team.json(team.two, "state", "show")
    assert shown == {"backend": "dynamodb", "table": TABLE, "region": REGION, "profile": "acme"}
    again = team.json(team.two, "state", "init")
    assert again["created"] is False, again
    # Nothing local: the checkouts keep no state.db of their own.
    assert not (team.one / ".infraguard" / "state.db").exists()
    assert not (team.two / ".infraguard" / "state.db").exists()


def test_concurrent_applies_of_one_plan_never_both_win(team: Team):
    for trial in range(TRIALS):
        name = f"acme-race-{trial}-dev"
        plan = team.json(team.one, "plan", "--env", "dev", "--type", S3, "--properties",
                         json.dumps({"BucketName": name}))
        assert plan["gate"]["decision"] == "auto", plan["gate"]
        before = len(team.creates())
        racers = [team.start(folder, "apply", plan["id"]) for folder in (team.one, team.two)]
        results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in racers]
        for p in racers:
            p.stdout.close()
            p.stderr.close()
        winners = [r for r in results if r[0] == 0]
        losers = [r for r in results if r[0] != 0]
        assert len(winners) == 1 and len(losers) == 1, f"trial {trial}: {results}"
        # The loser is told why, in words, and nothing was sent for it.
        told = losers[0][1] + losers[0][2]
        assert "another process" in told or "being applied" in told or "applied" in told, told
        creates = team.creates()[before:]
        assert len(creates) == 1, f"trial {trial}: {len(creates)} CreateResource calls: {creates}"
        shown = team.json(team.two, "show", plan["id"])
        assert shown["status"] == "applied", shown["status"]


def test_an_approval_given_in_one_folder_is_seen_in_the_other(team: Team):
    plan = team.json(team.one, "plan", "--env", "prod", "--type", S3, "--properties",
                     json.dumps({"BucketName": "acme-shared-approval-prod"}))
    assert plan["gate"]["decision"] != "auto", plan["gate"]
    approval = plan["gate"]["approval_id"]
    assert approval
    pending = team.json(team.two, "approvals")
    assert approval in [a["id"] for a in pending], pending
    code, text = team.at_terminal(team.two, "approve", approval, answer="yes")
    assert code == 0, text
    seen = team.json(team.one, "approvals", "--all")
    [mine] = [a for a in seen if a["id"] == approval]
    assert mine["status"] == "approved", mine
    assert mine["decided_by"].startswith("unverified:"), mine
    before = len(team.creates())
    applied = team.json(team.one, "apply", plan["id"])
    assert applied["plan"]["status"] == "applied" if "plan" in applied else True, applied
    assert len(team.creates()) == before + 1


def test_a_resource_planned_in_one_folder_is_locked_in_the_other(team: Team):
    first = team.json(team.one, "plan", "--env", "prod", "--type", S3, "--properties",
                      json.dumps({"BucketName": "acme-locked-prod"}))
    assert first["gate"]["decision"] != "auto", first["gate"]
    second = team.run(team.two, "plan", "--env", "prod", "--type", S3, "--properties",
                      json.dumps({"BucketName": "acme-locked-prod", "Tags": [{"Key": "x", "Value": "y"}]}))
    assert second.returncode == 3, second.stdout + second.stderr
    assert first["id"] in second.stdout + second.stderr
    locks = team.json(team.two, "state", "locks")
    [lock] = [l for l in locks if l["plan_id"] == first["id"]]
    assert lock["held"] is True and lock["env"] == "prod", lock
    assert lock["resource"] == f"{S3} `acme-locked-prod`", lock
    assert lock["host"] == socket.gethostname() and lock["since"] and "cli" in lock["who"], lock
    # Without a person at a terminal, nothing is removed.
    refused = team.run(team.two, "state", "unlock", lock["id"])
    assert refused.returncode != 0 and "Nothing changed" in refused.stderr, refused.stderr
    assert [l["id"] for l in team.json(team.one, "state", "locks")].count(lock["id"]) == 1
    # A person types yes: the lock goes, and the audit says who and what.
    code, text = team.at_terminal(team.two, "state", "unlock", lock["id"], "--note", "stuck", answer="yes")
    assert code == 0, text
    assert lock["id"] not in [l["id"] for l in team.json(team.one, "state", "locks")]
    log = team.json(team.one, "audit")
    [released] = [e for e in log if e["action"] == "lock.released"]
    assert released["actor"].startswith("unverified:"), released
    assert released["details"]["plan_id"] == first["id"] and released["details"]["held"] is True


def test_an_environment_locked_in_one_folder_takes_no_plan_from_the_other(team: Team):
    lock = team.json(team.one, "state", "lock", "--env", "prod", "--reason", "database migration")
    assert lock["held"] and lock["plan_id"] == "" and lock["what"] == "database migration", lock
    refused = team.run(team.two, "plan", "--env", "prod", "--type", S3, "--properties",
                       json.dumps({"BucketName": "acme-frozen-prod"}))
    assert refused.returncode == 3, refused.stdout + refused.stderr
    told = refused.stdout + refused.stderr
    assert lock["id"] in told and "database migration" in told and socket.gethostname() in told, told
    # dev is not locked.
    team.json(team.two, "plan", "--env", "dev", "--type", S3, "--properties",
              json.dumps({"BucketName": "acme-not-frozen-dev"}))
    code, text = team.at_terminal(team.two, "state", "unlock", lock["id"], answer="yes")
    assert code == 0, text
    team.json(team.two, "plan", "--env", "prod", "--type", S3, "--properties",
              json.dumps({"BucketName": "acme-thawed-prod"}))


def test_audit_verify_holds_from_both_folders_with_one_head(team: Team):
    one = team.json(team.one, "audit", "verify")
    two = team.json(team.two, "audit", "verify")
    assert one["ok"] and two["ok"], (one, two)
    assert one["head"] == two["head"] and one["entries"] == two["entries"] > 2 * TRIALS
