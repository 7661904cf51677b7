// CoinbaseFeed against a scripted in-process exchange: a wolfSSL server on a loopback socket that
// speaks just enough WebSocket. Each test drives the feed's poll() on the test thread while the
// server thread plays one script per connection.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "core/cpu.hpp"
#include "feeds/coinbase_feed.hpp"
#include "io/tls_info.hpp"
#include "feeds/ws_frame.hpp"
#include "feeds/ws_handshake.hpp"
#include "io/tls_client.hpp"
#include "io/uring_loop.hpp"
#include "tests/io/blocking_socket_transport.hpp"
#include "tests/io/test_pki.hpp"

namespace {

using namespace cbtrade;

std::string ticker(std::uint64_t seq, bool snapshot, double price) {
    char buf[512];
    const int n = std::snprintf(buf, sizeof buf,
                                R"({"channel":"ticker","client_id":"","timestamp":"2025-01-15T14:03:07.418236Z",)"
                                R"("sequence_num":%llu,"events":[{"type":"%s","tickers":[{"type":"ticker",)"
                                R"("product_id":"BTC-USD","price":"%.2f","best_bid":"%.2f","best_bid_quantity":"1",)"
                                R"("best_ask":"%.2f","best_ask_quantity":"1"}]}]})",
                                static_cast<unsigned long long>(seq), snapshot ? "snapshot" : "update", price,
                                price - 0.01, price);
    return {buf, static_cast<std::size_t>(n)};
}

// A market_trades message with `count` BTC-USD trades, ids first_id.. sent newest first as on the wire.
std::string trades_msg(std::uint64_t seq, bool snapshot, std::uint64_t first_id, int count) {
    std::string out =
        R"({"channel":"market_trades","client_id":"","timestamp":"2025-01-15T14:03:08Z","sequence_num":)" +
        std::to_string(seq) + R"(,"events":[{"type":")" + (snapshot ? "snapshot" : "update") + R"(","trades":[)";
    for (int i = count - 1; i >= 0; --i) {
        const std::uint64_t id = first_id + static_cast<std::uint64_t>(i);
        out += R"({"trade_id":")" + std::to_string(id) + R"(","product_id":"BTC-USD","price":")" +
               std::to_string(100 + id % 1000) + R"(.5","size":"0.25","side":"BUY","time":"2025-01-15T14:03:07.)" +
               std::to_string(100000 + id % 100000) + R"(Z"})";
        if (i != 0) out += ',';
    }
    return out + "]}]}";
}

std::string heartbeat(std::uint64_t seq, std::uint64_t counter) {
    return R"({"channel":"heartbeats","client_id":"","timestamp":"2025-01-15T14:03:08.000112Z","sequence_num":)" +
           std::to_string(seq) + R"(,"events":[{"current_time":"2025-01-15 14:03:08 +0000 UTC","heartbeat_counter":)" +
           std::to_string(counter) + "}]}";
}

// One accepted connection on the server side: blocking socket, wolfSSL server, WebSocket framing.
class ServerConn final : public cbtrade::testing::BlockingSocketTransport {
public:
    ServerConn(int fd, const io::TlsContext& ctx)
        : BlockingSocketTransport(fd), parser_({ws::default_max_message_bytes, ws::FrameRole::server}) {
        (void)tls_.start(ctx, *this, "");
    }
    ~ServerConn() override {
        tls_.reset();
        ::close(fd());
    }

