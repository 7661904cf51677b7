// Subcommands of `cbtrade` that live in their own files. Each returns the process exit code and
// reports its own errors as one line on stderr (0 ok, 1 run failed, 2 usage or configuration).
#pragma once

// cbtrade feed: connect to COINBASE_WS_URL and print decoded ticks (tools/cmd_feed.cpp).
int cmd_feed(int argc, char** argv);
