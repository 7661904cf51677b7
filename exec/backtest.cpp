#include "exec/backtest.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "core/model.hpp"
#include "core/signal_engine.hpp"

namespace cbtrade {

namespace {

std::size_t fit_end(std::size_t n) noexcept {
    return static_cast<std::size_t>(static_cast<double>(n) * fit_fraction);
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

// Everything the traded phase touches per candle, kept together.
class Replay {
public:
    Replay(std::span<const Candle> candles, const Config& cfg, const BacktestOptions& opts, BacktestReport& report)
        : candles_(candles),
          cfg_(cfg),
          opts_(opts),
          report_(report),
          engine_(cfg),
          trader_(TraderParams::from(cfg), cfg.usd_equity),
          broker_(cfg.fee_bps, cfg.slippage_bps),
          walk_forward_(cfg.model_mode == ModelMode::extended && cfg.walk_forward_min > 0) {}

    // Fit on the first 70%, trade the rest.
    void run() {
        const std::size_t n = candles_.size();
        const std::size_t split = fit_end(n);
        features_.reserve(walk_forward_ ? n : split);
        volatility_.reserve(walk_forward_ ? n : split);
        labels_.reserve(walk_forward_ ? static_cast<std::size_t>(cfg_.walk_forward_window) + split : split);
        for (std::size_t i = 0; i < split; ++i) (void)observe(i, true);
        fit(0, split);
        report_.model_converged = model_[active_].converged;
        trade(split);
    }

    // Trade every candle with a given model.
    void run_with(const ModelWeights& m) {
        model_[active_] = m;
        engine_.set_model(&model_[active_]);
        report_.model_converged = m.converged;
        walk_forward_ = false;
        trade(0);
    }

private:
    void trade(std::size_t split) {
        const std::size_t n = candles_.size();
        const auto started = std::chrono::steady_clock::now();
        const std::int64_t refit_every_s = cfg_.walk_forward_min * 60;
        std::int64_t last_fit_s = candles_[split].time_s;
        const std::size_t stride = std::max<std::size_t>(1, (n - split + max_curve_points - 1) / max_curve_points);
        double peak = cfg_.usd_equity;
        double max_drop_fraction = 0;
        double prev_equity = cfg_.usd_equity;
        double ret_sum = 0, ret_sum_sq = 0;  // per-candle returns are ~1e-4: plain sums lose nothing
        std::size_t exposed = 0, since_point = 0;

        for (std::size_t i = split; i < n; ++i) {
            const Candle& c = candles_[i];
            if (walk_forward_ && c.time_s - last_fit_s >= refit_every_s) {
                const std::size_t window = static_cast<std::size_t>(cfg_.walk_forward_window);
                fit(i > window ? i - window : 0, i);
                last_fit_s = c.time_s;
                ++report_.walk_forward_fits;
                if (opts_.observer) opts_.observer->on_walk_forward_fit();
            }
            walk_candle(c);
            if (const auto d = observe(i, walk_forward_)) {
                ++report_.decisions[static_cast<std::size_t>(d->signal)];
                if (opts_.observer) opts_.observer->on_decision(*d);
                if (const auto req = trader_.on_decision(*d)) execute(*req, d->price);
            }
            // Divisions only when something changed: most candles leave a flat book untouched.
            const double equity = trader_.equity_usd(c.close);
            peak = std::max(peak, equity);
            if (peak - equity > max_drop_fraction * peak) max_drop_fraction = (peak - equity) / peak;
            if (equity != prev_equity) {
                const double r = equity / prev_equity - 1;
                ret_sum += r;
                ret_sum_sq += r * r;
                prev_equity = equity;
            }
            if (trader_.position_qty() != 0) ++exposed;
            if (++since_point == stride || i + 1 == n || i == split) {
                since_point = 0;
                report_.curve.push_back({c.time_s, c.close, equity});
            }
            if (opts_.observer) opts_.observer->on_candle_done(trader_, c.close, last_vol_factor_);
            if (opts_.sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opts_.sleep_ms));
        }
        report_.replay_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

        const Candle& first = candles_[split];
        const Candle& last = candles_[n - 1];
        report_.candles_fit = split;
        report_.candles_traded = n - split;
        report_.trade_start_time_s = first.time_s;
        report_.final_equity_usd = trader_.equity_usd(last.close);
        report_.total_return_pct = (report_.final_equity_usd / cfg_.usd_equity - 1) * 100;
        report_.buy_and_hold_return_pct = (last.close / first.open - 1) * 100;
        report_.max_drawdown_pct = max_drop_fraction * 100;
        const double count = static_cast<double>(n - split);
        const double ret_mean = ret_sum / count;
        const double ret_var = count > 1 ? (ret_sum_sq - count * ret_mean * ret_mean) / (count - 1) : 0;
        const double ret_sd = ret_var > 0 ? std::sqrt(ret_var) : 0;
        const double periods_per_year = 365.0 * 86400.0 / static_cast<double>(granularity_seconds(cfg_.granularity));
        report_.sharpe = ret_sd > 0 ? ret_mean / ret_sd * std::sqrt(periods_per_year) : 0;
        report_.fees_usd = trader_.fees_usd();
        report_.exposure_pct = static_cast<double>(exposed) / static_cast<double>(n - split) * 100;
        report_.counters = trader_.counters();
        report_.trades = report_.counters.round_trips;
        report_.wins = report_.counters.winning_round_trips;
        report_.win_rate_pct =
            report_.trades ? static_cast<double>(report_.wins) / static_cast<double>(report_.trades) * 100 : 0;
    }

    // Feeds candle i to the signal stage and, when asked, keeps its features for (re)fitting.
    std::optional<Decision> observe(std::size_t i, bool keep_features) {
        const auto d = engine_.on_candle(candles_[i]);
        if (keep_features && engine_.features().warm()) {
            if (features_.empty()) first_row_ = i;
            features_.push_back(engine_.features().features());
            volatility_.push_back(engine_.features().volatility());
        }
        if (d) last_vol_factor_ = d->vol_factor;
        return d;
    }

    // Fits on rows i in [from, known_end - 1): candles before known_end have been seen, so row i's
    // outcome (close[i + 1] > close[i]) is known exactly when i + 1 < known_end.
    void fit(std::size_t from, std::size_t known_end) {
        from = std::max(from, first_row_);
        labels_.clear();
        for (std::size_t i = from; i + 1 < known_end; ++i)
            labels_.push_back(candles_[i + 1].close > candles_[i].close ? 1 : 0);
        const std::size_t rows = labels_.size();
        const std::size_t offset = from - first_row_;
        const std::span<const FeatureVector> x(features_.data() + offset, rows);
        const std::size_t spare = 1 - active_;
        model_[spare] = fit_logistic(x, std::span<const std::uint8_t>(labels_.data(), rows), cfg_.model_mode);
        model_[spare].ref_volatility =
            median(std::vector<double>(volatility_.begin() + static_cast<std::ptrdiff_t>(offset),
                                       volatility_.begin() + static_cast<std::ptrdiff_t>(offset + rows)));
        active_ = spare;  // the live pipeline publishes new weights the same way: by pointer
        engine_.set_model(&model_[active_]);
    }

    void step(double price, std::int64_t t) {
        if (const auto req = trader_.on_price(price, t)) execute(*req, price);
    }

    void execute(const OrderRequest& req, double market_price) {
        const Fill f = broker_.fill(req, market_price);
        trader_.on_fill(f);
        (f.side == Side::buy ? report_.orders_buy : report_.orders_sell)++;
        report_.fills.push_back(f);
        if (opts_.observer) opts_.observer->on_fill(f);
    }

    // Moves the price from `from` to `to`, visiting exit levels crossed on the way.
    void walk(double from, double to, std::int64_t t) {
        for (int guard = 0; guard < 2 && trader_.position_qty() != 0 && !trader_.pending(); ++guard) {
            double next = 0;
            for (const double level : {trader_.stop_level(), trader_.take_level()}) {
                const bool inside = level > 0 && ((from < level && level < to) || (to < level && level < from));
                if (inside && (next == 0 || std::fabs(level - from) < std::fabs(next - from))) next = level;
            }
            if (next == 0) break;
            step(next, t);
            from = next;
        }
        step(to, t);
    }

    void walk_candle(const Candle& c) {
        const bool low_first = (c.open - c.low) <= (c.high - c.open);
        const double first = low_first ? c.low : c.high;
        const double second = low_first ? c.high : c.low;
        step(c.open, c.time_s);  // a gap through a level fills at the open
        // A flat book's equity does not move with the price and has no exit levels: the open
        // alone rolls the day and checks the breaker.
        if (trader_.position_qty() == 0 && !trader_.pending()) return;
        walk(c.open, first, c.time_s);
        walk(first, second, c.time_s);
        walk(second, c.close, c.time_s);
    }

    std::span<const Candle> candles_;
    const Config& cfg_;
    const BacktestOptions& opts_;
    BacktestReport& report_;
    SignalEngine engine_;
    Trader trader_;
    PaperBroker broker_;
    bool walk_forward_;
    std::vector<FeatureVector> features_;  // from candle first_row_ on
    std::vector<double> volatility_;
    std::vector<std::uint8_t> labels_;
    std::size_t first_row_ = 0;
    std::array<ModelWeights, 2> model_{};
    std::size_t active_ = 0;
    double last_vol_factor_ = 1.0;
};

}  // namespace

std::size_t min_backtest_candles() noexcept {
    return static_cast<std::size_t>(std::ceil(static_cast<double>(warmup_candles + min_fit_samples) / fit_fraction)) +
           1;
}

namespace {
BacktestReport new_report(std::span<const Candle> candles, const Config& cfg) {
    BacktestReport report;
    report.product_id = cfg.product_id;
    report.granularity = std::string(granularity_name(cfg.granularity));
    report.model_mode = std::string(model_mode_name(cfg.model_mode));
    report.candles_total = candles.size();
    report.first_time_s = candles.front().time_s;
    report.last_time_s = candles.back().time_s;
    report.start_equity_usd = cfg.usd_equity;
    return report;
}
}  // namespace

BacktestReport run_backtest(std::span<const Candle> candles, const Config& cfg, const BacktestOptions& opts) {
    if (candles.size() < min_backtest_candles())
        throw BacktestError("need at least " + std::to_string(min_backtest_candles()) + " candles (" +
                            std::to_string(warmup_candles) + " warm-up + " + std::to_string(min_fit_samples) +
                            " to fit, in the first 70%), got " + std::to_string(candles.size()));
    BacktestReport report = new_report(candles, cfg);
    Replay(candles, cfg, opts, report).run();
    return report;
}

BacktestReport replay_with_model(std::span<const Candle> candles, const Config& cfg, const ModelWeights& model,
                                 const BacktestOptions& opts) {
    if (candles.empty()) throw BacktestError("no candles to replay");
    BacktestReport report = new_report(candles, cfg);
    Replay(candles, cfg, opts, report).run_with(model);
    return report;
}

}  // namespace cbtrade
