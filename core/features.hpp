// Features of the logistic model, computed incrementally from closed candles.
// baseline: 1- and 5-candle log returns, RSI(14), z-score(20) of the close.
// extended: baseline plus volatility(20), distance to SMA(20) and SMA(50), volume z-score(20),
// and the candle's high-low range.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "core/candle.hpp"
#include "core/config.hpp"
#include "core/indicators.hpp"

namespace cbtrade {

inline constexpr std::size_t max_features = 9;
inline constexpr std::size_t warmup_candles = 50;  // earlier stack's warm-up; also the longest window

struct FeatureVector {
    std::array<double, max_features> x;
};
static_assert(std::is_trivially_copyable_v<FeatureVector>);

[[nodiscard]] constexpr std::size_t feature_count(ModelMode m) noexcept {
    return m == ModelMode::baseline ? 4 : 9;
}
[[nodiscard]] std::span<const std::string_view> feature_names(ModelMode m) noexcept;

class FeatureBuilder {
public:
    // need_volatility: baseline features do not use it; only VOL_RISK_ADJUST does.
    explicit FeatureBuilder(ModelMode mode, bool need_volatility = true) noexcept;

    // Feed each closed candle once, in time order.
    void update(const Candle& c) noexcept;

    [[nodiscard]] bool warm() const noexcept { return seen_ >= warmup_candles; }
    [[nodiscard]] std::size_t seen() const noexcept { return seen_; }
    [[nodiscard]] ModelMode mode() const noexcept { return mode_; }
    [[nodiscard]] const FeatureVector& features() const noexcept { return features_; }
    [[nodiscard]] double long_ma() const noexcept { return sma50_.value(); }
    [[nodiscard]] double volatility() const noexcept { return vol20_.value(); }
    [[nodiscard]] double last_close() const noexcept { return closes_.count() ? closes_.back(0) : 0.0; }

private:
    ModelMode mode_;
    bool track_volatility_;
    std::size_t seen_ = 0;
    RollingWindow closes_{2};
    RollingWindow returns5_{5};  // last five 1-candle log returns: their sum is the 5-candle return
    Rsi rsi14_{14};
    ZScore z20_{20};  // its window mean is also SMA(20)
    Volatility vol20_{20};
    Sma sma50_{50};
    ZScore volume_z20_{20};
    FeatureVector features_{};
};

}  // namespace cbtrade
