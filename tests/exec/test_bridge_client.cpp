// exec/bridge_client: the daemon's side of the bridge with a scripted transport and a fake clock:
// the bridge's own answers decoded from a pass/fail corpus (tolerant shapes: numbers as strings or
// numbers, unknown members; refusals for anything else), requests on BRIDGE_URL's path, reads retried
// on 5xx and network failures, an order resent only with the same client_order_id and unknown_outcome
// when no answer was seen, ExchangeAccess paging through the bridge, and the bridge broker settling an
// order through the order desk over the bridge.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/metrics.hpp"
#include "exec/bridge_client.hpp"
#include "exec/live_orders.hpp"
#include "tests/exec/scripted_transport.hpp"

namespace cbtrade {
namespace {

using rest::BridgeClient;
using rest::BridgeClientOptions;
using rest::HttpAnswer;
using rest::RestErrorKind;
using rest::TransportFailure;
using test::FakeClock;
using test::ScriptedTransport;

HttpAnswer json(std::string_view body, int status = 200) {
    return HttpAnswer{status, "application/json", body};
}

TEST(BridgeDecode, health_corpus) {
    for (const char* pass :
         {R"({"status":"ok"})", R"({"ok":true})", R"({})", R"({"status":"healthy","x":[1,2]})",
          R"({"status":"ok","ok":true,"exchange":"https://api.coinbase.com","products":["BTC-USD"]})"}) {
        const auto r = rest::decode_bridge_health(json(pass));
        EXPECT_TRUE(r.ok()) << pass << ": " << r.error.message;
    }
    for (const char* fail : {R"({"status":"degraded"})", R"({"ok":false})", R"({"ok":"yes"})", R"([])", R"(ok)", "",
                             R"({"status":1})", "{\"status\":\"o\x01k\"}"}) {
        const auto r = rest::decode_bridge_health(json(fail));
        EXPECT_FALSE(r.ok()) << fail;
        EXPECT_EQ(r.error.kind, RestErrorKind::malformed) << fail;
        for (char c : r.error.message) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "printable: " << fail;
    }
    EXPECT_EQ(rest::decode_bridge_health(json(R"({"status":"ok"})", 503)).error.kind, RestErrorKind::server_error);
    EXPECT_EQ(rest::decode_bridge_health(HttpAnswer{502, "text/html", "<html>bad gateway</html>"}).error.kind,
              RestErrorKind::server_error);
}

TEST(BridgeDecode, price_corpus) {
    struct Pass {
        const char* body;
        double price;
        bool stale;
    };
    for (const Pass& p :
         {Pass{
              R"({"product_id":"BTC-USD","price":"42000.5","time":"2024-01-01T00:00:00Z","age_sec":0.2,"stale":false})",
              42000.5, false},
          Pass{R"({"product_id":"BTC-USD","price":42000.5})", 42000.5, false},
          Pass{R"({"product_id":"BTC-USD","price":"1.5","stale":true,"age_sec":"12.5","extra":{"a":1}})", 1.5, true}}) {
        const auto r = rest::decode_bridge_price(json(p.body));
        ASSERT_TRUE(r.ok()) << p.body << ": " << r.error.message;
        EXPECT_EQ(r.value->price.value, p.price);
        EXPECT_EQ(r.value->stale, p.stale);
    }
    for (const char* fail :
         {R"({"price":"1"})", R"({"product_id":"BTC-USD"})", R"({"product_id":"BTC-USD","price":"-1"})",
          R"({"product_id":"BTC-USD","price":"1e400"})", R"({"product_id":"BTC-USD","price":"abc"})",
          R"({"product_id":"btc usd","price":"1"})", R"({"product_id":"BTC-USD","price":"1","stale":"no"})",
          R"({"product_id":"BTC-USD","price":"1","age_sec":-3})", R"(["BTC-USD",1])"}) {
        const auto r = rest::decode_bridge_price(json(fail));
        EXPECT_FALSE(r.ok()) << fail;
    }
    const auto no_tick = rest::decode_bridge_price(
        json(R"({"error":"no_tick","product_id":"BTC-USD","message":"no ticker has arrived"})", 503));
    ASSERT_FALSE(no_tick.ok());
    EXPECT_EQ(no_tick.error.kind, RestErrorKind::server_error);
    EXPECT_EQ(no_tick.error.code, "no_tick");
}

class BridgeClientTest : public ::testing::Test {
protected:
    BridgeClientTest() : transport_(clock_), client_(transport_, options(), clock_) {}
    static BridgeClientOptions options() {
        BridgeClientOptions o;
        o.base_path = "/bridge";
        o.describe = "bridge (http://bridge:8787/bridge)";
        return o;
    }
    FakeClock clock_;
    ScriptedTransport transport_;
    BridgeClient client_;
};

TEST_F(BridgeClientTest, reads_go_to_the_bridge_paths_and_are_retried_on_5xx_and_network_failures) {
    transport_.answer(503, R"({"error":"server_error","message":"exchange unreachable"})");
    transport_.fail(TransportFailure::no_answer);
    transport_.answer(200, R"({"accounts":[],"has_next":false,"cursor":""})");
    const auto accounts = client_.accounts_page(250, "c-1");
    ASSERT_TRUE(accounts.ok()) << accounts.error.message;
    ASSERT_EQ(transport_.sent.size(), 3u);
    EXPECT_EQ(transport_.sent[0].target, "/bridge/accounts?limit=250&cursor=c-1");
    EXPECT_EQ(transport_.sent[2].method, "GET");

    transport_.answer(400, R"({"error":"bad_request","message":"product id must be like BTC-USD"})");
    const auto bad = client_.product("BTC-USD");
    EXPECT_EQ(bad.error.kind, RestErrorKind::bad_request);
    EXPECT_EQ(transport_.sent.size(), 4u) << "a 4xx is not retried";
    EXPECT_EQ(transport_.sent[3].target, "/bridge/product/BTC-USD");

    transport_.answer(200,
                      R"({"product_id":"ETH-USD","price":"1","base_increment":"0.01","quote_increment":"0.01",)"
                      R"("base_min_size":"0.01","base_max_size":"100","quote_min_size":"1","quote_max_size":"1000",)"
                      R"("status":"online"})");
    EXPECT_EQ(client_.product("BTC-USD").error.kind, RestErrorKind::malformed) << "another product's answer";

    transport_.answer(200, R"({"candles":[{"start":"1700000100","low":"1","high":"2","open":"1.5","close":"1.5",)"
                           R"("volume":"3"},{"start":1700000040,"low":1,"high":2,"open":1,"close":2,"volume":0}]})");
    const auto candles = client_.candles("BTC-USD", Granularity::one_minute, 1'700'000'040, 1'700'000'219, 3);
    ASSERT_TRUE(candles.ok()) << candles.error.message;
    ASSERT_EQ(candles.value->size(), 2u);
    EXPECT_EQ((*candles.value)[0].time_s, 1'700'000'040) << "oldest first, numbers or strings";
    EXPECT_EQ(transport_.sent.back().target,
              "/bridge/candles?product_id=BTC-USD&granularity=ONE_MINUTE&limit=3&start=1700000040&end=1700000219");

    transport_.answer(200, R"({"product_id":"BTC-USD","price":"42000","stale":true})");
    const auto price = client_.price("BTC-USD");
    ASSERT_TRUE(price.ok());
    EXPECT_TRUE(price.value->stale);
    EXPECT_EQ(transport_.sent.back().target, "/bridge/price?product_id=BTC-USD");
}

TEST_F(BridgeClientTest, health_is_asked_once) {
    transport_.fail(TransportFailure::not_sent);
    const auto h = client_.health();
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error.kind, RestErrorKind::network);
    EXPECT_EQ(transport_.sent.size(), 1u);
    EXPECT_EQ(transport_.sent[0].target, "/bridge/health");
}

rest::MarketOrder buy_order() {
    return rest::MarketOrder{"0d6b5c2e-7f3a-4c1e-9a55-3e2b8c1f0a77", "BTC-USD", Side::buy, "25.00"};
}
constexpr std::string_view created =
    R"({"success":true,"success_response":{"order_id":"o-1","product_id":"BTC-USD","side":"BUY",)"
    R"("client_order_id":"0d6b5c2e-7f3a-4c1e-9a55-3e2b8c1f0a77"}})";
constexpr std::string_view insufficient =
    R"({"success":false,"failure_reason":"UNKNOWN_FAILURE_REASON","order_id":"",)"
    R"("error_response":{"error":"INSUFFICIENT_FUND","message":"Insufficient balance in source account"}})";

TEST_F(BridgeClientTest, an_order_is_resent_only_with_its_client_order_id) {
    transport_.fail(TransportFailure::timeout);
    transport_.answer(504, R"({"error":"unknown_outcome","client_order_id":"0d6b5c2e-7f3a-4c1e-9a55-3e2b8c1f0a77"})");
    transport_.answer(200, std::string(created));
    const auto r = client_.create_market_order(buy_order());
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.value->order_id, "o-1");
    ASSERT_EQ(transport_.sent.size(), 3u);
    for (const auto& s : transport_.sent) {
        EXPECT_EQ(s.method, "POST");
        EXPECT_EQ(s.target, "/bridge/order/market");
        EXPECT_EQ(s.body, transport_.sent[0].body) << "the same body, the same client_order_id";
        EXPECT_EQ(s.content_type, "application/json");
    }
    EXPECT_EQ(transport_.sent[0].body,
              R"({"product_id":"BTC-USD","side":"BUY","quote_size":"25.00","client_order_id":")"
              R"(0d6b5c2e-7f3a-4c1e-9a55-3e2b8c1f0a77"})");

