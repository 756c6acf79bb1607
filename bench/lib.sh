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
