// Test support: a scripted server on 127.0.0.1 for connection and HTTP client tests. It accepts
// connections one after the other on its own thread and plays a script on each: TLS (a wolfSSL
// server with the test PKI) or plaintext, then whatever the test needs (answer, stall, hang up).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "io/tls_client.hpp"
#include "tests/io/blocking_socket_transport.hpp"

namespace cbtrade::testing {

// One accepted connection on the server side: application bytes in and out, through TLS or not.
class ServerConnection final : public BlockingSocketTransport {
public:
    ServerConnection(int fd, const io::TlsContext* tls) : BlockingSocketTransport(fd), tls_enabled_(tls != nullptr) {
        if (tls_enabled_) (void)tls_.start(*tls, *this, "");
    }
    ~ServerConnection() override {
        tls_.reset();
        ::close(fd());
    }
    ServerConnection(const ServerConnection&) = delete;
    ServerConnection& operator=(const ServerConnection&) = delete;

    // The TLS handshake (nothing to do in plaintext); false on any failure.
    bool handshake() {
        if (!tls_enabled_) return true;
        int rc;
        while ((rc = tls_.handshake()) == -EAGAIN)
            if (!flush() || !fill(3000)) return false;
        return rc == 0 && flush();
    }
    // Reads until `delimiter` has arrived (kept in the buffer); what came up to and including it, or
    // "" on timeout or a closed peer.
    std::string read_until(std::string_view delimiter, int timeout_ms = 3000) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            if (const auto at = in_.find(delimiter); at != std::string::npos) {
                std::string out = in_.substr(0, at + delimiter.size());
                in_.erase(0, at + delimiter.size());
                return out;
            }
            if (std::chrono::steady_clock::now() >= until || receive_some(until) == Received::closed) return "";
        }
    }
    // Reads one HTTP request: the header, then a Content-Length body if any. "" on timeout.
    std::string read_http_request(int timeout_ms = 3000) {
        std::string head = read_until("\r\n\r\n", timeout_ms);
        if (head.empty()) return head;
        std::size_t length = 0;
        if (const auto at = head.find("Content-Length: "); at != std::string::npos)
            length = std::stoul(head.substr(at + 16));
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (in_.size() < length)
            if (std::chrono::steady_clock::now() >= until || receive_some(until) == Received::closed) return "";
        head += in_.substr(0, length);
        in_.erase(0, length);
        return head;
    }
    // Waits until the peer closes (true) or timeout_ms passes (false).
    bool wait_for_close(int timeout_ms = 3000) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (std::chrono::steady_clock::now() < until)
            if (receive_some(until) == Received::closed) return true;
        return false;
    }
    bool send(std::string_view bytes) {
        if (!tls_enabled_) {
            (void)tx_append({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
            return flush();
        }
        return tls_.write({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}) ==
                   static_cast<long>(bytes.size()) &&
               flush();
    }
    // Hangs up without a TLS close_notify (a dropped connection, as the client sees it).
    void drop() { ::shutdown(fd(), SHUT_RDWR); }

private:
    enum class Received { data, nothing, closed };
    // Moves what arrives before `until` into in_ (decrypting if TLS).
    Received receive_some(std::chrono::steady_clock::time_point until) {
        const auto left_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
        const int wait_ms = left_ms > 0 ? static_cast<int>(left_ms) : 0;
        if (!tls_enabled_) {
            if (rx_peek().empty() && !fill(wait_ms)) return rx_status() != 0 ? Received::closed : Received::nothing;
            const auto b = rx_peek();
            in_.append(reinterpret_cast<const char*>(b.data()), b.size());
            rx_consume(b.size());
            return Received::data;
        }
        char buf[16384];
        const long n = tls_.read({reinterpret_cast<std::byte*>(buf), sizeof buf});
        if (n > 0) {
            in_.append(buf, static_cast<std::size_t>(n));
            return Received::data;
        }
        if (n != -EAGAIN) return Received::closed;  // close_notify, a hang-up or a TLS failure
        if (fill(wait_ms)) return Received::data;
        return rx_status() != 0 ? Received::closed : Received::nothing;
    }

    bool tls_enabled_;
    io::TlsSession tls_;
    std::string in_;
};

class LoopbackServer {
public:
    using Script = std::function<void(ServerConnection&, int connection_index)>;

    // tls: a server context (init_server) or nullptr for plaintext. Listens at once.
    explicit LoopbackServer(const io::TlsContext* tls) : tls_(tls) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 8) == 0 &&
              ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0;
        port_ = ntohs(a.sin_port);
    }
    ~LoopbackServer() { stop(); }
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    // Accepts up to `connections` connections in turn; each gets the handshake (TLS) and the script.
    // With handshake=false the script starts right after accept (e.g. to stall before TLS).
    void run(Script script, int connections = 1000, bool handshake = true) {
        thread_ = std::thread([this, script = std::move(script), connections, handshake] {
            for (int i = 0; i < connections && !stop_; ++i) {
                pollfd p{fd_, POLLIN, 0};
                int ready = 0;
                while (!stop_ && (ready = ::poll(&p, 1, 50)) == 0) {}
                if (stop_ || ready < 0) return;
                const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) return;
                accepted_.fetch_add(1);
                ServerConnection conn(c, tls_);
                if (handshake && !conn.handshake()) continue;
                script(conn, i);
            }
        });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] int accepted() const { return accepted_.load(); }
    [[nodiscard]] bool stopping() const { return stop_; }

private:
    const io::TlsContext* tls_;
    int fd_ = -1;
    std::uint16_t port_ = 0;
    bool ok_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::thread thread_;
};

}  // namespace cbtrade::testing