    // The TLS handshake only; false on any failure.
    bool accept_tls() {
        int rc;
        while ((rc = tls_.handshake()) == -EAGAIN)
            if (!flush() || !fill(3000)) return false;
        return rc == 0 && flush();
    }
    // TLS handshake and WebSocket upgrade; false on any failure.
    bool accept_websocket() {
        if (!accept_tls()) return false;
        std::string req;
        while (req.find("\r\n\r\n") == std::string::npos) {
            char buf[4096];
            const long n = tls_.read({reinterpret_cast<std::byte*>(buf), sizeof buf});
            if (n > 0) req.append(buf, static_cast<std::size_t>(n));
            else if (n != -EAGAIN || !fill(3000)) return false;
        }
        request = req;
        const auto at = req.find("Sec-WebSocket-Key: ");
        if (at == std::string::npos) return false;
        const std::string key = req.substr(at + 19, req.find("\r\n", at) - at - 19);
        return send_raw(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: " +
            ws::compute_accept_key(key) + "\r\n\r\n");
    }
    // The next text message from the client (masked frames), or "" on timeout/error.
    std::string read_text(int timeout_ms = 3000) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (std::chrono::steady_clock::now() < until) {
            while (pending_pos_ < pending_.size()) {
                const auto r = parser_.parse({pending_.data() + pending_pos_, pending_.size() - pending_pos_});
                pending_pos_ += r.consumed;
                if (r.event.kind == ws::FrameEventKind::text) return std::string(r.event.payload());
                if (r.event.kind == ws::FrameEventKind::protocol_error || r.event.kind == ws::FrameEventKind::close)
                    return "";
            }
            pending_.clear();
            pending_pos_ = 0;
            char buf[4096];
            const long n = tls_.read({reinterpret_cast<std::byte*>(buf), sizeof buf});
            if (n > 0) {
                pending_.append(buf, static_cast<std::size_t>(n));
            } else if (n != -EAGAIN || (!fill(100) && rx_status() != 0)) {
                return "";  // close_notify, a TLS failure, or the connection ended while waiting
            }
        }
        return "";
    }
    bool send_text(const std::string& payload) {
        std::string out(ws::frame_size(payload.size(), false), '\0');
        ws::FrameSpec spec;
        spec.masked = false;
        out.resize(ws::encode_frame({out.data(), out.size()}, spec, {payload.data(), payload.size()}));
        return send_raw(out);
    }
    void drop() { ::shutdown(fd(), SHUT_RDWR); }

    std::string request;

private:
    bool send_raw(const std::string& s) {
        return tls_.write({reinterpret_cast<const std::byte*>(s.data()), s.size()}) == static_cast<long>(s.size()) &&
               flush();
    }
    io::TlsSession tls_;
    ws::FrameParser parser_;
    std::string pending_;
    std::size_t pending_pos_ = 0;
};

class FakeExchange {
public:
    using Script = std::function<void(ServerConn&, int connection_index)>;

    explicit FakeExchange(const cbtrade::testing::TestPki& pki) {
        std::string error;
        ok_ = ctx_.init_server(pki.server_pem, pki.server_key, error) == 0;
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ok_ = ok_ && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 8) == 0 &&
              ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0;
        port_ = ntohs(a.sin_port);
    }
    ~FakeExchange() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        if (thread_.joinable()) thread_.join();
        ::close(fd_);
    }
    // Accepts `connections` connections one after the other and plays `script` on each, after the
    // TLS handshake and (unless `upgrade` is false) the WebSocket upgrade.
    void run(int connections, Script script, bool upgrade = true) {
        thread_ = std::thread([this, connections, upgrade, script = std::move(script)] {
            for (int i = 0; i < connections && !stop_; ++i) {
                pollfd p{fd_, POLLIN, 0};
                if (::poll(&p, 1, 10'000) <= 0) return;
                const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) return;
                ServerConn conn(c, ctx_);
                if (!(upgrade ? conn.accept_websocket() : conn.accept_tls())) {
                    record("connection " + std::to_string(i) + ": TLS or upgrade failed");
                    continue;
                }
                script(conn, i);
            }
            done_ = true;
        });
    }
    void record(const std::string& s) {
        std::lock_guard lock(mu_);
        log_.push_back(s);
    }
    std::vector<std::string> log() {
        std::lock_guard lock(mu_);
        return log_;
    }
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] bool done() const { return done_; }

private:
    io::TlsContext ctx_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    bool ok_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<bool> done_{false};
    std::thread thread_;
    std::mutex mu_;
    std::vector<std::string> log_;
};

class StaticJwt final : public WsJwtSource {
public:
    std::string ws_jwt() override {
        ++calls;
        return "header.payload.signature";
    }
    int calls = 0;
};

