// Decoders of Coinbase REST answers (simdjson DOM; this is the only simdjson translation unit of the
// REST code). See rest_messages.hpp for what each checks.
//
// Each decoder walks one document with a small Reader that records the first problem as a
// malformed RestError naming the call and the field path ("list accounts: accounts[3].uuid ...").
// Nothing here throws: a decoder runs on whichever thread sent the request.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <tuple>
#include <string>

#include "core/decimal.hpp"
#include "core/rfc3339.hpp"
#include "core/text.hpp"
#include "exec/rest_messages.hpp"

namespace cbtrade::rest {

namespace {

namespace dom = simdjson::dom;

constexpr std::int64_t min_epoch_s = 946684800;   // 2000-01-01
constexpr std::int64_t max_epoch_s = 4102444800;  // 2100-01-01
constexpr double max_amount = 1e15;               // balances, sizes, notional: far above any real one
constexpr std::size_t max_text_chars = 256;       // names, statuses, codes

bool printable(std::string_view s) noexcept {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
    return true;
}

// simdjson keeps one parser per thread: its buffers are reused after the first (largest) answer.
dom::parser& thread_parser() {
    thread_local dom::parser parser(max_body_bytes);
    return parser;
}

class Reader {
public:
    explicit Reader(std::string_view what) : what_(what) {}

    [[nodiscard]] bool failed() const noexcept { return failed_; }
    [[nodiscard]] RestError error(int status) const {
        return RestError{RestErrorKind::malformed, status, {}, message_};
    }
    void fail(const std::string& path, const std::string& problem) {
        if (failed_) return;
        failed_ = true;
        message_ = std::string(what_) + ": answer " + (path.empty() ? "" : "field '" + path + "' ") + problem;
    }

    // Parses the body; false (and a recorded problem) when it is not JSON or not an object.
    bool parse(std::string_view body, dom::object& root) {
        if (body.size() > max_body_bytes) {
            fail("", "is larger than " + std::to_string(max_body_bytes) + " bytes");
            return false;
        }
        dom::element doc;
        if (thread_parser().parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) {
            fail("", "is not valid JSON: " + quote_for_message(body));
            return false;
        }
        if (doc.get_object().get(root) != simdjson::SUCCESS) {
            fail("", "is not a JSON object: " + quote_for_message(body));
            return false;
        }
        return true;
    }

    // A field that must exist (required) or may be absent/null (then `present` is false).
    bool field(dom::object o, std::string_view key, const std::string& path, dom::element& out, bool required) {
        if (failed_) return false;
        if (o.at_key(key).get(out) != simdjson::SUCCESS || out.is_null()) {
            if (required) fail(path, "is missing");
            return false;
        }
        return true;
    }

    bool text(dom::object o, std::string_view key, const std::string& path, std::string& out, bool required,
              std::size_t max_chars = max_text_chars) {
        dom::element e;
        if (!field(o, key, path, e, required)) return false;
        std::string_view s;
        if (e.get_string().get(s) != simdjson::SUCCESS) {
            fail(path, "is not a string");
            return false;
        }
        if (s.size() > max_chars || !printable(s)) {
            fail(path, "is not a short printable string: " + quote_for_message(s));
            return false;
        }
        out.assign(s);
        return true;
    }

    bool id(dom::object o, std::string_view key, const std::string& path, std::string& out, bool required) {
        if (!text(o, key, path, out, required, max_id_chars)) return false;
        if (!out.empty() && !valid_order_id(out)) {
            fail(path, "is not an id (letters, digits, '-', '_'): " + quote_for_message(out));
            return false;
        }
        return true;
    }

    // A product id ("BTC-USD"): it names what was bought or sold, and is compared and printed.
    bool product_id(dom::object o, std::string_view key, const std::string& path, std::string& out) {
        if (!text(o, key, path, out, true, 32)) return false;
        if (!valid_product_id(out)) {
            fail(path, "is not a product id: " + quote_for_message(out));
            return false;
        }
        return true;
    }

