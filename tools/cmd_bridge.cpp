// cbtrade bridge: the earlier stack's HTTP bridge API (bridge/bridge_server.hpp; README "The bridge
// API") served from this program, so the earlier bot and scripts keep working with the Python
// sidecar retired (issue 12 items 6, 7). Three threads: main (signals, duration), the HTTP server
// (io/http_server: every exchange call through the direct REST client, one request at a time), and
// the WebSocket feed that keeps the /price cache (ticker channel only).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bridge/bridge_server.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "exec/api_key.hpp"
#include "exec/rest_session.hpp"
#include "feeds/coinbase_feed.hpp"
#include "io/http_server.hpp"
#include "io/uring_loop.hpp"
#include "tools/cli_args.hpp"
#include "tools/commands.hpp"
#include "tools/ws_jwt_source.hpp"

extern char** environ;

namespace {

using namespace cbtrade;

std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_bridge_stop(int sig) {
    stop_signal.store(sig, std::memory_order_relaxed);
}

constexpr const char* bridge_usage =
    "usage: cbtrade bridge [--listen ADDR] [--port N] [--duration SEC] [--env-file FILE]...\n"
    "  serve the earlier stack's bridge HTTP API (GET /health, /accounts, /product/ID, /candles,\n"
    "  /price; POST /order/market, /orders/market_buy; GET /order/ID) on ADDR:N, backed by the\n"
    "  REST API at COINBASE_API_BASE with the configured API key and a price cache fed by the\n"
    "  WebSocket feed (COINBASE_WS_URL, COINBASE_WS_PRODUCTS). ADDR: --listen, else BRIDGE_LISTEN\n"
    "  (default 127.0.0.1: the API has no authentication, like the bridge it replaces). N: --port,\n"
    "  else PORT when set, else 8787. Stops on SIGINT/SIGTERM or after SEC seconds (exit 0).\n"
    "  Every request is logged on stderr as one line (method, path, status, time); the key never.\n";

std::int64_t mono_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// PORT set by an env file or the environment (the bridge's default differs from the daemon's).
bool port_given(const std::vector<std::string>& env_files) {
    if (std::getenv("PORT") != nullptr) return true;
    for (const std::string& f : env_files)
        if (parse_env_file(f).count("PORT") != 0) return true;
    return false;
}

std::uint16_t parse_port(std::string_view v) {
    const std::string s(v);
    char* end = nullptr;
    const long p = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || p < 1 || p > 65535)
        throw UsageError("--port needs a TCP port from 1 to 65535, got " + quote_for_message(v));
    return static_cast<std::uint16_t>(p);
}

