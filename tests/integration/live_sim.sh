#!/usr/bin/env bash
# cbtrade live against cbtrade-sim on loopback (TLS with the sim's test CA), as README's run command
# does it: history from the sample data, the sim replaying the rest sped up. Checked: candles,
# decisions and paper fills happen and the metrics contract moves; SIGINT and SIGTERM stop it with a
# summary and exit 0; a recording replays to the identical decision log; drops, gaps, stalls and
# malformed frames never crash it and every reconnect is counted; the halt by SIGUSR1 and by
# HALT_FILE; every new configuration key's bad values exit 2 naming the key. Every wait is bounded.
source "$(dirname "$0")/lib.sh"
SIM=${CBTRADE_SIM:-${BUILD_ROOT:-}/cbtrade-sim}
[ -x "$SIM" ] || { echo "SKIP: cbtrade-sim not found at '$SIM'"; exit 77; }
[ -x "$CBTRADE" ] || { echo "SKIP: cbtrade not found at '$CBTRADE'"; exit 77; }

kill_pids_on_exit
cd "$SCRATCH"
skip_without_io_uring "$CBTRADE"

DATA="$SOURCE_ROOT/data/BTC-USD.csv"
head -n 1001 "$DATA" >history.csv
{ head -n 1; tail -n +1002; } <"$DATA" >market.csv

# start_sim NAME ARGS...: sets SIM_PID and PORT (at most 10 s).
start_sim() {
  local name=$1
  shift
  start_sim_process "$name" --csv market.csv "$@"
}
stop_sim() {
  kill -TERM "$SIM_PID" 2>/dev/null
  for _ in $(seq 30); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SIM_PID" 2>/dev/null
  wait "$SIM_PID" 2>/dev/null
}

# start_live NAME [ARGS...]: the daemon in the background against the current sim; sets LIVE_PID and
# METRICS (its /metrics URL). Extra environment comes from the caller. Bounded by --duration 90 (a later
# --duration in ARGS wins) and by the kill on exit; no `timeout` wrapper, so signals reach the daemon.
start_live() {
  local name=$1
  shift
  local mport
  mport=$(free_port)
  METRICS="http://127.0.0.1:$mport/metrics"
  COINBASE_WS_URL="wss://localhost:$PORT" TLS_CA_FILE="$name.ca.pem" PORT=$mport IDLE_POLICY=sleep \
    STATUS_INTERVAL_SEC=1 DECISION_LOG="$name.log" JOURNAL_DIR="$name.journal" RECORD_TICKS="$name.rec" \
    "$CBTRADE" live --history history.csv --duration 90 "$@" >"$name.out" 2>"$name.err" &
  LIVE_PID=$!
  PIDS+=("$LIVE_PID")
}
wait_metric() {  # PATTERN SECONDS: until a line of /metrics starts with PATTERN (or the time is up)
  for _ in $(seq $(($2 * 10))); do curl -sf "$METRICS" 2>/dev/null | grep -qE -- "^$1" && return 0; sleep 0.1; done
  return 1
}
# stop_live NAME SIGNAL: sends it, waits (bounded), sets LIVE_RC; checks no sanitizer report.
stop_live() {
  kill "-$2" "$LIVE_PID" 2>/dev/null
  for _ in $(seq 150); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$LIVE_PID"
  LIVE_RC=$?
  if grep -qE 'AddressSanitizer|ThreadSanitizer|runtime error:' "$1.err"; then
    fail "$1: sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error:' "$1.err")"
  fi
}
summary_field() {  # FILE LABEL: the number after "LABEL " in the summary
  grep -oE "$2 [0-9]+" "$1" | head -n 1 | awk '{print $NF}'
}

