// monitoring/: the daemon's HTTP/1.1 endpoint for Prometheus and orchestrators, on its own
// low-priority, unpinned thread (DESIGN.md section 2, the ops side):
//   GET /metrics  the registry as Prometheus text format 0.0.4
//   GET /healthz  200 "ok\n" while the process serves
//   GET /readyz   200 "ready\n", or 503 "not ready: <reason>\n"
// anything else is 404, a method other than GET is 405. Scrapes read only the registry's atomics,
// so any number of them, or a client that never sends, cannot slow the hot threads. Prometheus
// always gets its scrape: idle connections are held cheaply and the oldest is dropped first when
// the cap is reached, and a request must arrive whole within a short deadline.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/metrics.hpp"
#include "io/http_server.hpp"

namespace cbtrade {

// Readiness that any thread can flip without a lock or allocation: the reason is a pointer to a
// string with static storage (a literal), nullptr when ready.
class ReadyState {
public:
    void set_ready() noexcept { reason_.store(nullptr, std::memory_order_relaxed); }
    void set_not_ready(const char* static_reason) noexcept { reason_.store(static_reason, std::memory_order_relaxed); }
    // Empty when ready.
    [[nodiscard]] std::string_view reason() const noexcept {
        const char* r = reason_.load(std::memory_order_relaxed);
        return r ? std::string_view(r) : std::string_view();
    }

private:
    // writer: whichever thread owns the state (pipeline, command); reader: the server thread.
    // Relaxed: the pointer targets immutable literals, nothing else is published with it.
    std::atomic<const char*> reason_{"starting"};
};

// The HTTP server's options (io/http_server.hpp: connection cap, idle and request deadlines, header
// and body limits, nice value) with the metrics endpoint's defaults, and its readiness.
struct MetricsServerOptions : io::HttpServerOptions {
    MetricsServerOptions() {
        port = 8080;  // PORT (METRICS_ADDR is the address)
        thread_name = "cbtrade-metrics";
    }
    // "" when ready, otherwise the reason (e.g. "feed stale"). Called on the server thread; empty
    // function = always ready.
    std::function<std::string()> readiness;
};

// Readiness from a ReadyState (which must outlive the server).
[[nodiscard]] std::function<std::string()> readiness_of(const ReadyState& state);

class MetricsServer {
public:
    // The registry must outlive the server.
    MetricsServer(const MetricsRegistry& registry, MetricsServerOptions options);
    ~MetricsServer();  // stops
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Binds and listens on the caller's thread, then serves on a new thread. Returns "" on success,
    // else one line naming the address and port, e.g.
    // "cannot listen on 127.0.0.1:8080: Address already in use".
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

}  // namespace cbtrade
