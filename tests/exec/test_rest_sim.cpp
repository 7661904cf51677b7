// exec/rest_client against cbtrade-sim on loopback, through io/http_client over TLS with the sim's
// test CA (CBTRADE_REST_TRANSPORT=io) or plain HTTP through tests/exec/beast_transport.hpp:
// every call, accounts paging, candles equal to the sim's series, both key types, 401 for an
// expired token / a wrong key / a uri claim for another path / a skewed clock, 429 survived, and
// create-order faults (5xx, timeout, dropped connection) that never produce a second order (the
// simulator counts orders per client_order_id). Keys are made here at test time.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/cpu.hpp"
#include "exec/jwt.hpp"
#include "exec/rest_client.hpp"
#include "exec/rest_session.hpp"
#include "io/http_client.hpp"
#include "io/url.hpp"
#include "feeds/csv_candles.hpp"
#include "feeds/synthetic_market.hpp"
#include "tests/exec/beast_transport.hpp"
#include "tests/exec/openssl_keys.hpp"
#include "tests/exec/sim_process.hpp"

namespace {

using namespace cbtrade;
using namespace cbtrade::rest;
using test::SimProcess;

constexpr std::int64_t series_start_s = 1'700'000'040;  // a whole minute
constexpr std::size_t series_candles = 1000;
const std::string ec_name = "organizations/org-1/apiKeys/ec-key";
const std::string ed_name = "3f2a9c4e-0000-4000-8000-00000000ed25";

class RestSim : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (test::sim_path().empty() || access(test::sim_path().c_str(), X_OK) != 0) return;
        char tmpl[] = "/tmp/cbtrade-rest-sim-XXXXXX";
        dir_ = mkdtemp(tmpl);
        ec_ = std::make_unique<test::TestKey>(test::make_p256_key());
        ed_ = std::make_unique<test::TestKey>(test::make_ed25519_key());
        std::ofstream(dir_ + "/ec.pub") << ec_->public_pem;
        std::ofstream(dir_ + "/ed.pub") << ed_->public_pem;
        SyntheticMarketParams p;
        p.seed = 11;
        p.start_time_s = series_start_s;
        series_ = SyntheticMarket(p).take(series_candles);
        std::string csv = candles_csv_header();
        for (const Candle& c : series_) append_candle_csv(csv, c);
        std::ofstream(dir_ + "/series.csv") << csv;
        // What the simulator will serve: the CSV as read back (2-decimal prices).
        series_ = read_candles_csv(dir_ + "/series.csv").candles;
    }
    static void TearDownTestSuite() {
        for (const char* f : {"/ec.pub", "/ed.pub", "/series.csv", "/ca.pem"}) std::remove((dir_ + f).c_str());
        if (!dir_.empty()) rmdir(dir_.c_str());
    }
    void SetUp() override {
        if (dir_.empty()) GTEST_SKIP() << "cbtrade-sim not found ($CBTRADE_SIM)";
    }

    // $CBTRADE_REST_TRANSPORT=io: the production transport (io/http_client over io_uring) to the
    // simulator's TLS port with its test CA; otherwise plain HTTP through Boost.Beast.
    static bool use_io() {
        const char* t = std::getenv("CBTRADE_REST_TRANSPORT");
        return t != nullptr && std::string_view(t) == "io";
    }

    std::unique_ptr<SimProcess> start(std::vector<std::string> extra = {}) {
        std::vector<std::string> args{"--quiet",
                                      "--csv",
                                      dir_ + "/series.csv",
                                      "--api-key",
                                      ec_name + "=" + dir_ + "/ec.pub",
                                      "--api-key",
                                      ed_name + "=" + dir_ + "/ed.pub"};
        if (use_io()) {
            args.push_back("--ca-out");
            args.push_back(dir_ + "/ca.pem");
        } else {
            args.push_back("--plain");
        }
        args.insert(args.end(), extra.begin(), extra.end());
        auto sim = std::make_unique<SimProcess>(args);
        io_transport_.reset();
        http_.reset();
        if (use_io()) {
            loop_ = std::make_unique<io::UringLoop>();
            if (const int rc = loop_->init(64); rc < 0) throw std::runtime_error(io::uring_unavailable_message(rc));
            const io::UrlResult url = io::parse_url("https://127.0.0.1:" + std::to_string(sim->port()));
            io::HttpClientOptions ho;
            ho.ca_file = dir_ + "/ca.pem";
            http_ = std::make_unique<io::HttpClient>(*loop_, *url.url, ho);
            std::string error;
            if (http_->init(error) < 0) throw std::runtime_error(error);
            io_transport_ = std::make_unique<IoHttpTransport>(*http_);
            transport_ = io_transport_.get();
        } else {
            beast_ = std::make_unique<test::BeastTransport>("127.0.0.1", sim->port());
            transport_ = beast_.get();
        }
        return sim;
    }
    RestClient client(JwtSigner* signer, RestClientOptions o = {}) {
        o.host = "127.0.0.1";
        o.timeout_ms = 1500;
        o.backoff_initial_ms = 50;
        o.rate_limited_backoff_ms = 200;
        return RestClient(*transport_, signer, o);
    }
    JwtSigner ec_signer() { return JwtSigner(ec_name, ec_->sec1_pem, "test"); }
    JwtSigner ed_signer() { return JwtSigner(ed_name, ed_->ed_base64_64, "test"); }

    // One raw request with a chosen Authorization header: the answer's status.
    int raw_status(const std::string& method, const std::string& target, const std::string& authorization) {
        const HeaderField headers[] = {{"Authorization", authorization}};
        const TransportResult r = transport_->exchange(TransportRequest{method, target, headers, {}, 2000});
        return r.response ? r.response->status : -1;
    }

    static inline std::string dir_;
    static inline std::unique_ptr<test::TestKey> ec_;
    static inline std::unique_ptr<test::TestKey> ed_;
    static inline std::vector<Candle> series_;
    HttpTransport* transport_ = nullptr;
    std::unique_ptr<test::BeastTransport> beast_;
    std::unique_ptr<io::UringLoop> loop_;
    std::unique_ptr<io::HttpClient> http_;
    std::unique_ptr<IoHttpTransport> io_transport_;
};

