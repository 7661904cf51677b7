// RFC 6455 client: handshake, frame parser, encoder and session.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/ws_frame.hpp"
#include "feeds/ws_handshake.hpp"
#include "feeds/ws_session.hpp"

namespace cbtrade::ws {
namespace {

// ---- helpers ----

std::string hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::string alphabet_text(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<char>('a' + i % 26);
    return s;
}

// A frame as a server sends it (unmasked unless asked).
std::string server_frame(Opcode opcode, std::string_view payload, bool fin = true) {
    std::string out(frame_size(payload.size(), false), '\0');
    const std::size_t n = encode_frame(out, FrameSpec{opcode, fin, false, {}}, payload);
    EXPECT_EQ(n, out.size());
    return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason = {}) {
    std::string p;
    p += static_cast<char>(code >> 8);
    p += static_cast<char>(code & 0xFF);
    p += reason;
    return p;
}

// Hand-built header bytes for frames the encoder refuses to produce.
std::string raw_frame(std::vector<std::uint8_t> header, std::string_view payload = {}) {
    std::string out(header.begin(), header.end());
    out += payload;
    return out;
}

struct Recorded {
    FrameEventKind kind;
    FrameError error;
    CloseCode close_code;
    std::string payload;
    bool operator==(const Recorded&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Recorded& r) {
    return os << "{kind " << static_cast<int>(r.kind) << ", error " << to_string(r.error) << ", code "
              << static_cast<int>(r.close_code) << ", " << r.payload.size() << " bytes}";
}

// Feeds `input` to the parser, recording every event (need_more excluded).
void feed(FrameParser& parser, std::string_view input, std::vector<Recorded>& events) {
    std::span<const char> rest(input.data(), input.size());
    while (!rest.empty()) {
        const FrameParseResult r = parser.parse(rest);
        ASSERT_LE(r.consumed, rest.size());
        if (r.event.kind == FrameEventKind::need_more) ASSERT_EQ(r.consumed, rest.size());
        else ASSERT_TRUE(r.consumed > 0 || r.event.kind == FrameEventKind::protocol_error);
        rest = rest.subspan(r.consumed);
        if (r.event.kind != FrameEventKind::need_more)
            events.push_back({r.event.kind, r.event.error, r.event.close_code, std::string(r.event.payload())});
        if (r.event.kind == FrameEventKind::protocol_error) return;
    }
}

std::vector<Recorded> parse_all(std::string_view input, FrameParserOptions options = {}) {
    FrameParser parser(options);
    std::vector<Recorded> events;
    feed(parser, input, events);
    return events;
}

Recorded message(FrameEventKind kind, std::string payload) {
    return {kind, FrameError::none, CloseCode::no_status, std::move(payload)};
}

Recorded error_event(FrameError error) {
    return {FrameEventKind::protocol_error, error, close_code_for(error), {}};
}

// ---- SHA-1, accept key ----

TEST(WsHandshake, accept_key_matches_rfc6455_example) {
    EXPECT_EQ(compute_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WsHandshake, sha1_matches_reference_digests_around_block_boundaries) {
    const std::vector<std::pair<std::size_t, std::string_view>> expected = {
        {0, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},   {3, "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {55, "a617d006d1ca12671785098a19a87fe58443bde9"},  {56, "4ad5bb7ae3c4024768d364b77c52128ea3cffebe"},
        {63, "fc8a5ab77259625085ead3ec96515b3b8d933fad"},  {64, "93249d4c2f8903ebf41ac358473148ae6ddd7042"},
        {65, "cf2a63cc308225cf07b498d2309a01dd0df52f67"},  {119, "edd0f1133d0e4ca5f3e98bb7e0295f31d20d2cdb"},
        {120, "23a58eee587aa1f50d19a969ab36a3fe3e88c393"}, {200, "0e43b981f4ae2c16bc6a798920eb9f1490c3d7fc"},
    };
    for (const auto& [length, digest] : expected) EXPECT_EQ(hex(sha1(alphabet_text(length))), digest) << length;
}

TEST(WsHandshake, key_is_base64_of_the_16_nonce_bytes) {
    const std::string_view nonce = "the sample nonce";  // RFC 6455 section 1.3
    std::array<std::uint8_t, key_nonce_bytes> bytes{};
    std::memcpy(bytes.data(), nonce.data(), bytes.size());
    EXPECT_EQ(make_websocket_key(bytes), "dGhlIHNhbXBsZSBub25jZQ==");
}

UpgradeRequest sample_request() {
    UpgradeRequest request;
    request.host = "advanced-trade-ws.coinbase.com";
    request.target = "/";
    const std::string_view nonce = "the sample nonce";
    std::memcpy(request.key_nonce.data(), nonce.data(), request.key_nonce.size());
    return request;
}

TEST(WsHandshake, request_has_the_rfc_headers_and_extras_without_deflate) {
    UpgradeRequest request = sample_request();
    request.extra_headers = {{"User-Agent", "cbtrade/0.1"}, {"x-cb-retry-counter", "2"}};
    EXPECT_EQ(build_upgrade_request(request),
              "GET / HTTP/1.1\r\n"
              "Host: advanced-trade-ws.coinbase.com\r\n"
              "Upgrade: websocket\r\n"
              "Connection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              "Sec-WebSocket-Version: 13\r\n"
              "User-Agent: cbtrade/0.1\r\n"
              "x-cb-retry-counter: 2\r\n"
              "\r\n");
}

TEST(WsHandshake, request_refuses_values_that_would_split_lines) {
    UpgradeRequest request = sample_request();
    request.extra_headers = {{"User-Agent", "cbtrade\r\nX-Injected: 1"}};
    EXPECT_THROW((void)build_upgrade_request(request), std::invalid_argument);
    request = sample_request();
    request.host = "example.com\n";
    EXPECT_THROW((void)build_upgrade_request(request), std::invalid_argument);
}

TEST(WsHandshake, empty_target_becomes_slash) {
    UpgradeRequest request = sample_request();
    request.target.clear();
    EXPECT_TRUE(build_upgrade_request(request).starts_with("GET / HTTP/1.1\r\n"));
}

constexpr std::string_view sample_key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view good_response =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";

HandshakeStatus parse_response(std::string_view response, std::size_t limit = default_response_header_limit) {
    HandshakeResponseParser parser(sample_key, limit);
    return parser.feed(response).status;
}

TEST(WsHandshake, response_in_one_byte_pieces_hands_back_the_frames_after_it) {
    const std::string frames =
        server_frame(Opcode::text, "{\"channel\":\"heartbeats\"}") + server_frame(Opcode::ping, "hb");
    const std::string wire = std::string(good_response) + frames;
    HandshakeResponseParser parser(sample_key);
    std::size_t offset = 0;
    HandshakeFeedResult result;
    for (; offset < wire.size(); ++offset) {
        result = parser.feed(std::span(wire.data() + offset, 1));
        if (result.status != HandshakeStatus::incomplete) break;
        EXPECT_EQ(result.consumed, 1u);
    }
    ASSERT_EQ(result.status, HandshakeStatus::upgraded);
    EXPECT_EQ(result.consumed, 1u);
    EXPECT_EQ(offset + 1, good_response.size());  // completes on the last header byte
    EXPECT_EQ(parser.status_code(), 101u);

    const auto events = parse_all(std::string_view(wire).substr(offset + 1));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0], message(FrameEventKind::text, "{\"channel\":\"heartbeats\"}"));
    EXPECT_EQ(events[1], message(FrameEventKind::ping, "hb"));
}

TEST(WsHandshake, response_and_frames_in_one_read_consume_only_the_header) {
    const std::string wire = std::string(good_response.substr(0, 20));
    HandshakeResponseParser parser(sample_key);
    ASSERT_EQ(parser.feed(wire).status, HandshakeStatus::incomplete);
    const std::string second = std::string(good_response.substr(20)) + server_frame(Opcode::text, "x");
    const HandshakeFeedResult result = parser.feed(second);
    EXPECT_EQ(result.status, HandshakeStatus::upgraded);
    EXPECT_EQ(result.consumed, good_response.size() - 20);
    // Further feeding is inert.
    EXPECT_EQ(parser.feed(second).consumed, 0u);
}

TEST(WsHandshake, refused_upgrade_names_the_status) {
    HandshakeResponseParser parser(sample_key);
    const std::string_view response =
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nforbidden";
    const HandshakeFeedResult result = parser.feed(response);
    EXPECT_EQ(result.status, HandshakeStatus::refused);
    EXPECT_EQ(parser.status_code(), 403u);
    EXPECT_EQ(parser.reason(), "Forbidden");
    EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), HandshakeStatus::refused);
}

TEST(WsHandshake, wrong_accept_is_rejected) {
    EXPECT_EQ(parse_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"),
              HandshakeStatus::bad_accept);
}

TEST(WsHandshake, missing_headers_are_named) {
    EXPECT_EQ(parse_response("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
              HandshakeStatus::missing_upgrade);
    EXPECT_EQ(parse_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
              HandshakeStatus::missing_connection);
    EXPECT_EQ(parse_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
              HandshakeStatus::missing_accept);
    EXPECT_EQ(parse_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
              HandshakeStatus::missing_upgrade);
}

TEST(WsHandshake, header_tokens_match_case_insensitively_in_lists) {
    EXPECT_EQ(
        parse_response("HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, UPGRADE\r\n"
                       "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
        HandshakeStatus::upgraded);
}

TEST(WsHandshake, unoffered_extension_or_subprotocol_is_rejected) {
    EXPECT_EQ(parse_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                             "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
              HandshakeStatus::unexpected_extension);
    EXPECT_EQ(parse_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                             "Sec-WebSocket-Protocol: chat\r\n\r\n"),
              HandshakeStatus::unexpected_subprotocol);
}

TEST(WsHandshake, oversized_header_is_rejected_whole_or_in_pieces) {
    std::string response = "HTTP/1.1 101 Switching Protocols\r\nX-Filler: " + std::string(600, 'x') + "\r\n";
    EXPECT_EQ(parse_response(response + std::string(good_response.substr(34)), 256), HandshakeStatus::header_too_large);

    HandshakeResponseParser parser(sample_key, 256);
    HandshakeStatus status = HandshakeStatus::incomplete;
    for (std::size_t i = 0; i < response.size() && status == HandshakeStatus::incomplete; i += 7)
        status = parser.feed(std::string_view(response).substr(i, 7)).status;
    EXPECT_EQ(status, HandshakeStatus::header_too_large);
}

TEST(WsHandshake, garbage_is_malformed) {
    EXPECT_EQ(parse_response("SSH-2.0-OpenSSH_9.2\r\n\r\n"), HandshakeStatus::malformed_http);
    EXPECT_EQ(parse_response("HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
              HandshakeStatus::malformed_http);
}

// ---- frame parser ----

TEST(WsFrameParser, every_length_encoding_parses) {
    for (std::size_t size : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 200000u}) {
        const std::string payload = alphabet_text(size);
        const std::string frame = server_frame(Opcode::binary, payload);
        const std::size_t header = size < 126 ? 2 : size <= 65535 ? 4 : 10;
        EXPECT_EQ(frame.size(), header + size);
        const auto events = parse_all(frame);
        ASSERT_EQ(events.size(), 1u) << size;
        EXPECT_EQ(events[0], message(FrameEventKind::binary, payload)) << size;
    }
}

// A stream exercising every path: 7- and 16-bit lengths, control frames, fragments, close.
std::string mixed_stream() {
    std::string s;
    s += server_frame(Opcode::text, R"({"channel":"ticker","events":[]})");
    s += server_frame(Opcode::text, alphabet_text(300));
    s += server_frame(Opcode::ping, "ping-data");
    s += server_frame(Opcode::text, "Hel", false);
    s += server_frame(Opcode::pong, "");
    s += server_frame(Opcode::continuation, "lo ", false);
    s += server_frame(Opcode::ping, "between");
    s += server_frame(Opcode::continuation, "world", true);
    s += server_frame(Opcode::binary, "");
    s += server_frame(Opcode::close, close_payload(1001, "bye"));
    return s;
}

std::vector<Recorded> mixed_stream_events() {
    return {
        message(FrameEventKind::text, R"({"channel":"ticker","events":[]})"),
        message(FrameEventKind::text, alphabet_text(300)),
        message(FrameEventKind::ping, "ping-data"),
        message(FrameEventKind::pong, ""),
        message(FrameEventKind::ping, "between"),
        message(FrameEventKind::text, "Hello world"),
        message(FrameEventKind::binary, ""),
        {FrameEventKind::close, FrameError::none, CloseCode::going_away, "bye"},
    };
}

TEST(WsFrameParser, stream_split_at_every_byte_boundary_gives_the_same_events) {
    const std::string stream = mixed_stream();
    ASSERT_EQ(parse_all(stream), mixed_stream_events());
    for (std::size_t split = 0; split <= stream.size(); ++split) {
        FrameParser parser;
        std::vector<Recorded> events;
        feed(parser, std::string_view(stream).substr(0, split), events);
        feed(parser, std::string_view(stream).substr(split), events);
        ASSERT_EQ(events, mixed_stream_events()) << "split at " << split;
    }
}

TEST(WsFrameParser, stream_in_one_byte_and_random_pieces_gives_the_same_events) {
    std::string stream = mixed_stream();
    stream += server_frame(Opcode::text, alphabet_text(70000), false);  // 64-bit length, fragmented
    stream += server_frame(Opcode::continuation, "!");
    std::vector<Recorded> expected = mixed_stream_events();
    expected.push_back(message(FrameEventKind::text, alphabet_text(70000) + "!"));

    FrameParser bytewise;
    std::vector<Recorded> events;
    for (char c : stream) feed(bytewise, std::string_view(&c, 1), events);
    EXPECT_EQ(events, expected);

    std::mt19937 rng(12345);
    for (int round = 0; round < 50; ++round) {
        FrameParser parser;
        events.clear();
        for (std::size_t at = 0; at < stream.size();) {
            const std::size_t piece = std::uniform_int_distribution<std::size_t>(1, 2000)(rng);
            feed(parser, std::string_view(stream).substr(at, piece), events);
            at += piece;
        }
        ASSERT_EQ(events, expected) << "round " << round;
    }
}

TEST(WsFrameParser, many_frames_in_one_buffer_each_become_an_event) {
    std::string stream;
    std::vector<Recorded> expected;
    for (int i = 0; i < 500; ++i) {
        const std::string payload = "{\"sequence_num\":" + std::to_string(i) + "}";
        stream += server_frame(Opcode::text, payload);
        expected.push_back(message(FrameEventKind::text, payload));
    }
    FrameParser parser;
    std::vector<Recorded> events;
    feed(parser, stream, events);
    EXPECT_EQ(events, expected);
    EXPECT_EQ(parser.counters().of(FrameEventKind::text), 500u);
    EXPECT_EQ(parser.counters().frames.value(), 500u);
}

TEST(WsFrameParser, continuation_frames_assemble_with_a_ping_in_between) {
    const std::string stream = server_frame(Opcode::text, "{\"a\":", false) + server_frame(Opcode::ping, "p") +
                               server_frame(Opcode::continuation, "1", false) +
                               server_frame(Opcode::continuation, "}", true);
    const std::vector<Recorded> expected = {message(FrameEventKind::ping, "p"),
                                            message(FrameEventKind::text, "{\"a\":1}")};
    EXPECT_EQ(parse_all(stream), expected);
}

TEST(WsFrameParser, message_keeps_the_padding_readable_after_its_end) {
    FrameParserOptions options;
    options.max_message_bytes = 1000;
    FrameParser parser(options);
    EXPECT_EQ(parser.buffer_capacity(), 1000 + message_padding_bytes);
    const std::string frame = server_frame(Opcode::text, alphabet_text(1000));
    const FrameParseResult r = parser.parse(frame);
    ASSERT_EQ(r.event.kind, FrameEventKind::text);
    ASSERT_EQ(r.event.size, 1000u);
    // ASan would flag a read past the allocation; the padding must be readable.
    unsigned sum = 0;
    for (std::size_t i = 0; i < message_padding_bytes; ++i) sum += static_cast<unsigned char>(r.event.data[1000 + i]);
    EXPECT_GE(sum, 0u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(r.event.data) % cache_line, 0u);
}

TEST(WsFrameParser, close_without_code_reports_no_status) {
    const auto events = parse_all(server_frame(Opcode::close, ""));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], (Recorded{FrameEventKind::close, FrameError::none, CloseCode::no_status, ""}));
}