# 1. The run command's setup: trades, candles, decisions, paper fills, metrics; SIGINT stops it.
if start_sim main --pace x60; then
  start_live main
  wait_for main.err 'running' 15 || fail "main: the daemon did not start: $(tail -c 800 main.err)"
  wait_for main.err 'ticks=[1-9]' 20 || fail "main: no status line with ticks: $(tail -c 800 main.err)"
  sleep 6
  curl -sf "$METRICS" >metrics.txt || fail "main: /metrics not served"
  for series in 'bot_ticks_total [1-9]' 'bot_candles_total [1-9]' 'bot_decisions_total\{signal="(buy|sell|flat)"\} [1-9]' \
    'bot_tick_to_decision_seconds_count [1-9]' 'bot_stage_latency_seconds_count\{stage="decode"\} [1-9]' \
    'bot_stage_latency_seconds_count\{stage="signal"\} [1-9]' 'bot_stage_latency_seconds_count\{stage="exec"\} [1-9]' \
    'bot_feed_age_seconds [0-9]' 'bot_model_mode\{mode="baseline"\} 1' 'bot_equity_usd [1-9]' 'bot_halted 0' \
    'bot_orders_total\{mode="live",side="BUY"\} 0'; do
    grep -qE "^$series" metrics.txt || fail "main: /metrics lacks '$series'"
  done
  curl -sf "${METRICS%/metrics}/readyz" >/dev/null || fail "main: /readyz not ready: $(curl -s "${METRICS%/metrics}/readyz")"
  stop_live main INT
  stop_sim
  [ "$LIVE_RC" = 0 ] || fail "main: SIGINT exit $LIVE_RC, want 0: $(tail -c 600 main.err)"
  expect_grep main.err 'PAPER trading BTC-USD ONE_MINUTE' "main: paper mode stated"
  expect_grep main.err 'placement \(allowed cores' "main: the placement plan is printed"
  expect_grep main.err 'SIGINT: stopping' "main: SIGINT acknowledged"
  expect_grep main.out '^summary: ran' "main: summary printed"
  candles=$(summary_field main.out 'candles')
  [ -n "$candles" ] && [ "$candles" -ge 5 ] || fail "main: only '$candles' candles in ~8 s at x60"
  fills=$(grep -c '"type":"fill"' main.log)
  orders=$(grep -oE 'BUY [0-9]+, SELL [0-9]+' main.out | awk '{s+=$2+$4} END {print s+0}')
  [ "$fills" = "$orders" ] || fail "main: decision log has $fills fills, summary $orders orders"
  [ "$(grep -c '"type":"decision"' main.log)" -ge 1 ] || fail "main: no decision logged"
  # Parity: the recording, replayed through the same stages, gives the identical decision log.
  expect_exit 0 "main: replay --compare" -- "$CBTRADE" replay main.rec --history history.csv --compare main.log --quiet
  expect_grep err 'identical: [0-9]+ decision and fill lines' "main: replay is identical to the live run"
fi

# 2. SIGTERM: the same clean stop.
if start_sim term --pace x60; then
  start_live term
  wait_for term.err 'running' 15 || fail "term: did not start"
  sleep 2
  stop_live term TERM
  stop_sim
  [ "$LIVE_RC" = 0 ] || fail "term: SIGTERM exit $LIVE_RC, want 0"
  expect_grep term.err 'SIGTERM: stopping' "term: SIGTERM acknowledged"
  expect_grep term.out '^summary: ran' "term: summary printed"
fi

# 3. Drops: 3 connections dropped -> 3 reconnects counted, still running, still a clean stop.
if start_sim drops --pace x60 --drop-after 40 --drops 3; then
  start_live drops
  wait_for drops.err 'reconnects=3' 30 || fail "drops: 3 reconnects not reached: $(grep 'ticks=' drops.err | tail -n 1)"
  sleep 1
  stop_live drops TERM
  stop_sim
  [ "$LIVE_RC" = 0 ] || fail "drops: exit $LIVE_RC"
  [ "$(summary_field drops.out 'reconnects')" = 3 ] || fail "drops: summary reconnects $(summary_field drops.out reconnects), want 3"
fi

# 4. Gaps: skipped sequence numbers are counted and block entries until a candle closes after them.
if start_sim gaps --pace x60 --skip-seq-every 50; then
  start_live gaps
  wait_metric 'bot_feed_gaps_total [1-9]' 30  # the first skipped number comes some seconds in
  curl -sf "$METRICS" >gaps.metrics || fail "gaps: /metrics"
  stop_live gaps TERM
  stop_sim
  [ "$LIVE_RC" = 0 ] || fail "gaps: exit $LIVE_RC"
  g=$(summary_field gaps.out 'gaps')
  [ -n "$g" ] && [ "$g" -ge 1 ] || fail "gaps: no gap counted"
  grep -qE '^bot_feed_gaps_total [1-9]' gaps.metrics || fail "gaps: bot_feed_gaps_total did not move"
fi

