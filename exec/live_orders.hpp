// exec/live_orders: real market orders on Coinbase from the daemon (DRY_RUN=false; DESIGN.md
// sections 2 and 5, issue 12 item 1). Three pieces on three threads, joined by two SPSC rings and
// the token pool:
//
//   exec thread: CoinbaseBroker        ops thread: TokenRefill       thread "cbt-orders": OrderDesk
//   takes a pre-signed JWT       <---- signs POST /orders JWTs
//   (exec/token_pool.hpp), writes      into the pool, replacing
//   the request into reused            them before they age
//   buffers and hands the bytes
//   to the kernel on its own warm
//   keep-alive TLS connection;
//   the first answer (or failure) ---- ticket ring ------------------> decodes it; resends with the
//                                                                     SAME client_order_id when the
//                                                                     outcome is unknown (5xx,
//                                                                     timeout, dropped connection)
//                                                                     or it was rate limited; polls
//                                                                     get-order until terminal
//   applies the outcome (fill:  <--- settlement ring ----------------- (average price, filled size,
//   average price, size, fees)                                        fees, partial IOC fills)
//
// Why a thread for the desk: settling is blocking REST work (RestClient retries with backoff,
// get-order polling) that can take seconds on a bad network. On the exec thread it would stall
// every price; on the ops thread it would delay the halt, the token pool and the files. The desk
// thread is low priority and talks to the others only through the rings. Only the latency of the
// first send matters (decision to bytes in the kernel: bench/bench_live_order.cpp); the rest is
// bookkeeping.
//
// Money rules (DESIGN.md section 5): every order has a fresh client_order_id (a version-4 UUID
// from a generator seeded by getrandom at start) and every resend reuses it; while an order's
// outcome is unknown the broker stays busy and nothing else is sent; an unknown outcome is never
// "resolved" by a new order, only by the exchange's answer for this client_order_id (reported
// loudly, counted once as bot_order_errors_total{reason="unknown_outcome"}). BUY orders spend
// quote_size (the trader's quantity at its price), SELL orders sell base_size, both floored to the
// product's increments as exact decimal text and checked against its minimums and maximums.
//
// The exec connection is kept warm: a GET /time (public, unsigned) every 15 s while idle, and a
// reconnect within a second of losing it. An order that arrives while that GET is in flight goes
// out as soon as its answer is read (one request at a time on the connection).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/bot_metrics.hpp"
#include "core/config.hpp"
#include "core/decimal.hpp"
#include "core/random.hpp"
#include "core/spsc_ring.hpp"
#include "core/stage_runner.hpp"
#include "exec/broker.hpp"
#include "exec/rest_client.hpp"
#include "exec/token_pool.hpp"
#include "io/http_client.hpp"

namespace cbtrade {

namespace rest {
class RestSession;
class BridgeClient;
class BridgeSession;
}  // namespace rest
class JwtSigner;

// What the broker needs of the product (GET /products/{id} at start-up).
struct LiveProduct {
    std::string product_id;
    DecimalIncrement base_increment;
    DecimalIncrement quote_increment;
    double base_min_size = 0;
    double base_max_size = 0;  // 0: no maximum
    double quote_min_size = 0;
    double quote_max_size = 0;  // 0: no maximum
    [[nodiscard]] static LiveProduct from(const rest::Product& p);
};

// The size text a BUY (quote_size: the order's quantity at its price) or SELL (base_size) of `order`
// carries, floored to the product's increment, into out[0, decimal_text_max_chars): its length, or 0
// when it floors to zero or falls outside the product's minimum and maximum. Exec thread: no allocation.
[[nodiscard]] std::size_t order_size_text(const LiveProduct& product, const OrderRequest& order, char* out) noexcept;

// ---- the records between the exec thread and the desk ----------------------------------------------

inline constexpr std::size_t order_answer_max_bytes = 3072;  // create-order answers are ~500 bytes

// How the exec thread's own attempt ended.
enum class FirstAttempt : std::uint8_t {
    answered,      // an HTTP answer (any status) is in the ticket
    not_sent,      // nothing reached the exchange (no connection): safe to send
    no_answer,     // sent, then the connection failed: the outcome is unknown
    timeout,       // sent, no answer in time: the outcome is unknown
    bad_response,  // an answer that is not HTTP or over the limits: the outcome is unknown
};

// exec -> desk: one order and what its first attempt brought.
struct OrderTicket {
    OrderRequest request;
    std::int64_t sent_ns;     // monotonic, when the bytes were handed to the kernel (0: not sent)
    std::int64_t settled_ns;  // monotonic, when the first attempt ended
    FirstAttempt first;
    bool body_truncated;  // the answer was larger than order_answer_max_bytes (treated as unreadable)
    std::uint16_t status;
    std::uint16_t body_bytes;
    std::uint8_t size_chars;
    std::uint8_t content_type_chars;
    char client_order_id[rest::client_order_id_chars];
    char size[decimal_text_max_chars];  // quote_size (BUY) or base_size (SELL) as sent
    char content_type[64];
    char body[order_answer_max_bytes];

