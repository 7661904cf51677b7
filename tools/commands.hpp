// Subcommands of `cbtrade` that live in their own files. Each returns the process exit code and
// reports its own errors as one line on stderr (0 ok, 1 run failed, 2 usage or configuration).
#pragma once

// cbtrade feed: connect to COINBASE_WS_URL and print decoded ticks (tools/cmd_feed.cpp).
int cmd_feed(int argc, char** argv);

// cbtrade check: one line per check of the key, clock, accounts, product and order permission;
// exit 0 only when every check passes (tools/cmd_rest.cpp).
int cmd_check(int argc, char** argv);

// cbtrade backfill: paged REST candles into the backtest's CSV, resumable (tools/cmd_rest.cpp).
int cmd_backfill(int argc, char** argv);
