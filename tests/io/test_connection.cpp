// io/connection: the lifecycle against loopback servers (TLS with a test CA made at test time, and
// plaintext): open, read/write, a peer that hangs up, refused and stalled connects, a refused
// certificate, the three retry policies; and the backoff's bounds.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/cpu.hpp"
#include "core/error.hpp"
#include "io/connection.hpp"
#include "tests/io/loopback_server.hpp"
#include "tests/io/pki_fixture.hpp"

namespace cbtrade::io {
namespace {

using cbtrade::testing::LoopbackServer;
using cbtrade::testing::ServerConnection;
using Event = Connection::Event;
using State = Connection::State;

TEST(Backoff, delays_double_up_to_the_cap_with_jitter_in_the_upper_half) {
    Backoff b(100, 1000, 42);
    const std::int64_t ms = 1'000'000;
    const std::int64_t expected_cap[] = {100, 200, 400, 800, 1000, 1000, 1000};
    for (const std::int64_t cap : expected_cap) {
        const std::int64_t d = b.next_delay_ns();
        EXPECT_GE(d, cap * ms / 2) << cap;
        EXPECT_LE(d, cap * ms) << cap;
    }
    EXPECT_EQ(b.attempt(), 7u);
    b.reset();
    EXPECT_LE(b.next_delay_ns(), 100 * ms);
}

TEST(Backoff, jitter_spreads_clients_and_huge_attempt_counts_stay_capped) {
    std::set<std::int64_t> first_delays;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) first_delays.insert(Backoff(1000, 1000, seed).next_delay_ns());
    EXPECT_GT(first_delays.size(), 10u);
    Backoff b(1, 15000, 7);
    for (int i = 0; i < 200; ++i) EXPECT_LE(b.next_delay_ns(), 15000LL * 1'000'000);
}

class ConnectionTest : public cbtrade::testing::PkiLoopTest {
protected:
    ConnectionOptions options(std::uint16_t port, bool tls = true) {
        ConnectionOptions o;
        o.host = "localhost";
        o.port = port;
        o.tls = tls;
        o.ca_file = pki_->ca_pem;
        o.backoff_initial_ms = 20;
        o.backoff_max_ms = 100;
        o.handshake_timeout_ms = 300;
        return o;
    }
    // Polls the loop and advances until `done(event)` or the timeout; returns the last event.
    template <class Done>
    Event run(Connection& c, Done done, int timeout_ms = 3000) {
        const std::int64_t until = now_ns() + static_cast<std::int64_t>(timeout_ms) * 1'000'000;
        Event e = Event::none;
        while (now_ns() < until) {
            (void)loop_.poll();
            e = c.advance(now_ns());
            if (done(e)) return e;
            (void)loop_.wait(1'000'000);
        }
        return e;
    }
    std::string read_text(Connection& c, std::size_t want, int timeout_ms = 3000) {
        std::string got;
        const std::int64_t until = now_ns() + static_cast<std::int64_t>(timeout_ms) * 1'000'000;
        std::byte buf[4096];
        while (got.size() < want && now_ns() < until) {
            (void)loop_.poll();
            const long n = c.read(buf);
            if (n > 0) got.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
            else if (n != -EAGAIN) break;
            else (void)loop_.wait(1'000'000);
        }
        return got;
    }
    long write_text(Connection& c, std::string_view s) {
        const long n = c.write({reinterpret_cast<const std::byte*>(s.data()), s.size()});
        (void)loop_.poll();
        return n;
    }
};

TEST_F(ConnectionTest, opens_over_tls_and_carries_bytes_both_ways) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run(
        [](ServerConnection& s, int) {
            const std::string got = s.read_until("\n");
            (void)s.send("echo " + got);
            (void)s.wait_for_close();
        },
        1);
    Connection c(loop_, options(server.port()));
    std::string error;
    ASSERT_EQ(c.start(error), 0) << error;
    EXPECT_EQ(c.state(), State::idle);
    EXPECT_EQ(c.advance(now_ns()), Event::none) << "nothing happens before open()";
    c.open();
    ASSERT_EQ(run(c, [](Event e) { return e != Event::none; }), Event::opened) << c.error();
    EXPECT_EQ(c.state(), State::open);
    EXPECT_STRNE(c.tls_version(), "");
    EXPECT_EQ(write_text(c, "hello\n"), 6);
    EXPECT_EQ(read_text(c, 11), "echo hello\n");
    c.close();
    EXPECT_EQ(run(c, [&](Event) { return c.state() == State::idle; }), Event::none);
    EXPECT_EQ(c.state(), State::idle);
}

