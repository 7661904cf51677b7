// pipeline/history: the warm-up a live run (and its replay) starts from (issue 10 item 5). At least
// min_history_candles of GRANULARITY candles from a CSV; the model is fitted on the last
// WALK_FORWARD_WINDOW of them, exactly as a walk-forward refit would fit at that point. Whether the
// history ends near enough to the live data is judged at the first live trade (signal stage).
// Every reason not to trade is one line the daemon prints and keeps printing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "core/config.hpp"
#include "core/model.hpp"

namespace cbtrade {

inline constexpr std::size_t min_history_candles = 300;

struct PreparedHistory {
    std::vector<Candle> candles;        // oldest first (empty without a file)
    std::optional<ModelWeights> model;  // fitted; empty: do not trade
    std::size_t fit_rows = 0;
    std::string description;  // "data/x.csv: 4000 candles 2024-..Z .. 2024-..Z; model fitted on ..."
    std::string not_trading;  // why there is no model (empty when there is one)
};

// The ModelTrainer capacity the live pipeline and the replay use (their refits must agree).
[[nodiscard]] std::size_t trainer_keep(const Config& c) noexcept;

// Reads and checks the CSV (throws DataError for an unreadable or malformed file, as the backtest
// does) and fits. Too few candles, a row spacing other than GRANULARITY, or a failed fit are not
// errors: the result says why it will not trade.
[[nodiscard]] PreparedHistory prepare_history(const Config& c, const std::string& path);

// The same checks and fit for candles from elsewhere (the REST warm-up), one GRANULARITY apart,
// oldest first; `source` names them in the description and the reasons ("REST ...").
[[nodiscard]] PreparedHistory prepare_history_candles(const Config& c, std::vector<Candle> candles,
                                                      const std::string& source);

}  // namespace cbtrade