TEST(WsFrameParser, application_close_codes_are_accepted) {
    const auto events = parse_all(server_frame(Opcode::close, close_payload(4000, "app")));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(static_cast<int>(events[0].close_code), 4000);
}

TEST(WsFrameParser, protocol_errors_carry_the_rfc_close_code) {
    struct Case {
        const char* name;
        std::string input;
        FrameError error;
    };
    const std::vector<Case> cases = {
        {"rsv1", raw_frame({0x80 | 0x40 | 0x1, 0x00}), FrameError::reserved_bits},
        {"rsv2", raw_frame({0x80 | 0x20 | 0x1, 0x00}), FrameError::reserved_bits},
        {"rsv3", raw_frame({0x80 | 0x10 | 0x1, 0x00}), FrameError::reserved_bits},
        {"opcode 3", raw_frame({0x83, 0x00}), FrameError::unknown_opcode},
        {"opcode 7", raw_frame({0x87, 0x00}), FrameError::unknown_opcode},
        {"opcode B", raw_frame({0x8B, 0x00}), FrameError::unknown_opcode},
        {"opcode F", raw_frame({0x8F, 0x00}), FrameError::unknown_opcode},
        {"fragmented ping", raw_frame({0x09, 0x01}, "x"), FrameError::fragmented_control},
        {"fragmented close", raw_frame({0x08, 0x00}), FrameError::fragmented_control},
        {"ping of 126 bytes", raw_frame({0x89, 126, 0x00, 126}, alphabet_text(126)), FrameError::control_too_long},
        {"continuation first", server_frame(Opcode::continuation, "x"), FrameError::continuation_without_start},
        {"text inside fragmented", server_frame(Opcode::text, "a", false) + server_frame(Opcode::text, "b"),
         FrameError::data_inside_fragmented_message},
        {"binary inside fragmented", server_frame(Opcode::binary, "a", false) + server_frame(Opcode::binary, "b"),
         FrameError::data_inside_fragmented_message},
        {"masked server frame", raw_frame({0x81, 0x81, 1, 2, 3, 4}, "x"), FrameError::masked_server_frame},
        {"16-bit length for 5 bytes", raw_frame({0x81, 126, 0x00, 5}, "hello"), FrameError::non_minimal_length},
        {"64-bit length for 5 bytes", raw_frame({0x81, 127, 0, 0, 0, 0, 0, 0, 0, 5}, "hello"),
         FrameError::non_minimal_length},
        {"64-bit length top bit", raw_frame({0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}), FrameError::length_too_large},
        {"close with 1 byte", raw_frame({0x88, 0x01, 0x03}), FrameError::bad_close_payload},
        {"close code 1005", server_frame(Opcode::close, close_payload(1005)), FrameError::bad_close_payload},
        {"close code 1006", server_frame(Opcode::close, close_payload(1006)), FrameError::bad_close_payload},
        {"close code 999", server_frame(Opcode::close, close_payload(999)), FrameError::bad_close_payload},
        {"close code 2000", server_frame(Opcode::close, close_payload(2000)), FrameError::bad_close_payload},
        {"close code 5000", server_frame(Opcode::close, close_payload(5000)), FrameError::bad_close_payload},
    };
    for (const auto& c : cases) {
        FrameParser parser;
        std::vector<Recorded> events;
        feed(parser, c.input, events);
        ASSERT_FALSE(events.empty()) << c.name;
        EXPECT_EQ(events.back(), error_event(c.error)) << c.name;
        EXPECT_EQ(events.back().close_code, CloseCode::protocol_error) << c.name;
        EXPECT_TRUE(parser.failed()) << c.name;
        EXPECT_EQ(parser.counters().of(c.error), 1u) << c.name;
        EXPECT_EQ(parser.counters().of(FrameEventKind::protocol_error), 1u) << c.name;
    }
}

