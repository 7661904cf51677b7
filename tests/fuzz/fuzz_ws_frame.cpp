// libFuzzer target for the WebSocket client protocol layer (feeds/ws_frame, ws_session, ws_handshake).
//
// Input layout: byte 0 picks the mode and the message size limit, byte 1 seeds the piece sizes, the
// rest is the byte stream. Modes:
//   0: client frame parser, 1: server-role frame parser (masked frames, exercises unmasking),
//   2: WsSession from connect(): the upgrade response parser, then frames (seeds carry a valid 101).
// Frame modes parse the stream twice, whole and in pseudo-random pieces, and abort if the events
// differ: splitting must never change what is parsed. Every event is checked against the contract
// (consumed bounds, message size limit, readable padding after messages).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "feeds/ws_frame.hpp"
#include "feeds/ws_session.hpp"
#include "tests/fuzz/piece_sizes.hpp"

namespace {

using cbtrade::fuzz::PieceSizes;
using namespace cbtrade::ws;

struct EventDigest {
    FrameEventKind kind;
    FrameError error;
    CloseCode close_code;
    std::size_t size;
    std::uint64_t hash;
    bool operator==(const EventDigest&) const = default;
};

std::uint64_t fnv1a(const char* data, std::size_t size) {
    std::uint64_t h = 1469598103934665603ull;
    for (std::size_t i = 0; i < size; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
    return h;
}

void check(bool ok) {
    if (!ok) std::abort();
}

// Touches the padding the decoder relies on; ASan reports if it is not allocated.
void touch_padding(const char* data, std::size_t size) {
    volatile char sink = 0;
    for (std::size_t i = 0; i < message_padding_bytes; ++i) sink = static_cast<char>(sink ^ data[size + i]);
    (void)sink;
}

void run_parser(std::span<const char> stream, const FrameParserOptions& options, PieceSizes pieces,
                std::vector<EventDigest>& out) {
    FrameParser parser(options);
    for (std::size_t at = 0; at < stream.size();) {
        const std::size_t piece = pieces.next();
        std::span<const char> rest = stream.subspan(at, std::min(piece, stream.size() - at));
        at += rest.size();
        while (!rest.empty()) {
            const FrameParseResult r = parser.parse(rest);
            check(r.consumed <= rest.size());
            const FrameEvent& e = r.event;
            if (e.kind == FrameEventKind::need_more) check(r.consumed == rest.size());
            if (e.kind == FrameEventKind::text || e.kind == FrameEventKind::binary) {
                check(e.size <= options.max_message_bytes);
                touch_padding(e.data, e.size);
            }
            if (e.kind == FrameEventKind::ping || e.kind == FrameEventKind::pong)
                check(e.size <= max_control_payload_bytes);
            if (e.kind == FrameEventKind::protocol_error) check(e.error != FrameError::none && parser.failed());
            if (e.kind != FrameEventKind::need_more)
                out.push_back({e.kind, e.error, e.close_code, e.size, fnv1a(e.data, e.size)});
            rest = rest.subspan(r.consumed);
        }
    }
}

void run_session(std::span<const char> stream, std::size_t max_message_bytes, PieceSizes pieces) {
    SessionOptions options;
    options.max_message_bytes = max_message_bytes;
    options.output_capacity_bytes = 4096;
    WsSession session(options);
    UpgradeRequest request;
    request.host = "fuzz.example";
    std::memcpy(request.key_nonce.data(), "the sample nonce", 16);  // accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
    if (session.connect(request) != SendStatus::queued) std::abort();
    for (std::size_t at = 0; at < stream.size();) {
        std::span<const char> rest = stream.subspan(at, std::min(pieces.next(), stream.size() - at));
        at += rest.size();
        while (!rest.empty()) {
            const SessionReceiveResult r = session.receive(rest);
            check(r.consumed <= rest.size());
            if (r.event.kind == SessionEventKind::text || r.event.kind == SessionEventKind::binary)
                touch_padding(r.event.data, r.event.size);
            rest = rest.subspan(r.consumed);
        }
        // A transport that drains slowly: half of what is pending.
        session.consume_output(session.pending_output().size() / 2);
        if (session.state() == SessionState::open && (at & 1) != 0) (void)session.send_text("{\"type\":\"subscribe\"}");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const unsigned mode = data[0] % 3;
    // Small limits make the 1009 path reachable; 4 KiB covers ticker-sized messages.
    const std::size_t max_message_bytes = std::size_t{1} << (data[0] / 3 % 13);
    const std::span<const char> stream(reinterpret_cast<const char*>(data + 2), size - 2);

    if (mode == 2) {
        run_session(stream, max_message_bytes, PieceSizes(data[1]));
        return 0;
    }
    const FrameParserOptions options{max_message_bytes, mode == 0 ? FrameRole::client : FrameRole::server};
    std::vector<EventDigest> whole;
    std::vector<EventDigest> split;
    // Piece size "everything at once" for the reference run.
    FrameParser reference(options);
    std::span<const char> rest = stream;
    while (!rest.empty()) {
        const FrameParseResult r = reference.parse(rest);
        check(r.consumed <= rest.size());
        const FrameEvent& e = r.event;
        if (e.kind != FrameEventKind::need_more)
            whole.push_back({e.kind, e.error, e.close_code, e.size, fnv1a(e.data, e.size)});
        rest = rest.subspan(r.consumed);
    }
    run_parser(stream, options, PieceSizes(data[1]), split);
    check(whole == split);
    return 0;
}
