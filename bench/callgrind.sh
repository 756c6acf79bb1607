#!/usr/bin/env bash
# bench/callgrind.sh: user-space instructions per request, rosterd against
# nginx, for the four cases of bench/run.sh. Unlike req/s on a shared or
# virtual machine this is repeatable to a fraction of a percent; it leaves
# out the kernel (TCP over loopback), which is most of the cost of a request.
#
#   bench/callgrind.sh            # REQUESTS=2000 per case
#   CASES=mcp-prompt,mcp-read bench/callgrind.sh   # the MCP cases (roster only)
#
# Each server runs once under `valgrind --tool=callgrind` (rosterd with
# --threads 1, nginx with master_process off), gets WARM requests per case,
# then its counters are zeroed and for each case REQUESTS keep-alive requests
# are sent on one connection followed by `callgrind_control --dump`; the
# dump's total divided by REQUESTS is the figure. 127.0.0.1 only.
#
# CASES (comma or space separated) ["full role 304 gzip"]: those four, as in
# bench/run.sh, on both servers; and, on rosterd only, mcp-rest (GET
# /v1/profiles/PROFILE_ID/prompt, Accept: application/json), mcp-prompt (POST
# /mcp prompts/get {"name": PROFILE_ID}, no arguments) and mcp-read (POST /mcp
# resources/read roster://profiles/PROFILE_ID) on one MCP session initialized
# first; an MCP case brings mcp-rest, its reference. Every answer must be a
# 200, an MCP one a JSON-RPC result. With KEEP_TMP=1 the dumps stay in the
# temporary directory (cg-roster.out.N, one per case) for
# `callgrind_annotate --inclusive=yes`.
#
# Environment: REQUESTS [2000] WARM [200] PROFILE_ID [worker-devops]
#   PROFILES [profiles] BUILD_DIR [build-release] KEEP_TMP=1 CASES
#   ROSTER_ARGS: extra `rosterd serve` flags for experiments, e.g.
#     ROSTER_ARGS="--max-request-bytes 32768"   (the pre-e75948c default)
set -euo pipefail

REQUESTS=${REQUESTS:-2000}
WARM=${WARM:-200}
PROFILE_ID=${PROFILE_ID:-worker-devops}
PROFILES_SRC=${PROFILES:-profiles}
BUILD_DIR=${BUILD_DIR:-build-release}
KEEP_TMP=${KEEP_TMP:-0}
NGINX=${NGINX:-/usr/sbin/nginx}
CASES=${CASES:-full role 304 gzip}

read -ra roster_args <<<"${ROSTER_ARGS:-}"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
cd "$root"

