#!/usr/bin/env bash
# bench/run.sh: throughput and latency of rosterd against nginx serving the
# same representations as static files (`rosterd export`).
#
#   bench/run.sh                       # 3 rounds x 10 s per case and server
#   ROUNDS=5 DURATION=20 bench/run.sh
#   CASES=prompt,post bench/run.sh     # only the prompt template cases
#   CASES=mcp-prompt,mcp-read bench/run.sh   # the MCP cases and their reference
#
# Cases (CASES, comma or space separated, default all, run in this order):
#   full    GET /v1/profiles/PROFILE_ID            roster and nginx
#   role    GET /v1/profiles/PROFILE_ID/role       roster and nginx
#   304     the full profile with If-None-Match    roster and nginx
#   gzip    the full profile, Accept-Encoding gzip roster and nginx
#   prompt  GET /v1/profiles/PROMPT_PROFILE_ID/prompt, Accept: PROMPT_ACCEPT
#           (the template as authored, rendered once and cached)   roster only
#   post    POST /v1/profiles/PROMPT_PROFILE_ID/prompt with {"variables":
#           PROMPT_VARIABLES} (three variables checked and inserted on every
#           request), Accept: PROMPT_ACCEPT; wrk with bench/post-prompt.lua
#                                                                  roster only
#   mcp-rest    GET /v1/profiles/MCP_PROFILE_ID/prompt, Accept: application/json
#               (the reference of the two MCP cases)               roster only
#   mcp-prompt  POST /mcp prompts/get {"name": MCP_PROFILE_ID}, no arguments
#               (the prompt rendered with its defaults)            roster only
#   mcp-read    POST /mcp resources/read roster://profiles/MCP_PROFILE_ID
#               (the full profile as a JSON-RPC text content)      roster only
# nginx has no equivalent of the POST, so `prompt` and `post` run on roster
# only and the table compares post with prompt (target: post req/s >= 0.5x
# prompt req/s); selecting post selects prompt too. The prompt cases serve
# bench/profiles/*.md (bench-template: worker-devops with the variables
# task, language, repo_url) copied next to the PROFILES they serve. nginx is
# started (and `rosterd export` run) only when a case needs it.
#
# The MCP cases (#15) run on roster only and are compared with mcp-rest,
# which runs in the same rounds (target: MCP req/s >= 0.7x mcp-rest);
# selecting either selects mcp-rest. Before the load the script initializes
# WRK_THREADS MCP sessions with curl (initialize, notifications/initialized)
# and checks each: prompts/get must answer the prompt that POST .../prompt
# with no variables renders, resources/read the bytes of GET
# /v1/profiles/MCP_PROFILE_ID. wrk (bench/mcp.lua) gives wrk thread k session
# k: with the default WRK_THREADS=1 all connections share one session, which
# costs nothing with the server's one thread (a session's requests are
# serialized, but so is everything else); WRK_THREADS=CONNECTIONS gives
# each connection its own. A JSON-RPC error comes in a 200, which wrk does not
# count, so after every run of mcp-rest, mcp-prompt and mcp-read the script
# also checks the server's per-status counters of the route (/metrics: no
# status but 200) and the bytes wrk read (at least requests x the size of the
# checked response, which an error is far below); any error fails the case,
# and the script exits 1.
#
# Both servers run on core SERVER_CPU (one thread / one worker), the load
# generator on core CLIENT_CPU, keep-alive, CONNECTIONS connections, 127.0.0.1
# only. Each run is bounded by its duration and by timeout(1). Rounds
# alternate which server goes first; the table shows the median of the rounds.
#
# Load generators: wrk for full, role and gzip; `h2load --h1` (nghttp2-client)
# for the cases in H2LOAD_CASES ["304"], for both servers alike. wrk 4.1.0
# cannot measure rosterd's 304: the 304 carries the Content-Length of the 200
# (RFC 9110 8.6 allows it) and wrk's old HTTP parser then waits for that many
# body bytes and stalls. h2load runs `-D DURATION --warm-up-time H2LOAD_WARMUP`
# (connections are made and warmed during the warm-up, which is not counted),
# one request in flight per connection like wrk; req/s is from its summary
# (main phase only), p50/p90/p99 from its per-request --log-file.
#
# Environment (defaults in brackets):
#   ROUNDS [3] DURATION seconds [10] WARMUP seconds per server [2] (one
#     untimed wrk run of the full case per server before the rounds)
#   CONNECTIONS [50] WRK_THREADS [1] (client threads, wrk and h2load)
#   SERVER_CPU [0] CLIENT_CPU [1]
#   H2LOAD_CASES ["304"]: cases measured with h2load instead of wrk ("" = none)
#   H2LOAD_WARMUP seconds [1]: h2load's --warm-up-time before each run
#   PROFILE_ID [worker-devops] PROFILES directory [profiles]
#   CASES ["full role 304 gzip prompt post mcp-prompt mcp-read"]
#   PROMPT_PROFILE_ID [bench-template] PROMPT_VARIABLES [a JSON object of
#     task, language and repo_url]: the profile and values of the prompt cases
#   PROMPT_ACCEPT [text/markdown]: the Accept of the prompt and post load runs:
#     both routes' default answer; application/json compares the JSON ones
#   MCP_PROFILE_ID [PROFILE_ID]: the profile of the MCP cases (prompts/get sends
#     no arguments: its variables need defaults or must not be required)
#   MCP_VERSION [2025-11-25]: the protocolVersion and MCP-Protocol-Version sent
#   BUILD_DIR [build-release] ROSTER_PORT, NGINX_PORT [free ports]
#   KEEP_TMP=1 keeps the temporary directory (export, configs, logs, raw results)
#   ROSTER_ARGS: extra `rosterd serve` flags for experiments, e.g.
#     ROSTER_ARGS="--max-request-bytes 32768"   (the pre-e75948c default)
#   QUIET_BUSY [10] QUIET_MAX seconds [20]: before each run, wait up to
#     QUIET_MAX s until neither core is more than QUIET_BUSY % busy (other
#     processes on a shared machine); QUIET_MAX=0 never waits.
#
# Each round line also shows "psi": the share of the run during which some
# task was waiting for a CPU (/proc/pressure/cpu). Our two pinned processes
# hardly wait for each other (about 1%), so a high value means something else
# competed for the cores and that run's figures are suspect: a run with psi
# above MAX_PSI [10] is discarded and repeated, at most RETRIES [2] times
# (the last try is kept either way).
#
# If the 304 case is taken out of H2LOAD_CASES and a server's 304 carries a
# non-zero Content-Length, the route check reports the case as not
# measurable with wrk instead of showing 0 req/s. Any run that completes no
# request is flagged too. Error counts: wrk's socket errors and statuses
# >= 400; for h2load its failed/errored/timed-out requests plus every logged
# status other than the expected one (304 or 200).
#
# Exit status: 0 when every case was checked and measured (whether or not
# the targets are met); 1 when a route check failed, a case could not be
# measured, a run completed no request, or a tool is missing.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-50}
WRK_THREADS=${WRK_THREADS:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PROFILE_ID=${PROFILE_ID:-worker-devops}
PROFILES_SRC=${PROFILES:-profiles}
BUILD_DIR=${BUILD_DIR:-build-release}
KEEP_TMP=${KEEP_TMP:-0}
QUIET_BUSY=${QUIET_BUSY:-10}
QUIET_MAX=${QUIET_MAX:-20}
MAX_PSI=${MAX_PSI:-10}
RETRIES=${RETRIES:-2}
H2LOAD_CASES=${H2LOAD_CASES-304}
H2LOAD_WARMUP=${H2LOAD_WARMUP:-1}
CASES=${CASES:-full role 304 gzip prompt post mcp-prompt mcp-read}
PROMPT_ACCEPT=${PROMPT_ACCEPT:-text/markdown}
PROMPT_PROFILE_ID=${PROMPT_PROFILE_ID:-bench-template}
PROMPT_VARIABLES=${PROMPT_VARIABLES:-'{"task": "Cut the CI pipeline of the payments service from 25 to under 10 minutes without dropping any check", "language": "Python", "repo_url": "https://git.example.org/payments/api.git"}'}
MCP_PROFILE_ID=${MCP_PROFILE_ID:-$PROFILE_ID}
MCP_VERSION=${MCP_VERSION:-2025-11-25}
NGINX=${NGINX:-/usr/sbin/nginx}
TARGET_RATIO=0.8
TARGET_P99_RATIO=1.5
TARGET_POST_RATIO=0.5
TARGET_MCP_RATIO=0.7

read -ra roster_args <<<"${ROSTER_ARGS:-}"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
cd "$root"

die() {
    echo "run.sh: $*" >&2
    exit 1
}

for v in ROUNDS DURATION WARMUP CONNECTIONS WRK_THREADS SERVER_CPU CLIENT_CPU QUIET_BUSY QUIET_MAX MAX_PSI RETRIES H2LOAD_WARMUP; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer, got '${!v}'"
done
((ROUNDS >= 1 && DURATION >= 1 && CONNECTIONS >= 1 && WRK_THREADS >= 1)) ||
    die "ROUNDS, DURATION, CONNECTIONS and WRK_THREADS must be at least 1"

# --- cases ---------------------------------------------------------------------
all_cases=(full role 304 gzip prompt post mcp-rest mcp-prompt mcp-read)
declare -A roster_only=([prompt]=1 [post]=1 [mcp-rest]=1 [mcp-prompt]=1 [mcp-read]=1) selected=()
declare -A mcp_case=([mcp-prompt]=1 [mcp-read]=1)
for c in ${CASES//,/ }; do
    [[ " ${all_cases[*]} " == *" $c "* ]] || die "CASES: unknown case '$c' (cases: ${all_cases[*]})"
    selected[$c]=1
done
((${#selected[@]} > 0)) || die "CASES selects no case (cases: ${all_cases[*]})"
if [[ -n ${selected[post]:-} && -z ${selected[prompt]:-} ]]; then
    echo "run.sh: post is compared with prompt, so prompt runs too" >&2
    selected[prompt]=1
fi
if [[ -n ${selected[mcp-prompt]:-}${selected[mcp-read]:-} && -z ${selected[mcp-rest]:-} ]]; then
    echo "run.sh: the MCP cases are compared with mcp-rest, so mcp-rest runs too" >&2
    selected[mcp-rest]=1
fi
cases=()
need_nginx=0
for c in "${all_cases[@]}"; do
    [[ -n ${selected[$c]:-} ]] || continue
    cases+=("$c")
    [[ -n ${roster_only[$c]:-} ]] || need_nginx=1
done
has_case() { [[ -n ${selected[$1]:-} ]]; }

# --- tools -------------------------------------------------------------------
need wrk wrk
for c in $H2LOAD_CASES; do
    [[ " ${all_cases[*]} " == *" $c "* ]] || die "H2LOAD_CASES: unknown case '$c' (cases: ${all_cases[*]})"
    [[ $c != mcp-* ]] || die "H2LOAD_CASES: the MCP cases and their reference run with wrk only"
done
use_h2load=0
for c in $H2LOAD_CASES; do has_case "$c" && use_h2load=1; done
((use_h2load == 0)) || need h2load nghttp2-client
need curl curl
need taskset util-linux
need meson meson
need ninja ninja-build
need gzip gzip
if ((need_nginx == 1)); then
    [[ -x $NGINX ]] || need nginx nginx-light
    [[ -x $NGINX ]] || NGINX=$(command -v nginx)
fi

# This shell and its helpers (curl, awk) stay off the server core.
taskset -pc "$CLIENT_CPU" $$ >/dev/null || die "cannot pin to cpu $CLIENT_CPU"

# --- ports -------------------------------------------------------------------
ROSTER_PORT=${ROSTER_PORT:-$(free_port)}
NGINX_PORT=${NGINX_PORT:-$(free_port)}
while [[ $NGINX_PORT == "$ROSTER_PORT" ]]; do NGINX_PORT=$(free_port); done
for p in "$ROSTER_PORT" "$NGINX_PORT"; do
    [[ $p =~ ^[0-9]+$ ]] || die "bad port '$p'"
    [[ $p != 8080 && $p != 18080 ]] || die "ports 8080 and 18080 are reserved; pick another"
done

# --- temp dir and cleanup ----------------------------------------------------
tmp=$(mktemp -d /tmp/roster-bench.XXXXXX)
chmod 755 "$tmp" # nginx workers run as nobody when started by root
roster_pid=
nginx_pid=

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_process "$roster_pid"
    stop_process "$nginx_pid"
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

# --- export ------------------------------------------------------------------
# A private copy, so edits to the working tree during the run cannot trigger
# a reload (which would change roster's ETags) or make the two servers differ.
[[ -d $PROFILES_SRC ]] || die "no profiles directory '$PROFILES_SRC'"
cp -R "$PROFILES_SRC" "$tmp/profiles"
if has_case prompt || has_case mcp-rest; then
    # The template cases' profile (bench-template extends worker-devops).
    cp "$here"/profiles/*.md "$tmp/profiles/"
fi
if ((need_nginx == 1)); then
    "$rosterd" export "$tmp/export" --profiles "$tmp/profiles" >"$tmp/export.log" 2>&1 ||
        { cat "$tmp/export.log" >&2; die "rosterd export failed"; }
    chmod -R a+rX "$tmp/export"
    full_file=$tmp/export/v1/profiles/$PROFILE_ID.json
    role_file=$tmp/export/v1/profiles/$PROFILE_ID/role.json
    [[ -f $full_file && -f $role_file ]] || die "export has no $PROFILE_ID (see $tmp/export.log)"
fi

# --- servers -----------------------------------------------------------------
wait_http() { # url seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [[ $(curl -s --noproxy '*' --max-time 1 -o /dev/null -w '%{http_code}' "$1") == 200 ]] &&
            return 0
        sleep 0.1
    done
    return 1
}

taskset -c "$SERVER_CPU" "$rosterd" serve --listen "127.0.0.1:$ROSTER_PORT" \
    --profiles "$tmp/profiles" --threads 1 --log-level warn "${roster_args[@]}" 2>"$tmp/roster.log" &
roster_pid=$!
wait_http "http://127.0.0.1:$ROSTER_PORT/ready" 15 ||
    { cat "$tmp/roster.log" >&2; die "rosterd did not become ready"; }

start_nginx() {
    mkdir -p "$tmp/nginx"
    cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    types {
        application/json json;
        text/markdown md;
        application/yaml yaml;
    }
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/markdown;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    open_file_cache max=10000 inactive=60s;
    open_file_cache_valid 60s;
    etag on;
    gzip off;
    gzip_static on;
    gzip_vary on;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $tmp/export;
        # /v1/profiles/ID -> ID.json, /v1/profiles/ID/VIEW -> VIEW.json;
        # prompt and source are Markdown like roster's defaults.
        location ~ ^/v1/profiles/[^/]+/(prompt|source)\$ { try_files \$uri.md =404; }
        location / { try_files \$uri.json \$uri.md \$uri =404; }
    }
}
EOF
    "$NGINX" -t -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" >"$tmp/nginx/test.log" 2>&1 ||
        { cat "$tmp/nginx/test.log" >&2; die "nginx config test failed"; }
    taskset -c "$SERVER_CPU" "$NGINX" -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" \
        2>"$tmp/nginx/stderr.log" &
    nginx_pid=$!
    wait_http "http://127.0.0.1:$NGINX_PORT/v1/profiles/$PROFILE_ID" 15 ||
        { cat "$tmp/nginx/stderr.log" "$tmp/nginx/error.log" >&2 2>/dev/null; die "nginx did not start"; }
}

declare -A base=([roster]="http://127.0.0.1:$ROSTER_PORT" [nginx]="http://127.0.0.1:$NGINX_PORT")
servers=(roster)
if ((need_nginx == 1)); then
    start_nginx
    servers+=(nginx)
fi
declare -A path=(
    [full]="/v1/profiles/$PROFILE_ID" [role]="/v1/profiles/$PROFILE_ID/role"
    [304]="/v1/profiles/$PROFILE_ID" [gzip]="/v1/profiles/$PROFILE_ID"
    [prompt]="/v1/profiles/$PROMPT_PROFILE_ID/prompt" [post]="/v1/profiles/$PROMPT_PROFILE_ID/prompt"
    [mcp-rest]="/v1/profiles/$MCP_PROFILE_ID/prompt" [mcp-prompt]=/mcp [mcp-read]=/mcp)
declare -A etag=() bad=() why=() tool=() wire_size=()
for c in "${all_cases[@]}"; do tool[$c]=wrk; done
for c in $H2LOAD_CASES; do tool[$c]=h2load; done
post_body=$tmp/post-body.json
printf '{"variables": %s}\n' "$PROMPT_VARIABLES" >"$post_body"
if has_case post; then
    /usr/bin/python3 -c 'import json, sys; assert isinstance(json.load(open(sys.argv[1]))["variables"], dict)' \
        "$post_body" 2>/dev/null || die "PROMPT_VARIABLES is not a JSON object: $PROMPT_VARIABLES"
fi

# --- route checks --------------------------------------------------------------
probe() { # out-prefix url [curl args...]; prints the status code
    local out=$1 url=$2
    shift 2
    curl -sS --noproxy '*' --max-time 5 -o "$out.body" -D "$out.hdr" -w '%{http_code}' "$@" "$url" ||
        echo 000
}
header() { # header-file name
    tr -d '\r' <"$1" | grep -i "^$2:" | head -n 1 | cut -d: -f2- | sed 's/^ *//' || true
}
fail() { # server case message
    bad[$2]=1
    why[$2]="$1: $3"
    echo "CHECK FAIL $1 $2: $3"
}

echo "== route checks"
classic_servers=() # the servers of full, role, 304 and gzip
((need_nginx == 0)) || classic_servers=("${servers[@]}")
for s in "${classic_servers[@]}"; do
    u=${base[$s]}
    o=$tmp/check-$s
    st=$(probe "$o-full" "$u${path[full]}")
    ct=$(header "$o-full.hdr" Content-Type)
    etag[$s]=$(header "$o-full.hdr" ETag)
    [[ $st == 200 ]] || fail "$s" full "status $st"
    [[ $ct == application/json* ]] || fail "$s" full "Content-Type '$ct'"
    cmp -s "$o-full.body" "$full_file" || fail "$s" full "body differs from the exported file"
    [[ -n ${etag[$s]} && ${etag[$s]} != W/* ]] || fail "$s" 304 "no strong ETag ('${etag[$s]}')"

    st=$(probe "$o-role" "$u${path[role]}")
    ct=$(header "$o-role.hdr" Content-Type)
    [[ $st == 200 ]] || fail "$s" role "status $st"
    [[ $ct == application/json* ]] || fail "$s" role "Content-Type '$ct'"
    cmp -s "$o-role.body" "$role_file" || fail "$s" role "body differs from the exported file"

    st=$(probe "$o-304" "$u${path[304]}" -H "If-None-Match: ${etag[$s]}")
    [[ $st == 304 ]] || fail "$s" 304 "If-None-Match ${etag[$s]} gave status $st"
    [[ ! -s $o-304.body ]] || fail "$s" 304 "304 with a body"
    cl=$(header "$o-304.hdr" Content-Length)
    if [[ -n $cl && $cl != 0 ]]; then
        if [[ ${tool[304]} == wrk ]]; then
            echo "NOTE $s: its 304 carries Content-Length: $cl; wrk's parser waits for $cl body bytes" \
                "after a 304 and stalls, so the 304 case cannot be measured with wrk"
            bad[304]=1
            why[304]="$s 304 has Content-Length: $cl (wrk stalls; measure it with H2LOAD_CASES=304)"
        else
            echo "NOTE $s: its 304 carries Content-Length: $cl (wrk would stall on it; the 304 case uses h2load)"
        fi
    fi

    st=$(probe "$o-gzip" "$u${path[gzip]}" -H 'Accept-Encoding: gzip')
    ce=$(header "$o-gzip.hdr" Content-Encoding)
    [[ $st == 200 ]] || fail "$s" gzip "status $st"
    [[ $ce == gzip ]] || fail "$s" gzip "Content-Encoding '$ce' (want gzip)"
    gzip -dc <"$o-gzip.body" 2>/dev/null | cmp -s - "$full_file" ||
        fail "$s" gzip "body does not gunzip to the full profile"
    printf '%-6s full %s B, role %s B, gzip %s B, ETag %s -> %s\n' "$s" \
        "$(wc -c <"$o-full.body")" "$(wc -c <"$o-role.body")" "$(wc -c <"$o-gzip.body")" \
        "${etag[$s]}" "$(head -n 1 "$o-304.hdr" | tr -d '\r')"
done
if has_case prompt; then
    u=${base[roster]}
    o=$tmp/check-roster
    st=$(probe "$o-prompt" "$u${path[prompt]}" -H 'Accept: application/json')
    ct=$(header "$o-prompt.hdr" Content-Type)
    [[ $st == 200 ]] || fail roster prompt "status $st"
    [[ $ct == application/json* ]] || fail roster prompt "Content-Type '$ct'"
    # the post case is measured against this one
    [[ -z ${bad[prompt]:-} ]] || { bad[post]=1 why[post]="its reference, the prompt case, failed"; }
fi
if has_case post; then
    u=${base[roster]}
    o=$tmp/check-roster
    st=$(probe "$o-post" "$u${path[post]}" -X POST -H 'Content-Type: application/json' \
        -H 'Accept: application/json' --data-binary "@$post_body")
    ct=$(header "$o-post.hdr" Content-Type)
    if [[ $st != 200 ]]; then
        fail roster post "status $st: $(head -c 300 "$o-post.body" | tr -d '\r\n')"
    elif [[ $ct != application/json* ]]; then
        fail roster post "Content-Type '$ct'"
    else
        # Every value sent is echoed under "variables" and inserted in "prompt".
        problem=$(/usr/bin/python3 -c '
import json, sys
sent = json.load(open(sys.argv[1]))["variables"]
try:
    got = json.load(open(sys.argv[2]))
except ValueError as e:
    sys.exit("the body is not JSON: %s" % e)
if not isinstance(got, dict) or not isinstance(got.get("prompt"), str):
    sys.exit("the body has no \"prompt\" string")
for k, v in sent.items():
    if (got.get("variables") or {}).get(k) != v:
        sys.exit("variables.%s is not the value sent" % k)
    if v not in got["prompt"]:
        sys.exit("the value of %s is not in the prompt (no {{ %s }} in it?)" % (k, k))
' "$post_body" "$o-post.body" 2>&1) || fail roster post "$problem"
    fi
    # The values are checked on every request: an unknown one is a 422.
    st=$(probe "$o-post422" "$u${path[post]}" -X POST -H 'Content-Type: application/json' \
        -H 'Accept: application/json' --data-binary '{"variables": {"no_such_variable_bench": "x"}}')
    [[ $st == 422 ]] || fail roster post "an undeclared variable gave status $st, not 422"
    printf '%-6s prompt %s B, post %s B (%s variables), undeclared variable -> %s\n' roster \
        "$(wc -c <"$o-prompt.body")" "$(wc -c <"$o-post.body")" \
        "$(/usr/bin/python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["variables"]))' "$post_body" 2>/dev/null || echo '?')" \
        "$(head -n 1 "$o-post422.hdr" 2>/dev/null | tr -d '\r')"
fi

if has_case mcp-rest; then
    # The reference of the MCP cases, and the size of its answer for the
    # bytes check after each run.
    u=${base[roster]}
    o=$tmp/check-roster
    st=$(probe "$o-mcp-rest" "$u${path[mcp-rest]}" -H 'Accept: application/json')
    ct=$(header "$o-mcp-rest.hdr" Content-Type)
    [[ $st == 200 ]] || fail roster mcp-rest "status $st"
    [[ $ct == application/json* ]] || fail roster mcp-rest "Content-Type '$ct'"
    wire_size[mcp-rest]=$(($(wc -c <"$o-mcp-rest.hdr") + $(wc -c <"$o-mcp-rest.body")))
    mcp_selected=()
    for c in mcp-prompt mcp-read; do
        ! has_case "$c" || mcp_selected+=("$c")
    done
    mcp_fail() { # message: fails every selected MCP case
        local c
        for c in "${mcp_selected[@]}"; do fail roster "$c" "$1"; done
    }
    [[ -z ${bad[mcp-rest]:-} ]] || mcp_fail "its reference, the mcp-rest case, failed"
    # What the MCP answers must carry: the prompt that POST .../prompt with no
    # variables renders, and the bytes of the full profile.
    st=$(probe "$o-mcp-post" "$u${path[mcp-rest]}" -X POST -H 'Content-Type: application/json' \
        -H 'Accept: application/json' --data-binary '{"variables": {}}')
    [[ $st == 200 ]] || mcp_fail "POST ${path[mcp-rest]} with no variables gave status $st (a required variable without a default? pick another MCP_PROFILE_ID)"
    st=$(probe "$o-mcp-full" "$u/v1/profiles/$MCP_PROFILE_ID")
    [[ $st == 200 ]] || mcp_fail "GET /v1/profiles/$MCP_PROFILE_ID gave status $st"
    /usr/bin/python3 - "$tmp" "$MCP_PROFILE_ID" "$MCP_VERSION" <<'EOF'
import json, sys
tmp, pid, version = sys.argv[1:]
def write(name, message):
    with open("%s/%s.json" % (tmp, name), "w") as f:
        f.write(json.dumps(message, separators=(",", ":")))
write("mcp-initialize", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": version, "capabilities": {},
    "clientInfo": {"name": "roster-bench", "version": "1"}}})
write("mcp-initialized", {"jsonrpc": "2.0", "method": "notifications/initialized"})
write("mcp-prompt", {"jsonrpc": "2.0", "id": 2, "method": "prompts/get", "params": {"name": pid}})
write("mcp-read", {"jsonrpc": "2.0", "id": 3, "method": "resources/read",
                   "params": {"uri": "roster://profiles/" + pid}})
EOF
    cat >"$tmp/mcp-check.py" <<'EOF'
# mcp-check.py CASE ANSWER REFERENCE REQUEST: exits with a message unless
# ANSWER is the JSON-RPC result of REQUEST that REFERENCE says it must be.
import json, sys
case, answer, reference, request = sys.argv[1:]
sent = json.load(open(request))
try:
    got = json.load(open(answer))
except ValueError as e:
    sys.exit("the body is not JSON: %s" % e)
if not isinstance(got, dict) or "error" in got or not isinstance(got.get("result"), dict):
    sys.exit("not a JSON-RPC result: %s" % json.dumps(got)[:300])
if got.get("jsonrpc") != "2.0" or got.get("id") != sent["id"]:
    sys.exit("jsonrpc or id differ from the request's")
r = got["result"]
if case == "initialize":
    if r.get("protocolVersion") != sent["params"]["protocolVersion"]:
        sys.exit("protocolVersion %r, not the one sent" % r.get("protocolVersion"))
elif case == "mcp-prompt":
    want = json.load(open(reference))["prompt"]
    try:
        m = r["messages"]
        text = m[0]["content"]["text"]
        ok = len(m) == 1 and m[0]["role"] == "user" and m[0]["content"]["type"] == "text"
    except (KeyError, IndexError, TypeError):
        sys.exit("result.messages[0] is not a user text message")
    if not ok or text != want:
        sys.exit("the message is not the prompt POST .../prompt renders with no variables")
elif case == "mcp-read":
    want = open(reference, "rb").read()
    try:
        c = r["contents"]
        ok = len(c) == 1 and c[0]["uri"] == sent["params"]["uri"] and c[0]["mimeType"] == "application/json"
        text = c[0]["text"]
    except (KeyError, IndexError, TypeError):
        sys.exit("result.contents[0] is not a text content")
    if not ok or text.encode() != want:
        sys.exit("the content is not the full profile GET /v1/profiles/ID serves")
EOF
    declare -A mcp_ref=([mcp-prompt]=$o-mcp-post.body [mcp-read]=$o-mcp-full.body)
    for ((k = 0; k < WRK_THREADS && ${#mcp_selected[@]} > 0; k++)); do
        [[ -z ${bad[${mcp_selected[0]}]:-} ]] || break
        st=$(probe "$o-mcp-init$k" "$u/mcp" -X POST -H 'Content-Type: application/json' \
            -H 'Accept: application/json, text/event-stream' --data-binary "@$tmp/mcp-initialize.json")
        sid=$(header "$o-mcp-init$k.hdr" Mcp-Session-Id)
        if [[ $st != 200 || ! $sid =~ ^[0-9a-f]{32}$ ]]; then
            mcp_fail "initialize gave status $st, Mcp-Session-Id '$sid': $(head -c 300 "$o-mcp-init$k.body" | tr -d '\r\n')"
            break
        fi
        problem=$(/usr/bin/python3 "$tmp/mcp-check.py" initialize "$o-mcp-init$k.body" - \
            "$tmp/mcp-initialize.json" 2>&1) || { mcp_fail "initialize: $problem"; break; }
        mcp_sessions+=("$sid")
        mcp_hdr=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream'
            -H "Mcp-Session-Id: $sid" -H "MCP-Protocol-Version: $MCP_VERSION")
        st=$(probe "$o-mcp-ready$k" "$u/mcp" -X POST "${mcp_hdr[@]}" --data-binary "@$tmp/mcp-initialized.json")
        [[ $st == 202 ]] || { mcp_fail "notifications/initialized gave status $st, not 202"; break; }
        for c in "${mcp_selected[@]}"; do
            st=$(probe "$o-$c$k" "$u/mcp" -X POST "${mcp_hdr[@]}" --data-binary "@$tmp/$c.json")
            ct=$(header "$o-$c$k.hdr" Content-Type)
            if [[ $st != 200 ]]; then
                fail roster "$c" "session $((k + 1)): status $st: $(head -c 300 "$o-$c$k.body" | tr -d '\r\n')"
            elif [[ $ct != application/json* ]]; then
                fail roster "$c" "session $((k + 1)): Content-Type '$ct'"
            elif ! problem=$(/usr/bin/python3 "$tmp/mcp-check.py" "$c" "$o-$c$k.body" "${mcp_ref[$c]}" \
                "$tmp/$c.json" 2>&1); then
                fail roster "$c" "session $((k + 1)): $problem"
            else
                size=$(($(wc -c <"$o-$c$k.hdr") + $(wc -c <"$o-$c$k.body")))
                [[ -z ${wire_size[$c]:-} || ${wire_size[$c]} == "$size" ]] ||
                    fail roster "$c" "session $((k + 1)): a $size B answer, session 1's was ${wire_size[$c]} B"
                wire_size[$c]=$size
            fi
        done
    done
    printf '%-6s MCP %s session(s) for %s wrk thread(s), profile %s: mcp-rest %s B' roster \
        "${#mcp_sessions[@]}" "$WRK_THREADS" "$MCP_PROFILE_ID" "${wire_size[mcp-rest]}"
    for c in "${mcp_selected[@]}"; do printf ', %s %s B' "$c" "${wire_size[$c]:-?}"; done
    echo " (headers and body)"
fi

# --- load ----------------------------------------------------------------------
results=$tmp/results.tsv
declare -A failed=() # case -> why its load runs failed (mcp-rest and the MCP cases)
: >"$results"
mkdir -p "$tmp/wrk" "$tmp/h2load"
psi_total() { # microseconds some task waited for a CPU, since boot
    awk '/^some/ { for (i = 1; i <= NF; i++) if ($i ~ /^total=/) print substr($i, 7) }' \
        /proc/pressure/cpu 2>/dev/null || echo 0
}
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
psi_since() { # psi-total-before start-us -> % of the wall time since then that some task waited
    awk -v a="$1" -v b="$(psi_total)" -v w0="$2" -v w1="$(now_us)" \
        'BEGIN { printf "%.0f", (w1 > w0) ? 100 * (b - a) / (w1 - w0) : 0 }'
}
route_counts() { # route -> "status count" lines: roster's responses on that route so far
    curl -sS --noproxy '*' --max-time 5 "${base[roster]}/metrics" 2>/dev/null |
        awk -v r="route=\"$1\"" 'index($0, "roster_http_requests_total{") == 1 && index($0, r) {
            st = $0; sub(/.*status="/, "", st); sub(/".*/, "", st); n[st] += $NF }
            END { for (st in n) print st, n[st] }'
}
counts_since() { # before after -> "srv_200=N srv_other=N" (responses in between)
    awk -v a="$1" -v b="$2" 'BEGIN {
        k = split(a, x, "\n"); for (i = 1; i <= k; i++) { split(x[i], f, " "); was[f[1]] = f[2] }
        k = split(b, x, "\n"); for (i = 1; i <= k; i++) { split(x[i], f, " ")
            if (f[1] == "") continue; d = f[2] - was[f[1]]; if (f[1] == "200") ok += d; else other += d }
        printf "srv_200=%d srv_other=%d\n", ok, other }'
}
run_wrk() { # server case seconds [tag] -> RESULT line with psi= on stdout; full output in $tmp/wrk
    local s=$1 c=$2 secs=$3 inm='' ae='' out=$tmp/wrk/${4:-warmup}-$2-$1.txt p0 w0 psi
    local script=$here/wrk.lua body='' hdr=() route='' before='' counts=''
    [[ $c == 304 ]] && inm=${etag[$s]}
    [[ $c == gzip ]] && ae=gzip
    [[ $c == prompt || $c == post ]] && hdr=(-H "Accept: $PROMPT_ACCEPT")
    [[ $c == post ]] && script=$here/post-prompt.lua body=$(<"$post_body")
    [[ $c == mcp-rest ]] && hdr=(-H 'Accept: application/json') route=prompt
    [[ -n ${mcp_case[$c]:-} ]] && script=$here/mcp.lua body=$(<"$tmp/$c.json") route=mcp
    [[ -z $route ]] || before=$(route_counts "$route")
    p0=$(psi_total) w0=$(now_us)
    WRK_IF_NONE_MATCH=$inm WRK_ACCEPT_ENCODING=$ae WRK_POST_BODY=$body \
        WRK_MCP_BODY=$body WRK_MCP_SESSIONS="${mcp_sessions[*]}" WRK_MCP_VERSION=$MCP_VERSION \
        timeout --kill-after=5 $((secs + 30)) taskset -c "$CLIENT_CPU" \
        wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "${secs}s" --timeout 5s "${hdr[@]}" \
        -s "$script" "${base[$s]}${path[$c]}" >"$out" 2>&1 || true
    psi=$(psi_since "$p0" "$w0")
    [[ -z $route ]] || counts=" $(counts_since "$before" "$(route_counts "$route")")"
    echo "$(grep '^RESULT' "$out" || echo "RESULT failed") psi=$psi$counts"
}
# answer_problem case line -> why the run's answers are not all the checked
# one (mcp-rest and the MCP cases; nothing when they are)
answer_problem() {
    local c=$1 line=$2 n bytes size errs
    n=$(field "$line" requests) bytes=$(field "$line" bytes) size=${wire_size[$c]:-0}
    errs=$(($(field "$line" err_connect) + $(field "$line" err_read) + $(field "$line" err_write) + $(field "$line" err_status) + $(field "$line" err_timeout)))
    if [[ $line == "RESULT failed"* || $n == 0 ]]; then
        echo "no response completed"
    elif ((errs > 0)); then
        echo "wrk counted $errs errors (socket errors and statuses >= 400)"
    elif (($(field "$line" srv_other) > 0)); then
        echo "the server answered $(field "$line" srv_other) requests on the route with a status other than 200 (/metrics)"
    elif (($(field "$line" srv_200) < n)); then
        echo "wrk completed $n requests, the server counted only $(field "$line" srv_200) 200s on the route"
    elif ((bytes < n * size)); then
        echo "wrk read $bytes B for $n answers, less than $n x $size B (the checked answer): some were errors"
    fi
}
run_h2load() { # server case seconds [tag] -> RESULT line with psi= on stdout; output in $tmp/h2load
    local s=$1 c=$2 secs=$3 tag=${4:-warmup} hdr=() want=200 out log p0 w0 psi
    out=$tmp/h2load/$tag-$c-$s.txt log=$tmp/h2load/$tag-$c-$s.log
    [[ $c == 304 ]] && hdr=(-H "If-None-Match: ${etag[$s]}") want=304
    [[ $c == gzip ]] && hdr=(-H 'Accept-Encoding: gzip')
    [[ $c == prompt ]] && hdr=(-H "Accept: $PROMPT_ACCEPT")
    [[ $c == post ]] && hdr=(-H "Accept: $PROMPT_ACCEPT" -H 'Content-Type: application/json' -d "$post_body")
    p0=$(psi_total) w0=$(now_us)
    timeout --kill-after=5 $((secs + H2LOAD_WARMUP + 30)) taskset -c "$CLIENT_CPU" \
        h2load --h1 -t "$WRK_THREADS" -c "$CONNECTIONS" -m 1 -D "$secs" \
        --warm-up-time "$H2LOAD_WARMUP" --log-file "$log" "${hdr[@]}" \
        "${base[$s]}${path[$c]}" >"$out" 2>&1 || true
    psi=$(psi_since "$p0" "$w0")
    # summary: "finished in 11.00s, 85538.33 req/s, ..." (req/s over the main
    # phase) and "requests: N total, N started, N done, N succeeded, N failed,
    # N errored, N timeout" (errored: network-level, a subset of failed;
    # timeout: a subset of errored); the log: start_us <TAB> status <TAB>
    # duration_us, status -1 for a failed stream. Percentiles are nearest-rank
    # over every completed request of the main phase.
    {
        awk '/^finished in/ { gsub(",", ""); print "rps", $4 }
            /^requests:/ { gsub(",", ""); print "req", $10, $12, $14 }' "$out"
        awk -F'\t' -v want="$want" '$2 >= 0 && $2 != want { n++ } END { print "bad", n + 0 }' "$log" 2>/dev/null
        awk -F'\t' '$2 >= 0 { print $3 }' "$log" 2>/dev/null | sort -n | awk '{ a[NR] = $1 }
            function pct(p,  i) { i = int(p * NR / 100); if (i < p * NR / 100) i++; if (i < 1) i = 1; return a[i] }
            END { if (NR) print "lat", NR, pct(50), pct(90), pct(99), a[NR]; else print "lat 0 0 0 0 0" }'
    } | awk -v secs="$secs" -v psi="$psi" '
        $1 == "rps" { rps = $2 } $1 == "req" { errored = $3; tmo = $4 }
        $1 == "bad" { bad = $2 } $1 == "lat" { n = $2; p50 = $3; p90 = $4; p99 = $5; mx = $6 }
        END { if (rps == "" || n == "") { print "RESULT failed psi=" psi; exit }
            printf "RESULT requests=%d seconds=%s rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " \
                "err_connect=0 err_read=%d err_write=0 err_status=%d err_timeout=%d psi=%s\n",
                n, secs, rps, p50, p90, p99, mx, errored - tmo, bad, tmo, psi }'
    [[ $KEEP_TMP == 1 ]] || rm -f "$log"
}
run_load() { # server case seconds [tag]
    if [[ ${tool[$2]} == h2load ]]; then run_h2load "$@"; else run_wrk "$@"; fi
}
cpu_sample() { # "cpuN busy idle" jiffies for the two cores we use
    awk -v a="cpu$SERVER_CPU" -v b="cpu$CLIENT_CPU" \
        '$1 == a || $1 == b { print $1, $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat
}
busy_pct() { # busiest of the two cores over half a second, in %
    local x y
    x=$(cpu_sample)
    sleep 0.5
    y=$(cpu_sample)
    paste -d' ' <(echo "$x") <(echo "$y") | awk '{ b = $5 - $2; i = $6 - $3
        p = b + i > 0 ? 100 * b / (b + i) : 0; if (p > m) m = p } END { printf "%d\n", m }'
}
quiet_wait() { # prints the seconds waited for both cores to be quiet
    local t0=$SECONDS
    while ((QUIET_MAX > 0 && SECONDS - t0 < QUIET_MAX)); do
        (($(busy_pct) <= QUIET_BUSY)) && break
    done
    echo $((SECONDS - t0))
}
field() { # line key
    local f
    for f in $1; do
        [[ $f == "$2="* ]] && { echo "${f#*=}"; return; }
    done
    echo 0
}

echo "== machine: $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r)"
h2v=
[[ -z ${H2LOAD_CASES// /} ]] || h2v=", $(h2load --version 2>&1 | head -n 1 | sed 's/^h2load //')"
echo "== $("$rosterd" --version 2>&1 | head -n 1), $("$NGINX" -v 2>&1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)$h2v"
echo "== servers on cpu $SERVER_CPU (1 thread / 1 worker), load on cpu $CLIENT_CPU, keep-alive, $CONNECTIONS connections, $ROUNDS rounds x ${DURATION}s per case and server"
for c in "${cases[@]}"; do
    only=
    [[ -z ${roster_only[$c]:-} ]] || only=", roster only"
    if [[ ${tool[$c]} == h2load ]]; then
        echo "== $c: h2load --h1 -t$WRK_THREADS -c$CONNECTIONS -m1 -D $DURATION --warm-up-time $H2LOAD_WARMUP (percentiles from its --log-file$only)"
    elif [[ $c == post ]]; then
        echo "== $c: wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s -s post-prompt.lua, body $(wc -c <"$post_body") B (percentiles from wrk.lua$only)"
    elif [[ -n ${mcp_case[$c]:-} ]]; then
        echo "== $c: wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s -s mcp.lua, body $(wc -c <"$tmp/$c.json") B, ${#mcp_sessions[@]} session(s), one per wrk thread (percentiles from wrk.lua$only)"
    else
        echo "== $c: wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s (percentiles from wrk.lua$only)"
    fi
done
[[ -z ${ROSTER_ARGS:-} ]] || echo "== extra rosterd serve flags: $ROSTER_ARGS"
if ((WARMUP > 0)); then
    for s in "${servers[@]}"; do run_wrk "$s" full "$WARMUP" >/dev/null; done
fi
for ((r = 1; r <= ROUNDS; r++)); do
    order=("${servers[@]}")
    ((r % 2 == 0 && ${#servers[@]} == 2)) && order=(nginx roster)
    for c in "${cases[@]}"; do
        [[ -z ${bad[$c]:-}${failed[$c]:-} ]] || continue
        for s in "${order[@]}"; do
            [[ $s == roster || -z ${roster_only[$c]:-} ]] || continue
            for ((try = 0; try <= RETRIES; try++)); do
                waited=$(quiet_wait)
                line=$(run_load "$s" "$c" "$DURATION" "round$r")
                psi=$(field "$line" psi)
                ((psi > MAX_PSI && try < RETRIES)) || break
                printf 'round %d %-10s %-6s %10s req/s  discarded: psi %s%% > %s%%, repeating\n' \
                    "$r" "$c" "$s" "$(field "$line" rps)" "$psi" "$MAX_PSI"
            done
            rps=$(field "$line" rps)
            p50=$(field "$line" p50_us)
            p99=$(field "$line" p99_us)
            errs=$(($(field "$line" err_connect) + $(field "$line" err_read) + $(field "$line" err_write) + $(field "$line" err_status) + $(field "$line" err_timeout)))
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$c" "$s" "$rps" "$p50" "$p99" "$errs" \
                "$psi" >>"$results"
            printf 'round %d %-10s %-6s %10s req/s  p50 %6s us  p99 %6s us  errors %s  psi %3s%%  waited %ss\n' \
                "$r" "$c" "$s" "$rps" "$p50" "$p99" "$errs" "$psi" "$waited"
            if [[ $line == "RESULT failed"* || $(field "$line" requests) == 0 ]]; then
                echo "WARNING: no response completed ($s $c round $r); ${tool[$c]} printed:"
                sed 's/^/    /' "$tmp/${tool[$c]}/round$r-$c-$s.txt"
            fi
            if [[ $c == mcp-rest || -n ${mcp_case[$c]:-} ]]; then
                problem=$(answer_problem "$c" "$line")
                if [[ -n $problem ]]; then
                    # A case that measured errors measured nothing: it stops here.
                    echo "FAIL round $r $c: $problem; wrk printed:"
                    sed 's/^/    /' "$tmp/wrk/round$r-$c-$s.txt"
                    failed[$c]="round $r: $problem"
                    if [[ $c == mcp-rest ]]; then
                        for m in "${!mcp_case[@]}"; do
                            has_case "$m" && failed[$m]="its reference, mcp-rest, failed in round $r"
                        done
                    fi
                fi
            fi
        done
    done
done

# --- table ---------------------------------------------------------------------
median() { # server case column(4 rps, 5 p50, 6 p99)
    awk -F'\t' -v s="$1" -v c="$2" -v k="$3" '$3 == s && $2 == c { print $k }' "$results" |
        sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0;
            else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
echo
profiles_label=
((need_nginx == 0)) || profiles_label=", profile $PROFILE_ID"
! has_case prompt || profiles_label+=", prompt cases on $PROMPT_PROFILE_ID"
! has_case mcp-rest || profiles_label+=", MCP cases on $MCP_PROFILE_ID (${#mcp_sessions[@]} session(s))"
echo "Median of $ROUNDS rounds x ${DURATION}s, $CONNECTIONS connections$profiles_label"
((need_nginx == 0)) ||
    echo "Targets: roster/nginx req/s >= $TARGET_RATIO and roster/nginx p99 <= $TARGET_P99_RATIO (both servers of a case measured with the same tool)"
! has_case post ||
    echo "prompt and post run on roster only (nginx has no POST equivalent): post's ratio and p99 ratio are post/prompt; target post/prompt req/s >= $TARGET_POST_RATIO"
! has_case mcp-rest ||
    echo "mcp-rest, mcp-prompt and mcp-read run on roster only: the MCP cases' ratio and p99 ratio are MCP/mcp-rest; target MCP/mcp-rest req/s >= $TARGET_MCP_RATIO"
fmt='%-10s %-6s %12s %12s %7s %17s %17s %9s  %s\n'
# shellcheck disable=SC2059
printf "$fmt" case tool "roster req/s" "nginx req/s" ratio "roster p50/p99" "nginx p50/p99" "p99 ratio" meets
all_ok=1
for c in "${cases[@]}"; do
    if [[ -n ${bad[$c]:-} ]]; then
        # shellcheck disable=SC2059
        printf "$fmt" "$c" "${tool[$c]}" - - - - - - "not measured: ${why[$c]}"
        all_ok=0
        continue
    fi
    if [[ -n ${failed[$c]:-} ]]; then
        # shellcheck disable=SC2059
        printf "$fmt" "$c" "${tool[$c]}" - - - - - - "FAILED, figures void: ${failed[$c]}"
        all_ok=0
        continue
    fi
    rr=$(median roster "$c" 4) nr=$(median nginx "$c" 4)
    r50=$(median roster "$c" 5) r99=$(median roster "$c" 6)
    n50=$(median nginx "$c" 5) n99=$(median nginx "$c" 6)
    zero=$(awk -F'\t' -v c="$c" '$2 == c && $4 + 0 == 0 { n++ } END { print n + 0 }' "$results")
    ((zero == 0)) || all_ok=0
    if [[ -n ${roster_only[$c]:-} ]]; then
        # No nginx figures: prompt is the reference, post is compared with it;
        # mcp-rest is the MCP cases' one.
        ref=prompt tr=$TARGET_POST_RATIO
        [[ -z ${mcp_case[$c]:-} ]] || ref=mcp-rest tr=$TARGET_MCP_RATIO
        [[ $c == post || -n ${mcp_case[$c]:-} ]] && nr=$(median roster $ref 4) n99=$(median roster $ref 6)
        awk -v c="$c" -v t="${tool[$c]}" -v zero="$zero" -v rr="$rr" -v nr="$nr" -v r50="$r50" \
            -v r99="$r99" -v n99="$n99" -v tr="$tr" -v ref="$ref" -v fmt="$fmt" 'BEGIN {
            ratio = "-"; pr = "-"; meets = "(reference for post)"
            if (c == "mcp-rest") meets = "(reference for the MCP cases)"
            if (c == "post" || c ~ /^mcp-(prompt|read)$/) {
                ratio = sprintf("%.2f", nr > 0 ? rr / nr : 0); pr = n99 > 0 ? sprintf("%.2f", r99 / n99) : "-"
                meets = (nr > 0 && rr / nr >= tr) ? "yes (" c "/" ref ")" : "NO (req/s, " c "/" ref ")"
            }
            if (zero > 0) meets = meets ", " zero " run(s) with no response"
            printf fmt, c, t, sprintf("%.0f", rr), "-", ratio,
                sprintf("%.2f/%.2f ms", r50 / 1000, r99 / 1000), "-", pr, meets }'
        continue
    fi
    awk -v c="$c" -v t="${tool[$c]}" -v zero="$zero" -v rr="$rr" -v nr="$nr" -v r50="$r50" -v r99="$r99" -v n50="$n50" -v n99="$n99" \
        -v tr="$TARGET_RATIO" -v tp="$TARGET_P99_RATIO" -v fmt="$fmt" 'BEGIN {
        ratio = nr > 0 ? rr / nr : 0; pr = n99 > 0 ? r99 / n99 : 99
        meets = (ratio >= tr && pr <= tp) ? "yes" : "NO"
        if (ratio < tr) meets = meets " (req/s)"
        if (pr > tp) meets = meets " (p99)"
        if (zero > 0) meets = meets ", " zero " run(s) with no response"
        printf fmt, c, t, sprintf("%.0f", rr), sprintf("%.0f", nr), sprintf("%.2f", ratio),
            sprintf("%.2f/%.2f ms", r50 / 1000, r99 / 1000), sprintf("%.2f/%.2f ms", n50 / 1000, n99 / 1000),
            sprintf("%.2f", pr), meets }'
done
if has_case mcp-rest && [[ -z ${bad[mcp-rest]:-}${failed[mcp-rest]:-} ]]; then
    # The MCP cases next to their reference, measured in the same rounds.
    echo
    echo "MCP (#15): POST /mcp against GET ${path[mcp-rest]} (Accept: application/json), same rounds; target >= $TARGET_MCP_RATIO x its req/s"
    mfmt='%-10s %-46s %9s %9s %6s %9s %9s %6s  %s\n'
    # shellcheck disable=SC2059
    printf "$mfmt" case request "req/s" "REST" ratio "p99 ms" "REST" ratio target
    for c in mcp-prompt mcp-read; do
        has_case "$c" || continue
        req="prompts/get {name: $MCP_PROFILE_ID}"
        [[ $c == mcp-read ]] && req="resources/read roster://profiles/$MCP_PROFILE_ID"
        if [[ -n ${bad[$c]:-}${failed[$c]:-} ]]; then
            # shellcheck disable=SC2059
            printf "$mfmt" "$c" "$req" - - - - - - "FAILED (see above)"
            continue
        fi
        awk -v c="$c" -v req="$req" -v rr="$(median roster "$c" 4)" -v nr="$(median roster mcp-rest 4)" \
            -v r99="$(median roster "$c" 6)" -v n99="$(median roster mcp-rest 6)" -v tr="$TARGET_MCP_RATIO" \
            -v fmt="$mfmt" 'BEGIN { ratio = nr > 0 ? rr / nr : 0
            printf fmt, c, req, sprintf("%.0f", rr), sprintf("%.0f", nr), sprintf("%.3f", ratio),
                sprintf("%.2f", r99 / 1000), sprintf("%.2f", n99 / 1000), (n99 > 0 ? sprintf("%.2f", r99 / n99) : "-"),
                (ratio >= tr ? "met" : "missed") }'
    done
    if has_case mcp-read && has_case full && [[ $MCP_PROFILE_ID == "$PROFILE_ID" &&
        -z ${bad[mcp-read]:-}${failed[mcp-read]:-}${bad[full]:-} ]]; then
        # resources/read carries the full profile, 2 to 3 times the prompt's
        # bytes: the full case (same bytes over REST) tells size from MCP.
        awk -v rr="$(median roster mcp-read 4)" -v fr="$(median roster full 4)" \
            -v r99="$(median roster mcp-read 6)" -v f99="$(median roster full 6)" -v id="$PROFILE_ID" 'BEGIN {
            printf "mcp-read against GET /v1/profiles/%s (the full case, the same bytes over REST): %.0f / %.0f req/s = %.2f, p99 %.2f / %.2f ms\n",
                id, rr, fr, (fr > 0 ? rr / fr : 0), r99 / 1000, f99 / 1000 }'
    fi
fi
total_errs=$(awk -F'\t' '{ n += $7 } END { print n + 0 }' "$results")
echo "socket/status errors over all runs (wrk and h2load): $total_errs"
awk -F'\t' '{ print $8 }' "$results" | sort -g | awk '{ a[NR] = $1 } END {
    if (NR) printf "CPU pressure (psi) during the runs: median %s%%, max %s%% (high = other load, figures suspect)\n",
        a[int((NR + 1) / 2)], a[NR] }'

for f in "$tmp/roster.log" "$tmp/nginx/error.log"; do
    if [[ -s $f ]]; then
        echo "-- ${f#"$tmp"/} (first lines):"
        head -n 5 "$f"
    fi
done
((all_ok == 1)) || exit 1
