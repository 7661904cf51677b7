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
//
// With the order journal (exec/journal.hpp, set_journal) every order gets a client_order_id and an
// order_intent record first; a live order is handed to the broker only once that intent is durable
// (checked on later polls, never waited for); its fill, the books and its order_end follow when it
// settles (paper: at once). Day starts, breaker trips and the halt are journaled as they change. A
// record that cannot be staged, or a journal file that failed, stops every order for good (DESIGN.md
// section 5: no order leaves unjournaled): counted in bot_journal_failures_total and shown in
// Status::journal_error for the ops thread to say.
#pragma once

#include <array>

#include <atomic>
#include <cstdint>
#include <optional>

#include "core/bot_metrics.hpp"
#include "core/config.hpp"
#include "core/cpu.hpp"
#include "core/random.hpp"
#include "core/stage_runner.hpp"
#include "exec/broker.hpp"
#include "exec/live_funds.hpp"
#include "exec/trader.hpp"
#include "pipeline/rings.hpp"

namespace cbtrade {

namespace io {
class UringLoop;
}
namespace journal {
class Writer;
}

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
    bool drained(std::int64_t) const noexcept override {
        return upstream_finished() && in_.empty() && !awaiting_ && !send_waiting_;
    }

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
    // Cold, before the runner starts: the books a restart recovered from the journal.
    void restore(const TraderBooks& books, bool halted) noexcept;
    // Cold, before the runner starts: the opened order journal and the io_uring loop it writes
    // through, which this stage polls from then on (on the exec thread). Null: no journal (tests,
    // replay). The caller closes the writer after the runner stopped.
    void set_journal(journal::Writer* writer, io::UringLoop* loop) noexcept;
    [[nodiscard]] bool live() const noexcept { return broker_->live(); }
    // TEST ONLY, cold, before the runner starts (scripts/kill_campaign.sh through
    // CBTRADE_TEST_CRASH=after_intent:N): the exec thread raises SIGKILL when the n-th order's intent
    // is durable and the order is about to go to the broker, the instant a crash must leave an intent
    // without an order. 0 (the default): never. Costs a predicted branch on a plain member per order
    // sent, nothing per price.
    void set_test_crash_after_intent(std::uint64_t n) noexcept { test_crash_after_intent_ = n; }
    // Cold, before the runner starts: no order at all from now on, entries or exits (a live start
    // whose reconciliation found a difference nobody accepted yet; exec/reconcile.hpp). Each order
    // the trader asks for is counted in Status::orders_held and not sent.
    void hold_orders() noexcept { orders_held_ = true; }

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
        // 0, or why the journal stopped taking records (a negative errno, or 1: a record could not
        // be staged): no order is sent any more.
        std::atomic<int> journal_error{0};
        std::atomic<std::uint64_t> orders_waiting_for_journal{0};  // live orders held until their intent was durable
        std::atomic<std::uint64_t> orders_held{0};                 // orders not sent: hold_orders() (reconciliation)
    };
    [[nodiscard]] const Status& status() const noexcept { return status_; }

private:
    void handle(const PriceRecord& r) noexcept;
    void execute(const OrderRequest& req, double market_price) noexcept;
    void settle(const OrderRequest& req, const OrderOutcome& o) noexcept;
    void publish_blocked() noexcept;
    void apply_funds(const AccountFunds& f) noexcept;
    void note(const ExecNote& n) noexcept;
    // The journal (all no-ops without one). false: the journal is broken (journal_failed()).
    bool journal_intent(const OrderRequest& req) noexcept;
    void journal_settled(const OrderRequest& req, const OrderOutcome& o) noexcept;
    // The exchange's answer for the order in flight: accepted under order_id (the first answer, or
    // with the outcome), or refused with `error`. Once per order.
    void journal_ack(const OrderOutcome& o, OrderError error) noexcept;
    void journal_state(std::int64_t time_s) noexcept;  // day start, breaker, halt when they changed
    void journal_failed(int error) noexcept;
    void journal_turn() noexcept;  // once per poll: writes, the wait for a durable intent, rotation
    void send(const OrderRequest& req, double market_price) noexcept;
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
    bool ack_journaled_ = false;               // the order in flight's order_ack is written
    std::int64_t orders_paused_until_ns_ = 0;  // after a failed order (see the header comment)
    std::int64_t order_pause_ns_ = 0;
    NoticeRing* notices_ = nullptr;
    bool breaker_noticed_ = false;
    const LiveFunds* live_funds_ = nullptr;
    std::uint64_t live_funds_seen_ = 0;
    bool lost_block_ = false;      // a ring B record was lost: no entry until the next candle close
    bool record_data_ok_ = false;  // the record being handled carries fit market data (and no loss)
    double last_price_ = 0;
    Status status_;
    ExecProbe* probe_ = nullptr;
    journal::Writer* journal_ = nullptr;
    io::UringLoop* journal_loop_ = nullptr;
    bool journal_broken_ = false;
    bool orders_held_ = false;
    SplitMix64 ids_high_;  // client_order_ids (seeded with entropy at construction)
    SplitMix64 ids_low_;
    std::array<char, 36> order_id_{};  // the current order's client_order_id
    bool send_waiting_ = false;        // a live order waits for its intent to be durable
    std::uint64_t send_target_ = 0;
    OrderRequest send_req_{};
    double send_market_price_ = 0;
    std::int64_t journaled_day_start_s_ = 0;
    std::uint8_t journaled_breaker_ = 0;
    bool journaled_halt_ = false;
    std::int64_t last_time_s_ = 0;
    std::uint64_t test_crash_after_intent_ = 0;  // set_test_crash_after_intent
    std::uint64_t orders_sent_ = 0;              // counted only while it is set
};

}  // namespace cbtrade
