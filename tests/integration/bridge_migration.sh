#!/usr/bin/env bash
# Migration from the earlier stack (issue 12 items 5, 7, 9): `cbtrade bridge --env-file bridge.env`
# and `cbtrade live --env-file bot.env` with files shaped like the earlier ones (bridge.env: the key
# name, a PEM private key with literal \n, COINBASE_API_BASE as the bare host, PORT=8787; bot.env:
# tests/data/bot.env's keys, BRIDGE_URL=http://bridge:8787, DRY_RUN=false, no key) against
# cbtrade-sim. The real environment overrides only hosts, ports and the sim's test CA (it wins over
# the files). Checked: the daemon refuses (exit 2) while the bridge is down; orders go through the
# bridge and the sim fills them; the daemon's cash and position equal the sim's balances at the end;
# the bridge broker's fills equal the direct broker's over the same data (same sim seed and data,
# fills compared); the key and the PEM appear in no output. Everything started here is killed on
# exit; every wait is bounded.
source "$(dirname "$0")/lib.sh"
SIM=${CBTRADE_SIM:-${BUILD_ROOT:-}/cbtrade-sim}
[ -x "$SIM" ] || { echo "SKIP: cbtrade-sim not found at '$SIM'"; exit 77; }
[ -x "$CBTRADE" ] || { echo "SKIP: cbtrade not found at '$CBTRADE'"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not found"; exit 77; }

kill_pids_on_exit
cd "$SCRATCH"
skip_without_io_uring "$CBTRADE"

DATA="$SOURCE_ROOT/data/BTC-USD.csv"
head -n 1001 "$DATA" >history.csv
{ head -n 1; tail -n +1002; } <"$DATA" >market.csv

# The key, made here: ES256 (P-256) in SEC1 PEM as CDP hands it out; the sim gets the public half.
KEY_NAME=organizations/0f1e2d3c-0000-4000-8000-00000000b21d/apiKeys/7a6b5c4d-0000-4000-8000-00000000b21d
openssl ecparam -name prime256v1 -genkey -noout -out key.pem 2>/dev/null
openssl ec -in key.pem -pubout -out key.pub 2>/dev/null
[ -s key.pub ] || { fail "key generation failed"; finish; }
KEY_BODY=$(grep -v -- '-----' key.pem | tr -d '\n')  # the base64 inside the PEM

# bridge.env as the earlier stack had it: literal \n in a double-quoted PEM, the bare API host.
{
  echo "COINBASE_API_KEY_NAME=$KEY_NAME"
  printf 'COINBASE_API_PRIVATE_KEY="%s"\n' "$(awk '{printf "%s\\n", $0}' key.pem)"
  echo "COINBASE_API_BASE=https://api.coinbase.com"
  echo "PORT=8787"
} >bridge.env
# bot.env: the earlier file's keys and shape; entries of 1% of 1000 USD (above ORDER_MIN_USD) so that
# the short session trades.
sed -e 's/^RISK_PER_TRADE_PCT=.*/RISK_PER_TRADE_PCT=1.0/' -e 's/^MODEL_MODE=.*/MODEL_MODE=baseline   # baseline | extended/' \
  -e 's/^USE_LIVE_EQUITY=.*/USE_LIVE_EQUITY=false/' "$SOURCE_ROOT/tests/data/bot.env" >bot.env
grep -q '^BRIDGE_URL=http://bridge:8787$' bot.env && grep -q '^DRY_RUN=false$' bot.env && grep -q '^PORT=8080$' bot.env ||
  fail "bot.env is not shaped like the earlier one"

# start_sim NAME [ARGS...]: the simulator with the same data, seed and pace every time (SIM_PID, PORT).
start_sim() {
  start_sim_process "$1" --csv market.csv --pace x60 --seed 7 --api-key "$KEY_NAME=key.pub" "${@:2}"
}
# start_bridge NAME: cbtrade bridge --env-file bridge.env; the environment gives only hosts, ports and
# the test CAs. Its price feed comes from a second simulator over the same data: every WebSocket
# client of one simulator draws from the same market steps, so a second client there would thin the
# daemon's market and move its fill prices, and the fills could not be compared with the direct run.
start_bridge() {
  local name=$1 rest_port=$PORT rest_pid=$SIM_PID
  start_sim "$name.feed" || return 1
  FEED_PID=$SIM_PID
  FEED_PORT=$PORT
  PORT=$rest_port
  SIM_PID=$rest_pid
  cat "$name.ca.pem" "$name.feed.ca.pem" >"$name.cas.pem"
  BPORT=$(free_port)
  COINBASE_API_BASE="https://localhost:$PORT" COINBASE_WS_URL="wss://localhost:$FEED_PORT" TLS_CA_FILE="$name.cas.pem" \
    PORT=$BPORT "$CBTRADE" bridge --env-file bridge.env >"$1.bridge.out" 2>"$1.bridge.err" &
  BRIDGE_PID=$!
  PIDS+=("$BRIDGE_PID")
  wait_for "$1.bridge.err" 'serving the bridge API' 15 || fail "$1: the bridge did not start: $(tail -c 600 "$1.bridge.err")"
}
# start_live NAME [ENV...]: cbtrade live --env-file bot.env with only hosts and ports from the environment.
start_live() {
  local name=$1
  shift
  MPORT=$(free_port)
  env COINBASE_WS_URL="wss://localhost:$PORT" TLS_CA_FILE="$name.ca.pem" PORT=$MPORT "$@" \
    IDLE_POLICY=sleep STATUS_INTERVAL_SEC=1 DECISION_LOG="$name.log" JOURNAL_DIR="$name.journal" \
    "$CBTRADE" live --env-file bot.env --history history.csv --duration 120 >"$name.out" 2>"$name.err" &
  LIVE_PID=$!
  PIDS+=("$LIVE_PID")
}
# books NAME: the daemon's summary cash and position against the sim's balances (100000 USD, 1 BTC).
check_books() {
  local name=$1
  curl -sf --cacert "$name.ca.pem" "https://localhost:$PORT/sim/state" >"$name.state" || { fail "$name: no /sim/state"; return; }
  local cash pos
  cash=$(grep -oE 'books +cash -?[0-9.]+' "$name.out" | awk '{print $3}')
  pos=$(grep -oE 'USD, position -?[0-9.]+' "$name.out" | awk '{print $3}')
  [ -n "$cash" ] && [ -n "$pos" ] || { fail "$name: no books line in the summary: $(cat "$name.out")"; return; }
  python3 - "$name" "$cash" "$pos" <<'PY' || fail "$name: books disagree: $(cat "$name.state"); daemon cash $cash position $pos"
import json, sys
name, cash, pos = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = json.load(open(name + ".state"))
usd = float(s["balances"]["USD"]) - 100000
btc = float(s["balances"]["BTC"]) - 1
print(f"{name}: sim USD {usd:+.8f} BTC {btc:+.8f}; daemon cash {cash - 1000:+.8f} position {pos:+.8f}; orders {s['orders']}")
sys.exit(0 if abs(usd - (cash - 1000)) < 1e-5 and abs(btc - pos) < 1e-9 and s["orders"] >= 3 else 1)
PY
}
# The fills of a decision log: side, reason, size and price, one per line.
fills_of() {
  python3 - "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") == "fill":
        print(r.get("time"), r.get("side"), r.get("reason"), r.get("qty"), r.get("price"), r.get("fee_usd"))
PY
}

