// Coinbase REST requests, order sizing and error kinds. See rest_messages.hpp; the answer decoders
// (simdjson) are in rest_decode.cpp.
#include "exec/rest_messages.hpp"

#include <charconv>

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <stdexcept>

#include "core/json_writer.hpp"
#include "core/rfc3339.hpp"
#include "core/text.hpp"

namespace cbtrade::rest {

namespace {

bool is_upper_alnum_or_dash(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

void require(bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(what);
}

std::string join(std::string_view base_path, std::string_view path) {
    std::string out(base_path);
    while (!out.empty() && out.back() == '/') out.pop_back();
    out += path;
    return out;
}

}  // namespace

bool valid_product_id(std::string_view id) noexcept {
    if (id.size() < 3 || id.size() > 32 || id.front() == '-' || id.back() == '-') return false;
    for (char c : id)
        if (!is_upper_alnum_or_dash(c)) return false;
    return true;
}

bool valid_order_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > max_id_chars) return false;
    for (char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    return true;
}

void append_query_value(std::string& out, std::string_view value) {
    constexpr std::string_view hex = "0123456789ABCDEF";
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        }
    }
}

RestRequest list_accounts_request(std::string_view base_path, std::size_t limit, std::string_view cursor) {
    require(limit >= 1 && limit <= max_accounts_per_page, "list accounts: limit must be 1..250");
    require(cursor.size() <= max_id_chars * 4, "list accounts: cursor too long");
    RestRequest r{"GET", join(base_path, "/accounts?limit=" + std::to_string(limit)), {}, true, true};
    if (!cursor.empty()) {
        r.target += "&cursor=";
        append_query_value(r.target, cursor);
    }
    return r;
}

RestRequest get_product_request(std::string_view base_path, std::string_view product_id, bool public_endpoint) {
    require(valid_product_id(product_id), "get product: invalid product id");
    return RestRequest{
        "GET",
        join(base_path, std::string(public_endpoint ? "/market/products/" : "/products/") + std::string(product_id)),
        {},
        !public_endpoint,
        true};
}

RestRequest server_time_request(std::string_view base_path) {
    return RestRequest{"GET", join(base_path, "/time"), {}, false, true};
}

RestRequest candles_request(std::string_view base_path, std::string_view product_id, Granularity granularity,
                            std::int64_t start_s, std::int64_t end_s, std::size_t limit, bool public_endpoint) {
    require(valid_product_id(product_id), "candles: invalid product id");
    require(limit >= 1 && limit <= max_candles_per_request, "candles: limit must be 1..300");
    require(start_s >= 0 && end_s >= start_s, "candles: need 0 <= start <= end");
    std::string path = std::string(public_endpoint ? "/market/products/" : "/products/") + std::string(product_id) +
                       "/candles?start=" + std::to_string(start_s) + "&end=" + std::to_string(end_s) +
                       "&granularity=" + std::string(granularity_name(granularity)) + "&limit=" + std::to_string(limit);
    return RestRequest{"GET", join(base_path, path), {}, !public_endpoint, true};
}

RestRequest key_permissions_request(std::string_view base_path) {
    return RestRequest{"GET", join(base_path, "/key_permissions"), {}, true, true};
}

RestRequest get_order_request(std::string_view base_path, std::string_view order_id) {
    require(valid_order_id(order_id), "get order: invalid order id");
    return RestRequest{"GET", join(base_path, "/orders/historical/" + std::string(order_id)), {}, true, true};
}

RestRequest list_fills_request(std::string_view base_path, std::string_view order_id, std::string_view cursor) {
    require(valid_order_id(order_id), "list fills: invalid order id");
    require(cursor.size() <= max_id_chars * 4, "list fills: cursor too long");
    RestRequest r{
        "GET", join(base_path, "/orders/historical/fills?order_ids=" + std::string(order_id)), {}, true, true};
    if (!cursor.empty()) {
        r.target += "&cursor=";
        append_query_value(r.target, cursor);
    }
    return r;
}

