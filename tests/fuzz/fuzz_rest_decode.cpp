// libFuzzer target for every Coinbase REST answer decoder (exec/rest_messages.hpp: accounts, product,
// server time, candles, create-order, order, list orders, fills, key permissions, and error_from_answer for the
// error bodies), plus the order sizing that runs on a decoded product's increments and minimums.
//
// Input layout: byte 0 picks the decoder, byte 1 the HTTP status (2xx, 4xx, 5xx and odd ones), byte
// 2 the content type and, for candles and accounts, the granularity and the page limit; for the
// product decoder bytes 3..10 are the amount to size an order for; the rest is the body. Each body is decoded twice and both outcomes must agree (the decoders reuse one parser
// per thread). Checked on every input: no crash, UB or leak; a non-2xx answer is never a success;
// a failure has a kind and one printable line of bounded length; a success holds only what the
// decoder promises (counts within the page limit, sane prices and sizes, amounts in range, ids of
// id characters, candles in time order inside the asked range on the granularity, low <= open,
// close <= high); and an order sized from a decoded product is on its increment, positive, within
// its minimum and maximum and not above the amount asked for.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/decimal.hpp"
#include "core/records.hpp"
#include "exec/rest_messages.hpp"
#include "tests/fuzz/fuzz_checks.hpp"

