#!/usr/bin/env bash
# What a newcomer sees: the README's two commands on a brand-new Debian
# bookworm, with nothing from this machine but a clean `git clone`.
#
# In a fresh debian:bookworm-slim container (rootful podman, default seccomp
# and capabilities, i.e. unprivileged; no host packages, no host build
# directories) this script:
#   1. installs git and ca-certificates, and clones the committed HEAD of this
#      checkout (uncommitted changes are NOT included: commit first);
#   2. runs the README's run command, `scripts/run.sh`, until GET /ready on
#      127.0.0.1:8080 answers 200, checks one profile route, then stops it
#      with SIGTERM;
#   3. runs the README's test command, `scripts/test.sh`, in the same
#      container (so after run.sh, in the README's order);
#   4. prints both outcomes and the test command's last lines.
#
# Usage: scripts/fresh-check.sh [--rev REV] [--keep] [--test-only] [--run-only]
#   --rev REV    clone this revision instead of HEAD
#   --keep       keep the container's work directory and logs (printed)
#   --test-only  skip step 2 (the test command alone, as .ci/run would do)
#   --run-only   skip step 3
# Environment: READY_TIMEOUT (default 900 s: run.sh installs and builds first),
#              TEST_TIMEOUT (default 4800 s), WORK (scratch dir).
# Exit: 0 when both commands did what the README says, 1 otherwise, 2 usage,
#       77 when podman cannot run here (printed "SKIP: reason").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REV=HEAD
KEEP=0
DO_RUN=1
DO_TEST=1
READY_TIMEOUT=${READY_TIMEOUT:-900}
TEST_TIMEOUT=${TEST_TIMEOUT:-4800}

while [ $# -gt 0 ]; do
  case "$1" in
    --rev) REV=${2:?--rev takes a revision}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --test-only) DO_RUN=0; shift ;;
    --run-only) DO_TEST=0; shift ;;
    -h | --help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--rev REV] [--keep] [--test-only] [--run-only]" >&2; exit 2 ;;
  esac
done

log() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }

WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/roster-fresh.XXXXXX")}
mkdir -p "$WORK"
NAME=roster-fresh-$$
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local rc=$?
  podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  if [ "$KEEP" -eq 1 ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT

# shellcheck source=scripts/lib/podman.sh
. "$ROOT/scripts/lib/podman.sh"
podman_prepare
podman_build_local_base || skip "cannot build the local debian:bookworm-slim base here (needs a Debian host with debootstrap)"

# The clone the container starts from: a bare copy of the committed history,
# so that nothing ignored or untracked (build/, .cache/) can leak in.
commit=$(git -C "$ROOT" rev-parse --verify "$REV^{commit}") || fail "unknown revision $REV"
[ -z "$(git -C "$ROOT" status --porcelain)" ] ||
  log "note: the checkout has uncommitted changes; they are not part of the fresh check"
git clone -q --bare --no-local "$ROOT" "$WORK/origin.git"
mkdir -p "$WORK/logs" "$WORK/host-ca"
# The machine's own extra CA certificates (not the project's), so that a
# TLS-inspecting proxy between this machine and the npm registry is trusted
# inside the container as it is outside.
cp /usr/local/share/ca-certificates/*.crt "$WORK/host-ca/" 2>/dev/null || true

# The script the newcomer's shell runs, inside the container.
cat >"$WORK/newcomer.sh" <<'SH'
#!/bin/bash
set -uo pipefail
exec 3>>/logs/outcome
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends git ca-certificates >/dev/null ||
  { echo "setup=apt-failed" >&3; exit 1; }
# the network's trust, not the project's: where this machine reaches the
# registries through a TLS-inspecting proxy, its extra CAs come along
if ls /host-ca/*.crt >/dev/null 2>&1; then
  cp /host-ca/*.crt /usr/local/share/ca-certificates/ && update-ca-certificates >/dev/null 2>&1
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
git clone -q /origin.git /home/newcomer/roster && cd /home/newcomer/roster && git checkout -q "$COMMIT" ||
  { echo "setup=clone-failed" >&3; exit 1; }
echo "commit=$(git rev-parse HEAD)" >&3

probe() { # URL -> status code, 000 when nothing answers (curl may not exist yet)
  command -v curl >/dev/null || { echo 000; return; }
  curl -s -o /logs/probe.body -w '%{http_code}' -m 2 "$1" 2>/dev/null || true
}

if [ "$DO_RUN" = 1 ]; then
  t0=$(date +%s)
  setsid scripts/run.sh >/logs/run.log 2>&1 &
  pid=$!
  code=000
  while [ $(( $(date +%s) - t0 )) -lt "$READY_TIMEOUT" ]; do
    code=$(probe http://127.0.0.1:8080/ready)
    [ "$code" = 200 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  ready_s=$(( $(date +%s) - t0 ))
  tp=$(probe http://127.0.0.1:8080/v1/profiles/worker-devops/tool-priorities)
  kill -TERM -- "-$pid" 2>/dev/null
  rc=0
  wait "$pid" || rc=$?
  echo "run_ready=$code run_ready_seconds=$ready_s run_tool_priorities=$tp run_exit=$rc" >&3
fi

if [ "$DO_TEST" = 1 ]; then
  t0=$(date +%s)
  timeout "$TEST_TIMEOUT" scripts/test.sh >/logs/test.log 2>&1
  rc=$?
  echo "test_exit=$rc test_seconds=$(( $(date +%s) - t0 ))" >&3
  echo "test_summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /logs/test.log | tail -1)" >&3
fi
SH
chmod 0755 "$WORK/newcomer.sh"

log "fresh container from $PODMAN_LOCAL_BASE, clone of ${commit:0:12}"
t0=$(date +%s)
set +e
quiet_podman run --name "$NAME" \
  -v "$WORK/origin.git:/origin.git:ro" -v "$WORK/logs:/logs" \
  -v "$WORK/newcomer.sh:/newcomer.sh:ro" -v "$WORK/host-ca:/host-ca:ro" \
  -e COMMIT="$commit" -e DO_RUN=$DO_RUN -e DO_TEST=$DO_TEST \
  -e READY_TIMEOUT="$READY_TIMEOUT" -e TEST_TIMEOUT="$TEST_TIMEOUT" \
  "$PODMAN_LOCAL_BASE" /newcomer.sh
crc=$?
set -e
log "container finished after $(( $(date +%s) - t0 )) s (exit $crc)"

touch "$WORK/logs/outcome"
value() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$WORK/logs/outcome" | tail -1; }
ok=1
echo
echo "---- what a newcomer sees (clone of ${commit:0:12})"
if grep -q '^setup=' "$WORK/logs/outcome"; then
  echo "setup: $(value setup)"
  ok=0
fi
if [ "$DO_RUN" -eq 1 ]; then
  if [ "$(value run_ready)" = 200 ] && [ "$(value run_tool_priorities)" = 200 ]; then
    echo "run command (scripts/run.sh): /ready 200 after $(value run_ready_seconds) s," \
      "tool-priorities 200, exit $(value run_exit) after SIGTERM"
  else
    echo "run command (scripts/run.sh): FAILED (/ready $(value run_ready), tool-priorities" \
      "$(value run_tool_priorities)); last lines of its output:"
    tail -15 "$WORK/logs/run.log" 2>/dev/null | sed 's/^/  | /'
    ok=0
  fi
fi
if [ "$DO_TEST" -eq 1 ]; then
  echo "test command (scripts/test.sh): exit $(value test_exit) after $(value test_seconds) s"
  echo "last lines of its output:"
  tail -25 "$WORK/logs/test.log" 2>/dev/null | sed 's/^/  | /'
  [ "$(value test_exit)" = 0 ] || ok=0
fi
[ "$KEEP" -eq 1 ] && echo "logs: $WORK/logs"
if [ "$ok" -eq 1 ]; then
  echo "fresh-check: both commands passed on a fresh debian:bookworm-slim"
  exit 0
fi
echo "fresh-check: FAILED"
exit 1
