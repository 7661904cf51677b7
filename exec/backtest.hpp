// Backtest: the live signal stage, trader and paper broker driven by candles instead of ticks.
//
// Phases (kept from the earlier stack): the first 70% of candles fit the model (after 50 warm-up
// candles), the last 30% are traded. Inside each traded candle the price visits
// open -> the extreme nearer the open -> the other extreme -> close, and a stop or take level
// crossed between two visited prices is visited itself, so exits trigger inside candles at their
// level (a gap at the open fills at the open). The signal is evaluated at each close and an order
// it causes fills at that close. With MODEL_MODE=extended and WALK_FORWARD_MIN > 0 the model is
// refit every WALK_FORWARD_MIN minutes of candle time from the last WALK_FORWARD_WINDOW candles
// whose outcome is already known.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/model.hpp"
#include "exec/trader.hpp"

namespace cbtrade {

inline constexpr double fit_fraction = 0.70;
inline constexpr std::size_t min_fit_samples = 100;

// The fewest candles a backtest accepts: warm-up plus min_fit_samples inside the fit share.
[[nodiscard]] std::size_t min_backtest_candles() noexcept;

class BacktestError : public DataError {
public:
    using DataError::DataError;
};

// Optional live view of a running backtest (metrics). Called on the backtest thread.
class BacktestObserver {
public:
    virtual ~BacktestObserver() = default;
    virtual void on_decision(const Decision&) {}
    virtual void on_fill(const Fill&) {}
    virtual void on_walk_forward_fit() {}
    virtual void on_candle_done(const Trader&, double /*price*/, double /*vol_factor*/) {}
};

struct EquityPoint {
    std::int64_t time_s;
    double price;
    double equity_usd;
};

struct BacktestReport {
    // what ran
    std::string product_id;
    std::string granularity;
    std::string model_mode;
    std::size_t candles_total = 0;
    std::size_t candles_fit = 0;
    std::size_t candles_traded = 0;
    std::int64_t first_time_s = 0;
    std::int64_t trade_start_time_s = 0;
    std::int64_t last_time_s = 0;
    std::size_t walk_forward_fits = 0;
    bool model_converged = false;
    // results
    double start_equity_usd = 0;
    double final_equity_usd = 0;
    double total_return_pct = 0;
    double buy_and_hold_return_pct = 0;
    double max_drawdown_pct = 0;
    double sharpe = 0;  // annualised from per-candle equity returns
    double fees_usd = 0;
    double exposure_pct = 0;  // share of traded candles closing with a position
    std::size_t trades = 0;   // round trips closed
    std::size_t wins = 0;
    double win_rate_pct = 0;
    std::array<std::uint64_t, 3> decisions{};  // by Signal: flat, buy, sell
    std::uint64_t orders_buy = 0;
    std::uint64_t orders_sell = 0;
    TraderCounters counters;
    // not in the JSON (it would break byte-identical reports)
    double replay_seconds = 0;
    // for the HTML page
    std::vector<Fill> fills;
    std::vector<EquityPoint> curve;  // downsampled to at most max_curve_points
};

inline constexpr std::size_t max_curve_points = 2000;

struct BacktestOptions {
    std::int64_t sleep_ms = 0;  // pause per traded candle
    BacktestObserver* observer = nullptr;
};

// Throws BacktestError when there are too few candles.
[[nodiscard]] BacktestReport run_backtest(std::span<const Candle> candles, const Config& cfg,
                                          const BacktestOptions& opts = {});

// The replay phase alone: trades every candle with a given, already fitted model (decisions start
// after the warm-up). Used by the benchmarks to measure replay speed over a whole file.
[[nodiscard]] BacktestReport replay_with_model(std::span<const Candle> candles, const Config& cfg,
                                               const ModelWeights& model, const BacktestOptions& opts = {});

}  // namespace cbtrade
