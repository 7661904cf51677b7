// tools/: `cbtrade backfill`, paged candle history from the REST API into the CSV the backtest reads.
//
// Candles whose start lies in [start, end) are fetched oldest page first, `limit` buckets per
// request (at most 300), each page's range ending one second before the next page's first bucket
// (rest::candle_page_end): no candle is asked for twice and none is left between pages, whichever
// way the server reads `end`. Each page is appended to the file and flushed to disk before the next
// is asked for, so an interrupted run leaves a valid prefix; run again, and it resumes after the
// file's last row (a half-written last line is cut off first). Buckets with no trades are absent,
// as in the exchange's answers; the CSV reader counts such gaps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "exec/rest_client.hpp"

namespace cbtrade {

struct BackfillOptions {
    std::string product_id = "BTC-USD";
    Granularity granularity = Granularity::one_minute;
    std::size_t limit = rest::max_candles_per_request;  // buckets per request, 1..300
    std::optional<std::size_t> pages;                   // at most this many requests
    std::optional<std::int64_t> start_s;                // first bucket at or after (default: end - pages * limit)
    std::optional<std::int64_t> end_s;                  // buckets starting before (default and cap: now)
    std::string out_path;
};

// Without --pages and --start: the last 10 pages.
inline constexpr std::size_t default_backfill_pages = 10;

struct BackfillPage {
    std::size_t index = 0;  // 0-based
    std::size_t planned = 0;
    std::int64_t start_s = 0;
    std::int64_t end_s = 0;  // inclusive
    std::size_t candles = 0;
    std::size_t total_candles = 0;  // written by this run so far
};

struct BackfillReport {
    std::size_t pages = 0;
    std::size_t candles = 0;   // written by this run
    std::int64_t first_s = 0;  // first and last candle written by this run (0 if none)
    std::int64_t last_s = 0;
    std::optional<std::int64_t> resumed_after_s;  // the existing file's last candle
    bool truncated_partial_line = false;
    std::int64_t range_start_s = 0;
    std::int64_t range_end_s = 0;   // exclusive
    bool complete = false;          // reached range_end_s (else stopped after `pages`)
    std::int64_t next_start_s = 0;  // where a resumed run continues
};

// Runs the backfill. `now_s`: the wall clock (UNIX seconds). Throws UsageError for options that
// contradict each other or the existing file, DataError for a file that is not a candle CSV, and
// RunError naming the page when a request fails (what was written stays: run again to resume).
[[nodiscard]] BackfillReport run_backfill(rest::RestClient& client, const BackfillOptions& options, std::int64_t now_s,
                                          const std::function<void(const BackfillPage&)>& on_page = {});

}  // namespace cbtrade
