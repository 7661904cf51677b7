// The daemon's metrics contract (DESIGN.md section 7, monitoring/README.md): every series the
// rules and the dashboard use, registered at start-up with every label combination, so each one
// exists (at 0) from the first scrape. Stages keep a BotMetrics& and update the handles directly.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/config.hpp"
#include "core/metrics.hpp"
#include "core/records.hpp"
#include "core/strategy.hpp"

namespace cbtrade {

// Labels of bot_build_info.
struct BuildInfo {
    std::string version = "0.1.0";
    std::string wolfssl = "unknown";  // e.g. "5.5.4 accelerated"
    std::string aesni = "unknown";    // "yes" or "no"
};

enum class OrderMode : std::uint8_t { paper, live };
enum class OrderSideIndex : std::uint8_t { buy, sell };
enum class BlockReason : std::uint8_t { breaker, below_min, long_only, market_data, halt, funds };
enum class ExitReason : std::uint8_t { signal, stop_loss, take_profit };
enum class RingLabel : std::uint8_t { ticks, decisions, ops };
enum class StageLabel : std::uint8_t { decode, signal, exec };

struct BotMetrics {
    BotMetrics(MetricsRegistry& registry, const BuildInfo& build);

    [[nodiscard]] Counter& orders(OrderMode m, OrderSideIndex s) noexcept {
        return *orders_[static_cast<std::size_t>(m)][static_cast<std::size_t>(s)];
    }
    [[nodiscard]] Counter& decisions(Signal s) noexcept { return *decisions_[static_cast<std::size_t>(s)]; }
    [[nodiscard]] Counter& entries_blocked(BlockReason r) noexcept {
        return *entries_blocked_[static_cast<std::size_t>(r)];
    }
    [[nodiscard]] Counter& exits(ExitReason r) noexcept { return *exits_[static_cast<std::size_t>(r)]; }
    // bot_order_errors_total{reason}: every reason exists from the start (OrderError::none stays 0).
    [[nodiscard]] Counter& order_errors(OrderError e) noexcept { return *order_errors_[static_cast<std::size_t>(e)]; }
    [[nodiscard]] Counter& ring_full(RingLabel r) noexcept { return *ring_full_[static_cast<std::size_t>(r)]; }
    [[nodiscard]] Histogram& stage_latency(StageLabel s) noexcept {
        return *stage_latency_[static_cast<std::size_t>(s)];
    }
    // bot_model_mode{mode}: 1 for the active mode, 0 for the other.
    void set_model_mode(ModelMode m) noexcept;

    Gauge& equity_usd;
    Gauge& vol_risk_factor;
    Counter& walk_forward_fits;
    Gauge& build_info;
    Counter& trades;
    Gauge& daily_pnl_usd;
    Gauge& position_base;
    Gauge& circuit_breaker_tripped;
    Counter& order_errors_none;  // bot_order_errors_total{reason="none"}: exported so the family exists
    Counter& candles;
    Counter& ticks;
    Counter& feed_gaps;
    Counter& feed_reconnects;
    Counter& feed_connect_failures;  // connections that never reached an open WebSocket
    Counter& feed_messages_refused;  // messages the decoder refused (malformed, oversized, bad sequence...)
    Counter&
        feed_records_refused;  // ticker/trade records refused (price or size outside the sane range, bad trade id or time)
    Counter& price_outliers;  // prices the sanity gate held (core/price_gate.hpp)
    Gauge& feed_age_seconds;
    Gauge& feed_stale;
    Histogram& tick_to_decision;
    Gauge& ready;
    Gauge& halted;
    // Live equity (USE_LIVE_EQUITY=true; exec/live_equity.hpp).
    Counter& live_equity_refreshes;
    Counter& live_equity_refresh_failures;
    Gauge& live_equity_age_seconds;  // since the last successful refresh (0 without live equity)
    // Notifications (SLACK_WEBHOOK; monitoring/notifier.hpp).
    Counter& notifications;          // posted (2xx)
    Counter& notifications_failed;   // a post failed (error answer, timeout, connection)
    Counter& journal_failures;       // the order journal stopped taking records: no order is sent any more
    Counter& notifications_dropped;  // never posted: the ring was full, or coalesced while posting failed
    // Entry orders the exec stage was handed from a record whose market data was unfit (stale feed,
    // gap, lost record): refused there as well; must stay 0 (the trader's gate is the first line).
    Counter& entries_while_stale;

private:
    std::array<std::array<Counter*, 2>, 2> orders_{};
    std::array<Counter*, 3> decisions_{};
    std::array<Gauge*, 2> model_mode_{};
    std::array<Counter*, 6> entries_blocked_{};
    std::array<Counter*, order_error_count> order_errors_{};
    std::array<Counter*, 3> exits_{};
    std::array<Counter*, 3> ring_full_{};
    std::array<Histogram*, 3> stage_latency_{};
};

}  // namespace cbtrade
