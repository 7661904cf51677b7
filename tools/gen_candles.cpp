// cbtrade-gen: writes seeded synthetic candles as CSV (see feeds/synthetic_market.hpp).
//   cbtrade-gen --rows N [--seed S] [--start UNIX_S] [--step S] [--price P] [--out FILE]
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/numbers.hpp"
#include "feeds/csv_candles.hpp"
#include "feeds/synthetic_market.hpp"

namespace {

const char* usage = "usage: cbtrade-gen --rows N [--seed S] [--start UNIX_S] [--step S] [--price P] [--out FILE]\n";

}  // namespace

int main(int argc, char** argv) {
    cbtrade::SyntheticMarketParams params;
    std::uint64_t rows = 0;
    std::string out_path;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "cbtrade-gen: %s needs a value\n%s", argv[i], usage);
            return 2;
        }
        const std::string_view v = argv[++i];
        // Range-checked like configuration values (core/numbers.hpp).
        try {
            if (arg == "--rows")
                rows = static_cast<std::uint64_t>(cbtrade::int_flag(arg, v, 1, 1'000'000'000, "rows from 1 to 10^9"));
            else if (arg == "--seed")
                params.seed =
                    static_cast<std::uint64_t>(cbtrade::int_flag(arg, v, 0, INT64_MAX, "a non-negative integer"));
            else if (arg == "--start")
                params.start_time_s =
                    cbtrade::int_flag(arg, v, 0, 4'102'444'800, "UNIX seconds from 0 to 4102444800 (year 2100)");
            else if (arg == "--step")
                params.step_s = cbtrade::int_flag(arg, v, 1, 31'536'000, "seconds from 1 to 31536000");
            else if (arg == "--price")
                params.start_price = cbtrade::number_flag(arg, v, 1, 1e8, true, "a price above 1 and at most 1e8");
            else if (arg == "--out") out_path = std::string(v);
            else {
                std::fprintf(stderr, "cbtrade-gen: unknown option %s\n%s", argv[i - 1], usage);
                return 2;
            }
        } catch (const cbtrade::UsageError& e) {
            std::fprintf(stderr, "cbtrade-gen: %s\n", e.what());
            return 2;
        }
    }
    if (rows == 0) {
        std::fputs(usage, stderr);
        return 2;
    }
    std::FILE* f = out_path.empty() ? stdout : std::fopen(out_path.c_str(), "wb");
    if (!f) {
        std::fprintf(stderr, "cbtrade-gen: %s: %s\n", out_path.c_str(), std::strerror(errno));
        return 1;
    }
    cbtrade::SyntheticMarket market(params);
    std::string buf = cbtrade::candles_csv_header();
    for (std::uint64_t i = 0; i < rows; ++i) {
        cbtrade::append_candle_csv(buf, market.next());
        if (buf.size() > (1u << 20) || i + 1 == rows) {
            if (std::fwrite(buf.data(), 1, buf.size(), f) != buf.size()) {
                std::fprintf(stderr, "cbtrade-gen: write failed: %s\n", std::strerror(errno));
                return 1;
            }
            buf.clear();
        }
    }
    if ((f != stdout && std::fclose(f) != 0) || (f == stdout && std::fflush(f) != 0)) {
        std::fprintf(stderr, "cbtrade-gen: write failed: %s\n", std::strerror(errno));
        return 1;
    }
    return 0;
}
