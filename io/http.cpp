// HTTP/1.1 request writer and Beast-backed response parser. See http.hpp.
#include "io/http.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <charconv>
#include <memory_resource>

#include "core/text.hpp"

namespace cbtrade::io {

namespace beast_http = boost::beast::http;

namespace {

// RFC 9110 section 5.6.2 tchar.
bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return extra.find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// Printable ASCII without space: what a target or Host value may hold (non-ASCII must be
// percent-encoded by whoever built it).
bool is_visible_ascii(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c > 0x20 && c < 0x7f;
    });
}

// Field values may hold spaces, tabs and obs-text, but no control byte: CR or LF would end the field.
bool is_field_value(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c == '\t' || (c >= 0x20 && c != 0x7f);
    });
}

bool writer_owned_header(std::string_view name) noexcept {
    return ascii_iequals(name, "Host") || ascii_iequals(name, "Content-Length") ||
           ascii_iequals(name, "Transfer-Encoding");
}

std::string_view to_view(boost::beast::string_view s) noexcept {
    return {s.data(), s.size()};
}

}  // namespace

std::string_view to_string(HttpWriteStatus status) noexcept {
    switch (status) {
        case HttpWriteStatus::ok:
            return "ok";
        case HttpWriteStatus::bad_method:
            return "the method is not an HTTP token";
        case HttpWriteStatus::bad_target:
            return "the target is not an origin-form path (a space, control byte or missing '/')";
        case HttpWriteStatus::bad_host:
            return "the Host value is empty or holds a space or control byte";
        case HttpWriteStatus::bad_header_name:
            return "a header name is not a token, or is one the writer sets itself";
        case HttpWriteStatus::bad_header_value:
            return "a header value holds CR, LF or another control byte";
        case HttpWriteStatus::no_memory:
            return "no memory for the request";
    }
    return "unknown request error";
}

HttpWriteStatus write_http_request(const HttpRequest& request, std::string& out) noexcept {
    const std::string_view target = request.target.empty() ? std::string_view("/") : request.target;
    if (!is_token(request.method)) return HttpWriteStatus::bad_method;
    if (target.front() != '/' || !is_visible_ascii(target)) return HttpWriteStatus::bad_target;
    if (request.host.empty() || !is_visible_ascii(request.host)) return HttpWriteStatus::bad_host;
    for (const auto& h : request.headers) {
        if (!is_token(h.name) || writer_owned_header(h.name)) return HttpWriteStatus::bad_header_name;
        if (!is_field_value(h.value)) return HttpWriteStatus::bad_header_value;
    }
    const bool with_length =
        !request.body.empty() || request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
    char length[24];
    const auto [length_end, ec] = std::to_chars(length, length + sizeof length, request.body.size());
    (void)ec;  // 24 digits hold any size_t

    // Every check passed: from here on only appends, which allocate only if `out` lacks the capacity.
    const std::size_t original_size = out.size();
    try {
        out.append(request.method).append(" ").append(target).append(" HTTP/1.1\r\n");
        out.append("Host: ").append(request.host).append("\r\n");
        for (const auto& h : request.headers) out.append(h.name).append(": ").append(h.value).append("\r\n");
        if (with_length) out.append("Content-Length: ").append(length, length_end).append("\r\n");
        out.append("\r\n").append(request.body);
    } catch (...) {  // std::bad_alloc
        out.resize(original_size);
        return HttpWriteStatus::no_memory;
    }
    return HttpWriteStatus::ok;
}

std::string_view standard_reason(unsigned status) noexcept {
    if (status < 100 || status > 599) return {};
    const auto known = beast_http::int_to_status(status);
    if (known == beast_http::status::unknown) return {};
    return to_view(beast_http::obsolete_reason(known));
}

std::string_view to_string(HttpParseStatus status) noexcept {
    switch (status) {
        case HttpParseStatus::incomplete:
            return "incomplete";
        case HttpParseStatus::header_done:
            return "header complete";
        case HttpParseStatus::complete:
            return "complete";
        case HttpParseStatus::header_too_large:
            return "response header too large";
        case HttpParseStatus::body_too_large:
            return "response body too large";
        case HttpParseStatus::malformed:
            return "malformed HTTP response";
        case HttpParseStatus::truncated:
            return "connection closed before the response was complete";
    }
    return "unknown parse status";
}

