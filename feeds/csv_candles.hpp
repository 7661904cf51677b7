// feeds/: market data in. This part reads candle CSV files for backtests.
//
// Header, then one candle per line. Columns are found by name in any order: time (or start, or
// timestamp), open, high, low, close, volume, so both `time,open,high,low,close,volume` and
// Coinbase's `start,low,high,open,close,volume` read. Time is UNIX seconds or RFC 3339 UTC
// (`2024-01-02T03:04:05Z`, fraction and numeric offset allowed). Rows must be strictly increasing
// in time. The file is read in blocks of whole lines through one reused buffer (core/file_read: a
// regular file of at most max_csv_file_bytes, never mapped) and parsed in one pass with std::from_chars.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/error.hpp"

namespace cbtrade {

// Thrown for a file that cannot be used; what() is "file:line: problem".
class CsvError : public DataError {
public:
    using DataError::DataError;
};

// 4 GiB is about 70 million one-minute candles (over a century); a larger file is a mistake.
inline constexpr std::size_t max_csv_file_bytes = std::size_t{4} << 30;
// The header names six columns; a longer first line is not a candle CSV (and is not echoed).
inline constexpr std::size_t max_csv_header_bytes = 1024;

struct CsvOptions {
    bool skip_bad_rows = false;  // count and skip bad rows instead of stopping at the first
};

struct CsvCandles {
    std::vector<Candle> candles;
    std::size_t skipped_rows = 0;
    std::vector<std::string> skip_examples;  // the first few skipped rows' "file:line: problem"
    std::size_t time_gaps = 0;               // consecutive rows further apart than the most common step
    std::int64_t step_s = 0;                 // the most common spacing between rows
};

[[nodiscard]] CsvCandles parse_candles_csv(std::string_view text, std::string_view name, const CsvOptions& opts = {});
[[nodiscard]] CsvCandles read_candles_csv(const std::string& path, const CsvOptions& opts = {});

// Writes the canonical header and rows (used by the generator and backfill).
[[nodiscard]] std::string candles_csv_header();
// Prices with 2 decimals and volume with 8 (the generator's cent-priced series).
void append_candle_csv(std::string& out, const Candle& c);
// Every number as the shortest fixed-point text that reads back as the same double: what backfill
// writes, so that any product's prices (0.00001234 or 97012.35) survive exactly.
void append_candle_csv_exact(std::string& out, const Candle& c);

}  // namespace cbtrade
