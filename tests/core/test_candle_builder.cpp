// CandleBuilder: candles from trades by exchange time (core/candle_builder.hpp states the rules), and
// the simulator's own market rebuilt candle for candle from its trades.
#include "core/candle_builder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "feeds/csv_candles.hpp"
#include "tools/sim/market_feed.hpp"

namespace cbtrade {
namespace {

constexpr std::int64_t s = 1'000'000'000;  // ns per second
constexpr std::int64_t minute = 60 * s;
constexpr std::int64_t t0 = 1'704'067'200 * s;  // 2024-01-01T00:00:00Z, a minute boundary
constexpr std::int64_t grace = 2 * s;

Trade trade(std::uint64_t id, std::int64_t time_ns, double price, double size = 1.0) {
    Trade t{};
    t.price = price;
    t.size = size;
    t.exchange_time_ns = time_ns;
    t.trade_id = id;
    return t;
}

// Feeds trades and clock ticks, collecting every candle emitted (room for 16 per call).
struct Harness {
    explicit Harness(CandleBuilder::FirstInterval first = CandleBuilder::FirstInterval::emit, std::size_t room = 16)
        : builder(60, grace, first), out(room) {}
    std::size_t add(const Trade& t) { return take(builder.on_trade(t, out)); }
    std::size_t at(std::int64_t now) { return take(builder.on_time(now, out)); }
    std::size_t take(std::size_t n) {
        EXPECT_LE(n, out.size());
        candles.insert(candles.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
        return n;
    }
    CandleBuilder builder;
    std::vector<Candle> out;
    std::vector<Candle> candles;
};

void expect_candle(const Candle& c, std::int64_t start_ns, double open, double high, double low, double close,
                   double volume) {
    EXPECT_EQ(c.time_s, start_ns / s);
    EXPECT_EQ(c.open, open);
    EXPECT_EQ(c.high, high);
    EXPECT_EQ(c.low, low);
    EXPECT_EQ(c.close, close);
    EXPECT_EQ(c.volume, volume);
}

TEST(CandleBuilder, ohlcv_of_one_interval_closes_at_the_first_trade_of_a_later_one) {
    Harness h;
    EXPECT_EQ(h.add(trade(1, t0, 100.0, 0.5)), 0u);
    EXPECT_EQ(h.add(trade(2, t0 + 10 * s, 104.0, 0.25)), 0u);
    EXPECT_EQ(h.add(trade(3, t0 + 20 * s, 98.0, 1.0)), 0u);
    EXPECT_EQ(h.add(trade(4, t0 + 59 * s + 999'999'999, 101.0, 2.0)), 0u) << "still inside the first minute";
    ASSERT_NE(h.builder.open_candle(), nullptr);
    EXPECT_EQ(h.builder.open_candle()->close, 101.0);
    EXPECT_EQ(h.add(trade(5, t0 + minute, 102.0, 1.0)), 1u) << "the next minute's first trade closes it";
    expect_candle(h.candles[0], t0, 100.0, 104.0, 98.0, 101.0, 3.75);
    expect_candle(*h.builder.open_candle(), t0 + minute, 102.0, 102.0, 102.0, 102.0, 1.0);
    EXPECT_EQ(h.builder.counters().trades, 5u);
    EXPECT_EQ(h.builder.counters().candles, 1u);
}

TEST(CandleBuilder, open_and_close_go_by_exchange_time_not_arrival_order) {
    Harness h;
    h.add(trade(10, t0 + 30 * s, 100.0));
    h.add(trade(12, t0 + 50 * s, 103.0));
    h.add(trade(9, t0 + 5 * s, 99.0));     // earlier in the minute: the open
    h.add(trade(11, t0 + 40 * s, 97.0));   // between: neither open nor close
    h.add(trade(14, t0 + 50 * s, 105.0));  // same time as the close, higher id: the close
    h.add(trade(13, t0 + 50 * s, 104.0));  // same time, lower id than the close: not the close
    h.add(trade(20, t0 + minute + s, 110.0));
    ASSERT_EQ(h.candles.size(), 1u);
    expect_candle(h.candles[0], t0, 99.0, 105.0, 97.0, 105.0, 6.0);
}

TEST(CandleBuilder, a_trade_for_a_closed_interval_is_late_and_never_changes_an_emitted_candle) {
    Harness h;
    h.add(trade(1, t0 + s, 100.0));
    h.add(trade(2, t0 + minute + s, 101.0));
    ASSERT_EQ(h.candles.size(), 1u);
    EXPECT_EQ(h.add(trade(3, t0 + 30 * s, 500.0, 9.0)), 0u);  // belongs to the emitted first minute
    EXPECT_EQ(h.builder.counters().late, 1u);
    EXPECT_EQ(h.builder.counters().trades, 2u);
    expect_candle(*h.builder.open_candle(), t0 + minute, 101.0, 101.0, 101.0, 101.0, 1.0);
    expect_candle(h.candles[0], t0, 100.0, 100.0, 100.0, 100.0, 1.0);
}

TEST(CandleBuilder, repeated_trade_ids_from_a_snapshot_are_skipped) {
    Harness h;
    for (std::uint64_t id = 1; id <= 5; ++id)
        h.add(trade(id, t0 + static_cast<std::int64_t>(id) * s, 100.0 + static_cast<double>(id)));
    // A reconnect's snapshot repeats 3..5 and brings the missed 6 and 7.
    for (std::uint64_t id = 3; id <= 7; ++id)
        h.add(trade(id, t0 + static_cast<std::int64_t>(id) * s, 100.0 + static_cast<double>(id)));
    EXPECT_EQ(h.builder.counters().duplicates, 3u);
    EXPECT_EQ(h.builder.counters().trades, 7u);
    expect_candle(*h.builder.open_candle(), t0, 101.0, 107.0, 101.0, 107.0, 7.0);
}

TEST(CandleBuilder, ids_older_than_everything_remembered_are_repeats) {
    Harness h;
    const std::size_t n = CandleBuilder::recent_trade_ids;
    for (std::uint64_t id = 1000; id < 1000 + n; ++id) h.add(trade(id, t0 + s, 100.0));
    h.add(trade(999, t0 + s, 100.0));  // below the remembered window, which is full
    EXPECT_EQ(h.builder.counters().duplicates, 1u);
    h.add(trade(2000, t0 + 2 * s, 100.0));  // new
    EXPECT_EQ(h.builder.counters().trades, n + 1);
}

TEST(CandleBuilder, intervals_without_trades_are_flat_candles_at_the_last_close) {
    Harness h;
    h.add(trade(1, t0 + s, 100.0));
    h.add(trade(2, t0 + 30 * s, 95.5));
    EXPECT_EQ(h.add(trade(3, t0 + 3 * minute + 7 * s, 120.0)), 3u);
    ASSERT_EQ(h.candles.size(), 3u);
    expect_candle(h.candles[0], t0, 100.0, 100.0, 95.5, 95.5, 2.0);
    expect_candle(h.candles[1], t0 + minute, 95.5, 95.5, 95.5, 95.5, 0.0);
    expect_candle(h.candles[2], t0 + 2 * minute, 95.5, 95.5, 95.5, 95.5, 0.0);
    EXPECT_EQ(h.builder.counters().flat_candles, 2u);
    EXPECT_EQ(h.builder.counters().candles, 3u);
}

TEST(CandleBuilder, a_quiet_market_closes_candles_once_the_grace_period_has_passed) {
    Harness h;
    h.add(trade(1, t0 + 10 * s, 100.0));
    EXPECT_EQ(h.at(t0 + minute), 0u) << "the interval has ended but the grace period has not passed";
    EXPECT_EQ(h.at(t0 + minute + grace - 1), 0u);
    EXPECT_EQ(h.at(t0 + minute + grace), 1u);
    expect_candle(h.candles[0], t0, 100.0, 100.0, 100.0, 100.0, 1.0);
    EXPECT_EQ(h.builder.open_candle(), nullptr);
    EXPECT_EQ(h.at(t0 + 2 * minute + grace - 1), 0u);
    EXPECT_EQ(h.at(t0 + 4 * minute + grace), 3u) << "three quiet minutes, three flat candles";
    for (int i = 1; i <= 3; ++i) expect_candle(h.candles[i], t0 + i * minute, 100.0, 100.0, 100.0, 100.0, 0.0);
    EXPECT_EQ(h.at(t0 + 4 * minute + grace + 1), 0u) << "nothing twice";
    // Trading resumes in the fifth minute: it opens normally, and the grace-closed minutes are final.
    EXPECT_EQ(h.add(trade(2, t0 + 3 * minute + 50 * s, 99.0)), 0u);
    EXPECT_EQ(h.builder.counters().late, 1u);
    EXPECT_EQ(h.add(trade(3, t0 + 4 * minute + 50 * s, 98.0)), 0u);
    EXPECT_EQ(h.add(trade(4, t0 + 5 * minute, 97.0)), 1u);
    expect_candle(h.candles.back(), t0 + 4 * minute, 98.0, 98.0, 98.0, 98.0, 1.0);
}

TEST(CandleBuilder, a_trade_arriving_within_the_grace_period_still_counts) {
    Harness h;
    h.add(trade(1, t0 + 10 * s, 100.0));
    EXPECT_EQ(h.at(t0 + minute + grace / 2), 0u);
    h.add(trade(2, t0 + 59 * s, 103.0));  // delivered late, but before the grace period ended
    EXPECT_EQ(h.at(t0 + minute + grace), 1u);
    expect_candle(h.candles[0], t0, 100.0, 103.0, 100.0, 103.0, 2.0);
}

TEST(CandleBuilder, the_partial_first_interval_is_skipped_unless_it_starts_on_its_boundary) {
    Harness skip(CandleBuilder::FirstInterval::skip_partial);
    skip.add(trade(1, t0 + 20 * s, 100.0));  // joined mid-minute
    skip.add(trade(2, t0 + 40 * s, 101.0));
    EXPECT_EQ(skip.add(trade(3, t0 + minute + s, 102.0)), 0u);
    EXPECT_EQ(skip.builder.counters().partial_skipped, 1u);
    EXPECT_EQ(skip.add(trade(4, t0 + 3 * minute, 103.0)), 2u);
    expect_candle(skip.candles[0], t0 + minute, 102.0, 102.0, 102.0, 102.0, 1.0);
    expect_candle(skip.candles[1], t0 + 2 * minute, 102.0, 102.0, 102.0, 102.0, 0.0);

    Harness whole(CandleBuilder::FirstInterval::skip_partial);
    whole.add(trade(1, t0, 100.0));  // exactly on the boundary: nothing was missed
    EXPECT_EQ(whole.add(trade(2, t0 + minute, 101.0)), 1u);
    expect_candle(whole.candles[0], t0, 100.0, 100.0, 100.0, 100.0, 1.0);

    Harness quiet(CandleBuilder::FirstInterval::skip_partial);
    quiet.add(trade(1, t0 + 20 * s, 100.0));
    EXPECT_EQ(quiet.at(t0 + 2 * minute + grace), 1u) << "skipped partial minute, then one flat minute";
    expect_candle(quiet.candles[0], t0 + minute, 100.0, 100.0, 100.0, 100.0, 0.0);
}

TEST(CandleBuilder, closed_candles_wait_for_room_and_come_out_in_order) {
    Harness h(CandleBuilder::FirstInterval::emit, 2);
    EXPECT_EQ(h.add(trade(1, t0, 100.0)), 0u);
    EXPECT_EQ(h.add(trade(2, t0 + minute, 101.0)), 1u);
    EXPECT_EQ(h.add(trade(3, t0 + 6 * minute, 102.0)), 2u) << "five more closed, room for two";
    EXPECT_EQ(h.builder.queued(), 3);
    EXPECT_EQ(h.at(t0 + 6 * minute), 2u) << "no new close; what waited comes out";
    EXPECT_EQ(h.at(t0 + 6 * minute), 1u);
    EXPECT_EQ(h.builder.queued(), 0);
    ASSERT_EQ(h.candles.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i)
        EXPECT_EQ(h.candles[i].time_s, (t0 + static_cast<std::int64_t>(i) * minute) / s);
    EXPECT_EQ(h.candles[1].close, 101.0);
    expect_candle(h.candles[5], t0 + 5 * minute, 101.0, 101.0, 101.0, 101.0, 0.0);
    EXPECT_EQ(h.builder.counters().lost, 0u);

    Harness none(CandleBuilder::FirstInterval::emit, 0);  // no room at all: the builder holds 64
    for (std::uint64_t i = 0; i <= CandleBuilder::max_queued_candles + 1; ++i)
        none.add(trade(i + 1, t0 + static_cast<std::int64_t>(i) * minute, 100.0));
    EXPECT_EQ(none.builder.counters().lost, CandleBuilder::max_queued_candles);
}

TEST(CandleBuilder, a_jump_beyond_the_gap_limit_is_not_filled_and_restarts) {
    Harness h(CandleBuilder::FirstInterval::skip_partial);
    h.add(trade(1, t0, 100.0));
    h.add(trade(2, t0 + 30 * s, 101.0));
    const std::int64_t far = t0 + (CandleBuilder::max_gap_intervals + 5) * minute;
    EXPECT_EQ(h.add(trade(3, far + 10 * s, 200.0)), 1u) << "the candle before the jump is still emitted";
    expect_candle(h.candles[0], t0, 100.0, 101.0, 100.0, 101.0, 2.0);
    EXPECT_EQ(h.builder.counters().resyncs, 1u);
    EXPECT_EQ(h.builder.counters().flat_candles, 0u);
    EXPECT_EQ(h.add(trade(4, far + minute, 201.0)), 0u) << "the restart interval was joined mid-way";
    EXPECT_EQ(h.add(trade(5, far + 2 * minute, 202.0)), 1u);
    expect_candle(h.candles[1], far + minute, 201.0, 201.0, 201.0, 201.0, 1.0);

    Harness clock(CandleBuilder::FirstInterval::emit);
    clock.add(trade(1, t0, 100.0));
    EXPECT_EQ(clock.at(far), 1u) << "a clock far ahead closes the open candle, fills nothing";
    EXPECT_EQ(clock.builder.counters().resyncs, 1u);
    EXPECT_EQ(clock.builder.counters().flat_candles, 0u);
}

TEST(CandleBuilder, bad_granularity_or_grace_is_refused_naming_it) {
    EXPECT_THROW(CandleBuilder(0, 0), std::invalid_argument);
    EXPECT_THROW(CandleBuilder(CandleBuilder::max_granularity_s + 1, 0), std::invalid_argument);
    EXPECT_THROW(CandleBuilder(60, -1), std::invalid_argument);
    EXPECT_THROW(CandleBuilder(60, 61 * s), std::invalid_argument);
    try {
        CandleBuilder(0, 0);
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("granularity"), std::string::npos);
    }
    EXPECT_NO_THROW(CandleBuilder(60, 60 * s));
}

// The simulator's market (tools/sim/market_feed.cpp, as cbtrade-sim replays it): the trades of every
// candle of the sample data, in the prices and sizes the wire carries, rebuild that candle exactly.
TEST(CandleBuilder, rebuilds_the_simulators_replayed_candles_exactly) {
    const CsvCandles csv = read_candles_csv(std::string(CBTRADE_TEST_DATA) + "/../../data/BTC-USD.csv");
    ASSERT_GE(csv.candles.size(), 1000u);
    auto candles = std::make_shared<const std::vector<Candle>>(csv.candles);
    sim::MarketFeed market(candles, csv.step_s, false, 1);
    CandleBuilder builder(csv.step_s, 2 * s, CandleBuilder::FirstInterval::skip_partial);
    std::vector<Candle> out(8), built;
    std::uint64_t trades = 0;
    while (const std::optional<sim::TickerQuote> q = market.next()) {
        const sim::TradePrint& p = q->trade;
        // What the decoder makes of the wire's "42007.62" and "0.29126081": correctly rounded doubles.
        const Trade t = trade(p.trade_id, p.time_us * 1000, static_cast<double>(p.price_cents) / 100.0,
                              static_cast<double>(p.size_units) / sim::size_units_per_base);
        const std::size_t n = builder.on_trade(t, out);
        built.insert(built.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
        ++trades;
    }
    const std::size_t n = builder.on_time((candles->back().time_s + csv.step_s) * s + 2 * s, out);
    built.insert(built.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));

    EXPECT_EQ(trades, 4 * candles->size());
    EXPECT_EQ(market.volume_adjusted(), 0u);
    ASSERT_EQ(built.size(), candles->size()) << "every candle, the first included (it starts on its boundary)";
    EXPECT_EQ(builder.counters().flat_candles, 0u);
    for (std::size_t i = 0; i < built.size(); ++i) {
        const Candle& want = (*candles)[i];
        const Candle& got = built[i];
        SCOPED_TRACE("candle " + std::to_string(i) + " at " + std::to_string(want.time_s));
        ASSERT_EQ(got.time_s, want.time_s);
        ASSERT_EQ(got.open, want.open);
        ASSERT_EQ(got.high, want.high);
        ASSERT_EQ(got.low, want.low);
        ASSERT_EQ(got.close, want.close);
        // The sum of four doubles may differ from the CSV's double in the last bit; in the CSV's
        // own unit (1e-8, the exact decimals the sim sent) the two are equal.
        ASSERT_EQ(std::llround(got.volume * 1e8), std::llround(want.volume * 1e8));
        ASSERT_NEAR(got.volume, want.volume, 1e-9);
    }
}

}  // namespace
}  // namespace cbtrade
