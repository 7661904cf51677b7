// exec/rest_messages: request builders and answer decoders against answers shaped like
// coinbase-api.md section 3 (real fixtures where the sheet has them), and every refusal path.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "exec/rest_messages.hpp"

namespace {

using namespace cbtrade;
using namespace cbtrade::rest;

constexpr std::string_view base = "/api/v3/brokerage";

HttpAnswer ok(std::string_view body) {
    return HttpAnswer{200, "application/json", body};
}

template <class T>
std::string error_of(const RestResult<T>& r) {
    EXPECT_FALSE(r.ok());
    return r.error.message;
}

// ---- builders ------------------------------------------------------------------------------------

TEST(RestRequests, targets_queries_and_auth_follow_the_documented_endpoints) {
    const RestRequest a = list_accounts_request(base, 250, "");
    EXPECT_EQ(a.method, "GET");
    EXPECT_EQ(a.target, "/api/v3/brokerage/accounts?limit=250");
    EXPECT_EQ(a.path(), "/api/v3/brokerage/accounts");
    EXPECT_TRUE(a.authenticated);
    EXPECT_EQ(list_accounts_request("/api/v3/brokerage/", 2, "a b/c+=").target,
              "/api/v3/brokerage/accounts?limit=2&cursor=a%20b%2Fc%2B%3D");

    EXPECT_EQ(get_product_request(base, "BTC-USD", false).target, "/api/v3/brokerage/products/BTC-USD");
    const RestRequest pub = get_product_request(base, "BTC-USD", true);
    EXPECT_EQ(pub.target, "/api/v3/brokerage/market/products/BTC-USD");
    EXPECT_FALSE(pub.authenticated);

    const RestRequest t = server_time_request(base);
    EXPECT_EQ(t.target, "/api/v3/brokerage/time");
    EXPECT_FALSE(t.authenticated);

    const RestRequest c = candles_request(base, "BTC-USD", Granularity::one_minute, 1709531220,
                                          candle_page_end(1709531220, 60, 300), 300, true);
    EXPECT_EQ(c.target,
              "/api/v3/brokerage/market/products/BTC-USD/candles?start=1709531220&end=1709549219"
              "&granularity=ONE_MINUTE&limit=300");
    EXPECT_FALSE(c.authenticated);
    EXPECT_EQ(c.path(), "/api/v3/brokerage/market/products/BTC-USD/candles");
    EXPECT_TRUE(candles_request(base, "BTC-USD", Granularity::one_hour, 0, 3599, 1, false).authenticated);

    EXPECT_EQ(get_order_request(base, "52cfe5e2-1111").target, "/api/v3/brokerage/orders/historical/52cfe5e2-1111");
    EXPECT_EQ(list_fills_request(base, "52cfe5e2-1111", "").target,
              "/api/v3/brokerage/orders/historical/fills?order_ids=52cfe5e2-1111");
    EXPECT_EQ(list_fills_request(base, "o1", "c:1").target,
              "/api/v3/brokerage/orders/historical/fills?order_ids=o1&cursor=c%3A1");
}

TEST(RestRequests, builders_refuse_what_cannot_go_into_a_url) {
    EXPECT_THROW((void)get_product_request(base, "btc-usd", false), std::invalid_argument);
    EXPECT_THROW((void)get_product_request(base, "BTC-USD/../x", false), std::invalid_argument);
    EXPECT_THROW((void)get_order_request(base, "a/b"), std::invalid_argument);
    EXPECT_THROW((void)get_order_request(base, ""), std::invalid_argument);
    EXPECT_THROW((void)list_accounts_request(base, 0, ""), std::invalid_argument);
    EXPECT_THROW((void)list_accounts_request(base, 251, ""), std::invalid_argument);
    EXPECT_THROW((void)candles_request(base, "BTC-USD", Granularity::one_minute, 0, 60, 301, true),
                 std::invalid_argument);
    EXPECT_THROW((void)create_order_request(base, MarketOrder{"id", "BTC-USD", Side::buy, "0"}), std::invalid_argument);
    EXPECT_THROW((void)create_order_request(base, MarketOrder{"id", "BTC-USD", Side::buy, "1e400"}),
                 std::invalid_argument);
}

TEST(RestRequests, candle_pages_tile_time_without_overlap_or_gap) {
    // Page ends fall one second before the next bucket: the same buckets whatever the server's
    // reading of `end`, and the next page starts exactly where this one stopped.
    EXPECT_EQ(candle_page_end(600, 60, 300), 600 + 300 * 60 - 1);
    EXPECT_EQ(candle_page_end(600, 60, 300) + 1, 600 + 300 * 60);
    EXPECT_NE(candle_page_end(600, 60, 300) % 60, 0);
}

TEST(RestRequests, create_order_body_is_the_documented_market_ioc_shape) {
    const RestRequest buy =
        create_order_request(base, MarketOrder{"0d6b5c2e-7f3a-4c1e-9a55-3e2b8c1f0a77", "BTC-USD", Side::buy, "25"});
    EXPECT_EQ(buy.method, "POST");
    EXPECT_EQ(buy.target, "/api/v3/brokerage/orders");
    EXPECT_TRUE(buy.authenticated);
    EXPECT_EQ(buy.body,
              R"({"client_order_id":"0d6b5c2e-7f3a-4c1e-9a55-3e2b8c1f0a77","product_id":"BTC-USD","side":"BUY",)"
              R"("order_configuration":{"market_market_ioc":{"quote_size":"25"}}})");
    const RestRequest sell = create_order_request(base, MarketOrder{"c2", "ETH-USD", Side::sell, "0.00025"});
    EXPECT_EQ(sell.body, R"({"client_order_id":"c2","product_id":"ETH-USD","side":"SELL",)"
                         R"("order_configuration":{"market_market_ioc":{"base_size":"0.00025"}}})");
}

TEST(RestRequests, client_order_ids_are_fresh_version_4_uuids) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = new_client_order_id();
        ASSERT_EQ(id.size(), 36u);
        EXPECT_EQ(id[8], '-');
        EXPECT_EQ(id[14], '4');
        EXPECT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos);
        EXPECT_TRUE(valid_order_id(id));
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(RestRequests, uuid_from_bits_is_exact_and_the_view_body_matches_the_owned_one) {
    char id[client_order_id_chars];
    format_uuid_v4(0x0123456789abcdefULL, 0xfedcba9876543210ULL, id);
    // Version nibble 4 in byte 6, variant 10xx in byte 8; every other bit as given.
    EXPECT_EQ(std::string_view(id, sizeof id), "01234567-89ab-4def-bedc-ba9876543210");
    const MarketOrder owned{"c1", "BTC-USD", Side::buy, "25.37"};
    std::string a, b;
    append_create_order_body(a, owned);
    b.reserve(512);
    const char* const before = b.data();
    append_create_order_body(b, MarketOrderView{"c1", "BTC-USD", Side::buy, "25.37"});
    EXPECT_EQ(a, b);
    EXPECT_EQ(b.data(), before) << "written into the reserved buffer";
}

