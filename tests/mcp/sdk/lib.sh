# shellcheck shell=bash
# Shared by tests/mcp/sdk/run.sh and tests/mcp/inspector/run.sh: the pinned
# Node.js first on PATH, a set of npm packages pinned by a package.json and
# its package-lock.json installed once into .cache/<name>, and `rosterd
# serve` instances on free loopback ports, stopped when the script exits.
#
#   ROOT=... ROSTERD=...; . tests/mcp/sdk/lib.sh
#   mcp_node; mcp_npm_ci "$HERE" "$ROOT/.cache/x" "what"; mcp_workdir
#   mcp_serve NAME PROFILES [ARGS...]   # sets MCP_PORT

MCP_PIDS=()
MCP_WORK=

mcp_skip() {
  echo "SKIP: $*"
  exit 77
}

# The pinned Node.js (scripts/lib/node.sh) first on PATH, or skip.
mcp_node() {
  command -v timeout >/dev/null || mcp_skip "timeout (coreutils) is missing"
  # shellcheck source=scripts/lib/node.sh
  . "$ROOT/scripts/lib/node.sh"
  roster_node_install >/dev/null 2>&1 ||
    mcp_skip "no pinned Node.js $ROSTER_NODE_VERSION in .cache/node, and npm could not install it (no registry?)"
  PATH="$(roster_node_bin):$PATH"
  export PATH
  # no update checks or funding notes from npm and the tools it runs
  export NO_UPDATE_NOTIFIER=1 npm_config_update_notifier=false
}

# mcp_npm_ci SRC DEST WHAT [NPM-ARGS...]: `npm ci` of SRC/package.json and
# SRC/package-lock.json into DEST, unless DEST holds exactly those already
# (DEST/installed.stamp is written only after a successful install).
mcp_npm_ci() {
  local src=$1 dest=$2 what=$3
  shift 3
  if [ -d "$dest/node_modules" ] && [ -f "$dest/installed.stamp" ] &&
    cat "$src/package.json" "$src/package-lock.json" | cmp -s - "$dest/installed.stamp"; then
    return 0
  fi
  command -v npm >/dev/null || mcp_skip "npm is missing: cannot install $what into $dest"
  mkdir -p "$dest"
  [ -f "$ROOT/.cache/.gitignore" ] || echo '*' >"$ROOT/.cache/.gitignore"
  rm -f "$dest/installed.stamp"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  echo "installing $what into $dest"
  (cd "$dest" && timeout 600 npm ci --no-audit --no-fund --loglevel=error "$@" >"$dest/install.log" 2>&1) ||
    mcp_skip "npm ci of $what failed (is the npm registry reachable? $dest/install.log)"
  cat "$src/package.json" "$src/package-lock.json" >"$dest/installed.stamp"
}

# Stops every server mcp_serve started: SIGTERM, then SIGKILL after 5 s.
mcp_stop_servers() {
  local pid i
  for pid in "${MCP_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${MCP_PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  MCP_PIDS=()
}

mcp_cleanup() {
  mcp_stop_servers
  [ -z "$MCP_WORK" ] || rm -rf "$MCP_WORK"
}

# A scratch directory (MCP_WORK), removed on exit with the servers stopped.
mcp_workdir() {
  MCP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/roster-mcp-$1.XXXXXX")
  trap mcp_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# mcp_serve NAME PROFILES [ARGS...]: starts `$ROSTERD serve` on 127.0.0.1
# with a port the kernel picks, logging to $MCP_WORK/NAME.log, and sets
# MCP_PORT from its `start` event (at most 10 s). Environment variables set
# for the call (ROSTER_MCP_TOKEN=...) reach the server.
mcp_serve() {
  local name=$1 profiles=$2 log pid i
  shift 2
  log="$MCP_WORK/$name.log"
  "$ROSTERD" serve --listen 127.0.0.1:0 --profiles "$profiles" --shutdown-timeout 2 "$@" 2>"$log" &
  pid=$!
  MCP_PIDS+=("$pid")
  MCP_PORT=
  for ((i = 0; i < 100; i++)); do
    MCP_PORT=$(sed -n 's/^{.*"event":"start",.*"port":\([0-9][0-9]*\),.*/\1/p' "$log")
    [ -z "$MCP_PORT" ] || return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "rosterd serve ($name) did not start; its log:"
  cat "$log"
  return 1
}
