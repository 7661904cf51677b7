#!/usr/bin/env bash
# Builds the wolfSSL that Debian 12 ships (5.5.4, Debian's patches, Debian's configure flags) with
# AES-NI and the x86-64 assembly on top, as a static library in .deps/wolfssl-5.5.4-accel/.
# Debian's own build has no hardware acceleration (AES-GCM ~16x, ECDSA P-256 sign ~4x slower).
#
# The source comes from Debian's mirrors through `apt-get source`, with a temporary sources list
# (deb-src lines for the suites the machine already uses) and temporary lists/cache dirs, so the
# machine's apt configuration and state are left as they were. Build tools (autoconf, automake,
# libtool, dpkg-dev) are installed if missing.
#
# Exit 0 when the cache is ready (a stamp makes reruns instant). Otherwise one warning line on
# stderr, the details in .deps/wolfssl-5.5.4-accel.log, and exit 1: callers then use -Dwolfssl=system.
# Usage: scripts/wolfssl-accelerated.sh [--force]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
upstream_version=5.5.4
prefix=$root/.deps/wolfssl-$upstream_version-accel
log=$root/.deps/wolfssl-$upstream_version-accel.log
stamp=$prefix/.cbtrade-stamp

# What we add to Debian's flags. Static: linked into our binaries, which then never pick up the
# system's unaccelerated libwolfssl.so at run time (--enable-distro forces a shared build as well;
# the shared library is removed from the cache after installation).
extra_flags=(--enable-aesni --enable-intelasm --enable-sp --enable-sp-asm
  --enable-static --disable-shared --with-pic --disable-dependency-tracking)
# The stamp records what was built; changing this script's flags rebuilds.
# LARGE_STATIC_BUFFERS: each TLS session keeps a record-sized input buffer instead of malloc'ing
# and freeing one per received record (the feed's hot path must not allocate). It goes through
# CPPFLAGS so that configure writes it into options.h, which our code includes.
extra_defines=(-DLARGE_STATIC_BUFFERS)
stamp_text="wolfssl $upstream_version debian-source ${extra_flags[*]} ${extra_defines[*]} v2"

warn() { printf 'cbtrade-setup: WARNING: %s\n' "$*" >&2; }
fail() {
  warn "accelerated wolfSSL not built: $*; falling back to Debian's libwolfssl (-Dwolfssl=system); log: $log"
  exit 1
}

if [ "${1:-}" != --force ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ]; then
  exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
  fail "AES-NI and the x86-64 assembly need an x86-64 machine, this is $(uname -m)"
fi

mkdir -p "$root/.deps"
: >"$log"
exec 3>&2 >>"$log" 2>&1   # fd 3 keeps stderr for the single warning line; stdout stays clean
warn() { printf 'cbtrade-setup: WARNING: %s\n' "$*" >&3; }
say() { printf '== %s\n' "$*" >>"$log"; }
trap 'fail "unexpected error at line $LINENO"' ERR

sudo=()
if [ "$(id -u)" != 0 ]; then sudo=(sudo -n); fi

# --- build tools ---------------------------------------------------------------------------------
missing=()
for p in autoconf automake libtool dpkg-dev make gcc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  { "${sudo[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >>"$log" 2>&1 || fail "could not install ${missing[*]}"
fi

# --- temporary apt configuration with deb-src lines ----------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/cbtrade-wolfssl.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sources.list.d" "$work/lists/partial" "$work/cache/archives/partial" "$work/src"

# One-line format (sources.list and *.list): each enabled "deb" line becomes "deb-src".
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] || continue
  sed -n -E 's/^[[:space:]]*deb(-src)?([[:space:]])/deb-src\2/p' "$f"
done | sort -u >"$work/sources.list"
# deb822 format (*.sources): same stanzas (URIs, Suites, Components, Signed-By, Enabled) as deb-src.
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  sed -E 's/^Types:.*/Types: deb-src/I' "$f" >"$work/sources.list.d/$(basename "$f")"
done
if [ ! -s "$work/sources.list" ] && [ -z "$(ls -A "$work/sources.list.d")" ]; then
  fail "no apt sources found in /etc/apt"
