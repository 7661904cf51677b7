// The bridge client. See bridge_client.hpp.
#include "exec/bridge_client.hpp"

#include <string>
#include <utility>

#include "core/error.hpp"
#include "core/json_writer.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "exec/rest_session.hpp"
#include "io/http_client.hpp"
#include "io/tls_info.hpp"
#include "io/uring_loop.hpp"
#include "io/url.hpp"

namespace cbtrade::rest {

namespace {

HttpAnswer answer_of(const TransportResponse& r) {
    return HttpAnswer{r.status, r.content_type, r.body};
}

RestError transport_error(const TransportResult& t) {
    RestError e;
    e.kind = t.failure == TransportFailure::timeout ? RestErrorKind::timeout : RestErrorKind::network;
    e.message = t.message.empty() ? std::string("the bridge did not answer") : t.message;
    return e;
}

template <class T>
RestResult<T> failure(RestErrorKind kind, std::string message) {
    return RestResult<T>::failure(RestError{kind, 0, {}, std::move(message)});
}

}  // namespace

BridgeClient::BridgeClient(HttpTransport& transport, BridgeClientOptions options, RestClock& clock)
    : transport_(transport), options_(std::move(options)), clock_(clock) {}

BridgeClient::Answer BridgeClient::send(std::string_view method, const std::string& target, std::string_view body) {
    const HeaderField json[] = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    const HeaderField accept[] = {{"Accept", "application/json"}};
    TransportRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.headers = body.empty() ? std::span<const HeaderField>(accept) : std::span<const HeaderField>(json);
    r.timeout_ms = options_.timeout_ms;
    ++requests_;
    TransportResult t = transport_.exchange(r);
    Answer a;
    if (t.response) {
        a.response = std::move(t.response);
        return a;
    }
    a.error = transport_error(t);
    a.maybe_sent = t.failure != TransportFailure::not_sent;
    return a;
}

std::int64_t BridgeClient::backoff_ns(int attempt) {
    static thread_local SplitMix64 jitter(SplitMix64::entropy_seed());
    return retry_backoff_ns(attempt, options_.backoff_initial_ms, options_.backoff_max_ms, std::nullopt, jitter);
}

BridgeClient::Answer BridgeClient::get_with_retries(const std::string& target) {
    Answer a;
    for (int attempt = 1;; ++attempt) {
        a = send("GET", target, {});
        const bool retry = !a.response || a.response->status == 429 || a.response->status >= 500;
        if (!retry || attempt >= options_.max_attempts) break;
        clock_.sleep_ns(backoff_ns(attempt));
    }
    return a;
}

RestResult<BridgeHealth> BridgeClient::health() {
    // One attempt: start-up asks once and says plainly when the bridge is not there.
    const Answer a = send("GET", options_.base_path + "/health", {});
    if (!a.response) return RestResult<BridgeHealth>::failure(a.error);
    return decode_bridge_health(answer_of(*a.response));
}

RestResult<AccountsPage> BridgeClient::accounts_page(std::size_t limit, std::string_view cursor) {
    if (limit == 0 || limit > max_accounts_per_page || (!cursor.empty() && !valid_order_id(cursor)))
        return failure<AccountsPage>(RestErrorKind::invalid_order, "bridge accounts: bad limit or cursor");
    std::string target = options_.base_path + "/accounts?limit=" + std::to_string(limit);
    if (!cursor.empty()) {
        target += "&cursor=";
        append_query_value(target, cursor);
    }
    const Answer a = get_with_retries(target);
    if (!a.response) return RestResult<AccountsPage>::failure(a.error);
    return decode_accounts(answer_of(*a.response), limit);
}

RestResult<std::vector<Account>> BridgeClient::all_accounts(std::size_t max_pages) {
    return collect_account_pages(
        [this](std::string_view cursor) { return accounts_page(max_accounts_per_page, cursor); }, max_pages);
}

RestResult<Product> BridgeClient::product(std::string_view product_id) {
    if (!valid_product_id(product_id))
        return failure<Product>(RestErrorKind::invalid_order,
                                "bridge product: invalid product id " + quote_for_message(product_id));
    const Answer a = get_with_retries(options_.base_path + "/product/" + std::string(product_id));
    if (!a.response) return RestResult<Product>::failure(a.error);
    RestResult<Product> r = decode_product(answer_of(*a.response));
    if (r.ok() && r.value->product_id != product_id)
        return failure<Product>(RestErrorKind::malformed, "bridge product: asked for " + std::string(product_id) +
                                                              ", the answer is " + r.value->product_id);
    return r;
}

RestResult<std::vector<Candle>> BridgeClient::candles(std::string_view product_id, Granularity granularity,
                                                      std::int64_t start_s, std::int64_t end_s, std::size_t limit) {
    if (!valid_product_id(product_id) || limit == 0 || limit > max_candles_per_request || end_s < start_s)
        return failure<std::vector<Candle>>(RestErrorKind::invalid_order, "bridge candles: bad arguments");
    const std::string target = options_.base_path + "/candles?product_id=" + std::string(product_id) +
                               "&granularity=" + std::string(granularity_name(granularity)) +
                               "&limit=" + std::to_string(limit) + "&start=" + std::to_string(start_s) +
                               "&end=" + std::to_string(end_s);
    const Answer a = get_with_retries(target);
    if (!a.response) return RestResult<std::vector<Candle>>::failure(a.error);
    return decode_candles(answer_of(*a.response), granularity, start_s, end_s, limit);
}

RestResult<BridgePrice> BridgeClient::price(std::string_view product_id) {
    if (!valid_product_id(product_id))
        return failure<BridgePrice>(RestErrorKind::invalid_order,
                                    "bridge price: invalid product id " + quote_for_message(product_id));
    const Answer a = get_with_retries(options_.base_path + "/price?product_id=" + std::string(product_id));
    if (!a.response) return RestResult<BridgePrice>::failure(a.error);
    RestResult<BridgePrice> r = decode_bridge_price(answer_of(*a.response));
    if (r.ok() && r.value->product_id != product_id)
        return failure<BridgePrice>(RestErrorKind::malformed, "bridge price: asked for " + std::string(product_id) +
                                                                  ", the answer is " + r.value->product_id);
    return r;
}

RestResult<CreateOrderResult> BridgeClient::create_market_order(const MarketOrder& order) {
    if (!valid_product_id(order.product_id) || !valid_order_id(order.client_order_id) || order.size.empty())
        return failure<CreateOrderResult>(RestErrorKind::invalid_order, "bridge order: bad order");
    std::string body;
    JsonWriter w(body);
    w.begin_object()
        .member("product_id", order.product_id)
        .member("side", side_name(order.side))
        .member(order.side == Side::buy ? "quote_size" : "base_size", order.size)
        .member("client_order_id", order.client_order_id)
        .end_object();
    const std::string target = options_.base_path + "/order/market";
    bool maybe_sent = false;
    RestError last;
    for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
        if (attempt > 1) clock_.sleep_ns(backoff_ns(attempt - 1));
        const Answer a = send("POST", target, body);
        if (!a.response) {
            maybe_sent = maybe_sent || a.maybe_sent;
            last = a.error;
            continue;  // resent with the same client_order_id: the exchange answers a repeat with the first order
        }
        RestResult<CreateOrderResult> r = decode_create_order(answer_of(*a.response));
        if (r.ok()) {
            if (!r.value->client_order_id.empty() && r.value->client_order_id != order.client_order_id)
                return failure<CreateOrderResult>(RestErrorKind::unknown_outcome,
                                                  "bridge order: the answer names another client_order_id");
            return r;
        }
        switch (r.error.kind) {
            case RestErrorKind::rate_limited:  // refused unprocessed: the same id again is safe
                last = r.error;
                continue;
            case RestErrorKind::server_error:  // 502/504 from the bridge: it may have been placed
            case RestErrorKind::timeout:
            case RestErrorKind::malformed:
            case RestErrorKind::too_large:
                maybe_sent = true;
                last = r.error;
                continue;
            default:
                // A refusal (rejected, 400, 401, 403): final, unless an earlier attempt may have placed
                // it, in which case a refusal now settles nothing.
                if (!maybe_sent) return r;
                last = r.error;
                continue;
        }
    }
    if (!maybe_sent) return RestResult<CreateOrderResult>::failure(last);
    return failure<CreateOrderResult>(RestErrorKind::unknown_outcome,
                                      "bridge order " + order.client_order_id + ": outcome unknown after " +
                                          std::to_string(options_.max_attempts) + " attempts: " + last.message);
}

