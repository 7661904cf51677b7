// cbtrade live: the daemon (DESIGN.md section 2, issues 10 and 12). COINBASE_WS_URL -> feed stage ->
// signal stage -> exec stage (Trader + PaperBroker, or with DRY_RUN=false the Coinbase broker of
// exec/live_orders.hpp and its order desk), with the ops thread serving /metrics /healthz /readyz,
// refitting, recording, logging and signing order JWTs ahead.
//
// Start-up is cold and says everything: mode, product, clock, history and model, placement plan.
// Every reason not to trade is printed (and /readyz says not ready). SIGINT/SIGTERM stop it
// cleanly (rings drained, files flushed, summary printed, exit 0); SIGUSR1 toggles the halt.
#include <signal.h>
#include <unistd.h>  // environ

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/bot_metrics.hpp"
#include "core/config.hpp"
#include "core/cpu.hpp"
#include "core/error.hpp"
#include "core/numbers.hpp"
#include "core/placement.hpp"
#include "core/rfc3339.hpp"
#include "core/text.hpp"
#include "core/thread_placement.hpp"
#include "exec/api_key.hpp"
#include "exec/exchange_access.hpp"
#include "exec/journal.hpp"
#include "exec/live_equity.hpp"
#include "exec/bridge_client.hpp"
#include "exec/live_orders.hpp"
#include "exec/live_start.hpp"
#include "exec/reconcile.hpp"
#include "exec/rest_session.hpp"
#include "feeds/coinbase_feed.hpp"
#include "io/tls_info.hpp"
#include "io/uring_loop.hpp"
#include "monitoring/metrics_server.hpp"
#include "pipeline/feed_stage.hpp"
#include "pipeline/history.hpp"
#include "pipeline/notifier.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/signal_stage.hpp"
#include "tools/cli_args.hpp"
#include "tools/commands.hpp"
#include "tools/config_check.hpp"
#include "tools/ws_jwt_source.hpp"

namespace {

using namespace cbtrade;

// Set by the signal handlers, read by the main thread (stop) and the ops thread (halt toggles).
// Lock-free atomics are async-signal-safe.
std::atomic<int> stop_signal{0};
std::atomic<std::uint32_t> usr1_count{0};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<std::uint32_t>::is_always_lock_free);

extern "C" void on_stop_signal(int sig) {
    stop_signal.store(sig, std::memory_order_relaxed);
}
extern "C" void on_usr1(int) {
    usr1_count.fetch_add(1, std::memory_order_relaxed);
}

// TEST ONLY: CBTRADE_TEST_CRASH=after_intent:N makes the exec thread kill the process (SIGKILL) after
// the N-th order's intent is durable, before the order is sent (scripts/kill_campaign.sh forces that
// instant this way). Unset: 0. Read once here; a bad value is exit 2.
std::uint64_t test_crash_after_intent() {
    const char* v = std::getenv("CBTRADE_TEST_CRASH");
    if (v == nullptr || v[0] == '\0') return 0;
    const std::string_view text(v);
    constexpr std::string_view prefix = "after_intent:";
    if (!text.starts_with(prefix))
        throw UsageError("CBTRADE_TEST_CRASH: " + quote_for_message(text) + " is invalid: expected after_intent:N");
    const auto n = int_flag("CBTRADE_TEST_CRASH", text.substr(prefix.size()), 1, 1'000'000,
                            "after_intent:N with N from 1 to 1000000");
    std::fprintf(stderr,
                 "cbtrade live: TEST ONLY: CBTRADE_TEST_CRASH=after_intent:%lld: this process kills itself after "
                 "that order's intent is durable, before it is sent\n",
                 static_cast<long long>(n));
    return static_cast<std::uint64_t>(n);
}

void install_handlers() {
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, nullptr);
}

