#!/usr/bin/env bash
# AWS emulators for the cloud-aws tests, on loopback only.
#
#   scripts/emulators.sh ensure-fakecloud    install fakecloud 0.51.0 if missing (long build, once)
#   scripts/emulators.sh ensure-moto         install moto[server]==5.2.5 into .venv if missing
#   scripts/emulators.sh start fakecloud|moto [PORT]   start in the background on 127.0.0.1:PORT
#   scripts/emulators.sh stop fakecloud|moto           stop what `start` started
#   scripts/emulators.sh status
#
# `ensure-*` prints the program's path on its last line, so callers can do
#   export FAKECLOUD_BIN=$(scripts/emulators.sh ensure-fakecloud | tail -1)
# The Rust tests (crates/cloud-aws/tests) start their own emulator processes
# from FAKECLOUD_BIN / MOTO_SERVER_BIN or PATH; start/stop are for trying
# things by hand and for the Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

FAKECLOUD_VERSION=0.51.0
MOTO_VERSION=5.2.5
run_dir="$root/target/emulators"
mkdir -p "$run_dir"

say() { printf '%s\n' "$*" >&2; }

fakecloud_path() {
  if [ -n "${FAKECLOUD_BIN:-}" ] && [ -x "$FAKECLOUD_BIN" ]; then
    printf '%s\n' "$FAKECLOUD_BIN"; return 0
  fi
  local p
  for p in "$(command -v fakecloud 2>/dev/null || true)" "${CARGO_HOME:-$HOME/.cargo}/bin/fakecloud"; do
    if [ -n "$p" ] && [ -x "$p" ]; then printf '%s\n' "$p"; return 0; fi
  done
  return 1
}

ensure_fakecloud() {
  local bin
  if bin=$(fakecloud_path); then
    say "fakecloud: $bin"
    printf '%s\n' "$bin"; return 0
  fi
  # Another install (a parallel CI step, a developer's shell) would make
  # cargo build the same thing twice; wait for it instead.
  local other
  other=$(pgrep -f 'cargo install fakecloud' 2>/dev/null | head -1 || true)
  if [ -n "$other" ]; then
    say "another 'cargo install fakecloud' is running (pid $other); waiting for it instead of building twice"
    local start=$SECONDS
    while kill -0 "$other" 2>/dev/null; do
      sleep 60
      kill -0 "$other" 2>/dev/null && say "  still waiting for pid $other: $(( (SECONDS - start) / 60 )) min"
    done
    if bin=$(fakecloud_path); then
      say "fakecloud: $bin"
      printf '%s\n' "$bin"; return 0
    fi
    say "that install ended without a fakecloud binary; building here"
  fi
  local log="$run_dir/fakecloud-install.log"
  say "building fakecloud $FAKECLOUD_VERSION (about 45 minutes on 2 cores, once)..."
  say "  why: the cloud-aws conformance tests need an emulator that implements Cloud Control;"
  say "  fakecloud is a Rust program with no prebuilt binary, so cargo compiles it here. Log: $log"
  local start=$SECONDS
  # Low priority: other builds on the machine keep going.
  nice -n 10 cargo install fakecloud --version "$FAKECLOUD_VERSION" --locked >"$log" 2>&1 &
  local pid=$!
  # A line a minute so CI logs show the build is alive, with how far it got.
  while kill -0 "$pid" 2>/dev/null; do
    local waited=0
    while [ $waited -lt 60 ] && kill -0 "$pid" 2>/dev/null; do sleep 5; waited=$((waited + 5)); done
    if kill -0 "$pid" 2>/dev/null; then
      local n last
      n=$(grep -c '^ *Compiling' "$log" 2>/dev/null || true)
      last=$(grep '^ *\(Compiling\|Blocking\|Downloaded\)' "$log" 2>/dev/null | tail -1 | sed 's/^ *//')
      say "  still building fakecloud: $(( (SECONDS - start) / 60 )) min, ${n:-0} crates compiled${last:+, now: $last}"
    fi
  done
  if ! wait "$pid"; then
    say "fakecloud install failed; the last lines of $log:"
    tail -20 "$log" >&2
    say "it needs a C toolchain and libssl3; fix that and run this again"
    return 1
  fi
  bin=$(fakecloud_path) || { say "cargo install finished but fakecloud is not in ${CARGO_HOME:-$HOME/.cargo}/bin"; return 1; }
  say "fakecloud $FAKECLOUD_VERSION built in $(( (SECONDS - start) / 60 )) min: $bin"
  printf '%s\n' "$bin"
}

