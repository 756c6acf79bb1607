#!/usr/bin/env bash
# One command: install dependencies, build, and run every test.
#   scripts/test.sh            everything (what .ci/run and CI run)
#   scripts/test.sh --quick    build + meson test only (unit, fuzz replay, HTTP, CLI)
# Phases: 1 build and `meson test` (check unit suites, fuzz-corpus replays,
# black-box HTTP/CLI and reload tests); 2 the same under AddressSanitizer +
# UBSan; 3 unit and fuzz suites under valgrind, and the HTTP suite with the
# server under valgrind; 4 lint (clang-format, shellcheck, yamllint, the layer
# and banned-call check, cppcheck: scripts/check-layers.sh); 5 deploy
# checks (kustomize, schemas, alerts); 6 the container test (podman).
# A check that cannot run on this machine is reported as skipped, with why and
# what would enable it, never as passed. The build directory is build/ (always
# configured with -Dtests=true here; scripts/run.sh uses build-run/).
# Ends with a line "N passed, N failed, N skipped" and exits non-zero on any
# failure.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
passed=0
failed=0
skipped=0
failures=()
skips=()
# sub-scripts append "name: reason (how to enable)" lines for checks they skip
ROSTER_SKIP_FILE=$(mktemp)
export ROSTER_SKIP_FILE
trap 'rm -f "$ROSTER_SKIP_FILE"' EXIT

note() { printf '\n==> %s\n' "$*"; }
record() { # name status [output-file]: 0 passed, 77 skipped (reason: the file's SKIP: line)
  case "$2" in
    0) passed=$((passed + 1)) ;;
    77) skipped=$((skipped + 1))
        skips+=("$1: $(sed -n 's/^SKIP: //p' "${3:-/dev/null}" 2>/dev/null | tail -1)") ;;
    *) failed=$((failed + 1)); failures+=("$1") ;;
  esac
}
# run_step NAME COMMAND...: runs a script that may exit 77 with "SKIP: reason"
run_step() {
  local name=$1 out rc
  shift
  out=$(mktemp)
  "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  record "$name" "$rc" "$out"
  rm -f "$out"
}
# Runs `meson test` and adds its Ok/Fail/Skipped counts to the totals.
meson_tests() { # label builddir args...
  local label=$1 dir=$2 log
  shift 2
  log=$(mktemp)
  meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log" | grep -E '^ *[0-9]+/[0-9]+ |^(Ok|Fail|Timeout|Skipped):' || true
  local ok fail to sk
  ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -1)
  fail=$(awk '/^Fail:/ {print $2}' "$log" | tail -1)
  to=$(awk '/^Timeout:/ {print $2}' "$log" | tail -1)
  sk=$(awk '/^Skipped:/ {print $2}' "$log" | tail -1)
  ok=${ok:-0}; fail=${fail:-0}; to=${to:-0}; sk=${sk:-0}
  if [ "$ok" -eq 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi   # meson itself failed
  passed=$((passed + ok)); failed=$((failed + fail + to)); skipped=$((skipped + sk))
  if [ $((fail + to)) -gt 0 ]; then
    failures+=("$label")
    # what failed, from meson's own output (the summary above hides it)
    echo "---- output of the failing tests (last 80 lines)"
    sed -n '/^=* *[0-9]*\/[0-9]* [^ ]* *FAIL\|^--- \|^FAILED \|^E  \|Error\|AssertionError/p' "$log" | tail -80
  fi
  if [ "$sk" -gt 0 ]; then
    # each skipping test says why on a "SKIP: reason" line (meson's log)
    local reasons
    reasons=$(grep -h '^SKIP: ' "$dir/meson-logs/testlog.txt" 2>/dev/null | sed 's/^SKIP: //' | sort -u)
    if [ -n "$reasons" ]; then
      while IFS= read -r line; do skips+=("$label: $line"); done <<<"$reasons"
    else
      skips+=("$label: $sk meson test(s) skipped ($dir/meson-logs/testlog.txt says why)")
    fi
  fi
  rm -f "$log"
}
# The main phase must be the whole suite, whatever configured build/ before:
# every suite below has to be registered, or the run is a failure.
REQUIRED_SUITES=(unit fuzz http reload contract mcp)
check_full_suite() { # builddir
  local list missing=() s
  list=$(meson test -C "$1" --list 2>/dev/null)
  for s in "${REQUIRED_SUITES[@]}"; do
    grep -Eq "^[^ ]+:$s / " <<<"$list" || missing+=("$s")
  done
  echo "main phase: $(grep -c ' / ' <<<"$list") tests registered in $1"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "the main phase is not the full suite: no ${missing[*]} tests in $1 (is it configured with -Dtests=false?)"
    return 1
  fi
}