TEST(WsFrameParser, oversized_message_fails_with_1009_at_its_header) {
    FrameParserOptions options;
    options.max_message_bytes = 1024;
    // Only the header is delivered: the error must not wait for the payload.
    const std::string frame = server_frame(Opcode::text, alphabet_text(1025));
    FrameParser parser(options);
    const FrameParseResult r = parser.parse(std::span(frame.data(), 4));
    EXPECT_EQ(r.event.kind, FrameEventKind::protocol_error);
    EXPECT_EQ(r.event.error, FrameError::message_too_big);
    EXPECT_EQ(r.event.close_code, CloseCode::message_too_big);

    // Exactly the limit is fine.
    EXPECT_EQ(parse_all(server_frame(Opcode::text, alphabet_text(1024)), options).at(0).kind, FrameEventKind::text);
}

TEST(WsFrameParser, oversized_fragmented_message_fails_with_1009) {
    FrameParserOptions options;
    options.max_message_bytes = 1024;
    const std::string stream = server_frame(Opcode::binary, alphabet_text(600), false) +
                               server_frame(Opcode::continuation, alphabet_text(424), false) +
                               server_frame(Opcode::continuation, "x");
    const auto events = parse_all(stream, options);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], error_event(FrameError::message_too_big));
    EXPECT_EQ(events[0].close_code, CloseCode::message_too_big);
}

