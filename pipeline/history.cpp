#include "pipeline/history.hpp"

#include "core/rfc3339.hpp"
#include "core/text.hpp"
#include "feeds/csv_candles.hpp"
#include "pipeline/trainer.hpp"

namespace cbtrade {

std::size_t trainer_keep(const Config& c) noexcept {
    return static_cast<std::size_t>(c.walk_forward_window) + warmup_candles + 2;
}

namespace {
std::string describe_candles(const std::string& name, const std::vector<Candle>& candles) {
    return name + ": " + std::to_string(candles.size()) + " candles " + format_rfc3339_s(candles.front().time_s) +
           " .. " + format_rfc3339_s(candles.back().time_s);
}
}  // namespace

PreparedHistory prepare_history(const Config& c, const std::string& path) {
    PreparedHistory h;
    if (path.empty()) {
        h.not_trading = "no history: give --history FILE (or HISTORY_FILE) with at least " +
                        std::to_string(min_history_candles) + " " + std::string(granularity_name(c.granularity)) +
                        " candles ending near now";
        return h;
    }
    CsvCandles csv = read_candles_csv(path);
    const std::string name = escape_for_message(path);
    const std::int64_t step = granularity_seconds(c.granularity);
    if (csv.candles.size() >= 2 && csv.step_s != step) {
        h.candles = std::move(csv.candles);
        h.description = describe_candles(name, h.candles);
        h.not_trading = "history " + name + " has rows " + std::to_string(csv.step_s) +
                        " s apart but GRANULARITY=" + std::string(granularity_name(c.granularity)) + " is " +
                        std::to_string(step) + " s";
        return h;
    }
    return prepare_history_candles(c, std::move(csv.candles), name);
}

PreparedHistory prepare_history_candles(const Config& c, std::vector<Candle> candles, const std::string& source) {
    const std::string& name = source;
    PreparedHistory h;
    h.candles = std::move(candles);
    if (h.candles.empty()) {
        h.not_trading = "history " + name + " has no candles";
        return h;
    }
    h.description = describe_candles(name, h.candles);
    if (h.candles.size() < min_history_candles) {
        h.not_trading = "history " + name + " has " + std::to_string(h.candles.size()) + " candles, need at least " +
                        std::to_string(min_history_candles);
        return h;
    }
    ModelTrainer trainer(c, trainer_keep(c));
    for (const Candle& k : h.candles) trainer.add(k);
    h.model = trainer.fit(trainer.candles_seen(), static_cast<std::size_t>(c.walk_forward_window));
    if (!h.model) {
        h.not_trading = "history " + name + ": too few rows with a known outcome to fit the model";
        return h;
    }
    const std::size_t window = std::min<std::size_t>(h.candles.size(), static_cast<std::size_t>(c.walk_forward_window));
    h.description += "; " + std::string(model_mode_name(c.model_mode)) + " model fitted on the last " +
                     std::to_string(window) + " (" + (h.model->converged ? "converged" : "NOT converged") + " in " +
                     std::to_string(h.model->iterations) + " iterations)";
    return h;
}

}  // namespace cbtrade
