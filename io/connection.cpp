// One outgoing connection's lifecycle. See connection.hpp.
#include "io/connection.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"
#include "core/text.hpp"

namespace cbtrade::io {

std::int64_t Backoff::next_delay_ns() noexcept {
    const std::uint32_t shift = attempt_ < 20 ? attempt_ : 20;
    std::uint64_t delay_ms = static_cast<std::uint64_t>(initial_ms_) << shift;
    if (delay_ms > max_ms_) delay_ms = max_ms_;
    if (attempt_ < 64) ++attempt_;
    const std::uint64_t half = delay_ms / 2;
    // Jitter only needs to de-synchronise clients, not to be unpredictable.
    return static_cast<std::int64_t>((delay_ms - half + random_.next_at_most(half)) * 1'000'000);
}

ConnectionOptions ConnectionOptions::for_url(const Url& url) {
    ConnectionOptions o;
    o.host = url.host;
    o.port = url.port;
    o.tls = url.tls();
    return o;
}

const char* to_string(Connection::State state) noexcept {
    switch (state) {
        case Connection::State::idle:
            return "idle";
        case Connection::State::waiting:
            return "waiting";
        case Connection::State::connecting:
            return "connecting";
        case Connection::State::handshaking:
            return "handshaking";
        case Connection::State::open:
            return "open";
        case Connection::State::closing:
            return "closing";
        case Connection::State::failed:
            return "failed";
    }
    return "?";
}

Connection::Connection(UringLoop& loop, ConnectionOptions options)
    : loop_(loop),
      options_(std::move(options)),
      authority_(options_.host.find(':') != std::string::npos
                     ? "[" + options_.host + "]:" + std::to_string(options_.port)
                     : options_.host + ":" + std::to_string(options_.port)),
      stream_(loop, options_.stream),
      backoff_(options_.backoff_initial_ms, options_.backoff_max_ms, SplitMix64::entropy_seed()),
      tls_enabled_(options_.tls) {}

Connection::~Connection() = default;

int Connection::start(std::string& error) {
    if (!loop_.ready()) {
        error = "connection to " + authority_ + ": the io_uring loop is not initialised";
        return -EINVAL;
    }
    // Configuration first: a CA file or cipher list the user named that cannot be used is a
    // configuration error (exit 2), whether or not the host resolves. A missing system bundle is the
    // machine's problem, reported as a run failure.
    if (tls_enabled_) {
        const int rc = tls_context_.init_client({options_.ca_file, options_.ciphers}, error);
        if (rc == -EINVAL || (rc == -ENOENT && !options_.ca_file.empty())) throw ConfigError(error);
        if (rc < 0) return rc;
    }
    if (const int rc = resolve_tcp(options_.host, options_.port, address_, error); rc < 0) return rc;
    if (const int rc = stream_.init(); rc < 0) {
        error = "connection to " + authority_ + ": cannot allocate buffers: " + std::strerror(-rc);
        return rc;
    }
    started_ = true;
    state_ = State::idle;
    return 0;
}

void Connection::open() noexcept {
    wanted_ = true;
    if (started_ && state_ == State::idle) state_ = State::waiting;
}

Connection::Event Connection::begin_attempt(std::int64_t now_ns) noexcept {
    const int rc = stream_.start_connect(address_, options_.connect_timeout_ms);
    if (rc < 0) {
        format_into(error_, "connect to %s: %s", authority_.c_str(), std::strerror(-rc));
        return fail_attempt(now_ns);
    }
    state_ = State::connecting;
    return Event::none;
}

Connection::Event Connection::fail_attempt(std::int64_t now_ns) noexcept {
    tls_.reset();
    stream_.close();
    next_attempt_ns_ = now_ns + backoff_.next_delay_ns();
    state_ = State::closing;
    return Event::attempt_failed;
}

Connection::Event Connection::step_handshake(std::int64_t now_ns) noexcept {
    const int rc = tls_.handshake();
    (void)loop_.poll();  // send what the handshake wrote
    if (rc == -EAGAIN) {
        if (stream_.rx_status() != 0) {
            format_into(error_, "TLS to %s: connection closed during the handshake", authority_.c_str());
            return fail_attempt(now_ns);
        }
        if (now_ns > handshake_deadline_ns_) {
            format_into(error_, "TLS to %s: handshake timed out after %u ms", authority_.c_str(),
                        options_.handshake_timeout_ms);
            return fail_attempt(now_ns);
        }
        return Event::none;
    }
    if (rc < 0) {
        format_into(error_, "%s", tls_.error());
        const Event e = fail_attempt(now_ns);
        if (rc != -EKEYREJECTED) return e;
        state_ = State::failed;  // a refused certificate does not get better by retrying
        return Event::failed_for_good;
    }
    state_ = State::open;
    return Event::opened;
}

Connection::Event Connection::advance(std::int64_t now_ns) noexcept {
    switch (state_) {
        case State::idle:
        case State::open:
        case State::failed:  // the socket of the refused attempt still goes away; the state stays failed
            return Event::none;
        case State::closing:
            if (!stream_.idle()) return Event::none;
            state_ = wanted_ ? State::waiting : State::idle;
            if (state_ == State::idle) return Event::none;
            [[fallthrough]];
        case State::waiting:
            if (now_ns < next_attempt_ns_) return Event::none;
            return begin_attempt(now_ns);
        case State::connecting:
            if (stream_.state() != TcpStream::State::open) {
                if (stream_.state() == TcpStream::State::connecting) return Event::none;
                const int err = stream_.connect_result() != 0 ? stream_.connect_result() : -ECONNABORTED;
                format_into(error_, "connect to %s: %s", authority_.c_str(), std::strerror(-err));
                return fail_attempt(now_ns);
            }
            if (!tls_enabled_) {
                state_ = State::open;
                return Event::opened;
            }
            if (tls_.start(tls_context_, stream_, options_.host) < 0) {
                format_into(error_, "%s", tls_.error());
                return fail_attempt(now_ns);
            }
            handshake_deadline_ns_ = now_ns + static_cast<std::int64_t>(options_.handshake_timeout_ms) * 1'000'000;
            state_ = State::handshaking;
            [[fallthrough]];
        case State::handshaking:
            return step_handshake(now_ns);
    }
    return Event::none;
}

void Connection::drop(std::int64_t now_ns, Retry retry) noexcept {
    if (state_ == State::idle || state_ == State::failed) return;
    tls_.reset();
    stream_.close();
    switch (retry) {
        case Retry::after_backoff:
            next_attempt_ns_ = now_ns + backoff_.next_delay_ns();
            break;
        case Retry::immediately:
            next_attempt_ns_ = now_ns;
            break;
        case Retry::on_request:
            wanted_ = false;
            break;
    }
    state_ = State::closing;
}

void Connection::close() noexcept {
    wanted_ = false;
    if (state_ == State::idle) return;
    tls_.reset();  // queues close_notify when open
    // Cold path: let close_notify (and whatever the owner queued before) leave first, bounded.
    for (int i = 0; i < 100 && stream_.state() == TcpStream::State::open && !stream_.tx_idle(); ++i)
        (void)loop_.wait(1'000'000);
    stream_.close();
    if (state_ != State::failed) state_ = State::closing;
}

long Connection::write(std::span<const std::byte> data) noexcept {
    if (state_ != State::open) return -ENOTCONN;
    if (!tls_enabled_) {
        const int rc = stream_.tx_append(data);
        if (rc == 0) return static_cast<long>(data.size());
        return rc == -ENOBUFS ? -EAGAIN : rc;
    }
    const long n = tls_.write(data);
    if (n < 0 && n != -EAGAIN) format_into(error_, "%s", tls_.error()[0] != '\0' ? tls_.error() : "TLS write failed");
    return n;
}

long Connection::read_failed(long r) noexcept {
    if (tls_.error()[0] != '\0') format_into(error_, "%s", tls_.error());
    else format_into(error_, "connection to %s lost: %s", authority_.c_str(), std::strerror(static_cast<int>(-r)));
    return r;
}

long Connection::read_plain(std::span<std::byte> out) noexcept {
    if (state_ != State::open) return -ENOTCONN;
    const std::span<const std::byte> have = stream_.rx_peek();
    if (have.empty()) {
        const int status = stream_.rx_status();
        if (status == 0) return -EAGAIN;
        if (status == -ECONNRESET) format_into(error_, "connection closed by %s", authority_.c_str());
        else format_into(error_, "connection to %s lost: %s", authority_.c_str(), std::strerror(-status));
        return status;
    }
    const std::size_t n = have.size() < out.size() ? have.size() : out.size();
    std::memcpy(out.data(), have.data(), n);
    stream_.rx_consume(n);
    return static_cast<long>(n);
}

}  // namespace cbtrade::io
