#!/usr/bin/env bash
# The Dockerfile really builds and runs: podman builds the image from the source tree on a local
# Debian 12 base, then `cbtrade --version` and a backtest of the shipped sample data run inside it.
# The version line must name the wolfSSL build, the backtest must print this build's report (the
# speed line aside), and the image must not run cbtrade as root.
#
# No image registry is used. The base `debian:12` is the one in podman's store when it is Debian 12
# with the apt suites of Debian's own image (bookworm, -updates, -security); otherwise it is imported from a root tarball made once with debootstrap from Debian's mirror and
# kept in CBTRADE_CACHE_DIR (default /var/cache/cbtrade; the build directory where that cannot be
# made), reused while its checksum holds. podman runs with a private containers.conf written into
# the build directory: runc, and open-file/process limits a sandbox can grant.
# The image layer with the packages and the wolfSSL build stays cached in podman's store while
# scripts/setup.sh and scripts/wolfssl-accelerated.sh do not change; then only cbtrade is compiled.
# Exit 0 pass, 1 fail, 77 skip (podman missing or unable to run a container here, or no Debian 12
# base can be made; the reason is printed).
# Env: CBTRADE, SOURCE_ROOT, BUILD_ROOT (set by meson); CBTRADE_CACHE_DIR optional.
source "$(dirname "$0")/lib.sh"
: "${CBTRADE:?}" "${SOURCE_ROOT:?}" "${BUILD_ROOT:?}"
BASE_IMAGE=localhost/debian:12 # what `podman import ... debian:12` names; the Dockerfile's FROM finds it
IMAGE=localhost/cbtrade-test:latest
MIRROR=http://deb.debian.org/debian

skip() {
  echo "SKIP: $*"
  exit 77
}
command -v podman >/dev/null || skip "podman not found (apt-get install podman runc)"
command -v runc >/dev/null || skip "runc not found (apt-get install runc)"

export CONTAINERS_CONF=$BUILD_ROOT/containers.conf
cat >"$CONTAINERS_CONF" <<'EOF'
# Written by tests/integration/container_image.sh for its own podman runs.
[containers]
# podman's default (1048576 open files) is more than a sandboxed machine may grant a container.
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
# crun cannot set up containers in some sandboxes where runc can.
runtime = "runc"
EOF

# One run at a time on this machine: an image build keeps both cores busy for minutes, and the test
# image tag, the base image and the cache are shared between checkouts.
exec 8>"${TMPDIR:-/tmp}/cbtrade-container-image.lock"
flock 8

podman info >"$SCRATCH/info.log" 2>&1 || skip "podman does not work here: $(tail -n 3 "$SCRATCH/info.log" | head -c 400)"

# base_state IMAGE: the Debian version inside IMAGE, with " +security" when its apt sources have the
# security suite (empty if it does not run); also the probe that podman can run a container at all.
base_state() {
  podman run --rm --network=none --entrypoint sh "$1" -c 'v=$(cat /etc/debian_version) || exit 1
    if grep -qs bookworm-security /etc/apt/sources.list.d/debian.sources; then echo "$v +security"; else echo "$v"; fi' \
    2>"$SCRATCH/run.err"
}
good_base() { [[ $1 == 12.*" +security" ]]; }

# 1. The base image.
cache=${CBTRADE_CACHE_DIR:-/var/cache/cbtrade}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then cache=$BUILD_ROOT; fi
tarball=$cache/debian-12-minbase-$(uname -m).tar.gz

tarball_valid() {
  [ -f "$tarball" ] && [ -f "$tarball.sha256" ] && (cd "$cache" && sha256sum --status -c "$tarball.sha256") &&
    tar -xzOf "$tarball" ./etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -q bookworm-security
}
if podman image exists "$BASE_IMAGE"; then
  version=$(base_state "$BASE_IMAGE")
  if [ -z "$version" ]; then
    skip "podman cannot run a container here: $(head -c 400 "$SCRATCH/run.err")"
  fi
  good_base "$version" ||
    echo "$BASE_IMAGE in podman's store is Debian '$version', not 12 with the security suite: importing a new base"