    [[nodiscard]] std::string_view id() const noexcept { return {client_order_id, sizeof client_order_id}; }
    [[nodiscard]] std::string_view size_text() const noexcept { return {size, size_chars}; }
};

// desk -> exec: the order's outcome, or (final false) the exchange's acceptance of it, with its
// order_id, ahead of the outcome.
struct OrderSettlement {
    char client_order_id[rest::client_order_id_chars];
    OrderOutcome outcome;
    bool final = true;
};

using OrderTicketRing = SpscRing<OrderTicket, 4>;  // one order at a time: never full
using OrderSettlementRing = SpscRing<OrderSettlement, 4>;

// Exec thread: what the desk answered for the order in flight (both brokers read it so). An
// acceptance is kept for Broker::take_ack; answers for another client_order_id are dropped, counted.
class DeskAnswers {
public:
    explicit DeskAnswers(OrderSettlementRing& ring) noexcept : ring_(ring) {}
    // A new order: an acceptance not yet taken belonged to the last one.
    void reset() noexcept { ack_ready_ = false; }
    // true: the settlement of order `id` is in `out` (an acceptance read before it waits in take()).
    [[nodiscard]] bool read(const char* id, OrderOutcome& out) noexcept;
    [[nodiscard]] bool take_ack(OrderOutcome& out) noexcept;
    [[nodiscard]] std::uint64_t ignored() const noexcept { return ignored_; }

private:
    OrderSettlementRing& ring_;
    OrderOutcome ack_{};
    bool ack_ready_ = false;
    std::uint64_t ignored_ = 0;
};

// ---- exec thread -----------------------------------------------------------------------------------

struct CoinbaseBrokerOptions {
    LiveProduct product;
    std::string base_path = "/api/v3/brokerage";  // COINBASE_API_BASE's path
    std::uint32_t order_timeout_ms = 5000;        // the exec thread's attempt; the desk resends after it
    std::int64_t keepalive_ns = 15'000'000'000;   // GET /time when the connection was idle this long
    std::int64_t reconnect_ns = 1'000'000'000;    // after losing the connection, a GET /time this soon
};

class CoinbaseBroker final : public Broker {
public:
    // `http`: a client for COINBASE_API_BASE used by this broker alone, on the exec thread. Seeds:
    // random bits for client_order_ids (getrandom at start).
    CoinbaseBroker(io::HttpClient& http, TokenPool& tokens, OrderTicketRing& tickets, OrderSettlementRing& settlements,
                   CoinbaseBrokerOptions options, std::uint64_t seed_high, std::uint64_t seed_low);

    [[nodiscard]] bool live() const noexcept override { return true; }
    [[nodiscard]] bool submit(const OrderRequest& order, double market_price, std::int64_t now_ns,
                              OrderOutcome& out) noexcept override;
    [[nodiscard]] bool poll(std::int64_t now_ns, OrderOutcome& out) noexcept override;
    [[nodiscard]] bool busy() const noexcept override { return state_ != State::idle; }
    [[nodiscard]] bool take_ack(OrderOutcome& out) noexcept override { return answers_.take_ack(out); }
    void use_client_order_id(const char* id) noexcept override;