// ---- errors --------------------------------------------------------------------------------------

TEST(RestErrors, each_documented_error_shape_becomes_one_clear_line) {
    const RestError e401 = error_from_answer({401, "text/plain", "Unauthorized\n"}, "list accounts");
    EXPECT_EQ(e401.kind, RestErrorKind::unauthorized);
    EXPECT_NE(e401.message.find("list accounts: HTTP 401 'Unauthorized'"), std::string::npos) << e401.message;
    EXPECT_NE(e401.message.find("clock"), std::string::npos);

    const RestError e403 = error_from_answer(
        {403, "application/json",
         R"({"error":"PERMISSION_DENIED","error_details":"Missing required scopes","message":"Missing required scopes"})"},
        "create order");
    EXPECT_EQ(e403.kind, RestErrorKind::forbidden);
    EXPECT_EQ(e403.code, "PERMISSION_DENIED");
    EXPECT_NE(e403.message.find("'Missing required scopes'"), std::string::npos) << e403.message;
    EXPECT_NE(e403.message.find("trade for orders"), std::string::npos);

    const RestError e404 = error_from_answer(
        {404, "application/json", R"({"error":"NOT_FOUND","message":"Product NOPE-USD not supported"})"},
        "get product");
    EXPECT_EQ(e404.kind, RestErrorKind::not_found);
    EXPECT_EQ(e404.message, "get product: HTTP 404 NOT_FOUND: 'Product NOPE-USD not supported'");

    const std::string html =
        "<html><head><title>429 Too Many Requests</title></head><body>" + std::string(5000, 'x') + "</body></html>";
    const RestError e429 = error_from_answer({429, "text/html", html}, "candles");
    EXPECT_EQ(e429.kind, RestErrorKind::rate_limited);
    EXPECT_EQ(e429.message.find("<html>"), std::string::npos) << "an HTML page is described, not quoted";
    EXPECT_NE(e429.message.find("an HTML page"), std::string::npos);
    EXPECT_LT(e429.message.size(), 200u);

    EXPECT_EQ(error_from_answer({503, "", ""}, "x").kind, RestErrorKind::server_error);
    EXPECT_EQ(error_from_answer({500, "", "oops"}, "x").message, "x: HTTP 500 'oops'");
    EXPECT_EQ(error_from_answer({400, "", R"({"error":"INVALID_ARGUMENT","message":"bad"})"}, "x").kind,
              RestErrorKind::bad_request);

    // Control characters and megabytes from a server never reach a terminal raw.
    const RestError nasty = error_from_answer({502, "", "\x1b[2J" + std::string(1 << 20, 'A')}, "x");
    EXPECT_EQ(nasty.message.find('\x1b'), std::string::npos);
    EXPECT_LT(nasty.message.size(), 200u);
    // An error code that is not an upper-case token is dropped, not echoed.
    EXPECT_EQ(error_from_answer({400, "", R"({"error":"bad\u001bcode","message":"m"})"}, "x").code, "");
}