int run(int argc, char** argv) {
    const Args a = parse_args(argc, argv, 2, {"--help"}, {"--listen", "--port", "--duration"});
    if (a.flag("--help")) {
        std::fputs(bridge_usage, stdout);
        return 0;
    }
    if (!a.positional.empty()) throw UsageError("bridge takes no file arguments");
    const double duration_s = a.flag("--duration") ? parse_seconds("--duration", a.value("--duration")) : 0;
    LoadedConfig lc = load_config(a.env_files, environ);
    for (const auto& w : lc.warnings) std::fprintf(stderr, "cbtrade: warning: %s\n", w.c_str());
    const Config& cfg = lc.config;
    const std::string listen = a.flag("--listen") ? std::string(a.value("--listen")) : cfg.bridge_listen;
    const std::uint16_t port = a.flag("--port")          ? parse_port(a.value("--port"))
                               : port_given(a.env_files) ? static_cast<std::uint16_t>(cfg.port)
                                                         : bridge::default_port;

    std::optional<JwtSigner> signer = jwt_signer_from(cfg);
    if (!signer)
        throw ConfigError(
            "cbtrade bridge needs an API key: set COINBASE_API_KEY_NAME and COINBASE_API_PRIVATE_KEY, or "
            "COINBASE_API_PRIVATE_KEY_FILE");
    rest::RestClientOptions ro;
    ro.max_attempts = 3;
    ro.timeout_ms = 8000;
    rest::RestSession session(cfg, true, ro);
    std::fprintf(stderr, "cbtrade bridge: exchange %s with API key %s (%s)\n",
                 escape_for_message(cfg.coinbase_api_base, 200).c_str(),
                 quote_for_message(signer->key_name(), 128).c_str(), signer->key_description().c_str());

    // The price cache and the feed thread that fills it.
    bridge::TickerCache cache(cfg.coinbase_ws_products);
    io::UringLoop loop;
    if (const int rc = loop.init(64); rc < 0) throw RunError(io::uring_unavailable_message(rc));
    FeedOptions fo = feed_options_from(cfg);
    fo.trades = false;
    SignerWsJwtSource jwt_source(*signer);
    fo.jwt_source = &jwt_source;
    CoinbaseFeed feed(loop, std::move(fo));
    std::string error;
    if (feed.start(error) < 0) throw RunError("feed: " + error);
    std::atomic<bool> feed_stop{false};
    std::thread feed_thread([&] {
        std::vector<Tick> ticks(64);
        while (!feed_stop.load(std::memory_order_relaxed)) {
            const std::int64_t now = mono_ns();
            const std::size_t n = feed.poll(now, std::span<Tick>(ticks));
            for (std::size_t i = 0; i < n; ++i)
                cache.update(ticks[i].product_index, ticks[i].price, ticks[i].exchange_time_ns, now);
            if (n == 0) (void)loop.wait(1'000'000);
        }
        feed.stop();
        for (int i = 0; i < 50 && feed.phase() != CoinbaseFeed::Phase::idle; ++i) (void)loop.wait(1'000'000);
    });

    bridge::BridgeOptions bo;
    bo.stale_ns = cfg.coinbase_ws_stale_sec * 1'000'000'000;
    bo.api_base = cfg.coinbase_api_base;
    bo.feed_connected = [&feed] { return feed.phase() == CoinbaseFeed::Phase::live; };
    std::unique_ptr<bridge::BridgeBackend> backend = bridge::make_rest_backend(session.client());
    bridge::BridgeRoutes routes(*backend, cache, std::move(bo));
    io::HttpServer server(
        [&routes](const io::HttpServerRequest& req) {
            const std::int64_t t0 = mono_ns();
            io::HttpServerResponse r = routes.handle(req);
            std::fprintf(stderr, "cbtrade bridge: %s %s %u %.1f ms\n", escape_for_message(req.method, 16).c_str(),
                         escape_for_message(req.path(), 120).c_str(), r.status,
                         static_cast<double>(mono_ns() - t0) / 1e6);
            return r;
        },
        bridge::bridge_server_options(listen, port));
    if (const std::string err = server.start(); !err.empty()) {
        feed_stop.store(true);
        feed_thread.join();
        throw RunError("bridge: " + err);
    }
    std::fprintf(stderr, "cbtrade bridge: serving the bridge API on %s:%u%s; prices from %s for %zu product(s)\n",
                 escape_for_message(listen, 64).c_str(), static_cast<unsigned>(server.port()),
                 listen == "127.0.0.1" || listen == "::1" || listen == "localhost"
                     ? ""
                     : " (NOT loopback: anyone who reaches this address can place orders)",
                 escape_for_message(cfg.coinbase_ws_url, 200).c_str(), cache.products().size());

    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_bridge_stop;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    const std::int64_t end_ns = duration_s > 0 ? mono_ns() + static_cast<std::int64_t>(duration_s * 1e9) : 0;
    while (stop_signal.load(std::memory_order_relaxed) == 0) {
        if (end_ns != 0 && mono_ns() >= end_ns) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    server.stop();
    feed_stop.store(true);
    feed_thread.join();
    std::fprintf(stderr, "cbtrade bridge: stopped; %llu requests answered, %llu refused\n",
                 static_cast<unsigned long long>(routes.answered()), static_cast<unsigned long long>(routes.refused()));
    return 0;
}

}  // namespace

int cmd_bridge(int argc, char** argv) {
    return run_command("bridge", bridge_usage, run, argc, argv);
}
