// io/connection: one outgoing TCP connection, TLS on top unless the URL is a loopback ws:// or
// http://, with the lifecycle both the market-data feed and the HTTP client need:
//
//   start()    cold: resolves the host (blocking getaddrinfo, before the loop), loads the CA bundle
//              and cipher list, allocates the stream buffers.
//   open()     asks for a connection; advance(now) then connects (with a deadline), runs the TLS
//              handshake (with a deadline) and reports `opened`, or `attempt_failed` with a reason.
//   drop()     closes after a failure or a clean end; the next attempt comes after a capped
//              exponential backoff with jitter (core/random.hpp), at once, or only on the next open().
//
// Everything after start() is non-blocking and driven from the owner's poll() on the io_uring
// loop's thread; only a TLS session start allocates (wolfSSL's session, once per attempt). read()
// and write() are the hot calls. Counting is the owner's: advance() returns what happened.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/random.hpp"
#include "io/tls_client.hpp"
#include "io/uring_loop.hpp"
#include "io/url.hpp"

namespace cbtrade::io {

// Capped exponential backoff with "equal jitter": attempt k waits d/2 + uniform[0, d/2] with
// d = min(initial << k, max), so reconnecting clients spread out yet never wait past the cap.
class Backoff {
public:
    Backoff(std::uint32_t initial_ms, std::uint32_t max_ms, std::uint64_t seed) noexcept
        : initial_ms_(initial_ms), max_ms_(max_ms), random_(seed) {}
    // The delay before the next attempt; each call counts one more failure.
    [[nodiscard]] std::int64_t next_delay_ns() noexcept;
    // A healthy connection: the next failure starts from the initial delay again.
    void reset() noexcept { attempt_ = 0; }
    [[nodiscard]] std::uint32_t attempt() const noexcept { return attempt_; }

private:
    std::uint32_t initial_ms_;
    std::uint32_t max_ms_;
    std::uint32_t attempt_ = 0;
    SplitMix64 random_;
};

struct ConnectionOptions {
    std::string host;
    std::uint16_t port = 443;
    bool tls = true;      // false only for loopback ws:// and http:// (io/url.hpp enforces that)
    std::string ca_file;  // TLS_CA_FILE; empty: system_ca_bundle
    std::string ciphers;  // TLS_CIPHERS (resolved); empty: wolfSSL's default
    std::uint32_t connect_timeout_ms = 5000;
    std::uint32_t handshake_timeout_ms = 10000;
    std::uint32_t backoff_initial_ms = 100;
    std::uint32_t backoff_max_ms = 15000;
    TcpStreamOptions stream;

    // Host, port and TLS from a parsed URL; the rest as above.
    [[nodiscard]] static ConnectionOptions for_url(const Url& url);
};

class Connection {
public:
    enum class State : std::uint8_t {
        idle,         // no connection wanted (before open(), after close() or drop(on_request))
        waiting,      // wanted: the next attempt starts once the backoff delay has passed
        connecting,   // TCP connect in flight
        handshaking,  // TLS handshake in flight
        open,         // read() and write() work
        closing,      // the socket is going away; then waiting or idle
        failed,       // for good: the server's certificate was refused (retrying cannot help)
    };
    enum class Event : std::uint8_t {
        none,
        opened,           // the connection became open in this advance()
        attempt_failed,   // an attempt failed in this advance() (error() says why); a retry is scheduled
        failed_for_good,  // the certificate was refused; state() is failed
    };
    // What drop() schedules.
    enum class Retry : std::uint8_t {
        after_backoff,  // a failure: the next attempt after Backoff's delay
        immediately,    // a clean end (the server closed an idle keep-alive connection)
        on_request,     // nothing until the next open(); the backoff deadline still applies
    };