note "dependencies"
scripts/setup.sh --test || { echo "setup failed"; exit 1; }

note "test tools"
# a pinned Node.js from the npm registry (Debian's is 18; the tools want more)
# shellcheck source=scripts/lib/node.sh
. scripts/lib/node.sh
if roster_node_install; then
  PATH=$(roster_node_bin):$PATH
  export PATH
  echo "node $(node --version) from $(command -v node)"
else
  echo "could not install Node.js $ROSTER_NODE_VERSION from the npm registry"; record "pinned Node.js" 1
fi
# the OpenAPI 3.1 validator the HTTP tests use (npm, into the ignored .cache/)
if [ ! -d .cache/openapi-validate/node_modules/@apidevtools/swagger-parser ]; then
  mkdir -p .cache/openapi-validate
  echo '{"private":true}' > .cache/openapi-validate/package.json
  (cd .cache/openapi-validate && npm install --no-audit --no-fund --silent \
    @apidevtools/swagger-parser@13.1.0) || echo "could not install the OpenAPI validator"
fi
export ROSTER_REQUIRE_TOOLS=1

note "build and test (gcc, -Werror)"
if [ -f build/build.ninja ]; then
  meson configure build -Dtests=true >/dev/null || meson setup --reconfigure build -Dtests=true >/dev/null
else
  meson setup build -Dtests=true >/dev/null
fi
if ninja -C build >/dev/null; then
  check_full_suite build; record "full suite registered" $?
  meson_tests "meson test" build
else
  ninja -C build; record "build" 1
fi

if [ "$QUICK" -eq 0 ]; then
  note "AddressSanitizer + UndefinedBehaviorSanitizer"
  if [ -f build-san/build.ninja ]; then
    meson configure build-san -Dtests=true >/dev/null
  else
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
  clang-format --version
  clang-format --dry-run -Werror service/*/*.[ch] include/*/*.h tests/unit/*.c \
    tests/unit/*.h fuzz/*.c
  record "clang-format" $?
  shellcheck -x scripts/*.sh scripts/lib/*.sh bench/*.sh tests/contract/run.sh tests/mcp/sdk/*.sh tests/mcp/inspector/run.sh .ci/run
  record "shellcheck" $?
  scripts/check-layers.sh
  record "layers, banned calls, cppcheck" $?
  yamllint -s .
  record "yamllint" $?
  python3 scripts/gen-options.py service/app/options.json --check docs/configuration.md
  record "option table in docs/configuration.md" $?

  note "deploy checks"
  run_step "deploy checks" scripts/check-deploy.sh build/service/rosterd

  note "container"
  run_step "container test" scripts/container-test.sh
fi

# checks the sub-scripts skipped in part (each line: "name: reason")
while IFS= read -r line; do
  [ -n "$line" ] || continue
  skipped=$((skipped + 1))
  skips+=("$line")
done <"$ROSTER_SKIP_FILE"

echo
if [ ${#skips[@]} -gt 0 ]; then
  echo "skipped:"
  printf '  - %s\n' "${skips[@]}"
fi
if [ "$failed" -gt 0 ]; then
  echo "failed: ${failures[*]}"
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
