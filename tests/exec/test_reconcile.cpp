// exec/reconcile: a live start's reconciliation against a scripted exchange (orders listed by the
// fake venue, time moved by a fake clock). An order found filled (in full or in part, IOC) has its
// fill applied to the books with the trader's arithmetic; one found ended with nothing filled, or
// not found after a second look 2 s later, is ended with nothing filled; one still open after 30 s
// is a difference. Balances are compared with the last live start's plus what the books moved; a
// difference is reported, never fixed; a REST failure throws (nothing decided). The journal written
// from a reconciliation reads back as ended orders with the same books.
#include "exec/reconcile.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "exec/live_orders.hpp"
#include "exec/rest_client.hpp"
#include "tests/exec/scripted_transport.hpp"

namespace cbtrade {
namespace {

using rest::RestError;
using rest::RestErrorKind;
using rest::RestResult;

constexpr std::string_view id_a = "0d6b5c2e-7f3a-4c1e-9a55-3e2b8c1f0a77";
constexpr std::string_view id_b = "1e7c6d3f-8a4b-4d2f-8b66-4f3c9d2a1b88";

// The exchange as reconciliation sees it: orders (newest first), balances, and scripted changes.
class FakeVenue final : public ReconcileVenue {
public:
    RestResult<rest::OrdersPage> orders_page(std::string_view product_id, std::int64_t start_unix_s, std::size_t limit,
                                             std::string_view cursor) override {
        ++list_calls;
        starts.push_back(start_unix_s);
        if (fail_lists)
            return RestResult<rest::OrdersPage>::failure(
                RestError{RestErrorKind::server_error, 503, {}, "list orders: HTTP 503"});
        if (list_calls == appear_at_call) orders.insert(orders.begin(), late);
        if (open_until_call > 0 && list_calls >= open_until_call)
            for (rest::Order& o : orders)
                if (o.status == rest::OrderStatus::open) {
                    o.status = rest::OrderStatus::filled;
                }
        EXPECT_EQ(product_id, "BTC-USD");
        const std::size_t from = cursor.empty() ? 0 : std::stoul(std::string(cursor));
        rest::OrdersPage page;
        for (std::size_t i = from; i < orders.size() && page.orders.size() < limit; ++i)
            page.orders.push_back(orders[i]);
        page.has_next = from + page.orders.size() < orders.size() || endless;
        if (page.has_next) page.cursor = std::to_string(from + page.orders.size() + (endless ? 1 : 0));
        return RestResult<rest::OrdersPage>::success(page);
    }
    RestResult<std::vector<rest::Account>> accounts() override {
        if (fail_accounts)
            return RestResult<std::vector<rest::Account>>::failure(
                RestError{RestErrorKind::network, 0, {}, "list accounts: connection refused"});
        std::vector<rest::Account> out;
        rest::Account usd;
        usd.currency = "USD";
        usd.available.value = usd_available;
        usd.hold.value = usd_hold;
        rest::Account btc;
        btc.currency = "BTC";
        btc.available.value = btc_available;
        rest::Account eth;
        eth.currency = "ETH";
        eth.available.value = 7;
        out = {usd, btc, eth};
        return RestResult<std::vector<rest::Account>>::success(out);
    }

