// pipeline/notifier with a fake poster: what each notice says, one post per second with the notices
// in between folded in, a failed post counted and never retried (later posts wait, doubling), a full
// ring and notices beyond the line limit counted as dropped, halts announced, and at stop the last
// notices posted at once.
#include "pipeline/notifier.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.hpp"

namespace cbtrade {
namespace {

constexpr std::int64_t s_ns = 1'000'000'000;

class FakePoster final : public NoticePoster {
public:
    PostResult post(std::string_view body) override {
        bodies.emplace_back(body);
        if (results.empty()) return {true, {}};
        PostResult r = results.front();
        results.pop_front();
        return r;
    }
    std::vector<std::string> bodies;
    std::deque<PostResult> results;
};

struct Rig {
    Rig() : metrics(registry, BuildInfo{}), notifier(poster, *ring, &halted, "BTC-USD", metrics) {}
    FakePoster poster;
    std::unique_ptr<NoticeRing> ring = std::make_unique<NoticeRing>();
    std::atomic<bool> halted{false};
    MetricsRegistry registry;
    BotMetrics metrics;
    Notifier notifier;
    void push(const Notice& n) { ASSERT_TRUE(ring->try_push(n)); }
};

Notice entry(double qty, double price) {
    return Notice{Fill{60, qty, price, qty * price * 0.006, Side::buy, OrderReason::entry}, 1000, NoticeKind::fill,
                  OrderError::none};
}

TEST(Notifier, each_kind_of_notice_says_what_happened) {
    EXPECT_EQ(Notifier::describe(entry(0.001, 42000)), "ENTRY BUY 0.001 at 42000.00, fee 0.2520 (equity 1000.00)");
    Notice exit{Fill{120, 0.001, 41916, 0.25, Side::sell, OrderReason::stop_loss}, 999.5, NoticeKind::fill,
                OrderError::none};
    EXPECT_EQ(Notifier::describe(exit), "EXIT (stop_loss) SELL 0.001 at 41916.00, fee 0.2500 (equity 999.50)");
    Notice err{Fill{60, 0.002, 42000, 0, Side::buy, OrderReason::entry}, 1000, NoticeKind::order_error,
               OrderError::insufficient_funds};
    EXPECT_NE(Notifier::describe(err).find("ORDER ERROR insufficient_funds: BUY entry 0.002 not filled"),
              std::string::npos)
        << Notifier::describe(err);
    Notice breaker{Fill{60, 0, 41000, 0, Side::buy, OrderReason::entry}, 989, NoticeKind::breaker, OrderError::none};
    EXPECT_NE(Notifier::describe(breaker).find("CIRCUIT BREAKER tripped at 41000.00"), std::string::npos);
}

TEST(Notifier, at_most_one_post_a_second_with_the_notices_in_between_folded_in) {
    Rig rig;
    rig.push(entry(0.001, 42000));
    (void)rig.notifier.poll(10 * s_ns);
    ASSERT_EQ(rig.poster.bodies.size(), 1u);
    EXPECT_EQ(rig.poster.bodies[0],
              R"x({"text":"cbtrade BTC-USD:\nENTRY BUY 0.001 at 42000.00, fee 0.2520 (equity 1000.00)"})x");
    rig.push(entry(0.002, 42000));
    rig.push(entry(0.003, 42000));
    (void)rig.notifier.poll(10 * s_ns + s_ns / 2);
    EXPECT_EQ(rig.poster.bodies.size(), 1u) << "within a second of the last post: waits";
    (void)rig.notifier.poll(11 * s_ns);
    ASSERT_EQ(rig.poster.bodies.size(), 2u);
    EXPECT_NE(rig.poster.bodies[1].find("0.002"), std::string::npos);
    EXPECT_NE(rig.poster.bodies[1].find("0.003"), std::string::npos);
    EXPECT_EQ(rig.metrics.notifications.value(), 2u);
}

TEST(Notifier, a_failed_post_is_counted_never_retried_and_later_posts_back_off) {
    Rig rig;
    rig.poster.results = {{false, "HTTP 500"}, {false, "no answer in time"}, {true, {}}};
    rig.push(entry(0.001, 42000));
    (void)rig.notifier.poll(10 * s_ns);
    EXPECT_EQ(rig.metrics.notifications_failed.value(), 1u);
    (void)rig.notifier.poll(11 * s_ns);
    EXPECT_EQ(rig.poster.bodies.size(), 1u) << "nothing to post: the failed notice is not retried";
    rig.push(entry(0.002, 42000));
    (void)rig.notifier.poll(14 * s_ns);
    EXPECT_EQ(rig.poster.bodies.size(), 1u) << "5 s after a failure at the earliest";
    (void)rig.notifier.poll(15 * s_ns);
    ASSERT_EQ(rig.poster.bodies.size(), 2u);
    EXPECT_EQ(rig.poster.bodies[1].find("0.001"), std::string::npos) << "the failed post's notice is gone";
    EXPECT_EQ(rig.metrics.notifications_failed.value(), 2u);
    rig.push(entry(0.003, 42000));
    (void)rig.notifier.poll(24 * s_ns);
    EXPECT_EQ(rig.poster.bodies.size(), 2u) << "then 10 s";
    (void)rig.notifier.poll(25 * s_ns);
    EXPECT_EQ(rig.poster.bodies.size(), 3u);
    EXPECT_EQ(rig.metrics.notifications.value(), 1u);
}

TEST(Notifier, notices_beyond_the_line_limit_and_a_full_ring_are_dropped_and_counted) {
    Rig rig;
    // The notifier fell behind: the ring fills (256), 10 more are refused by it.
    for (int i = 0; i < 266; ++i) (void)rig.ring->try_push(entry(0.001 * (i + 1), 42000));
    (void)rig.notifier.poll(10 * s_ns);
    ASSERT_EQ(rig.poster.bodies.size(), 1u);
    EXPECT_NE(rig.poster.bodies[0].find("(236 more not shown)"), std::string::npos);
    EXPECT_EQ(rig.metrics.notifications_dropped.value(), 236u + 10u);
}

TEST(Notifier, halts_are_announced_and_the_last_notices_go_out_at_the_stop) {
    Rig rig;
    rig.halted = true;
    (void)rig.notifier.poll(10 * s_ns);
    ASSERT_EQ(rig.poster.bodies.size(), 1u);
    EXPECT_NE(rig.poster.bodies[0].find("HALT ON: no new entries; exits still allowed"), std::string::npos);
    rig.halted = false;
    rig.push(entry(0.001, 42000));
    (void)rig.notifier.poll(10 * s_ns + 1);  // within the second: waits
    EXPECT_FALSE(rig.notifier.drained(0));
    rig.notifier.begin_stop(0);
    (void)rig.notifier.poll(10 * s_ns + 2);
    ASSERT_EQ(rig.poster.bodies.size(), 2u);
    EXPECT_NE(rig.poster.bodies[1].find("HALT OFF"), std::string::npos);
    EXPECT_TRUE(rig.notifier.drained(0));
}

}  // namespace
}  // namespace cbtrade
