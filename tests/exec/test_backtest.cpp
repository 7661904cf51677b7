#include <gtest/gtest.h>

#include <cmath>

#include "exec/backtest.hpp"
#include "exec/report.hpp"
#include "feeds/synthetic_market.hpp"

namespace cbtrade {
namespace {

std::vector<Candle> market(std::size_t n, std::uint64_t seed = 5) {
    return SyntheticMarket({.seed = seed}).take(n);
}

Config tradable_config() {
    Config c;
    c.fee_bps = 0;
    c.slippage_bps = 0;
    c.risk_per_trade_pct = 50;
    c.max_daily_loss_pct = 50;
    c.stop_loss_pct = 0.05;
    c.take_profit_pct = 0.08;
    return c;
}

TEST(Backtest, splits_seventy_thirty) {
    const auto candles = market(1000);
    const BacktestReport r = run_backtest(candles, Config{});
    EXPECT_EQ(r.candles_fit, 700u);
    EXPECT_EQ(r.candles_traded, 300u);
    EXPECT_EQ(r.trade_start_time_s, candles[700].time_s);
    EXPECT_EQ(r.decisions[0] + r.decisions[1] + r.decisions[2], 300u) << "one decision per traded candle";
}

TEST(Backtest, too_few_candles_is_an_error_naming_the_need) {
    const auto candles = market(min_backtest_candles() - 1);
    try {
        (void)run_backtest(candles, Config{});
        FAIL();
    } catch (const BacktestError& e) {
        EXPECT_NE(std::string(e.what()).find("need at least " + std::to_string(min_backtest_candles())),
                  std::string::npos);
    }
    EXPECT_NO_THROW((void)run_backtest(market(min_backtest_candles()), Config{}));
}

TEST(Backtest, json_report_is_byte_identical_for_same_input) {
    const auto candles = market(3000);
    Config c = tradable_config();
    c.model_mode = ModelMode::extended;
    c.walk_forward_min = 30;
    const std::string a = report_json(run_backtest(candles, c));
    const std::string b = report_json(run_backtest(candles, c));
    EXPECT_EQ(a, b);
    c.buy_threshold = 0.6;
    EXPECT_NE(report_json(run_backtest(candles, c)), a) << "and it does depend on the configuration";
}

TEST(Backtest, stops_fill_at_their_level_inside_candles_or_at_a_gapped_open) {
    const auto candles = market(20000, 8);
    const Config c = tradable_config();
    const BacktestReport r = run_backtest(candles, c);
    std::size_t stops = 0, takes = 0;
    double entry = 0;
    for (const Fill& f : r.fills) {
        if (f.reason == OrderReason::entry) {
            entry = f.price;
            continue;
        }
        if (f.reason != OrderReason::stop_loss && f.reason != OrderReason::take_profit) continue;
        const bool stop = f.reason == OrderReason::stop_loss;
        (stop ? stops : takes)++;
        const double level = stop ? entry * (1 - c.stop_loss_pct / 100) : entry * (1 + c.take_profit_pct / 100);
        // Find the candle: fills carry the candle's start time.
        const auto it = std::lower_bound(candles.begin(), candles.end(), f.time_s,
                                         [](const Candle& k, std::int64_t t) { return k.time_s < t; });
        ASSERT_NE(it, candles.end());
        const bool at_level = std::fabs(f.price - level) < 1e-9 * level;
        const bool gapped_open = f.price == it->open && (stop ? it->open <= level : it->open >= level);
        EXPECT_TRUE(at_level || gapped_open)
            << (stop ? "stop" : "take") << " filled at " << f.price << ", level " << level << ", open " << it->open;
        EXPECT_GE(f.price, it->low);
        EXPECT_LE(f.price, it->high);
    }
    EXPECT_GT(stops, 5u);
    EXPECT_GT(takes, 5u);
}

// Issue 9 item 14. Candles whose open gaps away from the previous close, a strategy that buys at
// every close it can, tight stops and a small daily-loss limit: stops fill at gapped opens, and
// their fee and slippage can take equity past the limit. The rule "no new entry until the next UTC
// day" must hold after every fill, whatever the path: replaying the fills, no entry may follow a
// fill that left equity at or below the day's start minus the limit, within that UTC day.
TEST(BacktestProperty, no_entry_after_a_fill_that_trips_the_breaker_even_at_a_gapped_open) {
    std::size_t trips_by_fill = 0;
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        // Hourly candles: the 30% traded span many UTC days, so the breaker trips and resets often.
        std::vector<Candle> candles = SyntheticMarket({.seed = seed, .step_s = 3600}).take(6000);
        std::uint64_t state = seed * 0x9E3779B97F4A7C15ull;
        auto uniform = [&] {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            return static_cast<double>(state >> 11) / 9007199254740992.0;
        };
        for (std::size_t i = 1; i < candles.size(); ++i) {
            if (uniform() < 0.3) {
                Candle& c = candles[i];
                const double gap = (uniform() < 0.5 ? -1 : 1) * (0.001 + 0.01 * uniform());
                c.open = candles[i - 1].close * (1 + gap);
                c.high = std::max({c.high, c.open, c.close});
                c.low = std::min({c.low, c.open, c.close});
            }
        }
        Config cfg;
        cfg.granularity = Granularity::one_hour;
        cfg.buy_threshold = 0;  // buy at every close while flat and allowed
        cfg.sell_threshold = 0;
        cfg.risk_per_trade_pct = 100;
        cfg.stop_loss_pct = 0.1;
        cfg.take_profit_pct = 0.5;
        cfg.max_daily_loss_pct = 0.3 + 0.5 * uniform();
        cfg.fee_bps = 10 + 40 * uniform();
        cfg.slippage_bps = 5 * uniform();
        const BacktestReport r = run_backtest(candles, cfg);
        ASSERT_GT(r.fills.size(), 10u) << "seed " << seed;

        // Replay the fills against the candles with the documented rule.
        double cash = cfg.usd_equity, qty = 0, day_start = 0;
        std::int64_t day = INT64_MIN;
        bool tripped = false;
        std::size_t next_fill = 0;
        auto apply = [&](const Fill& f, bool check_after) {
            ASSERT_FALSE(tripped && f.reason == OrderReason::entry)
                << "seed " << seed << ": entry at " << f.time_s << " after the breaker tripped that day";
            cash += f.side == Side::buy ? -f.qty * f.price - f.fee_usd : f.qty * f.price - f.fee_usd;
            qty += f.side == Side::buy ? f.qty : -f.qty;
            if (std::fabs(qty) < 1e-12) qty = 0;
            const double limit = cfg.max_daily_loss_pct / 100 * day_start;
            if (check_after && !tripped && day_start - (cash + qty * f.price) >= limit) {
                tripped = true;
                ++trips_by_fill;
            }
        };
        for (std::size_t i = r.candles_fit; i < candles.size(); ++i) {
            const Candle& c = candles[i];
            const std::int64_t d = c.time_s / 86400;
            // An entry decided at the previous close carries this candle's start time: it was made
            // under the previous state, before this open.
            for (; next_fill < r.fills.size() && r.fills[next_fill].time_s == c.time_s &&
                   r.fills[next_fill].reason == OrderReason::entry;
                 ++next_fill)
                apply(r.fills[next_fill], d == day);
            if (d != day) {
                day = d;
                day_start = cash + qty * c.open;  // the day's first price is this candle's open
                tripped = false;
            }
            const double limit = cfg.max_daily_loss_pct / 100 * day_start;
            if (day_start - (cash + qty * c.open) >= limit) tripped = true;
            for (; next_fill < r.fills.size() && r.fills[next_fill].time_s == c.time_s; ++next_fill)
                apply(r.fills[next_fill], true);
        }
        EXPECT_EQ(next_fill, r.fills.size()) << "seed " << seed << ": fills out of candle order";
    }
    EXPECT_GT(trips_by_fill, 0u) << "the paths never tripped the breaker on a fill: the test shows nothing";
}

TEST(Backtest, walk_forward_refits_only_in_extended_mode) {
    const auto candles = market(6000);
    Config c;
    c.walk_forward_min = 60;
    EXPECT_EQ(run_backtest(candles, c).walk_forward_fits, 0u) << "baseline never refits";
    c.model_mode = ModelMode::extended;
    const BacktestReport r = run_backtest(candles, c);
    EXPECT_EQ(r.walk_forward_fits, (r.candles_traded - 1) / 60) << "every 60 minutes of 1-minute candles";
    c.walk_forward_min = 0;
    EXPECT_EQ(run_backtest(candles, c).walk_forward_fits, 0u);
}

TEST(Backtest, report_figures_are_consistent) {
    const auto candles = market(8000, 3);
    const Config c = tradable_config();
    const BacktestReport r = run_backtest(candles, c);
    EXPECT_GT(r.trades, 0u);
    EXPECT_EQ(r.orders_buy + r.orders_sell, r.fills.size());
    EXPECT_NEAR(r.total_return_pct, (r.final_equity_usd / r.start_equity_usd - 1) * 100, 1e-9);
    EXPECT_NEAR(r.buy_and_hold_return_pct, (candles.back().close / candles[r.candles_fit].open - 1) * 100, 1e-9);
    EXPECT_GE(r.max_drawdown_pct, 0);
    EXPECT_LE(r.wins, r.trades);
    EXPECT_GE(r.exposure_pct, 0);
    EXPECT_LE(r.exposure_pct, 100);
    EXPECT_LE(r.curve.size(), max_curve_points + 1);
    EXPECT_EQ(r.curve.back().time_s, candles.back().time_s);
    EXPECT_DOUBLE_EQ(r.curve.back().equity_usd, r.final_equity_usd);
}

TEST(Backtest, fees_are_charged_on_every_fill) {
    const auto candles = market(5000, 4);
    Config c = tradable_config();
    c.fee_bps = 60;
    const BacktestReport r = run_backtest(candles, c);
    double fees = 0;
    for (const Fill& f : r.fills) {
        EXPECT_NEAR(f.fee_usd, f.qty * f.price * 0.006, 1e-12);
        fees += f.fee_usd;
    }
    EXPECT_NEAR(r.fees_usd, fees, 1e-9);
    EXPECT_GT(fees, 0);
}

struct CountingObserver : BacktestObserver {
    std::size_t decisions = 0, fills = 0, fits = 0, candles = 0;
    void on_decision(const Decision&) override { ++decisions; }
    void on_fill(const Fill&) override { ++fills; }
    void on_walk_forward_fit() override { ++fits; }
    void on_candle_done(const Trader&, double, double) override { ++candles; }
};

TEST(Backtest, observer_sees_every_decision_fill_and_fit) {
    const auto candles = market(4000);
    Config c = tradable_config();
    c.model_mode = ModelMode::extended;
    c.walk_forward_min = 120;
    CountingObserver obs;
    BacktestOptions opts;
    opts.observer = &obs;
    const BacktestReport r = run_backtest(candles, c, opts);
    EXPECT_EQ(obs.decisions, r.decisions[0] + r.decisions[1] + r.decisions[2]);
    EXPECT_EQ(obs.fills, r.fills.size());
    EXPECT_EQ(obs.fits, r.walk_forward_fits);
    EXPECT_EQ(obs.candles, r.candles_traded);
}

TEST(Backtest, sleep_paces_each_traded_candle) {
    const auto candles = market(300);
    BacktestOptions opts;
    opts.sleep_ms = 2;
    const BacktestReport r = run_backtest(candles, Config{}, opts);
    EXPECT_GE(r.replay_seconds, static_cast<double>(r.candles_traded) * 0.002);
}

TEST(Report, html_is_self_contained_with_price_trades_and_equity) {
    const BacktestReport r = run_backtest(market(3000), tradable_config());
    const std::string h = report_html(r);
    EXPECT_NE(h.find("<svg"), std::string::npos);
    EXPECT_NE(h.find("id=\"price\""), std::string::npos);
    EXPECT_NE(h.find("id=\"equity\""), std::string::npos);
    EXPECT_NE(h.find("class=\"buy\""), std::string::npos);
    EXPECT_NE(h.find("class=\"sell\""), std::string::npos);
    EXPECT_EQ(h.find("src="), std::string::npos) << "no external resources";
    EXPECT_EQ(h.find("href="), std::string::npos);
}

}  // namespace
}  // namespace cbtrade
