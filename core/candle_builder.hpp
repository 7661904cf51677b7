// core/candle_builder: live GRANULARITY candles from the exchange's trades (market_trades), by
// exchange time, for the signal stage. One builder per product; the caller routes trades by
// Trade::product_index. Allocation-free, lock-free and noexcept after construction: the state is a
// few fixed arrays (static_assert below: nothing to free means nothing was allocated).
//
// The rules (issue 10 item 3):
//  - A trade belongs to the interval [k*G, (k+1)*G) that holds its exchange_time_ns.
//  - A candle closes at the first trade of a later interval (on_trade), or once its interval has
//    ended and the grace period has passed: on_time(now) with now >= end + grace. A quiet market
//    still closes candles.
//  - An interval without trades is a flat candle at the previous close, volume 0 (Coinbase's REST
//    candles leave such intervals out; live candles fill them, so every interval has one).
//  - Inside the open interval the order of arrival does not matter: open is the earliest trade by
//    exchange time and close the latest (equal times: the lower trade_id opens, the higher closes),
//    high/low the extremes, volume the sum of sizes.
//  - Late trades: a trade for an interval already closed (emitted or waiting to be) is never applied
//    (emitted candles are final) and is counted in `late`.
//  - Duplicates: a trade_id among the last recent_trade_ids applied, or lower than all of them once
//    that many were applied, is skipped and counted (a market_trades snapshot after a reconnect
//    repeats recent trades; Coinbase trade ids rise per product).
//  - The first interval: the builder started inside it and cannot know the trades before, so by
//    default it is not emitted (partial_skipped) unless the first trade sits exactly on the
//    interval's start; its close still seeds the flat candles after it. A market_trades snapshot
//    (recent trades) usually starts the builder intervals back, so the current interval is whole.
//  - A jump of more than max_gap_intervals (a trade or a clock far ahead) is not filled with flat
//    candles: it is counted in `resyncs`, the candles closed before it are still emitted, and the
//    builder starts again at the next trade as at the first one (that interval may be partial).
//
// Emission: on_trade and on_time write closed candles, oldest first, to `out` and return how many.
// What does not fit stays queued and comes out first on the next call (nothing is lost while calls
// give room; flat candles are made as they are emitted, so a long quiet gap needs no memory). At
// most max_queued_candles candles with trades can wait; when one more closes, everything waiting
// is dropped and counted (`lost`), which only a caller that never gives room can cause.
//
// on_time takes the exchange clock, not the local one: the daemon estimates it (the last envelope
// timestamp plus the local time since). Calling it while the feed is stale would close candles
// with trades that are merely not delivered yet: call it only while the feed is fresh.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "core/candle.hpp"
#include "core/records.hpp"

namespace cbtrade {

struct CandleBuilderCounters {
    std::uint64_t trades = 0;           // applied to a candle
    std::uint64_t duplicates = 0;       // trade_id seen before: skipped
    std::uint64_t late = 0;             // for an interval already closed: skipped
    std::uint64_t candles = 0;          // emitted, flat ones included
    std::uint64_t flat_candles = 0;     // emitted for intervals without trades
    std::uint64_t partial_skipped = 0;  // first intervals not emitted (started inside them)
    std::uint64_t resyncs = 0;          // jumps beyond max_gap_intervals: restarted, not filled
    std::uint64_t lost = 0;             // closed candles with trades dropped because no call gave room
};

class CandleBuilder {
public:
    enum class FirstInterval : std::uint8_t {
        skip_partial,  // emit the first interval only if its first trade sits on its start
        emit,          // emit it whatever it missed (tests, replays that start on a boundary)
    };

    static constexpr std::size_t recent_trade_ids = 256;
    static constexpr std::size_t max_queued_candles = 64;
    static constexpr std::int64_t max_gap_intervals = 10'080;  // a week of one-minute candles
    static constexpr std::int64_t max_granularity_s = 7 * 86'400;

