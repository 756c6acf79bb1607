# shellcheck shell=bash
# Shared by scripts/container-test.sh and scripts/fresh-check.sh: get rootful
# podman working on a Debian host with no Docker daemon and no image registry
# (shared notes: containers.md), and build the local debian:bookworm-slim base
# with debootstrap from the mirror the host's apt already uses.
#
# The caller defines log, fail and skip (skip prints "SKIP: reason" and exits
# 77), and sets WORK to a scratch directory.

PODMAN_LOCAL_BASE=localhost/debian:bookworm-slim

# podman without systemd prints this on every run/stop/rm of an image with a
# HEALTHCHECK (the timer cannot be registered); it is harmless, so hide it.
quiet_podman() {
  podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2)
}

# Podman needs CAP_SYS_ADMIN (mounts, namespaces, cgroups). A shell inside an
# unprivileged container does not have it; apt-get cannot even install podman
# there (mknod fails). Bit 21 of CapEff is CAP_SYS_ADMIN.
podman_can_run_here() {
  local eff
  eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status 2>/dev/null)
  [ -n "$eff" ] || return 0
  (( (16#$eff >> 21) & 1 ))
}

podman_install_packages() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v runc >/dev/null || missing+=(runc)
  # netavark sets up the port publishing with iptables (os error 2 without it)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v curl >/dev/null || missing+=(curl)
  command -v python3 >/dev/null || missing+=(python3)
  command -v git >/dev/null || missing+=(git)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    command -v podman >/dev/null ||
      skip "podman is not installed and cannot be installed here (needs root and apt-get); install podman to enable this check"
    fail "missing tools: ${missing[*]} (install them, or run as root on Debian/Ubuntu)"
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # with recommends: netavark, aardvark-dns, slirp4netns, catatonit, uidmap
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Written only when the file is missing. On the Debian CI VMs crun refuses the
# hybrid cgroup v1/v2 layout ("cgroups in hybrid mode not supported") and the
# hard nofile limit (20000) is below podman's default of 1048576.
podman_write_conf() {
  local conf=/etc/containers/containers.conf
  [ -e "$conf" ] && { log "using existing $conf"; return 0; }
  [ "$(id -u)" -eq 0 ] || return 0
  local hard_nofile hard_nproc nofile=20000 nproc=32768
  hard_nofile=$(ulimit -Hn)
  hard_nproc=$(ulimit -Hu)
  [ "$hard_nofile" != unlimited ] && [ "$hard_nofile" -lt "$nofile" ] && nofile=$hard_nofile
  [ "$hard_nproc" != unlimited ] && [ "$hard_nproc" -lt "$nproc" ] && nproc=$hard_nproc
  mkdir -p /etc/containers
  {
    echo '[containers]'
    echo "default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]"
    echo '[engine]'
    command -v runc >/dev/null && echo 'runtime = "runc"'
    [ -d /run/systemd/system ] || echo 'cgroup_manager = "cgroupfs"'
  } >"$conf"
  log "wrote $conf"
}

# Only Debian hosts can debootstrap from the mirror their apt already uses.
# Returns 1 when the base cannot be built here (the caller then falls back to
# the Dockerfile's pinned digests, or skips).
podman_build_local_base() {
  podman image exists "$PODMAN_LOCAL_BASE" && return 0
  local src=/etc/apt/sources.list.d/debian.sources mirror rootfs
  [ -r "$src" ] || return 1
  [ "$(id -u)" -eq 0 ] || return 1
  mirror=$(awk '/^URIs:/ {print $2; exit}' "$src")
  [ -n "$mirror" ] || return 1
  if ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  log "building $PODMAN_LOCAL_BASE with debootstrap from $mirror (about 40 s)"
  rootfs="$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs/etc/apt/sources.list"
  # the same suites as the host (bookworm, -updates, -security), comments dropped
  grep -v '^#' "$src" >"$rootfs/etc/apt/sources.list.d/debian.sources"
  tar -C "$rootfs" -c . | podman import -q --change 'CMD ["/bin/bash"]' - "$PODMAN_LOCAL_BASE" >/dev/null
  # so that an unmodified "FROM debian:bookworm-slim" also resolves locally
  podman tag "$PODMAN_LOCAL_BASE" docker.io/library/debian:bookworm-slim
  rm -rf "$rootfs"
}

# Everything up to a host that can run a container from the local base.
podman_prepare() {
  podman_can_run_here ||
    skip "podman cannot run in this shell: it lacks CAP_SYS_ADMIN (an unprivileged container?); run on a VM or a privileged container to enable this check"
  podman_install_packages
  podman_write_conf
  podman info >/dev/null 2>"$WORK/info.err" ||
    skip "podman cannot run here: $(head -3 "$WORK/info.err")"
}
