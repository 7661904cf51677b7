// The bridge's routes (see bridge_server.hpp; shapes in README "The bridge API").
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <exception>

#include "bridge/bridge_server.hpp"
#include "core/decimal.hpp"
#include "core/json_writer.hpp"
#include "core/rfc3339.hpp"
#include "core/text.hpp"
#include "exec/rest_client.hpp"
#include "io/url.hpp"

namespace cbtrade::bridge {

namespace {

namespace dom = simdjson::dom;
using io::HttpServerResponse;

constexpr std::string_view json_type = "application/json";
constexpr std::int64_t min_time_s = 946684800;   // 2000-01-01
constexpr std::int64_t max_time_s = 4102444800;  // 2100-01-01
constexpr double max_order_size = 1e12;          // far above any real order, in base or quote units
constexpr std::size_t max_size_chars = 32;

HttpServerResponse json_answer(unsigned status, std::string body) {
    return HttpServerResponse{status, std::string(json_type), std::move(body), {}};
}

// {"error":code,"message":message}: the message is ours, or outside text already quoted and bounded.
HttpServerResponse error_answer(unsigned status, std::string_view code, std::string_view message) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().member("error", code).member("message", message).end_object();
    return json_answer(status, std::move(out));
}

HttpServerResponse bad_request(std::string_view message) {
    return error_answer(400, "bad_request", message);
}

// The status an exchange error is passed on with: the exchange's own for its refusals, 502/504 when
// the exchange could not be asked or its answer was unusable.
unsigned status_of(const rest::RestError& e) noexcept {
    switch (e.kind) {
        case rest::RestErrorKind::unauthorized:
            return 401;
        case rest::RestErrorKind::forbidden:
            return 403;
        case rest::RestErrorKind::not_found:
            return 404;
        case rest::RestErrorKind::bad_request:
        case rest::RestErrorKind::invalid_order:
            return 400;
        case rest::RestErrorKind::rate_limited:
            return 429;
        case rest::RestErrorKind::timeout:
        case rest::RestErrorKind::unknown_outcome:
            return 504;
        default:
            return 502;
    }
}

HttpServerResponse exchange_error(const rest::RestError& e) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().member("error", rest::to_string(e.kind));
    if (!e.code.empty()) w.member("code", e.code);
    w.member("message", e.message).end_object();
    return json_answer(status_of(e), std::move(out));
}

std::string shortest(double v) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc{} ? std::string(buf, end) : std::string("0");
}

using Query = std::vector<std::pair<std::string, std::string>>;

const std::string* find(const Query& q, std::string_view key) {
    for (const auto& [k, v] : q)
        if (k == key) return &v;
    return nullptr;
}

