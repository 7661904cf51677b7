// core/: the strategy core shared by live trading and backtests. No third-party network, TLS or
// JSON headers here (DESIGN.md section 1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace cbtrade {

inline constexpr std::size_t cache_line = 64;

// One OHLCV bar. time_s is the bar's start, UNIX seconds UTC.
struct Candle {
    std::int64_t time_s;
    double open;
    double high;
    double low;
    double close;
    double volume;
};
static_assert(std::is_trivially_copyable_v<Candle>);
static_assert(sizeof(Candle) == 48);

}  // namespace cbtrade