# 1. The bridge is down: the daemon refuses to send real orders (exit 2) and says why.
if start_sim down; then
  expect_exit 2 "bridge down" -- env BRIDGE_URL="http://127.0.0.1:$(free_port)" COINBASE_WS_URL="wss://localhost:$PORT" \
    TLS_CA_FILE=down.ca.pem PORT="$(free_port)" "$CBTRADE" live --env-file bot.env --history history.csv --duration 5
  expect_grep err 'DRY_RUN=false through the bridge \(http://127\.0\.0\.1:[0-9]+\): GET /health failed' "down: the reason"
  stop_pid "$SIM_PID"
fi

# 2. The pair, as migrated: bridge.env and bot.env unchanged; orders through the bridge.
if start_sim viabridge; then
  start_bridge viabridge
  start_live viabridge BRIDGE_URL="http://127.0.0.1:$BPORT"
  wait_for viabridge.err 'running' 20 || fail "viabridge: the daemon did not start: $(tail -c 800 viabridge.err)"
  wait_count viabridge.err '^cbtrade live: order .*: FILLED ' 4 90 ||
    fail "viabridge: fewer than 4 filled orders: $(grep -E 'order|ERROR|refus' viabridge.err | tail -n 5)"
  curl -sf "http://127.0.0.1:$BPORT/price?product_id=BTC-USD" >viabridge.price || fail "viabridge: /price not served"
  grep -qE '^\{"product_id":"BTC-USD","price":"[0-9.]+","time":"[0-9T:.-]+Z","age_sec":[0-9.]+,"stale":false\}$' viabridge.price ||
    fail "viabridge: /price: $(head -c 300 viabridge.price)"
  curl -sf "http://127.0.0.1:$MPORT/metrics" >viabridge.metrics || fail "viabridge: /metrics not served"
  stop_pid "$LIVE_PID"
  [ "$RC" = 0 ] || fail "viabridge: the daemon exited $RC: $(tail -c 600 viabridge.err)"
  check_books viabridge
  stop_pid "$BRIDGE_PID"
  [ "$RC" = 0 ] || fail "viabridge: the bridge exited $RC"
  stop_pid "$SIM_PID"
  stop_pid "$FEED_PID"
  expect_grep viabridge.err "REAL ORDERS: DRY_RUN=false: market orders on BTC-USD will be sent through the bridge \\(http://127\\.0\\.0\\.1:$BPORT\\)" "viabridge: the start-up says where real orders go"
  expect_grep viabridge.bridge.err "exchange https://localhost:$PORT/api/v3/brokerage with API key '$KEY_NAME'" "viabridge: bare host completed"
  expect_grep viabridge.bridge.err 'POST /order/market 200' "viabridge: orders crossed the bridge"
  expect_grep viabridge.bridge.err 'GET /order/[0-9a-f-]+ 200' "viabridge: outcomes read through the bridge"
  live=$(grep -E '^bot_orders_total\{mode="live"' viabridge.metrics | awk '{s+=$2} END {print s+0}')
  [ "$live" -ge 4 ] || fail "viabridge: bot_orders_total{mode=live} is $live"
