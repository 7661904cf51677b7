#!/usr/bin/env bash
# Configuration through the CLI: exit code 2 and one line naming key, value and what is accepted.
source "$(dirname "$0")/lib.sh"
cd "$SCRATCH"

printf 'MAX_DAILY_LOSS_PCT=-1\n' >neg.env
expect_exit 2 "negative percentage" -- "$CBTRADE" config --env-file neg.env
expect_grep err "neg.env:1: MAX_DAILY_LOSS_PCT='-1' is invalid: expected a percentage" "negative percentage"
[ "$(wc -l <err)" -eq 1 ] || fail "config error is not one line: $(cat err)"

printf 'BUY_THRESHOLD=2\n' >thr.env
expect_exit 2 "threshold outside [0,1]" -- "$CBTRADE" backtest "$SOURCE_ROOT/data/BTC-USD.csv" --env-file thr.env
expect_grep err "BUY_THRESHOLD='2' is invalid: expected a probability from 0 to 1" "threshold"

expect_exit 2 "unknown MODEL_MODE from environment" -- env MODEL_MODE=deep "$CBTRADE" config
expect_grep err "environment: MODEL_MODE='deep' is invalid: expected baseline or extended" "env MODEL_MODE"
expect_exit 2 "unknown GRANULARITY" -- env GRANULARITY=TEN_MINUTE "$CBTRADE" config
expect_grep err "GRANULARITY='TEN_MINUTE'" "granularity"

printf 'MODEL_MOD=extended\n' >typo.env
expect_exit 0 "unknown key is a warning" -- "$CBTRADE" config --env-file typo.env
expect_grep err "typo.env:1: unknown key MODEL_MOD \(ignored\); did you mean MODEL_MODE\?" "did you mean"

printf 'PORT=9000\nUSD_EQUITY=10\n' >a.env
printf 'PORT=9100\n' >b.env
expect_exit 0 "layering" -- env USD_EQUITY=77 "$CBTRADE" config --env-file a.env --env-file b.env
expect_grep out "^PORT=9100$" "later file wins"
expect_grep out "^USD_EQUITY=77$" "environment wins"

printf 'SLACK_WEBHOOK=https://hooks.slack.com/services/T000/B000/SECRETSECRET\nCOINBASE_API_PRIVATE_KEY="-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEE\\n-----END EC PRIVATE KEY-----"\n' >secret.env
expect_exit 0 "secrets redacted" -- "$CBTRADE" config --env-file secret.env
expect_grep out "^SLACK_WEBHOOK=<set>$" "webhook redacted"
expect_grep out "^COINBASE_API_PRIVATE_KEY=<set>$" "key redacted"
if grep -q "SECRETSECRET\|MHcCAQEE" out err; then fail "a secret was printed"; fi

expect_exit 0 "key list" -- "$CBTRADE" config --keys
for key in PRODUCT_ID GRANULARITY DRY_RUN LONG_ONLY ORDER_MIN_USD MAX_DAILY_LOSS_PCT RISK_PER_TRADE_PCT USD_EQUITY \
  TAKE_PROFIT_PCT STOP_LOSS_PCT BUY_THRESHOLD SELL_THRESHOLD USE_MA_FILTER BACKTEST_SLEEP_MS PORT BRIDGE_URL BRIDGE_LISTEN \
  USE_LIVE_EQUITY MODEL_MODE WALK_FORWARD_MIN VOL_RISK_ADJUST SLACK_WEBHOOK USE_TICK_PRICE COINBASE_API_KEY_NAME \
  COINBASE_API_PRIVATE_KEY COINBASE_API_SECRET COINBASE_API_BASE COINBASE_WS_URL COINBASE_WS_PRODUCTS \
  COINBASE_WS_STALE_SEC FEE_BPS SLIPPAGE_BPS; do
  expect_grep out "^$key " "key $key listed"
