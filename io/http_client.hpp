// io/http_client: an HTTP/1.1 client for one host (the REST API) over io::Connection (io_uring,
// TLS, deadlines, reconnects) and io/http.hpp (request writer, Beast response parser with limits).
//
// One request at a time on one warm keep-alive connection: the first request connects, later ones
// reuse the connection; a connection the server closed (while idle, or with "Connection: close")
// is replaced on the next request. Two ways to use it, on the thread that runs the UringLoop:
//
//   non-blocking (a pipeline stage):   client.start(request, now); ... client.poll(now) -> true;
//                                      HttpResult r = client.take();   (or, without copying:
//                                      client.failure(), client.answer(), client.release())
//   blocking (cold commands):          HttpResult r = client.request(request);
//
// Every outcome is an HttpResult, never an exception or a crash: an answer with any status (a
// status >= 400 also gets a one-line `error` with a short escaped excerpt of the body, whether JSON,
// plain text or an HTML page), or a failure that says whether the request may have reached the
// server (HttpFailure). Nothing is retried here: whether a request may be sent again is the
// caller's decision (an order must not be sent twice under a new id).
//
// Allocation: the send and receive buffers are made once (init), the parser's arena with the client
// (io/http.hpp). Once a connection is open, start() with at most 15 headers that fit the send buffer,
// poll() and an answer read through answer() and release() allocate nothing (the exec thread sends
// its orders so); take() copies the answer into an HttpResult, and a failure's message allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "io/connection.hpp"
#include "io/http.hpp"
#include "io/url.hpp"

namespace cbtrade::io {

struct HttpClientOptions {
    std::string ca_file;                       // TLS_CA_FILE; empty: the system bundle
    std::string ciphers;                       // TLS_CIPHERS (resolved); empty: wolfSSL's default
    std::uint32_t connect_timeout_ms = 5000;   // TCP connect, and then the TLS handshake, each
    std::uint32_t request_timeout_ms = 10000;  // default per request: start() to the whole answer
    HttpResponseLimits limits;                 // 8 KiB header, 4 MiB body
    std::string user_agent = "cbtrade/0.1";    // sent with every request (empty: none)
};

struct HttpClientRequest {
    std::string_view method = "GET";          // no HEAD: its answer has no body to wait for
    std::string_view target = "/";            // origin form: path and query
    std::span<const HttpHeaderView> headers;  // not Host, Content-Length or Transfer-Encoding
    std::string_view body;
    std::uint32_t timeout_ms = 0;  // 0: HttpClientOptions::request_timeout_ms
};

struct HttpResponse {
    unsigned status = 0;
    std::string content_type;                // "" when absent
    std::optional<std::string> retry_after;  // the Retry-After header (429, 503)
    std::string body;                        // chunked framing removed
};

// A finished request's answer in place (views into the client's parser): valid until release(),
// take() or the next start().
struct HttpAnswerView {
    unsigned status = 0;
    std::string_view content_type;  // "" when absent
    std::string_view retry_after;   // "" when absent
    std::string_view body;          // chunked framing removed
};

enum class HttpFailure : std::uint8_t {
    none,          // an answer arrived (any status)
    not_sent,      // nothing reached the server: an invalid request, resolve/connect/TLS failure or
                   // timeout before the request left. Safe to send again.
    no_answer,     // sent (maybe only in part), then the connection failed before a complete answer
    timeout,       // sent, and no complete answer before the request's deadline
    bad_response,  // an answer that is not HTTP/1.x, or whose header or body exceeds the limits
};
[[nodiscard]] std::string_view to_string(HttpFailure failure) noexcept;

struct HttpResult {
    HttpFailure failure = HttpFailure::not_sent;
    std::optional<HttpResponse> response;  // when failure is none
    // One printable line naming the host: what failed, or for a status >= 400 the status and a short
    // escaped excerpt of the body (an HTML page's <title>). Empty for a successful answer.
    std::string error;

    // An answer with a 2xx status.
    [[nodiscard]] bool ok() const noexcept {
        return failure == HttpFailure::none && response && response->status >= 200 && response->status < 300;
    }
};

class HttpClient {
public:
    // `base`: the host's URL (https://, or http:// to a loopback host); only scheme, host and port
    // are used: each request carries its own target.
    HttpClient(UringLoop& loop, Url base, HttpClientOptions options = {});
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Cold: resolves the host (blocking), loads the CA bundle, allocates the buffers. 0, or a
    // negative errno with a one-line reason; throws ConfigError for an unusable CA file or cipher list.
    [[nodiscard]] int init(std::string& error);

    // Begins a request. false (and nothing starts) while another request is in flight. The
    // request's bytes are copied: its views need not outlive the call.
    [[nodiscard]] bool start(const HttpClientRequest& request, std::int64_t now_ns);
    // Does the pending work without blocking; true once the result is ready for take(). Call it
    // regularly also while idle: it notices a keep-alive connection the server closed.
    [[nodiscard]] bool poll(std::int64_t now_ns) noexcept;
    // The finished request's result; the client is idle again.
    [[nodiscard]] HttpResult take();
    // Without copying (hot threads), once poll() returned true: how it ended, and the answer in place
    // when it ended with one (nullopt after a failure); release() then makes the client idle again.
    [[nodiscard]] HttpFailure failure() const noexcept { return result_.failure; }
    [[nodiscard]] std::optional<HttpAnswerView> answer() const noexcept;
    void release() noexcept;
    [[nodiscard]] bool busy() const noexcept { return phase_ != Phase::idle; }

    // Blocking convenience: start(), then poll() and sleep in io_uring until done. Not from a hot
    // thread.
    [[nodiscard]] HttpResult request(const HttpClientRequest& request);

    // Closes the connection (cold); a later request opens a new one.
    void close() noexcept;

    [[nodiscard]] const Url& base() const noexcept { return base_; }
    // A connection is open now (a request would go out without connecting first).
    [[nodiscard]] bool connected() const noexcept { return conn_.state() == Connection::State::open; }
    // Connections opened so far (1 while keep-alive holds).
    [[nodiscard]] std::uint64_t connections_opened() const noexcept { return connections_opened_; }

private:
    enum class Phase : std::uint8_t { idle, connecting, sending, receiving, done };

    void finish(HttpFailure failure, std::string error) noexcept;
    void finish_with_answer() noexcept;
    void watch_idle_connection(std::int64_t now_ns) noexcept;
    void step_connecting(std::int64_t now_ns) noexcept;
    void step_sending(std::int64_t now_ns) noexcept;
    void step_receiving(std::int64_t now_ns) noexcept;

    UringLoop& loop_;
    Url base_;
    HttpClientOptions options_;
    std::string host_header_;  // base_.host_header(), made once: start() allocates nothing for it
    Connection conn_;
    HttpResponseParser parser_;
    std::string tx_;
    std::size_t tx_sent_ = 0;
    std::unique_ptr<std::byte[]> rx_buf_;
    Phase phase_ = Phase::idle;
    std::int64_t deadline_ns_ = 0;
    std::uint64_t connections_opened_ = 0;
    HttpResult result_;
    bool answer_in_parser_ = false;  // the finished request's answer is in parser_ (not yet taken)
};

}  // namespace cbtrade::io
