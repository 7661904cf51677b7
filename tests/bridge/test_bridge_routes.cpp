// bridge/: the routes of `cbtrade bridge` with a scripted exchange (no network): every answer shape
// read back with the REST decoders the bridge client uses (one contract on both sides), and bad
// input refused with 400/404/405 and a short JSON error.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "bridge/bridge_server.hpp"

namespace {

using namespace cbtrade;
using namespace cbtrade::bridge;
using io::HttpServerRequest;
using io::HttpServerResponse;

class ScriptedBackend final : public BridgeBackend {
public:
    rest::RestResult<rest::AccountsPage> accounts_page(std::size_t limit, std::string_view cursor) override {
        last_limit = limit;
        last_cursor = std::string(cursor);
        return accounts;
    }
    rest::RestResult<rest::Product> product(std::string_view id) override {
        last_product = std::string(id);
        return product_result;
    }
    rest::RestResult<std::vector<Candle>> candles(std::string_view id, Granularity g, std::int64_t start_s,
                                                  std::int64_t end_s, std::size_t limit) override {
        last_product = std::string(id);
        last_granularity = g;
        last_start = start_s;
        last_end = end_s;
        last_limit = limit;
        return candles_result;
    }
    rest::RestResult<rest::CreateOrderResult> create_market_order(const rest::MarketOrder& o) override {
        orders.push_back(o);
        return create_result;
    }
    rest::RestResult<rest::Order> order(std::string_view id) override {
        last_order_id = std::string(id);
        return order_result;
    }

    rest::RestResult<rest::AccountsPage> accounts;
    rest::RestResult<rest::Product> product_result;
    rest::RestResult<std::vector<Candle>> candles_result;
    rest::RestResult<rest::CreateOrderResult> create_result;
    rest::RestResult<rest::Order> order_result;
    std::vector<rest::MarketOrder> orders;
    std::size_t last_limit = 0;
    std::string last_cursor, last_product, last_order_id;
    Granularity last_granularity = Granularity::one_day;
    std::int64_t last_start = 0, last_end = 0;
};

rest::RestError error_of(rest::RestErrorKind kind, int status, std::string code, std::string message) {
    return rest::RestError{kind, status, std::move(code), std::move(message), 0};
}

class BridgeRoutesTest : public ::testing::Test {
protected:
    BridgeRoutesTest() : cache_({"BTC-USD", "ETH-USD"}), routes_(backend_, cache_, options()) {}

    BridgeOptions options() {
        BridgeOptions o;
        o.stale_ns = 10'000'000'000;
        o.api_base = "https://api.coinbase.com/api/v3/brokerage";
        o.now_ns = [this] { return now_; };
        return o;
    }
    HttpServerResponse get(std::string_view target) { return routes_.handle(HttpServerRequest{"GET", target, "", ""}); }
    HttpServerResponse post(std::string_view target, std::string_view body) {
        return routes_.handle(HttpServerRequest{"POST", target, "application/json", body});
    }
    static rest::HttpAnswer answer(const HttpServerResponse& r) {
        return rest::HttpAnswer{static_cast<int>(r.status), r.content_type, r.body};
    }
    // The answer is one JSON object; its "error" member (empty when none).
    static std::string error_code(const HttpServerResponse& r) {
        simdjson::dom::parser p;
        simdjson::dom::element doc;
        EXPECT_EQ(p.parse(r.body).get(doc), simdjson::SUCCESS) << r.body;
        EXPECT_EQ(r.content_type, "application/json");
        std::string_view e;
        if (doc["error"].get_string().get(e) != simdjson::SUCCESS) return {};
        return std::string(e);
    }

