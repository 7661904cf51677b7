#!/usr/bin/env bash
# Builds one libFuzzer target through meson and runs it for a while.
#
#   tests/fuzz/run.sh NAME [SECONDS]      NAME as listed in tests/fuzz/meson.build; SECONDS defaults to 30
#   FUZZ_RUNS=N tests/fuzz/run.sh NAME 0  a long run: stops after N executions (SECONDS 0: no time limit),
#                                         as docs/fuzzing.md records them
#
# The fuzz build directory (FUZZ_BUILD_DIR, default build-fuzz/ at the source root) is configured with
# clang and -Dfuzz=true on first use; the target's libFuzzer flags and seed folders come from the file
# that build writes next to it (tests/fuzz/fuzz_NAME.args), so meson.build is the one list of them.
# New inputs go to build-fuzz/NAME-corpus and reproducers to build-fuzz/NAME-crash-* (or -leak-*,
# -timeout-*, -oom-*), never into the source tree.
# Exit 0 if the run found nothing; 1 if the build failed or the fuzzer found a crash, leak, UB,
# timeout or out-of-memory; 77 (meson's skip) if clang is not installed.
# Under meson test, BUILD_ROOT (the calling build) supplies the wolfSSL choice; by hand it is the one
# scripts/run.sh would use.
set -uo pipefail

root=${SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
if [ $# -lt 1 ] || [ $# -gt 2 ] || [[ ! "${2:-30}" =~ ^[0-9]+$ ]]; then
  echo "usage: tests/fuzz/run.sh NAME [SECONDS]" >&2
  exit 2
fi
name=$1
seconds=${2:-30}
runs=${FUZZ_RUNS:-}
if [ -n "$runs" ] && [[ ! "$runs" =~ ^[0-9]+$ ]]; then
  echo "run.sh: FUZZ_RUNS must be a number of executions" >&2
  exit 2
fi
if [ ! -f "$root/tests/fuzz/fuzz_$name.cpp" ]; then
  echo "run.sh: no fuzz target '$name' (tests/fuzz/fuzz_$name.cpp does not exist)" >&2
  exit 2
fi
for tool in clang++ meson ninja; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool not found (apt-get install clang libclang-rt-14-dev meson ninja-build)"
    exit 77
  fi
done

out=${FUZZ_BUILD_DIR:-$root/build-fuzz}
mkdir -p "$out"
out=$(cd "$out" && pwd)

wolfssl=
if [ -f "$out/build.ninja" ]; then
  :  # configured already
elif [ -n "${BUILD_ROOT:-}" ]; then
  wolfssl=$(meson introspect "$BUILD_ROOT" --buildoptions |
    python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "wolfssl"))')
fi
if [ ! -f "$out/build.ninja" ] && [ -z "$wolfssl" ]; then
  source "$root/scripts/setup.sh"
  wolfssl=$(cbtrade_wolfssl_args)
  wolfssl=${wolfssl#-Dwolfssl=}
fi

# Configure and build under a lock: several runs may share the build directory.
{
  flock 9
  if [ ! -f "$out/build.ninja" ]; then
    echo "configuring $out (clang, -Dfuzz=true, -Dwolfssl=$wolfssl)" >&2
    if ! CXX=clang++ meson setup "$out" "$root" -Dfuzz=true -Dbuildtype=debugoptimized -Dwolfssl="$wolfssl" \
      >"$out.setup.log" 2>&1; then
      cat "$out.setup.log" >&2
      rm -f "$out/build.ninja"
      exit 1
    fi
  fi
  if ! ninja -C "$out" "tests/fuzz/fuzz_$name" >"$out/fuzz_$name.ninja.log" 2>&1; then
    tail -n 60 "$out/fuzz_$name.ninja.log" >&2
    echo "run.sh: building fuzz_$name failed (is it listed in tests/fuzz/meson.build?)" >&2
    exit 1
  fi
} 9>"$out/.run.lock"

# Flags first, then seed folders (the .args file keeps that order); libFuzzer writes new inputs into the
# first folder it is given, so that is the build directory's corpus, never a seed folder.
mapfile -t target_args < <(grep -v '^$' "$out/tests/fuzz/fuzz_$name.args")
flags=() seeds=()
for a in "${target_args[@]}"; do
  if [[ "$a" == -* ]]; then flags+=("$a"); else seeds+=("$a"); fi
done
mkdir -p "$out/$name-corpus"
# Seeds that must not be committed (private keys) are made at run time by tests/fuzz/seeds_NAME.sh.
if [ -x "$root/tests/fuzz/seeds_$name.sh" ]; then
  rm -rf "$out/$name-seeds"
  "$root/tests/fuzz/seeds_$name.sh" "$out/$name-seeds" || { echo "run.sh: seeds_$name.sh failed" >&2; exit 1; }
  seeds+=("$out/$name-seeds")
fi
if [ -n "$runs" ]; then
  flags+=("-runs=$runs")
  echo "fuzzing $name for $runs executions (time limit: ${seconds}s, 0 = none)" >&2
else
  echo "fuzzing $name for ${seconds}s" >&2
fi
# libFuzzer's own exit codes for a finding are 77 (meson's skip) and 70: make every finding exit 1.
"$out/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$out/$name-" \
  "${flags[@]}" "$out/$name-corpus" "${seeds[@]}"
rc=$?
if [ $rc -ne 0 ]; then
  echo "run.sh: fuzz_$name exited $rc: a finding (reproducer in $out/$name-*) or a failure to start" >&2
  exit 1
fi
