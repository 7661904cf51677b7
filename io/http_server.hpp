// io/http_server: the one small HTTP/1.1 server of the project (Boost.Beast + Asio, on a thread of
// its own), shared by the metrics endpoint (monitoring/metrics_server.hpp) and `cbtrade bridge`
// (bridge/bridge_server.hpp). What it guarantees whatever the handler does:
//   - a request must arrive whole (request line, headers, body) within request_timeout, and its
//     header and body within their size limits, or the connection is closed without an answer;
//   - idle connections are held cheaply and the one idle the longest is closed first when the
//     connection cap (or the process's file limit) is reached, so reopened or idle sockets cannot
//     keep a new client out; a newcomer is refused only when every connection is mid-request;
//   - keep-alive and pipelining as HTTP/1.1 says.
// The handler runs on the server thread, one request at a time: it may block (the bridge calls the
// exchange), which delays the other connections' answers but never their deadlines' bookkeeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace cbtrade::io {

// One request, as the handler sees it (views valid during the call).
struct HttpServerRequest {
    std::string_view method;        // "GET", "POST", ...
    std::string_view target;        // origin form, path and query
    std::string_view content_type;  // "" when absent
    std::string_view body;
    // The path (target without its query) and the query (without '?', "" when none).
    [[nodiscard]] std::string_view path() const noexcept { return target.substr(0, target.find('?')); }
    [[nodiscard]] std::string_view query() const noexcept {
        const std::size_t q = target.find('?');
        return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    }
};

struct HttpServerResponse {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string allow;  // the Allow header (405 answers); empty: none
};

using HttpHandler = std::function<HttpServerResponse(const HttpServerRequest&)>;

struct HttpServerOptions {
    std::string address = "127.0.0.1";  // an IP address or host name
    std::uint16_t port = 0;             // 0 picks a free port (see port())
    // Open connections held at most. Idle ones (no request in progress) cost a socket and about a
    // kilobyte; when the cap (or the process's file limit) is reached, the connection idle the
    // longest is closed to make room, so hundreds of idle or reopened sockets cannot keep a scrape
    // out. A newcomer is refused only when every connection is in the middle of a request.
    std::size_t max_connections = 4096;
    // A connection with no request in progress (new, or kept alive between requests).
    std::chrono::milliseconds idle_timeout{60000};
    // From a request's first byte to the end of its request line, headers and body, and again to
    // send the reply: short, so a client that trickles its headers holds its slot only briefly.
    std::chrono::milliseconds request_timeout{2000};
    std::size_t header_limit = 8 * 1024;
    std::size_t body_limit = 4 * 1024;         // a larger body closes the connection unanswered
    int nice = 10;                             // the server thread's nice value
    std::string thread_name = "cbtrade-http";  // at most 15 characters (Linux)
};

class HttpServer {
public:
    HttpServer(HttpHandler handler, HttpServerOptions options);
    ~HttpServer();  // stops
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens on the caller's thread, then serves on a new thread. "" on success, else one
    // line naming the address and port ("cannot listen on 127.0.0.1:8080: bind: Address in use").
    [[nodiscard]] std::string start();
    // Stops serving and joins the thread; open connections are closed. Idempotent.
    void stop() noexcept;
    // The bound port (the real one when options.port was 0); 0 before start().
    [[nodiscard]] std::uint16_t port() const noexcept;
    // Idle connections closed to make room for a new one (read from any thread).
    [[nodiscard]] std::uint64_t idle_dropped() const noexcept;

    struct Impl;  // opaque: keeps Boost out of this header

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace cbtrade::io
