// pipeline/exec_stage: the trader and paper broker driven by ring B records: entries only with fit
// market data, no halt and no ring loss; stops on every price; metrics and notes for every fill.
#include "pipeline/exec_stage.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "core/metrics.hpp"

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
    const auto notes = rig.drain_notes();
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].entry_blocked, 1);
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

TEST(ExecStage, drained_only_when_upstream_finished_and_ring_empty) {
    Rig rig;
    struct Done final : Stage {
        std::string_view name() const noexcept override { return "done"; }
        std::size_t poll(std::int64_t) noexcept override { return 0; }
    } upstream;
    rig.stage->set_upstream(&upstream);
    EXPECT_FALSE(rig.stage->drained(0));
    upstream.mark_finished();
    ASSERT_TRUE(rig.in->try_push(price(100, 0)));
    EXPECT_FALSE(rig.stage->drained(0));
    (void)rig.stage->poll(0);
    EXPECT_TRUE(rig.stage->drained(0));
}

}  // namespace
}  // namespace cbtrade