fi
say "temporary apt sources:"
cat "$work/sources.list" "$work/sources.list.d"/* >>"$log" 2>/dev/null || true

apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=$work/sources.list.d"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Dir::Cache::Archives=$work/cache/archives"
  -o "APT::Sandbox::User=root" -o "Acquire::Languages=none")

say "apt-get update (temporary lists)"
# apt-get update exits 0 when mirrors are unreachable: check that source indexes arrived.
apt-get "${apt_opts[@]}" update >>"$log" 2>&1 || true
compgen -G "$work/lists/*_Sources*" >/dev/null ||
  fail "could not download Debian's source indexes (no network to the mirror?)"

# Prefer the exact Debian revision the machine has installed (e.g. 5.5.4-2+deb12u3).
installed=$(dpkg-query -W -f='${Version}' libwolfssl-dev 2>/dev/null || true)
fetched=false
if [ -n "$installed" ]; then
  say "apt-get source wolfssl=$installed"
  (cd "$work/src" && apt-get "${apt_opts[@]}" source "wolfssl=$installed") >>"$log" 2>&1 && fetched=true
fi
if [ $fetched = false ]; then
  rm -rf "${work:?}/src"/*
  say "apt-get source wolfssl"
  (cd "$work/src" && apt-get "${apt_opts[@]}" source wolfssl) >>"$log" 2>&1 || fail "apt-get source wolfssl failed"
fi
srcdir=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'wolfssl-*' | head -n 1)
[ -n "$srcdir" ] || fail "apt-get source left no wolfssl-* directory"
[ "$(basename "$srcdir")" = "wolfssl-$upstream_version" ] ||
  fail "Debian's source is $(basename "$srcdir"), expected wolfssl-$upstream_version"
debian_version=$(cd "$srcdir" && dpkg-parsechangelog -S Version)
say "source: $srcdir (Debian $debian_version)"
printf 'cbtrade-setup: building wolfSSL %s with AES-NI from its Debian source (%s), once (a few minutes; log: %s)\n' \
  "$upstream_version" "$debian_version" "$log" >&3

# --- Debian's configure flags, read from debian/rules ----------------------------------------------
# debian/rules passes them as `dh_auto_configure -- <flags>` (possibly continued with backslashes).
debian_flags=$(awk '
  /^[[:space:]]+dh_auto_configure([[:space:]]|$)/ { on = 1 }
  on { line = $0; cont = sub(/\\[[:space:]]*$/, "", line); print line; if (!cont) on = 0 }
' "$srcdir/debian/rules" | sed -E 's/.*dh_auto_configure[^-]*--[[:space:]]*//' | tr -s ' \t\n' ' ')
say "Debian's configure flags: $debian_flags"
[ -n "$debian_flags" ] || fail "could not read Debian's configure flags from debian/rules"
read -r -a debian_flag_array <<<"$debian_flags"

# Debian's compiler flags (hardening, -O2) as its build would use them.
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"

# --- configure, build, install ---------------------------------------------------------------------
# Installed into a staging copy and swapped in at the end, so builds linking the current cache never
# see a half-written one.
stage=$prefix.tmp
say "autoreconf"
(cd "$srcdir" && autoreconf -fi) >>"$log" 2>&1 || fail "autoreconf failed"
say "configure ${debian_flag_array[*]} ${extra_flags[*]} --prefix=$prefix"
(cd "$srcdir" && ./configure --prefix="$prefix" "${debian_flag_array[@]}" "${extra_flags[@]}" \
  "CPPFLAGS=${CPPFLAGS:-} ${extra_defines[*]}") >>"$log" 2>&1 ||
  fail "configure failed"
say "make -j2"
make -C "$srcdir" -j2 >>"$log" 2>&1 || fail "make failed"
make -C "$srcdir" install DESTDIR="$work/destdir" >>"$log" 2>&1 || fail "make install failed"
rm -rf "$stage"
cp -a "$work/destdir$prefix" "$stage"
rm -f "$stage"/lib/libwolfssl.so* "$stage"/lib/libwolfssl.la
# The distro build does not install the generated options.h (it is per-architecture); Debian's
# libwolfssl-dev.install copies it from the build tree, and so do we: it must match this library,
# or structures such as Aes (which grows with WOLFSSL_AESNI) silently disagree in size.
install -m 644 "$srcdir/wolfssl/options.h" "$stage/include/wolfssl/options.h"
install -m 644 "$srcdir/cyassl/options.h" "$stage/include/cyassl/options.h"

# What we promised is in the options.h that goes with the library.
for d in WOLFSSL_AESNI WOLFSSL_SP_X86_64_ASM WOLFSSL_TLS13 HAVE_SNI HAVE_ALPN HAVE_ECC HAVE_ED25519 LARGE_STATIC_BUFFERS; do
  grep -q "#define $d\$" "$stage/include/wolfssl/options.h" || fail "built options.h lacks $d"
done
# Only additions to Debian's feature set: every define of Debian's own options.h must be kept.
if [ -f /usr/include/wolfssl/options.h ]; then
  lost=$(comm -23 <(grep '^#define' /usr/include/wolfssl/options.h | sort -u) \
    <(grep '^#define' "$stage/include/wolfssl/options.h" | sort -u) | tr '\n' ' ')
  [ -z "$lost" ] || fail "the build lost features of Debian's: $lost"
fi
[ -f "$stage/lib/libwolfssl.a" ] || fail "no static libwolfssl.a was installed"
printf 'debian_version=%s\nconfigure=%s %s\n' "$debian_version" "$debian_flags" "${extra_flags[*]}" \
  >"$stage/BUILD-INFO"
printf '%s\n' "$stamp_text" >"$stage/$(basename "$stamp")"

rm -rf "$prefix.old"
if [ -d "$prefix" ]; then mv "$prefix" "$prefix.old"; fi
mv "$stage" "$prefix"
rm -rf "$prefix.old"
say "done: $prefix"