    // The size text a BUY (quote_size) or SELL (base_size) of `order` would carry, into out[0, 48):
    // its length, or 0 when it floors to zero or falls outside the product's minimum and maximum.
    [[nodiscard]] std::size_t size_text(const OrderRequest& order, char* out) const noexcept override;

    // Any thread (relaxed statistics).
    struct Stats {
        std::atomic<std::uint64_t> orders_sent{0};
        std::atomic<std::uint64_t> keepalives{0};
        std::atomic<std::uint64_t> settlements_ignored{0};  // for another client_order_id (never expected)
    };
    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }
    // The request bytes of the last order (tests, benchmarks): valid until the next submit.
    [[nodiscard]] std::string_view last_body() const noexcept { return body_; }

private:
    enum class State : std::uint8_t { idle, waiting_for_connection, sending, with_desk };
    void start_order(std::int64_t now_ns) noexcept;
    void start_keepalive(std::int64_t now_ns) noexcept;
    void hand_to_desk(std::int64_t now_ns) noexcept;

    io::HttpClient& http_;
    TokenPool& tokens_;
    OrderTicketRing& tickets_;
    DeskAnswers answers_;
    CoinbaseBrokerOptions options_;
    std::string orders_target_;  // base_path + "/orders"
    std::string time_target_;    // base_path + "/time"
    SplitMix64 ids_high_;
    SplitMix64 ids_low_;
    char next_id_[rest::client_order_id_chars] = {};  // use_client_order_id's, for the next submit
    bool next_id_set_ = false;
    State state_ = State::idle;
    bool keepalive_in_flight_ = false;
    bool ticket_pushed_ = false;   // the ticket of the order with the desk is on the ring
    std::int64_t last_io_ns_ = 0;  // the last request's start (keep-alive timing)
    OrderTicket ticket_{};         // the order in flight
    std::string body_;             // reused: JSON body
    std::string authorization_;    // reused: "Bearer " + token
    Stats stats_;
};

// The broker of the bridge path (BRIDGE_URL, no key; issue 12 item 5): the exec thread only sizes the
// order, gives it a client_order_id and hands it to the desk as a ticket whose first attempt is
// "not sent"; the desk (with a BridgeClient venue) sends it through the bridge and settles it. Not the
// low-latency path: the order crosses the desk thread and the bridge. Busy until the desk settles it.
class BridgeBroker final : public Broker {
public:
    BridgeBroker(OrderTicketRing& tickets, OrderSettlementRing& settlements, LiveProduct product,
                 std::uint64_t seed_high, std::uint64_t seed_low);
    [[nodiscard]] bool live() const noexcept override { return true; }
    [[nodiscard]] bool submit(const OrderRequest& order, double market_price, std::int64_t now_ns,
                              OrderOutcome& out) noexcept override;
    [[nodiscard]] bool poll(std::int64_t now_ns, OrderOutcome& out) noexcept override;
    [[nodiscard]] bool busy() const noexcept override { return busy_; }
    [[nodiscard]] bool take_ack(OrderOutcome& out) noexcept override { return answers_.take_ack(out); }
    void use_client_order_id(const char* id) noexcept override;
    [[nodiscard]] std::size_t size_text(const OrderRequest& order, char* out) const noexcept override {
        return order_size_text(product_, order, out);
    }

private:
    OrderTicketRing& tickets_;
    DeskAnswers answers_;
    LiveProduct product_;
    SplitMix64 ids_high_;
    SplitMix64 ids_low_;
    char next_id_[rest::client_order_id_chars] = {};  // use_client_order_id's, for the next submit
    bool next_id_set_ = false;
    bool busy_ = false;
    bool ticket_pushed_ = false;
    OrderTicket ticket_{};
};

// ---- ops thread ------------------------------------------------------------------------------------

