#!/usr/bin/env bash
# cbtrade backfill and cbtrade check against cbtrade-sim over TLS (the production io_uring + TLS REST
# client, the sim's test CA): a 6,000-candle backfill across 20 pages equals the sim's series; a
# backfill resumed in two runs, or after a half-written last line, is byte-identical to an
# uninterrupted one; missing candles at page edges stay missing (never duplicated or invented); the
# result feeds `cbtrade backtest`; works without credentials. `check`: one line per check, exit 0
# only when all pass, an actionable line for a missing key, a wrong key (401), a skewed clock, a key
# without trade permission (403 / can_trade false), a disabled product, an unreachable host; the key
# never appears in the output. `feed` signs its subscriptions with the key (the sim verifies them).
# Keys are made here with openssl. Everything started here is killed on exit; every wait is bounded.
source "$(dirname "$0")/lib.sh"
SIM=${CBTRADE_SIM:-${BUILD_ROOT:-}/cbtrade-sim}
[ -x "$SIM" ] || { echo "SKIP: cbtrade-sim not found at '$SIM'"; exit 77; }
[ -x "$CBTRADE" ] || { echo "SKIP: cbtrade not found"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl not found"; exit 77; }

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
cd "$SCRATCH"

probe_out=$(COINBASE_API_BASE=https://127.0.0.1:1/api/v3/brokerage "$CBTRADE" check 2>&1)
if grep -q "io_uring unavailable" <<<"$probe_out"; then
  echo "SKIP: $(grep -m1 'io_uring unavailable' <<<"$probe_out")"
  exit 77
fi

# Keys: an Ed25519 key in Coinbase's JSON form, and an EC key as SEC1 PEM; the sim gets the public halves.
openssl genpkey -algorithm ed25519 -out ed.pem 2>/dev/null
openssl pkey -in ed.pem -pubout -out ed.pub
ED_B64=$(python3 - <<'EOF'
import base64, subprocess
der = subprocess.run(["openssl", "pkey", "-in", "ed.pem", "-outform", "DER"], capture_output=True).stdout
pub = subprocess.run(["openssl", "pkey", "-in", "ed.pem", "-pubout", "-outform", "DER"], capture_output=True).stdout
print(base64.b64encode(der[-32:] + pub[-32:]).decode())
EOF
)
printf '{"id":"3f2a9c4e-0000-4000-8000-00000000ed25","privateKey":"%s"}\n' "$ED_B64" >key.json
openssl ecparam -name prime256v1 -genkey -noout -out ec.pem 2>/dev/null
openssl ec -in ec.pem -pubout -out ec.pub 2>/dev/null
openssl genpkey -algorithm ed25519 -out other.pem 2>/dev/null
EC_NAME=organizations/org-1/apiKeys/ec-key

# A series that ended a few minutes ago: 7,000 one-minute candles.
NOW=$(date +%s)
START=$(( (NOW / 60 - 7005) * 60 ))
"$CBTRADE_GEN" --rows 7000 --seed 5 --start "$START" --out series.csv >/dev/null ||
  { fail "cbtrade-gen failed"; finish; }

# start_sim NAME ARGS...: sets SIM_PID and PORT; the CA is NAME.ca.pem.
start_sim() {
  local name=$1
  shift
  "$SIM" --ca-out "$name.ca.pem" --api-key "3f2a9c4e-0000-4000-8000-00000000ed25=ed.pub" \
    --api-key "$EC_NAME=ec.pub" "$@" >"$name.out" 2>"$name.err" &
  SIM_PID=$!
  PIDS+=("$SIM_PID")
  PORT=""
  local line
  for _ in $(seq 100); do
    line=$(head -n 1 "$name.out" 2>/dev/null)
    if [[ $line =~ ^listening\ 127\.0\.0\.1:([0-9]+)$ ]] && [ -s "$name.ca.pem" ]; then
      PORT=${BASH_REMATCH[1]}
      export COINBASE_API_BASE="https://127.0.0.1:$PORT/api/v3/brokerage" TLS_CA_FILE="$SCRATCH/$name.ca.pem"
      return 0
    fi
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "$name: simulator did not start; stderr: $(head -c 600 "$name.err")"
  return 1
}
stop_sim() {
  kill -TERM "$SIM_PID" 2>/dev/null
  for _ in $(seq 50); do
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SIM_PID" 2>/dev/null
  wait "$SIM_PID" 2>/dev/null
}
field() {  # FILE KEY: value of KEY=<v> on the last line that has it
  grep -oE "(^| )$2=[-0-9]+" "$1" | tail -n 1 | sed 's/.*=//'
}
# same_candles A B [FIRST N]: the candle rows of A equal rows FIRST..FIRST+N-1 of B as numbers.
same_candles() {
  python3 - "$@" <<'EOF'
import sys
def rows(path):
    with open(path) as f:
        lines = f.read().splitlines()
    assert lines[0] == "time,open,high,low,close,volume", (path, lines[0])
    return [tuple(float(x) for x in l.split(",")) for l in lines[1:]]
a, b = rows(sys.argv[1]), rows(sys.argv[2])
if len(sys.argv) > 3:
    first, n = int(sys.argv[3]), int(sys.argv[4])
    b = b[first:first + n]
if a != b:
    diff = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    print(f"{len(a)} vs {len(b)} rows; first difference at row {diff}: "
          f"{a[diff] if diff < len(a) else None} vs {b[diff] if diff < len(b) else None}")
    sys.exit(1)
EOF
}

unset COINBASE_API_KEY_NAME COINBASE_API_PRIVATE_KEY COINBASE_API_SECRET COINBASE_API_PRIVATE_KEY_FILE

# ---- backfill ------------------------------------------------------------------------------------
if start_sim bf --csv series.csv --quiet; then
  # 1. 6,000 candles across 20 pages, public endpoints (no credentials), equal to the series.
  expect_exit 0 "backfill 20 pages" -- "$CBTRADE" backfill --product BTC-USD --granularity ONE_MINUTE \
    --limit 300 --pages 20 --start "$START" --out full.csv
  cp err full.err
  expect_grep out "^backfill: 6000 candles .* in 20 pages" "backfill summary"
  expect_grep full.err "public endpoint" "backfill without credentials uses the public endpoints"
  expect_grep full.err "^backfill: page 20/20: 300 candles" "plain progress lines when not on a terminal"
  [ "$(wc -l <full.csv)" = 6001 ] || fail "backfill: $(wc -l <full.csv) lines, want header + 6000"
  msg=$(same_candles full.csv series.csv 0 6000) || fail "backfill differs from the sim's series: $msg"

  # 2. Resumed in two runs == uninterrupted, byte for byte.
  expect_exit 0 "backfill part 1" -- "$CBTRADE" backfill --limit 300 --pages 7 --start "$START" --out resumed.csv
  expect_grep out "stopped at .* run again to continue" "an incomplete run says how to continue"
  expect_exit 0 "backfill part 2" -- "$CBTRADE" backfill --limit 300 --pages 13 --out resumed.csv
  expect_grep out "resumed after" "the second run resumes"
  cmp -s resumed.csv full.csv || fail "resumed backfill differs from the uninterrupted one"

  # 3. A half-written last line (an interrupted write) is cut, then the run resumes.
  head -c $(( $(stat -c %s full.csv) / 3 )) full.csv >cut.csv
  [ "$(tail -c 1 cut.csv | od -An -tx1 | tr -d ' ')" != 0a ] || fail "test set-up: the cut should fall inside a line"
  expect_exit 0 "backfill after a cut line" -- "$CBTRADE" backfill --limit 300 --pages 20 --out cut.csv \
    --end $(( START + 6000 * 60 ))
  expect_grep err "cut a half-written last line" "the cut line is reported"
  cmp -s cut.csv full.csv || fail "backfill after a cut line differs from the uninterrupted one"

  # 4. A --start after the file's end would leave a hole: refused (exit 2).
  expect_exit 2 "gap refused" -- "$CBTRADE" backfill --limit 300 --pages 1 --start $(( START + 9000 * 60 )) \
    --out full.csv
  expect_grep err "would leave a gap" "gap message"

  # 5. The result is what the backtest reads.
  expect_exit 0 "backtest the backfill" -- "$CBTRADE" backtest full.csv
  expect_grep out "trades" "backtest report"

  # 6. On a terminal: a progress bar.
  rm -f tty.csv
  script -qec "$CBTRADE backfill --limit 300 --pages 3 --start $START --out tty.csv" /dev/null >tty.log 2>&1
  grep -q $'\r\[####' tty.log || fail "no progress bar on a terminal: $(head -c 300 tty.log)"
  stop_sim
fi

# 7. Missing candles at page edges stay missing: no duplicate, none invented, none lost.
python3 - <<'EOF'
lines = open("series.csv").read().splitlines()
drop = {299, 300, 599, 600, 601, 1199}  # data rows around the 300-candle page edges
open("holes.csv", "w").write("\n".join([lines[0]] + [l for i, l in enumerate(lines[1:]) if i not in drop]) + "\n")
EOF
if start_sim holes --csv holes.csv --quiet; then
  expect_exit 0 "backfill with holes" -- "$CBTRADE" backfill --limit 300 --pages 5 --start "$START" --out h.csv
  msg=$(same_candles h.csv holes.csv 0 $((1500 - 6))) || fail "backfill across holes: $msg"
  stop_sim
fi

# ---- check ---------------------------------------------------------------------------------------
ok_lines() { grep -c '^\[ok  \]' "$1"; }
if start_sim chk --csv series.csv --quiet; then
  # All pass with the key JSON (Ed25519) and with an EC key given inline.
  expect_exit 0 "check with the key JSON" -- env COINBASE_API_PRIVATE_KEY_FILE=key.json "$CBTRADE" check
  [ "$(ok_lines out)" = 5 ] || fail "check: want 5 ok lines: $(cat out)"
  expect_grep out "^\[ok  \] key +'3f2a9c4e-0000-4000-8000-00000000ed25', EdDSA" "key line names key and algorithm"
  expect_grep out "^\[ok  \] accounts +3 accounts: USD 100000, BTC 1, ETH 1" "balances per currency"
  expect_grep out "^\[ok  \] product +BTC-USD online: base_increment 0.00000001, quote_increment 0.01" "product line"
  expect_grep out "^\[ok  \] orders +market orders on BTC-USD would be accepted" "orders line"
  grep -qF "${ED_B64:0:16}" out err && fail "check output contains the private key"
  expect_exit 0 "check with an EC key" -- env COINBASE_API_KEY_NAME="$EC_NAME" \
    COINBASE_API_PRIVATE_KEY="$(cat ec.pem)" "$CBTRADE" check
  expect_grep out "ES256, EC P-256 \(SEC1 PEM\)" "EC key line"

  # No key: public checks still run; exit 1.
  expect_exit 1 "check without a key" -- "$CBTRADE" check
  expect_grep out "^\[FAIL\] key +no API key: set COINBASE_API_KEY_NAME" "missing key advice"
  expect_grep out "^\[ok  \] clock" "clock checked without a key"

  # The key's name with another key: 401, with what to check.
  expect_exit 1 "check with a wrong key" -- env COINBASE_API_KEY_NAME="3f2a9c4e-0000-4000-8000-00000000ed25" \
    COINBASE_API_PRIVATE_KEY_FILE=other.pem "$CBTRADE" check
  expect_grep out "^\[FAIL\] accounts +list accounts: HTTP 401 'Unauthorized'; the JWT was refused: check COINBASE_API_KEY_NAME and the key, the clock" \
    "401 advice"
  expect_grep out "^\[ok  \] product" "the product is checked on the public endpoint, whatever the key"

  # A key that does not parse: named, never shown.
  printf 'not a key at all' >bad.pem
  expect_exit 1 "check with a broken key" -- env COINBASE_API_KEY_NAME=k COINBASE_API_PRIVATE_KEY_FILE=bad.pem \
    "$CBTRADE" check
  expect_grep out "^\[FAIL\] key +COINBASE_API_PRIVATE_KEY_FILE '.*bad.pem': not a PEM key and not base64" "broken key line"
  grep -q "not a key at all" out err && fail "check printed the key file's content"
  stop_sim
fi

if start_sim skew --csv series.csv --quiet --clock-offset-sec 600; then
  expect_exit 1 "check with a skewed clock" -- env COINBASE_API_PRIVATE_KEY_FILE=key.json "$CBTRADE" check
  expect_grep out "^\[FAIL\] clock +the exchange clock is \+600\.[0-9] s from this machine's.*NTP" "skew fails"
  expect_grep out "^\[FAIL\] accounts +list accounts: HTTP 401" "skew gives 401"
  stop_sim
fi
if start_sim skew10 --csv series.csv --quiet --clock-offset-sec 10; then
  expect_exit 0 "check with a small skew" -- env COINBASE_API_PRIVATE_KEY_FILE=key.json "$CBTRADE" check
  expect_grep out "^\[warn\] clock +the exchange clock is \+10\.[0-9] s .*above 5 s" "skew warning"
  expect_exit 0 "backfill with a small skew" -- env COINBASE_API_PRIVATE_KEY_FILE=key.json "$CBTRADE" backfill \
    --limit 300 --pages 1 --start "$START" --out skew10.csv
  expect_grep err "warning: the exchange clock is \+10\.[0-9] s from this machine's: above 5 s" "backfill skew warning"
  expect_grep err "authenticated endpoint" "backfill with a key signs its requests"
  expect_exit 0 "backfill without a key" -- "$CBTRADE" backfill --limit 300 --pages 1 --start "$START" --out skew10p.csv
  grep -q "clock" err && fail "a public backfill does not measure the clock: $(head -c 300 err)"
  stop_sim
fi
if start_sim scope --csv series.csv --quiet --no-trade-scope; then
  expect_exit 1 "check with a view-only key" -- env COINBASE_API_PRIVATE_KEY_FILE=key.json "$CBTRADE" check
  expect_grep out "^\[FAIL\] orders +the key cannot trade \(no trade permission\)" "trade scope advice"
  stop_sim
fi
if start_sim forbidden --csv series.csv --quiet --rest-fault accounts:403; then
  expect_exit 1 "check with a 403" -- env COINBASE_API_PRIVATE_KEY_FILE=key.json "$CBTRADE" check
  expect_grep out "^\[FAIL\] accounts +list accounts: HTTP 403 PERMISSION_DENIED: 'Missing required scopes'; the key lacks a permission .*edit it in the CDP portal" \
    "403 advice"
  stop_sim
fi
if start_sim disabled --csv series.csv --quiet --trading-disabled; then
  expect_exit 1 "check with trading disabled" -- env COINBASE_API_PRIVATE_KEY_FILE=key.json "$CBTRADE" check
  expect_grep out "^\[FAIL\] orders +market orders on BTC-USD are not allowed now: trading_disabled is true" \
    "disabled product"
  stop_sim
fi
expect_exit 1 "check with the exchange unreachable" -- env COINBASE_API_PRIVATE_KEY_FILE=key.json \
  COINBASE_API_BASE=https://127.0.0.1:1/api/v3/brokerage "$CBTRADE" check
expect_grep out "^\[FAIL\] clock +cannot reach 127.0.0.1:1: .*check COINBASE_API_BASE" "network advice"
expect_grep out "^\[skip\] accounts +the exchange is unreachable" "later checks skipped"

# ---- feed: authenticated subscriptions ------------------------------------------------------------
if start_sim ws --csv series.csv --pace max --messages 50; then
  COINBASE_WS_URL="wss://localhost:$PORT" COINBASE_API_PRIVATE_KEY_FILE=key.json \
    timeout -k 2 30 "$CBTRADE" feed --max-ticks 50 --duration-sec 20 >ws.feed.out 2>ws.feed.err
  expect_grep ws.feed.err "authenticated subscriptions with key '3f2a9c4e-0000-4000-8000-00000000ed25' \(EdDSA" \
    "feed says it signs"
  stop_sim
  # One signed subscribe per channel (heartbeats, ticker, market_trades...), each accepted.
  jwts=$(field ws.err ws_jwts)
  [ -n "$jwts" ] && [ "$jwts" -ge 2 ] || fail "the sim accepted '$jwts' subscribe JWTs, want one per channel: $(tail -c 300 ws.err)"
  grep -q "refused: JWT" ws.err && fail "the sim refused a subscription signed with the right key: $(grep -m1 'refused: JWT' ws.err)"
fi
if start_sim wsbad --csv series.csv --pace max --messages 50; then
  COINBASE_WS_URL="wss://localhost:$PORT" COINBASE_API_KEY_NAME="3f2a9c4e-0000-4000-8000-00000000ed25" \
    COINBASE_API_PRIVATE_KEY_FILE=other.pem timeout -k 2 30 "$CBTRADE" feed --duration-sec 2 >wsbad.feed.out 2>wsbad.feed.err
  stop_sim
  expect_grep wsbad.err "refused: JWT bad signature" "the sim refuses a subscription signed with another key"
  [ "$(field wsbad.err ws_jwts)" = 0 ] || fail "a JWT of another key was accepted"
fi

finish