TEST(WsFrameParser, failed_parser_discards_input_until_reset) {
    FrameParser parser;
    std::vector<Recorded> events;
    feed(parser, raw_frame({0x83, 0x00}), events);
    ASSERT_TRUE(parser.failed());
    const std::string good = server_frame(Opcode::text, "ok");
    const FrameParseResult ignored = parser.parse(good);
    EXPECT_EQ(ignored.event.kind, FrameEventKind::need_more);
    EXPECT_EQ(ignored.consumed, good.size());
    parser.reset();
    EXPECT_FALSE(parser.failed());
    events.clear();
    feed(parser, good, events);
    EXPECT_EQ(events, std::vector<Recorded>{message(FrameEventKind::text, "ok")});
}

TEST(WsFrameParser, counters_count_each_event_kind) {
    FrameParser parser;
    std::vector<Recorded> events;
    feed(parser, mixed_stream(), events);
    const FrameCounters& c = parser.counters();
    EXPECT_EQ(c.of(FrameEventKind::text), 3u);
    EXPECT_EQ(c.of(FrameEventKind::binary), 1u);
    EXPECT_EQ(c.of(FrameEventKind::ping), 2u);
    EXPECT_EQ(c.of(FrameEventKind::pong), 1u);
    EXPECT_EQ(c.of(FrameEventKind::close), 1u);
    EXPECT_EQ(c.of(FrameEventKind::protocol_error), 0u);
    EXPECT_EQ(c.frames.value(), 10u);
}

