// cbtrade replay: a RECORD_TICKS recording through the very same signal and exec stages as the live
// run, at full speed (pipeline/replay.hpp). Prints the decision-log lines (decisions and fills) and
// a summary; with --compare, the first difference from the live run's DECISION_LOG, or "identical".
// Exit: 0 identical (or no --compare), 1 different or the recording is incomplete, 2 usage/config.
#include <unistd.h>  // environ

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "pipeline/history.hpp"
#include "pipeline/recording.hpp"
#include "pipeline/replay.hpp"
#include "tools/cli_args.hpp"
#include "tools/commands.hpp"

namespace {

using namespace cbtrade;

constexpr const char* replay_usage =
    "usage: cbtrade replay TICKS [--history FILE] [--compare DECISION_LOG] [--quiet] [--env-file FILE]...\n"
    "  run a recording made with RECORD_TICKS through the live signal and exec stages; print every\n"
    "  decision and fill (as DECISION_LOG lines) and a summary. Use the live run's configuration and\n"
    "  history. --compare reports the first difference from the live run's DECISION_LOG, or that they\n"
    "  are identical (exit 1 when they differ). --quiet prints only the summary.\n";

int run(int argc, char** argv) {
    const Args a = parse_args(argc, argv, 2, {"--help", "--quiet"}, {"--history", "--compare"});
    if (a.flag("--help")) {
        std::fputs(replay_usage, stdout);
        return 0;
    }
    if (a.positional.size() != 1) throw UsageError("replay needs exactly one recording file");
    const std::vector<std::string>& env_files = a.env_files;
    const std::vector<std::string>& positional = a.positional;
    const std::string compare = a.value("--compare");
    const bool quiet = a.flag("--quiet");
    LoadedConfig lc = load_config(env_files, environ);
    for (const auto& w : lc.warnings) std::fprintf(stderr, "cbtrade: warning: %s\n", w.c_str());
    Config cfg = lc.config;
    if (a.flag("--history")) cfg.history_file = a.value("--history");

    const PreparedHistory history = prepare_history(cfg, cfg.history_file);
    if (!history.description.empty()) std::fprintf(stderr, "cbtrade replay: history %s\n", history.description.c_str());
    if (!history.not_trading.empty())
        std::fprintf(stderr, "cbtrade replay: no model: %s (as the live run would not trade)\n",
                     history.not_trading.c_str());
    RecordingReader reader(positional[0]);
    std::vector<std::string> lines;
    const ReplayResult r = replay_recording(cfg, history, reader, [&](const std::string& line) {
        if (!quiet) std::printf("%s\n", line.c_str());
        if (!compare.empty()) lines.push_back(line);
    });
    std::fflush(stdout);
    std::fprintf(stderr,
                 "cbtrade replay: %llu events (%llu trades), %llu candles, %llu decisions, %llu fills, %llu refits, "
                 "final equity %.2f USD, %.3f s\n",
                 static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.trades),
                 static_cast<unsigned long long>(r.candles), static_cast<unsigned long long>(r.decisions),
                 static_cast<unsigned long long>(r.fills), static_cast<unsigned long long>(r.refits),
                 r.final_equity_usd, r.seconds);
    int code = 0;
    if (r.lost_events) {
        std::fprintf(stderr, "cbtrade replay: the recording is incomplete: %llu events were lost when it was made\n",
                     static_cast<unsigned long long>(r.lost_events));
        code = 1;
    }
    if (!compare.empty()) {
        const LogComparison c = compare_decision_log(compare, lines);
        std::fprintf(stderr, "cbtrade replay: compare with %s: %s\n", escape_for_message(compare).c_str(),
                     c.message.c_str());
        if (!c.identical) code = 1;
    }
    return code;
}

}  // namespace

int cmd_replay(int argc, char** argv) {
    return run_command("replay", replay_usage, run, argc, argv);
}
