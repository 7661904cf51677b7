#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "core/signal_engine.hpp"
#include "core/strategy.hpp"
#include "feeds/synthetic_market.hpp"

namespace cbtrade {
namespace {

constexpr StrategyParams earlier{0.47, 0.50, false};

TEST(Strategy, earlier_thresholds_rule) {
    EXPECT_EQ(decide(0.51, 100, 0, earlier), Signal::buy);
    EXPECT_EQ(decide(0.50, 100, 0, earlier), Signal::flat) << "0.50 is inside the overlap";
    EXPECT_EQ(decide(0.47, 100, 0, earlier), Signal::flat);
    EXPECT_EQ(decide(0.4699, 100, 0, earlier), Signal::sell);
    EXPECT_EQ(decide(0.0, 100, 0, earlier), Signal::sell);
    EXPECT_EQ(decide(1.0, 100, 0, earlier), Signal::buy);
}

TEST(Strategy, gap_between_thresholds_is_flat) {
    const StrategyParams p{0.55, 0.45, false};
    EXPECT_EQ(decide(0.55, 1, 0, p), Signal::buy);
    EXPECT_EQ(decide(0.54, 1, 0, p), Signal::flat);
    EXPECT_EQ(decide(0.46, 1, 0, p), Signal::flat);
    EXPECT_EQ(decide(0.45, 1, 0, p), Signal::sell);
}

TEST(Strategy, bad_probability_never_trades) {
    EXPECT_EQ(decide(std::nan(""), 1, 0, earlier), Signal::flat);
    EXPECT_EQ(decide(1.5, 1, 0, earlier), Signal::flat);
    EXPECT_EQ(decide(-0.1, 1, 0, earlier), Signal::flat);
}

TEST(Strategy, ma_filter_allows_buys_only_above_the_long_average) {
    const StrategyParams p{0.47, 0.50, true};
    EXPECT_EQ(decide(0.9, 101, 100, p), Signal::buy);
    EXPECT_EQ(decide(0.9, 100, 100, p), Signal::flat);
    EXPECT_EQ(decide(0.9, 99, 100, p), Signal::flat);
    EXPECT_EQ(decide(0.1, 99, 100, p), Signal::sell) << "sells are not filtered";
}

// On realistic data, with the earlier stack's thresholds, a model fitted on the first part gives
// all three signals on the rest.
std::array<int, 3> signal_counts(const Config& cfg) {
    SyntheticMarket market({.seed = 11});
    const auto candles = market.take(6000);
    SignalEngine engine(cfg);
    std::vector<FeatureVector> x;
    std::vector<std::uint8_t> y;
    for (std::size_t i = 0; i < 4200; ++i) {
        (void)engine.on_candle(candles[i]);
        if (engine.features().warm() && i + 1 < 4200) {
            x.push_back(engine.features().features());
            y.push_back(candles[i + 1].close > candles[i].close);
        }
    }
    const ModelWeights m = fit_logistic(x, y, cfg.model_mode);
    engine.set_model(&m);
    std::array<int, 3> counts{};
    for (std::size_t i = 4200; i < candles.size(); ++i) {
        const auto d = engine.on_candle(candles[i]);
        EXPECT_TRUE(d.has_value());
        if (d) ++counts[static_cast<std::size_t>(d->signal)];
    }
    return counts;
}

TEST(Strategy, earlier_thresholds_produce_all_three_signals_on_realistic_data) {
    for (ModelMode mode : {ModelMode::baseline, ModelMode::extended}) {
        Config cfg;
        cfg.model_mode = mode;
        const auto counts = signal_counts(cfg);
        EXPECT_GT(counts[static_cast<std::size_t>(Signal::buy)], 0) << model_mode_name(mode);
        EXPECT_GT(counts[static_cast<std::size_t>(Signal::sell)], 0) << model_mode_name(mode);
        EXPECT_GT(counts[static_cast<std::size_t>(Signal::flat)], 0) << model_mode_name(mode);
    }
}

TEST(Strategy, ma_filter_removes_buys_below_the_long_average) {
    Config cfg;
    const auto without = signal_counts(cfg);
    cfg.use_ma_filter = true;
    const auto with = signal_counts(cfg);
    EXPECT_LT(with[1], without[1]);
    EXPECT_EQ(with[2], without[2]);
    EXPECT_EQ(with[0] + with[1], without[0] + without[1]) << "filtered buys become flat";
}

TEST(SignalEngine, no_decision_before_warm_up_or_without_model) {
    Config cfg;
    SignalEngine engine(cfg);
    SyntheticMarket market({.seed = 2});
    ModelWeights m{};
    m.n_features = 4;
    for (std::size_t i = 0; i < warmup_candles; ++i) {
        if (i == 10) engine.set_model(&m);
        const auto d = engine.on_candle(market.next());
        EXPECT_EQ(d.has_value(), i + 1 >= warmup_candles) << i;
    }
}

TEST(SignalEngine, vol_risk_factor_shrinks_only_above_reference) {
    EXPECT_EQ(vol_risk_factor(0.001, 0.002), 1.0);
    EXPECT_DOUBLE_EQ(vol_risk_factor(0.004, 0.002), 0.5);
    EXPECT_EQ(vol_risk_factor(1.0, 0.002), min_vol_factor);
    EXPECT_EQ(vol_risk_factor(0.004, 0.0), 1.0);
}

}  // namespace
}  // namespace cbtrade
