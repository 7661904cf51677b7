// The signal stage: closed candle -> features -> pUp -> decision. Shared by live trading and the
// backtest so both make the same decisions from the same candles. No allocation, no throw.
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>

#include "core/candle.hpp"
#include "core/config.hpp"
#include "core/features.hpp"
#include "core/model.hpp"
#include "core/records.hpp"
#include "core/strategy.hpp"

namespace cbtrade {

// Size multiplier: 1 when volatility is at or below the training median, shrinking in proportion
// above it, never below min_vol_factor.
inline constexpr double min_vol_factor = 0.25;
[[nodiscard]] double vol_risk_factor(double volatility, double ref_volatility) noexcept;

class SignalEngine {
public:
    explicit SignalEngine(const Config& c) noexcept;

    // The model the engine predicts with; must outlive its use. Null means no decisions yet.
    void set_model(const ModelWeights* m) noexcept { model_ = m; }
    [[nodiscard]] const ModelWeights* model() const noexcept { return model_; }

    // Feeds one closed candle; returns a decision once warm and a model is set.
    [[nodiscard]] std::optional<Decision> on_candle(const Candle& c) noexcept;

    [[nodiscard]] const FeatureBuilder& features() const noexcept { return features_; }

private:
    FeatureBuilder features_;
    StrategyParams params_;
    bool vol_risk_adjust_;
    std::int64_t candle_seconds_;
    const ModelWeights* model_ = nullptr;
};

}  // namespace cbtrade
