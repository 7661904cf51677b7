// Logistic model: pUp = sigmoid(b + w . x), the probability that the next candle closes up.
// Fitted by Newton's method (IRLS) with an L2 penalty on standardised features, using the
// training window's statistics only. Fitting is sequential and deterministic: the same input
// gives bit-identical weights.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "core/config.hpp"
#include "core/features.hpp"

namespace cbtrade {

struct ModelWeights {
    ModelMode mode = ModelMode::baseline;
    std::uint8_t n_features = 0;
    bool converged = false;
    std::uint16_t iterations = 0;
    double intercept = 0;                          // raw-space intercept (used by predict)
    std::array<double, max_features> coef{};       // raw-space coefficients (used by predict)
    std::array<double, max_features> mean{};       // training-window feature means
    std::array<double, max_features> scale{};      // training-window feature stddevs (1 if constant)
    std::array<double, max_features + 1> std_w{};  // standardised-space weights, [0] = intercept
    double ref_volatility = 0;                     // median training volatility (VOL_RISK_ADJUST)
};
static_assert(std::is_trivially_copyable_v<ModelWeights>);

[[nodiscard]] inline double sigmoid(double s) noexcept;

[[nodiscard]] double predict_up(const ModelWeights& m, const FeatureVector& f) noexcept;

struct FitOptions {
    double l2 = 1.0;  // penalty on standardised weights (not the intercept)
    int max_iterations = 50;
    double tolerance = 1e-10;  // stop when the largest Newton step is smaller
};

// x and y must have the same non-zero length; y[i] is 1 when the candle after x[i] closed up.
// Throws std::invalid_argument on empty or mismatched input (cold path only).
[[nodiscard]] ModelWeights fit_logistic(std::span<const FeatureVector> x, std::span<const std::uint8_t> y,
                                        ModelMode mode, FitOptions opts = {});

}  // namespace cbtrade

#include <cmath>
inline double cbtrade::sigmoid(double s) noexcept {
    if (s >= 0) return 1.0 / (1.0 + std::exp(-s));
    const double e = std::exp(s);
    return e / (1.0 + e);
}
