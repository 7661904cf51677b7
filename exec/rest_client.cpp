// The REST client: budget, JWTs, retries, the create-order rule. See rest_client.hpp.
#include "exec/rest_client.hpp"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <utility>

#include "core/cpu.hpp"
#include "core/text.hpp"

namespace cbtrade::rest {

namespace {

class SystemClock final : public RestClock {
public:
    std::int64_t now_ns() override { return cbtrade::now_ns(); }
    std::int64_t unix_ms() override { return wall_ns() / 1'000'000; }
    void sleep_ns(std::int64_t ns) override {
        if (ns <= 0) return;
        timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
        while (nanosleep(&ts, &ts) != 0) {}
    }
};

RestErrorKind kind_of(TransportFailure f) noexcept {
    return f == TransportFailure::timeout        ? RestErrorKind::timeout
           : f == TransportFailure::bad_response ? RestErrorKind::malformed
                                                 : RestErrorKind::network;
}

HttpAnswer answer_of(const TransportResponse& r) {
    return HttpAnswer{r.status, r.content_type, r.body};
}

template <class T>
RestResult<T> failure_of(const RestClient::Answer& a) {
    return RestResult<T>::failure(a.error);
}

}  // namespace

RestClock& system_rest_clock() {
    static SystemClock clock;
    return clock;
}

RestClient::RestClient(HttpTransport& transport, JwtSigner* signer, RestClientOptions options, RestClock& clock)
    : transport_(transport),
      signer_(signer),
      options_(std::move(options)),
      clock_(clock),
      jitter_(SplitMix64::entropy_seed()) {}

void RestClient::wait_for_budget(bool is_public) {
    Bucket& b = is_public ? public_bucket_ : private_bucket_;
    const double rate = is_public ? options_.public_per_s : options_.private_per_s;
    const double burst = std::max(1.0, is_public ? options_.public_burst : options_.private_burst);
    if (rate <= 0) return;  // no budget configured
    std::int64_t now = clock_.now_ns();
    if (!b.started) {
        b.started = true;
        b.tokens = burst;
        b.last_ns = now;
    }
    b.tokens = std::min(burst, b.tokens + static_cast<double>(now - b.last_ns) * 1e-9 * rate);
    b.last_ns = now;
    if (b.tokens < 1.0) {
        const auto wait_ns = static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) / rate * 1e9));
        ++stats_.budget_waits;
        stats_.budget_wait_ns += wait_ns;
        clock_.sleep_ns(wait_ns);
        now = clock_.now_ns();
        b.tokens = std::min(burst, b.tokens + static_cast<double>(now - b.last_ns) * 1e-9 * rate);
        b.last_ns = now;
        b.tokens = std::max(b.tokens, 1.0);  // the wait was computed for exactly one token
    }
    b.tokens -= 1.0;
}

std::int64_t retry_backoff_ns(int attempt, std::int64_t base_ms, std::int64_t max_ms,
                              const std::optional<std::string>& retry_after, SplitMix64& jitter) {
    const int shift = std::min(attempt - 1, 20);
    const std::int64_t cap_ms = std::max(base_ms, max_ms);
    const std::int64_t exp_ms = std::min(cap_ms, base_ms << shift);
    // Half fixed, half random: retries of many clients spread out, and none comes back at once.
    const std::int64_t wait_ms =
        exp_ms / 2 + static_cast<std::int64_t>(jitter.next_at_most(static_cast<std::uint64_t>(exp_ms - exp_ms / 2)));
    std::int64_t out_ns = wait_ms * 1'000'000;
    if (retry_after) {
        std::int64_t seconds = 0;
        const auto& t = *retry_after;
        const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), seconds);
        if (ec == std::errc{} && p == t.data() + t.size() && seconds > 0 && seconds <= 60)
            out_ns = std::max(out_ns, seconds * 1'000'000'000);
    }
    return out_ns;
}

