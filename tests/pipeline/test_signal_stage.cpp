// pipeline/signal_stage: candles from trades and from the clock, a decision per close, one price
// record per accepted trade, and the data_ok judgement (fresh, gaps, ring losses, history join).
#include "pipeline/signal_stage.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "core/metrics.hpp"
#include "pipeline/trainer.hpp"
#include "tests/pipeline/scripted_source.hpp"

namespace cbtrade {
namespace {

using testing::clock_event;
using testing::status_event;
using testing::trade_event;

struct Rig {
    explicit Rig(Config c = Config{}) : config(std::move(c)), metrics(registry, BuildInfo{}), clock(TscClock::quick()) {
        const testing::Market m = testing::make_market(400, 0);
        history = m.history;
        ModelTrainer trainer(config, 2000);
        for (const Candle& h : history) trainer.add(h);
        models.publish(*trainer.fit(trainer.candles_seen(), 1440), trainer.candles_seen());
        SignalStageOptions o;
        o.history = history;
        stage = std::make_unique<SignalStage>(config, o, *in, *out, notes.get(), nullptr, models, metrics, clock);
        next_s = history.back().time_s + 60;
        price = history.back().close;
    }
    Config config;
    MetricsRegistry registry;
    BotMetrics metrics;
    TscClock clock;
    std::vector<Candle> history;
    ModelSlot models;
    std::unique_ptr<MarketRing> in = std::make_unique<MarketRing>();
    std::unique_ptr<PriceRing> out = std::make_unique<PriceRing>();
    std::unique_ptr<SignalNoteRing> notes = std::make_unique<SignalNoteRing>();
    std::unique_ptr<SignalStage> stage;
    std::int64_t next_s;  // start of the next live interval
    double price;
    std::uint64_t id = 1;

