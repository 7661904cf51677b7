// cbtrade-gen: writes seeded synthetic candles as CSV (see feeds/synthetic_market.hpp).
//   cbtrade-gen --rows N [--seed S] [--start UNIX_S] [--step S] [--price P] [--out FILE]
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "feeds/csv_candles.hpp"
#include "feeds/synthetic_market.hpp"

namespace {

const char* usage = "usage: cbtrade-gen --rows N [--seed S] [--start UNIX_S] [--step S] [--price P] [--out FILE]\n";

template <typename T>
bool parse(std::string_view s, T& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

int main(int argc, char** argv) {
    cbtrade::SyntheticMarketParams params;
    std::uint64_t rows = 0;
    std::string out_path;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) {
            std::fprintf(stderr, "cbtrade-gen: %s needs a value\n%s", argv[i], usage);
            return 2;
        }
        const std::string_view v = argv[++i];
        bool ok = true;
        if (arg == "--rows") ok = parse(v, rows) && rows > 0;
        else if (arg == "--seed") ok = parse(v, params.seed);
        else if (arg == "--start") ok = parse(v, params.start_time_s);
        else if (arg == "--step") ok = parse(v, params.step_s) && params.step_s > 0;
        else if (arg == "--price") ok = parse(v, params.start_price) && params.start_price > 1;
        else if (arg == "--out") out_path = std::string(v);
        else {
            std::fprintf(stderr, "cbtrade-gen: unknown option %s\n%s", argv[i - 1], usage);
            return 2;
        }
        if (!ok) {
            std::fprintf(stderr, "cbtrade-gen: invalid value '%.*s' for %.*s\n", static_cast<int>(v.size()), v.data(),
                         static_cast<int>(arg.size()), arg.data());
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
