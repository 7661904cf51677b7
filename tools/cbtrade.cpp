// cbtrade: the command-line entry point. Each subcommand is a function; errors from the cold path
// are caught here and reported as one line with a non-zero exit code:
//   1  the input data or a run failed (bad CSV, too few candles, I/O)
//   2  usage or configuration error
#include <unistd.h>  // environ

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/bot_metrics.hpp"
#include "core/config.hpp"
#include "core/file_write.hpp"
#include "core/numbers.hpp"
#include "exec/backtest.hpp"
#include "exec/backtest_metrics.hpp"
#include "exec/report.hpp"
#include "feeds/csv_candles.hpp"
#include "tools/cli_args.hpp"
#include "tools/commands.hpp"
#include "io/tls_info.hpp"
#include "monitoring/metrics_server.hpp"

namespace {

using namespace cbtrade;

constexpr const char* version_text = "cbtrade 0.1.0";

const char* usage_text =
    "usage: cbtrade <command> [options]\n"
    "\n"
    "commands:\n"
    "  backtest FILE.csv   replay candles through the strategy, trader and paper broker; print a report\n"
    "      --json FILE       also write the report as JSON (byte-identical for the same input and config)\n"
    "      --html FILE       also write a self-contained HTML page (price, trades, equity curve)\n"
    "      --sleep-ms N      pause N ms per traded candle (overrides BACKTEST_SLEEP_MS)\n"
    "      --skip-bad-rows   count and skip malformed CSV rows instead of stopping at the first\n"
    "      --metrics         serve /metrics, /healthz, /readyz on METRICS_ADDR:PORT while it runs\n"
    "                        (also on when the run is paced: --sleep-ms / BACKTEST_SLEEP_MS > 0)\n"
    "      --hold-sec N      keep serving N seconds after the report (implies --metrics)\n"
    "  backfill            fetch candles from the REST API into a CSV the backtest reads (resumes)\n"
    "      --out FILE        the CSV (appended to: a second run continues after its last row)\n"
    "      --product ID      default PRODUCT_ID; --granularity G  default GRANULARITY\n"
    "      --limit N         candles per request, 1..300 (default 300); --pages N  at most N requests\n"
    "      --start T --end T candles starting in [T, T) (UNIX seconds or RFC 3339); default: the last\n"
    "                        --pages (10) pages up to now\n"
    "      --public          use the public endpoints even when a key is configured\n"
    "  check               test the API key and the exchange: key, clock skew, balances, product, orders\n"
    "      --product ID      the product to check (default PRODUCT_ID); exit 0 only if all pass\n"
    "  config              print the effective configuration (secrets shown as <set>/<unset>)\n"
    "      --keys            list every key with its default and meaning\n"
    "  feed                print live ticks from COINBASE_WS_URL (--summary, --max-ticks N, --duration-sec S)\n"
    "  live                the daemon: paper trading on COINBASE_WS_URL (--history FILE, --duration SEC)\n"
    "  bridge              the earlier stack's bridge HTTP API on 127.0.0.1:8787 (--listen, --port)\n"
    "  replay TICKS        a RECORD_TICKS recording through the live stages (--history F, --compare LOG)\n"
    "  journal             what the order journal (JOURNAL_DIR) holds: books, halt, open orders\n"
    "  version             print the version\n"
    "\n"
    "options for every command:\n"
    "  --env-file FILE     read KEY=VALUE settings (repeatable; later files win; the environment wins)\n";

LoadedConfig load(const Args& a) {
    LoadedConfig lc = load_config(a.env_files, environ);
    for (const auto& w : lc.warnings) std::fprintf(stderr, "cbtrade: warning: %s\n", w.c_str());
    return lc;
}

int cmd_backtest(int argc, char** argv) {
    const Args a =
        parse_args(argc, argv, 2, {"--skip-bad-rows", "--metrics"}, {"--json", "--html", "--sleep-ms", "--hold-sec"});
    if (a.positional.size() != 1) throw UsageError("backtest needs exactly one CSV file");
    LoadedConfig lc = load(a);
    Config& cfg = lc.config;
    if (a.flag("--sleep-ms")) {
        ConfigEntries e{{"BACKTEST_SLEEP_MS", {a.value("--sleep-ms"), "--sleep-ms"}}};
        cfg.backtest_sleep_ms = apply_entries(e).config.backtest_sleep_ms;
    }
    long hold_sec = 0;
    if (a.flag("--hold-sec"))
        hold_sec = static_cast<long>(
            int_flag("--hold-sec", a.value("--hold-sec"), 0, 86400, "a whole number of seconds from 0 to 86400"));
    // Asked for (--metrics, --hold-sec): a port in use is an error. Implied by pacing: a warning, and
    // the run goes on unwatched (e.g. a paced run next to a daemon already on PORT).
    const bool serve_asked = a.flag("--metrics") || hold_sec > 0;
    const bool serve = serve_asked || cfg.backtest_sleep_ms > 0;

    // Metrics for a watched run: the live daemon's contract, paper mode, served until the report
    // (and --hold-sec after it). Declared in this order so the server stops before what it reads.
    MetricsRegistry registry;
    std::optional<BotMetrics> metrics;
    std::optional<BacktestMetricsObserver> observer;
    ReadyState ready;
    std::unique_ptr<MetricsServer> server;
    if (serve) {
        const TlsInfo tls = tls_info();
        metrics.emplace(registry,
                        BuildInfo{std::string(version_text).substr(std::strlen("cbtrade ")),
                                  tls.version + " " + tls.flavour, tls.aesni_built && tls.aesni_cpu ? "yes" : "no"});
        metrics->set_model_mode(cfg.model_mode);
        metrics->equity_usd.set(cfg.usd_equity);
        observer.emplace(*metrics);
        ready.set_not_ready("backtest loading");
        MetricsServerOptions mo;
        mo.address = cfg.metrics_addr;
        mo.port = static_cast<std::uint16_t>(cfg.port);
        mo.readiness = readiness_of(ready);
        server = std::make_unique<MetricsServer>(registry, std::move(mo));
        if (const std::string err = server->start(); err.empty()) {
            std::fprintf(stderr, "cbtrade: serving /metrics, /healthz, /readyz on %s:%u\n", cfg.metrics_addr.c_str(),
                         static_cast<unsigned>(server->port()));
        } else if (serve_asked) {
            throw RunError("metrics server: " + err);
        } else {
            std::fprintf(stderr,
                         "cbtrade: warning: metrics server: %s; running without it (--metrics makes this an error)\n",
                         err.c_str());
            server.reset();
            observer.reset();
            metrics.reset();
        }
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
    if (observer) {
        opts.observer = &*observer;
        ready.set_ready();
        metrics->ready.set(1);
    }
    BacktestReport report;
    try {
        report = run_backtest(data.candles, cfg, opts);
    } catch (const BacktestError& e) {
        throw BacktestError(a.positional[0] + ": " + e.what());
    }
    if (metrics) {
        ready.set_not_ready("backtest finished");
        metrics->ready.set(0);
    }
    std::fputs(report_text(report).c_str(), stdout);
    if (data.skipped_rows) std::printf("  %-20s %zu\n", "skipped rows", data.skipped_rows);
    if (data.time_gaps) std::printf("  %-20s %zu (missing candles)\n", "time gaps", data.time_gaps);
    // A report that did not reach its reader is a failed run (exit 1), not a success.
    flush_or_throw(stdout, "standard output");
    if (const std::string p = a.value("--json"); !p.empty())
        write_file_atomically(p, report_json(report), "JSON report");
    if (const std::string p = a.value("--html"); !p.empty())
        write_file_atomically(p, report_html(report), "HTML report");
    if (server && hold_sec > 0) {
        std::fflush(stdout);
        std::fprintf(stderr, "cbtrade: still serving /metrics for %ld s\n", hold_sec);
        std::this_thread::sleep_for(std::chrono::seconds(hold_sec));
    }
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
        flush_or_throw(stdout, "standard output");
        return 0;
    }
    const LoadedConfig lc = load(a);
    std::fputs(describe_config(lc.config).c_str(), stdout);
    flush_or_throw(stdout, "standard output");
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
        if (cmd == "feed") return cmd_feed(argc, argv);
        if (cmd == "check") return cmd_check(argc, argv);
        if (cmd == "backfill") return cmd_backfill(argc, argv);
        if (cmd == "live") return cmd_live(argc, argv);
        if (cmd == "bridge") return cmd_bridge(argc, argv);
        if (cmd == "replay") return cmd_replay(argc, argv);
        if (cmd == "journal") return cmd_journal(argc, argv);
        if (cmd == "version" || cmd == "--version") {
            std::printf("%s\n%s\n", version_text, describe(tls_info()).c_str());
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
    } catch (const Error& e) {
        std::fprintf(stderr, "cbtrade: error: %s\n", e.what());
        return static_cast<int>(e.exit_code());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cbtrade: error: %s\n", e.what());
        return 1;
    }
}
