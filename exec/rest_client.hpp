// exec/rest_client: the Coinbase REST calls (exec/rest_messages.hpp) sent over an HTTP transport,
// with what a program trusted with exchange keys must do around them:
//   - every private request carries a fresh JWT bound to its method, host and path;
//   - a client-side request budget (token buckets, default 20/s private and 6/s public, bursts of
//     5 and 2) keeps below the exchange's 30/s and 10/s (coinbase-api.md 3.9), so 429s are rare;
//   - idempotent calls are retried on network failures, timeouts, 429 and 5xx with capped
//     exponential backoff and full jitter (Retry-After honoured), and never on 4xx answers;
//   - create-order is never sent under a new client_order_id: after an unknown outcome (timeout,
//     dropped connection, 5xx, an unreadable 2xx) it is resent with the SAME client_order_id, which
//     the exchange answers with the first order instead of making a second (coinbase-api.md 3.6);
//     if the outcome is still unknown after the last attempt the caller gets unknown_outcome and
//     the client_order_id to reconcile with, never a silent failure.
//
// Blocking: for the cold commands (check, backfill) and the ops thread. The transport and the clock
// are interfaces so that tests can script answers and time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.hpp"
#include "exec/jwt.hpp"
#include "exec/rest_messages.hpp"

namespace cbtrade::rest {

// ---- transport -----------------------------------------------------------------------------------

struct HeaderField {
    std::string_view name;
    std::string_view value;
};

struct TransportRequest {
    std::string_view method;
    std::string_view target;  // origin form, e.g. "/api/v3/brokerage/accounts?limit=250"
    std::span<const HeaderField> headers;
    std::string_view body;
    std::int64_t timeout_ms = 10000;  // for the whole exchange (connect, send, answer)
};

struct TransportResponse {
    int status = 0;
    std::string content_type;
    std::string body;
    std::optional<std::string> retry_after;  // the Retry-After header, when present
};

enum class TransportFailure : std::uint8_t {
    none,
    not_sent,      // nothing reached the server (resolve, connect, TLS handshake): safe to resend
    no_answer,     // sent (or maybe sent), then the connection failed before a complete answer
    timeout,       // sent (or maybe sent), no complete answer before the timeout
    bad_response,  // an answer that is not HTTP, or larger than the limits
};

struct TransportResult {
    std::optional<TransportResponse> response;
    TransportFailure failure = TransportFailure::none;
    std::string message;  // one line: host and what failed
};

class HttpTransport {
public:
    virtual ~HttpTransport() = default;
    // One request, one answer or a failure, within request.timeout_ms. The transport adds Host and
    // Content-Length; keeps one connection alive between calls and reconnects when it was closed.
    [[nodiscard]] virtual TransportResult exchange(const TransportRequest& request) = 0;
};

// Monotonic time and sleeping, replaceable in tests.
class RestClock {
public:
    virtual ~RestClock() = default;
    [[nodiscard]] virtual std::int64_t now_ns() = 0;
    // Wall-clock UNIX milliseconds (JWT nbf/exp, clock skew).
    [[nodiscard]] virtual std::int64_t unix_ms() = 0;
    [[nodiscard]] std::int64_t unix_s() { return unix_ms() / 1000; }
    virtual void sleep_ns(std::int64_t ns) = 0;
};
// CLOCK_MONOTONIC, CLOCK_REALTIME and nanosleep.
[[nodiscard]] RestClock& system_rest_clock();

// ---- shared by the clients (this one and exec/bridge_client.hpp) ---------------------------------------

// The wait before retry `attempt` (1 = the first retry): base_ms doubling up to max_ms, half fixed and
// half random (so many clients spread out), at least Retry-After when it names 1..60 seconds.
[[nodiscard]] std::int64_t retry_backoff_ns(int attempt, std::int64_t base_ms, std::int64_t max_ms,
                                            const std::optional<std::string>& retry_after, SplitMix64& jitter);

// Every account, following the cursor from "" through `fetch_page` (at most max_pages pages; more,
// or a cursor that does not advance, is a malformed error).
[[nodiscard]] RestResult<std::vector<Account>> collect_account_pages(
    const std::function<RestResult<AccountsPage>(std::string_view cursor)>& fetch_page, std::size_t max_pages);

// ---- client --------------------------------------------------------------------------------------

struct RestClientOptions {
    std::string host;  // for the JWT uri claim: the API host without port
    std::string base_path = "/api/v3/brokerage";
    double private_per_s = 20;  // request budget (token refill per second)
    double private_burst = 5;
    double public_per_s = 6;
    double public_burst = 2;
    int max_attempts = 5;  // per call, first send included
    std::int64_t backoff_initial_ms = 250;
    std::int64_t backoff_max_ms = 8000;
    std::int64_t rate_limited_backoff_ms = 1000;  // first wait after a 429
    std::int64_t timeout_ms = 10000;              // per attempt
    std::string user_agent = "cbtrade/0.1.0";
};

struct RestClientStats {
    std::uint64_t requests = 0;  // sends, retries included
    std::uint64_t retries = 0;
    std::uint64_t rate_limited = 0;  // 429 answers
    std::uint64_t budget_waits = 0;  // sends delayed by the client's own budget
    std::int64_t budget_wait_ns = 0;
    std::uint64_t unknown_outcomes = 0;  // create-order attempts whose outcome was not seen
};

inline constexpr std::int64_t clock_skew_warn_ms = 5000;

// Candle buckets of one request (the API caps them; coinbase-api.md 3.4).
inline constexpr std::size_t default_candles_per_request = max_candles_per_request;

class RestClient {
public:
    // `signer` may be null: then only the public endpoints work (time, market/ products and
    // candles) and private calls fail with unauthorized without being sent.
    RestClient(HttpTransport& transport, JwtSigner* signer, RestClientOptions options,
               RestClock& clock = system_rest_clock());

