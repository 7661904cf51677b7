// The exchange side of the loopback benchmarks: a wolfSSL server on 127.0.0.1 that accepts one
// client, completes TLS and the WebSocket upgrade, then sends Coinbase messages (sequence_num 1, 2,
// ...; by default the ~445-byte ticker update of tests/feeds/ticker_messages.hpp, or whatever the
// caller's MessageFn makes) every `pace`, as an exchange does (TCP_NODELAY, one message per write).
// It records the TSC at which each message was handed to TLS, so a client can measure
// exchange-send to whatever it does with the message, for any client stack (bench_feed_loopback,
// bench_tick_to_decision). Certificates come from tests/io/test_pki.hpp.
#pragma once

#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/cpu.hpp"
#include "core/thread_placement.hpp"
#include "feeds/ws_handshake.hpp"
#include "io/tls_client.hpp"
#include "tests/feeds/ticker_messages.hpp"
#include "tests/io/blocking_socket_transport.hpp"
#include "tests/io/test_pki.hpp"

namespace cbtrade::bench {

inline const testing::TestPki& bench_pki() {
    static const testing::TestPki p = testing::make_test_pki();
    return p;
}

// The JSON text of message `seq` (the server frames it).
using MessageFn = std::function<std::string(std::uint64_t seq)>;

inline std::string default_ticker_message(std::uint64_t seq) {
    return testing::ticker_json(seq, seq == 1, 42000.0 + static_cast<double>(seq % 1000) * 0.01);
}

class LoopbackFeedServer {
public:
    // Listens at once; the server thread accepts one client and sends until destruction.
    // send_log: how many recent send stamps to keep (indexed by sequence_num modulo it).
    // core: pin the server thread there (-1: not pinned).
    explicit LoopbackFeedServer(std::chrono::nanoseconds pace, MessageFn message = default_ticker_message,
                                int core = -1, std::size_t send_log = 1u << 18)
        : pace_(pace), message_(std::move(message)), core_(core), send_tsc_(send_log) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(listen_fd_, 4) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            return;
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~LoopbackFeedServer() {
        stop_.store(true, std::memory_order_relaxed);
        if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);  // ends an accept still waiting
        if (thread_.joinable()) thread_.join();
        if (listen_fd_ >= 0) ::close(listen_fd_);
    }
    LoopbackFeedServer(const LoopbackFeedServer&) = delete;
    LoopbackFeedServer& operator=(const LoopbackFeedServer&) = delete;

    [[nodiscard]] bool listening() const noexcept { return port_ != 0; }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    // read_tsc() just before message `seq` went to TLS (encryption and the send are in the latency,
    // as they are at an exchange); 0 if not sent yet or overwritten.
    [[nodiscard]] std::uint64_t send_tsc(std::uint64_t seq) const noexcept {
        const Stamp& s = send_tsc_[seq % send_tsc_.size()];
        return s.seq.load(std::memory_order_acquire) == seq ? s.tsc.load(std::memory_order_relaxed) : 0;
    }
    [[nodiscard]] std::uint64_t sent() const noexcept { return sent_.load(std::memory_order_relaxed); }

private:
    struct Stamp {
        // writer: the server thread; reader: the client's consumer. The consumer only asks for a
        // message it received, i.e. after the server's write syscall that follows these stores.
        std::atomic<std::uint64_t> tsc{0};
        std::atomic<std::uint64_t> seq{0};
    };

    void serve() {
        if (core_ >= 0) (void)pin_current_thread(core_);
        (void)pthread_setname_np(pthread_self(), "bench-exchange");
        const int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) return;
        const int one = 1;  // as an exchange does: no Nagle delay on small messages
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        io::TlsContext ctx;
        std::string error;
        if (ctx.init_server(bench_pki().server_pem, bench_pki().server_key, error) != 0) {
            std::fprintf(stderr, "server: %s\n", error.c_str());
            ::close(fd);
            return;
        }
        testing::BlockingSocketTransport end(fd);
        io::TlsSession tls;
        (void)tls.start(ctx, end, "");
        int rc;
        while ((rc = tls.handshake()) == -EAGAIN) {
            if (!end.flush() || (end.rx_peek().empty() && !end.fill(2000))) break;
        }
        (void)end.flush();
        std::string request;
        std::vector<std::byte> buf(16384);
        while (rc == 0 && request.find("\r\n\r\n") == std::string::npos) {
            const long n = tls.read(buf);
            if (n > 0) request.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
            else if (n != -EAGAIN || !end.fill(2000)) rc = -1;
        }
        const auto key_at = request.find("Sec-WebSocket-Key: ");
        if (rc == 0 && key_at != std::string::npos) {
            const auto key_end = request.find("\r\n", key_at);
            const std::string key = request.substr(key_at + 19, key_end - key_at - 19);
            const std::string response =
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: " +
                ws::compute_accept_key(key) + "\r\n\r\n";
            (void)tls.write({reinterpret_cast<const std::byte*>(response.data()), response.size()});
            (void)end.flush();
            for (std::uint64_t seq = 1; !stop_.load(std::memory_order_relaxed); ++seq) {
                const std::string frame = testing::server_frame(message_(seq));
                Stamp& stamp = send_tsc_[seq % send_tsc_.size()];
                stamp.tsc.store(read_tsc(), std::memory_order_relaxed);
                stamp.seq.store(seq, std::memory_order_release);
                if (tls.write({reinterpret_cast<const std::byte*>(frame.data()), frame.size()}) < 0 || !end.flush())
                    break;
                sent_.store(seq, std::memory_order_relaxed);
                // Drain whatever the client sent (subscriptions) without blocking.
                while (end.fill(0)) end.rx_consume(end.rx_peek().size());
                std::this_thread::sleep_for(pace_);  // sleeping, not spinning: the client needs the core
            }
        }
        ::shutdown(fd, SHUT_RDWR);
        ::close(fd);
    }

    std::chrono::nanoseconds pace_;
    MessageFn message_;
    int core_;
    std::vector<Stamp> send_tsc_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> sent_{0};
    std::thread thread_;
};

}  // namespace cbtrade::bench