// An integer query parameter in [lo, hi]; a message in `error` when it is not one.
std::optional<std::int64_t> int_param(const Query& q, std::string_view key, std::int64_t lo, std::int64_t hi,
                                      std::string& error) {
    const std::string* v = find(q, key);
    if (v == nullptr) return std::nullopt;
    std::int64_t out = 0;
    const auto [stop, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (v->empty() || ec != std::errc{} || stop != v->data() + v->size() || out < lo || out > hi) {
        error = std::string(key) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                ", got " + quote_for_message(*v, 40);
        return std::nullopt;
    }
    return out;
}

// Why the product_id parameter cannot be used; empty when it can.
std::string product_id_problem(const std::string* id) {
    if (id == nullptr) return "product_id must be like BTC-USD (missing)";
    if (!rest::valid_product_id(*id)) return "product_id must be like BTC-USD, got " + quote_for_message(*id, 40);
    return {};
}

std::optional<Granularity> granularity_param(std::string_view v) {
    static constexpr std::pair<std::string_view, Granularity> names[] = {
        {"ONE_MINUTE", Granularity::one_minute},
        {"FIVE_MINUTE", Granularity::five_minute},
        {"FIFTEEN_MINUTE", Granularity::fifteen_minute},
        {"THIRTY_MINUTE", Granularity::thirty_minute},
        {"ONE_HOUR", Granularity::one_hour},
        {"TWO_HOUR", Granularity::two_hour},
        {"SIX_HOUR", Granularity::six_hour},
        {"ONE_DAY", Granularity::one_day}};
    for (const auto& [name, g] : names) {
        if (v == name) return g;
        // Seconds as well ("60", "300"): the earlier bot's scripts may use either.
        if (v == std::to_string(granularity_seconds(g))) return g;
    }
    return std::nullopt;
}

// A positive decimal order size, as text the exchange reads: digits with at most one '.'; a JSON
// number is taken by its text.
std::optional<std::string> size_of(dom::element e, std::string_view key, std::string& error) {
    std::string_view s;
    std::string number_text;
    if (e.get_string().get(s) != simdjson::SUCCESS) {
        if (!e.is_number()) {
            error = std::string(key) + " must be a decimal string or number";
            return std::nullopt;
        }
        number_text = simdjson::minify(e);
        s = number_text;
    }
    bool plain = !s.empty() && s.size() <= max_size_chars && s.front() != '.' && s.back() != '.';
    std::size_t dots = 0;
    for (char c : s) {
        if (c == '.') ++dots;
        else if (c < '0' || c > '9') plain = false;
    }
    const std::optional<double> v = plain && dots <= 1 ? parse_decimal(s) : std::nullopt;
    if (!v || !(*v > 0) || *v > max_order_size) {
        error = std::string(key) + " must be a plain decimal above 0 and at most 1e12, got " + quote_for_message(s, 40);
        return std::nullopt;
    }
    return std::string(s);
}

void write_amount(JsonWriter& w, std::string_view key, const rest::Amount& a) {
    w.key(key).string(a.text.empty() ? std::string_view("0") : std::string_view(a.text));
}

void write_balance(JsonWriter& w, std::string_view key, const rest::Amount& a, std::string_view currency) {
    w.key(key).begin_object();
    write_amount(w, "value", a);
    w.member("currency", currency).end_object();
}

void write_product(JsonWriter& w, const rest::Product& p) {
    w.begin_object().member("product_id", p.product_id);
    write_amount(w, "price", p.price);
    w.member("base_increment", p.base_increment_text).member("quote_increment", p.quote_increment_text);
    write_amount(w, "base_min_size", p.base_min_size);
    write_amount(w, "base_max_size", p.base_max_size);
    write_amount(w, "quote_min_size", p.quote_min_size);
    write_amount(w, "quote_max_size", p.quote_max_size);
    w.member("status", p.status)
        .member("trading_disabled", p.trading_disabled)
        .member("is_disabled", p.is_disabled)
        .member("cancel_only", p.cancel_only)
        .member("limit_only", p.limit_only)
        .member("post_only", p.post_only)
        .member("auction_mode", p.auction_mode)
        .end_object();
}

}  // namespace

// ---- TickerCache ------------------------------------------------------------------------------------

TickerCache::TickerCache(std::vector<std::string> products)
    : products_(std::move(products)), slots_(std::make_unique<Slot[]>(products_.size())) {}

void TickerCache::update(std::size_t index, double price, std::int64_t exchange_time_ns,
                         std::int64_t received_ns) noexcept {
    if (index >= products_.size()) return;
    Slot& s = slots_[index];
    const std::uint64_t seq = s.seq.load(std::memory_order_relaxed);
    s.seq.store(seq + 1, std::memory_order_relaxed);  // odd: a write in progress
    std::atomic_thread_fence(std::memory_order_release);
    s.price.store(price, std::memory_order_relaxed);
    s.exchange_time_ns.store(exchange_time_ns, std::memory_order_relaxed);
    s.received_ns.store(received_ns, std::memory_order_relaxed);
    s.seq.store(seq + 2, std::memory_order_release);
}

