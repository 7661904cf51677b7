#include "feeds/ws_handshake.hpp"

#include "core/base64.hpp"
#include "io/http.hpp"

#include <cstring>
#include <stdexcept>
#include <vector>

namespace cbtrade::ws {

namespace {

constexpr std::uint32_t rotate_left(std::uint32_t v, int bits) noexcept {
    return (v << bits) | (v >> (32 - bits));
}

// One 64-byte block of FIPS 180-4 section 6.1.2.
void sha1_block(std::array<std::uint32_t, 5>& h, const std::uint8_t* block) noexcept {
    std::array<std::uint32_t, 80> w{};
    for (std::size_t t = 0; t < 16; ++t)
        w[t] = (std::uint32_t{block[4 * t]} << 24) | (std::uint32_t{block[4 * t + 1]} << 16) |
               (std::uint32_t{block[4 * t + 2]} << 8) | std::uint32_t{block[4 * t + 3]};
    for (std::size_t t = 16; t < 80; ++t) w[t] = rotate_left(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (std::size_t t = 0; t < 80; ++t) {
        std::uint32_t f = 0;
        std::uint32_t k = 0;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999u;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1u;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDCu;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6u;
        }
        const std::uint32_t temp = rotate_left(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = rotate_left(b, 30);
        b = a;
        a = temp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

}  // namespace

std::array<std::uint8_t, 20> sha1(std::string_view data) noexcept {
    std::array<std::uint32_t, 5> h{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
    std::size_t full_blocks = data.size() / 64;
    for (std::size_t i = 0; i < full_blocks; ++i) sha1_block(h, bytes + 64 * i);

    // Padding: 0x80, zeros, then the message length in bits as a big-endian 64-bit number.
    std::array<std::uint8_t, 128> tail{};
    const std::size_t rest = data.size() - 64 * full_blocks;
    if (rest != 0) std::memcpy(tail.data(), bytes + 64 * full_blocks, rest);
    tail[rest] = 0x80;
    const std::size_t tail_size = rest + 1 + 8 <= 64 ? 64 : 128;
    const std::uint64_t bit_length = static_cast<std::uint64_t>(data.size()) * 8;
    for (std::size_t i = 0; i < 8; ++i) tail[tail_size - 1 - i] = static_cast<std::uint8_t>(bit_length >> (8 * i));
    sha1_block(h, tail.data());
    if (tail_size == 128) sha1_block(h, tail.data() + 64);

    std::array<std::uint8_t, 20> digest{};
    for (std::size_t i = 0; i < 5; ++i)
        for (std::size_t j = 0; j < 4; ++j) digest[4 * i + j] = static_cast<std::uint8_t>(h[i] >> (24 - 8 * j));
    return digest;
}

std::string make_websocket_key(std::span<const std::uint8_t, key_nonce_bytes> nonce) {
    return base64_encode(nonce);
}

std::string compute_accept_key(std::string_view websocket_key) {
    std::string input;
    input.reserve(websocket_key.size() + accept_guid.size());
    input.append(websocket_key).append(accept_guid);
    return base64_encode(sha1(input));
}

std::string build_upgrade_request(const UpgradeRequest& request) {
    const std::string key = make_websocket_key(request.key_nonce);
    std::vector<io::HttpHeaderView> headers{
        {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},
        {"Sec-WebSocket-Key", key},
        {"Sec-WebSocket-Version", "13"},
    };
    for (const auto& h : request.extra_headers) headers.push_back({h.name, h.value});
    std::string out;
    out.reserve(256);
    // Values come from configuration (host, path, User-Agent): the writer refuses a stray CR/LF
    // that would split the request.
    io::HttpRequest http;
    http.method = "GET";
    http.target = request.target;
    http.host = request.host;
    http.headers = headers;
    const io::HttpWriteStatus status = io::write_http_request(http, out);
    if (status != io::HttpWriteStatus::ok)
        throw std::invalid_argument("WebSocket upgrade request: " + std::string(io::to_string(status)));
    return out;
}

std::string_view to_string(HandshakeStatus status) noexcept {
    switch (status) {
        case HandshakeStatus::incomplete:
            return "incomplete";
        case HandshakeStatus::upgraded:
            return "upgraded";
        case HandshakeStatus::refused:
            return "upgrade refused";
        case HandshakeStatus::missing_upgrade:
            return "response lacks 'Upgrade: websocket'";
        case HandshakeStatus::missing_connection:
            return "response lacks 'Connection: upgrade'";
        case HandshakeStatus::missing_accept:
            return "response lacks Sec-WebSocket-Accept";
        case HandshakeStatus::bad_accept:
            return "Sec-WebSocket-Accept does not match the key sent";
        case HandshakeStatus::unexpected_extension:
            return "server chose an extension that was not offered";
        case HandshakeStatus::unexpected_subprotocol:
            return "server chose a subprotocol that was not offered";
        case HandshakeStatus::header_too_large:
            return "response header too large";
        case HandshakeStatus::malformed_http:
            return "malformed HTTP response";
    }
    return "unknown handshake status";
}

HandshakeResponseParser::HandshakeResponseParser(std::string_view websocket_key, std::size_t header_limit)
    : expected_accept_(compute_accept_key(websocket_key)),
      // Stop right after the header: the body of a refusal does not interest us and the bytes after
      // a 101 are WebSocket frames, not HTTP.
      parser_({.header_bytes = header_limit}, io::HttpResponseParser::Mode::header_only) {}

HandshakeFeedResult HandshakeResponseParser::feed(std::span<const char> bytes) {
    if (status_ != HandshakeStatus::incomplete) return {status_, 0};
    const io::HttpParseResult r = parser_.feed(bytes);
    switch (r.status) {
        case io::HttpParseStatus::incomplete:
            return {status_, r.consumed};
        case io::HttpParseStatus::header_too_large:
            status_ = HandshakeStatus::header_too_large;
            return {status_, r.consumed};
        case io::HttpParseStatus::header_done:
        case io::HttpParseStatus::complete:  // not in header-only mode
            status_ = check_header();
            return {status_, r.consumed};
        case io::HttpParseStatus::body_too_large:  // a refusal announcing a body beyond any limit
        case io::HttpParseStatus::malformed:
        case io::HttpParseStatus::truncated:
            break;
    }
    status_ = HandshakeStatus::malformed_http;
    return {status_, r.consumed};
}

HandshakeStatus HandshakeResponseParser::check_header() {
    status_code_ = parser_.status_code();
    reason_ = std::string(parser_.reason());
    if (status_code_ != 101) return HandshakeStatus::refused;
    if (parser_.version() != 11) return HandshakeStatus::malformed_http;

    if (!parser_.header_has_token("Upgrade", "websocket")) return HandshakeStatus::missing_upgrade;
    if (!parser_.header_has_token("Connection", "upgrade")) return HandshakeStatus::missing_connection;
    const std::optional<std::string_view> accept = parser_.header("Sec-WebSocket-Accept");
    if (!accept) return HandshakeStatus::missing_accept;
    if (*accept != expected_accept_) return HandshakeStatus::bad_accept;
    // RFC 6455 section 4.1: the client must fail the connection if the server selects something it
    // did not ask for; we offer neither extensions nor subprotocols.
    if (parser_.header("Sec-WebSocket-Extensions")) return HandshakeStatus::unexpected_extension;
    if (parser_.header("Sec-WebSocket-Protocol")) return HandshakeStatus::unexpected_subprotocol;
    return HandshakeStatus::upgraded;
}

}  // namespace cbtrade::ws
