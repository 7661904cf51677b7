#include "pipeline/trainer.hpp"

#include <algorithm>
#include <vector>

namespace cbtrade {

ModelTrainer::ModelTrainer(const Config& c, std::size_t keep)
    : mode_(c.model_mode), keep_(std::max<std::size_t>(keep, warmup_candles + 2)), features_(c.model_mode, true) {}

void ModelTrainer::add(const Candle& c) {
    features_.update(c);
    candles_.push_back(c);
    rows_.push_back(features_.features());
    volatility_.push_back(features_.volatility());
    warm_.push_back(features_.warm() ? 1 : 0);
    ++seen_;
    while (candles_.size() > keep_) {
        candles_.pop_front();
        rows_.pop_front();
        volatility_.pop_front();
        warm_.pop_front();
        ++first_kept_;
    }
}

std::optional<ModelWeights> ModelTrainer::fit(std::uint64_t fit_end, std::size_t window, std::size_t min_rows) const {
    fit_end = std::min(fit_end, seen_);
    const std::uint64_t from = std::max(first_kept_, fit_end > window ? fit_end - window : 0);
    std::vector<FeatureVector> x;
    std::vector<std::uint8_t> y;
    std::vector<double> vol;
    for (std::uint64_t i = from; i + 1 < fit_end; ++i) {
        const std::size_t k = static_cast<std::size_t>(i - first_kept_);
        if (!warm_[k]) continue;
        x.push_back(rows_[k]);
        y.push_back(candles_[k + 1].close > candles_[k].close ? 1 : 0);
        vol.push_back(volatility_[k]);
    }
    if (x.size() < std::max<std::size_t>(min_rows, 1)) return std::nullopt;
    ModelWeights m = fit_logistic(x, y, mode_);
    const auto mid = vol.begin() + static_cast<std::ptrdiff_t>(vol.size() / 2);
    std::nth_element(vol.begin(), mid, vol.end());
    m.ref_volatility = *mid;
    return m;
}

}  // namespace cbtrade
