// pipeline/: the live daemon's pipeline (DESIGN.md section 2, issue 10). This header is the folder's
// public face and its map: build a Pipeline from the configuration, a placement plan, the history
// and a source stage (the Coinbase feed, or a scripted source in tests), start it, stop it, read
// the summary.
//
//   source (feed) --ring A--> signal --ring B--> exec
//                               |                 |
//                               +--notes--> ops <-+   (metrics, refits, recording, decision log)
//
// The hot stages run on the threads the plan says (fused or split); ops on its own low-priority
// thread. The folder:
//   events.hpp        the records on the rings (MarketEvent, PriceRecord, notes)
//   rings.hpp         the rings, their capacities and each one's policy when full
//   feed_stage.hpp    the Coinbase feed as the source stage (its own library: links the network)
//   signal_stage.hpp  trades -> candles -> model -> Decision; the data_ok judgement
//   exec_stage.hpp    Trader + PaperBroker on every price, under every entry gate
//   ops_stage.hpp     metrics, readiness, walk-forward refits, files, halt, status line
//   model_slot.hpp    lock-free publication of refit weights with safe reclamation
//   trainer.hpp       the candle history models are fitted on (start-up, refits, replay)
//   history.hpp       the warm-up history and the start-up fit
//   recording.hpp     RECORD_TICKS and DECISION_LOG formats, readers, --compare
//   replay.hpp        `cbtrade replay`: a recording through the same signal and exec stages
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bot_metrics.hpp"
#include "core/candle.hpp"
#include "core/config.hpp"
#include "core/cpu.hpp"
#include "core/model.hpp"
#include "core/placement.hpp"
#include "core/stage_runner.hpp"
#include "monitoring/metrics_server.hpp"
#include "pipeline/exec_stage.hpp"
#include "pipeline/ops_stage.hpp"
#include "pipeline/rings.hpp"

namespace cbtrade {

namespace io {
class UringLoop;
}
namespace journal {
class Writer;
}

// The stage that writes ring A (the feed stage), and what the ops thread may ask it.
class SourceStage : public Stage, public FeedView {};
using SourceFactory = std::function<std::unique_ptr<SourceStage>(MarketRing& out, BotMetrics& metrics)>;

// How long a stop (SIGTERM, --duration) waits for a live order in flight to settle: the exec thread
// keeps polling its broker and the order desk keeps asking the exchange, so the fill is journaled and
// applied in this run instead of being left to the next start's reconciliation. It covers the exec
// thread's attempt timeout (5 s) and the desk's resend and get-order polling; a systemd stop (90 s by
// default) outlasts it. An order still unknown after it stays open in the journal.
inline constexpr std::int64_t order_stop_wait_ns = 30'000'000'000;

struct PipelineSetup {
    Config config;
    PlacementPlan plan;
    std::vector<Candle> history;        // warm-up candles, oldest first
    std::optional<ModelWeights> model;  // fitted on the history; none: the daemon does not trade
    SourceFactory source;
    BotMetrics* metrics = nullptr;                           // required
    const TscClock* clock = nullptr;                         // required
    ReadyState* ready = nullptr;                             // optional
    const std::atomic<std::uint32_t>* usr1_count = nullptr;  // optional: SIGUSR1 presses
    bool print_status = true;                                // status lines on stderr
    ExecProbe* exec_probe = nullptr;                         // optional: benchmarks (exec_stage.hpp)