die() {
    echo "callgrind.sh: $*" >&2
    exit 1
}
for v in REQUESTS WARM; do
    [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive integer"
done
all_cases=(full role 304 gzip mcp-rest mcp-prompt mcp-read)
declare -A selected=()
for c in ${CASES//,/ }; do
    [[ " ${all_cases[*]} " == *" $c "* ]] || die "CASES: unknown case '$c' (cases: ${all_cases[*]})"
    selected[$c]=1
    [[ $c != mcp-prompt && $c != mcp-read ]] || selected[mcp-rest]=1
done
cases=() classic=() # classic: the cases nginx runs too
for c in "${all_cases[@]}"; do
    [[ -n ${selected[$c]:-} ]] || continue
    cases+=("$c")
    [[ $c == mcp-* ]] || classic+=("$c")
done
((${#cases[@]} > 0)) || die "CASES selects no case (cases: ${all_cases[*]})"
need valgrind valgrind
need callgrind_control valgrind
need curl curl
need meson meson
need ninja ninja-build
if ((${#classic[@]} > 0)); then
    [[ -x $NGINX ]] || need nginx nginx-light
    [[ -x $NGINX ]] || NGINX=$(command -v nginx)
fi


tmp=$(mktemp -d /tmp/roster-callgrind.XXXXXX)
chmod 755 "$tmp"
pid=
stop() { # valgrind writes its files on the way out: up to 30 s
    stop_process "$pid" 300
    pid=
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop
    if [[ $KEEP_TMP == 1 ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

build_release

cp -R "$PROFILES_SRC" "$tmp/profiles"
"$rosterd" export "$tmp/export" --profiles "$tmp/profiles" >"$tmp/export.log" 2>&1 ||
    { cat "$tmp/export.log" >&2; die "rosterd export failed"; }
chmod -R a+rX "$tmp/export"

# Sends N keep-alive GETs on one connection; checks every status. With
# MCP_BODY set, N POSTs of that JSON-RPC request instead, each answer a
# JSON-RPC result. With MCP_INIT set: initializes an MCP session and prints
# its id.
cat >"$tmp/client.py" <<'EOF'
import http.client, json, os, sys
port, path, n, want = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
headers = dict(h.split(": ", 1) for h in sys.argv[5:])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
mcp = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
if os.environ.get("MCP_INIT"):
    c.request("POST", path, headers=mcp, body=json.dumps({"jsonrpc": "2.0", "id": 1,
        "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "roster-callgrind", "version": "1"}}}))
    r = c.getresponse()
    r.read()
    sid = r.getheader("Mcp-Session-Id")
    if r.status != 200 or not sid:
        sys.exit("initialize: status %d, Mcp-Session-Id %r" % (r.status, sid))
    mcp.update({"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"})
    c.request("POST", path, headers=mcp, body='{"jsonrpc":"2.0","method":"notifications/initialized"}')
    r = c.getresponse()
    r.read()
    if r.status != 202:
        sys.exit("notifications/initialized: status %d" % r.status)
    print(sid)
    sys.exit()
body = os.environ.get("MCP_BODY")
for _ in range(n):
    if body:
        c.request("POST", path, body=body, headers={**mcp, **headers})
    else:
        c.request("GET", path, headers=headers)
    r = c.getresponse()
    got = r.read()
    if r.status != want:
        sys.exit("status %d, want %d for %s %r" % (r.status, want, path, headers))
    if body and "result" not in json.loads(got):
        sys.exit("not a JSON-RPC result: %r" % got[:300])
c.close()
EOF

full=/v1/profiles/$PROFILE_ID
role=/v1/profiles/$PROFILE_ID/role
declare -A ir=()
declare -A mcp_body=(
    [mcp-prompt]="{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/get\",\"params\":{\"name\":\"$PROFILE_ID\"}}"
    [mcp-read]="{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":\"roster://profiles/$PROFILE_ID\"}}")

measure() { # server port case...
    local s=$1 port=$2 etag c path want hdr i f sid='' body
    shift 2
    etag=$(curl -s --noproxy '*' -o /dev/null -D - "http://127.0.0.1:$port$full" |
        tr -d '\r' | grep -i '^etag:' | cut -d' ' -f2-)
    [[ -n $etag ]] || die "$s: no ETag on $full"
    if [[ -n ${selected[mcp-prompt]:-}${selected[mcp-read]:-} && $s == roster ]]; then
        sid=$(MCP_INIT=1 /usr/bin/python3 "$tmp/client.py" "$port" /mcp 1 200) || die "$s: no MCP session"
    fi
    for i in 1 2; do
        for c in "$@"; do
            path=$full want=200 hdr=() body=
            [[ $c == role ]] && path=$role
            [[ $c == 304 ]] && want=304 hdr=("If-None-Match: $etag")
            [[ $c == gzip ]] && hdr=("Accept-Encoding: gzip")
            [[ $c == mcp-rest ]] && path=$full/prompt hdr=("Accept: application/json")
            [[ $c == mcp-prompt || $c == mcp-read ]] && path=/mcp body=${mcp_body[$c]} \
                hdr=("Mcp-Session-Id: $sid" "MCP-Protocol-Version: 2025-11-25")
            if ((i == 1)); then
                MCP_BODY=$body /usr/bin/python3 "$tmp/client.py" "$port" "$path" "$WARM" "$want" "${hdr[@]}"
                continue
            fi
            callgrind_control -z "$pid" >/dev/null 2>&1
            MCP_BODY=$body /usr/bin/python3 "$tmp/client.py" "$port" "$path" "$REQUESTS" "$want" "${hdr[@]}"
            callgrind_control --dump="$s-$c" "$pid" >/dev/null 2>&1
        done
    done
    sleep 1
    for c in "$@"; do
        f=$(grep -l "^desc: Trigger: dump $s-$c\$" "$tmp"/cg-"$s".out.* 2>/dev/null | head -n 1 || true)
        [[ -n $f ]] || die "$s: no callgrind dump for $c"
        ir[$s-$c]=$(awk -v n="$REQUESTS" '/^(summary|totals):/ { printf "%.0f", $2 / n; exit }' "$f")
    done
}

wait_ready() { # url
    local i
    for ((i = 0; i < 1200; i++)); do
        [[ $(curl -s --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code}' "$1") == 200 ]] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

echo "== rosterd under callgrind"
port=$(free_port)
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg-roster.out" \
    "$rosterd" serve --listen "127.0.0.1:$port" --profiles "$tmp/profiles" --threads 1 \
    --log-level error --watch 0 "${roster_args[@]}" >"$tmp/roster.log" 2>&1 &
pid=$!
wait_ready "http://127.0.0.1:$port/ready" || { tail "$tmp/roster.log" >&2; die "rosterd not ready"; }
measure roster "$port" "${cases[@]}"
stop
if ((${#classic[@]} == 0)); then
    echo
    echo "User-space instructions per request (callgrind Ir), $REQUESTS keep-alive requests on one connection, rosterd only"
    printf '%-10s %14s %14s\n' case roster "/mcp-rest"
    for c in "${cases[@]}"; do
        printf '%-10s %14s %14s\n' "$c" "${ir[roster-$c]}" \
            "$(awk -v a="${ir[roster-$c]}" -v b="${ir[roster-mcp-rest]}" 'BEGIN { printf "%.2f", a / b }')"
    done
    exit 0
fi

echo "== nginx under callgrind"
port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
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
    types { application/json json; text/markdown md; }
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=10000 inactive=60s;
    open_file_cache_valid 60s;
    etag on;
    gzip_static on;
    gzip_vary on;
    server {
        listen 127.0.0.1:$port;
        root $tmp/export;
        location ~ ^/v1/profiles/[^/]+/(prompt|source)\$ { try_files \$uri.md =404; }
        location / { try_files \$uri.json \$uri.md \$uri =404; }
    }
}
EOF
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg-nginx.out" \
    "$NGINX" -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" >"$tmp/nginx/valgrind.log" 2>&1 &
pid=$!
wait_ready "http://127.0.0.1:$port$full" || { tail "$tmp/nginx/valgrind.log" >&2; die "nginx not ready"; }
measure nginx "$port" "${classic[@]}"
stop

echo
echo "User-space instructions per request (callgrind Ir), $REQUESTS keep-alive requests on one connection"
printf '%-10s %14s %14s %8s\n' case roster nginx ratio
for c in "${cases[@]}"; do
    if [[ $c == mcp-* ]]; then # roster only; the ratio is to mcp-rest
        printf '%-10s %14s %14s %8s\n' "$c" "${ir[roster-$c]}" - \
            "$(awk -v a="${ir[roster-$c]}" -v b="${ir[roster-mcp-rest]}" 'BEGIN { printf "%.2f", a / b }')"
        continue
    fi
    printf '%-10s %14s %14s %8s\n' "$c" "${ir[roster-$c]}" "${ir[nginx-$c]}" \
        "$(awk -v a="${ir[roster-$c]}" -v b="${ir[nginx-$c]}" 'BEGIN { printf "%.2f", a / b }')"
done
((${#cases[@]} == ${#classic[@]})) ||
    echo "(the MCP cases run on rosterd only: their ratio is to mcp-rest, GET .../prompt with Accept: application/json)"