// ---- accounts ------------------------------------------------------------------------------------

constexpr std::string_view accounts_body =
    R"({"accounts":[{"uuid":"8bfc20d7-f7c6-4c6a-9c2e-1a2b3c4d5e6f","name":"USD Wallet","currency":"USD",
  "available_balance":{"value":"1520.37","currency":"USD"},"default":true,"active":true,
  "created_at":"2023-01-04T06:20:06.456Z","updated_at":"2025-01-15T10:30:00Z","deleted_at":null,
  "type":"ACCOUNT_TYPE_FIAT","ready":true,"hold":{"value":"0","currency":"USD"},"retail_portfolio_id":"p1"},
  {"uuid":"1b2c","name":"BTC Wallet","currency":"BTC","available_balance":{"value":"0.01250000","currency":"BTC"},
  "active":true,"type":"ACCOUNT_TYPE_CRYPTO","ready":true,"hold":{"value":"0.001","currency":"BTC"}}],
 "has_next":true,"cursor":"next-cursor-1","size":2})";

TEST(RestAccounts, decodes_balances_holds_and_the_cursor) {
    const auto r = decode_accounts(ok(accounts_body), 2);
    ASSERT_TRUE(r.ok()) << r.error.message;
    ASSERT_EQ(r.value->accounts.size(), 2u);
    const Account& usd = r.value->accounts[0];
    EXPECT_EQ(usd.currency, "USD");
    EXPECT_EQ(usd.available.text, "1520.37");
    EXPECT_DOUBLE_EQ(usd.available.value, 1520.37);
    EXPECT_EQ(usd.type, "ACCOUNT_TYPE_FIAT");
    EXPECT_EQ(r.value->accounts[1].hold.text, "0.001");
    EXPECT_TRUE(r.value->has_next);
    EXPECT_EQ(r.value->cursor, "next-cursor-1");
}

TEST(RestAccounts, refuses_pages_that_would_loop_or_lie) {
    EXPECT_NE(error_of(decode_accounts(ok(R"({"accounts":[],"has_next":true,"cursor":""})"), 10))
                  .find("cursor' is empty while has_next is true"),
              std::string::npos);
    EXPECT_NE(error_of(decode_accounts(ok(accounts_body), 1)).find("holds 2 items, more than the 1 asked for"),
              std::string::npos);
    std::string negative(accounts_body);
    negative.replace(negative.find("1520.37"), 7, "-5");
    EXPECT_NE(error_of(decode_accounts(ok(negative), 10)).find("accounts[0].available_balance.value' is out of range"),
              std::string::npos);
    std::string nan(accounts_body);
    nan.replace(nan.find("1520.37"), 7, "NaN");
    EXPECT_NE(error_of(decode_accounts(ok(nan), 10)).find("is not a decimal: 'NaN'"), std::string::npos);
    EXPECT_NE(error_of(decode_accounts(ok(R"({"has_next":false})"), 10)).find("'accounts' is missing"),
              std::string::npos);
    EXPECT_NE(error_of(decode_accounts(ok("[1,2]"), 10)).find("is not a JSON object"), std::string::npos);
    EXPECT_NE(error_of(decode_accounts(ok("{\"accounts\":[}"), 10)).find("is not valid JSON"), std::string::npos);
    EXPECT_EQ(decode_accounts({401, "", "Unauthorized"}, 10).error.kind, RestErrorKind::unauthorized);
    const std::string huge(max_body_bytes + 1, ' ');
    EXPECT_NE(error_of(decode_accounts(ok(huge), 10)).find("larger than"), std::string::npos);
}

// ---- product -------------------------------------------------------------------------------------

