// exec/exchange_access: the direct implementation over RestClient with a scripted transport (every
// accounts page followed, candles paged oldest first from the public endpoint, a range too large
// refused unsent, a failed page failing the call) and the page plan shared with the bridge.
#include <gtest/gtest.h>

#include <string>

#include "exec/exchange_access.hpp"
#include "exec/jwt.hpp"
#include "exec/rest_client.hpp"
#include "tests/exec/openssl_keys.hpp"
#include "tests/exec/scripted_transport.hpp"

namespace {

using namespace cbtrade;
using namespace cbtrade::rest;
using test::FakeClock;
using test::ScriptedTransport;

std::string candle_json(std::int64_t start, double close) {
    const std::string c = std::to_string(close);
    return R"({"start":")" + std::to_string(start) + R"(","low":")" + c + R"(","high":")" + c + R"(","open":")" + c +
           R"(","close":")" + c + R"(","volume":"1"})";
}

// Newest first, as the exchange answers.
std::string candles_body(std::int64_t first, std::int64_t last, std::int64_t g) {
    std::string body = R"({"candles":[)";
    for (std::int64_t t = last; t >= first; t -= g) {
        if (t != last) body += ',';
        body += candle_json(t, 100.0 + static_cast<double>(t / g % 50));
    }
    return body + "]}";
}

class ExchangeAccessTest : public ::testing::Test {
protected:
    ExchangeAccessTest()
        : key_(test::make_ed25519_key()),
          signer_("organizations/o/apiKeys/k", key_.ed_base64_64, "test"),
          transport_(clock_),
          client_(transport_, &signer_, options(), clock_),
          access_(make_rest_exchange_access(client_)) {}
    static RestClientOptions options() {
        RestClientOptions o;
        o.host = "api.coinbase.com";
        return o;
    }
    test::TestKey key_;
    JwtSigner signer_;
    FakeClock clock_;
    ScriptedTransport transport_;
    RestClient client_;
    std::unique_ptr<ExchangeAccess> access_;
};

TEST_F(ExchangeAccessTest, describes_itself_by_host) {
    EXPECT_EQ(access_->describe(), "Coinbase REST (api.coinbase.com)");
}

TEST_F(ExchangeAccessTest, accounts_follow_every_page_with_credentials) {
    transport_.answer(
        200,
        R"({"accounts":[{"uuid":"a1","currency":"USD","available_balance":{"value":"1000.5"}}],"has_next":true,"cursor":"p2"})");
    transport_.answer(
        200,
        R"({"accounts":[{"uuid":"a2","currency":"BTC","available_balance":{"value":"0.25"}}],"has_next":false,"cursor":""})");
    const auto r = access_->accounts();
    ASSERT_TRUE(r.ok()) << r.error.message;
    ASSERT_EQ(r.value->size(), 2u);
    EXPECT_EQ((*r.value)[0].currency, "USD");
    EXPECT_DOUBLE_EQ((*r.value)[0].available.value, 1000.5);
    EXPECT_EQ((*r.value)[1].currency, "BTC");
    ASSERT_EQ(transport_.sent.size(), 2u);
    EXPECT_NE(transport_.sent[1].target.find("cursor=p2"), std::string::npos);
    EXPECT_TRUE(transport_.sent[0].authorization.starts_with("Bearer "));
}

TEST_F(ExchangeAccessTest, a_refused_accounts_call_is_an_error_not_an_empty_list) {
    transport_.answer(401, "Unauthorized", "text/plain");
    const auto r = access_->accounts();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.kind, RestErrorKind::unauthorized);
}

TEST_F(ExchangeAccessTest, product_is_checked_to_be_the_one_asked_for) {
    transport_.answer(200,
                      R"({"product_id":"ETH-USD","price":"3000","base_increment":"0.00000001","quote_increment":"0.01",
 "base_min_size":"0.00000001","base_max_size":"3400","quote_min_size":"1","quote_max_size":"150000000","status":"online"})");
    const auto r = access_->product("BTC-USD");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.kind, RestErrorKind::malformed);
}