TEST_F(ConnectionTest, plaintext_for_loopback_urls) {
    LoopbackServer server(nullptr);
    ASSERT_TRUE(server.ok());
    server.run(
        [](ServerConnection& s, int) {
            (void)s.send("ready\n");
            (void)s.read_until("\n");
        },
        1);
    const UrlResult url = parse_url("http://127.0.0.1:" + std::to_string(server.port()));
    ASSERT_TRUE(url) << url.error;
    ConnectionOptions o = ConnectionOptions::for_url(*url.url);
    EXPECT_FALSE(o.tls);
    Connection c(loop_, o);
    std::string error;
    ASSERT_EQ(c.start(error), 0) << error;
    c.open();
    ASSERT_EQ(run(c, [](Event e) { return e != Event::none; }), Event::opened) << c.error();
    EXPECT_EQ(read_text(c, 6), "ready\n");
    EXPECT_EQ(write_text(c, "bye\n"), 4);
    EXPECT_STREQ(c.tls_version(), "");
}

TEST_F(ConnectionTest, peer_hang_up_is_a_read_failure_and_drop_reconnects_after_backoff) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run(
        [](ServerConnection& s, int i) {
            if (i == 0) {
                s.drop();
                return;
            }
            (void)s.send("second\n");
            (void)s.wait_for_close();
        },
        2);
    Connection c(loop_, options(server.port()));
    std::string error;
    ASSERT_EQ(c.start(error), 0) << error;
    c.open();
    ASSERT_EQ(run(c, [](Event e) { return e != Event::none; }), Event::opened) << c.error();
    std::byte buf[64];
    long n = -EAGAIN;
    for (int i = 0; i < 3000 && n == -EAGAIN; ++i) {
        (void)loop_.wait(1'000'000);
        n = c.read(buf);
    }
    EXPECT_EQ(n, -ECONNRESET);
    EXPECT_NE(std::string(c.error()).find("closed by the peer"), std::string::npos) << c.error();
    const std::int64_t dropped_at = now_ns();
    c.drop(dropped_at, Connection::Retry::after_backoff);
    EXPECT_GE(c.next_attempt_ns(), dropped_at + 10'000'000) << "at least half the 20 ms initial delay";
    ASSERT_EQ(run(c, [](Event e) { return e != Event::none; }), Event::opened) << c.error();
    EXPECT_EQ(read_text(c, 7), "second\n");
    EXPECT_EQ(server.accepted(), 2);
}

TEST_F(ConnectionTest, refused_connect_fails_the_attempt_and_retries_with_growing_backoff) {
    std::uint16_t port = 0;
    {
        LoopbackServer gone(nullptr);  // a port that was free a moment ago, now closed
        port = gone.port();
    }
    Connection c(loop_, options(port));
    std::string error;
    ASSERT_EQ(c.start(error), 0) << error;
    c.open();
    int failures = 0;
    (void)run(c, [&](Event e) { return e == Event::attempt_failed && ++failures == 3; });
    EXPECT_EQ(failures, 3);
    EXPECT_NE(std::string(c.error()).find("Connection refused"), std::string::npos) << c.error();
    EXPECT_NE(std::string(c.error()).find("localhost:" + std::to_string(port)), std::string::npos) << c.error();
    EXPECT_EQ(c.backoff_attempt(), 3u);
    EXPECT_NE(c.state(), State::failed) << "a refused connect is retried";
}

