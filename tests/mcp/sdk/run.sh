#!/usr/bin/env bash
# Interoperability of `rosterd mcp` (stdio) with the official MCP TypeScript
# SDK client: client.mjs drives a real rosterd through Client +
# StdioClientTransport (the versions pinned in package.json and
# package-lock.json) over a scratch copy of tests/fixtures/templates.
#
# Usage: tests/mcp/sdk/run.sh   (ROSTERD=path/to/rosterd, default build/service/rosterd)
# Needs: the pinned Node.js (scripts/lib/node.sh installs it into .cache/node
# with npm) and npm to install the SDK into .cache/mcp-sdk once.
# Exit: 0 passed, 1 a check failed, 77 skipped (prints `SKIP: reason`).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TOOLS="$ROOT/.cache/mcp-sdk"
ROSTERD=${ROSTERD:-build/service/rosterd}
[[ "$ROSTERD" = /* ]] || ROSTERD="$ROOT/$ROSTERD"

skip() {
  echo "SKIP: $*"
  exit 77
}

command -v timeout >/dev/null || skip "timeout (coreutils) is missing"
# shellcheck source=scripts/lib/node.sh
. "$ROOT/scripts/lib/node.sh"
roster_node_install >/dev/null 2>&1 ||
  skip "no pinned Node.js $ROSTER_NODE_VERSION in .cache/node, and npm could not install it (no registry?)"
PATH="$(roster_node_bin):$PATH"
export PATH

if ! { [ -d "$TOOLS/node_modules/@modelcontextprotocol/sdk" ] &&
  cmp -s "$HERE/package-lock.json" "$TOOLS/package-lock.json" &&
  cmp -s "$HERE/package.json" "$TOOLS/package.json"; }; then
  command -v npm >/dev/null || skip "npm is missing: cannot install the pinned MCP SDK into $TOOLS"
  mkdir -p "$TOOLS"
  [ -f "$ROOT/.cache/.gitignore" ] || echo '*' >"$ROOT/.cache/.gitignore"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$TOOLS/"
  echo "installing the pinned MCP SDK into $TOOLS"
  (cd "$TOOLS" && timeout 600 npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
    skip "npm ci of the pinned MCP SDK failed (is the npm registry reachable?)"
fi

if [ ! -x "$ROSTERD" ]; then
  echo "rosterd not found at $ROSTERD (build it, or set ROSTERD)"
  echo "0 passed, 1 failed"
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/roster-mcp-sdk.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp -r "$ROOT/tests/fixtures/templates" "$WORK/profiles"
# ESM resolves packages from the script's own folder: run it beside node_modules
cp "$HERE/client.mjs" "$TOOLS/client.mjs"
ROSTERD="$ROSTERD" PROFILES="$WORK/profiles" timeout 120 node "$TOOLS/client.mjs"