// Real BTC-USD values (coinbase-api.md 3.3, nautilus http_product.json).
constexpr std::string_view product_body =
    R"({"product_id":"BTC-USD","price":"97012.35","price_percentage_change_24h":"1.2","volume_24h":"8123.44",
 "base_increment":"0.00000001","quote_increment":"0.01","price_increment":"0.01","base_min_size":"0.00000001",
 "base_max_size":"3400","quote_min_size":"1","quote_max_size":"150000000","status":"online",
 "trading_disabled":false,"is_disabled":false,"cancel_only":false,"limit_only":false,"post_only":false,
 "auction_mode":false,"product_type":"SPOT","alias":"","alias_to":["BTC-USDC"],"product_venue":"CBE"})";

TEST(RestProduct, decodes_increments_minimums_and_status) {
    const auto r = decode_product(ok(product_body));
    ASSERT_TRUE(r.ok()) << r.error.message;
    const Product& p = *r.value;
    EXPECT_EQ(p.product_id, "BTC-USD");
    EXPECT_EQ(p.base_increment.units, 1u);
    EXPECT_EQ(p.base_increment.scale, 8u);
    EXPECT_EQ(p.quote_increment.scale, 2u);
    EXPECT_EQ(p.quote_min_size.text, "1");
    EXPECT_EQ(p.base_max_size.text, "3400");
    EXPECT_EQ(p.status, "online");
    EXPECT_TRUE(p.market_orders_allowed());
    EXPECT_EQ(p.market_orders_refusal(), "");
}

TEST(RestProduct, a_disabled_or_offline_product_refuses_market_orders) {
    std::string disabled(product_body);
    disabled.replace(disabled.find("\"trading_disabled\":false"), 24, "\"trading_disabled\":true");
    const auto d = decode_product(ok(disabled));
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d.value->market_orders_allowed());
    EXPECT_EQ(d.value->market_orders_refusal(), "trading_disabled is true");
    std::string offline(product_body);
    offline.replace(offline.find("\"online\""), 8, "\"offline\"");
    EXPECT_EQ(decode_product(ok(offline)).value->market_orders_refusal(), "status is 'offline'");
    std::string bad_inc(product_body);
    bad_inc.replace(bad_inc.find("\"0.01\""), 6, "\"-0.01\"");
    EXPECT_NE(error_of(decode_product(ok(bad_inc))).find("'quote_increment' is not a positive decimal step"),
              std::string::npos);
    std::string no_flag(product_body);
    no_flag.replace(no_flag.find("\"trading_disabled\":false,"), 25, "");
    EXPECT_NE(error_of(decode_product(ok(no_flag))).find("'trading_disabled' is missing"), std::string::npos);
}

// ---- server time ---------------------------------------------------------------------------------

TEST(RestTime, accepts_strings_integers_and_iso_alone) {
    EXPECT_EQ(decode_server_time(
                  ok(R"({"iso":"2025-01-15T14:03:07.418Z","epochSeconds":"1736949787","epochMillis":"1736949787418"})"))
                  .value->epoch_ms,
              1736949787418);
    EXPECT_EQ(decode_server_time(ok(R"({"epochSeconds":1736949787,"epochMillis":1736949787418})")).value->epoch_ms,
              1736949787418);
    EXPECT_EQ(decode_server_time(ok(R"({"epochSeconds":"1736949787"})")).value->epoch_ms, 1736949787000);
    EXPECT_EQ(decode_server_time(ok(R"({"iso":"2025-01-15T14:03:07.5Z"})")).value->epoch_ms, 1736949787500);
    EXPECT_NE(error_of(decode_server_time(ok(R"({"epochMillis":"99"})"))).find("out of range"), std::string::npos);
    EXPECT_NE(error_of(decode_server_time(ok(R"({"epochMillis":"12x"})"))).find("not an integer"), std::string::npos);
    EXPECT_NE(error_of(decode_server_time(ok("{}"))).find("'iso' is missing"), std::string::npos);
}

// ---- candles -------------------------------------------------------------------------------------

TEST(RestCandles, newest_first_answers_come_back_in_time_order) {
    // Shape and values of nautilus http_candles.json (coinbase-api.md 3.4).
    const std::string body =
        R"({"candles":[{"start":"1712192400","low":"66055.14","high":"66331.99","open":"66312.4","close":"66181.6","volume":"355.82896243"},
            {"start":"1712188800","low":"65857.35","high":"66387.77","open":"65984.18","close":"66314.59","volume":"358.74851052"}]})";
    const auto r = decode_candles(ok(body), Granularity::one_hour, 1712188800, 1712192400 + 3599, 300);
    ASSERT_TRUE(r.ok()) << r.error.message;
    ASSERT_EQ(r.value->size(), 2u);
    EXPECT_EQ((*r.value)[0].time_s, 1712188800);
    EXPECT_DOUBLE_EQ((*r.value)[0].open, 65984.18);
    EXPECT_EQ((*r.value)[1].time_s, 1712192400);
    EXPECT_DOUBLE_EQ((*r.value)[1].volume, 355.82896243);
    EXPECT_TRUE(decode_candles(ok(R"({"candles":[]})"), Granularity::one_hour, 0, 10, 300).ok());
}

