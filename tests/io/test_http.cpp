// io/http: the request writer (checked against Beast's own request parser) and the response parser
// wrapper: pieces of any size, chunked bodies, limits, malformed and truncated answers, keep-alive.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "io/http.hpp"

namespace cbtrade::io {
namespace {

// ------------------------------------------------------------------------------------------------
// Writer

HttpRequest request(std::string_view method, std::string_view target, std::string_view host,
                    std::span<const HttpHeaderView> headers = {}, std::string_view body = {}) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.host = host;
    r.headers = headers;
    r.body = body;
    return r;
}

TEST(HttpRequestWriter, get_has_request_line_host_and_headers_without_a_length) {
    const std::vector<HttpHeaderView> headers{{"Authorization", "Bearer abc.def"}, {"User-Agent", "cbtrade/0.1"}};
    std::string out;
    ASSERT_EQ(
        write_http_request(request("GET", "/api/v3/brokerage/accounts?limit=250", "api.coinbase.com", headers), out),
        HttpWriteStatus::ok);
    EXPECT_EQ(out,
              "GET /api/v3/brokerage/accounts?limit=250 HTTP/1.1\r\n"
              "Host: api.coinbase.com\r\n"
              "Authorization: Bearer abc.def\r\n"
              "User-Agent: cbtrade/0.1\r\n"
              "\r\n");
}

TEST(HttpRequestWriter, post_carries_content_length_even_when_empty) {
    std::string out;
    ASSERT_EQ(write_http_request(request("POST", "/o", "h", {}, R"({"a":1})"), out), HttpWriteStatus::ok);
    EXPECT_EQ(out, "POST /o HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
    out.clear();
    ASSERT_EQ(write_http_request(request("POST", "/o", "h"), out), HttpWriteStatus::ok);
    EXPECT_EQ(out, "POST /o HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    out.clear();
    ASSERT_EQ(write_http_request(request("GET", "", "h"), out), HttpWriteStatus::ok);
    EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
}

TEST(HttpRequestWriter, refuses_what_would_split_or_smuggle_a_request_and_leaves_out_as_it_was) {
    const std::string before = "kept";
    auto write = [&](const HttpRequest& r) {
        std::string out = before;
        const HttpWriteStatus s = write_http_request(r, out);
        EXPECT_EQ(out, before);
        return s;
    };
    const std::vector<HttpHeaderView> crlf{{"X-A", "1\r\nX-Injected: 2"}};
    const std::vector<HttpHeaderView> lf{{"X-A", "1\nX"}};
    const std::vector<HttpHeaderView> nul{{"X-A", std::string_view("a\0b", 3)}};
    const std::vector<HttpHeaderView> bad_name{{"X A", "1"}};
    const std::vector<HttpHeaderView> empty_name{{"", "1"}};
    const std::vector<HttpHeaderView> host{{"host", "evil"}};
    const std::vector<HttpHeaderView> length{{"Content-Length", "0"}};
    const std::vector<HttpHeaderView> te{{"Transfer-Encoding", "chunked"}};
    EXPECT_EQ(write(request("GET", "/", "h", crlf)), HttpWriteStatus::bad_header_value);
    EXPECT_EQ(write(request("GET", "/", "h", lf)), HttpWriteStatus::bad_header_value);
    EXPECT_EQ(write(request("GET", "/", "h", nul)), HttpWriteStatus::bad_header_value);
    EXPECT_EQ(write(request("GET", "/", "h", bad_name)), HttpWriteStatus::bad_header_name);
    EXPECT_EQ(write(request("GET", "/", "h", empty_name)), HttpWriteStatus::bad_header_name);
    EXPECT_EQ(write(request("GET", "/", "h", host)), HttpWriteStatus::bad_header_name);
    EXPECT_EQ(write(request("GET", "/", "h", length)), HttpWriteStatus::bad_header_name);
    EXPECT_EQ(write(request("GET", "/", "h", te)), HttpWriteStatus::bad_header_name);
    EXPECT_EQ(write(request("GE T", "/", "h")), HttpWriteStatus::bad_method);
    EXPECT_EQ(write(request("", "/", "h")), HttpWriteStatus::bad_method);
    EXPECT_EQ(write(request("GET", "/a b", "h")), HttpWriteStatus::bad_target);
    EXPECT_EQ(write(request("GET", "/a\r\nX: y", "h")), HttpWriteStatus::bad_target);
    EXPECT_EQ(write(request("GET", "http://h/", "h")), HttpWriteStatus::bad_target);
    EXPECT_EQ(write(request("GET", "/", "")), HttpWriteStatus::bad_host);
    EXPECT_EQ(write(request("GET", "/", "h\r\n")), HttpWriteStatus::bad_host);
    EXPECT_FALSE(to_string(HttpWriteStatus::bad_header_value).empty());
}

TEST(HttpRequestWriter, appends_without_allocating_when_the_buffer_has_room) {
    std::string out;
    out.reserve(4096);
    const char* data = out.data();
    const std::string token(400, 'j');
    const std::vector<HttpHeaderView> headers{{"Authorization", token}};
    for (int i = 0; i < 5; ++i)
        ASSERT_EQ(write_http_request(request("POST", "/x", "h", headers, "{}"), out), HttpWriteStatus::ok);
    EXPECT_EQ(out.data(), data);
}

TEST(HttpRequestWriter, beast_request_parser_reads_back_what_was_written) {
    const std::vector<HttpHeaderView> headers{{"Authorization", "Bearer t"}, {"Content-Type", "application/json"}};
    std::string out;
    ASSERT_EQ(
        write_http_request(
            request("POST", "/api/v3/brokerage/orders", "localhost:8443", headers, R"({"client_order_id":"x"})"), out),
        HttpWriteStatus::ok);
    boost::beast::http::request_parser<boost::beast::http::string_body> p;
    p.eager(true);
    boost::system::error_code ec;
    const std::size_t used = p.put(boost::asio::const_buffer(out.data(), out.size()), ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(p.is_done());
    EXPECT_EQ(used, out.size());
    const auto& m = p.get();
    EXPECT_EQ(m.method_string(), "POST");
    EXPECT_EQ(m.target(), "/api/v3/brokerage/orders");
    EXPECT_EQ(m[boost::beast::http::field::host], "localhost:8443");
    EXPECT_EQ(m[boost::beast::http::field::authorization], "Bearer t");
    EXPECT_EQ(m.body(), R"({"client_order_id":"x"})");
    EXPECT_TRUE(m.keep_alive());
}

// ------------------------------------------------------------------------------------------------
// Parser

HttpParseStatus feed_in_pieces(HttpResponseParser& p, std::string_view wire, std::size_t piece) {
    HttpParseStatus s = HttpParseStatus::incomplete;
    for (std::size_t i = 0; i < wire.size() && s == HttpParseStatus::incomplete; i += piece)
        s = p.feed(std::span<const char>(wire.data() + i, std::min(piece, wire.size() - i))).status;
    return s;
}

constexpr std::string_view json_ok =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"iso\":\"2025-01-15T14:03Z\"}";

TEST(HttpResponseParser, content_length_body_in_any_piece_size) {
    for (const std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{17}, json_ok.size()}) {
        HttpResponseParser p;
        ASSERT_EQ(feed_in_pieces(p, json_ok, piece), HttpParseStatus::complete) << piece;
        EXPECT_EQ(p.status_code(), 200u);
        EXPECT_EQ(p.reason(), "OK");
        EXPECT_EQ(p.version(), 11u);
        EXPECT_EQ(p.body(), R"({"iso":"2025-01-15T14:03Z"})");
        EXPECT_TRUE(p.keep_alive());
        EXPECT_FALSE(p.chunked());
        EXPECT_EQ(p.header("content-type"), "application/json");
        EXPECT_EQ(p.header("X-Missing"), std::nullopt);
    }
}

TEST(HttpResponseParser, chunked_body_with_extensions_and_trailer_in_any_piece_size) {
    const std::string wire =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\n{\"a\":\r\n"
        "A\r\n[1,2,3,4]}\r\n"
        "0\r\nX-Trailer: t\r\n\r\n";
    for (const std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{9}, wire.size()}) {
        HttpResponseParser p;
        ASSERT_EQ(feed_in_pieces(p, wire, piece), HttpParseStatus::complete) << piece;
        EXPECT_TRUE(p.chunked());
        EXPECT_EQ(p.body(), R"({"a":[1,2,3,4]})");
    }
}

TEST(HttpResponseParser, body_until_close_completes_at_eof_and_a_short_body_is_truncated) {
    HttpResponseParser p;
    ASSERT_EQ(p.feed(std::string_view("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello")).status,
              HttpParseStatus::incomplete);
    EXPECT_FALSE(p.keep_alive());
    EXPECT_EQ(p.finish_at_eof(), HttpParseStatus::complete);
    EXPECT_EQ(p.body(), "hello");

    HttpResponseParser q;
    ASSERT_EQ(q.feed(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")).status,
              HttpParseStatus::incomplete);
    EXPECT_EQ(q.finish_at_eof(), HttpParseStatus::truncated);

    HttpResponseParser r;
    ASSERT_EQ(r.feed(std::string_view("HTTP/1.1 200 OK\r\nContent-Le")).status, HttpParseStatus::incomplete);
    EXPECT_EQ(r.finish_at_eof(), HttpParseStatus::truncated);

    HttpResponseParser nothing;
    EXPECT_EQ(nothing.finish_at_eof(), HttpParseStatus::truncated);

    HttpResponseParser chunk;
    ASSERT_EQ(chunk.feed(std::string_view("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")).status,
              HttpParseStatus::incomplete);
    EXPECT_EQ(chunk.finish_at_eof(), HttpParseStatus::truncated);
}

TEST(HttpResponseParser, oversized_header_is_refused_whole_or_in_pieces) {
    const std::string wire = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(600, 'a') + "\r\nContent-Length: 0\r\n\r\n";
    HttpResponseParser whole({.header_bytes = 256});
    EXPECT_EQ(whole.feed(wire).status, HttpParseStatus::header_too_large);
    HttpResponseParser pieces({.header_bytes = 256});
    EXPECT_EQ(feed_in_pieces(pieces, wire, 7), HttpParseStatus::header_too_large);
    HttpResponseParser endless({.header_bytes = 256});
    EXPECT_EQ(feed_in_pieces(endless, "HTTP/1.1 200 OK\r\nX: " + std::string(10000, 'b'), 100),
              HttpParseStatus::header_too_large);
}

TEST(HttpResponseParser, oversized_body_is_refused_announced_or_chunked) {
    HttpResponseParser announced({.body_bytes = 100});
    EXPECT_EQ(announced.feed(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n")).status,
              HttpParseStatus::body_too_large);
    HttpResponseParser chunked({.body_bytes = 100});
    std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) wire += "20\r\n" + std::string(32, 'x') + "\r\n";
    wire += "0\r\n\r\n";
    EXPECT_EQ(feed_in_pieces(chunked, wire, 13), HttpParseStatus::body_too_large);
    HttpResponseParser until_close({.body_bytes = 100});
    EXPECT_EQ(feed_in_pieces(until_close, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(500, 'y'), 50),
              HttpParseStatus::body_too_large);
    HttpResponseParser exact({.body_bytes = 5});
    EXPECT_EQ(exact.feed(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")).status,
              HttpParseStatus::complete);
}

TEST(HttpResponseParser, endless_chunk_size_line_is_bounded) {
    HttpResponseParser p({.header_bytes = 256});
    ASSERT_EQ(p.feed(std::string_view("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;")).status,
              HttpParseStatus::incomplete);
    EXPECT_EQ(feed_in_pieces(p, std::string(100000, 'e'), 64), HttpParseStatus::malformed);
    EXPECT_NE(p.error_detail().find("chunk"), std::string::npos) << p.error_detail();
}

TEST(HttpResponseParser, malformed_status_lines_and_garbage) {
    for (const char* wire : {"HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 000 Zero\r\n\r\n",
                             "HTTP/1.1 600 Six\r\n\r\n", "HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n",
                             "HTTP/2 200 OK\r\n\r\n", "SSH-2.0-OpenSSH_9.2\r\n\r\n", "<html>hello</html>\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
        HttpResponseParser p;
        const HttpParseResult r = p.feed(std::string_view(wire));
        EXPECT_EQ(r.status, HttpParseStatus::malformed) << wire;
        EXPECT_FALSE(p.error_detail().empty()) << wire;
        EXPECT_EQ(p.feed(std::string_view("more")).consumed, 0u) << "the status stays";
    }
}

TEST(HttpResponseParser, error_bodies_of_every_shape_parse) {
    struct Case {
        std::string wire;
        unsigned status;
        std::string_view body;
    };
    const std::string json = R"({"error":"INVALID_ARGUMENT","message":"bad","details":[]})";
    const std::string html1 = "<html><title>429</title></h";
    const std::string html2 = "tml>\n";
    auto hex = [](std::size_t n) {
        char b[16];
        std::snprintf(b, sizeof b, "%zx", n);
        return std::string(b);
    };
    const std::vector<Case> cases{
        {"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
             std::to_string(json.size()) + "\r\n\r\n" + json,
         400, json},
        {"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nUnauthorized\n", 401,
         "Unauthorized\n"},
        {"HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" +
             hex(html1.size()) + "\r\n" + html1 + "\r\n" + hex(html2.size()) + "\r\n" + html2 + "\r\n0\r\n\r\n",
         429, "<html><title>429</title></html>\n"},
    };
    for (const auto& c : cases) {
        HttpResponseParser p;
        ASSERT_EQ(feed_in_pieces(p, c.wire, 5), HttpParseStatus::complete) << c.wire;
        EXPECT_EQ(p.status_code(), c.status);
        EXPECT_EQ(p.body(), c.body);
    }
}

TEST(HttpResponseParser, keep_alive_next_response_after_reset_and_stray_bytes_are_handed_back) {
    const std::string second = "HTTP/1.1 204 No Content\r\n\r\n";
    const std::string wire = std::string(json_ok) + second;
    HttpResponseParser p;
    const HttpParseResult r = p.feed(wire);
    ASSERT_EQ(r.status, HttpParseStatus::complete);
    EXPECT_EQ(r.consumed, json_ok.size());
    p.reset();
    EXPECT_EQ(p.status_code(), 0u);
    const HttpParseResult r2 = p.feed(std::string_view(wire).substr(r.consumed));
    ASSERT_EQ(r2.status, HttpParseStatus::complete);
    EXPECT_EQ(r2.consumed, second.size());
    EXPECT_EQ(p.status_code(), 204u);
    EXPECT_TRUE(p.body().empty());
}

TEST(HttpResponseParser, connection_close_and_http10_are_not_keep_alive) {
    HttpResponseParser close;
    ASSERT_EQ(close.feed(std::string_view("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")).status,
              HttpParseStatus::complete);
    EXPECT_FALSE(close.keep_alive());
    EXPECT_TRUE(close.header_has_token("connection", "CLOSE"));
    HttpResponseParser old;
    ASSERT_EQ(old.feed(std::string_view("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")).status,
              HttpParseStatus::complete);
    EXPECT_EQ(old.version(), 10u);
    EXPECT_FALSE(old.keep_alive());
}

TEST(HttpResponseParser, header_only_mode_hands_back_what_follows_the_header) {
    const std::string header = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    const std::string frames = "\x81\x02hi";
    HttpResponseParser p({}, HttpResponseParser::Mode::header_only);
    ASSERT_EQ(p.feed(std::string_view(header).substr(0, 20)).status, HttpParseStatus::incomplete);
    const std::string rest = header.substr(20) + frames;
    const HttpParseResult r = p.feed(rest);
    ASSERT_EQ(r.status, HttpParseStatus::header_done);
    EXPECT_EQ(r.consumed, header.size() - 20);
    EXPECT_EQ(p.status_code(), 101u);
    EXPECT_TRUE(p.header_has_token("Upgrade", "WebSocket"));
}

TEST(HttpResponseParser, accessors_before_the_header_are_empty) {
    HttpResponseParser p;
    EXPECT_EQ(p.status_code(), 0u);
    EXPECT_EQ(p.reason(), "");
    EXPECT_EQ(p.header("Content-Length"), std::nullopt);
    EXPECT_FALSE(p.keep_alive());
    EXPECT_TRUE(p.body().empty());
    EXPECT_EQ(p.feed(std::span<const char>()).status, HttpParseStatus::incomplete);
}

}  // namespace
}  // namespace cbtrade::io
