#include "feeds/ws_session.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace cbtrade::ws {

std::string_view to_string(SessionState state) noexcept {
    switch (state) {
        case SessionState::connecting:
            return "connecting";
        case SessionState::open:
            return "open";
        case SessionState::closing:
            return "closing";
        case SessionState::closed:
            return "closed";
    }
    return "unknown";
}

WsSession::WsSession(const SessionOptions& options)
    : parser_(FrameParserOptions{options.max_message_bytes, FrameRole::client}),
      mask_keys_(options.mask_seed),
      response_header_limit_(options.response_header_limit),
      output_(std::make_unique<char[]>(options.output_capacity_bytes)),
      output_capacity_(options.output_capacity_bytes) {}

WsSession::~WsSession() = default;

SendStatus WsSession::connect(const UpgradeRequest& request) {
    parser_.reset();
    output_begin_ = 0;
    output_end_ = 0;
    const std::string text = build_upgrade_request(request);
    handshake_ =
        std::make_unique<HandshakeResponseParser>(make_websocket_key(request.key_nonce), response_header_limit_);
    if (!make_room(text.size())) {
        state_ = SessionState::closed;
        return SendStatus::output_full;
    }
    std::memcpy(output_.get() + output_end_, text.data(), text.size());
    output_end_ += text.size();
    counters_.bytes_queued.add(text.size());
    state_ = SessionState::connecting;
    return SendStatus::queued;
}

unsigned WsSession::handshake_status_code() const noexcept {
    return handshake_ ? handshake_->status_code() : 0;
}

SessionReceiveResult WsSession::receive_handshake(std::span<const char> input) {
    const HandshakeFeedResult result = handshake_->feed(input);
    SessionEvent event;
    event.handshake = result.status;
    switch (result.status) {
        case HandshakeStatus::incomplete:
            return {event, result.consumed};
        case HandshakeStatus::upgraded:
            state_ = SessionState::open;
            event.kind = SessionEventKind::opened;
            return {event, result.consumed};
        default:
            // Nothing after a failed handshake is worth reading: report and drop the rest.
            state_ = SessionState::closed;
            event.kind = SessionEventKind::handshake_failed;
            return {event, input.size()};
    }
}

SessionReceiveResult WsSession::receive(std::span<const char> input) {
    if (state_ == SessionState::connecting) return receive_handshake(input);
    if (state_ == SessionState::closed) return {{}, input.size()};

    const FrameParseResult parsed = parser_.parse(input);
    const FrameEvent& frame = parsed.event;
    SessionEvent event;
    event.data = frame.data;
    event.size = frame.size;
    event.close_code = frame.close_code;
    switch (frame.kind) {
        case FrameEventKind::need_more:
            break;
        case FrameEventKind::text:
            event.kind = SessionEventKind::text;
            break;
        case FrameEventKind::binary:
            event.kind = SessionEventKind::binary;
            break;
        case FrameEventKind::pong:
            event.kind = SessionEventKind::pong;
            break;
        case FrameEventKind::ping:
            event.kind = SessionEventKind::ping;
            // After our close, RFC 6455 lets the peer keep talking but we stay silent.
            if (state_ == SessionState::open) {
                if (queue_frame(Opcode::pong, frame.payload()) == SendStatus::queued) counters_.pongs_sent.add();
                else counters_.output_full.add();
            }
            break;
        case FrameEventKind::close:
            if (state_ == SessionState::open) {
                event.kind = SessionEventKind::close_received;
                // Echo the code (section 5.5.1); a close without code is echoed without one.
                if (queue_close(frame.close_code, {}) == SendStatus::queued) counters_.close_echoes_sent.add();
                else counters_.output_full.add();
            } else {
                event.kind = SessionEventKind::closed;
            }
            state_ = SessionState::closed;
            break;
        case FrameEventKind::protocol_error:
            event.kind = SessionEventKind::protocol_error;
            event.error = frame.error;
            // "Fail the WebSocket connection" (section 7.1.7): send the close, then drop TCP without
            // waiting for the answer.
            if (state_ == SessionState::open &&
                queue_close(frame.close_code, to_string(frame.error)) != SendStatus::queued)
                counters_.output_full.add();
            state_ = SessionState::closed;
            break;
    }
    return {event, parsed.consumed};
}

bool WsSession::make_room(std::size_t bytes) noexcept {
    if (output_capacity_ - output_end_ >= bytes) return true;
    const std::size_t pending = output_end_ - output_begin_;
    if (output_capacity_ - pending < bytes) return false;
    std::memmove(output_.get(), output_.get() + output_begin_, pending);
    output_begin_ = 0;
    output_end_ = pending;
    return true;
}

SendStatus WsSession::queue_frame(Opcode opcode, std::span<const char> payload) noexcept {
    if ((opcode == Opcode::ping || opcode == Opcode::pong) && payload.size() > max_control_payload_bytes)
        return SendStatus::payload_too_large;
    const std::size_t size = frame_size(payload.size(), true);
    if (!make_room(size)) return SendStatus::output_full;
    const std::size_t written =
        encode_client_frame(std::span<char>(output_.get() + output_end_, output_capacity_ - output_end_), opcode,
                            payload, mask_keys_.next());
    if (written == 0) return SendStatus::output_full;
    output_end_ += written;
    counters_.bytes_queued.add(written);
    return SendStatus::queued;
}

SendStatus WsSession::queue_close(CloseCode code, std::string_view reason) noexcept {
    if (reason.size() > max_control_payload_bytes - 2) return SendStatus::payload_too_large;
    const std::size_t size = frame_size(code == CloseCode::no_status ? 0 : 2 + reason.size(), true);
    if (!make_room(size)) return SendStatus::output_full;
    const std::size_t written = encode_client_close(
        std::span<char>(output_.get() + output_end_, output_capacity_ - output_end_), code, reason, mask_keys_.next());
    if (written == 0) return SendStatus::output_full;
    output_end_ += written;
    counters_.bytes_queued.add(written);
    return SendStatus::queued;
}

SendStatus WsSession::send_text(std::string_view message) noexcept {
    if (state_ != SessionState::open) return SendStatus::not_open;
    return queue_frame(Opcode::text, message);
}

SendStatus WsSession::send_binary(std::span<const char> message) noexcept {
    if (state_ != SessionState::open) return SendStatus::not_open;
    return queue_frame(Opcode::binary, message);
}

SendStatus WsSession::send_ping(std::string_view payload) noexcept {
    if (state_ != SessionState::open) return SendStatus::not_open;
    return queue_frame(Opcode::ping, payload);
}

SendStatus WsSession::close(CloseCode code, std::string_view reason) noexcept {
    if (state_ != SessionState::open) return SendStatus::not_open;
    const SendStatus status = queue_close(code, reason);
    if (status == SendStatus::queued) state_ = SessionState::closing;
    return status;
}

void WsSession::on_transport_closed() noexcept {
    state_ = SessionState::closed;
    output_begin_ = 0;
    output_end_ = 0;
}

void WsSession::consume_output(std::size_t bytes) noexcept {
    output_begin_ += std::min(bytes, output_end_ - output_begin_);
    if (output_begin_ == output_end_) {
        output_begin_ = 0;
        output_end_ = 0;
    }
}

}  // namespace cbtrade::ws