class Feed : public ::testing::Test {
protected:
    static void SetUpTestSuite() { pki_ = new cbtrade::testing::TestPki(cbtrade::testing::make_test_pki()); }
    static void TearDownTestSuite() {
        pki_->remove();
        delete pki_;
    }
    void SetUp() override {
        if (!pki_->ok()) GTEST_SKIP() << pki_->error;
        const int rc = loop_.init();
        if (rc < 0) GTEST_SKIP() << io::uring_unavailable_message(rc);
    }
    FeedOptions options(std::uint16_t port) {
        FeedOptions o;
        o.url = "wss://localhost:" + std::to_string(port) + "/ws";
        o.products = {"BTC-USD"};
        o.ca_file = pki_->ca_pem;
        o.stale_sec = 1;
        o.backoff_initial_ms = 20;
        return o;
    }
    // heartbeats and ticker only: for the tests of connection handling, where trades add nothing.
    FeedOptions ticker_only(std::uint16_t port) {
        FeedOptions o = options(port);
        o.trades = false;
        return o;
    }
    // Polls until `done` or timeout; collects ticks and trades (trade_room_ trades per poll).
    template <class Pred>
    bool poll_until(CoinbaseFeed& feed, Pred done, int timeout_ms = 8000) {
        const std::int64_t until = now_ns() + static_cast<std::int64_t>(timeout_ms) * 1'000'000;
        std::vector<Trade> trade_out(trade_room_);
        while (now_ns() < until) {
            FeedOutput out{out_, trade_out};
            const std::size_t n = feed.poll(now_ns(), out);
            EXPECT_EQ(n, out.tick_count + out.trade_count);
            EXPECT_LE(out.trade_count, trade_out.size());
            ticks_.insert(ticks_.end(), out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out.tick_count));
            trades_.insert(trades_.end(), trade_out.begin(),
                           trade_out.begin() + static_cast<std::ptrdiff_t>(out.trade_count));
            max_staged_ = std::max(max_staged_, feed.staged_trades());
            if (done()) return true;
            if (n == 0) (void)loop_.wait(1'000'000);
        }
        return done();
    }

    static cbtrade::testing::TestPki* pki_;
    io::UringLoop loop_;
    std::vector<Tick> out_ = std::vector<Tick>(128);
    std::vector<Tick> ticks_;
    std::vector<Trade> trades_;
    std::size_t trade_room_ = 64;
    std::size_t max_staged_ = 0;
};
cbtrade::testing::TestPki* Feed::pki_ = nullptr;

TEST(FeedOptions, bad_ws_url_is_a_configuration_error_naming_the_key) {
    Config c;
    for (const char* bad :
         {"wss://localhost:99999", "wss://:443", "wss://user@host/", "https://example.com/", "ws://example.com/"}) {
        c.coinbase_ws_url = bad;
        try {
            (void)feed_options_from(c);
            ADD_FAILURE() << bad << " accepted";
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.exit_code(), ExitCode::usage);
            EXPECT_EQ(std::string(e.what()).rfind("COINBASE_WS_URL: ", 0), 0u) << e.what();
        }
    }
}

TEST(FeedStart, a_url_or_ca_file_it_cannot_use_is_a_configuration_error_naming_the_key) {
    io::UringLoop loop;
    if (const int rc = loop.init(); rc < 0) GTEST_SKIP() << io::uring_unavailable_message(rc);
    auto start = [&](const char* url, const char* ca_file) {
        FeedOptions o;
        o.url = url;
        o.products = {"BTC-USD"};
        o.ca_file = ca_file;
        CoinbaseFeed feed(loop, o);
        std::string error;
        (void)feed.start(error);
    };
    for (const char* bad : {"wss://localhost:99999", "https://localhost/", "ws://example.com/"}) {
        try {
            start(bad, "");
            ADD_FAILURE() << bad << " accepted";
        } catch (const ConfigError& e) {
            EXPECT_EQ(std::string(e.what()).rfind("COINBASE_WS_URL: ", 0), 0u) << e.what();
        }
    }
    try {
        start("wss://localhost:1/", "/nonexistent/ca.pem");
        ADD_FAILURE() << "unreadable TLS_CA_FILE accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::usage);
        EXPECT_NE(std::string(e.what()).find("TLS_CA_FILE"), std::string::npos) << e.what();
    }
}

