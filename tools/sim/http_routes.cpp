#include "tools/sim/http_routes.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <utility>

#include "core/json_writer.hpp"

namespace cbtrade::sim {

namespace http = boost::beast::http;

void HttpRouter::add(http::verb method, std::string path, Handler handler) {
    routes_.push_back(Route{method, std::move(path), std::move(handler)});
}

void HttpRouter::add_prefix(std::string prefix, Handler handler) {
    prefixes_.emplace_back(std::move(prefix), std::move(handler));
}

SimReply HttpRouter::handle(const HttpRequest& req) const {
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
        return {json_response(req, http::status::method_not_allowed,
                              json_error_body("METHOD_NOT_ALLOWED", "method not allowed: " + what))};
    }
    for (const auto& [prefix, handler] : prefixes_)
        if (target.starts_with(prefix)) return handler(req);
    return {json_response(req, http::status::not_found, json_error_body("NOT_FOUND", "no route for " + what))};
}

HttpResponse text_response(const HttpRequest& req, http::status status, std::string_view content_type,
                           std::string body) {
    HttpResponse res{status, req.version()};
    res.set(http::field::server, "cbtrade-sim");
    res.set(http::field::content_type, content_type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

HttpResponse json_response(const HttpRequest& req, http::status status, std::string body) {
    return text_response(req, status, "application/json", std::move(body));
}

std::string json_error_body(std::string_view error, std::string_view message) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().member("error", error).member("error_details", message).member("message", message).end_object();
    return out;
}

}  // namespace cbtrade::sim