    const rest::MarketOrder sell{"sell-1", "BTC-USD", Side::sell, "0.0015"};
    transport_.answer(200, R"({"success":true,"success_response":{"order_id":"o-2"}})");
    ASSERT_TRUE(client_.create_market_order(sell).ok());
    EXPECT_NE(transport_.sent.back().body.find(R"("side":"SELL","base_size":"0.0015")"), std::string::npos);
}

TEST_F(BridgeClientTest, no_answer_seen_is_unknown_outcome_and_a_refusal_after_it_settles_nothing) {
    transport_.fail(TransportFailure::no_answer);
    transport_.answer(502, "<html>bad gateway</html>", "text/html");
    transport_.answer(200, std::string(insufficient));
    const auto r = client_.create_market_order(buy_order());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.kind, RestErrorKind::unknown_outcome) << r.error.message;
    EXPECT_EQ(transport_.sent.size(), 3u);

    transport_.sent.clear();
    transport_.answer(200, std::string(insufficient));
    const auto refused = client_.create_market_order(buy_order());
    EXPECT_EQ(refused.error.kind, RestErrorKind::rejected);
    EXPECT_EQ(refused.error.code, "INSUFFICIENT_FUND");
    EXPECT_EQ(transport_.sent.size(), 1u) << "a refusal of the first attempt is final";

    transport_.sent.clear();
    transport_.fail(TransportFailure::not_sent);
    transport_.fail(TransportFailure::not_sent);
    transport_.fail(TransportFailure::not_sent);
    EXPECT_EQ(client_.create_market_order(buy_order()).error.kind, RestErrorKind::network)
        << "never sent: no unknown outcome";

    transport_.answer(429, "<html>slow down</html>", "text/html");
    transport_.answer(200, std::string(created));
    EXPECT_TRUE(client_.create_market_order(buy_order()).ok()) << "429 survived";
    transport_.answer(200, R"({"success":true,"success_response":{"order_id":"o-9","client_order_id":"other"}})");
    EXPECT_EQ(client_.create_market_order(buy_order()).error.kind, RestErrorKind::unknown_outcome)
        << "an answer for another client_order_id settles nothing";
    EXPECT_EQ(client_.create_market_order(rest::MarketOrder{"bad id", "BTC-USD", Side::buy, "1"}).error.kind,
              RestErrorKind::invalid_order);
}