    bool boolean(dom::object o, std::string_view key, const std::string& path, bool& out, bool required) {
        dom::element e;
        if (!field(o, key, path, e, required)) return false;
        if (e.get_bool().get(out) != simdjson::SUCCESS) {
            fail(path, "is not a boolean");
            return false;
        }
        return true;
    }

    // A decimal given as a JSON string (the API's way) or a JSON number, in [lo, hi]. An empty
    // string is 0 when `empty_is_zero` (fields not set yet, e.g. a product's price before trades).
    bool amount(dom::object o, std::string_view key, const std::string& path, Amount& out, double lo, double hi,
                bool required, bool empty_is_zero = false) {
        dom::element e;
        if (!field(o, key, path, e, required)) return false;
        return amount_of(e, path, out, lo, hi, empty_is_zero);
    }

    bool amount_of(dom::element e, const std::string& path, Amount& out, double lo, double hi,
                   bool empty_is_zero = false) {
        std::string_view s;
        std::string number_text;
        if (e.get_string().get(s) == simdjson::SUCCESS) {
            if (s.empty() && empty_is_zero) {
                out = Amount{};
                return true;
            }
        } else if (e.is_number()) {
            number_text = simdjson::minify(e);
            s = number_text;
        } else {
            fail(path, "is not a decimal");
            return false;
        }
        const std::optional<double> v = parse_decimal(s);
        if (!v) {
            fail(path, "is not a decimal: " + quote_for_message(s));
            return false;
        }
        if (!(*v >= lo && *v <= hi)) {
            fail(path, "is out of range: " + quote_for_message(s));
            return false;
        }
        out.text.assign(s);
        out.value = *v;
        return true;
    }

    // An integer given as a string or a number, in [lo, hi].
    bool integer(dom::object o, std::string_view key, const std::string& path, std::int64_t& out, std::int64_t lo,
                 std::int64_t hi, bool required) {
        dom::element e;
        if (!field(o, key, path, e, required)) return false;
        return integer_of(e, path, out, lo, hi);
    }

