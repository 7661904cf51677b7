// Candle: one OHLCV bar, the unit of history (CSV, REST candles) and of the live candle builder.
#pragma once

#include <cstdint>
#include <type_traits>

namespace cbtrade {

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