done
# A URL the feed cannot use is a configuration error (exit 2) naming the key, before any connect.
expect_exit 2 "COINBASE_WS_URL port out of range" -- env COINBASE_WS_URL=wss://localhost:99999 "$CBTRADE" feed --duration-sec 1
expect_grep err "COINBASE_WS_URL: port '99999' is out of range 1\.\.65535" "bad ws port named"
expect_exit 2 "COINBASE_WS_URL with userinfo" -- env COINBASE_WS_URL=wss://u:pw@localhost/ "$CBTRADE" feed --duration-sec 1
expect_grep err "COINBASE_WS_URL: user information" "userinfo refused"
if grep -q "pw@" err; then fail "userinfo echoed"; fi
expect_exit 2 "unreadable TLS_CA_FILE" -- env COINBASE_WS_URL=wss://127.0.0.1:1 TLS_CA_FILE=/nonexistent/ca.pem "$CBTRADE" feed --duration-sec 1
expect_grep err "TLS_CA_FILE" "unreadable CA file named"
expect_exit 2 "missing env file" -- "$CBTRADE" config --env-file /nonexistent.env
expect_grep err "/nonexistent.env: env file cannot be read: No such file or directory" "missing env file"
# Issue 9 items 2-3: FIFOs, directories and endless devices are refused at once (timeout: no hang).
mkfifo fifo.env
expect_exit 2 "env file is a FIFO" -- timeout 20 "$CBTRADE" config --env-file fifo.env
expect_grep err "fifo.env: env file is a FIFO \(named pipe\), not a regular file" "FIFO env file"
mkdir dir.env
expect_exit 2 "env file is a directory" -- timeout 20 "$CBTRADE" config --env-file dir.env
expect_grep err "dir.env: env file is a directory, not a regular file" "directory env file"
expect_exit 2 "env file is /dev/zero" -- timeout 20 "$CBTRADE" config --env-file /dev/zero
expect_grep err "/dev/zero: env file is a character device, not a regular file" "endless env file"
# Issue 9 item 13: an unreadable TLS_CA_FILE is a configuration error (exit 2) naming the key.
expect_exit 2 "missing TLS_CA_FILE" -- env TLS_CA_FILE=/nonexistent/ca.pem "$CBTRADE" config
expect_grep err "TLS_CA_FILE='/nonexistent/ca.pem' is invalid: expected a readable PEM file" "missing CA file"
expect_exit 2 "missing TLS_CA_FILE for the feed" -- env TLS_CA_FILE=/nonexistent/ca.pem "$CBTRADE" feed --duration-sec 1
expect_grep err "TLS_CA_FILE=" "feed: CA file key named"
# Issue 9 item 4: a syntax error on a secret's line never shows the line.
printf 'COINBASE_API_PRIVATE_KEY="x" SECRETTAIL\n' >tail.env
expect_exit 2 "text after a closing quote" -- "$CBTRADE" config --env-file tail.env
expect_grep err "tail.env:1: COINBASE_API_PRIVATE_KEY: unexpected text after the closing quote" "key named"
if grep -q SECRETTAIL err; then fail "the text after the quote was printed"; fi
printf 'COINBASE_API_PRIVATE_KEY=-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIPEMSECRET\n-----END EC PRIVATE KEY-----\n' >pem.env
expect_exit 2 "unquoted multi-line PEM" -- "$CBTRADE" config --env-file pem.env
expect_grep err "pem.env:2: expected KEY=VALUE" "line named"
if grep -q PEMSECRET err; then fail "a line of the key was printed"; fi
# Issue 9 item 10: numeric flags are range-checked like configuration values (exit 2, no run).
for v in inf 1e300 -1 0 nan 5x; do
  expect_exit 2 "feed --duration-sec $v" -- timeout 20 "$CBTRADE" feed --duration-sec "$v"
  expect_grep err "--duration-sec: '$v' is invalid: expected seconds above 0" "duration $v"
done
expect_exit 2 "feed --max-ticks -1" -- timeout 20 "$CBTRADE" feed --max-ticks -1
expect_exit 2 "backtest --hold-sec 1e9" -- "$CBTRADE" backtest "$SOURCE_ROOT/data/BTC-USD.csv" --hold-sec 1e9
expect_grep err "--hold-sec: '1e9' is invalid" "hold-sec"
expect_exit 2 "backtest --sleep-ms inf" -- "$CBTRADE" backtest "$SOURCE_ROOT/data/BTC-USD.csv" --sleep-ms inf
expect_exit 2 "gen --rows 1e300" -- "$CBTRADE_GEN" --rows 1e300
expect_grep err "--rows: '1e300' is invalid" "gen rows"
expect_exit 2 "gen --price inf" -- "$CBTRADE_GEN" --rows 5 --price inf
expect_exit 2 "unknown command" -- "$CBTRADE" frobnicate
expect_exit 0 "version" -- "$CBTRADE" --version
expect_grep out "^cbtrade [0-9]+\.[0-9]+\.[0-9]+$" "version line"
expect_grep out "^wolfSSL [0-9.]+ \((accelerated|system); .*AES-NI" "linked wolfSSL and AES-NI state"
finish