TEST(RestCandles, refuses_candles_outside_the_page_misaligned_inconsistent_or_repeated) {
    const auto one = [](std::string_view start, std::string_view low, std::string_view high) {
        return std::string(R"({"candles":[{"start":")") + std::string(start) + R"(","low":")" + std::string(low) +
               R"(","high":")" + std::string(high) + R"(","open":"10","close":"11","volume":"1"}]})";
    };
    EXPECT_TRUE(decode_candles(ok(one("120", "9", "12")), Granularity::one_minute, 60, 179, 3).ok());
    EXPECT_NE(
        error_of(decode_candles(ok(one("180", "9", "12")), Granularity::one_minute, 60, 179, 3)).find("out of range"),
        std::string::npos);
    EXPECT_NE(error_of(decode_candles(ok(one("121", "9", "12")), Granularity::one_minute, 60, 179, 3))
                  .find("not a multiple of the granularity"),
              std::string::npos);
    EXPECT_NE(error_of(decode_candles(ok(one("120", "10.5", "12")), Granularity::one_minute, 60, 179, 3))
                  .find("do not contain open and close"),
              std::string::npos);
    EXPECT_NE(error_of(decode_candles(ok(one("120", "0", "12")), Granularity::one_minute, 60, 179, 3)).find("low"),
              std::string::npos);
    const std::string twice =
        R"({"candles":[{"start":"120","low":"9","high":"12","open":"10","close":"11","volume":"1"},
                       {"start":"120","low":"9","high":"12","open":"10","close":"11","volume":"1"}]})";
    EXPECT_NE(
        error_of(decode_candles(ok(twice), Granularity::one_minute, 60, 179, 3)).find("two candles starting at 120"),
        std::string::npos);
    EXPECT_NE(error_of(decode_candles(ok(twice), Granularity::one_minute, 60, 179, 1)).find("more than the 1"),
              std::string::npos);
    EXPECT_EQ(
        decode_candles(
            {400, "",
             R"({"error":"INVALID_ARGUMENT","error_details":"number of candles requested should be less than 350"})"},
            Granularity::one_minute, 0, 1, 1)
            .error.kind,
        RestErrorKind::bad_request);
}

// ---- create order --------------------------------------------------------------------------------

TEST(RestCreateOrder, success_needs_success_true_and_an_order_id) {
    const std::string body =
        R"({"success":true,"failure_reason":"UNKNOWN_FAILURE_REASON","order_id":"52cfe5e2-aaaa",
 "success_response":{"order_id":"52cfe5e2-aaaa","product_id":"BTC-USD","side":"BUY","client_order_id":"0d6b5c2e-bbbb"},
 "order_configuration":{"market_market_ioc":{"quote_size":"25.00"}}})";
    const auto r = decode_create_order(ok(body));
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.value->order_id, "52cfe5e2-aaaa");
    EXPECT_EQ(r.value->client_order_id, "0d6b5c2e-bbbb");
    EXPECT_TRUE(decode_create_order(ok(R"({"success":true,"order_id":"x1","order_configuration":null})")).ok());
    EXPECT_NE(
        error_of(decode_create_order(ok(R"({"success":true,"order_id":""})"))).find("order_id' is missing or empty"),
        std::string::npos);
    EXPECT_EQ(decode_create_order(ok(R"({"order_id":"x"})")).error.kind, RestErrorKind::malformed);
}

TEST(RestCreateOrder, success_false_is_a_rejection_with_the_exchange_reason) {
    // Real body, ccxt/ccxt issue #20419.
    const std::string body =
        R"({"success":false,"failure_reason":"UNKNOWN_FAILURE_REASON","order_id":"",
 "error_response":{"error":"INSUFFICIENT_FUND","message":"Insufficient balance in source account",
 "error_details":"","preview_failure_reason":"PREVIEW_INSUFFICIENT_FUND"},
 "order_configuration":{"market_market_ioc":{"quote_size":"10"}}})";
    for (const int status : {200, 400}) {
        const auto r = decode_create_order({status, "application/json", body});
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error.kind, RestErrorKind::rejected);
        EXPECT_EQ(r.error.code, "INSUFFICIENT_FUND");
        EXPECT_EQ(r.error.message,
                  "create order: rejected: INSUFFICIENT_FUND ('Insufficient balance in source account')");
    }
    const auto alt = decode_create_order(ok(
        R"({"success":false,"error_response":{"error":"UNKNOWN_FAILURE_REASON","new_order_failure_reason":"UNSUPPORTED_ORDER_CONFIGURATION"}})"));
    EXPECT_EQ(alt.error.code, "UNSUPPORTED_ORDER_CONFIGURATION");
    EXPECT_EQ(decode_create_order(ok(R"({"success":false})")).error.code, "UNKNOWN_FAILURE_REASON");
}