TickerCache::Entry TickerCache::get(std::size_t index) const noexcept {
    Entry e;
    if (index >= products_.size()) return e;
    const Slot& s = slots_[index];
    for (;;) {
        const std::uint64_t before = s.seq.load(std::memory_order_acquire);
        e.price = s.price.load(std::memory_order_relaxed);
        e.exchange_time_ns = s.exchange_time_ns.load(std::memory_order_relaxed);
        e.received_ns = s.received_ns.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        const std::uint64_t after = s.seq.load(std::memory_order_relaxed);
        if (before == after && (before & 1) == 0) {
            e.seen = before != 0;
            return e;
        }
    }
}

std::optional<std::size_t> TickerCache::index_of(std::string_view product_id) const noexcept {
    for (std::size_t i = 0; i < products_.size(); ++i)
        if (products_[i] == product_id) return i;
    return std::nullopt;
}

// ---- routes ----------------------------------------------------------------------------------------

BridgeRoutes::BridgeRoutes(BridgeBackend& backend, const TickerCache& cache, BridgeOptions options)
    : backend_(backend), cache_(cache), options_(std::move(options)) {}

std::int64_t BridgeRoutes::now() const {
    if (options_.now_ns) return options_.now_ns();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

HttpServerResponse BridgeRoutes::handle(const io::HttpServerRequest& request) {
    HttpServerResponse r;
    try {
        r = route(request);
    } catch (const std::exception&) {
        r = error_answer(500, "internal", "internal error");
    }
    auto& counter = r.status >= 200 && r.status < 300 ? answered_ : refused_;
    counter.fetch_add(1, std::memory_order_relaxed);
    return r;
}

HttpServerResponse BridgeRoutes::route(const io::HttpServerRequest& req) {
    const std::string_view path = req.path();
    const bool get = req.method == "GET";
    const bool post = req.method == "POST";
    const auto method_not_allowed = [](std::string_view allow) {
        HttpServerResponse r = error_answer(405, "method_not_allowed", "method not allowed");
        r.allow = std::string(allow);
        return r;
    };
    constexpr std::string_view product_prefix = "/product/";
    constexpr std::string_view order_prefix = "/order/";
    if (path == "/order/market" || path == "/orders/market_buy") {
        if (!post) return method_not_allowed("POST");
        return create_order(req.body, path == "/orders/market_buy");
    }
    const bool known = path == "/health" || path == "/accounts" || path == "/candles" || path == "/price" ||
                       path.starts_with(product_prefix) || path.starts_with(order_prefix);
    if (!known) return error_answer(404, "not_found", "no such path: " + quote_for_message(path, 60));
    if (!get) return method_not_allowed("GET");
    if (path == "/health") return health();
    if (path == "/accounts") return accounts(req.query());
    if (path == "/candles") return candles(req.query());
    if (path == "/price") return price(req.query());
    if (path.starts_with(product_prefix)) return product(path.substr(product_prefix.size()));
    return order(path.substr(order_prefix.size()));
}

HttpServerResponse BridgeRoutes::health() {
    std::string out;
    JsonWriter w(out);
    const bool connected = options_.feed_connected && options_.feed_connected();
    std::size_t priced = 0;
    for (std::size_t i = 0; i < cache_.products().size(); ++i) priced += cache_.get(i).seen ? 1 : 0;
    w.begin_object()
        .member("status", "ok")
        .member("ok", true)
        .member("exchange", options_.api_base)
        .member("ws_connected", connected)
        .key("products")
        .begin_array();
    for (const std::string& p : cache_.products()) w.string(p);
    w.end_array().member("products_priced", static_cast<std::uint64_t>(priced)).end_object();
    return json_answer(200, std::move(out));
}

HttpServerResponse BridgeRoutes::accounts(std::string_view query) {
    const auto q = io::parse_query(query);
    if (!q) return bad_request("too many query parameters");
    std::string error;
    const std::int64_t limit =
        int_param(*q, "limit", 1, static_cast<std::int64_t>(rest::max_accounts_per_page), error).value_or(49);
    if (!error.empty()) return bad_request(error);
    std::string cursor;
    if (const std::string* c = find(*q, "cursor")) {
        if (!c->empty() && !rest::valid_order_id(*c))
            return bad_request("cursor must be letters, digits, '-' and '_', got " + quote_for_message(*c, 40));
        cursor = *c;
    }
    const auto r = backend_.accounts_page(static_cast<std::size_t>(limit), cursor);
    if (!r.ok()) return exchange_error(r.error);
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("accounts").begin_array();
    for (const rest::Account& a : r.value->accounts) {
        w.begin_object().member("uuid", a.uuid).member("name", a.name).member("currency", a.currency);
        write_balance(w, "available_balance", a.available, a.currency);
        write_balance(w, "hold", a.hold, a.currency);
        w.member("active", a.active).member("ready", a.ready).member("type", a.type).end_object();
    }
    w.end_array()
        .member("has_next", r.value->has_next)
        .member("cursor", r.value->cursor)
        .member("size", static_cast<std::uint64_t>(r.value->accounts.size()))
        .end_object();
    return json_answer(200, std::move(out));
}

HttpServerResponse BridgeRoutes::product(std::string_view id) {
    if (!rest::valid_product_id(id))
        return bad_request("product id must be like BTC-USD, got " + quote_for_message(id, 40));
    const auto r = backend_.product(id);
    if (!r.ok()) return exchange_error(r.error);
    std::string out;
    JsonWriter w(out);
    write_product(w, *r.value);
    return json_answer(200, std::move(out));
}

HttpServerResponse BridgeRoutes::candles(std::string_view query) {
    const auto q = io::parse_query(query);
    if (!q) return bad_request("too many query parameters");
    const std::string* id = find(*q, "product_id");
    if (const std::string e = product_id_problem(id); !e.empty()) return bad_request(e);
    Granularity g = Granularity::one_minute;
    if (const std::string* gs = find(*q, "granularity")) {
        const auto parsed = granularity_param(*gs);
        if (!parsed)
            return bad_request(
                "granularity must be ONE_MINUTE, FIVE_MINUTE, FIFTEEN_MINUTE, THIRTY_MINUTE, ONE_HOUR, "
                "TWO_HOUR, SIX_HOUR, ONE_DAY or their seconds, got " +
                quote_for_message(*gs, 40));
        g = *parsed;
    }
    const std::int64_t gs = granularity_seconds(g);
    std::string error;
    const std::int64_t limit =
        int_param(*q, "limit", 1, static_cast<std::int64_t>(rest::max_candles_per_request), error).value_or(300);
    if (!error.empty()) return bad_request(error);
    const std::optional<std::int64_t> start = int_param(*q, "start", min_time_s, max_time_s, error);
    if (!error.empty()) return bad_request(error);
    const std::optional<std::int64_t> end = int_param(*q, "end", min_time_s, max_time_s, error);
    if (!error.empty()) return bad_request(error);
    // Missing ends: the latest `limit` buckets, or `limit` buckets from start.
    const std::int64_t wall_s =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::int64_t end_s = end.value_or(start ? rest::candle_page_end(*start / gs * gs, gs, limit) : wall_s);
    std::int64_t start_s = start.value_or(end_s / gs * gs - (limit - 1) * gs);
    if (start_s > end_s) return bad_request("start must not be after end");
    if ((end_s - start_s) / gs + 1 > limit)
        return bad_request("start..end holds more than limit (" + std::to_string(limit) + ") candles of " +
                           std::to_string(gs) + " s");
    const auto r = backend_.candles(*id, g, start_s, end_s, static_cast<std::size_t>(limit));
    if (!r.ok()) return exchange_error(r.error);
    std::string out;
    rest::append_candles_answer(out, *r.value, r.value->size());
    return json_answer(200, std::move(out));
}

HttpServerResponse BridgeRoutes::price(std::string_view query) {
    const auto q = io::parse_query(query);
    if (!q) return bad_request("too many query parameters");
    const std::string* id = find(*q, "product_id");
    if (const std::string e = product_id_problem(id); !e.empty()) return bad_request(e);
    const std::optional<std::size_t> index = cache_.index_of(*id);
    const auto no_price = [&](unsigned status, std::string_view code, std::string_view message) {
        std::string out;
        JsonWriter w(out);
        w.begin_object().member("error", code).member("product_id", *id).member("message", message).end_object();
        return json_answer(status, std::move(out));
    };
    if (!index)
        return no_price(404, "not_subscribed",
                        "the bridge's WebSocket feed does not carry this product (COINBASE_WS_PRODUCTS)");
    const TickerCache::Entry e = cache_.get(*index);
    if (!e.seen) return no_price(503, "no_tick", "no ticker has arrived on the WebSocket feed yet");
    const double age_s = static_cast<double>(std::max<std::int64_t>(0, now() - e.received_ns)) / 1e9;
    char time_text[48];
    const std::size_t n = format_rfc3339(e.exchange_time_ns, 6, time_text);
    std::string out;
    JsonWriter w(out);
    w.begin_object()
        .member("product_id", *id)
        .member("price", shortest(e.price))
        .member("time", std::string_view(time_text, n))
        .key("age_sec")
        .fixed(age_s, 3)
        .member("stale", now() - e.received_ns > options_.stale_ns)
        .end_object();
    return json_answer(200, std::move(out));
}

HttpServerResponse BridgeRoutes::create_order(std::string_view body, bool buy_only) {
    if (body.size() > max_request_body_bytes) return error_answer(413, "too_large", "the body is too large");
    thread_local dom::parser parser(max_request_body_bytes);
    dom::element doc;
    dom::object o;
    // An empty body may come with a null data pointer, which simdjson would copy from (fuzz_bridge_routes).
    if (body.empty()) return bad_request("the body must be a JSON object");
    if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS || doc.get_object().get(o))
        return bad_request("the body must be a JSON object");
    rest::MarketOrder order;
    std::string error;
    std::string_view s;
    dom::element e;
    if (o.at_key("product_id").get(e) || e.get_string().get(s) || !rest::valid_product_id(s))
        return bad_request("product_id must be a string like BTC-USD");
    order.product_id = std::string(s);
    if (buy_only) {
        order.side = Side::buy;
    } else {
        if (o.at_key("side").get(e) || e.get_string().get(s)) return bad_request("side must be BUY or SELL");
        if (s == "BUY" || s == "buy") order.side = Side::buy;
        else if (s == "SELL" || s == "sell") order.side = Side::sell;
        else return bad_request("side must be BUY or SELL, got " + quote_for_message(s, 20));
    }
    dom::element quote, base;
    const bool has_quote = o.at_key("quote_size").get(quote) == simdjson::SUCCESS && !quote.is_null();
    const bool has_base = o.at_key("base_size").get(base) == simdjson::SUCCESS && !base.is_null();
    if (has_quote && has_base) return bad_request("give quote_size or base_size, not both");
    // A market order spends quote (BUY) or sells base (SELL): the only forms the bridge sends.
    if (order.side == Side::buy) {
        if (!has_quote) return bad_request("a BUY needs quote_size (the quote currency to spend)");
        auto size = size_of(quote, "quote_size", error);
        if (!size) return bad_request(error);
        order.size = std::move(*size);
    } else {
        if (!has_base) return bad_request("a SELL needs base_size (the base currency to sell)");
        auto size = size_of(base, "base_size", error);
        if (!size) return bad_request(error);
        order.size = std::move(*size);
    }
    if (o.at_key("client_order_id").get(e) == simdjson::SUCCESS && !e.is_null()) {
        if (e.get_string().get(s) || !rest::valid_order_id(s))
            return bad_request("client_order_id must be letters, digits, '-' and '_' (at most 128)");
        order.client_order_id = std::string(s);
    } else {
        order.client_order_id = rest::new_client_order_id();
    }
    const auto r = backend_.create_market_order(order);
    std::string out;
    JsonWriter w(out);
    if (r.ok()) {
        w.begin_object()
            .member("success", true)
            .key("success_response")
            .begin_object()
            .member("order_id", r.value->order_id)
            .member("product_id", order.product_id)
            .member("side", order.side == Side::buy ? "BUY" : "SELL")
            .member("client_order_id", order.client_order_id)
            .end_object()
            .end_object();
        return json_answer(200, std::move(out));
    }
    if (r.error.kind == rest::RestErrorKind::rejected) {
        // As the exchange answers a refused order: 200 with success false.
        w.begin_object()
            .member("success", false)
            .member("failure_reason", "UNKNOWN_FAILURE_REASON")
            .member("order_id", "")
            .key("error_response")
            .begin_object()
            .member("error", r.error.code.empty() ? std::string("UNKNOWN_FAILURE_REASON") : r.error.code)
            .member("message", r.error.message)
            .end_object()
            .member("client_order_id", order.client_order_id)
            .end_object();
        return json_answer(200, std::move(out));
    }
    HttpServerResponse a = exchange_error(r.error);
    if (r.error.kind == rest::RestErrorKind::unknown_outcome) {
        // The caller must reconcile by this id (send the same body again): say which it was.
        std::string body_out;
        JsonWriter u(body_out);
        u.begin_object()
            .member("error", "unknown_outcome")
            .member("client_order_id", order.client_order_id)
            .member("message", r.error.message)
            .end_object();
        a.body = std::move(body_out);
    }
    return a;
}

