"""`sudo infraguard guard install` does what the README says it does (without
systemd, which containers and CI lack: `--no-systemd`), the guard it sets up
runs and answers the project user, and `guard uninstall --purge` leaves
nothing behind."""

from __future__ import annotations

import grp
import json
import os
import pwd
import stat
import subprocess
import time
from pathlib import Path

import pytest
from trust_harness import Accounts

HOME = Path("/var/lib/infraguard")
RUN = Path("/run/infraguard")
SOCKET = RUN / "guard.sock"
BINARY = Path("/usr/local/lib/infraguard/infraguard")


def exists(account: str) -> bool:
    try:
        pwd.getpwnam(account)
        return True
    except KeyError:
        return False


def test_install_run_and_uninstall(accounts: Accounts) -> None:
    if exists("infraguard") or BINARY.exists():
        pytest.skip("this machine already has an `infraguard` account or binary: not touching a real install")
    ig = str(accounts.bin)
    guard = None
    try:
        r = subprocess.run([ig, "guard", "install", "--no-systemd", "--user", accounts.dev_user], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "Start the guard with" in r.stdout, r.stdout

        account = pwd.getpwnam("infraguard")
        assert account.pw_shell == "/usr/sbin/nologin" and account.pw_uid < 1000, account
        assert accounts.dev_user in grp.getgrnam("infraguard").gr_mem
        home = HOME.stat()
        assert home.st_uid == account.pw_uid and stat.S_IMODE(home.st_mode) == 0o700, oct(home.st_mode)
        b = BINARY.stat()
        assert b.st_uid == 0 and stat.S_IMODE(b.st_mode) == 0o755, oct(b.st_mode)
        assert BINARY.read_bytes() == accounts.bin.read_bytes()
        assert RUN.stat().st_uid == account.pw_uid

        # The command it printed starts the guard as its account.
        command = r.stdout.split("Start the guard with:", 1)[1].strip().splitlines()[0].split()
        guard = subprocess.Popen([*command, "--stop-on-stdin-close"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        hello = json.loads(guard.stdout.readline())
        assert hello["uid"] == account.pw_uid, hello
        s = SOCKET.stat()
        assert stat.S_IMODE(s.st_mode) == 0o660 and s.st_gid == account.pw_gid, oct(s.st_mode)

        # The project user (a member of the group) reaches it; the guard says who it is.
        status = accounts.dev(ig, "guard", "status", "--output", "json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["uid"] == account.pw_uid, status.stdout
        # And cannot read its home.
        probe = accounts.dev("ls", str(HOME))
        assert probe.returncode != 0
    finally:
        if guard is not None:
            guard.stdin.close()
            guard.wait(timeout=10)
        r = subprocess.run([ig, "guard", "uninstall", "--purge"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    time.sleep(0.1)
    assert not exists("infraguard")
    assert not HOME.exists() and not BINARY.exists() and not RUN.exists()
    with pytest.raises(KeyError):
        grp.getgrnam("infraguard")
