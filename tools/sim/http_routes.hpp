// tools/sim/: plain HTTP requests (anything that is not a WebSocket upgrade) go through this table:
// exact paths first, then path prefixes (the REST exchange owns everything under /api/v3/brokerage).
// A handler may also ask for no answer at all (a timeout) or a dropped connection (faults).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cbtrade::sim {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

enum class ReplyAction : std::uint8_t {
    answer,     // write the response
    no_answer,  // write nothing; the connection stays open until the client gives up
    drop,       // close the connection without a response
};

struct SimReply {
    HttpResponse response;
    ReplyAction action = ReplyAction::answer;
};

class HttpRouter {
public:
    using Handler = std::function<SimReply(const HttpRequest&)>;

    void add(boost::beast::http::verb method, std::string path, Handler handler);
    // Any method, any path that starts with `prefix` and has no exact route.
    void add_prefix(std::string prefix, Handler handler);

    // The matching route's reply; 404 JSON for an unknown path, 405 JSON for a known path with
    // another method. The path is matched without its query string.
    [[nodiscard]] SimReply handle(const HttpRequest& req) const;

private:
    struct Route {
        boost::beast::http::verb method;
        std::string path;
        Handler handler;
    };
    std::vector<Route> routes_;
    std::vector<std::pair<std::string, Handler>> prefixes_;
};

// A response with a JSON body, Content-Type and Content-Length set, matching the request's version
// and keep-alive.
[[nodiscard]] HttpResponse json_response(const HttpRequest& req, boost::beast::http::status status, std::string body);
// The same with another content type (text/plain 401s, text/html 429s).
[[nodiscard]] HttpResponse text_response(const HttpRequest& req, boost::beast::http::status status,
                                         std::string_view content_type, std::string body);

// Coinbase's error shape: {"error":"NOT_FOUND","error_details":"...","message":"..."}.
[[nodiscard]] std::string json_error_body(std::string_view error, std::string_view message);

}  // namespace cbtrade::sim
