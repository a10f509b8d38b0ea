#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need
# (a Python venv with pinned test clients and moto, Debian's chromium),
# builds, and runs every test. A test whose outside tool is missing fails
# here (INFRAGUARD_REQUIRE_TOOLS=1); it never passes without running.
#
#   scripts/test.sh                  everything
#
# The Cloud Control emulator of the Rust tests is winterbaume (a crate,
# built with the tests). fakecloud, stricter but a 45-minute build, runs by
# hand only: FAKECLOUD_BIN=$(scripts/emulators.sh ensure-fakecloud | tail -1) \
#   cargo test -p infraguard-cloud-aws --test backend -- --ignored
#
# Everything the tests start listens on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\n==> %s\n' "$*"; }

say "Test clients: .venv with pinned packages (tests/requirements.txt: mcp, pytest, boto3, moto)"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
export MOTO_SERVER_BIN="$root/.venv/bin/moto_server"

export INFRAGUARD_REQUIRE_TOOLS=1
# A snapshot that differs fails the run and nothing is written beside it
# (`INSTA_UPDATE=always cargo test …` once, then review, to accept a change).
export INSTA_UPDATE=no

say "Rust: format, lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

say "Rust: tests (cargo test --workspace)"
cargo test --workspace --locked

say "Browser for tests/page and a terminal multiplexer for tests/trust: Debian's chromium and tmux (installed when missing: about a minute)"
missing=""
for tool in chromium tmux; do command -v "$tool" >/dev/null || missing="$missing $tool"; done
if [ -n "$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; fi

say "Real-client tests (pytest tests/: Python MCP SDK, MCP Inspector CLI, boto3, Playwright + Chromium)"
cargo build --locked -p infraguard-cli
export INFRAGUARD_BIN="$root/target/debug/infraguard"
.venv/bin/python -m pytest -q tests
