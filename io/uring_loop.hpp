// io/: the feed thread's transport. One io_uring per thread (UringLoop), TCP streams whose connect,
// receive and send all go through it (TcpStream), and TLS on top (tls_client.hpp). liburing stays
// inside io/*.cpp: this header only forward-declares its types.
//
// Errors are negative errno values; nothing here throws after set-up. DNS (resolve_tcp) is the one
// blocking call and belongs before the loop starts, never inside it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/cpu.hpp"

struct io_uring;
struct io_uring_buf_ring;
struct io_uring_cqe;

namespace cbtrade::io {

// A resolved TCP peer. resolve_tcp runs getaddrinfo (blocking: call it before connecting, outside
// the loop). Returns 0, or a negative errno (-EHOSTUNREACH for a name that does not resolve), with
// a one-line reason in `error`.
struct ResolvedAddress {
    sockaddr_storage addr{};
    socklen_t len = 0;
};
[[nodiscard]] int resolve_tcp(std::string_view host, std::uint16_t port, ResolvedAddress& out, std::string& error);

// Bytes that move through a transport: the TLS layer reads ciphertext from and writes ciphertext to
// one of these, so it runs the same over io_uring and over an in-memory pipe (tests, benchmarks).
class ByteTransport {
public:
    virtual ~ByteTransport() = default;
    // The unread received bytes at the front (possibly only part of what is buffered); empty if none.
    [[nodiscard]] virtual std::span<const std::byte> rx_peek() noexcept = 0;
    virtual void rx_consume(std::size_t n) noexcept = 0;
    // 0 while open; after the peer closed or an error, the negative errno (-ECONNRESET for a clean EOF).
    [[nodiscard]] virtual int rx_status() const noexcept = 0;
    // Queues bytes for sending: 0, or -ENOBUFS when the send buffer is full.
    [[nodiscard]] virtual int tx_append(std::span<const std::byte> bytes) noexcept = 0;
};

class TcpStream;

// Whatever puts SQEs on a UringLoop: a TCP stream, an append-only file (io/append_file.hpp). Each
// SQE's user_data is its owner's address with a small operation tag in the low 3 bits
// (uring_user_data); the loop hands every completion back to the owner with that tag.
class UringHandler {
public:
    virtual void on_completion(unsigned tag, const io_uring_cqe& cqe) noexcept = 0;

protected:
    UringHandler() = default;
    ~UringHandler() = default;
    UringHandler(const UringHandler&) = default;
    UringHandler& operator=(const UringHandler&) = default;
};
inline constexpr std::uint64_t uring_tag_mask = 7;
[[nodiscard]] inline std::uint64_t uring_user_data(UringHandler* owner, unsigned tag) noexcept {
    return reinterpret_cast<std::uint64_t>(owner) | (tag & uring_tag_mask);
}

// One io_uring, owned by one thread. init() is the cold set-up; poll() and wait() are the loop.
class UringLoop {
public:
    UringLoop() = default;
    ~UringLoop();
    UringLoop(const UringLoop&) = delete;
    UringLoop& operator=(const UringLoop&) = delete;

    // 0, or the negative errno of io_uring_queue_init (-EPERM, -ENOSYS: io_uring unusable here).
    [[nodiscard]] int init(unsigned sq_entries = 64) noexcept;
    [[nodiscard]] bool ready() const noexcept { return ring_ != nullptr; }

    // Submits queued work and handles every completion already there, without blocking.
    // Returns the number of completions handled, or a negative errno.
    [[nodiscard]] int poll() noexcept;
    // Like poll(), but sleeps in io_uring_enter until a completion arrives or timeout_ns passes.
    [[nodiscard]] int wait(std::int64_t timeout_ns) noexcept;

    // Whether multishot receive with a provided-buffer ring may be tried: cleared by the first stream
    // whose buffer-ring registration or multishot receive the kernel refuses (fallback: plain recv).
    [[nodiscard]] bool multishot_receive() const noexcept { return multishot_receive_; }
    void disable_multishot_receive() noexcept { multishot_receive_ = false; }

    // The io_uring itself, for io/*.cpp.
    [[nodiscard]] io_uring* ring() noexcept { return ring_; }
    // Streams with bytes to send register here; poll() prepares their sends before submitting.
    void mark_dirty(TcpStream* s) noexcept;
    void forget(TcpStream* s) noexcept;  // a stream going away leaves the dirty list
    [[nodiscard]] std::uint16_t next_buffer_group() noexcept { return next_bgid_++; }
    // read_tsc() just before the last io_uring_enter that submitted work: the moment queued bytes
    // were handed to the kernel (bench/bench_jwt.cpp measures an order's decision to it).
    [[nodiscard]] std::uint64_t last_submit_tsc() const noexcept { return last_submit_tsc_; }

private:
    int reap() noexcept;
    int submit_if_needed() noexcept;
    void flush_dirty() noexcept;

    io_uring* ring_ = nullptr;
    std::uint64_t last_submit_tsc_ = 0;
    bool multishot_receive_ = false;
    std::uint16_t next_bgid_ = 1;
    static constexpr std::size_t max_dirty = 16;
    std::array<TcpStream*, max_dirty> dirty_{};
    std::size_t dirty_count_ = 0;
};

// "io_uring unavailable: io_uring_queue_init: Operation not permitted (-EPERM); ..." for a failed init.
[[nodiscard]] std::string uring_unavailable_message(int err);

struct TcpStreamOptions {
    std::uint32_t recv_buffer_count = 64;     // provided buffers (power of two)
    std::uint32_t recv_buffer_bytes = 16384;  // one TLS record fits
    std::uint32_t send_buffer_bytes = 65536;  // each of the two send buffers
    bool force_plain_recv = false;            // tests: exercise the fallback path
};

// A TCP connection driven by a UringLoop. Connect with a timeout (linked timeout), receive by
// multishot recv into a provided-buffer ring (or one plain recv at a time if the kernel refuses),
// send from a double buffer (one buffer in flight, the other filling). Received bytes stay in the
// kernel-filled buffers until consumed; each buffer is returned to the ring once read.
//
// Lifetime: close() cancels outstanding operations; the object must stay alive (and the loop keep
// polling) until idle() is true. The destructor drains for a bounded time if needed.
class TcpStream final : public ByteTransport, public UringHandler {
public:
    enum class State : std::uint8_t { closed, connecting, open, closing };

