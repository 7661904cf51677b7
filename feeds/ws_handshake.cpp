#include "feeds/ws_handshake.hpp"

#include "core/base64.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/asio/buffer.hpp>

#include <cstring>
#include <stdexcept>

namespace cbtrade::ws {

namespace http = boost::beast::http;

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

bool has_token(std::string_view list, std::string_view token) {
    for (const auto& item : http::token_list{list})
        if (boost::beast::iequals(item, token)) return true;
    return false;
}

std::string_view to_view(boost::beast::string_view s) noexcept {
    return {s.data(), s.size()};
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
    // Values come from configuration (host, path, User-Agent): a stray CR/LF would split the request.
    auto require_single_line = [](std::string_view what, std::string_view text) {
        if (text.find_first_of("\r\n") != std::string_view::npos)
            throw std::invalid_argument("WebSocket upgrade request: " + std::string(what) + " contains CR or LF");
    };
    require_single_line("host", request.host);
    require_single_line("target", request.target);
    for (const auto& header : request.extra_headers) {
        require_single_line("header name", header.name);
        require_single_line("header " + header.name, header.value);
    }

    std::string out;
    out.reserve(256);
    out.append("GET ").append(request.target.empty() ? "/" : request.target).append(" HTTP/1.1\r\n");
    out.append("Host: ").append(request.host).append("\r\n");
    out.append("Upgrade: websocket\r\n");
    out.append("Connection: Upgrade\r\n");
    out.append("Sec-WebSocket-Key: ").append(make_websocket_key(request.key_nonce)).append("\r\n");
    out.append("Sec-WebSocket-Version: 13\r\n");
    for (const auto& header : request.extra_headers)
        out.append(header.name).append(": ").append(header.value).append("\r\n");
    out.append("\r\n");
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

struct HandshakeResponseParser::BeastParser {
    http::response_parser<http::empty_body> parser;
};

HandshakeResponseParser::HandshakeResponseParser(std::string_view websocket_key, std::size_t header_limit)
    : expected_accept_(compute_accept_key(websocket_key)),
      header_limit_(header_limit),
      parser_(std::make_unique<BeastParser>()) {
    parser_->parser.header_limit(static_cast<std::uint32_t>(header_limit));
    // Stop right after the header: the body of a refusal does not interest us and the bytes after a
    // 101 are WebSocket frames, not HTTP.
    parser_->parser.eager(false);
}

HandshakeResponseParser::~HandshakeResponseParser() = default;

HandshakeFeedResult HandshakeResponseParser::feed(std::span<const char> bytes) {
    if (status_ != HandshakeStatus::incomplete) return {status_, 0};

    const std::size_t previously_pending = pending_.size();
    pending_.append(bytes.data(), bytes.size());

    boost::system::error_code ec;
    const std::size_t used = parser_->parser.put(boost::asio::const_buffer(pending_.data(), pending_.size()), ec);
    if (ec == http::error::need_more) {
        pending_.erase(0, used);  // Beast keeps nothing of a partial header today; stay correct if it does
        if (pending_.size() > header_limit_) status_ = HandshakeStatus::header_too_large;
        return {status_, bytes.size()};
    }
    if (ec == http::error::header_limit) {
        status_ = HandshakeStatus::header_too_large;
        return {status_, bytes.size()};
    }
    if (ec || !parser_->parser.is_header_done()) {
        status_ = HandshakeStatus::malformed_http;
        return {status_, bytes.size()};
    }
    // Beast consumed the whole header; bytes before this call were all header, so this call's share
    // of the header is whatever Beast used beyond them.
    status_ = check_header();
    pending_.clear();
    pending_.shrink_to_fit();
    return {status_, used - previously_pending};
}

HandshakeStatus HandshakeResponseParser::check_header() {
    const auto& response = parser_->parser.get();
    status_code_ = response.result_int();
    reason_ = std::string(to_view(response.reason()));
    if (status_code_ != 101) return HandshakeStatus::refused;
    if (response.version() != 11) return HandshakeStatus::malformed_http;

    const auto upgrade = response.find(http::field::upgrade);
    if (upgrade == response.end() || !has_token(upgrade->value(), "websocket")) return HandshakeStatus::missing_upgrade;
    const auto connection = response.find(http::field::connection);
    if (connection == response.end() || !has_token(connection->value(), "upgrade"))
        return HandshakeStatus::missing_connection;
    const auto accept = response.find(http::field::sec_websocket_accept);
    if (accept == response.end()) return HandshakeStatus::missing_accept;
    if (to_view(accept->value()) != expected_accept_) return HandshakeStatus::bad_accept;
    // RFC 6455 section 4.1: the client must fail the connection if the server selects something it
    // did not ask for; we offer neither extensions nor subprotocols.
    if (response.find(http::field::sec_websocket_extensions) != response.end())
        return HandshakeStatus::unexpected_extension;
    if (response.find(http::field::sec_websocket_protocol) != response.end())
        return HandshakeStatus::unexpected_subprotocol;
    return HandshakeStatus::upgraded;
}

}  // namespace cbtrade::ws
