#!/usr/bin/env bash
# The fault campaign (issue 13 item 4): `cbtrade live` with DRY_RUN=false trades against cbtrade-sim
# (a fast market, a strategy that trades often) while a random schedule of faults is injected from
# outside through the sim's POST /sim/fault: WebSocket drops, sequence gaps, stalls, frames with
# reserved bits, malformed JSON, absurd prices, garbage under TLS; REST 500, 503, 429, timeouts and
# dropped connections on create-order (after the order was placed) and get-order. The schedule comes
# from --seed (printed; the same seed gives the same schedule). A daemon that exits during the
# campaign is a crash: counted, and restarted on the same journal. At the end both are stopped and it
# prints:
#   crashes                 daemon exits other than the final SIGTERM (must be 0)
#   reconnects              bot_feed_reconnects_total over the runs
#   entries while stale     bot_entries_while_stale_total: entry orders decided on unfit market data
#                           (stale, gap, lost record) that reached the exec stage (must be 0); with
#                           the entries the gate blocked (bot_entries_blocked_total{reason=market_data})
#   duplicate orders        the sim: a client_order_id sent again for another order (must be 0)
#   orders while unknown    the sim: a new order while an earlier one's answer was withheld and not
#                           learnt since (must be 0)
#   final state             the daemon's books (its summary) vs the sim's balances, within one increment
# Exit 0 when every count that must be 0 is 0, the daemon's last exit is 0 and the state is equal.
#
#   scripts/fault_campaign.sh [--faults N] [--seed S] [--pace xN] [--build DIR] [--keep DIR]
#     --faults N   faults in the schedule (default 100)
#     --seed S     schedule seed (default: random, printed)
#     --pace xN    market pace (default x600: ten one-minute candles a second)
#     --build DIR  where cbtrade and cbtrade-sim are (default: build/ of this checkout; or set
#                  CBTRADE and CBTRADE_SIM)
#     --keep DIR   keep the run's files (logs, metrics, journal, sim state) in DIR
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SOURCE_ROOT=${SOURCE_ROOT:-$ROOT}
source "$ROOT/tests/integration/lib.sh"
source "$ROOT/tests/integration/campaign_lib.sh"

campaign_start fault_campaign --faults 100 27 "$@"

echo "fault campaign: $COUNT faults, seed $SEED, pace $PACE"
# The schedule: one line per fault, "DELAY_SEC SPEC".
python3 - "$SEED" "$COUNT" >schedule.txt <<'EOF'
import random, sys
rng = random.Random(int(sys.argv[1]))
ws = ["ws:drop", "ws:gap", "ws:bad_frame", "ws:bad_json", "ws:bad_price", "ws:tls_error"]
rest = [f"{route}:{kind}" for route in ("orders", "order") for kind in ("500", "503", "429", "timeout", "drop")]
for _ in range(int(sys.argv[2])):
    r = rng.random()
    if r < 0.45:
        spec = rng.choice(ws)
    elif r < 0.55:
        spec = f"ws:stall:{rng.choice([1, 2.5, 3, 4])}"
    else:
        spec = rng.choice(rest)
    print(f"{rng.uniform(0.15, 0.7):.2f} {spec}")
EOF

campaign_setup "$PACE" || finish
start_daemon
wait_for "$RUN_NAME.err" 'running' 20 || { fail "the daemon did not start: $(tail -c 800 "$RUN_NAME.err")"; finish; }

crashes=0
crash_lines=()
restart_if_dead() {
  kill -0 "$LIVE_PID" 2>/dev/null && return 0
  wait "$LIVE_PID"
  local rc=$?
  crashes=$((crashes + 1))
  crash_lines+=("$RUN_NAME: exit $rc: $(grep -vE '^cbtrade live: (order|status)' "$RUN_NAME.err" | tail -n 2 | tr '\n' ' ' | head -c 300)")
  start_daemon
  wait_for "$RUN_NAME.err" 'running' 20 || fail "restart after a crash: the daemon did not start: $(tail -c 600 "$RUN_NAME.err")"
}

