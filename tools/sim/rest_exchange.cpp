// The simulator's REST side. See rest_exchange.hpp.
#include "tools/sim/rest_exchange.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/config.hpp"
#include "core/error.hpp"
#include "core/file_read.hpp"
#include "core/json_writer.hpp"
#include "core/rfc3339.hpp"
#include "exec/rest_messages.hpp"
#include "io/url.hpp"
#include "tools/sim/market_feed.hpp"
#include "tools/sim/sim_context.hpp"

namespace cbtrade::sim {

namespace {

namespace http = boost::beast::http;

constexpr std::string_view base_path = "/api/v3/brokerage";
constexpr std::size_t max_candles_per_request = 350;
constexpr std::size_t public_per_second = 10;
constexpr std::size_t private_per_second = 30;

// The page Coinbase's edge returns on 429 (coinbase-api.md 3.9: not JSON).
constexpr std::string_view rate_limit_html =
    "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    "<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";
constexpr std::string_view unavailable_html =
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n";

std::string query_value(const std::multimap<std::string, std::string, std::less<>>& q, std::string_view key) {
    const auto it = q.find(key);
    return it == q.end() ? std::string() : it->second;
}

bool valid_product(std::string_view id) {
    const auto dash = id.find('-');
    if (id.size() < 3 || id.size() > 32 || dash == std::string_view::npos || dash == 0 || dash + 1 == id.size())
        return false;
    return std::all_of(id.begin(), id.end(),
                       [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::optional<std::int64_t> to_int(std::string_view s) {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

// Shortest text that reads back as the same double: the series' own numbers, exactly.
std::string decimal(double v, int digits) {
    std::string out;
    append_decimal(out, v, digits);
    return out;
}

std::string cents_text(std::int64_t cents) {
    std::string out;
    append_cents(out, cents);
    return out;
}

// A decimal string that is a whole number of `step_units` * 10^-scale, parsed exactly; nullopt for
// anything else ("1e3", "-1", "0.001" on a 0.01 grid, more than 18 digits).
std::optional<double> on_grid(std::string_view text, std::uint64_t step_units, unsigned scale) {
    const auto dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    if (whole.empty() || frac.size() > scale || (dot != std::string_view::npos && frac.empty())) return std::nullopt;
    if (whole.size() + scale > 18) return std::nullopt;
    std::uint64_t units = 0;
    for (char c : whole) {
        if (c < '0' || c > '9') return std::nullopt;
        units = units * 10 + static_cast<unsigned>(c - '0');
    }
    for (unsigned i = 0; i < scale; ++i) {
        const char c = i < frac.size() ? frac[i] : '0';
        if (c < '0' || c > '9') return std::nullopt;
        units = units * 10 + static_cast<unsigned>(c - '0');
    }
    if (units == 0 || units % step_units != 0) return std::nullopt;
    return static_cast<double>(units) / std::pow(10.0, scale);
}

std::string order_id_for(std::size_t index) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "5e1f0000-0000-4000-8000-%012zu", index + 1);
    return buf;
}

}  // namespace

RestExchange::RestExchange(SimContext& ctx) : ctx_(ctx), faults_(ctx.options.rest_faults) {
    (void)account("USD");
    (void)account("BTC");
    (void)account("ETH");
    for (std::uint64_t i = 0; i < ctx_.options.extra_accounts; ++i) {
        char cur[32];
        std::snprintf(cur, sizeof cur, "X%05llu", static_cast<unsigned long long>(i));
        (void)account(cur);
    }
}

RestExchange::~RestExchange() = default;

void RestExchange::load_keys() {
    for (const auto& [name, file] : ctx_.options.api_keys) {
        const FileContents f = read_whole_file(file, 64 * 1024, "--api-key file");
        if (!f.ok()) throw std::runtime_error(f.error);
        verifier_.add_key(name, f.contents);
    }
}

std::int64_t RestExchange::now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
               .count() +
           ctx_.options.clock_offset_sec * 1'000'000;
}

RestExchange::Account& RestExchange::account(const std::string& currency) {
    for (auto& a : accounts_)
        if (a.currency == currency) return a;
    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "a0c0%04zx-0000-4000-8000-%012zu", accounts_.size() & 0xffff,
                  accounts_.size() + 1);
    const double balance = currency == "USD"                                 ? ctx_.options.usd_balance
                           : currency.size() == 6 && currency.front() == 'X' ? 0.0
                                                                             : ctx_.options.base_balance;
    accounts_.push_back(Account{uuid, currency, balance});
    return accounts_.back();
}

bool RestExchange::over_rate_limit(bool is_public) {
    if (!ctx_.options.rate_limit) return false;
    auto& times = is_public ? public_times_us_ : private_times_us_;
    const std::size_t limit = is_public ? public_per_second : private_per_second;
    const std::int64_t now = now_us();
    while (!times.empty() && times.front() <= now - 1'000'000) times.pop_front();
    if (times.size() >= limit) return true;
    times.push_back(now);
    return false;
}

std::optional<std::string> RestExchange::take_fault(std::string_view route) {
    for (auto& f : faults_) {
        if (f.count == 0 || (f.route != route && f.route != "any")) continue;
        if (f.kind == "insufficient" && route != "orders") continue;  // only orders can lack funds
        --f.count;
        ++stats_.faults;
        return f.kind;
    }
    return std::nullopt;
}

SimReply RestExchange::fault_reply(const HttpRequest& req, std::string_view kind) const {
    if (kind == "timeout") return {HttpResponse{}, ReplyAction::no_answer};
    if (kind == "drop") return {HttpResponse{}, ReplyAction::drop};
    if (kind == "401") return {text_response(req, http::status::unauthorized, "text/plain", "Unauthorized\n")};
    if (kind == "403")
        return {json_response(req, http::status::forbidden,
                              json_error_body("PERMISSION_DENIED", "Missing required scopes"))};
    if (kind == "429")
        return {text_response(req, http::status::too_many_requests, "text/html", std::string(rate_limit_html))};
    if (kind == "503")
        return {text_response(req, http::status::service_unavailable, "text/html", std::string(unavailable_html))};
    return {json_response(req, http::status::internal_server_error, json_error_body("INTERNAL", "internal error"))};
}

std::string RestExchange::check_ws_jwt(std::string_view jwt) const {
    if (!verifier_.has_keys()) return {};
    return verifier_.verify(jwt, std::nullopt, now_us() / 1'000'000);
}

SimReply RestExchange::handle(const HttpRequest& req) {
    ++stats_.requests;
    const std::string_view target(req.target().data(), req.target().size());
    const auto qpos = target.find('?');
    const std::string_view path = target.substr(0, qpos);
    Query query;
    if (qpos != std::string_view::npos) {
        // Any number of items: the sim is a test tool, and its request size is capped by the parser.
        const auto items = io::parse_query(target.substr(qpos + 1), std::numeric_limits<std::size_t>::max());
        for (const auto& [k, v] : *items) query.emplace(k, v);
    }
    const std::string_view sub = path.substr(base_path.size());
    const bool get = req.method() == http::verb::get;
    const bool post = req.method() == http::verb::post;

    // Route: name, whether public, the product or order id in the path.
    std::string route;
    std::string id;
    bool is_public = false;
    std::string_view products = sub;
    const bool market = products.starts_with("/market/products/");
    if (market) products.remove_prefix(std::string_view("/market").size());
    if (sub == "/time" && get) {
        route = "time";
        is_public = true;
    } else if (sub == "/accounts" && get) {
        route = "accounts";
    } else if (sub == "/key_permissions" && get) {
        route = "permissions";
    } else if (products.starts_with("/products/") && get) {
        std::string_view rest = products.substr(std::string_view("/products/").size());
        is_public = market;
        if (rest.ends_with("/candles")) {
            route = "candles";
            rest.remove_suffix(std::string_view("/candles").size());
        } else {
            route = "product";
        }
        id = std::string(rest);
    } else if (sub == "/orders" && post) {
        route = "orders";
    } else if (sub == "/orders/historical/fills" && get) {
        route = "fills";
    } else if (sub == "/orders/historical/batch" && get) {
        route = "list_orders";
    } else if (sub.starts_with("/orders/historical/") && get) {
        route = "order";
        id = std::string(sub.substr(std::string_view("/orders/historical/").size()));
    } else {
        return {json_response(req, http::status::not_found,
                              json_error_body("NOT_FOUND", "not simulated: " + std::string(req.method_string()) + " " +
                                                               std::string(path)))};
    }

    if (over_rate_limit(is_public)) {
        ++stats_.rate_limited;
        ctx_.log("rest: " + std::string(path) + ": 429 (over " +
                 std::to_string(is_public ? public_per_second : private_per_second) + " requests/s)");
        return {text_response(req, http::status::too_many_requests, "text/html", std::string(rate_limit_html))};
    }
    if (!is_public) {
        std::string why;
        const std::string_view auth(req[http::field::authorization].data(), req[http::field::authorization].size());
        if (!auth.starts_with("Bearer ")) {
            why = "no Authorization: Bearer header";
        } else if (!verifier_.has_keys()) {
            why = "no --api-key given to the simulator";
        } else {
            std::string host(req[http::field::host].data(), req[http::field::host].size());
            if (!host.empty() && host.front() == '[') host = host.substr(0, host.find(']') + 1);
            else host = host.substr(0, host.find(':'));
            for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const std::string uri = std::string(req.method_string()) + " " + host + std::string(path);
            why = verifier_.verify(auth.substr(7), uri, now_us() / 1'000'000);
        }
        if (!why.empty()) {
            ++stats_.unauthorized;
            ctx_.log("rest: " + std::string(req.method_string()) + " " + std::string(path) + ": 401 (" + why + ")");
            return {text_response(req, http::status::unauthorized, "text/plain", "Unauthorized\n")};
        }
    }

    const std::optional<std::string> fault = take_fault(route);
    if (fault) ctx_.log("rest: " + std::string(path) + ": fault " + *fault);
    // On create-order the faults that hide the outcome happen after the order was placed.
    if (route == "orders") return create_order(req, fault);
    if (fault) return fault_reply(req, *fault);

    if (route == "time") {
        const std::int64_t us = now_us();
        std::string body;
        JsonWriter w(body);
        w.begin_object()
            .member("iso", format_rfc3339_us(us))
            .member("epochSeconds", std::to_string(us / 1'000'000))
            .member("epochMillis", std::to_string(us / 1000))
            .end_object();
        return {json_response(req, http::status::ok, std::move(body))};
    }
    if (route == "accounts") return accounts(req, query);
    if (route == "permissions") {
        std::string body;
        JsonWriter w(body);
        w.begin_object()
            .member("can_view", true)
            .member("can_trade", !ctx_.options.no_trade_scope)
            .member("can_transfer", false)
            .member("portfolio_uuid", "5e1f0000-0000-4000-8000-00000000f011")
            .member("portfolio_type", "DEFAULT")
            .end_object();
        return {json_response(req, http::status::ok, std::move(body))};
    }
    if (route == "product") return product(req, id);
    if (route == "candles") return candles(req, id, query);
    if (route == "order") return get_order(req, id);
    if (route == "list_orders") return list_orders(req, query);
    return fills(req, query);
}

SimReply RestExchange::accounts(const HttpRequest& req, const Query& q) {
    std::int64_t limit = 49;
    if (const std::string l = query_value(q, "limit"); !l.empty()) {
        const auto v = to_int(l);
        if (!v || *v < 1 || *v > 250)
            return {json_response(req, http::status::bad_request,
                                  json_error_body("INVALID_ARGUMENT", "limit must be between 1 and 250"))};
        limit = *v;
    }
    std::size_t offset = 0;
    if (const std::string c = query_value(q, "cursor"); !c.empty()) {
        const auto v = to_int(c);
        if (!v || *v < 0 || static_cast<std::size_t>(*v) > accounts_.size())
            return {
                json_response(req, http::status::bad_request, json_error_body("INVALID_ARGUMENT", "invalid cursor"))};
        offset = static_cast<std::size_t>(*v);
    }
    const std::size_t end = std::min(accounts_.size(), offset + static_cast<std::size_t>(limit));
    std::string body;
    JsonWriter w(body);
    w.begin_object().key("accounts").begin_array();
    for (std::size_t i = offset; i < end; ++i) {
        const Account& a = accounts_[i];
        const bool fiat = a.currency == "USD";
        w.begin_object()
            .member("uuid", a.uuid)
            .member("name", a.currency + " Wallet")
            .member("currency", a.currency)
            .key("available_balance")
            .begin_object()
            // Every digit the account holds (Coinbase's answers carry 16 decimal places): a
            // SELL's proceeds less its fee are off the cent grid, and a balance rounded to the cent
            // here would differ from the books built from the fills (and could state more than is held).
            .member("value", decimal(a.balance, 8))
            .member("currency", a.currency)
            .end_object()
            .member("default", true)
            .member("active", true)
            .member("created_at", "2023-01-04T06:20:06.456Z")
            .member("updated_at", format_rfc3339_us(now_us()))
            .key("deleted_at")
            .null()
            .member("type", fiat ? "ACCOUNT_TYPE_FIAT" : "ACCOUNT_TYPE_CRYPTO")
            .member("ready", true)
            .key("hold")
            .begin_object()
            .member("value", "0")
            .member("currency", a.currency)
            .end_object()
            .member("retail_portfolio_id", "5e1f0000-portfolio")
            .end_object();
    }
    w.end_array()
        .member("has_next", end < accounts_.size())
        .member("cursor", end < accounts_.size() ? std::to_string(end) : std::string())
        .member("size", static_cast<std::uint64_t>(end - offset))
        .end_object();
    return {json_response(req, http::status::ok, std::move(body))};
}

SimReply RestExchange::product(const HttpRequest& req, const std::string& id) {
    if (!valid_product(id))
        return {json_response(req, http::status::not_found,
                              json_error_body("NOT_FOUND", "Product " + id.substr(0, 40) + " not supported"))};
    const bool disabled = ctx_.options.trading_disabled;
    std::string body;
    JsonWriter w(body);
    // Increments and limits of the real BTC-USD (coinbase-api.md 3.3).
    w.begin_object()
        .member("product_id", id)
        .member("price", cents_text(ctx_.current_price_cents(id)))
        .member("price_percentage_change_24h", "0")
        .member("volume_24h", "0")
        .member("volume_percentage_change_24h", "0")
        .member("base_increment", "0.00000001")
        .member("quote_increment", "0.01")
        .member("quote_min_size", "1")
        .member("quote_max_size", "150000000")
        .member("base_min_size", "0.00000001")
        .member("base_max_size", "3400")
        .member("base_name", id.substr(0, id.find('-')))
        .member("quote_name", id.substr(id.find('-') + 1))
        .member("watched", false)
        .member("is_disabled", false)
        .member("new", false)
        .member("status", "online")
        .member("cancel_only", ctx_.options.cancel_only)
        .member("limit_only", false)
        .member("post_only", false)
        .member("trading_disabled", disabled)
        .member("auction_mode", false)
        .member("product_type", "SPOT")
        .member("quote_currency_id", id.substr(id.find('-') + 1))
        .member("base_currency_id", id.substr(0, id.find('-')))
        .member("mid_market_price", "")
        .member("alias", "")
        .key("alias_to")
        .begin_array()
        .end_array()
        .member("base_display_symbol", id.substr(0, id.find('-')))
        .member("quote_display_symbol", id.substr(id.find('-') + 1))
        .member("view_only", false)
        .member("price_increment", "0.01")
        .member("product_venue", "CBE")
        .end_object();
    return {json_response(req, http::status::ok, std::move(body))};
}

SimReply RestExchange::candles(const HttpRequest& req, const std::string& id, const Query& q) {
    const auto bad = [&](const std::string& message) {
        return SimReply{json_response(req, http::status::bad_request, json_error_body("INVALID_ARGUMENT", message))};
    };
    if (!valid_product(id))
        return {json_response(req, http::status::not_found,
                              json_error_body("NOT_FOUND", "Product " + id.substr(0, 40) + " not supported"))};
    const auto start = to_int(query_value(q, "start"));
    const auto end = to_int(query_value(q, "end"));
    const std::string granularity = query_value(q, "granularity");
    if (!start || !end) return bad("start and end are required UNIX timestamps in seconds");
    if (*start < 0 || *end < *start) return bad("start and end argument is invalid - start must be before end");
    const std::int64_t step = ctx_.step_s();
    bool known = false;
    std::int64_t asked_step = 0;
    for (int g = 0; g <= static_cast<int>(Granularity::one_day); ++g) {
        if (granularity_name(static_cast<Granularity>(g)) == granularity) {
            known = true;
            asked_step = granularity_seconds(static_cast<Granularity>(g));
        }
    }
    if (!known) return bad("granularity argument is invalid");
    if (asked_step != step)
        return bad("granularity " + granularity + " is not simulated: the series has " + std::to_string(step) +
                   " s candles");
    // Buckets whose start lies in [start, end].
    const std::int64_t first = (*start + step - 1) / step * step;
    const std::int64_t buckets = *end < first ? 0 : (*end - first) / step + 1;
    std::size_t limit = max_candles_per_request;
    if (const std::string l = query_value(q, "limit"); !l.empty()) {
        const auto v = to_int(l);
        if (!v || *v < 1 || *v > static_cast<std::int64_t>(max_candles_per_request))
            return bad("limit must be between 1 and 350");
        limit = static_cast<std::size_t>(*v);
    }
    if (buckets > static_cast<std::int64_t>(max_candles_per_request))
        return bad("start and end argument is invalid - number of candles requested should be less than 350");
    std::vector<Candle> found = ctx_.series(id, *start, *end);
    std::string body;
    rest::append_candles_answer(body, found, limit);
    return {json_response(req, http::status::ok, std::move(body))};
}

std::string RestExchange::order_json(const Order& o) const {
    std::string out;
    JsonWriter w(out);
    const std::string time = format_rfc3339_us(o.time_us);
    w.begin_object()
        .member("order_id", o.order_id)
        .member("product_id", o.product_id)
        .member("user_id", "5e1f0000-user")
        .key("order_configuration")
        .begin_object()
        .key("market_market_ioc")
        .begin_object()
        .member(o.buy ? "quote_size" : "base_size", o.size_text)
        .end_object()
        .end_object()
        .member("side", o.buy ? "BUY" : "SELL")
        .member("client_order_id", o.client_order_id)
        .member("status", "FILLED")
        .member("time_in_force", "IMMEDIATE_OR_CANCEL")
        .member("created_time", time)
        .member("completion_percentage", "100.00")
        .member("filled_size", decimal(o.filled_size, 8))
        .member("average_filled_price", decimal(o.price, 2))
        .member("fee", "")
        .member("number_of_fills", "1")
        .member("filled_value", decimal(o.filled_value, 8))
        .member("pending_cancel", false)
        .member("size_in_quote", o.buy)
        .member("total_fees", decimal(o.fee, 8))
        .member("size_inclusive_of_fees", o.buy)
        .member("total_value_after_fees", decimal(o.buy ? o.filled_value + o.fee : o.filled_value - o.fee, 8))
        .member("trigger_status", "INVALID_ORDER_TYPE")
        .member("order_type", "MARKET")
        .member("reject_reason", "REJECT_REASON_UNSPECIFIED")
        .member("settled", true)
        .member("product_type", "SPOT")
        .member("reject_message", "")
        .member("cancel_message", "")
        .member("order_placement_source", "RETAIL_ADVANCED")
        .member("outstanding_hold_amount", "0")
        .member("is_liquidation", false)
        .member("last_fill_time", time)
        .end_object();
    return out;
}

SimReply RestExchange::create_order(const HttpRequest& req, std::optional<std::string_view> fault) {
    const auto bad = [&](const std::string& message) {
        return SimReply{json_response(req, http::status::bad_request, json_error_body("INVALID_ARGUMENT", message))};
    };
    simdjson::dom::parser parser;
    simdjson::dom::object o;
    std::string_view client_id, product_id, side;
    if (parser.parse(req.body()).get_object().get(o) == simdjson::SUCCESS &&
        o["client_order_id"].get_string().get(client_id) == simdjson::SUCCESS && !client_id.empty() &&
        client_id.size() <= 128 && !withheld_.empty() && !withheld_.contains(client_id)) {
        // Counted whatever happens to this request next (refused, rate limited): it was sent.
        ++stats_.orders_while_unknown;
        ctx_.log("rest: create order " + std::string(client_id) + ": a new order while the answer for " +
                 *withheld_.begin() + " is unknown to the client");
    }
    if (fault && (*fault == "401" || *fault == "403" || *fault == "429")) return fault_reply(req, *fault);
    if (ctx_.options.no_trade_scope) return fault_reply(req, "403");

    if (parser.parse(req.body()).get_object().get(o) != simdjson::SUCCESS) return bad("body is not a JSON object");
    if (o["client_order_id"].get_string().get(client_id) != simdjson::SUCCESS || client_id.empty() ||
        client_id.size() > 128)
        return bad("client_order_id is required");
    if (o["product_id"].get_string().get(product_id) != simdjson::SUCCESS || !valid_product(product_id))
        return bad("product_id is invalid");
    if (o["side"].get_string().get(side) != simdjson::SUCCESS || (side != "BUY" && side != "SELL"))
        return bad("side must be BUY or SELL");
    simdjson::dom::object ioc;
    if (o.at_pointer("/order_configuration/market_market_ioc").get_object().get(ioc) != simdjson::SUCCESS)
        return bad("order_configuration.market_market_ioc is required (only market IOC orders are simulated)");
    const bool buy = side == "BUY";
    std::string_view size_text;
    if (ioc[buy ? "quote_size" : "base_size"].get_string().get(size_text) != simdjson::SUCCESS)
        return bad(buy ? "quote_size is required for a market BUY" : "base_size is required for a market SELL");

    ++requests_by_client_id_[std::string(client_id)];
    const std::string configuration = "{\"market_market_ioc\":{\"" + std::string(buy ? "quote_size" : "base_size") +
                                      "\":\"" + std::string(size_text) + "\"}}";
    const auto success_body = [&](const Order& order) {
        std::string body;
        JsonWriter w(body);
        w.begin_object()
            .member("success", true)
            .member("failure_reason", "UNKNOWN_FAILURE_REASON")
            .member("order_id", order.order_id)
            .key("success_response")
            .begin_object()
            .member("order_id", order.order_id)
            .member("product_id", order.product_id)
            .member("side", order.buy ? "BUY" : "SELL")
            .member("client_order_id", order.client_order_id)
            .end_object()
            .key("order_configuration")
            .raw(configuration)
            .end_object();
        return body;
    };
    const auto reject = [&](std::string_view error, std::string_view message, std::string_view preview) {
        std::string body;
        JsonWriter w(body);
        w.begin_object()
            .member("success", false)
            .member("failure_reason", "UNKNOWN_FAILURE_REASON")
            .member("order_id", "")
            .key("error_response")
            .begin_object()
            .member("error", error)
            .member("message", message)
            .member("error_details", "")
            .member("preview_failure_reason", preview)
            .end_object()
            .key("order_configuration")
            .raw(configuration)
            .end_object();
        ctx_.log("rest: create order " + std::string(client_id) + ": rejected " + std::string(error));
        return SimReply{json_response(req, http::status::ok, std::move(body))};
    };
    const auto after_placing = [&](const Order& order) -> SimReply {
        if (fault) {
            withheld_.insert(order.client_order_id);  // 500 503 timeout drop: the client cannot know
            return fault_reply(req, *fault);
        }
        withheld_.erase(order.client_order_id);
        return {json_response(req, http::status::ok, success_body(order))};
    };

    // Idempotency: a known client_order_id returns the first order, never a second one.
    if (const auto it = order_by_client_id_.find(client_id); it != order_by_client_id_.end()) {
        ++stats_.order_repeats;
        const Order& first = orders_[it->second];
        if (first.product_id != product_id || first.buy != (side == "BUY") || first.size_text != size_text) {
            ++stats_.duplicate_orders;
            ctx_.log("rest: create order " + std::string(client_id) +
                     ": known client_order_id sent for another order (" + std::string(side) + " " +
                     std::string(size_text) + " " + std::string(product_id) + ")");
        }
        ctx_.log("rest: create order " + std::string(client_id) + ": known client_order_id, first order returned");
        return after_placing(first);
    }
    if (fault && *fault == "insufficient")
        return reject("INSUFFICIENT_FUND", "Insufficient balance in source account", "PREVIEW_INSUFFICIENT_FUND");
    if (ctx_.options.trading_disabled)
        return reject("ORDER_ENTRY_DISABLED", "Trading is disabled for this product", "PREVIEW_ORDER_ENTRY_DISABLED");
    if (ctx_.options.cancel_only)
        return reject("ORDER_ENTRY_DISABLED", "The product is cancel-only", "PREVIEW_ORDER_ENTRY_DISABLED");
    const std::optional<double> size = buy ? on_grid(size_text, 1, 2) : on_grid(size_text, 1, 8);
    if (!size)
        return reject("INVALID_SIZE_PRECISION", "Size is not on the product's increment",
                      "PREVIEW_INVALID_SIZE_PRECISION");
    if (buy ? *size < 1.0 : *size < 1e-8)
        return reject("INVALID_LIMIT_PRICE_POST_ONLY", "Order size is below the minimum",
                      buy ? "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL" : "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL");

    const std::string product(product_id);
    const std::string base = product.substr(0, product.find('-'));
    const double price = static_cast<double>(ctx_.current_price_cents(product)) / 100.0;
    const double fee_rate = ctx_.options.fee_bps / 10000.0;
    Account& usd = account("USD");
    Account& base_account = account(base);
    Order order;
    order.client_order_id = std::string(client_id);
    order.product_id = product;
    order.buy = buy;
    order.size_text = std::string(size_text);
    order.price = price;
    order.time_us = now_us();
    if (buy) {
        if (*size > usd.balance + 1e-9)
            return reject("INSUFFICIENT_FUND", "Insufficient balance in source account", "PREVIEW_INSUFFICIENT_FUND");
        // quote_size is what leaves the account, the fee included.
        order.fee = *size * fee_rate / (1 + fee_rate);
        order.filled_value = *size - order.fee;
        order.filled_size = std::floor(order.filled_value / price * 1e8) / 1e8;
        usd.balance -= *size;
        base_account.balance += order.filled_size;
    } else {
        if (*size > base_account.balance + 1e-12)
            return reject("INSUFFICIENT_FUND", "Insufficient balance in source account", "PREVIEW_INSUFFICIENT_FUND");
        order.filled_size = *size;
        order.filled_value = *size * price;
        order.fee = order.filled_value * fee_rate;
        base_account.balance -= *size;
        usd.balance += order.filled_value - order.fee;
    }
    order.order_id = order_id_for(orders_.size());
    order_by_client_id_.emplace(order.client_order_id, orders_.size());
    orders_.push_back(order);
    ++stats_.orders;
    ctx_.log("rest: order " + order.order_id + " (" + order.client_order_id + ") " + std::string(side) + " " +
             order.size_text + " " + product + " filled at " + decimal(price, 2));
    return after_placing(orders_.back());
}

SimReply RestExchange::get_order(const HttpRequest& req, const std::string& id) {
    for (const Order& o : orders_)
        if (o.order_id == id) {
            withheld_.erase(o.client_order_id);  // its outcome is known to the client now
            return {json_response(req, http::status::ok, "{\"order\":" + order_json(o) + "}")};
        }
    return {json_response(req, http::status::not_found, json_error_body("NOT_FOUND", "order not found"))};
}

SimReply RestExchange::list_orders(const HttpRequest& req, const Query& q) {
    const auto bad = [&](const std::string& message) {
        return SimReply{json_response(req, http::status::bad_request, json_error_body("INVALID_ARGUMENT", message))};
    };
    std::int64_t start_us = 0;
    if (const std::string d = query_value(q, "start_date"); !d.empty()) {
        const std::optional<std::int64_t> ns = parse_rfc3339_ns(d);
        if (!ns) return bad("start_date is not an RFC 3339 time");
        start_us = *ns / 1000;
    }
    std::size_t limit = 100;
    if (const std::string l = query_value(q, "limit"); !l.empty()) {
        const auto v = to_int(l);
        if (!v || *v < 1 || *v > 1000) return bad("limit must be between 1 and 1000");
        limit = static_cast<std::size_t>(*v);
    }
    // Newest first, as the exchange lists them; of the products asked for (all without product_ids).
    const auto [first, last] = q.equal_range("product_ids");
    std::vector<const Order*> matching;
    for (auto it = orders_.rbegin(); it != orders_.rend(); ++it) {
        bool wanted = first == last;
        for (auto p = first; p != last; ++p) wanted = wanted || p->second == it->product_id;
        if (wanted && it->time_us >= start_us) matching.push_back(&*it);
    }
    std::size_t offset = 0;
    if (const std::string c = query_value(q, "cursor"); !c.empty()) {
        const auto v = to_int(c);
        if (!v || *v < 0 || static_cast<std::size_t>(*v) > matching.size()) return bad("invalid cursor");
        offset = static_cast<std::size_t>(*v);
    }
    const std::size_t end = std::min(matching.size(), offset + limit);
    std::string body = "{\"orders\":[";
    for (std::size_t i = offset; i < end; ++i) {
        if (i > offset) body += ',';
        body += order_json(*matching[i]);
        withheld_.erase(matching[i]->client_order_id);  // its outcome is known to the client now
    }
    body += "],\"sequence\":\"0\",\"has_next\":";
    body += end < matching.size() ? "true" : "false";
    body += ",\"cursor\":\"" + (end < matching.size() ? std::to_string(end) : std::string()) + "\"}";
    return {json_response(req, http::status::ok, std::move(body))};
}

SimReply RestExchange::fills(const HttpRequest& req, const Query& q) {
    std::vector<const Order*> matching;
    const auto [first, last] = q.equal_range("order_ids");
    for (const Order& o : orders_) {
        bool wanted = first == last;
        for (auto it = first; it != last; ++it) wanted = wanted || it->second == o.order_id;
        if (wanted) matching.push_back(&o);
    }
    std::size_t limit = 100;
    if (const std::string l = query_value(q, "limit"); !l.empty()) {
        const auto v = to_int(l);
        if (!v || *v < 1 || *v > 1000)
            return {json_response(req, http::status::bad_request,
                                  json_error_body("INVALID_ARGUMENT", "limit must be between 1 and 1000"))};
        limit = static_cast<std::size_t>(*v);
    }
    std::size_t offset = 0;
    if (const std::string c = query_value(q, "cursor"); !c.empty()) {
        const auto v = to_int(c);
        if (!v || *v < 0 || static_cast<std::size_t>(*v) > matching.size())
            return {
                json_response(req, http::status::bad_request, json_error_body("INVALID_ARGUMENT", "invalid cursor"))};
        offset = static_cast<std::size_t>(*v);
    }
    const std::size_t end = std::min(matching.size(), offset + limit);
    std::string body;
    JsonWriter w(body);
    w.begin_object().key("fills").begin_array();
    for (std::size_t i = offset; i < end; ++i) {
        const Order& o = *matching[i];
        withheld_.erase(o.client_order_id);
        const std::string time = format_rfc3339_us(o.time_us);
        // One fill per order: its ids are the order's with another first digit.
        std::string entry_id = o.order_id;
        std::string trade_id = o.order_id;
        entry_id[0] = 'f';
        trade_id[0] = '7';
        w.begin_object()
            .member("entry_id", entry_id)
            .member("trade_id", trade_id)
            .member("order_id", o.order_id)
            .member("trade_time", time)
            .member("trade_type", "FILL")
            .member("price", decimal(o.price, 2))
            .member("size", decimal(o.filled_size, 8))
            .member("commission", decimal(o.fee, 8))
            .member("product_id", o.product_id)
            .member("sequence_timestamp", time)
            .member("liquidity_indicator", "TAKER")
            .member("size_in_quote", false)
            .member("user_id", "5e1f0000-user")
            .member("side", o.buy ? "BUY" : "SELL")
            .member("retail_portfolio_id", "5e1f0000-portfolio")
            .end_object();
    }
    w.end_array().member("cursor", end < matching.size() ? std::to_string(end) : std::string()).end_object();
    return {json_response(req, http::status::ok, std::move(body))};
}

SimReply RestExchange::state(const HttpRequest& req) const {
    std::string body;
    JsonWriter w(body);
    w.begin_object()
        .member("requests", stats_.requests)
        .member("orders", stats_.orders)
        .member("order_repeats", stats_.order_repeats)
        .member("unauthorized", stats_.unauthorized)
        .member("rate_limited", stats_.rate_limited)
        .member("faults", stats_.faults)
        .member("duplicate_orders", stats_.duplicate_orders)
        .member("orders_while_unknown", stats_.orders_while_unknown)
        .member("withheld_answers", static_cast<std::uint64_t>(withheld_.size()))
        .member("faults_pending", pending_faults())
        .member("market_time_s", ctx_.market_time_us / 1'000'000)
        .key("create_order_requests_by_client_order_id")
        .begin_object();
    for (const auto& [id, n] : requests_by_client_id_) w.member(id, n);
    w.end_object().key("orders_by_client_order_id").begin_object();
    for (const auto& [id, index] : order_by_client_id_) w.member(id, orders_[index].order_id);
    // Every account's balance as the exchange holds it (tests compare them with the daemon's books).
    w.end_object().key("balances").begin_object();
    for (const Account& a : accounts_) w.member(a.currency, decimal(a.balance, 8));
    w.end_object().end_object();
    return {json_response(req, http::status::ok, std::move(body))};
}

std::uint64_t RestExchange::pending_faults() const {
    std::uint64_t n = ctx_.ws_faults.size();
    for (const auto& f : faults_) n += f.count;
    return n;
}

SimReply RestExchange::add_fault(const HttpRequest& req) {
    const std::string_view target(req.target().data(), req.target().size());
    const auto at = target.find("?spec=");
    try {
        if (at == std::string_view::npos) throw UsageError("want ?spec=ROUTE:KIND[:N]");
        const std::string spec = io::percent_decode(target.substr(at + 6));
        if (spec == "clear") {  // the end of a campaign: faults not yet applied are dropped
            faults_.clear();
            ctx_.ws_faults.clear();
            ctx_.log("sim: faults cleared");
            return {json_response(req, http::status::ok, "{}")};
        }
        if (spec.starts_with("ws:")) {
            const auto ws = parse_ws_fault(spec);
            ctx_.log("sim: fault added: " + spec);
            ctx_.add_ws_faults(ws);
            return {json_response(req, http::status::ok, "{}")};
        }
        faults_.push_back(parse_rest_fault(spec));
    } catch (const std::exception& e) {
        return {json_response(req, http::status::bad_request, json_error_body("INVALID_ARGUMENT", e.what()))};
    }
    ctx_.log("sim: fault added: " + faults_.back().route + ":" + faults_.back().kind + ":" +
             std::to_string(faults_.back().count));
    return {json_response(req, http::status::ok, "{}")};
}

HttpRouter make_sim_router(RestExchange& rest) {
    HttpRouter router;
    router.add(http::verb::get, "/sim/state", [&rest](const HttpRequest& req) { return rest.state(req); });
    router.add(http::verb::post, "/sim/fault", [&rest](const HttpRequest& req) { return rest.add_fault(req); });
    router.add_prefix(std::string(base_path) + "/", [&rest](const HttpRequest& req) { return rest.handle(req); });
    return router;
}

}  // namespace cbtrade::sim
