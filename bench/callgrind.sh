#!/usr/bin/env bash
# bench/callgrind.sh: user-space instructions per request, rosterd against
# nginx, for the four cases of bench/run.sh. Unlike req/s on a shared or
# virtual machine this is repeatable to a fraction of a percent; it leaves
# out the kernel (TCP over loopback), which is most of the cost of a request.
#
#   bench/callgrind.sh            # REQUESTS=2000 per case
#
# Each server runs once under `valgrind --tool=callgrind` (rosterd with
# --threads 1, nginx with master_process off), gets WARM requests per case,
# then its counters are zeroed and for each case REQUESTS keep-alive requests
# are sent on one connection followed by `callgrind_control --dump`; the
# dump's total divided by REQUESTS is the figure. 127.0.0.1 only.
#
# Environment: REQUESTS [2000] WARM [200] PROFILE_ID [worker-devops]
#   PROFILES [profiles] BUILD_DIR [build-release] KEEP_TMP=1
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
need valgrind valgrind
need callgrind_control valgrind
need curl curl
need meson meson
need ninja ninja-build
[[ -x $NGINX ]] || need nginx nginx-light
[[ -x $NGINX ]] || NGINX=$(command -v nginx)


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

# Sends N keep-alive GETs on one connection; checks every status.
cat >"$tmp/client.py" <<'EOF'
import http.client, sys
port, path, n, want = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
headers = dict(h.split(": ", 1) for h in sys.argv[5:])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(n):
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    r.read()
    if r.status != want:
        sys.exit("status %d, want %d for %s %r" % (r.status, want, path, headers))
c.close()
EOF

full=/v1/profiles/$PROFILE_ID
role=/v1/profiles/$PROFILE_ID/role
declare -A ir=()

measure() { # server port
    local s=$1 port=$2 etag c path want hdr i f
    etag=$(curl -s --noproxy '*' -o /dev/null -D - "http://127.0.0.1:$port$full" |
        tr -d '\r' | grep -i '^etag:' | cut -d' ' -f2-)
    [[ -n $etag ]] || die "$s: no ETag on $full"
    for i in 1 2; do
        for c in full role 304 gzip; do
            path=$full want=200 hdr=()
            [[ $c == role ]] && path=$role
            [[ $c == 304 ]] && want=304 hdr=("If-None-Match: $etag")
            [[ $c == gzip ]] && hdr=("Accept-Encoding: gzip")
            if ((i == 1)); then
                /usr/bin/python3 "$tmp/client.py" "$port" "$path" "$WARM" "$want" "${hdr[@]}"
                continue
            fi
            callgrind_control -z "$pid" >/dev/null 2>&1
            /usr/bin/python3 "$tmp/client.py" "$port" "$path" "$REQUESTS" "$want" "${hdr[@]}"
            callgrind_control --dump="$s-$c" "$pid" >/dev/null 2>&1
        done
    done
    sleep 1
    for c in full role 304 gzip; do
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
measure roster "$port"
stop

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
measure nginx "$port"
stop

echo
echo "User-space instructions per request (callgrind Ir), $REQUESTS keep-alive requests on one connection"
printf '%-6s %14s %14s %8s\n' case roster nginx ratio
for c in full role 304 gzip; do
    printf '%-6s %14s %14s %8s\n' "$c" "${ir[roster-$c]}" "${ir[nginx-$c]}" \
        "$(awk -v a="${ir[roster-$c]}" -v b="${ir[nginx-$c]}" 'BEGIN { printf "%.2f", a / b }')"
done
