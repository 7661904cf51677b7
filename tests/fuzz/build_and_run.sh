#!/usr/bin/env bash
# Builds one libFuzzer target with clang (ASan + UBSan) outside meson and runs it for a while.
#
#   tests/fuzz/build_and_run.sh [target] [seconds]     target defaults to coinbase_decoder, seconds to 30
#
# A target named T is tests/fuzz/fuzz_T.cpp; its extra sources, libraries and seed folders are listed
# in the case below (add a case for a new target). New inputs found go to build-fuzz/T-corpus, never
# into the source tree. Exits non-zero if the build fails or the fuzzer finds a crash, leak or UB
# (the reproducer is left in build-fuzz/ as crash-*/leak-*/timeout-*).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
target=coinbase_decoder
seconds=30
if [[ $# -ge 1 && ! "$1" =~ ^[0-9]+$ ]]; then target=$1; shift; fi
if [[ $# -ge 1 ]]; then seconds=$1; fi

extra_sources=()
libs=()
seeds=()
fuzz_args=()
case "$target" in
  coinbase_decoder)
    extra_sources=(feeds/coinbase_decoder.cpp core/decimal.cpp core/rfc3339.cpp)
    libs=(-lsimdjson)
    seeds=(tests/data/coinbase/pass tests/data/coinbase/fail)
    fuzz_args=(-dict="$root/tests/fuzz/coinbase_decoder.dict" -max_len=16384)
    ;;
  ws_frame)
    # WebSocket client layer (frame parser, session, handshake). Byte 0 of an input caps messages at
    # 4 KiB, so longer inputs reach nothing new.
    extra_sources=(feeds/ws_frame.cpp feeds/ws_handshake.cpp feeds/ws_session.cpp core/base64.cpp core/random.cpp)
    seeds=(tests/fuzz/corpus/ws_frame)
    fuzz_args=(-max_len=8192)
    ;;
  *)
    echo "build_and_run.sh: unknown target '$target' (add a case for tests/fuzz/fuzz_$target.cpp)" >&2
    exit 2
    ;;
esac

out=${FUZZ_BUILD_DIR:-$root/build-fuzz}
mkdir -p "$out/$target-corpus"
binary="$out/fuzz_$target"
cd "$root"
# -march=native: simdjson picks its kernel at compile time, so fuzz the same one the daemon uses.
clang++ -std=c++20 -g -O1 -march=native -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$root" "tests/fuzz/fuzz_$target.cpp" "${extra_sources[@]}" "${libs[@]}" -o "$binary"

seed_dirs=()
for s in "${seeds[@]}"; do seed_dirs+=("$root/$s"); done
cd "$out"
echo "fuzzing $target for ${seconds}s" >&2
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${fuzz_args[@]}" \
  "$out/$target-corpus" "${seed_dirs[@]}"