    bool integer_of(dom::element e, const std::string& path, std::int64_t& out, std::int64_t lo, std::int64_t hi) {
        std::int64_t v = 0;
        std::string_view s;
        if (e.get_string().get(s) == simdjson::SUCCESS) {
            const auto [stop, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            if (s.empty() || ec != std::errc{} || stop != s.data() + s.size()) {
                fail(path, "is not an integer: " + quote_for_message(s));
                return false;
            }
        } else if (e.get_int64().get(v) != simdjson::SUCCESS) {
            fail(path, "is not an integer");
            return false;
        }
        if (v < lo || v > hi) {
            fail(path, "is out of range: " + std::to_string(v));
            return false;
        }
        out = v;
        return true;
    }

    // An RFC 3339 time between 2000 and 2100, as ns since the epoch.
    bool time(dom::object o, std::string_view key, const std::string& path, std::int64_t& out, bool required) {
        std::string s;
        if (!text(o, key, path, s, required, 64)) return false;
        const std::optional<std::int64_t> ns = parse_rfc3339_ns(s);
        if (!ns || *ns < min_epoch_s * 1'000'000'000 || *ns > max_epoch_s * 1'000'000'000) {
            fail(path, "is not an RFC 3339 time between 2000 and 2100: " + quote_for_message(s));
            return false;
        }
        out = *ns;
        return true;
    }

    bool side(dom::object o, std::string_view key, const std::string& path, Side& out, bool required) {
        std::string s;
        if (!text(o, key, path, s, required, 16)) return false;
        if (s == "BUY") out = Side::buy;
        else if (s == "SELL") out = Side::sell;
        else {
            fail(path, "is not BUY or SELL: " + quote_for_message(s));
            return false;
        }
        return true;
    }

    bool object(dom::object o, std::string_view key, const std::string& path, dom::object& out, bool required) {
        dom::element e;
        if (!field(o, key, path, e, required)) return false;
        if (e.get_object().get(out) != simdjson::SUCCESS) {
            fail(path, "is not an object");
            return false;
        }
        return true;
    }

    bool array(dom::object o, std::string_view key, const std::string& path, dom::array& out, std::size_t max_items) {
        dom::element e;
        if (!field(o, key, path, e, true)) return false;
        if (e.get_array().get(out) != simdjson::SUCCESS) {
            fail(path, "is not an array");
            return false;
        }
        if (out.size() > max_items) {
            fail(path, "holds " + std::to_string(out.size()) + " items, more than the " + std::to_string(max_items) +
                           " asked for");
            return false;
        }
        return true;
    }

private:
    std::string_view what_;
    bool failed_ = false;
    std::string message_;
};

std::string item_path(std::string_view array, std::size_t i, std::string_view field) {
    return std::string(array) + "[" + std::to_string(i) + "]." + std::string(field);
}

bool is_2xx(int status) noexcept {
    return status >= 200 && status <= 299;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// A code such as INSUFFICIENT_FUND (the exchange) or no_tick (the bridge): letters, digits and '_',
// else dropped.
std::string checked_code(std::string_view s) {
    if (s.empty() || s.size() > 64) return {};
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return {};
    return std::string(s);
}

std::string_view string_at(dom::object o, std::string_view key) {
    std::string_view s;
    if (o.at_key(key).get_string().get(s) != simdjson::SUCCESS) return {};
    return s;
}

}  // namespace

RestError error_from_answer(const HttpAnswer& answer, std::string_view what) {
    RestError e;
    e.http_status = answer.status;
    const int s = answer.status;
    e.kind = s == 401   ? RestErrorKind::unauthorized
             : s == 403 ? RestErrorKind::forbidden
             : s == 404 ? RestErrorKind::not_found
             : s == 429 ? RestErrorKind::rate_limited
             : s >= 500 ? RestErrorKind::server_error
                        : RestErrorKind::bad_request;
    std::string detail;
    const std::string_view body = trim(answer.body);
    if (answer.body.size() > max_body_bytes) {
        detail = "(" + std::to_string(answer.body.size()) + "-byte body)";
    } else if (body.starts_with("{")) {
        dom::element doc;
        dom::object o;
        if (thread_parser().parse(body.data(), body.size()).get(doc) == simdjson::SUCCESS &&
            doc.get_object().get(o) == simdjson::SUCCESS) {
            e.code = checked_code(string_at(o, "error"));
            const std::string_view message = string_at(o, "message");
            const std::string_view details = string_at(o, "error_details");
            if (!e.code.empty()) detail = e.code;
            if (!message.empty()) detail += (detail.empty() ? "" : ": ") + quote_for_message(message, 160);
            if (!details.empty() && details != message)
                detail += (detail.empty() ? "" : " ") + std::string("(") + quote_for_message(details, 160) + ")";
        }
        if (detail.empty()) detail = "JSON body " + quote_for_message(body);
    } else if (body.starts_with("<")) {
        detail = "(an HTML page, " + std::to_string(answer.body.size()) + " bytes)";
    } else if (!body.empty()) {
        detail = quote_for_message(body);
    }
    std::string hint;
    switch (e.kind) {
        case RestErrorKind::unauthorized:
            hint =
                "; the JWT was refused: check COINBASE_API_KEY_NAME and the key, the clock (skew), and that the "
                "key is not expired or deleted";
            break;
        case RestErrorKind::forbidden:
            hint = "; the key lacks a permission (view for reads, trade for orders): edit it in the CDP portal";
            break;
        case RestErrorKind::rate_limited:
            hint = "; rate limited";
            break;
        default:
            break;
    }
    e.message = std::string(what) + ": HTTP " + std::to_string(s) + (detail.empty() ? "" : " ") + detail + hint;
    return e;
}

RestResult<AccountsPage> decode_accounts(const HttpAnswer& answer, std::size_t limit) {
    constexpr std::string_view what = "list accounts";
    if (!is_2xx(answer.status)) return RestResult<AccountsPage>::failure(error_from_answer(answer, what));
    Reader r(what);
    dom::object root;
    dom::array items;
    AccountsPage page;
    if (r.parse(answer.body, root) && r.array(root, "accounts", "accounts", items, limit)) {
        std::size_t i = 0;
        for (dom::element item : items) {
            dom::object a;
            if (item.get_object().get(a) != simdjson::SUCCESS) {
                r.fail(item_path("accounts", i, ""), "is not an object");
                break;
            }
            Account acc;
            dom::object balance;
            dom::object hold;
            r.id(a, "uuid", item_path("accounts", i, "uuid"), acc.uuid, true);
            r.text(a, "name", item_path("accounts", i, "name"), acc.name, false);
            r.text(a, "currency", item_path("accounts", i, "currency"), acc.currency, true, 16);
            if (r.object(a, "available_balance", item_path("accounts", i, "available_balance"), balance, true))
                r.amount(balance, "value", item_path("accounts", i, "available_balance.value"), acc.available, 0,
                         max_amount, true);
            if (r.object(a, "hold", item_path("accounts", i, "hold"), hold, false))
                r.amount(hold, "value", item_path("accounts", i, "hold.value"), acc.hold, 0, max_amount, true);
            r.boolean(a, "active", item_path("accounts", i, "active"), acc.active, false);
            r.boolean(a, "ready", item_path("accounts", i, "ready"), acc.ready, false);
            r.text(a, "type", item_path("accounts", i, "type"), acc.type, false);
            if (r.failed()) break;
            page.accounts.push_back(std::move(acc));
            ++i;
        }
        r.boolean(root, "has_next", "has_next", page.has_next, true);
        r.text(root, "cursor", "cursor", page.cursor, false, max_id_chars * 4);
        if (!r.failed() && page.has_next && page.cursor.empty()) r.fail("cursor", "is empty while has_next is true");
    }
    if (r.failed()) return RestResult<AccountsPage>::failure(r.error(answer.status));
    return RestResult<AccountsPage>::success(std::move(page));
}

RestResult<Product> decode_product(const HttpAnswer& answer) {
    constexpr std::string_view what = "get product";
    if (!is_2xx(answer.status)) return RestResult<Product>::failure(error_from_answer(answer, what));
    Reader r(what);
    dom::object root;
    Product p;
    if (r.parse(answer.body, root)) {
        r.product_id(root, "product_id", "product_id", p.product_id);
        r.amount(root, "price", "price", p.price, 0, max_sane_price, false, true);
        if (!r.failed() && p.price.value != 0 && !sane_price(p.price.value))
            r.fail("price", "is out of range: " + quote_for_message(p.price.text));
        for (auto [key, text, inc] : {std::tuple{"base_increment", &p.base_increment_text, &p.base_increment},
                                      std::tuple{"quote_increment", &p.quote_increment_text, &p.quote_increment}}) {
            if (!r.text(root, key, key, *text, true, 40)) break;
            const std::optional<DecimalIncrement> parsed = DecimalIncrement::parse(*text);
            if (!parsed) {
                r.fail(key, "is not a positive decimal step: " + quote_for_message(*text));
                break;
            }
            *inc = *parsed;
        }
        r.amount(root, "base_min_size", "base_min_size", p.base_min_size, 0, max_amount, true);
        r.amount(root, "base_max_size", "base_max_size", p.base_max_size, 0, max_amount, false, true);
        r.amount(root, "quote_min_size", "quote_min_size", p.quote_min_size, 0, max_amount, true);
        r.amount(root, "quote_max_size", "quote_max_size", p.quote_max_size, 0, max_amount, false, true);
        r.text(root, "status", "status", p.status, true, 32);
        r.boolean(root, "trading_disabled", "trading_disabled", p.trading_disabled, true);
        r.boolean(root, "is_disabled", "is_disabled", p.is_disabled, false);
        r.boolean(root, "cancel_only", "cancel_only", p.cancel_only, false);
        r.boolean(root, "limit_only", "limit_only", p.limit_only, false);
        r.boolean(root, "post_only", "post_only", p.post_only, false);
        r.boolean(root, "auction_mode", "auction_mode", p.auction_mode, false);
        if (!r.failed() && p.base_max_size.value > 0 && p.base_max_size.value < p.base_min_size.value)
            r.fail("base_max_size", "is below base_min_size");
        if (!r.failed() && p.quote_max_size.value > 0 && p.quote_max_size.value < p.quote_min_size.value)
            r.fail("quote_max_size", "is below quote_min_size");
    }
    if (r.failed()) return RestResult<Product>::failure(r.error(answer.status));
    return RestResult<Product>::success(std::move(p));
}

RestResult<ServerTime> decode_server_time(const HttpAnswer& answer) {
    constexpr std::string_view what = "server time";
    if (!is_2xx(answer.status)) return RestResult<ServerTime>::failure(error_from_answer(answer, what));
    Reader r(what);
    dom::object root;
    ServerTime t;
    if (r.parse(answer.body, root)) {
        dom::element e;
        if (r.field(root, "epochMillis", "epochMillis", e, false)) {
            r.integer_of(e, "epochMillis", t.epoch_ms, min_epoch_s * 1000, max_epoch_s * 1000);
        } else if (r.field(root, "epochSeconds", "epochSeconds", e, false)) {
            std::int64_t s = 0;
            if (r.integer_of(e, "epochSeconds", s, min_epoch_s, max_epoch_s)) t.epoch_ms = s * 1000;
        } else {
            std::int64_t ns = 0;
            if (r.time(root, "iso", "iso", ns, true)) t.epoch_ms = ns / 1'000'000;
        }
    }
    if (r.failed()) return RestResult<ServerTime>::failure(r.error(answer.status));
    return RestResult<ServerTime>::success(t);
}

RestResult<std::vector<Candle>> decode_candles(const HttpAnswer& answer, Granularity granularity, std::int64_t start_s,
                                               std::int64_t end_s, std::size_t limit) {
    constexpr std::string_view what = "candles";
    if (!is_2xx(answer.status)) return RestResult<std::vector<Candle>>::failure(error_from_answer(answer, what));
    const std::int64_t step = granularity_seconds(granularity);
    Reader r(what);
    dom::object root;
    dom::array items;
    std::vector<Candle> candles;
    if (r.parse(answer.body, root) && r.array(root, "candles", "candles", items, limit)) {
        candles.reserve(items.size());
        std::size_t i = 0;
        for (dom::element item : items) {
            dom::object c;
            if (item.get_object().get(c) != simdjson::SUCCESS) {
                r.fail(item_path("candles", i, ""), "is not an object");
                break;
            }
            Candle k{};
            Amount open, high, low, close, volume;
            r.integer(c, "start", item_path("candles", i, "start"), k.time_s, start_s, end_s, true);
            r.amount(c, "open", item_path("candles", i, "open"), open, min_sane_price, max_sane_price, true);
            r.amount(c, "high", item_path("candles", i, "high"), high, min_sane_price, max_sane_price, true);
            r.amount(c, "low", item_path("candles", i, "low"), low, min_sane_price, max_sane_price, true);
            r.amount(c, "close", item_path("candles", i, "close"), close, min_sane_price, max_sane_price, true);
            r.amount(c, "volume", item_path("candles", i, "volume"), volume, 0, max_sane_size, true);
            if (r.failed()) break;
            if (k.time_s % step != 0) {
                r.fail(item_path("candles", i, "start"), std::to_string(k.time_s) +
                                                             " is not a multiple of the granularity (" +
                                                             std::to_string(step) + " s)");
                break;
            }
            if (!(low.value <= std::min(open.value, close.value) && high.value >= std::max(open.value, close.value))) {
                r.fail(item_path("candles", i, ""), "has low/high that do not contain open and close");
                break;
            }
            k.open = open.value;
            k.high = high.value;
            k.low = low.value;
            k.close = close.value;
            k.volume = volume.value;
            candles.push_back(k);
            ++i;
        }
        if (!r.failed()) {
            std::sort(candles.begin(), candles.end(),
                      [](const Candle& a, const Candle& b) { return a.time_s < b.time_s; });
            for (std::size_t j = 1; j < candles.size(); ++j)
                if (candles[j].time_s == candles[j - 1].time_s) {
                    r.fail("candles", "holds two candles starting at " + std::to_string(candles[j].time_s));
                    break;
                }
        }
    }
    if (r.failed()) return RestResult<std::vector<Candle>>::failure(r.error(answer.status));
    return RestResult<std::vector<Candle>>::success(std::move(candles));
}

RestResult<CreateOrderResult> decode_create_order(const HttpAnswer& answer) {
    constexpr std::string_view what = "create order";
    // 5xx, 429, 401...: the order may or may not exist (5xx) or was not taken (4xx); the caller
    // tells them apart by kind. A 4xx that still carries the documented success:false body is a
    // rejection with the exchange's reason.
    const bool success_status = is_2xx(answer.status);
    if (!success_status && !(answer.status >= 400 && answer.status < 500 && answer.status != 429 &&
                             answer.status != 401 && trim(answer.body).starts_with("{")))
        return RestResult<CreateOrderResult>::failure(error_from_answer(answer, what));
    Reader r(what);
    dom::object root;
    CreateOrderResult out;
    bool success = false;
    if (!r.parse(answer.body, root) || !r.boolean(root, "success", "success", success, true)) {
        if (!success_status) return RestResult<CreateOrderResult>::failure(error_from_answer(answer, what));
        return RestResult<CreateOrderResult>::failure(r.error(answer.status));
    }
    if (!success) {
        RestError e{RestErrorKind::rejected, answer.status, {}, {}};
        dom::object er;
        std::string_view message;
        if (root.at_key("error_response").get_object().get(er) == simdjson::SUCCESS) {
            for (const char* key : {"error", "new_order_failure_reason", "preview_failure_reason"}) {
                std::string code = checked_code(string_at(er, key));
                if (!code.empty() && code.find("UNKNOWN") == std::string::npos) {
                    e.code = std::move(code);
                    break;
                }
            }
            message = string_at(er, "message");
        }
        if (e.code.empty()) e.code = checked_code(string_at(root, "failure_reason"));
        if (e.code.empty()) e.code = "UNKNOWN_FAILURE_REASON";
        e.message = std::string(what) + ": rejected: " + e.code +
                    (message.empty() ? std::string() : " (" + quote_for_message(message, 160) + ")");
        return RestResult<CreateOrderResult>::failure(std::move(e));
    }
    if (!success_status) {
        r.fail("success", "is true in an HTTP " + std::to_string(answer.status) + " answer");
        return RestResult<CreateOrderResult>::failure(r.error(answer.status));
    }
    dom::object sr;
    if (r.object(root, "success_response", "success_response", sr, false)) {
        r.id(sr, "order_id", "success_response.order_id", out.order_id, false);
        r.id(sr, "client_order_id", "success_response.client_order_id", out.client_order_id, false);
    }
    if (out.order_id.empty()) r.id(root, "order_id", "order_id", out.order_id, false);
    if (!r.failed() && out.order_id.empty()) r.fail("order_id", "is missing or empty although success is true");
    if (r.failed()) return RestResult<CreateOrderResult>::failure(r.error(answer.status));
    return RestResult<CreateOrderResult>::success(std::move(out));
}

namespace {

// One order object (get order's "order", list orders' "orders[i]"), its fields' paths under `at`.
void read_order(Reader& r, dom::object o, const std::string& at, Order& order) {
    const auto path = [&](std::string_view field) { return at + "." + std::string(field); };
    r.id(o, "order_id", path("order_id"), order.order_id, true);
    r.id(o, "client_order_id", path("client_order_id"), order.client_order_id, false);
    r.product_id(o, "product_id", path("product_id"), order.product_id);
    r.side(o, "side", path("side"), order.side, true);
    std::string status;
    if (r.text(o, "status", path("status"), status, true, 32)) {
        static constexpr std::pair<std::string_view, OrderStatus> names[] = {
            {"PENDING", OrderStatus::pending},
            {"OPEN", OrderStatus::open},
            {"FILLED", OrderStatus::filled},
            {"CANCELLED", OrderStatus::cancelled},
            {"EXPIRED", OrderStatus::expired},
            {"FAILED", OrderStatus::failed},
            {"QUEUED", OrderStatus::queued},
            {"CANCEL_QUEUED", OrderStatus::cancel_queued},
            {"UNKNOWN_ORDER_STATUS", OrderStatus::unknown}};
        bool known = false;
        for (const auto& [name, value] : names)
            if (status == name) {
                order.status = value;
                known = true;
            }
        // A status added later is not terminal for us: the caller keeps polling and reports it.
        if (!known) order.status = OrderStatus::unknown;
    }
    r.amount(o, "filled_size", path("filled_size"), order.filled_size, 0, max_amount, false, true);
    r.amount(o, "average_filled_price", path("average_filled_price"), order.average_filled_price, 0, max_sane_price,
             false, true);
    r.amount(o, "filled_value", path("filled_value"), order.filled_value, 0, max_amount, false, true);
    r.amount(o, "total_fees", path("total_fees"), order.total_fees, 0, max_amount, false, true);
    r.integer(o, "number_of_fills", path("number_of_fills"), order.number_of_fills, 0, 1'000'000, false);
    r.time(o, "created_time", path("created_time"), order.created_time_ns, false);
    if (!r.failed() && order.filled_size.value > 0 && !sane_price(order.average_filled_price.value))
        r.fail(path("average_filled_price"),
               "is out of range for a filled order: " + quote_for_message(order.average_filled_price.text));
}

}  // namespace

RestResult<Order> decode_order(const HttpAnswer& answer) {
    constexpr std::string_view what = "get order";
    if (!is_2xx(answer.status)) return RestResult<Order>::failure(error_from_answer(answer, what));
    Reader r(what);
    dom::object root;
    dom::object o;
    Order order;
    if (r.parse(answer.body, root) && r.object(root, "order", "order", o, true)) read_order(r, o, "order", order);
    if (r.failed()) return RestResult<Order>::failure(r.error(answer.status));
    return RestResult<Order>::success(std::move(order));
}

RestResult<OrdersPage> decode_orders(const HttpAnswer& answer, std::size_t limit) {
    constexpr std::string_view what = "list orders";
    if (!is_2xx(answer.status)) return RestResult<OrdersPage>::failure(error_from_answer(answer, what));
    Reader r(what);
    dom::object root;
    dom::array items;
    OrdersPage page;
    if (r.parse(answer.body, root) && r.array(root, "orders", "orders", items, limit)) {
        std::size_t i = 0;
        for (dom::element item : items) {
            const std::string at = "orders[" + std::to_string(i) + "]";
            dom::object o;
            if (item.get_object().get(o) != simdjson::SUCCESS) {
                r.fail(at, "is not an object");
                break;
            }
            Order order;
            read_order(r, o, at, order);
            if (r.failed()) break;
            page.orders.push_back(std::move(order));
            ++i;
        }
        r.boolean(root, "has_next", "has_next", page.has_next, true);
        r.text(root, "cursor", "cursor", page.cursor, false, max_id_chars * 4);
        if (!r.failed() && page.has_next && page.cursor.empty()) r.fail("cursor", "is empty while has_next is true");
    }
    if (r.failed()) return RestResult<OrdersPage>::failure(r.error(answer.status));
    return RestResult<OrdersPage>::success(std::move(page));
}

RestResult<FillsPage> decode_fills(const HttpAnswer& answer) {
    constexpr std::string_view what = "list fills";
    if (!is_2xx(answer.status)) return RestResult<FillsPage>::failure(error_from_answer(answer, what));
    Reader r(what);
    dom::object root;
    dom::array items;
    FillsPage page;
    if (r.parse(answer.body, root) && r.array(root, "fills", "fills", items, max_fills_per_page)) {
        std::size_t i = 0;
        for (dom::element item : items) {
            dom::object f;
            if (item.get_object().get(f) != simdjson::SUCCESS) {
                r.fail(item_path("fills", i, ""), "is not an object");
                break;
            }
            FillRecord fill;
            r.id(f, "entry_id", item_path("fills", i, "entry_id"), fill.entry_id, false);
            r.id(f, "trade_id", item_path("fills", i, "trade_id"), fill.trade_id, false);
            r.id(f, "order_id", item_path("fills", i, "order_id"), fill.order_id, true);
            r.product_id(f, "product_id", item_path("fills", i, "product_id"), fill.product_id);
            r.time(f, "trade_time", item_path("fills", i, "trade_time"), fill.trade_time_ns, true);
            r.amount(f, "price", item_path("fills", i, "price"), fill.price, min_sane_price, max_sane_price, true);
            r.amount(f, "size", item_path("fills", i, "size"), fill.size, min_sane_size, max_amount, true);
            r.amount(f, "commission", item_path("fills", i, "commission"), fill.commission, 0, max_amount, true);
            r.side(f, "side", item_path("fills", i, "side"), fill.side, true);
            r.boolean(f, "size_in_quote", item_path("fills", i, "size_in_quote"), fill.size_in_quote, false);
            r.text(f, "liquidity_indicator", item_path("fills", i, "liquidity_indicator"), fill.liquidity_indicator,
                   false, 40);
            if (r.failed()) break;
            page.fills.push_back(std::move(fill));
            ++i;
        }
        r.text(root, "cursor", "cursor", page.cursor, false, max_id_chars * 4);
    }
    if (r.failed()) return RestResult<FillsPage>::failure(r.error(answer.status));
    return RestResult<FillsPage>::success(std::move(page));
}

RestResult<KeyPermissions> decode_key_permissions(const HttpAnswer& answer) {
    constexpr std::string_view what = "key permissions";
    if (!is_2xx(answer.status)) return RestResult<KeyPermissions>::failure(error_from_answer(answer, what));
    Reader r(what);
    dom::object root;
    KeyPermissions k;
    if (r.parse(answer.body, root)) {
        r.boolean(root, "can_view", "can_view", k.can_view, true);
        r.boolean(root, "can_trade", "can_trade", k.can_trade, true);
        r.boolean(root, "can_transfer", "can_transfer", k.can_transfer, false);
        r.id(root, "portfolio_uuid", "portfolio_uuid", k.portfolio_uuid, false);
        r.text(root, "portfolio_type", "portfolio_type", k.portfolio_type, false, 40);
    }
    if (r.failed()) return RestResult<KeyPermissions>::failure(r.error(answer.status));
    return RestResult<KeyPermissions>::success(std::move(k));
}

// ---- the bridge's own answers ------------------------------------------------------------------------

RestResult<BridgeHealth> decode_bridge_health(const HttpAnswer& answer) {
    constexpr std::string_view what = "bridge health";
    if (!is_2xx(answer.status)) return RestResult<BridgeHealth>::failure(error_from_answer(answer, what));
    Reader r(what);
    dom::object root;
    BridgeHealth h;
    if (r.parse(answer.body, root)) {
        bool ok = true;
        if (r.boolean(root, "ok", "ok", ok, false) && !ok) r.fail("ok", "is false");
        if (r.text(root, "status", "status", h.status, false, 64) && h.status != "ok" && h.status != "healthy")
            r.fail("status", "is not ok: " + quote_for_message(h.status));
        if (h.status.empty()) h.status = "ok";
    }
    if (r.failed()) return RestResult<BridgeHealth>::failure(r.error(answer.status));
    return RestResult<BridgeHealth>::success(std::move(h));
}

RestResult<BridgePrice> decode_bridge_price(const HttpAnswer& answer) {
    constexpr std::string_view what = "bridge price";
    if (!is_2xx(answer.status)) return RestResult<BridgePrice>::failure(error_from_answer(answer, what));
    Reader r(what);
    dom::object root;
    BridgePrice p;
    if (r.parse(answer.body, root)) {
        r.product_id(root, "product_id", "product_id", p.product_id);
        r.amount(root, "price", "price", p.price, min_sane_price, max_sane_price, true);
        r.boolean(root, "stale", "stale", p.stale, false);
        Amount age;
        if (r.amount(root, "age_sec", "age_sec", age, 0, 1e9, false)) p.age_s = age.value;
    }
    if (r.failed()) return RestResult<BridgePrice>::failure(r.error(answer.status));
    return RestResult<BridgePrice>::success(std::move(p));
}

}  // namespace cbtrade::rest