# 5. Stall: silence beyond COINBASE_WS_STALE_SEC -> stale, not ready, reconnect; no entry while stale.
if start_sim stall --pace x60 --stall-after 60 --stall-sec 4 --fault-once; then
  COINBASE_WS_STALE_SEC=1 start_live stall
  wait_for stall.err 'reconnects=1' 20 || fail "stall: no reconnect after the stall"
  stop_live stall TERM
  stop_sim
  [ "$LIVE_RC" = 0 ] || fail "stall: exit $LIVE_RC"
  expect_grep stall.err 'feed stale' "stall: staleness reported"
  # The signal stage saw the feed go not fresh and come back (the gating itself: tests/pipeline).
  # S reconnects gaps stale_events fresh lost: fresh, then not fresh, then fresh after a reconnect.
  seen=$(awk '$1 == "S" { if ($5 == 1 && state == 0) state = 1; else if ($5 == 0 && state == 1) state = 2;
                          else if ($5 == 1 && $2 >= 1 && state == 2) state = 3 } END { print state + 0 }' stall.rec)
  [ "$seen" = 3 ] || fail "stall: the recording lacks fresh -> not fresh -> fresh again: $(grep '^S' stall.rec | head -n 6 | tr '\n' ';')"
  expect_exit 0 "stall: replay --compare" -- "$CBTRADE" replay stall.rec --history history.csv --compare stall.log --quiet
fi

# 6. Malformed JSON, a bad frame and absurd prices: counted where an operator sees them (/metrics),
#    the connection reset where the frame is bad, no crash, clean stop.
for fault in "--bad-json-after 30" "--bad-frame-after 30" "--bad-price-after 30"; do
  name=bad$(echo "$fault" | tr -dc 'a-z' | head -c 8)
  case $fault in
    --bad-json*) counted='bot_feed_messages_refused_total [1-9]' ;;
    --bad-frame*) counted='bot_feed_reconnects_total [1-9]' ;;
    --bad-price*) counted='bot_feed_records_refused_total [1-9]' ;;
  esac
  # shellcheck disable=SC2086
  if start_sim "$name" --pace x60 $fault --fault-once; then
    start_live "$name"
    wait_for "$name.err" 'ticks=[1-9]' 20 || fail "$name: no ticks"
    wait_metric "$counted" 30  # the fault comes after 30 ticker messages, about 8 s in
    curl -sf "$METRICS" >"$name.metrics" || fail "$name: /metrics not served"
    grep -qE "^$counted" "$name.metrics" || fail "$name: /metrics lacks '$counted': $(grep -E '^bot_feed' "$name.metrics" | tr '\n' ' ')"
    stop_live "$name" TERM
    stop_sim
    [ "$LIVE_RC" = 0 ] || fail "$name: exit $LIVE_RC: $(tail -c 400 "$name.err")"
    expect_grep "$name.out" '^summary: ran' "$name: summary printed"
  fi
done

# 6b. A server that refuses every WebSocket upgrade: each attempt is a connect failure on /metrics,
#     nothing is traded, and the daemon keeps retrying until stopped.
if start_sim refused --pace x60 --refuse-upgrade; then
  start_live refused
  wait_metric 'bot_feed_connect_failures_total [2-9]' 20
  curl -sf "$METRICS" >refused.metrics || fail "refused: /metrics not served"
  grep -qE '^bot_feed_connect_failures_total [2-9]' refused.metrics ||
    fail "refused: want 2+ connect failures: $(grep -E '^bot_feed' refused.metrics | tr '\n' ' ')"
  grep -qE '^bot_ticks_total 0$' refused.metrics || fail "refused: ticks counted from a refused server"
  stop_live refused TERM
  stop_sim
  [ "$LIVE_RC" = 0 ] || fail "refused: exit $LIVE_RC: $(tail -c 400 refused.err)"
fi

# 7. Halt by SIGUSR1 (toggle) and by HALT_FILE (presence).
if start_sim halt --pace x60; then
  HALT_FILE="$SCRATCH/halt.flag" start_live halt
  wait_for halt.err 'running' 15 || fail "halt: did not start"
  kill -USR1 "$LIVE_PID"
  wait_for halt.err 'halt ON \(SIGUSR1\)' 5 || fail "halt: SIGUSR1 did not halt"
  curl -sf "$METRICS" | grep -q '^bot_halted 1' || fail "halt: bot_halted is not 1"
  kill -USR1 "$LIVE_PID"
  wait_for halt.err 'halt OFF \(SIGUSR1\)' 5 || fail "halt: a second SIGUSR1 did not resume"
  touch "$SCRATCH/halt.flag"
  wait_for halt.err 'halt ON \(HALT_FILE\)' 5 || fail "halt: HALT_FILE did not halt"
  rm -f "$SCRATCH/halt.flag"
  wait_for halt.err 'halt OFF \(HALT_FILE\)' 5 || fail "halt: removing HALT_FILE did not resume"
  stop_live halt TERM
  stop_sim
  [ "$LIVE_RC" = 0 ] || fail "halt: exit $LIVE_RC"
  expect_grep halt.log '"type":"halt","on":true,"by":"SIGUSR1"' "halt: logged in the decision log"