// Beast's header fields and the body live in an arena made once per parser and rewound for each
// response: an answer that fits (arena_bytes: every order, keep-alive and clock answer does)
// allocates nothing, so the exec thread can read its order answers under the hot-path rules. A
// larger answer (candle pages, account lists on cold paths) spills to the heap, freed at the rewind.
namespace {
constexpr std::size_t pending_reserve_bytes = 20 * 1024;
}  // namespace

struct HttpResponseParser::Impl {
    static constexpr std::size_t arena_bytes = 32 * 1024;
    using Alloc = std::pmr::polymorphic_allocator<char>;
    using Body = beast_http::basic_string_body<char, std::char_traits<char>, Alloc>;
    using Parser = beast_http::response_parser<Body, Alloc>;

    Impl() : buffer(std::make_unique<std::byte[]>(arena_bytes)), arena(buffer.get(), arena_bytes) {}

    std::unique_ptr<std::byte[]> buffer;
    std::pmr::monotonic_buffer_resource arena;  // over `buffer`, then the heap
    std::optional<Parser> parser;
};

HttpResponseParser::HttpResponseParser(HttpResponseLimits limits, Mode mode)
    : limits_(limits), mode_(mode), impl_(std::make_unique<Impl>()) {
    // Received pieces (up to a 16 KiB TLS record) pass through pending_: reserved once, so appending
    // one never allocates.
    pending_.reserve(pending_reserve_bytes);
    start_parser();
}

HttpResponseParser::~HttpResponseParser() = default;
HttpResponseParser::HttpResponseParser(HttpResponseParser&&) noexcept = default;
HttpResponseParser& HttpResponseParser::operator=(HttpResponseParser&&) noexcept = default;

void HttpResponseParser::start_parser() {
    // A Beast parser reads one message; keep-alive makes a fresh one per response, in the rewound arena.
    impl_->parser.reset();
    impl_->arena.release();
    const Impl::Alloc alloc(&impl_->arena);
    auto& p = impl_->parser.emplace(std::piecewise_construct, std::make_tuple(alloc), std::make_tuple(alloc));
    p.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limits_.header_bytes, UINT32_MAX)));
    p.body_limit(static_cast<std::uint64_t>(limits_.body_bytes));
    // Not eager until the header is done (put_pending counts header bytes, then turns it on for the
    // body in whole_message mode; header_only mode stops there: after a 101 come WebSocket frames).
    p.eager(false);
    header_bytes_seen_ = 0;
}

void HttpResponseParser::reset() {
    start_parser();
    pending_.clear();
    status_ = HttpParseStatus::incomplete;
    error_detail_.clear();
}

HttpParseResult HttpResponseParser::feed(std::span<const char> bytes) {
    if (status_ != HttpParseStatus::incomplete) return {status_, 0};
    const std::size_t previously_pending = pending_.size();
    pending_.append(bytes.data(), bytes.size());
    HttpParseResult r = put_pending(previously_pending);
    if (r.status == HttpParseStatus::incomplete || r.status == HttpParseStatus::header_too_large ||
        r.status == HttpParseStatus::body_too_large || r.status == HttpParseStatus::malformed)
        r.consumed = bytes.size();
    return r;
}

