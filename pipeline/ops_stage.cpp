#include "pipeline/ops_stage.hpp"

#include <sys/stat.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/rfc3339.hpp"

namespace cbtrade {

namespace {
constexpr std::int64_t ms = 1'000'000;

std::string utc_text(std::int64_t s) {
    return format_rfc3339_s(s);
}
}  // namespace

double histogram_quantile_ns(const Histogram::Snapshot& s, double q) noexcept {
    const std::uint64_t total = s.count();
    if (total == 0) return 0;
    const double rank = q * static_cast<double>(total);
    double seen = 0;
    for (std::size_t i = 0; i < latency_buckets; ++i) {
        const double here = static_cast<double>(s.buckets[i]);
        if (here > 0 && seen + here >= rank) {
            const double lo = i == 0 ? 0.0 : static_cast<double>(latency_bounds_ns[i - 1]);
            const double hi = i < latency_bounds_ns.size() ? static_cast<double>(latency_bounds_ns[i]) : lo * 2;
            return lo + (hi - lo) * ((rank - seen) / here);
        }
        seen += here;
    }
    return static_cast<double>(latency_bounds_ns.back());
}

Histogram::Snapshot histogram_delta(const Histogram::Snapshot& later, const Histogram::Snapshot& earlier) noexcept {
    Histogram::Snapshot d;
    for (std::size_t i = 0; i < latency_buckets; ++i) d.buckets[i] = later.buckets[i] - earlier.buckets[i];
    d.sum_ns = later.sum_ns - earlier.sum_ns;
    return d;
}

OpsStage::OpsStage(const Config& c, OpsRings rings, OpsSources sources, ModelTrainer& trainer, ModelSlot& models,
                   BotMetrics& metrics, ReadyState* ready, std::atomic<bool>& halted, bool print_status)
    : config_(c),
      rings_(rings),
      sources_(sources),
      trainer_(trainer),
      models_(models),
      metrics_(metrics),
      ready_(ready),
      halted_(halted),
      print_status_(print_status),
      walk_forward_(c.model_mode == ModelMode::extended && c.walk_forward_min > 0) {
    if (rings_.record != nullptr && !c.record_ticks.empty()) {
        record_file_ = std::make_unique<LineFile>(c.record_ticks);
        record_file_->write(recording_header(c.product_id, granularity_seconds(c.granularity)));
    }
    if (!c.decision_log.empty()) {
        decision_file_ = std::make_unique<LineFile>(c.decision_log);
        decision_file_->write(
            decision_log_header(c.product_id, granularity_seconds(c.granularity), model_mode_name(c.model_mode)));
    }
    if (const Candle* last = trainer_.last()) last_fit_time_s_ = last->time_s;
    if (sources_.usr1_count) usr1_seen_ = sources_.usr1_count->load(std::memory_order_relaxed);
    line_.reserve(256);
    // A daemon started while HALT_FILE exists must not enter on its very first record.
    check_halt(0);
}

OpsStage::~OpsStage() = default;

std::size_t OpsStage::poll(std::int64_t now_ns) noexcept {
    // The ops thread may allocate and write files; anything that throws here (a bad_alloc) must not
    // take the daemon down with it: the hot stages go on, the ops work resumes next round.
    try {
        const std::uint64_t before = recorded_.load(std::memory_order_relaxed) +
                                     decision_lines_.load(std::memory_order_relaxed) + trainer_.candles_seen();
        drain(now_ns);
        if (now_ns >= next_halt_check_ns_) {
            check_halt(now_ns);
            next_halt_check_ns_ = now_ns + 100 * ms;
        }
        if (now_ns >= next_metrics_ns_) {
            publish_metrics(now_ns);
            next_metrics_ns_ = now_ns + 250 * ms;
        }
        if (now_ns >= next_flush_ns_) {
            flush_files();
            next_flush_ns_ = now_ns + 1000 * ms;
        }
        if (print_status_ && config_.status_interval_sec > 0) {
            if (status_from_ns_ == 0) {
                status_from_ns_ = now_ns;
                next_status_ns_ = now_ns + config_.status_interval_sec * 1000 * ms;
            } else if (now_ns >= next_status_ns_) {
                status_line(now_ns);
                next_status_ns_ = now_ns + config_.status_interval_sec * 1000 * ms;
            }
        }
        const std::uint64_t after = recorded_.load(std::memory_order_relaxed) +
                                    decision_lines_.load(std::memory_order_relaxed) + trainer_.candles_seen();
        return static_cast<std::size_t>(after - before);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cbtrade live: ops thread: %s (continuing)\n", e.what());
        return 0;
    }
}

void OpsStage::drain(std::int64_t) {
    if (rings_.signal_notes) {
        SignalNote n;
        for (int i = 0; i < 1024 && rings_.signal_notes->try_pop(n); ++i) {
            if (n.kind == SignalNoteKind::candle) {
                trainer_.add(n.candle);
                // Per candle, not per batch: refits fall on the same candles however far the ops
                // thread lags (the signal stage adopts them when it can; the recording says where).
                maybe_refit();
            } else {
                (void)models_.reclaim();
            }
        }
    }
    if (rings_.record) {
        MarketEvent e;
        for (int i = 0; i < 4096 && rings_.record->try_pop(e); ++i) {
            if (record_file_) {
                line_.clear();
                append_recording_line(line_, e);
                record_file_->write(line_);
            }
            recorded_.store(recorded_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
        const std::uint64_t full = rings_.record->full_count();
        if (full != record_full_seen_) {
            if (record_file_) record_file_->write("! lost " + std::to_string(full - record_full_seen_));
            record_full_seen_ = full;
        }
    }
    if (rings_.exec_notes) {
        ExecNote n;
        for (int i = 0; i < 4096 && rings_.exec_notes->try_pop(n); ++i) {
            // Orders the exec thread refused to send (the order desk reports the others itself).
            if (n.kind == ExecNoteKind::order_error &&
                (n.order_error == OrderError::no_token || n.order_error == OrderError::invalid_order))
                std::fprintf(stderr, "cbtrade live: order not sent: %s %s %.8g: %s\n",
                             std::string(side_name(n.fill.side)).c_str(),
                             std::string(reason_name(n.fill.reason)).c_str(), n.fill.qty,
                             n.order_error == OrderError::no_token
                                 ? "no_token (no pre-signed JWT young enough: the ops thread fell behind)"
                                 : "invalid_order (its size is off the product's increments or limits)");
            if (decision_file_) decision_file_->write(decision_log_line(n));
            decision_lines_.store(decision_lines_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
        const std::uint64_t full = rings_.exec_notes->full_count();
        if (full != exec_full_seen_) {
            if (decision_file_) decision_file_->write(decision_log_lost_line(full - exec_full_seen_));
            exec_full_seen_ = full;
        }
    }
}

void OpsStage::maybe_refit() {
    if (!walk_forward_) return;
    const Candle* last = trainer_.last();
    if (last == nullptr || last->time_s - last_fit_time_s_ < config_.walk_forward_min * 60) return;
    last_fit_time_s_ = last->time_s;
    const auto fitted = trainer_.fit(trainer_.candles_seen(), static_cast<std::size_t>(config_.walk_forward_window));
    if (!fitted) return;
    (void)models_.publish(*fitted, trainer_.candles_seen());
    fits_.store(fits_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    metrics_.walk_forward_fits.inc();
}

void OpsStage::restore_halt(bool halted) noexcept {
    signal_halt_ = halted;
    halted_.store(signal_halt_ || file_halt_, std::memory_order_relaxed);
    metrics_.halted.set(halted_.load(std::memory_order_relaxed) ? 1 : 0);
}

void OpsStage::check_halt(std::int64_t) {
    bool changed = false;
    const char* by = "";
    if (sources_.usr1_count) {
        const std::uint32_t now = sources_.usr1_count->load(std::memory_order_relaxed);
        if (now != usr1_seen_) {
            if ((now - usr1_seen_) % 2 == 1) {
                signal_halt_ = !signal_halt_;
                changed = true;
                by = "SIGUSR1";
            }
            usr1_seen_ = now;
        }
    }
    if (!config_.halt_file.empty()) {
        struct stat st {};
        const bool exists = ::stat(config_.halt_file.c_str(), &st) == 0;
        if (exists != file_halt_) {
            file_halt_ = exists;
            changed = true;
            by = "HALT_FILE";
        }
    }
    if (!changed) return;
    const bool halted = signal_halt_ || file_halt_;
    const bool was = halted_.load(std::memory_order_relaxed);
    // writer: this thread; reader: the exec stage, per record. Relaxed: a flag read on its own.
    halted_.store(halted, std::memory_order_relaxed);
    metrics_.halted.set(halted ? 1 : 0);
    if (halted != was) {
        std::fprintf(stderr, "cbtrade live: halt %s (%s): %s\n", halted ? "ON" : "OFF", by,
                     halted ? "no new entries; exits still allowed" : "entries allowed again");
        if (decision_file_) decision_file_->write(decision_log_halt_line(halted, by));
    }
}

std::string OpsStage::not_trading_reason() const {
    if (sources_.signal == nullptr) return {};
    const SignalStage::Status& s = sources_.signal->status();
    switch (s.block.load(std::memory_order_relaxed)) {
        case TradingBlock::none:
            return {};
        case TradingBlock::no_model:
            return "no fitted model (see the history line at start-up)";
        case TradingBlock::waiting_trade:
            return "waiting for the first live trade to check the history joins it";
        case TradingBlock::history_gap: {
            const std::int64_t end = s.history_end_s.load(std::memory_order_relaxed);
            const std::int64_t first = s.first_trade_s.load(std::memory_order_relaxed);
            return "history ends at " + utc_text(end) + " but the first live trade is at " + utc_text(first) + ": " +
                   std::to_string(s.gap_candles.load(std::memory_order_relaxed)) +
                   " candles missing, HISTORY_MAX_GAP_CANDLES=" + std::to_string(config_.history_max_gap_candles) +
                   "; give fresher history (--history) to trade";
        }
    }
    return {};
}

void OpsStage::publish_metrics(std::int64_t now_ns) {
    bool fresh = true;
    if (sources_.feed) {
        const std::int64_t last = sources_.feed->last_message_ns();
        metrics_.feed_age_seconds.set(last == 0 ? 0.0 : static_cast<double>(now_ns - last) / 1e9);
        fresh = sources_.feed->fresh();
        metrics_.feed_stale.set(fresh ? 0 : 1);
        std::string err;
        while (sources_.feed->next_error(err)) std::fprintf(stderr, "cbtrade live: feed: %s\n", err.c_str());
    }
    const std::array<std::uint64_t, 3> full{rings_.ring_a ? rings_.ring_a->full_count() : 0,
                                            rings_.ring_b ? rings_.ring_b->full_count() : 0,
                                            (rings_.signal_notes ? rings_.signal_notes->full_count() : 0) +
                                                (rings_.record ? rings_.record->full_count() : 0) +
                                                (rings_.exec_notes ? rings_.exec_notes->full_count() : 0)};
    const std::array<RingLabel, 3> labels{RingLabel::ticks, RingLabel::decisions, RingLabel::ops};
    for (std::size_t i = 0; i < full.size(); ++i) {
        if (full[i] != ring_full_published_[i]) {
            metrics_.ring_full(labels[i]).inc(full[i] - ring_full_published_[i]);
            ring_full_published_[i] = full[i];
        }
    }
    if (sources_.exec)
        metrics_.position_base.set(sources_.exec->status().position_base.load(std::memory_order_relaxed));

    const TradingBlock block =
        sources_.signal ? sources_.signal->status().block.load(std::memory_order_relaxed) : TradingBlock::none;
    if (!announced_ || block != announced_block_) {
        if (announced_ && block == TradingBlock::none)
            std::fprintf(stderr, "cbtrade live: history joins the live data; trading\n");
        else if (block == TradingBlock::history_gap)
            std::fprintf(stderr, "cbtrade live: NOT TRADING: %s\n", not_trading_reason().c_str());
        announced_ = true;
        announced_block_ = block;
    }
    const char* reason = nullptr;
    if (block == TradingBlock::no_model) reason = "no fitted model";
    else if (block == TradingBlock::history_gap) reason = "history does not join the live data";
    else if (block == TradingBlock::waiting_trade) reason = "waiting for the first live trade";
    else if (!fresh) reason = "feed not fresh";
    else if (halted_.load(std::memory_order_relaxed)) reason = "halted";
    // The order journal broke: no order is sent any more (exec stage). Said once, loudly; not ready.
    if (const int err = sources_.exec ? sources_.exec->status().journal_error.load(std::memory_order_relaxed) : 0) {
        if (!journal_error_said_) {
            journal_error_said_ = true;
            std::fprintf(stderr,
                         "cbtrade live: ORDER JOURNAL FAILED (%s): NO ORDER IS SENT ANY MORE, exits included; "
                         "positions are no longer managed. Stop the daemon, fix the journal's disk (JOURNAL_DIR), "
                         "then restart\n",
                         err < 0 ? std::strerror(-err) : "a record could not be staged");
        }
        reason = "order journal failed";
    }
    if (ready_) {
        if (reason) ready_->set_not_ready(reason);
        else ready_->set_ready();
    }
    metrics_.ready.set(reason ? 0 : 1);
}

void OpsStage::status_line(std::int64_t now_ns) {
    const double seconds = static_cast<double>(now_ns - status_from_ns_) / 1e9;
    const std::uint64_t trades = sources_.feed ? sources_.feed->trades() : 0;
    const Histogram::Snapshot t2d = metrics_.tick_to_decision.snapshot();
    const Histogram::Snapshot window = histogram_delta(t2d, status_t2d_);
    const double equity = sources_.exec ? sources_.exec->status().equity_usd.load(std::memory_order_relaxed) : 0;
    const double position = sources_.exec ? sources_.exec->status().position_base.load(std::memory_order_relaxed) : 0;
    const std::uint64_t candles =
        sources_.signal ? sources_.signal->status().candles.load(std::memory_order_relaxed) : 0;
    const std::int64_t last = sources_.feed ? sources_.feed->last_message_ns() : 0;
    const std::uint64_t ticks = metrics_.ticks.value();
    std::fprintf(stderr,
                 "cbtrade live: ticks=%" PRIu64 " trades/s=%.1f candles=%" PRIu64
                 " position=%.8g equity=%.2f t2d_p50=%.2fus t2d_p99=%.2fus feed_age=%.1fs reconnects=%" PRIu64
                 " fills=%" PRIu64 "%s%s\n",
                 ticks, seconds > 0 ? static_cast<double>(trades - status_trades_) / seconds : 0.0, candles, position,
                 equity, histogram_quantile_ns(window, 0.5) / 1e3, histogram_quantile_ns(window, 0.99) / 1e3,
                 last == 0 ? 0.0 : static_cast<double>(now_ns - last) / 1e9,
                 sources_.feed ? sources_.feed->reconnects() : 0,
                 sources_.exec ? sources_.exec->status().fills.load(std::memory_order_relaxed) : 0,
                 halted_.load(std::memory_order_relaxed) ? " HALTED" : "",
                 sources_.feed && !sources_.feed->fresh() ? " feed-not-fresh" : "");
    status_from_ns_ = now_ns;
    status_trades_ = trades;
    status_t2d_ = t2d;
}

void OpsStage::flush_files() {
    if (record_file_) (void)record_file_->flush();
    if (decision_file_) (void)decision_file_->flush();
}

bool OpsStage::drained(std::int64_t) const noexcept {
    return upstream_finished() && (!rings_.signal_notes || rings_.signal_notes->empty()) &&
           (!rings_.record || rings_.record->empty()) && (!rings_.exec_notes || rings_.exec_notes->empty());
}

void OpsStage::begin_stop(std::int64_t) noexcept {}

std::string OpsStage::finish() {
    drain(0);
    flush_files();
    if (record_file_ && !record_file_->error().empty()) return record_file_->error();
    if (decision_file_ && !decision_file_->error().empty()) return decision_file_->error();
    return {};
}

}  // namespace cbtrade