// ---- encoder ----

TEST(WsFrameEncoder, masked_client_frames_round_trip_through_a_server_parser) {
    MaskKeyGenerator keys(42);
    for (std::size_t size : {0u, 1u, 7u, 8u, 125u, 126u, 65535u, 65536u, 100003u}) {
        const std::string payload = alphabet_text(size);
        std::string out(frame_size(size, true), '\0');
        const MaskKey key = keys.next();
        ASSERT_EQ(encode_client_frame(out, Opcode::text, payload, key), out.size());
        EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x81);
        EXPECT_NE(static_cast<unsigned char>(out[1]) & 0x80, 0);

        // Manual unmasking of the payload gives the original bytes.
        const std::size_t header = out.size() - size;
        std::string unmasked = out.substr(header);
        for (std::size_t i = 0; i < unmasked.size(); ++i)
            unmasked[i] = static_cast<char>(unmasked[i] ^ static_cast<char>(key[i % 4]));
        EXPECT_EQ(unmasked, payload);

        const auto events = parse_all(out, {default_max_message_bytes, FrameRole::server});
        ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0], message(FrameEventKind::text, payload)) << size;
    }
}

TEST(WsFrameEncoder, masked_frames_split_anywhere_unmask_correctly) {
    std::string stream;
    MaskKeyGenerator keys(7);
    std::vector<Recorded> expected;
    for (std::size_t size : {3u, 13u, 130u}) {
        std::string out(frame_size(size, true), '\0');
        ASSERT_NE(encode_client_frame(out, Opcode::binary, alphabet_text(size), keys.next()), 0u);
        stream += out;
        expected.push_back(message(FrameEventKind::binary, alphabet_text(size)));
    }
    for (std::size_t split = 0; split <= stream.size(); ++split) {
        FrameParser parser({default_max_message_bytes, FrameRole::server});
        std::vector<Recorded> events;
        feed(parser, std::string_view(stream).substr(0, split), events);
        feed(parser, std::string_view(stream).substr(split), events);
        ASSERT_EQ(events, expected) << split;
    }
}