TEST(FeedOptions, come_from_the_configuration_keys) {
    Config c;
    c.product_id = "ETH-USD";
    c.coinbase_ws_stale_sec = 7;
    c.tls_ca_file = "/tmp/ca.pem";
    FeedOptions o = feed_options_from(c);
    EXPECT_EQ(o.products, std::vector<std::string>{"ETH-USD"});  // COINBASE_WS_PRODUCTS empty: PRODUCT_ID
    EXPECT_EQ(o.stale_sec, 7);
    EXPECT_EQ(o.ca_file, "/tmp/ca.pem");
    EXPECT_EQ(o.ciphers, resolve_cipher_list(c.tls_ciphers, tls_info()));
    EXPECT_NE(o.ciphers, "auto");
    EXPECT_EQ(o.url, c.coinbase_ws_url);
    c.coinbase_ws_products = {"BTC-USD", "SOL-USD"};
    EXPECT_EQ(feed_options_from(c).products, (std::vector<std::string>{"BTC-USD", "SOL-USD"}));
}

TEST_F(Feed, subscribes_to_heartbeats_ticker_and_market_trades_with_jwt_and_decodes_ticks_and_trades) {
    FakeExchange ex(*pki_);
    ASSERT_TRUE(ex.ok());
    ex.run(1, [&](ServerConn& c, int) {
        ex.record("request " + c.request.substr(0, c.request.find("\r\n")));
        ex.record(c.read_text());
        ex.record(c.read_text());
        ex.record(c.read_text());
        c.send_text(ticker(1, true, 100.25));
        c.send_text(trades_msg(2, true, 500, 2));
        c.send_text(heartbeat(3, 1));
        c.send_text(ticker(4, false, 100.50));
        c.send_text(trades_msg(5, false, 502, 1));
        c.read_text(2000);  // hold the connection until the client goes
    });
    StaticJwt jwt;
    FeedOptions o = options(ex.port());
    o.jwt_source = &jwt;
    CoinbaseFeed feed(loop_, o);
    std::string error;
    ASSERT_EQ(feed.start(error), 0) << error;
    ASSERT_TRUE(poll_until(feed, [&] { return ticks_.size() >= 2 && trades_.size() >= 3; })) << feed.last_error();
    EXPECT_TRUE(feed.fresh());
    EXPECT_EQ(feed.phase(), CoinbaseFeed::Phase::live);
    ASSERT_EQ(trades_.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(trades_[i].trade_id, 500 + i) << "oldest first";
        EXPECT_EQ(trades_[i].price, 100.5 + 500 + static_cast<double>(i));
        EXPECT_EQ(trades_[i].size, 0.25);
        EXPECT_NE(trades_[i].receive_tsc, 0u);
        EXPECT_EQ(trades_[i].flags, i < 2 ? trade_flag_snapshot : 0);
    }
    EXPECT_EQ(feed.counters().trades.value(), 3u);
    EXPECT_DOUBLE_EQ(ticks_[0].price, 100.25);
    EXPECT_NE(ticks_[0].flags & tick_flag_snapshot, 0);
    EXPECT_DOUBLE_EQ(ticks_[1].price, 100.50);
    EXPECT_NE(ticks_[1].receive_tsc, 0u);
    EXPECT_EQ(feed.counters().ticks.value(), 2u);
    EXPECT_EQ(feed.counters().gaps.value(), 0u);
    EXPECT_EQ(feed.counters().heartbeats.value(), 1u);
    feed.stop();
    const auto log = ex.log();
    ASSERT_GE(log.size(), 4u);
    EXPECT_EQ(log[0], "request GET /ws HTTP/1.1");
    EXPECT_EQ(
        log[1],
        R"({"type":"subscribe","channel":"heartbeats","product_ids":["BTC-USD"],"jwt":"header.payload.signature"})");
    EXPECT_EQ(log[2],
              R"({"type":"subscribe","channel":"ticker","product_ids":["BTC-USD"],"jwt":"header.payload.signature"})");
    EXPECT_EQ(
        log[3],
        R"({"type":"subscribe","channel":"market_trades","product_ids":["BTC-USD"],"jwt":"header.payload.signature"})");
    EXPECT_EQ(jwt.calls, 3);
}