    TcpStream(UringLoop& loop, TcpStreamOptions options = {});
    ~TcpStream() override;
    TcpStream(const TcpStream&) = delete;
    TcpStream& operator=(const TcpStream&) = delete;

    // Allocates the receive and send buffers (cold). 0 or negative errno.
    [[nodiscard]] int init() noexcept;

    // Starts a non-blocking connect that fails with -ETIMEDOUT after timeout_ms. The result shows in
    // state() (open) or connect_result() (<0) after later poll()s. 0 if started, negative errno if not.
    [[nodiscard]] int start_connect(const ResolvedAddress& peer, std::uint32_t timeout_ms) noexcept;
    // Cancels everything and closes the socket; idle() becomes true once the kernel has let go.
    void close() noexcept;

    [[nodiscard]] State state() const noexcept { return state_; }
    [[nodiscard]] bool idle() const noexcept { return inflight_ == 0 && state_ == State::closed; }
    // 0 while connecting or after success, negative errno when the connect failed.
    [[nodiscard]] int connect_result() const noexcept { return connect_result_; }

    // ByteTransport
    [[nodiscard]] std::span<const std::byte> rx_peek() noexcept override;
    void rx_consume(std::size_t n) noexcept override;
    [[nodiscard]] int rx_status() const noexcept override { return rx_status_; }
    [[nodiscard]] int tx_append(std::span<const std::byte> bytes) noexcept override;

    // TSC of the receive completion that brought the front unread bytes (0 if none).
    [[nodiscard]] std::uint64_t rx_front_tsc() const noexcept;
    // TSC of the latest receive completion.
    [[nodiscard]] std::uint64_t last_rx_tsc() const noexcept { return last_rx_tsc_; }
    [[nodiscard]] bool tx_idle() const noexcept { return !send_inflight_ && pending_len_ == 0; }
    [[nodiscard]] bool using_multishot() const noexcept { return multishot_; }

    // Counters (written by the loop's thread only).
    [[nodiscard]] std::uint64_t bytes_received() const noexcept { return bytes_received_; }
    [[nodiscard]] std::uint64_t bytes_sent() const noexcept { return bytes_sent_; }
    [[nodiscard]] std::uint64_t recv_completions() const noexcept { return recv_completions_; }

    // Called by UringLoop.
    void on_completion(unsigned tag, const io_uring_cqe& cqe) noexcept override;
    void flush() noexcept;

private:
    struct Segment {
        const std::byte* data;
        std::uint32_t len;
        std::uint32_t offset;
        std::uint64_t tsc;
        std::uint16_t bid;  // provided buffer id, or plain_bid for the plain-recv buffer
    };
    static constexpr std::uint16_t plain_bid = 0xffff;

    void arm_recv() noexcept;
    void release_buffer(std::uint16_t bid) noexcept;
    void on_connect(int res) noexcept;
    void on_recv(int res, unsigned flags) noexcept;
    void on_send(int res) noexcept;
    void submit_send() noexcept;
    void fail_rx(int err) noexcept;
    void finish_close_if_idle() noexcept;
    void free_buffers() noexcept;

    UringLoop& loop_;
    TcpStreamOptions opt_;
    int fd_ = -1;
    State state_ = State::closed;
    int connect_result_ = 0;
    int rx_status_ = 0;
    unsigned inflight_ = 0;  // SQEs whose completions have not all arrived
    bool recv_armed_ = false;
    bool send_inflight_ = false;
    bool multishot_ = false;
    bool dirty_ = false;
    bool buffers_ready_ = false;

    // receive: provided-buffer ring (multishot) or one plain buffer
    std::uint16_t bgid_ = 0;
    io_uring_buf_ring* buf_ring_ = nullptr;
    std::size_t buf_ring_bytes_ = 0;
    std::byte* recv_area_ = nullptr;     // recv_buffer_count * recv_buffer_bytes
    std::uint32_t pending_returns_ = 0;  // buffers added to the ring but not yet published
    // Unread segments in arrival order: a fixed ring, at most one entry per provided buffer.
    Segment* segments_ = nullptr;
    std::uint32_t seg_cap_ = 0;
    std::uint32_t seg_head_ = 0;
    std::uint32_t seg_count_ = 0;

    // send: two buffers; `sending_` is in flight from send_off_ to sending_len_, `pending_` fills.
    std::byte* sending_ = nullptr;
    std::byte* pending_ = nullptr;
    std::uint32_t sending_len_ = 0;
    std::uint32_t send_off_ = 0;
    std::uint32_t pending_len_ = 0;

    std::uint64_t last_rx_tsc_ = 0;
    std::uint64_t bytes_received_ = 0;
    std::uint64_t bytes_sent_ = 0;
    std::uint64_t recv_completions_ = 0;

    // connect: the peer address and the timeout (a __kernel_timespec) stay alive while in flight
    ResolvedAddress peer_{};
    std::int64_t timeout_ts_[2] = {0, 0};
};

}  // namespace cbtrade::io
