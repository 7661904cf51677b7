// The metrics endpoint: three routes over io/http_server (which owns the connection cap, the
// deadlines and the size limits). See metrics_server.hpp.
#include "monitoring/metrics_server.hpp"

#include <utility>

#include "io/http_server.hpp"

namespace cbtrade {

namespace {

constexpr std::string_view content_type_metrics = "text/plain; version=0.0.4; charset=utf-8";

io::HttpServerResponse respond(const MetricsRegistry& registry, const MetricsServerOptions& opts,
                               const io::HttpServerRequest& req) {
    io::HttpServerResponse res;
    const std::string_view path = req.path();
    if (req.method != "GET") {
        res.status = 405;
        res.allow = "GET";
        res.body = "method not allowed\n";
    } else if (path == "/metrics") {
        res.content_type = std::string(content_type_metrics);
        res.body.reserve(16 * 1024);
        registry.render_prometheus(res.body);
    } else if (path == "/healthz") {
        res.body = "ok\n";
    } else if (path == "/readyz") {
        const std::string reason = opts.readiness ? opts.readiness() : std::string();
        if (reason.empty()) {
            res.body = "ready\n";
        } else {
            res.status = 503;
            res.body = "not ready: " + reason + "\n";
        }
    } else {
        res.status = 404;
        res.body = "not found\n";
    }
    return res;
}

}  // namespace

struct MetricsServer::Impl {
    Impl(const MetricsRegistry& registry, MetricsServerOptions o)
        : opts(std::move(o)),
          server([&registry, this](const io::HttpServerRequest& req) { return respond(registry, opts, req); },
                 static_cast<const io::HttpServerOptions&>(opts)) {}
    MetricsServerOptions opts;
    io::HttpServer server;
};

std::function<std::string()> readiness_of(const ReadyState& state) {
    return [&state] { return std::string(state.reason()); };
}

MetricsServer::MetricsServer(const MetricsRegistry& registry, MetricsServerOptions options)
    : impl_(std::make_unique<Impl>(registry, std::move(options))) {}

MetricsServer::~MetricsServer() {
    stop();
}

std::uint16_t MetricsServer::port() const noexcept {
    return impl_->server.port();
}

std::uint64_t MetricsServer::idle_dropped() const noexcept {
    return impl_->server.idle_dropped();
}

std::string MetricsServer::start() {
    std::string err = impl_->server.start();
    if (err.find("already started") != std::string::npos) return "metrics server: " + err;
    return err;
}

void MetricsServer::stop() noexcept {
    impl_->server.stop();
}

}  // namespace cbtrade