RestResult<std::vector<Account>> collect_account_pages(
    const std::function<RestResult<AccountsPage>(std::string_view cursor)>& fetch_page, std::size_t max_pages) {
    std::vector<Account> out;
    std::string cursor;
    for (std::size_t page = 0; page < max_pages; ++page) {
        RestResult<AccountsPage> r = fetch_page(cursor);
        if (!r.ok()) return RestResult<std::vector<Account>>::failure(std::move(r.error));
        for (auto& acc : r.value->accounts) out.push_back(std::move(acc));
        if (!r.value->has_next) return RestResult<std::vector<Account>>::success(std::move(out));
        if (r.value->cursor == cursor)
            return RestResult<std::vector<Account>>::failure(
                RestError{RestErrorKind::malformed, 0, {}, "list accounts: the cursor did not advance"});
        cursor = std::move(r.value->cursor);
    }
    return RestResult<std::vector<Account>>::failure(
        RestError{RestErrorKind::malformed, 0, {}, "list accounts: more than " + std::to_string(max_pages) + " pages"});
}

std::int64_t RestClient::backoff_ns(int attempt, bool rate_limited, const std::optional<std::string>& retry_after) {
    return retry_backoff_ns(attempt, rate_limited ? options_.rate_limited_backoff_ms : options_.backoff_initial_ms,
                            options_.backoff_max_ms, retry_after, jitter_);
}

RestClient::Answer RestClient::send_once(const RestRequest& request) {
    Answer a;
    if (request.authenticated && signer_ == nullptr) {
        a.error = RestError{RestErrorKind::unauthorized,
                            0,
                            {},
                            std::string(request.path()) +
                                ": needs credentials (COINBASE_API_KEY_NAME and COINBASE_API_PRIVATE_KEY or "
                                "COINBASE_API_PRIVATE_KEY_FILE); not sent"};
        return a;
    }
    wait_for_budget(!request.authenticated);
    std::string authorization;
    if (request.authenticated) {
        try {
            authorization =
                "Bearer " + signer_->rest_jwt(request.method, options_.host, request.path(), clock_.unix_s());
        } catch (const std::exception& e) {
            a.error = RestError{RestErrorKind::network, 0, {}, std::string("JWT signing failed: ") + e.what()};
            return a;
        }
    }
    HeaderField headers[4];
    std::size_t n = 0;
    headers[n++] = {"Accept", "application/json"};
    headers[n++] = {"User-Agent", options_.user_agent};
    if (!request.body.empty() || request.method == "POST") headers[n++] = {"Content-Type", "application/json"};
    if (!authorization.empty()) headers[n++] = {"Authorization", authorization};
    ++stats_.requests;
    TransportResult r = transport_.exchange(TransportRequest{
        request.method, request.target, std::span<const HeaderField>(headers, n), request.body, options_.timeout_ms});
    if (r.response) {
        if (r.response->status == 429) ++stats_.rate_limited;
        a.response = std::move(r.response);
        a.maybe_sent = true;
        return a;
    }
    a.maybe_sent = r.failure != TransportFailure::not_sent;
    a.error = RestError{kind_of(r.failure), 0, {}, r.message};
    return a;
}

RestClient::Answer RestClient::send_with_retries(const RestRequest& request, std::string_view what) {
    Answer a;
    for (int attempt = 1;; ++attempt) {
        a = send_once(request);
        bool retry = false;
        std::optional<std::string> retry_after;
        if (a.response) {
            const int s = a.response->status;
            retry = s == 429 || s >= 500;
            retry_after = a.response->retry_after;
        } else {
            retry = a.error.kind != RestErrorKind::unauthorized;  // not sent for lack of credentials
        }
        if (!retry || attempt >= options_.max_attempts) break;
        ++stats_.retries;
        clock_.sleep_ns(backoff_ns(attempt, a.response && a.response->status == 429, retry_after));
    }
    if (!a.response) a.error.message = std::string(what) + ": " + a.error.message;
    return a;
}

RestResult<ServerTime> RestClient::server_time() {
    const Answer a = send_with_retries(server_time_request(options_.base_path), "server time");
    if (!a.response) return failure_of<ServerTime>(a);
    return decode_server_time(answer_of(*a.response));
}

RestResult<RestClient::ClockSkew> RestClient::clock_skew() {
    // Wall-clock ms around the request, against the exchange's own clock.
    const std::int64_t before_ms = clock_.unix_ms();
    RestResult<ServerTime> t = server_time();
    const std::int64_t after_ms = clock_.unix_ms();
    if (!t.ok()) return RestResult<ClockSkew>::failure(std::move(t.error));
    return RestResult<ClockSkew>::success(
        ClockSkew{t.value->epoch_ms - (before_ms + after_ms) / 2, after_ms - before_ms});
}

RestResult<KeyPermissions> RestClient::key_permissions() {
    const Answer a = send_with_retries(key_permissions_request(options_.base_path), "key permissions");
    if (!a.response) return failure_of<KeyPermissions>(a);
    return decode_key_permissions(answer_of(*a.response));
}

