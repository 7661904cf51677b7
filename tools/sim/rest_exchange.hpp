// tools/sim/: the simulator's REST side under /api/v3/brokerage, answering in the shapes of
// coinbase-api.md section 3 so that a client written against Coinbase's documentation works
// against it unchanged:
//   GET  /time                                   public
//   GET  /key_permissions                        can_view, can_trade (--no-trade-scope)
//   GET  /accounts?limit=&cursor=                paged (limit 1..250, default 49)
//   GET  /products/{id}, /market/products/{id}   increments, minimums, status, trading_disabled
//   GET  /products/{id}/candles, /market/...     the series the WebSocket replays, newest first,
//                                                400 beyond 350 buckets per request
//   POST /orders                                 market IOC orders filled at the current price with
//                                                a fee; a client_order_id sent again returns the first
//                                                order instead of making a second
//   GET  /orders/historical/{order_id}           {"order":{...}}
//   GET  /orders/historical/fills?order_ids=     {"fills":[...],"cursor":""}
//   GET  /orders/historical/batch?product_ids=&start_date=&limit=&cursor=
//                                                list orders, newest first, each with its client_order_id
//                                                ({"orders":[...],"has_next","cursor"}; fault route list_orders)
// Private endpoints need "Authorization: Bearer <JWT>" that JwtVerifier accepts (uri claim = this
// request), else 401 "Unauthorized" in plain text, as Coinbase answers. Requests beyond 10 public /
// 30 private per second get 429 with an HTML page. Faults on demand (--rest-fault). Also GET
// /sim/state: the order counts and balances a test checks ({"orders":N,"order_repeats":M,...,
// "balances":{"USD":"...","BTC":"..."}}).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tools/sim/http_routes.hpp"
#include "tools/sim/sim_options.hpp"
#include "tools/sim/jwt_verify.hpp"

namespace cbtrade::sim {

class SimContext;

struct RestStats {
    std::uint64_t requests = 0;
    std::uint64_t orders = 0;         // orders created (each client_order_id at most once)
    std::uint64_t order_repeats = 0;  // create-order requests whose client_order_id was known
    std::uint64_t unauthorized = 0;
    std::uint64_t rate_limited = 0;
    std::uint64_t faults = 0;
    // A create-order that reuses a known client_order_id for another order (product, side or size):
    // on Coinbase the second order would silently be the first one.
    std::uint64_t duplicate_orders = 0;
    // A create-order with a new client_order_id while an earlier order's answer was withheld (500,
    // 503, timeout or drop after it was placed) and the client has not learnt it since (an answered
    // resend of that client_order_id, or a look-up of the order or its fills): DESIGN.md section 5
    // forbids sending while an outcome is unknown.
    std::uint64_t orders_while_unknown = 0;
};

class RestExchange {
public:
    explicit RestExchange(SimContext& ctx);
    ~RestExchange();
    RestExchange(const RestExchange&) = delete;
    RestExchange& operator=(const RestExchange&) = delete;

    // Reads the --api-key files; throws std::runtime_error naming a bad one.
    void load_keys();

    // Every request under /api/v3/brokerage.
    [[nodiscard]] SimReply handle(const HttpRequest& req);
    // GET /sim/state.
    [[nodiscard]] SimReply state(const HttpRequest& req) const;
    // POST /sim/fault?spec=ROUTE:KIND[:N]: one more fault, as --rest-fault gives at start (tests
    // that need a fault after the client started, e.g. a failing refresh).
    // spec=ws:KIND[:N] adds WebSocket faults (sim_options.hpp), spec=clear drops every fault not yet
    // applied (REST and WebSocket).
    [[nodiscard]] SimReply add_fault(const HttpRequest& req);
    // REST fault answers and WebSocket faults still to be applied.
    [[nodiscard]] std::uint64_t pending_faults() const;
    // A WebSocket subscribe's jwt: empty when accepted (or when no key was given), else why not.
    [[nodiscard]] std::string check_ws_jwt(std::string_view jwt) const;

    [[nodiscard]] const RestStats& stats() const noexcept { return stats_; }
    // The exchange's clock (this machine's plus --clock-offset-sec), UNIX microseconds.
    [[nodiscard]] std::int64_t now_us() const;

private:
    struct Account {
        std::string uuid;
        std::string currency;
        double balance = 0;
    };
    struct Order {
        std::string order_id;
        std::string client_order_id;
        std::string product_id;
        bool buy = true;
        std::string size_text;  // quote_size (BUY) or base_size (SELL) as sent
        double filled_size = 0;
        double price = 0;
        double filled_value = 0;
        double fee = 0;
        std::int64_t time_us = 0;
    };
    using Query = std::multimap<std::string, std::string, std::less<>>;

    [[nodiscard]] SimReply accounts(const HttpRequest& req, const Query& q);
    [[nodiscard]] SimReply product(const HttpRequest& req, const std::string& id);
    [[nodiscard]] SimReply candles(const HttpRequest& req, const std::string& id, const Query& q);
    [[nodiscard]] SimReply create_order(const HttpRequest& req, std::optional<std::string_view> fault);
    [[nodiscard]] SimReply get_order(const HttpRequest& req, const std::string& id);
    [[nodiscard]] SimReply fills(const HttpRequest& req, const Query& q);
    [[nodiscard]] SimReply list_orders(const HttpRequest& req, const Query& q);
    [[nodiscard]] SimReply fault_reply(const HttpRequest& req, std::string_view kind) const;

    [[nodiscard]] bool over_rate_limit(bool is_public);
    // The first --rest-fault for this route that still has a count left (consumed).
    [[nodiscard]] std::optional<std::string> take_fault(std::string_view route);
    Account& account(const std::string& currency);
    [[nodiscard]] std::string order_json(const Order& o) const;

    SimContext& ctx_;
    JwtVerifier verifier_;
    RestStats stats_;
    std::vector<SimOptions::RestFault> faults_;  // --rest-fault and POST /sim/fault; count = left
    std::deque<std::int64_t> public_times_us_;
    std::deque<std::int64_t> private_times_us_;
    std::vector<Account> accounts_;
    std::vector<Order> orders_;
    std::map<std::string, std::size_t, std::less<>> order_by_client_id_;
    std::map<std::string, std::uint64_t, std::less<>> requests_by_client_id_;
    // client_order_ids whose create-order answer was withheld and not learnt since (orders_while_unknown).
    std::set<std::string, std::less<>> withheld_;
};

// The simulator's routes: /api/v3/brokerage/... and /sim/state.
[[nodiscard]] HttpRouter make_sim_router(RestExchange& rest);

}  // namespace cbtrade::sim
