#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/model.hpp"
#include "tests/core/bit_identical.hpp"

namespace cbtrade {
namespace {

struct Data {
    std::vector<FeatureVector> x;
    std::vector<std::uint8_t> y;
};

// Rows drawn from a known logistic model over the first `dims` features (scaled and shifted so
// standardisation has real work to do).
Data draw(std::size_t n, std::size_t dims, const std::vector<double>& coef, double intercept, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> z(0.0, 1.0);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    Data d;
    d.x.resize(n);
    d.y.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        double s = intercept;
        for (std::size_t j = 0; j < max_features; ++j) {
            const double scale = 0.5 + static_cast<double>(j);
            const double shift = 3.0 * static_cast<double>(j) - 4.0;
            d.x[i].x[j] = shift + scale * z(rng);
            if (j < dims) s += coef[j] * d.x[i].x[j];
        }
        d.y[i] = u(rng) < sigmoid(s) ? 1 : 0;
    }
    return d;
}

TEST(Model, recovers_known_coefficients_of_a_logistic_model) {
    const std::vector<double> coef{0.8, -0.6, 0.25, -0.1};
    const double intercept = 0.3 - (0.8 * -4 + -0.6 * -1 + 0.25 * 2 + -0.1 * 5);  // centres pUp near 0.5
    const Data d = draw(200000, 4, coef, intercept, 42);
    const ModelWeights m = fit_logistic(d.x, d.y, ModelMode::baseline, {.l2 = 1e-6});
    EXPECT_TRUE(m.converged);
    for (std::size_t j = 0; j < 4; ++j) EXPECT_NEAR(m.coef[j], coef[j], 0.03) << "coefficient " << j;
    EXPECT_NEAR(m.intercept, intercept, 0.1);
}

TEST(Model, extended_mode_uses_nine_features) {
    const std::vector<double> coef{0.5, 0, 0, 0, 0, 0, 0, 0, -0.3};
    const Data d = draw(50000, 9, coef, 8.0, 7);  // 8 = -(0.5 * -4 + -0.3 * 20): pUp centred
    const ModelWeights m = fit_logistic(d.x, d.y, ModelMode::extended, {.l2 = 1e-6});
    EXPECT_EQ(m.n_features, 9);
    EXPECT_NEAR(m.coef[0], 0.5, 0.05);
    EXPECT_NEAR(m.coef[8], -0.3 / 1.0, 0.05);
    EXPECT_NEAR(m.coef[4], 0.0, 0.05);
}

TEST(Model, same_input_gives_bit_identical_weights) {
    const Data d = draw(20000, 4, {0.3, 0.2, -0.4, 0.1}, 0.0, 3);
    const ModelWeights a = fit_logistic(d.x, d.y, ModelMode::extended);
    const ModelWeights b = fit_logistic(d.x, d.y, ModelMode::extended);
    EXPECT_TRUE(testing::bit_identical(a, b));
}

TEST(Model, constant_features_give_finite_weights) {
    std::vector<FeatureVector> x(500);
    std::vector<std::uint8_t> y(500);
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i].x.fill(3.0);
        y[i] = i % 3 == 0;
    }
    const ModelWeights m = fit_logistic(x, y, ModelMode::extended);
    for (double c : m.coef) EXPECT_TRUE(std::isfinite(c));
    EXPECT_TRUE(std::isfinite(m.intercept));
    EXPECT_NEAR(predict_up(m, x[0]), 1.0 / 3.0, 1e-3) << "with no information pUp is the base rate";
}

TEST(Model, tiny_features_and_one_sided_labels_give_no_nan) {
    std::vector<FeatureVector> x(300);
    std::vector<std::uint8_t> y(300, 1);  // every candle up: separable through the intercept
    for (std::size_t i = 0; i < x.size(); ++i)
        for (std::size_t j = 0; j < max_features; ++j) x[i].x[j] = 1e-300 * static_cast<double>(i % 7);
    const ModelWeights m = fit_logistic(x, y, ModelMode::extended);
    const double p = predict_up(m, x[5]);
    EXPECT_TRUE(std::isfinite(p));
    EXPECT_GT(p, 0.9);
    EXPECT_LE(p, 1.0);
}

TEST(Model, separable_data_stays_finite_thanks_to_l2) {
    std::vector<FeatureVector> x(400);
    std::vector<std::uint8_t> y(400);
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i].x.fill(0.0);
        x[i].x[0] = static_cast<double>(i) - 200.0;
        y[i] = i >= 200;
    }
    const ModelWeights m = fit_logistic(x, y, ModelMode::baseline);
    EXPECT_TRUE(std::isfinite(m.coef[0]));
    EXPECT_GT(m.coef[0], 0);
}

TEST(Model, rejects_empty_or_mismatched_input) {
    std::vector<FeatureVector> x(3);
    std::vector<std::uint8_t> y(2);
    EXPECT_THROW((void)fit_logistic(x, y, ModelMode::baseline), std::invalid_argument);
    EXPECT_THROW((void)fit_logistic({}, {}, ModelMode::baseline), std::invalid_argument);
}

TEST(Model, sigmoid_is_stable_at_extremes) {
    EXPECT_EQ(sigmoid(-1000), 0.0);
    EXPECT_EQ(sigmoid(1000), 1.0);
    EXPECT_DOUBLE_EQ(sigmoid(0), 0.5);
}

}  // namespace
}  // namespace cbtrade
