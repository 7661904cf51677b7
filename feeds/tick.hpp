// Tick: one top-of-book observation for one product, the record the feed stage hands to the
// signal stage over ring A (DESIGN.md section 2). Trivially copyable and exactly one cache line, so
// a ring slot is one line and a copy is a handful of vector moves.
#pragma once

#include "core/candle.hpp"

#include <cstdint>
#include <type_traits>

namespace cbtrade {

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

struct alignas(cache_line) Tick {
    double price;           // last trade price, always finite and > 0
    double best_bid;        // 0 unless flags & tick_flag_has_best_bid
    double best_ask;        // 0 unless flags & tick_flag_has_best_ask
    double best_bid_qty;    // base units; 0 unless flags & tick_flag_has_best_bid
    double best_ask_qty;    // base units; 0 unless flags & tick_flag_has_best_ask
    std::int64_t exchange_time_ns;  // envelope timestamp, ns since the UNIX epoch (UTC)
    std::uint64_t receive_tsc;      // raw TSC when the bytes arrived, supplied by the caller
    std::uint16_t product_index;    // index into the product list the decoder was built with
    std::uint8_t flags;             // tick_flag_*
    std::uint64_t sequence_num : tick_sequence_bits;  // low 40 bits of the envelope sequence_num
};
static_assert(std::is_trivially_copyable_v<Tick>);
static_assert(sizeof(Tick) <= cache_line);
static_assert(sizeof(Tick) == cache_line, "the bit-field must share the last word with index and flags");

}  // namespace cbtrade
