#!/usr/bin/env bash
# Build the roster container image with podman and check it from the outside,
# hardened the way production runs it:
#   --read-only --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges
# published on 127.0.0.1 only.
#
# Usage: scripts/container-test.sh [--prepare]
#   --prepare   only install podman & co. and build the local base image, then exit
#
# Environment:
#   ROSTER_IMAGE       tag to build (default localhost/roster:ci)
#   ROSTER_BASE_IMAGE  base image for both stages; default: the local debootstrap
#                      base (built here when missing, Debian hosts only), else the
#                      digest-pinned bases named in the Dockerfile (needs a registry)
#   STOP_MAX_SECONDS   upper bound for `podman stop -t 10` (default 5)
#   READY_TIMEOUT      seconds to wait for the first 200 on /ready (default 30)
#   WORK               scratch directory (default: a new mktemp -d)
#
# Exit codes: 0 all checks passed; 77 skipped ("SKIP: reason" printed) because
# podman cannot run containers on this host; 1 a check failed; 2 usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${ROSTER_IMAGE:-localhost/roster:ci}
STOP_MAX_SECONDS=${STOP_MAX_SECONDS:-5}
READY_TIMEOUT=${READY_TIMEOUT:-30}
PREPARE_ONLY=0

case "${1:-}" in
  "") ;;
  --prepare) PREPARE_ONLY=1 ;;
  -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--prepare]" >&2; exit 2 ;;
esac

log() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
now_ms() { date +%s%3N; }

if [ -n "${WORK:-}" ]; then
  mkdir -p "$WORK"
  OWN_WORK=0
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/roster-ct.XXXXXX")
  OWN_WORK=1
fi
CONTAINERS=()

cleanup() {
  local rc=$?
  local c
  for c in "${CONTAINERS[@]}"; do
    if [ "$rc" -ne 0 ] && podman container exists "$c" 2>/dev/null; then
      echo "---- podman logs $c (last 50 lines)" >&2
      podman logs --tail 50 "$c" >&2 2>&1 || true
    fi
    podman rm -f -t 0 "$c" >/dev/null 2>&1 || true
  done
  [ "$OWN_WORK" -eq 1 ] && rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
# shellcheck source=scripts/lib/podman.sh
. "$ROOT/scripts/lib/podman.sh"

t_start=$(now_ms)
podman_prepare

BUILD_ARGS=()
PULL=(--pull=missing)
if [ -n "${ROSTER_BASE_IMAGE:-}" ]; then
  BASE=$ROSTER_BASE_IMAGE
elif podman_build_local_base; then
  BASE=$PODMAN_LOCAL_BASE
else
  BASE=""   # the Dockerfile's pinned defaults, pulled from the registry
fi
if [ -n "$BASE" ]; then
  BUILD_ARGS+=(--build-arg "BUILD_BASE=$BASE" --build-arg "RUNTIME_BASE=$BASE")
  podman image exists "$BASE" && PULL=(--pull=never)
  log "base image: $BASE"
else
  log "base image: the Dockerfile's pinned digests"
fi

# Can this host run a container at all? (kernel, cgroups, seccomp, runtime)
if [ -n "$BASE" ] && podman image exists "$BASE"; then
  if ! podman run --rm --network none "$BASE" true >/dev/null 2>"$WORK/run.err"; then
    skip "podman cannot run containers here: $(grep -v systemd "$WORK/run.err" | head -3)"
  fi
fi
log "prepared after $(( ($(now_ms) - t_start) / 1000 )) s"
[ "$PREPARE_ONLY" -eq 1 ] && exit 0

# ---------------------------------------------------------------- 4. build
VERSION=$(git -C "$ROOT" describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
REVISION=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
SOURCE_URL=${ROSTER_SOURCE_URL:-$(git -C "$ROOT" remote get-url origin 2>/dev/null || echo unknown)}
BUILD_ARGS+=(--build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION"
  --build-arg "SOURCE_URL=$SOURCE_URL")

log "building $IMAGE"
t_build=$(now_ms)
podman build "${PULL[@]}" --format docker "${BUILD_ARGS[@]}" -t "$IMAGE" -f "$ROOT/Dockerfile" "$ROOT" \
  >"$WORK/build.log" 2>&1 || { tail -60 "$WORK/build.log" >&2; fail "podman build failed"; }
build_s=$(( ($(now_ms) - t_build) / 1000 ))

# ---------------------------------------------------------- image metadata
inspect() { podman image inspect --format "$1" "$IMAGE"; }
[ "$(inspect '{{.Config.User}}')" = "10001:10001" ] || fail "image USER is not 10001:10001"
[ "$(inspect '{{json .Config.Entrypoint}}')" = '["/usr/local/bin/rosterd"]' ] || fail "unexpected ENTRYPOINT"
[ "$(inspect '{{json .Config.Cmd}}')" = '["serve"]' ] || fail "unexpected CMD"
inspect '{{json .Config.Healthcheck}}' | grep -q 'rosterd' ||
  fail "image has no HEALTHCHECK (was it built with --format docker?)"
inspect '{{json .Config.Env}}' | grep -q 'ROSTER_PROFILES=/srv/roster/profiles' ||
  fail "ROSTER_PROFILES is not set in the image"
[ "$(inspect '{{index .Config.Labels "org.opencontainers.image.revision"}}')" = "$REVISION" ] ||
  fail "org.opencontainers.image.revision label is not $REVISION"
size_bytes=$(inspect '{{.Size}}')

# ---------------------------------------------------------------- helpers
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 40000 ))
    # connection refused means nobody listens there
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  fail "no free loopback port found"
}

