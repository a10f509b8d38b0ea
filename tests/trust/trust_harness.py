"""Harness of the trust-boundary suite (test_attacks.py, test_install.py): real OS accounts.
A unique module name, so that another test folder's conftest cannot shadow it;
conftest.py exposes its fixtures.

The suite needs root (CI runs as root): it creates two accounts for the
session and removes them at the end:

- the guard's account (`igg…`, a system account with no shell), which runs
  `infraguard guard run` from a root-owned copy of the binary, as
  `guard install` does;
- the project user (`igd…`, with a home), who stands for the agent: every
  attack runs as this account, with a shell, a pseudo-terminal and every file
  the account can reach. It is a member of the guard's group, so it can reach
  the guard's socket, and of nothing else.

Each test gets its own guard (home, socket, approvers), so that the guard-wide
lock after five wrong codes and the single-use codes of one test never spill
into another. The enrolled TOTP secret is read by the test, as root: it stands
in for the approver's phone.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "mcp"))

STEP = 30  # RFC 6238 time step, seconds
SYSTEM_PYTHON = "/usr/bin/python3"


def _binary() -> Path:
    p = Path(os.environ.get("INFRAGUARD_BIN", REPO / "target" / "debug" / "infraguard"))
    assert p.exists(), f"{p} does not exist: run `cargo build -p infraguard-cli` (scripts/test.sh does)"
    return p


def _need_root() -> None:
    if os.geteuid() == 0:
        return
    message = "the trust suite creates OS accounts and runs the guard as its own: it needs root (CI runs as root)"
    if os.environ.get("INFRAGUARD_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _run(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=True, capture_output=True, text=True, timeout=60, **kw)


# ---------- TOTP (RFC 6238), the approver's phone ----------


def totp(secret_b32: str, step: int) -> str:
    key = base64.b32decode(secret_b32 + "=" * ((8 - len(secret_b32) % 8) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 15
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def now_step() -> int:
    return int(time.time()) // STEP


@dataclass
class Approver:
    """An enrolled approver: the secret is what their phone holds."""

    name: str
    secret: str
    last_step: int
    used: list[str] = field(default_factory=list)

    def next_code(self) -> str:
        """A code the guard has not seen: the next unused step, within the
        guard's ±1 step window (waits for the clock when both neighbours of
        now are spent)."""
        step = max(self.last_step + 1, now_step() - 1)
        while step > now_step() + 1:
            time.sleep(0.5)
        self.last_step = step
        code = totp(self.secret, step)
        self.used.append(code)
        return code

    def wrong_code(self) -> str:
        """A six-digit code that no step near now produces."""
        near = {totp(self.secret, s) for s in range(now_step() - 3, now_step() + 4)}
        for candidate in (f"{n:06d}" for n in range(1_000_000)):
            if candidate not in near:
                return candidate
        raise AssertionError("unreachable")


# ---------- accounts ----------


@dataclass
class Accounts:
    base: Path
    bin: Path
    guard_user: str
    dev_user: str
    dev_home: Path
    dev_uid: int
    guard_uid: int

    def dev_env(self, **extra: str) -> dict[str, str]:
        env = {
            "HOME": str(self.dev_home),
            "USER": self.dev_user,
            "LOGNAME": self.dev_user,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TMUX_TMPDIR": str(self.dev_home),
        }
        env.update(extra)
        return env

    def as_dev(self, *args: str) -> list[str]:
        """argv that runs `args` as the project user (the agent)."""
        return ["setpriv", f"--reuid={self.dev_user}", f"--regid={self.dev_user}", "--init-groups", *args]

    def as_guard(self, *args: str) -> list[str]:
        return ["setpriv", f"--reuid={self.guard_user}", f"--regid={self.guard_user}", "--init-groups", *args]

    def dev(self, *args: str, cwd: Path | None = None, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a command as the project user."""
        return subprocess.run(
            self.as_dev(*args),
            cwd=cwd or self.dev_home,
            input=input,
            capture_output=True,
            text=True,
            env=env or self.dev_env(),
            timeout=timeout,
        )

    def dev_python(self, code: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Python code run as the project user (the agent's own scripts),
        with the system's interpreter: the test's own may sit in a folder
        that account cannot enter."""
        return self.dev(SYSTEM_PYTHON, "-c", code, cwd=cwd, env=env)


@pytest.fixture(scope="session")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Accounts]:
    _need_root()
    tag = secrets.token_hex(3)
    guard_user, dev_user = f"igg{tag}", f"igd{tag}"
    base = Path(f"/tmp/igtrust-{tag}")
    base.mkdir(mode=0o755)
    os.chmod(base, 0o755)
    bindir = base / "bin"
    bindir.mkdir(mode=0o755)
    binary = bindir / "infraguard"
    # A root-owned copy, as `guard install` makes: the guard's account runs
    # a binary the agent cannot swap.
    shutil.copy2(_binary(), binary)
    os.chmod(binary, 0o755)
    home = base / "home"
    created: list[str] = []
    try:
        _run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", guard_user)
        created.append(guard_user)
        _run("useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", "--user-group", dev_user)
        created.append(dev_user)
        # The project user may reach the guard's socket (0660, the guard's group).
        _run("usermod", "-aG", guard_user, dev_user)
        yield Accounts(
            base=base,
            bin=binary,
            guard_user=guard_user,
            dev_user=dev_user,
            dev_home=home,
            dev_uid=int(_run("id", "-u", dev_user).stdout),
            guard_uid=int(_run("id", "-u", guard_user).stdout),
        )
    finally:
        subprocess.run(["pkill", "-u", dev_user], capture_output=True)
        subprocess.run(["pkill", "-u", guard_user], capture_output=True)
        time.sleep(0.2)
        for user in reversed(created):
            subprocess.run(["userdel", "-r", user], capture_output=True)
            subprocess.run(["groupdel", user], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


# ---------- the guard ----------


class Guard:
    """`infraguard guard run` as the guard's account, stopped when its
    standard input closes."""

    def __init__(self, accounts: Accounts, name: str) -> None:
        self.accounts = accounts
        self.dir = accounts.base / name
        self.dir.mkdir(mode=0o755)
        os.chown(self.dir, accounts.guard_uid, -1)
        os.chmod(self.dir, 0o755)
        self.home = self.dir / "home"
        self.socket = self.dir / "guard.sock"
        self.log = open(self.dir.with_suffix(".log"), "w+")
        self.proc = subprocess.Popen(
            accounts.as_guard(
                str(accounts.bin), "guard", "run",
                "--home", str(self.home), "--socket", str(self.socket),
                "--group", accounts.guard_user, "--stop-on-stdin-close",
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env={"PATH": "/usr/bin:/bin", "HOME": str(self.dir), "LANG": "C.UTF-8"},
        )
        line = self.proc.stdout.readline()
        if not line:
            self.log.seek(0)
            raise AssertionError(f"the guard did not start: {self.log.read()}")
        self.hello = json.loads(line)
        assert self.hello["uid"] == accounts.guard_uid, self.hello
        self.approvers: dict[str, Approver] = {}

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def enroll(self, name: str) -> Approver:
        """Root enrols an approver: the URL is shown once; the first code
        from the new authenticator finishes it."""
        p = subprocess.Popen(
            [str(self.accounts.bin), "guard", "enroll", "--approver", name, "--socket", str(self.socket), "--output", "json"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        start = json.loads(p.stdout.readline())
        url = urllib.parse.urlparse(start["otpauth_url"])
        secret = urllib.parse.parse_qs(url.query)["secret"][0]
        step = now_step()
        out, err = p.communicate(totp(secret, step) + "\n", timeout=30)
        assert p.returncode == 0, f"enrol {name}: {out} {err}"
        approver = Approver(name, secret, step)
        self.approvers[name] = approver
        return approver

    def project_dir(self, project_id: str) -> Path:
        return self.home / "projects" / project_id

    def cloud_requests(self, project_id: str, env: str) -> int:
        """Mutation requests the guarded local cloud has received (read as root)."""
        with contextlib.closing(sqlite3.connect(self.project_dir(project_id) / f"cloud-{env}.db")) as db:
            return db.execute("SELECT count(*) FROM requests").fetchone()[0]

    def cloud_resources(self, project_id: str, env: str) -> list[tuple[str, str]]:
        with contextlib.closing(sqlite3.connect(self.project_dir(project_id) / f"cloud-{env}.db")) as db:
            return sorted(db.execute("SELECT type, identifier FROM resources").fetchall())

    def files(self) -> list[Path]:
        return sorted(p for p in self.home.rglob("*"))


@dataclass
class Project:
    """A project folder owned by the project user."""

    accounts: Accounts
    root: Path
    guard: Guard | None = None

    @property
    def id(self) -> str:
        return tomllib.loads((self.root / "infraguard.toml").read_text())["guard"]["project"]

    def ig(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return self.accounts.dev(str(self.accounts.bin), *args, cwd=self.root, input=input, env=env)

    def ig_json(self, *args: str, env: dict[str, str] | None = None) -> Any:
        p = self.ig(*args, "--output", "json", env=env)
        assert p.returncode == 0, f"{args}: exit {p.returncode}: {p.stdout} {p.stderr}"
        return json.loads(p.stdout)

    def plan_prod_bucket(self, purpose: str) -> dict[str, Any]:
        plan = self.ig_json("plan", "--env", "prod", "--type", "AWS::S3::Bucket", "--purpose", purpose)
        assert plan["gate"]["approval_id"], plan["gate"]
        return plan

    def approval(self, approval_id: str) -> dict[str, Any]:
        [a] = [a for a in self.ig_json("approvals", "--all") if a["id"] == approval_id]
        return a

    def audit(self) -> list[dict[str, Any]]:
        return self.ig_json("audit")

    def prod_requests(self) -> int:
        assert self.guard is not None
        return self.guard.cloud_requests(self.id, "prod")

    def prod_resources(self) -> list[tuple[str, str]]:
        assert self.guard is not None
        return self.guard.cloud_resources(self.id, "prod")

    def write_toml(self, edit) -> None:
        path = self.root / "infraguard.toml"
        text = edit(path.read_text())
        self.accounts.dev("sh", "-c", f"cat > {path}", input=text)


_counter = iter(range(1, 10_000))


def new_project(accounts: Accounts, guard: Guard | None) -> Project:
    root = accounts.dev_home / f"proj{next(_counter)}"
    p = accounts.dev("mkdir", str(root))
    assert p.returncode == 0, p.stderr
    project = Project(accounts, root, guard)
    r = project.ig("init", "--project", "acme", "--prefix", "acme")
    assert r.returncode == 0, r.stderr
    if guard is not None:
        r = project.ig("guard", "adopt", "--socket", str(guard.socket))
        assert r.returncode == 0, f"adopt: {r.stdout} {r.stderr}"
    return project


@pytest.fixture
def guard(accounts: Accounts) -> Iterator[Guard]:
    g = Guard(accounts, f"guard{next(_counter)}")
    try:
        yield g
    finally:
        g.stop()


@pytest.fixture
def guarded(accounts: Accounts, guard: Guard) -> Project:
    """An adopted project with two enrolled approvers, alice and bob."""
    project = new_project(accounts, guard)
    guard.enroll("alice")
    guard.enroll("bob")
    return project


@pytest.fixture
def advisory(accounts: Accounts) -> Project:
    """The same project, never adopted: the engine runs in the agent's process."""
    return new_project(accounts, None)
