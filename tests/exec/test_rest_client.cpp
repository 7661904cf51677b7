// exec/rest_client with a scripted transport and a fake clock: the request budget, retries and
// backoff, JWT headers, and the create-order rule (never a second client_order_id, unknown outcomes
// reported). Time is simulated: nothing here sleeps.
#include <gtest/gtest.h>

#include <deque>
#include <set>
#include <string>
#include <vector>

#include "core/base64.hpp"
#include "exec/jwt.hpp"
#include "exec/rest_client.hpp"
#include "tests/exec/openssl_keys.hpp"
#include "tests/exec/scripted_transport.hpp"

namespace {

using namespace cbtrade;
using namespace cbtrade::rest;

using test::FakeClock;
using test::ScriptedTransport;
using test::Sent;

constexpr std::string_view success_body =
    R"({"success":true,"order_id":"o-1","success_response":{"order_id":"o-1","client_order_id":"c-1"}})";
constexpr std::string_view time_body =
    R"({"iso":"2025-01-15T14:03:07Z","epochSeconds":"1736949787","epochMillis":"1736949787000"})";

class RestClientTest : public ::testing::Test {
protected:
    RestClientTest()
        : key_(test::make_ed25519_key()),
          signer_("organizations/o/apiKeys/k", key_.ed_base64_64, "test"),
          transport_(clock_) {}
    RestClient client(bool with_key = true, RestClientOptions o = {}) {
        o.host = "api.coinbase.com";
        return RestClient(transport_, with_key ? &signer_ : nullptr, o, clock_);
    }
    test::TestKey key_;
    JwtSigner signer_;
    FakeClock clock_;
    ScriptedTransport transport_;
};

TEST_F(RestClientTest, private_requests_carry_a_jwt_bound_to_method_host_and_path) {
    RestClient c = client();
    transport_.answer(200, R"({"accounts":[],"has_next":false,"cursor":""})");
    ASSERT_TRUE(c.accounts_page(250, "").ok());
    ASSERT_EQ(transport_.sent.size(), 1u);
    const Sent& s = transport_.sent[0];
    EXPECT_EQ(s.target, "/api/v3/brokerage/accounts?limit=250");
    ASSERT_TRUE(s.authorization.starts_with("Bearer "));
    const std::string token = s.authorization.substr(7);
    const auto dot1 = token.find('.');
    const auto dot2 = token.find('.', dot1 + 1);
    const std::string payload = base64_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), Base64Alphabet::url).bytes;
    EXPECT_NE(payload.find(R"("uri":"GET api.coinbase.com/api/v3/brokerage/accounts")"), std::string::npos) << payload;
    EXPECT_TRUE(test::verify_jws_signature(key_, token.substr(0, dot2),
                                           base64_decode(token.substr(dot2 + 1), Base64Alphabet::url).bytes));
}

TEST_F(RestClientTest, without_credentials_public_endpoints_are_used_and_private_calls_are_not_sent) {
    RestClient c = client(false);
    transport_.answer(200, R"({"candles":[]})");
    ASSERT_TRUE(c.candles("BTC-USD", Granularity::one_minute, 60, 17999, 300).ok());
    EXPECT_EQ(transport_.sent.back().target.rfind("/api/v3/brokerage/market/products/BTC-USD/candles?", 0), 0u);
    EXPECT_TRUE(transport_.sent.back().authorization.empty());
    const auto r = c.accounts_page(10, "");
    EXPECT_EQ(r.error.kind, RestErrorKind::unauthorized);
    EXPECT_NE(r.error.message.find("needs credentials"), std::string::npos);
    EXPECT_EQ(transport_.sent.size(), 1u) << "a private call without a key is never sent";
}

