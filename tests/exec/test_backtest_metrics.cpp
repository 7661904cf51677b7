#include <gtest/gtest.h>

#include <string>

#include "core/bot_metrics.hpp"
#include "exec/backtest.hpp"
#include "exec/backtest_metrics.hpp"
#include "feeds/synthetic_market.hpp"

namespace cbtrade {
namespace {

Config tradable_config() {
    Config c;
    c.fee_bps = 0;
    c.slippage_bps = 0;
    c.risk_per_trade_pct = 50;
    c.max_daily_loss_pct = 2;
    c.stop_loss_pct = 0.05;
    c.take_profit_pct = 0.08;
    return c;
}

TEST(BacktestMetrics, observer_exports_what_the_report_counts) {
    const auto candles = SyntheticMarket({.seed = 11}).take(20000);
    const Config cfg = tradable_config();
    MetricsRegistry registry;
    BotMetrics m(registry, BuildInfo{});
    BacktestMetricsObserver observer(m);
    BacktestOptions opts;
    opts.observer = &observer;
    const BacktestReport r = run_backtest(candles, cfg, opts);
    ASSERT_GT(r.orders_buy, 0u) << "the test needs a run that trades";

    EXPECT_EQ(m.candles.value(), r.candles_traded);
    EXPECT_EQ(m.orders(OrderMode::paper, OrderSideIndex::buy).value(), r.orders_buy);
    EXPECT_EQ(m.orders(OrderMode::paper, OrderSideIndex::sell).value(), r.orders_sell);
    EXPECT_EQ(m.orders(OrderMode::live, OrderSideIndex::buy).value(), 0u);
    EXPECT_EQ(m.decisions(Signal::flat).value(), r.decisions[0]);
    EXPECT_EQ(m.decisions(Signal::buy).value(), r.decisions[1]);
    EXPECT_EQ(m.decisions(Signal::sell).value(), r.decisions[2]);
    EXPECT_EQ(m.trades.value(), r.trades);
    EXPECT_EQ(m.walk_forward_fits.value(), r.walk_forward_fits);
    EXPECT_EQ(m.exits(ExitReason::signal).value(), r.counters.signal_exits);
    EXPECT_EQ(m.exits(ExitReason::stop_loss).value(), r.counters.stop_losses);
    EXPECT_EQ(m.exits(ExitReason::take_profit).value(), r.counters.take_profits);
    EXPECT_EQ(m.entries_blocked(BlockReason::breaker).value(), r.counters.blocked_breaker);
    EXPECT_EQ(m.entries_blocked(BlockReason::below_min).value(), r.counters.blocked_below_min);
    EXPECT_EQ(m.entries_blocked(BlockReason::long_only).value(), r.counters.blocked_long_only);
    EXPECT_EQ(m.entries_blocked(BlockReason::market_data).value(), r.counters.blocked_market_data);
    EXPECT_DOUBLE_EQ(m.equity_usd.value(), r.final_equity_usd);
    EXPECT_GT(m.vol_risk_factor.value(), 0.0);
    EXPECT_LE(m.vol_risk_factor.value(), 1.0);

    std::string text;
    registry.render_prometheus(text);
    EXPECT_NE(text.find("bot_trades_total " + std::to_string(r.trades) + "\n"), std::string::npos);
}

}  // namespace
}  // namespace cbtrade
