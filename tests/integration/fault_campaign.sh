#!/usr/bin/env bash
# The fault campaign, short (issue 13 item 4): scripts/fault_campaign.sh with 25 faults on a random
# seed it prints (rerun a failure with that seed). Its checks: no crash, no entry on stale data, no
# duplicate order, no order while an earlier outcome was unknown, books equal to the sim's ledger.
export CBTRADE_SIM=${CBTRADE_SIM:-${BUILD_ROOT:-}/cbtrade-sim}
exec "$SOURCE_ROOT/scripts/fault_campaign.sh" --faults 25