RestResult<AccountsPage> RestClient::accounts_page(std::size_t limit, std::string_view cursor) {
    const Answer a = send_with_retries(list_accounts_request(options_.base_path, limit, cursor), "list accounts");
    if (!a.response) return failure_of<AccountsPage>(a);
    return decode_accounts(answer_of(*a.response), limit);
}

RestResult<std::vector<Account>> RestClient::all_accounts(std::size_t max_pages) {
    return collect_account_pages(
        [this](std::string_view cursor) { return accounts_page(max_accounts_per_page, cursor); }, max_pages);
}

RestResult<Product> RestClient::product(std::string_view product_id, bool public_endpoint) {
    if (!valid_product_id(product_id))
        return RestResult<Product>::failure(RestError{
            RestErrorKind::invalid_order, 0, {}, "get product: invalid product id " + quote_for_message(product_id)});
    const Answer a = send_with_retries(
        get_product_request(options_.base_path, product_id, public_endpoint || !authenticated()), "get product");
    if (!a.response) return failure_of<Product>(a);
    RestResult<Product> r = decode_product(answer_of(*a.response));
    if (r.ok() && r.value->product_id != product_id)
        return RestResult<Product>::failure(RestError{RestErrorKind::malformed,
                                                      a.response->status,
                                                      {},
                                                      "get product: answer is for " +
                                                          quote_for_message(r.value->product_id) + ", not " +
                                                          quote_for_message(product_id)});
    return r;
}

RestResult<std::vector<Candle>> RestClient::candles(std::string_view product_id, Granularity granularity,
                                                    std::int64_t start_s, std::int64_t end_s, std::size_t limit,
                                                    bool public_endpoint) {
    if (!valid_product_id(product_id))
        return RestResult<std::vector<Candle>>::failure(RestError{
            RestErrorKind::invalid_order, 0, {}, "candles: invalid product id " + quote_for_message(product_id)});
    const Answer a = send_with_retries(candles_request(options_.base_path, product_id, granularity, start_s, end_s,
                                                       limit, public_endpoint || !authenticated()),
                                       "candles");
    if (!a.response) return failure_of<std::vector<Candle>>(a);
    return decode_candles(answer_of(*a.response), granularity, start_s, end_s, limit);
}

RestResult<CreateOrderResult> RestClient::create_market_order(const MarketOrder& order) {
    const RestRequest request = create_order_request(options_.base_path, order);
    const std::string id_note = "client_order_id " + order.client_order_id;
    bool outcome_unknown = false;  // some attempt may have placed the order without our seeing it
    std::string last_problem;
    RestError last_error;
    for (int attempt = 1;; ++attempt) {
        const Answer a = send_once(request);
        bool retry = false;
        bool rate_limited = false;
        std::optional<std::string> retry_after;
        if (a.response) {
            RestResult<CreateOrderResult> r = decode_create_order(answer_of(*a.response));
            if (r.ok()) return r;
            last_error = r.error;
            retry_after = a.response->retry_after;
            switch (r.error.kind) {
                case RestErrorKind::rate_limited:  // refused unprocessed: the same id again is safe
                    retry = true;
                    rate_limited = true;
                    break;
                case RestErrorKind::server_error:  // may have been executed
                case RestErrorKind::malformed:     // a 2xx we cannot read: may have been executed
                    outcome_unknown = true;
                    ++stats_.unknown_outcomes;
                    retry = true;
                    break;
                default:  // refused: rejected, 400, 401, 403, 404
                    // After an unknown outcome an earlier attempt may have placed the order (a
                    // rejection now can even be caused by it, e.g. INSUFFICIENT_FUND): it stays unknown.
                    if (!outcome_unknown) return r;
                    break;
            }
        } else if (a.error.kind == RestErrorKind::unauthorized) {
            return RestResult<CreateOrderResult>::failure(a.error);
        } else {
            last_error = a.error;
            if (a.maybe_sent) {
                outcome_unknown = true;
                ++stats_.unknown_outcomes;
            }
            retry = true;
        }
        last_problem = last_error.message;
        if (!retry || attempt >= options_.max_attempts) break;
        ++stats_.retries;
        clock_.sleep_ns(backoff_ns(attempt, rate_limited, retry_after));
    }
    if (!outcome_unknown) {
        last_error.message = "create order (" + id_note + "): " + last_error.message;
        return RestResult<CreateOrderResult>::failure(std::move(last_error));
    }
    return RestResult<CreateOrderResult>::failure(
        RestError{RestErrorKind::unknown_outcome,
                  0,
                  {},
                  "create order: outcome unknown (" + id_note + ", last: " + last_problem +
                      "); the order may exist: it was only ever sent with this client_order_id"});
}

