// pipeline/exec_stage: the trader and paper broker driven by ring B records: entries only with fit
// market data, no halt and no ring loss; stops on every price; metrics and notes for every fill. With
// the order journal: every paper order is journaled (intent, fill, books, end) so that the books
// recovered from the file are the trader's; a live order reaches the broker only once its intent is
// durable, under the client_order_id journaled for it; a broken journal stops every order.
#include "pipeline/exec_stage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "exec/journal.hpp"
#include "io/uring_loop.hpp"

namespace cbtrade {
namespace {

constexpr std::int64_t t0_ns = 1'700'000'000LL * 1'000'000'000;

struct Rig {
    Rig() : metrics(registry, BuildInfo{}), clock(TscClock::quick()) {
        stage = std::make_unique<ExecStage>(config, *in, notes.get(), metrics, clock, halted);
    }
    Config config;
    MetricsRegistry registry;
    BotMetrics metrics;
    TscClock clock;
    std::atomic<bool> halted{false};
    std::unique_ptr<PriceRing> in = std::make_unique<PriceRing>();
    std::unique_ptr<ExecNoteRing> notes = std::make_unique<ExecNoteRing>();
    std::unique_ptr<ExecStage> stage;

    void send(PriceRecord r) {
        ASSERT_TRUE(in->try_push(r));
        (void)stage->poll(0);
    }
    std::vector<ExecNote> drain_notes() {
        std::vector<ExecNote> out;
        ExecNote n;
        while (notes->try_pop(n)) out.push_back(n);
        return out;
    }
};

PriceRecord price(double p, std::int64_t offset_s, bool ok = true) {
    PriceRecord r{};
    r.exchange_time_ns = t0_ns + offset_s * 1'000'000'000;
    r.price = p;
    r.flags = price_flag_has_price | (ok ? price_flag_data_ok : 0);
    return r;
}

PriceRecord close_with(Signal s, double p, std::int64_t offset_s, bool ok = true) {
    PriceRecord r{};
    r.exchange_time_ns = t0_ns + offset_s * 1'000'000'000;
    r.price = p;
    r.flags = price_flag_candle_close | price_flag_has_decision | (ok ? price_flag_data_ok : 0);
    r.decision = Decision{r.exchange_time_ns / 1'000'000'000, p, s == Signal::buy ? 0.6 : 0.4, 1.0, s, 0};
    return r;
}

TEST(ExecStage, buy_decision_with_fit_data_fills_a_paper_entry_and_moves_metrics) {
    Rig rig;
    rig.send(price(100, 0));
    auto close = close_with(Signal::buy, 100, 60);
    close.receive_tsc = read_tsc();
    rig.send(close);
    EXPECT_GT(rig.stage->trader().position_qty(), 0);
    EXPECT_EQ(rig.metrics.orders(OrderMode::paper, OrderSideIndex::buy).value(), 1u);
    EXPECT_EQ(rig.metrics.orders(OrderMode::live, OrderSideIndex::buy).value(), 0u);
    EXPECT_GT(rig.metrics.position_base.value(), 0);
    EXPECT_EQ(rig.metrics.tick_to_decision.snapshot().count(), 1u);
    EXPECT_EQ(rig.metrics.stage_latency(StageLabel::exec).snapshot().count(), 2u);
    const auto notes = rig.drain_notes();
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_EQ(notes[0].kind, ExecNoteKind::decision);
    EXPECT_EQ(notes[0].entry_blocked, 0);
    EXPECT_EQ(notes[1].kind, ExecNoteKind::fill);
    EXPECT_EQ(notes[1].fill.side, Side::buy);
    EXPECT_EQ(notes[1].fill.reason, OrderReason::entry);
}

TEST(ExecStage, no_entry_while_market_data_is_unfit) {
    Rig rig;
    rig.send(price(100, 0, false));
    rig.send(close_with(Signal::buy, 100, 60, false));
    EXPECT_EQ(rig.stage->trader().position_qty(), 0);
    EXPECT_EQ(rig.metrics.entries_blocked(BlockReason::market_data).value(), 1u);
    // Blocked by the trader's gate: nothing reached the exec stage's own check (the fault campaign's
    // "entries while stale", which must stay 0).
    EXPECT_EQ(rig.metrics.entries_while_stale.value(), 0u);
    const auto notes = rig.drain_notes();
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].entry_blocked, 1);
    rig.send(close_with(Signal::buy, 100, 120));  // fit data again: the entry goes
    EXPECT_GT(rig.stage->trader().position_qty(), 0);
    EXPECT_EQ(rig.metrics.entries_while_stale.value(), 0u);
}

TEST(ExecStage, stops_act_on_every_price_even_with_unfit_data_or_halt) {
    Rig rig;
    rig.send(close_with(Signal::buy, 100, 60));
    ASSERT_GT(rig.stage->trader().position_qty(), 0);
    rig.halted.store(true);
    rig.send(price(99.95, 61, false));  // inside the 0.2% stop
    EXPECT_GT(rig.stage->trader().position_qty(), 0);
    rig.send(price(99.7, 62, false));  // through the stop
    EXPECT_EQ(rig.stage->trader().position_qty(), 0);
    EXPECT_EQ(rig.metrics.exits(ExitReason::stop_loss).value(), 1u);
    EXPECT_EQ(rig.metrics.orders(OrderMode::paper, OrderSideIndex::sell).value(), 1u);
    EXPECT_EQ(rig.metrics.trades.value(), 1u);
}

TEST(ExecStage, halt_blocks_entries_and_is_counted) {
    Rig rig;
    rig.halted.store(true);
    rig.send(close_with(Signal::buy, 100, 60));
    EXPECT_EQ(rig.stage->trader().position_qty(), 0);
    EXPECT_EQ(rig.metrics.entries_blocked(BlockReason::halt).value(), 1u);
    rig.halted.store(false);
    rig.send(close_with(Signal::buy, 100, 120));
    EXPECT_GT(rig.stage->trader().position_qty(), 0);
}

TEST(ExecStage, a_lost_ring_record_blocks_entries_through_the_next_candle_close) {
    Rig rig;
    auto lost = price(100, 10);
    lost.flags |= price_flag_lost_before;
    rig.send(lost);
    rig.send(close_with(Signal::buy, 100, 60));  // the close right after the loss: blocked
    EXPECT_EQ(rig.stage->trader().position_qty(), 0);
    EXPECT_EQ(rig.metrics.entries_blocked(BlockReason::market_data).value(), 1u);
    rig.send(close_with(Signal::buy, 100, 120));  // a whole candle after it: allowed
    EXPECT_GT(rig.stage->trader().position_qty(), 0);
}

// An upstream stage the test finishes by hand.
struct Upstream final : Stage {
    std::string_view name() const noexcept override { return "upstream"; }
    std::size_t poll(std::int64_t) noexcept override { return 0; }
};

TEST(ExecStage, drained_only_when_upstream_finished_and_ring_empty) {
    Rig rig;
    Upstream upstream;
    rig.stage->set_upstream(&upstream);
    EXPECT_FALSE(rig.stage->drained(0));
    upstream.mark_finished();
    ASSERT_TRUE(rig.in->try_push(price(100, 0)));
    EXPECT_FALSE(rig.stage->drained(0));
    (void)rig.stage->poll(0);
    EXPECT_TRUE(rig.stage->drained(0));
}

// ---- with a live broker: outcomes settle later -------------------------------------------------

// A broker whose orders settle when the test says so, with the outcome the test gives.
class ScriptedBroker final : public Broker {
public:
    bool live() const noexcept override { return true; }
    void use_client_order_id(const char* id) noexcept override { next_id_.assign(id, 36); }
    bool submit(const OrderRequest& o, double, std::int64_t, OrderOutcome&) noexcept override {
        submitted.push_back(o);
        ids.push_back(next_id_);
        busy_ = true;
        return false;
    }
    bool poll(std::int64_t, OrderOutcome& out) noexcept override {
        if (!ready_) return false;
        ready_ = false;
        busy_ = false;
        out = next_;
        return true;
    }
    bool busy() const noexcept override { return busy_; }
    bool take_ack(OrderOutcome& out) noexcept override {
        if (!ack_ready_) return false;
        ack_ready_ = false;
        out = ack_;
        return true;
    }
    // The exchange accepts the pending order under `order_id` (its outcome comes later).
    void accept(std::string_view order_id) {
        ack_ = OrderOutcome{};
        ack_.order_id_chars = static_cast<std::uint8_t>(order_id.size());
        std::copy(order_id.begin(), order_id.end(), ack_.order_id.begin());
        ack_ready_ = true;
    }
    std::size_t size_text(const OrderRequest& o, char* out) const noexcept override {
        const int n = std::snprintf(out, decimal_text_max_chars, "%.2f", o.qty * o.ref_price);
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    // The pending order ends with `qty` filled at `price` (0: nothing) and `error`; `order_id`: the
    // exchange's id when it accepted the order.
    void settle(double qty, double price, OrderError error = OrderError::none, std::string_view order_id = {}) {
        const OrderRequest& o = submitted.back();
        next_ = OrderOutcome{Fill{o.time_s, qty, price, qty * price * 0.006, o.side, o.reason}, error};
        next_.order_id_chars = static_cast<std::uint8_t>(order_id.size());
        std::copy(order_id.begin(), order_id.end(), next_.order_id.begin());
        ready_ = true;
    }
    std::vector<OrderRequest> submitted;
    std::vector<std::string> ids;  // the client_order_id each was given (the journal's)

private:
    std::string next_id_;
    OrderOutcome next_{};
    OrderOutcome ack_{};
    bool ack_ready_ = false;
    bool ready_ = false;
    bool busy_ = false;
};

struct LiveRig : Rig {
    LiveRig() {
        TraderParams p = TraderParams::from(config);
        p.order_min_usd = 1;
        stage = std::make_unique<ExecStage>(config, *in, notes.get(), metrics, clock, halted, &broker, p);
        stage->set_live_funds(&funds);
    }
    ScriptedBroker broker;
    LiveFunds funds;
    // What the exchange says now, tagged as read after every order settled so far.
    void refresh(double quote, double base) {
        funds.publish(AccountFunds{quote, base, stage->status().settled.load()});
    }
    std::int64_t now = 1'000'000'000;
    void send_at(PriceRecord r, std::int64_t dt_ns = 1'000'000) {
        ASSERT_TRUE(in->try_push(r));
        now += dt_ns;
        (void)stage->poll(now);
    }
    void tick(std::int64_t dt_ns = 1'000'000) {
        now += dt_ns;
        (void)stage->poll(now);
    }
};

TEST(ExecStageLive, nothing_else_is_sent_while_an_order_is_unsettled_and_its_fill_is_what_counts) {
    LiveRig rig;
    rig.send_at(close_with(Signal::buy, 100, 60));
    ASSERT_EQ(rig.broker.submitted.size(), 1u);
    EXPECT_EQ(rig.stage->trader().position_qty(), 0) << "nothing is filled before the exchange says so";
    EXPECT_TRUE(rig.stage->status().order_in_flight.load());
    // More signals and prices through the stop level: nothing is sent while the outcome is unknown.
    rig.send_at(close_with(Signal::buy, 100, 120));
    rig.send_at(price(50, 121));
    EXPECT_EQ(rig.broker.submitted.size(), 1u);
    // The exchange filled part of it, at its own price: the position and cash are that, not the paper model.
    const double asked = rig.broker.submitted[0].qty;
    rig.broker.settle(asked / 2, 101.5);
    rig.tick();
    EXPECT_DOUBLE_EQ(rig.stage->trader().position_qty(), asked / 2);
    EXPECT_DOUBLE_EQ(rig.stage->trader().entry_price(), 101.5);
    EXPECT_NEAR(rig.stage->trader().cash_usd(), 1000 - asked / 2 * 101.5 * 1.006, 1e-9);
    EXPECT_EQ(rig.metrics.orders(OrderMode::live, OrderSideIndex::buy).value(), 1u);
    EXPECT_EQ(rig.metrics.orders(OrderMode::paper, OrderSideIndex::buy).value(), 0u);
    EXPECT_FALSE(rig.stage->status().order_in_flight.load());
    const auto notes = rig.drain_notes();
    ASSERT_FALSE(notes.empty());
    EXPECT_EQ(notes.back().kind, ExecNoteKind::fill);
    EXPECT_DOUBLE_EQ(notes.back().fill.qty, asked / 2);
    // The stop is now measured from the real entry price: 101.5 * 0.998.
    rig.send_at(price(101.2, 180));
    ASSERT_EQ(rig.broker.submitted.size(), 2u);
    EXPECT_EQ(rig.broker.submitted[1].side, Side::sell);
    EXPECT_DOUBLE_EQ(rig.broker.submitted[1].qty, asked / 2);
}

TEST(ExecStageLive, insufficient_funds_is_counted_and_blocks_entries_until_equity_is_refreshed) {
    LiveRig rig;
    rig.send_at(close_with(Signal::buy, 100, 60));
    ASSERT_EQ(rig.broker.submitted.size(), 1u);
    rig.broker.settle(0, 0, OrderError::insufficient_funds);
    rig.tick();
    EXPECT_EQ(rig.stage->trader().position_qty(), 0);
    EXPECT_EQ(rig.metrics.order_errors(OrderError::insufficient_funds).value(), 1u);
    EXPECT_TRUE(rig.stage->status().funds_blocked.load());
    const auto notes = rig.drain_notes();
    ASSERT_FALSE(notes.empty());
    EXPECT_EQ(notes.back().kind, ExecNoteKind::order_error);
    EXPECT_EQ(notes.back().order_error, OrderError::insufficient_funds);
    // Long after the failure pause: entries stay blocked, counted under their own reason.
    rig.send_at(close_with(Signal::buy, 100, 120), 120'000'000'000);
    EXPECT_EQ(rig.broker.submitted.size(), 1u);
    EXPECT_EQ(rig.metrics.entries_blocked(BlockReason::funds).value(), 1u);
    // Balances read before the refusal settled do not count: still blocked.
    rig.funds.publish(AccountFunds{1000, 0, 0});
    rig.send_at(close_with(Signal::buy, 100, 150));
    EXPECT_EQ(rig.broker.submitted.size(), 1u);
    EXPECT_TRUE(rig.stage->status().funds_blocked.load());
    EXPECT_EQ(rig.stage->status().funds_skipped.load(), 1u);
    // Equity refreshed from the exchange after it: entries again.
    rig.refresh(1000, 0);
    rig.send_at(close_with(Signal::buy, 100, 180));
    EXPECT_EQ(rig.broker.submitted.size(), 2u);
    EXPECT_FALSE(rig.stage->status().funds_blocked.load());
}

TEST(ExecStageLive, failures_are_counted_by_reason_and_pause_orders_with_a_doubling_delay) {
    LiveRig rig;
    rig.send_at(close_with(Signal::buy, 100, 60));
    rig.broker.settle(0, 0, OrderError::unauthorized);
    rig.tick();
    EXPECT_EQ(rig.metrics.order_errors(OrderError::unauthorized).value(), 1u);
    rig.send_at(close_with(Signal::buy, 100, 120), 500'000'000);  // 0.5 s later: paused (1 s)
    EXPECT_EQ(rig.broker.submitted.size(), 1u);
    rig.send_at(close_with(Signal::buy, 100, 180), 600'000'000);  // 1.1 s later: allowed
    ASSERT_EQ(rig.broker.submitted.size(), 2u);
    rig.broker.settle(0, 0, OrderError::unauthorized);
    rig.tick();
    rig.send_at(close_with(Signal::buy, 100, 240), 1'500'000'000);  // 1.5 s: the pause is now 2 s
    EXPECT_EQ(rig.broker.submitted.size(), 2u);
    rig.send_at(close_with(Signal::buy, 100, 300), 600'000'000);
    ASSERT_EQ(rig.broker.submitted.size(), 3u);
    rig.broker.settle(rig.broker.submitted[2].qty, 100);  // a fill resets the pause
    rig.tick();
    EXPECT_EQ(rig.metrics.order_errors(OrderError::unauthorized).value(), 2u);
    EXPECT_EQ(rig.stage->status().order_errors.load(), 2u);
    EXPECT_GT(rig.stage->trader().position_qty(), 0);
}

TEST(ExecStageLive, halt_stops_entries_and_lets_exits_through) {
    LiveRig rig;
    rig.send_at(close_with(Signal::buy, 100, 60));
    rig.broker.settle(rig.broker.submitted[0].qty, 100);
    rig.tick();
    ASSERT_GT(rig.stage->trader().position_qty(), 0);
    rig.halted.store(true);
    rig.send_at(close_with(Signal::sell, 100, 120));  // the exit goes out while halted
    ASSERT_EQ(rig.broker.submitted.size(), 2u);
    EXPECT_EQ(rig.broker.submitted[1].side, Side::sell);
    rig.broker.settle(rig.broker.submitted[1].qty, 100);
    rig.tick();
    EXPECT_EQ(rig.stage->trader().position_qty(), 0);
    rig.send_at(close_with(Signal::buy, 100, 180));  // no new entry while halted
    EXPECT_EQ(rig.broker.submitted.size(), 2u);
    EXPECT_EQ(rig.metrics.entries_blocked(BlockReason::halt).value(), 1u);
}

TEST(ExecStageLive, not_drained_while_an_order_is_in_flight) {
    LiveRig rig;
    Upstream done;
    done.mark_finished();
    rig.stage->set_upstream(&done);
    rig.send_at(close_with(Signal::buy, 100, 60));
    EXPECT_FALSE(rig.stage->drained(0));
    rig.broker.settle(rig.broker.submitted[0].qty, 100);
    rig.tick();
    EXPECT_TRUE(rig.stage->drained(0));
}

// ---- live equity (USE_LIVE_EQUITY=true): the exchange's balances through LiveFunds -------------

TEST(ExecStageLiveFunds, the_balances_replace_cash_and_other_base_counts_in_equity_but_is_never_sold) {
    LiveRig rig;
    // The account: 2000 USD available and 0.5 BTC the daemon did not buy.
    rig.refresh(2000, 0.5);
    rig.send_at(price(100, 1));
    EXPECT_DOUBLE_EQ(rig.stage->trader().cash_usd(), 2000);
    EXPECT_DOUBLE_EQ(rig.stage->trader().other_base_qty(), 0.5);
    EXPECT_DOUBLE_EQ(rig.metrics.equity_usd.value(), 2050) << "bot_equity_usd: USD + all base at the price";
    EXPECT_EQ(rig.stage->status().funds_applied.load(), 1u);
    // Sizing reads the live equity: RISK_PER_TRADE_PCT 1% of 2050 at 100 = 0.205 BTC.
    rig.send_at(close_with(Signal::buy, 100, 60));
    ASSERT_EQ(rig.broker.submitted.size(), 1u);
    EXPECT_NEAR(rig.broker.submitted[0].qty, 0.205, 1e-8);
    rig.broker.settle(0.2, 100);
    rig.tick();
    // The exchange now holds 0.7 BTC: 0.2 of them the trader's, 0.5 not.
    rig.refresh(2000 - 20 - 0.12, 0.7);
    rig.tick();
    EXPECT_DOUBLE_EQ(rig.stage->trader().other_base_qty(), 0.5);
    EXPECT_DOUBLE_EQ(rig.stage->trader().position_qty(), 0.2);
    // The exit sells what the trader bought, never the other 0.5.
    rig.send_at(close_with(Signal::sell, 101, 120));
    ASSERT_EQ(rig.broker.submitted.size(), 2u);
    EXPECT_EQ(rig.broker.submitted[1].side, Side::sell);
    EXPECT_DOUBLE_EQ(rig.broker.submitted[1].qty, 0.2);
    rig.broker.settle(0.2, 101);
    rig.tick();
    EXPECT_EQ(rig.stage->trader().position_qty(), 0);
    // Flat with 0.5 BTC in the account: no signal sells it (long only: a sell from flat is blocked).
    rig.refresh(2000 + 0.2 - 0.24, 0.5);
    rig.send_at(close_with(Signal::sell, 101, 180));
    EXPECT_EQ(rig.broker.submitted.size(), 2u);
    EXPECT_FALSE(rig.stage->status().base_short.load());
}

TEST(ExecStageLiveFunds, balances_are_not_applied_over_an_order_in_flight_or_one_that_settled_during_the_read) {
    LiveRig rig;
    rig.refresh(1000, 0);
    rig.send_at(price(100, 1));
    rig.send_at(close_with(Signal::buy, 100, 60));
    ASSERT_EQ(rig.broker.submitted.size(), 1u);
    // In flight: a snapshot now is skipped (the exchange may or may not have moved the money yet).
    rig.refresh(500, 0);
    rig.tick();
    EXPECT_EQ(rig.stage->status().funds_skipped.load(), 1u);
    EXPECT_DOUBLE_EQ(rig.stage->trader().cash_usd(), 1000);
    // Read before the fill, published after it: skipped too; the fill's cash stands.
    const std::uint64_t before = rig.stage->status().settled.load();
    rig.broker.settle(0.1, 100);
    rig.tick();
    const double after_fill = rig.stage->trader().cash_usd();
    EXPECT_NEAR(after_fill, 1000 - 10 - 0.06, 1e-9);
    rig.funds.publish(AccountFunds{1000, 0, before});
    rig.tick();
    EXPECT_EQ(rig.stage->status().funds_skipped.load(), 2u);
    EXPECT_DOUBLE_EQ(rig.stage->trader().cash_usd(), after_fill);
    // Read after it: applied.
    rig.refresh(989.9, 0.1);
    rig.tick();
    EXPECT_DOUBLE_EQ(rig.stage->trader().cash_usd(), 989.9);
    EXPECT_DOUBLE_EQ(rig.stage->trader().other_base_qty(), 0);
}

TEST(ExecStageLiveFunds, less_base_than_the_position_is_flagged) {
    LiveRig rig;
    rig.refresh(1000, 0);
    rig.send_at(price(100, 1));
    rig.send_at(close_with(Signal::buy, 100, 60));
    rig.broker.settle(0.1, 100);
    rig.tick();
    rig.refresh(990, 0.04);  // someone moved 0.06 BTC out
    rig.tick();
    EXPECT_TRUE(rig.stage->status().base_short.load());
    EXPECT_DOUBLE_EQ(rig.stage->trader().other_base_qty(), 0);
}

TEST(ExecStageLiveFunds, a_price_move_of_holdings_it_did_not_buy_never_trips_the_breaker) {
    LiveRig rig;
    rig.refresh(1000, 10);  // 10 BTC not the daemon's, 1000 USD
    rig.send_at(price(100, 1));
    rig.send_at(price(50, 2));  // the holdings lose 500 USD: far beyond MAX_DAILY_LOSS_PCT of any equity
    EXPECT_FALSE(rig.stage->trader().breaker_tripped());
    EXPECT_DOUBLE_EQ(rig.metrics.equity_usd.value(), 1500);
    EXPECT_DOUBLE_EQ(rig.metrics.daily_pnl_usd.value(), 0) << "the day's P&L is the daemon's own book";
}

TEST(ExecStageNotices, fills_order_errors_and_a_breaker_trip_are_pushed_for_notifications) {
    LiveRig rig;
    auto ring = std::make_unique<NoticeRing>();
    rig.stage->set_notices(ring.get());
    rig.send_at(close_with(Signal::buy, 100, 60));
    rig.broker.settle(0, 0, OrderError::rejected);
    rig.tick();
    rig.send_at(close_with(Signal::buy, 100, 120), 2'000'000'000);
    rig.broker.settle(1.0, 100);  // the exchange filled 1 BTC: 100 USD at stake
    rig.tick();
    // The day's first price, then a crash through the stop and far beyond the daily-loss limit.
    rig.send_at(price(100, 125));
    rig.send_at(price(10, 130));
    std::vector<Notice> got;
    Notice n;
    while (ring->try_pop(n)) got.push_back(n);
    ASSERT_GE(got.size(), 3u);
    EXPECT_EQ(got[0].kind, NoticeKind::order_error);
    EXPECT_EQ(got[0].order_error, OrderError::rejected);
    EXPECT_EQ(got[1].kind, NoticeKind::fill);
    EXPECT_EQ(got[1].fill.reason, OrderReason::entry);
    EXPECT_DOUBLE_EQ(got[1].fill.price, 100);
    bool breaker = false;
    for (const Notice& x : got) breaker = breaker || x.kind == NoticeKind::breaker;
    EXPECT_TRUE(breaker) << "the breaker trip is announced";
}

struct JournalRig : Rig {  // Rig with a journal in a fresh directory
    explicit JournalRig(Broker* broker = nullptr) {
        char tmpl[] = "/tmp/cbtrade_exec_journal_XXXXXX";
        EXPECT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        EXPECT_EQ(loop.init(), 0);
        params = TraderParams::from(config);
        params.order_min_usd = 1;
        stage = std::make_unique<ExecStage>(config, *in, notes.get(), metrics, clock, halted, broker, params);
        const journal::Recovered r = journal::recover(dir, config.product_id, params);
        writer = std::make_unique<journal::Writer>(loop);
        writer->open(dir, r, config.product_id, stage->trader().books(), 1'700'000'000);
        stage->set_journal(writer.get(), &loop);
    }
    ~JournalRig() {
        stage.reset();
        writer.reset();
        std::filesystem::remove_all(dir);
    }
    journal::Recovered close_and_recover() {
        EXPECT_TRUE(writer->close());
        return journal::recover(dir, config.product_id, params);
    }
    void send(PriceRecord r) {  // at a moving time (Rig::send polls at 0)
        ASSERT_TRUE(in->try_push(r));
        tick();
    }
    void tick() {
        now += 1'000'000;
        (void)stage->poll(now);
    }
    // Polls until `done` (the journal's writes complete in the kernel: a bounded wait, not a timing).
    template <class Done>
    bool poll_until(Done done) {
        for (int i = 0; i < 20000 && !done(); ++i) {
            (void)loop.wait(1'000'000);
            tick();
        }
        return done();
    }

    std::string dir;
    TraderParams params;
    io::UringLoop loop;
    std::unique_ptr<journal::Writer> writer;
    std::int64_t now = 1'000'000'000;
};

// The journal stores the books as they are: what comes back is bit for bit the trader's.
void expect_same_books(const TraderBooks& a, const TraderBooks& b) {
    EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0)
        << "position " << a.position_qty << " vs " << b.position_qty << ", cash " << a.cash_usd << " vs " << b.cash_usd;
}

TEST(ExecStageJournal, paper_fills_are_journaled_and_the_recovered_books_are_the_traders) {
    JournalRig rig;
    // Round trips: entries on buy signals, exits by stop loss and by signal; one left open.
    std::int64_t t = 0;
    for (int k = 0; k < 3; ++k) {
        rig.send(close_with(Signal::buy, 100, t += 60));
        ASSERT_GT(rig.stage->trader().position_qty(), 0);
        rig.send(price(k % 2 == 0 ? 99.0 : 100.5, t += 1));  // 0.2% stop, or nothing
        if (k % 2 == 1) rig.send(close_with(Signal::sell, 100.4, t += 60));
        EXPECT_EQ(rig.stage->trader().position_qty(), 0);
    }
    rig.send(close_with(Signal::buy, 101, t += 60));
    ASSERT_GT(rig.stage->trader().position_qty(), 0);
    const std::uint64_t fills = rig.stage->status().fills.load();
    EXPECT_EQ(fills, 7u);
    const TraderBooks books = rig.stage->trader().books();
    const journal::Recovered r = rig.close_and_recover();
    ASSERT_TRUE(r.found);
    ASSERT_TRUE(r.books);
    expect_same_books(*r.books, books);
    EXPECT_TRUE(r.open_orders.empty()) << "every paper order was ended";
    EXPECT_EQ(r.orders_seen, fills);
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_EQ(rig.metrics.journal_failures.value(), 0u);
}

TEST(ExecStageJournal, restored_books_carry_on_where_the_journal_stopped) {
    TraderBooks books;
    std::uint64_t fills = 0;
    {
        JournalRig first;
        first.send(close_with(Signal::buy, 100, 60));
        books = first.stage->trader().books();
        ASSERT_GT(books.position_qty, 0);
        const journal::Recovered r = first.close_and_recover();
        ASSERT_TRUE(r.books);
        // A second stage on the same books: the position is there, and its stop works.
        ExecStage again(first.config, *first.in, nullptr, first.metrics, first.clock, first.halted, nullptr,
                        first.params);
        again.restore(*r.books, false);
        expect_same_books(again.trader().books(), books);
        ASSERT_TRUE(first.in->try_push(price(99, 61)));
        (void)again.poll(2'000'000'000);
        EXPECT_EQ(again.trader().position_qty(), 0) << "the restored stop level was acted on";
        fills = again.status().fills.load();
    }
    EXPECT_EQ(fills, 1u);
}

TEST(ExecStageJournal, halt_day_start_and_breaker_changes_are_journaled) {
    JournalRig rig;
    rig.send(price(100, 0));
    rig.halted.store(true);
    rig.send(price(100, 1));
    journal::Recovered r = rig.close_and_recover();
    EXPECT_TRUE(r.halted);
    ASSERT_TRUE(r.books);
    EXPECT_EQ(r.books->day_start_s, rig.stage->trader().books().day_start_s) << "the day start was journaled";
    EXPECT_NE(r.books->day_start_s, TraderBooks{}.day_start_s);
}

TEST(ExecStageJournal, a_live_order_is_sent_only_once_its_intent_is_durable_under_the_journaled_id) {
    ScriptedBroker broker;
    JournalRig rig(&broker);
    ASSERT_TRUE(rig.in->try_push(close_with(Signal::buy, 100, 60)));
    (void)rig.stage->poll(rig.now);  // the decision: intent staged, nothing sent in this poll
    EXPECT_TRUE(broker.submitted.empty()) << "sent before its intent was durable";
    EXPECT_TRUE(rig.stage->status().order_in_flight.load());
    EXPECT_FALSE(rig.stage->drained(0));
    ASSERT_TRUE(rig.poll_until([&] { return !broker.submitted.empty(); })) << "the intent never became durable";
    ASSERT_EQ(broker.ids.size(), 1u);
    EXPECT_EQ(rig.stage->status().orders_waiting_for_journal.load(), 1u);
    // What a crash now would leave: an open order under the id the broker sends.
    const journal::Recovered open = journal::recover(rig.dir, rig.config.product_id, rig.params);
    ASSERT_EQ(open.open_orders.size(), 1u);
    EXPECT_EQ(std::string(open.open_orders[0].intent.client_order_id.data(), 36), broker.ids[0]);
    EXPECT_EQ(open.open_orders[0].intent.live, 1);
    broker.settle(broker.submitted[0].qty, 101);
    rig.tick();
    EXPECT_GT(rig.stage->trader().position_qty(), 0);
    const TraderBooks books = rig.stage->trader().books();
    const journal::Recovered r = rig.close_and_recover();
    EXPECT_TRUE(r.open_orders.empty());
    ASSERT_TRUE(r.books);
    expect_same_books(*r.books, books);
}

TEST(ExecStageJournal, a_refused_live_order_is_ended_without_a_fill) {
    ScriptedBroker broker;
    JournalRig rig(&broker);
    rig.send(close_with(Signal::buy, 100, 60));
    ASSERT_TRUE(rig.poll_until([&] { return !broker.submitted.empty(); }));
    broker.settle(0, 0, OrderError::rejected);
    rig.tick();
    EXPECT_EQ(rig.stage->trader().position_qty(), 0);
    const journal::Recovered r = rig.close_and_recover();
    EXPECT_TRUE(r.open_orders.empty());
    ASSERT_TRUE(r.books);
    EXPECT_DOUBLE_EQ(r.books->position_qty, 0);
    EXPECT_DOUBLE_EQ(r.books->cash_usd, rig.stage->trader().cash_usd());
}

// Every record of the journal's (one) segment, in order.
std::vector<std::pair<journal::RecordType, std::vector<std::byte>>> journal_records(const std::string& dir) {
    std::ifstream in(dir + "/" + journal::segment_file_name(1), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::pair<journal::RecordType, std::vector<std::byte>>> out;
    (void)journal::scan(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())),
                        [&](const journal::RecordView& r) {
                            out.emplace_back(r.type, std::vector<std::byte>(r.payload.begin(), r.payload.end()));
                        });
    return out;
}

template <class Payload>
Payload payload_of(const std::vector<std::byte>& bytes) {
    Payload p;
    EXPECT_EQ(bytes.size(), sizeof p);
    std::memcpy(&p, bytes.data(), sizeof p);
    return p;
}

TEST(ExecStageJournal, a_live_order_journals_its_size_text_and_the_exchanges_ack_before_its_fill) {
    ScriptedBroker broker;
    JournalRig rig(&broker);
    rig.send(close_with(Signal::buy, 100, 60));
    ASSERT_TRUE(rig.poll_until([&] { return !broker.submitted.empty(); }));
    const std::string sent_size = [&] {
        char text[decimal_text_max_chars];
        return std::string(text, broker.size_text(broker.submitted[0], text));
    }();
    broker.settle(broker.submitted[0].qty, 101, OrderError::none, "5e1f0000-0000-4000-8000-000000000001");
    rig.tick();
    // A second order, refused by the exchange: its ack says so.
    rig.send(close_with(Signal::sell, 101, 120));
    ASSERT_TRUE(rig.poll_until([&] { return broker.submitted.size() == 2; }));
    broker.settle(0, 0, OrderError::insufficient_funds);
    rig.tick();
    ASSERT_TRUE(rig.writer->close());
    std::vector<journal::RecordType> types;
    std::vector<journal::OrderAck> acks;
    for (const auto& [type, payload] : journal_records(rig.dir)) {
        types.push_back(type);
        if (type == journal::RecordType::order_intent) {
            const auto i = payload_of<journal::OrderIntent>(payload);
            if (types.size() < 5) {
                EXPECT_EQ(std::string(i.size.data(), i.size_chars), sent_size);
            }
            EXPECT_GT(i.size_chars, 0);
        }
        if (type == journal::RecordType::order_ack) acks.push_back(payload_of<journal::OrderAck>(payload));
    }
    using T = journal::RecordType;
    const std::vector<T> want = {T::segment_start, T::books,     T::order_intent, T::order_ack, T::order_fill,
                                 T::books,         T::order_end, T::order_intent, T::order_ack, T::order_end};
    EXPECT_EQ(types, want);
    ASSERT_EQ(acks.size(), 2u);
    EXPECT_EQ(acks[0].accepted, 1);
    EXPECT_EQ(std::string(acks[0].order_id.data(), acks[0].order_id_chars), "5e1f0000-0000-4000-8000-000000000001");
    EXPECT_EQ(std::string(acks[0].client_order_id.data(), 36), broker.ids[0]);
    EXPECT_EQ(acks[1].accepted, 0);
    EXPECT_EQ(acks[1].error, OrderError::insufficient_funds);
    EXPECT_EQ(acks[1].order_id_chars, 0);
}

TEST(ExecStageJournal, the_exchanges_acceptance_is_journaled_when_it_comes_and_once) {
    ScriptedBroker broker;
    JournalRig rig(&broker);
    rig.send(close_with(Signal::buy, 100, 60));
    ASSERT_TRUE(rig.poll_until([&] { return !broker.submitted.empty(); }));
    broker.accept("5e1f0000-0000-4000-8000-000000000007");
    rig.tick();
    // What a crash now would leave: the order open, with the exchange's order_id already on record.
    std::optional<journal::OrderAck> ack;
    ASSERT_TRUE(rig.poll_until([&] {
        try {
            const journal::Recovered open = journal::recover(rig.dir, rig.config.product_id, rig.params);
            if (open.open_orders.size() == 1 && open.open_orders[0].ack) ack = open.open_orders[0].ack;
        } catch (const std::exception&) {  // the record landed while the file was read: read it again
        }
        return ack.has_value();
    })) << "the acceptance is not in the journal before the fill";
    const journal::OrderAck& a = *ack;
    EXPECT_EQ(a.accepted, 1);
    EXPECT_EQ(std::string(a.order_id.data(), a.order_id_chars), "5e1f0000-0000-4000-8000-000000000007");
    broker.settle(broker.submitted[0].qty, 101, OrderError::none, "5e1f0000-0000-4000-8000-000000000007");
    rig.tick();
    ASSERT_TRUE(rig.writer->close());
    std::vector<journal::RecordType> types;
    for (const auto& [type, payload] : journal_records(rig.dir)) types.push_back(type);
    using T = journal::RecordType;
    const std::vector<T> want = {T::segment_start, T::books, T::order_intent, T::order_ack,
                                 T::order_fill,    T::books, T::order_end};
    EXPECT_EQ(types, want) << "one order_ack, ahead of the fill";
}

TEST(ExecStageJournal, a_broken_journal_stops_every_order_and_is_counted) {
    ScriptedBroker broker;
    JournalRig rig(&broker);
    ASSERT_TRUE(rig.writer->close());  // no record can be staged any more
    rig.send(close_with(Signal::buy, 100, 60));
    for (int i = 0; i < 10; ++i) rig.tick();
    EXPECT_TRUE(broker.submitted.empty()) << "an order left without a journaled intent";
    EXPECT_EQ(rig.stage->trader().position_qty(), 0);
    EXPECT_EQ(rig.metrics.journal_failures.value(), 1u);
    EXPECT_NE(rig.stage->status().journal_error.load(), 0);
    rig.send(close_with(Signal::buy, 100, 120));
    EXPECT_TRUE(broker.submitted.empty());
    EXPECT_EQ(rig.metrics.journal_failures.value(), 1u) << "counted once";
}

}  // namespace
}  // namespace cbtrade
