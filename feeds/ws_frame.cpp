#include "feeds/ws_frame.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace cbtrade::ws {

namespace {

constexpr unsigned char fin_bit = 0x80;
constexpr unsigned char rsv_bits = 0x70;
constexpr unsigned char opcode_bits = 0x0F;
constexpr unsigned char mask_bit = 0x80;
constexpr unsigned char length_bits = 0x7F;
constexpr unsigned char length_16 = 126;
constexpr unsigned char length_64 = 127;

constexpr std::size_t header_size(unsigned char byte1) noexcept {
    const unsigned char length7 = byte1 & length_bits;
    const std::size_t length_bytes = length7 == length_16 ? 2 : length7 == length_64 ? 8 : 0;
    return 2 + length_bytes + ((byte1 & mask_bit) != 0 ? 4 : 0);
}

constexpr bool is_control(Opcode opcode) noexcept {
    return (static_cast<unsigned>(opcode) & 0x8) != 0;
}

constexpr bool is_known_opcode(unsigned opcode) noexcept {
    return opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xA);
}

std::uint64_t read_big_endian(const unsigned char* p, std::size_t bytes) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | p[i];
    return v;
}

}  // namespace

CloseCode close_code_for(FrameError error) noexcept {
    return error == FrameError::message_too_big ? CloseCode::message_too_big : CloseCode::protocol_error;
}

std::string_view to_string(FrameError error) noexcept {
    switch (error) {
        case FrameError::none:
            return "none";
        case FrameError::reserved_bits:
            return "reserved bits set without extension";
        case FrameError::unknown_opcode:
            return "unknown opcode";
        case FrameError::fragmented_control:
            return "fragmented control frame";
        case FrameError::control_too_long:
            return "control frame payload over 125 bytes";
        case FrameError::masked_server_frame:
            return "masked frame from server";
        case FrameError::unmasked_client_frame:
            return "unmasked frame from client";
        case FrameError::non_minimal_length:
            return "payload length not minimally encoded";
        case FrameError::length_too_large:
            return "64-bit payload length with the top bit set";
        case FrameError::continuation_without_start:
            return "continuation frame without a message to continue";
        case FrameError::data_inside_fragmented_message:
            return "new data frame inside a fragmented message";
        case FrameError::bad_close_payload:
            return "invalid close frame payload";
        case FrameError::message_too_big:
            return "message over the size limit";
    }
    return "unknown frame error";
}

