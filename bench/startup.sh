#!/usr/bin/env bash
# bench/startup.sh: start-up time, peak memory and first-request latency of
# rosterd, for the bundled profiles and for generated sets
# (bench/gen-profiles.py), with the Node.js peer side by side.
#
#   bench/startup.sh                                  # bundled, 1,000 and 10,000 profiles
#   COUNTS="1000" REPEAT=1 bench/startup.sh           # quick
#   COUNTS="100000" REPEAT=1 bench/startup.sh         # the 100k target
#   BUILD_DIR=/tmp/my-build COUNTS=1000 bench/startup.sh
#
# For every profile set, REPEAT times (the tables show the median):
#   check   `rosterd check --profiles DIR` under /usr/bin/time -v: wall
#           seconds and peak RSS.
#   serve   `rosterd serve` (not pinned: it indexes on every core), from exec
#           until GET /ready answers 200, polled every 10 ms by a small Python
#           loop (one process, a fresh connection per poll, so the poller
#           costs the server almost no CPU; its own start-up, ~20 ms, is the
#           resolution). Any status but 200 is "not ready". Recorded on the
#           way: when the socket first answered, the last "indexed/total" seen
#           in a 503 /ready body, and whether /health answered 200 meanwhile.
#           At ready: VmHWM and the CPU time the process used as a share of
#           the wall time ("cpu", up to 100% per core), then
#           roster_snapshot_build_seconds from /metrics.
#   first   bench/first-request.py: the full profile of FIRST_COUNT distinct
#           ids (seeded choice) never requested before, one after another on
#           one keep-alive connection: p50/p99/max ms. Then (ALL_VIEWS=1)
#           every profile's full JSON and every view once (11 requests per
#           profile): the seconds it took and VmRSS afterwards.
#   node    the Node.js peer (NODE_PEER_DIR, copied to the temporary
#           directory, `npm ci` with the Node.js pinned in scripts/lib/node.sh):
#           `node server.js` from exec until GET /v1/profiles answers 200 (it
#           has no readiness route; it listens only once everything is
#           loaded), VmHWM then, and first-request.py against it (full
#           profile; its every-view pass covers its three views). When Node.js
#           or npm cannot be had, "node peer: unavailable (why)" and roster
#           alone.
# "psi" on each run line is the machine-wide CPU pressure (/proc/pressure/cpu)
# over that run: the share of the time some task waited for a CPU. High
# means other load on this shared machine, and that run's times are suspect.
# Targets (issue #12) are printed next to the figures of the 10,000 and
# 100,000 sets with "met" or "missed"; nothing here fails on them.
#
# Environment (defaults in brackets):
#   COUNTS ["1000 10000"] generated set sizes ("" = bundled only); REPEAT [3]
#   SEED [1] (generator and the first-request choice)
#   PROFILES [profiles] the bundled set; BUILD_DIR [build-release] (relative
#     to the repository or absolute)
#   READY_TIMEOUT seconds [600] for check, for /ready and for the peer
#   FIRST_COUNT [300] first requests; ALL_VIEWS [1] 0 skips the every-view
#     pass; FIRST_DEADLINE seconds [1800] for one first-request.py run
#   INDEX_THREADS [nproc] passed as --index-threads when this rosterd has it
#   ROSTER_ARGS extra `rosterd serve` flags, e.g. "--prerender"
#   NODE_PEER [1] 0 skips the peer; NODE_PEER_DIR [../shared/peers/node next
#     to the repository]; NPM_TIMEOUT seconds [600] for installing Node.js
#     and for `npm ci`
#   KEEP_TMP=1 keeps the temporary directory (sets, logs, raw results).
# Traffic goes to 127.0.0.1 only. Installs packages only when run as root.
set -euo pipefail

