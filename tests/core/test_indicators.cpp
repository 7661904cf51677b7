// Streaming indicators against plain O(n) recomputation on random series.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/indicators.hpp"

namespace cbtrade {
namespace {

constexpr double tolerance = 1e-9;

// Relative error with a floor on the scale, so values near zero are compared absolutely.
void expect_close(double got, double want, double scale_floor, const char* what, std::size_t i) {
    const double scale = std::max(std::fabs(want), scale_floor);
    ASSERT_LE(std::fabs(got - want) / scale, tolerance) << what << " at " << i << ": got " << got << " want " << want;
}

std::vector<double> random_walk(std::size_t n, unsigned seed, double start = 40000.0, double step = 0.002) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> z(0.0, 1.0);
    std::vector<double> out(n);
    double p = start;
    for (auto& x : out) {
        p *= std::exp(step * z(rng));
        x = p;
    }
    return out;
}

double ref_mean(const std::vector<double>& v, std::size_t end, std::size_t w) {
    const std::size_t start = end + 1 >= w ? end + 1 - w : 0;
    double s = 0;
    for (std::size_t i = start; i <= end; ++i) s += v[i];
    return s / static_cast<double>(end - start + 1);
}

double ref_var(const std::vector<double>& v, std::size_t end, std::size_t w, bool sample) {
    const std::size_t start = end + 1 >= w ? end + 1 - w : 0;
    const std::size_t n = end - start + 1;
    if (sample && n < 2) return 0;
    const double m = ref_mean(v, end, w);
    double s = 0;
    for (std::size_t i = start; i <= end; ++i) s += (v[i] - m) * (v[i] - m);
    return s / static_cast<double>(sample ? n - 1 : n);
}

class IndicatorWindows : public ::testing::TestWithParam<std::size_t> {};

TEST_P(IndicatorWindows, sma_matches_direct_mean_including_partial_windows) {
    const std::size_t w = GetParam();
    const auto v = random_walk(20000, static_cast<unsigned>(w));
    Sma sma(w);
    for (std::size_t i = 0; i < v.size(); ++i) {
        sma.push(v[i]);
        expect_close(sma.value(), ref_mean(v, i, w), 1.0, "sma", i);
        ASSERT_EQ(sma.full(), i + 1 >= w);
    }
}

TEST_P(IndicatorWindows, zscore_matches_direct_computation) {
    const std::size_t w = GetParam();
    const auto v = random_walk(20000, static_cast<unsigned>(w) + 100);
    ZScore z(w);
    for (std::size_t i = 0; i < v.size(); ++i) {
        z.push(v[i]);
        const double sd = std::sqrt(ref_var(v, i, w, false));
        const double want = sd > 0 ? (v[i] - ref_mean(v, i, w)) / sd : 0.0;
        // x - mean loses digits when the window's spread is tiny next to the price: any double
        // mean is off by up to half an ulp of the price, so the floor scales with price / spread
        // (the condition number); for ordinary windows it stays at 1.
        const double floor = sd > 0 ? std::max(1.0, v[i] / sd * 1e-6) : 1.0;
        expect_close(z.value(), want, floor, "zscore", i);
    }
}

TEST_P(IndicatorWindows, volatility_matches_direct_stddev_of_log_returns) {
    const std::size_t w = GetParam();
    const auto v = random_walk(20000, static_cast<unsigned>(w) + 200);
    std::vector<double> returns;
    Volatility vol(w);
    for (std::size_t i = 0; i < v.size(); ++i) {
        vol.push(v[i]);
        if (i == 0) {
            ASSERT_EQ(vol.value(), 0.0);
            continue;
        }
        returns.push_back(std::log(v[i] / v[i - 1]));
        const double want = std::sqrt(ref_var(returns, returns.size() - 1, w, true));
        // Floor at the series' typical return (0.002): sub-1e-12 absolute differences are rounding.
        expect_close(vol.value(), want, 2e-3, "volatility", i);
    }
}

TEST_P(IndicatorWindows, rsi_matches_wilder_recursion_recomputed_from_scratch) {
    const std::size_t p = GetParam();
    const auto v = random_walk(3000, static_cast<unsigned>(p) + 300);
    Rsi rsi(p);
    for (std::size_t i = 0; i < v.size(); ++i) {
        rsi.push(v[i]);
        // O(n) reference: replay the definition over the whole prefix.
        double ag = 0, al = 0;
        for (std::size_t k = 1; k <= i; ++k) {
            const double ch = v[k] - v[k - 1];
            const double g = ch > 0 ? ch : 0, l = ch < 0 ? -ch : 0;
            if (k <= p) {
                double sg = 0, sl = 0;
                for (std::size_t j = 1; j <= k; ++j) {
                    const double c2 = v[j] - v[j - 1];
                    sg += c2 > 0 ? c2 : 0;
                    sl += c2 < 0 ? -c2 : 0;
                }
                ag = sg / static_cast<double>(k);
                al = sl / static_cast<double>(k);
            } else {
                ag = (ag * static_cast<double>(p - 1) + g) / static_cast<double>(p);
                al = (al * static_cast<double>(p - 1) + l) / static_cast<double>(p);
            }
        }
        const double want = al == 0 ? (ag == 0 ? 50.0 : 100.0) : 100.0 - 100.0 / (1.0 + ag / al);
        expect_close(rsi.value(), want, 1.0, "rsi", i);
    }
}

INSTANTIATE_TEST_SUITE_P(Windows, IndicatorWindows, ::testing::Values(1, 2, 5, 14, 20, 50, 256));

TEST(Indicators, constant_series_gives_zero_spread_and_neutral_values) {
    ZScore z(20);
    Volatility vol(20);
    Rsi rsi(14);
    for (int i = 0; i < 100; ++i) {
        z.push(100.0);
        vol.push(100.0);
        rsi.push(100.0);
    }
    EXPECT_EQ(z.value(), 0.0);
    EXPECT_EQ(vol.value(), 0.0);
    EXPECT_EQ(rsi.value(), 50.0);
}

TEST(Indicators, rsi_is_100_when_only_rising_and_0_when_only_falling) {
    Rsi up(14), down(14);
    for (int i = 0; i < 40; ++i) {
        up.push(100.0 + i);
        down.push(100.0 - i);
    }
    EXPECT_EQ(up.value(), 100.0);
    EXPECT_EQ(down.value(), 0.0);
}

TEST(Indicators, long_runs_do_not_drift) {
    // A million updates with a large level and small spread: the worst case for running sums.
    std::mt19937_64 rng(9);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    RollingStats s(50);
    std::vector<double> last;
    for (int i = 0; i < 1000000; ++i) {
        const double x = 1e6 + u(rng);
        s.push(x);
        last.push_back(x);
        if (last.size() > 50) last.erase(last.begin());
    }
    double m = 0;
    for (double x : last) m += x;
    m /= 50;
    double var = 0;
    for (double x : last) var += (x - m) * (x - m);
    var /= 50;
    EXPECT_LE(std::fabs(s.mean() - m) / m, tolerance);
    EXPECT_LE(std::fabs(s.variance_population() - var) / var, 1e-6);
}

}  // namespace
}  // namespace cbtrade