HttpParseResult HttpResponseParser::put_pending(std::size_t previously_pending) {
    auto& p = *impl_->parser;
    boost::system::error_code ec;
    bool header_too_large = false;
    bool bad_status = false;
    std::size_t used = 0;
    while (used < pending_.size() || (used == 0 && pending_.empty())) {
        const bool header_was_done = p.is_header_done();
        const std::size_t n = p.put(boost::asio::const_buffer(pending_.data() + used, pending_.size() - used), ec);
        used += n;
        // Beast is not eager until the header is done, so it stops right after it: these are header bytes.
        if (!header_was_done) header_bytes_seen_ += n;
        // Beast applies its header limit to the start line and the fields separately, and only when
        // a piece ends inside them: count the whole header here so the limit holds exactly, however
        // the bytes arrived, and before any verdict on what the header announced.
        if (!header_was_done && header_bytes_seen_ > limits_.header_bytes) {
            header_too_large = true;
            break;
        }
        if (ec == beast_http::error::need_more) {
            ec = {};
            break;
        }
        if (ec) break;
        if (!header_was_done && p.is_header_done()) {
            // Beast takes any three digits; HTTP defines 1xx..5xx and a client can act on no other.
            if (const unsigned code = p.get().result_int(); code < 100 || code > 599) {
                bad_status = true;
                break;
            }
            if (mode_ == Mode::header_only) break;
            p.eager(true);  // the body: as much as the bytes allow, in one call
        }
        if (p.is_done() || n == 0) break;
    }

    if (header_too_large || ec == beast_http::error::header_limit) {
        status_ = HttpParseStatus::header_too_large;
    } else if (ec == beast_http::error::body_limit) {
        status_ = HttpParseStatus::body_too_large;
    } else if (ec) {
        status_ = HttpParseStatus::malformed;
        error_detail_ = ec.message();
    } else if (bad_status) {
        status_ = HttpParseStatus::malformed;
        error_detail_ = "status code " + std::to_string(p.get().result_int()) + " outside 100..599";
    } else if (mode_ == Mode::header_only && p.is_header_done()) {
        status_ = HttpParseStatus::header_done;  // also for a response that has no body (101, 204)
    } else if (p.is_done()) {
        status_ = HttpParseStatus::complete;
    }
    if (status_ != HttpParseStatus::incomplete) {
        const std::size_t consumed = used > previously_pending ? used - previously_pending : 0;
        pending_.clear();
        return {status_, consumed};
    }

    pending_.erase(0, used);
    // A partial header, or a partial chunk-size line (which Beast does not bound at all), waits here
    // for the next piece: bound it, so a peer that never ends a line cannot grow this buffer.
    if (!p.is_header_done() && header_bytes_seen_ + pending_.size() > limits_.header_bytes) {
        status_ = HttpParseStatus::header_too_large;
        pending_.clear();
    } else if (pending_.size() > limits_.header_bytes) {
        status_ = HttpParseStatus::malformed;
        error_detail_ = "chunk-size line longer than " + std::to_string(limits_.header_bytes) + " bytes";
        pending_.clear();
    }
    return {status_, 0};
}

HttpParseStatus HttpResponseParser::finish_at_eof() {
    if (status_ != HttpParseStatus::incomplete) return status_;
    auto& p = *impl_->parser;
    boost::system::error_code ec;
    if (pending_.empty() && p.is_header_done()) p.put_eof(ec);
    status_ = !pending_.empty() || !p.is_header_done() || ec || !p.is_done() ? HttpParseStatus::truncated
                                                                             : HttpParseStatus::complete;
    pending_.clear();
    return status_;
}

unsigned HttpResponseParser::status_code() const noexcept {
    const auto& p = *impl_->parser;
    return p.is_header_done() ? p.get().result_int() : 0;
}

std::string_view HttpResponseParser::reason() const noexcept {
    const auto& p = *impl_->parser;
    return p.is_header_done() ? to_view(p.get().reason()) : std::string_view();
}

unsigned HttpResponseParser::version() const noexcept {
    const auto& p = *impl_->parser;
    return p.is_header_done() ? p.get().version() : 0;
}

std::optional<std::string_view> HttpResponseParser::header(std::string_view name) const noexcept {
    const auto& p = *impl_->parser;
    if (!p.is_header_done()) return std::nullopt;
    const auto& m = p.get();
    const auto it = m.find(boost::beast::string_view(name.data(), name.size()));
    if (it == m.end()) return std::nullopt;
    return to_view(it->value());
}

bool HttpResponseParser::header_has_token(std::string_view name, std::string_view token) const noexcept {
    const std::optional<std::string_view> value = header(name);
    if (!value) return false;
    for (const auto& item : beast_http::token_list{boost::beast::string_view(value->data(), value->size())})
        if (ascii_iequals(to_view(item), token)) return true;
    return false;
}

bool HttpResponseParser::keep_alive() const noexcept {
    const auto& p = *impl_->parser;
    return p.is_header_done() && p.keep_alive();
}

bool HttpResponseParser::chunked() const noexcept {
    const auto& p = *impl_->parser;
    return p.is_header_done() && p.chunked();
}

std::string_view HttpResponseParser::body() const noexcept {
    const auto& b = impl_->parser->get().body();
    return {b.data(), b.size()};
}

}  // namespace cbtrade::io