TEST(WsFrameEncoder, server_parser_rejects_unmasked_client_frames) {
    const auto events = parse_all(server_frame(Opcode::text, "x"), {default_max_message_bytes, FrameRole::server});
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], error_event(FrameError::unmasked_client_frame));
}

TEST(WsFrameEncoder, close_frame_carries_code_and_reason) {
    std::array<char, 64> out{};
    const std::size_t n = encode_client_close(out, CloseCode::normal, "done", {1, 2, 3, 4});
    ASSERT_EQ(n, frame_size(6, true));
    const auto events = parse_all(std::string_view(out.data(), n), {default_max_message_bytes, FrameRole::server});
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0], (Recorded{FrameEventKind::close, FrameError::none, CloseCode::normal, "done"}));

    EXPECT_EQ(encode_client_close(out, CloseCode::no_status, {}, {1, 2, 3, 4}), 6u);
}

TEST(WsFrameEncoder, refuses_small_buffers_and_long_control_payloads) {
    std::array<char, 16> small{};
    EXPECT_EQ(encode_client_frame(small, Opcode::text, alphabet_text(11), {}), 0u);  // needs 17
    EXPECT_EQ(encode_client_frame(small, Opcode::text, alphabet_text(10), {}), 16u);
    std::vector<char> big(512);
    EXPECT_EQ(encode_client_frame(big, Opcode::ping, alphabet_text(126), {}), 0u);
    EXPECT_EQ(encode_client_close(big, CloseCode::normal, alphabet_text(124), {}), 0u);
}

TEST(WsFrameEncoder, masking_in_pieces_equals_masking_at_once) {
    const MaskKey key{0x12, 0x34, 0x56, 0x78};
    std::string whole = alphabet_text(100);
    std::string pieces = whole;
    apply_mask(whole.data(), whole.size(), key);
    std::size_t phase = 0;
    for (std::size_t at = 0, step = 1; at < pieces.size(); at += step, step = step % 11 + 1) {
        const std::size_t n = std::min(step, pieces.size() - at);
        phase = apply_mask(pieces.data() + at, n, key, phase);
    }
    EXPECT_EQ(whole, pieces);
}

TEST(WsFrameEncoder, mask_keys_vary) {
    MaskKeyGenerator keys(0);
    const MaskKey a = keys.next();
    const MaskKey b = keys.next();
    EXPECT_NE(a, b);
}

// ---- session ----

// Reads what the session queued, as the server would.
std::vector<Recorded> drain_client_frames(WsSession& session) {
    const std::span<const char> out = session.pending_output();
    const std::string bytes(out.begin(), out.end());
    session.consume_output(out.size());
    return parse_all(bytes, {default_max_message_bytes, FrameRole::server});
}

// Feeds `input`, collecting session events, the way a transport would loop.
std::vector<SessionEvent> feed_session(WsSession& session, std::string_view input) {
    std::vector<SessionEvent> events;
    std::span<const char> rest(input.data(), input.size());
    while (!rest.empty()) {
        const SessionReceiveResult r = session.receive(rest);
        rest = rest.subspan(r.consumed);
        if (r.event.kind != SessionEventKind::need_more) events.push_back(r.event);
    }
    return events;
}