# http_get URL OUTFILE -> prints the status code (000 when nothing answered)
http_get() {
  curl -sS -o "$2" -w '%{http_code}' -m 5 "$1" 2>/dev/null || true
}

# start_container NAME PORT [extra podman run args...]
start_container() {
  local name=$1 port=$2
  shift 2
  CONTAINERS+=("$name")
  quiet_podman run -d --name "$name" \
    --read-only --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges \
    --memory 256m --pids-limit 256 \
    -p "127.0.0.1:$port:8080" "$@" "$IMAGE" >/dev/null
}

wait_ready() {
  local port=$1 name=$2 deadline code
  deadline=$(( $(date +%s) + READY_TIMEOUT ))
  while :; do
    code=$(http_get "http://127.0.0.1:$port/ready" "$WORK/ready.json")
    [ "$code" = 200 ] && return 0
    [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] ||
      fail "$name exited before it became ready"
    [ "$(date +%s)" -lt "$deadline" ] || fail "$name: /ready did not answer 200 within ${READY_TIMEOUT}s (last: $code)"
    sleep 0.05
  done
}

json_check() { # json_check FILE PYTHON-EXPRESSION-ON-d MESSAGE
  python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" || fail "$3: $(head -c 400 "$1")"
}

# ------------------------------------------------- 5. the bundled profiles
PORT=$(free_port)
C1=roster-ct-$$-a
log "run $C1 on 127.0.0.1:$PORT"
t_run=$(now_ms)
start_container "$C1" "$PORT"
wait_ready "$PORT" "$C1"
startup_ms=$(( $(now_ms) - t_run ))
json_check "$WORK/ready.json" 'd.get("status") == "ready" and d["profiles"]["served"] >= 1' "/ready body"

code=$(http_get "http://127.0.0.1:$PORT/health" "$WORK/health.json")
[ "$code" = 200 ] || fail "/health answered $code"

code=$(http_get "http://127.0.0.1:$PORT/v1/profiles/worker-devops/tool-priorities" "$WORK/tp.json")
[ "$code" = 200 ] || fail "tool-priorities answered $code: $(head -c 400 "$WORK/tp.json")"
json_check "$WORK/tp.json" \
  'd.get("id") == "worker-devops" and isinstance(d.get("tool_priorities"), list) and len(d["tool_priorities"]) == 4' \
  "tool-priorities must have 4 items"

