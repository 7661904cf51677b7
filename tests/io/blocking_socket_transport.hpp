// A blocking socket as an io::ByteTransport, for the server side of tests and benchmarks (a fake
// exchange on its own thread): TlsSession reads ciphertext from rx_peek() and appends to tx; the
// caller moves bytes with fill() and flush(). Does not own the descriptor.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <span>
#include <string>

#include "io/tls_client.hpp"

namespace cbtrade::testing {

class BlockingSocketTransport : public io::ByteTransport {
public:
    explicit BlockingSocketTransport(int fd) : fd_(fd) {
        rx_.reserve(1 << 16);
        tx_.reserve(1 << 16);
    }

    std::span<const std::byte> rx_peek() noexcept override {
        return {reinterpret_cast<const std::byte*>(rx_.data()) + off_, rx_.size() - off_};
    }
    void rx_consume(std::size_t n) noexcept override {
        off_ += n;
        if (off_ >= rx_.size()) {
            rx_.clear();
            off_ = 0;
        }
    }
    int rx_status() const noexcept override { return status_; }
    int tx_append(std::span<const std::byte> b) noexcept override {
        tx_.append(reinterpret_cast<const char*>(b.data()), b.size());
        return 0;
    }

    // Sends everything appended so far; false when the peer is gone.
    bool flush() {
        std::size_t sent = 0;
        while (sent < tx_.size()) {
            const ssize_t n = ::send(fd_, tx_.data() + sent, tx_.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += static_cast<std::size_t>(n);
        }
        tx_.clear();
        return true;
    }
    // Waits up to timeout_ms for bytes and appends them; false on timeout or a closed peer
    // (then rx_status() is -ECONNRESET).
    bool fill(int timeout_ms) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) return false;
        char buf[16384];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            status_ = -ECONNRESET;
            return false;
        }
        rx_.append(buf, static_cast<std::size_t>(n));
        return true;
    }
    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    int fd_;
    std::string rx_;
    std::size_t off_ = 0;
    std::string tx_;
    int status_ = 0;
};

}  // namespace cbtrade::testing
