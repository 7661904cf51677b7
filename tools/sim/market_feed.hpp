// tools/sim/: the simulated market behind the ticker and market_trades channels. Each candle (replayed
// from a CSV or drawn from SyntheticMarket) becomes four ticks: open, the nearer extreme, the farther
// extreme, close, at even offsets inside the candle. Prices are whole cents so that the checksum the
// simulator prints (price_cents_sum) is exact and a client can reproduce it from the strings it
// decoded.
//
// Every tick is also one trade at its price, so the trades rebuild each candle's OHLCV exactly: the
// first trade is the open, the last the close, the two between are the low and the high, and the
// four sizes are the candle's volume in units of 1e-8 (the CSV's precision) split into four, the
// remainder on the last: exact decimals that sum to the volume. A candle whose volume is under four
// units cannot be split into four positive sizes; each trade then carries one unit and the candle
// is counted (volume_adjusted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/random.hpp"

#include "core/candle.hpp"
#include "feeds/synthetic_market.hpp"

namespace cbtrade::sim {

inline constexpr int ticks_per_candle = 4;
inline constexpr std::int64_t size_units_per_base = 100'000'000;  // trade sizes in units of 1e-8
inline constexpr std::size_t recent_trades_kept = 50;             // what a market_trades snapshot shows

// One trade of the market_trades channel (coinbase-api.md 1.4), in exact units.
struct TradePrint {
    std::uint64_t trade_id = 0;  // per product, from 1, rising by one per trade
    std::int64_t time_us = 0;    // the tick's market time
    std::int64_t price_cents = 0;
    std::int64_t size_units = 0;  // base units * 1e8, > 0
    bool buy = true;              // "BUY" when the price did not fall from the previous trade
};

// Everything one ticker object of section 1.4 carries, in exact units where the wire has decimals.
struct TickerQuote {
    std::int64_t time_us = 0;  // market time of the tick, UNIX microseconds
    std::int64_t price_cents = 0;
    std::int64_t best_bid_cents = 0;
    std::int64_t best_ask_cents = 0;
    double best_bid_quantity = 0;
    double best_ask_quantity = 0;
    double volume_24_h = 0;
    std::int64_t low_24_h_cents = 0;
    std::int64_t high_24_h_cents = 0;
    std::int64_t low_52_w_cents = 0;
    std::int64_t high_52_w_cents = 0;
    double price_percent_chg_24_h = 0;
    TradePrint trade;  // the trade this tick's price comes from
};

class MarketFeed {
public:
    // Replays candles (shared between products); with loop the replay restarts, shifted in time.
    MarketFeed(std::shared_ptr<const std::vector<Candle>> candles, std::int64_t step_s, bool loop, std::uint64_t seed);
    // A synthetic random walk.
    explicit MarketFeed(const SyntheticMarketParams& params);
    // CSV: start at the first candle at or after `time_s` (before the first candle is loaded).
    void start_at(std::int64_t time_s);

    // The next tick, or nullopt when a non-looping replay has ended.
    [[nodiscard]] std::optional<TickerQuote> next();

    [[nodiscard]] std::int64_t step_s() const noexcept { return step_s_; }
    // The price of the last tick handed out, if any (market orders on the REST side fill at it).
    [[nodiscard]] std::optional<std::int64_t> last_price_cents() const noexcept {
        return any_tick_ ? std::optional<std::int64_t>(last_price_cents_) : std::nullopt;
    }
    // The last recent_trades_kept trades, oldest first (a subscriber's snapshot).
    [[nodiscard]] const std::deque<TradePrint>& recent_trades() const noexcept { return recent_trades_; }
    // Candles whose volume was under four size units (their trades carry one unit each).
    [[nodiscard]] std::uint64_t volume_adjusted() const noexcept { return volume_adjusted_; }

private:
    struct WindowCandle {
        std::int64_t time_s;
        std::int64_t open_cents;
        std::int64_t low_cents;
        std::int64_t high_cents;
        double volume;
    };

    [[nodiscard]] bool load_next_candle();
    void close_current_candle();

    std::shared_ptr<const std::vector<Candle>> candles_;
    std::size_t csv_index_ = 0;
    std::int64_t time_shift_s_ = 0;
    bool loop_ = false;
    std::optional<SyntheticMarket> synthetic_;
    std::int64_t step_s_ = 60;
    SplitMix64 random_;

    // The candle being emitted.
    Candle current_{};
    std::int64_t path_cents_[ticks_per_candle] = {};
    std::int64_t size_units_[ticks_per_candle] = {};
    std::uint64_t next_trade_id_ = 1;
    std::int64_t last_trade_cents_ = 0;
    std::deque<TradePrint> recent_trades_;
    std::uint64_t volume_adjusted_ = 0;
    int tick_index_ = ticks_per_candle;  // next tick of the current candle
    bool candle_loaded_ = false;
    std::int64_t current_low_cents_ = 0;
    std::int64_t current_high_cents_ = 0;

    // Trailing 24 h of closed candles, with monotonic deques for O(1) min and max.
    std::deque<WindowCandle> window_;
    std::deque<WindowCandle> window_min_;
    std::deque<WindowCandle> window_max_;
    double window_volume_ = 0;
    std::int64_t low_52_w_cents_ = 0;
    std::int64_t high_52_w_cents_ = 0;
    bool any_tick_ = false;  // the 52-week range starts at the first tick (all-time range in practice)
    std::int64_t last_price_cents_ = 0;
};

// "97012.35" from 9701235; negative values keep their sign.
void append_cents(std::string& out, std::int64_t cents);
// A decimal with up to `digits` fraction digits, trailing zeros dropped ("0.41", "8123.4471", "3").
void append_decimal(std::string& out, double value, int digits);
// Size units (1e-8) as an exact decimal, trailing zeros dropped: 29126081 -> "0.29126081", 1e8 -> "1".
void append_size_units(std::string& out, std::int64_t units);

}  // namespace cbtrade::sim
