// feeds/: RFC 6455 WebSocket framing for the client, transport-agnostic.
//
// FrameParser turns decrypted bytes, in pieces of any size, into events: a complete text or binary
// message, ping, pong, close, or a protocol error carrying the close code to send. The encoder writes
// masked client frames into a caller buffer. Neither allocates after construction, throws, or logs.
//
// Buffer contract (why the padding): a data message is assembled in one buffer allocated at
// construction with capacity max_message_bytes + message_padding_bytes, always at its start. An event
// therefore points at least message_padding_bytes of readable memory past its last byte, which is what
// simdjson needs to parse the message in place (simdjson::padded_string_view(data, size, capacity)).
// Event pointers are valid until the next parse() call on the same parser.
//
// Not checked, on purpose: UTF-8 validity of text messages and close reasons (RFC 6455 says an
// endpoint MUST fail on invalid UTF-8; we skip it for speed because every text message goes to
// simdjson next, which validates UTF-8 anyway and rejects the message). No extension is negotiated,
// so any RSV bit is an error.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>

#include "core/cpu.hpp"
#include "core/random.hpp"

namespace cbtrade::ws {

// Bytes readable past the end of every message: simdjson::SIMDJSON_PADDING (64), the padding the
// ticker decoder requires (coinbase_decoder_padding), kept as a literal so no simdjson include is needed.
inline constexpr std::size_t message_padding_bytes = 64;
inline constexpr std::size_t max_control_payload_bytes = 125;  // RFC 6455 section 5.5
inline constexpr std::size_t max_frame_header_bytes = 14;      // 2 + 8 (64-bit length) + 4 (mask)
// Ticker messages are < 2 KB; level2 snapshots reach several MB, so level2 users raise the limit.
inline constexpr std::size_t default_max_message_bytes = std::size_t{1} << 20;

enum class Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// RFC 6455 section 7.4.1 status codes. The type holds any 16-bit value: servers may send 3000-4999.
enum class CloseCode : std::uint16_t {
    normal = 1000,
    going_away = 1001,
    protocol_error = 1002,
    unsupported_data = 1003,
    no_status = 1005,  // never on the wire: "the close frame had no code"
    abnormal = 1006,   // never on the wire: "the connection dropped without a close frame"
    invalid_payload = 1007,
    policy_violation = 1008,
    message_too_big = 1009,
    mandatory_extension = 1010,
    internal_error = 1011,
};

enum class FrameError : std::uint8_t {
    none,
    reserved_bits,                   // RSV1-3 set but no extension negotiated
    unknown_opcode,                  // 0x3-0x7, 0xB-0xF
    fragmented_control,              // ping/pong/close without FIN
    control_too_long,                // control payload over 125 bytes
    masked_server_frame,             // a client must never receive masked frames
    unmasked_client_frame,           // (server role only) clients must mask
    non_minimal_length,              // 16/64-bit length used for a length that fits a shorter form
    length_too_large,                // 64-bit length with the most significant bit set
    continuation_without_start,      // continuation frame outside a fragmented message
    data_inside_fragmented_message,  // text/binary frame before the previous message finished
    bad_close_payload,               // close payload of 1 byte, or a code that may not be sent
    message_too_big,                 // the message would exceed max_message_bytes
};
inline constexpr std::size_t frame_error_kinds = 13;

// The close code to send for a protocol error: 1009 for a too large message, 1002 otherwise.
[[nodiscard]] CloseCode close_code_for(FrameError error) noexcept;
[[nodiscard]] std::string_view to_string(FrameError error) noexcept;
// Whether a received close frame may carry `code` (RFC 6455 section 7.4; 1012-1014 are IANA-registered).
[[nodiscard]] bool is_valid_received_close_code(std::uint16_t code) noexcept;

enum class FrameEventKind : std::uint8_t {
    need_more,  // every input byte was used; nothing complete yet
    text,       // payload(): the whole message, padded (see the buffer contract above)
    binary,
    ping,  // payload(): the ping data; the caller must answer with a pong carrying the same bytes
    pong,
    close,           // close_code (no_status when the frame had none), payload(): the reason
    protocol_error,  // error names it, close_code is the code to send; the parser stops
};
inline constexpr std::size_t frame_event_kinds = 7;

struct FrameEvent {
    FrameEventKind kind = FrameEventKind::need_more;
    FrameError error = FrameError::none;
    CloseCode close_code = CloseCode::no_status;
    const char* data = nullptr;
    std::size_t size = 0;

