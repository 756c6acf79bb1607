#!/usr/bin/env bash
# bench/startup.sh: time and peak memory of building the snapshot, for the
# bundled profiles and for generated sets (bench/gen-profiles.py).
#
#   bench/startup.sh                     # bundled, 1,000 and 10,000 profiles
#   COUNTS="1000" REPEAT=1 bench/startup.sh
#
# For every profile set, REPEAT times (the table shows the median):
#   check   `rosterd check --profiles DIR` under /usr/bin/time -v
#   export  `rosterd export OUT --profiles DIR` under /usr/bin/time -v
#           (each repetition writes a fresh OUT, all removed only at the end:
#           ext4 inode allocation is much slower right after mass deletes)
#   serve   `rosterd serve` pinned to SERVER_CPU, from exec until GET /ready
#           answers 200 (curl polls every 10 ms from CLIENT_CPU, where this
#           script pins itself so its helpers never compete with the build),
#           peak RSS = VmHWM from /proc/PID/status once ready, and
#           roster_snapshot_build_seconds from /metrics.
# Each run line shows "cpu": the CPU time the process got as a share of its
# wall time. The build is single-threaded, so well under 100% means another
# process (or the hypervisor) took the core and the times are inflated;
# "psi" is the machine-wide CPU pressure (/proc/pressure/cpu) over the run.
#
# Environment (defaults in brackets): COUNTS ["1000 10000"] REPEAT [3]
#   SEED [1] SERVER_CPU [0] CLIENT_CPU [1] PROFILES [profiles]
#   BUILD_DIR [build-release]
#   READY_TIMEOUT seconds [600] KEEP_TMP=1 keeps the temporary directory.
set -euo pipefail

