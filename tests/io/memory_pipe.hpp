// Test support: a ByteTransport over two in-memory byte queues, so a TLS client and a TLS server
// (or any two ends) talk inside one thread without sockets: unit tests and benchmarks of the TLS and
// WebSocket layers, and the allocation test. Test-only: the daemon always runs over io_uring.
//
// MemoryPipe gives two connected ends. The queues are strings compacted in place and never grown
// past the capacity given at construction, so after warm-up nothing allocates (tx_append answers
// -ENOBUFS instead).
#pragma once

#include <cerrno>
#include <cstddef>
#include <span>
#include <string>

#include "io/uring_loop.hpp"

namespace cbtrade::testing {

class MemoryPipe {
public:
    class End final : public io::ByteTransport {
    public:
        [[nodiscard]] std::span<const std::byte> rx_peek() noexcept override {
            return {reinterpret_cast<const std::byte*>(rx_->data()) + *rx_off_, rx_->size() - *rx_off_};
        }
        void rx_consume(std::size_t n) noexcept override {
            *rx_off_ += n;
            if (*rx_off_ >= rx_->size()) {  // drained: rewind in place, keeping the capacity
                rx_->clear();
                *rx_off_ = 0;
            }
        }
        [[nodiscard]] int rx_status() const noexcept override { return closed_ ? -ECONNRESET : 0; }
        [[nodiscard]] int tx_append(std::span<const std::byte> bytes) noexcept override {
            if (tx_->size() + bytes.size() > tx_->capacity() && *tx_off_ > 0) {  // drop what the peer has read
                tx_->erase(0, *tx_off_);
                *tx_off_ = 0;
            }
            if (tx_->size() + bytes.size() > tx_->capacity()) return -ENOBUFS;  // never grows: no allocation
            tx_->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
            return 0;
        }
        // The peer stops sending: after the queued bytes, reads see a closed connection.
        void close_peer() noexcept { closed_ = true; }

    private:
        friend class MemoryPipe;
        std::string* rx_ = nullptr;
        std::size_t* rx_off_ = nullptr;
        std::string* tx_ = nullptr;
        std::size_t* tx_off_ = nullptr;
        bool closed_ = false;
    };

    explicit MemoryPipe(std::size_t reserve_bytes = 1 << 16) {
        a_to_b_.reserve(reserve_bytes);
        b_to_a_.reserve(reserve_bytes);
        a_.rx_ = &b_to_a_;
        a_.rx_off_ = &b_to_a_off_;
        a_.tx_ = &a_to_b_;
        a_.tx_off_ = &a_to_b_off_;
        b_.rx_ = &a_to_b_;
        b_.rx_off_ = &a_to_b_off_;
        b_.tx_ = &b_to_a_;
        b_.tx_off_ = &b_to_a_off_;
    }
    MemoryPipe(const MemoryPipe&) = delete;  // the ends point into this object
    MemoryPipe& operator=(const MemoryPipe&) = delete;

    [[nodiscard]] End& a() noexcept { return a_; }
    [[nodiscard]] End& b() noexcept { return b_; }

private:
    std::string a_to_b_;
    std::string b_to_a_;
    std::size_t a_to_b_off_ = 0;
    std::size_t b_to_a_off_ = 0;
    End a_;
    End b_;
};

}  // namespace cbtrade::testing