    Connection(UringLoop& loop, ConnectionOptions options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Cold. 0, or a negative errno with a one-line reason in `error` (-EHOSTUNREACH: the name does
    // not resolve; -ENOMEM). Throws ConfigError (core/error.hpp, exit 2) when a configured value
    // cannot be used: the CA file named in ca_file (TLS_CA_FILE) or the cipher list (TLS_CIPHERS).
    [[nodiscard]] int start(std::string& error);

    // Wants a connection: from idle, the next advance() starts an attempt (after any backoff delay
    // still running). No effect in other states.
    void open() noexcept;
    // Drives connect, handshake, backoff and closing; call it from every poll. Never blocks.
    [[nodiscard]] Event advance(std::int64_t now_ns) noexcept;
    // Closes now (a failure the owner found, or a clean end) and schedules what `retry` says.
    void drop(std::int64_t now_ns, Retry retry) noexcept;
    // A healthy session (e.g. the feed got its snapshot, a request succeeded): reset the backoff.
    void reset_backoff() noexcept { backoff_.reset(); }
    // Graceful close (cold): close_notify, a bounded wait for it to leave, then the socket. State idle.
    void close() noexcept;

    // Open only. Decrypted bytes (>0), -EAGAIN when none is ready, or a negative failure code
    // (-ECONNRESET: the peer closed); on failure error() says why and the owner calls drop().
    [[nodiscard]] long read(std::span<std::byte> out) noexcept {
        return tls_enabled_ ? read_result(tls_.read(out)) : read_plain(out);
    }
    // All of `data` (data.size()), -EAGAIN (retry with the same bytes), or a negative failure code.
    [[nodiscard]] long write(std::span<const std::byte> data) noexcept;
    // Whether read() may return something (or a failure) without more transport input. Cheap: lets
    // the hot loop skip a wolfSSL_read that would only say WANT_READ.
    [[nodiscard]] bool input_pending() noexcept {
        return !stream_.rx_peek().empty() || stream_.rx_status() != 0 || (tls_enabled_ && tls_.pending() != 0);
    }

    [[nodiscard]] State state() const noexcept { return state_; }
    [[nodiscard]] const char* error() const noexcept { return error_; }
    [[nodiscard]] const ConnectionOptions& options() const noexcept { return options_; }
    // "host:port" (IPv6 bracketed), for messages.
    [[nodiscard]] const std::string& authority() const noexcept { return authority_; }
    [[nodiscard]] std::uint32_t backoff_attempt() const noexcept { return backoff_.attempt(); }
    // Monotonic ns when the next attempt may start (waiting, or idle after a failure).
    [[nodiscard]] std::int64_t next_attempt_ns() const noexcept { return next_attempt_ns_; }

    // Receive timestamps and counters of the TCP stream (see TcpStream).
    [[nodiscard]] std::uint64_t rx_front_tsc() const noexcept { return stream_.rx_front_tsc(); }
    [[nodiscard]] std::uint64_t last_rx_tsc() const noexcept { return stream_.last_rx_tsc(); }
    [[nodiscard]] std::uint64_t bytes_received() const noexcept { return stream_.bytes_received(); }
    [[nodiscard]] bool tx_idle() const noexcept { return stream_.tx_idle(); }
    [[nodiscard]] const char* tls_version() const noexcept { return tls_enabled_ ? tls_.protocol_version() : ""; }
    [[nodiscard]] const char* tls_cipher() const noexcept { return tls_enabled_ ? tls_.cipher() : ""; }

private:
    [[nodiscard]] Event begin_attempt(std::int64_t now_ns) noexcept;
    [[nodiscard]] Event fail_attempt(std::int64_t now_ns) noexcept;
    [[nodiscard]] Event step_handshake(std::int64_t now_ns) noexcept;
    [[nodiscard]] long read_result(long r) noexcept {
        if (r >= 0 || r == -EAGAIN) return r;
        return read_failed(r);
    }
    long read_failed(long r) noexcept;
    long read_plain(std::span<std::byte> out) noexcept;

    UringLoop& loop_;
    ConnectionOptions options_;
    std::string authority_;
    ResolvedAddress address_{};
    TlsContext tls_context_;
    TcpStream stream_;
    TlsSession tls_;
    Backoff backoff_;
    bool tls_enabled_ = true;
    bool started_ = false;
    bool wanted_ = false;  // open() was called and no drop(on_request)/close() since
    State state_ = State::idle;
    std::int64_t next_attempt_ns_ = 0;
    std::int64_t handshake_deadline_ns_ = 0;
    char error_[768] = {};
};

[[nodiscard]] const char* to_string(Connection::State state) noexcept;

}  // namespace cbtrade::io