TEST(RestCreateOrder, outcomes_that_may_hide_an_order_are_not_rejections) {
    // 5xx: the order may exist. Never "rejected" (which would let a caller resend under a new id).
    EXPECT_EQ(decode_create_order({500, "", "internal"}).error.kind, RestErrorKind::server_error);
    EXPECT_EQ(decode_create_order({503, "", R"({"success":false})"}).error.kind, RestErrorKind::server_error);
    EXPECT_EQ(decode_create_order({429, "text/html", "<html>slow down</html>"}).error.kind,
              RestErrorKind::rate_limited);
    EXPECT_EQ(decode_create_order({401, "", "Unauthorized"}).error.kind, RestErrorKind::unauthorized);
    EXPECT_EQ(decode_create_order({200, "", "<html>proxy</html>"}).error.kind, RestErrorKind::malformed);
    EXPECT_EQ(decode_create_order({400, "", R"({"success":true,"order_id":"x"})"}).error.kind,
              RestErrorKind::malformed);
}

// ---- get order and fills -------------------------------------------------------------------------

TEST(RestOrder, decodes_a_filled_market_order) {
    // The real FILLED market SELL of coinbase-api.md 3.7 (ccxt fixture), with its ids.
    const std::string body = R"({"order":{"order_id":"a9625b04-fc66-4999-a876-543c3684d702","product_id":"ADA-USDT",
 "user_id":"u","order_configuration":{"market_market_ioc":{"base_size":"10"}},"side":"SELL",
 "client_order_id":"d8b6e8a1-11ef-4b0e-9d77-2b0e3c6ad3b7","status":"FILLED","time_in_force":"IMMEDIATE_OR_CANCEL",
 "created_time":"2023-11-26T12:00:00.123456Z","completion_percentage":"100.00","filled_size":"10",
 "average_filled_price":"0.392","fee":"","number_of_fills":"1","filled_value":"3.92","pending_cancel":false,
 "size_in_quote":false,"total_fees":"0.03136","size_inclusive_of_fees":false,"total_value_after_fees":"3.88864",
 "trigger_status":"INVALID_ORDER_TYPE","order_type":"MARKET","reject_reason":"","settled":true,
 "product_type":"SPOT","reject_message":"","cancel_message":"","last_fill_time":"2023-11-26T12:00:00.2Z",
 "outstanding_hold_amount":"0"}})";
    const auto r = decode_order(ok(body));
    ASSERT_TRUE(r.ok()) << r.error.message;
    const Order& o = *r.value;
    EXPECT_EQ(o.status, OrderStatus::filled);
    EXPECT_TRUE(is_terminal(o.status));
    EXPECT_EQ(o.side, Side::sell);
    EXPECT_EQ(o.filled_size.text, "10");
    EXPECT_DOUBLE_EQ(o.average_filled_price.value, 0.392);
    EXPECT_EQ(o.total_fees.text, "0.03136");
    EXPECT_EQ(o.number_of_fills, 1);
    EXPECT_EQ(o.client_order_id, "d8b6e8a1-11ef-4b0e-9d77-2b0e3c6ad3b7");
    EXPECT_GT(o.created_time_ns, 0);
}

