// io/http_client against scripted loopback servers (TLS with a test CA made at test time, and one
// plaintext): keep-alive reuse, chunked and close-delimited bodies, error bodies of every shape,
// dropped connections, a server that never answers, oversized and malformed answers, and the
// non-blocking start()/poll() use.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/cpu.hpp"
#include "io/http_client.hpp"
#include "tests/io/loopback_server.hpp"
#include "tests/io/pki_fixture.hpp"

namespace cbtrade::io {
namespace {

using cbtrade::testing::LoopbackServer;
using cbtrade::testing::ServerConnection;

std::string answer(unsigned status, std::string_view reason, std::string_view content_type, std::string_view body,
                   std::string_view extra_headers = "") {
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
           "\r\nContent-Type: " + std::string(content_type) + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n" + std::string(extra_headers) + "\r\n" + std::string(body);
}

std::string json_ok(std::string_view body) {
    return answer(200, "OK", "application/json", body);
}

class HttpClientTest : public cbtrade::testing::PkiLoopTest {
protected:
    std::unique_ptr<HttpClient> client(std::uint16_t port, HttpClientOptions o = {}, bool tls = true) {
        const UrlResult url =
            parse_url(std::string(tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port));
        EXPECT_TRUE(url) << url.error;
        o.ca_file = pki_->ca_pem;
        auto c = std::make_unique<HttpClient>(loop_, *url.url, o);
        std::string error;
        EXPECT_EQ(c->init(error), 0) << error;
        return c;
    }
    static HttpClientRequest get(std::string_view target, std::uint32_t timeout_ms = 3000) {
        HttpClientRequest r;
        r.target = target;
        r.timeout_ms = timeout_ms;
        return r;
    }
};

TEST_F(HttpClientTest, keep_alive_reuses_one_connection_for_many_requests) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    std::vector<std::string> seen;
    std::mutex mu;
    server.run([&](ServerConnection& s, int) {
        for (int i = 0; i < 3; ++i) {
            const std::string req = s.read_http_request();
            if (req.empty()) return;
            {
                std::lock_guard lock(mu);
                seen.push_back(req);
            }
            (void)s.send(json_ok(R"({"n":)" + std::to_string(i) + "}"));
        }
        (void)s.wait_for_close();
    });
    auto c = client(server.port());
    for (int i = 0; i < 3; ++i) {
        const HttpResult r = c->request(get("/api/v3/brokerage/time?i=" + std::to_string(i)));
        ASSERT_TRUE(r.ok()) << r.error;
        EXPECT_EQ(r.response->status, 200u);
        EXPECT_EQ(r.response->content_type, "application/json");
        EXPECT_EQ(r.response->body, R"({"n":)" + std::to_string(i) + "}");
        EXPECT_TRUE(r.error.empty());
    }
    EXPECT_EQ(c->connections_opened(), 1u);
    EXPECT_EQ(server.accepted(), 1);
    c->close();
    server.stop();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].rfind("GET /api/v3/brokerage/time?i=0 HTTP/1.1\r\nHost: localhost:", 0), 0u) << seen[0];
    EXPECT_NE(seen[0].find("\r\nUser-Agent: cbtrade/0.1\r\n"), std::string::npos) << seen[0];
}

TEST_F(HttpClientTest, post_sends_headers_and_body_with_its_length) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    std::string seen;
    server.run(
        [&](ServerConnection& s, int) {
            seen = s.read_http_request();
            (void)s.send(json_ok(R"({"success":true})"));
            (void)s.wait_for_close();
        },
        1);
    auto c = client(server.port());
    const std::vector<HttpHeaderView> headers{{"Authorization", "Bearer a.b.c"}, {"Content-Type", "application/json"}};
    HttpClientRequest r;
    r.method = "POST";
    r.target = "/api/v3/brokerage/orders";
    r.headers = headers;
    r.body = R"({"client_order_id":"abc"})";
    const HttpResult result = c->request(r);
    ASSERT_TRUE(result.ok()) << result.error;
    c->close();
    server.stop();
    EXPECT_EQ(seen.rfind("POST /api/v3/brokerage/orders HTTP/1.1\r\n", 0), 0u) << seen;
    EXPECT_NE(seen.find("\r\nAuthorization: Bearer a.b.c\r\n"), std::string::npos) << seen;
    EXPECT_NE(seen.find("\r\nContent-Length: 25\r\n"), std::string::npos) << seen;
    EXPECT_TRUE(seen.ends_with("\r\n\r\n{\"client_order_id\":\"abc\"}")) << seen;
}