TEST_F(ConnectionTest, server_that_never_speaks_tls_hits_the_handshake_deadline) {
    LoopbackServer server(nullptr);  // reads the ClientHello as plain bytes and never answers
    ASSERT_TRUE(server.ok());
    server.run([&](ServerConnection& s, int) { (void)s.wait_for_close(2000); }, 1);
    Connection c(loop_, options(server.port()));
    std::string error;
    ASSERT_EQ(c.start(error), 0) << error;
    c.open();
    const std::int64_t t0 = now_ns();
    ASSERT_EQ(run(c, [](Event e) { return e != Event::none; }), Event::attempt_failed);
    EXPECT_GE(now_ns() - t0, 300'000'000);
    EXPECT_NE(std::string(c.error()).find("handshake timed out after 300 ms"), std::string::npos) << c.error();
}

TEST_F(ConnectionTest, connect_that_gets_no_answer_hits_the_connect_deadline) {
    // A listener with backlog 0: one queued connection fills it, later SYNs are dropped.
    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(lfd, 0), 0);
    ASSERT_EQ(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    std::vector<int> fillers;
    for (int i = 0; i < 4; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        (void)::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
        fillers.push_back(fd);
    }
    ::usleep(50'000);
    ConnectionOptions o = options(ntohs(a.sin_port));
    o.connect_timeout_ms = 300;
    Connection c(loop_, o);
    std::string error;
    ASSERT_EQ(c.start(error), 0) << error;
    c.open();
    const Event e = run(c, [](Event ev) { return ev != Event::none; });
    for (const int fd : fillers) ::close(fd);
    ::close(lfd);
    if (e == Event::opened) GTEST_SKIP() << "this kernel accepted a connection beyond a full backlog";
    ASSERT_EQ(e, Event::attempt_failed);
    EXPECT_NE(std::string(c.error()).find("timed out"), std::string::npos) << c.error();
}

TEST_F(ConnectionTest, untrusted_certificate_fails_for_good) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run([](ServerConnection&, int) {}, 1);  // its handshake fails when the client refuses
    ConnectionOptions o = options(server.port());
    o.ca_file = pki_->other_ca_pem;
    Connection c(loop_, o);
    std::string error;
    ASSERT_EQ(c.start(error), 0) << error;
    c.open();
    ASSERT_EQ(run(c, [](Event e) { return e != Event::none; }), Event::failed_for_good) << c.error();
    EXPECT_EQ(c.state(), State::failed);
    EXPECT_NE(std::string(c.error()).find("certificate refused"), std::string::npos) << c.error();
    (void)run(
        c, [](Event) { return false; }, 100);
    EXPECT_EQ(c.state(), State::failed) << "no retry";
}

TEST_F(ConnectionTest, drop_on_request_waits_for_open_and_immediately_does_not_wait) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run([](ServerConnection& s, int) { (void)s.wait_for_close(); }, 3);
    Connection c(loop_, options(server.port()));
    std::string error;
    ASSERT_EQ(c.start(error), 0) << error;
    c.open();
    ASSERT_EQ(run(c, [](Event e) { return e != Event::none; }), Event::opened) << c.error();

    c.drop(now_ns(), Connection::Retry::on_request);
    (void)run(
        c, [](Event) { return false; }, 200);
    EXPECT_EQ(c.state(), State::idle) << "no reconnect until asked";
    EXPECT_EQ(server.accepted(), 1);
    c.open();
    ASSERT_EQ(run(c, [](Event e) { return e != Event::none; }), Event::opened) << c.error();

    const std::int64_t t = now_ns();
    c.drop(t, Connection::Retry::immediately);
    EXPECT_EQ(c.next_attempt_ns(), t);
    ASSERT_EQ(run(c, [](Event e) { return e != Event::none; }), Event::opened) << c.error();
    EXPECT_EQ(server.accepted(), 3);
}

TEST_F(ConnectionTest, unusable_ca_file_is_a_configuration_error) {
    ConnectionOptions o = options(443);
    o.ca_file = "/nonexistent/ca.pem";
    Connection c(loop_, o);
    std::string error;
    try {
        (void)c.start(error);
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("TLS_CA_FILE"), std::string::npos) << e.what();
    }
    ConnectionOptions bad_ciphers = options(443);
    bad_ciphers.ciphers = "NO-SUCH-CIPHER";
    Connection c2(loop_, bad_ciphers);
    EXPECT_THROW((void)c2.start(error), ConfigError);
}

}  // namespace
}  // namespace cbtrade::io
