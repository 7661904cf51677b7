// Subcommands of `cbtrade` that live in their own files. Each returns the process exit code and
// reports its own errors as one line on stderr (0 ok, 1 run failed, 2 usage or configuration).
#pragma once

#include <cstdio>
#include <exception>

#include "core/error.hpp"

// cbtrade feed: connect to COINBASE_WS_URL and print decoded ticks (tools/cmd_feed.cpp).
int cmd_feed(int argc, char** argv);

// cbtrade check: one line per check of the key, clock, accounts, product and order permission;
// exit 0 only when every check passes (tools/cmd_rest.cpp).
int cmd_check(int argc, char** argv);

// cbtrade backfill: paged REST candles into the backtest's CSV, resumable (tools/cmd_rest.cpp).
int cmd_backfill(int argc, char** argv);
// cbtrade bridge: the earlier stack's bridge HTTP API over the direct REST client (tools/cmd_bridge.cpp).
int cmd_bridge(int argc, char** argv);
// cbtrade live: the daemon, paper trading on the live feed (tools/cmd_live.cpp).
int cmd_live(int argc, char** argv);

// cbtrade replay: a RECORD_TICKS recording through the live signal and exec stages (tools/cmd_replay.cpp).
int cmd_replay(int argc, char** argv);
// cbtrade journal: what the order journal holds, as cbtrade live reads it (tools/cmd_journal.cpp).
int cmd_journal(int argc, char** argv);

// The command boundary of a subcommand (DESIGN.md section 4): runs body(argc, argv) and turns what
// it throws into one line on stderr and the exit code (usage errors also print the usage).
template <class Body>
int run_command(const char* name, const char* usage, Body body, int argc, char** argv) {
    try {
        return body(argc, argv);
    } catch (const cbtrade::UsageError& e) {
        std::fprintf(stderr, "cbtrade %s: %s\n%s", name, e.what(), usage);
        return 2;
    } catch (const cbtrade::ConfigError& e) {
        std::fprintf(stderr, "cbtrade: config error: %s\n", e.what());
        return 2;
    } catch (const cbtrade::Error& e) {
        std::fprintf(stderr, "cbtrade %s: error: %s\n", name, e.what());
        return static_cast<int>(e.exit_code());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cbtrade %s: error: %s\n", name, e.what());
        return 1;
    }
}
