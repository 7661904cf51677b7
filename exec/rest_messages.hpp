// exec/rest_messages: the Coinbase Advanced Trade REST calls (coinbase-api.md section 3) as data,
// with no I/O: builders return the request (method, target, body), decoders turn an HTTP answer
// (status, content type, body) into a value or a RestError. The client (exec/rest_client.hpp) sends
// them; the simulator's tests and the benchmarks use the same builders.
//
// Decoders trust nothing: every body is size-limited, every number is range-checked (prices and
// sizes against core/records.hpp's sane ranges, balances >= 0, times between 2000 and 2100), every
// id is checked for length and characters, and a page may not hold more items than the request
// allowed. Error bodies come in three shapes (JSON {"error","message","error_details"}, plain text
// "Unauthorized" on 401, an HTML page on 429); each becomes one RestError whose message is one
// short printable line (outside text is quoted with core/text.hpp, never copied raw).
//
// Money amounts keep the exchange's exact decimal text next to the parsed double: order sizes are
// built from DecimalIncrement text (core/decimal.hpp), never from float printing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/candle.hpp"
#include "core/config.hpp"
#include "core/decimal.hpp"
#include "core/records.hpp"

namespace cbtrade::rest {

// ---- limits --------------------------------------------------------------------------------------

inline constexpr std::size_t max_body_bytes = 4 * 1024 * 1024;  // the largest answer decoded
inline constexpr std::size_t max_accounts_per_page = 250;       // list-accounts limit (documented max)
inline constexpr std::size_t max_candles_per_request = 300;     // coinbase-api.md 3.4: 350 cap, 300 is safe
inline constexpr std::size_t max_fills_per_page = 1000;
inline constexpr std::size_t max_orders_per_page = 100;  // list orders: the page size cbtrade asks for
inline constexpr std::size_t max_id_chars = 128;         // uuids, order ids, cursors are far shorter

// ---- requests ------------------------------------------------------------------------------------

struct RestRequest {
    std::string method;         // "GET" or "POST"
    std::string target;         // base path + path + query, e.g. "/api/v3/brokerage/accounts?limit=250"
    std::string body;           // JSON for POST, empty for GET
    bool authenticated = true;  // needs a JWT; false for /time and the public /market/ endpoints
    // Safe to send again as is after an unknown outcome. Create-order is, because a resend carries
    // the same client_order_id (the exchange answers with the first order); the client still looks
    // the order up first (exec/rest_client.hpp).
    bool idempotent = true;
    // The target without its query: what the JWT uri claim covers.
    [[nodiscard]] std::string_view path() const noexcept {
        return std::string_view(target).substr(0, std::string_view(target).find('?'));
    }
};

// True for "BTC-USD"-like ids (upper-case letters, digits and '-', 3..32 characters); builders
// refuse anything else rather than put it in a URL path.
[[nodiscard]] bool valid_product_id(std::string_view id) noexcept;
// Order ids and client order ids: letters, digits, '-' and '_', 1..max_id_chars.
[[nodiscard]] bool valid_order_id(std::string_view id) noexcept;

// `base_path` is the path of COINBASE_API_BASE ("/api/v3/brokerage"); every builder appends to it.
// Builders throw std::invalid_argument for arguments the caller should have checked (a bad
// product id, limit 0); they are programming errors, not outside data.
[[nodiscard]] RestRequest list_accounts_request(std::string_view base_path, std::size_t limit, std::string_view cursor);
// Public (`market/`) or authenticated product; both answer with the same product object.
[[nodiscard]] RestRequest get_product_request(std::string_view base_path, std::string_view product_id,
                                              bool public_endpoint);
[[nodiscard]] RestRequest server_time_request(std::string_view base_path);
// Candles with start <= time <= end (UNIX seconds; both sent, as the API requires) and `limit`
// (<= max_candles_per_request). The caller picks start and end so that the range holds at most
// `limit` buckets (candle_page_end).
[[nodiscard]] RestRequest candles_request(std::string_view base_path, std::string_view product_id,
                                          Granularity granularity, std::int64_t start_s, std::int64_t end_s,
                                          std::size_t limit, bool public_endpoint);
// The end of a page of `limit` buckets that starts at `start_s` (a multiple of the granularity):
// one second before the next page's first bucket. It is no bucket start, so the page holds the same
// `limit` buckets whether the server reads `end` as inclusive or exclusive (reports differ), and
// consecutive pages neither overlap nor leave a bucket out.
[[nodiscard]] constexpr std::int64_t candle_page_end(std::int64_t start_s, std::int64_t granularity_s,
                                                     std::size_t limit) noexcept {
    return start_s + static_cast<std::int64_t>(limit) * granularity_s - 1;
}
[[nodiscard]] RestRequest get_order_request(std::string_view base_path, std::string_view order_id);
[[nodiscard]] RestRequest list_fills_request(std::string_view base_path, std::string_view order_id,
                                             std::string_view cursor);
// List orders (reconciliation by client_order_id after a restart): the orders of one product created
// at or after `start_unix_s`, `limit` (1..max_orders_per_page) a page, the next page by `cursor`:
// GET /orders/historical/batch?product_ids=ID&start_date=RFC3339&limit=N[&cursor=C].
[[nodiscard]] RestRequest list_orders_request(std::string_view base_path, std::string_view product_id,
                                              std::int64_t start_unix_s, std::size_t limit, std::string_view cursor);

// What the key may do (GET /key_permissions, "Get API Key Permissions" in the AT REST reference;
// not in coinbase-api.md): {"can_view","can_trade","can_transfer","portfolio_uuid","portfolio_type"}.
[[nodiscard]] RestRequest key_permissions_request(std::string_view base_path);

// A market IOC order: BUY spends `size` of the quote currency (quote_size), SELL sells `size` of
// the base currency (base_size). `size` is exact decimal text on the product's increment.
struct MarketOrder {
    std::string client_order_id;
    std::string product_id;
    Side side = Side::buy;
    std::string size;
};
[[nodiscard]] RestRequest create_order_request(std::string_view base_path, const MarketOrder& order);
// The same order as views (the exec thread builds its orders from fixed buffers).
struct MarketOrderView {
    std::string_view client_order_id;
    std::string_view product_id;
    Side side = Side::buy;
    std::string_view size;
};
// The JSON body alone, appended to `out`: no allocation when `out` has the capacity (the exec thread
// and the benchmark build it into a reused buffer).
void append_create_order_body(std::string& out, const MarketOrderView& order);
void append_create_order_body(std::string& out, const MarketOrder& order);

inline constexpr std::size_t client_order_id_chars = 36;
// A version-4 UUID made of 128 bits (122 of them kept), written to out[0, 36). The exec thread makes
// its ids so from a generator seeded with getrandom at start; new_client_order_id() from getrandom.
void format_uuid_v4(std::uint64_t high, std::uint64_t low, char* out) noexcept;
// A fresh client_order_id: a random (getrandom) version-4 UUID, 36 characters.
[[nodiscard]] std::string new_client_order_id();

// Query-string encoding (RFC 3986 unreserved characters kept, everything else %XX).
void append_query_value(std::string& out, std::string_view value);

// The candles answer as the exchange writes it (coinbase-api.md 3.4): {"candles":[...]}, newest
// first, every field a string (shortest round-trip decimals); the newest `limit` of `oldest_first`.
// cbtrade-sim and `cbtrade bridge` answer with it.
void append_candles_answer(std::string& out, std::span<const Candle> oldest_first, std::size_t limit);

// ---- errors --------------------------------------------------------------------------------------

enum class RestErrorKind : std::uint8_t {
    none,
    network,        // connect, TLS, reset, timeout: no HTTP answer (set by the client)
    timeout,        // no complete answer before the deadline (set by the client)
    unauthorized,   // 401: bad or expired JWT, wrong key name, wrong uri claim, clock skew
    forbidden,      // 403: the key lacks a scope (view / trade)
    not_found,      // 404
    bad_request,    // 400 and other 4xx
    rate_limited,   // 429 (body often HTML)
    server_error,   // 5xx
    malformed,      // a 2xx answer that is not the documented shape, or a number out of range
    too_large,      // an answer larger than max_body_bytes
    rejected,       // create-order answered success:false (e.g. INSUFFICIENT_FUND)
    invalid_order,  // refused before sending: size below the minimum, product not tradable, ...
    // create-order only: an attempt may have been executed but its answer was never seen (timeout,
    // dropped connection, 5xx, unreadable answer) and resending it with the same client_order_id
    // did not settle it. The order may exist: reconcile by client_order_id, never resend under a new one.
    unknown_outcome,
};
[[nodiscard]] std::string_view to_string(RestErrorKind kind) noexcept;

struct RestError {
    RestErrorKind kind = RestErrorKind::none;
    int http_status = 0;              // 0 when there was no HTTP answer
    std::string code;                 // the exchange's code ("INSUFFICIENT_FUND", "NOT_FOUND"), checked printable
    std::string message;              // one printable line
    std::int64_t retry_after_ms = 0;  // from Retry-After on 429/503, when the client saw one
};

template <class T>
struct RestResult {
    std::optional<T> value;
    RestError error;
    [[nodiscard]] bool ok() const noexcept { return value.has_value(); }
    static RestResult failure(
        RestError
            e) {  // NOLINT(performance-unnecessary-value-param): it is moved; clang-tidy 14 misses that in a template
        RestResult r;
        r.error = std::move(e);
        return r;
    }
    static RestResult success(T v) {
        RestResult r;
        r.value = std::move(v);
        return r;
    }
};

// What the HTTP layer hands to a decoder.
struct HttpAnswer {
    int status = 0;
    std::string_view content_type;
    std::string_view body;
};

// The RestError for a non-2xx answer (any body shape). `what` names the call ("list accounts").
[[nodiscard]] RestError error_from_answer(const HttpAnswer& answer, std::string_view what);

// ---- answers -------------------------------------------------------------------------------------

// A decimal amount as the exchange wrote it, and its value.
struct Amount {
    std::string text;
    double value = 0;
};

struct Account {
    std::string uuid;
    std::string name;
    std::string currency;
    Amount available;  // available_balance.value
    Amount hold;       // hold.value (0 when absent)
    bool active = true;
    bool ready = true;
    std::string type;  // ACCOUNT_TYPE_CRYPTO, ACCOUNT_TYPE_FIAT, ...
};
struct AccountsPage {
    std::vector<Account> accounts;
    bool has_next = false;
    std::string cursor;
};
[[nodiscard]] RestResult<AccountsPage> decode_accounts(const HttpAnswer& answer, std::size_t limit);

struct Product {
    std::string product_id;
    Amount price;  // may be empty text (value 0) for a product without trades
    std::string base_increment_text;
    std::string quote_increment_text;
    DecimalIncrement base_increment;
    DecimalIncrement quote_increment;
    Amount base_min_size;
    Amount base_max_size;
    Amount quote_min_size;
    Amount quote_max_size;
    std::string status;  // "online", "offline", "delisted", ...
    bool trading_disabled = false;
    bool is_disabled = false;
    bool cancel_only = false;
    bool limit_only = false;
    bool post_only = false;
    bool auction_mode = false;
    // Whether a market order may be sent: online, not disabled, not cancel/limit/post-only, no auction.
    [[nodiscard]] bool market_orders_allowed() const noexcept;
    // Why not, one phrase ("status is 'offline'", "trading_disabled"); empty when allowed.
    [[nodiscard]] std::string market_orders_refusal() const;
};
[[nodiscard]] RestResult<Product> decode_product(const HttpAnswer& answer);

struct ServerTime {
    std::int64_t epoch_ms = 0;
};
[[nodiscard]] RestResult<ServerTime> decode_server_time(const HttpAnswer& answer);

// Candles in time order (the API answers newest first), each checked: start a multiple of the
// granularity inside [start_s, end_s], low <= open, close <= high, sane prices, volume >= 0, no
// duplicate start, at most `limit` of them.
[[nodiscard]] RestResult<std::vector<Candle>> decode_candles(const HttpAnswer& answer, Granularity granularity,
                                                             std::int64_t start_s, std::int64_t end_s,
                                                             std::size_t limit);

struct CreateOrderResult {
    std::string order_id;
    std::string client_order_id;  // echoed in success_response when present
};
// Success needs a 2xx status and "success": true with an order id. "success": false becomes a
// RestError of kind rejected whose code is error_response.error (or new_order_failure_reason, or
// preview_failure_reason) and whose message is error_response.message.
[[nodiscard]] RestResult<CreateOrderResult> decode_create_order(const HttpAnswer& answer);

enum class OrderStatus : std::uint8_t {
    pending,
    open,
    filled,
    cancelled,
    expired,
    failed,
    queued,
    cancel_queued,
    unknown,
};
[[nodiscard]] std::string_view to_string(OrderStatus s) noexcept;
[[nodiscard]] constexpr bool is_terminal(OrderStatus s) noexcept {
    return s == OrderStatus::filled || s == OrderStatus::cancelled || s == OrderStatus::expired ||
           s == OrderStatus::failed;
}

struct Order {
    std::string order_id;
    std::string client_order_id;
    std::string product_id;
    Side side = Side::buy;
    OrderStatus status = OrderStatus::unknown;
    Amount filled_size;           // base units
    Amount average_filled_price;  // 0 before the first fill
    Amount filled_value;          // quote units
    Amount total_fees;            // quote units
    std::int64_t number_of_fills = 0;
    std::int64_t created_time_ns = 0;
};
[[nodiscard]] RestResult<Order> decode_order(const HttpAnswer& answer);

// {"orders":[{...the get-order fields...}],"has_next","cursor"}: each order checked as decode_order
// checks one; at most `limit` of them; has_next needs a cursor.
struct OrdersPage {
    std::vector<Order> orders;
    bool has_next = false;
    std::string cursor;
};
[[nodiscard]] RestResult<OrdersPage> decode_orders(const HttpAnswer& answer, std::size_t limit);

struct FillRecord {
    std::string entry_id;
    std::string trade_id;
    std::string order_id;
    std::string product_id;
    std::int64_t trade_time_ns = 0;
    Amount price;
    Amount size;
    Amount commission;
    Side side = Side::buy;
    bool size_in_quote = false;
    std::string liquidity_indicator;  // "TAKER", "MAKER" or "UNKNOWN_LIQUIDITY_INDICATOR"
};
struct FillsPage {
    std::vector<FillRecord> fills;
    std::string cursor;  // empty on the last page
};
[[nodiscard]] RestResult<FillsPage> decode_fills(const HttpAnswer& answer);

struct KeyPermissions {
    bool can_view = false;
    bool can_trade = false;
    bool can_transfer = false;
    std::string portfolio_uuid;
    std::string portfolio_type;
};
[[nodiscard]] RestResult<KeyPermissions> decode_key_permissions(const HttpAnswer& answer);

// ---- the earlier bridge's own answers (cbtrade bridge, or the Python bridge it replaces) ------------
// Its other answers are the exchange's shapes and use the decoders above. Tolerant as the bridge's
// shapes were never written down: numbers as strings or numbers, unknown members ignored.

// GET /health: any JSON object with a 2xx status, unless it says "ok": false or a "status" other
// than "ok"/"healthy".
struct BridgeHealth {
    std::string status;  // "ok" when the answer had none
};
[[nodiscard]] RestResult<BridgeHealth> decode_bridge_health(const HttpAnswer& answer);

// GET /price?product_id=: {"product_id","price", "stale"?, "age_sec"?}; 503 {"error":"no_tick"} is
// an error of kind server_error whose code is "no_tick".
struct BridgePrice {
    std::string product_id;
    Amount price;
    bool stale = false;
    double age_s = 0;  // 0 when the bridge did not say
};
[[nodiscard]] RestResult<BridgePrice> decode_bridge_price(const HttpAnswer& answer);

// ---- order sizing --------------------------------------------------------------------------------

// A market order for `amount` (quote currency for BUY, base units for SELL) floored to the
// product's quote or base increment, or an invalid_order error naming the rule it breaks (not
// tradable, below the minimum, above the maximum, floors to zero).
[[nodiscard]] RestResult<MarketOrder> make_market_order(const Product& product, Side side, double amount,
                                                        std::string client_order_id);

}  // namespace cbtrade::rest
