#include "pipeline/pipeline.hpp"

#include <cinttypes>
#include <cstdio>
#include <stdexcept>

namespace cbtrade {

Pipeline::Pipeline(PipelineSetup setup) : setup_(std::move(setup)) {
    if (setup_.metrics == nullptr || setup_.clock == nullptr || !setup_.source)
        throw std::invalid_argument("pipeline: metrics, clock and source are required");
    const Config& c = setup_.config;
    ring_a_ = std::make_unique<MarketRing>();
    ring_b_ = std::make_unique<PriceRing>();
    signal_notes_ = std::make_unique<SignalNoteRing>();
    exec_notes_ = std::make_unique<ExecNoteRing>();
    if (!c.record_ticks.empty()) record_ = std::make_unique<RecordRing>();

    const std::size_t keep = static_cast<std::size_t>(c.walk_forward_window) + warmup_candles + 2;
    trainer_ = std::make_unique<ModelTrainer>(c, keep);
    for (const Candle& h : setup_.history) trainer_->add(h);
    if (setup_.model) (void)models_.publish(*setup_.model, trainer_->candles_seen());

    BotMetrics& m = *setup_.metrics;
    source_ = setup_.source(*ring_a_, m);
    SignalStageOptions so;
    so.history = setup_.history;
    signal_ = std::make_unique<SignalStage>(c, so, *ring_a_, *ring_b_, signal_notes_.get(), record_.get(), models_, m,
                                            *setup_.clock);
    exec_ = std::make_unique<ExecStage>(c, *ring_b_, exec_notes_.get(), m, *setup_.clock, halted_, setup_.broker,
                                        setup_.trader);
    exec_->set_probe(setup_.exec_probe);
    exec_->set_live_funds(setup_.live_funds);
    exec_->set_notices(setup_.notices);
    if (setup_.books || setup_.halted)
        exec_->restore(setup_.books ? *setup_.books : exec_->trader().books(), setup_.halted);
    if (setup_.journal != nullptr) exec_->set_journal(setup_.journal, setup_.journal_loop);
    exec_->set_test_crash_after_intent(setup_.test_crash_after_intent);
    if (setup_.orders_held) exec_->hold_orders();
    OpsRings rings{ring_a_.get(), ring_b_.get(), signal_notes_.get(), record_.get(), exec_notes_.get()};
    OpsSources sources{source_.get(), signal_.get(), exec_.get(), setup_.usr1_count};
    ops_ = std::make_unique<OpsStage>(c, rings, sources, *trainer_, models_, m, setup_.ready, halted_,
                                      setup_.print_status);
    if (setup_.halted) ops_->restore_halt(true);
    signal_->set_upstream(source_.get());
    exec_->set_upstream(signal_.get());
    ops_->set_upstream(exec_.get());

    // Every runner's drain deadline starts at the stop request. With live orders the exec stage may
    // take up to order_stop_wait_ns to drain (its order in flight settles first), and every runner
    // downstream of it (order desk, background stages, ops) can only finish after it: each gets
    // that much longer.
    const std::int64_t order_wait_ns = setup_.order_desk != nullptr ? order_stop_wait_ns : 0;
    for (const PlannedThread& t : setup_.plan.hot) {
        std::vector<Stage*> stages;
        for (const HotStage s : t.stages) {
            if (s == HotStage::feed) stages.push_back(source_.get());
            if (s == HotStage::signal) stages.push_back(signal_.get());
            if (s == HotStage::exec) stages.push_back(exec_.get());
        }
        RunnerOptions o;
        o.name = t.name;
        o.core = t.core;
        o.idle = c.idle_policy;
        o.rt_priority = c.rt_priority;
        o.drain_timeout_ns += order_wait_ns;  // the exec stage's order in flight (ExecStage::drained)
        runners_.push_back(std::make_unique<StageRunner>(o, std::move(stages)));
    }
    if (setup_.order_desk != nullptr) {
        // Orders settle over blocking REST calls (retries, get-order polling): on a thread of their
        // own, so neither the exec thread nor the ops thread (halt, token pool, files) ever waits.
        setup_.order_desk->set_upstream(exec_.get());
        RunnerOptions desk;
        desk.name = "cbt-orders";
        desk.core = setup_.plan.ops_core;
        desk.idle = IdlePolicy::sleep;
        desk.background = true;
        desk.sleep_ns = 1'000'000;
        desk.drain_timeout_ns += order_wait_ns;  // an order in flight at the stop is settled if it can be
        runners_.push_back(std::make_unique<StageRunner>(desk, std::vector<Stage*>{setup_.order_desk}));
    }
    for (Stage* stage : setup_.background_stages) {
        stage->set_upstream(exec_.get());
        RunnerOptions o;
        o.name = "cbt-" + std::string(stage->name()).substr(0, 11);
        o.core = setup_.plan.ops_core;
        o.idle = IdlePolicy::sleep;
        o.background = true;
        o.sleep_ns = 10'000'000;                              // periodic work: 10 ms naps
        o.drain_timeout_ns = 10'000'000'000 + order_wait_ns;  // a last bounded REST call or post may be under way
        runners_.push_back(std::make_unique<StageRunner>(o, std::vector<Stage*>{stage}));
    }
    RunnerOptions ops;
    ops.drain_timeout_ns += order_wait_ns;
    ops.name = "cbt-ops";
    ops.core = setup_.plan.ops_core;
    ops.idle = IdlePolicy::sleep;
    ops.background = true;
    ops.sleep_ns = 2'000'000;  // the ops work is periodic: 2 ms naps cost nothing and lose nothing
    std::vector<Stage*> ops_stages{ops_.get()};
    for (Stage* extra : setup_.ops_stages) {
        extra->set_upstream(exec_.get());
        ops_stages.push_back(extra);
    }
    runners_.push_back(std::make_unique<StageRunner>(ops, std::move(ops_stages)));
}

Pipeline::~Pipeline() {
    stop();
}

std::vector<std::string> Pipeline::start() {
    std::vector<std::string> lines;
    started_ns_ = now_ns();
    // Downstream first, so nothing a producer pushes waits for its consumer's thread to exist.
    // NOLINTNEXTLINE(modernize-loop-convert): clang 14 cannot compile libstdc++ 12's views::reverse
    for (auto it = runners_.rbegin(); it != runners_.rend(); ++it) {
        const std::vector<std::string> placed = (*it)->start();
        std::string line = (*it)->options().name + ":";
        for (const auto& p : placed) line += " " + p + ";";
        line.pop_back();
        lines.insert(lines.begin(), line);
    }
    return lines;
}

void Pipeline::stop() {
    if (stopped_) return;
    stopped_ = true;
    for (auto& r : runners_) r->request_stop();
    for (auto& r : runners_) r->join();
    stopped_ns_ = now_ns();
    file_error_ = ops_->finish();
}

PipelineSummary Pipeline::summary() const {
    PipelineSummary s;
    BotMetrics& m = *setup_.metrics;
    const std::int64_t end = stopped_ns_ ? stopped_ns_ : now_ns();
    s.run_seconds = started_ns_ ? static_cast<double>(end - started_ns_) / 1e9 : 0;
    s.ticks = source_->ticks();
    s.trades = signal_->status().trades.load(std::memory_order_relaxed);
    s.candles = signal_->status().candles.load(std::memory_order_relaxed);
    for (const Signal sig : {Signal::flat, Signal::buy, Signal::sell})
        s.decisions[static_cast<std::size_t>(sig)] = m.decisions(sig).value();
    s.live = exec_->live();
    const OrderMode mode = s.live ? OrderMode::live : OrderMode::paper;
    s.orders_buy = m.orders(mode, OrderSideIndex::buy).value();
    s.orders_sell = m.orders(mode, OrderSideIndex::sell).value();
    s.order_errors = exec_->status().order_errors.load(std::memory_order_relaxed);
    s.order_unsettled = exec_->status().order_in_flight.load(std::memory_order_relaxed);
    s.start_equity_usd = setup_.config.usd_equity;
    if (stopped_) {
        s.trader = exec_->trader().counters();
        s.fees_usd = exec_->trader().fees_usd();
        s.cash_usd = exec_->trader().cash_usd();
    }
    s.equity_usd = exec_->status().equity_usd.load(std::memory_order_relaxed);
    s.position_base = exec_->status().position_base.load(std::memory_order_relaxed);
    s.reconnects = source_->reconnects();
    s.gaps = source_->gaps();
    s.ring_full[0] = ring_a_->full_count();
    s.ring_full[1] = ring_b_->full_count();
    s.ring_full[2] = signal_notes_->full_count() + exec_notes_->full_count() + (record_ ? record_->full_count() : 0);
    s.walk_forward_fits = ops_->walk_forward_fits();
    s.recorded_events = ops_->recorded_events();
    s.decision_log_lines = ops_->decision_lines();
    const Histogram::Snapshot t2d = m.tick_to_decision.snapshot();
    s.t2d_count = t2d.count();
    s.t2d_p50_ns = histogram_quantile_ns(t2d, 0.5);
    s.t2d_p99_ns = histogram_quantile_ns(t2d, 0.99);
    s.t2d_p999_ns = histogram_quantile_ns(t2d, 0.999);
    for (const auto& r : runners_)
        if (r->drain_timed_out()) s.drain_timed_out += (s.drain_timed_out.empty() ? "" : " ") + r->options().name;
    s.not_trading = ops_->not_trading_reason();
    s.file_error = file_error_;
    return s;
}

std::string summary_text(const PipelineSummary& s) {
    char buf[2048];
    const TraderCounters& t = s.trader;
    const int n = std::snprintf(
        buf, sizeof buf,
        "summary: ran %.1f s\n"
        "  market data      ticks %" PRIu64 ", trades %" PRIu64 ", candles %" PRIu64 ", reconnects %" PRIu64
        ", gaps %" PRIu64
        "\n"
        "  decisions        buy %" PRIu64 ", sell %" PRIu64 ", flat %" PRIu64
        "\n"
        "  %s BUY %" PRIu64 ", SELL %" PRIu64 "; round trips %" PRIu64 " (won %" PRIu64 "); exits: signal %" PRIu64
        ", stop %" PRIu64 ", take %" PRIu64
        "\n"
        "  entries blocked  market data %" PRIu64 ", halt %" PRIu64 ", breaker %" PRIu64 ", below minimum %" PRIu64
        ", long only %" PRIu64
        "\n"
        "  equity           %.2f USD (start %.2f, %+.3f%%), position %.8g, fees %.2f USD\n"
        "  tick-to-decision p50 %.2f us, p99 %.2f us, p99.9 %.2f us over %" PRIu64
        " prices\n"
        "  rings full       ticks %" PRIu64 ", decisions %" PRIu64 ", ops %" PRIu64
        "\n"
        "  ops              walk-forward fits %" PRIu64 ", recorded events %" PRIu64 ", decision log lines %" PRIu64
        "\n",
        s.run_seconds, s.ticks, s.trades, s.candles, s.reconnects, s.gaps, s.decisions[1], s.decisions[2],
        s.decisions[0], s.live ? "live orders     " : "paper orders    ", s.orders_buy, s.orders_sell, t.round_trips,
        t.winning_round_trips, t.signal_exits, t.stop_losses, t.take_profits, t.blocked_market_data, t.blocked_halt,
        t.blocked_breaker, t.blocked_below_min, t.blocked_long_only, s.equity_usd, s.start_equity_usd,
        s.start_equity_usd > 0 ? (s.equity_usd / s.start_equity_usd - 1) * 100 : 0.0, s.position_base, s.fees_usd,
        s.t2d_p50_ns / 1e3, s.t2d_p99_ns / 1e3, s.t2d_p999_ns / 1e3, s.t2d_count, s.ring_full[0], s.ring_full[1],
        s.ring_full[2], s.walk_forward_fits, s.recorded_events, s.decision_log_lines);
    std::string out(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    if (s.live) {
        char books[160];
        std::snprintf(books, sizeof books,
                      "  books            cash %.8f USD, position %.8f (as the exchange filled them)\n", s.cash_usd,
                      s.position_base);
        out += books;
    }
    if (s.live || s.order_errors > 0)
        out += "  order errors     " + std::to_string(s.order_errors) + " (by reason: bot_order_errors_total)\n";
    if (t.blocked_funds > 0) out += "  entries blocked  insufficient funds " + std::to_string(t.blocked_funds) + "\n";
    if (s.order_unsettled)
        out +=
            "  WARNING          an order was still unsettled at the stop: check the exchange (see the order lines "
            "above)\n";
    if (!s.not_trading.empty()) out += "  NOT TRADING      " + s.not_trading + "\n";
    if (!s.drain_timed_out.empty())
        out += "  warning          a stage did not drain within the stop timeout (thread " + s.drain_timed_out + ")\n";
    if (!s.file_error.empty()) out += "  error            " + s.file_error + "\n";
    return out;
}

}  // namespace cbtrade
