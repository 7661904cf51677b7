// pipeline/trainer: the candle history a live model is fitted on -- the history CSV, then every
// candle the signal stage closes -- with the feature row of each, and fits on a window of it.
// The start-up fit, the ops thread's walk-forward refits and `cbtrade replay` all use this one
// class, so a replay refits bit-identically at the same point (the fit is deterministic).
//
// Rows and labels follow the backtest (exec/backtest.cpp): row i is the features after candle i,
// labelled 1 when candle i+1 closed above candle i; a fit over candles [from, end) uses the rows
// whose outcome is known inside it. Cold: it allocates; it runs at start-up and on the ops thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "core/candle.hpp"
#include "core/config.hpp"
#include "core/features.hpp"
#include "core/model.hpp"

namespace cbtrade {

class ModelTrainer {
public:
    // keep: candles kept (the oldest are dropped beyond it); at least the fit window.
    ModelTrainer(const Config& c, std::size_t keep);

    void add(const Candle& c);
    // Candles added since construction (not only those kept): the index space of fit_end.
    [[nodiscard]] std::uint64_t candles_seen() const noexcept { return seen_; }
    [[nodiscard]] const Candle* last() const noexcept { return candles_.empty() ? nullptr : &candles_.back(); }

    // Fits on the last `window` candles before candle index fit_end (fit_end <= candles_seen()).
    // Empty when fewer than min_rows rows with a known outcome are there.
    [[nodiscard]] std::optional<ModelWeights> fit(std::uint64_t fit_end, std::size_t window,
                                                  std::size_t min_rows = 100) const;

private:
    ModelMode mode_;
    std::size_t keep_;
    FeatureBuilder features_;
    std::uint64_t seen_ = 0;
    std::uint64_t first_kept_ = 0;  // candle index of candles_.front()
    std::deque<Candle> candles_;
    std::deque<FeatureVector> rows_;  // rows_[k] belongs to candles_[k]
    std::deque<double> volatility_;
    std::deque<std::uint8_t> warm_;  // 1 when rows_[k] is a full feature row
};

}  // namespace cbtrade