TEST(RestOrder, pending_orders_unknown_statuses_and_impossible_fills) {
    const auto pending = decode_order(ok(
        R"({"order":{"order_id":"o1","product_id":"BTC-USD","side":"BUY","status":"PENDING","filled_size":"","average_filled_price":""}})"));
    ASSERT_TRUE(pending.ok()) << pending.error.message;
    EXPECT_EQ(pending.value->status, OrderStatus::pending);
    EXPECT_FALSE(is_terminal(pending.value->status));
    const auto future =
        decode_order(ok(R"({"order":{"order_id":"o1","product_id":"BTC-USD","side":"BUY","status":"NEW_STATE"}})"));
    EXPECT_EQ(future.value->status, OrderStatus::unknown);
    EXPECT_NE(
        error_of(
            decode_order(ok(
                R"({"order":{"order_id":"o1","product_id":"BTC-USD","side":"BUY","status":"FILLED","filled_size":"1","average_filled_price":"0"}})")))
            .find("average_filled_price"),
        std::string::npos);
    EXPECT_NE(error_of(decode_order(
                           ok(R"({"order":{"order_id":"o/1","product_id":"BTC-USD","side":"BUY","status":"OPEN"}})")))
                  .find("is not an id"),
              std::string::npos);
    EXPECT_NE(error_of(decode_order(
                           ok(R"({"order":{"order_id":"o1","product_id":"BTC-USD","side":"HOLD","status":"OPEN"}})")))
                  .find("not BUY or SELL"),
              std::string::npos);
    EXPECT_NE(error_of(decode_order(
                           ok(R"({"order":{"order_id":"o1","product_id":"ADA-USD[","side":"BUY","status":"OPEN"}})")))
                  .find("order.product_id' is not a product id: 'ADA-USD['"),
              std::string::npos);
}

TEST(RestListOrders, the_request_names_product_start_limit_and_cursor) {
    EXPECT_EQ(list_orders_request(base, "BTC-USD", 1'712'188'800, 100, "").target,
              "/api/v3/brokerage/orders/historical/batch?product_ids=BTC-USD&start_date=2024-04-04T00%3A00%3A00Z&limit="
              "100");
    EXPECT_EQ(list_orders_request(base, "BTC-USD", 0, 1, "c:2").target,
              "/api/v3/brokerage/orders/historical/batch?product_ids=BTC-USD&start_date=1970-01-01T00%3A00%3A00Z&limit="
              "1&cursor=c%3A2");
    EXPECT_EQ(list_orders_request(base, "BTC-USD", 0, 1, "").path(), "/api/v3/brokerage/orders/historical/batch");
    EXPECT_THROW((void)list_orders_request(base, "BTC-USD", 0, 0, ""), std::invalid_argument);
    EXPECT_THROW((void)list_orders_request(base, "BTC-USD", 0, max_orders_per_page + 1, ""), std::invalid_argument);
    EXPECT_THROW((void)list_orders_request(base, "btc", 0, 10, ""), std::invalid_argument);
    EXPECT_THROW((void)list_orders_request(base, "BTC-USD", -1, 10, ""), std::invalid_argument);
}

TEST(RestListOrders, decodes_a_page_of_orders_with_client_order_ids_and_fills) {
    const std::string body =
        R"({"orders":[{"order_id":"o1","product_id":"BTC-USD","side":"BUY","client_order_id":"c-1","status":"FILLED",
 "filled_size":"0.0006","average_filled_price":"41416.67","filled_value":"24.85","total_fees":"0.15",
 "number_of_fills":"2","created_time":"2024-04-04T00:00:01Z"},
 {"order_id":"o2","product_id":"BTC-USD","side":"SELL","client_order_id":"c-2","status":"OPEN","filled_size":"0"}],
 "sequence":"0","has_next":true,"cursor":"2"})";
    const auto r = decode_orders(ok(body), 100);
    ASSERT_TRUE(r.ok()) << r.error.message;
    ASSERT_EQ(r.value->orders.size(), 2u);
    EXPECT_TRUE(r.value->has_next);
    EXPECT_EQ(r.value->cursor, "2");
    const Order& a = r.value->orders[0];
    EXPECT_EQ(a.client_order_id, "c-1");
    EXPECT_EQ(a.status, OrderStatus::filled);
    EXPECT_EQ(a.filled_value.text, "24.85");
    EXPECT_EQ(a.number_of_fills, 2);
    EXPECT_EQ(r.value->orders[1].status, OrderStatus::open);
    EXPECT_EQ(r.value->orders[1].side, Side::sell);
    const auto last = decode_orders(ok(R"({"orders":[],"has_next":false,"cursor":""})"), 100);
    ASSERT_TRUE(last.ok()) << last.error.message;
    EXPECT_TRUE(last.value->orders.empty());
}

