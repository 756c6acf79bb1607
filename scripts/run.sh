#!/usr/bin/env bash
# One command: install dependencies, build, and serve the bundled profiles.
#   scripts/run.sh [extra `rosterd serve` options]
# Listens on 127.0.0.1:8080 unless --listen or ROSTER_LISTEN says otherwise.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/setup.sh
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release -Dtests=false >/dev/null
fi
ninja -C build >/dev/null
exec build/service/rosterd serve --profiles "$ROOT/profiles" "$@"
