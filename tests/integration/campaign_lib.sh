# Shared by scripts/fault_campaign.sh and scripts/kill_campaign.sh (issue 13 items 3 and 4): cbtrade
# live with DRY_RUN=false against cbtrade-sim trading often, a key made here, the daemon started and
# restarted on one JOURNAL_DIR, and the end-of-campaign checks against the sim's ledger. Sourced after
# tests/integration/lib.sh (SCRATCH, fail, wait_for, free_port, start_sim_process, make_api_key).
# Needs ROOT and SOURCE_ROOT (the checkout); works in the current directory.

# campaign_start NAME COUNT_OPTION DEFAULT HELP_LAST_LINE ARGS...: the command line both campaigns
# take (COUNT_OPTION N, --seed S, --pace xN, --build DIR, --keep DIR; --help prints the script's
# comment up to HELP_LAST_LINE), the tools found (exit 77 without them), and the working directory
# entered (--keep DIR or the scratch directory). Sets COUNT, SEED, PACE, CBTRADE, SIM.
campaign_start() {
  local name=$1 count_option=$2 help_last=$4 build="$ROOT/build" keep=""
  COUNT=$3
  SEED=""
  PACE=x600
  shift 4
  while [ $# -gt 0 ]; do
    case "$1" in
      "$count_option") COUNT=${2:?$count_option needs a number}; shift 2 ;;
      --seed) SEED=${2:?--seed needs a number}; shift 2 ;;
      --pace) PACE=${2:?--pace needs xN}; shift 2 ;;
      --build) build=${2:?--build needs a directory}; shift 2 ;;
      --keep) keep=${2:?--keep needs a directory}; shift 2 ;;
      -h | --help) sed -n "2,${help_last}p" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) echo "$name: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
  done
  [[ $COUNT =~ ^[0-9]+$ ]] && [ "$COUNT" -ge 1 ] && [ "$COUNT" -le 100000 ] ||
    { echo "$name: $count_option wants 1..100000, not '$COUNT'" >&2; exit 2; }
  [ -z "$SEED" ] && SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
  [[ $SEED =~ ^[0-9]+$ ]] || { echo "$name: --seed wants a non-negative integer, not '$SEED'" >&2; exit 2; }
  CBTRADE=${CBTRADE:-$build/cbtrade}
  SIM=${CBTRADE_SIM:-$build/cbtrade-sim}
  local tool
  for tool in "$CBTRADE" "$SIM"; do
    [ -x "$tool" ] || { echo "SKIP: $tool not found (build it, or pass --build DIR)"; exit 77; }
  done
  for tool in python3 openssl curl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not found"; exit 77; }
  done
  kill_pids_on_exit
  if [ -n "$keep" ]; then
    mkdir -p "$keep" && cd "$keep" || exit 2
    rm -rf journal run-*.* sim.state schedule.txt journal.txt
  else
    cd "$SCRATCH" || exit 2
  fi
  skip_without_io_uring "$CBTRADE"
}