HttpServerResponse BridgeRoutes::order(std::string_view id) {
    if (!rest::valid_order_id(id))
        return bad_request("order id must be letters, digits, '-' and '_', got " + quote_for_message(id, 40));
    const auto r = backend_.order(id);
    if (!r.ok()) return exchange_error(r.error);
    const rest::Order& o = *r.value;
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("order").begin_object().member("order_id", o.order_id);
    if (!o.client_order_id.empty()) w.member("client_order_id", o.client_order_id);
    w.member("product_id", o.product_id)
        .member("side", o.side == Side::buy ? "BUY" : "SELL")
        .member("status", rest::to_string(o.status));
    write_amount(w, "filled_size", o.filled_size);
    write_amount(w, "average_filled_price", o.average_filled_price);
    write_amount(w, "filled_value", o.filled_value);
    write_amount(w, "total_fees", o.total_fees);
    w.member("number_of_fills", std::to_string(o.number_of_fills));
    if (o.created_time_ns > 0) {
        char t[48];
        w.member("created_time", std::string_view(t, format_rfc3339(o.created_time_ns, 6, t)));
    }
    w.end_object().end_object();
    return json_answer(200, std::move(out));
}

// ---- the REST backend and the server options --------------------------------------------------------

namespace {

class RestBackend final : public BridgeBackend {
public:
    explicit RestBackend(rest::RestClient& client) : client_(client) {}
    rest::RestResult<rest::AccountsPage> accounts_page(std::size_t limit, std::string_view cursor) override {
        return client_.accounts_page(limit, cursor);
    }
    rest::RestResult<rest::Product> product(std::string_view id) override { return client_.product(id); }
    rest::RestResult<std::vector<Candle>> candles(std::string_view id, Granularity g, std::int64_t start_s,
                                                  std::int64_t end_s, std::size_t limit) override {
        return client_.candles(id, g, start_s, end_s, limit);
    }
    rest::RestResult<rest::CreateOrderResult> create_market_order(const rest::MarketOrder& order) override {
        return client_.create_market_order(order);
    }
    rest::RestResult<rest::Order> order(std::string_view id) override { return client_.order(id); }

private:
    rest::RestClient& client_;
};

}  // namespace

std::unique_ptr<BridgeBackend> make_rest_backend(rest::RestClient& client) {
    return std::make_unique<RestBackend>(client);
}

io::HttpServerOptions bridge_server_options(std::string address, std::uint16_t port) {
    io::HttpServerOptions o;
    o.address = std::move(address);
    o.port = port;
    o.max_connections = 512;
    o.body_limit = max_request_body_bytes;
    o.header_limit = 8 * 1024;
    o.request_timeout = std::chrono::milliseconds(5000);
    o.nice = 0;
    o.thread_name = "cbtrade-bridge";
    return o;
}

}  // namespace cbtrade::bridge
