#include "feeds/synthetic_market.hpp"

#include <algorithm>
#include <cmath>

namespace cbtrade {

namespace {
constexpr double pi = 3.14159265358979323846;
// Per-minute drift and volatility multiplier of each regime: calm, bull, bear, turbulent.
constexpr double regime_drift[4] = {0.0, 4e-5, -4e-5, 0.0};
constexpr double regime_vol[4] = {0.7, 1.0, 1.2, 2.2};
constexpr double regime_switch_prob = 1.0 / 720;  // about twice a day of 1-minute candles
constexpr double base_variance = 6e-4 * 6e-4;     // ~0.06% per minute
constexpr double garch_alpha = 0.08;
constexpr double garch_beta = 0.90;
constexpr double mean_reversion = -0.12;  // AR(1) on returns: the bid-ask bounce seen at 1 minute
constexpr double jump_prob = 1.0 / 2000;
constexpr int substeps = 12;
}  // namespace

SyntheticMarket::SyntheticMarket(const SyntheticMarketParams& p) noexcept
    : p_(p),
      random_(p.seed * 0x9E3779B97F4A7C15ull + 1),
      time_s_(p.start_time_s),
      price_(p.start_price),
      variance_(base_variance) {}

double SyntheticMarket::uniform() noexcept {
    return random_.next_open_unit();
}

double SyntheticMarket::normal() noexcept {
    if (has_spare_) {
        has_spare_ = false;
        return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double a = 2.0 * pi * uniform();
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
}

Candle SyntheticMarket::next() noexcept {
    if (uniform() < regime_switch_prob) regime_ = static_cast<int>(uniform() * 4) % 4;
    const double sigma = std::sqrt(variance_) * regime_vol[regime_];
    double r = regime_drift[regime_] + mean_reversion * prev_return_ + sigma * normal();
    if (uniform() < jump_prob) r += (uniform() < 0.5 ? -1 : 1) * sigma * (4 + 4 * uniform());
    r = std::clamp(r, -0.2, 0.2);

    // The path inside the candle: a random walk of `substeps` pieces pinned to the close.
    const double open = price_;
    const double close = open * std::exp(r);
    double high = std::max(open, close), low = std::min(open, close);
    double walk = 0;
    for (int i = 1; i < substeps; ++i) {
        walk += sigma / std::sqrt(static_cast<double>(substeps)) * normal();
        const double along = r * i / substeps + walk * (1.0 - static_cast<double>(i) / substeps);
        const double p = open * std::exp(along);
        high = std::max(high, p);
        low = std::min(low, p);
    }
    Candle c{};
    c.time_s = time_s_;
    // Rounding to cents is monotonic, so low <= open, close <= high still holds afterwards.
    c.open = std::round(open * 100) / 100;
    c.close = std::round(close * 100) / 100;
    c.high = std::round(high * 100) / 100;
    c.low = std::round(low * 100) / 100;
    const double surprise = std::fabs(r) / std::max(sigma, 1e-12);
    c.volume =
        std::round(p_.base_volume * regime_vol[regime_] * std::exp(0.45 * surprise + 0.35 * normal()) * 1e8) / 1e8;

    const double shock = r - regime_drift[regime_];
    variance_ = base_variance * (1 - garch_alpha - garch_beta) +
                garch_alpha * shock * shock / regime_vol[regime_] / regime_vol[regime_] + garch_beta * variance_;
    prev_return_ = r;
    price_ = c.close;
    time_s_ += p_.step_s;
    return c;
}

std::vector<Candle> SyntheticMarket::take(std::size_t n) {
    std::vector<Candle> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(next());
    return out;
}

}  // namespace cbtrade