constexpr const char* live_usage =
    "usage: cbtrade live [--history FILE] [--duration SEC] [--accept-reconciliation] [--env-file FILE]...\n"
    "  trade PRODUCT_ID on the live feed (COINBASE_WS_URL): candles from market_trades, the model\n"
    "  fitted on the history at start, the trader and its broker on every price: paper by default;\n"
    "  with DRY_RUN=false and an API key, real market orders (checked first: the key may trade, the\n"
    "  product takes market orders, the clock agrees; see README's real trading section); without a\n"
    "  key but with BRIDGE_URL, real orders through the earlier bridge (README's bridge section). /metrics,\n"
    "  /healthz, /readyz on METRICS_ADDR:PORT. Needs at least 300 GRANULARITY candles of history\n"
    "  (--history wins over HISTORY_FILE; without either, the last closed candles from the exchange's\n"
    "  public REST candles) ending near the first live trade, or it runs without trading\n"
    "  and says why. Stops after SEC seconds (--duration; default: never) or on SIGINT/SIGTERM, drains\n"
    "  and prints a summary (exit 0). SIGUSR1 toggles a halt (no new entries, exits allowed); so does\n"
    "  the presence of HALT_FILE. Live, every start first reconciles the order journal with the exchange\n"
    "  (orders looked up by client_order_id, balances compared); a difference it cannot explain holds\n"
    "  every order until a start with --accept-reconciliation (README's restart section).\n";

// Reconciliation at a live start (exec/reconcile.hpp). Interface for scripts (the kill -9 campaign
// greps these stderr lines):
//   "cbtrade live: reconciliation: order ..."          one per open journal order, what the exchange said
//   "cbtrade live: reconciliation: balances: ..."      the comparison
//   "cbtrade live: reconciliation: OK ..."             nothing unexplained: trading as usual
//   "cbtrade live: reconciliation: DIFFERENCE: ..."    one per difference it cannot explain
//   "cbtrade live: reconciliation: HOLDING ALL ORDERS ..."  no order (entry or exit) until accepted
//   "cbtrade live: reconciliation: ACCEPTED ..."       --accept-reconciliation took the differences
// A REST failure during it: "cbtrade live: error: reconciliation: ..." and exit 1 (nothing traded).
struct StartReconciliation {
    Reconciliation result;
    bool held = false;      // no order at all until an operator accepts
    bool accepted = false;  // --accept-reconciliation took differences
};

StartReconciliation reconcile_at_start(const Config& cfg, const LiveStart& live_start,
                                       const journal::Recovered& recovered, const TraderParams& params, bool accept) {
    rest::RestClientOptions o;
    o.max_attempts = 3;
    o.timeout_ms = 8000;
    rest::RestSession session(cfg, true, o);
    const std::unique_ptr<ReconcileVenue> venue = make_rest_reconcile_venue(session.client());
    ReconcileProduct product;
    product.product_id = cfg.product_id;
    product.base = cfg.product_id.substr(0, cfg.product_id.find('-'));
    product.quote = cfg.product_id.substr(cfg.product_id.find('-') + 1);
    product.base_increment = live_start.product.base_increment.value();
    product.quote_increment = live_start.product.quote_increment.value();
    if (!recovered.open_orders.empty())
        std::fprintf(stderr,
                     "cbtrade live: reconciliation: %zu order(s) without a recorded outcome: looking them up on the "
                     "exchange by client_order_id\n",
                     recovered.open_orders.size());
    ReconcileOptions options;
    options.compare_quote = !cfg.use_live_equity;  // live equity takes the exchange's quote balance anyway
    StartReconciliation out{reconcile(*venue, rest::system_rest_clock(), recovered, params, product, options), false,
                            false};
    const Reconciliation& r = out.result;
    for (const std::string& line : r.lines) std::fprintf(stderr, "cbtrade live: reconciliation: %s\n", line.c_str());
    if (r.clean()) {
        std::fprintf(stderr,
                     "cbtrade live: reconciliation: OK: %zu order(s) settled from the exchange; balances agree\n",
                     r.orders.size());
        if (accept) std::fprintf(stderr, "cbtrade live: reconciliation: --accept-reconciliation: nothing to accept\n");
        return out;
    }
    for (const std::string& d : r.differences)
        std::fprintf(stderr, "cbtrade live: reconciliation: DIFFERENCE: %s\n", d.c_str());
    if (accept && !r.order_still_open()) {
        out.accepted = true;
        std::fprintf(stderr,
                     "cbtrade live: reconciliation: ACCEPTED by the operator (--accept-reconciliation): the books stay "
                     "as the journal has them (position %.8f, cash %.2f); the exchange's balances are the new "
                     "baseline; trading\n",
                     r.books ? r.books->position_qty : 0.0, r.books ? r.books->cash_usd : 0.0);
        return out;
    }
    out.held = true;
    std::fprintf(
        stderr,
        "cbtrade live: reconciliation: HOLDING ALL ORDERS (entries and exits) until an operator accepts: "
        "check the account in Coinbase, then restart with --accept-reconciliation%s\n",
        r.order_still_open() ? " (not while an order is still open on the exchange: restart once it ended)" : "");
    return out;
}

