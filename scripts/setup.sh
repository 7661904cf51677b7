#!/usr/bin/env bash
# Shared by run.sh, test.sh and the Dockerfile: installs missing Debian packages (as root, or through
# sudo), picks the wolfSSL build and configures + builds a meson build directory. Source it; it
# defines functions only.

CBTRADE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# What building and running needs (ca-certificates: the CA bundle the feed verifies Coinbase against).
CBTRADE_BUILD_PACKAGES=(meson ninja-build g++ pkg-config python3 liburing-dev libsimdjson-dev libwolfssl-dev
  libboost1.81-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev ca-certificates)
# What the full test suite needs on top (promtool/amtool, a real Prometheus, clang for libFuzzer,
# clang-format/clang-tidy for scripts/lint.sh, podman + runc + debootstrap to build and run the image).
CBTRADE_TEST_PACKAGES=(prometheus prometheus-alertmanager clang libclang-rt-14-dev python3-yaml clang-format
  clang-tidy podman runc debootstrap)

cbtrade_log() { printf 'cbtrade-setup: %s\n' "$*" >&2; }

cbtrade_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  cbtrade_log "installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# cbtrade_build DIR [meson setup args...]: configures DIR once, then builds it.
cbtrade_build() {
  local dir=$1
  shift
  if [ ! -f "$CBTRADE_ROOT/$dir/build.ninja" ]; then
    meson setup "$CBTRADE_ROOT/$dir" "$CBTRADE_ROOT" "$@" >"$CBTRADE_ROOT/$dir.setup.log" 2>&1 || {
      cat "$CBTRADE_ROOT/$dir.setup.log" >&2
      return 1
    }
  fi
  ninja -C "$CBTRADE_ROOT/$dir" >"$CBTRADE_ROOT/$dir.ninja.log" 2>&1 || {
    tail -n 60 "$CBTRADE_ROOT/$dir.ninja.log" >&2
    return 1
  }
}

# Echoes the meson argument choosing the wolfSSL to link (docs/wolfssl.md): -Dwolfssl=accelerated
# once scripts/wolfssl-accelerated.sh has built (or finds cached) Debian's wolfSSL with AES-NI and
# x86-64 assembly; otherwise -Dwolfssl=system (Debian's libwolfssl), after that script's one warning.
cbtrade_wolfssl_args() {
  if [ "$(uname -m)" = x86_64 ] && "$CBTRADE_ROOT/scripts/wolfssl-accelerated.sh"; then
    echo -Dwolfssl=accelerated
  else
    echo -Dwolfssl=system
  fi
}

# The main build, as scripts/run.sh, scripts/test.sh and the Dockerfile make it, in two steps (an image
# layer caches the first):
# cbtrade_prepare: the build packages, and the accelerated wolfSSL cache if it can be made.
cbtrade_prepare() {
  cbtrade_install "${CBTRADE_BUILD_PACKAGES[@]}" || return 1
  cbtrade_wolfssl_args >/dev/null
}
# cbtrade_build_main DIR [meson setup args...]: DIR with the wolfSSL that cbtrade_wolfssl_args picks.
cbtrade_build_main() {
  local dir=$1
  shift
  cbtrade_build "$dir" "$(cbtrade_wolfssl_args)" "$@"
}
