// exec/exchange_access: the cold-path account and market calls that start-up and the ops thread
// need (accounts for live equity, the product for sizing, candles for the warm-up), behind one small
// interface, so that the daemon works the same with direct credentials (RestClient, here) or through
// the earlier stack's bridge (exec/bridge_client.hpp). Blocking; never on a hot thread.
//
// Every implementation returns checked values (the REST decoders' ranges) or a RestError whose
// message is one printable line naming the call, never a secret.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/config.hpp"
#include "exec/rest_messages.hpp"

namespace cbtrade::rest {

class RestClient;

// The most candle buckets one candles() call may span (ten requests of 300): a warm-up needs 300+,
// and a larger range is a caller's mistake, refused before anything is sent.
inline constexpr std::size_t max_exchange_access_buckets = 10 * max_candles_per_request;

class ExchangeAccess {
public:
    virtual ~ExchangeAccess() = default;
    // Every account, every page followed.
    [[nodiscard]] virtual RestResult<std::vector<Account>> accounts() = 0;
    [[nodiscard]] virtual RestResult<Product> product(std::string_view product_id) = 0;
    // Candles whose start lies in [start_s, end_s], oldest first, paged as the API needs (at most
    // max_exchange_access_buckets buckets in the range, else invalid_order). Buckets without trades
    // are absent, as the exchange answers; the newest may still be open (the caller decides).
    [[nodiscard]] virtual RestResult<std::vector<Candle>> candles(std::string_view product_id, Granularity granularity,
                                                                  std::int64_t start_s, std::int64_t end_s) = 0;
    // For logs: "Coinbase REST (host)" or "bridge (url)"; never a secret.
    [[nodiscard]] virtual std::string_view describe() const noexcept = 0;
};

// The direct implementation over RestClient (accounts and product authenticated when the client has
// a key; candles always from the public market endpoint). `client` must outlive the result.
[[nodiscard]] std::unique_ptr<ExchangeAccess> make_rest_exchange_access(RestClient& client);

// The pages of one candles() range: the first bucket at or after start_s, then every
// max_candles_per_request buckets, each page ending at rest::candle_page_end or end_s. Shared by the
// implementations so that they page the same way; empty when the range holds no bucket start.
inline constexpr std::int64_t max_candle_time_s = 4'102'444'800;  // 2100-01-01, as the decoders check
struct CandlePage {
    std::int64_t start_s = 0;
    std::int64_t end_s = 0;  // inclusive
    std::size_t buckets = 0;
};
[[nodiscard]] std::vector<CandlePage> plan_candle_pages(std::int64_t granularity_s, std::int64_t start_s,
                                                        std::int64_t end_s,
                                                        std::size_t per_page = max_candles_per_request);

// The warm-up of `cbtrade live` without --history: the last `count` buckets that have closed by
// the exchange's clock `now_s`, oldest first. A bucket counts as closed once its end is `settle_s`
// behind now (the exchange may still be adding the last trades of a bucket that just ended); the
// still-open bucket is never asked for (and one the exchange sent anyway would be refused as outside
// the range by the decoder). Buckets without
// trades, which the exchange leaves out, are filled flat at the previous close, volume 0, as the live
// candle builder makes them, up to `end_s`: the first candle built from live trades is the one that
// starts at `end_s` (the signal stage skips trades before it), so the seam has no gap and no overlap.
struct RecentCandles {
    std::vector<Candle> candles;
    std::int64_t end_s = 0;  // the end of the last closed bucket
    std::size_t filled = 0;  // buckets without trades, filled flat
};
[[nodiscard]] RestResult<RecentCandles> recent_closed_candles(ExchangeAccess& access, std::string_view product_id,
                                                              Granularity granularity, std::int64_t now_s,
                                                              std::size_t count, std::int64_t settle_s = 2);

// ExchangeAccess::candles for any implementation: checks the range (invalid_order past
// max_exchange_access_buckets or outside 0..max_candle_time_s), fetches each planned page and joins
// them oldest first; the first failing page's error is the result.
[[nodiscard]] RestResult<std::vector<Candle>> fetch_candle_pages(
    Granularity granularity, std::int64_t start_s, std::int64_t end_s,
    const std::function<RestResult<std::vector<Candle>>(const CandlePage&)>& fetch_page);

}  // namespace cbtrade::rest
