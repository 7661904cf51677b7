// libFuzzer target for the bridge client's answer decoding (exec/bridge_client.hpp): every call of
// rest::BridgeClient answered by the fuzz input through a scripted transport, so the bridge's own
// decoders (health, price), the exchange-shaped decoders the bridge answers go through, and the
// client's own checks (the product or order asked for, the client_order_id echoed) all run on it.
//
// Input layout: byte 0 picks the call, byte 1 the HTTP status (2xx, 4xx, 5xx and odd ones), byte 2
// the content type and whether the transport fails instead of answering; the rest is the body, the
// answer to every attempt of the call. Checked on every input: no crash, UB, leak or hang; a
// failure has a kind and one printable line of bounded length; a success holds what was asked for
// (the product, the order id, the client_order_id) with amounts in range; an order whose answers were
// all unreadable or 5xx is never a success and never anything but unknown_outcome.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "exec/bridge_client.hpp"
#include "tests/fuzz/fuzz_checks.hpp"

namespace {

using namespace cbtrade;
using namespace cbtrade::rest;

using fuzz::check;
using fuzz::printable;

void check_error(const RestError& e) {
    check(e.kind != RestErrorKind::none);
    check(!e.message.empty() && e.message.size() <= 1024 && printable(e.message));
    check(e.code.size() <= 256 && printable(e.code));
}

template <class T>
void check_result(const RestResult<T>& r, int status) {
    if (!r.ok()) return check_error(r.error);
    check(status >= 200 && status <= 299);
}

class NoSleepClock final : public RestClock {
public:
    std::int64_t now_ns() override { return now; }
    std::int64_t unix_ms() override { return 1'736'949'787'000; }
    void sleep_ns(std::int64_t ns) override { now += ns; }
    std::int64_t now = 0;
};

class FuzzTransport final : public HttpTransport {
public:
    TransportResult exchange(const TransportRequest&) override {
        ++calls;
        if (failure != TransportFailure::none) return TransportResult{std::nullopt, failure, "127.0.0.1:1: fuzz"};
        return TransportResult{TransportResponse{status, content_type, body, {}}, {}, {}};
    }
    int status = 200;
    std::string content_type;
    std::string body;
    TransportFailure failure = TransportFailure::none;
    int calls = 0;
};

constexpr int statuses[] = {200, 201, 204, 299, 400, 401, 403, 404, 429, 500, 502, 503, 504, 302, 100, 0};
constexpr const char* content_types[] = {"application/json", "text/html", "text/plain", ""};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    NoSleepClock clock;
    FuzzTransport t;
    t.status = statuses[data[1] % std::size(statuses)];
    t.content_type = content_types[data[2] % std::size(content_types)];
    const unsigned fail = (data[2] >> 2) % 8;  // mostly answers; sometimes a transport failure
    t.failure = fail == 5   ? TransportFailure::timeout
                : fail == 6 ? TransportFailure::no_answer
                : fail == 7 ? TransportFailure::not_sent
                            : TransportFailure::none;
    t.body.assign(reinterpret_cast<const char*>(data + 3), size - 3);
    BridgeClientOptions o;
    o.base_path = "/b";
    BridgeClient client(t, o, clock);
    switch (data[0] % 8) {
        case 0:
            check_result(client.health(), t.status);
            break;
        case 1: {
            const auto r = client.price("BTC-USD");
            check_result(r, t.status);
            if (r.ok()) check(r.value->product_id == "BTC-USD" && r.value->price.value > 0 && r.value->age_s >= 0);
            break;
        }
        case 2: {
            const auto r = client.accounts_page(7, "c");
            check_result(r, t.status);
            if (r.ok()) check(r.value->accounts.size() <= 7);
            break;
        }
        case 3: {
            const auto r = client.product("BTC-USD");
            check_result(r, t.status);
            if (r.ok()) check(r.value->product_id == "BTC-USD");
            break;
        }
        case 4: {
            const auto r = client.candles("BTC-USD", Granularity::one_minute, 1'700'000'040, 1'700'000'219, 3);
            check_result(r, t.status);
            if (r.ok()) {
                check(r.value->size() <= 3);
                for (std::size_t i = 0; i < r.value->size(); ++i) {
                    const Candle& c = (*r.value)[i];
                    check(c.time_s >= 1'700'000'040 && c.time_s <= 1'700'000'219 && c.time_s % 60 == 0);
                    check(c.low <= c.open && c.open <= c.high && c.low <= c.close && c.close <= c.high);
                    check(i == 0 || (*r.value)[i - 1].time_s < c.time_s);
                }
            }
            break;
        }
        case 5: {
            const MarketOrder order{"cid-1", "BTC-USD", data[1] & 1 ? Side::buy : Side::sell, "12.5"};
            const auto r = client.create_market_order(order);
            check_result(r, t.status);
            if (r.ok()) check(r.value->client_order_id.empty() || r.value->client_order_id == "cid-1");
            check(t.calls >= 1 && t.calls <= o.max_attempts);
            // Nothing readable came back from an attempt that may have been sent: only unknown_outcome.
            if (t.failure == TransportFailure::timeout || t.failure == TransportFailure::no_answer ||
                (t.failure == TransportFailure::none && t.status >= 500))
                check(!r.ok() && r.error.kind == RestErrorKind::unknown_outcome);
            if (t.failure == TransportFailure::not_sent) check(!r.ok() && r.error.kind == RestErrorKind::network);
            break;
        }
        case 6: {
            const auto r = client.order("o-1");
            check_result(r, t.status);
            if (r.ok()) check(r.value->order_id == "o-1" && std::isfinite(r.value->filled_size.value));
            break;
        }
        default: {
            const auto r = client.all_accounts(3);
            check_result(r, t.status);
            break;
        }
    }
    return 0;
}