TEST_F(ExchangeAccessTest, candles_are_paged_oldest_first_from_the_public_endpoint) {
    constexpr std::int64_t g = 60;
    // 350 buckets from 6000: pages of 300 and 50; start 5990 rounds up to the first bucket, 6000.
    const std::int64_t first = 6000, last = first + 349 * g;
    transport_.answer(200, candles_body(first, first + 299 * g, g));
    transport_.answer(200, candles_body(first + 300 * g, last, g));
    const auto r = access_->candles("BTC-USD", Granularity::one_minute, 5990, last);
    ASSERT_TRUE(r.ok()) << r.error.message;
    ASSERT_EQ(r.value->size(), 350u);
    for (std::size_t i = 0; i < r.value->size(); ++i)
        ASSERT_EQ((*r.value)[i].time_s, first + static_cast<std::int64_t>(i) * g) << i;
    ASSERT_EQ(transport_.sent.size(), 2u);
    for (const auto& s : transport_.sent) {
        EXPECT_EQ(s.target.rfind("/api/v3/brokerage/market/products/BTC-USD/candles?", 0), 0u) << s.target;
        EXPECT_TRUE(s.authorization.empty()) << "public endpoint: no JWT";
    }
    EXPECT_NE(transport_.sent[0].target.find("start=6000&end=23999&"), std::string::npos) << transport_.sent[0].target;
    EXPECT_NE(transport_.sent[0].target.find("limit=300"), std::string::npos);
    EXPECT_NE(transport_.sent[1].target.find("start=24000&end=26940&"), std::string::npos) << transport_.sent[1].target;
    EXPECT_NE(transport_.sent[1].target.find("limit=50"), std::string::npos);
}

TEST_F(ExchangeAccessTest, a_failed_page_fails_the_whole_call) {
    transport_.answer(200, candles_body(6000, 6000 + 299 * 60, 60));
    transport_.answer(400, R"({"error":"INVALID_ARGUMENT","message":"bad end"})");
    const auto r = access_->candles("BTC-USD", Granularity::one_minute, 6000, 6000 + 349 * 60);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.kind, RestErrorKind::bad_request);
}

TEST_F(ExchangeAccessTest, a_candle_outside_its_page_is_refused) {
    // The server answers the second page with a bucket of the first: decode_candles refuses it.
    transport_.answer(200, candles_body(6000, 6000 + 299 * 60, 60));
    transport_.answer(200, candles_body(6000, 6000 + 10 * 60, 60));
    const auto r = access_->candles("BTC-USD", Granularity::one_minute, 6000, 6000 + 349 * 60);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.kind, RestErrorKind::malformed);
}

TEST_F(ExchangeAccessTest, a_range_too_large_or_backwards_is_refused_unsent) {
    const auto big = access_->candles("BTC-USD", Granularity::one_minute, 0,
                                      static_cast<std::int64_t>(max_exchange_access_buckets) * 60);
    EXPECT_EQ(big.error.kind, RestErrorKind::invalid_order);
    const auto backwards = access_->candles("BTC-USD", Granularity::one_minute, 6000, 5000);
    EXPECT_EQ(backwards.error.kind, RestErrorKind::invalid_order);
    const auto huge = access_->candles("BTC-USD", Granularity::one_minute, 0, INT64_MAX);
    EXPECT_EQ(huge.error.kind, RestErrorKind::invalid_order);
    const auto bad_id = access_->candles("btc usd", Granularity::one_minute, 6000, 7000);
    EXPECT_EQ(bad_id.error.kind, RestErrorKind::invalid_order);
    EXPECT_TRUE(transport_.sent.empty());
}

TEST(CandlePagePlan, pages_neither_overlap_nor_leave_a_bucket_out) {
    const auto pages = plan_candle_pages(300, 1001, 1001 + 700 * 300, 300);
    ASSERT_EQ(pages.size(), 3u);
    EXPECT_EQ(pages[0].start_s, 1200);
    EXPECT_EQ(pages[0].buckets, 300u);
    EXPECT_EQ(pages[0].end_s, 1200 + 300 * 300 - 1);
    for (std::size_t i = 1; i < pages.size(); ++i) EXPECT_EQ(pages[i].start_s, pages[i - 1].end_s + 1);
    EXPECT_EQ(pages[2].end_s, 1001 + 700 * 300);
    std::size_t total = 0;
    for (const auto& p : pages) total += p.buckets;
    EXPECT_EQ(total, 700u);  // buckets 1200, 1500, ... up to 1001 + 700*300 = 211001 -> last 210900
}

