// tools/sim/: plain HTTP requests (anything that is not a WebSocket upgrade) go through this table.
// REST routes of the exchange (e.g. POST /api/v3/brokerage/orders) are added here as handlers.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cbtrade::sim {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class HttpRouter {
public:
    using Handler = std::function<HttpResponse(const HttpRequest&)>;

    void add(boost::beast::http::verb method, std::string path, Handler handler);

    // The matching route's response; 404 JSON for an unknown path, 405 JSON for a known path with
    // another method. The path is matched without its query string.
    [[nodiscard]] HttpResponse handle(const HttpRequest& req) const;

private:
    struct Route {
        boost::beast::http::verb method;
        std::string path;
        Handler handler;
    };
    std::vector<Route> routes_;
};

// A response with a JSON body, Content-Type and Content-Length set, matching the request's version
// and keep-alive.
[[nodiscard]] HttpResponse json_response(const HttpRequest& req, boost::beast::http::status status, std::string body);

// Coinbase's error shape: {"error":"NOT_FOUND","error_details":"...","message":"..."}.
[[nodiscard]] std::string json_error_body(std::string_view error, std::string_view message);

// The simulator's routes today: GET /api/v3/brokerage/time.
[[nodiscard]] HttpRouter make_sim_router();

}  // namespace cbtrade::sim