// Issue 9 item 7: a server's error text is outside input: one short escaped line in last_error().
TEST_F(Feed, server_error_message_is_cut_and_escaped) {
    FakeExchange ex(*pki_);
    ASSERT_TRUE(ex.ok());
    ex.run(1, [&](ServerConn& c, int) {
        (void)c.read_text();
        (void)c.read_text();
        c.send_text(R"({"type":"error","message":"bad\nline two\u001b[2J\u0000)" + std::string(5000, 'z') + R"("})");
        // Hold the connection (reading whatever else the client subscribes to) until it goes, so
        // that no "connection closed" replaces the error under test.
        for (int i = 0; i < 8 && !c.read_text(1000).empty(); ++i) {}
    });
    CoinbaseFeed feed(loop_, options(ex.port()));
    std::string error;
    ASSERT_EQ(feed.start(error), 0) << error;
    ASSERT_TRUE(poll_until(feed, [&] { return feed.counters().error_messages.value() == 1; })) << feed.last_error();
    const std::string last = feed.last_error();
    feed.stop();
    EXPECT_EQ(last.rfind("server error on localhost: 'bad\\nline two\\x1b[2J\\x00zzz", 0), 0u) << last;
    EXPECT_NE(last.find("'... (5017 bytes)"), std::string::npos) << last;
    for (const char ch : last) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << last;
}

TEST_F(Feed, counts_gaps_reconnects_after_a_drop_and_is_fresh_only_after_a_new_snapshot) {
    FakeExchange ex(*pki_);
    ASSERT_TRUE(ex.ok());
    std::atomic<bool> saw_unfresh_update{false};
    ex.run(2, [&](ServerConn& c, int i) {
        (void)c.read_text();
        (void)c.read_text();
        if (i == 0) {
            c.send_text(ticker(1, true, 10.0));
            c.send_text(ticker(2, false, 11.0));
            c.send_text(ticker(5, false, 12.0));  // 3 and 4 missing: one gap of two
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            c.drop();
        } else {
            c.send_text(ticker(1, false, 13.0));  // an update before the snapshot: not fresh yet
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            c.send_text(ticker(2, true, 14.0));
            c.read_text(2000);
        }
    });
    CoinbaseFeed feed(loop_, ticker_only(ex.port()));
    std::string error;
    ASSERT_EQ(feed.start(error), 0) << error;
    ASSERT_TRUE(poll_until(feed, [&] { return ticks_.size() >= 3; })) << feed.last_error();
    EXPECT_EQ(feed.counters().gaps.value(), 1u);
    EXPECT_EQ(feed.counters().messages_missed.value(), 2u);
    ASSERT_TRUE(poll_until(feed, [&] { return ticks_.size() >= 4; })) << feed.last_error();
    EXPECT_DOUBLE_EQ(ticks_[3].price, 13.0);
    EXPECT_FALSE(feed.fresh()) << "an update after a reconnect must not make the feed fresh";
    EXPECT_EQ(feed.counters().reconnects.value(), 1u);
    ASSERT_TRUE(poll_until(feed, [&] { return ticks_.size() >= 5; })) << feed.last_error();
    EXPECT_TRUE(feed.fresh());
    EXPECT_EQ(feed.counters().gaps.value(), 1u) << "sequence numbers restart per connection";
    feed.stop();
}

TEST_F(Feed, silence_longer_than_stale_sec_is_a_stale_event_and_a_reconnect) {
    FakeExchange ex(*pki_);
    ASSERT_TRUE(ex.ok());
    ex.run(2, [&](ServerConn& c, int i) {
        (void)c.read_text();
        (void)c.read_text();
        c.send_text(ticker(1, true, 20.0 + i));
        c.read_text(i == 0 ? 2500 : 2000);  // then silence (stale_sec is 1)
    });
    CoinbaseFeed feed(loop_, ticker_only(ex.port()));
    std::string error;
    ASSERT_EQ(feed.start(error), 0) << error;
    ASSERT_TRUE(poll_until(feed, [&] { return !ticks_.empty(); })) << feed.last_error();
    EXPECT_TRUE(feed.fresh());
    ASSERT_TRUE(poll_until(
        feed, [&] { return feed.counters().stale_events.value() >= 1; }, 4000));
    EXPECT_FALSE(feed.fresh());
    EXPECT_NE(std::string(feed.last_error()).find("stale"), std::string::npos) << feed.last_error();
    ASSERT_TRUE(poll_until(feed, [&] { return ticks_.size() >= 2; })) << feed.last_error();
    EXPECT_TRUE(feed.fresh());
    EXPECT_EQ(feed.counters().reconnects.value(), 1u);
    feed.stop();
}

TEST_F(Feed, fresh_needs_both_the_ticker_and_the_trades_snapshot_on_every_connection) {
    FakeExchange ex(*pki_);
    ASSERT_TRUE(ex.ok());
    std::atomic<int> step{0};  // the test thread lets the server go on once it has looked
    auto wait_step = [&](int n) {
        for (int i = 0; i < 500 && step.load() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    };
    ex.run(2, [&](ServerConn& c, int i) {
        for (int k = 0; k < 3; ++k) (void)c.read_text();
        if (i == 0) {
            c.send_text(ticker(1, true, 10.0));
            wait_step(1);
            c.send_text(trades_msg(2, true, 1, 0));  // a snapshot without trades still counts
            wait_step(2);
            c.drop();
        } else {
            c.send_text(trades_msg(1, true, 5, 3));
            c.send_text(ticker(2, false, 11.0));  // an update, not the snapshot
            wait_step(3);
            c.send_text(ticker(3, true, 12.0));
            c.read_text(2000);
        }
    });
    CoinbaseFeed feed(loop_, options(ex.port()));
    std::string error;
    ASSERT_EQ(feed.start(error), 0) << error;
    ASSERT_TRUE(poll_until(feed, [&] { return !ticks_.empty(); })) << feed.last_error();
    EXPECT_FALSE(feed.fresh()) << "a ticker snapshot alone is not enough";
    step = 1;
    ASSERT_TRUE(poll_until(feed, [&] { return feed.fresh(); })) << feed.last_error();
    step = 2;
    ASSERT_TRUE(poll_until(feed, [&] { return ticks_.size() >= 2 && trades_.size() >= 3; })) << feed.last_error();
    EXPECT_FALSE(feed.fresh()) << "after a reconnect: trades snapshot and a ticker update are not enough";
    EXPECT_EQ(feed.counters().reconnects.value(), 1u);
    step = 3;
    ASSERT_TRUE(poll_until(feed, [&] { return feed.fresh(); })) << feed.last_error();
    EXPECT_EQ(ticks_.back().price, 12.0);
    feed.stop();
}

TEST_F(Feed, trades_that_do_not_fit_stay_staged_and_come_out_in_order_before_later_messages) {
    FakeExchange ex(*pki_);
    ASSERT_TRUE(ex.ok());
    ex.run(1, [&](ServerConn& c, int) {
        for (int k = 0; k < 3; ++k) (void)c.read_text();
        c.send_text(ticker(1, true, 10.0));
        c.send_text(trades_msg(2, true, 900, 0));
        c.send_text(trades_msg(3, false, 1000, 100));
        c.send_text(ticker(4, false, 20.0));
        c.send_text(trades_msg(5, false, 1100, 3));
        c.read_text(2000);
    });
    trade_room_ = 7;  // the caller's span holds 7 trades per poll
    CoinbaseFeed feed(loop_, options(ex.port()));
    std::string error;
    ASSERT_EQ(feed.start(error), 0) << error;
    std::size_t trades_when_second_tick_came = 0;
    ASSERT_TRUE(poll_until(feed, [&] {
        if (ticks_.size() >= 2 && trades_when_second_tick_came == 0) trades_when_second_tick_came = trades_.size();
        return trades_.size() >= 103;
    })) << feed.last_error();
    ASSERT_EQ(trades_.size(), 103u);
    for (std::size_t i = 0; i < 100; ++i) EXPECT_EQ(trades_[i].trade_id, 1000 + i);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(trades_[100 + i].trade_id, 1100 + i);
    EXPECT_GE(trades_when_second_tick_came, 100u) << "the later ticker message waits until the staged trades are out";
    EXPECT_GT(max_staged_, 0u);
    EXPECT_EQ(feed.staged_trades(), 0u);
    EXPECT_EQ(feed.counters().trades.value(), 103u);
    EXPECT_EQ(feed.decoder_counters().trades_over_cap, 0u);
    feed.stop();
}

TEST_F(Feed, the_ticks_only_poll_discards_trades_and_counts_them) {
    FakeExchange ex(*pki_);
    ASSERT_TRUE(ex.ok());
    ex.run(1, [&](ServerConn& c, int) {
        for (int k = 0; k < 3; ++k) (void)c.read_text();
        c.send_text(ticker(1, true, 10.0));
        c.send_text(trades_msg(2, false, 1, 5));
        c.send_text(ticker(3, false, 11.0));
        c.read_text(2000);
    });
    CoinbaseFeed feed(loop_, options(ex.port()));
    std::string error;
    ASSERT_EQ(feed.start(error), 0) << error;
    const std::int64_t until = now_ns() + 8'000'000'000;
    while (ticks_.size() < 2 && now_ns() < until) {
        const std::size_t n = feed.poll(now_ns(), std::span<Tick>(out_));
        ticks_.insert(ticks_.end(), out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(n));
        if (n == 0) (void)loop_.wait(1'000'000);
    }
    ASSERT_EQ(ticks_.size(), 2u) << feed.last_error();
    EXPECT_EQ(feed.counters().trades_discarded.value(), 5u);
    EXPECT_EQ(feed.counters().trades.value(), 0u);
    feed.stop();
}

TEST_F(Feed, untrusted_certificate_fails_for_good_with_the_reason) {
    FakeExchange ex(*pki_);
    ASSERT_TRUE(ex.ok());
    ex.run(1, [](ServerConn&, int) {});
    FeedOptions o = options(ex.port());
    o.ca_file = pki_->other_ca_pem;
    CoinbaseFeed feed(loop_, o);
    std::string error;
    ASSERT_EQ(feed.start(error), 0) << error;
    ASSERT_TRUE(poll_until(
        feed, [&] { return feed.failed(); }, 5000))
        << feed.last_error();
    EXPECT_NE(std::string(feed.last_error()).find("TLS to localhost: certificate refused"), std::string::npos)
        << feed.last_error();
    EXPECT_TRUE(ticks_.empty());
}

TEST_F(Feed, server_that_completes_tls_and_hangs_up_counts_as_connect_failures) {
    FakeExchange ex(*pki_);
    ASSERT_TRUE(ex.ok());
    ex.run(
        4, [](ServerConn& c, int) { c.drop(); }, false);
    CoinbaseFeed feed(loop_, options(ex.port()));
    std::string error;
    ASSERT_EQ(feed.start(error), 0) << error;
    ASSERT_TRUE(poll_until(
        feed, [&] { return feed.counters().connect_failures.value() >= 4; }, 5000))
        << "connect_failures=" << feed.counters().connect_failures.value() << ": " << feed.last_error();
    EXPECT_EQ(feed.counters().reconnects.value(), 0u) << "no WebSocket session ever opened";
    EXPECT_FALSE(feed.failed()) << "a hang-up is retried";
    EXPECT_FALSE(feed.fresh());
    EXPECT_TRUE(ticks_.empty());
    feed.stop();
}

TEST_F(Feed, refused_connection_is_retried_with_backoff) {
    std::uint16_t port = 0;
    {
        FakeExchange ex(*pki_);  // a port that was free a moment ago, now closed
        port = ex.port();
    }
    CoinbaseFeed feed(loop_, options(port));
    std::string error;
    ASSERT_EQ(feed.start(error), 0) << error;
    ASSERT_TRUE(poll_until(
        feed, [&] { return feed.counters().connect_failures.value() >= 3; }, 5000));
    EXPECT_NE(std::string(feed.last_error()).find("Connection refused"), std::string::npos) << feed.last_error();
    EXPECT_FALSE(feed.failed());
}

}  // namespace
