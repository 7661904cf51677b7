// pipeline/ops_stage: everything slow, on the low-priority ops thread (issue 10 item 7). It never
// blocks a hot thread: the hot stages hand it notes through rings and read its results through
// atomics (the halt flag, new model weights).
//   - metrics: feed age and staleness, ring-full counts, readiness (ready = feed fresh, model
//     fitted, history joined, not halted); the hot stages update their own counters directly;
//   - walk-forward refits (MODEL_MODE=extended, WALK_FORWARD_MIN > 0) on the candle history,
//     published through the ModelSlot; old weights freed once the signal stage has moved on;
//   - RECORD_TICKS and DECISION_LOG, buffered, flushed every second and at stop;
//   - the halt: SIGUSR1 toggles it, HALT_FILE's presence sets it (either one halts);
//   - a status line on stderr every STATUS_INTERVAL_SEC.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/bot_metrics.hpp"
#include "core/config.hpp"
#include "core/stage_runner.hpp"
#include "monitoring/metrics_server.hpp"
#include "pipeline/exec_stage.hpp"
#include "pipeline/model_slot.hpp"
#include "pipeline/recording.hpp"
#include "pipeline/rings.hpp"
#include "pipeline/signal_stage.hpp"
#include "pipeline/trainer.hpp"

namespace cbtrade {

// What the ops thread may ask the feed stage (atomics inside; any thread).
class FeedView {
public:
    virtual ~FeedView() = default;
    [[nodiscard]] virtual std::int64_t last_message_ns() const noexcept = 0;  // monotonic, 0: none yet
    [[nodiscard]] virtual bool fresh() const noexcept = 0;
    [[nodiscard]] virtual std::string_view phase() const noexcept = 0;
    [[nodiscard]] virtual std::uint64_t reconnects() const noexcept = 0;
    [[nodiscard]] virtual std::uint64_t gaps() const noexcept = 0;
    [[nodiscard]] virtual std::uint64_t ticks() const noexcept = 0;
    [[nodiscard]] virtual std::uint64_t trades() const noexcept = 0;
    // The ops thread only: the next connection or server error text, oldest first; false when none.
    virtual bool next_error(std::string& out) = 0;
};

struct OpsRings {
    MarketRing* ring_a = nullptr;  // full counts only
    PriceRing* ring_b = nullptr;   // full counts only
    SignalNoteRing* signal_notes = nullptr;
    RecordRing* record = nullptr;  // null without RECORD_TICKS
    ExecNoteRing* exec_notes = nullptr;
};

struct OpsSources {
    FeedView* feed = nullptr;  // null: no feed (tests, replay)
    const SignalStage* signal = nullptr;
    const ExecStage* exec = nullptr;
    const std::atomic<std::uint32_t>* usr1_count = nullptr;  // bumped by the SIGUSR1 handler
};

class OpsStage final : public Stage {
public:
    // trainer: the candle history (history CSV already added); models: where refits are published.
    // ready may be null. Files are opened here (cold): throws RunError naming a path it cannot write.
    OpsStage(const Config& c, OpsRings rings, OpsSources sources, ModelTrainer& trainer, ModelSlot& models,
             BotMetrics& metrics, ReadyState* ready, std::atomic<bool>& halted, bool print_status);
    ~OpsStage() override;

    std::string_view name() const noexcept override { return "ops"; }
    std::size_t poll(std::int64_t now_ns) noexcept override;
    bool drained(std::int64_t now_ns) const noexcept override;
    void begin_stop(std::int64_t now_ns) noexcept override;

    // After the runner stopped: final flush; the first file error, if any.
    [[nodiscard]] std::string finish();

    [[nodiscard]] std::uint64_t walk_forward_fits() const noexcept { return fits_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t decision_lines() const noexcept {
        return decision_lines_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t recorded_events() const noexcept { return recorded_.load(std::memory_order_relaxed); }
    // Why it is not ready / not trading, one line ("" when trading).
    [[nodiscard]] std::string not_trading_reason() const;
    // Cold, before the runner starts: a halt recovered from the order journal stays on until the
    // operator lifts it (SIGUSR1), as if SIGUSR1 had set it.
    void restore_halt(bool halted) noexcept;

private:
    void drain(std::int64_t now_ns);
    void maybe_refit();
    void check_halt(std::int64_t now_ns);
    void publish_metrics(std::int64_t now_ns);
    void status_line(std::int64_t now_ns);
    void flush_files();

    Config config_;
    OpsRings rings_;
    OpsSources sources_;
    ModelTrainer& trainer_;
    ModelSlot& models_;
    BotMetrics& metrics_;
    ReadyState* ready_;
    std::atomic<bool>& halted_;
    bool print_status_;
    std::unique_ptr<LineFile> record_file_;
    std::unique_ptr<LineFile> decision_file_;
    std::string line_;  // reused formatting buffer

    bool walk_forward_;
    std::int64_t last_fit_time_s_ = 0;
    std::uint64_t record_full_seen_ = 0;
    std::uint64_t exec_full_seen_ = 0;
    std::array<std::uint64_t, 3> ring_full_published_{};  // ticks, decisions, ops
    std::uint32_t usr1_seen_ = 0;
    bool signal_halt_ = false;
    bool file_halt_ = false;
    std::int64_t next_halt_check_ns_ = 0;
    std::int64_t next_metrics_ns_ = 0;
    std::int64_t next_flush_ns_ = 0;
    std::int64_t next_status_ns_ = 0;
    std::int64_t status_from_ns_ = 0;
    std::uint64_t status_trades_ = 0;
    Histogram::Snapshot status_t2d_{};
    TradingBlock announced_block_ = TradingBlock::no_model;
    bool journal_error_said_ = false;
    bool announced_ = false;
    // writer: the ops thread; readers: the CLI thread (summary). Relaxed: statistics.
    std::atomic<std::uint64_t> fits_{0};
    std::atomic<std::uint64_t> decision_lines_{0};
    std::atomic<std::uint64_t> recorded_{0};
};

// The q-quantile (0..1) of a latency histogram in ns, interpolated inside its bucket; 0 when empty.
[[nodiscard]] double histogram_quantile_ns(const Histogram::Snapshot& s, double q) noexcept;
// The difference of two snapshots of one histogram (later - earlier).
[[nodiscard]] Histogram::Snapshot histogram_delta(const Histogram::Snapshot& later,
                                                  const Histogram::Snapshot& earlier) noexcept;

}  // namespace cbtrade