    ScriptedBackend backend_;
    TickerCache cache_;
    std::int64_t now_ = 1'000'000'000'000;
    BridgeRoutes routes_;
};

rest::Product btc_product() {
    rest::Product p;
    p.product_id = "BTC-USD";
    p.price = {"42000.01", 42000.01};
    p.base_increment_text = "0.00000001";
    p.quote_increment_text = "0.01";
    p.base_increment = *DecimalIncrement::parse("0.00000001");
    p.quote_increment = *DecimalIncrement::parse("0.01");
    p.base_min_size = {"0.00000001", 1e-8};
    p.base_max_size = {"3400", 3400};
    p.quote_min_size = {"1", 1};
    p.quote_max_size = {"150000000", 1.5e8};
    p.status = "online";
    return p;
}

TEST_F(BridgeRoutesTest, health_answers_ok_with_the_products_and_never_calls_the_exchange) {
    const HttpServerResponse r = get("/health");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(error_code(r), "");
    EXPECT_NE(r.body.find("\"status\":\"ok\""), std::string::npos);
    EXPECT_NE(r.body.find("\"products\":[\"BTC-USD\",\"ETH-USD\"]"), std::string::npos);
    EXPECT_NE(r.body.find("\"products_priced\":0"), std::string::npos);
    EXPECT_TRUE(backend_.orders.empty());
}

TEST_F(BridgeRoutesTest, unknown_paths_are_404_and_wrong_methods_405_with_allow) {
    EXPECT_EQ(get("/nope").status, 404u);
    EXPECT_EQ(error_code(get("/nope")), "not_found");
    const HttpServerResponse escaped = get("/\x1b[31mred");
    EXPECT_EQ(escaped.status, 404u);
    EXPECT_EQ(escaped.body.find('\x1b'), std::string::npos) << "outside text is escaped";
    const HttpServerResponse r = post("/health", "{}");
    EXPECT_EQ(r.status, 405u);
    EXPECT_EQ(r.allow, "GET");
    const HttpServerResponse o = get("/order/market");
    EXPECT_EQ(o.status, 405u);
    EXPECT_EQ(o.allow, "POST");
    EXPECT_EQ(routes_.handle(HttpServerRequest{"DELETE", "/accounts", "", ""}).status, 405u);
}

TEST_F(BridgeRoutesTest, price_is_no_tick_503_before_the_first_tick_then_fresh_then_stale) {
    HttpServerResponse r = get("/price?product_id=BTC-USD");
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(error_code(r), "no_tick");
    EXPECT_NE(r.body.find("\"product_id\":\"BTC-USD\""), std::string::npos);

    cache_.update(0, 42123.45, 1'700'000'000'500'000'000, now_);
    r = get("/price?product_id=BTC-USD");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(error_code(r), "");
    EXPECT_NE(r.body.find("\"price\":\"42123.45\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"time\":\"2023-11-14T22:13:20.500000Z\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"stale\":false"), std::string::npos);

    now_ += 10'000'000'001;  // COINBASE_WS_STALE_SEC later
    r = get("/price?product_id=BTC-USD");
    EXPECT_EQ(r.status, 200u);
    EXPECT_NE(r.body.find("\"stale\":true"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"age_sec\":10.000"), std::string::npos) << r.body;

    EXPECT_EQ(get("/price?product_id=ETH-USD").status, 503u) << "each product has its own cache";
    EXPECT_EQ(get("/price?product_id=SOL-USD").status, 404u);
    EXPECT_EQ(error_code(get("/price?product_id=SOL-USD")), "not_subscribed");
    EXPECT_EQ(get("/price").status, 400u);
    EXPECT_EQ(get("/price?product_id=btc%20usd").status, 400u);
}

TEST_F(BridgeRoutesTest, accounts_pass_limit_and_cursor_and_answer_the_exchange_page_shape) {
    rest::AccountsPage page;
    rest::Account usd;
    usd.uuid = "8bfc20d7-f7c6-4422-bf07-8243ca4169fe";
    usd.name = "USD Wallet";
    usd.currency = "USD";
    usd.available = {"1234.56", 1234.56};
    usd.hold = {"1", 1};
    usd.type = "ACCOUNT_TYPE_FIAT";
    page.accounts.push_back(usd);
    page.has_next = true;
    page.cursor = "abc-1";
    backend_.accounts = rest::RestResult<rest::AccountsPage>::success(page);
    const HttpServerResponse r = get("/accounts?limit=1&cursor=xyz_2");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(backend_.last_limit, 1u);
    EXPECT_EQ(backend_.last_cursor, "xyz_2");
    const auto back = rest::decode_accounts(answer(r), 1);
    ASSERT_TRUE(back.ok()) << back.error.message;
    ASSERT_EQ(back.value->accounts.size(), 1u);
    EXPECT_EQ(back.value->accounts[0].uuid, usd.uuid);
    EXPECT_EQ(back.value->accounts[0].available.text, "1234.56");
    EXPECT_EQ(back.value->accounts[0].hold.value, 1.0);
    EXPECT_TRUE(back.value->has_next);
    EXPECT_EQ(back.value->cursor, "abc-1");

    (void)get("/accounts");
    EXPECT_EQ(backend_.last_limit, 49u) << "the exchange's default page";
    for (const char* bad : {"/accounts?limit=0", "/accounts?limit=251", "/accounts?limit=x", "/accounts?limit=1e2",
                            "/accounts?limit=-1", "/accounts?cursor=%22%3E"}) {
        const HttpServerResponse b = get(bad);
        EXPECT_EQ(b.status, 400u) << bad;
        EXPECT_EQ(error_code(b), "bad_request") << bad;
    }
    backend_.accounts = rest::RestResult<rest::AccountsPage>::failure(
        error_of(rest::RestErrorKind::unauthorized, 401, "", "list accounts: 401 Unauthorized"));
    const HttpServerResponse e = get("/accounts");
    EXPECT_EQ(e.status, 401u);
    EXPECT_EQ(error_code(e), "unauthorized");
    EXPECT_EQ(rest::decode_accounts(answer(e), 49).error.kind, rest::RestErrorKind::unauthorized);
}

TEST_F(BridgeRoutesTest, product_answers_the_product_object_and_refuses_bad_ids) {
    backend_.product_result = rest::RestResult<rest::Product>::success(btc_product());
    const HttpServerResponse r = get("/product/BTC-USD");
    ASSERT_EQ(r.status, 200u) << r.body;
    const auto back = rest::decode_product(answer(r));
    ASSERT_TRUE(back.ok()) << back.error.message;
    EXPECT_EQ(back.value->product_id, "BTC-USD");
    EXPECT_EQ(back.value->base_increment_text, "0.00000001");
    EXPECT_EQ(back.value->quote_min_size.text, "1");
    EXPECT_TRUE(back.value->market_orders_allowed());
    for (const char* bad : {"/product/", "/product/btc-usd", "/product/BTC-USD/x", "/product/%2e%2e"})
        EXPECT_EQ(get(bad).status, 400u) << bad;
    backend_.product_result = rest::RestResult<rest::Product>::failure(
        error_of(rest::RestErrorKind::not_found, 404, "NOT_FOUND", "get product: 404 NotFound"));
    const HttpServerResponse nf = get("/product/XYZ-USD");
    EXPECT_EQ(nf.status, 404u);
    EXPECT_EQ(rest::decode_product(answer(nf)).error.kind, rest::RestErrorKind::not_found);
}

TEST_F(BridgeRoutesTest, candles_are_strings_newest_first_and_read_back_equal) {
    std::vector<Candle> series;
    for (int i = 0; i < 3; ++i)
        series.push_back(Candle{1'700'000'040 + 60 * i, 100.5 + i, 101.25 + i, 99.75 + i, 100.0 + i, 0.125 * (i + 1)});
    backend_.candles_result = rest::RestResult<std::vector<Candle>>::success(series);
    const HttpServerResponse r =
        get("/candles?product_id=BTC-USD&granularity=ONE_MINUTE&limit=3&start=1700000040&end=1700000219");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(backend_.last_start, 1'700'000'040);
    EXPECT_EQ(backend_.last_end, 1'700'000'219);
    EXPECT_EQ(backend_.last_limit, 3u);
    EXPECT_LT(r.body.find("\"start\":\"1700000160\""), r.body.find("\"start\":\"1700000040\"")) << "newest first";
    EXPECT_NE(r.body.find("\"volume\":\"0.125\""), std::string::npos) << r.body;
    const auto back = rest::decode_candles(answer(r), Granularity::one_minute, 1'700'000'040, 1'700'000'219, 3);
    ASSERT_TRUE(back.ok()) << back.error.message;
    ASSERT_EQ(back.value->size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ((*back.value)[i].time_s, series[i].time_s);
        EXPECT_EQ((*back.value)[i].high, series[i].high);
        EXPECT_EQ((*back.value)[i].volume, series[i].volume);
    }

    (void)get("/candles?product_id=BTC-USD&granularity=300&start=1700000100");
    EXPECT_EQ(backend_.last_granularity, Granularity::five_minute) << "granularity in seconds too";
    EXPECT_EQ(backend_.last_end - backend_.last_start, 300 * 300 - 1) << "300 buckets from start";

    for (const char* bad :
         {"/candles", "/candles?product_id=BTC_USD", "/candles?product_id=BTC-USD&granularity=TWO_MINUTE",
          "/candles?product_id=BTC-USD&limit=301", "/candles?product_id=BTC-USD&limit=0",
          "/candles?product_id=BTC-USD&start=1700000100&end=1700000000",
          "/candles?product_id=BTC-USD&start=1&end=1700000000", "/candles?product_id=BTC-USD&end=99999999999",
          "/candles?product_id=BTC-USD&limit=2&start=1700000040&end=1700000400"})
        EXPECT_EQ(get(bad).status, 400u) << bad;
}

TEST_F(BridgeRoutesTest, market_orders_are_checked_then_sent_with_the_client_order_id) {
    backend_.create_result = rest::RestResult<rest::CreateOrderResult>::success({"ord-1", "cid-1"});
    HttpServerResponse r = post(
        "/order/market", R"({"product_id":"BTC-USD","side":"BUY","quote_size":"10.50","client_order_id":"cid-1"})");
    ASSERT_EQ(r.status, 200u) << r.body;
    ASSERT_EQ(backend_.orders.size(), 1u);
    EXPECT_EQ(backend_.orders[0].side, Side::buy);
    EXPECT_EQ(backend_.orders[0].size, "10.50");
    EXPECT_EQ(backend_.orders[0].client_order_id, "cid-1");
    auto back = rest::decode_create_order(answer(r));
    ASSERT_TRUE(back.ok()) << back.error.message;
    EXPECT_EQ(back.value->order_id, "ord-1");
    EXPECT_EQ(back.value->client_order_id, "cid-1");

    r = post("/order/market", R"({"product_id":"BTC-USD","side":"sell","base_size":0.0015})");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(backend_.orders.back().side, Side::sell);
    EXPECT_EQ(backend_.orders.back().size, "0.0015") << "a JSON number is taken by its text";
    EXPECT_EQ(backend_.orders.back().client_order_id.size(), 36u) << "a fresh id when none is given";

    r = post("/orders/market_buy", R"({"product_id":"ETH-USD","quote_size":"5"})");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(backend_.orders.back().side, Side::buy);
    EXPECT_EQ(backend_.orders.back().product_id, "ETH-USD");

    const std::size_t sent = backend_.orders.size();
    for (const char* bad : {"", "[]", "{", R"({"side":"BUY","quote_size":"1"})",
                            R"({"product_id":"BTC-USD","side":"HOLD","quote_size":"1"})",
                            R"({"product_id":"BTC-USD","side":"BUY","base_size":"1"})",
                            R"({"product_id":"BTC-USD","side":"SELL","quote_size":"1"})",
                            R"({"product_id":"BTC-USD","side":"BUY","quote_size":"1","base_size":"1"})",
                            R"({"product_id":"BTC-USD","side":"BUY","quote_size":"0"})",
                            R"({"product_id":"BTC-USD","side":"BUY","quote_size":"-1"})",
                            R"({"product_id":"BTC-USD","side":"BUY","quote_size":"1e3"})",
                            R"({"product_id":"BTC-USD","side":"BUY","quote_size":"1.2.3"})",
                            R"({"product_id":"BTC-USD","side":"BUY","quote_size":"10000000000000"})",
                            R"({"product_id":"BTC-USD","side":"BUY","quote_size":true})",
                            R"({"product_id":"BTC-USD","side":"BUY","quote_size":"1","client_order_id":"a b"})",
                            R"({"product_id":"btc-usd","side":"BUY","quote_size":"1"})"}) {
        const HttpServerResponse b = post("/order/market", bad);
        EXPECT_EQ(b.status, 400u) << bad;
        EXPECT_EQ(error_code(b), "bad_request") << bad;
    }
    EXPECT_EQ(backend_.orders.size(), sent) << "nothing refused reached the exchange";
    EXPECT_EQ(post("/order/market", std::string(5000, ' ')).status, 413u);
}

TEST_F(BridgeRoutesTest, refusals_and_unknown_outcomes_keep_the_exchange_meaning) {
    backend_.create_result = rest::RestResult<rest::CreateOrderResult>::failure(
        error_of(rest::RestErrorKind::rejected, 200, "INSUFFICIENT_FUND", "Insufficient balance in source account"));
    HttpServerResponse r = post("/order/market", R"({"product_id":"BTC-USD","side":"BUY","quote_size":"10"})");
    ASSERT_EQ(r.status, 200u) << "as the exchange: 200 with success false";
    auto back = rest::decode_create_order(answer(r));
    ASSERT_FALSE(back.ok());
    EXPECT_EQ(back.error.kind, rest::RestErrorKind::rejected);
    EXPECT_EQ(back.error.code, "INSUFFICIENT_FUND");

    backend_.create_result = rest::RestResult<rest::CreateOrderResult>::failure(
        error_of(rest::RestErrorKind::unknown_outcome, 0, "", "create order: no answer after 3 attempts"));
    r = post("/order/market", R"({"product_id":"BTC-USD","side":"BUY","quote_size":"10","client_order_id":"c-9"})");
    EXPECT_EQ(r.status, 504u);
    EXPECT_EQ(error_code(r), "unknown_outcome");
    EXPECT_NE(r.body.find("\"client_order_id\":\"c-9\""), std::string::npos);
    EXPECT_EQ(rest::decode_create_order(answer(r)).error.kind, rest::RestErrorKind::server_error)
        << "a client reads it as an outcome it has not seen";
}

TEST_F(BridgeRoutesTest, get_order_answers_the_exchange_order_shape) {
    rest::Order o;
    o.order_id = "ord-7";
    o.client_order_id = "cid-7";
    o.product_id = "BTC-USD";
    o.side = Side::sell;
    o.status = rest::OrderStatus::filled;
    o.filled_size = {"0.0015", 0.0015};
    o.average_filled_price = {"42000.5", 42000.5};
    o.filled_value = {"63.00075", 63.00075};
    o.total_fees = {"0.378", 0.378};
    o.number_of_fills = 2;
    o.created_time_ns = 1'700'000'000'123'456'000;
    backend_.order_result = rest::RestResult<rest::Order>::success(o);
    const HttpServerResponse r = get("/order/ord-7");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(backend_.last_order_id, "ord-7");
    const auto back = rest::decode_order(answer(r));
    ASSERT_TRUE(back.ok()) << back.error.message;
    EXPECT_EQ(back.value->status, rest::OrderStatus::filled);
    EXPECT_EQ(back.value->side, Side::sell);
    EXPECT_EQ(back.value->filled_value.text, "63.00075");
    EXPECT_EQ(back.value->number_of_fills, 2);
    EXPECT_EQ(back.value->created_time_ns, o.created_time_ns);
    EXPECT_EQ(get("/order/a%20b").status, 400u);
    EXPECT_EQ(get("/order/").status, 400u);
}

TEST(TickerCache, a_reader_never_sees_a_torn_update) {
    TickerCache cache({"BTC-USD"});
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        for (std::int64_t i = 1; !stop.load(); ++i) cache.update(0, static_cast<double>(i), i, i);
    });
    for (int n = 0; n < 200000; ++n) {
        const TickerCache::Entry e = cache.get(0);
        if (!e.seen) continue;
        ASSERT_EQ(static_cast<std::int64_t>(e.price), e.exchange_time_ns);
        ASSERT_EQ(e.exchange_time_ns, e.received_ns);
    }
    stop.store(true);
    writer.join();
    EXPECT_FALSE(TickerCache({"A-B"}).get(0).seen);
    EXPECT_FALSE(cache.get(5).seen);
    EXPECT_EQ(cache.index_of("BTC-USD"), 0u);
    EXPECT_FALSE(cache.index_of("ETH-USD"));
}

}  // namespace
