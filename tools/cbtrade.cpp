// cbtrade: the command-line entry point. Each subcommand is a function; errors from the cold path
// are caught here and reported as one line with a non-zero exit code:
//   1  the input data or a run failed (bad CSV, too few candles, I/O)
//   2  usage or configuration error
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "exec/backtest.hpp"
#include "exec/report.hpp"
#include "feeds/csv_candles.hpp"

extern char** environ;

namespace {

using namespace cbtrade;

constexpr const char* version_text = "cbtrade 0.1.0";

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

const char* usage_text =
    "usage: cbtrade <command> [options]\n"
    "\n"
    "commands:\n"
    "  backtest FILE.csv   replay candles through the strategy, trader and paper broker; print a report\n"
    "      --json FILE       also write the report as JSON (byte-identical for the same input and config)\n"
    "      --html FILE       also write a self-contained HTML page (price, trades, equity curve)\n"
    "      --sleep-ms N      pause N ms per traded candle (overrides BACKTEST_SLEEP_MS)\n"
    "      --skip-bad-rows   count and skip malformed CSV rows instead of stopping at the first\n"
    "  config              print the effective configuration (secrets shown as <set>/<unset>)\n"
    "      --keys            list every key with its default and meaning\n"
    "  version             print the version\n"
    "\n"
    "options for every command:\n"
    "  --env-file FILE     read KEY=VALUE settings (repeatable; later files win; the environment wins)\n";

// Arguments after the command: --env-file is common, the rest is the command's.
struct Args {
    std::vector<std::string> env_files;
    std::vector<std::string> positional;
    std::vector<std::pair<std::string, std::string>> options;  // --name value (value empty for flags)

    [[nodiscard]] bool flag(std::string_view name) const {
        for (const auto& [k, v] : options)
            if (k == name) return true;
        return false;
    }
    [[nodiscard]] std::string value(std::string_view name) const {
        std::string out;
        for (const auto& [k, v] : options)
            if (k == name) out = v;
        return out;
    }
};

Args parse_args(int argc, char** argv, int first, std::initializer_list<std::string_view> flags,
                std::initializer_list<std::string_view> valued) {
    Args a;
    for (int i = first; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.rfind("--", 0) != 0) {
            a.positional.push_back(arg);
            continue;
        }
        std::string value;
        bool has_inline = false;
        if (const auto eq = arg.find('='); eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg.resize(eq);
            has_inline = true;
        }
        const bool is_valued = arg == "--env-file" || std::find(valued.begin(), valued.end(), arg) != valued.end();
        const bool is_flag = std::find(flags.begin(), flags.end(), arg) != flags.end();
        if (!is_valued && !is_flag) throw UsageError("unknown option " + arg);
        if (is_valued && !has_inline) {
            if (i + 1 >= argc) throw UsageError(arg + " needs a value");
            value = argv[++i];
        }
        if (arg == "--env-file")
            a.env_files.push_back(value);
        else
            a.options.emplace_back(arg, value);
    }
    return a;
}

LoadedConfig load(const Args& a) {
    LoadedConfig lc = load_config(a.env_files, environ);
    for (const auto& w : lc.warnings) std::fprintf(stderr, "cbtrade: warning: %s\n", w.c_str());
    return lc;
}

void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
    out << content;
    out.flush();
    if (!out) throw std::runtime_error(path + ": write failed: " + std::strerror(errno));
}

int cmd_backtest(int argc, char** argv) {
    const Args a = parse_args(argc, argv, 2, {"--skip-bad-rows"}, {"--json", "--html", "--sleep-ms"});
    if (a.positional.size() != 1) throw UsageError("backtest needs exactly one CSV file");
    LoadedConfig lc = load(a);
    Config& cfg = lc.config;
    if (a.flag("--sleep-ms")) {
        ConfigEntries e{{"BACKTEST_SLEEP_MS", {a.value("--sleep-ms"), "--sleep-ms"}}};
        cfg.backtest_sleep_ms = apply_entries(e).config.backtest_sleep_ms;
    }
    CsvOptions csv_opts;
    csv_opts.skip_bad_rows = a.flag("--skip-bad-rows");
    const CsvCandles data = read_candles_csv(a.positional[0], csv_opts);
    if (data.skipped_rows) {
        std::fprintf(stderr, "cbtrade: skipped %zu bad rows, for example:\n", data.skipped_rows);
        for (const auto& s : data.skip_examples) std::fprintf(stderr, "  %s\n", s.c_str());
    }
    if (data.step_s != granularity_seconds(cfg.granularity))
        std::fprintf(stderr, "cbtrade: warning: %s: rows are %lld s apart but GRANULARITY=%s is %lld s\n",
                     a.positional[0].c_str(), static_cast<long long>(data.step_s),
                     std::string(granularity_name(cfg.granularity)).c_str(),
                     static_cast<long long>(granularity_seconds(cfg.granularity)));
    BacktestOptions opts;
    opts.sleep_ms = cfg.backtest_sleep_ms;
    BacktestReport report;
    try {
        report = run_backtest(data.candles, cfg, opts);
    } catch (const BacktestError& e) {
        throw std::runtime_error(a.positional[0] + ": " + e.what());
    }
    std::fputs(report_text(report).c_str(), stdout);
    if (data.skipped_rows) std::printf("  %-20s %zu\n", "skipped rows", data.skipped_rows);
    if (data.time_gaps) std::printf("  %-20s %zu (missing candles)\n", "time gaps", data.time_gaps);
    if (const std::string p = a.value("--json"); !p.empty()) write_file(p, report_json(report));
    if (const std::string p = a.value("--html"); !p.empty()) write_file(p, report_html(report));
    return 0;
}

int cmd_config(int argc, char** argv) {
    const Args a = parse_args(argc, argv, 2, {"--keys"}, {});
    if (!a.positional.empty()) throw UsageError("config takes no file arguments (use --env-file)");
    if (a.flag("--keys")) {
        for (const auto& k : config_keys())
            std::printf("%-26s %-44s %s\n", std::string(k.name).c_str(),
                        k.default_text.empty() ? "(empty)" : std::string(k.default_text).c_str(),
                        std::string(k.meaning).c_str());
        return 0;
    }
    const LoadedConfig lc = load(a);
    std::fputs(describe_config(lc.config).c_str(), stdout);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs(usage_text, stderr);
        return 2;
    }
    const std::string cmd = argv[1];
    try {
        if (cmd == "backtest") return cmd_backtest(argc, argv);
        if (cmd == "config") return cmd_config(argc, argv);
        if (cmd == "version" || cmd == "--version") {
            std::printf("%s\n", version_text);
            return 0;
        }
        if (cmd == "help" || cmd == "--help" || cmd == "-h") {
            std::fputs(usage_text, stdout);
            return 0;
        }
        throw UsageError("unknown command '" + cmd + "'");
    } catch (const UsageError& e) {
        std::fprintf(stderr, "cbtrade: %s\n%s", e.what(), usage_text);
        return 2;
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "cbtrade: config error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cbtrade: error: %s\n", e.what());
        return 1;
    }
}
