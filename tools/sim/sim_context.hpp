// tools/sim/: state shared by all connections of one simulator run. Everything runs on one
// io_context thread, so nothing here is atomic.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "tools/sim/http_routes.hpp"
#include "tools/sim/market_feed.hpp"
#include "tools/sim/sim_options.hpp"

namespace cbtrade::sim {

struct SimStats {
    std::uint64_t tcp_connections = 0;
    std::uint64_t ws_sessions = 0;
    std::uint64_t messages = 0;  // data messages written (ticker, heartbeats, subscriptions)
    std::uint64_t heartbeats = 0;
    std::uint64_t sent_ticks = 0;  // ticker objects written, snapshots included
    std::int64_t price_cents_sum = 0;
    std::uint64_t sent_trades = 0;  // market_trades records written, snapshot repeats included
    std::int64_t trade_price_cents_sum = 0;
    std::int64_t trade_size_units = 0;  // sizes in units of 1e-8
    std::uint64_t seq_skips = 0;
    std::uint64_t drops = 0;
    std::uint64_t stalls = 0;
    std::uint64_t bad_frames = 0;
    std::uint64_t bad_json = 0;
    std::uint64_t bad_prices = 0;  // ticker messages of absurd prices (three refused records each)
    std::uint64_t refused_upgrades = 0;
    std::uint64_t subscribe_timeouts = 0;
    std::uint64_t client_errors = 0;  // error messages sent for bad client requests
    std::uint64_t ws_jwts = 0;        // subscribe messages whose JWT was accepted
    std::uint64_t tls_errors = 0;     // garbage records written under the TLS layer (ws:tls_error)
    std::uint64_t ws_faults = 0;      // run-time WebSocket faults applied (POST /sim/fault?spec=ws:...)
};

// A live WebSocket session; wake() makes it re-check the shared state (stop requested).
class SessionWaker {
public:
    virtual void wake() = 0;

protected:
    ~SessionWaker() = default;
};

class RestExchange;

class SimContext {
public:
    SimContext(const SimOptions& opts, std::shared_ptr<const std::vector<Candle>> csv_candles, std::int64_t csv_step_s);
    ~SimContext();
    SimContext(const SimContext&) = delete;
    SimContext& operator=(const SimContext&) = delete;

    const SimOptions& options;
    SimStats stats;
    std::unique_ptr<RestExchange> rest;  // the REST side (rest_exchange.hpp); owns its own stats
    HttpRouter router;
    const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    // The feed of one product, created on first use. Feeds are global: reconnecting clients
    // continue the same market, and every tick is sent once.
    [[nodiscard]] MarketFeed& feed(const std::string& product_id);
    [[nodiscard]] std::int64_t tick_interval_us() const noexcept;
    [[nodiscard]] std::int64_t step_s() const noexcept { return step_s_; }

    // The candles of the series the WebSocket replays for `product_id` with start_s <= time <=
    // end_s, oldest first: the CSV (the same for every product), or the product's synthetic market
    // from its start up to now (the synthetic market has no earlier history).
    [[nodiscard]] std::vector<Candle> series(const std::string& product_id, std::int64_t start_s, std::int64_t end_s);
    // The last price the product's feed handed out, else the series' first open (REST market orders).
    [[nodiscard]] std::int64_t current_price_cents(const std::string& product_id);

    // The market time of the newest quote sent (UNIX microseconds; 0 before the first): campaigns
    // restarting a client cut its history file just before it (/sim/state "market_time_s").
    std::int64_t market_time_us = 0;

    // --messages budget: ticker objects promised to writes in flight or done.
    std::uint64_t ticks_reserved = 0;
    [[nodiscard]] std::uint64_t tick_budget_left() const noexcept;

    // The i-th WebSocket connection (0-based) and its drop point, if --drop-after scheduled one.
    std::uint64_t next_ws_index = 0;

    bool stopping = false;
    void request_stop(const std::string& reason);
    std::function<void()> on_stop;  // set by main: stop accepting, arm a hard deadline
    std::function<void()> on_idle;  // set by main: called when stopping and no session is left

    std::set<SessionWaker*> sessions;
    void session_ended();

    // Run-time WebSocket faults not yet applied, oldest first (POST /sim/fault?spec=ws:...).
    std::deque<SimOptions::WsFault> ws_faults;
    void add_ws_faults(const std::vector<SimOptions::WsFault>& faults);

    void log(const std::string& line) const;

private:
    std::shared_ptr<const std::vector<Candle>> csv_candles_;
    std::int64_t step_s_;
    std::int64_t synthetic_start_s_;
    std::map<std::string, std::unique_ptr<MarketFeed>> feeds_;
    std::map<std::string, std::uint64_t> seeds_;  // the synthetic seed each product's feed got
    std::map<std::string, std::vector<Candle>> synthetic_history_;
};

}  // namespace cbtrade::sim