code=$(http_get "http://127.0.0.1:$PORT/metrics" "$WORK/metrics.txt")
[ "$code" = 200 ] || fail "/metrics answered $code"
grep -Eq '^roster_ready(\{\})? 1(\.0+)?$' "$WORK/metrics.txt" || fail "/metrics does not report roster_ready 1"

[ "$(podman inspect --format '{{.Config.User}}' "$C1")" = 10001:10001 ] || fail "container user is not 10001:10001"
[ "$(podman exec "$C1" id -u)" = 10001 ] || fail "process does not run as uid 10001"
if podman exec "$C1" sh -c ': > /probe-write' 2>/dev/null; then
  fail "root filesystem is writable despite --read-only"
fi

quiet_podman healthcheck run "$C1" >/dev/null || fail "podman healthcheck run failed"
[ "$(podman inspect --format '{{.State.Health.Status}}' "$C1")" = healthy ] ||
  fail "health status is not healthy"

# every line the service wrote so far must be one JSON object (docs/api.md)
podman logs "$C1" >"$WORK/c1.log" 2>&1
python3 - "$WORK/c1.log" <<'PY' || fail "container log lines are not JSON objects"
import json, sys
bad = 0
for n, line in enumerate(open(sys.argv[1], encoding="utf-8", errors="replace"), 1):
    line = line.strip()
    if not line:
        continue
    try:
        ok = isinstance(json.loads(line), dict)
    except ValueError:
        ok = False
    if not ok:
        bad += 1
        print(f"log line {n} is not a JSON object: {line[:200]}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# ------------------------------- 6. profiles mounted read-only from outside
PROFILES_DIR="$WORK/profiles"
mkdir -p "$PROFILES_DIR"
cat >"$PROFILES_DIR/container-probe.md" <<'MD'
---
id: container-probe
name: Container Probe
category: test
description: Exists only in the directory container-test.sh mounts
version: "1.0"
role: probe
---

# Container Probe

You exist to prove that a mounted profile directory replaces the bundled one.

## Tool Priorities

1. **Read Tools** - look first
2. **Shell Tools** - then act
MD
chmod 0755 "$WORK" "$PROFILES_DIR"
chmod 0644 "$PROFILES_DIR/container-probe.md"

PORT2=$(free_port)
C2=roster-ct-$$-b
log "run $C2 on 127.0.0.1:$PORT2 with $PROFILES_DIR mounted read-only"
start_container "$C2" "$PORT2" -v "$PROFILES_DIR:/srv/roster/profiles:ro"
wait_ready "$PORT2" "$C2"
code=$(http_get "http://127.0.0.1:$PORT2/v1/profiles/container-probe" "$WORK/probe.json")
[ "$code" = 200 ] || fail "mounted profile: GET /v1/profiles/container-probe answered $code"
json_check "$WORK/probe.json" 'd.get("id") == "container-probe"' "mounted profile body"
code=$(http_get "http://127.0.0.1:$PORT2/v1/profiles/worker-devops" "$WORK/gone.json")
[ "$code" = 404 ] || fail "bundled profile still served with a mounted directory (status $code)"

# --------------------------------------------------- 7. graceful stop
for c in "$C1" "$C2"; do
  t_stop=$(now_ms)
  quiet_podman stop -t 10 "$c" >/dev/null
  stop_ms=$(( $(now_ms) - t_stop ))
  rc=$(podman inspect --format '{{.State.ExitCode}}' "$c")
  [ "$rc" = 0 ] || fail "$c exited with $rc after SIGTERM (137 = killed after the timeout)"
  [ "$stop_ms" -lt $(( STOP_MAX_SECONDS * 1000 )) ] ||
    fail "$c took ${stop_ms} ms to stop (limit ${STOP_MAX_SECONDS}s)"
  log "$c stopped in ${stop_ms} ms, exit code 0"
done

printf 'image: %s, size %s MB (%s bytes), built in %s s\n' \
  "$IMAGE" "$(( size_bytes / 1000000 ))" "$size_bytes" "$build_s"
printf 'start-up: %s ms from podman run to the first 200 on /ready\n' "$startup_ms"
echo "container-test: all checks passed"