# campaign_setup PACE [SIM_ARGS...]: key, market files, the sim (SIM_PID, PORT). Returns 1 on failure.
campaign_setup() {
  local pace=$1
  shift
  local data="$SOURCE_ROOT/data/BTC-USD.csv"
  head -n 1001 "$data" >history.csv
  { head -n 1; tail -n +1002; } <"$data" >market.csv
  KEY_ID=3f2a9c4e-0000-4000-8000-0000000ca3a1
  local b64
  b64=$(make_api_key campaign)
  [ ${#b64} -gt 40 ] || { fail "key generation failed"; return 1; }
  printf '{"id":"%s","privateKey":"%s"}\n' "$KEY_ID" "$b64" >key.json
  start_sim_process campaign --csv market.csv --loop --pace "$pace" --api-key "$KEY_ID=campaign.pub" "$@"
}

# The strategy trades often (thresholds around pUp 0.5, tight exits; the daily-loss breaker at 50% so
# that fees do not stop the trading for the rest of a market day); the feed is stale after 2 s of
# silence so that a stall of a few seconds makes a stale window. Extra settings come from the caller's
# environment (CAMPAIGN_ENV, "KEY=VALUE ..."), e.g. CBTRADE_TEST_CRASH for the kill campaign.
RUN_INDEX=0
# fresh_history: history.csv is the 1000 candles of the sample data before the sim's market time (a
# restarted daemon needs history that ends near the first live trade; the market moves on while it
# starts, so HISTORY_MAX_GAP_CANDLES below lets a few hundred candles be filled flat).
fresh_history() {
  local t
  t=$(curl -sf -m 5 --cacert campaign.ca.pem "https://localhost:$PORT/sim/state" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["market_time_s"])' 2>/dev/null)
  [ -n "$t" ] && [ "$t" -gt 0 ] || return 0  # no quote sent yet: the first history stands
  python3 - "$SOURCE_ROOT/data/BTC-USD.csv" "$t" >history.csv.tmp <<'EOF' && mv history.csv.tmp history.csv
import sys
lines = open(sys.argv[1]).read().splitlines()
t = int(sys.argv[2])
rows = [l for l in lines[1:] if int(l.split(",")[0]) < t - t % 60]
print("\n".join([lines[0]] + rows[-1000:]))
EOF
}

# start_daemon: `cbtrade live` in the background on journal/ (LIVE_PID, METRICS, run-N.out/err).
start_daemon() {
  fresh_history
  RUN_INDEX=$((RUN_INDEX + 1))
  local mport
  mport=$(free_port)
  METRICS="http://127.0.0.1:$mport/metrics"
  RUN_NAME="run-$RUN_INDEX"
  # shellcheck disable=SC2086
  env COINBASE_WS_URL="wss://localhost:$PORT" COINBASE_API_BASE="https://localhost:$PORT/api/v3/brokerage" \
    TLS_CA_FILE=campaign.ca.pem COINBASE_API_PRIVATE_KEY_FILE=key.json DRY_RUN=false PORT="$mport" \
    IDLE_POLICY=sleep STATUS_INTERVAL_SEC=1 JOURNAL_DIR=journal COINBASE_WS_STALE_SEC=2 \
    BUY_THRESHOLD=0.49 SELL_THRESHOLD=0.5 STOP_LOSS_PCT=0.05 TAKE_PROFIT_PCT=0.05 MAX_DAILY_LOSS_PCT=50 \
    HISTORY_MAX_GAP_CANDLES=600 \
    ${CAMPAIGN_ENV:-} "$CBTRADE" live --history history.csv --duration 3600 ${CAMPAIGN_LIVE_ARGS:-} \
    >"$RUN_NAME.out" 2>"$RUN_NAME.err" &
  LIVE_PID=$!
  PIDS+=("$LIVE_PID")
}

# scrape_metrics: the current run's /metrics into RUN_NAME.metrics (kept from the last good scrape).
scrape_metrics() {
  curl -sf -m 2 "$METRICS" >"$RUN_NAME.metrics.tmp" 2>/dev/null && mv "$RUN_NAME.metrics.tmp" "$RUN_NAME.metrics"
}
# metric_sum SERIES_REGEX: the sum over every run's last scrape.
metric_sum() {
  cat run-*.metrics 2>/dev/null | grep -E "^$1[ {]" | awk '{s += $NF} END {printf "%d\n", s}'
}

sim_state() {  # into sim.state
  curl -sf -m 5 --cacert campaign.ca.pem "https://localhost:$PORT/sim/state" >sim.state
}
state_field() {  # EXPR over the state dict `s`
  python3 -c "import json; s=json.load(open('sim.state')); print($1)"
}
sim_fault() {  # SPEC: POST /sim/fault?spec=SPEC
  curl -sf -m 5 -X POST --cacert campaign.ca.pem "https://localhost:$PORT/sim/fault?spec=$1" >/dev/null
}

# check_final_state: the last run's books (its summary at SIGTERM) against the sim's balances (100000
# USD and 1 BTC at the start; the daemon starts with USD_EQUITY 1000 of its own): equal within one
# increment (0.01 USD, 0.00000001 BTC). Prints both; returns 1 when they differ.
check_final_state() {
  local out=$1 cash pos
  cash=$(grep -oE 'books +cash -?[0-9.]+' "$out" | awk '{print $3}')
  pos=$(grep -oE 'USD, position -?[0-9.]+' "$out" | awk '{print $3}')
  if [ -z "$cash" ] || [ -z "$pos" ]; then
    echo "final state: no books line in $out"
    return 1
  fi
  python3 - "$cash" "$pos" <<'EOF'
import json, sys
cash, pos = float(sys.argv[1]), float(sys.argv[2])
s = json.load(open("sim.state"))
usd = float(s["balances"]["USD"]) - 100000
btc = float(s["balances"]["BTC"]) - 1
ok = abs(usd - (cash - 1000)) <= 0.01 + 1e-9 and abs(btc - pos) <= 1e-8 + 1e-12
print(f"final state: daemon cash {cash - 1000:+.8f} USD position {pos:+.8f} BTC; "
      f"sim {usd:+.8f} USD {btc:+.8f} BTC: {'equal' if ok else 'DIFFERENT'}")
sys.exit(0 if ok else 1)
EOF
}

# campaign_end RERUN_COMMAND: the sanitizer check over every run, the command that repeats this
# campaign, and the verdict (exit).
campaign_end() {
  if grep -qE 'AddressSanitizer|ThreadSanitizer|runtime error:' run-*.err; then
    fail "sanitizer report: $(grep -m1 -hE 'Sanitizer|runtime error:' run-*.err)"
  fi
  echo "rerun: $1"
  finish
}
