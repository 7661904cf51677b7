#!/usr/bin/env bash
# The kill -9 campaign (issue 13 item 3): `cbtrade live` with DRY_RUN=false trades against cbtrade-sim
# (a fast market, a strategy that trades often) and is killed with SIGKILL again and again, each time
# restarted on the same JOURNAL_DIR (the restart reconciles with the exchange before trading). The
# kill points come from --seed (printed; the same seed gives the same schedule), three kinds:
#   random    kill -9 at a random instant 0.3-2.5 s after the daemon runs
#   intent    between an order's durable intent and its send: the daemon kills itself there
#             (CBTRADE_TEST_CRASH=after_intent:N, a test-only hook read at start-up)
#   held      between send and acknowledgement: the sim places the order and withholds its answer
#             (POST /sim/fault?spec=orders:timeout), and the daemon is killed while it waits
# After the last kill a final run trades a few seconds and is stopped with SIGTERM. Printed, and
# non-zero exit on any failure:
#   kill points             done, by kind (the forced ones count only when they hit their instant)
#   duplicate orders        the sim: a client_order_id sent again for another order (must be 0)
#   orders while unknown    the sim: a new order while an earlier one's answer was withheld and not
#                           learnt since (must be 0)
#   open journal orders     after the final stop, orders the journal holds without an end (must be 0)
#   restarts refused        restarts that did not reach trading (must be 0)
#   final state             the daemon's books vs the sim's balances, within one increment
#
#   scripts/kill_campaign.sh [--kills N] [--seed S] [--pace xN] [--build DIR] [--keep DIR]
#     --kills N    kill points (default 100)
#     --seed S     schedule seed (default: random, printed)
#     --pace xN    market pace (default x600: ten one-minute candles a second)
#     --build DIR  where cbtrade and cbtrade-sim are (default: build/ of this checkout; or set
#                  CBTRADE and CBTRADE_SIM)
#     --keep DIR   keep the run's files (logs, journal, sim state) in DIR
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SOURCE_ROOT=${SOURCE_ROOT:-$ROOT}
source "$ROOT/tests/integration/lib.sh"
source "$ROOT/tests/integration/campaign_lib.sh"

campaign_start kill_campaign --kills 100 27 "$@"

echo "kill campaign: $COUNT kill points, seed $SEED, pace $PACE"
# The schedule: one line per kill point, "KIND PARAMETER" (random: seconds; intent: the order; held:
# seconds before the answer is withheld).
python3 - "$SEED" "$COUNT" >schedule.txt <<'EOF'
import random, sys
rng = random.Random(int(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    r = rng.random()
    if r < 0.6:
        print(f"random {rng.uniform(0.3, 2.5):.2f}")
    elif r < 0.8:
        print(f"intent {rng.randint(1, 3)}")
    else:
        print(f"held {rng.uniform(0.1, 1.0):.2f}")
EOF

campaign_setup "$PACE" || finish

refused=0
refusals=()
hit_random=0
hit_intent=0
hit_held=0
missed=0
# run_until_running: starts the daemon; 0 once it trades, 1 (counted, said) when it exits before.
run_until_running() {
  start_daemon
  for _ in $(seq 300); do
    grep -qE 'running' "$RUN_NAME.err" 2>/dev/null && return 0
    kill -0 "$LIVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$LIVE_PID" 2>/dev/null
  wait "$LIVE_PID"
  local rc=$?
  refused=$((refused + 1))
  refusals+=("$RUN_NAME: exit $rc: $(grep -vE '^cbtrade live: (order|status)' "$RUN_NAME.err" | tail -n 2 | tr '\n' ' ' | head -c 300)")
  return 1
}
# kill_now: SIGKILL and reap.
kill_now() {
  kill -KILL "$LIVE_PID" 2>/dev/null
  wait "$LIVE_PID" 2>/dev/null
}

while read -r kind param; do
  sim_fault clear || fail "POST /sim/fault?spec=clear refused"
  case "$kind" in
    random)
      run_until_running || continue
      sleep "$param"
      kill_now
      hit_random=$((hit_random + 1))
      ;;
    intent)
      CAMPAIGN_ENV="CBTRADE_TEST_CRASH=after_intent:$param" run_until_running || continue
      for _ in $(seq 300); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$LIVE_PID" 2>/dev/null; then
        missed=$((missed + 1))  # not that many orders in 30 s: an ordinary kill
        kill_now
      else
        wait "$LIVE_PID" 2>/dev/null
        rc=$?
        if [ "$rc" = 137 ]; then hit_intent=$((hit_intent + 1)); else refusals+=("$RUN_NAME: exit $rc instead of its own SIGKILL"); refused=$((refused + 1)); fi
      fi
      ;;
    held)
      run_until_running || continue
      sleep "$param"
      sim_fault "orders:timeout" || fail "POST /sim/fault?spec=orders:timeout refused"
      held=no
      for _ in $(seq 300); do
        sim_state && [ "$(state_field 's["withheld_answers"]')" -ge 1 ] && { held=yes; break; }
        kill -0 "$LIVE_PID" 2>/dev/null || break
        sleep 0.1
      done
      kill_now
      if [ "$held" = yes ]; then hit_held=$((hit_held + 1)); else missed=$((missed + 1)); fi
      ;;
  esac
