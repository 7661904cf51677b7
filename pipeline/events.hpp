// pipeline/events: the records on the daemon's rings (DESIGN.md section 2). Each is trivially
// copyable and one or two cache lines, so a ring slot is a few vector moves.
//
//   ring A  feed -> signal   MarketEvent   trades, ticker ticks, feed status changes, clock ticks
//   ring B  signal -> exec   PriceRecord   one per trade price (stops and takes see every price),
//                                          carrying the Decision when there is one
//   ops     signal -> ops    SignalNote    closed candles (walk-forward refits), model adoptions
//           signal -> ops    MarketEvent   what the signal stage consumed (RECORD_TICKS)
//           exec -> ops      ExecNote      decisions as the exec stage acted on them, fills, order errors
//
// The signal and exec stages are driven by these records only (no clock, no outside state but the
// halt flag), so replaying the recorded MarketEvents reproduces their decisions and fills.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/candle.hpp"
#include "core/cpu.hpp"
#include "core/records.hpp"

namespace cbtrade {

enum class EventKind : std::uint8_t {
    trade,         // MarketEvent::trade: one market_trades trade
    tick,          // MarketEvent::tick: one ticker update (top of book)
    status,        // MarketEvent::status: the feed's state changed
    clock,         // MarketEvent::clock_ns: wall-clock time, so quiet markets still close candles
    model_switch,  // recording only: the signal stage adopted a refit model (MarketEvent::model)
};

// The feed's state, sent whenever one of these changes.
struct FeedStatus {
    std::uint64_t reconnects;    // sessions opened after the first
    std::uint64_t gaps;          // sequence gaps so far
    std::uint64_t stale_events;  // connections dropped for silence
    std::uint8_t fresh;          // 1: a snapshot arrived on the current connection
};

// A refit the signal stage adopted: the fit used candles [fit_end - window, fit_end) of the candle
// history (history CSV, then live closes), so a replay refits identically at the same point.
struct ModelSwitch {
    std::uint64_t fit_end;  // candles of history + live closes the fit had seen
    std::uint64_t generation;
};

// Bits of MarketEvent::flags.
inline constexpr std::uint8_t event_flag_lost_before = 1u << 0;  // ring A refused records before this one

struct alignas(cache_line) MarketEvent {
    union {
        Trade trade;
        Tick tick;
        FeedStatus status;
        std::int64_t clock_ns;  // CLOCK_REALTIME ns (exchange time is UTC too)
        ModelSwitch model;
    };
    std::uint64_t push_tsc;  // read_tsc() when the feed stage pushed it (decode-stage latency end)
    EventKind kind;
    std::uint8_t flags;  // event_flag_*
};
static_assert(std::is_trivially_copyable_v<MarketEvent>);
static_assert(sizeof(MarketEvent) == 2 * cache_line);

// Bits of PriceRecord::flags.
inline constexpr std::uint8_t price_flag_has_price = 1u << 0;     // price is a new trade price
inline constexpr std::uint8_t price_flag_has_decision = 1u << 1;  // decision is valid
inline constexpr std::uint8_t price_flag_candle_close = 1u << 2;  // a candle closed before this price
inline constexpr std::uint8_t price_flag_data_ok = 1u << 3;       // market data fit for entries
inline constexpr std::uint8_t price_flag_lost_before = 1u << 4;   // ring B refused records before this one

struct alignas(cache_line) PriceRecord {
    std::int64_t exchange_time_ns;  // the trade's time (or the closed candle's end for a timer close)
    double price;                   // the trade price (or the close of a timer-closed candle)
    std::uint64_t receive_tsc;      // read_tsc() of the completion that brought the bytes
    std::uint64_t push_tsc;         // read_tsc() when the signal stage pushed it
    Decision decision;              // valid when flags & price_flag_has_decision
    std::uint8_t flags;             // price_flag_*
};
static_assert(std::is_trivially_copyable_v<PriceRecord>);
static_assert(sizeof(PriceRecord) == 2 * cache_line);

enum class SignalNoteKind : std::uint8_t { candle, model_adopted };
struct alignas(cache_line) SignalNote {
    Candle candle;             // kind candle: a closed candle (live, or a flat fill of a short gap)
    std::uint64_t generation;  // kind model_adopted: the generation now in use
    SignalNoteKind kind;
};
static_assert(std::is_trivially_copyable_v<SignalNote>);
static_assert(sizeof(SignalNote) == cache_line);

enum class ExecNoteKind : std::uint8_t { decision, fill, order_error };
struct alignas(cache_line) ExecNote {
    union {
        Decision decision;  // as it reached the exec stage
        Fill fill;          // kind fill; kind order_error: the order (qty asked for, nothing or part filled)
    };
    double equity_usd;  // after it
    ExecNoteKind kind;
    std::uint8_t entry_blocked;  // kind decision: 1 when an entry signal was not acted on
    OrderError order_error;      // kind order_error: why the order failed
};
static_assert(std::is_trivially_copyable_v<ExecNote>);
static_assert(sizeof(ExecNote) == cache_line);

// exec -> notifier (SLACK_WEBHOOK): what an operator is told about. Halts come from the ops
// thread's flag, not from here.
enum class NoticeKind : std::uint8_t { fill, order_error, breaker };
struct Notice {
    Fill fill;  // kind fill: what was filled; kind order_error: the order asked for
    double equity_usd;
    NoticeKind kind;
    OrderError order_error;  // kind order_error
};
static_assert(std::is_trivially_copyable_v<Notice>);

}  // namespace cbtrade
