#!/usr/bin/env bash
# Reconciliation at a live start (issue 13 item 2): cbtrade live with DRY_RUN=false against
# cbtrade-sim, SIGKILLed while the sim holds back the answer to an order it has placed (--rest-fault
# orders:timeout:1: the order fills, its answer never comes). The restart on the same JOURNAL_DIR
# finds the order by its client_order_id (list orders), journals and applies its fill, and trades on:
# at the end the daemon's books equal the sim's balances, one order per client_order_id, no create-
# order sent twice. Then the mismatch path: a sim whose balances differ from what the journal explains
# (another USD balance): the daemon reports the difference and sends no order; restarted with
# --accept-reconciliation it trades; the next start reconciles clean from the new baseline.
# A REST failure during reconciliation is exit 1, nothing traded. A SIGTERM while an order's answer is
# held back waits for the order's outcome (the fill is journaled in that run). Every wait is bounded.
source "$(dirname "$0")/lib.sh"
SIM=${CBTRADE_SIM:-${BUILD_ROOT:-}/cbtrade-sim}
[ -x "$SIM" ] || { echo "SKIP: cbtrade-sim not found at '$SIM'"; exit 77; }
[ -x "$CBTRADE" ] || { echo "SKIP: cbtrade not found at '$CBTRADE'"; exit 77; }
for tool in python3 openssl curl; do command -v $tool >/dev/null || { echo "SKIP: $tool not found"; exit 77; }; done

kill_pids_on_exit
cd "$SCRATCH"
skip_without_io_uring "$CBTRADE"

DATA="$SOURCE_ROOT/data/BTC-USD.csv"
head -n 1001 "$DATA" >history.csv
{ head -n 1; tail -n +1002; } <"$DATA" >market.csv
KEY_ID=3f2a9c4e-0000-4000-8000-00000000ed25
ED_B64=$(make_api_key ed)
printf '{"id":"%s","privateKey":"%s"}\n' "$KEY_ID" "$ED_B64" >key.json

start_sim() {  # NAME ARGS...: SIM_PID, PORT, SIM_NAME
  SIM_NAME=$1
  start_sim_process "$@" --csv market.csv --pace x60 --api-key "$KEY_ID=ed.pub"
}
sim_state() {  # the current sim's /sim/state into state.json
  curl -sf --cacert "$SIM_NAME.ca.pem" "https://localhost:$PORT/sim/state" >state.json
}
state_field() { python3 -c "import json; s=json.load(open('state.json')); print($1)"; }
# start_live NAME [ARGS...]: the daemon against the current sim, journal in ./journal.
start_live() {
  local name=$1
  shift
  METRICS_PORT=$(free_port)
  COINBASE_WS_URL="wss://localhost:$PORT" COINBASE_API_BASE="https://localhost:$PORT/api/v3/brokerage" \
    TLS_CA_FILE="$SIM_NAME.ca.pem" COINBASE_API_PRIVATE_KEY_FILE=key.json DRY_RUN=false PORT=$METRICS_PORT \
    IDLE_POLICY=sleep STATUS_INTERVAL_SEC=1 JOURNAL_DIR=${JOURNAL:-journal} \
    "$CBTRADE" live --history history.csv --duration "${DURATION:-120}" "$@" >"$name.out" 2>"$name.err" &
  LIVE_PID=$!
  PIDS+=("$LIVE_PID")
}
stop_live() {  # NAME: SIGTERM, bounded wait; LIVE_RC
  stop_pid "$LIVE_PID"
  LIVE_RC=$RC
  grep -qE 'AddressSanitizer|runtime error:' "$1.err" && fail "$1: sanitizer report"
}
# check_books NAME USD0 BTC0 [resent]: the daemon's summary books against the sim's balances (which
# started at USD0 and BTC0; the daemon's cash at USD_EQUITY 1000), and one order per client_order_id.
# Without "resent", no create-order was sent twice either; with it, a resend under the same
# client_order_id (the order desk's answer to a timed-out attempt) is expected, a second order is not.
check_books() {
  sim_state || { fail "$1: /sim/state not served"; return; }
  local cash pos
  cash=$(grep -oE 'books +cash -?[0-9.]+' "$1.out" | awk '{print $3}')
  pos=$(grep -oE 'USD, position -?[0-9.]+' "$1.out" | awk '{print $3}')
  [ -n "$cash" ] && [ -n "$pos" ] || { fail "$1: no books line in the summary: $(tail -c 400 "$1.out")"; return; }
  python3 - "$cash" "$pos" "$2" "$3" <<'EOF' || fail "$1: books disagree with the sim: $(cat state.json); daemon cash $cash position $pos"
import json, sys
cash, pos, usd0, btc0 = map(float, sys.argv[1:])
s = json.load(open("state.json"))
usd = float(s["balances"]["USD"]) - usd0
btc = float(s["balances"]["BTC"]) - btc0
print(f"sim USD {usd:+.8f} BTC {btc:+.8f}; daemon cash {cash - 1000:+.8f} position {pos:+.8f}")
sys.exit(0 if abs(usd - (cash - 1000)) < 1e-5 and abs(btc - pos) < 1e-9 else 1)
EOF
  [ "$(state_field 'len(s["orders_by_client_order_id"]) == s["orders"]')" = True ] || fail "$1: orders per client_order_id: $(cat state.json)"
  [ "$(state_field 's["duplicate_orders"]')" = 0 ] || fail "$1: the sim placed a duplicate order: $(cat state.json)"
  [ "${4:-}" = resent ] && return
  [ "$(state_field 'max(s["create_order_requests_by_client_order_id"].values() or [0])')" = 1 ] ||
    fail "$1: a create-order was sent twice for one client_order_id: $(cat state.json)"
  [ "$(state_field 's["order_repeats"]')" = 0 ] || fail "$1: the sim saw a repeated create-order: $(cat state.json)"
}

