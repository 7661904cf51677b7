#!/usr/bin/env bash
# The order journal across a crash (issue 13 items 1 and 2, paper): cbtrade live against cbtrade-sim
# trades, is killed with SIGKILL, and a restart on the same JOURNAL_DIR starts from the journal's
# books: the position the first run last reported. A torn tail (the last bytes cut) is cut with a
# warning and the daemon still starts; a corrupted byte before the end stops start-up (exit 1)
# naming the file. Every wait is bounded.
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

# live NAME DURATION: the daemon in the background on the journal in ./journal; sets LIVE_PID.
live() {
  COINBASE_WS_URL="wss://localhost:$PORT" TLS_CA_FILE="sim.ca.pem" PORT="$(free_port)" IDLE_POLICY=sleep \
    STATUS_INTERVAL_SEC=1 DECISION_LOG="$1.log" JOURNAL_DIR=journal \
    "$CBTRADE" live --history history.csv --duration "$2" >"$1.out" 2>"$1.err" &
  LIVE_PID=$!
  PIDS+=("$LIVE_PID")
}
wait_exit() {  # at most 30 s; sets RC
  for _ in $(seq 300); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$LIVE_PID" 2>/dev/null
  wait "$LIVE_PID"
  RC=$?
}
last_status() { grep -E '^cbtrade live: ticks=' "$1" | tail -n 1; }
field() { grep -oE "$2=[^ ]+" <<<"$1" | head -n 1 | cut -d= -f2; }

start_sim_process sim --csv market.csv --pace x60 || { finish; exit 1; }

# 1. Trade, then SIGKILL once fills have happened and two status lines agree on them.
live first 60
wait_for first.err 'running' 15 || fail "first: did not start: $(tail -c 600 first.err)"
killed=""
for _ in $(seq 400); do
  a=$(grep -E '^cbtrade live: ticks=' first.err | tail -n 2 | head -n 1)
  b=$(last_status first.err)
  if [ -n "$a" ] && [ "$a" != "$b" ] && [ "$(field "$b" fills)" -ge 2 ] && [ "$(field "$a" fills)" = "$(field "$b" fills)" ] &&
    [ "$(field "$a" position)" = "$(field "$b" position)" ]; then
    kill -KILL "$LIVE_PID"
    killed=$b
    break
  fi
  sleep 0.1
done
wait "$LIVE_PID" 2>/dev/null
[ -n "$killed" ] || fail "first: no two status lines with the same fills (>= 2) in 40 s: $(last_status first.err)"
ls journal/journal-*.cbj >/dev/null 2>&1 || fail "first: no journal segment in ./journal"

# 2. The restart: the books from the journal, equal to the first run's last reported position.
live second 4
wait_exit
[ "$RC" = 0 ] || fail "second: exit $RC: $(tail -c 600 second.err)"
expect_grep second.err '^cbtrade live: journal: journal/journal-0+1\.cbj, [0-9]+ records; position ' "second: journal described"
expect_grep second.err '^cbtrade live: restored from the journal: position ' "second: books restored"
restored=$(grep -oE 'restored from the journal: position [-0-9.e]+' second.err | awk '{print $NF}')
python3 - "$(field "$killed" position)" "${restored:-nan}" <<'PY' || fail "second: restored position ${restored:-none}, the first run last reported $(field "$killed" position)"
import sys
a, b = float(sys.argv[1]), float(sys.argv[2])
assert abs(a - b) <= 1e-7 * max(1.0, abs(a)), (a, b)
PY
expect_exit 0 "journal command" -- "$CBTRADE" journal --journal-dir journal
expect_grep out "^journal: journal/journal-0+1\.cbj, [0-9]+ records; position [0-9.]+, cash " "journal command: the books"
grep -q 'order .* had no recorded fill' second.err && echo "note: an intent was open at the kill (ended no_outcome)"

# 3. A torn tail: the last 3 bytes cut. Cut with a warning; the daemon starts.
seg=$(ls journal/journal-*.cbj | tail -n 1)
size=$(stat -c %s "$seg")
truncate -s $((size - 3)) "$seg"
live torn 3
wait_exit
[ "$RC" = 0 ] || fail "torn: exit $RC: $(tail -c 600 torn.err)"
expect_grep torn.err 'warning: journal: .*the end was cut short by a crash' "torn: warning"
expect_grep torn.err 'running' "torn: started"
# The cut record was the last order's end: its fill is in the books, so it is ended as filled, not as
# an order that never filled.
if grep -q 'a order_end record cut short' torn.err; then
  expect_grep torn.err 'its fill [0-9.e-]+ is in the books; its end was lost' "torn: the filled order's end"
fi

# 4. Corruption before the end: one byte in the middle flipped. Exit 1, naming the file.
seg=$(ls journal/journal-*.cbj | tail -n 1)
size=$(stat -c %s "$seg")
python3 - "$seg" $((size / 2)) <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x5A]))
PY
live corrupt 3
wait_exit
[ "$RC" = 1 ] || fail "corrupt: exit $RC, want 1: $(tail -c 600 corrupt.err)"
expect_grep corrupt.err 'journal-0+1\.cbj.* is corrupt at byte [0-9]+' "corrupt: the file and offset named"
grep -q 'running' corrupt.err && fail "corrupt: it started trading"
expect_exit 1 "journal command on the corrupt journal" -- "$CBTRADE" journal --journal-dir journal

stop_pid "$SIM_PID"
finish
