// exec/token_pool: pre-signed order JWTs with an injected clock: each token is taken once, the
// youngest first; tokens are replaced before they age out, so the exec thread never sends one older
// than usable_for_ns; a pool whose refills stopped runs dry instead of handing out stale tokens; a
// failed signature changes nothing; and a refilling thread racing a taking thread hands every token
// over exactly once.
#include "exec/token_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace cbtrade {
namespace {

constexpr std::int64_t s = 1'000'000'000;

// Signs "tok-<n>@<time>" tokens, numbered in signing order.
struct FakeSigner {
    int next = 0;
    std::int64_t at_ns = 0;
    bool fail = false;
    std::size_t operator()(char* out, std::size_t capacity) {
        if (fail) return 0;
        const int n = std::snprintf(out, capacity, "tok-%d@%lld", next++, static_cast<long long>(at_ns / s));
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
};

std::string take(TokenPool& pool, std::int64_t now) {
    std::string out;
    out.reserve(token_max_chars);
    return pool.take(now, out) ? out : std::string();
}

TEST(TokenPool, empty_pool_gives_nothing_and_each_token_is_taken_once) {
    TokenPool pool;
    EXPECT_EQ(take(pool, 0), "");
    FakeSigner sign;
    EXPECT_EQ(pool.refill(0, sign), TokenPool::slots);
    EXPECT_EQ(pool.usable(0), TokenPool::slots);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < TokenPool::slots; ++i) {
        const std::string t = take(pool, s);
        ASSERT_FALSE(t.empty());
        EXPECT_TRUE(seen.insert(t).second) << "token handed out twice: " << t;
    }
    EXPECT_EQ(take(pool, s), "") << "single use: all taken";
    EXPECT_EQ(pool.taken(), TokenPool::slots);
    // Refill fills exactly the freed slots.
    EXPECT_EQ(pool.refill(2 * s, sign), TokenPool::slots);
    EXPECT_EQ(pool.refill(2 * s, sign), 0u) << "nothing to do while every token is young";
}

TEST(TokenPool, the_youngest_token_is_taken_first) {
    TokenPool pool;
    FakeSigner sign;
    (void)pool.refill(0, sign);  // tok-0..3 at 0 s
    (void)take(pool, 0);
    sign.at_ns = 10 * s;
    ASSERT_EQ(pool.refill(10 * s, sign), 1u);  // tok-4 at 10 s into the freed slot
    EXPECT_EQ(take(pool, 11 * s), "tok-4@10");
}

TEST(TokenPool, an_expiring_pool_is_refilled_before_use_and_never_hands_out_a_stale_token) {
    TokenPoolOptions o;  // refresh after 30 s, usable for 60 s
    TokenPool pool(o);
    FakeSigner sign;
    (void)pool.refill(0, sign);  // all signed at 0 s
    sign.at_ns = 29 * s;
    EXPECT_EQ(pool.refill(29 * s, sign), 0u) << "29 s old: still fresh";
    sign.at_ns = 31 * s;
    EXPECT_EQ(pool.refill(31 * s, sign), TokenPool::slots) << "31 s old: every token replaced";
    // 59 s: the exec thread gets a token 28 s old, not one from 0 s that would have 61 s of 120 left.
    const std::string t = take(pool, 59 * s);
    EXPECT_EQ(t.substr(t.find('@')), "@31");
    // The ops thread stalls: at 92 s the tokens from 31 s are 61 s old and none is handed out.
    EXPECT_EQ(pool.usable(92 * s), 0u);
    EXPECT_EQ(take(pool, 92 * s), "");
    // It catches up: fresh tokens at once.
    sign.at_ns = 93 * s;
    EXPECT_EQ(pool.refill(93 * s, sign), TokenPool::slots);
    const std::string u = take(pool, 93 * s);
    EXPECT_EQ(u.substr(u.find('@')), "@93");
}

TEST(TokenPool, a_failed_signature_leaves_the_slot_as_it_was) {
    TokenPool pool;
    FakeSigner sign;
    (void)pool.refill(0, sign);
    sign.fail = true;
    EXPECT_EQ(pool.refill(40 * s, sign), 0u);
    EXPECT_EQ(pool.usable(40 * s), TokenPool::slots) << "old tokens stay usable until they age out";
    EXPECT_EQ(take(pool, 40 * s).substr(0, 4), "tok-");
    EXPECT_EQ(pool.signed_count(), TokenPool::slots);
}

TEST(TokenPool, no_capacity_in_the_destination_takes_nothing) {
    TokenPool pool;
    FakeSigner sign;
    (void)pool.refill(0, sign);
    std::string tiny;  // capacity 15 (small string): "tok-0@0" fits, so fill it first
    tiny.assign(tiny.capacity(), 'x');
    EXPECT_FALSE(pool.take(0, tiny));
    EXPECT_EQ(pool.usable(0), TokenPool::slots) << "the token stays for the next order";
}

TEST(TokenPool, a_refilling_thread_and_a_taking_thread_hand_every_token_over_once) {
    TokenPoolOptions o;
    o.refresh_after_ns = 3;  // clock units here are "ticks": refresh often, to race replacements
    o.usable_for_ns = 6;
    TokenPool pool(o);
    std::atomic<std::int64_t> clock{0};
    std::atomic<bool> done{false};
    std::thread ops([&] {
        int n = 0;
        while (!done.load(std::memory_order_relaxed)) {
            const std::int64_t now = clock.load(std::memory_order_relaxed);
            (void)pool.refill(now, [&](char* out, std::size_t cap) {
                const int len = std::snprintf(out, cap, "%d:%lld", n++, static_cast<long long>(now));
                return static_cast<std::size_t>(len);
            });
        }
    });
    std::vector<std::string> got;
    got.reserve(200'000);
    std::string buf;
    buf.reserve(token_max_chars);
    // Until 2,000 tokens changed hands (or 10 s): the clock moves one tick per 1,000 attempts.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (std::int64_t i = 0; got.size() < 2000 && std::chrono::steady_clock::now() < deadline; ++i) {
        const std::int64_t now = i / 1000;
        clock.store(now, std::memory_order_relaxed);
        buf.clear();
        if (!pool.take(now, buf)) continue;
        const long long signed_at = std::stoll(buf.substr(buf.find(':') + 1));
        ASSERT_LT(now - signed_at, o.usable_for_ns) << "a stale token was handed out: " << buf;
        got.push_back(buf);
    }
    done.store(true);
    ops.join();
    std::set<std::string> unique(got.begin(), got.end());
    EXPECT_EQ(unique.size(), got.size()) << "a token was handed out twice";
    EXPECT_EQ(got.size(), 2000u);
}

}  // namespace
}  // namespace cbtrade