# 1. kill -9 while the sim holds the answer to a placed order; the restart finds it.
if start_sim main --rest-fault orders:timeout:1; then
  start_live first
  wait_for first.err 'running' 20 || fail "first: did not start: $(tail -c 800 first.err)"
  expect_grep first.err 'reconciliation: balances: .*no earlier live start in this journal' "first: the baseline is recorded"
  killed=""
  for _ in $(seq 900); do
    if sim_state && [ "$(state_field 's["orders"]')" -ge 1 ]; then
      kill -KILL "$LIVE_PID"
      killed=yes
      break
    fi
    kill -0 "$LIVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  wait "$LIVE_PID" 2>/dev/null
  [ -n "$killed" ] || fail "first: no order placed in 90 s: $(tail -c 600 first.err)"
  hidden=$(state_field 'list(s["orders_by_client_order_id"])[0]')
  grep -q "order $hidden .*FILLED" first.err && fail "first: the daemon saw the answer before the kill (the test raced)"

  start_live second
  wait_for second.err 'running' 30 || fail "second: did not start: $(tail -c 800 second.err)"
  expect_grep second.err "reconciliation: 1 order\\(s\\) without a recorded outcome" "second: the open order is seen"
  expect_grep second.err "reconciliation: order BUY entry [0-9.]+ \\(client_order_id $hidden\\): FILLED on the exchange, filled [0-9.]+ BTC .*fill applied to the books" "second: found by client_order_id, its fill applied"
  grep -qE 'reconciliation: OK: 1 order\(s\) settled from the exchange; balances agree' second.err ||
    fail "second: not reconciled: $(grep reconciliation second.err)"
  wait_count second.err '^cbtrade live: order .*: FILLED ' 2 60 || fail "second: fewer than 2 filled orders after the restart: $(grep -E 'order|ERROR' second.err | tail -n 4)"
  stop_live second
  [ "$LIVE_RC" = 0 ] || fail "second: exit $LIVE_RC: $(tail -c 600 second.err)"
  check_books second 100000 1
  expect_exit 0 "journal after the restart" -- "$CBTRADE" journal --journal-dir journal
  expect_grep "$SCRATCH/out" 'open orders 0' "journal: no open order left"
  stop_pid "$SIM_PID"
