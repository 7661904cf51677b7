// pipeline/signal_stage: market events -> GRANULARITY candles -> indicators -> model -> Decision
// (issue 10 item 4). Candles are built by exchange time from market_trades (core/candle_builder);
// at each close the engine updates its features and evaluates the model; with USE_TICK_PRICE it
// also evaluates on every trade with the open candle's close set to that price. Every trade price
// goes to the exec stage as one PriceRecord, carrying the Decision when there is one and the
// receive TSC of the bytes that brought it.
//
// It also judges whether market data is fit for entries (PriceRecord data_ok): the feed is fresh
// (a snapshot since the last connect), no sequence gap or ring A loss since the last candle close,
// history joins the live data, and a model is fitted. It never reads a clock: clock events from the
// feed stage close candles in quiet markets, so a replay of the same events decides the same.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "core/bot_metrics.hpp"
#include "core/candle_builder.hpp"
#include "core/config.hpp"
#include "core/signal_engine.hpp"
#include "core/stage_runner.hpp"
#include "pipeline/model_slot.hpp"
#include "pipeline/rings.hpp"

namespace cbtrade {

// Why the signal stage is not trading (or none). Read by the ops thread to say so.
enum class TradingBlock : std::uint8_t {
    none,
    no_model,       // no fitted model (too little history, or the fit failed)
    waiting_trade,  // history loaded; no live trade yet to check it joins
    history_gap,    // the history ends too long before the first live trade
};

struct SignalStageOptions {
    std::span<const Candle> history;              // warm-up candles, oldest first (already used for the fit)
    std::int64_t close_grace_ns = 2'000'000'000;  // a quiet interval closes this long after its end
};

// The index of PRODUCT_ID in COINBASE_WS_PRODUCTS (the feed numbers products in that order); the
// signal stage ignores the other products' data. Throws ConfigError when it is not subscribed.
[[nodiscard]] std::uint16_t traded_product_index(const Config& c);

class SignalStage final : public Stage {
public:
    // notes and record may be null (no ops thread, no recording).
    SignalStage(const Config& c, const SignalStageOptions& o, MarketRing& in, PriceRing& out, SignalNoteRing* notes,
                RecordRing* record, ModelSlot& models, BotMetrics& metrics, const TscClock& clock);

    std::string_view name() const noexcept override { return "signal"; }
    std::size_t poll(std::int64_t now_ns) noexcept override;
    bool drained(std::int64_t) const noexcept override { return upstream_finished() && in_.empty(); }

    // Written by the signal thread, read by the ops thread (relaxed: independent values).
    struct Status {
        std::atomic<TradingBlock> block{TradingBlock::no_model};
        std::atomic<std::int64_t> history_end_s{0};  // end of the last history candle
        std::atomic<std::int64_t> first_trade_s{0};  // first live trade at or after it
        std::atomic<std::int64_t> gap_candles{0};    // intervals between the two
        std::atomic<std::uint64_t> candles{0};       // closed live candles
        std::atomic<std::uint64_t> trades{0};        // trades consumed
        std::atomic<std::uint64_t> model_generation{0};
        std::atomic<bool> data_ok{false};
    };
    [[nodiscard]] const Status& status() const noexcept { return status_; }
    [[nodiscard]] std::int64_t history_end_s() const noexcept { return history_end_ns_ / 1'000'000'000; }

private:
    void adopt_model() noexcept;
    void handle(const MarketEvent& e) noexcept;
    void on_trade(const MarketEvent& e) noexcept;
    void on_status(const FeedStatus& s) noexcept;
    void on_clock(std::int64_t wall_ns, std::uint64_t push_tsc) noexcept;
    bool join_history(const Trade& t) noexcept;
    // A closed candle: features, model, decision; sends a close record (with the decision).
    void close_candle(const Candle& c, std::int64_t close_ns, std::uint64_t receive_tsc) noexcept;
    void push(PriceRecord& r) noexcept;
    [[nodiscard]] bool data_ok() const noexcept;
    void record(const MarketEvent& e) noexcept;

    MarketRing& in_;
    PriceRing& out_;
    SignalNoteRing* notes_;
    RecordRing* record_;
    ModelSlot& models_;
    BotMetrics& metrics_;
    const TscClock& clock_;
    SignalEngine engine_;
    SignalEngine preview_;  // USE_TICK_PRICE: a copy of engine_ evaluated with the open candle
    CandleBuilder builder_;
    bool use_tick_price_;
    std::int64_t granularity_ns_;
    std::int64_t max_gap_candles_;
    std::uint16_t product_index_;
    const PublishedModel* model_ = nullptr;

    std::int64_t history_end_ns_ = 0;  // trades before this are inside the history: skipped
    double history_last_close_ = 0;
    bool history_joined_ = false;
    bool history_gap_ = false;
    bool fresh_ = false;
    bool loss_block_ = false;  // a gap or ring A loss: no entry until a candle close after it
    bool out_lost_ = false;    // ring B refused a record: flag the next one
    std::uint64_t gaps_seen_ = 0;
    std::int64_t anchor_exchange_ns_ = 0;  // exchange time of the last trade
    std::int64_t anchor_wall_ns_ = 0;      // wall clock (from clock events) when it arrived
    std::int64_t wall_now_ns_ = 0;
    std::array<Candle, 64> closed_{};
    Status status_;
};

}  // namespace cbtrade
