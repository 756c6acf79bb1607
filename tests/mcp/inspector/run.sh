#!/usr/bin/env bash
# rosterd's MCP server driven by the MCP Inspector's command-line mode
# (`mcp-inspector --cli`, the version pinned in package.json and
# package-lock.json) over both transports: `rosterd serve` at /mcp (and one
# started with ROSTER_MCP_TOKEN, given the token with --header) and
# `rosterd mcp` on stdio, over scratch copies of tests/fixtures/templates.
# prompts/list, prompts/get, resources/read, and an unknown resource. The
# servers listen on 127.0.0.1 (ports picked by the kernel) and are stopped
# on exit.
#
# Usage: tests/mcp/inspector/run.sh   (ROSTERD=path/to/rosterd, default build/service/rosterd)
# Needs: the pinned Node.js (scripts/lib/node.sh) and npm to install the
# Inspector into .cache/mcp-inspector once (about 110 MB, under a minute).
# Exit: 0 passed, 1 a check failed, 77 skipped (prints `SKIP: reason`).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TOOLS="$ROOT/.cache/mcp-inspector"
ROSTERD=${ROSTERD:-build/service/rosterd}
[[ "$ROSTERD" = /* ]] || ROSTERD="$ROOT/$ROSTERD"
# shellcheck source=tests/mcp/sdk/lib.sh
. "$ROOT/tests/mcp/sdk/lib.sh"

mcp_node
# its only install script (scripts/install-clients.mjs) does nothing when
# it is installed as a dependency
mcp_npm_ci "$HERE" "$TOOLS" "the pinned MCP Inspector" --ignore-scripts
INSPECTOR="$TOOLS/node_modules/.bin/mcp-inspector"

if [ ! -x "$ROSTERD" ]; then
  echo "rosterd not found at $ROSTERD (build it, or set ROSTERD)"
  echo "0 passed, 1 failed"
  exit 1
fi

mcp_workdir inspector
for d in http token stdio; do
  mkdir -p "$MCP_WORK/$d"
  cp -r "$ROOT/tests/fixtures/templates/." "$MCP_WORK/$d/"
done
# the Inspector keeps a catalog and credentials under $HOME: a scratch one
mkdir -p "$MCP_WORK/home"

mcp_serve http "$MCP_WORK/http" || exit 1
URL="http://127.0.0.1:$MCP_PORT/mcp"
token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
ROSTER_MCP_TOKEN="$token" mcp_serve token "$MCP_WORK/token" || exit 1
TOKEN_URL="http://127.0.0.1:$MCP_PORT/mcp"
STDIO=("$ROSTERD" mcp --profiles "$MCP_WORK/stdio" --page-size 2)

passed=0
failed=0
# check NAME EXPECT INSPECTOR-ARGS...: runs `mcp-inspector --cli ARGS` (at
# most 60 s); EXPECT is a JavaScript expression over r (its stdout as
# JSON, null when it is not), out, err (its stderr) and rc (its status).
check() {
  local name=$1 expect=$2 rc=0
  shift 2
  HOME="$MCP_WORK/home" MCP_CATALOG_PATH="$MCP_WORK/home/catalog.json" \
    timeout --foreground 60 "$INSPECTOR" --cli "$@" </dev/null >"$MCP_WORK/out" 2>"$MCP_WORK/err" || rc=$?
  # shellcheck disable=SC2016  # JavaScript, not shell
  if node -e '
    const fs = require("fs");
    const [outFile, errFile, expect, rcText] = process.argv.slice(1);
    const out = fs.readFileSync(outFile, "utf8");
    const err = fs.readFileSync(errFile, "utf8");
    const rc = Number(rcText);
    let r = null;
    try { r = JSON.parse(out); } catch {}
    process.exit(new Function("r", "out", "err", "rc", `return (${expect});`)(r, out, err, rc) ? 0 : 1);
  ' "$MCP_WORK/out" "$MCP_WORK/err" "$expect" "$rc"; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name (exit $rc)"
    sed 's/^/#   stdout: /' "$MCP_WORK/out" | head -n 20
    sed 's/^/#   stderr: /' "$MCP_WORK/err" | head -n 20
  fi
}

LIST='rc === 0 && r.prompts.length === 5 && !r.nextCursor && r.prompts.some((p) => p.name === "tpl-parent" && p.arguments.some((a) => a.name === "task" && a.required))'
READ='rc === 0 && r.contents.length === 1 && r.contents[0].mimeType === "text/markdown" && r.contents[0].text.startsWith("# Template Plain")'
GET='rc === 0 && r.messages[0].role === "user" && r.messages[0].content.text.includes("do this: ship the release. Work in C.")'
MISSING='rc !== 0 && err.includes("Resource not found: roster://profiles/nobody")'

for t in http stdio; do
  if [ "$t" = http ]; then target=("$URL" --transport http); else target=("${STDIO[@]}"); fi
  check "[$t] prompts/list" "$LIST" "${target[@]}" --method prompts/list
  check "[$t] prompts/get with arguments" "$GET" "${target[@]}" --method prompts/get \
    --prompt-name tpl-parent --prompt-args "task=ship the release" language=C
  check "[$t] resources/read" "$READ" "${target[@]}" --method resources/read \
    --uri roster://profiles/tpl-plain/prompt
  check "[$t] resources/read of an unknown uri fails" "$MISSING" "${target[@]}" \
    --method resources/read --uri roster://profiles/nobody
done
check "[http] with a token: --header Authorization" "$LIST" "$TOKEN_URL" --transport http \
  --header "Authorization: Bearer $token" --method prompts/list
check "[http] with a token: none is refused" 'r === null || !r.prompts' "$TOKEN_URL" \
  --transport http --method prompts/list

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