void open_session(WsSession& session) {
    EXPECT_EQ(session.connect(sample_request()), SendStatus::queued);
    session.consume_output(session.pending_output().size());
    const auto events = feed_session(session, good_response);
    EXPECT_EQ(events.size(), 1u);
    EXPECT_EQ(session.state(), SessionState::open);
}

TEST(WsSession, connect_queues_the_upgrade_request) {
    WsSession session;
    EXPECT_EQ(session.state(), SessionState::closed);
    EXPECT_EQ(session.send_text("early"), SendStatus::not_open);
    ASSERT_EQ(session.connect(sample_request()), SendStatus::queued);
    EXPECT_EQ(session.state(), SessionState::connecting);
    const std::span<const char> out = session.pending_output();
    EXPECT_EQ(std::string(out.begin(), out.end()), build_upgrade_request(sample_request()));
    EXPECT_EQ(session.send_text("early"), SendStatus::not_open);
}

TEST(WsSession, response_and_first_frames_in_one_read_open_then_deliver) {
    WsSession session;
    ASSERT_EQ(session.connect(sample_request()), SendStatus::queued);
    const std::string wire = std::string(good_response) + server_frame(Opcode::text, "{\"channel\":\"subscriptions\"}");
    const auto events = feed_session(session, wire);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].kind, SessionEventKind::opened);
    EXPECT_EQ(events[1].kind, SessionEventKind::text);
    EXPECT_EQ(events[1].payload(), "{\"channel\":\"subscriptions\"}");
    EXPECT_EQ(session.state(), SessionState::open);
}

TEST(WsSession, whole_connection_in_one_byte_pieces) {
    WsSession session;
    ASSERT_EQ(session.connect(sample_request()), SendStatus::queued);
    session.consume_output(session.pending_output().size());
    const std::string wire = std::string(good_response) + server_frame(Opcode::text, "{\"a\":", false) +
                             server_frame(Opcode::ping, "p") + server_frame(Opcode::continuation, "1}") +
                             server_frame(Opcode::close, close_payload(1000));
    std::vector<SessionEventKind> kinds;
    std::string text;
    for (char c : wire)
        for (const SessionEvent& e : feed_session(session, std::string_view(&c, 1))) {
            kinds.push_back(e.kind);
            if (e.kind == SessionEventKind::text) text = std::string(e.payload());
        }
    EXPECT_EQ(kinds, (std::vector<SessionEventKind>{SessionEventKind::opened, SessionEventKind::ping,
                                                    SessionEventKind::text, SessionEventKind::close_received}));
    EXPECT_EQ(text, "{\"a\":1}");
    const auto sent = drain_client_frames(session);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0], message(FrameEventKind::pong, "p"));
    EXPECT_EQ(sent[1].close_code, CloseCode::normal);
}

TEST(WsSession, refused_upgrade_closes_with_the_status) {
    WsSession session;
    ASSERT_EQ(session.connect(sample_request()), SendStatus::queued);
    const auto events = feed_session(session, "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, SessionEventKind::handshake_failed);
    EXPECT_EQ(events[0].handshake, HandshakeStatus::refused);
    EXPECT_EQ(session.handshake_status_code(), 429u);
    EXPECT_EQ(session.state(), SessionState::closed);
}

TEST(WsSession, ping_is_answered_with_a_pong_carrying_the_same_payload) {
    WsSession session;
    open_session(session);
    const auto events = feed_session(session, server_frame(Opcode::ping, "payload-123"));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, SessionEventKind::ping);
    EXPECT_EQ(drain_client_frames(session), std::vector<Recorded>{message(FrameEventKind::pong, "payload-123")});
    EXPECT_EQ(session.counters().pongs_sent.value(), 1u);
}

TEST(WsSession, server_close_is_echoed_and_closes) {
    WsSession session;
    open_session(session);
    const auto events = feed_session(session, server_frame(Opcode::close, close_payload(1001, "restart")));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, SessionEventKind::close_received);
    EXPECT_EQ(events[0].close_code, CloseCode::going_away);
    EXPECT_EQ(events[0].payload(), "restart");
    EXPECT_EQ(session.state(), SessionState::closed);
    EXPECT_EQ(drain_client_frames(session),
              std::vector<Recorded>{(Recorded{FrameEventKind::close, FrameError::none, CloseCode::going_away, ""})});
    EXPECT_EQ(session.send_text("late"), SendStatus::not_open);
}