bool is_valid_received_close_code(std::uint16_t code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

void FrameParser::AlignedFree::operator()(char* p) const noexcept {
    ::operator delete[](p, std::align_val_t{cache_line});
}

FrameParser::FrameParser(const FrameParserOptions& options)
    : max_message_bytes_(options.max_message_bytes),
      role_(options.role),
      message_buffer_(static_cast<char*>(
          ::operator new[](options.max_message_bytes + message_padding_bytes, std::align_val_t{cache_line}))) {
    // Deterministic padding bytes: nothing may depend on them, but tools like valgrind stay quiet.
    std::memset(message_buffer_.get(), 0, buffer_capacity());
}

void FrameParser::reset() noexcept {
    state_ = State::header;
    header_have_ = 0;
    payload_remaining_ = 0;
    in_message_ = false;
    message_size_ = 0;
    control_size_ = 0;
}

FrameEvent FrameParser::emit(FrameEventKind kind, const char* data, std::size_t size) noexcept {
    counters_.events[static_cast<std::size_t>(kind)].add();
    FrameEvent event;
    event.kind = kind;
    event.data = data;
    event.size = size;
    return event;
}

FrameEvent FrameParser::fail(FrameError error) noexcept {
    state_ = State::failed;
    counters_.events[static_cast<std::size_t>(FrameEventKind::protocol_error)].add();
    counters_.errors[static_cast<std::size_t>(error)].add();
    FrameEvent event;
    event.kind = FrameEventKind::protocol_error;
    event.error = error;
    event.close_code = close_code_for(error);
    return event;
}

FrameError FrameParser::begin_frame(const unsigned char* header) noexcept {
    const unsigned char byte0 = header[0];
    const unsigned char byte1 = header[1];
    if ((byte0 & rsv_bits) != 0) return FrameError::reserved_bits;
    const unsigned opcode_value = byte0 & opcode_bits;
    if (!is_known_opcode(opcode_value)) return FrameError::unknown_opcode;
    const auto opcode = static_cast<Opcode>(opcode_value);
    const bool fin = (byte0 & fin_bit) != 0;
    const bool masked = (byte1 & mask_bit) != 0;

    std::uint64_t length = byte1 & length_bits;
    std::size_t position = 2;
    if (length == length_16) {
        length = read_big_endian(header + 2, 2);
        position = 4;
        if (length < length_16) return FrameError::non_minimal_length;
    } else if (length == length_64) {
        length = read_big_endian(header + 2, 8);
        position = 10;
        if ((length >> 63) != 0) return FrameError::length_too_large;
        if (length <= 0xFFFF) return FrameError::non_minimal_length;
    }

    if (role_ == FrameRole::client && masked) return FrameError::masked_server_frame;
    if (role_ == FrameRole::server && !masked) return FrameError::unmasked_client_frame;
    if (masked) std::memcpy(frame_mask_.data(), header + position, 4);

    if (is_control(opcode)) {
        if (!fin) return FrameError::fragmented_control;
        if (length > max_control_payload_bytes) return FrameError::control_too_long;
        control_size_ = static_cast<std::size_t>(length);
        payload_write_ = control_payload_.data();
    } else {
        if (opcode == Opcode::continuation) {
            if (!in_message_) return FrameError::continuation_without_start;
        } else {
            if (in_message_) return FrameError::data_inside_fragmented_message;
            in_message_ = true;
            message_opcode_ = opcode;
            message_size_ = 0;
        }
        // Checked before any payload arrives, so an oversized message is refused at its header.
        if (length > max_message_bytes_ - message_size_) return FrameError::message_too_big;
        payload_write_ = message_buffer_.get() + message_size_;
        message_size_ += static_cast<std::size_t>(length);
    }

    frame_opcode_ = opcode;
    frame_fin_ = fin;
    frame_masked_ = masked;
    mask_phase_ = 0;
    payload_remaining_ = length;
    counters_.frames.add();
    counters_.payload_bytes.add(length);
    return FrameError::none;
}

FrameEvent FrameParser::finish_frame() noexcept {
    switch (frame_opcode_) {
        case Opcode::ping:
            return emit(FrameEventKind::ping, control_payload_.data(), control_size_);
        case Opcode::pong:
            return emit(FrameEventKind::pong, control_payload_.data(), control_size_);
        case Opcode::close: {
            CloseCode code = CloseCode::no_status;
            std::size_t reason_offset = 0;
            if (control_size_ == 1) return fail(FrameError::bad_close_payload);
            if (control_size_ >= 2) {
                const auto value = static_cast<std::uint16_t>(
                    read_big_endian(reinterpret_cast<const unsigned char*>(control_payload_.data()), 2));
                if (!is_valid_received_close_code(value)) return fail(FrameError::bad_close_payload);
                code = static_cast<CloseCode>(value);
                reason_offset = 2;
            }
            FrameEvent event =
                emit(FrameEventKind::close, control_payload_.data() + reason_offset, control_size_ - reason_offset);
            event.close_code = code;
            return event;
        }
        case Opcode::continuation:
        case Opcode::text:
        case Opcode::binary:
            if (!frame_fin_) return {};
            in_message_ = false;
            return emit(message_opcode_ == Opcode::text ? FrameEventKind::text : FrameEventKind::binary,
                        message_buffer_.get(), message_size_);
    }
    return {};
}

FrameParseResult FrameParser::parse(std::span<const char> input) noexcept {
    const char* const begin = input.data();
    const char* const end = begin + input.size();
    const char* p = begin;
    if (state_ == State::failed) return {{}, input.size()};

    while (true) {
        if (state_ == State::header) {
            const unsigned char* header = nullptr;
            const auto available = static_cast<std::size_t>(end - p);
            if (header_have_ == 0 && available >= 2 && available >= header_size(static_cast<unsigned char>(p[1]))) {
                // Common case: the whole header is in this read.
                header = reinterpret_cast<const unsigned char*>(p);
                p += header_size(static_cast<unsigned char>(p[1]));
            } else {
                std::size_t wanted = header_have_ < 2 ? 2 : header_size(header_bytes_[1]);
                while (header_have_ < wanted) {
                    if (p == end) return {{}, input.size()};
                    header_bytes_[header_have_++] = static_cast<unsigned char>(*p++);
                    if (header_have_ == 2) wanted = header_size(header_bytes_[1]);
                }
                header = header_bytes_.data();
                header_have_ = 0;
            }
            const FrameError error = begin_frame(header);
            if (error != FrameError::none) return {fail(error), static_cast<std::size_t>(p - begin)};
            state_ = State::payload;
        }

        const auto available = static_cast<std::size_t>(end - p);
        const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(payload_remaining_, available));
        if (chunk != 0) {
            std::memcpy(payload_write_, p, chunk);
            if (frame_masked_) mask_phase_ = apply_mask(payload_write_, chunk, frame_mask_, mask_phase_);
            payload_write_ += chunk;
            p += chunk;
            payload_remaining_ -= chunk;
        }
        if (payload_remaining_ != 0) return {{}, input.size()};

        state_ = State::header;
        const FrameEvent event = finish_frame();
        if (event.kind != FrameEventKind::need_more) return {event, static_cast<std::size_t>(p - begin)};
    }
}