    // Real orders (DRY_RUN=false; exec/live_orders.hpp builds these). All optional: without a broker
    // the exec stage paper-trades.
    Broker* broker = nullptr;               // the exec stage's broker (exec thread)
    std::optional<TraderParams> trader;     // the trader's parameters (default: from the config)
    std::vector<Stage*> ops_stages;         // polled on the ops thread after the ops stage (token pool)
    Stage* order_desk = nullptr;            // its own low-priority thread "cbt-orders" (blocking REST)
    const LiveFunds* live_funds = nullptr;  // USE_LIVE_EQUITY: see ExecStage::set_live_funds
    NoticeRing* notices = nullptr;          // SLACK_WEBHOOK: see ExecStage::set_notices
    // Each on a low-priority thread of its own named "cbt-" + name() (blocking work: live-equity
    // refreshes, notifications), so that neither a hot thread nor the ops thread ever waits on it.
    std::vector<Stage*> background_stages;
    // The order journal (exec/journal.hpp), opened, and the io_uring loop it writes through (polled
    // by the exec stage). Optional: without it nothing is journaled (tests, benchmarks).
    journal::Writer* journal = nullptr;
    io::UringLoop* journal_loop = nullptr;
    std::optional<TraderBooks> books;  // recovered from the journal: the trader starts from them
    bool halted = false;               // recovered: the halt stays on until SIGUSR1 lifts it
    // TEST ONLY (kill campaign, CBTRADE_TEST_CRASH=after_intent:N): 0, or the exec thread kills the
    // process after the N-th order's intent is durable, before the order is sent.
    std::uint64_t test_crash_after_intent = 0;
    // Live: reconciliation found a difference it cannot explain (exec/reconcile.hpp): no order at
    // all, entries or exits, until an operator accepts it (cbtrade live --accept-reconciliation).
    bool orders_held = false;
};

struct PipelineSummary {
    double run_seconds = 0;
    std::uint64_t ticks = 0;
    std::uint64_t trades = 0;  // market trades consumed by the signal stage
    std::uint64_t candles = 0;
    std::uint64_t decisions[3] = {};  // by Signal: flat, buy, sell
    bool live = false;                // real orders (bot_orders_total{mode="live"})
    std::uint64_t orders_buy = 0;
    std::uint64_t orders_sell = 0;
    std::uint64_t order_errors = 0;  // every reason
    bool order_unsettled = false;    // an order's outcome was still unknown at the stop
    TraderCounters trader;
    double start_equity_usd = 0;
    double equity_usd = 0;
    double position_base = 0;
    double fees_usd = 0;
    double cash_usd = 0;  // after stop()
    std::uint64_t reconnects = 0;
    std::uint64_t gaps = 0;
    std::uint64_t ring_full[3] = {};  // ticks, decisions, ops
    std::uint64_t walk_forward_fits = 0;
    std::uint64_t recorded_events = 0;
    std::uint64_t decision_log_lines = 0;
    double t2d_p50_ns = 0, t2d_p99_ns = 0, t2d_p999_ns = 0;
    std::uint64_t t2d_count = 0;
    std::string drain_timed_out;  // the threads that gave up draining at the stop, space-separated (none: empty)
    std::string not_trading;      // why it did not trade, or empty
    std::string file_error;       // a RECORD_TICKS / DECISION_LOG write failure, or empty
};
// The summary as printed at the end of `cbtrade live` (several lines).
[[nodiscard]] std::string summary_text(const PipelineSummary& s);

class Pipeline {
public:
    // Builds rings and stages (cold). Throws RunError for a file it cannot open.
    explicit Pipeline(PipelineSetup setup);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    // Starts every thread; returns the placement lines (warnings included) for the start-up plan.
    std::vector<std::string> start();
    // Stops the source, drains every ring in pipeline order, flushes the files, joins. Idempotent.
    void stop();
    // The run's figures; after stop() they are final.
    [[nodiscard]] PipelineSummary summary() const;

    [[nodiscard]] const SourceStage& source() const noexcept { return *source_; }
    [[nodiscard]] const SignalStage& signal() const noexcept { return *signal_; }
    [[nodiscard]] const ExecStage& exec() const noexcept { return *exec_; }
    [[nodiscard]] const OpsStage& ops() const noexcept { return *ops_; }
    [[nodiscard]] bool halted() const noexcept { return halted_.load(std::memory_order_relaxed); }
    // The halt flag itself, for a background stage that reports its changes (notifications).
    [[nodiscard]] const std::atomic<bool>& halt_flag() const noexcept { return halted_; }

private:
    PipelineSetup setup_;
    std::unique_ptr<MarketRing> ring_a_;
    std::unique_ptr<PriceRing> ring_b_;
    std::unique_ptr<SignalNoteRing> signal_notes_;
    std::unique_ptr<RecordRing> record_;
    std::unique_ptr<ExecNoteRing> exec_notes_;
    ModelSlot models_;
    std::unique_ptr<ModelTrainer> trainer_;
    // writer: the ops thread (halt sources); reader: the exec stage. See OpsStage::check_halt.
    std::atomic<bool> halted_{false};
    std::unique_ptr<SourceStage> source_;
    std::unique_ptr<SignalStage> signal_;
    std::unique_ptr<ExecStage> exec_;
    std::unique_ptr<OpsStage> ops_;
    std::vector<std::unique_ptr<StageRunner>> runners_;  // hot runners, then ops
    std::int64_t started_ns_ = 0;
    std::int64_t stopped_ns_ = 0;
    bool stopped_ = false;
    std::string file_error_;
};

}  // namespace cbtrade
