// A BacktestObserver that exports a running backtest through the metrics contract (BotMetrics), so
// a paced `cbtrade backtest` can be watched in Prometheus/Grafana like the live daemon (paper mode).
// Runs on the backtest thread; every update is a handle write (no lookup, no allocation).
#pragma once

#include <cstdint>

#include "core/bot_metrics.hpp"
#include "exec/backtest.hpp"
#include "exec/trader.hpp"

namespace cbtrade {

class BacktestMetricsObserver final : public BacktestObserver {
public:
    explicit BacktestMetricsObserver(BotMetrics& m) noexcept : m_(m) {}

    void on_decision(const Decision& d) override { m_.decisions(d.signal).inc(); }

    void on_fill(const Fill& f) override {
        m_.orders(OrderMode::paper, f.side == Side::buy ? OrderSideIndex::buy : OrderSideIndex::sell).inc();
    }

    void on_walk_forward_fit() override { m_.walk_forward_fits.inc(); }

    void on_candle_done(const Trader& t, double price, double vol_factor) override {
        m_.candles.inc();
        const double equity = t.equity_usd(price);
        m_.equity_usd.set(equity);
        m_.daily_pnl_usd.set(equity - t.day_start_equity_usd());
        m_.position_base.set(t.position_qty());
        m_.circuit_breaker_tripped.set(t.breaker_tripped() ? 1.0 : 0.0);
        m_.vol_risk_factor.set(vol_factor);
        // The trader keeps running totals; the metrics get what was added since the last candle.
        const TraderCounters& c = t.counters();
        advance(m_.trades, last_.round_trips, c.round_trips);
        advance(m_.entries_blocked(BlockReason::breaker), last_.blocked_breaker, c.blocked_breaker);
        advance(m_.entries_blocked(BlockReason::below_min), last_.blocked_below_min, c.blocked_below_min);
        advance(m_.entries_blocked(BlockReason::long_only), last_.blocked_long_only, c.blocked_long_only);
        advance(m_.entries_blocked(BlockReason::market_data), last_.blocked_market_data, c.blocked_market_data);
        advance(m_.exits(ExitReason::signal), last_.signal_exits, c.signal_exits);
        advance(m_.exits(ExitReason::stop_loss), last_.stop_losses, c.stop_losses);
        advance(m_.exits(ExitReason::take_profit), last_.take_profits, c.take_profits);
    }

private:
    static void advance(Counter& counter, std::uint64_t& seen, std::uint64_t now) noexcept {
        if (now > seen) counter.inc(now - seen);
        seen = now;
    }

    BotMetrics& m_;
    TraderCounters last_{};
};

}  // namespace cbtrade