TEST_F(RestSim, server_time_is_the_exchange_clock) {
    auto sim = start();
    RestClient c = client(nullptr);
    const auto t = c.server_time();
    ASSERT_TRUE(t.ok()) << t.error.message;
    EXPECT_NEAR(static_cast<double>(t.value->epoch_ms), static_cast<double>(wall_ns() / 1'000'000), 5000.0);
}

TEST_F(RestSim, both_key_types_read_accounts_and_paging_returns_every_account) {
    auto sim = start({"--extra-accounts", "300"});
    std::vector<JwtSigner> signers;
    signers.push_back(ec_signer());
    signers.push_back(ed_signer());
    for (JwtSigner& signer : signers) {
        RestClient c = client(&signer);
        const auto all = c.all_accounts();
        ASSERT_TRUE(all.ok()) << jwt_alg_name(signer.algorithm()) << ": " << all.error.message;
        ASSERT_EQ(all.value->size(), 303u);
        std::set<std::string> uuids;
        for (const auto& a : *all.value) uuids.insert(a.uuid);
        EXPECT_EQ(uuids.size(), 303u) << "no account twice across pages";
        EXPECT_EQ((*all.value)[0].currency, "USD");
        EXPECT_EQ((*all.value)[0].available.text, "100000");
        const auto page = c.accounts_page(2, "");
        ASSERT_TRUE(page.ok());
        EXPECT_EQ(page.value->accounts.size(), 2u);
        EXPECT_TRUE(page.value->has_next);
    }
}

