#!/usr/bin/env bash
# One command: install dependencies, build, and run every test.
#   scripts/test.sh            everything (what .ci/run and CI run)
#   scripts/test.sh --quick    build + meson test only (unit, fuzz replay, HTTP, CLI)
# Phases: 1 build and `meson test` (check unit suites, fuzz-corpus replays,
# black-box HTTP/CLI tests); 2 the same under AddressSanitizer + UBSan;
# 3 unit and fuzz suites under valgrind, and the HTTP suite with the server
# under valgrind; 4 lint (clang-format, shellcheck,
# yamllint); 5 deploy checks (kustomize, schemas, alerts); 6 the container
# test (podman; skipped with a note where podman cannot run).
# Ends with a line "N passed, N failed" and exits non-zero on any failure.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
passed=0
failed=0
failures=()

note() { printf '\n==> %s\n' "$*"; }
record() { # name status
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}
# Runs `meson test` and adds its Ok/Fail counts to the totals.
meson_tests() { # label builddir args...
  local label=$1 dir=$2 log
  shift 2
  log=$(mktemp)
  meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log" | grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Timeout|Skipped):' || true
  local ok fail to
  ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -1)
  fail=$(awk '/^Fail:/ {print $2}' "$log" | tail -1)
  to=$(awk '/^Timeout:/ {print $2}' "$log" | tail -1)
  ok=${ok:-0}; fail=${fail:-0}; to=${to:-0}
  if [ "$ok" -eq 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi   # meson itself failed
  passed=$((passed + ok)); failed=$((failed + fail + to))
  [ $((fail + to)) -gt 0 ] && failures+=("$label")
  rm -f "$log"
}

note "dependencies"
scripts/setup.sh --test || { echo "setup failed"; exit 1; }

note "test tools"
# the OpenAPI 3.1 validator the HTTP tests use (npm, into the ignored .cache/)
if [ ! -d .cache/openapi-validate/node_modules/@apidevtools/swagger-parser ]; then
  mkdir -p .cache/openapi-validate
  echo '{"private":true}' > .cache/openapi-validate/package.json
  (cd .cache/openapi-validate && npm install --no-audit --no-fund --silent \
    @apidevtools/swagger-parser@13.1.0) || echo "could not install the OpenAPI validator"
fi
export ROSTER_REQUIRE_TOOLS=1

note "build and test (gcc, -Werror)"
if [ ! -f build/build.ninja ]; then meson setup build -Dtests=true >/dev/null; fi
if ninja -C build >/dev/null; then
  meson_tests "meson test" build
else
  ninja -C build; record "build" 1
fi

if [ "$QUICK" -eq 0 ]; then
  note "AddressSanitizer + UndefinedBehaviorSanitizer"
  if [ ! -f build-san/build.ninja ]; then
    meson setup build-san -Dtests=true -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=debug >/dev/null
  fi
  if ninja -C build-san >/dev/null; then
    ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 meson_tests "sanitizers" build-san
  else
    record "sanitizer build" 1
  fi

  note "valgrind (unit suites and fuzz replays; the HTTP suite with rosterd under valgrind)"
  meson_tests "valgrind" build --setup=valgrind --suite unit --suite fuzz
  vglogs=$(mktemp -d)
  ROSTERD="$ROOT/build/service/rosterd" \
  ROSTERD_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --log-file=$vglogs/vg.%p.log" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/http 2>&1 | tail -3
  rc=${PIPESTATUS[0]}
  if grep -L "ERROR SUMMARY: 0 errors" "$vglogs"/vg.*.log | grep -q .; then rc=1; fi
  record "HTTP suite under valgrind" "$rc"
  rm -rf "$vglogs"

  note "lint"
  clang-format --dry-run -Werror service/*.c service/*.h include/*.h tests/unit/*.c \
    tests/unit/*.h fuzz/*.c
  record "clang-format" $?
  shellcheck scripts/*.sh bench/*.sh .ci/run 2>/dev/null || shellcheck scripts/*.sh .ci/run
  record "shellcheck" $?
  yamllint -s .
  record "yamllint" $?

  note "deploy checks"
  scripts/check-deploy.sh build/service/rosterd
  record "deploy checks" $?

  note "container"
  scripts/container-test.sh
  record "container test" $?
fi

echo
if [ "$failed" -gt 0 ]; then
  echo "failed: ${failures[*]}"
fi
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