ensure_moto() {
  if [ -n "${MOTO_SERVER_BIN:-}" ] && [ -x "$MOTO_SERVER_BIN" ]; then
    say "moto_server: $MOTO_SERVER_BIN (MOTO_SERVER_BIN)"
    printf '%s\n' "$MOTO_SERVER_BIN"; return 0
  fi
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv for the test clients"
    python3 -m venv .venv
  fi
  if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$MOTO_VERSION')" 2>/dev/null; then
    say "installing tests/aws/requirements.txt (moto[server]==$MOTO_VERSION, boto3) into .venv"
    .venv/bin/pip install --quiet --disable-pip-version-check -r tests/aws/requirements.txt
  fi
  say "moto_server: $root/.venv/bin/moto_server"
  printf '%s\n' "$root/.venv/bin/moto_server"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_health() { # url name pid
  local i
  for i in $(seq 1 300); do
    if python3 - "$1" <<'PY' 2>/dev/null; then return 0; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1)
PY
    kill -0 "$3" 2>/dev/null || { say "$2 exited while starting; see $run_dir/$2.log"; return 1; }
    sleep 0.2
  done
  say "$2 did not answer $1 within 60 s"; return 1
}

start() {
  local name=$1 port=${2:-$(free_port)} bin pid health
  case "$name" in
    fakecloud)
      bin=$(ensure_fakecloud | tail -1)
      "$bin" --addr "127.0.0.1:$port" --log-level warn >"$run_dir/$name.log" 2>&1 &
      health="http://127.0.0.1:$port/_fakecloud/health" ;;
    moto)
      bin=$(ensure_moto | tail -1)
      "$bin" -H 127.0.0.1 -p "$port" >"$run_dir/$name.log" 2>&1 &
      health="http://127.0.0.1:$port/moto-api/" ;;
    *) say "unknown emulator '$name': fakecloud or moto"; return 2 ;;
  esac
  pid=$!
  echo "$pid $port" >"$run_dir/$name.pid"
  wait_health "$health" "$name" "$pid"
  say "$name on http://127.0.0.1:$port (pid $pid); stop with: scripts/emulators.sh stop $name"
  printf 'http://127.0.0.1:%s\n' "$port"
}

stop() {
  local name=$1 file="$run_dir/$1.pid" pid
  [ -f "$file" ] || { say "$name: not started by this script"; return 0; }
  read -r pid _ <"$file"
  kill "$pid" 2>/dev/null || true
  rm -f "$file"
  say "$name stopped (pid $pid)"
}

status() {
  local name
  for name in fakecloud moto; do
    if [ -f "$run_dir/$name.pid" ]; then
      local pid port; read -r pid port <"$run_dir/$name.pid"
      if kill -0 "$pid" 2>/dev/null; then say "$name: running on 127.0.0.1:$port (pid $pid)"; continue; fi
    fi
    say "$name: not running"
  done
  fakecloud_path >/dev/null && say "fakecloud installed: $(fakecloud_path)" || say "fakecloud not installed"
}

case "${1:-}" in
  ensure-fakecloud) ensure_fakecloud ;;
  ensure-moto) ensure_moto ;;
  start) start "${2:?start fakecloud|moto [PORT]}" "${3:-}" ;;
  stop) stop "${2:?stop fakecloud|moto}" ;;
  status) status ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
