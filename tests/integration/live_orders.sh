#!/usr/bin/env bash
# cbtrade live with DRY_RUN=false against cbtrade-sim (issue 12 items 1, 2, 9): real market orders
# over the sim's REST side, signed with a key made here with openssl (the sim gets its public half).
# Checked: a whole session places orders the sim fills, and the daemon's cash and position agree
# with the sim's balances at the end; a 500, a 503, a timeout or a dropped connection on
# create-order never makes a second order (the sim counts orders per client_order_id); 429 is
# survived; INSUFFICIENT_FUND is counted and blocks further entries; the halt stops entries and lets
# exits through; start-up states the key name (never the key) and refuses (exit 2) a key that cannot
# trade, a disabled or cancel-only product, a skewed clock, LONG_ONLY=false and a refused key. The
# private key appears in no output. Everything started here is killed on exit; every wait is bounded.
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

# The key: Ed25519 in Coinbase's key JSON; another one the sim does not know.
KEY_ID=3f2a9c4e-0000-4000-8000-00000000ed25
ED_B64=$(make_api_key ed)
printf '{"id":"%s","privateKey":"%s"}\n' "$KEY_ID" "$ED_B64" >key.json
OTHER_B64=$(make_api_key other)
printf '{"id":"%s","privateKey":"%s"}\n' "$KEY_ID" "$OTHER_B64" >other.json
[ ${#ED_B64} -gt 40 ] || { fail "key generation failed"; finish; }

# start_sim NAME ARGS...: sets SIM_PID and PORT (at most 10 s).
start_sim() {
  local name=$1
  shift
  start_sim_process "$name" --csv market.csv --pace x60 --api-key "$KEY_ID=ed.pub" "$@"
}
stop_sim() {
  kill -TERM "$SIM_PID" 2>/dev/null
  for _ in $(seq 30); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SIM_PID" 2>/dev/null
  wait "$SIM_PID" 2>/dev/null
}
sim_state() {  # NAME: the sim's /sim/state into NAME.state
  curl -sf --cacert "$1.ca.pem" "https://localhost:$PORT/sim/state" >"$1.state" || fail "$1: /sim/state not served"
}
state_field() {  # NAME EXPR: a Python expression over the state dict `s`
  python3 -c "import json,sys; s=json.load(open('$1.state')); print($2)"
}

# start_live NAME [ARGS...]: the daemon with DRY_RUN=false in the background against the current sim.
start_live() {
  local name=$1
  shift
  local mport
  mport=$(free_port)
  METRICS="http://127.0.0.1:$mport/metrics"
  COINBASE_WS_URL="wss://localhost:$PORT" COINBASE_API_BASE="https://localhost:$PORT/api/v3/brokerage" \
    TLS_CA_FILE="$name.ca.pem" COINBASE_API_PRIVATE_KEY_FILE="${KEY_FILE:-key.json}" DRY_RUN=false PORT=$mport \
    IDLE_POLICY=sleep STATUS_INTERVAL_SEC=1 DECISION_LOG="$name.log" JOURNAL_DIR="$name.journal" \
    "$CBTRADE" live --history history.csv --duration 90 "$@" >"$name.out" 2>"$name.err" &
  LIVE_PID=$!
  PIDS+=("$LIVE_PID")
}
stop_live() {  # NAME: SIGTERM, bounded wait, LIVE_RC; no sanitizer report
  kill -TERM "$LIVE_PID" 2>/dev/null
  for _ in $(seq 400); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$LIVE_PID"
  LIVE_RC=$?
  if grep -qE 'AddressSanitizer|ThreadSanitizer|runtime error:' "$1.err"; then
    fail "$1: sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error:' "$1.err")"
  fi
}
metric() {  # NAME SERIES: its value in NAME.metrics (empty when absent)
  grep -E "^$2 " "$1.metrics" | awk '{print $2}'
}
# books NAME: the daemon's cash and position (summary) against the sim's balances (start 100000 USD,
# 1 BTC); and one order per client_order_id, each one filled by the daemon's account.
check_books() {
  local name=$1
  sim_state "$name"
  local cash pos fills orders
  cash=$(grep -oE 'books +cash -?[0-9.]+' "$name.out" | awk '{print $3}')
  pos=$(grep -oE 'USD, position -?[0-9.]+' "$name.out" | awk '{print $3}')
  [ -n "$cash" ] && [ -n "$pos" ] || { fail "$name: no books line in the summary: $(cat "$name.out")"; return; }
  fills=$(grep -cE '^cbtrade live: order .*: (FILLED|CANCELLED) ' "$name.err")
  orders=$(state_field "$name" 's["orders"]')
  [ "$orders" = "$fills" ] || fail "$name: the sim made $orders orders, the daemon settled $fills fills"
  [ "$(state_field "$name" 'max(s["create_order_requests_by_client_order_id"].values() or [0]) >= 1 and len(s["orders_by_client_order_id"]) == s["orders"]')" = True ] ||
    fail "$name: orders per client_order_id: $(cat "$name.state")"
  python3 - "$name" "$cash" "$pos" <<'EOF' || fail "$name: books disagree: $(cat "$name.state"); daemon cash $cash position $pos"
import json, sys
name, cash, pos = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = json.load(open(name + ".state"))
usd = float(s["balances"]["USD"]) - 100000
btc = float(s["balances"]["BTC"]) - 1
ok = abs(usd - (cash - 1000)) < 1e-5 and abs(btc - pos) < 1e-9
print(f"{name}: sim USD {usd:+.8f} BTC {btc:+.8f}; daemon cash {cash - 1000:+.8f} position {pos:+.8f}")
sys.exit(0 if ok else 1)
EOF
}

# 1. A whole session: orders go out, the sim fills them, both sides agree at the end.
if start_sim main; then
  start_live main
  wait_for main.err 'running' 15 || fail "main: the daemon did not start: $(tail -c 800 main.err)"
  wait_count main.err '^cbtrade live: order .*: FILLED ' 3 60 || fail "main: fewer than 3 filled orders: $(grep -E 'order|ERROR' main.err | tail -n 5)"
  curl -sf "$METRICS" >main.metrics || fail "main: /metrics not served"
  stop_live main
  check_books main
  stop_sim
  [ "$LIVE_RC" = 0 ] || fail "main: exit $LIVE_RC: $(tail -c 600 main.err)"
  expect_grep main.err "REAL ORDERS: DRY_RUN=false: market orders on BTC-USD will be sent to 'https://localhost:[0-9]+/api/v3/brokerage' with API key '$KEY_ID' \\(EdDSA" "main: the start-up says real orders, where and with which key"
  expect_grep main.err 'BUY by quote_size on 0.01, at least 5.00 USD \(ORDER_MIN_USD 5, quote_min_size 1\); SELL by base_size on 0.00000001' "main: sizes from the product"
  expect_grep main.err 'limits: entries of 10.00 USD' "main: size limits stated"
  expect_grep main.err 'order connection open, 4 order JWTs signed ahead' "main: warm connection and token pool"
  expect_grep main.out '^  live orders      BUY [0-9]+, SELL [0-9]+' "main: the summary counts live orders"
  live=$(grep -E '^bot_orders_total\{mode="live"' main.metrics | awk '{s+=$2} END {print s+0}')
  paper=$(grep -E '^bot_orders_total\{mode="paper"' main.metrics | awk '{s+=$2} END {print s+0}')
  [ "$live" -ge 3 ] && [ "$paper" = 0 ] || fail "main: bot_orders_total live=$live paper=$paper"
  [ "$(grep -E '^bot_order_errors_total' main.metrics | awk '{s+=$2} END {print s+0}')" = 0 ] ||
    fail "main: order errors: $(grep -E '^bot_order_errors_total' main.metrics | grep -v ' 0$')"
  [ "$(state_field main 's["order_repeats"]')" = 0 ] || fail "main: a create-order was repeated without a fault"
  grep -q '"type":"fill"' main.log || fail "main: no fill in the decision log"
fi

# 2. Create-order faults after the order was placed: never a second order.
for kind in 500 503 timeout drop; do
  name=fault$kind
  if start_sim "$name" --rest-fault "orders:$kind:1"; then
    start_live "$name"
    wait_count "$name.err" '^cbtrade live: order .*: FILLED ' 2 60 || fail "$name: fewer than 2 filled orders: $(grep -E 'order' "$name.err" | tail -n 4)"
    stop_live "$name"
    check_books "$name"
    stop_sim
    [ "$LIVE_RC" = 0 ] || fail "$name: exit $LIVE_RC"
    [ "$(state_field "$name" 's["order_repeats"]')" -ge 1 ] || fail "$name: the order was not resent with its client_order_id"
    [ "$(state_field "$name" 'max(s["create_order_requests_by_client_order_id"].values())')" = 2 ] ||
      fail "$name: want one resend of the faulted order: $(cat "$name.state")"
    [ "$(state_field "$name" 'all(v <= 2 for v in s["create_order_requests_by_client_order_id"].values())')" = True ] ||
      fail "$name: $(cat "$name.state")"
  fi
done

# 3. 429 on create-order (twice): survived, nothing counted as an error, one order.
if start_sim r429 --rest-fault orders:429:2; then
  start_live r429
  wait_count r429.err '^cbtrade live: order .*: FILLED ' 1 60 || fail "r429: no filled order: $(grep order r429.err | tail -n 3)"
  curl -sf "$METRICS" >r429.metrics
  stop_live r429
  check_books r429
  stop_sim
  [ "$(state_field r429 's["faults"]')" = 2 ] && [ "$(state_field r429 's["orders"]')" = 1 ] ||
    fail "r429: want 2 answers of 429 and then one order: $(cat r429.state)"
  [ "$(metric r429 'bot_order_errors_total\{reason="rate_limited"\}')" = 0 ] || fail "r429: a survived 429 counted as an error"
fi

# 4. INSUFFICIENT_FUND: counted, and no entry after it (the position stays flat, no further order).
if start_sim funds --rest-fault orders:insufficient:1; then
  start_live funds
  wait_for funds.err 'refused: .*INSUFFICIENT_FUND' 60 || fail "funds: no INSUFFICIENT_FUND refusal: $(grep order funds.err | tail -n 3)"
  for _ in $(seq 300); do
    curl -sf "$METRICS" >funds.metrics 2>/dev/null
    [ "$(metric funds 'bot_entries_blocked_total\{reason="insufficient_funds"\}')" -ge 1 ] 2>/dev/null && break
    sleep 0.1
  done
  stop_live funds
  sim_state funds
  stop_sim
  [ "$(metric funds 'bot_order_errors_total\{reason="insufficient_funds"\}')" = 1 ] || fail "funds: bot_order_errors_total{reason=insufficient_funds} is not 1"
  [ "$(metric funds 'bot_entries_blocked_total\{reason="insufficient_funds"\}')" -ge 1 ] 2>/dev/null || fail "funds: later entries were not blocked"
  [ "$(state_field funds 's["orders"]')" = 0 ] || fail "funds: an order was placed after INSUFFICIENT_FUND"
  expect_grep funds.err 'entries blocked until equity is refreshed' "funds: the block is stated"
fi

# 5. Halt: after an entry, SIGUSR1; the exit still goes out, no entry follows.
if start_sim halt; then
  start_live halt
  wait_for halt.err '^cbtrade live: order .* BUY .*: FILLED ' 60 || fail "halt: no entry"
  kill -USR1 "$LIVE_PID"
  wait_for halt.err 'halt ON \(SIGUSR1\)' 5 || fail "halt: SIGUSR1 did not halt"
  wait_for halt.err '^cbtrade live: order .* SELL .*: FILLED ' 60 || fail "halt: the exit did not go out while halted"
  sleep 4
  curl -sf "$METRICS" >halt.metrics
  stop_live halt
  stop_sim
  after=$(awk '/halt ON \(SIGUSR1\)/ {on=1} on && /^cbtrade live: order .* BUY .*: FILLED / {n++} END {print n+0}' halt.err)
  [ "$after" = 0 ] || fail "halt: $after entries after the halt"
  [ "$(grep -E '^bot_orders_total\{mode="live",side="SELL"\}' halt.metrics | awk '{print $2}')" -ge 1 ] || fail "halt: no live SELL counted"
fi

# 6. Refusals at start-up: exit 2, one line saying why, no order sent.
refuse() {  # NAME PATTERN SIM_ARGS... (environment from the caller)
  local name=$1 pattern=$2
  shift 2
  if start_sim "$name" "$@"; then
    start_live "$name" --duration 5
    for _ in $(seq 300); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.1; done
    wait "$LIVE_PID"
    local rc=$?
    sim_state "$name"
    stop_sim
    [ "$rc" = 2 ] || fail "$name: exit $rc, want 2: $(tail -c 400 "$name.err")"
    expect_grep "$name.err" "$pattern" "$name: the reason"
    [ "$(state_field "$name" 's["orders"]')" = 0 ] || fail "$name: an order was placed"
  fi
}
refuse noscope "the API key '$KEY_ID' cannot trade \(key_permissions: can_trade is false\)" --no-trade-scope
refuse disabled 'PRODUCT_ID=BTC-USD cannot take market orders now: trading_disabled is true' --trading-disabled
refuse cancelonly 'PRODUCT_ID=BTC-USD cannot take market orders now: the product is cancel-only' --cancel-only
refuse skew 'the exchange clock is \+45.0 s from this machine.s, beyond the 30 s real orders allow' --clock-offset-sec 45
LONG_ONLY=false refuse longonly 'LONG_ONLY=false with DRY_RUN=false: Coinbase spot orders cannot open a short'
KEY_FILE=other.json refuse wrongkey "the API key '$KEY_ID': .*401.*refusing to send real orders"
expect_exit 2 "no key" -- env DRY_RUN=false COINBASE_WS_URL=wss://127.0.0.1:1 "$CBTRADE" live --duration 1
expect_grep err 'DRY_RUN=false needs an API key' "no key: named"

# 8. Live equity (USE_LIVE_EQUITY=true, issue 12 item 3): sized from the sim's balances (2000 USD and
#    0.5 BTC the daemon did not buy, stated at start-up), refreshed every second; the refresh after an
#    INSUFFICIENT_FUND lifts the entry block; a failing refresh is counted and keeps the last equity
#    (never zero); the 0.5 BTC is never sold; cash and position agree with the sim at the end.
if start_sim equity --usd-balance 2000 --base-balance 0.5 --rest-fault orders:insufficient:1; then
  USE_LIVE_EQUITY=true LIVE_EQUITY_REFRESH_SEC=1 start_live equity
  wait_for equity.err 'running' 15 || fail "equity: the daemon did not start: $(tail -c 800 equity.err)"
  wait_for equity.err 'refused: .*INSUFFICIENT_FUND' 60 || fail "equity: no INSUFFICIENT_FUND refusal"
  wait_count equity.err '^cbtrade live: order .*: FILLED ' 2 60 ||
    fail "equity: no order after INSUFFICIENT_FUND: the refresh did not lift the block: $(grep -E 'order|equity' equity.err | tail -n 5)"
  # Two refreshes after a SELL's fill (the second one asked once the fill had settled): its proceeds
  # less fee are off the cent grid, and the cash compared at the end has then come from the
  # exchange's balances, not only from the fills (a balance stated rounded to the cent once made
  # this differ from the sim's books by a fraction of a cent, only when the refresh fell here).
  wait_for equity.err '^cbtrade live: order .* SELL base_size .*: FILLED ' 60 || fail "equity: no SELL filled"
  curl -sf "$METRICS" >equity.metrics || fail "equity: /metrics not served"
  refreshes=$(metric equity bot_live_equity_refreshes_total)
  for _ in $(seq 100); do
    curl -sf "$METRICS" >equity.metrics 2>/dev/null
    [ "$(metric equity bot_live_equity_refreshes_total)" -ge $((${refreshes:-0} + 2)) ] 2>/dev/null && break
    sleep 0.1
  done
  [ "$(metric equity bot_live_equity_refreshes_total)" -ge $((${refreshes:-0} + 2)) ] 2>/dev/null ||
    fail "equity: no 2 refreshes after the SELL in 10 s: $(grep -E '^bot_live_equity' equity.metrics)"
  [ "$(metric equity bot_live_equity_refreshes_total)" -ge 2 ] 2>/dev/null || fail "equity: fewer than 2 refreshes"
  [ "$(metric equity bot_live_equity_refresh_failures_total)" = 0 ] || fail "equity: refresh failures without a fault"
  # Every account read fails from now on: counted, the last equity kept, its age growing.
  curl -sf -X POST --cacert equity.ca.pem "https://localhost:$PORT/sim/fault?spec=accounts:500:1000" >/dev/null ||
    fail "equity: POST /sim/fault refused"
  for _ in $(seq 200); do
    curl -sf "$METRICS" >equity.metrics 2>/dev/null
    [ "$(metric equity bot_live_equity_refresh_failures_total)" -ge 2 ] 2>/dev/null && break
    sleep 0.1
  done
  [ "$(metric equity bot_live_equity_refresh_failures_total)" -ge 2 ] 2>/dev/null || fail "equity: failed refreshes not counted"
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 1.5 and float(sys.argv[2]) > 2000 else 1)" \
    "$(metric equity bot_live_equity_age_seconds)" "$(metric equity bot_equity_usd)" ||
    fail "equity: after failed refreshes want age >= 1.5 s and the last equity: $(grep -E '^bot_(live_)?equity' equity.metrics)"
  stop_live equity
  sim_state equity
  stop_sim
  [ "$LIVE_RC" = 0 ] || fail "equity: exit $LIVE_RC: $(tail -c 600 equity.err)"
  expect_grep equity.err 'live equity: USD 2000.00 available \(0.00 on hold, not counted\); refreshed every 1 s' "equity: balances stated"
  expect_grep equity.err 'live equity: the account holds 0.5 BTC \([0-9.]+ USD at [0-9.]+\) that this daemon did not buy: counted in equity, never sold' "equity: other base stated"
  expect_grep equity.err 'limits: entries of RISK_PER_TRADE_PCT 1% of the live equity' "equity: limits say live equity"
  expect_grep equity.err 'live equity: refresh failed \(1 in a row\): .*500.*; sizing keeps the balances read' "equity: the failure said"
  # Entries are 1% of USD + 0.5 BTC at the start price, not of USD_EQUITY.
  python3 - equity <<'EOF' || fail "equity: entry size is not 1% of the live equity: $(grep 'live equity:' equity.err)"
import re, sys
err = open(sys.argv[1] + ".err").read()
m = re.search(r"live equity: ([0-9.]+) USD; entries of ([0-9.]+) USD", err)
held = re.search(r"holds 0.5 BTC \(([0-9.]+) USD at", err)
sys.exit(0 if m and held and abs(float(m.group(1)) - 2000 - float(held.group(1))) < 0.01
         and abs(float(m.group(2)) - float(m.group(1)) / 100) < 0.01 else 1)
EOF
  cash=$(grep -oE 'books +cash -?[0-9.]+' equity.out | awk '{print $3}')
  pos=$(grep -oE 'USD, position -?[0-9.]+' equity.out | awk '{print $3}')
  python3 - equity "$cash" "$pos" <<'EOF' || fail "equity: books disagree with the sim or the 0.5 BTC was sold: $(cat equity.state); cash $cash position $pos"
import json, sys
name, cash, pos = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = json.load(open(name + ".state"))
usd, btc = float(s["balances"]["USD"]), float(s["balances"]["BTC"])
print(f"{name}: sim USD {usd:.8f} BTC {btc:.8f}; daemon cash {cash:.8f} position {pos:.8f}")
sys.exit(0 if abs(usd - cash) < 1e-5 and abs(btc - 0.5 - pos) < 1e-9 and btc >= 0.5 - 1e-9 else 1)
EOF
fi

# 9. Balances that cannot be read at start: refused (exit 1), nothing sent. Since reconciliation
#    (issue 13 item 2) the start-up reads them there first, so that is the refusal seen here; live
#    equity's own (the same exit) is in the exec_live_equity unit tests.
if start_sim noequity --rest-fault accounts:500:20; then
  USE_LIVE_EQUITY=true start_live noequity --duration 5
  for _ in $(seq 300); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$LIVE_PID"
  rc=$?
  sim_state noequity
  stop_sim
  [ "$rc" = 1 ] || fail "noequity: exit $rc, want 1: $(tail -c 400 noequity.err)"
  expect_grep noequity.err 'cbtrade live: error: reconciliation: list accounts failed: .*500.*nothing was traded; a restart tries again' "noequity: the reason"
  [ "$(state_field noequity 's["orders"]')" = 0 ] || fail "noequity: an order was placed"
fi

# 7. The private key is in no output, log or metrics.
for f in *.err *.out *.log *.metrics; do
  [ -f "$f" ] || continue
  if grep -qF -- "$ED_B64" "$f" || grep -qF -- "${ED_B64:0:24}" "$f"; then fail "$f holds the private key"; fi
done

finish
