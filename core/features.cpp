#include "core/features.hpp"

#include <cmath>

namespace cbtrade {

namespace {
constexpr std::array<std::string_view, max_features> names{
    "ret_1", "ret_5", "rsi_14", "zscore_20", "volatility_20", "dist_sma_20", "dist_sma_50", "volume_z_20", "range_1",
};
}

std::span<const std::string_view> feature_names(ModelMode m) noexcept {
    return std::span<const std::string_view>(names.data(), feature_count(m));
}

FeatureBuilder::FeatureBuilder(ModelMode mode, bool need_volatility) noexcept
    : mode_(mode), track_volatility_(need_volatility || mode == ModelMode::extended) {}

void FeatureBuilder::update(const Candle& c) noexcept {
    // One log per candle: the 1-candle log return feeds ret_1, ret_5 (sum of five) and volatility.
    const double ret1 = closes_.count() ? std::log(c.close / closes_.back(0)) : 0.0;
    closes_.push(c.close);
    if (seen_ > 0) {
        returns5_.push(ret1);
        if (track_volatility_) vol20_.push_return(ret1);
    }
    rsi14_.push(c.close);
    z20_.push(c.close);
    sma50_.push(c.close);
    ++seen_;

    double ret5 = 0;
    for (std::size_t i = 0; i < returns5_.count(); ++i) ret5 += returns5_.back(i);
    auto& x = features_.x;
    x[0] = ret1;
    x[1] = ret5;
    x[2] = (rsi14_.value() - 50.0) / 50.0;
    x[3] = z20_.value();
    if (mode_ == ModelMode::extended) {
        volume_z20_.push(std::log1p(c.volume));
        x[4] = vol20_.value();
        x[5] = c.close / z20_.mean() - 1.0;
        x[6] = c.close / sma50_.value() - 1.0;
        x[7] = volume_z20_.value();
        x[8] = (c.high - c.low) / c.close;
    }
}

}  // namespace cbtrade
