// TcpStream over io_uring against loopback sockets: connect, send/receive, timeout, refusal, EOF.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "io/uring_loop.hpp"

namespace {

using cbtrade::io::ResolvedAddress;
using cbtrade::io::TcpStream;
using cbtrade::io::TcpStreamOptions;
using cbtrade::io::UringLoop;

struct Listener {
    int fd = -1;
    std::uint16_t port = 0;
    explicit Listener(int backlog = 16) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, backlog) != 0) return;
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~Listener() {
        if (fd >= 0) ::close(fd);
    }
    int accept_one() const { return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC); }
};

ResolvedAddress loopback(std::uint16_t port) {
    ResolvedAddress r;
    std::string error;
    EXPECT_EQ(cbtrade::io::resolve_tcp("127.0.0.1", port, r, error), 0) << error;
    return r;
}

class Uring : public ::testing::Test {
protected:
    void SetUp() override {
        const int rc = loop_.init();
        if (rc < 0) GTEST_SKIP() << cbtrade::io::uring_unavailable_message(rc);
    }
    // Waits (bounded) until `done` holds.
    template <class Pred>
    bool run_until(Pred done, int timeout_ms = 3000) {
        for (int i = 0; i < timeout_ms && !done(); ++i) {
            if (loop_.wait(1'000'000) < 0) return false;
        }
        return done();
    }
    bool connect(TcpStream& s, std::uint16_t port, std::uint32_t timeout_ms = 2000) {
        if (s.start_connect(loopback(port), timeout_ms) != 0) return false;
        return run_until([&] { return s.state() != TcpStream::State::connecting; }) &&
               s.state() == TcpStream::State::open;
    }
    std::string drain(TcpStream& s) {
        std::string out;
        for (auto b = s.rx_peek(); !b.empty(); b = s.rx_peek()) {
            out.append(reinterpret_cast<const char*>(b.data()), b.size());
            s.rx_consume(b.size());
        }
        return out;
    }
    UringLoop loop_;
};

TEST_F(Uring, connects_to_loopback_and_round_trips_bytes) {
    Listener l;
    ASSERT_NE(l.port, 0);
    TcpStream s(loop_);
    ASSERT_TRUE(connect(s, l.port));
    const int peer = l.accept_one();
    ASSERT_GE(peer, 0);

    const std::string ping = "ping over io_uring";
    ASSERT_EQ(s.tx_append({reinterpret_cast<const std::byte*>(ping.data()), ping.size()}), 0);
    ASSERT_TRUE(run_until([&] { return s.bytes_sent() == ping.size(); }));
    char buf[64] = {};
    ASSERT_EQ(::recv(peer, buf, sizeof buf, 0), static_cast<ssize_t>(ping.size()));
    EXPECT_EQ(std::string(buf, ping.size()), ping);

    const std::string pong = "pong";
    ASSERT_EQ(::send(peer, pong.data(), pong.size(), 0), 4);
    ASSERT_TRUE(run_until([&] { return s.rx_peek().size() >= 4; }));
    EXPECT_NE(s.rx_front_tsc(), 0u);
    EXPECT_EQ(s.last_rx_tsc(), s.rx_front_tsc());
    EXPECT_EQ(drain(s), pong);
    EXPECT_EQ(s.rx_status(), 0);
    ::close(peer);
    ASSERT_TRUE(run_until([&] { return s.rx_status() != 0; }));
    EXPECT_EQ(s.rx_status(), -ECONNRESET);
    s.close();
    ASSERT_TRUE(run_until([&] { return s.idle(); }));
}