fi

# 8. Not trading, and saying why: too little history; history that ends long before the live data.
head -n 101 "$DATA" >short.csv
if start_sim short --pace x60; then
  start_live short --history short.csv --duration 3
  wait "$LIVE_PID"
  rc=$?
  stop_sim
  [ "$rc" = 0 ] || fail "short history: exit $rc"
  expect_grep short.err 'NOT TRADING: history short.csv has 100 candles, need at least 300' "short history: reason"
  expect_grep short.out 'NOT TRADING' "short history: in the summary"
fi
head -n 501 "$DATA" >old.csv
if start_sim old --pace x60; then
  start_live old --history old.csv --duration 4
  wait "$LIVE_PID"
  rc=$?
  stop_sim
  [ "$rc" = 0 ] || fail "old history: exit $rc"
  expect_grep old.err 'NOT TRADING: history ends at .* but the first live trade is at .*: [0-9]+ candles missing, HISTORY_MAX_GAP_CANDLES=2' "old history: reason"
  [ "$(grep -c '"type":"fill"' old.log)" = 0 ] || fail "old history: it traded"
fi

# 9. Every new key's bad values: exit 2, one line naming the key (before any connection).
check_bad() {  # KEY VALUE PATTERN
  expect_exit 2 "$1=$2" -- env "$1=$2" COINBASE_WS_URL=wss://127.0.0.1:1 "$CBTRADE" live --duration 1
  expect_grep err "$3" "$1=$2 named"
}
check_bad CPU_FEED banana "CPU_FEED='banana' is invalid: expected auto, none or a core number"
check_bad CPU_SIGNAL -3 "CPU_SIGNAL='-3' is invalid"
check_bad CPU_EXEC 4096 "CPU_EXEC='4096' is invalid"
check_bad CPU_OPS x "CPU_OPS='x' is invalid"
check_bad CPU_FEED 1023 "CPU_FEED=1023 is invalid: core 1023 is not in this process's allowed cores"
check_bad CPU_OPS 1000 "CPU_OPS=1000 is invalid: core 1000 is not in this process's allowed cores"
check_bad IDLE_POLICY nap "IDLE_POLICY='nap' is invalid: expected spin, yield or sleep"
check_bad RT_PRIORITY 120 "RT_PRIORITY='120' is invalid"
check_bad HISTORY_MAX_GAP_CANDLES -1 "HISTORY_MAX_GAP_CANDLES='-1' is invalid"
check_bad STATUS_INTERVAL_SEC soon "STATUS_INTERVAL_SEC='soon' is invalid"
check_bad HALT_FILE "$(printf 'a\tb')" "HALT_FILE=.* is invalid: expected a file path"
check_bad RECORD_TICKS "  " "RECORD_TICKS=.* is invalid"
check_bad DECISION_LOG "$(printf 'x\001')" "DECISION_LOG=.* is invalid"
check_bad HISTORY_FILE "$(printf '\001')" "HISTORY_FILE=.* is invalid"
check_bad COINBASE_WS_PRODUCTS ETH-USD "COINBASE_WS_PRODUCTS does not include PRODUCT_ID=BTC-USD"
check_bad DRY_RUN false "DRY_RUN=false needs an API key: set COINBASE_API_KEY_NAME"
expect_exit 2 "live: unknown option" -- "$CBTRADE" live --frobnicate
expect_exit 2 "live: bad --duration" -- "$CBTRADE" live --duration -5
expect_exit 2 "replay: no file" -- "$CBTRADE" replay
printf 'not a recording\n' >bad.rec
expect_exit 1 "replay: not a recording" -- "$CBTRADE" replay bad.rec
expect_grep err "bad.rec:1: not a cbtrade tick recording" "replay: bad recording named"

finish