// ---- Encoder ----

std::size_t apply_mask(char* data, std::size_t size, MaskKey key, std::size_t phase) noexcept {
    std::array<unsigned char, 8> rotated{};
    for (std::size_t i = 0; i < rotated.size(); ++i) rotated[i] = key[(phase + i) & 3];
    std::uint64_t mask_word = 0;
    std::memcpy(&mask_word, rotated.data(), sizeof(mask_word));

    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, data + i, sizeof(word));
        word ^= mask_word;
        std::memcpy(data + i, &word, sizeof(word));
    }
    // i is a multiple of 8, so the key position of byte i is still `phase`.
    for (std::size_t j = 0; i < size; ++i, ++j) data[i] = static_cast<char>(data[i] ^ static_cast<char>(rotated[j]));
    return (phase + size) & 3;
}

std::size_t encode_frame(std::span<char> out, const FrameSpec& spec, std::span<const char> payload) noexcept {
    const std::size_t size = frame_size(payload.size(), spec.masked);
    if (out.size() < size) return 0;
    if (is_control(spec.opcode) && payload.size() > max_control_payload_bytes) return 0;

    auto* header = reinterpret_cast<unsigned char*>(out.data());
    header[0] = static_cast<unsigned char>((spec.fin ? fin_bit : 0) | static_cast<unsigned char>(spec.opcode));
    const unsigned char mask_flag = spec.masked ? mask_bit : 0;
    std::size_t position = 2;
    if (payload.size() < length_16) {
        header[1] = static_cast<unsigned char>(mask_flag | payload.size());
    } else if (payload.size() <= 0xFFFF) {
        header[1] = mask_flag | length_16;
        header[2] = static_cast<unsigned char>(payload.size() >> 8);
        header[3] = static_cast<unsigned char>(payload.size());
        position = 4;
    } else {
        header[1] = mask_flag | length_64;
        const auto length = static_cast<std::uint64_t>(payload.size());
        for (std::size_t i = 0; i < 8; ++i) header[2 + i] = static_cast<unsigned char>(length >> (56 - 8 * i));
        position = 10;
    }
    if (spec.masked) {
        std::memcpy(header + position, spec.mask_key.data(), 4);
        position += 4;
    }
    if (!payload.empty()) {
        std::memcpy(out.data() + position, payload.data(), payload.size());
        if (spec.masked) apply_mask(out.data() + position, payload.size(), spec.mask_key);
    }
    return size;
}

std::size_t encode_client_frame(std::span<char> out, Opcode opcode, std::span<const char> payload,
                                MaskKey mask_key) noexcept {
    return encode_frame(out, FrameSpec{opcode, true, true, mask_key}, payload);
}

std::size_t encode_client_close(std::span<char> out, CloseCode code, std::string_view reason,
                                MaskKey mask_key) noexcept {
    const FrameSpec spec{Opcode::close, true, true, mask_key};
    if (code == CloseCode::no_status) return encode_frame(out, spec, {});
    std::array<char, max_control_payload_bytes> payload{};
    if (reason.size() > payload.size() - 2) return 0;
    const auto value = static_cast<std::uint16_t>(code);
    payload[0] = static_cast<char>(value >> 8);
    payload[1] = static_cast<char>(value & 0xFF);
    if (!reason.empty()) std::memcpy(payload.data() + 2, reason.data(), reason.size());
    return encode_frame(out, spec, std::span<const char>(payload.data(), 2 + reason.size()));
}

MaskKey MaskKeyGenerator::next() noexcept {
    const std::uint64_t z = random_.next();
    return {static_cast<std::uint8_t>(z), static_cast<std::uint8_t>(z >> 8), static_cast<std::uint8_t>(z >> 16),
            static_cast<std::uint8_t>(z >> 24)};
}

}  // namespace cbtrade::ws
