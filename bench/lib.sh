# shellcheck shell=bash disable=SC2154  # $root, $tmp, $BUILD_DIR come from the caller
# Shared by the bench scripts (sourced, not run).
# build_release: configures (or reconfigures) $BUILD_DIR as a release build
# without tests, builds it, and sets $rosterd to the binary. Needs $root,
# $BUILD_DIR, $tmp (for build.log) and a die() function from the caller.
build_release() {
    echo "== build ($BUILD_DIR, release)"
    if [[ -f $BUILD_DIR/build.ninja ]]; then
        meson configure "$BUILD_DIR" -Dbuildtype=release -Dtests=false >"$tmp/build.log" 2>&1 ||
            { cat "$tmp/build.log" >&2; die "meson configure failed"; }
    else
        meson setup "$BUILD_DIR" --buildtype=release -Dtests=false >"$tmp/build.log" 2>&1 ||
            { cat "$tmp/build.log" >&2; die "meson setup failed"; }
    fi
    ninja -C "$BUILD_DIR" >>"$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log" >&2; die "build failed"; }
    rosterd=$root/$BUILD_DIR/service/rosterd
    [[ -x $rosterd ]] || die "no binary at $rosterd"
}

# need COMMAND PACKAGE: installs PACKAGE (as root, apt-get updated once)
# when COMMAND is missing; otherwise dies saying what to install.
apt_updated=0
need() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    [[ $(id -u) -eq 0 ]] || die "$1 is missing: apt-get install $2 (as root)"
    if ((apt_updated == 0)); then
        apt-get update -qq >/dev/null
        apt_updated=1
    fi
    echo "installing $2 ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    command -v "$1" >/dev/null 2>&1 || die "$2 installed but $1 not found"
}

# A free TCP port on 127.0.0.1 (never 8080 or 18080, which people run by hand).
free_port() {
    local p
    while :; do
        p=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        [[ $p != 8080 && $p != 18080 ]] && break
    done
    echo "$p"
}

# stop_process PID [TENTHS]: TERM, up to TENTHS tenths of a second (150: 15 s),
# then KILL; reaps it (empty PID: nothing).
stop_process() {
    local pid=$1 tenths=${2:-150} i
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < tenths; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true
}

# bench_commit: the short commit of $root, "-dirty" when the tree has changes.
bench_commit() {
    local c
    c=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ -n $(git -C "$root" --no-optional-locks status --porcelain 2>/dev/null) ]]; then
        c+=-dirty
    fi
    echo "$c"
}

# set_index_args: index_args=(--index-threads $INDEX_THREADS) when this
# $rosterd has the flag (the help text is captured first: `cmd | grep -q`
# under pipefail can fail on SIGPIPE).
set_index_args() {
    local help
    index_args=()
    help=$("$rosterd" serve --help 2>&1 || true)
    # shellcheck disable=SC2034  # the caller's
    [[ $help == *--index-threads* ]] && index_args=(--index-threads "$INDEX_THREADS")
    return 0
}
