// exec/bridge_client: the daemon's side of the earlier stack's HTTP bridge (BRIDGE_URL; issue 12
// item 5): `cbtrade bridge`, or the Python bridge it replaces, holds the exchange key and the daemon
// holds none. Request and answer shapes are in README ("The bridge API"); the answers that are the
// exchange's own shapes (accounts, product, candles, create-order, order) go through the REST
// decoders (exec/rest_messages.hpp), so both sides check the same contract, and tolerantly (numbers
// as strings or numbers, unknown members ignored).
//
// Blocking, like the REST client, for start-up, the ops thread and the order desk (one client per
// thread). Reads are retried on network failures, 429 and 5xx with capped backoff; an order is sent
// again only with the SAME client_order_id (the bridge passes it to the exchange, which answers a
// repeat with the first order), and unknown_outcome is returned when no attempt's answer was seen.
// This path is not the low-latency one: each order crosses the bridge (an HTTP hop and its own REST
// call) and is sent from the order desk thread, not the exec thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "exec/exchange_access.hpp"
#include "exec/rest_client.hpp"

namespace cbtrade::rest {

struct BridgeClientOptions {
    std::string base_path;            // BRIDGE_URL's path without a trailing '/' ("" for http://bridge:8787)
    std::string describe;             // "bridge (http://bridge:8787)"
    int max_attempts = 3;             // per call, first send included
    std::int64_t timeout_ms = 15000;  // per attempt: the bridge makes its own exchange call inside it
    std::int64_t backoff_initial_ms = 250;
    std::int64_t backoff_max_ms = 4000;
};

class BridgeClient {
public:
    BridgeClient(HttpTransport& transport, BridgeClientOptions options, RestClock& clock = system_rest_clock());

    [[nodiscard]] RestResult<BridgeHealth> health();
    [[nodiscard]] RestResult<AccountsPage> accounts_page(std::size_t limit, std::string_view cursor);
    [[nodiscard]] RestResult<std::vector<Account>> all_accounts(std::size_t max_pages = 100);
    [[nodiscard]] RestResult<Product> product(std::string_view product_id);
    // At most `limit` (<= 300) buckets in [start_s, end_s], oldest first.
    [[nodiscard]] RestResult<std::vector<Candle>> candles(std::string_view product_id, Granularity granularity,
                                                          std::int64_t start_s, std::int64_t end_s, std::size_t limit);
    [[nodiscard]] RestResult<BridgePrice> price(std::string_view product_id);
    // POST /order/market with the order's client_order_id (see the header comment).
    [[nodiscard]] RestResult<CreateOrderResult> create_market_order(const MarketOrder& order);
    // GET /order/{order_id}: cbtrade bridge's addition (an earlier bridge without it answers 404).
    [[nodiscard]] RestResult<Order> order(std::string_view order_id);

    [[nodiscard]] const BridgeClientOptions& options() const noexcept { return options_; }
    [[nodiscard]] std::uint64_t requests() const noexcept { return requests_; }

private:
    struct Answer {
        std::optional<TransportResponse> response;
        RestError error;  // when there is no response
        bool maybe_sent = false;
    };
    [[nodiscard]] Answer send(std::string_view method, const std::string& target, std::string_view body);
    [[nodiscard]] Answer get_with_retries(const std::string& target);
    [[nodiscard]] std::int64_t backoff_ns(int attempt);

    HttpTransport& transport_;
    BridgeClientOptions options_;
    RestClock& clock_;
    std::uint64_t requests_ = 0;
};

// BridgeClientOptions from BRIDGE_URL (http:// to any host is accepted here only: see io/url.hpp).
// Throws ConfigError naming BRIDGE_URL when it is empty or not a URL.
[[nodiscard]] BridgeClientOptions bridge_client_options(const Config& config);

// A BridgeClient over io/http_client (io_uring; TLS for https://), one keep-alive connection.
class BridgeSession {
public:
    // Throws ConfigError for a bad BRIDGE_URL or TLS_CA_FILE, RunError when io_uring is unavailable or
    // the bridge host does not resolve.
    explicit BridgeSession(const Config& config, std::int64_t timeout_ms = 15000);
    ~BridgeSession();
    BridgeSession(const BridgeSession&) = delete;
    BridgeSession& operator=(const BridgeSession&) = delete;
    [[nodiscard]] BridgeClient& client() noexcept { return *client_; }

private:
    struct Parts;
    std::unique_ptr<Parts> parts_;
    std::unique_ptr<BridgeClient> client_;
};

// ExchangeAccess through the bridge (accounts every page, the product, candles paged as
// plan_candle_pages says). `client` must outlive the result.
[[nodiscard]] std::unique_ptr<ExchangeAccess> make_bridge_exchange_access(BridgeClient& client);

}  // namespace cbtrade::rest