RestResult<Order> BridgeClient::order(std::string_view order_id) {
    if (!valid_order_id(order_id))
        return failure<Order>(RestErrorKind::invalid_order, "bridge order: invalid order id");
    const Answer a = get_with_retries(options_.base_path + "/order/" + std::string(order_id));
    if (!a.response) return RestResult<Order>::failure(a.error);
    RestResult<Order> r = decode_order(answer_of(*a.response));
    if (r.ok() && r.value->order_id != order_id)
        return failure<Order>(RestErrorKind::malformed, "bridge order: asked for " + std::string(order_id) +
                                                            ", the answer is " + r.value->order_id);
    return r;
}

// ---- configuration, session, ExchangeAccess ------------------------------------------------------------

BridgeClientOptions bridge_client_options(const Config& config) {
    if (config.bridge_url.empty()) throw ConfigError("BRIDGE_URL is not set");
    const io::Url url =
        io::parse_config_url("BRIDGE_URL", config.bridge_url, io::UrlKind::http, io::Plaintext::any_host);
    if (url.target.find('?') != std::string::npos)
        throw ConfigError("BRIDGE_URL: the bridge URL must not have a query string");
    BridgeClientOptions o;
    o.base_path = url.target == "/" ? std::string() : url.target;
    while (!o.base_path.empty() && o.base_path.back() == '/') o.base_path.pop_back();
    o.describe = "bridge (" + std::string(url.tls() ? "https://" : "http://") + url.authority() + o.base_path + ")";
    return o;
}

