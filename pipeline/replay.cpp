#include "pipeline/replay.hpp"

#include <limits>
#include <memory>

#include "core/bot_metrics.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "pipeline/exec_stage.hpp"
#include "pipeline/model_slot.hpp"
#include "pipeline/signal_stage.hpp"
#include "pipeline/trainer.hpp"

namespace cbtrade {

ReplayResult replay_recording(const Config& c, const PreparedHistory& history, RecordingReader& reader,
                              const std::function<void(const std::string&)>& on_line) {
    if (reader.info().product != c.product_id || reader.info().granularity_s != granularity_seconds(c.granularity))
        throw ConfigError("the recording is product=" + reader.info().product +
                          " granularity=" + std::to_string(reader.info().granularity_s) +
                          " s but the configuration is PRODUCT_ID=" + c.product_id + " GRANULARITY=" +
                          std::string(granularity_name(c.granularity)) + ": replay with the live run's configuration");
    ReplayResult out;
    const std::int64_t started = now_ns();
    MetricsRegistry registry;
    BotMetrics metrics(registry, BuildInfo{});
    const TscClock clock = TscClock::quick();
    auto ring_a = std::make_unique<MarketRing>();
    auto ring_b = std::make_unique<PriceRing>();
    auto notes = std::make_unique<SignalNoteRing>();
    auto exec_notes = std::make_unique<ExecNoteRing>();
    // Keeps every candle: the live run refit on the ops thread the moment a candle arrived, but
    // its signal stage may have adopted the model many candles later (the "M" line is there); by
    // then a trimmed history would have lost the start of the fit window.
    ModelTrainer trainer(c, std::numeric_limits<std::size_t>::max());
    for (const Candle& h : history.candles) trainer.add(h);
    ModelSlot models;
    if (history.model) (void)models.publish(*history.model, trainer.candles_seen());
    std::atomic<bool> never_halted{false};
    SignalStageOptions so;
    so.history = history.candles;
    SignalStage signal(c, so, *ring_a, *ring_b, notes.get(), nullptr, models, metrics, clock);
    ExecStage exec(c, *ring_b, exec_notes.get(), metrics, clock, never_halted);

    on_line(decision_log_header(c.product_id, granularity_seconds(c.granularity), model_mode_name(c.model_mode)));
    auto drain_notes = [&] {
        SignalNote n;
        while (notes->try_pop(n))
            if (n.kind == SignalNoteKind::candle) trainer.add(n.candle);
    };
    MarketEvent e{};
    std::uint64_t lost = 0;
    for (;;) {
        const RecordingReader::Item item = reader.next(e, lost);
        if (item == RecordingReader::Item::end) break;
        if (item == RecordingReader::Item::lost) {
            out.lost_events += lost;
            continue;
        }
        ++out.events;
        if (e.kind == EventKind::model_switch) {
            // The live run adopted a refit here. Its generation 1 is the start-up fit, already in use.
            if (e.model.generation <= models.generations()) continue;
            drain_notes();
            if (e.model.fit_end > trainer.candles_seen())
                throw DataError(escape_for_message(reader.path()) + ":" + std::to_string(reader.line()) +
                                ": the model switch" + " refits on candle " + std::to_string(e.model.fit_end) +
                                " but only " + std::to_string(trainer.candles_seen()) +
                                " candles were closed by then: the recording does not belong to this history");
            const auto fitted = trainer.fit(e.model.fit_end, static_cast<std::size_t>(c.walk_forward_window));
            if (fitted) {
                (void)models.publish(*fitted, e.model.fit_end);
                ++out.refits;
            }
            continue;
        }
        if (e.kind == EventKind::trade) ++out.trades;
        (void)ring_a->try_push(e);  // one event at a time: never full
        while (signal.poll(0) != 0 || exec.poll(0) != 0) {}
        drain_notes();
        ExecNote n;
        while (exec_notes->try_pop(n)) {
            if (n.kind != ExecNoteKind::order_error) (n.kind == ExecNoteKind::decision ? out.decisions : out.fills)++;
            on_line(decision_log_line(n));
        }
    }
    out.candles = signal.status().candles.load(std::memory_order_relaxed);
    out.final_equity_usd = exec.status().equity_usd.load(std::memory_order_relaxed);
    out.seconds = static_cast<double>(now_ns() - started) / 1e9;
    return out;
}

}  // namespace cbtrade
