#include "core/signal_engine.hpp"

#include <algorithm>

namespace cbtrade {

double vol_risk_factor(double volatility, double ref_volatility) noexcept {
    if (!(ref_volatility > 0) || !(volatility > ref_volatility)) return 1.0;
    return std::max(min_vol_factor, ref_volatility / volatility);
}

SignalEngine::SignalEngine(const Config& c) noexcept
    : features_(c.model_mode, c.vol_risk_adjust),
      params_(StrategyParams::from(c)),
      vol_risk_adjust_(c.vol_risk_adjust),
      candle_seconds_(granularity_seconds(c.granularity)) {}

std::optional<Decision> SignalEngine::on_candle(const Candle& c) noexcept {
    features_.update(c);
    if (!features_.warm() || model_ == nullptr) return std::nullopt;
    const double p_up = predict_up(*model_, features_.features());
    Decision d{};
    d.time_s = c.time_s + candle_seconds_;
    d.price = c.close;
    d.p_up = p_up;
    d.vol_factor = vol_risk_adjust_ ? vol_risk_factor(features_.volatility(), model_->ref_volatility) : 1.0;
    d.signal = decide(p_up, c.close, features_.long_ma(), params_);
    return d;
}

}  // namespace cbtrade
