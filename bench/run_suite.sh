#!/usr/bin/env bash
# The latency suite of issue 10 item 11, and its regression guard.
#
#   bench/run_suite.sh [--build-dir DIR] [--reps N] [--update] [--ratios FILE] [--share]
#
# Runs, from DIR (default build/), bench_ring_hop (the ring hop beside the cache-line ping-pong
# floor between two pinned cores) and bench_tick_to_decision (the daemon's pipeline fused and split,
# each with IDLE_POLICY spin and yield, beside the Beast + Boost.JSON + mutex/condvar baseline, over
# loopback TLS from the same in-process exchange), N passes (default 3; each pass runs both
# programs once, so the two sides of a ratio are measured close in time). Per benchmark it takes the
# best p50 of the passes (other work on the machine only ever adds to it) and the median of the
# other percentiles, and computes (bench/suite_check.py):
#   ring_hop_vs_floor_p50             ring hop p50 / ping-pong p50                 target <= 1.5
#   <ours>_vs_baseline_rx_p50, _rx_p99   tick to decision (from the bytes in user space)
#   <ours>_vs_baseline_p50, _p99      exchange send to decision                   p50 <= 1/3, p99 <= 1/5
# for <ours> in fused_spin fused_yield split_spin split_yield, and compares them with the stored
# ones (default bench/suite_ratios.json): a ratio more than 20% above its stored value is a
# regression, and so is any heap allocation on our hot threads in a measured window; either makes
# the script exit 1. A missed target is reported, not failed (the stored file is this machine's
# reference). --update writes this run's ratios as the reference (only when nothing failed).
# Each program runs in a session of its own whose autogroup is at nice -10 (Linux groups each
# session's threads for fair sharing, so a spinning thread otherwise gets only its session's share
# of its core against every other session with work, whatever its nice value). That needs root or
# CAP_SYS_NICE; without, or with --share, the programs share the machine as any session does (the
# figures then measure the machine's other work as much as the code: see README).
# Cores: BENCH_CORES="A,B"; more knobs in bench/bench_tick_to_decision.cpp's header.
# Exit: 0 no regression, 1 regression or a benchmark that failed, 2 bad usage.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
reps=3
update=0
ratios=$root/bench/suite_ratios.json
share=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir|--reps|--ratios)
      [ $# -ge 2 ] || { echo "run_suite.sh: $1 needs a value" >&2; exit 2; } ;;&
    --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --update) update=1; shift ;;
    --ratios) ratios=$2; shift 2 ;;
    --share) share=1; shift ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_suite.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$reps" =~ ^[1-9][0-9]?$ ]] || { echo "run_suite.sh: --reps wants 1..99, got '$reps'" >&2; exit 2; }
for b in bench_ring_hop bench_tick_to_decision; do
  [ -x "$build/bench/$b" ] || { echo "run_suite.sh: $build/bench/$b not built (ninja -C $build bench/$b)" >&2; exit 1; }
done

# Runs "$@" in a new session at autogroup nice -10 (see above), or as it is with --share.
run() {
  if [ "$share" = 1 ]; then "$@"; return; fi
  setsid --wait bash -c 'echo -10 > /proc/self/autogroup 2>/dev/null ||
    echo "run_suite.sh: warning: cannot raise the autogroup priority (needs CAP_SYS_NICE): sharing" >&2
    exec "$@"' run_suite "$@"
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for pass in $(seq "$reps"); do
  for b in bench_ring_hop bench_tick_to_decision; do
    echo "pass $pass/$reps: $b (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    run "$build/bench/$b" --benchmark_format=console --benchmark_out="$out/$b.$pass.json" \
      --benchmark_out_format=json >&2
  done
done
python3 "$root/bench/suite_check.py" --ratios "$ratios" --mode "$([ "$share" = 1 ] && echo share || echo priority)" \
  $([ "$update" = 1 ] && echo --update) "$out"/*.json