COUNTS=${COUNTS-1000 10000}
REPEAT=${REPEAT:-3}
SEED=${SEED:-1}
PROFILES_SRC=${PROFILES:-profiles}
BUILD_DIR=${BUILD_DIR:-build-release}
READY_TIMEOUT=${READY_TIMEOUT:-600}
FIRST_COUNT=${FIRST_COUNT:-300}
ALL_VIEWS=${ALL_VIEWS:-1}
FIRST_DEADLINE=${FIRST_DEADLINE:-1800}
INDEX_THREADS=${INDEX_THREADS:-$(nproc)}
NODE_PEER=${NODE_PEER:-1}
NPM_TIMEOUT=${NPM_TIMEOUT:-600}
KEEP_TMP=${KEEP_TMP:-0}
TIME=/usr/bin/time
PY=/usr/bin/python3

read -ra roster_args <<<"${ROSTER_ARGS:-}"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
NODE_PEER_DIR=${NODE_PEER_DIR:-$(dirname "$root")/shared/peers/node}
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
cd "$root"

die() {
    echo "startup.sh: $*" >&2
    exit 1
}
for v in REPEAT SEED READY_TIMEOUT FIRST_COUNT FIRST_DEADLINE INDEX_THREADS NPM_TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
((REPEAT >= 1)) || die "REPEAT must be at least 1"
((READY_TIMEOUT >= 1)) || die "READY_TIMEOUT must be at least 1"
for n in $COUNTS; do
    [[ $n =~ ^[0-9]+$ && $n -ge 3 ]] || die "COUNTS entries must be integers >= 3, got '$n'"