done <schedule.txt

# The final run: no faults, a few seconds of trading, then SIGTERM once no answer is withheld.
sim_fault clear || fail "POST /sim/fault?spec=clear refused"
final_ok=no
if run_until_running; then
  sleep 3
  for _ in $(seq 100); do
    sim_state && [ "$(state_field 's["withheld_answers"]')" = 0 ] && break
    sleep 0.2
  done
  stop_pid "$LIVE_PID"
  [ "$RC" = 0 ] && final_ok=yes || fail "the final run's exit at SIGTERM: $RC: $(tail -c 400 "$RUN_NAME.err")"
fi
sim_state || fail "the sim's /sim/state was not served"
stop_pid "$SIM_PID"
"$CBTRADE" journal --journal-dir journal >journal.txt 2>&1
journal_rc=$?
open_orders=$(grep -oE 'open orders [0-9]+' journal.txt | awk '{print $3}')

dup=$(grep -oE 'duplicate_orders=[0-9]+' campaign.sim.err | cut -d= -f2)
unknown=$(grep -oE 'orders_while_unknown=[0-9]+' campaign.sim.err | cut -d= -f2)
orders=$(state_field 's["orders"]')
repeats=$(state_field 's["order_repeats"]')
done_kills=$((hit_random + hit_intent + hit_held + missed))
echo "schedule (seed $SEED): $(cut -d' ' -f1 schedule.txt | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}' | sed 's/, $//')"
echo "kill points: $done_kills of $COUNT (random $hit_random, between intent and send $hit_intent, between send and answer $hit_held, forced point not reached so killed at random $missed)"
echo "restarts: $((RUN_INDEX - 1)), refused: $refused"
for l in "${refusals[@]}"; do echo "  $l"; done
echo "duplicate orders: ${dup:-?}"
echo "orders while an earlier outcome was unknown: ${unknown:-?}"
echo "orders: $orders placed by the sim ($repeats create-order resends with a known client_order_id)"
echo "open journal orders after the final stop: ${open_orders:-?}"
[ "$final_ok" = yes ] && { check_final_state "$RUN_NAME.out" || fail "final state differs from the sim's ledger"; }
[ "$refused" = 0 ] || fail "$refused restart(s) did not reach trading"
[ "$dup" = 0 ] || fail "duplicate orders: $dup"
[ "$unknown" = 0 ] || fail "orders while an earlier outcome was unknown: $unknown"
[ "$open_orders" = 0 ] || fail "the journal holds ${open_orders:-?} order(s) without an end: $(head -c 400 journal.txt)"
[ "$journal_rc" = 0 ] || fail "cbtrade journal after the final stop: exit $journal_rc: $(head -c 400 journal.txt)"
[ "$done_kills" -ge "$COUNT" ] || fail "only $done_kills of $COUNT kill points were reached"
[ "$orders" -ge 1 ] 2>/dev/null || fail "no order was placed: the campaign proved nothing"
campaign_end "$0 --kills $COUNT --seed $SEED --pace $PACE"
