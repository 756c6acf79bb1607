#!/usr/bin/env bash
# Interoperability of rosterd's MCP server with the official MCP TypeScript
# SDK client (the versions pinned in package.json and package-lock.json):
# client.mjs runs one list of checks over both transports,
#   stdio: Client + StdioClientTransport launching `rosterd mcp --page-size 2`
#   http:  Client + StreamableHTTPClientTransport against `rosterd serve`
#          (/mcp), plus the HTTP-only checks (sessions, Last-Event-ID
#          resume, DELETE, MCP-Protocol-Version, Origin, bearer token
#          against a second server started with ROSTER_MCP_TOKEN),
# each over its own scratch copy of tests/fixtures/templates (the http one
# with 120 more profiles, so that its lists take several pages of 100).
# The servers listen on 127.0.0.1 (ports picked by the kernel) and are
# stopped on exit.
#
# Usage: tests/mcp/sdk/run.sh [stdio|http]...   (default: both)
#        ROSTERD=path/to/rosterd (default build/service/rosterd)
# Needs: the pinned Node.js (scripts/lib/node.sh installs it into .cache/node
# with npm) and npm to install the SDK into .cache/mcp-sdk once.
# Exit: 0 passed, 1 a check failed, 77 skipped (prints `SKIP: reason`).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TOOLS="$ROOT/.cache/mcp-sdk"
ROSTERD=${ROSTERD:-build/service/rosterd}
[[ "$ROSTERD" = /* ]] || ROSTERD="$ROOT/$ROSTERD"
# shellcheck source=tests/mcp/sdk/lib.sh
. "$HERE/lib.sh"

TRANSPORTS=("$@")
[ ${#TRANSPORTS[@]} -gt 0 ] || TRANSPORTS=(stdio http)
for t in "${TRANSPORTS[@]}"; do
  case "$t" in
    stdio | http) ;;
    *)
      echo "usage: $0 [stdio|http]..." >&2
      exit 2
      ;;
  esac
done

mcp_node
mcp_npm_ci "$HERE" "$TOOLS" "the pinned MCP SDK"

if [ ! -x "$ROSTERD" ]; then
  echo "rosterd not found at $ROSTERD (build it, or set ROSTERD)"
  echo "0 passed, 1 failed"
  exit 1
fi

mcp_workdir sdk
# ESM resolves packages from the script's own folder: run it beside node_modules
cp "$HERE/client.mjs" "$HERE/checks.mjs" "$TOOLS/"

# Ids after the fixtures' (fill-* < tpl-*), none of them used by the checks.
add_fillers() {
  local i id
  for ((i = 1; i <= 120; i++)); do
    printf -v id 'fill-%03d' "$i"
    printf -- '---\nid: %s\nname: Filler %d\ndescription: Only here to make the lists page\nversion: "1"\nrole: filler\n---\n\n# Filler %d\n\nNothing.\n' \
      "$id" "$i" "$i" >"$MCP_WORK/http/$id.md"
  done
}

declare -A RESULT
failed=0
for t in "${TRANSPORTS[@]}"; do
  echo "# transport: $t"
  mkdir -p "$MCP_WORK/$t"
  cp -r "$ROOT/tests/fixtures/templates/." "$MCP_WORK/$t/"
  env=(ROSTERD="$ROSTERD" PROFILES="$MCP_WORK/$t")
  if [ "$t" = http ]; then
    add_fillers
    mcp_serve http "$MCP_WORK/http" || exit 1
    env+=(MCP_URL="http://127.0.0.1:$MCP_PORT/mcp")
    mkdir -p "$MCP_WORK/token"
    cp -r "$ROOT/tests/fixtures/templates/." "$MCP_WORK/token/"
    token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    ROSTER_MCP_TOKEN="$token" mcp_serve token "$MCP_WORK/token" || exit 1
    env+=(MCP_TOKEN_URL="http://127.0.0.1:$MCP_PORT/mcp" MCP_TOKEN="$token" MCP_TOKEN_PROFILES="$MCP_WORK/token")
  fi
  rc=0
  # --foreground: a signal to this script's process group reaches node too
  env "${env[@]}" timeout --foreground 180 node "$TOOLS/client.mjs" "$t" || rc=$?
  RESULT[$t]=$rc
  [ "$rc" -eq 0 ] || failed=1
  if [ "$t" = http ] && [ "$rc" -ne 0 ]; then
    echo "# the servers' logs:"
    tail -n 40 "$MCP_WORK/http.log" "$MCP_WORK/token.log" | sed 's/^/#   /'
  fi
  mcp_stop_servers
done

for t in "${TRANSPORTS[@]}"; do
  case "${RESULT[$t]}" in
    0) echo "# $t: passed" ;;
    124) echo "# $t: FAILED (timed out after 180 s)" ;;
    *) echo "# $t: FAILED (exit ${RESULT[$t]})" ;;
  esac
done
exit "$failed"