TEST_F(HttpClientTest, chunked_and_close_delimited_bodies) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run([&](ServerConnection& s, int i) {
        (void)s.read_http_request();
        if (i == 0) {
            (void)s.send(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                "7\r\n{\"a\":[1\r\n");
            std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the rest in a later record
            (void)s.send("5\r\n,2,3]\r\n1\r\n}\r\n0\r\n\r\n");
            (void)s.read_http_request();  // the connection stays: the second request comes here
            (void)s.send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
            s.drop();
        }
    });
    auto c = client(server.port());
    const HttpResult chunked = c->request(get("/chunked"));
    ASSERT_TRUE(chunked.ok()) << chunked.error;
    EXPECT_EQ(chunked.response->body, R"({"a":[1,2,3]})");
    const HttpResult until_close = c->request(get("/close"));
    ASSERT_TRUE(until_close.ok()) << until_close.error;
    EXPECT_EQ(until_close.response->body, "until the end");
    EXPECT_EQ(c->connections_opened(), 1u);
}

TEST_F(HttpClientTest, error_bodies_json_text_and_html_become_clear_error_values) {
    const std::string json = R"({"error":"INVALID_ARGUMENT","message":"bad product","error_details":""})";
    const std::string html = "<!DOCTYPE html><html><head><title>429 Too Many \x1b[31mRequests</title></head><body>" +
                             std::string(5000, 'x') + "</body></html>";
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run(
        [&](ServerConnection& s, int) {
            (void)s.read_http_request();
            (void)s.send(answer(400, "Bad Request", "application/json", json));
            (void)s.read_http_request();
            (void)s.send(answer(401, "Unauthorized", "text/plain", "Unauthorized\n"));
            (void)s.read_http_request();
            (void)s.send(answer(429, "Too Many Requests", "text/html", html, "Retry-After: 2\r\n"));
            (void)s.read_http_request();
            (void)s.send(answer(503, "Go Away Now", "text/plain", ""));
            (void)s.wait_for_close();
        },
        1);
    auto c = client(server.port());

    const HttpResult bad = c->request(get("/a"));
    ASSERT_EQ(bad.failure, HttpFailure::none) << bad.error;
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.response->status, 400u);
    EXPECT_EQ(bad.response->body, json) << "the caller decodes the JSON error itself";
    EXPECT_EQ(bad.error.rfind("HTTP 400 Bad Request from localhost:", 0), 0u) << bad.error;
    EXPECT_NE(bad.error.find(R"('{"error":"INVALID_ARGUMENT")"), std::string::npos) << bad.error;

    const HttpResult unauthorized = c->request(get("/b"));
    ASSERT_EQ(unauthorized.failure, HttpFailure::none);
    EXPECT_EQ(unauthorized.response->status, 401u);
    EXPECT_NE(unauthorized.error.find(R"(: 'Unauthorized\n')"), std::string::npos) << unauthorized.error;

    const HttpResult limited = c->request(get("/c"));
    ASSERT_EQ(limited.failure, HttpFailure::none);
    EXPECT_EQ(limited.response->status, 429u);
    EXPECT_EQ(limited.response->retry_after, "2");
    EXPECT_NE(limited.error.find(R"(HTML page titled '429 Too Many \x1b[31mRequests')"), std::string::npos)
        << limited.error;
    EXPECT_LT(limited.error.size(), 200u) << "a 5 KB page becomes one short line";

    const HttpResult unavailable = c->request(get("/d"));
    ASSERT_EQ(unavailable.failure, HttpFailure::none);
    EXPECT_EQ(unavailable.error.rfind("HTTP 503 Service Unavailable from", 0), 0u)
        << "the standard phrase, not the server's: " << unavailable.error;
    EXPECT_NE(unavailable.error.find("(empty body)"), std::string::npos) << unavailable.error;
    for (const HttpResult* r : {&bad, &unauthorized, &limited, &unavailable})
        for (const char ch : r->error) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << r->error;
    EXPECT_EQ(c->connections_opened(), 1u) << "error answers keep the connection";
}

TEST_F(HttpClientTest, connection_dropped_after_the_request_is_no_answer_and_the_next_request_reconnects) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run([&](ServerConnection& s, int i) {
        (void)s.read_http_request();
        if (i == 0) {
            s.drop();
            return;
        }
        (void)s.send(json_ok("{}"));
        (void)s.wait_for_close();
    });
    auto c = client(server.port());
    const HttpResult lost = c->request(get("/orders"));
    EXPECT_EQ(lost.failure, HttpFailure::no_answer) << lost.error;
    EXPECT_FALSE(lost.response);
    EXPECT_NE(lost.error.find("ended before a complete answer"), std::string::npos) << lost.error;
    const HttpResult again = c->request(get("/orders"));
    ASSERT_TRUE(again.ok()) << again.error;
    EXPECT_EQ(c->connections_opened(), 2u);
}

