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

FeatureBuilder::FeatureBuilder(ModelMode mode) noexcept : mode_(mode) {}

void FeatureBuilder::update(const Candle& c) noexcept {
    closes_.push(c.close);
    rsi14_.push(c.close);
    z20_.push(c.close);
    vol20_.push(c.close);
    sma20_.push(c.close);
    sma50_.push(c.close);
    volume_z20_.push(std::log1p(c.volume));
    ++seen_;

    const std::size_t n = closes_.count();
    auto& x = features_.x;
    x[0] = n > 1 ? std::log(c.close / closes_.back(1)) : 0.0;
    x[1] = std::log(c.close / closes_.back(n - 1));  // oldest held, 5 candles back once full
    x[2] = (rsi14_.value() - 50.0) / 50.0;
    x[3] = z20_.value();
    if (mode_ == ModelMode::extended) {
        x[4] = vol20_.value();
        x[5] = c.close / sma20_.value() - 1.0;
        x[6] = c.close / sma50_.value() - 1.0;
        x[7] = volume_z20_.value();
        x[8] = (c.high - c.low) / c.close;
    }
}

}  // namespace cbtrade