    // granularity_s in [1, max_granularity_s], grace_ns in [0, granularity]. Throws
    // std::invalid_argument naming the bad value (cold: configuration time).
    CandleBuilder(std::int64_t granularity_s, std::int64_t grace_ns, FirstInterval first = FirstInterval::skip_partial);

    // Applies one trade (see the rules above) and writes the candles it closed to out.
    std::size_t on_trade(const Trade& trade, std::span<Candle> out) noexcept;
    // Closes what ended at least grace ago by the exchange clock `now_exchange_ns` and writes it.
    std::size_t on_time(std::int64_t now_exchange_ns, std::span<Candle> out) noexcept;

    // The candle being built (its close is the last trade price so far), or nullptr before the
    // first trade and between a grace close and the next trade.
    [[nodiscard]] const Candle* open_candle() const noexcept { return has_open_ ? &open_ : nullptr; }
    // Closed candles waiting for room in an `out` (flat ones and a partial first one included).
    [[nodiscard]] std::int64_t queued() const noexcept {
        const std::int64_t skipped = gap_pending_ ? resume_at_ns_ - gap_from_ns_ : 0;
        return (closed_until_ns_ - emit_cursor_ns_ - skipped) / granularity_ns_;
    }
    [[nodiscard]] std::int64_t granularity_s() const noexcept { return granularity_ns_ / 1'000'000'000; }
    [[nodiscard]] const CandleBuilderCounters& counters() const noexcept { return counters_; }

private:
    [[nodiscard]] std::int64_t interval_of(std::int64_t time_ns) const noexcept {
        return time_ns - time_ns % granularity_ns_;  // exchange times are >= 0
    }
    [[nodiscard]] bool is_duplicate(std::uint64_t trade_id) const noexcept;
    void remember(std::uint64_t trade_id) noexcept;
    void open_interval(const Trade& trade, std::int64_t start_ns) noexcept;
    void close_open_candle() noexcept;
    void start_partial(const Trade& trade, std::int64_t start_ns) noexcept;
    void drop_pending() noexcept;
    std::size_t emit(std::span<Candle> out) noexcept;

    std::int64_t granularity_ns_;
    std::int64_t grace_ns_;
    FirstInterval first_;

    bool started_ = false;
    bool has_open_ = false;
    Candle open_{};
    std::int64_t open_start_ns_ = 0;
    std::int64_t open_first_ns_ = 0;  // exchange time and id of the trade that is the open
    std::uint64_t open_first_id_ = 0;
    std::int64_t open_last_ns_ = 0;  // ... and of the one that is the close
    std::uint64_t open_last_id_ = 0;

    // Intervals [emit_cursor, closed_until) are closed and not yet emitted, except [gap_from,
    // resume_at) when a resync left a gap; everything before closed_until is final.
    std::int64_t emit_cursor_ns_ = 0;
    std::int64_t closed_until_ns_ = 0;
    bool gap_pending_ = false;
    std::int64_t gap_from_ns_ = 0;
    std::int64_t resume_at_ns_ = 0;
    bool awaiting_restart_ = false;  // on_time found a jump too long: the next trade restarts
    bool partial_pending_ = false;   // the interval at partial_start is not emitted
    std::int64_t partial_start_ns_ = 0;
    double last_close_ = 0;  // close of the interval before emit_cursor (flat candles take it)

    // Closed candles with trades, waiting to be emitted: a ring, oldest at queue_head_.
    std::array<Candle, max_queued_candles> queue_{};
    std::size_t queue_head_ = 0;
    std::size_t queue_size_ = 0;

    // The last recent_trade_ids trade ids applied: a ring.
    std::array<std::uint64_t, recent_trade_ids> recent_ids_{};
    std::size_t recent_next_ = 0;
    std::size_t recent_count_ = 0;

    CandleBuilderCounters counters_{};
};

static_assert(std::is_trivially_destructible_v<CandleBuilder>, "no owned memory: the builder never allocates");

}  // namespace cbtrade
