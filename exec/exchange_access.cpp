// The direct ExchangeAccess over RestClient. See exchange_access.hpp.
#include "exec/exchange_access.hpp"

#include <string>
#include <utility>

#include "exec/rest_client.hpp"

namespace cbtrade::rest {

std::vector<CandlePage> plan_candle_pages(std::int64_t granularity_s, std::int64_t start_s, std::int64_t end_s,
                                          std::size_t per_page) {
    std::vector<CandlePage> pages;
    if (granularity_s <= 0 || per_page == 0 || start_s < 0 || end_s < start_s || end_s > max_candle_time_s)
        return pages;
    // The first bucket start at or after start_s.
    std::int64_t first = (start_s + granularity_s - 1) / granularity_s * granularity_s;
    const auto step = static_cast<std::int64_t>(per_page) * granularity_s;
    for (std::int64_t s = first; s <= end_s; s += step) {
        const std::int64_t e = std::min(candle_page_end(s, granularity_s, per_page), end_s);
        pages.push_back(CandlePage{s, e, static_cast<std::size_t>((e - s) / granularity_s + 1)});
    }
    return pages;
}

RestResult<std::vector<Candle>> fetch_candle_pages(
    Granularity granularity, std::int64_t start_s, std::int64_t end_s,
    const std::function<RestResult<std::vector<Candle>>(const CandlePage&)>& fetch_page) {
    using Result = RestResult<std::vector<Candle>>;
    const std::int64_t g = granularity_seconds(granularity);
    if (start_s < 0 || end_s < start_s || end_s > max_candle_time_s)
        return Result::failure(RestError{
            RestErrorKind::invalid_order,
            0,
            {},
            "candles: need 0 <= start <= end, got " + std::to_string(start_s) + ".." + std::to_string(end_s)});
    // Bound the range before planning it (a wild end must not build a huge plan).
    if ((end_s - start_s) / g >= static_cast<std::int64_t>(max_exchange_access_buckets))
        return Result::failure(RestError{
            RestErrorKind::invalid_order,
            0,
            {},
            "candles: the range spans more than " + std::to_string(max_exchange_access_buckets) + " buckets"});
    std::vector<Candle> out;
    for (const CandlePage& page : plan_candle_pages(g, start_s, end_s)) {
        Result r = fetch_page(page);
        if (!r.ok()) return r;
        // Pages do not overlap and each is checked inside its range, so the whole stays in order.
        out.insert(out.end(), r.value->begin(), r.value->end());
    }
    return Result::success(std::move(out));
}

namespace {

class RestExchangeAccess final : public ExchangeAccess {
public:
    explicit RestExchangeAccess(RestClient& client)
        : client_(client), describe_("Coinbase REST (" + client.options().host + ")") {}

    RestResult<std::vector<Account>> accounts() override { return client_.all_accounts(); }

    RestResult<Product> product(std::string_view product_id) override { return client_.product(product_id); }

    RestResult<std::vector<Candle>> candles(std::string_view product_id, Granularity granularity, std::int64_t start_s,
                                            std::int64_t end_s) override {
        return fetch_candle_pages(granularity, start_s, end_s, [&](const CandlePage& page) {
            return client_.candles(product_id, granularity, page.start_s, page.end_s, page.buckets, true);
        });
    }

    std::string_view describe() const noexcept override { return describe_; }

private:
    RestClient& client_;
    std::string describe_;
};

}  // namespace

RestResult<RecentCandles> recent_closed_candles(ExchangeAccess& access, std::string_view product_id,
                                                Granularity granularity, std::int64_t now_s, std::size_t count,
                                                std::int64_t settle_s) {
    using Result = RestResult<RecentCandles>;
    const std::int64_t g = granularity_seconds(granularity);
    if (count == 0 || count > max_exchange_access_buckets || now_s - settle_s < static_cast<std::int64_t>(count) * g ||
        now_s > max_candle_time_s)
        return Result::failure(RestError{RestErrorKind::invalid_order,
                                         0,
                                         {},
                                         "recent candles: count " + std::to_string(count) + " at time " +
                                             std::to_string(now_s) + " is out of range"});
    RecentCandles out;
    out.end_s = (now_s - settle_s) / g * g;
    const std::int64_t first = out.end_s - static_cast<std::int64_t>(count) * g;
    RestResult<std::vector<Candle>> r = access.candles(product_id, granularity, first, out.end_s - 1);
    if (!r.ok()) return Result::failure(std::move(r.error));
    out.candles.reserve(count);
    for (const Candle& c : *r.value) {
        // Inside [first, end_s) by the decoder's range check: the open bucket cannot be among them.
        // A bucket without trades before this one: flat at the previous close.
        while (!out.candles.empty() && out.candles.back().time_s + g < c.time_s) {
            const double close = out.candles.back().close;
            out.candles.push_back(Candle{out.candles.back().time_s + g, close, close, close, close, 0.0});
            ++out.filled;
        }
        if (!out.candles.empty() && c.time_s <= out.candles.back().time_s)
            return Result::failure(RestError{RestErrorKind::malformed, 0, {}, "recent candles: out of order"});
        out.candles.push_back(c);
    }
    // Quiet buckets up to the end, so that the history ends where the live candles begin.
    while (!out.candles.empty() && out.candles.back().time_s + g < out.end_s) {
        const double close = out.candles.back().close;
        out.candles.push_back(Candle{out.candles.back().time_s + g, close, close, close, close, 0.0});
        ++out.filled;
    }
    return Result::success(std::move(out));
}

std::unique_ptr<ExchangeAccess> make_rest_exchange_access(RestClient& client) {
    return std::make_unique<RestExchangeAccess>(client);
}

}  // namespace cbtrade::rest