done
# lib.sh's build_release takes BUILD_DIR relative to the repository.
if [[ $BUILD_DIR == /* ]]; then
    BUILD_DIR=$(realpath -m --relative-to="$root" "$BUILD_DIR")
fi

[[ -x $TIME ]] || need "$TIME" time
[[ -x $TIME ]] || die "$TIME not found after installing time"
[[ -x $PY ]] || need "$PY" python3
[[ -x $PY ]] || die "$PY not found after installing python3"
need curl curl
need timeout coreutils
need meson meson
need ninja ninja-build


tmp=$(mktemp -d /tmp/roster-startup.XXXXXX)
serve_pid=
node_pid=
poll_pid=
polled_pid=
stop_serve() {
    stop_process "$serve_pid"
    serve_pid=
}
stop_node() {
    stop_process "$node_pid"
    node_pid=
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_serve
    stop_node
    stop_process "$polled_pid" # started, not yet handed to serve_pid / node_pid
    stop_process "$poll_pid"
    if [[ $KEEP_TMP == 1 ]]; then
        echo "kept $tmp" >&2
    else
        rm -rf "$tmp" 2>/dev/null || { sleep 1; rm -rf "$tmp" || echo "could not remove $tmp" >&2; }
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers -------------------------------------------------------------------
# The readiness poller: one Python process, so polling every 10 ms costs the
# server (which uses every core while indexing) next to nothing. It is
# started before the server: once its imports are done it creates ARMED,
# then reads "PID T0_NS" (T0_NS: the wall clock just before the server's
# exec) from its stdin, so its own start-up is not in the figure. Prints one
# JSON object: ready, seconds (from T0_NS), open_seconds (first HTTP answer
# of any status), progress seen, /health answers while not ready, and VmHWM /
# VmRSS / CPU share at ready.
cat >"$tmp/poll.py" <<'EOF'
import json, os, re, socket, sys, time
port, path, timeout = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
health, progress_log, armed = sys.argv[4] == "1", sys.argv[5], sys.argv[6]
open(armed, "w").close()
try:
    pid, t0 = (int(x) for x in sys.stdin.readline().split())
except ValueError:
    sys.exit("poll.py: no 'PID T0_NS' on stdin")

def get(p):
    """-> (status, body); status 0 when nothing answered"""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError:
        return 0, b""
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % p).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        return 0, b""
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return (int(m.group(1)), data.split(b"\r\n\r\n", 1)[-1]) if m else (0, b"")

def status():
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "State"):
                    out[k] = v.split()[0]
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out["ticks"] = int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        pass
    return out

res = {"ready": False, "polls": 0, "not_ready": 0, "health_200": 0, "health_other": 0,
       "progress_samples": 0, "progress_first": "", "progress_last": "", "open_seconds": None}
deadline = t0 + timeout * 1e9
with open(progress_log, "w") as plog:
    while True:
        st, body = get(path)
        now = time.time_ns()
        res["polls"] += 1
        if st and res["open_seconds"] is None:
            res["open_seconds"] = round((now - t0) / 1e9, 3)
        if st == 200:
            ps = status()
            secs = (now - t0) / 1e9
            res.update(ready=True, seconds=round(secs, 3), hwm_kb=int(ps.get("VmHWM", 0)),
                       rss_kb=int(ps.get("VmRSS", 0)),
                       cpu_pct=round(100.0 * ps.get("ticks", 0) / os.sysconf("SC_CLK_TCK") / secs)
                       if secs > 0 else 0, body=body[:400].decode("utf-8", "replace"))
            break
        if st:
            res["not_ready"] += 1
            res["last_status"] = st
            mi = re.search(rb'"indexed"\s*:\s*(\d+)', body)
            mt = re.search(rb'"total"\s*:\s*(\d+)', body)
            res["last_body"] = body[:200].decode("utf-8", "replace")
            plog.write("%.3f %d %s\n" % ((now - t0) / 1e9, st, body[:300].decode("utf-8", "replace").strip()))
            if mi:
                prog = "%s/%s" % (mi.group(1).decode(), mt.group(1).decode() if mt else "?")
                res["progress_samples"] += 1
                res["progress_first"] = res["progress_first"] or prog
                res["progress_last"] = prog
            if health:
                hs, _ = get("/health")
                res["health_200" if hs == 200 else "health_other"] += 1
        ps = status()
        if not ps or ps.get("State") == "Z":
            res["why"] = "the process exited"
            break
        if time.time_ns() > deadline:
            res["why"] = "not ready after %g s" % timeout
            break
        time.sleep(0.01)
print(json.dumps(res))
EOF

start_polled() { # port path health(0|1) progress-log out log -- command... : sets polled_pid
    local port=$1 path=$2 health=$3 plog=$4 out=$5 log=$6 go i t0
    shift 7
    rm -f "$tmp/go" "$tmp/armed"
    mkfifo "$tmp/go"
    # read-write: opening never blocks, and a write never raises SIGPIPE
    exec {go}<>"$tmp/go"
    "$PY" "$tmp/poll.py" "$port" "$path" "$READY_TIMEOUT" "$health" "$plog" "$tmp/armed" \
        <"$tmp/go" >"$out" 2>>"$log" {go}>&- &
    poll_pid=$!
    for ((i = 0; i < 1000; i++)); do
        [[ -e $tmp/armed ]] && break
        kill -0 "$poll_pid" 2>/dev/null || break
        sleep 0.01
    done
    [[ -e $tmp/armed ]] || { exec {go}>&-; die "the readiness poller did not start (see $log)"; }
    t0=${EPOCHREALTIME/[.,]/}000
    "$@" >>"$log" 2>&1 {go}>&- &
    polled_pid=$!
    echo "$polled_pid $t0" >&"$go"
    exec {go}>&-
}
wait_polled() { # waits for the poller started by start_polled
    wait "$poll_pid" 2>/dev/null || true
    poll_pid=
}

# JSON object on the first line of FILE -> "key<TAB>value" lines (scalars)
json_kv() {
    "$PY" -c 'import json, sys
try:
    d = json.loads(open(sys.argv[1]).readline())
except (ValueError, OSError):
    d = {}
for k, v in d.items():
    if v is None or isinstance(v, (dict, list)):
        v = "nan" if v is None else json.dumps(v)
    elif isinstance(v, bool):
        v = int(v)
    print("%s\t%s" % (k, str(v).replace("\t", " ").replace("\n", " ")))' "$1"
}
declare -A J=()
load_json() { # file: fills J
    local k v
    J=()
    while IFS=$'\t' read -r k v; do J[$k]=$v; done < <(json_kv "$1")
}
jv() { echo "${J[$1]:-nan}"; } # key -> value or nan

# /usr/bin/time -v report -> "seconds max_rss_kb exit_status cpu_percent"
time_fields() {
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0
            for (i = 1; i <= n; i++) s = s * 60 + t[i] }
        /Maximum resident set size/ { rss = $2 }
        /Exit status/ { rc = $2 }
        /Percent of CPU this job got/ { cpu = $2 + 0 }
        END { if (rc == "") print "nan 0 -1 0"; else printf "%.2f %d %d %d\n", s, rss, rc, cpu }' "$1"
}
f2() { awk -v x="$1" 'BEGIN { if (x == "nan" || x == "") print "nan"; else printf "%.2f", x }'; }
now_ns() { local t=${EPOCHREALTIME/[.,]/}; echo "${t}000"; }
psi_total() { # microseconds some task waited for a CPU, since boot
    awk '/^some/ { for (i = 1; i <= NF; i++) if ($i ~ /^total=/) print substr($i, 7) }' \
        /proc/pressure/cpu 2>/dev/null || echo 0
}
metric() { # port name -> value or nan
    curl -s --noproxy '*' --max-time 5 "http://127.0.0.1:$1/metrics" |
        awk -v m="$2" '$1 == m { v = $2 } END { print (v == "" ? "nan" : v) }'
}

# --- build -------------------------------------------------------------------
build_release
commit=$(bench_commit)
echo "== commit $commit; $("$rosterd" --version 2>&1 | head -n 1)"
set_index_args
if ((${#index_args[@]})); then
    echo "== rosterd serve has --index-threads: passing --index-threads $INDEX_THREADS"
else
    echo "== rosterd serve has no --index-threads (indexing as this build does by default)"
fi
check_index_args=()
check_help=$("$rosterd" check --help 2>&1 || true)
if [[ $check_help == *--index-threads* ]]; then
    check_index_args=(--index-threads "$INDEX_THREADS")
fi
[[ ${#roster_args[@]} -eq 0 ]] || echo "== extra rosterd serve flags: ${roster_args[*]}"

# --- Node.js peer --------------------------------------------------------------
node_bin=
node_why=
peer=$tmp/node-peer
setup_node_peer() { # sets node_bin, or node_why
    [[ $NODE_PEER == 1 ]] || { node_why="NODE_PEER=$NODE_PEER"; return 1; }
    [[ -f $NODE_PEER_DIR/server.js && -f $NODE_PEER_DIR/package-lock.json ]] ||
        { node_why="no server.js and package-lock.json in $NODE_PEER_DIR"; return 1; }
    [[ -f $root/scripts/lib/node.sh ]] || { node_why="no scripts/lib/node.sh"; return 1; }
    # shellcheck disable=SC2016 # expanded by the inner bash
    if ! ROOT=$root timeout -k 5 "$NPM_TIMEOUT" bash -c \
        '. "$ROOT/scripts/lib/node.sh" && roster_node_install' >"$tmp/node-install.log" 2>&1; then
        node_why="installing the pinned Node.js failed: $(tail -n 1 "$tmp/node-install.log")"
        return 1
    fi
    # shellcheck disable=SC2016
    node_bin=$(ROOT=$root bash -c '. "$ROOT/scripts/lib/node.sh" && roster_node_bin')
    [[ -x $node_bin/node ]] || { node_why="no node at $node_bin"; node_bin=; return 1; }
    if ! PATH=$node_bin:$PATH command -v npm >/dev/null 2>&1; then
        node_why="npm not found"
        node_bin=
        return 1
    fi
    cp -R "$NODE_PEER_DIR" "$peer"
    chmod -R u+w "$peer"
    rm -rf "$peer/node_modules"
    if ! (cd "$peer" && PATH=$node_bin:$PATH timeout -k 5 "$NPM_TIMEOUT" \
        npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm-ci.log" 2>&1; then
        node_why="npm ci failed: $(grep -v -e '^\s*$' -e '^npm error\s*$' -e 'complete log of this run' "$tmp/npm-ci.log" |
            head -n 2 | tr '\n' ' ' || true)"
        node_bin=
        return 1
    fi
}
if setup_node_peer; then
    echo "== node peer: $NODE_PEER_DIR, node $("$node_bin/node" --version), npm $(PATH=$node_bin:$PATH npm --version 2>/dev/null)"
else
    echo "node peer: unavailable ($node_why)"
fi

# --- profile sets ----------------------------------------------------------------
sets=()
[[ -d $PROFILES_SRC ]] || die "no profiles directory '$PROFILES_SRC'"
cp -R "$PROFILES_SRC" "$tmp/set-bundled"
sets+=(bundled)
for n in $COUNTS; do
    echo "== generating $n profiles (seed $SEED)"
    "$PY" "$here/gen-profiles.py" --count "$n" --seed "$SEED" --out "$tmp/set-gen-$n" 2>&1 |
        sed 's/^/   /'
    sets+=("gen-$n")
done

# --- measurements --------------------------------------------------------------
cols=(set run check_s check_kb check_rc ready_s open_s hwm_kb build_s cpu progress health
    p50 p99 max rendered all_s all_kb all_err node_s node_kb node_p50 node_p99 node_all_kb psi)
results=$tmp/results.tsv
(
    IFS=$'\t'
    echo "${cols[*]}"
) >"$results"
first_args=(--count "$FIRST_COUNT" --seed "$SEED" --deadline "$FIRST_DEADLINE")
[[ $ALL_VIEWS == 1 ]] && first_args+=(--all)
first_request() { # port pid out [extra args] -> runs first-request.py, loads J
    local port=$1 pid=$2 out=$3
    shift 3
    timeout -k 5 $((FIRST_DEADLINE + 120)) "$PY" "$here/first-request.py" \
        --base "http://127.0.0.1:$port" --pid "$pid" "${first_args[@]}" "$@" >"$out" 2>&1 || true
    load_json "$out"
}
mb() { awk -v k="$1" 'BEGIN { if (k == "nan" || k == "") print "nan"; else printf "%.1f", k / 1024 }'; }

for set in "${sets[@]}"; do
    dir=$tmp/set-$set
    nfiles=$(find "$dir" -name '*.md' -type f | wc -l)
    src_bytes=$(find "$dir" -name '*.md' -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')
    for ((r = 1; r <= REPEAT; r++)); do
        psi0=$(psi_total) w0=$(now_ns)
        declare -A row=()
        for c in "${cols[@]}"; do row[$c]=nan; done
        row[set]=$set row[run]=$r

        # check
        rm -f "$tmp/time.txt"
        timeout -k 5 "$READY_TIMEOUT" "$TIME" -v -o "$tmp/time.txt" \
            "$rosterd" check --profiles "$dir" "${check_index_args[@]}" >"$tmp/check.out" 2>&1 || true
        read -r c_s c_kb c_rc _ < <(time_fields "$tmp/time.txt")
        row[check_s]=$c_s row[check_kb]=$c_kb row[check_rc]=$c_rc
        ((row[check_rc] == 0)) || echo "WARNING: check of $set exited ${row[check_rc]}: $(tail -n 1 "$tmp/check.out")"

        # serve until ready
        port=$(free_port)
        log=$tmp/serve-$set-$r.log
: >"$log"
        start_polled "$port" /ready 1 "$tmp/progress-$set-$r.txt" "$tmp/poll.json" "$log" -- \
            "$rosterd" serve --listen "127.0.0.1:$port" --profiles "$dir" --log-level warn \
            "${index_args[@]}" "${roster_args[@]}"
        serve_pid=$polled_pid polled_pid=
        wait_polled
        load_json "$tmp/poll.json"
        progress_note=
        if [[ $(jv ready) != 1 ]]; then
            echo "WARNING: serve of $set not ready: $(jv why)"
            tail -n 5 "$log"
            row[ready_s]=nan row[hwm_kb]=nan row[build_s]=nan row[open_s]=nan s_cpu=0
            row[progress]=- row[health]=-
        else
            row[ready_s]=$(jv seconds) row[open_s]=$(jv open_seconds) row[hwm_kb]=$(jv hwm_kb)
            s_cpu=$(jv cpu_pct)
            if (($(jv not_ready) > 0)); then
                row[health]="$(jv health_200)/$(($(jv health_200) + $(jv health_other)))"
                progress_note="; starting: $(jv not_ready) not-ready answers (last status $(jv last_status)),"
                if (($(jv progress_samples) > 0)); then
                    row[progress]=$(jv progress_last)
                    progress_note+=" indexed/total first ${J[progress_first]} last ${J[progress_last]},"
                else
                    row[progress]="no-count"
                    progress_note+=" no indexed/total in them (last body: $(jv last_body | cut -c1-120)),"
                fi
                progress_note+=" /health 200 in ${row[health]} probes"
            else
                row[progress]=- row[health]=-
                progress_note="; no not-ready answer seen (the socket opened at ready)"
            fi
            row[build_s]=$(metric "$port" roster_snapshot_build_seconds)
            ready_body=$(jv body)
            served=$(grep -o '"served":[0-9]*' <<<"$ready_body" | cut -d: -f2 || true)
            [[ $served == "$nfiles" ]] ||
                echo "WARNING: $set: /ready reports ${served:-no} served of $nfiles files"

            # first requests, then every representation
            first_request "$port" "$serve_pid" "$tmp/first-$set-$r.txt"
            row[p50]=$(jv first_p50_ms) row[p99]=$(jv first_p99_ms) row[max]=$(jv first_max_ms)
            row[rendered]=$(jv first_rendered) row[all_s]=$(jv all_seconds)
            row[all_kb]=$(jv all_rss_kb) row[all_err]=$(jv all_errors)
            sed -n '2,$p' "$tmp/first-$set-$r.txt" | sed 's/^/    /'
        fi
        stop_serve

        # the Node.js peer
        row[node_s]=nan row[node_kb]=nan row[node_p50]=nan row[node_p99]=nan row[node_all_kb]=nan
        node_note=
        if [[ -n $node_bin ]]; then
            port=$(free_port)
            nlog=$tmp/node-$set-$r.log
            : >"$nlog"
            start_polled "$port" /v1/profiles 0 /dev/null "$tmp/poll.json" "$nlog" -- \
                "$node_bin/node" "$peer/server.js" --profiles "$dir" --port "$port"
            node_pid=$polled_pid polled_pid=
            wait_polled
            load_json "$tmp/poll.json"
            if [[ $(jv ready) != 1 ]]; then
                node_note=" | node: not ready ($(jv why)): $(grep -v '^\s*$' "$nlog" | tail -n 1 | cut -c1-160 || true)"
            else
                row[node_s]=$(jv seconds) row[node_kb]=$(jv hwm_kb)
                n_cpu=$(jv cpu_pct)
                first_request "$port" "$node_pid" "$tmp/node-first-$set-$r.txt" \
                    --views competencies,tool-priorities,anti-patterns
                row[node_p50]=$(jv first_p50_ms) row[node_p99]=$(jv first_p99_ms)
                row[node_all_kb]=$(jv all_rss_kb)
                node_note=" | node ready ${row[node_s]}s VmHWM ${row[node_kb]} KB ${n_cpu}% cpu"
                sed -n '2,$p' "$tmp/node-first-$set-$r.txt" | sed 's/^/    node /'
            fi
            stop_node
        fi

        row[psi]=$(awk -v a="$psi0" -v b="$(psi_total)" -v w0="$w0" -v w1="$(now_ns)" \
            'BEGIN { printf "%.0f", (w1 > w0) ? 100 * (b - a) * 1000 / (w1 - w0) : 0 }')
        line=()
        for c in "${cols[@]}"; do line+=("${row[$c]:-nan}"); done
        (
            IFS=$'\t'
            echo "${line[*]}"
        ) >>"$results"
        printf 'run %d %-11s check %5ss %7s KB | serve ready %6ss (open %ss, build %ss) VmHWM %8s KB %3s%% cpu | first p50 %s p99 %s max %s ms | all %ss, VmRSS %s KB%s | psi %s%%%s\n' \
            "$r" "$set" "${row[check_s]}" "${row[check_kb]}" "${row[ready_s]}" "${row[open_s]}" \
            "$(f2 "${row[build_s]}")" "${row[hwm_kb]}" "$s_cpu" "${row[p50]}" "${row[p99]}" "${row[max]}" \
            "${row[all_s]}" "${row[all_kb]}" "$node_note" "${row[psi]}" "$progress_note"
        unset row
    done
    printf '%s\t%s\t%s\n' "$set" "$nfiles" "$src_bytes" >>"$tmp/sets.tsv"
done

# --- tables --------------------------------------------------------------------
med() { # set column -> median of the numeric values, or nan
    awk -F'\t' -v s="$1" -v c="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
        $1 == s && $k ~ /^[0-9.eE+-]+$/ { print $k }' "$results" |
        sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan";
            else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
last() { # set column -> the value of the last run
    awk -F'\t' -v s="$1" -v c="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
        $1 == s { v = $k } END { print (v == "" ? "-" : v) }' "$results"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b + 0 == 0) print "-"; else printf "%.1fx", a / b }'; }

echo
echo "== commit $commit; $("$rosterd" --version 2>&1 | head -n 1)"
echo "== machine: $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r), $(df -PT "$tmp" | awk 'NR == 2 { print $2 }') temp dir"
echo "== median of $REPEAT run(s); seconds, MB (1024 KB), ms"
echo
echo "roster"
fmt='%-12s %8s %7s %7s %8s %7s %7s %7s %8s %11s %9s %21s %7s %8s\n'
# shellcheck disable=SC2059
printf "$fmt" set profiles "src MB" "check s" "check MB" "ready s" "open s" "build s" "serve MB" "last prog." "health" "first p50/p99/max ms" "all s" "all MB"
while IFS=$'\t' read -r set nfiles src_bytes; do
    # shellcheck disable=SC2059
    printf "$fmt" "$set" "$nfiles" "$(mb "$((src_bytes / 1024))")" "$(f2 "$(med "$set" check_s)")" \
        "$(mb "$(med "$set" check_kb)")" "$(f2 "$(med "$set" ready_s)")" "$(f2 "$(med "$set" open_s)")" \
        "$(f2 "$(med "$set" build_s)")" "$(mb "$(med "$set" hwm_kb)")" "$(last "$set" progress)" \
        "$(last "$set" health)" \
        "$(f2 "$(med "$set" p50)")/$(f2 "$(med "$set" p99)")/$(f2 "$(med "$set" max)")" \
        "$(f2 "$(med "$set" all_s)")" "$(mb "$(med "$set" all_kb)")"
done <"$tmp/sets.tsv"
echo "(serve MB: VmHWM at ready; open s: first HTTP answer of any status; last prog.: last indexed/total"
echo " in a not-ready /ready answer, of the last run (-: none seen; no-count: 503s without indexed/total);"
echo " health: /health 200 answers / probes while not ready;"
echo " first: $FIRST_COUNT first requests of the full profile; all s / all MB: every profile's full JSON and"
echo " 10 views once, and VmRSS after it; build s: roster_snapshot_build_seconds)"

if [[ -n $node_bin ]]; then
    echo
    echo "roster and the Node.js peer (ratio = node / roster)"
    fmt='%-12s %9s %8s %6s %10s %8s %6s %19s %19s %12s %10s\n'
    # shellcheck disable=SC2059
    printf "$fmt" set "roster s" "node s" ratio "roster MB" "node MB" ratio "roster 1st p50/p99" "node 1st p50/p99" "roster all MB" "node all MB"
    while IFS=$'\t' read -r set _ _; do
        rs=$(med "$set" ready_s) ns=$(med "$set" node_s) rk=$(med "$set" hwm_kb) nk=$(med "$set" node_kb)
        # shellcheck disable=SC2059
        printf "$fmt" "$set" "$(f2 "$rs")" "$(f2 "$ns")" "$(ratio "$ns" "$rs")" "$(mb "$rk")" "$(mb "$nk")" \
            "$(ratio "$nk" "$rk")" "$(f2 "$(med "$set" p50)")/$(f2 "$(med "$set" p99)") ms" \
            "$(f2 "$(med "$set" node_p50)")/$(f2 "$(med "$set" node_p99)") ms" \
            "$(mb "$(med "$set" all_kb)")" "$(mb "$(med "$set" node_all_kb)")"
    done <"$tmp/sets.tsv"
    echo "(s: exec until ready (roster: /ready 200; node: GET /v1/profiles 200, it listens once loaded);"
    echo " MB: VmHWM then; all MB: VmRSS after every representation was requested once: 11 per profile"
    echo " for roster, 4 (full and its three views) for node, which renders all of them at start)"
else
    echo
    echo "node peer: unavailable ($node_why)"
fi

# --- targets (issue #12) -------------------------------------------------------
echo
echo "targets (issue #12; reported, not enforced)"
target() { # label value unit op limit
    awk -v l="$1" -v v="$2" -v u="$3" -v op="$4" -v t="$5" 'BEGIN {
        if (v == "nan" || v == "") { printf "  %-36s %10s %-3s target %s %s %s  not measured\n", l, "-", u, op, t, u; exit }
        ok = (op == "<=") ? (v + 0 <= t + 0) : (v + 0 >= t + 0)
        printf "  %-36s %10.2f %-3s target %s %s %s  %s\n", l, v, u, op, t, u, ok ? "met" : "missed" }'
}
any_target=0
while IFS=$'\t' read -r set _ _; do
    case $set in
    gen-10000)
        any_target=1
        target "$set check wall" "$(med "$set" check_s)" s "<=" 1.5
        target "$set check peak RSS" "$(mb "$(med "$set" check_kb)")" MB "<=" 300
        target "$set serve exec->ready" "$(med "$set" ready_s)" s "<=" 2
        target "$set serve VmHWM at ready" "$(mb "$(med "$set" hwm_kb)")" MB "<=" 400
        target "$set first request p99" "$(med "$set" p99)" ms "<=" 5
        if [[ $ALL_VIEWS == 1 ]]; then
            target "$set VmRSS after every view" "$(mb "$(med "$set" all_kb)")" MB "<=" 1024
        fi
        ;;
    gen-100000)
        any_target=1
        target "$set serve exec->ready" "$(med "$set" ready_s)" s "<=" 20
        printf '  %-36s %10s MB (no target; reported)\n' "$set serve VmHWM at ready" "$(mb "$(med "$set" hwm_kb)")"
        ;;
    esac
done <"$tmp/sets.tsv"
((any_target == 1)) || echo "  (none at these sizes: issue #12 sets them for 10,000 and 100,000 profiles)"
awk -F'\t' 'NR > 1 { print $NF }' "$results" | sort -g | awk '{ a[NR] = $1 } END {
    if (NR) printf "CPU pressure (psi) during the runs: median %s%%, max %s%% (high = other load, times suspect)\n",
        a[int((NR + 1) / 2)], a[NR] }'