    [[nodiscard]] bool authenticated() const noexcept { return signer_ != nullptr; }
    [[nodiscard]] const RestClientOptions& options() const noexcept { return options_; }
    [[nodiscard]] const RestClientStats& stats() const noexcept { return stats_; }

    [[nodiscard]] RestResult<ServerTime> server_time();
    // The exchange clock minus ours, from one server-time request (the local time taken at the
    // middle of the round trip). Above clock_skew_warn_ms JWTs risk being refused (nbf/exp).
    struct ClockSkew {
        std::int64_t skew_ms = 0;
        std::int64_t round_trip_ms = 0;
    };
    [[nodiscard]] RestResult<ClockSkew> clock_skew();
    [[nodiscard]] RestResult<KeyPermissions> key_permissions();
    [[nodiscard]] RestResult<AccountsPage> accounts_page(std::size_t limit, std::string_view cursor);
    // Every account, following the cursor (at most max_pages pages; more is an error).
    [[nodiscard]] RestResult<std::vector<Account>> all_accounts(std::size_t max_pages = 100);
    // The authenticated endpoint with credentials, the public market/ one without (or when asked).
    [[nodiscard]] RestResult<Product> product(std::string_view product_id, bool public_endpoint = false);
    // Candles with start_s <= time <= end_s in time order (<= limit buckets per call); from the
    // public market/ endpoint without credentials or when `public_endpoint` asks for it.
    [[nodiscard]] RestResult<std::vector<Candle>> candles(std::string_view product_id, Granularity granularity,
                                                          std::int64_t start_s, std::int64_t end_s,
                                                          std::size_t limit = default_candles_per_request,
                                                          bool public_endpoint = false);
    // See the header comment: same client_order_id on every attempt; unknown_outcome when no
    // attempt's answer was seen.
    [[nodiscard]] RestResult<CreateOrderResult> create_market_order(const MarketOrder& order);
    [[nodiscard]] RestResult<Order> order(std::string_view order_id);
    // One page of list orders: the product's orders created at or after start_unix_s (at most `limit`,
    // 1..max_orders_per_page), the next page by the cursor of the one before.
    [[nodiscard]] RestResult<OrdersPage> orders_page(std::string_view product_id, std::int64_t start_unix_s,
                                                     std::size_t limit, std::string_view cursor);
    // Every fill of one order, following the cursor.
    [[nodiscard]] RestResult<std::vector<FillRecord>> fills(std::string_view order_id, std::size_t max_pages = 20);
    // Polls get-order until a terminal status or `timeout_ms`; the last seen order either way
    // (status not terminal when it timed out).
    [[nodiscard]] RestResult<Order> wait_for_order(std::string_view order_id, std::int64_t timeout_ms = 10000,
                                                   std::int64_t poll_ms = 250);

    // One attempt's answer, for the calls above and tests.
    struct Answer {
        std::optional<TransportResponse> response;
        RestError error;  // set when there is no response (transport failure or not sent)
        bool maybe_sent = false;
    };

private:
    [[nodiscard]] Answer send_once(const RestRequest& request);
    // Sends with retries as the policy above says; for idempotent reads.
    [[nodiscard]] Answer send_with_retries(const RestRequest& request, std::string_view what);
    void wait_for_budget(bool is_public);
    [[nodiscard]] std::int64_t backoff_ns(int attempt, bool rate_limited,
                                          const std::optional<std::string>& retry_after);

    struct Bucket {
        double tokens = 0;
        std::int64_t last_ns = 0;
        bool started = false;
    };

    HttpTransport& transport_;
    JwtSigner* signer_;
    RestClientOptions options_;
    RestClock& clock_;
    RestClientStats stats_;
    Bucket private_bucket_;
    Bucket public_bucket_;
    SplitMix64 jitter_;
};

}  // namespace cbtrade::rest