fi

# 2b. Killed while an order through the bridge is open (the sim accepts it but never answers its
# look-up): the acceptance is journaled; a restart through the bridge cannot look the order up, so it
# refuses to start (exit 2), naming the order's client_order_id and the exchange's order_id. (A bridge
# waiting on the exchange answers nothing else meanwhile, /health included: the restart gets a new one.)
if start_sim open --rest-fault order:timeout:1000; then
  start_bridge open
  start_live open BRIDGE_URL="http://127.0.0.1:$BPORT"
  wait_for open.err 'running' 20 || fail "open: the daemon did not start: $(tail -c 800 open.err)"
  if wait_for open.bridge.err 'POST /order/market 200' 90; then
    sleep 1  # the acceptance crosses the desk and the exec thread to the journal within a poll or two
    kill -KILL "$LIVE_PID"
    wait "$LIVE_PID" 2>/dev/null
    curl -sf --cacert open.ca.pem "https://localhost:$PORT/sim/state" >open.state || fail "open: no /sim/state"
    read -r cid oid < <(python3 -c 'import json; s=json.load(open("open.state")); [print(k, v) for k, v in list(s["orders_by_client_order_id"].items())[:1]]')
    grep -q "order $cid .*FILLED" open.err && fail "open: the order settled before the kill (the look-up was answered)"
    # That bridge is held up in the look-up the sim never answers: a fresh one serves the restart.
    kill -KILL "$BRIDGE_PID" "$FEED_PID" 2>/dev/null
    cp open.ca.pem open2.ca.pem  # the same exchange (sim "open"), a new bridge and price feed
    start_bridge open2
    expect_exit 2 "open: restart through the bridge" -- env COINBASE_WS_URL="wss://localhost:$PORT" TLS_CA_FILE=open.ca.pem \
      PORT="$(free_port)" BRIDGE_URL="http://127.0.0.1:$BPORT" IDLE_POLICY=sleep JOURNAL_DIR=open.journal \
      "$CBTRADE" live --env-file bot.env --history history.csv --duration 5
    expect_grep err "journal: live order BUY entry [0-9.e-]+ \\(client_order_id $cid\\) has no recorded outcome; the exchange accepted it as order_id $oid" "open: the order and its order_id named"
    expect_grep err 'NOT STARTING: an order.s outcome is unknown and this mode cannot look it up' "open: not started"
  else
    fail "open: no order crossed the bridge in 90 s: $(tail -c 600 open.bridge.err)"
  fi
  stop_pid "$BRIDGE_PID"
  stop_pid "$SIM_PID"
  stop_pid "$FEED_PID"
fi

# 3. The direct broker over the same data (the daemon holds the key, no bridge): the same fills.
if start_sim direct; then
  start_live direct COINBASE_API_BASE="https://localhost:$PORT" COINBASE_API_KEY_NAME="$KEY_NAME" \
    COINBASE_API_PRIVATE_KEY_FILE=key.pem
  wait_for direct.err 'running' 20 || fail "direct: the daemon did not start: $(tail -c 800 direct.err)"
  n=$(grep -cE '^cbtrade live: order .*: FILLED ' viabridge.err)
  wait_count direct.err '^cbtrade live: order .*: FILLED ' "$n" 90 || fail "direct: fewer than $n filled orders"
  stop_pid "$LIVE_PID"
  check_books direct
  stop_pid "$SIM_PID"
  expect_grep direct.err "will be sent to 'https://localhost:$PORT/api/v3/brokerage' with API key" "direct: the direct broker ran"
  fills_of viabridge.log | head -n "$n" >viabridge.fills
  fills_of direct.log | head -n "$n" >direct.fills
  [ -s viabridge.fills ] || fail "no fill in the bridge run's decision log"
  diff viabridge.fills direct.fills >fills.diff || fail "the bridge broker's fills differ from the direct broker's: $(head -c 600 fills.diff)"
fi

# 4. The key and the PEM are in no output, log or metrics of any process.
for f in *.err *.out *.log *.metrics *.state; do
  [ -f "$f" ] || continue
  if grep -qF -- "${KEY_BODY:0:24}" "$f" || grep -qF -- "${KEY_BODY: -24}" "$f" || grep -q 'PRIVATE KEY' "$f"; then
    fail "$f holds the private key"
  fi
done

finish