    std::vector<PriceRecord> send(MarketEvent e) {
        EXPECT_TRUE(in->try_push(e));
        (void)stage->poll(0);
        std::vector<PriceRecord> got;
        PriceRecord r;
        while (out->try_pop(r)) got.push_back(r);
        return got;
    }
    // A trade `offset_s` into the live interval k.
    std::vector<PriceRecord> trade(int k, int offset_s, double p) {
        return send(trade_event((next_s + 60 * k + offset_s) * 1'000'000'000LL, p, 0.5, ++id));
    }
};

TEST(SignalStage, every_trade_becomes_one_price_record_and_a_close_carries_the_decision) {
    Rig rig;
    EXPECT_EQ(rig.stage->status().block.load(), TradingBlock::waiting_trade);
    (void)rig.send(status_event(true));
    auto r = rig.trade(0, 5, rig.price);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].flags & price_flag_has_price);
    EXPECT_FALSE(r[0].flags & price_flag_has_decision);
    EXPECT_FALSE(r[0].flags & price_flag_data_ok) << "the first live candle may be partial";
    EXPECT_EQ(rig.stage->status().block.load(), TradingBlock::none);
    r = rig.trade(0, 30, rig.price * 1.001);
    ASSERT_EQ(r.size(), 1u);
    r = rig.trade(1, 2, rig.price * 1.002);  // closes interval 0
    ASSERT_EQ(r.size(), 2u);
    EXPECT_TRUE(r[0].flags & price_flag_candle_close);
    EXPECT_TRUE(r[0].flags & price_flag_has_decision);
    EXPECT_FALSE(r[0].flags & price_flag_data_ok) << "the close of the partial first candle is still blocked";
    EXPECT_EQ(r[0].decision.time_s, rig.next_s + 60);
    EXPECT_DOUBLE_EQ(r[0].price, rig.price * 1.001);
    EXPECT_TRUE(r[1].flags & price_flag_data_ok) << "a whole candle after the start: entries allowed";
    r = rig.trade(2, 1, rig.price);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_TRUE(r[0].flags & price_flag_data_ok);
    EXPECT_EQ(rig.metrics.candles.value(), 2u);
    SignalNote n;
    int candle_notes = 0;
    while (rig.notes->try_pop(n)) candle_notes += n.kind == SignalNoteKind::candle;
    EXPECT_EQ(candle_notes, 2);
}

TEST(SignalStage, a_sequence_gap_or_ring_loss_blocks_entries_through_the_next_close) {
    Rig rig;
    (void)rig.send(status_event(true));
    (void)rig.trade(0, 5, rig.price);
    (void)rig.trade(1, 5, rig.price);
    auto r = rig.trade(1, 10, rig.price);
    ASSERT_TRUE(r[0].flags & price_flag_data_ok);
    r = rig.send(status_event(true, /*gaps=*/1));
    r = rig.trade(1, 20, rig.price);
    EXPECT_FALSE(r[0].flags & price_flag_data_ok);
    r = rig.trade(2, 1, rig.price);  // the close of the candle the gap hit: still blocked
    ASSERT_EQ(r.size(), 2u);
    EXPECT_FALSE(r[0].flags & price_flag_data_ok);
    EXPECT_TRUE(r[1].flags & price_flag_data_ok);
    MarketEvent lost = trade_event((rig.next_s + 150) * 1'000'000'000LL, rig.price, 1, ++rig.id);
    lost.flags = event_flag_lost_before;
    r = rig.send(lost);
    EXPECT_FALSE(r[0].flags & price_flag_data_ok);
}

TEST(SignalStage, not_fresh_blocks_entries_and_a_new_snapshot_clears_a_loss) {
    Rig rig;
    (void)rig.send(status_event(true));
    (void)rig.trade(0, 5, rig.price);
    (void)rig.trade(1, 5, rig.price);
    (void)rig.send(status_event(false, 0, 1));  // disconnected
    auto r = rig.trade(1, 20, rig.price);
    EXPECT_FALSE(r[0].flags & price_flag_data_ok);
    (void)rig.send(status_event(true, 0, 1));  // fresh snapshot on the new connection
    r = rig.trade(1, 30, rig.price);
    EXPECT_TRUE(r[0].flags & price_flag_data_ok);
}

TEST(SignalStage, quiet_intervals_close_by_the_clock_only_while_fresh) {
    Rig rig;
    (void)rig.send(status_event(true));
    const std::int64_t t0 = rig.next_s * 1'000'000'000LL;
    (void)rig.send(clock_event(5'000'000'000));
    (void)rig.trade(0, 5, rig.price);
    // Wall clock 1 s on: the interval has not ended.
    EXPECT_TRUE(rig.send(clock_event(6'000'000'000)).empty());
    // 60 s + grace on from the trade's arrival: interval 0 closes without a trade.
    auto r = rig.send(clock_event(5'000'000'000 + 58'000'000'000));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].flags & price_flag_candle_close);
    EXPECT_FALSE(r[0].flags & price_flag_has_price);
    EXPECT_EQ(r[0].exchange_time_ns, t0 + 60'000'000'000);
    (void)rig.send(status_event(false, 0, 1));
    EXPECT_TRUE(rig.send(clock_event(5'000'000'000 + 200'000'000'000)).empty()) << "stale: no timer closes";
}

TEST(SignalStage, history_far_from_the_first_trade_never_trades) {
    Rig rig;
    (void)rig.send(status_event(true));
    auto r = rig.trade(100, 5, rig.price);  // 100 intervals after the history
    ASSERT_EQ(r.size(), 1u);
    EXPECT_FALSE(r[0].flags & price_flag_data_ok);
    EXPECT_EQ(rig.stage->status().block.load(), TradingBlock::history_gap);
    EXPECT_EQ(rig.stage->status().gap_candles.load(), 100);
    r = rig.trade(101, 5, rig.price);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_FALSE(r[0].flags & price_flag_has_decision) << "no decisions at all";
}

TEST(SignalStage, a_short_history_gap_is_filled_with_flat_candles) {
    Rig rig;
    (void)rig.send(status_event(true));
    auto r = rig.trade(2, 5, rig.price * 1.001);  // two intervals missing (HISTORY_MAX_GAP_CANDLES=2)
    ASSERT_EQ(r.size(), 3u);
    EXPECT_TRUE(r[0].flags & price_flag_candle_close);
    EXPECT_DOUBLE_EQ(r[0].price, rig.history.back().close);
    EXPECT_TRUE(r[1].flags & price_flag_candle_close);
    EXPECT_TRUE(r[2].flags & price_flag_has_price);
    EXPECT_EQ(rig.stage->status().block.load(), TradingBlock::none);
}

}  // namespace
}  // namespace cbtrade
