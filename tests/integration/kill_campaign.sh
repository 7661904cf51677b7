#!/usr/bin/env bash
# The kill -9 campaign, sized for CI (issue 13 item 3): scripts/kill_campaign.sh with 15 kill points
# on a random seed it prints (rerun a failure with that seed): random instants, between intent and
# send, between send and answer; restarts on one journal. Its checks: no duplicate order, no order
# while an earlier outcome was unknown, no journal order left open, every restart trading, books
# equal to the sim's ledger. Skipped on a build without reconciliation at start-up (a restart after a
# kill between send and answer would refuse to trade).
if ! "$CBTRADE" live --help 2>&1 | grep -q -- '--accept-reconciliation'; then
  echo "SKIP: this cbtrade has no reconciliation at start-up (cbtrade live --accept-reconciliation)"
  exit 77
fi
export CBTRADE_SIM=${CBTRADE_SIM:-${BUILD_ROOT:-}/cbtrade-sim}
exec "$SOURCE_ROOT/scripts/kill_campaign.sh" --kills 15