fi
if ! good_base "${version:-}"; then
  if tarball_valid; then
    echo "Debian 12 base from $tarball"
  else
    command -v debootstrap >/dev/null || skip "no Debian 12 base and no debootstrap to make one (apt-get install debootstrap)"
    echo "making the Debian 12 base with debootstrap from $MIRROR into $tarball (once)"
    rm -f "$tarball" "$tarball.sha256"
    if ! debootstrap --variant=minbase bookworm "$SCRATCH/rootfs" "$MIRROR" >"$SCRATCH/debootstrap.log" 2>&1; then
      tail -n 5 "$SCRATCH/debootstrap.log"
      skip "debootstrap of Debian 12 from $MIRROR failed (no root, or no network to the mirror)"
    fi
    # The apt suites of Debian's own debian:12 image: debootstrap's sources.list has bookworm alone,
    # so the image would miss security updates (wolfSSL's among them). No package files or lists.
    rm -rf "$SCRATCH/rootfs/etc/apt/sources.list" "$SCRATCH/rootfs/var/lib/apt/lists/"* \
      "$SCRATCH/rootfs/var/cache/apt/archives/"*.deb
    cat >"$SCRATCH/rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR}-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # Written under a temporary name and checksummed last: an interrupted run leaves no valid tarball.
    tar -C "$SCRATCH/rootfs" --numeric-owner -czf "$tarball.part" . &&
      mv "$tarball.part" "$tarball" &&
      (cd "$cache" && sha256sum "$(basename "$tarball")" >"$tarball.sha256") ||
      {
        fail "could not write $tarball"
        finish
      }
  fi
  podman import "$tarball" "$BASE_IMAGE" >/dev/null 2>"$SCRATCH/import.err" ||
    {
      fail "podman import $tarball failed: $(head -c 400 "$SCRATCH/import.err")"
      finish
    }
  version=$(base_state "$BASE_IMAGE")
  [ -n "$version" ] || skip "podman cannot run a container here: $(head -c 400 "$SCRATCH/run.err")"
  good_base "$version" || {
    fail "the imported base is Debian '$version', not 12 with the security suite"
    finish
  }
fi
echo "base $BASE_IMAGE: Debian $version"

# 2. The image, from the source tree as it is (.dockerignore leaves out builds, .deps and secrets).
old_id=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)
containers_before=$(podman ps -a --external -q --no-trunc | sort)
log=$BUILD_ROOT/container_image.build.log
echo "podman build (log: $log)"
start=$SECONDS
# --network=host: the package and source downloads reach Debian's mirror without a bridge or NAT
# (which sandboxes often forbid). In the background, so that a timeout (meson's SIGTERM) can stop it:
# an interrupted build leaves its working containers in the store, removed here.
podman build --pull=never --network=host --layers --force-rm -t "$IMAGE" -f "$SOURCE_ROOT/Dockerfile" \
  "$SOURCE_ROOT" >"$log" 2>&1 &
build_pid=$!
stop_build() {
  kill -INT "$build_pid" 2>/dev/null
  wait "$build_pid"
  comm -13 <(echo "$containers_before") <(podman ps -a --external -q --no-trunc | sort) |
    xargs -r podman rm -f >/dev/null 2>&1
  echo "interrupted: podman build stopped and its working containers removed"
  exit 1
}
trap stop_build TERM INT
if ! wait "$build_pid"; then
  tail -n 40 "$log"
  fail "podman build failed"
  finish
fi
trap - TERM INT
new_id=$(podman image inspect --format '{{.Id}}' "$IMAGE")
# The previous test image goes (its own layers only; the cached package layer is the new one's too),
# or each source change would leave one behind.
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then podman rmi "$old_id" >/dev/null 2>&1; fi
cached=$(grep -c -- '--> Using cache' "$log")
echo "built in $((SECONDS - start)) s ($cached steps from cache); $(podman image inspect --format '{{.Size}}' "$new_id" |
  awk '{printf "%.0f MB", $1 / 1e6}')"
grep -m 3 'cbtrade-setup' "$log"

# 3. cbtrade inside it.
expect_exit 0 "cbtrade --version in the image" -- podman run --rm --network=none "$new_id" --version
cat "$SCRATCH/out"
expect_grep "$SCRATCH/out" '^cbtrade [0-9]+\.[0-9]+\.[0-9]+$' "version line"
expect_grep "$SCRATCH/out" '^wolfSSL 5\.5\.4 \((accelerated|system);' "linked wolfSSL build"

expect_exit 0 "backtest in the image" -- podman run --rm --network=none "$new_id" backtest /src/data/BTC-USD.csv
grep -v 'replay speed' "$SCRATCH/out" >"$SCRATCH/image.report"
expect_grep "$SCRATCH/image.report" '^  trades +[0-9]+ round trips' "backtest report"
"$CBTRADE" backtest "$SOURCE_ROOT/data/BTC-USD.csv" 2>/dev/null | grep -v 'replay speed' >"$SCRATCH/host.report"
if ! cmp -s "$SCRATCH/image.report" "$SCRATCH/host.report"; then
  fail "the image's backtest report differs from this build's: $(diff "$SCRATCH/host.report" "$SCRATCH/image.report" | head -c 600)"
fi

expect_exit 0 "id -u in the image" -- podman run --rm --network=none --entrypoint id "$new_id" -u
[ "$(cat "$SCRATCH/out")" != 0 ] || fail "the image runs cbtrade as root"
finish
