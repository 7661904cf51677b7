#!/usr/bin/env bash
# cbtrade backtest end to end: reports, determinism, pacing, and bad input.
source "$(dirname "$0")/lib.sh"
cd "$SCRATCH"
DATA="$SOURCE_ROOT/data/BTC-USD.csv"

expect_exit 0 "sample backtest" -- "$CBTRADE" backtest "$DATA" --json a.json --html a.html
for field in "trades" "win rate" "total return" "max drawdown" "sharpe" "fees paid" "exposure" "buy and hold" \
  "candles/s"; do
  expect_grep out "$field" "report line"
done
expect_grep out "decisions +buy [1-9][0-9]*, sell [1-9][0-9]*, flat [1-9][0-9]*" "all three signals on the sample"
expect_exit 0 "second run" -- "$CBTRADE" backtest "$DATA" --json b.json
cmp -s a.json b.json || fail "JSON reports differ between identical runs"
python3 -c 'import json,sys; r=json.load(open("a.json")); assert r["candles_total"]==6000 and r["candles_traded"]==1800, r' \
  || fail "JSON report does not parse or has wrong counts"
expect_grep a.html "<svg" "HTML has inline SVG"
expect_grep a.html 'class="buy"' "HTML has trade markers"

# The earlier stack's env file works as is; its sizes are below ORDER_MIN_USD, which the report shows.
expect_exit 0 "bot.env backtest" -- env BACKTEST_SLEEP_MS=0 "$CBTRADE" backtest "$DATA" --env-file "$SOURCE_ROOT/tests/data/bot.env"
expect_grep out "model extended" "MODEL_MODE from bot.env"
expect_grep out "below ORDER_MIN_USD [1-9]" "entries skipped below the minimum are reported"
expect_grep out "walk-forward fits +[1-9]" "walk-forward refits"

# Pacing: --sleep-ms beats the env file; 1800 traded candles x 1 ms >= 1.8 s.
start=$(date +%s%N)
expect_exit 0 "paced run" -- "$CBTRADE" backtest "$DATA" --sleep-ms 1
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed_ms" -ge 1800 ] || fail "--sleep-ms 1 took only ${elapsed_ms} ms for 1800 candles"
expect_exit 2 "bad --sleep-ms" -- "$CBTRADE" backtest "$DATA" --sleep-ms soon
expect_grep err "BACKTEST_SLEEP_MS='soon'" "bad sleep value named"

# Bad input: clear errors with file:line, non-zero exit, no report.
printf 'time,open,high,low,close,volume\n' >header_only.csv
expect_exit 1 "header only" -- "$CBTRADE" backtest header_only.csv
expect_grep err "header_only.csv: no candle rows" "header-only file"
: >empty.csv
expect_exit 1 "empty file" -- "$CBTRADE" backtest empty.csv
expect_grep err "empty.csv: file is empty" "empty file"
head -n 100 "$DATA" >short.csv
expect_exit 1 "too few rows" -- "$CBTRADE" backtest short.csv
expect_grep err "short.csv: need at least [0-9]+ candles" "too few rows"
{ head -n 500 "$DATA"; echo "1704097200,1,2,3"; tail -n +501 "$DATA"; } >bad_row.csv
expect_exit 1 "short row" -- "$CBTRADE" backtest bad_row.csv
expect_grep err "bad_row.csv:501: too few columns" "row with too few columns"
[ ! -s out ] || fail "a report was printed for bad input"
expect_exit 0 "skip bad rows" -- "$CBTRADE" backtest bad_row.csv --skip-bad-rows
expect_grep out "skipped rows +1" "skipped rows reported"
expect_exit 1 "missing file" -- "$CBTRADE" backtest nope.csv
expect_grep err "nope.csv: CSV file cannot be read: No such file or directory" "missing file"
mkfifo fifo.csv
expect_exit 1 "CSV is a FIFO" -- timeout 20 "$CBTRADE" backtest fifo.csv
expect_grep err "fifo.csv: CSV file is a FIFO \(named pipe\), not a regular file" "FIFO CSV"
# Issue 9 item 1: a CSV truncated while the backtest reads it is an error or a consistent run,
# never a signal (the reader used to map the file: SIGBUS). Cut at several moments of the read.
awk 'BEGIN { print "time,open,high,low,close,volume";
  for (i = 0; i < 2000000; i++) printf "%d,100.5,101.25,99.75,100.5,1.5\n", 1704067200 + 60 * i }' >cut.csv
for delay in 0.05 0.2 0.6; do
  cp cut.csv cutting.csv
  "$CBTRADE" backtest cutting.csv >cut.out 2>cut.err &
  pid=$!
  sleep "$delay"
  truncate -s 1000 cutting.csv
  wait "$pid"
  rc=$?
  [ "$rc" -lt 128 ] || fail "backtest of a file truncated after ${delay}s died of signal $((rc - 128))"
  # A slow start (a sanitized build, a loaded machine) may open the file only after the cut: then it is
  # a 1000-byte file ending inside row 26, and that row's error is the right answer.
  if [ "$rc" = 1 ] && ! grep -qE "changed while it was read|need at least|cannot be read|cutting.csv:26: too few columns" cut.err; then
    fail "truncated file after ${delay}s: unexpected error $(head -c 300 cut.err)"
  fi
done
# Issue 9 item 11: a report that cannot be written is a failed run, not exit 0.
expect_exit 1 "stdout on a full disk" -- bash -c '"$0" backtest "$1" >/dev/full' "$CBTRADE" "$DATA"
expect_grep err "standard output: write failed: No space left on device" "stdout write error"
expect_exit 1 "JSON on a full disk" -- "$CBTRADE" backtest "$DATA" --json /dev/full
expect_grep err "/dev/full: JSON report write failed: No space left on device" "JSON write error"
expect_exit 1 "HTML into a missing directory" -- "$CBTRADE" backtest "$DATA" --html no/such/dir/a.html
expect_exit 1 "config on a full disk" -- bash -c '"$0" config >/dev/full' "$CBTRADE"
expect_exit 2 "no file" -- "$CBTRADE" backtest
expect_exit 2 "unknown option" -- "$CBTRADE" backtest "$DATA" --frobnicate

# A larger generated file runs too.
"$CBTRADE_GEN" --rows 50000 --seed 9 --out big.csv || fail "generator"
expect_exit 0 "50k-row backtest" -- "$CBTRADE" backtest big.csv
expect_grep out "candles +50000 \(fit 35000, traded 15000\)" "large file split"
finish