// Without --history (and HISTORY_FILE): the last candles from the exchange's public REST candles
// (exec/exchange_access.hpp, recent_closed_candles; through the bridge's /candles when trading through it: the open candle left to the live feed, so the
// first candle built from trades is the one after the last REST candle). Enough for the model's
// window, at least 300. A failure is not fatal: the daemon runs without trading and says why.
PreparedHistory warm_up_from_exchange(const Config& cfg, bool through_bridge) {
    const std::size_t count =
        std::clamp<std::size_t>(static_cast<std::size_t>(cfg.walk_forward_window) + warmup_candles, min_history_candles,
                                rest::max_exchange_access_buckets);
    const auto refuse = [&](const std::string& why) {
        PreparedHistory h;
        h.not_trading =
            "no history: no --history FILE (or HISTORY_FILE), and the warm-up from the exchange's REST "
            "candles failed: " +
            why;
        return h;
    };
    try {
        rest::RestClientOptions o;
        o.max_attempts = 3;
        o.timeout_ms = 5000;
        std::unique_ptr<rest::RestSession> session;
        std::unique_ptr<rest::BridgeSession> bridge;
        std::unique_ptr<rest::ExchangeAccess> access;
        std::int64_t now_s = 0;
        if (through_bridge) {  // the bridge's candles; the bridge has no clock of the exchange's: this machine's
            bridge = std::make_unique<rest::BridgeSession>(cfg, 15000);
            access = rest::make_bridge_exchange_access(bridge->client());
            now_s = wall_ns() / 1'000'000'000;
        } else {
            session = std::make_unique<rest::RestSession>(cfg, false, o);  // public endpoints: no key needed
            access = rest::make_rest_exchange_access(session->client());
            auto now = session->client().server_time();
            if (!now.ok()) return refuse(now.error.message);
            now_s = now.value->epoch_ms / 1000;
        }
        // Just after a bucket ended the exchange may still be adding its last trades: wait until it
        // has settled (at most 2 s), so that it is history and not a gap before the first live candle.
        constexpr std::int64_t settle_s = 2;
        const std::int64_t g = granularity_seconds(cfg.granularity);
        if (const std::int64_t into = now_s % g; into < settle_s) {
            std::this_thread::sleep_for(std::chrono::seconds(settle_s - into));
            now_s += settle_s - into;
        }
        auto r = rest::recent_closed_candles(*access, cfg.product_id, cfg.granularity, now_s, count, settle_s);
        if (!r.ok()) return refuse(r.error.message);
        std::string source = std::string(access->describe()) + " candles";
        if (r.value->filled > 0) source += " (" + std::to_string(r.value->filled) + " without trades filled flat)";
        PreparedHistory h = prepare_history_candles(cfg, std::move(r.value->candles), source);
        if (!h.candles.empty())
            h.description +=
                "; live candles from " + format_rfc3339_s(r.value->end_s) + " (the open one " + "is built from trades)";
        return h;
    } catch (const RunError& e) {
        return refuse(e.what());
    }
}

