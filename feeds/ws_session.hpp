// feeds/: one WebSocket client connection's protocol state, transport-agnostic.
//
// WsSession ties the handshake, the frame parser and the encoder together. The transport (io_uring +
// TLS, written elsewhere) feeds it decrypted bytes through receive() and drains pending_output() into
// the socket. The session answers pings with pongs and a server close with a close echo by itself;
// it reports messages, the close handshake and errors as events.
//
//   connecting --101 ok--> open --close()--> closing --server close--> closed
//        |                  |--server close (echo queued)-----------------^
//        |                  `--protocol error (close with RFC code queued)-^
//        `--handshake refused/invalid-------------------------------------^
//
// In `closed` the transport sends what is pending, then shuts the TCP connection; RFC 6455 has the
// server close TCP first, so after a clean close the transport may wait briefly for EOF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "feeds/ws_frame.hpp"
#include "feeds/ws_handshake.hpp"

namespace cbtrade::ws {

enum class SessionState : std::uint8_t { connecting, open, closing, closed };
[[nodiscard]] std::string_view to_string(SessionState state) noexcept;

enum class SessionEventKind : std::uint8_t {
    need_more,         // all input used, nothing to report
    opened,            // handshake accepted; the rest of the input is frames: call receive() with it
    handshake_failed,  // `handshake` says why (and handshake_status_code() for a refusal)
    text,              // payload(): one whole message, padded as described in ws_frame.hpp
    binary,
    ping,            // already answered with a pong (reported for liveness tracking)
    pong,            // payload(): what our ping carried
    close_received,  // the server started closing: close_code, payload() = reason; echo queued
    closed,          // the server answered our close: close_code, payload() = reason
    protocol_error,  // `error`; a close frame with close_code (1002 or 1009) is queued
};

struct SessionEvent {
    SessionEventKind kind = SessionEventKind::need_more;
    HandshakeStatus handshake = HandshakeStatus::incomplete;
    FrameError error = FrameError::none;
    CloseCode close_code = CloseCode::no_status;
    const char* data = nullptr;
    std::size_t size = 0;

    [[nodiscard]] std::string_view payload() const noexcept { return {data, size}; }
};

struct [[nodiscard]] SessionReceiveResult {
    SessionEvent event;
    std::size_t consumed = 0;  // same contract as FrameParseResult::consumed
};

enum class SendStatus : std::uint8_t {
    queued,
    not_open,          // not in a state where this may be sent
    output_full,       // the output buffer lacks room: drain it first
    payload_too_large  // control frame payload over 125 bytes (123 for a close reason)
};

struct SessionOptions {
    std::size_t max_message_bytes = default_max_message_bytes;
    std::size_t output_capacity_bytes = std::size_t{64} << 10;
    std::size_t response_header_limit = default_response_header_limit;
    std::uint64_t mask_seed = 0;  // from a real random source (std::random_device) per process
};

// Written by the thread that owns the session, read by the ops thread (see RelaxedCounter).
struct SessionCounters {
    RelaxedCounter pongs_sent;
    RelaxedCounter close_echoes_sent;
    RelaxedCounter output_full;  // a frame the session had to send (pong, close) did not fit
    RelaxedCounter bytes_queued;
};

class WsSession {
public:
    explicit WsSession(const SessionOptions& options = {});
    ~WsSession();
    WsSession(const WsSession&) = delete;
    WsSession& operator=(const WsSession&) = delete;

    // Starts a (re)connection: clears all state and pending output, queues the upgrade request.
    // Cold path: allocates the handshake parser; throws what build_upgrade_request() throws.
    [[nodiscard]] SendStatus connect(const UpgradeRequest& request);

    // Feed decrypted bytes; loop until the input is used up, as with FrameParser::parse().
    // Allocation-free once open (the handshake part allocates).
    [[nodiscard]] SessionReceiveResult receive(std::span<const char> input);

    [[nodiscard]] SendStatus send_text(std::string_view message) noexcept;
    [[nodiscard]] SendStatus send_binary(std::span<const char> message) noexcept;
    [[nodiscard]] SendStatus send_ping(std::string_view payload) noexcept;
    // Starts the close handshake (open -> closing).
    [[nodiscard]] SendStatus close(CloseCode code, std::string_view reason = {}) noexcept;
    // The transport lost the connection (EOF, reset, timeout): -> closed, pending output dropped.
    void on_transport_closed() noexcept;

    // Bytes to write to the transport, oldest first; call consume_output() with what was written.
    [[nodiscard]] std::span<const char> pending_output() const noexcept {
        return {output_.get() + output_begin_, output_end_ - output_begin_};
    }
    void consume_output(std::size_t bytes) noexcept;

    [[nodiscard]] SessionState state() const noexcept { return state_; }
    // HTTP status of the upgrade response (e.g. 403), 0 before it arrived.
    [[nodiscard]] unsigned handshake_status_code() const noexcept;
    [[nodiscard]] const FrameCounters& frame_counters() const noexcept { return parser_.counters(); }
    [[nodiscard]] const SessionCounters& counters() const noexcept { return counters_; }

private:
    [[nodiscard]] SessionReceiveResult receive_handshake(std::span<const char> input);
    [[nodiscard]] SendStatus queue_frame(Opcode opcode, std::span<const char> payload) noexcept;
    [[nodiscard]] SendStatus queue_close(CloseCode code, std::string_view reason) noexcept;
    // Room for `bytes` more at output_end_, compacting if needed; false when it cannot fit.
    [[nodiscard]] bool make_room(std::size_t bytes) noexcept;

    SessionState state_ = SessionState::closed;
    std::unique_ptr<HandshakeResponseParser> handshake_;
    FrameParser parser_;
    MaskKeyGenerator mask_keys_;
    std::size_t response_header_limit_;

    std::unique_ptr<char[]> output_;
    std::size_t output_capacity_;
    std::size_t output_begin_ = 0;
    std::size_t output_end_ = 0;

    SessionCounters counters_;
};

}  // namespace cbtrade::ws