// A megabyte through few small buffers: buffers are recycled, ordering holds, nothing is lost.
void bulk_transfer(UringLoop& loop, bool plain, bool& multishot_used) {
    Listener l;
    ASSERT_NE(l.port, 0);
    TcpStreamOptions opt;
    opt.recv_buffer_count = 4;
    opt.recv_buffer_bytes = 4096;
    opt.force_plain_recv = plain;
    TcpStream s(loop, opt);
    ASSERT_EQ(s.init(), 0);
    ASSERT_EQ(s.start_connect(loopback(l.port), 2000), 0);
    for (int i = 0; i < 2000 && s.state() == TcpStream::State::connecting; ++i) (void)loop.wait(1'000'000);
    ASSERT_EQ(s.state(), TcpStream::State::open);
    const int peer = l.accept_one();
    ASSERT_GE(peer, 0);
    constexpr std::size_t total = 1 << 20;
    std::thread writer([peer] {
        std::vector<unsigned char> data(total);
        for (std::size_t i = 0; i < total; ++i) data[i] = static_cast<unsigned char>(i * 7 + i / 251);
        std::size_t off = 0;
        while (off < total) {
            const ssize_t n = ::send(peer, data.data() + off, total - off, MSG_NOSIGNAL);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        ::shutdown(peer, SHUT_WR);
    });
    std::size_t got = 0;
    bool ok = true;
    for (int i = 0; i < 5'000 && s.rx_status() == 0; ++i) {
        (void)loop.wait(1'000'000);
        for (auto b = s.rx_peek(); !b.empty(); b = s.rx_peek()) {
            for (std::size_t k = 0; k < b.size(); ++k, ++got)
                ok = ok && static_cast<unsigned char>(b[k]) == static_cast<unsigned char>(got * 7 + got / 251);
            s.rx_consume(b.size());
        }
    }
    for (auto b = s.rx_peek(); !b.empty(); b = s.rx_peek()) {
        got += b.size();
        s.rx_consume(b.size());
    }
    ::shutdown(peer, SHUT_RDWR);  // unblocks the writer if the reader stalled
    writer.join();
    ::close(peer);
    EXPECT_TRUE(ok);
    EXPECT_EQ(got, total);
    EXPECT_EQ(s.bytes_received(), total);
    EXPECT_EQ(s.rx_status(), -ECONNRESET);
    multishot_used = s.using_multishot();
}

TEST_F(Uring, bulk_receive_with_multishot_and_provided_buffers) {
    bool multishot = false;
    bulk_transfer(loop_, false, multishot);
    if (!multishot) std::printf("note: kernel refused multishot receive; the plain fallback ran\n");
}

TEST_F(Uring, bulk_receive_with_plain_recv_fallback) {
    bool multishot = true;
    bulk_transfer(loop_, true, multishot);
    EXPECT_FALSE(multishot);
}

TEST_F(Uring, refused_connection_gives_econnrefused) {
    std::uint16_t port = 0;
    {
        Listener l;  // bind a port, then close it: nobody listens there any more
        port = l.port;
    }
    TcpStream s(loop_);
    ASSERT_EQ(s.start_connect(loopback(port), 2000), 0);
    ASSERT_TRUE(run_until([&] { return s.state() != TcpStream::State::connecting; }));
    EXPECT_EQ(s.connect_result(), -ECONNREFUSED);
    ASSERT_TRUE(run_until([&] { return s.idle(); }));
}

TEST_F(Uring, connect_times_out_when_the_listener_backlog_is_full) {
    Listener l(0);  // backlog 0: one queued connection fills it, later SYNs are dropped
    ASSERT_NE(l.port, 0);
    std::vector<int> fillers;
    const ResolvedAddress peer = loopback(l.port);
    for (int i = 0; i < 4; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        (void)::connect(fd, reinterpret_cast<const sockaddr*>(&peer.addr), peer.len);
        fillers.push_back(fd);
    }
    ::usleep(50'000);
    TcpStream s(loop_);
    ASSERT_EQ(s.start_connect(peer, 300), 0);
    ASSERT_TRUE(run_until([&] { return s.state() != TcpStream::State::connecting; }));
    for (const int fd : fillers) ::close(fd);
    if (s.connect_result() == 0) GTEST_SKIP() << "this kernel accepted a connection beyond a full backlog";
    EXPECT_EQ(s.connect_result(), -ETIMEDOUT);
    ASSERT_TRUE(run_until([&] { return s.idle(); }));
}

TEST_F(Uring, stream_is_reusable_after_close) {
    Listener l;
    TcpStream s(loop_);
    for (int round = 0; round < 3; ++round) {
        ASSERT_TRUE(connect(s, l.port)) << "round " << round;
        const int peer = l.accept_one();
        ASSERT_GE(peer, 0);
        ASSERT_EQ(::send(peer, "x", 1, 0), 1);
        ASSERT_TRUE(run_until([&] { return !s.rx_peek().empty(); }));
        s.close();  // unread byte: its buffer goes back to the ring
        ASSERT_TRUE(run_until([&] { return s.idle(); }));
        ::close(peer);
    }
}

TEST_F(Uring, send_larger_than_one_socket_write_arrives_whole) {
    Listener l;
    TcpStream s(loop_);
    ASSERT_TRUE(connect(s, l.port));
    const int peer = l.accept_one();
    ASSERT_GE(peer, 0);
    std::string data(60'000, 'q');
    ASSERT_EQ(s.tx_append({reinterpret_cast<const std::byte*>(data.data()), data.size()}), 0);
    ASSERT_EQ(s.tx_append({reinterpret_cast<const std::byte*>(data.data()), 10'000}), -ENOBUFS);
    std::size_t got = 0;
    std::thread reader([&] {
        char buf[8192];
        while (got < data.size()) {
            const ssize_t n = ::recv(peer, buf, sizeof buf, 0);
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
    });
    ASSERT_TRUE(run_until([&] { return s.bytes_sent() == data.size(); }));
    reader.join();
    EXPECT_EQ(got, data.size());
    ::close(peer);
}

TEST(UringMessage, names_the_reason_for_eperm) {
    const std::string m = cbtrade::io::uring_unavailable_message(-EPERM);
    EXPECT_NE(m.find("io_uring unavailable"), std::string::npos);
    EXPECT_NE(m.find("io_uring_disabled"), std::string::npos);
}

TEST(Resolve, localhost_resolves_without_the_network) {
    ResolvedAddress r;
    std::string error;
    ASSERT_EQ(cbtrade::io::resolve_tcp("localhost", 443, r, error), 0) << error;
    EXPECT_GT(r.len, 0u);
}

}  // namespace