TEST(RestListOrders, refuses_more_orders_than_asked_bad_numbers_and_a_missing_cursor) {
    const std::string two =
        R"({"orders":[{"order_id":"o1","product_id":"BTC-USD","side":"BUY","status":"OPEN"},
 {"order_id":"o2","product_id":"BTC-USD","side":"BUY","status":"OPEN"}],"has_next":false})";
    EXPECT_NE(error_of(decode_orders(ok(two), 1)).find("holds 2 items, more than the 1 asked for"), std::string::npos);
    EXPECT_NE(error_of(decode_orders(ok(R"({"orders":[{"order_id":"o1","product_id":"BTC-USD","side":"BUY",
 "status":"FILLED","filled_size":"-1"}],"has_next":false})"),
                                     10))
                  .find("orders[0].filled_size' is out of range"),
              std::string::npos);
    EXPECT_NE(error_of(decode_orders(ok(R"({"orders":[{"order_id":"o1","product_id":"BTC-USD","side":"BUY",
 "status":"FILLED","filled_size":"1","average_filled_price":"0"}],"has_next":false})"),
                                     10))
                  .find("orders[0].average_filled_price"),
              std::string::npos);
    EXPECT_NE(error_of(decode_orders(ok(R"({"orders":[7],"has_next":false})"), 10)).find("orders[0]' is not an object"),
              std::string::npos);
    EXPECT_NE(
        error_of(decode_orders(ok(R"({"orders":[],"has_next":true,"cursor":""})"), 10)).find("empty while has_next"),
        std::string::npos);
    EXPECT_NE(error_of(decode_orders(ok(R"({"orders":[]})"), 10)).find("has_next' is missing"), std::string::npos);
    EXPECT_EQ(decode_orders(HttpAnswer{429, "text/html", "<html>"}, 10).error.kind, RestErrorKind::rate_limited);
}

TEST(RestFills, decodes_fills_with_their_commission) {
    const std::string body =
        R"({"fills":[{"entry_id":"e1","trade_id":"t1","order_id":"a9625b04","trade_time":"2023-11-26T12:00:00.2Z",
 "trade_type":"FILL","price":"0.392","size":"10","commission":"0.03136","product_id":"ADA-USDT",
 "sequence_timestamp":"2023-11-26T12:00:00.21Z","liquidity_indicator":"TAKER","size_in_quote":false,"user_id":"u",
 "side":"SELL","retail_portfolio_id":"p"}],"cursor":""})";
    const auto r = decode_fills(ok(body));
    ASSERT_TRUE(r.ok()) << r.error.message;
    ASSERT_EQ(r.value->fills.size(), 1u);
    EXPECT_EQ(r.value->fills[0].commission.text, "0.03136");
    EXPECT_EQ(r.value->fills[0].liquidity_indicator, "TAKER");
    EXPECT_EQ(r.value->fills[0].side, Side::sell);
    EXPECT_TRUE(r.value->cursor.empty());
    std::string bad_product(body);
    bad_product.replace(bad_product.find("ADA-USDT"), 8, "ada usdt");
    EXPECT_NE(error_of(decode_fills(ok(bad_product))).find("fills[0].product_id' is not a product id"),
              std::string::npos);
    std::string bad_time(body);
    bad_time.replace(bad_time.find("2023-11-26T12:00:00.2Z"), 22, "yesterday");
    EXPECT_NE(error_of(decode_fills(ok(bad_time))).find("fills[0].trade_time' is not an RFC 3339 time"),
              std::string::npos);
}

// ---- order sizing --------------------------------------------------------------------------------

Product btc_usd() {
    return *decode_product(ok(product_body)).value;
}

TEST(RestSizing, buy_spends_quote_floored_to_the_quote_increment) {
    const auto r = make_market_order(btc_usd(), Side::buy, 25.009, "c1");
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.value->size, "25");
    EXPECT_EQ(make_market_order(btc_usd(), Side::buy, 25.29, "c1").value->size, "25.29");
}

TEST(RestSizing, sell_floors_base_to_the_base_increment_exactly) {
    EXPECT_EQ(make_market_order(btc_usd(), Side::sell, 0.123456789, "c1").value->size, "0.12345678");
    EXPECT_EQ(make_market_order(btc_usd(), Side::sell, 0.29, "c1").value->size, "0.29");
}

TEST(RestSizing, refuses_orders_the_exchange_would_refuse) {
    EXPECT_NE(
        error_of(make_market_order(btc_usd(), Side::buy, 0.5, "c1")).find("quote_size 0.5 is below the minimum 1"),
        std::string::npos);
    EXPECT_NE(error_of(make_market_order(btc_usd(), Side::buy, 0.004, "c1")).find("floors to zero"), std::string::npos);
    EXPECT_NE(error_of(make_market_order(btc_usd(), Side::sell, 3400.5, "c1")).find("above the maximum 3400"),
              std::string::npos);
    Product p = btc_usd();
    p.trading_disabled = true;
    const auto r = make_market_order(p, Side::buy, 100, "c1");
    EXPECT_EQ(r.error.kind, RestErrorKind::invalid_order);
    EXPECT_EQ(r.error.message, "BTC-USD BUY: market orders not allowed: trading_disabled is true");
    EXPECT_NE(error_of(make_market_order(btc_usd(), Side::buy, 100, "bad id")).find("client_order_id"),
              std::string::npos);
}

}  // namespace
