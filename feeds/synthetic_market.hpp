// A seeded synthetic market for sample data, tests and benchmarks: 1-minute-like candles from a
// random walk with GARCH(1,1) volatility clustering, Markov regime changes (calm, bull, bear,
// turbulent), slight short-term mean reversion, occasional jumps, a path simulated inside each
// candle for high and low, and volume that rises with the move. Same seed, same candles, on any
// machine (own uniform/normal draws, no std:: distributions, whose output is implementation-defined).
#pragma once

#include <cstdint>
#include <vector>

#include "core/candle.hpp"
#include "core/random.hpp"

namespace cbtrade {

struct SyntheticMarketParams {
    std::uint64_t seed = 1;
    std::int64_t start_time_s = 1704067200;  // 2024-01-01T00:00:00Z
    std::int64_t step_s = 60;
    double start_price = 42000.0;
    double base_volume = 3.0;
};

class SyntheticMarket {
public:
    explicit SyntheticMarket(const SyntheticMarketParams& p) noexcept;
    [[nodiscard]] Candle next() noexcept;
    [[nodiscard]] std::vector<Candle> take(std::size_t n);

private:
    [[nodiscard]] double uniform() noexcept;  // (0, 1)
    [[nodiscard]] double normal() noexcept;

    SyntheticMarketParams p_;
    SplitMix64 random_;
    std::int64_t time_s_;
    double price_;
    double variance_;
    double prev_return_ = 0;
    int regime_ = 0;
    bool has_spare_ = false;
    double spare_ = 0;
};

}  // namespace cbtrade
