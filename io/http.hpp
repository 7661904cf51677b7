// io/http: HTTP/1.1 messages on the client side, independent of the transport: the request writer and
// a response parser (Boost.Beast's, behind this header) with limits on header and body size. Used by
// the WebSocket upgrade (feeds/ws_handshake) and the HTTP client (io/http_client.hpp).
//
// Neither TLS nor io_uring is involved here, so programs that use OpenSSL (cbtrade-sim) can link it
// too; Beast headers stay in http.cpp.
//
// Allocation: write_http_request appends to the caller's string and allocates nothing when its
// capacity suffices (a send buffer reserved once). The parser keeps Beast's header fields and the
// body in an arena made with it (32 KiB) and rewound for each response, and received pieces pass
// through a carry-over buffer reserved with it (20 KiB): an answer that fits allocates nothing (the
// exec thread reads order answers under the hot-path rules); a larger one spills to the heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cbtrade::io {

inline constexpr std::size_t default_http_header_limit = 8 * 1024;
inline constexpr std::size_t default_http_body_limit = 4 * 1024 * 1024;

// ------------------------------------------------------------------------------------------------
// Request writer

struct HttpHeaderView {
    std::string_view name;
    std::string_view value;
};

struct HttpRequest {
    std::string_view method = "GET";  // a token: GET, POST, DELETE...
    std::string_view target = "/";    // origin form: path and query; empty means "/"
    std::string_view host;            // Host header value, e.g. Url::host_header()
    std::span<const HttpHeaderView> headers;
    // Sent with a Content-Length; POST, PUT and PATCH always carry one (0 when empty).
    std::string_view body;
};

enum class HttpWriteStatus : std::uint8_t {
    ok,
    bad_method,        // not an HTTP token
    bad_target,        // empty after '/', not starting with '/', or holding a space or control byte
    bad_host,          // empty, or a control byte
    bad_header_name,   // not a token, or one the writer owns (Host, Content-Length, Transfer-Encoding)
    bad_header_value,  // CR, LF, NUL or another control byte: would split or smuggle a request
    no_memory,         // `out` had to grow and could not
};
[[nodiscard]] std::string_view to_string(HttpWriteStatus status) noexcept;

// Appends the request (request line, Host, the caller's headers, Content-Length, blank line, body)
// to `out`. On failure `out` is left as it was. Values come from configuration and callers: a CR or
// LF in one would split the request, so they are refused rather than sent.
[[nodiscard]] HttpWriteStatus write_http_request(const HttpRequest& request, std::string& out) noexcept;

// ------------------------------------------------------------------------------------------------
// Response parser

// The standard reason phrase of a status code ("Too Many Requests"), "" for an unknown one. Messages
// use it instead of the server's own phrase, which is outside text.
[[nodiscard]] std::string_view standard_reason(unsigned status) noexcept;

struct HttpResponseLimits {
    std::size_t header_bytes = default_http_header_limit;
    std::size_t body_bytes = default_http_body_limit;
};

enum class HttpParseStatus : std::uint8_t {
    incomplete,        // feed more bytes (or call finish_at_eof() when the peer closed)
    header_done,       // header-only mode (only there): the header is complete; what follows is not HTTP
    complete,          // the whole response (header and body, chunked or not) is there
    header_too_large,  // the header exceeded its limit
    body_too_large,    // the body exceeded its limit (Content-Length announced, or chunks summed)
    malformed,         // not a valid HTTP/1.x response (error_detail() says what Beast objected to)
    truncated,         // the peer closed before the response was complete
};
[[nodiscard]] std::string_view to_string(HttpParseStatus status) noexcept;

struct HttpParseResult {
    HttpParseStatus status = HttpParseStatus::incomplete;
    // Bytes of this call's input that belonged to the response. After header_done or complete,
    // input[consumed..] is what followed it (WebSocket frames after a 101, or stray bytes).
    std::size_t consumed = 0;
};

class HttpResponseParser {
public:
    // whole_message: header and body. header_only: stop after the header (a WebSocket upgrade, whose
    // following bytes are frames; the body of a refusal is not read).
    enum class Mode : std::uint8_t { whole_message, header_only };

    explicit HttpResponseParser(HttpResponseLimits limits = {}, Mode mode = Mode::whole_message);
    ~HttpResponseParser();
    HttpResponseParser(HttpResponseParser&&) noexcept;
    HttpResponseParser& operator=(HttpResponseParser&&) noexcept;

    // Feeds the next received bytes, in pieces of any size. Once the status is no longer
    // `incomplete` it stays as it is and later calls consume nothing.
    [[nodiscard]] HttpParseResult feed(std::span<const char> bytes);
    // The peer closed: a body delimited by the end of the connection is complete now; anything
    // else still incomplete becomes `truncated`.
    [[nodiscard]] HttpParseStatus finish_at_eof();
    // Ready for the next response on the same connection (keep-alive); limits and mode stay.
    void reset();

    [[nodiscard]] HttpParseStatus status() const noexcept { return status_; }
    // Beast's reason for `malformed` (e.g. "bad status"), empty otherwise.
    [[nodiscard]] const std::string& error_detail() const noexcept { return error_detail_; }

    // Valid once the header is done (header_done, complete, or body_too_large):
    [[nodiscard]] unsigned status_code() const noexcept;  // 0 before
    [[nodiscard]] std::string_view reason() const noexcept;
    [[nodiscard]] unsigned version() const noexcept;  // 11 for HTTP/1.1, 10 for HTTP/1.0
    // The first header field of that name (case-insensitive), if present.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
    // Whether a comma-separated header (Connection, Upgrade...) lists `token`, case-insensitively.
    [[nodiscard]] bool header_has_token(std::string_view name, std::string_view token) const noexcept;
    // Whether the server lets the connection be used for the next request (HTTP/1.1 without
    // "Connection: close", or HTTP/1.0 with keep-alive).
    [[nodiscard]] bool keep_alive() const noexcept;
    [[nodiscard]] bool chunked() const noexcept;
    // The body so far (all of it once complete), chunked framing removed.
    [[nodiscard]] std::string_view body() const noexcept;

private:
    struct Impl;
    HttpParseResult put_pending(std::size_t previously_pending);
    void start_parser();

    HttpResponseLimits limits_;
    Mode mode_;
    std::unique_ptr<Impl> impl_;
    // Received bytes Beast has not consumed yet: it takes a header only once it is complete, and a
    // chunk-size line only whole, so a partial one is handed to it again with the next piece.
    std::string pending_;
    std::size_t header_bytes_seen_ = 0;  // of the current response, consumed by Beast so far
    HttpParseStatus status_ = HttpParseStatus::incomplete;
    std::string error_detail_;
};

}  // namespace cbtrade::io