TEST_F(RestClientTest, the_budget_spaces_requests_below_the_exchange_limit) {
    RestClientOptions o;
    o.public_per_s = 6;
    o.public_burst = 2;
    RestClient c = client(false, o);
    for (int i = 0; i < 20; ++i) {
        transport_.answer(200, std::string(time_body));
        ASSERT_TRUE(c.server_time().ok());
    }
    // In any one-second window at most burst + rate = 8 requests: below the exchange's 10/s.
    const auto& sent = transport_.sent;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        std::size_t in_window = 0;
        for (std::size_t j = i; j < sent.size() && sent[j].at_ns < sent[i].at_ns + 1'000'000'000; ++j) ++in_window;
        EXPECT_LE(in_window, 8u) << "window starting at request " << i;
    }
    EXPECT_GT(c.stats().budget_waits, 0u);
    // And it does not crawl: 20 requests take about (20 - burst) / rate seconds.
    EXPECT_LT(sent.back().at_ns - sent.front().at_ns, 3'200'000'000);
}

TEST_F(RestClientTest, reads_retry_429_and_5xx_with_growing_jittered_backoff) {
    RestClient c = client();
    transport_.answer(429, "<html>too many</html>", "text/html");
    transport_.answer(503, "<html>unavailable</html>", "text/html");
    transport_.fail(TransportFailure::timeout);
    transport_.answer(200, std::string(time_body));
    const auto r = c.server_time();
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(transport_.sent.size(), 4u);
    EXPECT_EQ(c.stats().retries, 3u);
    EXPECT_EQ(c.stats().rate_limited, 1u);
    ASSERT_EQ(clock_.sleeps.size(), 3u);
    EXPECT_GE(clock_.sleeps[0], 500'000'000) << "after a 429: at least half of the 1 s rate-limit backoff";
    EXPECT_LE(clock_.sleeps[0], 1'000'000'000);
    EXPECT_GE(clock_.sleeps[1], 250'000'000);  // second attempt: 500 ms cap, jittered over [250, 500]
    EXPECT_LE(clock_.sleeps[1], 500'000'000);
    EXPECT_GE(clock_.sleeps[2], 500'000'000);  // third: 1 s cap
    EXPECT_LE(clock_.sleeps[2], 1'000'000'000);
}

TEST_F(RestClientTest, retry_after_is_honoured_and_attempts_are_bounded) {
    RestClientOptions o;
    o.max_attempts = 3;
    RestClient c = client(true, o);
    for (int i = 0; i < 3; ++i) {
        TransportResult t{TransportResponse{429, "text/html", "<html></html>", std::string("7")}, {}, {}};
        transport_.script.push_back(t);
    }
    const auto r = c.server_time();
    EXPECT_EQ(r.error.kind, RestErrorKind::rate_limited);
    EXPECT_EQ(transport_.sent.size(), 3u);
    ASSERT_EQ(clock_.sleeps.size(), 2u);
    EXPECT_GE(clock_.sleeps[0], 7'000'000'000);
}

TEST_F(RestClientTest, client_errors_are_not_retried) {
    RestClient c = client();
    transport_.answer(401, "Unauthorized", "text/plain");
    EXPECT_EQ(c.accounts_page(10, "").error.kind, RestErrorKind::unauthorized);
    transport_.answer(404, R"({"error":"NOT_FOUND","message":"Product NOPE-USD not supported"})");
    EXPECT_EQ(c.product("NOPE-USD").error.kind, RestErrorKind::not_found);
    EXPECT_EQ(transport_.sent.size(), 2u);
}

TEST_F(RestClientTest, accounts_follow_the_cursor_and_refuse_a_stuck_one) {
    RestClient c = client();
    transport_.answer(
        200,
        R"({"accounts":[{"uuid":"a1","currency":"USD","available_balance":{"value":"1"}}],"has_next":true,"cursor":"p2"})");
    transport_.answer(
        200,
        R"({"accounts":[{"uuid":"a2","currency":"BTC","available_balance":{"value":"2"}}],"has_next":false,"cursor":""})");
    const auto r = c.all_accounts();
    ASSERT_TRUE(r.ok()) << r.error.message;
    ASSERT_EQ(r.value->size(), 2u);
    EXPECT_EQ(transport_.sent[1].target, "/api/v3/brokerage/accounts?limit=250&cursor=p2");
    transport_.answer(200, R"({"accounts":[],"has_next":true,"cursor":"same"})");
    transport_.answer(200, R"({"accounts":[],"has_next":true,"cursor":"same"})");
    EXPECT_NE(c.all_accounts().error.message.find("did not advance"), std::string::npos);
}

// A fill of order `order` as list-fills answers it.
std::string fill_json(std::string_view entry, std::string_view order) {
    return R"({"entry_id":")" + std::string(entry) + R"(","trade_id":"t","order_id":")" + std::string(order) +
           R"(","trade_time":"2025-01-15T14:03:07Z","price":"97000.5","size":"0.001","commission":"0.58",)" +
           R"("product_id":"BTC-USD","liquidity_indicator":"TAKER","size_in_quote":false,"side":"BUY"})";
}

TEST_F(RestClientTest, fills_follow_the_cursor_and_refuse_another_order_or_a_stuck_cursor) {
    RestClient c = client();
    transport_.answer(200,
                      R"({"fills":[)" + fill_json("e1", "o-1") + "," + fill_json("e2", "o-1") + R"(],"cursor":"f2"})");
    transport_.answer(200, R"({"fills":[)" + fill_json("e3", "o-1") + R"(],"cursor":""})");
    const auto r = c.fills("o-1");
    ASSERT_TRUE(r.ok()) << r.error.message;
    ASSERT_EQ(r.value->size(), 3u);
    EXPECT_EQ((*r.value)[2].entry_id, "e3");
    ASSERT_EQ(transport_.sent.size(), 2u);
    EXPECT_EQ(transport_.sent[0].target, "/api/v3/brokerage/orders/historical/fills?order_ids=o-1");
    EXPECT_EQ(transport_.sent[1].target, "/api/v3/brokerage/orders/historical/fills?order_ids=o-1&cursor=f2");
    EXPECT_FALSE(transport_.sent[1].authorization.empty());

    // A fill of another order would be booked against this one: refused.
    transport_.answer(200, R"({"fills":[)" + fill_json("e1", "o-2") + R"(],"cursor":""})");
    EXPECT_NE(c.fills("o-1").error.message.find("a fill of another order"), std::string::npos);
    // A cursor that does not advance, and more pages than allowed.
    transport_.answer(200, R"({"fills":[],"cursor":"same"})");
    transport_.answer(200, R"({"fills":[],"cursor":"same"})");
    EXPECT_NE(c.fills("o-1").error.message.find("did not advance"), std::string::npos);
    for (int i = 0; i < 3; ++i) transport_.answer(200, R"({"fills":[],"cursor":"p)" + std::to_string(i) + R"("})");
    const auto many = c.fills("o-1", 3);
    EXPECT_EQ(many.error.kind, RestErrorKind::malformed);
    EXPECT_NE(many.error.message.find("more than 3 pages"), std::string::npos);
    // An order id that cannot go into the query is refused before sending.
    const std::size_t before = transport_.sent.size();
    EXPECT_EQ(c.fills("o-1&order_ids=o-2").error.kind, RestErrorKind::invalid_order);
    EXPECT_EQ(transport_.sent.size(), before);
}

// ---- create order --------------------------------------------------------------------------------

MarketOrder buy_order() {
    return MarketOrder{"c-1", "BTC-USD", Side::buy, "25"};
}

TEST_F(RestClientTest, create_order_success_is_sent_once) {
    RestClient c = client();
    transport_.answer(200, std::string(success_body));
    const auto r = c.create_market_order(buy_order());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value->order_id, "o-1");
    ASSERT_EQ(transport_.sent.size(), 1u);
    EXPECT_EQ(transport_.sent[0].method, "POST");
    EXPECT_EQ(transport_.sent[0].content_type, "application/json");
}

TEST_F(RestClientTest, after_a_timeout_or_5xx_the_order_is_resent_with_the_same_client_order_id_only) {
    RestClient c = client();
    transport_.fail(TransportFailure::timeout);
    transport_.answer(500, R"({"error":"INTERNAL","message":"internal error"})");
    transport_.fail(TransportFailure::no_answer);
    transport_.answer(200, std::string(success_body));
    const auto r = c.create_market_order(buy_order());
    ASSERT_TRUE(r.ok()) << r.error.message;
    ASSERT_EQ(transport_.sent.size(), 4u);
    std::set<std::string> bodies;
    for (const auto& s : transport_.sent) bodies.insert(s.body);
    EXPECT_EQ(bodies.size(), 1u) << "every attempt is the same order with the same client_order_id";
    EXPECT_NE(transport_.sent[0].body.find(R"("client_order_id":"c-1")"), std::string::npos);
    std::set<std::string> tokens;
    for (const auto& s : transport_.sent) tokens.insert(s.authorization);
    EXPECT_EQ(tokens.size(), 4u) << "each attempt has its own JWT";
    EXPECT_EQ(c.stats().unknown_outcomes, 3u);
}

TEST_F(RestClientTest, an_outcome_never_seen_is_reported_as_unknown_with_the_client_order_id) {
    RestClientOptions o;
    o.max_attempts = 3;
    RestClient c = client(true, o);
    transport_.fail(TransportFailure::timeout);
    transport_.fail(TransportFailure::timeout);
    transport_.fail(TransportFailure::timeout);
    const auto r = c.create_market_order(buy_order());
    EXPECT_EQ(r.error.kind, RestErrorKind::unknown_outcome);
    EXPECT_NE(r.error.message.find("client_order_id c-1"), std::string::npos) << r.error.message;
    EXPECT_EQ(transport_.sent.size(), 3u);
}

TEST_F(RestClientTest, a_rejection_after_an_unknown_outcome_stays_unknown) {
    // The first attempt may have spent the funds; the second is refused for lack of them.
    RestClient c = client();
    transport_.fail(TransportFailure::no_answer);
    transport_.answer(
        200, R"({"success":false,"error_response":{"error":"INSUFFICIENT_FUND","message":"Insufficient balance"}})");
    const auto r = c.create_market_order(buy_order());
    EXPECT_EQ(r.error.kind, RestErrorKind::unknown_outcome);
    EXPECT_NE(r.error.message.find("INSUFFICIENT_FUND"), std::string::npos) << r.error.message;
    EXPECT_EQ(transport_.sent.size(), 2u);
}

TEST_F(RestClientTest, definite_refusals_are_returned_at_once) {
    RestClient c = client();
    transport_.answer(200, R"({"success":false,"error_response":{"error":"INSUFFICIENT_FUND","message":"m"}})");
    EXPECT_EQ(c.create_market_order(buy_order()).error.kind, RestErrorKind::rejected);
    transport_.answer(401, "Unauthorized", "text/plain");
    EXPECT_EQ(c.create_market_order(buy_order()).error.kind, RestErrorKind::unauthorized);
    EXPECT_EQ(transport_.sent.size(), 2u);
}

TEST_F(RestClientTest, not_sent_and_429_are_retried_and_are_not_unknown) {
    RestClientOptions o;
    o.max_attempts = 3;
    RestClient c = client(true, o);
    transport_.fail(TransportFailure::not_sent);
    transport_.answer(429, "<html></html>", "text/html");
    transport_.answer(429, "<html></html>", "text/html");
    const auto r = c.create_market_order(buy_order());
    EXPECT_EQ(r.error.kind, RestErrorKind::rate_limited) << "nothing may have been placed";
    EXPECT_EQ(c.stats().unknown_outcomes, 0u);
}

TEST_F(RestClientTest, clock_skew_is_the_exchange_clock_minus_ours) {
    RestClient c = client();
    transport_.answer(200, R"({"epochMillis":"1736949798500"})");  // 10.5 s ahead of the fake clock (1736949788000)
    const auto r = c.clock_skew();
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.value->skew_ms, 10'500);
    EXPECT_GT(r.value->skew_ms, clock_skew_warn_ms);
}

TEST_F(RestClientTest, key_permissions_say_whether_the_key_can_trade) {
    RestClient c = client();
    transport_.answer(
        200,
        R"({"can_view":true,"can_trade":false,"can_transfer":false,"portfolio_uuid":"p-1","portfolio_type":"DEFAULT"})");
    const auto r = c.key_permissions();
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_TRUE(r.value->can_view);
    EXPECT_FALSE(r.value->can_trade);
    EXPECT_EQ(transport_.sent.back().target, "/api/v3/brokerage/key_permissions");
    transport_.answer(200, R"({"can_view":"yes"})");
    EXPECT_EQ(c.key_permissions().error.kind, RestErrorKind::malformed);
}

TEST_F(RestClientTest, wait_for_order_polls_until_terminal) {
    RestClient c = client();
    transport_.answer(200, R"({"order":{"order_id":"o-1","product_id":"BTC-USD","side":"BUY","status":"PENDING"}})");
    transport_.answer(200, R"({"order":{"order_id":"o-1","product_id":"BTC-USD","side":"BUY","status":"OPEN"}})");
    transport_.answer(200, R"({"order":{"order_id":"o-1","product_id":"BTC-USD","side":"BUY","status":"FILLED",
      "filled_size":"0.001","average_filled_price":"25000","total_fees":"0.15"}})");
    const auto r = c.wait_for_order("o-1", 5000, 100);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value->status, OrderStatus::filled);
    EXPECT_EQ(transport_.sent.size(), 3u);
    transport_.answer(200, R"({"order":{"order_id":"o-2","product_id":"BTC-USD","side":"BUY","status":"FILLED"}})");
    EXPECT_EQ(c.order("o-1").error.kind, RestErrorKind::malformed) << "an answer about another order";
}

}  // namespace
