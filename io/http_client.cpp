// HTTP/1.1 client for one host. See http_client.hpp.
#include "io/http_client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/cpu.hpp"
#include "core/text.hpp"

namespace cbtrade::io {

namespace {

constexpr std::size_t rx_buffer_bytes = 16 * 1024;  // one TLS record
constexpr std::size_t tx_reserve_bytes = 16 * 1024;
constexpr std::size_t excerpt_bytes = 80;

ConnectionOptions connection_options(const Url& url, const HttpClientOptions& o) {
    ConnectionOptions co = ConnectionOptions::for_url(url);
    co.ca_file = o.ca_file;
    co.ciphers = o.ciphers;
    co.connect_timeout_ms = o.connect_timeout_ms;
    co.handshake_timeout_ms = o.connect_timeout_ms;
    // Short: a request waits for the retry delay only within its own deadline; retry policy with
    // longer waits is the caller's.
    co.backoff_initial_ms = 50;
    co.backoff_max_ms = 2000;
    return co;
}

// What an error line shows of a body: an HTML page's <title> (a 429 page says little else in its
// first bytes), otherwise the start of the body; always short and escaped.
std::string body_excerpt(std::string_view content_type, std::string_view body) {
    if (body.empty()) return "(empty body)";
    if (ascii_ifind(content_type, "html") != std::string_view::npos ||
        ascii_ifind(body.substr(0, 64), "<html") != std::string_view::npos ||
        ascii_ifind(body.substr(0, 64), "<!doctype") != std::string_view::npos) {
        const std::size_t open = ascii_ifind(body, "<title>");
        if (open != std::string_view::npos) {
            const std::string_view rest = body.substr(open + 7);
            const std::size_t close = ascii_ifind(rest, "</title>");
            return "HTML page titled " + quote_for_message(rest.substr(0, close), excerpt_bytes);
        }
    }
    return quote_for_message(body, excerpt_bytes);
}

}  // namespace

std::string_view to_string(HttpFailure failure) noexcept {
    switch (failure) {
        case HttpFailure::none:
            return "none";
        case HttpFailure::not_sent:
            return "not sent";
        case HttpFailure::no_answer:
            return "no answer";
        case HttpFailure::timeout:
            return "timeout";
        case HttpFailure::bad_response:
            return "bad response";
    }
    return "?";
}

HttpClient::HttpClient(UringLoop& loop, Url base, HttpClientOptions options)
    : loop_(loop),
      base_(std::move(base)),
      options_(std::move(options)),
      host_header_(base_.host_header()),
      conn_(loop, connection_options(base_, options_)),
      parser_(options_.limits) {}

HttpClient::~HttpClient() = default;

int HttpClient::init(std::string& error) {
    tx_.reserve(tx_reserve_bytes);
    rx_buf_ = std::make_unique<std::byte[]>(rx_buffer_bytes);
    return conn_.start(error);
}

void HttpClient::finish(HttpFailure failure, std::string error) noexcept {
    result_.failure = failure;
    result_.response.reset();
    result_.error = std::move(error);
    phase_ = Phase::done;
}

void HttpClient::finish_with_answer() noexcept {
    // The answer stays in the parser (no copy, no allocation): answer() shows it in place, take()
    // copies it out.
    result_.failure = HttpFailure::none;
    result_.response.reset();
    result_.error.clear();
    answer_in_parser_ = true;
    conn_.reset_backoff();  // the server answered: the connection is healthy
    phase_ = Phase::done;
}

std::optional<HttpAnswerView> HttpClient::answer() const noexcept {
    if (phase_ != Phase::done || !answer_in_parser_) return std::nullopt;
    HttpAnswerView v;
    v.status = parser_.status_code();
    v.content_type = parser_.header("Content-Type").value_or(std::string_view());
    v.retry_after = parser_.header("Retry-After").value_or(std::string_view());
    v.body = parser_.body();
    return v;
}

void HttpClient::release() noexcept {
    if (phase_ == Phase::done) phase_ = Phase::idle;
}

bool HttpClient::start(const HttpClientRequest& request, std::int64_t now_ns) {
    if (phase_ != Phase::idle) return false;
    result_ = HttpResult{};
    answer_in_parser_ = false;
    tx_.clear();
    tx_sent_ = 0;
    if (!rx_buf_) {
        finish(HttpFailure::not_sent, "HTTP client for " + base_.authority() + ": init() was not called");
        return true;
    }
    if (request.method == "HEAD") {
        finish(HttpFailure::not_sent, "HTTP request to " + conn_.authority() + ": HEAD is not supported");
        return true;
    }
    // The caller's headers plus User-Agent; a vector only when there are many.
    HttpHeaderView small[16];
    std::vector<HttpHeaderView> many;
    std::span<const HttpHeaderView> headers = request.headers;
    if (!options_.user_agent.empty()) {
        if (request.headers.size() < std::size(small)) {
            std::copy(request.headers.begin(), request.headers.end(), small);
            small[request.headers.size()] = {"User-Agent", options_.user_agent};
            headers = {small, request.headers.size() + 1};
        } else {
            many.assign(request.headers.begin(), request.headers.end());
            many.push_back({"User-Agent", options_.user_agent});
            headers = many;
        }
    }
    HttpRequest http;
    http.method = request.method;
    http.target = request.target;
    http.host = host_header_;
    http.headers = headers;
    http.body = request.body;
    if (const HttpWriteStatus s = write_http_request(http, tx_); s != HttpWriteStatus::ok) {
        finish(HttpFailure::not_sent,
               "HTTP request to " + conn_.authority() + " not sent: " + std::string(to_string(s)));
        return true;
    }
    const std::uint32_t timeout_ms = request.timeout_ms != 0 ? request.timeout_ms : options_.request_timeout_ms;
    deadline_ns_ = now_ns + static_cast<std::int64_t>(timeout_ms) * 1'000'000;
    parser_.reset();
    phase_ = Phase::connecting;
    return true;
}

void HttpClient::step_connecting(std::int64_t now_ns) noexcept {
    if (conn_.state() == Connection::State::open) {
        // A kept-alive connection: if the server closed it (or said anything) while it was idle,
        // replace it now, before the request goes out on a dead connection.
        if (conn_.input_pending()) {
            conn_.drop(now_ns, Connection::Retry::immediately);
        } else {
            phase_ = Phase::sending;
            return;
        }
    }
    if (conn_.state() == Connection::State::failed) {
        finish(HttpFailure::not_sent, conn_.error());
        return;
    }
    conn_.open();
    switch (conn_.advance(now_ns)) {
        case Connection::Event::opened:
            ++connections_opened_;
            phase_ = Phase::sending;
            return;
        case Connection::Event::attempt_failed:
        case Connection::Event::failed_for_good:
            // No reconnecting in the background: the next request asks again.
            conn_.drop(now_ns, Connection::Retry::on_request);
            finish(HttpFailure::not_sent, conn_.error());
            return;
        case Connection::Event::none:
            break;
    }
    // Waiting out a retry delay that ends after the deadline helps nobody: fail now.
    const bool hopeless = conn_.state() == Connection::State::waiting && conn_.next_attempt_ns() > deadline_ns_;
    if (now_ns > deadline_ns_ || hopeless) {
        conn_.drop(now_ns, Connection::Retry::on_request);
        std::string why = "connect to " + conn_.authority() + ": no connection before the request's deadline";
        if (conn_.error()[0] != '\0') why += " (last failure: " + std::string(conn_.error()) + ")";
        finish(HttpFailure::not_sent, std::move(why));
    }
}

void HttpClient::step_sending(std::int64_t now_ns) noexcept {
    while (tx_sent_ < tx_.size()) {
        const long n = conn_.write({reinterpret_cast<const std::byte*>(tx_.data()) + tx_sent_, tx_.size() - tx_sent_});
        if (n > 0) {
            tx_sent_ += static_cast<std::size_t>(n);
            continue;
        }
        if (n == -EAGAIN) break;  // the send buffers are full: wait for the kernel to take them
        conn_.drop(now_ns, Connection::Retry::on_request);
        finish(tx_sent_ == 0 ? HttpFailure::not_sent : HttpFailure::no_answer,
               "send to " + conn_.authority() + " failed: " + conn_.error());
        return;
    }
    (void)loop_.poll();  // hand the bytes to the kernel now
    if (tx_sent_ == tx_.size()) {
        phase_ = Phase::receiving;
        return;
    }
    if (now_ns > deadline_ns_) {
        conn_.drop(now_ns, Connection::Retry::on_request);
        finish(HttpFailure::timeout, "send to " + conn_.authority() + " did not finish before the deadline");
    }
}

void HttpClient::step_receiving(std::int64_t now_ns) noexcept {
    while (conn_.input_pending()) {
        const long n = conn_.read({rx_buf_.get(), rx_buffer_bytes});
        if (n == -EAGAIN) break;
        if (n < 0) {  // the server closed, or the connection failed
            const std::string why = conn_.error();
            conn_.drop(now_ns, Connection::Retry::on_request);
            if (parser_.finish_at_eof() == HttpParseStatus::complete) {  // a body that ends with the connection
                finish_with_answer();
                return;
            }
            finish(HttpFailure::no_answer,
                   "connection to " + conn_.authority() + " ended before a complete answer: " + why);
            return;
        }
        const auto bytes =
            std::span<const char>(reinterpret_cast<const char*>(rx_buf_.get()), static_cast<std::size_t>(n));
        const HttpParseResult r = parser_.feed(bytes);
        switch (r.status) {
            case HttpParseStatus::incomplete:
                continue;
            case HttpParseStatus::complete:
                // Bytes after the answer were never asked for: the connection is not trusted again.
                if (!parser_.keep_alive() || r.consumed < bytes.size())
                    conn_.drop(now_ns, Connection::Retry::on_request);
                finish_with_answer();
                return;
            case HttpParseStatus::header_too_large:
            case HttpParseStatus::body_too_large:
            case HttpParseStatus::malformed:
            case HttpParseStatus::truncated:
            case HttpParseStatus::header_done: {
                conn_.drop(now_ns, Connection::Retry::on_request);
                std::string why = "bad answer from " + conn_.authority() + ": " + std::string(to_string(r.status));
                if (r.status == HttpParseStatus::body_too_large)
                    why += " (limit " + std::to_string(options_.limits.body_bytes) + " bytes)";
                if (!parser_.error_detail().empty()) why += " (" + parser_.error_detail() + ")";
                finish(HttpFailure::bad_response, std::move(why));
                return;
            }
        }
    }
    if (now_ns > deadline_ns_) {
        conn_.drop(now_ns, Connection::Retry::on_request);
        finish(HttpFailure::timeout, "no complete answer from " + conn_.authority() + " before the deadline");
    }
}

void HttpClient::watch_idle_connection(std::int64_t now_ns) noexcept {
    (void)conn_.advance(now_ns);  // lets a closing connection finish going away
    if (conn_.state() != Connection::State::open || !conn_.input_pending()) return;
    // Nothing was asked: bytes now are a close (or garbage). Either way this connection is done.
    conn_.drop(now_ns, Connection::Retry::on_request);
}

bool HttpClient::poll(std::int64_t now_ns) noexcept {
    (void)loop_.poll();
    for (int guard = 0; guard < 4; ++guard) {
        const Phase before = phase_;
        switch (phase_) {
            case Phase::idle:
                watch_idle_connection(now_ns);
                return false;
            case Phase::connecting:
                step_connecting(now_ns);
                break;
            case Phase::sending:
                step_sending(now_ns);
                break;
            case Phase::receiving:
                step_receiving(now_ns);
                break;
            case Phase::done:
                return true;
        }
        if (phase_ == before) break;
    }
    return phase_ == Phase::done;
}

HttpResult HttpClient::take() {
    if (phase_ != Phase::done) return {HttpFailure::not_sent, std::nullopt, "no finished request to take"};
    phase_ = Phase::idle;
    if (answer_in_parser_) {
        answer_in_parser_ = false;
        HttpResponse r;
        r.status = parser_.status_code();
        if (const auto type = parser_.header("Content-Type")) r.content_type = std::string(*type);
        if (const auto retry = parser_.header("Retry-After")) r.retry_after = std::string(*retry);
        r.body = std::string(parser_.body());
        if (r.status >= 400) {
            const std::string_view reason = standard_reason(r.status);
            result_.error = "HTTP " + std::to_string(r.status) + (reason.empty() ? "" : " ") + std::string(reason) +
                            " from " + conn_.authority() + ": " + body_excerpt(r.content_type, r.body);
        }
        result_.response = std::move(r);
    }
    return std::move(result_);
}

HttpResult HttpClient::request(const HttpClientRequest& request) {
    if (!start(request, now_ns())) return {HttpFailure::not_sent, std::nullopt, "another request is in flight"};
    while (!poll(now_ns())) (void)loop_.wait(1'000'000);
    return take();
}

void HttpClient::close() noexcept {
    conn_.close();
    if (phase_ == Phase::connecting || phase_ == Phase::sending || phase_ == Phase::receiving)
        finish(tx_sent_ == 0 ? HttpFailure::not_sent : HttpFailure::no_answer, "closed by the caller");
}

}  // namespace cbtrade::io