TEST(CandlePagePlan, a_range_without_a_bucket_start_has_no_page) {
    EXPECT_TRUE(plan_candle_pages(60, 61, 119).empty());
    EXPECT_TRUE(plan_candle_pages(60, 100, 50).empty());
    EXPECT_EQ(plan_candle_pages(60, 60, 60).size(), 1u);
}

// ---- the warm-up: recent closed candles -----------------------------------------------------------

TEST_F(ExchangeAccessTest, recent_candles_leave_the_open_one_to_the_live_feed_and_fill_quiet_buckets) {
    constexpr std::int64_t g = 60;
    const std::int64_t end = 1'700'000'000 / g * g;  // the open bucket starts here
    const std::int64_t now = end + 30;
    // 5 buckets asked for: [end - 300, end - 1] (never the open one). The exchange answers (newest
    // first) without end - 180 and end - 60 (no trades).
    transport_.answer(200, R"({"candles":[)" + candle_json(end - 120, 103) + "," + candle_json(end - 240, 101) + "," +
                               candle_json(end - 300, 100) + "]}");
    const auto r = recent_closed_candles(*access_, "BTC-USD", Granularity::one_minute, now, 5);
    ASSERT_TRUE(r.ok()) << r.error.message;
    const RecentCandles& rc = *r.value;
    EXPECT_EQ(rc.end_s, end);
    EXPECT_EQ(rc.filled, 2u);
    ASSERT_EQ(rc.candles.size(), 5u);
    for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(rc.candles[i].time_s, end - 300 + static_cast<std::int64_t>(i) * g);
    EXPECT_DOUBLE_EQ(rc.candles[2].close, 101) << "a quiet bucket is flat at the previous close";
    EXPECT_DOUBLE_EQ(rc.candles[2].volume, 0);
    EXPECT_DOUBLE_EQ(rc.candles[4].open, 103) << "quiet buckets up to the open one: the history ends at end_s";
    EXPECT_EQ(rc.candles.back().time_s + g, rc.end_s);
    ASSERT_EQ(transport_.sent.size(), 1u);
    EXPECT_NE(transport_.sent[0].target.find("start=" + std::to_string(end - 300) + "&end=" + std::to_string(end - 1)),
              std::string::npos)
        << transport_.sent[0].target;
}

TEST_F(ExchangeAccessTest, a_bucket_that_ended_less_than_the_settle_time_ago_is_not_yet_history) {
    const std::int64_t boundary = 1'700'000'000 / 60 * 60;
    transport_.answer(200, R"({"candles":[)" + candle_json(boundary - 120, 100) + "]}");
    const auto r = recent_closed_candles(*access_, "BTC-USD", Granularity::one_minute, boundary + 1, 1, 2);
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.value->end_s, boundary - 60);
    ASSERT_EQ(r.value->candles.size(), 1u);
    EXPECT_EQ(r.value->candles[0].time_s, boundary - 120);
}

TEST_F(ExchangeAccessTest, the_open_candle_sent_anyway_is_refused_not_taken_as_closed) {
    const std::int64_t end = 1'700'000'000 / 60 * 60;
    transport_.answer(200, R"({"candles":[)" + candle_json(end, 200) + "," + candle_json(end - 60, 100) + "]}");
    const auto r = recent_closed_candles(*access_, "BTC-USD", Granularity::one_minute, end + 30, 2);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.kind, RestErrorKind::malformed);
}

TEST_F(ExchangeAccessTest, recent_candles_pass_on_a_failure_and_refuse_a_count_out_of_range) {
    transport_.answer(404, R"({"error":"NOT_FOUND","message":"Product not found"})");
    transport_.answer(404, R"({"error":"NOT_FOUND","message":"Product not found"})");
    const auto r = recent_closed_candles(*access_, "BTC-USD", Granularity::one_minute, 1'700'000'000, 300);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.kind, RestErrorKind::not_found);
    const std::size_t sent = transport_.sent.size();
    EXPECT_FALSE(recent_closed_candles(*access_, "BTC-USD", Granularity::one_minute, 1'700'000'000, 0).ok());
    EXPECT_FALSE(recent_closed_candles(*access_, "BTC-USD", Granularity::one_minute, 1'700'000'000,
                                       max_exchange_access_buckets + 1)
                     .ok());
    EXPECT_FALSE(recent_closed_candles(*access_, "BTC-USD", Granularity::one_minute, 100, 300).ok());
    EXPECT_EQ(transport_.sent.size(), sent);
}

}  // namespace