TEST(BridgeClientOptions, from_bridge_url) {
    Config c;
    c.bridge_url = "http://bridge:8787";
    auto o = rest::bridge_client_options(c);
    EXPECT_EQ(o.base_path, "");
    EXPECT_EQ(o.describe, "bridge (http://bridge:8787)") << "plaintext to a container host is accepted for the bridge";
    c.bridge_url = "https://bridge.internal/api/";
    o = rest::bridge_client_options(c);
    EXPECT_EQ(o.base_path, "/api");
    c.bridge_url = "http://bridge:8787/?x=1";
    EXPECT_THROW((void)rest::bridge_client_options(c), ConfigError);
    c.bridge_url = "ftp://bridge";
    EXPECT_THROW((void)rest::bridge_client_options(c), ConfigError);
    c.bridge_url = "";
    EXPECT_THROW((void)rest::bridge_client_options(c), ConfigError);
    EXPECT_FALSE(io::parse_url("http://bridge:8787")) << "everywhere else plaintext stays loopback-only";
}

TEST_F(BridgeClientTest, exchange_access_pages_candles_and_follows_accounts) {
    auto access = rest::make_bridge_exchange_access(client_);
    EXPECT_EQ(access->describe(), "bridge (http://bridge:8787/bridge)");
    transport_.answer(200, R"({"candles":[]})");
    transport_.answer(200, R"({"candles":[]})");
    const auto c = access->candles("BTC-USD", Granularity::one_minute, 1'700'000'040, 1'700'000'040 + 399 * 60);
    ASSERT_TRUE(c.ok()) << c.error.message;
    ASSERT_EQ(transport_.sent.size(), 2u) << "400 buckets: two pages of at most 300";
    EXPECT_NE(transport_.sent[0].target.find("&limit=300&start=1700000040&end=1700018039"), std::string::npos)
        << transport_.sent[0].target;
    EXPECT_EQ(access->candles("BTC-USD", Granularity::one_minute, 0, 1'700'000'000).error.kind,
              RestErrorKind::invalid_order);

    transport_.sent.clear();
    transport_.answer(200, R"({"accounts":[{"uuid":"u-1","currency":"USD","available_balance":{"value":"10"}}],)"
                           R"("has_next":true,"cursor":"2"})");
    transport_.answer(200, R"({"accounts":[{"uuid":"u-2","currency":"BTC","available_balance":{"value":0.5}}],)"
                           R"("has_next":false,"cursor":""})");
    const auto a = access->accounts();
    ASSERT_TRUE(a.ok()) << a.error.message;
    ASSERT_EQ(a.value->size(), 2u);
    EXPECT_EQ((*a.value)[1].available.value, 0.5);
    EXPECT_EQ(transport_.sent[1].target, "/bridge/accounts?limit=250&cursor=2");
}

TEST(BridgeBroker, an_order_goes_through_the_desk_and_the_bridge_and_settles_with_its_fill) {
    FakeClock clock;
    ScriptedTransport transport(clock);
    BridgeClient client(transport, BridgeClientOptions{}, clock);
    MetricsRegistry registry;
    BotMetrics metrics(registry, BuildInfo{});
    OrderTicketRing tickets;
    OrderSettlementRing settlements;
    std::unique_ptr<OrderVenue> venue = make_bridge_order_venue(client);
    OrderDeskOptions desk_options;
    desk_options.log = false;
    OrderDesk desk(*venue, "BTC-USD", tickets, settlements, &metrics, desk_options, clock);
    rest::Product p;
    p.product_id = "BTC-USD";
    p.base_increment = *DecimalIncrement::parse("0.00000001");
    p.quote_increment = *DecimalIncrement::parse("0.01");
    p.quote_min_size = {"1", 1};
    p.base_min_size = {"0.00000001", 1e-8};
    BridgeBroker broker(tickets, settlements, LiveProduct::from(p), 1, 2);

    OrderOutcome out{};
    const OrderRequest buy{1'700'000'000, 0.0006, 41'666, Side::buy, OrderReason::entry};
    ASSERT_FALSE(broker.submit(buy, 41'666, 0, out)) << "settled later";
    EXPECT_TRUE(broker.busy());
    EXPECT_TRUE(broker.submit(buy, 41'666, 0, out)) << "one order at a time";
    EXPECT_EQ(out.error, OrderError::invalid_order);

    transport.answer(200, R"({"success":true,"success_response":{"order_id":"o-1"}})");
    transport.answer(200, R"({"order":{"order_id":"o-1","product_id":"BTC-USD","side":"BUY","status":"FILLED",)"
                          R"("filled_size":"0.0006","average_filled_price":"41660","filled_value":"24.996",)"
                          R"("total_fees":"0.149976"}})");
    bool settled = false;
    for (int i = 0; i < 100 && !settled; ++i) {
        (void)desk.poll(clock.now);
        clock.now += 50'000'000;
        settled = broker.poll(clock.now, out);
    }
    ASSERT_TRUE(settled);
    EXPECT_FALSE(broker.busy());
    EXPECT_EQ(out.error, OrderError::none);
    EXPECT_DOUBLE_EQ(out.fill.qty, 0.0006);
    EXPECT_DOUBLE_EQ(out.fill.price, 24.996 / 0.0006);
    EXPECT_DOUBLE_EQ(out.fill.fee_usd, 0.149976);
    ASSERT_GE(transport.sent.size(), 2u);
    EXPECT_EQ(transport.sent[0].target, "/order/market");
    EXPECT_NE(transport.sent[0].body.find(R"("quote_size":"24.99")"), std::string::npos)
        << "0.0006 x 41666 floored to the quote increment: " << transport.sent[0].body;
    EXPECT_EQ(transport.sent[1].target, "/order/o-1");

    const OrderRequest tiny{1'700'000'060, 1e-9, 41'666, Side::buy, OrderReason::entry};
    EXPECT_TRUE(broker.submit(tiny, 41'666, 0, out)) << "below the product's minimum: refused unsent";
    EXPECT_EQ(out.error, OrderError::invalid_order);
}

}  // namespace
}  // namespace cbtrade
