#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need
# (a Python venv with pinned test clients), builds, and runs every test.
#
#   scripts/test.sh            everything
#   SKIP_PYTHON=1 scripts/test.sh   Rust tests only
#
# Everything the tests start listens on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\n==> %s\n' "$*"; }

say "Rust: format, lints, tests (cargo test --workspace)"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

if [ "${SKIP_PYTHON:-0}" = "1" ]; then
  say "SKIP_PYTHON=1: skipping the real-client tests"
  exit 0
fi

say "Python test clients: .venv with pinned packages (tests/requirements.txt)"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt

say "Building the infraguard binary for the real-client tests"
cargo build --locked -p infraguard-cli
export INFRAGUARD_BIN="$root/target/debug/infraguard"

say "Real-client tests (pytest tests/)"
.venv/bin/python -m pytest -q tests
