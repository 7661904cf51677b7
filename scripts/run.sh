#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the daemon. cbtrade-sim starts on
# loopback (TLS with a test CA made now) replaying the shipped sample data 60 times faster than real
# time (a one-minute candle about every second), and `cbtrade live` paper-trades against it with its
# history taken from the same data. It stops after --duration seconds (default 60) or on Ctrl-C,
# stopping both, and prints the daemon's summary. Files land in out/: live.log (the daemon's
# stderr), decisions.log (DECISION_LOG) and ticks.rec (RECORD_TICKS, for `cbtrade replay`).
#
#   ./scripts/run.sh [--duration SEC] [--env-file FILE]...    (other arguments go to cbtrade live)
#   ./scripts/run.sh --backtest [ARGS]                         the backtest of data/BTC-USD.csv instead
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cbtrade_prepare
cbtrade_build_main build
BUILD="$CBTRADE_ROOT/build"
OUT="$CBTRADE_ROOT/out"
DATA="$CBTRADE_ROOT/data/BTC-USD.csv"
mkdir -p "$OUT"

if [ "${1:-}" = "--backtest" ]; then
  shift
  exec "$BUILD/cbtrade" backtest "$DATA" --json "$OUT/backtest.json" --html "$OUT/backtest.html" "$@"
fi

duration=60
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=${2:?--duration needs seconds}; shift 2 ;;
    --duration=*) duration=${1#--duration=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ $duration =~ ^[0-9]+$ ]] && [ "$duration" -gt 0 ] || { echo "run.sh: --duration needs whole seconds > 0" >&2; exit 2; }

work=$(mktemp -d)
sim_pid=""
live_pid=""
cleanup() {
  set +e
  [ -n "$live_pid" ] && kill -TERM "$live_pid" 2>/dev/null
  if [ -n "$sim_pid" ]; then
    kill -TERM "$sim_pid" 2>/dev/null && sleep 0.2
    kill -KILL "$sim_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Each run is a new paper session over the same sample data: its order journal starts empty in
# out/journal (a journal carried over from the last run would restore that run's books, and the
# printed replay, which starts from nothing, would then differ). JOURNAL_DIR set by the caller is
# used as it is, restored books and all.
if [ -z "${JOURNAL_DIR:-}" ]; then
  rm -rf "$OUT/journal"
  export JOURNAL_DIR="$OUT/journal"
fi

# The first 4000 candles are the history the model is fitted on; the simulator replays the rest,
# starting right where the history ends, so the two join.
head -n 4001 "$DATA" >"$work/history.csv"
{ head -n 1 "$DATA"; tail -n +4002 "$DATA"; } >"$work/market.csv"

# The simulator in its own process group: Ctrl-C reaches the daemon (which drains and prints its
# summary), and this script stops the simulator afterwards.
setsid "$BUILD/cbtrade-sim" --quiet --csv "$work/market.csv" --pace x60 --ca-out "$work/ca.pem" \
  >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
port=""
for _ in $(seq 100); do
  if [[ $(head -n 1 "$work/sim.out" 2>/dev/null) =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]] && [ -s "$work/ca.pem" ]; then
    port=${BASH_REMATCH[1]}
    break
  fi
  kill -0 "$sim_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { echo "run.sh: cbtrade-sim did not start: $(head -c 600 "$work/sim.err")" >&2; exit 1; }

echo "run.sh: cbtrade-sim on 127.0.0.1:$port replays data/BTC-USD.csv x60; cbtrade live paper-trades it for ${duration}s (Ctrl-C stops)" >&2
trap '' INT  # Ctrl-C is for the daemon: it stops, drains and prints its summary; this script then goes on
set +e
COINBASE_WS_URL="wss://localhost:$port" TLS_CA_FILE="$work/ca.pem" \
  IDLE_POLICY="${IDLE_POLICY:-sleep}" STATUS_INTERVAL_SEC="${STATUS_INTERVAL_SEC:-3}" \
  COINBASE_WS_STALE_SEC="${COINBASE_WS_STALE_SEC:-5}" \
  DECISION_LOG="${DECISION_LOG:-$OUT/decisions.log}" RECORD_TICKS="${RECORD_TICKS:-$OUT/ticks.rec}" \
  "$BUILD/cbtrade" live --history "$work/history.csv" --duration "$duration" "${args[@]}" 2> >(tee "$OUT/live.log" >&2) &
live_pid=$!
wait "$live_pid"
rc=$?
live_pid=""
set -e
cp "$work/history.csv" "$OUT/history.csv"
echo "run.sh: replay with: build/cbtrade replay out/ticks.rec --history out/history.csv --compare out/decisions.log" >&2
exit $rc
