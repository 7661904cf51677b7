// pipeline/exec_stage: the Trader and PaperBroker driven by ring B (issue 10 item 6). Every price
// marks the position (stops, takes, the daily-loss breaker); a Decision is acted on under every
// gate: no entry while market data is unfit (stale, a fresh gap, a lost record, not yet fresh after
// a reconnect: the signal stage's data_ok flag), after a record was lost on ring B itself, or while
// the operator's halt is on. Paper fills update equity and position metrics at once.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/bot_metrics.hpp"
#include "core/config.hpp"
#include "core/cpu.hpp"
#include "core/stage_runner.hpp"
#include "exec/trader.hpp"
#include "pipeline/rings.hpp"

namespace cbtrade {

// Sees every record the exec stage takes off ring B, on the exec thread, at the moment it holds it
// (the end of tick-to-decision). For benchmarks (bench/bench_tick_to_decision.cpp): hot-path rules
// apply to it. None in the daemon: one well-predicted branch per record.
class ExecProbe {
public:
    virtual void on_record(const PriceRecord& r, std::uint64_t held_tsc) noexcept = 0;

protected:
    ~ExecProbe() = default;
};

class ExecStage final : public Stage {
public:
    // halted: the ops thread's halt flag (read relaxed per record). notes may be null (no log).
    ExecStage(const Config& c, PriceRing& in, ExecNoteRing* notes, BotMetrics& metrics, const TscClock& clock,
              const std::atomic<bool>& halted);

    std::string_view name() const noexcept override { return "exec"; }
    std::size_t poll(std::int64_t now_ns) noexcept override;
    bool drained(std::int64_t) const noexcept override { return upstream_finished() && in_.empty(); }

    // Exec thread (or after the runner stopped): the trader's state for the summary.
    [[nodiscard]] const Trader& trader() const noexcept { return trader_; }
    [[nodiscard]] double last_price() const noexcept { return last_price_; }
    // Cold, before the runner starts.
    void set_probe(ExecProbe* probe) noexcept { probe_ = probe; }

    // Written by the exec thread, read by the ops thread (relaxed: independent status values).
    struct Status {
        std::atomic<double> equity_usd{0};
        std::atomic<double> position_base{0};
        std::atomic<std::uint64_t> records{0};
        std::atomic<std::uint64_t> fills{0};
        std::atomic<std::uint64_t> round_trips{0};
    };
    [[nodiscard]] const Status& status() const noexcept { return status_; }

private:
    void handle(const PriceRecord& r) noexcept;
    void execute(const OrderRequest& req, double market_price) noexcept;
    void publish_blocked() noexcept;
    void note(const ExecNote& n) noexcept;

    PriceRing& in_;
    ExecNoteRing* notes_;
    BotMetrics& metrics_;
    const TscClock& clock_;
    const std::atomic<bool>& halted_;
    Trader trader_;
    PaperBroker broker_;
    TraderCounters published_{};  // counters already added to the metrics
    bool lost_block_ = false;     // a ring B record was lost: no entry until the next candle close
    double last_price_ = 0;
    Status status_;
    ExecProbe* probe_ = nullptr;
};

}  // namespace cbtrade