// Writes what reconciliation found into the journal (cold, before the pipeline starts): for each
// order found ended (or not found) its ack, its fill and the books after it, and its end; an order
// still open stays open. `baseline`: the exchange's balances become the next start's baseline
// (reconciled, or accepted: then an operator_ack first). Waits until it is on disk.
void journal_reconciliation(journal::Writer& w, const Reconciliation& r, bool accepted, bool baseline,
                            const TraderBooks& start_books, std::int64_t time_s) {
    bool ok = true;
    for (const ReconciledOrder& o : r.orders) {
        if (o.finding == OrderFinding::still_open) continue;
        if (o.order) {
            journal::OrderAck a;
            a.client_order_id = o.intent.client_order_id;
            a.accepted = 1;
            a.order_id_chars = o.outcome.order_id_chars;
            std::copy(o.outcome.order_id.begin(), o.outcome.order_id.end(), a.order_id.begin());
            ok = w.ack(a) && ok;
        }
        if (o.fill_applied) {
            journal::OrderFill f;
            f.client_order_id = o.intent.client_order_id;
            f.side = o.intent.side;
            f.fill = o.outcome.fill;
            ok = w.fill(f) && ok;
        }
        journal::OrderEndRecord e;
        e.client_order_id = o.intent.client_order_id;
        e.end = o.finding == OrderFinding::filled      ? journal::OrderEnd::filled
                : o.finding == OrderFinding::not_found ? journal::OrderEnd::not_found
                                                       : journal::OrderEnd::refused;
        e.error = o.finding == OrderFinding::filled ? OrderError::none : OrderError::not_filled;
        ok = w.end(e) && ok;
    }
    if (r.books) ok = w.books(*r.books, time_s) && ok;
    if (accepted) ok = w.operator_ack(time_s) && ok;
    if (baseline) {
        // With the books the daemon starts from (a fresh journal's: USD_EQUITY's cash).
        journal::AccountRecord a = r.account_record(time_s);
        a.position_qty = start_books.position_qty;
        a.cash_usd = start_books.cash_usd;
        ok = w.account(a) && ok;
    }
    if (!ok || !w.drain(10'000'000'000))
        throw RunError("journal " + w.path() + ": the reconciliation could not be written (nothing was traded)");
}

int run(int argc, char** argv) {
    const Args a = parse_args(argc, argv, 2, {"--help", "--accept-reconciliation"}, {"--history", "--duration"});
    if (a.flag("--help")) {
        std::fputs(live_usage, stdout);
        return 0;
    }
    if (!a.positional.empty()) throw UsageError("live takes no file arguments (use --history FILE)");
    const double duration_s = a.flag("--duration") ? parse_seconds("--duration", a.value("--duration")) : 0;
    const std::vector<std::string>& env_files = a.env_files;
    LoadedConfig lc = load_config(env_files, environ);
    for (const auto& w : lc.warnings) std::fprintf(stderr, "cbtrade: warning: %s\n", w.c_str());
    Config cfg = lc.config;
    if (a.flag("--history")) cfg.history_file = a.value("--history");
    // Every configuration check before anything is printed, connected or written (the journal
    // included): a bad value is one error line, exit 2, nothing started (issue 13 item 7).
    check_live_configuration(cfg, a.flag("--history") ? "--history" : "HISTORY_FILE");
    const std::uint64_t crash_after_intent = test_crash_after_intent();
    const PlacementPlan plan = plan_placement(cfg, allowed_cores());
    (void)traded_product_index(cfg);  // PRODUCT_ID must be among COINBASE_WS_PRODUCTS (exit 2 otherwise)
    std::optional<JwtSigner> signer = jwt_signer_from(cfg);

    // Real orders: every check before anything else starts (exec/live_start.hpp); a refusal is exit 2.
    std::optional<LiveStart> live_start;
    // Without a key but with BRIDGE_URL, real orders go through the earlier stack's bridge (issue 12
    // item 5): the bridge holds the key.
    const bool through_bridge = !cfg.dry_run && !signer && !cfg.bridge_url.empty();
    if (through_bridge) {
        rest::BridgeSession bridge(cfg, 10000);
        live_start = check_bridge_live_start(bridge.client(), cfg);
        for (const std::string& line : live_start->lines) std::fprintf(stderr, "cbtrade live: %s\n", line.c_str());
        std::fprintf(stderr, "cbtrade live: LIVE trading %s %s through the bridge\n", cfg.product_id.c_str(),
                     std::string(granularity_name(cfg.granularity)).c_str());
    } else if (!cfg.dry_run) {
        if (!signer)
            throw ConfigError(
                "DRY_RUN=false needs an API key: set COINBASE_API_KEY_NAME and COINBASE_API_PRIVATE_KEY, or "
                "COINBASE_API_PRIVATE_KEY_FILE, or BRIDGE_URL to trade through the earlier bridge (or DRY_RUN=true "
                "to paper-trade)");
        rest::RestClientOptions o;
        o.max_attempts = 2;
        o.timeout_ms = 8000;
        rest::RestSession session(cfg, true, o);
        live_start =
            check_live_start(session.client(), cfg, signer->key_name(),
                             std::string(jwt_alg_name(signer->algorithm())) + ", " + signer->key_description());
        for (const std::string& line : live_start->lines) std::fprintf(stderr, "cbtrade live: %s\n", line.c_str());
        std::fprintf(stderr, "cbtrade live: LIVE trading %s %s\n", cfg.product_id.c_str(),
                     std::string(granularity_name(cfg.granularity)).c_str());
    } else {
        std::fprintf(stderr, "cbtrade live: PAPER trading %s %s (DRY_RUN=true: no order leaves this machine)\n",
                     cfg.product_id.c_str(), std::string(granularity_name(cfg.granularity)).c_str());
        if (cfg.use_live_equity)
            std::fprintf(stderr,
                         "cbtrade live: warning: USE_LIVE_EQUITY=true is ignored in paper trading: equity starts at "
                         "USD_EQUITY %g and follows the paper fills\n",
                         cfg.usd_equity);
    }
    // The order journal (JOURNAL_DIR, exec/journal.hpp): what the last run left, before anything trades.
    // Corruption before its end stops here (DataError, exit 1); a torn end is cut with a warning.
    const TraderParams trader_params = live_start ? live_start->trader : TraderParams::from(cfg);
    const journal::Recovered recovered = journal::recover(cfg.journal_dir, cfg.product_id, trader_params);
    std::fprintf(stderr, "cbtrade live: %s (JOURNAL_DIR %s)\n", journal::describe(recovered).c_str(),
                 escape_for_message(cfg.journal_dir).c_str());
    for (const std::string& w : recovered.warnings)
        std::fprintf(stderr, "cbtrade live: warning: journal: %s\n", w.c_str());
    // Live with a key: reconciliation with the exchange before anything trades (exec/reconcile.hpp):
    // every order whose outcome the journal does not hold is looked up by its client_order_id, the
    // balances compared. A REST failure is a RunError (exit 1, nothing traded).
    const bool accept = a.flag("--accept-reconciliation");
    std::optional<StartReconciliation> recon;
    if (live_start && !through_bridge) recon = reconcile_at_start(cfg, *live_start, recovered, trader_params, accept);
    else if (accept)
        std::fprintf(stderr,
                     "cbtrade live: warning: --accept-reconciliation is for live trading with an API key; ignored\n");
    // Otherwise an order whose outcome the journal does not hold. Through the bridge (or a live
    // order in a paper run): it may have filled; nothing is traded until that is known (the bridge
    // has no list orders). Paper: nothing was filled (the paper broker fills at once, and its fill
    // would be journaled); it is ended no_outcome below, never given a fill.
    bool open_live_order = false;
    for (const journal::OpenOrder& o : recovered.open_orders) {
        if (recon) break;
        const std::string id(o.intent.client_order_id.data(), o.intent.client_order_id.size());
        if (o.intent.live != 0 || live_start) {
            open_live_order = true;
            // The exchange's order_id when its acceptance was journaled: what Coinbase's order page shows.
            std::string accepted;
            if (o.ack && o.ack->accepted != 0)
                accepted = "; the exchange accepted it as order_id " +
                           escape_for_message(std::string_view(o.ack->order_id.data(), o.ack->order_id_chars));
            std::fprintf(stderr,
                         "cbtrade live: journal: %s order %s %s %.8g (client_order_id %s) has no recorded outcome%s\n",
                         o.intent.live != 0 ? "live" : "paper", std::string(side_name(o.intent.side)).c_str(),
                         std::string(reason_name(o.intent.reason)).c_str(), o.intent.qty, id.c_str(), accepted.c_str());
        }
    }
    if (open_live_order) {
        std::fprintf(stderr,
                     "cbtrade live: NOT STARTING: an order's outcome is unknown and this mode cannot look it up "
                     "(through the bridge, or a live order in a paper run); check the order in Coinbase (by its "
                     "client_order_id), then move the journal aside (%s)\n",
                     escape_for_message(cfg.journal_dir).c_str());
        return 2;
    }
    const TscClock clock = TscClock::calibrate();
    std::fprintf(stderr, "cbtrade live: clock %s; %s\n", clock.describe().c_str(), describe(tls_info()).c_str());

    PreparedHistory history =
        cfg.history_file.empty() ? warm_up_from_exchange(cfg, through_bridge) : prepare_history(cfg, cfg.history_file);
    if (!history.description.empty()) std::fprintf(stderr, "cbtrade live: history %s\n", history.description.c_str());
    if (!history.not_trading.empty())
        std::fprintf(stderr, "cbtrade live: NOT TRADING: %s (market data, candles and metrics still run)\n",
                     history.not_trading.c_str());

    MetricsRegistry registry;
    const TlsInfo tls = tls_info();
    BotMetrics metrics(
        registry, BuildInfo{"0.1.0", tls.version + " " + tls.flavour, tls.aesni_built && tls.aesni_cpu ? "yes" : "no"});
    metrics.set_model_mode(cfg.model_mode);
    metrics.equity_usd.set(cfg.usd_equity);
    ReadyState ready;
    ready.set_not_ready("starting");
    MetricsServerOptions mo;
    mo.address = cfg.metrics_addr;
    mo.port = static_cast<std::uint16_t>(cfg.port);
    mo.readiness = readiness_of(ready);
    MetricsServer server(registry, std::move(mo));
    if (const std::string err = server.start(); !err.empty()) throw RunError("metrics server: " + err);
    std::fprintf(stderr, "cbtrade live: serving /metrics, /healthz, /readyz on %s:%u\n", cfg.metrics_addr.c_str(),
                 static_cast<unsigned>(server.port()));

    // Live equity: the balances read now (a failure refuses to start: real money is not sized from a
    // guess), then refreshed on a thread of its own over its own REST connection.
    std::unique_ptr<rest::RestSession> equity_session;
    std::unique_ptr<rest::BridgeSession> equity_bridge;
    std::unique_ptr<rest::ExchangeAccess> equity_access;
    LiveFunds live_funds;
    std::unique_ptr<LiveEquityRefresher> refresher;
    if (live_start && cfg.use_live_equity) {
        rest::RestClientOptions o;
        o.max_attempts = 2;
        o.timeout_ms = 3000;
        if (through_bridge) {  // the balances through the bridge, which holds the key
            equity_bridge = std::make_unique<rest::BridgeSession>(cfg, 3000);
            equity_access = rest::make_bridge_exchange_access(equity_bridge->client());
        } else {
            equity_session = std::make_unique<rest::RestSession>(cfg, true, o);
            equity_access = rest::make_rest_exchange_access(equity_session->client());
        }
        refresher = std::make_unique<LiveEquityRefresher>(
            *equity_access, cfg.product_id, cfg.live_equity_refresh_sec * 1'000'000'000, live_funds, metrics);
        AccountHoldings h;
        if (const std::string err = refresher->start(now_ns(), h); !err.empty())
            throw RunError("USE_LIVE_EQUITY=true: cannot read the account balances: " + err +
                           "; refusing to trade real money without them (USE_LIVE_EQUITY=false sizes from USD_EQUITY)");
        const std::string base = cfg.product_id.substr(0, cfg.product_id.find('-'));
        const std::string quote = cfg.product_id.substr(cfg.product_id.find('-') + 1);
        const double price = live_start->product.price.value;
        std::fprintf(stderr,
                     "cbtrade live: live equity: %s %.2f available (%.2f on hold, not counted); refreshed every "
                     "%lld s (LIVE_EQUITY_REFRESH_SEC)\n",
                     quote.c_str(), h.quote_available, h.quote_hold,
                     static_cast<long long>(cfg.live_equity_refresh_sec));
        // The restored position is the daemon's own: only the rest was bought by someone else.
        const std::optional<TraderBooks>& b = recon ? recon->result.books : recovered.books;
        const double other = h.base_total() - (b && b->position_qty > 0 ? b->position_qty : 0);
        if (other > 0)
            std::fprintf(stderr,
                         "cbtrade live: live equity: the account holds %.8g %s (%.2f %s at %.2f) that this daemon did "
                         "not buy: counted in equity, never sold by the strategy (exits sell only what it bought)\n",
                         other, base.c_str(), other * price, quote.c_str(), price);
        cfg.usd_equity = price > 0 ? h.equity(price) : h.quote_available;
        metrics.equity_usd.set(cfg.usd_equity);
        std::fprintf(stderr, "cbtrade live: live equity: %.2f %s; entries of %.2f %s (RISK_PER_TRADE_PCT %g%%)\n",
                     cfg.usd_equity, quote.c_str(), cfg.usd_equity * cfg.risk_per_trade_pct / 100, quote.c_str(),
                     cfg.risk_per_trade_pct);
    }

    // Notifications: the exec stage pushes notices, a thread of its own posts them (pipeline/notifier.hpp).
    std::unique_ptr<NoticePoster> poster;
    std::unique_ptr<NoticeRing> notices;
    if (!cfg.slack_webhook.empty()) {
        poster = make_webhook_poster(cfg);
        notices = std::make_unique<NoticeRing>();
        std::fprintf(stderr,
                     "cbtrade live: notifications to SLACK_WEBHOOK: entries, exits, order errors, breaker trips, "
                     "halts\n");
    }

    // The exec thread's broker, the order desk and the token pool; warmed up before the feed starts.
    std::unique_ptr<LiveOrders> live;
    std::unique_ptr<BridgeOrders> bridge_orders;
    if (through_bridge) {
        bridge_orders = std::make_unique<BridgeOrders>(cfg, live_start->product, metrics);
    } else if (live_start) {
        live = std::make_unique<LiveOrders>(cfg, live_start->product, metrics);
        if (const std::string err = live->warm_up(); !err.empty())
            std::fprintf(stderr, "cbtrade live: warning: %s (the broker reconnects on its own)\n", err.c_str());
        else
            std::fprintf(stderr, "cbtrade live: order connection open, %zu order JWTs signed ahead\n",
                         live->tokens().usable(now_ns()));
    }

    io::UringLoop loop;
    if (const int rc = loop.init(256); rc < 0) throw RunError(io::uring_unavailable_message(rc));
    std::optional<SignerWsJwtSource> jwt_source;
    FeedOptions feed_options = feed_options_from(cfg);
    if (signer) {
        jwt_source.emplace(*signer);
        feed_options.jwt_source = &*jwt_source;
    }
    CoinbaseFeed feed(loop, std::move(feed_options));
    std::string error;
    if (feed.start(error) < 0) throw RunError("feed: " + error);
    std::fprintf(stderr, "cbtrade live: feed %s:%u (ticker, market_trades, heartbeats)\n", feed.url().host.c_str(),
                 feed.url().port);

    // The journal's writer, on an io_uring loop the exec stage polls (exec thread); opened here (cold).
    io::UringLoop journal_loop;
    if (const int rc = journal_loop.init(64); rc < 0) throw RunError(io::uring_unavailable_message(rc));
    journal::Writer journal_writer(journal_loop);
    const std::optional<TraderBooks> books = recon ? recon->result.books : recovered.books;
    const TraderBooks start_books = books ? *books : Trader(trader_params, cfg.usd_equity).books();
    const std::int64_t start_s = wall_ns() / 1'000'000'000;
    journal_writer.open(cfg.journal_dir, recovered, cfg.product_id, start_books, start_s);
    if (recon)
        journal_reconciliation(journal_writer, recon->result, recon->accepted, !recon->held, start_books, start_s);
    for (const journal::OpenOrder& o : recovered.open_orders) {
        if (recon) break;  // ended by the reconciliation
        journal::OrderEndRecord e;
        e.client_order_id = o.intent.client_order_id;
        // Its fill, when journaled, is in the books already (only its end was lost); without one nothing
        // filled: a paper order is never given a fill it did not get.
        e.end = o.filled_qty > 0 ? journal::OrderEnd::filled : journal::OrderEnd::no_outcome;
        if (!journal_writer.end(e)) throw RunError("journal " + journal_writer.path() + ": cannot write");
        if (o.filled_qty > 0)
            std::fprintf(stderr,
                         "cbtrade live: journal: paper order %.*s (%s %.8g): its fill %.8g is in the books; its end "
                         "was lost in the crash and is written now\n",
                         static_cast<int>(e.client_order_id.size()), e.client_order_id.data(),
                         std::string(side_name(o.intent.side)).c_str(), o.intent.qty, o.filled_qty);
        else
            std::fprintf(stderr,
                         "cbtrade live: journal: paper order %.*s (%s %.8g) had no recorded fill: ended with nothing "
                         "filled (a paper order is never given a fill it did not get)\n",
                         static_cast<int>(e.client_order_id.size()), e.client_order_id.data(),
                         std::string(side_name(o.intent.side)).c_str(), o.intent.qty);
    }
    (void)journal_writer.sync();
    if (books)
        std::fprintf(stderr, "cbtrade live: restored from the journal: position %.8f, cash %.2f USD%s\n",
                     books->position_qty, books->cash_usd, recovered.halted ? "; HALTED (SIGUSR1 lifts it)" : "");

    PipelineSetup setup;
    setup.config = cfg;
    setup.journal = &journal_writer;
    setup.journal_loop = &journal_loop;
    setup.books = books;
    setup.halted = recovered.halted || (recon && recon->held);
    setup.orders_held = recon && recon->held;
    setup.test_crash_after_intent = crash_after_intent;
    setup.plan = plan;
    setup.history = history.candles;
    setup.model = history.model;
    setup.metrics = &metrics;
    setup.clock = &clock;
    setup.ready = &ready;
    setup.usr1_count = &usr1_count;
    if (bridge_orders) {
        setup.broker = &bridge_orders->broker();
        setup.trader = live_start->trader;
        setup.order_desk = &bridge_orders->desk();
    }
    if (live) {
        setup.broker = &live->broker();
        setup.trader = live_start->trader;
        setup.ops_stages = {&live->token_refill()};
        setup.order_desk = &live->desk();
    }
    setup.notices = notices.get();
    if (refresher) {
        setup.live_funds = &live_funds;
        setup.background_stages.push_back(refresher.get());
    }
    FeedStage* feed_stage = nullptr;
    setup.source = [&](MarketRing& out, BotMetrics& m) {
        auto s = std::make_unique<FeedStage>(loop, feed, out, m, clock);
        feed_stage = s.get();
        return std::unique_ptr<SourceStage>(std::move(s));
    };
    // Built before the pipeline (its thread is one of the pipeline's), bound to the halt flag after.
    std::unique_ptr<Notifier> notifier;
    if (poster) {
        notifier = std::make_unique<Notifier>(*poster, *notices, nullptr, cfg.product_id, metrics);
        setup.background_stages.push_back(notifier.get());
    }
    Pipeline pipeline(std::move(setup));
    if (notifier) notifier->watch_halt(&pipeline.halt_flag());
    if (refresher)
        refresher->attach(pipeline.exec().status().settled, pipeline.exec().status().order_in_flight,
                          pipeline.exec().status().base_short);
    if (!cfg.record_ticks.empty())
        std::fprintf(stderr, "cbtrade live: recording market data to %s\n",
                     escape_for_message(cfg.record_ticks).c_str());
    if (!cfg.decision_log.empty())
        std::fprintf(stderr, "cbtrade live: decision log %s\n", escape_for_message(cfg.decision_log).c_str());
    if (!cfg.halt_file.empty())
        std::fprintf(stderr, "cbtrade live: halt while %s exists\n", escape_for_message(cfg.halt_file).c_str());

    install_handlers();
    std::fputs(("cbtrade live: " + describe_plan(plan)).c_str(), stderr);
    for (const std::string& line : pipeline.start()) std::fprintf(stderr, "cbtrade live:   %s\n", line.c_str());
    std::fprintf(stderr, "cbtrade live: running%s; SIGINT/SIGTERM stop, SIGUSR1 toggles the halt\n",
                 duration_s > 0 ? (" for " + std::to_string(static_cast<long long>(duration_s)) + " s").c_str() : "");

    const std::int64_t end_ns = duration_s > 0 ? now_ns() + static_cast<std::int64_t>(duration_s * 1e9) : 0;
    int exit_code = 0;
    while (stop_signal.load(std::memory_order_relaxed) == 0) {
        if (end_ns != 0 && now_ns() >= end_ns) break;
        if (feed_stage != nullptr && feed_stage->failed()) {
            std::fprintf(stderr, "cbtrade live: the feed failed for good (see above); stopping\n");
            exit_code = 1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (const int sig = stop_signal.load(std::memory_order_relaxed))
        std::fprintf(stderr, "cbtrade live: %s: stopping (draining the rings)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    else if (exit_code == 0) std::fprintf(stderr, "cbtrade live: --duration reached: stopping\n");
    if (pipeline.exec().status().order_in_flight.load(std::memory_order_relaxed))
        std::fprintf(stderr,
                     "cbtrade live: an order is in flight: waiting up to %lld s for its outcome before stopping (a "
                     "kill now is safe: the journal holds the order, and the next start looks it up)\n",
                     static_cast<long long>(order_stop_wait_ns / 1'000'000'000));
    pipeline.stop();
    ready.set_not_ready("stopped");
    server.stop();
    if (!journal_writer.close()) {
        std::fprintf(stderr, "cbtrade live: error: journal %s: the last records may not be on disk\n",
                     escape_for_message(journal_writer.path()).c_str());
        exit_code = 1;
    }
    const PipelineSummary summary = pipeline.summary();
    std::fputs(summary_text(summary).c_str(), stdout);
    std::fflush(stdout);
    if (!summary.file_error.empty()) exit_code = 1;
    return exit_code;
}

}  // namespace

int cmd_live(int argc, char** argv) {
    return run_command("live", live_usage, run, argc, argv);
}