COUNTS=${COUNTS-1000 10000}
REPEAT=${REPEAT:-3}
SEED=${SEED:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PROFILES_SRC=${PROFILES:-profiles}
BUILD_DIR=${BUILD_DIR:-build-release}
READY_TIMEOUT=${READY_TIMEOUT:-600}
KEEP_TMP=${KEEP_TMP:-0}
TIME=/usr/bin/time

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
cd "$root"

die() {
    echo "startup.sh: $*" >&2
    exit 1
}
for v in REPEAT SEED SERVER_CPU CLIENT_CPU READY_TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
((REPEAT >= 1)) || die "REPEAT must be at least 1"
for n in $COUNTS; do
    [[ $n =~ ^[0-9]+$ && $n -ge 3 ]] || die "COUNTS entries must be integers >= 3, got '$n'"
done

need() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    [[ $(id -u) -eq 0 ]] || die "$1 is missing: apt-get install $2 (as root)"
    apt-get update -qq >/dev/null
    echo "installing $2 ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
[[ -x $TIME ]] || need "$TIME" time
[[ -x $TIME ]] || die "$TIME not found after installing time"
need curl curl
need taskset util-linux
need meson meson
need ninja ninja-build
[[ -x /usr/bin/python3 ]] || need /usr/bin/python3 python3

# This shell and everything it starts (curl, time, awk) stay on CLIENT_CPU;
# rosterd is pinned to SERVER_CPU explicitly.
taskset -pc "$CLIENT_CPU" $$ >/dev/null || die "cannot pin to cpu $CLIENT_CPU"

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

tmp=$(mktemp -d /tmp/roster-startup.XXXXXX)
serve_pid=
stop_serve() {
    local i
    [[ -n $serve_pid ]] || return 0
    if kill -0 "$serve_pid" 2>/dev/null; then
        kill -TERM "$serve_pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            kill -0 "$serve_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$serve_pid" 2>/dev/null && kill -KILL "$serve_pid" 2>/dev/null
    fi
    wait "$serve_pid" 2>/dev/null || true
    serve_pid=
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_serve
    if [[ $KEEP_TMP == 1 ]]; then
        echo "kept $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build -------------------------------------------------------------------
build_release

# --- profile sets ----------------------------------------------------------------
sets=()
[[ -d $PROFILES_SRC ]] || die "no profiles directory '$PROFILES_SRC'"
cp -R "$PROFILES_SRC" "$tmp/set-bundled"
sets+=(bundled)
for n in $COUNTS; do
    echo "== generating $n profiles (seed $SEED)"
    /usr/bin/python3 "$here/gen-profiles.py" --count "$n" --seed "$SEED" --out "$tmp/set-gen-$n" 2>&1 |
        sed 's/^/   /'
    sets+=("gen-$n")
done

# --- measurements --------------------------------------------------------------
# /usr/bin/time -v report -> "seconds max_rss_kb exit_status cpu_percent"
time_fields() {
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0
            for (i = 1; i <= n; i++) s = s * 60 + t[i] }
        /Maximum resident set size/ { rss = $2 }
        /Exit status/ { rc = $2 }
        /Percent of CPU this job got/ { cpu = $2 + 0 }
        END { printf "%.2f %d %d %d\n", s, rss, rc, cpu }' "$1"
}
median() { # numbers... -> median
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
now_ns() { local t=${EPOCHREALTIME/[.,]/}; echo "${t}000"; }
psi_total() { # microseconds some task waited for a CPU, since boot
    awk '/^some/ { for (i = 1; i <= NF; i++) if ($i ~ /^total=/) print substr($i, 7) }' \
        /proc/pressure/cpu 2>/dev/null || echo 0
}

results=$tmp/results.tsv
: >"$results"
for set in "${sets[@]}"; do
    dir=$tmp/set-$set
    nfiles=$(find "$dir" -name '*.md' -type f | wc -l)
    src_bytes=$(find "$dir" -name '*.md' -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')
    for ((r = 1; r <= REPEAT; r++)); do
        psi0=$(psi_total) w0=$(now_ns)
        # check
        "$TIME" -v -o "$tmp/time.txt" taskset -c "$SERVER_CPU" \
            "$rosterd" check --profiles "$dir" >"$tmp/check.out" 2>&1 || true
        read -r c_s c_kb c_rc c_cpu < <(time_fields "$tmp/time.txt")
        ((c_rc == 0)) || echo "WARNING: check of $set exited $c_rc: $(tail -n 1 "$tmp/check.out")"

        # export
        out=$tmp/export-$set-$r
        "$TIME" -v -o "$tmp/time.txt" taskset -c "$SERVER_CPU" \
            "$rosterd" export "$out" --profiles "$dir" >"$tmp/export.out" 2>&1 || true
        read -r e_s e_kb e_rc e_cpu < <(time_fields "$tmp/time.txt")
        ((e_rc == 0)) || echo "WARNING: export of $set exited $e_rc: $(tail -n 1 "$tmp/export.out")"
        e_bytes=$(find "$out" -type f -printf '%s\n' 2>/dev/null | awk '{ n += $1 } END { print n + 0 }')
        e_files=$(find "$out" -type f 2>/dev/null | wc -l)

        # serve until ready
        port=$(free_port)
        [[ $port != 8080 && $port != 18080 ]] || port=$(free_port)
        t0=$(now_ns)
        taskset -c "$SERVER_CPU" "$rosterd" serve --listen "127.0.0.1:$port" --profiles "$dir" \
            --threads 1 --log-level warn 2>"$tmp/serve-$set-$r.log" &
        serve_pid=$!
        ready=0
        deadline=$((t0 + READY_TIMEOUT * 1000000000))
        while (($(now_ns) < deadline)); do
            if [[ $(curl -s --noproxy '*' --max-time 2 -o "$tmp/ready.json" -w '%{http_code}' \
                "http://127.0.0.1:$port/ready") == 200 ]]; then
                ready=1
                break
            fi
            kill -0 "$serve_pid" 2>/dev/null || break
            sleep 0.01
        done
        t1=$(now_ns)
        if ((ready == 0)); then
            echo "WARNING: serve of $set not ready (see below)"
            tail -n 5 "$tmp/serve-$set-$r.log"
            s_s=nan s_kb=0 b_s=nan s_cpu=0
        else
            s_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
            s_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$serve_pid/status")
            # CPU the process got while starting, as % of the wall time
            s_cpu=$(awk -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" '{
                sub(/^.*\) /, ""); printf "%d", 100 * ($12 + $13) / hz / ((b - a) / 1e9) }' \
                "/proc/$serve_pid/stat")
            b_s=$(curl -s --noproxy '*' --max-time 5 "http://127.0.0.1:$port/metrics" |
                awk '/^roster_snapshot_build_seconds / { printf "%.2f", $2 }')
            served=$(grep -o '"served":[0-9]*' "$tmp/ready.json" | cut -d: -f2)
            [[ $served == "$nfiles" ]] ||
                echo "WARNING: $set: /ready reports $served served of $nfiles files"
        fi
        stop_serve
        psi=$(awk -v a="$psi0" -v b="$(psi_total)" -v w0="$w0" -v w1="$(now_ns)" \
            'BEGIN { printf "%.0f", (w1 > w0) ? 100 * (b - a) * 1000 / (w1 - w0) : 0 }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$set" "$c_s" "$c_kb" "$e_s" "$e_kb" \
            "$e_bytes" "$s_s" "$s_kb" "${b_s:-nan}" "$e_files" "$psi" >>"$results"
        printf 'run %d %-10s check %6ss %7s KB %3s%% cpu | export %6ss %8s KB %3s%% cpu | serve ready %6ss (build %ss) VmHWM %8s KB %3s%% cpu | psi %s%%\n' \
            "$r" "$set" "$c_s" "$c_kb" "$c_cpu" "$e_s" "$e_kb" "$e_cpu" "$s_s" "${b_s:-nan}" "$s_kb" "$s_cpu" "$psi"
    done
    printf '%s\t%s\t%s\n' "$set" "$nfiles" "$src_bytes" >>"$tmp/sets.tsv"
done

col() { awk -F'\t' -v s="$1" -v k="$2" '$1 == s { print $k }' "$results"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }     # KB -> MB
sec() { awk -v s="$1" 'BEGIN { if (s == "nan") print s; else printf "%.2f", s }'; }
mbb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; } # bytes -> MB

echo
echo "== machine: $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r), $(df -PT "$tmp" | awk 'NR == 2 { print $2 }') temp dir"
echo "== $("$rosterd" --version 2>&1 | head -n 1); median of $REPEAT run(s); times in seconds, memory in MB (peak RSS)"
fmt='%-10s %8s %9s %8s %9s %8s %9s %9s %9s %9s %10s\n'
# shellcheck disable=SC2059
printf "$fmt" set profiles "source MB" "check s" "check MB" "export s" "export MB" "output MB" "ready s" "build s" "serve MB"
while IFS=$'\t' read -r set nfiles src_bytes; do
    mapfile -t a < <(col "$set" 2)
    c_s=$(median "${a[@]}")
    mapfile -t a < <(col "$set" 3)
    c_kb=$(median "${a[@]}")
    mapfile -t a < <(col "$set" 4)
    e_s=$(median "${a[@]}")
    mapfile -t a < <(col "$set" 5)
    e_kb=$(median "${a[@]}")
    mapfile -t a < <(col "$set" 6)
    e_bytes=$(median "${a[@]}")
    mapfile -t a < <(col "$set" 7)
    s_s=$(median "${a[@]}")
    mapfile -t a < <(col "$set" 9)
    b_s=$(median "${a[@]}")
    mapfile -t a < <(col "$set" 8)
    s_kb=$(median "${a[@]}")
    # shellcheck disable=SC2059
    printf "$fmt" "$set" "$nfiles" "$(mbb "$src_bytes")" "$(sec "$c_s")" "$(mb "$c_kb")" \
        "$(sec "$e_s")" "$(mb "$e_kb")" "$(mbb "$e_bytes")" "$(sec "$s_s")" "$(sec "$b_s")" "$(mb "$s_kb")"
done <"$tmp/sets.tsv"
echo "(output MB: bytes of the files export wrote, .gz siblings included; build s: roster_snapshot_build_seconds)"
awk -F'\t' '{ print $11 }' "$results" | sort -g | awk '{ a[NR] = $1 } END {
    if (NR) printf "CPU pressure (psi) during the runs: median %s%%, max %s%% (high = other load, times suspect)\n",
        a[int((NR + 1) / 2)], a[NR] }'