    [[nodiscard]] std::string_view payload() const noexcept { return {data, size}; }
};

// Returned by value on every parse() call: keep it a few registers' worth of plain data.
static_assert(std::is_trivially_copyable_v<FrameEvent>);
static_assert(sizeof(FrameEvent) <= 32);

struct [[nodiscard]] FrameParseResult {
    FrameEvent event;
    // Input bytes used. Less than the input size only when an event is returned: call parse() again
    // with the rest. A need_more result always used the whole input.
    std::size_t consumed = 0;
};

// Whose frames are parsed: a client parses server frames (never masked). The server role exists for
// tests, the fuzzer and the exchange simulator, which read client frames (always masked).
enum class FrameRole : std::uint8_t { client, server };

struct FrameParserOptions {
    std::size_t max_message_bytes = default_max_message_bytes;
    FrameRole role = FrameRole::client;
};

// A counter written by one thread and read by others (the ops thread exporting metrics). Written only
// by the thread that owns the parser, so a relaxed load+store (no locked add) is enough; relaxed
// because each counter is independent and readers only need an untorn recent value.
class RelaxedCounter {
public:
    // Saturates at 2^64-1 instead of wrapping: a count fed by outside numbers (messages missed in a
    // sequence gap) must never turn a huge value into a small one.
    void add(std::uint64_t n = 1) noexcept {
        const std::uint64_t v = value_.load(std::memory_order_relaxed);
        value_.store(n > UINT64_MAX - v ? UINT64_MAX : v + n, std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

struct FrameCounters {
    RelaxedCounter frames;
    RelaxedCounter payload_bytes;
    std::array<RelaxedCounter, frame_event_kinds> events;  // indexed by FrameEventKind (need_more unused)
    std::array<RelaxedCounter, frame_error_kinds> errors;  // indexed by FrameError (none unused)

    [[nodiscard]] std::uint64_t of(FrameEventKind kind) const noexcept {
        return events[static_cast<std::size_t>(kind)].value();
    }
    [[nodiscard]] std::uint64_t of(FrameError error) const noexcept {
        return errors[static_cast<std::size_t>(error)].value();
    }
};

class FrameParser {
public:
    explicit FrameParser(const FrameParserOptions& options = {});
    FrameParser(const FrameParser&) = delete;
    FrameParser& operator=(const FrameParser&) = delete;

    // Parses from the start of `input` up to and including the first complete event. Loop:
    //   while (!in.empty()) { auto r = p.parse(in); in = in.subspan(r.consumed); handle(r.event); }
    // After a protocol_error the parser is failed: later calls discard their input until reset().
    [[nodiscard]] FrameParseResult parse(std::span<const char> input) noexcept;

    // Forget all state (new connection); keeps the buffer and the counters.
    void reset() noexcept;

    [[nodiscard]] bool failed() const noexcept { return state_ == State::failed; }
    [[nodiscard]] std::size_t max_message_bytes() const noexcept { return max_message_bytes_; }
    // Size of the message buffer: max_message_bytes + message_padding_bytes.
    [[nodiscard]] std::size_t buffer_capacity() const noexcept { return max_message_bytes_ + message_padding_bytes; }
    [[nodiscard]] const FrameCounters& counters() const noexcept { return counters_; }

private:
    enum class State : std::uint8_t { header, payload, failed };
    struct AlignedFree {
        void operator()(char* p) const noexcept;
    };

    [[nodiscard]] FrameError begin_frame(const unsigned char* header) noexcept;
    [[nodiscard]] FrameEvent finish_frame() noexcept;
    [[nodiscard]] FrameEvent fail(FrameError error) noexcept;
    [[nodiscard]] FrameEvent emit(FrameEventKind kind, const char* data, std::size_t size) noexcept;

    std::size_t max_message_bytes_;
    FrameRole role_;
    State state_ = State::header;

    // The frame being read.
    Opcode frame_opcode_ = Opcode::continuation;
    bool frame_fin_ = false;
    bool frame_masked_ = false;
    std::array<std::uint8_t, 4> frame_mask_{};
    std::size_t mask_phase_ = 0;
    std::uint64_t payload_remaining_ = 0;
    char* payload_write_ = nullptr;

    // A header split across reads is gathered here; whole headers are read from the input directly.
    std::array<unsigned char, max_frame_header_bytes> header_bytes_{};
    std::size_t header_have_ = 0;

    // The data message being assembled (possibly over several continuation frames).
    bool in_message_ = false;
    Opcode message_opcode_ = Opcode::text;
    std::size_t message_size_ = 0;
    std::unique_ptr<char, AlignedFree> message_buffer_;

    // Control frames may arrive between fragments, so they get their own buffer.
    std::size_t control_size_ = 0;
    std::array<char, max_control_payload_bytes> control_payload_{};

    FrameCounters counters_;
};

// ---- Encoder ----

using MaskKey = std::array<std::uint8_t, 4>;

// XORs `data` with `key`, starting at key byte `phase` (0-3); returns the phase for the next byte.
std::size_t apply_mask(char* data, std::size_t size, MaskKey key, std::size_t phase = 0) noexcept;

struct FrameSpec {
    Opcode opcode = Opcode::text;
    bool fin = true;
    bool masked = true;  // clients always mask; unmasked frames are for tests and the simulator
    MaskKey mask_key{};
};

[[nodiscard]] constexpr std::size_t frame_size(std::size_t payload_bytes, bool masked) noexcept {
    const std::size_t length_bytes = payload_bytes < 126 ? 0 : payload_bytes <= 0xFFFF ? 2 : 8;
    return 2 + length_bytes + (masked ? 4 : 0) + payload_bytes;
}

// Writes one frame into `out` and returns its size, or 0 (nothing written) when `out` is smaller than
// frame_size() or a control payload exceeds 125 bytes. A frame is never 0 bytes, so 0 is unambiguous.
[[nodiscard]] std::size_t encode_frame(std::span<char> out, const FrameSpec& spec,
                                       std::span<const char> payload) noexcept;

// A masked, final client frame (text, binary, ping or pong).
[[nodiscard]] std::size_t encode_client_frame(std::span<char> out, Opcode opcode, std::span<const char> payload,
                                              MaskKey mask_key) noexcept;

// A masked client close frame: 2-byte code then the reason (at most 123 bytes, else 0 is returned).
// CloseCode::no_status writes a close frame without payload.
[[nodiscard]] std::size_t encode_client_close(std::span<char> out, CloseCode code, std::string_view reason,
                                              MaskKey mask_key) noexcept;

// Mask keys from splitmix64. RFC 6455 wants unpredictable masks so that a cleartext proxy cannot be
// fed attacker-chosen bytes; over TLS no intermediary sees the frames, so a fast PRNG seeded from a
// real random source once per connection is enough.
class MaskKeyGenerator {
public:
    explicit MaskKeyGenerator(std::uint64_t seed) noexcept : random_(seed) {}
    [[nodiscard]] MaskKey next() noexcept;

private:
    SplitMix64 random_;
};

}  // namespace cbtrade::ws