TEST_F(HttpClientTest, body_cut_short_by_a_hang_up_is_no_answer) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run(
        [&](ServerConnection& s, int) {
            (void)s.read_http_request();
            (void)s.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
            s.drop();
        },
        1);
    auto c = client(server.port());
    const HttpResult r = c->request(get("/x"));
    EXPECT_EQ(r.failure, HttpFailure::no_answer) << r.error;
}

TEST_F(HttpClientTest, keep_alive_connection_closed_by_the_server_while_idle_is_replaced) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run([&](ServerConnection& s, int) {
        (void)s.read_http_request();
        (void)s.send(json_ok("{}"));
        s.drop();  // an idle timeout on the server side
    });
    auto c = client(server.port());
    ASSERT_TRUE(c->request(get("/1")).ok());
    // Let the close arrive while the client is idle, polled as a stage would.
    for (int i = 0; i < 100; ++i) {
        EXPECT_FALSE(c->poll(now_ns()));
        (void)loop_.wait(1'000'000);
    }
    const HttpResult r = c->request(get("/2"));
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(c->connections_opened(), 2u);

    // Without idle polling the stale connection is found when the next request starts.
    for (int i = 0; i < 50; ++i) (void)loop_.wait(1'000'000);
    const HttpResult r3 = c->request(get("/3"));
    ASSERT_TRUE(r3.ok()) << r3.error;
    EXPECT_EQ(c->connections_opened(), 3u);
}

TEST_F(HttpClientTest, connection_close_header_is_honoured) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run([&](ServerConnection& s, int) {
        (void)s.read_http_request();
        (void)s.send(answer(200, "OK", "application/json", "{}", "Connection: close\r\n"));
        (void)s.wait_for_close(1000);
    });
    auto c = client(server.port());
    ASSERT_TRUE(c->request(get("/1")).ok());
    ASSERT_TRUE(c->request(get("/2")).ok());
    EXPECT_EQ(c->connections_opened(), 2u);
}

TEST_F(HttpClientTest, server_that_never_answers_hits_the_deadline) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run(
        [&](ServerConnection& s, int) {
            (void)s.read_http_request();
            (void)s.wait_for_close(3000);  // silence
        },
        1);
    auto c = client(server.port());
    const std::int64_t t0 = now_ns();
    const HttpResult r = c->request(get("/slow", 250));
    const std::int64_t took = now_ns() - t0;
    EXPECT_EQ(r.failure, HttpFailure::timeout) << r.error;
    EXPECT_GE(took, 250'000'000);
    EXPECT_LT(took, 2'000'000'000);
    EXPECT_NE(r.error.find("no complete answer from localhost:"), std::string::npos) << r.error;
}

TEST_F(HttpClientTest, oversized_body_and_header_are_bad_responses) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run([&](ServerConnection& s, int i) {
        (void)s.read_http_request();
        if (i == 0) (void)s.send(json_ok(std::string(5000, 'x')));
        else (void)s.send("HTTP/1.1 200 OK\r\nX-Big: " + std::string(20000, 'h') + "\r\nContent-Length: 0\r\n\r\n");
        (void)s.wait_for_close(1000);
    });
    HttpClientOptions o;
    o.limits.body_bytes = 1000;
    auto c = client(server.port(), o);
    const HttpResult body = c->request(get("/big"));
    EXPECT_EQ(body.failure, HttpFailure::bad_response) << body.error;
    EXPECT_NE(body.error.find("response body too large (limit 1000 bytes)"), std::string::npos) << body.error;
    const HttpResult header = c->request(get("/big-header"));
    EXPECT_EQ(header.failure, HttpFailure::bad_response) << header.error;
    EXPECT_NE(header.error.find("header too large"), std::string::npos) << header.error;
}

TEST_F(HttpClientTest, malformed_status_line_is_a_bad_response) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run([&](ServerConnection& s, int i) {
        (void)s.read_http_request();
        (void)s.send(i == 0 ? "HTTP/1.1 2x0 OK\r\n\r\n" : "<html>not http</html>\r\n\r\n");
        (void)s.wait_for_close(1000);
    });
    auto c = client(server.port());
    for (int i = 0; i < 2; ++i) {
        const HttpResult r = c->request(get("/x"));
        EXPECT_EQ(r.failure, HttpFailure::bad_response) << r.error;
        EXPECT_NE(r.error.find("malformed HTTP response"), std::string::npos) << r.error;
    }
}

