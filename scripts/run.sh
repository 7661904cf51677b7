#!/usr/bin/env bash
# The main job: installs what is missing, builds, and backtests the shipped sample data.
# Extra arguments go to `cbtrade backtest` (e.g. --env-file my.env).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
cbtrade_install "${CBTRADE_BUILD_PACKAGES[@]}"
cbtrade_build build "$(cbtrade_wolfssl_args)"
mkdir -p "$CBTRADE_ROOT/out"
exec "$CBTRADE_ROOT/build/cbtrade" backtest "$CBTRADE_ROOT/data/BTC-USD.csv" \
  --json "$CBTRADE_ROOT/out/backtest.json" --html "$CBTRADE_ROOT/out/backtest.html" "$@"
