#include "tools/sim/http_routes.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <chrono>
#include <utility>

#include "tools/sim/messages.hpp"

namespace cbtrade::sim {

namespace http = boost::beast::http;

void HttpRouter::add(http::verb method, std::string path, Handler handler) {
    routes_.push_back(Route{method, std::move(path), std::move(handler)});
}

HttpResponse HttpRouter::handle(const HttpRequest& req) const {
    std::string_view target(req.target().data(), req.target().size());
    if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    bool path_known = false;
    for (const auto& r : routes_) {
        if (r.path != target) continue;
        path_known = true;
        if (r.method == req.method()) return r.handler(req);
    }
    const std::string what = std::string(req.method_string()) + " " + std::string(target);
    if (path_known) {
        auto res = json_response(req, http::status::method_not_allowed,
                                 json_error_body("METHOD_NOT_ALLOWED", "method not allowed: " + what));
        return res;
    }
    return json_response(req, http::status::not_found, json_error_body("NOT_FOUND", "no route for " + what));
}

HttpResponse json_response(const HttpRequest& req, http::status status, std::string body) {
    HttpResponse res{status, req.version()};
    res.set(http::field::server, "cbtrade-sim");
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

std::string json_error_body(std::string_view error, std::string_view message) {
    std::string out = R"({"error":)";
    append_json_string(out, error);
    out += R"(,"error_details":)";
    append_json_string(out, message);
    out += R"(,"message":)";
    append_json_string(out, message);
    out += '}';
    return out;
}

HttpRouter make_sim_router() {
    HttpRouter router;
    router.add(http::verb::get, "/api/v3/brokerage/time", [](const HttpRequest& req) {
        const auto now_us =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        std::string body = R"({"iso":)";
        append_json_string(body, format_rfc3339_us(now_us));
        body += R"(,"epochSeconds":")" + std::to_string(now_us / 1'000'000) + R"(","epochMillis":")" +
                std::to_string(now_us / 1000) + "\"}";
        return json_response(req, http::status::ok, std::move(body));
    });
    return router;
}

}  // namespace cbtrade::sim