// Keeps the token pool full of fresh JWTs for POST <host><base_path>/orders (a Stage polled on the
// ops thread; signing is 12-70 us a token, a few per 30 s).
class TokenRefill final : public Stage {
public:
    TokenRefill(TokenPool& pool, JwtSigner& signer, std::string host, std::string orders_path);
    std::string_view name() const noexcept override { return "tokens"; }
    std::size_t poll(std::int64_t now_ns) noexcept override;
    [[nodiscard]] std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }

private:
    TokenPool& pool_;
    JwtSigner& signer_;
    std::string host_;
    std::string orders_path_;
    std::atomic<std::uint64_t> failures_{0};
    bool failure_reported_ = false;
};

// ---- the desk --------------------------------------------------------------------------------------

// Where the desk sends orders and asks how they ended: the REST client (direct) or the bridge client
// (exec/bridge_client.hpp). Both resend create-order only with the same client_order_id and return
// unknown_outcome when no attempt's answer was seen.
class OrderVenue {
public:
    virtual ~OrderVenue() = default;
    [[nodiscard]] virtual rest::RestResult<rest::CreateOrderResult> create_market_order(
        const rest::MarketOrder& order) = 0;
    [[nodiscard]] virtual rest::RestResult<rest::Order> order(std::string_view order_id) = 0;
};
[[nodiscard]] std::unique_ptr<OrderVenue> make_rest_order_venue(rest::RestClient& client);
[[nodiscard]] std::unique_ptr<OrderVenue> make_bridge_order_venue(rest::BridgeClient& client);

struct OrderDeskOptions {
    std::int64_t unknown_retry_ns = 10'000'000'000;  // resend of an order whose outcome is unknown
    std::int64_t poll_first_ns = 100'000'000;        // get-order polling: first wait, doubling to
    std::int64_t poll_max_ns = 2'000'000'000;        // this
    bool log = true;                                 // one line per order on stderr
};

// Settles each order the exec thread sent (see the header comment). A Stage on its own thread: each
// poll does at most one blocking REST call, so a stop is seen between calls.
class OrderDesk final : public Stage {
public:
    OrderDesk(rest::RestClient& client, std::string product_id, OrderTicketRing& tickets,
              OrderSettlementRing& settlements, BotMetrics* metrics, OrderDeskOptions options = {},
              rest::RestClock& clock = rest::system_rest_clock());
    OrderDesk(OrderVenue& venue, std::string product_id, OrderTicketRing& tickets, OrderSettlementRing& settlements,
              BotMetrics* metrics, OrderDeskOptions options = {}, rest::RestClock& clock = rest::system_rest_clock());

    std::string_view name() const noexcept override { return "orders"; }
    std::size_t poll(std::int64_t now_ns) noexcept override;
    bool drained(std::int64_t) const noexcept override;