struct BridgeSession::Parts {
    io::UringLoop loop;
    std::unique_ptr<io::HttpClient> http;
    std::unique_ptr<IoHttpTransport> transport;
};

BridgeSession::BridgeSession(const Config& config, std::int64_t timeout_ms) : parts_(std::make_unique<Parts>()) {
    BridgeClientOptions o = bridge_client_options(config);
    o.timeout_ms = timeout_ms;
    const io::Url url =
        io::parse_config_url("BRIDGE_URL", config.bridge_url, io::UrlKind::http, io::Plaintext::any_host);
    if (const int rc = parts_->loop.init(16); rc < 0) throw RunError(io::uring_unavailable_message(rc));
    io::HttpClientOptions ho;
    ho.ca_file = config.tls_ca_file;
    ho.ciphers = resolve_cipher_list(config.tls_ciphers, tls_info());
    ho.request_timeout_ms = static_cast<std::uint32_t>(timeout_ms);
    ho.user_agent = "cbtrade/0.1.0";
    parts_->http = std::make_unique<io::HttpClient>(parts_->loop, url, std::move(ho));
    std::string error;
    if (parts_->http->init(error) < 0) throw RunError("BRIDGE_URL: " + error);
    parts_->transport = std::make_unique<IoHttpTransport>(*parts_->http);
    client_ = std::make_unique<BridgeClient>(*parts_->transport, std::move(o));
}

BridgeSession::~BridgeSession() = default;

namespace {

class BridgeExchangeAccess final : public ExchangeAccess {
public:
    explicit BridgeExchangeAccess(BridgeClient& client) : client_(client) {}
    RestResult<std::vector<Account>> accounts() override { return client_.all_accounts(); }
    RestResult<Product> product(std::string_view product_id) override { return client_.product(product_id); }
    RestResult<std::vector<Candle>> candles(std::string_view product_id, Granularity granularity, std::int64_t start_s,
                                            std::int64_t end_s) override {
        return fetch_candle_pages(granularity, start_s, end_s, [&](const CandlePage& page) {
            return client_.candles(product_id, granularity, page.start_s, page.end_s, page.buckets);
        });
    }
    std::string_view describe() const noexcept override { return client_.options().describe; }

private:
    BridgeClient& client_;
};

}  // namespace

std::unique_ptr<ExchangeAccess> make_bridge_exchange_access(BridgeClient& client) {
    return std::make_unique<BridgeExchangeAccess>(client);
}

}  // namespace cbtrade::rest
