// core/records: the records that cross stages (DESIGN.md section 2). The feed stage writes Ticks,
// the signal stage reads them and writes Decisions, the exec stage turns Decisions into
// OrderRequests and receives Fills. Each record is trivially copyable and at most one cache line,
// so a ring slot is one line and a copy is a few vector moves. Nothing here includes features,
// indicators, the model or any third-party header: a ring or a stage can carry these alone.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "core/cpu.hpp"

namespace cbtrade {

// ---- market data ---------------------------------------------------------------------------------

// The sane range of a price or size from outside (CSV rows, ticker and trade decoders, REST
// answers). Anything outside is refused and counted, never traded on: 1e300 is not a price. The
// bounds leave room for every listed product (sub-cent tokens to six-figure BTC) by orders of magnitude.
inline constexpr double min_sane_price = 1e-9;
inline constexpr double max_sane_price = 1e9;
inline constexpr double min_sane_size = 1e-12;  // base units
inline constexpr double max_sane_size = 1e12;
[[nodiscard]] constexpr bool sane_price(double p) noexcept {
    return p >= min_sane_price && p <= max_sane_price;
}
[[nodiscard]] constexpr bool sane_size(double s) noexcept {
    return s >= min_sane_size && s <= max_sane_size;
}

// Bits of Tick::flags.
inline constexpr std::uint8_t tick_flag_snapshot = 1u << 0;      // from a "snapshot" event, else "update"
inline constexpr std::uint8_t tick_flag_has_best_bid = 1u << 1;  // best_bid and best_bid_qty are valid
inline constexpr std::uint8_t tick_flag_has_best_ask = 1u << 2;  // best_ask and best_ask_qty are valid
inline constexpr std::uint8_t tick_flag_batch = 1u << 3;         // from the ticker_batch channel

// The envelope sequence number is 64 bits on the wire, but five doubles, two 64-bit times, the
// product index and the flags leave 40 bits in one line. 2^40 messages is decades of one
// connection (numbers restart per connection); the decoder result and SequenceTracker keep the
// full 64-bit value, so gap detection never depends on this field.
inline constexpr unsigned tick_sequence_bits = 40;

// One top-of-book observation for one product (the `ticker` channel).
struct alignas(cache_line) Tick {
    double price;                                     // last trade price, always finite and > 0
    double best_bid;                                  // 0 unless flags & tick_flag_has_best_bid
    double best_ask;                                  // 0 unless flags & tick_flag_has_best_ask
    double best_bid_qty;                              // base units; 0 unless flags & tick_flag_has_best_bid
    double best_ask_qty;                              // base units; 0 unless flags & tick_flag_has_best_ask
    std::int64_t exchange_time_ns;                    // envelope timestamp, ns since the UNIX epoch (UTC)
    std::uint64_t receive_tsc;                        // read_tsc() of the io_uring completion that brought the bytes
    std::uint16_t product_index;                      // index into the product list the decoder was built with
    std::uint8_t flags;                               // tick_flag_*
    std::uint64_t sequence_num : tick_sequence_bits;  // low 40 bits of the envelope sequence_num
};
static_assert(std::is_trivially_copyable_v<Tick>);
static_assert(sizeof(Tick) == cache_line, "the bit-field must share the last word with index and flags");

// One trade from the `market_trades` channel: the unit live candles are built from, so they carry
// the same OHLCV as the exchange's REST candles and the CSV history.
struct alignas(cache_line) Trade {
    double price;                   // always finite and > 0 (the decoder refuses anything else)
    double size;                    // base units, > 0
    std::int64_t exchange_time_ns;  // the trade's own `time`, ns since the UNIX epoch (UTC)
    std::uint64_t receive_tsc;      // read_tsc() of the io_uring completion that brought the bytes
    std::uint64_t trade_id;         // the exchange's trade_id (numeric); snapshots after a reconnect
                                    // repeat recent trades, which the candle builder skips by id
    std::uint16_t product_index;    // index into the product list the decoder was built with
    std::uint8_t taker_side;        // 0 unknown, 1 BUY, 2 SELL, as the wire's `side` says (UNVERIFIED
                                    // whether that is the maker or the taker side: informational only)
    std::uint8_t flags;             // trade_flag_*
};
inline constexpr std::uint8_t trade_flag_snapshot = 1u << 0;  // from a "snapshot" event
static_assert(std::is_trivially_copyable_v<Trade>);
static_assert(sizeof(Trade) == cache_line);

// ---- decisions -----------------------------------------------------------------------------------

enum class Signal : std::uint8_t { flat, buy, sell };

[[nodiscard]] constexpr std::string_view signal_name(Signal s) noexcept {
    return s == Signal::buy ? "buy" : s == Signal::sell ? "sell" : "flat";
}

// What the signal stage concluded from one candle close (or one trade price, with USE_TICK_PRICE).
struct Decision {
    std::int64_t time_s;  // close time of the candle (or time of the trade) that produced it
    double price;         // price the decision was made at
    double p_up;
    double vol_factor;  // size multiplier in (0, 1]; 1 unless VOL_RISK_ADJUST
    Signal signal;
    std::uint64_t receive_tsc;  // read_tsc() when the bytes that caused it arrived (0 in backtests):
                                // tick-to-decision is measured from here
};
static_assert(std::is_trivially_copyable_v<Decision>);
static_assert(sizeof(Decision) <= cache_line);

// ---- orders and fills ----------------------------------------------------------------------------

enum class Side : std::uint8_t { buy, sell };
[[nodiscard]] constexpr std::string_view side_name(Side s) noexcept {
    return s == Side::buy ? "BUY" : "SELL";
}

enum class OrderReason : std::uint8_t { entry, signal_exit, stop_loss, take_profit };
[[nodiscard]] constexpr std::string_view reason_name(OrderReason r) noexcept {
    switch (r) {
        case OrderReason::entry:
            return "entry";
        case OrderReason::signal_exit:
            return "signal_exit";
        case OrderReason::stop_loss:
            return "stop_loss";
        case OrderReason::take_profit:
            return "take_profit";
    }
    return "?";
}

// What the trader asks a broker to do: one market order.
struct OrderRequest {
    std::int64_t time_s;
    double qty;        // base units, > 0, floored to the product's base increment
    double ref_price;  // price the request was made at
    Side side;
    OrderReason reason;
};
static_assert(std::is_trivially_copyable_v<OrderRequest>);
static_assert(sizeof(OrderRequest) <= cache_line);

// Why an order did not (fully) happen: the reason label of bot_order_errors_total. A live order
// settles with a fill, with nothing filled and one of these, or stays unknown (and blocks every
// other order) until the exchange's answer settles it.
enum class OrderError : std::uint8_t {
    none,                // exported at 0 so the family exists; never counted
    rejected,            // the exchange refused it (success:false), INSUFFICIENT_FUND aside
    insufficient_funds,  // INSUFFICIENT_FUND: entries stay blocked until equity is refreshed
    not_filled,          // accepted, then ended (IOC cancelled, expired, failed) with nothing filled
    unauthorized,        // 401: the JWT was refused (key, clock, uri claim)
    forbidden,           // 403: the key lacks the trade permission
    bad_request,         // another 4xx (400, 404)
    rate_limited,        // 429 on every attempt (nothing was executed)
    server_error,        // 5xx on every attempt before it was sent at all (nothing was executed)
    network,             // no connection for any attempt (nothing was sent)
    unknown_outcome,     // sent, and no answer settled it yet: counted once, reconciled by client_order_id
    no_token,            // no pre-signed JWT young enough: not sent (the ops thread fell behind)
    invalid_order,       // refused before sending: size off the product's limits, floors to zero
    malformed,           // an answer that is not the documented shape
};
inline constexpr std::size_t order_error_count = 14;
[[nodiscard]] constexpr std::string_view order_error_label(OrderError e) noexcept {
    constexpr std::string_view names[order_error_count] = {
        "none",          "rejected",     "insufficient_funds", "not_filled", "unauthorized",    "forbidden",
        "bad_request",   "rate_limited", "server_error",       "network",    "unknown_outcome", "no_token",
        "invalid_order", "malformed"};
    const auto i = static_cast<std::size_t>(e);
    return i < order_error_count ? names[i] : "?";
}

// What a broker reports back: the (possibly partial) execution of one order.
struct Fill {
    std::int64_t time_s;
    double qty;
    double price;
    double fee_usd;
    Side side;
    OrderReason reason;
};
static_assert(std::is_trivially_copyable_v<Fill>);
static_assert(sizeof(Fill) <= cache_line);

}  // namespace cbtrade
