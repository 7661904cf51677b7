// libFuzzer target for the candle CSV reader (feeds/csv_candles: parse_candles_csv), strict and
// with --skip-bad-rows, with the size limits in place (the header line limit is inside the parser;
// the file limit is read_whole_file's, far above any fuzz input).
// Checked on every input: no crash or UB; every candle kept is sane (prices in the sane range,
// low <= open, close <= high, volume 0 or sane) and strictly increasing in time; every error and
// skip example is one line of printable ASCII of bounded length.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/records.hpp"
#include "feeds/csv_candles.hpp"

namespace {

void check_message(const std::string& m) {
    if (m.size() > 512) std::abort();
    for (const char ch : m) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f) std::abort();
    }
}

void check(const cbtrade::CsvCandles& r) {
    for (std::size_t i = 0; i < r.candles.size(); ++i) {
        const cbtrade::Candle& c = r.candles[i];
        if (!cbtrade::sane_price(c.open) || !cbtrade::sane_price(c.high) || !cbtrade::sane_price(c.low) ||
            !cbtrade::sane_price(c.close))
            std::abort();
        if (c.low > c.open || c.low > c.close || c.high < c.open || c.high < c.close) std::abort();
        if (c.volume != 0 && !cbtrade::sane_size(c.volume)) std::abort();
        if (i > 0 && c.time_s <= r.candles[i - 1].time_s) std::abort();
    }
    for (const auto& e : r.skip_examples) check_message(e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const bool skip : {false, true}) {
        try {
            check(cbtrade::parse_candles_csv(text, "fuzz.csv", {.skip_bad_rows = skip}));
        } catch (const cbtrade::CsvError& e) {
            check_message(e.what());
        }
    }
    return 0;
}
