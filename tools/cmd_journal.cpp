// cbtrade journal: what the order journal (JOURNAL_DIR, exec/journal.hpp) holds, as `cbtrade live`
// would read it at start-up: its books, halt, warnings and the orders whose outcome it does not
// hold. Reads only; changes nothing on disk (a torn end is reported, not cut).
#include <unistd.h>  // environ

#include <cstdio>
#include <string>

#include "core/config.hpp"
#include "core/text.hpp"
#include "exec/journal.hpp"
#include "tools/cli_args.hpp"
#include "tools/commands.hpp"

namespace {

using namespace cbtrade;

constexpr const char* journal_usage =
    "usage: cbtrade journal [--journal-dir DIR] [--env-file FILE]...\n"
    "  print what the order journal in DIR (default JOURNAL_DIR) holds for PRODUCT_ID, as cbtrade live\n"
    "  reads it at start-up: books, halt, warnings (a torn end) and open orders with their\n"
    "  client_order_id. Changes nothing. Exit 1 when the journal is corrupt (the error names the\n"
    "  file and byte), 0 otherwise.\n";

int run(int argc, char** argv) {
    const Args a = parse_args(argc, argv, 2, {"--help"}, {"--journal-dir"});
    if (a.flag("--help")) {
        std::fputs(journal_usage, stdout);
        return 0;
    }
    if (!a.positional.empty()) throw UsageError("journal takes no file arguments (use --journal-dir DIR)");
    const LoadedConfig lc = load_config(a.env_files, environ);
    for (const auto& w : lc.warnings) std::fprintf(stderr, "cbtrade: warning: %s\n", w.c_str());
    const Config& cfg = lc.config;
    const std::string dir = a.flag("--journal-dir") ? a.value("--journal-dir") : cfg.journal_dir;
    if (dir.empty()) throw UsageError("--journal-dir needs a directory");
    const journal::Recovered r = journal::recover(dir, cfg.product_id, TraderParams::from(cfg));
    std::printf("%s (%s)\n", journal::describe(r).c_str(), escape_for_message(dir).c_str());
    for (const std::string& w : r.warnings) std::printf("warning: %s\n", w.c_str());
    for (const journal::OpenOrder& o : r.open_orders)
        std::printf("open order %.*s: %s %s %s %.8g at %.2f, %.8g filled so far, %s\n",
                    static_cast<int>(o.intent.client_order_id.size()), o.intent.client_order_id.data(),
                    o.intent.live != 0 ? "live" : "paper", std::string(side_name(o.intent.side)).c_str(),
                    std::string(reason_name(o.intent.reason)).c_str(), o.intent.qty, o.intent.ref_price, o.filled_qty,
                    o.intent.live != 0 ? "outcome unknown: check it in Coinbase by its client_order_id"
                                       : "cbtrade live ends it (its journaled fill, or nothing filled)");
    return 0;
}

}  // namespace

int cmd_journal(int argc, char** argv) {
    return run_command("journal", journal_usage, run, argc, argv);
}