RestResult<Order> RestClient::order(std::string_view order_id) {
    if (!valid_order_id(order_id))
        return RestResult<Order>::failure(RestError{
            RestErrorKind::invalid_order, 0, {}, "get order: invalid order id " + quote_for_message(order_id)});
    const Answer a = send_with_retries(get_order_request(options_.base_path, order_id), "get order");
    if (!a.response) return failure_of<Order>(a);
    RestResult<Order> r = decode_order(answer_of(*a.response));
    if (r.ok() && r.value->order_id != order_id)
        return RestResult<Order>::failure(
            RestError{RestErrorKind::malformed, a.response->status, {}, "get order: answer is for another order"});
    return r;
}

RestResult<OrdersPage> RestClient::orders_page(std::string_view product_id, std::int64_t start_unix_s,
                                               std::size_t limit, std::string_view cursor) {
    if (!valid_product_id(product_id) || limit == 0 || limit > max_orders_per_page || start_unix_s < 0 ||
        start_unix_s >= 4'102'444'800 || cursor.size() > max_id_chars * 4)
        return RestResult<OrdersPage>::failure(
            RestError{RestErrorKind::invalid_order, 0, {}, "list orders: invalid product, start, limit or cursor"});
    const Answer a = send_with_retries(list_orders_request(options_.base_path, product_id, start_unix_s, limit, cursor),
                                       "list orders");
    if (!a.response) return failure_of<OrdersPage>(a);
    RestResult<OrdersPage> r = decode_orders(answer_of(*a.response), limit);
    if (r.ok())
        for (const Order& o : r.value->orders)
            if (o.product_id != product_id)
                return RestResult<OrdersPage>::failure(RestError{
                    RestErrorKind::malformed, a.response->status, {}, "list orders: an order of another product"});
    return r;
}

RestResult<std::vector<FillRecord>> RestClient::fills(std::string_view order_id, std::size_t max_pages) {
    if (!valid_order_id(order_id))
        return RestResult<std::vector<FillRecord>>::failure(RestError{
            RestErrorKind::invalid_order, 0, {}, "list fills: invalid order id " + quote_for_message(order_id)});
    std::vector<FillRecord> out;
    std::string cursor;
    for (std::size_t page = 0; page < max_pages; ++page) {
        const Answer a = send_with_retries(list_fills_request(options_.base_path, order_id, cursor), "list fills");
        if (!a.response) return failure_of<std::vector<FillRecord>>(a);
        RestResult<FillsPage> r = decode_fills(answer_of(*a.response));
        if (!r.ok()) return RestResult<std::vector<FillRecord>>::failure(std::move(r.error));
        for (auto& f : r.value->fills) {
            if (f.order_id != order_id)
                return RestResult<std::vector<FillRecord>>::failure(
                    RestError{RestErrorKind::malformed, a.response->status, {}, "list fills: a fill of another order"});
            out.push_back(std::move(f));
        }
        if (r.value->cursor.empty()) return RestResult<std::vector<FillRecord>>::success(std::move(out));
        if (r.value->cursor == cursor)
            return RestResult<std::vector<FillRecord>>::failure(
                RestError{RestErrorKind::malformed, 0, {}, "list fills: the cursor did not advance"});
        cursor = std::move(r.value->cursor);
    }
    return RestResult<std::vector<FillRecord>>::failure(
        RestError{RestErrorKind::malformed, 0, {}, "list fills: more than " + std::to_string(max_pages) + " pages"});
}

RestResult<Order> RestClient::wait_for_order(std::string_view order_id, std::int64_t timeout_ms, std::int64_t poll_ms) {
    const std::int64_t deadline = clock_.now_ns() + timeout_ms * 1'000'000;
    for (;;) {
        RestResult<Order> r = order(order_id);
        if (!r.ok() || is_terminal(r.value->status) || clock_.now_ns() >= deadline) return r;
        clock_.sleep_ns(poll_ms * 1'000'000);
    }
}

}  // namespace cbtrade::rest
