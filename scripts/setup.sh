#!/usr/bin/env bash
# Installs what roster needs on Debian bookworm (only what is missing).
#   scripts/setup.sh          build and run dependencies
#   scripts/setup.sh --test   also everything the test suite uses
# Uses sudo when not run as root. Safe to run again: it only installs what
# is missing.
set -euo pipefail

BUILD=(gcc meson ninja-build pkg-config libmicrohttpd-dev libjansson-dev libyaml-dev
       libmd4c-dev check zlib1g-dev nettle-dev curl ca-certificates)
TEST=(valgrind clang-format cppcheck python3 python3-pytest python3-requests python3-jsonschema python3-yaml
      python3-prometheus-client clang libclang-rt-14-dev shellcheck yamllint nodejs npm)

want=("${BUILD[@]}")
if [ "${1:-}" = "--test" ]; then
  want+=("${TEST[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node may come from elsewhere on the machine; then the Debian one is not needed
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  keep=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs|npm) ;; *) keep+=("$p") ;; esac
  done
  missing=("${keep[@]+"${keep[@]}"}")
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
