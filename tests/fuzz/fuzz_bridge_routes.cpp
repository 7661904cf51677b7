// libFuzzer target for `cbtrade bridge`'s routes (bridge/bridge_server.hpp, BridgeRoutes::handle): what
// a client of the bridge sends (method, target with its query, content type, body) is outside input,
// issue 13 item 5. The exchange behind it is a fake that answers from the input too.
//
// Input layout: byte 0 picks the method (GET, POST, DELETE, or a junk one) and the content type, byte 1
// how the fake exchange answers (success, an error of each kind), then the target up to the first
// '\n' and the body after it.
// Checked on every input: handle() never throws; the status is a real HTTP status; a JSON answer is
// one JSON object with no raw control characters; an order reaches the exchange only with a product id
// like BTC-USD, a side, a finite size above 0 and a client_order_id of at most 128 characters.
#include <simdjson.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/bridge_server.hpp"

namespace {

using namespace cbtrade;

void check(bool ok) {
    if (!ok) std::abort();
}

class FakeBackend final : public bridge::BridgeBackend {
public:
    unsigned mode = 0;

    template <typename T>
    rest::RestResult<T> answer(T value) {
        switch (mode % 5) {
            case 0:
                return rest::RestResult<T>::success(std::move(value));
            case 1:
                return rest::RestResult<T>::failure({rest::RestErrorKind::rejected, 200, "INSUFFICIENT_FUND", "no", 0});
            case 2:
                return rest::RestResult<T>::failure({rest::RestErrorKind::unknown_outcome, 0, "", "timed out", 0});
            case 3:
                return rest::RestResult<T>::failure({rest::RestErrorKind::rate_limited, 429, "", "slow down", 1000});
            default:
                return rest::RestResult<T>::failure({rest::RestErrorKind::network, 0, "", "connection reset", 0});
        }
    }
    rest::RestResult<rest::AccountsPage> accounts_page(std::size_t limit, std::string_view) override {
        check(limit > 0 && limit <= 250);
        rest::AccountsPage page;
        page.has_next = mode & 8;
        page.cursor = "next";
        return answer(std::move(page));
    }
    rest::RestResult<rest::Product> product(std::string_view id) override {
        check(rest::valid_product_id(id));
        rest::Product p;
        p.product_id = std::string(id);
        p.price = {"42000.01", 42000.01};
        p.status = "online";
        return answer(std::move(p));
    }
    rest::RestResult<std::vector<Candle>> candles(std::string_view id, Granularity, std::int64_t start_s,
                                                  std::int64_t end_s, std::size_t limit) override {
        check(rest::valid_product_id(id));
        check(start_s <= end_s && limit > 0);
        std::vector<Candle> v;
        if (mode & 8) v.push_back(Candle{start_s, 1, 2, 0.5, 1.5, 10});
        return answer(std::move(v));
    }
    rest::RestResult<rest::CreateOrderResult> create_market_order(const rest::MarketOrder& o) override {
        check(rest::valid_product_id(o.product_id));
        check(!o.client_order_id.empty() && o.client_order_id.size() <= 128);
        char* end = nullptr;
        const double size = std::strtod(o.size.c_str(), &end);
        check(!o.size.empty() && end == o.size.c_str() + o.size.size() && std::isfinite(size) && size > 0);
        rest::CreateOrderResult r;
        r.order_id = "11111111-2222-3333-4444-555555555555";
        r.client_order_id = o.client_order_id;
        return answer(std::move(r));
    }
    rest::RestResult<rest::Order> order(std::string_view id) override {
        check(!id.empty());
        rest::Order o;
        o.order_id = std::string(id);
        o.product_id = "BTC-USD";
        o.status = rest::OrderStatus::filled;
        return answer(std::move(o));
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    static FakeBackend backend;
    static bridge::TickerCache cache({"BTC-USD", "ETH-USD"});
    static std::int64_t now = 1'000'000'000'000;
    static bridge::BridgeRoutes routes(backend, cache, [] {
        bridge::BridgeOptions o;
        o.api_base = "https://api.coinbase.com/api/v3/brokerage";
        o.now_ns = [] { return now; };
        return o;
    }());
    static constexpr std::string_view methods[] = {"GET", "POST", "DELETE", "get", "", "POST "};
    static constexpr std::string_view content_types[] = {"application/json", "", "text/plain", "application/json; x"};
    backend.mode = data[1];
    // The ticker cache seen at some age: never priced, fresh, or stale.
    if (data[1] & 16) cache.update(0, 42000.5, 1'700'000'000'000'000'000, now - (data[1] & 32 ? 20'000'000'000 : 0));
    const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
    const std::size_t nl = rest.find('\n');
    io::HttpServerRequest request;
    request.method = methods[data[0] % 6];
    request.content_type = content_types[data[0] / 6 % 4];
    request.target = rest.substr(0, nl);
    request.body = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    const io::HttpServerResponse r = routes.handle(request);
    check(r.status >= 200 && r.status <= 599);
    if (r.content_type == "application/json") {
        for (const char c : r.body) check(static_cast<unsigned char>(c) >= 0x20);
        simdjson::dom::parser parser;
        simdjson::dom::element doc;
        check(parser.parse(r.body).get(doc) == simdjson::SUCCESS && doc.is_object());
    }
    return 0;
}