TEST_F(RestSim, product_and_the_trading_switch) {
    {
        auto sim = start();
        JwtSigner s = ed_signer();
        RestClient c = client(&s);
        const auto p = c.product("BTC-USD");
        ASSERT_TRUE(p.ok()) << p.error.message;
        EXPECT_EQ(p.value->base_increment_text, "0.00000001");
        EXPECT_EQ(p.value->quote_min_size.text, "1");
        EXPECT_TRUE(p.value->market_orders_allowed());
        RestClient pub = client(nullptr);
        EXPECT_TRUE(pub.product("BTC-USD").ok()) << "the public market/ endpoint";
    }
    auto sim = start({"--trading-disabled"});
    JwtSigner s = ed_signer();
    RestClient c = client(&s);
    const auto p = c.product("ETH-USD");
    ASSERT_TRUE(p.ok()) << p.error.message;
    EXPECT_FALSE(p.value->market_orders_allowed());
    EXPECT_EQ(p.value->market_orders_refusal(), "trading_disabled is true");
}

TEST_F(RestSim, candles_are_the_series_in_time_order_with_and_without_credentials) {
    auto sim = start();
    JwtSigner s = ec_signer();
    for (JwtSigner* signer : {static_cast<JwtSigner*>(nullptr), &s}) {
        RestClient c = client(signer);
        const std::int64_t start_s = series_start_s + 60 * 100;
        const std::int64_t end_s = candle_page_end(start_s, 60, 300);
        const auto r = c.candles("BTC-USD", Granularity::one_minute, start_s, end_s, 300);
        ASSERT_TRUE(r.ok()) << r.error.message;
        ASSERT_EQ(r.value->size(), 300u);
        for (std::size_t i = 0; i < 300; ++i) {
            const Candle& want = series_[100 + i];
            const Candle& got = (*r.value)[i];
            ASSERT_EQ(got.time_s, want.time_s);
            ASSERT_EQ(got.open, want.open);
            ASSERT_EQ(got.high, want.high);
            ASSERT_EQ(got.low, want.low);
            ASSERT_EQ(got.close, want.close);
            ASSERT_EQ(got.volume, want.volume);
        }
    }
    // More than 350 buckets is refused by the exchange (and the simulator) with 400.
    RestClient c = client(nullptr);
    const auto r = c.candles("BTC-USD", Granularity::one_minute, series_start_s, series_start_s + 400 * 60, 300);
    EXPECT_FALSE(r.ok());
}

TEST_F(RestSim, market_orders_fill_at_the_current_price_with_a_fee) {
    auto sim = start({"--fee-bps", "60"});
    JwtSigner s = ed_signer();
    RestClient c = client(&s);
    const auto product = c.product("BTC-USD");
    ASSERT_TRUE(product.ok());
    const auto buy = make_market_order(*product.value, Side::buy, 100.0, new_client_order_id());
    ASSERT_TRUE(buy.ok()) << buy.error.message;
    const auto placed = c.create_market_order(*buy.value);
    ASSERT_TRUE(placed.ok()) << placed.error.message;
    EXPECT_EQ(placed.value->client_order_id, buy.value->client_order_id);
    const auto order = c.wait_for_order(placed.value->order_id);
    ASSERT_TRUE(order.ok()) << order.error.message;
    EXPECT_EQ(order.value->status, OrderStatus::filled);
    EXPECT_EQ(order.value->average_filled_price.value, product.value->price.value) << "filled at the current price";
    EXPECT_NEAR(order.value->total_fees.value + order.value->filled_value.value, 100.0, 1e-6);
    EXPECT_NEAR(order.value->total_fees.value / order.value->filled_value.value, 0.006, 1e-6);
    const auto fills = c.fills(placed.value->order_id);
    ASSERT_TRUE(fills.ok()) << fills.error.message;
    ASSERT_EQ(fills.value->size(), 1u);
    EXPECT_EQ((*fills.value)[0].commission.text, order.value->total_fees.text);
    EXPECT_EQ((*fills.value)[0].size.text, order.value->filled_size.text);

    // Selling it back: base_size floored to the base increment.
    const auto sell =
        make_market_order(*product.value, Side::sell, order.value->filled_size.value, new_client_order_id());
    ASSERT_TRUE(sell.ok());
    const auto sold = c.create_market_order(*sell.value);
    ASSERT_TRUE(sold.ok()) << sold.error.message;
    EXPECT_EQ(c.order(sold.value->order_id).value->side, Side::sell);

    // Too much: the exchange says INSUFFICIENT_FUND, as a rejection.
    const auto big = make_market_order(*product.value, Side::buy, 10'000'000.0, new_client_order_id());
    ASSERT_TRUE(big.ok());
    const auto refused = c.create_market_order(*big.value);
    EXPECT_EQ(refused.error.kind, RestErrorKind::rejected);
    EXPECT_EQ(refused.error.code, "INSUFFICIENT_FUND");
    sim->stop();
    EXPECT_EQ(sim->stat("rest_orders"), 2);
}

