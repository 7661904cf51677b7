// bridge/: `cbtrade bridge`, the earlier stack's HTTP bridge (a Python FastAPI sidecar that held the
// exchange keys) served by this program, so the earlier bot, curl scripts and dashboards keep working
// with the sidecar retired (issue 12 item 6). The API and every request and answer shape are in
// README ("The bridge API"):
//   GET  /health                     {"status":"ok",...}
//   GET  /accounts?limit=&cursor=    {"accounts":[...],"has_next":..,"cursor":".."} (Coinbase's page)
//   GET  /product/{product_id}       the product object
//   GET  /candles?product_id=&granularity=&limit=&start=&end=   {"candles":[...]} all fields strings
//   GET  /price?product_id=          the last WebSocket price: {"product_id","price","time","age_sec","stale"}
//   POST /order/market               {product_id, side, quote_size|base_size, client_order_id?}
//   POST /orders/market_buy          {product_id, quote_size, client_order_id?}
//   GET  /order/{order_id}           {"order":{...}} (cbtrade's addition: how the bridge broker settles)
// Exchange calls go through the direct REST client (exec/rest_client.hpp: its budget, retries and
// same-client_order_id resends); /price reads a cache the WebSocket feed thread writes.
//
// The bridge has no authentication of its own, like the one it replaces: it listens on loopback
// unless BRIDGE_LISTEN says otherwise, and nothing it answers, logs or refuses ever holds the key.
// Requests are served one at a time on the server thread (io/http_server.hpp: connection cap,
// deadlines, size limits); an exchange call is bounded by the REST client's timeouts.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/config.hpp"
#include "exec/rest_messages.hpp"
#include "io/http_server.hpp"

namespace cbtrade::rest {
class RestClient;
}

namespace cbtrade::bridge {

inline constexpr std::uint16_t default_port = 8787;
inline constexpr std::size_t max_request_body_bytes = 4096;  // an order body is ~150 bytes

// What the bridge asks of the exchange: the direct REST client in `cbtrade bridge`, a script in tests.
class BridgeBackend {
public:
    virtual ~BridgeBackend() = default;
    [[nodiscard]] virtual rest::RestResult<rest::AccountsPage> accounts_page(std::size_t limit,
                                                                             std::string_view cursor) = 0;
    [[nodiscard]] virtual rest::RestResult<rest::Product> product(std::string_view product_id) = 0;
    [[nodiscard]] virtual rest::RestResult<std::vector<Candle>> candles(std::string_view product_id,
                                                                        Granularity granularity, std::int64_t start_s,
                                                                        std::int64_t end_s, std::size_t limit) = 0;
    [[nodiscard]] virtual rest::RestResult<rest::CreateOrderResult> create_market_order(
        const rest::MarketOrder& order) = 0;
    [[nodiscard]] virtual rest::RestResult<rest::Order> order(std::string_view order_id) = 0;
};
[[nodiscard]] std::unique_ptr<BridgeBackend> make_rest_backend(rest::RestClient& client);

// The last price of each subscribed product: the feed thread writes (update), the server thread
// reads (get). A seqlock per product: the writer never waits, a reader retries a torn read.
class TickerCache {
public:
    explicit TickerCache(std::vector<std::string> products);
    struct Entry {
        bool seen = false;
        double price = 0;
        std::int64_t exchange_time_ns = 0;  // the ticker's own timestamp
        std::int64_t received_ns = 0;       // monotonic, when the feed thread took it
    };
    void update(std::size_t index, double price, std::int64_t exchange_time_ns, std::int64_t received_ns) noexcept;
    [[nodiscard]] Entry get(std::size_t index) const noexcept;
    [[nodiscard]] std::optional<std::size_t> index_of(std::string_view product_id) const noexcept;
    [[nodiscard]] const std::vector<std::string>& products() const noexcept { return products_; }

private:
    struct Slot {
        std::atomic<std::uint64_t> seq{0};
        std::atomic<double> price{0};
        std::atomic<std::int64_t> exchange_time_ns{0};
        std::atomic<std::int64_t> received_ns{0};
    };
    std::vector<std::string> products_;
    std::unique_ptr<Slot[]> slots_;
};

struct BridgeOptions {
    std::int64_t stale_ns = 10'000'000'000;  // COINBASE_WS_STALE_SEC
    std::string api_base;                    // for /health: where the exchange calls go (no secret in it)
    std::function<std::int64_t()> now_ns;    // monotonic; empty: steady_clock
    std::function<bool()> feed_connected;    // /health's "ws_connected"; empty: false
};

// The routes: one answer per request, never an exception; the key is never part of any answer.
class BridgeRoutes {
public:
    BridgeRoutes(BridgeBackend& backend, const TickerCache& cache, BridgeOptions options);
    [[nodiscard]] io::HttpServerResponse handle(const io::HttpServerRequest& request);
    // Requests answered with 2xx / with an error (any thread, relaxed).
    [[nodiscard]] std::uint64_t answered() const noexcept { return answered_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }

private:
    io::HttpServerResponse route(const io::HttpServerRequest& request);
    io::HttpServerResponse health();
    io::HttpServerResponse accounts(std::string_view query);
    io::HttpServerResponse product(std::string_view id);
    io::HttpServerResponse candles(std::string_view query);
    io::HttpServerResponse price(std::string_view query);
    io::HttpServerResponse create_order(std::string_view body, bool buy_only);
    io::HttpServerResponse order(std::string_view id);
    [[nodiscard]] std::int64_t now() const;

    BridgeBackend& backend_;
    const TickerCache& cache_;
    BridgeOptions options_;
    std::atomic<std::uint64_t> answered_{0};
    std::atomic<std::uint64_t> refused_{0};
};

// The server options `cbtrade bridge` uses: PORT (8787 unless set), BRIDGE_LISTEN (127.0.0.1 unless
// set), a small body limit and short deadlines.
[[nodiscard]] io::HttpServerOptions bridge_server_options(std::string address, std::uint16_t port);

}  // namespace cbtrade::bridge