    std::vector<rest::Order> orders;
    rest::Order late;  // inserted at list call `appear_at_call`
    int appear_at_call = 0;
    int open_until_call = 0;  // open orders become filled from this list call on (0: never)
    bool endless = false;     // every page says has_next
    bool fail_lists = false;
    bool fail_accounts = false;
    double usd_available = 0;
    double usd_hold = 0;
    double btc_available = 0;
    int list_calls = 0;
    std::vector<std::int64_t> starts;
};

rest::Order exchange_order(std::string_view client_id, rest::OrderStatus status, double filled, double value,
                           double fees, Side side = Side::buy) {
    rest::Order o;
    o.order_id = "5e1f0000-0000-4000-8000-00000000000" + std::to_string(static_cast<int>(status));
    o.client_order_id = std::string(client_id);
    o.product_id = "BTC-USD";
    o.side = side;
    o.status = status;
    o.filled_size = rest::Amount{std::to_string(filled), filled};
    o.filled_value = rest::Amount{std::to_string(value), value};
    o.total_fees = rest::Amount{std::to_string(fees), fees};
    o.average_filled_price = rest::Amount{"50000", filled > 0 ? 50000.0 : 0.0};
    return o;
}

// Someone else's order (another client_order_id).
rest::Order other_order(int n) {
    rest::Order o = exchange_order("9f000000-0000-4000-8000-0000000000" + std::to_string(10 + n),
                                   rest::OrderStatus::filled, 0.001, 50, 0.3);
    return o;
}

struct ReconcileTest : ::testing::Test {
    ReconcileTest() {
        params.order_min_usd = 1;
        product.product_id = "BTC-USD";
        product.base = "BTC";
        product.quote = "USD";
        // The journal: flat with 1000 USD; one open BUY entry of 25 USD at 50000 sent a minute ago.
        TraderBooks b = Trader(params, 1000).books();
        recovered.found = true;
        recovered.books = b;
    }
    void open_buy(std::string_view id, double qty = 0.0005, double filled_already = 0) {
        journal::OpenOrder o;
        std::memcpy(o.intent.client_order_id.data(), id.data(), id.size());
        o.intent.side = Side::buy;
        o.intent.reason = OrderReason::entry;
        o.intent.live = 1;
        std::memcpy(o.intent.size.data(), "25", 2);
        o.intent.size_chars = 2;
        o.intent.qty = qty;
        o.intent.ref_price = 50000;
        o.intent.time_s = 1'736'949'700;
        o.intent.unix_ns = clock.unix_ms() * 1'000'000 - 60'000'000'000;
        o.filled_qty = filled_already;
        recovered.open_orders.push_back(o);
    }
    // The last live start's balances: 100000 USD, 1 BTC, with the books as they are.
    void baseline(double usd = 100000, double btc = 1) {
        journal::AccountRecord a;
        a.base_total = btc;
        a.quote_total = usd;
        a.position_qty = recovered.books->position_qty;
        a.cash_usd = recovered.books->cash_usd;
        recovered.account = a;
    }
    Reconciliation run() { return reconcile(venue, clock, recovered, params, product); }

