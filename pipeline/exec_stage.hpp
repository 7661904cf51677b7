// pipeline/exec_stage: the Trader and a Broker driven by ring B (issue 10 item 6, issue 12 item 1).
// Every price marks the position (stops, takes, the daily-loss breaker); a Decision is acted on
// under every gate: no entry while market data is unfit (stale, a fresh gap, a lost record, not yet
// fresh after a reconnect: the signal stage's data_ok flag), after a record was lost on ring B
// itself, while the operator's halt is on, or after the exchange said INSUFFICIENT_FUND (until
// equity is refreshed). The broker is the PaperBroker (fills at once) unless a live one is given
// (exec/broker.hpp): then an order settles later, from the broker's poll(), and until it has the
// trader asks for nothing else. A failed order pauses orders for 1 s, doubling up to 60 s while
// they keep failing, so a refusal that persists (a revoked key) is not repeated at every price.
// With live equity (USE_LIVE_EQUITY=true) the exchange's balances come through a LiveFunds
// seqlock (exec/live_funds.hpp): applied between orders only, they replace the trader's cash.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "core/bot_metrics.hpp"
#include "core/config.hpp"
#include "core/cpu.hpp"
#include "core/stage_runner.hpp"
#include "exec/broker.hpp"
#include "exec/live_funds.hpp"
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
    // broker: null for the paper broker (FEE_BPS, SLIPPAGE_BPS); a live one must outlive the stage.
    // trader: the trader's parameters (default: TraderParams::from(c); live: the product's
    // increments and minimums).
    ExecStage(const Config& c, PriceRing& in, ExecNoteRing* notes, BotMetrics& metrics, const TscClock& clock,
              const std::atomic<bool>& halted, Broker* broker = nullptr,
              const std::optional<TraderParams>& trader = std::nullopt);

    std::string_view name() const noexcept override { return "exec"; }
    std::size_t poll(std::int64_t now_ns) noexcept override;
    // An order in flight is waited for (within the runner's drain timeout): its fill belongs to the run.
    bool drained(std::int64_t) const noexcept override { return upstream_finished() && in_.empty() && !awaiting_; }

    // Exec thread (or after the runner stopped): the trader's state for the summary.
    [[nodiscard]] const Trader& trader() const noexcept { return trader_; }
    [[nodiscard]] double last_price() const noexcept { return last_price_; }
    // Cold, before the runner starts.
    void set_probe(ExecProbe* probe) noexcept { probe_ = probe; }
    // Cold, before the runner starts: the account's balances as the exchange reports them (live
    // equity, issue 12 item 3). A snapshot is applied at a poll when no order is in flight and none
    // settled since the accounts were asked for (AccountFunds::settled; else it is skipped and
    // counted in Status::funds_skipped); applying one lifts the INSUFFICIENT_FUND entry block.
    void set_live_funds(const LiveFunds* funds) noexcept { live_funds_ = funds; }
    // Cold, before the runner starts: where fills, order errors and breaker trips are pushed for
    // notifications (SLACK_WEBHOOK); null: none. A full ring drops (counted by the ring).
    void set_notices(NoticeRing* notices) noexcept { notices_ = notices; }
    [[nodiscard]] bool live() const noexcept { return broker_->live(); }

    // Written by the exec thread, read by the ops thread (relaxed: independent status values).
    struct Status {
        std::atomic<double> equity_usd{0};
        std::atomic<double> position_base{0};
        std::atomic<std::uint64_t> records{0};
        std::atomic<std::uint64_t> fills{0};
        std::atomic<std::uint64_t> round_trips{0};
        std::atomic<std::uint64_t> order_errors{0};
        std::atomic<bool> order_in_flight{false};  // submitted, not settled (live)
        std::atomic<bool> funds_blocked{false};
        // Orders settled (filled, partly filled or failed): the tag of a live-funds snapshot.
        std::atomic<std::uint64_t> settled{0};
        std::atomic<std::uint64_t> funds_applied{0};  // live-funds snapshots applied
        std::atomic<std::uint64_t> funds_skipped{0};  // ... skipped (an order settled during the read)
        // The exchange held less base than the trader's own position at the last snapshot (someone
        // moved it): exits will be refused for INSUFFICIENT_FUND; the ops side reports it.
        std::atomic<bool> base_short{false};
    };
    [[nodiscard]] const Status& status() const noexcept { return status_; }

private:
    void handle(const PriceRecord& r) noexcept;
    void execute(const OrderRequest& req, double market_price) noexcept;
    void settle(const OrderRequest& req, const OrderOutcome& o) noexcept;
    void publish_blocked() noexcept;
    void apply_funds(const AccountFunds& f) noexcept;
    void note(const ExecNote& n) noexcept;
    void notice(NoticeKind kind, const Fill& f, OrderError e, double equity) noexcept;

    PriceRing& in_;
    ExecNoteRing* notes_;
    BotMetrics& metrics_;
    const TscClock& clock_;
    const std::atomic<bool>& halted_;
    Trader trader_;
    PaperBroker paper_;
    Broker* broker_;              // &paper_ unless a live broker was given
    TraderCounters published_{};  // counters already added to the metrics
    std::int64_t now_ns_ = 0;     // the current poll's time (orders are stamped with it)
    OrderRequest in_flight_{};    // the order the broker has not settled yet (awaiting_)
    bool awaiting_ = false;
    std::int64_t orders_paused_until_ns_ = 0;  // after a failed order (see the header comment)
    std::int64_t order_pause_ns_ = 0;
    NoticeRing* notices_ = nullptr;
    bool breaker_noticed_ = false;
    const LiveFunds* live_funds_ = nullptr;
    std::uint64_t live_funds_seen_ = 0;
    bool lost_block_ = false;  // a ring B record was lost: no entry until the next candle close
    double last_price_ = 0;
    Status status_;
    ExecProbe* probe_ = nullptr;
};

}  // namespace cbtrade
