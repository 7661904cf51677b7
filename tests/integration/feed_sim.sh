#!/usr/bin/env bash
# cbtrade feed against cbtrade-sim on loopback (TLS with the sim's test CA): every ticker object and
# every trade the sim sent is decoded exactly once (counts, sums of prices in cents and of sizes in
# 1e-8 units match the sim's exit lines), the trades rebuild the replayed CSV candles exactly (also
# across reconnects, whose trade snapshots repeat recent trades),
# skipped sequence numbers are counted as gaps, N drops give N reconnects without a tick delivered
# twice, a stall is seen as stale, and a certificate from an unknown CA or for another host name is
# refused with a clear error, and plaintext ws:// to loopback works. Everything started here is killed on
# exit; every wait is bounded.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
SIM=${CBTRADE_SIM:-${BUILD_ROOT:-}/cbtrade-sim}
FEED=${CBTRADE:-${BUILD_ROOT:-}/cbtrade}
[ -x "$SIM" ] || { echo "SKIP: cbtrade-sim not found at '$SIM'"; exit 77; }
[ -x "$FEED" ] || { echo "SKIP: cbtrade not found at '$FEED'"; exit 77; }

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
cd "$SCRATCH"

# io_uring may be forbidden here (container seccomp, kernel.io_uring_disabled): skip, saying why.
probe_out=$(COINBASE_WS_URL=wss://127.0.0.1:1 "$FEED" feed --duration-sec 0.2 2>&1)
if grep -q "io_uring unavailable" <<<"$probe_out"; then
  echo "SKIP: $(grep -m1 'io_uring unavailable' <<<"$probe_out")"
  exit 77
fi

# start_sim NAME ARGS...: sets SIM_PID and PORT from "listening 127.0.0.1:<port>" (at most 10 s).
start_sim() {
  local name=$1
  shift
  "$SIM" --quiet --ca-out "$name.ca.pem" "$@" >"$name.out" 2>"$name.err" &
  SIM_PID=$!
  PIDS+=("$SIM_PID")
  PORT=""
  local line
  for _ in $(seq 100); do
    line=$(head -n 1 "$name.out" 2>/dev/null)
    if [[ $line =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]] && [ -s "$name.ca.pem" ]; then
      PORT=${BASH_REMATCH[1]}
      return 0
    fi
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "$name: simulator did not start; stderr: $(head -c 600 "$name.err")"
  return 1
}

# stop_sim [GRACE_TENTHS]: lets the sim exit by itself (it closes after --messages; default 8 s),
# then TERM, then KILL.
stop_sim() {
  for _ in $(seq "${1:-80}"); do
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$SIM_PID" 2>/dev/null
  for _ in $(seq 30); do
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SIM_PID" 2>/dev/null
  wait "$SIM_PID" 2>/dev/null
}

# run_feed NAME CA ARGS...: cbtrade feed against the current sim, bounded by timeout; sets FEED_RC.
run_feed() {
  local name=$1 ca=$2
  shift 2
  COINBASE_WS_URL="wss://localhost:$PORT" TLS_CA_FILE="$ca" COINBASE_WS_PRODUCTS="${PRODUCTS:-BTC-USD}" \
    timeout -k 2 30 "$FEED" feed "$@" >"$name.feed.out" 2>"$name.feed.err" &
  local pid=$!
  PIDS+=("$pid")
  wait "$pid"
  FEED_RC=$?
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$name.feed.err"; then
    fail "$name: sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error:' "$name.feed.err")"
  fi
}

field() {  # FILE KEY: value of KEY=<v> on the last line that has it
  grep -oE "(^| )$2=[-0-9]+" "$1" | tail -n 1 | sed 's/.*=//'
}

# The sim's totals must equal what the feed decoded: nothing lost, nothing twice. The sim sends each
# step's trades before its tick, so at the feed's tick limit every trade sent has arrived too.
check_totals() {
  local name=$1
  local sent sum got gotsum
  sent=$(field "$name.err" sent_ticks)
  sum=$(field "$name.err" price_cents_sum)
  got=$(field "$name.feed.err" ticks)
  gotsum=$(field "$name.feed.err" price_cents_sum)
  [ -n "$sent" ] || { fail "$name: no sent_ticks line from the sim: $(tail -c 400 "$name.err")"; return; }
  [ "$got" = "$sent" ] || fail "$name: feed decoded '$got' ticks, sim sent '$sent'"
  [ "$gotsum" = "$sum" ] || fail "$name: price_cents_sum feed '$gotsum' != sim '$sum'"
  local lines
  lines=$(grep -cE '^[A-Z]+-[A-Z]+ ' "$name.feed.out")
  [ "$lines" = "$sent" ] || fail "$name: $lines tick lines printed, sim sent $sent"
  local key
  for key in sent_trades:trades trade_price_cents_sum:trade_price_cents_sum trade_size_units:trade_size_units; do
    local want have
    want=$(field "$name.err" "${key%%:*}")
    have=$(field "$name.feed.err" "${key#*:}")
    [ -n "$want" ] && [ "$have" = "$want" ] || fail "$name: feed ${key#*:}='$have', sim ${key%%:*}='$want'"
  done
  lines=$(grep -c '^trade ' "$name.feed.out")
  [ "$lines" = "$(field "$name.err" sent_trades)" ] || fail "$name: $lines trade lines printed"
  [ "$(field "$name.feed.err" trades_refused)" = 0 ] || fail "$name: the feed refused trades"
}

# 1. Plain run: every tick exactly once, no gaps, no reconnects.
if start_sim plain --pace max --messages 300; then
  run_feed plain plain.ca.pem --max-ticks 300 --duration-sec 20
  stop_sim
  [ "$FEED_RC" = 0 ] || fail "plain: exit $FEED_RC: $(tail -c 400 plain.feed.err)"
  check_totals plain
  [ "$(field plain.feed.err gaps)" = 0 ] || fail "plain: gaps reported on a clean feed"
  [ "$(field plain.feed.err reconnects)" = 0 ] || fail "plain: reconnects on a clean feed"
  [ "$(field plain.feed.err decode_errors)" = 0 ] || fail "plain: decode errors"
  expect_grep plain.feed.out '^BTC-USD [0-9.]+ bid=[0-9.]+ ask=[0-9.]+ seq=[0-9]+ time_ns=[0-9]+ snapshot$' \
    "plain: the first tick is the snapshot"
  expect_grep plain.feed.out '^trade BTC-USD [0-9.]+ size=[0-9.]+ id=1 side=(BUY|SELL) time_ns=[0-9]+$' \
    "plain: trade lines (the first trade has id 1)"
fi

# 1b. Two products on one connection: each ticker object becomes one tick of its product.
if start_sim two --pace max --messages 200; then
  PRODUCTS=BTC-USD,ETH-USD run_feed two two.ca.pem --max-ticks 200 --duration-sec 20
  stop_sim
  [ "$FEED_RC" = 0 ] || fail "two products: exit $FEED_RC: $(tail -c 400 two.feed.err)"
  check_totals two
  [ "$(grep -c '^ETH-USD ' two.feed.out)" -gt 0 ] || fail "two products: no ETH-USD tick"
  [ "$(grep -c '^BTC-USD ' two.feed.out)" -gt 0 ] || fail "two products: no BTC-USD tick"
fi

# 2. Sequence gaps: the sim skips one number every 25 messages.
if start_sim gaps --pace max --messages 200 --skip-seq-every 25; then
  run_feed gaps gaps.ca.pem --max-ticks 200 --duration-sec 20
  stop_sim
  check_totals gaps
  [ "$FEED_RC" = 0 ] || fail "gaps: exit $FEED_RC: $(tail -c 400 gaps.feed.err)"
  skips=$(grep -oE 'seq_skips=[0-9]+' gaps.err | sed 's/.*=//')
  [ -n "$skips" ] && [ "$skips" -gt 0 ] || fail "gaps: the sim skipped nothing ($(tail -c 300 gaps.err))"
  [ "$(field gaps.feed.err gaps)" = "$skips" ] || fail "gaps: feed counted $(field gaps.feed.err gaps) gaps, sim skipped $skips"
fi

# 3. Drops: 3 connections dropped after 40 messages each -> 3 reconnects, every tick once.
if start_sim drops --pace max --messages 250 --drop-after 40 --drops 3; then
  run_feed drops drops.ca.pem --max-ticks 250 --duration-sec 25
  stop_sim
  check_totals drops
  [ "$FEED_RC" = 0 ] || fail "drops: exit $FEED_RC: $(tail -c 400 drops.feed.err)"
  [ "$(field drops.feed.err reconnects)" = 3 ] || fail "drops: $(field drops.feed.err reconnects) reconnects, want 3"
  dup=$(grep '^BTC-USD ' drops.feed.out | awk '{print $5}' | sort | uniq -d | head -n 1)
  # Sequence numbers restart per connection, so duplicates of seq alone are fine; whole lines are not.
  dup_lines=$(grep '^BTC-USD ' drops.feed.out | sort | uniq -d | head -n 1)
  [ -z "$dup_lines" ] || fail "drops: a tick was delivered twice: $dup_lines"
  : "$dup"
fi

# 4. Stall: nothing for 3 s after 30 messages, COINBASE_WS_STALE_SEC=1 -> stale, reconnect, complete.
if start_sim stall --pace max --messages 120 --stall-after 30 --stall-sec 3 --fault-once; then
  COINBASE_WS_STALE_SEC=1 run_feed stall stall.ca.pem --max-ticks 120 --duration-sec 25
  stop_sim
  check_totals stall
  [ "$FEED_RC" = 0 ] || fail "stall: exit $FEED_RC: $(tail -c 400 stall.feed.err)"
  stale=$(field stall.feed.err stale_events)
  [ -n "$stale" ] && [ "$stale" -ge 1 ] || fail "stall: no stale event counted"
  expect_grep stall.feed.err 'feed stale: no message from localhost' "stall: stale reported"
fi

# 5. A certificate from an unknown CA is refused: exit 1, one clear line naming host and reason.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key -out other-ca.pem \
  -days 1 -subj /CN=unknown-test-ca >/dev/null 2>&1 || fail "openssl could not make a CA"
if start_sim unknown_ca --pace max --messages 50; then
  run_feed unknown_ca other-ca.pem --max-ticks 50 --duration-sec 10
  stop_sim 0
  [ "$FEED_RC" = 1 ] || fail "unknown CA: exit $FEED_RC, want 1"
  expect_grep unknown_ca.feed.err 'TLS to localhost: certificate refused: not signed by a trusted CA' "unknown CA: reason"
  [ "$(field unknown_ca.feed.err ticks)" = 0 ] || fail "unknown CA: ticks were delivered"
fi

# 6. A certificate for another host name is refused.
if start_sim wrong_host --pace max --messages 50 --cert-host other.example; then
  run_feed wrong_host wrong_host.ca.pem --max-ticks 50 --duration-sec 10
  stop_sim 0
  [ "$FEED_RC" = 1 ] || fail "wrong host: exit $FEED_RC, want 1"
  expect_grep wrong_host.feed.err "certificate refused: it is not issued for host name 'localhost'" "wrong host: reason"
fi

# 7. Upgrade refused (HTTP 403): reported, retried with backoff, never a tick; ends at --duration-sec.
if start_sim refuse --refuse-upgrade; then
  run_feed refuse refuse.ca.pem --duration-sec 2
  stop_sim 0
  [ "$FEED_RC" = 0 ] || fail "refused upgrade: exit $FEED_RC"
  expect_grep refuse.feed.err 'WebSocket upgrade at localhost:[0-9]+/ refused: .*HTTP 403' "refused upgrade: reason"
  cf=$(field refuse.feed.err connect_failures)
  [ -n "$cf" ] && [ "$cf" -ge 2 ] || fail "refused upgrade: expected retries, got connect_failures=$cf"
fi

# 7b. Absurd prices (1e300, 1e-300, a 60-digit number) are refused, counted in the totals, never ticks.
if start_sim absurd --pace max --messages 100 --bad-price-after 20; then
  run_feed absurd absurd.ca.pem --max-ticks 100 --duration-sec 20
  stop_sim
  [ "$FEED_RC" = 0 ] || fail "absurd prices: exit $FEED_RC: $(tail -c 400 absurd.feed.err)"
  check_totals absurd
  [ "$(field absurd.err bad_prices)" = 1 ] || fail "absurd prices: the sim sent no bad-price message"
  [ "$(field absurd.feed.err refused_bad_price)" = 3 ] ||
    fail "absurd prices: refused_bad_price=$(field absurd.feed.err refused_bad_price), want 3"
  ! grep -qE '^BTC-USD (1e|0\.0000|1000000000000)' absurd.feed.out || fail "absurd prices: an absurd price became a tick"
fi

# 8. --summary: one line per second with ticks/s, gaps, feed age and reconnects.
if start_sim summary --pace max --messages 1000000; then
  run_feed summary summary.ca.pem --summary --duration-sec 2.5
  stop_sim 0
  [ "$FEED_RC" = 0 ] || fail "summary: exit $FEED_RC: $(tail -c 400 summary.feed.err)"
  n=$(grep -cE '^ticks/s=[0-9]+ ticks=[0-9]+ trades=[0-9]+ gaps=0 feed_age_ms=-?[0-9]+ reconnects=0 connect_failures=0 stale_events=0 fresh=1 phase=live$' summary.feed.out)
  [ "$n" -ge 2 ] || fail "summary: want 2 per-second lines, got $n: $(head -c 400 summary.feed.out)"
  ! grep -q '^BTC-USD ' summary.feed.out || fail "summary: tick lines printed with --summary"
  ! grep -q '^trade ' summary.feed.out || fail "summary: trade lines printed with --summary"
fi

# 9. The trades rebuild the replayed candles exactly: 150 candles of the sample data, 4 trades each.
CSV=${SOURCE_ROOT:-.}/data/BTC-USD.csv
head -n 151 "$CSV" >replay.csv
if start_sim rebuild --csv replay.csv --pace max --messages 600; then
  run_feed rebuild rebuild.ca.pem --candles --max-ticks 600 --max-trades 600 --duration-sec 20
  stop_sim
  [ "$FEED_RC" = 0 ] || fail "rebuild: exit $FEED_RC: $(tail -c 400 rebuild.feed.err)"
  check_totals rebuild
  python3 "$HERE/rebuild_candles.py" replay.csv rebuild.feed.out 60 >rebuild.check 2>&1 ||
    fail "rebuild: candles from trades differ from the CSV: $(head -c 800 rebuild.check)"
  expect_grep rebuild.check '^rebuilt 150 candles from 600 trades, all equal$' "rebuild: 150 candles"
  # core/candle_builder over the wire: all but the last candle (still open when the feed stops).
  expect_grep rebuild.check '^candle lines: 149, all equal$' "rebuild: the candle builder's 149 candles"
fi

# 10. Across two dropped connections: each new connection's trades snapshot repeats recent trades
# (counted by both sides), and once repeats are skipped by trade id the candles are still exact.
if start_sim rebuild_drops --csv replay.csv --pace max --messages 600 --drop-after 130 --drops 2; then
  run_feed rebuild_drops rebuild_drops.ca.pem --candles --max-ticks 600 --duration-sec 25
  stop_sim
  [ "$FEED_RC" = 0 ] || fail "rebuild_drops: exit $FEED_RC: $(tail -c 400 rebuild_drops.feed.err)"
  check_totals rebuild_drops
  [ "$(field rebuild_drops.feed.err reconnects)" = 2 ] || fail "rebuild_drops: want 2 reconnects"
  repeats=$(grep '^trade ' rebuild_drops.feed.out | grep -c ' snapshot$')
  [ "$repeats" -gt 0 ] || fail "rebuild_drops: no trade came in a snapshot after a reconnect"
  python3 "$HERE/rebuild_candles.py" replay.csv rebuild_drops.feed.out 60 >rebuild_drops.check 2>&1 ||
    fail "rebuild_drops: candles from trades differ from the CSV: $(head -c 800 rebuild_drops.check)"
  expect_grep rebuild_drops.check '^rebuilt 150 candles from 600 trades, all equal$' "rebuild_drops: 150 candles"
  expect_grep rebuild_drops.check '^candle lines: 149, all equal$' "rebuild_drops: the builder skipped the repeats"
fi

# 9. Plaintext ws:// to a loopback host (sim --plain): the same ticks without TLS.
"$SIM" --quiet --plain --pace max --messages 100 >plain_ws.out 2>plain_ws.err &
SIM_PID=$!
PIDS+=("$SIM_PID")
PORT=""
for _ in $(seq 100); do
  if [[ $(head -n 1 plain_ws.out 2>/dev/null) =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]]; then
    PORT=${BASH_REMATCH[1]}
    break
  fi
  sleep 0.1
done
if [ -n "$PORT" ]; then
  COINBASE_WS_URL="ws://127.0.0.1:$PORT" timeout -k 2 30 "$FEED" feed --max-ticks 100 --duration-sec 20 \
    >plain_ws.feed.out 2>plain_ws.feed.err
  FEED_RC=$?
  stop_sim
  [ "$FEED_RC" = 0 ] || fail "plain ws: exit $FEED_RC: $(tail -c 400 plain_ws.feed.err)"
  check_totals plain_ws
else
  fail "plain ws: simulator did not start: $(head -c 400 plain_ws.err)"
fi

finish
