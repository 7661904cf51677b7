// exec/live_equity with a fake ExchangeAccess: the holdings of a product's two currencies, the
// start-up read, refreshes every period tagged with the exec stage's settled count, none while an
// order is in flight, and failed refreshes counted with the last balances kept and their age shown.
#include "exec/live_equity.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <thread>

#include "core/metrics.hpp"

namespace cbtrade {
namespace {

using rest::Account;
using rest::RestError;
using rest::RestErrorKind;
using rest::RestResult;

constexpr std::int64_t s_ns = 1'000'000'000;

Account account(std::string currency, double available, double hold = 0) {
    Account a;
    a.uuid = "u-" + currency;
    a.currency = std::move(currency);
    a.available = rest::Amount{std::to_string(available), available};
    a.hold = rest::Amount{std::to_string(hold), hold};
    return a;
}

class FakeAccess final : public rest::ExchangeAccess {
public:
    RestResult<std::vector<Account>> accounts() override {
        ++calls;
        if (script.empty())
            return RestResult<std::vector<Account>>::failure(RestError{RestErrorKind::network, 0, {}, "unscripted"});
        auto r = script.front();
        script.pop_front();
        return r;
    }
    RestResult<rest::Product> product(std::string_view) override { return {}; }
    RestResult<std::vector<Candle>> candles(std::string_view, Granularity, std::int64_t, std::int64_t) override {
        return {};
    }
    std::string_view describe() const noexcept override { return "fake"; }
    void ok(std::vector<Account> a) { script.push_back(RestResult<std::vector<Account>>::success(std::move(a))); }
    void fail(int status) {
        script.push_back(RestResult<std::vector<Account>>::failure(
            RestError{RestErrorKind::server_error, status, {}, "list accounts: HTTP " + std::to_string(status)}));
    }
    std::deque<RestResult<std::vector<Account>>> script;
    int calls = 0;
};

struct Rig {
    Rig() : metrics(registry, BuildInfo{}), refresher(access, "BTC-USD", 5 * s_ns, funds, metrics) {
        refresher.attach(settled, in_flight, base_short);
    }
    FakeAccess access;
    LiveFunds funds;
    MetricsRegistry registry;
    BotMetrics metrics;
    std::atomic<std::uint64_t> settled{0};
    std::atomic<bool> in_flight{false};
    std::atomic<bool> base_short{false};
    LiveEquityRefresher refresher;
    std::uint64_t seen = 0;
    bool next(AccountFunds& f) { return funds.read_new(seen, f); }
    // Started at t = 10 s on an account of 1000 USD, the first snapshot taken.
    bool started_with_1000_usd_at_10s() {
        AccountHoldings h;
        AccountFunds f;
        access.ok({account("USD", 1000)});
        return refresher.start(10 * s_ns, h).empty() && next(f);
    }
};

TEST(LiveEquity, holdings_add_up_the_product_currencies_and_ignore_others) {
    const auto h = holdings_of({account("USD", 100, 5), account("BTC", 0.25, 0.05), account("ETH", 9),
                                account("USD", 50), account("USDC", 1000)},
                               "BTC-USD");
    EXPECT_TRUE(h.has_quote);
    EXPECT_TRUE(h.has_base);
    EXPECT_DOUBLE_EQ(h.quote_available, 150);
    EXPECT_DOUBLE_EQ(h.quote_hold, 5);
    EXPECT_DOUBLE_EQ(h.base_total(), 0.3);
    EXPECT_DOUBLE_EQ(h.equity(1000), 450) << "available quote + all base at the price";
    EXPECT_FALSE(holdings_of({account("BTC", 1)}, "BTC-USD").has_quote);
}

TEST(LiveEquity, start_publishes_the_first_balances_or_says_why_not) {
    Rig rig;
    rig.access.fail(503);
    AccountHoldings h;
    const std::string err = rig.refresher.start(s_ns, h);
    EXPECT_NE(err.find("list accounts through fake: list accounts: HTTP 503"), std::string::npos) << err;
    AccountFunds f;
    EXPECT_FALSE(rig.next(f)) << "nothing published after a failure";
    rig.access.ok({account("BTC", 0.5)});
    EXPECT_NE(rig.refresher.start(s_ns, h).find("no USD account"), std::string::npos);
    EXPECT_FALSE(rig.next(f));
    rig.access.ok({account("USD", 2000), account("BTC", 0.5)});
    ASSERT_EQ(rig.refresher.start(s_ns, h), "");
    ASSERT_TRUE(rig.next(f));
    EXPECT_DOUBLE_EQ(f.quote_available, 2000);
    EXPECT_DOUBLE_EQ(f.base_total, 0.5);
    EXPECT_EQ(rig.metrics.live_equity_refreshes.value(), 1u);
}

TEST(LiveEquity, refreshes_every_period_tagged_with_the_settled_count_and_not_while_an_order_is_out) {
    Rig rig;
    ASSERT_TRUE(rig.started_with_1000_usd_at_10s());
    AccountFunds f;
    EXPECT_EQ(rig.refresher.poll(14 * s_ns), 0u);
    EXPECT_EQ(rig.access.calls, 1) << "not before the period";
    // An order is out at the due time: no read until it settled.
    rig.in_flight = true;
    (void)rig.refresher.poll(15 * s_ns);
    (void)rig.refresher.poll(16 * s_ns);
    EXPECT_EQ(rig.access.calls, 1);
    rig.in_flight = false;
    rig.settled = 3;
    rig.access.ok({account("USD", 990), account("BTC", 0.01)});
    EXPECT_EQ(rig.refresher.poll(17 * s_ns), 1u);
    ASSERT_TRUE(rig.next(f));
    EXPECT_DOUBLE_EQ(f.quote_available, 990);
    EXPECT_DOUBLE_EQ(f.base_total, 0.01);
    EXPECT_EQ(f.settled, 3u) << "tagged with the count read before asking";
    EXPECT_EQ(rig.refresher.refreshes(), 2u);
}

TEST(LiveEquity, a_failed_refresh_is_counted_keeps_the_last_balances_and_shows_their_age) {
    Rig rig;
    ASSERT_TRUE(rig.started_with_1000_usd_at_10s());
    AccountFunds f;
    rig.access.fail(500);
    rig.access.fail(500);
    (void)rig.refresher.poll(15 * s_ns);
    (void)rig.refresher.poll(20 * s_ns);
    EXPECT_EQ(rig.metrics.live_equity_refresh_failures.value(), 2u);
    EXPECT_EQ(rig.refresher.failures(), 2u);
    EXPECT_FALSE(rig.next(f)) << "a failure publishes nothing: the exec stage keeps the last balances";
    (void)rig.refresher.poll(22 * s_ns);
    EXPECT_DOUBLE_EQ(rig.metrics.live_equity_age_seconds.value(), 12);
    rig.access.ok({account("USD", 1001)});
    (void)rig.refresher.poll(25 * s_ns);
    ASSERT_TRUE(rig.next(f));
    EXPECT_DOUBLE_EQ(f.quote_available, 1001);
    EXPECT_DOUBLE_EQ(rig.metrics.live_equity_age_seconds.value(), 0);
}

TEST(LiveFunds, a_reader_sees_whole_snapshots_only_while_a_writer_publishes) {
    LiveFunds funds;
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        // Back to back with a yield between: far more often than a refresh ever comes.
        for (std::uint64_t i = 1; !stop.load(); ++i) {
            funds.publish(AccountFunds{static_cast<double>(i), static_cast<double>(i) * 2, i});
            std::this_thread::yield();
        }
    });
    std::uint64_t seen = 0, got = 0, last = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (got < 200 && std::chrono::steady_clock::now() < until) {
        AccountFunds f;
        if (!funds.read_new(seen, f)) continue;
        ++got;
        ASSERT_EQ(f.base_total, f.quote_available * 2) << "torn snapshot";
        ASSERT_EQ(static_cast<double>(f.settled), f.quote_available);
        ASSERT_GT(f.settled, last) << "snapshots only move forward";
        last = f.settled;
    }
    stop = true;
    writer.join();
    EXPECT_GT(got, 0u);
}

}  // namespace
}  // namespace cbtrade