namespace {

using namespace cbtrade;
using namespace cbtrade::rest;

using fuzz::check;
using fuzz::printable;

// A call name, a field path, two quotes of 64 bytes cut and escaped, and the advice.
constexpr std::size_t max_message_chars = 1024;

void check_error(const RestError& e, int status) {
    check(e.kind != RestErrorKind::none);
    check(!e.message.empty() && e.message.size() <= max_message_chars && printable(e.message));
    check(e.code.size() <= 256 && printable(e.code));
    check(e.http_status == status || e.http_status == 0);
}

bool is_2xx(int status) {
    return status >= 200 && status <= 299;
}

void check_amount(const Amount& a, double lo, double hi) {
    check(std::isfinite(a.value) && a.value >= lo && a.value <= hi);
    check(a.text.size() <= 256 && printable(a.text));
}

void check_id(const std::string& id) {
    check(id.empty() || valid_order_id(id));
}

// Cursors are opaque and go back into a query string percent-encoded: printable and bounded only.
void check_cursor(const std::string& s) {
    check(s.size() <= 4 * max_id_chars && printable(s));
}

void check_text(const std::string& s) {
    check(s.size() <= 256 && printable(s));
}

constexpr double max_amount = 1e15;

template <class T, class Check>
void run(const RestResult<T>& r, const RestResult<T>& again, int status, Check&& check_value) {
    check(r.ok() == again.ok());
    if (!r.ok()) {
        check(r.error.message == again.error.message && r.error.kind == again.error.kind);
        check_error(r.error, status);
        return;
    }
    check(is_2xx(status));
    check_value(*r.value);
}

void check_product(const Product& p, std::uint64_t amount_bits) {
    check(valid_product_id(p.product_id));
    check(p.price.value == 0 || sane_price(p.price.value));
    check_amount(p.price, 0, max_sane_price);
    check(p.base_increment.value() > 0 && p.quote_increment.value() > 0);
    for (const Amount* a : {&p.base_min_size, &p.base_max_size, &p.quote_min_size, &p.quote_max_size})
        check_amount(*a, 0, max_amount);
    check_text(p.status);
    check(p.market_orders_allowed() == p.market_orders_refusal().empty());

    // Sizing on the outside increments: any amount, NaN and infinities included.
    double amount = 0;
    std::memcpy(&amount, &amount_bits, sizeof amount);
    for (const Side side : {Side::buy, Side::sell}) {
        const RestResult<MarketOrder> o = make_market_order(p, side, amount, "0d6b5c2e-7f3a-4c1e-9a55-3e2b8c1f0a77");
        if (!o.ok()) {
            check(o.error.kind == RestErrorKind::invalid_order);
            check(!o.error.message.empty() && o.error.message.size() <= max_message_chars &&
                  printable(o.error.message));
            continue;
        }
        check(p.market_orders_allowed());
        const bool buy = side == Side::buy;
        const DecimalIncrement inc = buy ? p.quote_increment : p.base_increment;
        const std::string& size = o.value->size;
        const auto dot = size.find('.');
        check(dot == std::string::npos || size.size() - dot - 1 <= inc.scale);
        const std::optional<double> v = parse_decimal(size);
        check(v.has_value() && *v > 0 && std::isfinite(amount) && *v <= amount * (1 + 1e-12));
        check(*v >= (buy ? p.quote_min_size : p.base_min_size).value);
        const double max_size = (buy ? p.quote_max_size : p.base_max_size).value;
        check(max_size == 0 || *v <= max_size);
    }
}

void check_order(const Order& o) {
    check_id(o.order_id);
    check_id(o.client_order_id);
    check(o.product_id.empty() || valid_product_id(o.product_id));
    check_amount(o.filled_size, 0, max_amount);
    check_amount(o.average_filled_price, 0, max_sane_price);
    check_amount(o.filled_value, 0, max_amount);
    check_amount(o.total_fees, 0, max_amount);
    check(o.filled_size.value == 0 || sane_price(o.average_filled_price.value));
    check(o.number_of_fills >= 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    static constexpr int statuses[] = {200, 201, 204, 299, 400, 401, 403, 404, 409, 418, 429, 500, 502, 503, 100, 302};
    static constexpr std::string_view content_types[] = {"application/json", "application/json; charset=utf-8",
                                                         "text/plain", "text/html", ""};
    const unsigned decoder = data[0] % 11;
    const int status = statuses[data[1] % std::size(statuses)];
    const std::string_view content_type = content_types[data[2] % std::size(content_types)];
    // For the product decoder, bytes 3..10 are the amount an order is sized for (any double).
    std::uint64_t amount_bits = 0;
    std::size_t body_at = 3;
    if (decoder == 1 && size >= 11) {
        std::memcpy(&amount_bits, data + 3, sizeof amount_bits);
        body_at = 11;
    }
    const std::string_view body(reinterpret_cast<const char*>(data) + body_at, size - body_at);
    const HttpAnswer answer{status, content_type, body};
    // The page limit and granularity of the request this answers: from byte 2 too.
    const std::size_t limit = 1 + data[2] % max_candles_per_request;
    const auto granularity = static_cast<Granularity>((data[2] >> 4) % (static_cast<int>(Granularity::one_day) + 1));

    switch (decoder) {
        case 0: {
            const std::size_t page = 1 + data[2] % max_accounts_per_page;
            run(decode_accounts(answer, page), decode_accounts(answer, page), status, [&](const AccountsPage& p) {
                check(p.accounts.size() <= page);
                check_cursor(p.cursor);
                for (const Account& a : p.accounts) {
                    check_id(a.uuid);
                    check_text(a.name);
                    check_text(a.currency);
                    check_text(a.type);
                    check_amount(a.available, 0, max_amount);
                    check_amount(a.hold, 0, max_amount);
                }
            });
            break;
        }
        case 1:
            run(decode_product(answer), decode_product(answer), status,
                [&](const Product& p) { check_product(p, amount_bits); });
            break;
        case 2:
            run(decode_server_time(answer), decode_server_time(answer), status, [](const ServerTime& t) {
                check(t.epoch_ms >= 946'684'800'000 && t.epoch_ms <= 4'102'444'800'000);  // 2000..2100
            });
            break;
        case 3: {
            const std::int64_t step = granularity_seconds(granularity);
            const std::int64_t start_s = 1'699'920'000;  // midnight: on every granularity
            const std::int64_t end_s = candle_page_end(start_s, step, limit);
            run(decode_candles(answer, granularity, start_s, end_s, limit),
                decode_candles(answer, granularity, start_s, end_s, limit), status,
                [&](const std::vector<Candle>& candles) {
                    check(candles.size() <= limit);
                    for (std::size_t i = 0; i < candles.size(); ++i) {
                        const Candle& c = candles[i];
                        check(c.time_s >= start_s && c.time_s <= end_s && c.time_s % step == 0);
                        check(i == 0 || c.time_s > candles[i - 1].time_s);
                        check(sane_price(c.open) && sane_price(c.high) && sane_price(c.low) && sane_price(c.close));
                        check(c.low <= c.open && c.low <= c.close && c.high >= c.open && c.high >= c.close);
                        check(c.volume >= 0 && c.volume <= max_sane_size);
                    }
                });
            break;
        }
        case 4: {
            const auto r = decode_create_order(answer);
            const auto again = decode_create_order(answer);
            check(r.ok() == again.ok());
            if (r.ok()) {
                check(is_2xx(status));
                check(!r.value->order_id.empty() && valid_order_id(r.value->order_id));
                check_id(r.value->client_order_id);
            } else {
                check(r.error.message == again.error.message && r.error.kind == again.error.kind);
                check_error(r.error, status);
                // A rejection is the exchange's definite no: only ever from a JSON success:false body.
                if (r.error.kind == RestErrorKind::rejected) check(body.find("false") != std::string_view::npos);
            }
            break;
        }
        case 5:
            run(decode_order(answer), decode_order(answer), status, [](const Order& o) { check_order(o); });
            break;
        case 6:
            run(decode_fills(answer), decode_fills(answer), status, [](const FillsPage& p) {
                check(p.fills.size() <= max_fills_per_page);
                check_cursor(p.cursor);
                for (const FillRecord& f : p.fills) {
                    check_id(f.entry_id);
                    check_id(f.trade_id);
                    check_id(f.order_id);
                    check(sane_price(f.price.value) && f.size.value >= min_sane_size && f.size.value <= max_amount);
                    check_amount(f.commission, 0, max_amount);
                    check_text(f.liquidity_indicator);
                }
            });
            break;
        case 7:
            run(decode_key_permissions(answer), decode_key_permissions(answer), status, [](const KeyPermissions& k) {
                check_text(k.portfolio_uuid);
                check_text(k.portfolio_type);
            });
            break;
        case 10: {
            const std::size_t page = 1 + data[2] % max_orders_per_page;
            run(decode_orders(answer, page), decode_orders(answer, page), status, [&](const OrdersPage& p) {
                check(p.orders.size() <= page);
                check_cursor(p.cursor);
                check(!p.has_next || !p.cursor.empty());
                for (const Order& o : p.orders) check_order(o);
            });
            break;
        }
        default: {
            // The error path every decoder takes for a non-2xx answer, whatever the body's shape.
            const RestError e = error_from_answer(answer, "list accounts");
            check_error(e, status);
            break;
        }
    }
    return 0;
}
