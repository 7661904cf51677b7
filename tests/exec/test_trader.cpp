// Trader and paper broker: unit tests for each rule, then property tests over thousands of random
// price paths and random decisions, checking the money-safety invariants after every step.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/price_gate.hpp"
#include "exec/trader.hpp"

namespace cbtrade {
namespace {

constexpr std::int64_t day0 = 1704067200;  // 2024-01-01T00:00:00Z

Decision decision(Signal s, double price, std::int64_t t, double vol_factor = 1.0) {
    return Decision{t, price, s == Signal::buy ? 0.9 : 0.1, vol_factor, s, 0};
}

TraderParams params() {
    TraderParams p;
    p.long_only = true;
    p.order_min_usd = 5;
    p.max_daily_loss_pct = 1;
    p.risk_per_trade_pct = 10;
    p.take_profit_pct = 1;
    p.stop_loss_pct = 1;
    p.cost_reserve_bps = 0;
    return p;
}

// Runs a request through the paper broker at `market`, returning the fill.
Fill fill_now(Trader& t, const std::optional<OrderRequest>& r, double market, const PaperBroker& b = {0, 0}) {
    EXPECT_TRUE(r.has_value());
    const Fill f = b.fill(*r, market);
    t.on_fill(f);
    return f;
}

TEST(Trader, entry_size_is_equity_times_risk_times_vol_factor_floored_to_increment) {
    Trader t(params(), 1000);
    (void)t.on_price(100, day0);
    const auto r = t.on_decision(decision(Signal::buy, 100, day0, 0.5));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->side, Side::buy);
    EXPECT_EQ(r->reason, OrderReason::entry);
    EXPECT_NEAR(r->qty, 0.5, 1e-12);  // 1000 * 10% * 0.5 / 100
    Trader t2(params(), 1000);
    const auto r2 = t2.on_decision(decision(Signal::buy, 30000, day0));
    ASSERT_TRUE(r2);
    EXPECT_DOUBLE_EQ(r2->qty, 333333 * 1e-8);  // floor(100 USD / 30000 / 1e-8) increments
}

TEST(Trader, entries_below_order_min_are_skipped_and_counted) {
    TraderParams p = params();
    p.risk_per_trade_pct = 0.25;  // the earlier bot.env: 2.50 USD on 1000 USD, below 5 USD
    Trader t(p, 1000);
    EXPECT_FALSE(t.on_decision(decision(Signal::buy, 100, day0)));
    EXPECT_EQ(t.counters().blocked_below_min, 1u);
    EXPECT_EQ(t.position_qty(), 0);
}

TEST(Trader, long_only_never_opens_a_short) {
    Trader t(params(), 1000);
    EXPECT_FALSE(t.on_decision(decision(Signal::sell, 100, day0)));
    EXPECT_EQ(t.counters().blocked_long_only, 1u);
}

TEST(Trader, sell_signal_closes_a_long_and_opposite_signal_covers_a_short) {
    TraderParams p = params();
    p.long_only = false;
    Trader t(p, 1000);
    fill_now(t, t.on_decision(decision(Signal::buy, 100, day0)), 100);
    EXPECT_GT(t.position_qty(), 0);
    EXPECT_FALSE(t.on_decision(decision(Signal::buy, 100, day0 + 60))) << "no pyramiding";
    const Fill exit = fill_now(t, t.on_decision(decision(Signal::sell, 100.5, day0 + 60)), 100.5);
    EXPECT_EQ(exit.reason, OrderReason::signal_exit);
    EXPECT_EQ(t.position_qty(), 0);
    fill_now(t, t.on_decision(decision(Signal::sell, 100, day0 + 120)), 100);
    EXPECT_LT(t.position_qty(), 0);
    const Fill cover = fill_now(t, t.on_decision(decision(Signal::buy, 99, day0 + 180)), 99);
    EXPECT_EQ(cover.side, Side::buy);
    EXPECT_EQ(t.position_qty(), 0);
    EXPECT_EQ(t.counters().round_trips, 2u);
    EXPECT_EQ(t.counters().winning_round_trips, 2u);
}

TEST(Trader, stop_loss_and_take_profit_trigger_on_price_updates) {
    Trader t(params(), 1000);
    fill_now(t, t.on_decision(decision(Signal::buy, 100, day0)), 100);
    EXPECT_DOUBLE_EQ(t.stop_level(), 99);
    EXPECT_DOUBLE_EQ(t.take_level(), 101);
    EXPECT_FALSE(t.on_price(99.5, day0 + 1));
    const auto stop = t.on_price(99, day0 + 2);
    ASSERT_TRUE(stop);
    EXPECT_EQ(stop->reason, OrderReason::stop_loss);
    EXPECT_EQ(stop->side, Side::sell);
    EXPECT_FALSE(t.on_price(90, day0 + 3)) << "one exit at a time while it is pending";
    fill_now(t, stop, 99);
    fill_now(t, t.on_decision(decision(Signal::buy, 100, day0 + 60)), 100);
    const auto take = t.on_price(101.2, day0 + 61);
    ASSERT_TRUE(take);
    EXPECT_EQ(take->reason, OrderReason::take_profit);
}

TEST(Trader, short_stops_are_mirrored) {
    TraderParams p = params();
    p.long_only = false;
    Trader t(p, 1000);
    fill_now(t, t.on_decision(decision(Signal::sell, 100, day0)), 100);
    EXPECT_DOUBLE_EQ(t.stop_level(), 101);
    EXPECT_DOUBLE_EQ(t.take_level(), 99);
    const auto stop = t.on_price(101, day0 + 1);
    ASSERT_TRUE(stop);
    EXPECT_EQ(stop->side, Side::buy);
    EXPECT_EQ(stop->reason, OrderReason::stop_loss);
}

TEST(Trader, breaker_blocks_entries_after_daily_loss_until_next_utc_day) {
    TraderParams p = params();
    p.stop_loss_pct = 0;
    p.risk_per_trade_pct = 100;
    Trader t(p, 1000);
    (void)t.on_price(100, day0 + 10);
    fill_now(t, t.on_decision(decision(Signal::buy, 100, day0 + 10)), 100);
    EXPECT_FALSE(t.on_price(99.2, day0 + 20));  // -0.8%: below the 1% limit
    EXPECT_FALSE(t.breaker_tripped());
    EXPECT_FALSE(t.on_price(98.9, day0 + 30));  // -1.1%
    EXPECT_TRUE(t.breaker_tripped());
    EXPECT_EQ(t.counters().breaker_trips, 1u);
    // Exits stay allowed while tripped.
    fill_now(t, t.on_decision(decision(Signal::sell, 98.9, day0 + 40)), 98.9);
    EXPECT_EQ(t.position_qty(), 0);
    EXPECT_FALSE(t.on_decision(decision(Signal::buy, 99, day0 + 50)));
    EXPECT_EQ(t.counters().blocked_breaker, 1u);
    // A new UTC day resets it.
    (void)t.on_price(99, day0 + 86400);
    EXPECT_FALSE(t.breaker_tripped());
    EXPECT_TRUE(t.on_decision(decision(Signal::buy, 99, day0 + 86400)));
}

TEST(Trader, stale_market_data_blocks_entries_but_not_exits) {
    Trader t(params(), 1000);
    fill_now(t, t.on_decision(decision(Signal::buy, 100, day0)), 100);
    t.set_market_data_ok(false);
    EXPECT_TRUE(t.on_price(98, day0 + 1)) << "stops still fire";
    Trader t2(params(), 1000);
    t2.set_market_data_ok(false);
    EXPECT_FALSE(t2.on_decision(decision(Signal::buy, 100, day0)));
    EXPECT_EQ(t2.counters().blocked_market_data, 1u);
}

TEST(Trader, halt_blocks_entries_but_never_exits) {
    Trader t(params(), 1000);
    fill_now(t, t.on_decision(decision(Signal::buy, 100, day0)), 100);
    t.set_halted(true);
    EXPECT_TRUE(t.on_price(98, day0 + 1)) << "a stop fires while halted";
    Trader t2(params(), 1000);
    fill_now(t2, t2.on_decision(decision(Signal::buy, 100, day0)), 100);
    t2.set_halted(true);
    const auto exit = t2.on_decision(decision(Signal::sell, 100.05, day0 + 2));
    ASSERT_TRUE(exit) << "a signal exit is allowed while halted";
    EXPECT_EQ(exit->reason, OrderReason::signal_exit);
    fill_now(t2, exit, 100.05);
    EXPECT_FALSE(t2.on_decision(decision(Signal::buy, 100, day0 + 3)));
    EXPECT_EQ(t2.counters().blocked_halt, 1u);
    t2.set_halted(false);
    EXPECT_TRUE(t2.on_decision(decision(Signal::buy, 100, day0 + 4)));
}

TEST(Trader, bad_prices_are_never_acted_on) {
    Trader t(params(), 1000);
    fill_now(t, t.on_decision(decision(Signal::buy, 100, day0)), 100);
    EXPECT_FALSE(t.on_price(std::nan(""), day0 + 1));
    EXPECT_FALSE(t.on_price(0, day0 + 1));
    EXPECT_FALSE(t.on_price(-5, day0 + 1));
    EXPECT_FALSE(t.on_price(INFINITY, day0 + 1));
    Trader t2(params(), 1000);
    EXPECT_FALSE(t2.on_decision(decision(Signal::buy, std::nan(""), day0)));
    EXPECT_FALSE(t2.on_decision(decision(Signal::buy, 0, day0)));
}

// ---- the price sanity gate in front of the trader (issue 9 item 5) ----

// What the live pipeline does: only prices the gate calls tradable reach Trader::on_price.
std::optional<OrderRequest> gated_price(PriceGate& g, Trader& t, double price, std::int64_t time_s) {
    if (!PriceGate::tradable(g.check(price))) return std::nullopt;
    return t.on_price(price, time_s);
}

TEST(TraderWithPriceGate, a_single_unconfirmed_outlier_fires_neither_stop_nor_take) {
    // Without the gate the outliers would fire: the test would mean nothing otherwise.
    Trader bare(params(), 1000);
    fill_now(bare, bare.on_decision(decision(Signal::buy, 100, day0)), 100);
    const auto stop = bare.on_price(90, day0 + 1);
    ASSERT_TRUE(stop);
    EXPECT_EQ(stop->reason, OrderReason::stop_loss);

    for (const double outlier : {90.0, 1.0, 110.0, 1000.0}) {
        SCOPED_TRACE(outlier);
        Trader t(params(), 1000);  // stop and take 1% away
        PriceGate g(0.05, 2);
        EXPECT_FALSE(gated_price(g, t, 100, day0));
        fill_now(t, t.on_decision(decision(Signal::buy, 100, day0)), 100);
        EXPECT_FALSE(gated_price(g, t, outlier, day0 + 1)) << "a lone outlier reached the trader";
        EXPECT_FALSE(gated_price(g, t, 100.2, day0 + 2));
        EXPECT_GT(t.position_qty(), 0) << "the position was closed on an outlier";
        EXPECT_EQ(t.counters().stop_losses + t.counters().take_profits, 0u);
        EXPECT_EQ(g.outliers(), 1u);
    }
}

TEST(TraderWithPriceGate, a_confirmed_move_does_fire_the_stop) {
    Trader t(params(), 1000);
    PriceGate g(0.05, 2);
    (void)gated_price(g, t, 100, day0);
    fill_now(t, t.on_decision(decision(Signal::buy, 100, day0)), 100);
    EXPECT_FALSE(gated_price(g, t, 90, day0 + 1));
    EXPECT_FALSE(gated_price(g, t, 90.2, day0 + 2));
    const auto r = gated_price(g, t, 89.9, day0 + 3);
    ASSERT_TRUE(r) << "a real move must still be acted on";
    EXPECT_EQ(r->reason, OrderReason::stop_loss);
}

// Property: random paths with lone outliers injected. The gated trader makes exactly the requests a
// trader fed the clean path makes (same count, sides, reasons, prices): no outlier ever moves it.
TEST(TraderWithPriceGate, property_lone_outliers_never_change_what_the_trader_does) {
    std::mt19937_64 rng(2024);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::normal_distribution<double> z(0.0, 1.0);
    for (int path = 0; path < 300; ++path) {
        TraderParams p = params();
        p.stop_loss_pct = 0.1 + u(rng);
        p.take_profit_pct = 0.1 + u(rng);
        Trader clean(p, 1000), gated(p, 1000);
        PriceGate g(0.05, 2);
        const PaperBroker broker(0, 0);
        double price = 100 + 1000 * u(rng);
        std::int64_t t = day0;
        std::vector<OrderRequest> want, got;
        auto handle = [&](Trader& tr, const std::optional<OrderRequest>& r, double market,
                          std::vector<OrderRequest>& log) {
            if (!r) return;
            log.push_back(*r);
            tr.on_fill(broker.fill(*r, market));
        };
        for (int i = 0; i < 400; ++i) {
            t += 1;
            if (u(rng) < 0.05) {
                const double bad = u(rng) < 0.5 ? price * (1.2 + u(rng)) : price / (1.2 + u(rng));
                handle(gated, gated_price(g, gated, bad, t), bad, got);
                continue;  // the clean trader never sees it
            }
            price *= 1 + 0.003 * z(rng);
            handle(clean, clean.on_price(price, t), price, want);
            handle(gated, gated_price(g, gated, price, t), price, got);
            if (u(rng) < 0.1) {
                const Decision d = decision(u(rng) < 0.5 ? Signal::buy : Signal::sell, price, t);
                handle(clean, clean.on_decision(d), price, want);
                handle(gated, gated.on_decision(d), price, got);
            }
        }
        ASSERT_EQ(got.size(), want.size()) << "path " << path;
        for (std::size_t i = 0; i < want.size(); ++i) {
            EXPECT_EQ(got[i].reason, want[i].reason) << "path " << path;
            EXPECT_EQ(got[i].side, want[i].side);
            EXPECT_EQ(got[i].ref_price, want[i].ref_price);
            EXPECT_EQ(got[i].qty, want[i].qty);
        }
    }
}

TEST(PaperBroker, fee_and_slippage_go_against_the_order) {
    const PaperBroker b(60, 10);
    const OrderRequest buy{day0, 2, 100, Side::buy, OrderReason::entry};
    const Fill fb = b.fill(buy, 100);
    EXPECT_DOUBLE_EQ(fb.price, 100.1);
    EXPECT_DOUBLE_EQ(fb.fee_usd, 2 * 100.1 * 0.006);
    const OrderRequest sell{day0, 2, 100, Side::sell, OrderReason::signal_exit};
    EXPECT_DOUBLE_EQ(b.fill(sell, 100).price, 99.9);
}

// ---- property tests ----

struct Ledger {
    double cash;
    double qty = 0;
    double fees = 0;
};

class TraderProperties : public ::testing::TestWithParam<unsigned> {};

TEST_P(TraderProperties, invariants_hold_on_random_paths) {
    std::mt19937_64 rng(GetParam());
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::normal_distribution<double> z(0.0, 1.0);
    for (int path = 0; path < 100; ++path) {
        TraderParams p;
        p.long_only = u(rng) < 0.5;
        p.order_min_usd = u(rng) < 0.2 ? 0.0 : 1 + 20 * u(rng);
        p.max_daily_loss_pct = 0.2 + 3 * u(rng);
        p.risk_per_trade_pct = 0.5 + 99 * u(rng);
        p.take_profit_pct = u(rng) < 0.2 ? 0 : 0.05 + 2 * u(rng);
        p.stop_loss_pct = u(rng) < 0.2 ? 0 : 0.05 + 2 * u(rng);
        const double fee_bps = 100 * u(rng), slip_bps = 20 * u(rng);
        p.cost_reserve_bps = fee_bps + slip_bps;
        const PaperBroker broker(fee_bps, slip_bps);
        const double start = 100 + 10000 * u(rng);
        Trader t(p, start);
        Ledger ledger{start};
        double price = 50 + 50000 * u(rng);
        std::int64_t time = day0 + static_cast<std::int64_t>(u(rng) * 86400);
        const double vol = 0.0005 + 0.01 * u(rng);

        auto apply = [&](const OrderRequest& r, double market) {
            const Fill f = broker.fill(r, market);
            ledger.cash += f.side == Side::buy ? -f.qty * f.price - f.fee_usd : f.qty * f.price - f.fee_usd;
            ledger.qty += f.side == Side::buy ? f.qty : -f.qty;
            ledger.fees += f.fee_usd;
            t.on_fill(f);
        };

        for (int step = 0; step < 300; ++step) {
            time += 1 + static_cast<std::int64_t>(u(rng) * 900);
            price *= std::exp(vol * z(rng) + (u(rng) < 0.01 ? 0.05 * z(rng) : 0.0));
            const double qty_before = t.position_qty();
            const double stop = t.stop_level(), take = t.take_level();
            const auto exit = t.on_price(price, time);
            // A stop (or take) level reached is never skipped.
            if (qty_before > 0 && stop > 0 && price <= stop) {
                ASSERT_TRUE(exit && exit->reason == OrderReason::stop_loss) << "path " << path << " step " << step;
            }
            if (qty_before < 0 && stop > 0 && price >= stop) {
                ASSERT_TRUE(exit && exit->reason == OrderReason::stop_loss);
            }
            if (qty_before > 0 && take > 0 && price >= take && !(stop > 0 && price <= stop)) {
                ASSERT_TRUE(exit && exit->reason == OrderReason::take_profit);
            }
            if (exit) {
                ASSERT_NEAR(exit->qty, std::fabs(qty_before), 1e-12);
                apply(*exit, price);
                ASSERT_EQ(t.position_qty(), 0.0) << "an exit leaves no position";
            }
            const double r = u(rng);
            const Signal s = r < 0.3 ? Signal::buy : r < 0.6 ? Signal::sell : Signal::flat;
            const bool tripped = t.breaker_tripped();
            const bool flat_before = t.position_qty() == 0;
            if (const auto req = t.on_decision(decision(s, price, time, 0.25 + 0.75 * u(rng)))) {
                if (req->reason == OrderReason::entry) {
                    ASSERT_FALSE(tripped) << "no entry while the breaker is tripped";
                    ASSERT_TRUE(flat_before);
                    ASSERT_GE(req->qty * req->ref_price, p.order_min_usd) << "no order below the minimum";
                    const double units = req->qty / p.base_increment;
                    ASSERT_NEAR(units, std::round(units), 1e-6) << "size on the increment grid";
                    if (p.long_only) {
                        ASSERT_EQ(req->side, Side::buy);
                    }
                }
                apply(*req, price);
            }
            if (p.long_only) {
                ASSERT_GE(t.position_qty(), 0.0) << "no short when LONG_ONLY";
            }
            ASSERT_GE(t.cash_usd(), -1e-9 * start) << "an entry never overdraws cash";
            ASSERT_NEAR(t.cash_usd(), ledger.cash, 1e-9 * start);
            ASSERT_NEAR(t.position_qty(), ledger.qty, 1e-12);
            ASSERT_NEAR(t.fees_usd(), ledger.fees, 1e-9 * start);
            ASSERT_NEAR(t.equity_usd(price), ledger.cash + ledger.qty * price, 1e-9 * start);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Seeds, TraderProperties, ::testing::Range(1u, 41u));

}  // namespace
}  // namespace cbtrade
