// io/url: the one parser for the URLs the project connects to (COINBASE_WS_URL, COINBASE_API_BASE,
// test servers): wss:// and https://, plus ws:// and http:// for loopback hosts only, so a token or
// signed request can never leave the machine unencrypted by a typo.
//
//   scheme://host[:port][/path][?query]      host: a DNS name, an IPv4 address or [IPv6]
//
// Refused, each with a one-line reason: another scheme, userinfo ('user:pass@'), an empty host, a
// port outside 1..65535, a fragment, control characters, spaces or non-ASCII bytes anywhere, a URL
// longer than max_url_bytes. Error messages quote only the scheme, host or port text (short and
// escaped, core/text.hpp), never the path or query: those can hold secrets (webhook tokens).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cbtrade::io {

inline constexpr std::size_t max_url_bytes = 2048;
inline constexpr std::size_t max_host_bytes = 253;  // a DNS name (RFC 1035)

enum class Scheme : std::uint8_t { wss, https, ws, http };

struct Url {
    Scheme scheme = Scheme::wss;
    std::string host;          // lower case; an IPv6 address without its brackets
    std::uint16_t port = 443;  // as written, or the scheme's default (443 with TLS, 80 without)
    std::string target = "/";  // path and query as sent in the request line; "/" when none

    [[nodiscard]] bool tls() const noexcept { return scheme == Scheme::wss || scheme == Scheme::https; }
    [[nodiscard]] bool websocket() const noexcept { return scheme == Scheme::wss || scheme == Scheme::ws; }
    [[nodiscard]] std::uint16_t default_port() const noexcept { return tls() ? 443 : 80; }
    // The Host header value: "host", or "host:port" when the port is not the default; IPv6 bracketed.
    [[nodiscard]] std::string host_header() const;
    // "host:port" for messages (IPv6 bracketed).
    [[nodiscard]] std::string authority() const;
};

struct UrlResult {
    std::optional<Url> url;
    std::string error;  // set when url is empty: one line, e.g. "port '99999' is out of range 1..65535"
    [[nodiscard]] explicit operator bool() const noexcept { return url.has_value(); }
};

// Whether http:// and ws:// may name a host other than loopback. Only BRIDGE_URL allows it: the
// earlier stack reached its bridge as http://bridge:8787 on a private container network, and
// nothing secret travels to the bridge (it holds the key; requests carry none).
enum class Plaintext : std::uint8_t { loopback_only, any_host };

// Any of the four schemes (plaintext ones for loopback hosts only, unless `plaintext` says any).
[[nodiscard]] UrlResult parse_url(std::string_view text, Plaintext plaintext = Plaintext::loopback_only);

// True for "localhost", 127.0.0.0/8 and ::1: the hosts a plaintext URL may name.
[[nodiscard]] bool is_loopback_host(std::string_view host) noexcept;

// For configuration keys (cold path): parses `value` and checks it is a WebSocket URL (`websocket`
// true: wss/ws) or an HTTP one (https/http). Throws ConfigError (exit 2) naming the key, e.g.
// "COINBASE_WS_URL: port '99999' is out of range 1..65535".
enum class UrlKind : std::uint8_t { websocket, http };
[[nodiscard]] Url parse_config_url(std::string_view key, std::string_view value, UrlKind kind,
                                   Plaintext plaintext = Plaintext::loopback_only);

// Percent-decoding of a query component ('+' is a space; a '%' not followed by two hex digits is
// kept as is).
[[nodiscard]] std::string percent_decode(std::string_view text);
// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}} in order (a key without '=' has an empty value; empty
// items are skipped). At most `max_items` items; nullopt when there are more (a server's limit).
[[nodiscard]] std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query,
                                                                                          std::size_t max_items = 64);

}  // namespace cbtrade::io
