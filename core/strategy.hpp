// The trading rule: pUp and the two thresholds give buy, sell or flat.
//
//   buy  when pUp >= BUY_THRESHOLD  and pUp > SELL_THRESHOLD (and, with USE_MA_FILTER, price > SMA50)
//   sell when pUp <= SELL_THRESHOLD and pUp < BUY_THRESHOLD
//   flat otherwise
//
// When the thresholds overlap (the earlier stack's 0.47 / 0.50), pUp inside [0.47, 0.50] satisfies
// both and is no edge either way: flat. When they leave a gap (e.g. 0.55 / 0.45) the gap is flat.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/config.hpp"
#include "core/records.hpp"

namespace cbtrade {

struct StrategyParams {
    double buy_threshold = 0.47;
    double sell_threshold = 0.50;
    bool use_ma_filter = false;

    [[nodiscard]] static StrategyParams from(const Config& c) noexcept {
        return {c.buy_threshold, c.sell_threshold, c.use_ma_filter};
    }
};

[[nodiscard]] constexpr Signal decide(double p_up, double price, double long_ma, const StrategyParams& p) noexcept {
    if (!(p_up >= 0.0 && p_up <= 1.0)) return Signal::flat;  // NaN or out of range: never trade on it
    const bool up = p_up >= p.buy_threshold && p_up > p.sell_threshold;
    const bool down = p_up <= p.sell_threshold && p_up < p.buy_threshold;
    if (up) return (!p.use_ma_filter || price > long_ma) ? Signal::buy : Signal::flat;
    if (down) return Signal::sell;
    return Signal::flat;
}

}  // namespace cbtrade