    // Any thread (relaxed).
    [[nodiscard]] std::uint64_t settled() const noexcept { return settled_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t unknown_outcomes() const noexcept { return unknown_.load(std::memory_order_relaxed); }

private:
    enum class Step : std::uint8_t { none, create, get_order };
    void begin(const OrderTicket& t, std::int64_t now_ns);
    void step_create(std::int64_t now_ns);
    void step_get_order(std::int64_t now_ns);
    void finish(const OrderOutcome& o, const std::string& what);
    // The exchange accepted the order (order_id_ known): told to the exec thread ahead of its outcome.
    void acknowledge();
    // Sends `s` for the ticket's order to the exec thread, with the exchange's order_id when known.
    void push_to_exec(OrderSettlement& s);
    void declare_unknown(const std::string& why);
    [[nodiscard]] rest::MarketOrder market_order() const;

    std::unique_ptr<OrderVenue> owned_venue_;  // the REST client's, when built from one
    OrderVenue& client_;
    std::string product_id_;
    OrderTicketRing& tickets_;
    OrderSettlementRing& settlements_;
    BotMetrics* metrics_;
    OrderDeskOptions options_;
    rest::RestClock& clock_;
    std::optional<OrderTicket> ticket_;  // the order being settled
    Step step_ = Step::none;
    bool maybe_executed_ = false;  // some attempt may have placed it: a refusal now settles nothing
    bool unknown_declared_ = false;
    std::string order_id_;
    std::int64_t next_ns_ = 0;
    std::int64_t poll_wait_ns_ = 0;
    std::atomic<std::uint64_t> settled_{0};
    std::atomic<std::uint64_t> unknown_{0};
};

// Rest-result classification shared by the desk and its tests: the OrderError of a refusal.
[[nodiscard]] OrderError order_error_of(const rest::RestError& e) noexcept;

// The outcome of a terminal order as the exchange reports it (the desk's and reconciliation's rule,
// exec/reconcile.hpp): qty the filled size, price filled_value / size (the quote that actually moved,
// so the trader's cash follows the account to the cent; average_filled_price is rounded to the price
// increment), fees total_fees; nothing filled: qty 0 and not_filled. Side, reason, time: the request's.
[[nodiscard]] OrderOutcome outcome_of(const rest::Order& o, const OrderRequest& request) noexcept;

// ---- everything a live run needs ---------------------------------------------------------------------

// Built on the main thread (cold) from the configuration and the product the start-up checks read;
// hands the pipeline its broker and stages (pipeline/pipeline.hpp: PipelineSetup).
class LiveOrders {
public:
    // Throws ConfigError / RunError like rest::RestSession (bad URL, key, CA file; io_uring).
    LiveOrders(const Config& config, const rest::Product& product, BotMetrics& metrics);
    ~LiveOrders();
    LiveOrders(const LiveOrders&) = delete;
    LiveOrders& operator=(const LiveOrders&) = delete;

    // Cold, before the pipeline starts: signs the first tokens and opens the exec connection (a GET
    // /time), so the first order goes out warm. "" or why it failed (the daemon still starts; the
    // broker reconnects on its own).
    [[nodiscard]] std::string warm_up();

    [[nodiscard]] Broker& broker() noexcept { return *broker_; }
    [[nodiscard]] Stage& desk() noexcept { return *desk_; }
    [[nodiscard]] Stage& token_refill() noexcept { return *refill_; }
    [[nodiscard]] TokenPool& tokens() noexcept { return *tokens_; }

private:
    std::unique_ptr<rest::RestSession> exec_session_;  // its HttpClient: the exec thread's connection
    std::unique_ptr<rest::RestSession> desk_session_;  // the desk's REST client (signs its own requests)
    std::unique_ptr<JwtSigner> refill_signer_;         // the ops thread's signer (one per thread)
    std::unique_ptr<TokenPool> tokens_;
    std::unique_ptr<OrderTicketRing> tickets_;
    std::unique_ptr<OrderSettlementRing> settlements_;
    std::unique_ptr<CoinbaseBroker> broker_;
    std::unique_ptr<TokenRefill> refill_;
    std::unique_ptr<OrderDesk> desk_;
};

// Everything a run through the bridge needs (BRIDGE_URL, no key): the broker and the desk with its own
// bridge connection. Throws ConfigError for a bad BRIDGE_URL, RunError when io_uring is unavailable.
class BridgeOrders {
public:
    BridgeOrders(const Config& config, const rest::Product& product, BotMetrics& metrics);
    ~BridgeOrders();
    BridgeOrders(const BridgeOrders&) = delete;
    BridgeOrders& operator=(const BridgeOrders&) = delete;
    [[nodiscard]] Broker& broker() noexcept { return *broker_; }
    [[nodiscard]] Stage& desk() noexcept { return *desk_; }

private:
    std::unique_ptr<rest::BridgeSession> desk_session_;
    std::unique_ptr<OrderVenue> venue_;
    std::unique_ptr<OrderTicketRing> tickets_;
    std::unique_ptr<OrderSettlementRing> settlements_;
    std::unique_ptr<BridgeBroker> broker_;
    std::unique_ptr<OrderDesk> desk_;
};

}  // namespace cbtrade
