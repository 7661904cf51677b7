#!/usr/bin/env bash
# cbtrade live without --history against cbtrade-sim (issue 12 item 4): the warm-up comes from the
# sim's public REST candles, and the live candles built from its trades continue it with no gap and
# no duplicate. The sim serves the CSV's rows on REST and replays its trades on the WebSocket from
# --feed-from (5 candles before the exchange's "now", which its clock offset puts inside row K): the
# daemon loads the closed candles before row K, skips the trades of candles it already has, and its
# first live candle is row K (its first decision at row K's close). Too few candles and a failing
# candles endpoint: it runs without trading and says why. Every wait is bounded.
source "$(dirname "$0")/lib.sh"
SIM=${CBTRADE_SIM:-${BUILD_ROOT:-}/cbtrade-sim}
[ -x "$SIM" ] || { echo "SKIP: cbtrade-sim not found at '$SIM'"; exit 77; }
[ -x "$CBTRADE" ] || { echo "SKIP: cbtrade not found at '$CBTRADE'"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }

kill_pids_on_exit
cd "$SCRATCH"
skip_without_io_uring "$CBTRADE"

DATA="$SOURCE_ROOT/data/BTC-USD.csv"
row_time() { sed -n "$(($1 + 2))p" "$DATA" | cut -d, -f1; }  # row K (0-based) of the CSV

# run_case NAME K [SIM_ARGS...]: the sim's clock 30 s into row K, its feed from row K-5; the daemon
# for 12 s without --history (paper). Leaves NAME.err, NAME.out, NAME.log.
run_case() {
  local name=$1 k=$2
  shift 2
  local tk offset
  tk=$(row_time "$k")
  offset=$((tk + 30 - $(date +%s)))
  "$SIM" --quiet --ca-out "$name.ca.pem" --csv "$DATA" --feed-from $((tk - 300)) --pace x120 \
    --clock-offset-sec "$offset" "$@" >"$name.sim.out" 2>"$name.sim.err" &
  local sim_pid=$!
  PIDS+=("$sim_pid")
  local port=""
  for _ in $(seq 100); do
    if [[ $(head -n 1 "$name.sim.out" 2>/dev/null) =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]] && [ -s "$name.ca.pem" ]; then
      port=${BASH_REMATCH[1]}
      break
    fi
    sleep 0.1
  done
  [ -n "$port" ] || { fail "$name: simulator did not start: $(head -c 600 "$name.sim.err")"; return 1; }
  COINBASE_WS_URL="wss://localhost:$port" COINBASE_API_BASE="https://localhost:$port/api/v3/brokerage" \
    TLS_CA_FILE="$name.ca.pem" PORT=$(free_port) IDLE_POLICY=sleep STATUS_INTERVAL_SEC=0 DECISION_LOG="$name.log" JOURNAL_DIR="$name.journal" \
    timeout 60 "$CBTRADE" live --duration 12 >"$name.out" 2>"$name.err"
  local rc=$?
  kill -TERM "$sim_pid" 2>/dev/null
  wait "$sim_pid" 2>/dev/null
  [ "$rc" = 0 ] || fail "$name: exit $rc: $(tail -c 600 "$name.err")"
  TK=$tk
}

# 1. 600 rows before row K: a history of 600 candles (the model window asks for 1490; the sim has
#    no more), ending where row K starts; the first live candle is row K.
K=600
if run_case seam $K; then
  first=$(row_time $((K - 600)))
  last=$(row_time $((K - 1)))
  iso() { python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1]), datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))" "$1"; }
  expect_grep seam.err "history Coinbase REST \\(localhost\\) candles: 600 candles $(iso "$first") \\.\\. $(iso "$last"); baseline model fitted on the last 600 .*; live candles from $(iso "$TK")" \
    "seam: the warm-up stated"
  expect_grep seam.err 'history joins the live data; trading' "seam: trading after the join"
  grep -q 'NOT TRADING' seam.err && fail "seam: not trading: $(grep 'NOT TRADING' seam.err)"
  # The first decision is at row K's close: no candle of the history was built again from trades
  # (that would decide at row K-1's close or earlier), none was left out (a flat fill decides first).
  first_decision=$(grep -m1 '"type":"decision"' seam.log | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["time"])')
  [ "$first_decision" = $((TK + 60)) ] || fail "seam: first decision at $first_decision, want $((TK + 60)) (row K's close)"
  # And the live candles are the CSV's rows: each decision's price is its row's close.
  python3 - "$DATA" seam.log <<'EOF' || fail "seam: live candles differ from the CSV rows"
import csv, json, sys
rows = {int(r["time"]): float(r["close"]) for r in csv.DictReader(open(sys.argv[1]))}
n = 0
for line in open(sys.argv[2]):
    d = json.loads(line)
    if d.get("type") != "decision":
        continue
    want = rows[d["time"] - 60]
    if abs(d["price"] - want) > 1e-6:
        print(f"decision at {d['time']}: price {d['price']}, row close {want}")
        sys.exit(1)
    n += 1
print(f"seam: {n} live decisions, prices = the CSV closes")
sys.exit(0 if n >= 3 else 1)
EOF
fi

# 2. Only 100 rows before row K: too few; runs, does not trade, says why.
if run_case few 100; then
  expect_grep few.err 'NOT TRADING: history Coinbase REST \(localhost\) candles has 100 candles, need at least 300' "few: the reason"
fi

# 3. The candles endpoint fails: runs, does not trade, says why.
if run_case broken 600 --rest-fault candles:500:20; then
  expect_grep broken.err "NOT TRADING: no history: no --history FILE \\(or HISTORY_FILE\\), and the warm-up from the exchange's REST candles failed: .*500" "broken: the reason"
fi

finish
