#!/usr/bin/env bash
# One command: install dependencies, build, and serve the bundled profiles.
#   scripts/run.sh [extra `rosterd serve` options]
# Listens on 127.0.0.1:8080 unless --listen or ROSTER_LISTEN says otherwise.
# Builds a release build in build-run/, its own directory: scripts/test.sh
# owns build/ (with the tests), so the two never reconfigure each other.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/setup.sh
if [ ! -f build-run/build.ninja ]; then
  meson setup build-run --buildtype=release -Dtests=false >/dev/null
fi
ninja -C build-run >/dev/null
exec build-run/service/rosterd serve --profiles "$ROOT/profiles" "$@"
