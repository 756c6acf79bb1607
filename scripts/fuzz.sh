#!/usr/bin/env bash
# Coverage-guided fuzzing of the libFuzzer harnesses in fuzz/ (clang-14,
# AddressSanitizer + UndefinedBehaviorSanitizer).
#
#   scripts/fuzz.sh [--merge] [SECONDS] [HARNESS...]
#
# SECONDS   time per harness (default 60; 0 with --merge: merge only)
# HARNESS   any of frontmatter markdown pipeline http template mcp (default:
#           all six, one after the other)
# --merge   afterwards, minimize the new inputs into fuzz/corpus/<name>
#           (libFuzzer -merge=1: only inputs that add coverage are copied)
#
# The build lives in build-fuzz/ (never touches build/). Each harness runs on
# build-fuzz/corpus-<name>, which starts as a copy of fuzz/corpus/<name> and
# keeps what the fuzzer finds between runs. Crash, leak, timeout and OOM
# artifacts go to build-fuzz/crashes/<name>-*, full logs to
# build-fuzz/logs/<name>-<n>.log. After a crash the harness is restarted
# (the corpus is kept) until its time is up, at most MAX_RESTARTS times.
# Prints a table and exits 1 when any harness crashed, 2 on usage or build
# errors. Environment: FUZZ_EXTRA_CFLAGS (appended to c_args), FUZZ_MAX_RESTARTS
# (default 10). Run long sessions with `nice -n 10`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=build-fuzz
ALL_HARNESSES=(frontmatter markdown pipeline http template mcp)
MAX_RESTARTS=${FUZZ_MAX_RESTARTS:-10}

usage() {
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 2
}

seconds=60
merge=0
harnesses=()
for arg in "$@"; do
  case $arg in
    --merge) merge=1 ;;
    -h | --help) usage ;;
    '' | *[!0-9]*)
      found=0
      for h in "${ALL_HARNESSES[@]}"; do [ "$h" = "$arg" ] && found=1; done
      if [ "$found" -eq 0 ]; then
        echo "fuzz.sh: unknown harness or option '$arg' (harnesses: ${ALL_HARNESSES[*]})" >&2
        exit 2
      fi
      harnesses+=("$arg")
      ;;
    *) seconds=$arg ;;
  esac
done
[ "${#harnesses[@]}" -eq 0 ] && harnesses=("${ALL_HARNESSES[@]}")

max_len_of() { # harness
  case $1 in
    pipeline) echo 65536 ;;  # up to 6 files; bundled corpus entry is 14 KB
    template) echo 262144 ;; # files + NUL + values: a value above the 64 KiB max_length
    mcp) echo 16384 ;;       # a session of messages; the committed seeds stay under 8 KB
    *) echo 131072 ;;        # above the 64 KiB front matter cap and the 100 KB deep-nesting seeds
  esac
}