    TraderParams params;
    ReconcileProduct product;
    journal::Recovered recovered;
    FakeVenue venue;
    test::FakeClock clock;
};

TEST_F(ReconcileTest, a_filled_order_is_found_by_client_order_id_and_its_fill_applied_as_a_settlement_would) {
    open_buy(id_a);
    baseline();
    venue.orders = {other_order(1), exchange_order(id_a, rest::OrderStatus::filled, 0.000497, 24.85, 0.15),
                    other_order(2)};
    // The exchange after the fill: 25 USD spent, 0.000497 BTC more.
    venue.usd_available = 100000 - 25;
    venue.btc_available = 1.000497;
    const Reconciliation r = run();
    ASSERT_EQ(r.orders.size(), 1u);
    EXPECT_EQ(r.orders[0].finding, OrderFinding::filled);
    EXPECT_TRUE(r.orders[0].fill_applied);
    EXPECT_DOUBLE_EQ(r.orders[0].outcome.fill.qty, 0.000497);
    EXPECT_EQ(std::string(r.orders[0].outcome.order_id.data(), r.orders[0].outcome.order_id_chars),
              venue.orders[1].order_id);
    // The books: what the trader's on_fill makes of the exchange's fill, as the desk's settlement.
    Trader t(params, 0);
    t.restore(*recovered.books);
    t.on_fill(outcome_of(venue.orders[1], OrderRequest{0, 0.0005, 50000, Side::buy, OrderReason::entry}).fill);
    ASSERT_TRUE(r.books);
    const TraderBooks want = t.books();
    EXPECT_EQ(std::memcmp(&*r.books, &want, sizeof(TraderBooks)), 0);
    EXPECT_DOUBLE_EQ(r.books->position_qty, 0.000497);
    EXPECT_NEAR(r.books->cash_usd, 1000 - 25, 1e-9) << "filled_value + fees left the cash";
    EXPECT_TRUE(r.clean()) << (r.differences.empty() ? "" : r.differences[0]);
    // Listed from the intent's wall time less the margin.
    ASSERT_FALSE(venue.starts.empty());
    EXPECT_EQ(venue.starts[0], recovered.open_orders[0].intent.unix_ns / 1'000'000'000 - ReconcileOptions{}.lookback_s);
    const journal::AccountRecord next = r.account_record(5);
    EXPECT_DOUBLE_EQ(next.base_total, 1.000497);
    EXPECT_DOUBLE_EQ(next.position_qty, 0.000497);
}

TEST_F(ReconcileTest, a_partly_filled_ioc_order_applies_only_what_was_filled) {
    open_buy(id_a);
    baseline();
    venue.orders = {exchange_order(id_a, rest::OrderStatus::cancelled, 0.0002, 10, 0.06)};
    venue.usd_available = 100000 - 10.06;
    venue.btc_available = 1.0002;
    const Reconciliation r = run();
    ASSERT_EQ(r.orders.size(), 1u);
    EXPECT_EQ(r.orders[0].finding, OrderFinding::filled);
    EXPECT_DOUBLE_EQ(r.books->position_qty, 0.0002);
    EXPECT_NEAR(r.books->cash_usd, 1000 - 10.06, 1e-9);
    EXPECT_TRUE(r.clean()) << (r.differences.empty() ? "" : r.differences[0]);
}

TEST_F(ReconcileTest, an_order_ended_with_nothing_filled_changes_nothing) {
    open_buy(id_a);
    baseline();
    venue.orders = {exchange_order(id_a, rest::OrderStatus::expired, 0, 0, 0)};
    venue.usd_available = 100000;
    venue.btc_available = 1;
    const Reconciliation r = run();
    EXPECT_EQ(r.orders[0].finding, OrderFinding::nothing_filled);
    EXPECT_FALSE(r.orders[0].fill_applied);
    EXPECT_EQ(std::memcmp(&*r.books, &*recovered.books, sizeof(TraderBooks)), 0);
    EXPECT_TRUE(r.clean());
}

TEST_F(ReconcileTest, not_found_is_asked_again_after_2_s_then_ended_with_nothing_filled) {
    open_buy(id_a);
    baseline();
    venue.orders = {other_order(1)};
    venue.usd_available = 100000;
    venue.btc_available = 1;
    const Reconciliation r = run();
    ASSERT_EQ(r.orders.size(), 1u);
    EXPECT_EQ(r.orders[0].finding, OrderFinding::not_found);
    EXPECT_EQ(r.orders[0].outcome.fill.qty, 0);
    EXPECT_EQ(venue.list_calls, 2) << "asked twice";
    ASSERT_EQ(clock.sleeps.size(), 1u);
    EXPECT_EQ(clock.sleeps[0], 2'000'000'000);
    EXPECT_EQ(std::memcmp(&*r.books, &*recovered.books, sizeof(TraderBooks)), 0) << "no fill invented";
    EXPECT_TRUE(r.clean());
}

TEST_F(ReconcileTest, an_order_listed_only_on_the_second_look_is_found) {
    open_buy(id_a);
    baseline();
    venue.late = exchange_order(id_a, rest::OrderStatus::filled, 0.000497, 24.85, 0.15);
    venue.appear_at_call = 2;
    venue.usd_available = 100000 - 25;
    venue.btc_available = 1.000497;
    const Reconciliation r = run();
    EXPECT_EQ(r.orders[0].finding, OrderFinding::filled);
    EXPECT_DOUBLE_EQ(r.books->position_qty, 0.000497);
    EXPECT_TRUE(r.clean());
}

TEST_F(ReconcileTest, an_open_order_is_polled_until_terminal) {
    open_buy(id_a);
    baseline();
    venue.orders = {exchange_order(id_a, rest::OrderStatus::open, 0.000497, 24.85, 0.15)};
    venue.open_until_call = 4;
    venue.usd_available = 100000 - 25;
    venue.btc_available = 1.000497;
    const Reconciliation r = run();
    EXPECT_EQ(r.orders[0].finding, OrderFinding::filled);
    EXPECT_EQ(venue.list_calls, 4);
    EXPECT_TRUE(r.clean());
}

TEST_F(ReconcileTest, an_order_still_open_after_30_s_is_a_difference_and_gets_no_fill) {
    open_buy(id_a);
    baseline();
    venue.orders = {exchange_order(id_a, rest::OrderStatus::open, 0, 0, 0)};
    venue.usd_available = 100000;
    venue.btc_available = 1;
    const Reconciliation r = run();
    EXPECT_EQ(r.orders[0].finding, OrderFinding::still_open);
    EXPECT_TRUE(r.order_still_open());
    EXPECT_FALSE(r.clean());
    EXPECT_NE(r.differences[0].find("still OPEN"), std::string::npos) << r.differences[0];
    EXPECT_LE(clock.now - 1'000'000'000, 32'000'000'000) << "bounded";
    EXPECT_GE(clock.now - 1'000'000'000, 30'000'000'000);
}

TEST_F(ReconcileTest, a_fill_journaled_before_the_crash_is_not_applied_twice) {
    // The fill and the books were written, the end was lost: the books hold the fill already.
    TraderBooks b = *recovered.books;
    Trader t(params, 0);
    t.restore(b);
    const rest::Order o = exchange_order(id_a, rest::OrderStatus::filled, 0.000497, 24.85, 0.15);
    t.on_fill(outcome_of(o, OrderRequest{0, 0.0005, 50000, Side::buy, OrderReason::entry}).fill);
    baseline();  // before the fill
    recovered.books = t.books();
    open_buy(id_a, 0.0005, 0.000497);
    venue.orders = {o};
    venue.usd_available = 100000 - 25;
    venue.btc_available = 1.000497;
    const Reconciliation r = run();
    EXPECT_EQ(r.orders[0].finding, OrderFinding::filled);
    EXPECT_FALSE(r.orders[0].fill_applied);
    EXPECT_DOUBLE_EQ(r.books->position_qty, 0.000497) << "once";
    EXPECT_TRUE(r.clean()) << (r.differences.empty() ? "" : r.differences[0]);
}

TEST_F(ReconcileTest, balances_the_journal_cannot_explain_are_differences_never_fixed) {
    baseline();
    venue.usd_available = 100000;
    venue.usd_hold = 0;
    venue.btc_available = 0.99;  // 0.01 BTC left the account without this daemon
    const Reconciliation r = run();
    ASSERT_EQ(r.differences.size(), 1u);
    EXPECT_NE(r.differences[0].find("BTC: the journal says the account should hold 1.00000000"), std::string::npos)
        << r.differences[0];
    EXPECT_NE(r.differences[0].find("the exchange holds 0.99000000: a difference of -0.01000000"), std::string::npos)
        << r.differences[0];
    EXPECT_EQ(std::memcmp(&*r.books, &*recovered.books, sizeof(TraderBooks)), 0) << "the books are not touched";
    venue.btc_available = 1;
    venue.usd_available = 100000.5;  // USD appeared
    const Reconciliation q = run();
    ASSERT_EQ(q.differences.size(), 1u);
    EXPECT_NE(q.differences[0].find("USD: the journal says the account should hold 100000.00"), std::string::npos)
        << q.differences[0];
    // With USE_LIVE_EQUITY the quote is not compared (the base still is).
    ReconcileOptions live_equity;
    live_equity.compare_quote = false;
    EXPECT_TRUE(reconcile(venue, clock, recovered, params, product, live_equity).clean());
    venue.btc_available = 0.99;
    EXPECT_EQ(reconcile(venue, clock, recovered, params, product, live_equity).differences.size(), 1u);
    // Within one increment (and USD on hold counted): no difference.
    venue.usd_available = 99990.005;
    venue.usd_hold = 10;
    venue.btc_available = 1.00000001;
    EXPECT_TRUE(run().clean());
}

TEST_F(ReconcileTest, without_an_earlier_live_start_the_account_must_hold_the_books_position) {
    TraderBooks b = *recovered.books;
    b.position_qty = 0.5;
    recovered.books = b;
    venue.btc_available = 0.2;
    venue.usd_available = 5;
    const Reconciliation r = run();
    ASSERT_EQ(r.differences.size(), 1u);
    EXPECT_NE(r.differences[0].find("the journal's position is 0.50000000 but the exchange holds only 0.20000000"),
              std::string::npos)
        << r.differences[0];
    venue.btc_available = 3;  // more than the position: base the daemon did not buy
    EXPECT_TRUE(run().clean());
}

TEST_F(ReconcileTest, rest_failures_and_too_many_pages_throw_before_anything_is_decided) {
    open_buy(id_a);
    venue.fail_lists = true;
    EXPECT_THROW((void)run(), RunError);
    venue.fail_lists = false;
    venue.endless = true;
    for (int i = 0; i < 5; ++i) venue.orders.push_back(other_order(i));
    try {
        (void)run();
        ADD_FAILURE() << "more pages than allowed were read";
    } catch (const RunError& e) {
        EXPECT_NE(std::string(e.what()).find("refusing to guess"), std::string::npos) << e.what();
    }
    venue.endless = false;
    venue.fail_accounts = true;
    EXPECT_THROW((void)run(), RunError);
}

TEST_F(ReconcileTest, several_open_orders_are_settled_oldest_first) {
    open_buy(id_b);
    open_buy(id_a);
    recovered.open_orders[1].intent.unix_ns -= 10'000'000'000;  // id_a is older
    baseline();
    venue.orders = {exchange_order(id_b, rest::OrderStatus::filled, 0.0001, 5, 0.03),
                    exchange_order(id_a, rest::OrderStatus::filled, 0.0002, 10, 0.06)};
    venue.usd_available = 100000 - 15.09;
    venue.btc_available = 1.0003;
    const Reconciliation r = run();
    ASSERT_EQ(r.orders.size(), 2u);
    EXPECT_EQ(std::string(r.orders[0].intent.client_order_id.data(), 36), id_a);
    EXPECT_DOUBLE_EQ(r.books->position_qty, 0.0003);
    EXPECT_TRUE(r.clean()) << (r.differences.empty() ? "" : r.differences[0]);
}

}  // namespace
}  // namespace cbtrade
