// core/price_gate: a jump beyond MAX_PRICE_JUMP_PCT is held until confirmed (issue 9 item 5).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/price_gate.hpp"

namespace cbtrade {
namespace {

using V = PriceGate::Verdict;

TEST(PriceGate, first_price_and_moves_within_the_band_are_accepted) {
    PriceGate g(0.05, 2);
    EXPECT_EQ(g.check(100), V::accept);
    EXPECT_EQ(g.check(104.9), V::accept);
    EXPECT_EQ(g.check(100), V::accept);  // 4.7% down from 104.9
    EXPECT_EQ(g.outliers(), 0u);
    EXPECT_EQ(g.reference(), 100);
}

TEST(PriceGate, a_single_outlier_is_held_and_counted_and_the_market_coming_back_cancels_it) {
    PriceGate g(0.05, 2);
    EXPECT_EQ(g.check(100), V::accept);
    EXPECT_EQ(g.check(1.0), V::hold);  // a fat-finger print 99% below
    EXPECT_TRUE(g.pending());
    EXPECT_EQ(g.check(100.2), V::accept);
    EXPECT_FALSE(g.pending());
    EXPECT_EQ(g.check(130), V::hold);  // a spike up
    EXPECT_EQ(g.check(99.9), V::accept);
    EXPECT_EQ(g.outliers(), 2u);
    EXPECT_EQ(g.confirmed_jumps(), 0u);
    EXPECT_EQ(g.reference(), 99.9);
}

TEST(PriceGate, a_confirmed_move_is_accepted_after_confirm_count_following_prices) {
    PriceGate g(0.05, 2);
    EXPECT_EQ(g.check(100), V::accept);
    EXPECT_EQ(g.check(80), V::hold);         // the jump
    EXPECT_EQ(g.check(80.5), V::hold);       // first following price at the new level
    EXPECT_EQ(g.check(79.8), V::confirmed);  // second: the move is real
    EXPECT_EQ(g.reference(), 79.8);
    EXPECT_EQ(g.check(80.1), V::accept);
    EXPECT_EQ(g.outliers(), 2u);
    EXPECT_EQ(g.confirmed_jumps(), 1u);
    PriceGate one(0.05, 1);
    EXPECT_EQ(one.check(100), V::accept);
    EXPECT_EQ(one.check(120), V::hold);
    EXPECT_EQ(one.check(121), V::confirmed);
}

TEST(PriceGate, a_trending_jump_confirms_against_the_latest_held_price) {
    PriceGate g(0.05, 2);
    (void)g.check(100);
    EXPECT_EQ(g.check(110), V::hold);
    EXPECT_EQ(g.check(114), V::hold);  // within 5% of 110, not of 100
    EXPECT_EQ(g.check(118), V::confirmed);
}

TEST(PriceGate, two_different_outliers_do_not_confirm_each_other) {
    PriceGate g(0.05, 2);
    (void)g.check(100);
    EXPECT_EQ(g.check(50), V::hold);
    EXPECT_EQ(g.check(200), V::hold);  // a new pending level
    EXPECT_EQ(g.check(10), V::hold);
    EXPECT_EQ(g.check(100.1), V::accept);
    EXPECT_EQ(g.outliers(), 3u);
    EXPECT_EQ(g.confirmed_jumps(), 0u);
}

TEST(PriceGate, non_finite_and_non_positive_prices_are_refused_and_change_nothing) {
    PriceGate g(0.05, 2);
    (void)g.check(100);
    EXPECT_EQ(g.check(std::nan("")), V::refuse);
    EXPECT_EQ(g.check(INFINITY), V::refuse);
    EXPECT_EQ(g.check(0), V::refuse);
    EXPECT_EQ(g.check(-100), V::refuse);
    EXPECT_EQ(g.refused(), 4u);
    EXPECT_EQ(g.reference(), 100);
    EXPECT_FALSE(PriceGate::tradable(V::refuse));
    EXPECT_FALSE(PriceGate::tradable(V::hold));
}

TEST(PriceGate, reset_forgets_the_reference) {
    PriceGate g(0.05, 2);
    (void)g.check(100);
    g.reset();
    EXPECT_EQ(g.check(300), V::accept);
}

TEST(PriceGate, invalid_parameters_fall_back_to_safe_values) {
    EXPECT_DOUBLE_EQ(PriceGate(0, 2).max_jump_fraction(), 0.05);
    EXPECT_DOUBLE_EQ(PriceGate(std::nan(""), 2).max_jump_fraction(), 0.05);
    EXPECT_EQ(PriceGate(0.05, 0).confirm_count(), 1u);
}

// Property: on random walks (steps well inside the band) with lone outliers injected, no outlier is
// ever tradable, every ordinary price is, and the count of held prices equals the outliers injected.
TEST(PriceGate, property_lone_outliers_never_pass_and_ordinary_prices_always_do) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> step(0, 0.002);
    std::uniform_real_distribution<double> u(0, 1);
    for (int path = 0; path < 200; ++path) {
        PriceGate g(0.02 + 0.1 * u(rng), 1 + static_cast<std::uint32_t>(u(rng) * 4));
        double price = 10 + 50000 * u(rng);
        std::uint64_t injected = 0;
        bool last_was_outlier = false;
        for (int i = 0; i < 2000; ++i) {
            if (!last_was_outlier && i > 0 && u(rng) < 0.03) {
                // A lone outlier: at least twice the band away, up or down.
                const double away = g.max_jump_fraction() * (2 + 5 * u(rng));
                const double bad = u(rng) < 0.5 ? price * (1 + away) : price / (1 + away);
                ASSERT_FALSE(PriceGate::tradable(g.check(bad))) << "path " << path << " step " << i;
                ++injected;
                last_was_outlier = true;
                continue;
            }
            last_was_outlier = false;
            price *= 1 + step(rng);
            ASSERT_EQ(g.check(price), V::accept) << "path " << path << " step " << i;
        }
        EXPECT_EQ(g.outliers(), injected);
        EXPECT_EQ(g.confirmed_jumps(), 0u);
    }
}

// Property: a real level shift (the price stays at the new level) is always taken, after exactly
// confirm_count prices held.
TEST(PriceGate, property_a_persistent_move_is_confirmed_after_confirm_count_prices) {
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(0, 1);
    for (int path = 0; path < 500; ++path) {
        const std::uint32_t confirm = 1 + static_cast<std::uint32_t>(u(rng) * 5);
        PriceGate g(0.05, confirm);
        const double start = 1 + 1000 * u(rng);
        (void)g.check(start);
        const double level = u(rng) < 0.5 ? start * (1.1 + u(rng)) : start / (1.1 + u(rng));
        std::uint32_t held = 0;
        V v = V::hold;
        for (int i = 0; i < 20 && v == V::hold; ++i) {
            v = g.check(level * (1 + 0.001 * (u(rng) - 0.5)));
            if (v == V::hold) ++held;
        }
        EXPECT_EQ(v, V::confirmed);
        EXPECT_EQ(held, confirm);
    }
}

}  // namespace
}  // namespace cbtrade