TEST_F(RestSim, a_client_order_id_sent_again_returns_the_first_order) {
    auto sim = start();
    JwtSigner s = ec_signer();
    RestClient c = client(&s);
    const MarketOrder o{new_client_order_id(), "BTC-USD", Side::buy, "50"};
    const auto first = c.create_market_order(o);
    const auto second = c.create_market_order(o);
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_EQ(first.value->order_id, second.value->order_id);
    sim->stop();
    EXPECT_EQ(sim->stat("rest_orders"), 1);
    EXPECT_EQ(sim->stat("rest_order_repeats"), 1);
}

TEST_F(RestSim, refused_tokens_get_401) {
    auto sim = start();
    JwtSigner good = ed_signer();
    const std::string path = "/api/v3/brokerage/accounts";
    const std::int64_t now = wall_ns() / 1'000'000'000;
    const std::string uri = "GET 127.0.0.1" + path;
    EXPECT_EQ(raw_status("GET", path, "Bearer " + good.rest_jwt("GET", "127.0.0.1", path, now)), 200);
    // Expired: made three minutes ago.
    EXPECT_EQ(raw_status("GET", path, "Bearer " + good.sign({now - 180, now - 60, uri})), 401);
    // Not valid yet, and a lifetime longer than 120 s.
    EXPECT_EQ(raw_status("GET", path, "Bearer " + good.sign({now + 60, now + 180, uri})), 401);
    EXPECT_EQ(raw_status("GET", path, "Bearer " + good.sign({now, now + 600, uri})), 401);
    // A uri claim for another path, another method, or none.
    EXPECT_EQ(raw_status("GET", path, "Bearer " + good.rest_jwt("GET", "127.0.0.1", "/api/v3/brokerage/orders", now)),
              401);
    EXPECT_EQ(raw_status("GET", path, "Bearer " + good.rest_jwt("POST", "127.0.0.1", path, now)), 401);
    EXPECT_EQ(raw_status("GET", path, "Bearer " + good.ws_jwt(now)), 401);
    // The right name with another key, and an unknown name.
    const test::TestKey other = test::make_ed25519_key();
    JwtSigner wrong_key(ed_name, other.ed_base64_64, "test");
    EXPECT_EQ(raw_status("GET", path, "Bearer " + wrong_key.rest_jwt("GET", "127.0.0.1", path, now)), 401);
    JwtSigner unknown_name("organizations/x/apiKeys/unknown", ed_->ed_base64_64, "test");
    EXPECT_EQ(raw_status("GET", path, "Bearer " + unknown_name.rest_jwt("GET", "127.0.0.1", path, now)), 401);
    EXPECT_EQ(raw_status("GET", path, ""), 401);
    sim->stop();
    EXPECT_EQ(sim->stat("rest_unauthorized"), 9);
}