injected=0
while read -r delay spec; do
  sleep "$delay"
  restart_if_dead
  if sim_fault "$spec"; then
    injected=$((injected + 1))
  else
    fail "POST /sim/fault?spec=$spec refused"
  fi
  scrape_metrics
done <schedule.txt

# Quiet time: faults not yet applied are dropped; then until every order the sim placed has been
# settled by the daemon (its answer learnt after a withheld one) the daemon is not stopped: SIGTERM
# with an order in flight would end the run before its fill (a warning in the summary, not a fault).
sim_fault clear || fail "POST /sim/fault?spec=clear refused"
settled=no
for _ in $(seq 120); do
  sleep 0.5
  restart_if_dead
  scrape_metrics
  sim_state || continue
  # The sim's count first, the daemon's after it: orders go one at a time, so the daemon having
  # settled as many means every order placed before the state was read is settled.
  if [ "$(state_field 's["withheld_answers"]')" = 0 ] &&
    [ "$(cat run-*.err | grep -cE '^cbtrade live: order .*: (FILLED|CANCELLED) ')" -ge "$(state_field 's["orders"]')" ]; then
    settled=yes
    break
  fi
done
[ "$settled" = yes ] || fail "60 s after the last fault the daemon had not settled every order the sim placed"
scrape_metrics
stop_pid "$LIVE_PID"
last_rc=$RC
sim_state || fail "the sim's /sim/state was not served"
stop_pid "$SIM_PID"

ws_applied=$(grep -oE 'ws_faults=[0-9]+' campaign.sim.err | cut -d= -f2)
rest_applied=$(state_field 's["faults"]')
dup=$(grep -oE 'duplicate_orders=[0-9]+' campaign.sim.err | cut -d= -f2)
unknown=$(grep -oE 'orders_while_unknown=[0-9]+' campaign.sim.err | cut -d= -f2)
stale=$(metric_sum bot_entries_while_stale_total)
blocked=$(metric_sum 'bot_entries_blocked_total\{reason="market_data"\}')
reconnects=$(metric_sum bot_feed_reconnects_total)
orders=$(state_field 's["orders"]')
repeats=$(state_field 's["order_repeats"]')
fills=$(cat run-*.err | grep -cE '^cbtrade live: order .*: (FILLED|CANCELLED) ')

echo "schedule (seed $SEED): $(cut -d' ' -f2 schedule.txt | sed -E 's/^ws:stall:.*/ws:stall/' | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')"
echo "faults injected: $injected of $COUNT (applied: $ws_applied WebSocket, $rest_applied REST; REST faults fire on the next request to their route)"
echo "crashes: $crashes"
for l in "${crash_lines[@]}"; do echo "  $l"; done
echo "reconnects: $reconnects"
echo "entries while stale: ${stale:-?} (entries the market-data gate blocked: ${blocked:-?})"
echo "duplicate orders: ${dup:-?}"
echo "orders while an earlier outcome was unknown: ${unknown:-?}"
echo "orders: $orders placed by the sim ($repeats create-order resends with a known client_order_id), $fills settled by the daemon"
check_final_state "$RUN_NAME.out" || fail "final state differs from the sim's ledger"
[ "$crashes" = 0 ] || fail "$crashes crash(es)"
[ "$last_rc" = 0 ] || fail "the daemon's exit at SIGTERM: $last_rc: $(tail -c 400 "$RUN_NAME.err")"
[ "$stale" = 0 ] || fail "entries while stale: $stale"
[ "$dup" = 0 ] || fail "duplicate orders: $dup"
[ "$unknown" = 0 ] || fail "orders while an earlier outcome was unknown: $unknown"
[ "$orders" -ge 1 ] 2>/dev/null || fail "no order was placed: the campaign proved nothing"
[ "$ws_applied" -ge 1 ] 2>/dev/null || fail "no WebSocket fault was applied"
campaign_end "$0 --faults $COUNT --seed $SEED --pace $PACE"