RestRequest list_orders_request(std::string_view base_path, std::string_view product_id, std::int64_t start_unix_s,
                                std::size_t limit, std::string_view cursor) {
    require(valid_product_id(product_id), "list orders: invalid product id");
    require(limit >= 1 && limit <= max_orders_per_page, "list orders: limit out of range");
    require(start_unix_s >= 0 && start_unix_s < 4'102'444'800, "list orders: start out of range");
    require(cursor.size() <= max_id_chars * 4, "list orders: cursor too long");
    std::string target = "/orders/historical/batch?product_ids=" + std::string(product_id) + "&start_date=";
    append_query_value(target, format_rfc3339_s(start_unix_s));
    target += "&limit=" + std::to_string(limit);
    if (!cursor.empty()) {
        target += "&cursor=";
        append_query_value(target, cursor);
    }
    return RestRequest{"GET", join(base_path, target), {}, true, true};
}

void append_create_order_body(std::string& out, const MarketOrder& order) {
    append_create_order_body(out, MarketOrderView{order.client_order_id, order.product_id, order.side, order.size});
}

void append_candles_answer(std::string& out, std::span<const Candle> oldest_first, std::size_t limit) {
    const auto text = [](double v) {
        char buf[64];
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
        return std::string(buf, ec == std::errc{} ? end : buf);
    };
    JsonWriter w(out);
    w.begin_object().key("candles").begin_array();
    std::size_t written = 0;
    for (auto it = oldest_first.rbegin(); it != oldest_first.rend() && written < limit; ++it, ++written) {
        w.begin_object()
            .member("start", std::to_string(it->time_s))
            .member("low", text(it->low))
            .member("high", text(it->high))
            .member("open", text(it->open))
            .member("close", text(it->close))
            .member("volume", text(it->volume))
            .end_object();
    }
    w.end_array().end_object();
}

void append_create_order_body(std::string& out, const MarketOrderView& order) {
    JsonWriter w(out);
    w.begin_object()
        .member("client_order_id", order.client_order_id)
        .member("product_id", order.product_id)
        .member("side", side_name(order.side))
        .key("order_configuration")
        .begin_object()
        .key("market_market_ioc")
        .begin_object()
        .member(order.side == Side::buy ? "quote_size" : "base_size", order.size)
        .end_object()
        .end_object()
        .end_object();
}

RestRequest create_order_request(std::string_view base_path, const MarketOrder& order) {
    require(valid_order_id(order.client_order_id), "create order: invalid client_order_id");
    require(valid_product_id(order.product_id), "create order: invalid product id");
    require(parse_decimal(order.size).value_or(0.0) > 0.0, "create order: size must be a positive decimal");
    RestRequest r{"POST", join(base_path, "/orders"), {}, true, true};
    append_create_order_body(r.body, order);
    return r;
}

void format_uuid_v4(std::uint64_t high, std::uint64_t low, char* out) noexcept {
    std::uint8_t b[16];
    for (int i = 0; i < 8; ++i) {
        b[i] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
        b[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
    }
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    constexpr std::string_view hex = "0123456789abcdef";
    std::size_t o = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
}

std::string new_client_order_id() {
    std::array<std::uint8_t, 16> b{};
    std::size_t got = 0;
    while (got < b.size()) {
        const ssize_t n = getrandom(b.data() + got, b.size() - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("getrandom failed: cannot make a client_order_id");
        }
        got += static_cast<std::size_t>(n);
    }
    std::uint64_t high = 0, low = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        high = high << 8 | b[i];
        low = low << 8 | b[8 + i];
    }
    std::string out(client_order_id_chars, '0');
    format_uuid_v4(high, low, out.data());
    return out;
}

std::string_view to_string(RestErrorKind kind) noexcept {
    switch (kind) {
        case RestErrorKind::none:
            return "ok";
        case RestErrorKind::network:
            return "network";
        case RestErrorKind::timeout:
            return "timeout";
        case RestErrorKind::unauthorized:
            return "unauthorized";
        case RestErrorKind::forbidden:
            return "forbidden";
        case RestErrorKind::not_found:
            return "not_found";
        case RestErrorKind::bad_request:
            return "bad_request";
        case RestErrorKind::rate_limited:
            return "rate_limited";
        case RestErrorKind::server_error:
            return "server_error";
        case RestErrorKind::malformed:
            return "malformed";
        case RestErrorKind::too_large:
            return "too_large";
        case RestErrorKind::rejected:
            return "rejected";
        case RestErrorKind::invalid_order:
            return "invalid_order";
        case RestErrorKind::unknown_outcome:
            return "unknown_outcome";
    }
    return "unknown";
}

std::string_view to_string(OrderStatus s) noexcept {
    switch (s) {
        case OrderStatus::pending:
            return "PENDING";
        case OrderStatus::open:
            return "OPEN";
        case OrderStatus::filled:
            return "FILLED";
        case OrderStatus::cancelled:
            return "CANCELLED";
        case OrderStatus::expired:
            return "EXPIRED";
        case OrderStatus::failed:
            return "FAILED";
        case OrderStatus::queued:
            return "QUEUED";
        case OrderStatus::cancel_queued:
            return "CANCEL_QUEUED";
        case OrderStatus::unknown:
            return "UNKNOWN_ORDER_STATUS";
    }
    return "UNKNOWN_ORDER_STATUS";
}

bool Product::market_orders_allowed() const noexcept {
    return status == "online" && !trading_disabled && !is_disabled && !cancel_only && !limit_only && !post_only &&
           !auction_mode;
}

std::string Product::market_orders_refusal() const {
    if (status != "online") return "status is " + quote_for_message(status);
    if (trading_disabled) return "trading_disabled is true";
    if (is_disabled) return "is_disabled is true";
    if (cancel_only) return "the product is cancel-only";
    if (limit_only) return "the product is limit-only";
    if (post_only) return "the product is post-only";
    if (auction_mode) return "the product is in auction mode";
    return {};
}

RestResult<MarketOrder> make_market_order(const Product& product, Side side, double amount,
                                          std::string client_order_id) {
    const auto refuse = [&](std::string message) {
        return RestResult<MarketOrder>::failure(
            RestError{RestErrorKind::invalid_order,
                      0,
                      {},
                      product.product_id + " " + std::string(side_name(side)) + ": " + std::move(message)});
    };
    if (!valid_order_id(client_order_id)) return refuse("invalid client_order_id");
    if (!product.market_orders_allowed())
        return refuse("market orders not allowed: " + product.market_orders_refusal());
    const bool buy = side == Side::buy;
    const DecimalIncrement increment = buy ? product.quote_increment : product.base_increment;
    const Amount& min_size = buy ? product.quote_min_size : product.base_min_size;
    const Amount& max_size = buy ? product.quote_max_size : product.base_max_size;
    const char* const unit = buy ? "quote_size" : "base_size";
    std::string text = floored_decimal(amount, increment);
    if (text.empty())
        return refuse(std::string(unit) + " floors to zero on increment " +
                      (buy ? product.quote_increment_text : product.base_increment_text));
    const double floored = parse_decimal(text).value_or(0.0);
    if (floored < min_size.value)
        return refuse(std::string(unit) + " " + text + " is below the minimum " + min_size.text);
    if (max_size.value > 0 && floored > max_size.value)
        return refuse(std::string(unit) + " " + text + " is above the maximum " + max_size.text);
    return RestResult<MarketOrder>::success(
        MarketOrder{std::move(client_order_id), product.product_id, side, std::move(text)});
}

}  // namespace cbtrade::rest
