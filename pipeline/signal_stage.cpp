#include "pipeline/signal_stage.hpp"

#include "core/error.hpp"

namespace cbtrade {

namespace {
constexpr std::int64_t ns_per_s = 1'000'000'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}
}  // namespace

std::uint16_t traded_product_index(const Config& c) {
    if (c.coinbase_ws_products.empty()) return 0;  // the default: PRODUCT_ID alone
    for (std::size_t i = 0; i < c.coinbase_ws_products.size(); ++i)
        if (c.coinbase_ws_products[i] == c.product_id) return static_cast<std::uint16_t>(i);
    throw ConfigError("COINBASE_WS_PRODUCTS does not include PRODUCT_ID=" + c.product_id +
                      ": the daemon trades PRODUCT_ID and needs its market data");
}

SignalStage::SignalStage(const Config& c, const SignalStageOptions& o, MarketRing& in, PriceRing& out,
                         SignalNoteRing* notes, RecordRing* record, ModelSlot& models, BotMetrics& metrics,
                         const TscClock& clock)
    : in_(in),
      out_(out),
      notes_(notes),
      record_(record),
      models_(models),
      metrics_(metrics),
      clock_(clock),
      engine_(c),
      preview_(c),
      // The first live interval is emitted even if it started before the connection: it joins the
      // history, and the loss rule (join_history) keeps entries out until a whole candle closed.
      builder_(granularity_seconds(c.granularity), o.close_grace_ns, CandleBuilder::FirstInterval::emit),
      use_tick_price_(c.use_tick_price),
      granularity_ns_(granularity_seconds(c.granularity) * ns_per_s),
      max_gap_candles_(c.history_max_gap_candles),
      product_index_(traded_product_index(c)) {
    // Warm the features on the history (cold: before the thread starts).
    for (const Candle& h : o.history) (void)engine_.on_candle(h);
    if (!o.history.empty()) {
        history_end_ns_ = (o.history.back().time_s * ns_per_s) + granularity_ns_;
        history_last_close_ = o.history.back().close;
        status_.history_end_s.store(history_end_ns_ / ns_per_s, std::memory_order_relaxed);
    }
    adopt_model();
    status_.block.store(model_ == nullptr ? TradingBlock::no_model : TradingBlock::waiting_trade,
                        std::memory_order_relaxed);
}

void SignalStage::adopt_model() noexcept {
    const PublishedModel* m = models_.adopt_newer(model_);
    if (m == nullptr) return;
    const bool first = model_ == nullptr;
    model_ = m;
    engine_.set_model(&m->weights);
    status_.model_generation.store(m->generation, std::memory_order_relaxed);
    if (first && status_.block.load(std::memory_order_relaxed) == TradingBlock::no_model)
        status_.block.store(history_joined_ ? TradingBlock::none : TradingBlock::waiting_trade,
                            std::memory_order_relaxed);
    if (notes_ != nullptr) {
        SignalNote n{};
        n.kind = SignalNoteKind::model_adopted;
        n.generation = m->generation;
        (void)notes_->try_push(n);
    }
    MarketEvent marker{};
    marker.kind = EventKind::model_switch;
    marker.model = ModelSwitch{m->fit_end, m->generation};
    record(marker);
}

std::size_t SignalStage::poll(std::int64_t) noexcept {
    adopt_model();
    std::size_t n = 0;
    MarketEvent e;
    while (n < 64 && in_.try_pop(e)) {
        const std::uint64_t start = read_tsc();
        handle(e);
        metrics_.stage_latency(StageLabel::signal).observe_ns(clock_.to_ns(read_tsc(), start));
        ++n;
    }
    return n;
}

void SignalStage::record(const MarketEvent& e) noexcept {
    if (record_ == nullptr) return;
    (void)record_->try_push(e);  // a refusal is counted by the ring; the ops thread writes "! lost"
}

bool SignalStage::data_ok() const noexcept {
    return fresh_ && !loss_block_ && history_joined_ && !history_gap_ && model_ != nullptr;
}

void SignalStage::handle(const MarketEvent& e) noexcept {
    record(e);
    if (e.flags & event_flag_lost_before) loss_block_ = true;
    switch (e.kind) {
        case EventKind::trade:
            if (e.trade.product_index == product_index_) on_trade(e);
            break;
        case EventKind::tick:
            break;  // top of book: not used by the strategy yet (trades carry every price)
        case EventKind::status:
            on_status(e.status);
            break;
        case EventKind::clock:
            on_clock(e.clock_ns, e.push_tsc);
            break;
        case EventKind::model_switch:
            break;  // recording marker only
    }
    status_.data_ok.store(data_ok(), std::memory_order_relaxed);
}

void SignalStage::on_status(const FeedStatus& s) noexcept {
    if (s.gaps > gaps_seen_) loss_block_ = true;  // messages were missed: the open candle may be wrong
    gaps_seen_ = s.gaps;
    const bool was_fresh = fresh_;
    fresh_ = s.fresh != 0;
    if (fresh_ && !was_fresh) loss_block_ = false;  // a new snapshot: the state is whole again
}

bool SignalStage::join_history(const Trade& t) noexcept {
    if (history_joined_) return true;
    if (t.exchange_time_ns < history_end_ns_) return false;  // inside the history already: skip
    history_joined_ = true;
    status_.first_trade_s.store(t.exchange_time_ns / ns_per_s, std::memory_order_relaxed);
    if (history_end_ns_ == 0) return true;  // no history (no model either): nothing to join
    const std::int64_t interval = floor_div(t.exchange_time_ns, granularity_ns_) * granularity_ns_;
    const std::int64_t missing = (interval - history_end_ns_) / granularity_ns_;
    status_.gap_candles.store(missing, std::memory_order_relaxed);
    if (missing > max_gap_candles_) {
        history_gap_ = true;
        status_.block.store(TradingBlock::history_gap, std::memory_order_relaxed);
        return true;
    }
    // A short gap: flat candles at the last close, as the CSV reader documents for missing rows.
    for (std::int64_t k = 0; k < missing; ++k) {
        const Candle flat{(history_end_ns_ + k * granularity_ns_) / ns_per_s,
                          history_last_close_,
                          history_last_close_,
                          history_last_close_,
                          history_last_close_,
                          0.0};
        close_candle(flat, history_end_ns_ + (k + 1) * granularity_ns_, t.receive_tsc);
    }
    // The first live candle may miss trades from before the connection: block entries until a
    // candle has closed after it (the loss rule).
    loss_block_ = true;
    if (model_ != nullptr) status_.block.store(TradingBlock::none, std::memory_order_relaxed);
    return true;
}

void SignalStage::on_trade(const MarketEvent& e) noexcept {
    const Trade& t = e.trade;
    status_.trades.store(status_.trades.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    anchor_exchange_ns_ = t.exchange_time_ns;
    anchor_wall_ns_ = wall_now_ns_;
    if (!join_history(t)) return;
    // More closed candles than closed_ holds (a long quiet gap of flat ones) wait in the builder and
    // come out on the next calls: drain them all before this trade's own price record.
    for (std::size_t closed = builder_.on_trade(t, closed_); closed != 0;
         closed = closed == closed_.size() ? builder_.on_time(t.exchange_time_ns, closed_) : 0) {
        for (std::size_t i = 0; i < closed; ++i)
            close_candle(closed_[i], closed_[i].time_s * ns_per_s + granularity_ns_, t.receive_tsc);
    }

    PriceRecord r{};
    r.exchange_time_ns = t.exchange_time_ns;
    r.price = t.price;
    r.receive_tsc = t.receive_tsc;
    r.flags = price_flag_has_price;
    if (use_tick_price_ && model_ != nullptr && engine_.features().warm() && !history_gap_) {
        if (const Candle* open = builder_.open_candle()) {
            Candle hypothetical = *open;
            hypothetical.close = t.price;
            preview_ = engine_;  // the open candle as if it closed now; engine_ itself is untouched
            if (auto d = preview_.on_candle(hypothetical)) {
                d->time_s = t.exchange_time_ns / ns_per_s;
                d->receive_tsc = t.receive_tsc;
                r.decision = *d;
                r.flags |= price_flag_has_decision;
                metrics_.decisions(d->signal).inc();
            }
        }
    }
    push(r);
}

void SignalStage::on_clock(std::int64_t wall_ns, std::uint64_t push_tsc) noexcept {
    wall_now_ns_ = wall_ns;
    // No trade yet: no idea of the exchange's time. Not fresh: trades may merely be late, and a
    // candle closed now would miss them (the builder's own rule).
    if (anchor_exchange_ns_ == 0 || !fresh_) return;
    // The exchange's "now": the last trade's time plus the wall time since it arrived. Quiet
    // intervals close by this clock; a replay reproduces it from the recorded clock events.
    const std::int64_t exchange_now = anchor_exchange_ns_ + (wall_ns - anchor_wall_ns_);
    for (std::size_t closed = builder_.on_time(exchange_now, closed_); closed != 0;
         closed = closed == closed_.size() ? builder_.on_time(exchange_now, closed_) : 0) {
        for (std::size_t i = 0; i < closed; ++i)
            close_candle(closed_[i], closed_[i].time_s * ns_per_s + granularity_ns_, push_tsc);
    }
}

void SignalStage::close_candle(const Candle& c, std::int64_t close_ns, std::uint64_t receive_tsc) noexcept {
    metrics_.candles.inc();
    status_.candles.store(status_.candles.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (notes_ != nullptr) {
        SignalNote n{};
        n.kind = SignalNoteKind::candle;
        n.candle = c;
        (void)notes_->try_push(n);  // a refusal is counted by the ring
    }
    PriceRecord r{};
    r.exchange_time_ns = close_ns;
    r.price = c.close;
    r.receive_tsc = receive_tsc;
    r.flags = price_flag_candle_close;
    if (const auto d = engine_.on_candle(c); d && !history_gap_) {
        r.decision = *d;
        r.decision.receive_tsc = receive_tsc;
        r.flags |= price_flag_has_decision;
        metrics_.decisions(d->signal).inc();
    }
    push(r);  // data_ok is judged with the loss still in force: this candle may be incomplete
    loss_block_ = false;
}

void SignalStage::push(PriceRecord& r) noexcept {
    if (data_ok()) r.flags |= price_flag_data_ok;
    if (out_lost_) r.flags |= price_flag_lost_before;
    r.push_tsc = read_tsc();
    out_lost_ = !out_.try_push(r);  // refused: counted by the ring, flagged on the next record
}

}  // namespace cbtrade