# Tokens that take the mutator past the first byte of each grammar quickly.
write_dict() { # harness file
  local common='"---"
"..."
"\x0a"
"\x0d\x0a"
"\xef\xbb\xbf"
"\x00"
"\xc0\xae"
"\xed\xa0\x80"'
  case $1 in
    frontmatter)
      printf '%s\n' "$common" '"id: "' '"extends: "' '"- "' '"["' '"]"' '"{"' '"}"' '": "' \
        '"&a "' '"*a"' '"!!str "' '"!!map "' '"? "' '"|"' '">-"' '"\"\\u0000\""' '"0x1F"' \
        '"0o17"' '".inf"' '".nan"' '"~"' '"null"' '"true"' '"%YAML 1.2"' '"%TAG ! tag:x:"' \
        '"9223372036854775808"' '"1e999"' >"$2"
      ;;
    markdown | pipeline)
      printf '%s\n' "$common" '"id: "' '"extends: "' '"extends: [a, b]"' '"# "' '"## "' '"### "' \
        '"```"' '"````"' '"```markdown"' '"~~~"' '"- "' '"* "' '"1. "' '"> "' '"**"' '"__"' \
        '"| a | b |"' '"|---|---|"' '"\\|"' '"- [ ] "' '"    "' '"<div>"' '"&amp;"' '"\x60"' \
        '"## Core Competencies"' '"## Work Patterns"' '"## Tool Priorities"' \
        '"## Output Standards"' '"## Anti-Patterns"' '"**DO NOT:**"' '"**ALWAYS:**"' \
        '"\xe2\x9d\x8c"' '"\xe2\x9c\x85"' '" - "' '"\xe2\x80\x94"' '"\x0a@@@\x0a"' \
        '"id: a"' '"id: b"' '"extends: a"' '"extends: base"' >"$2"
      ;;
    template)
      printf '%s\n' "$common" '"id: "' '"extends: "' '"variables:"' '"variables: {"' \
        '"  task: {description: \"What\", required: true}"' '"description: "' '"required: true"' \
        '"required: false"' '"default: "' '"enum: ["' '"pattern: "' '"\"^https://\""' \
        '"max_length: "' '"max_length: 1048576"' '"{{"' '"}}"' '"{{ task }}"' '"{{task}}"' \
        '"{{{{"' '"{{ language }}"' '"```"' '"```raw"' '"```text raw"' '"~~~ raw"' '"# "' \
        '"## "' '"\x0a@@@\x0a"' '"\x00{\"task\": \""' '"{\"variables\":"' '"\": \""' \
        '"\", \""' '"\\u0000"' '"\\ud83d\\ude00"' '"[a-z]+"' '"(a|b)*"' '"\\1"' \
        '"{1,9}"' '"[[:alpha:]]"' >"$2"
      ;;
    http)
      printf '%s\n' '"/v1/profiles"' '"/v1/profiles/"' '"/v1/facets"' '"/v1/diagnostics"' \
        '"/prompt"' '"/source"' '"/role"' '"/work-patterns"' '"/lineage"' '"?"' '"&"' '"="' \
        '"%"' '"%00"' '"%2F"' '"%2e%2e"' '"%c0%ae"' '"%zz"' '"+"' '"category="' '"role="' \
        '"extends="' '"q="' '"fields="' '"limit="' '"cursor="' '"severity="' \
        '"application/json"' '"text/markdown"' '"*/*"' '";q=0"' '";q=0.5"' '";q=1.000"' \
        '"gzip"' '"identity;q=0"' '"W/"' '"\"0123456789abcdef0123456789abcdef-1\""' '", "' \
        '"\x0a"' >"$2"
      ;;
    mcp)
      printf '%s\n' '"\x0a"' '"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\""' '"\"jsonrpc\":\"2.0\""' \
        '"\"id\":"' '"\"method\":"' '"\"params\":{"' '"\"result\":{}"' '"\"error\":"' '"\"cursor\":"' \
        '"\"name\":"' '"\"arguments\":{"' '"\"uri\":"' '"\"ref\":{"' '"\"argument\":{"' '"\"type\":"' \
        '"\"value\":"' '"\"level\":"' '"\"protocolVersion\":"' '"\"2025-11-25\""' '"\"2025-06-18\""' \
        '"initialize"' '"notifications/initialized"' '"notifications/cancelled"' '"ping"' \
        '"logging/setLevel"' '"prompts/list"' '"prompts/get"' '"resources/list"' \
        '"resources/templates/list"' '"resources/read"' '"resources/subscribe"' \
        '"resources/unsubscribe"' '"completion/complete"' '"ref/prompt"' '"ref/resource"' \
        '"roster://profiles/"' '"roster://profiles/{id}"' '"/prompt"' '"/variables"' '"/lineage"' \
        '"/role"' '"/source"' '"tpl-parent"' '"tpl-child"' '"tpl-plain"' '"worker"' '"zz-utf8"' \
        '"orphan"' '"task"' '"language"' '"repo_url"' '"ticket"' '"audience"' '"mood"' '"Python"' \
        '"Rust"' '"https://"' '"debug"' '"emergency"' '"null"' '"true"' '"[]"' '"{}"' '"\\u0000"' \
        '"\\ud83d\\ude00"' '"9223372036854775808"' '"1e999"' '"\xff"' '"\xed\xa0\x80"' >"$2"
      ;;
  esac
}

# --- toolchain and build -----------------------------------------------------
rt_lib() { find /usr/lib/llvm-14/lib/clang -name 'libclang_rt.fuzzer-x86_64.a' 2>/dev/null | head -1; }
if ! command -v clang >/dev/null 2>&1 || [ -z "$(rt_lib)" ]; then
  echo "fuzz.sh: installing clang and libclang-rt-14-dev" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "fuzz.sh: need root to install clang libclang-rt-14-dev" >&2
    exit 2
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang libclang-rt-14-dev >/dev/null
fi

# FUZZ_EXTRA_CFLAGS is appended to c_args (e.g. a workaround for code that
# only gcc accepts); changing it reconfigures the existing build-fuzz.
c_args="-fsanitize=fuzzer-no-link${FUZZ_EXTRA_CFLAGS:+ $FUZZ_EXTRA_CFLAGS}"
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang meson setup "$BUILD" -Dfuzzing=true -Dtests=false -Db_sanitize=address,undefined \
    -Db_lundef=false -Dc_args="$c_args" >/dev/null ||
    { echo "fuzz.sh: meson setup failed" >&2; exit 2; }
else
  meson configure "$BUILD" -Dc_args="$c_args" >/dev/null
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("fuzz/fuzz_$h"); done
if ! ninja -C "$BUILD" "${targets[@]}" >"$BUILD/build.log" 2>&1; then
  grep -E 'error|FAILED' "$BUILD/build.log" >&2 || cat "$BUILD/build.log" >&2
  echo "fuzz.sh: build failed (full output in $BUILD/build.log)" >&2
  if grep -q "_Atomic.*invalid" "$BUILD/build.log"; then
    # clang refuses __atomic_* builtins on _Atomic objects (gcc accepts them).
    echo "fuzz.sh: until the C code uses <stdatomic.h> there, retry with:" >&2
    # shellcheck disable=SC2016
    echo '  FUZZ_EXTRA_CFLAGS="-D__atomic_add_fetch(p,v,o)=__atomic_add_fetch((__typeof__(*(p)+0)*)(p),v,o) -D__atomic_sub_fetch(p,v,o)=__atomic_sub_fetch((__typeof__(*(p)+0)*)(p),v,o)" scripts/fuzz.sh ...' >&2
  fi
  exit 2