TEST_F(HttpClientTest, refused_connection_is_not_sent) {
    std::uint16_t port = 0;
    {
        LoopbackServer gone(nullptr);
        port = gone.port();
    }
    auto c = client(port);
    const HttpResult r = c->request(get("/x"));
    EXPECT_EQ(r.failure, HttpFailure::not_sent) << r.error;
    EXPECT_NE(r.error.find("Connection refused"), std::string::npos) << r.error;
    EXPECT_FALSE(c->busy());
}

TEST_F(HttpClientTest, invalid_request_is_refused_before_connecting) {
    auto c = client(1);
    const std::vector<HttpHeaderView> split{{"X-Evil", "a\r\nX-Injected: b"}};
    HttpClientRequest r = get("/x");
    r.headers = split;
    const HttpResult result = c->request(r);
    EXPECT_EQ(result.failure, HttpFailure::not_sent);
    EXPECT_NE(result.error.find("CR, LF"), std::string::npos) << result.error;
    EXPECT_EQ(c->connections_opened(), 0u);
}

TEST_F(HttpClientTest, non_blocking_start_and_poll_from_a_stage) {
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run(
        [&](ServerConnection& s, int) {
            (void)s.read_http_request();
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            (void)s.send(json_ok(R"({"later":true})"));
            (void)s.wait_for_close();
        },
        1);
    auto c = client(server.port());
    ASSERT_TRUE(c->start(get("/x"), now_ns()));
    EXPECT_TRUE(c->busy());
    EXPECT_FALSE(c->start(get("/y"), now_ns())) << "one request at a time";
    int polls = 0;
    while (!c->poll(now_ns()) && polls < 100000) {
        ++polls;
        (void)loop_.wait(100'000);
    }
    EXPECT_GT(polls, 1) << "the answer came later: poll() returned without blocking";
    const HttpResult r = c->take();
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.response->body, R"({"later":true})");
    EXPECT_FALSE(c->busy());
}

TEST_F(HttpClientTest, answers_read_in_place_then_released_keep_the_connection) {
    // The exec thread's way: failure(), answer() and release(), no copy; the connection stays open.
    LoopbackServer server(&server_tls_);
    ASSERT_TRUE(server.ok());
    server.run(
        [&](ServerConnection& s, int) {
            (void)s.read_http_request();
            (void)s.send(json_ok(R"({"first":1})"));
            (void)s.read_http_request();
            (void)s.send(answer(429, "Too Many Requests", "text/html", "<html>slow down</html>", "Retry-After: 2\r\n"));
            (void)s.read_http_request();
            (void)s.send(json_ok(R"({"third":3})"));
            (void)s.wait_for_close();
        },
        1);
    auto c = client(server.port());
    const auto run = [&](std::string_view target) {
        EXPECT_TRUE(c->start(get(target), now_ns()));
        for (int i = 0; i < 100000 && !c->poll(now_ns()); ++i) (void)loop_.wait(100'000);
    };
    run("/a");
    ASSERT_EQ(c->failure(), HttpFailure::none);
    std::optional<HttpAnswerView> a = c->answer();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 200u);
    EXPECT_EQ(a->content_type, "application/json");
    EXPECT_EQ(a->body, R"({"first":1})");
    EXPECT_TRUE(a->retry_after.empty());
    c->release();
    EXPECT_FALSE(c->busy());
    EXPECT_FALSE(c->answer()) << "nothing to show once released";

    run("/b");
    a = c->answer();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 429u);
    EXPECT_EQ(a->retry_after, "2");
    EXPECT_EQ(a->body, "<html>slow down</html>");
    c->release();

    run("/c");  // take() after the in-place reads still copies the whole answer
    const HttpResult r = c->take();
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.response->body, R"({"third":3})");
    EXPECT_EQ(c->connections_opened(), 1u);
}

TEST_F(HttpClientTest, plaintext_http_to_loopback) {
    LoopbackServer server(nullptr);
    ASSERT_TRUE(server.ok());
    server.run(
        [&](ServerConnection& s, int) {
            (void)s.read_http_request();
            (void)s.send(json_ok("{}"));
            (void)s.wait_for_close();
        },
        1);
    auto c = client(server.port(), {}, false);
    const HttpResult r = c->request(get("/x"));
    ASSERT_TRUE(r.ok()) << r.error;
}

}  // namespace
}  // namespace cbtrade::io
