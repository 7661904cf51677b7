// feeds/: the client side of the RFC 6455 opening handshake, transport-agnostic.
//
// build_upgrade_request() writes the HTTP/1.1 GET that asks for the upgrade (io/http.hpp's writer);
// HandshakeResponseParser reads the server's answer from decrypted bytes as they arrive (any piece
// sizes) with io/http.hpp's response parser, checks it, and tells the caller how many bytes belonged
// to the HTTP header: whatever follows in the same read is already WebSocket frames and goes to the
// frame parser.
//
// This runs once per connection (cold path): it allocates and uses std::string freely, but still
// reports failures as result codes so the connection code has one error style.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/http.hpp"

namespace cbtrade::ws {

// RFC 6455 section 1.3: the server proves it understood the handshake by hashing our key with this.
inline constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
inline constexpr std::size_t key_nonce_bytes = 16;
inline constexpr std::size_t default_response_header_limit = io::default_http_header_limit;

// SHA-1 is used here only as RFC 6455's handshake checksum, not for security.
[[nodiscard]] std::array<std::uint8_t, 20> sha1(std::string_view data) noexcept;
// Sec-WebSocket-Key value: base64 of 16 random bytes chosen by the caller.
[[nodiscard]] std::string make_websocket_key(std::span<const std::uint8_t, key_nonce_bytes> nonce);
// Sec-WebSocket-Accept the server must answer for `websocket_key`: base64(SHA-1(key + GUID)).
[[nodiscard]] std::string compute_accept_key(std::string_view websocket_key);

struct HttpHeader {
    std::string name;
    std::string value;
};

struct UpgradeRequest {
    std::string host;  // Host header: "advanced-trade-ws.coinbase.com" (add ":port" when not 443/80)
    std::string target = "/";
    std::array<std::uint8_t, key_nonce_bytes> key_nonce{};  // fresh random bytes per connection attempt
    std::vector<HttpHeader> extra_headers;                  // e.g. User-Agent, x-cb-retry-counter
};

// The request text, ending with the blank line. No Sec-WebSocket-Extensions is offered: Coinbase
// would otherwise compress with permessage-deflate, which costs more CPU per tick than it saves.
// Throws std::invalid_argument when a host, target or header contains CR or LF (cold path).
[[nodiscard]] std::string build_upgrade_request(const UpgradeRequest& request);

enum class HandshakeStatus : std::uint8_t {
    incomplete,              // header not complete yet: feed more bytes
    upgraded,                // 101 and every check passed; the connection speaks WebSocket now
    refused,                 // a status other than 101 (status_code() names it)
    missing_upgrade,         // no "Upgrade: websocket"
    missing_connection,      // no "upgrade" token in Connection
    missing_accept,          // no Sec-WebSocket-Accept
    bad_accept,              // Sec-WebSocket-Accept does not match our key
    unexpected_extension,    // server picked an extension we never offered
    unexpected_subprotocol,  // server picked a subprotocol we never offered
    header_too_large,        // the response header exceeded the configured limit
    malformed_http,          // not a parseable HTTP/1.1 response
};

[[nodiscard]] std::string_view to_string(HandshakeStatus status) noexcept;

struct HandshakeFeedResult {
    HandshakeStatus status = HandshakeStatus::incomplete;
    // Bytes of this call's input that belonged to the HTTP response header. When status is
    // `upgraded`, input[consumed..] are WebSocket frames that arrived in the same read.
    std::size_t consumed = 0;
};

class HandshakeResponseParser {
public:
    // `websocket_key` is the Sec-WebSocket-Key that was sent (make_websocket_key()).
    explicit HandshakeResponseParser(std::string_view websocket_key,
                                     std::size_t header_limit = default_response_header_limit);
    HandshakeResponseParser(const HandshakeResponseParser&) = delete;
    HandshakeResponseParser& operator=(const HandshakeResponseParser&) = delete;

    // Feed the next received bytes. Once the status is no longer `incomplete` it stays as it is and
    // later calls consume nothing.
    [[nodiscard]] HandshakeFeedResult feed(std::span<const char> bytes);

    [[nodiscard]] HandshakeStatus status() const noexcept { return status_; }
    // HTTP status code of the response (0 until the header is complete), e.g. 403 when refused.
    [[nodiscard]] unsigned status_code() const noexcept { return status_code_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

private:
    [[nodiscard]] HandshakeStatus check_header();

    std::string expected_accept_;
    io::HttpResponseParser parser_;
    HandshakeStatus status_ = HandshakeStatus::incomplete;
    unsigned status_code_ = 0;
    std::string reason_;
};

}  // namespace cbtrade::ws
