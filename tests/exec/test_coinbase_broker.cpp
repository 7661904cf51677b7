// exec/live_orders: the exec thread's Coinbase broker over io_uring + TLS against a scripted
// loopback exchange (test PKI made at test time): the request on the wire (a pre-signed token, the
// exact body with a fresh client_order_id, the size floored to the increment), the first answer
// handed to the desk ring, the settlement applied; no token or a size off the product's limits
// refused before sending; the keep-alive GET on one connection; an order waiting for a keep-alive
// answer; a dropped connection after the send reported as such. And no heap allocation on the
// sending thread from submit() to the answer on the desk ring, once the connection is warm (this
// program replaces malloc: tests/pipeline/counting_malloc.hpp; with the accelerated wolfSSL build).
#include <gtest/gtest.h>
#include <sys/prctl.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/cpu.hpp"
#include "exec/live_orders.hpp"
#include "io/tls_info.hpp"
#include "io/url.hpp"
#include "tests/io/loopback_server.hpp"
#include "tests/io/pki_fixture.hpp"
#include "tests/pipeline/counting_malloc.hpp"

namespace cbtrade {
namespace {

using cbtrade::testing::LoopbackServer;
using cbtrade::testing::ServerConnection;
namespace alloc = cbtrade::testing::alloc;

constexpr std::string_view created_body =
    R"({"success":true,"failure_reason":"UNKNOWN_FAILURE_REASON","order_id":"o-1","success_response":{"order_id":"o-1"}})";

std::string json_ok(std::string_view body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + std::string(body);
}

LiveProduct btc_usd() {
    LiveProduct p;
    p.product_id = "BTC-USD";
    p.base_increment = *DecimalIncrement::parse("0.00000001");
    p.quote_increment = *DecimalIncrement::parse("0.01");
    p.base_min_size = 0.00000001;
    p.base_max_size = 3400;
    p.quote_min_size = 1;
    p.quote_max_size = 150'000'000;
    return p;
}

class CoinbaseBrokerTest : public cbtrade::testing::PkiLoopTest {
protected:
    void start(std::uint16_t port, std::int64_t keepalive_ns = 15'000'000'000) {
        const io::UrlResult url = io::parse_url("https://localhost:" + std::to_string(port) + "/api/v3/brokerage");
        ASSERT_TRUE(url) << url.error;
        io::HttpClientOptions o;
        o.ca_file = pki_->ca_pem;
        http_ = std::make_unique<io::HttpClient>(loop_, *url.url, o);
        std::string error;
        ASSERT_EQ(http_->init(error), 0) << error;
        CoinbaseBrokerOptions bo;
        bo.product = btc_usd();
        bo.keepalive_ns = keepalive_ns;
        bo.order_timeout_ms = 2000;
        broker_ = std::make_unique<CoinbaseBroker>(*http_, tokens_, tickets_, settlements_, bo, 0x1234, 0x5678);
    }
    void fill_tokens(std::int64_t now) {
        int n = 0;
        (void)tokens_.refill(now, [&](char* out, std::size_t cap) {
            const int len = std::snprintf(out, cap, "hdr.payload-%d.sig", n++);
            return static_cast<std::size_t>(len);
        });
    }
    // Polls until `done` or `max_ms`; returns whether done.
    template <class Done>
    bool poll_until(Done&& done, std::int64_t max_ms = 3000) {
        const std::int64_t until = now_ns() + max_ms * 1'000'000;
        while (now_ns() < until) {
            if (broker_->poll(now_ns(), last_outcome_)) settled_ = true;
            if (done()) return true;
            (void)loop_.wait(10'000);
        }
        return false;
    }
    // The scripted exchange lives until after TearDown, which closes the client's connection first
    // (so the server's read ends at once).
    LoopbackServer& make_server() {
        server_ = std::make_unique<LoopbackServer>(&server_tls_);
        return *server_;
    }
    void TearDown() override {
        if (http_) http_->close();
    }
    std::unique_ptr<LoopbackServer> server_;
    OrderTicket next_ticket() {
        OrderTicket t{};
        EXPECT_TRUE(poll_until([&] { return tickets_.try_pop(t); })) << "no ticket for the desk";
        return t;
    }

    std::unique_ptr<io::HttpClient> http_;
    TokenPool tokens_;
    OrderTicketRing tickets_;
    OrderSettlementRing settlements_;
    std::unique_ptr<CoinbaseBroker> broker_;
    OrderOutcome last_outcome_{};
    bool settled_ = false;
};

const OrderRequest buy_25_37{1'700'000'000, 0.0006, 42'283.34, Side::buy, OrderReason::entry};  // 25.370004 USD

TEST_F(CoinbaseBrokerTest, an_order_goes_out_warm_with_a_pre_signed_token_and_allocates_nothing) {
    LoopbackServer& server = make_server();
    ASSERT_TRUE(server.ok());
    std::mutex mu;
    std::vector<std::string> requests;
    server.run(
        [&](ServerConnection& s, int) {
            for (;;) {
                const std::string r = s.read_http_request(5000);
                if (r.empty()) return;
                {
                    std::lock_guard lock(mu);
                    requests.push_back(r);
                }
                (void)s.send(json_ok(r.starts_with("GET") ? R"({"epochMillis":"1"})" : created_body));
            }
        },
        1);
    start(server.port());
    fill_tokens(now_ns());
    // The first poll warms the connection up (GET /time).
    ASSERT_TRUE(poll_until([&] {
        std::lock_guard lock(mu);
        return !requests.empty() && http_->connected() && !http_->busy();
    }));
    // A second warm-up order with its whole round trip, then the measured one.
    for (int round = 0; round < 2; ++round) {
        const bool measured = round == 1;
        if (measured && alloc::available()) {
            ::prctl(PR_SET_NAME, "cbt-exec-test");
            alloc::this_thread_kind = alloc::ThreadKind::unknown;
            alloc::counting.store(true);
        }
        OrderOutcome out;
        ASSERT_FALSE(broker_->submit(buy_25_37, 42'283.34, now_ns(), out)) << "settles later";
        EXPECT_TRUE(broker_->busy());
        const OrderTicket t = next_ticket();
        if (measured && alloc::available()) {
            alloc::counting.store(false);
            // The accelerated wolfSSL build keeps record-sized static buffers (LARGE_STATIC_BUFFERS,
            // scripts/wolfssl-accelerated.sh); Debian's mallocs a TLS output buffer per write.
            if (tls_info().flavour == "accelerated")
                EXPECT_EQ(alloc::hot_allocations.load(), 0u) << "heap allocations from submit() to the desk ring";
            else
                std::printf("note: %s wolfSSL: %llu allocations from submit() to the desk ring\n",
                            tls_info().flavour.c_str(), static_cast<unsigned long long>(alloc::hot_allocations.load()));
            // The counter itself works on this thread.
            alloc::counting.store(true);
            auto* probe = new std::string(100, 'x');
            alloc::counting.store(false);
            delete probe;
            EXPECT_GT(alloc::hot_allocations.load(), 0u) << "the counter counts on this thread";
            ::prctl(PR_SET_NAME, "test");
        }
        EXPECT_EQ(t.first, FirstAttempt::answered);
        EXPECT_EQ(t.status, 200);
        EXPECT_EQ(std::string_view(t.body, t.body_bytes), created_body);
        EXPECT_EQ(std::string_view(t.content_type, t.content_type_chars), "application/json");
        EXPECT_EQ(t.size_text(), "25.37");
        EXPECT_GT(t.sent_ns, 0);
        EXPECT_GE(t.settled_ns, t.sent_ns);
        // The desk settles it: the broker reports the outcome and is free again.
        OrderSettlement s{};
        std::memcpy(s.client_order_id, t.client_order_id, sizeof s.client_order_id);
        s.outcome.fill = Fill{t.request.time_s, 0.0006, 42'283.33, 0.15, Side::buy, OrderReason::entry};
        ASSERT_TRUE(settlements_.try_push(s));
        settled_ = false;
        ASSERT_TRUE(poll_until([&] { return settled_; }));
        EXPECT_DOUBLE_EQ(last_outcome_.fill.qty, 0.0006);
        EXPECT_FALSE(broker_->busy());
    }
    std::lock_guard lock(mu);
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_TRUE(requests[0].starts_with("GET /api/v3/brokerage/time HTTP/1.1\r\n")) << requests[0];
    const std::string& post = requests[2];
    EXPECT_TRUE(post.starts_with("POST /api/v3/brokerage/orders HTTP/1.1\r\n")) << post;
    EXPECT_NE(post.find("\r\nAuthorization: Bearer hdr.payload-"), std::string::npos) << post;
    EXPECT_NE(post.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
    const std::string body = post.substr(post.find("\r\n\r\n") + 4);
    const std::string id = body.substr(20, 36);
    EXPECT_EQ(
        body,
        R"({"client_order_id":")" + id +
            R"(","product_id":"BTC-USD","side":"BUY","order_configuration":{"market_market_ioc":{"quote_size":"25.37"}}})");
    EXPECT_TRUE(rest::valid_order_id(id));
    EXPECT_EQ(id[14], '4');
    EXPECT_EQ(requests[1].find(id), std::string::npos) << "each order has its own client_order_id";
    EXPECT_EQ(tokens_.taken(), 2u) << "one token per order";
    EXPECT_EQ(http_->connections_opened(), 1u) << "every request on the warm connection";
}

TEST_F(CoinbaseBrokerTest, no_token_or_a_size_off_the_limits_is_refused_before_sending) {
    LoopbackServer& server = make_server();
    ASSERT_TRUE(server.ok());
    std::atomic<int> posts{0};
    server.run(
        [&](ServerConnection& s, int) {
            for (std::string r; !(r = s.read_http_request(3000)).empty();) {
                if (r.starts_with("POST")) ++posts;
                (void)s.send(json_ok("{}"));
            }
        },
        1);
    start(server.port());
    OrderOutcome out;
    ASSERT_TRUE(broker_->submit(buy_25_37, 42'283.34, now_ns(), out));
    EXPECT_EQ(out.error, OrderError::no_token);
    EXPECT_EQ(out.fill.qty, 0);
    fill_tokens(now_ns());
    const OrderRequest tiny{1'700'000'000, 0.00001, 42'000, Side::buy, OrderReason::entry};  // 0.42 USD < 1
    ASSERT_TRUE(broker_->submit(tiny, 42'000, now_ns(), out));
    EXPECT_EQ(out.error, OrderError::invalid_order);
    const OrderRequest dust{1'700'000'000, 0.000000004, 42'000, Side::sell, OrderReason::stop_loss};  // floors to 0
    ASSERT_TRUE(broker_->submit(dust, 42'000, now_ns(), out));
    EXPECT_EQ(out.error, OrderError::invalid_order);
    EXPECT_FALSE(broker_->busy());
    EXPECT_EQ(tokens_.taken(), 0u) << "a refused order uses no token";
    // A SELL of a position floors to the base increment.
    char size[decimal_text_max_chars];
    const OrderRequest sell{1'700'000'000, 0.000236569999, 42'000, Side::sell, OrderReason::signal_exit};
    EXPECT_EQ(std::string_view(size, broker_->size_text(sell, size)), "0.00023656");
    (void)poll_until([] { return false; }, 200);  // let the connection work a while: still no POST
    EXPECT_EQ(posts.load(), 0);
}

TEST_F(CoinbaseBrokerTest, keep_alives_hold_one_connection_and_an_order_waits_for_one_in_flight) {
    LoopbackServer& server = make_server();
    ASSERT_TRUE(server.ok());
    std::mutex mu;
    std::vector<std::string> seen;
    std::atomic<bool> slow_time{false};
    server.run(
        [&](ServerConnection& s, int) {
            for (std::string r; !(r = s.read_http_request(5000)).empty();) {
                {
                    std::lock_guard lock(mu);
                    seen.push_back(r.substr(0, r.find(' ', 5)));
                }
                if (r.starts_with("GET") && slow_time.load())
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                (void)s.send(json_ok(r.starts_with("GET") ? "{}" : created_body));
            }
        },
        1);
    start(server.port(), 30'000'000);  // keep-alive every 30 ms
    fill_tokens(now_ns());
    ASSERT_TRUE(poll_until([&] {
        std::lock_guard lock(mu);
        return seen.size() >= 3;
    }));
    // The next keep-alive answers slowly; an order submitted meanwhile goes out right after it.
    slow_time.store(true);
    ASSERT_TRUE(poll_until([&] { return http_->busy(); }));
    OrderOutcome out;
    ASSERT_FALSE(broker_->submit(buy_25_37, 42'283.34, now_ns(), out));
    const OrderTicket t = next_ticket();
    EXPECT_EQ(t.first, FirstAttempt::answered);
    std::lock_guard lock(mu);
    EXPECT_EQ(seen.back(), "POST /api/v3/brokerage/orders");
    EXPECT_EQ(seen[seen.size() - 2], "GET /api/v3/brokerage/time");
    EXPECT_EQ(http_->connections_opened(), 1u);
}

TEST_F(CoinbaseBrokerTest, a_connection_dropped_after_the_send_is_reported_to_the_desk_as_no_answer) {
    LoopbackServer& server = make_server();
    ASSERT_TRUE(server.ok());
    server.run(
        [&](ServerConnection& s, int) {
            for (std::string r; !(r = s.read_http_request(3000)).empty();) {
                if (r.starts_with("POST")) {
                    s.drop();
                    return;
                }
                (void)s.send(json_ok("{}"));
            }
        },
        2);
    start(server.port());
    fill_tokens(now_ns());
    ASSERT_TRUE(poll_until([&] { return http_->connected() && !http_->busy(); }));
    OrderOutcome out;
    ASSERT_FALSE(broker_->submit(buy_25_37, 42'283.34, now_ns(), out));
    const OrderTicket t = next_ticket();
    EXPECT_EQ(t.first, FirstAttempt::no_answer);
    EXPECT_TRUE(broker_->busy()) << "the outcome is unknown: the broker waits for the desk";
    // Nothing else can be sent meanwhile.
    ASSERT_TRUE(broker_->submit(buy_25_37, 42'283.34, now_ns(), out));
    EXPECT_EQ(out.error, OrderError::invalid_order);
    EXPECT_EQ(tokens_.taken(), 1u);
}

}  // namespace
}  // namespace cbtrade