fi

mkdir -p "$BUILD/crashes" "$BUILD/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

count_files() { find "$1" -maxdepth 1 -type f | wc -l; }
artifacts_of() { find "$BUILD/crashes" -maxdepth 1 -type f -name "$1-*" | sort; }

# --- fuzzing -------------------------------------------------------------------
declare -A R_EXECS R_RATE R_COV R_FT R_NEW R_CRASH R_MERGED
total_crashes=0
for h in "${harnesses[@]}"; do
  bin="$BUILD/fuzz/fuzz_$h"
  corpus="$BUILD/corpus-$h"
  dict="$BUILD/dict-$h.txt"
  mkdir -p "$corpus"
  cp -n fuzz/corpus/"$h"/* "$corpus"/ 2>/dev/null || true
  write_dict "$h" "$dict"
  before=$(count_files "$corpus")
  mapfile -t old_artifacts < <(artifacts_of "$h")
  execs=0 cov='-' ft='-' run=0
  start=$(date +%s)
  deadline=$((start + seconds))
  while [ "$seconds" -gt 0 ]; do
    left=$((deadline - $(date +%s)))
    [ "$left" -ge 5 ] || break
    run=$((run + 1))
    log="$BUILD/logs/$h-$run.log"
    echo "fuzz.sh: $h run $run, ${left}s (log $log)" >&2
    rc=0
    ("$bin" "$corpus" -dict="$dict" -max_total_time="$left" -max_len="$(max_len_of "$h")" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$BUILD/crashes/$h-") >"$log" 2>&1 || rc=$?
    n=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log" | tail -1)
    execs=$((execs + ${n:-0}))
    line=$(grep -E '^#[0-9]+.*cov: [0-9]+' "$log" | tail -1 || true)
    if [ -n "$line" ]; then
      cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$line")
      ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$line")
    fi
    [ "$rc" -eq 0 ] && break
    if [ "$run" -gt "$MAX_RESTARTS" ]; then
      echo "fuzz.sh: $h: $run failing runs, giving up on the rest of its time" >&2
      break
    fi
  done
  elapsed=$(($(date +%s) - start))
  [ "$elapsed" -gt 0 ] || elapsed=1
  mapfile -t now_artifacts < <(artifacts_of "$h")
  new_art=$(comm -13 <(printf '%s\n' "${old_artifacts[@]}") <(printf '%s\n' "${now_artifacts[@]}") | grep -c . || true)
  R_EXECS[$h]=$execs
  R_RATE[$h]=$((execs / elapsed))
  R_COV[$h]=$cov
  R_FT[$h]=$ft
  R_NEW[$h]=$(($(count_files "$corpus") - before))
  R_CRASH[$h]=$new_art
  total_crashes=$((total_crashes + new_art))
  if [ "$new_art" -gt 0 ]; then
    comm -13 <(printf '%s\n' "${old_artifacts[@]}") <(printf '%s\n' "${now_artifacts[@]}") |
      sed "s/^/fuzz.sh: $h artifact: /" >&2
  fi

  R_MERGED[$h]='-'
  if [ "$merge" -eq 1 ]; then
    dest="fuzz/corpus/$h"
    b=$(count_files "$dest")
    mlog="$BUILD/logs/$h-merge.log"
    "$bin" -merge=1 -max_len="$(max_len_of "$h")" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$BUILD/crashes/$h-merge-" "$dest" "$corpus" >"$mlog" 2>&1 ||
      echo "fuzz.sh: $h merge reported an error (see $mlog)" >&2
    R_MERGED[$h]=$(($(count_files "$dest") - b))
  fi
done

# --- report ----------------------------------------------------------------------
printf '\n%-12s %12s %8s %7s %8s %6s %7s %8s\n' harness executions exec/s cov ft new merged crashes
for h in "${harnesses[@]}"; do
  printf '%-12s %12s %8s %7s %8s %6s %7s %8s\n' "$h" "${R_EXECS[$h]}" "${R_RATE[$h]}" \
    "${R_COV[$h]}" "${R_FT[$h]}" "${R_NEW[$h]}" "${R_MERGED[$h]}" "${R_CRASH[$h]}"
done
echo "(${seconds}s per harness; artifacts in $BUILD/crashes/, logs in $BUILD/logs/)"
if [ "$total_crashes" -gt 0 ]; then
  echo "FAIL: $total_crashes crash/leak/timeout/oom artifact(s); reproduce with $BUILD/fuzz/fuzz_<name> <artifact>"
  exit 1
fi