fi

# 2. Balances the journal cannot explain: another USD balance on the exchange.
if start_sim other --usd-balance 90000; then
  start_live held
  wait_for held.err 'running' 30 || fail "held: did not start: $(tail -c 800 held.err)"
  expect_grep held.err 'reconciliation: DIFFERENCE: USD: the journal says the account should hold [0-9.]+ .*the exchange holds 90000\.00' "held: the USD difference reported"
  expect_grep held.err 'reconciliation: HOLDING ALL ORDERS' "held: orders held"
  sleep 20
  sim_state && [ "$(state_field 's["orders"]')" = 0 ] || fail "held: an order was sent while held: $(cat state.json)"
  ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/readyz")
  [ "$ready" = 503 ] || fail "held: /readyz answered $ready while held"
  stop_live held
  [ "$LIVE_RC" = 0 ] || fail "held: exit $LIVE_RC"

  start_live accepted --accept-reconciliation
  wait_for accepted.err 'running' 30 || fail "accepted: did not start: $(tail -c 800 accepted.err)"
  expect_grep accepted.err 'reconciliation: ACCEPTED by the operator' "accepted: the difference accepted"
  wait_count accepted.err '^cbtrade live: order .*: FILLED ' 1 60 || fail "accepted: no order after the acceptance: $(tail -c 600 accepted.err)"
  stop_live accepted
  [ "$LIVE_RC" = 0 ] || fail "accepted: exit $LIVE_RC"

  DURATION=3 start_live clean
  for _ in $(seq 300); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.1; done
  stop_live clean
  expect_grep clean.err 'reconciliation: OK' "clean: the accepted balances are the new baseline"
  stop_pid "$SIM_PID"
fi

# 3. The exchange unreachable during reconciliation: exit 1, nothing traded.
if start_sim down --rest-fault list_orders:503:100 --rest-fault accounts:503:100; then
  start_live down
  for _ in $(seq 600); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.1; done
  stop_live down
  [ "$LIVE_RC" = 1 ] || fail "down: exit $LIVE_RC, want 1: $(tail -c 600 down.err)"
  expect_grep down.err 'cbtrade live: error: reconciliation: list accounts failed: .*nothing was traded; a restart tries again' "down: the failure said"
  sim_state && [ "$(state_field 's["orders"]')" = 0 ] || fail "down: an order was sent"
  stop_pid "$SIM_PID"
fi

# 4. SIGTERM while an order is in flight (the sim holds back its answer, so the daemon's own attempt
# times out after 5 s and the order desk asks again): the stop waits for the outcome, so this run
# journals and applies the fill and leaves no open order for the next start.
if start_sim term --rest-fault orders:timeout:1; then
  JOURNAL=journal-term start_live term
  wait_for term.err 'running' 20 || fail "term: did not start: $(tail -c 800 term.err)"
  placed=""
  for _ in $(seq 900); do
    if sim_state && [ "$(state_field 's["orders"]')" -ge 1 ]; then
      placed=yes
      break
    fi
    kill -0 "$LIVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$placed" ] || fail "term: no order placed in 90 s: $(tail -c 600 term.err)"
  stop_live term
  [ "$LIVE_RC" = 0 ] || fail "term: exit $LIVE_RC: $(tail -c 600 term.err)"
  expect_grep term.err 'cbtrade live: an order is in flight: waiting up to 30 s for its outcome' "term: the wait is said"
  expect_grep term.err '^cbtrade live: order .*: FILLED ' "term: the order settled before the exit"
  grep -q 'unsettled at the stop' term.out && fail "term: an order was left unsettled: $(tail -c 600 term.out)"
  grep -q "did not drain" term.out && fail "term: a stage gave up draining: $(grep "did not drain" term.out)"
  check_books term 100000 1 resent
  expect_exit 0 "journal after the stop" -- "$CBTRADE" journal --journal-dir journal-term
  expect_grep "$SCRATCH/out" 'open orders 0' "term: no open order left in the journal"
  stop_pid "$SIM_PID"
fi

finish