TEST_F(RestSim, a_skewed_clock_is_401_with_an_actionable_message) {
    auto sim = start({"--clock-offset-sec", "600"});
    JwtSigner s = ec_signer();
    RestClient c = client(&s);
    const auto r = c.accounts_page(10, "");
    EXPECT_EQ(r.error.kind, RestErrorKind::unauthorized);
    EXPECT_NE(r.error.message.find("clock"), std::string::npos) << r.error.message;
    const auto t = c.server_time();
    ASSERT_TRUE(t.ok());
    EXPECT_GT(t.value->epoch_ms - wall_ns() / 1'000'000, 590'000);
}

TEST_F(RestSim, rate_limits_are_survived_and_the_budget_avoids_them) {
    {
        auto sim = start({"--rest-fault", "accounts:429:2"});
        JwtSigner s = ed_signer();
        RestClient c = client(&s);
        const auto r = c.accounts_page(10, "");
        ASSERT_TRUE(r.ok()) << r.error.message;
        EXPECT_EQ(c.stats().rate_limited, 2u);
    }
    {
        // 25 public requests in a row: the client's budget keeps them under the sim's 10/s.
        auto sim = start();
        RestClient c = client(nullptr);
        for (int i = 0; i < 25; ++i) ASSERT_TRUE(c.server_time().ok());
        EXPECT_EQ(c.stats().rate_limited, 0u);
        sim->stop();
        EXPECT_EQ(sim->stat("rest_rate_limited"), 0);
    }
    // Without the budget the simulator's limit answers 429 (HTML), and retries still get through.
    auto sim = start();
    RestClientOptions o;
    o.public_per_s = 0;
    RestClient c = client(nullptr, o);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.server_time().ok()) << i;
    EXPECT_GT(c.stats().rate_limited, 0u);
}

class CreateOrderFault : public RestSim, public ::testing::WithParamInterface<const char*> {};

TEST_P(CreateOrderFault, never_makes_a_second_order) {
    auto sim = start({"--rest-fault", std::string("orders:") + GetParam() + ":1"});
    JwtSigner s = ed_signer();
    RestClient c = client(&s);
    const MarketOrder o{new_client_order_id(), "BTC-USD", Side::buy, "25"};
    const auto r = c.create_market_order(o);
    ASSERT_TRUE(r.ok()) << GetParam() << ": " << r.error.message;
    EXPECT_EQ(c.stats().unknown_outcomes, 1u);
    const auto order = c.order(r.value->order_id);
    ASSERT_TRUE(order.ok());
    EXPECT_EQ(order.value->client_order_id, o.client_order_id);
    sim->stop();
    EXPECT_EQ(sim->stat("rest_orders"), 1) << "one order, although the request went out twice";
    EXPECT_EQ(sim->stat("rest_order_repeats"), 1);
}
INSTANTIATE_TEST_SUITE_P(Faults, CreateOrderFault, ::testing::Values("500", "503", "timeout", "drop"));

TEST_F(RestSim, an_outcome_that_stays_unknown_is_reported_and_still_one_order) {
    auto sim = start({"--rest-fault", "orders:500:10"});
    JwtSigner s = ed_signer();
    RestClientOptions o;
    o.max_attempts = 3;
    RestClient c = client(&s, o);
    const MarketOrder order{new_client_order_id(), "BTC-USD", Side::buy, "25"};
    const auto r = c.create_market_order(order);
    EXPECT_EQ(r.error.kind, RestErrorKind::unknown_outcome);
    EXPECT_NE(r.error.message.find(order.client_order_id), std::string::npos);
    sim->stop();
    EXPECT_EQ(sim->stat("rest_orders"), 1);
    EXPECT_EQ(sim->stat("rest_order_repeats"), 2);
}

TEST_F(RestSim, insufficient_funds_on_demand_is_a_rejection_and_no_order) {
    auto sim = start({"--rest-fault", "orders:insufficient"});
    JwtSigner s = ed_signer();
    RestClient c = client(&s);
    const auto r = c.create_market_order(MarketOrder{new_client_order_id(), "BTC-USD", Side::buy, "25"});
    EXPECT_EQ(r.error.kind, RestErrorKind::rejected);
    EXPECT_EQ(r.error.code, "INSUFFICIENT_FUND");
    sim->stop();
    EXPECT_EQ(sim->stat("rest_orders"), 0);
}

}  // namespace