TEST(WsSession, client_close_waits_for_the_server_echo) {
    WsSession session;
    open_session(session);
    ASSERT_EQ(session.close(CloseCode::normal, "bye"), SendStatus::queued);
    EXPECT_EQ(session.state(), SessionState::closing);
    EXPECT_EQ(drain_client_frames(session),
              std::vector<Recorded>{(Recorded{FrameEventKind::close, FrameError::none, CloseCode::normal, "bye"})});
    EXPECT_EQ(session.send_text("late"), SendStatus::not_open);

    // Data still in flight from the server is delivered; pings are no longer answered.
    auto events = feed_session(session, server_frame(Opcode::text, "in flight") + server_frame(Opcode::ping, "p"));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].kind, SessionEventKind::text);
    EXPECT_TRUE(session.pending_output().empty());

    events = feed_session(session, server_frame(Opcode::close, close_payload(1000)));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, SessionEventKind::closed);
    EXPECT_EQ(events[0].close_code, CloseCode::normal);
    EXPECT_EQ(session.state(), SessionState::closed);
    EXPECT_TRUE(session.pending_output().empty());
}

TEST(WsSession, protocol_error_queues_a_close_with_the_rfc_code) {
    WsSession session;
    open_session(session);
    const auto events = feed_session(session, raw_frame({0x81, 0x81, 1, 2, 3, 4}, "x"));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, SessionEventKind::protocol_error);
    EXPECT_EQ(events[0].error, FrameError::masked_server_frame);
    EXPECT_EQ(events[0].close_code, CloseCode::protocol_error);
    EXPECT_EQ(session.state(), SessionState::closed);
    const auto sent = drain_client_frames(session);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].kind, FrameEventKind::close);
    EXPECT_EQ(sent[0].close_code, CloseCode::protocol_error);
}

TEST(WsSession, oversized_message_closes_with_1009) {
    SessionOptions options;
    options.max_message_bytes = 100;
    WsSession session(options);
    open_session(session);
    const auto events = feed_session(session, server_frame(Opcode::text, alphabet_text(101)));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].close_code, CloseCode::message_too_big);
    const auto sent = drain_client_frames(session);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].close_code, CloseCode::message_too_big);
}

TEST(WsSession, sent_text_is_a_masked_frame_and_output_fills_up) {
    SessionOptions options;
    options.output_capacity_bytes = 1024;
    WsSession session(options);
    open_session(session);
    const std::string subscribe = R"({"type":"subscribe","channel":"ticker","product_ids":["BTC-USD"]})";
    ASSERT_EQ(session.send_text(subscribe), SendStatus::queued);
    EXPECT_EQ(session.send_ping(alphabet_text(126)), SendStatus::payload_too_large);
    EXPECT_EQ(drain_client_frames(session), std::vector<Recorded>{message(FrameEventKind::text, subscribe)});

    EXPECT_EQ(session.send_text(alphabet_text(1100)), SendStatus::output_full);
    ASSERT_EQ(session.send_text(alphabet_text(600)), SendStatus::queued);
    // Partial drain then compaction makes room again.
    session.consume_output(300);
    EXPECT_EQ(session.send_text(alphabet_text(300)), SendStatus::queued);
    EXPECT_EQ(session.pending_output().size(), frame_size(600, true) - 300 + frame_size(300, true));
}

TEST(WsSession, transport_loss_closes_and_drops_output) {
    WsSession session;
    open_session(session);
    ASSERT_EQ(session.send_text("x"), SendStatus::queued);
    session.on_transport_closed();
    EXPECT_EQ(session.state(), SessionState::closed);
    EXPECT_TRUE(session.pending_output().empty());
    EXPECT_TRUE(feed_session(session, server_frame(Opcode::text, "after")).empty());
}

TEST(WsSession, reconnect_starts_clean) {
    WsSession session;
    open_session(session);
    std::vector<SessionEvent> events = feed_session(session, server_frame(Opcode::text, "half", false));
    EXPECT_TRUE(events.empty());
    session.on_transport_closed();
    ASSERT_EQ(session.connect(sample_request()), SendStatus::queued);
    session.consume_output(session.pending_output().size());
    events = feed_session(session, std::string(good_response) + server_frame(Opcode::text, "fresh"));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].payload(), "fresh");
}

}  // namespace
}  // namespace cbtrade::ws

// Issue 9 item 8: counters fed by outside numbers saturate instead of wrapping.
TEST(RelaxedCounter, saturates_at_the_top_of_the_range) {
    cbtrade::ws::RelaxedCounter c;
    c.add(UINT64_MAX - 3);
    c.add(2);
    EXPECT_EQ(c.value(), UINT64_MAX - 1);
    c.add(UINT64_MAX - 5);
    EXPECT_EQ(c.value(), UINT64_MAX);
    c.add();
    EXPECT_EQ(c.value(), UINT64_MAX);
}
