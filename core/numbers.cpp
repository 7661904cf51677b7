#include "core/numbers.hpp"

#include <charconv>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/text.hpp"

namespace cbtrade {

std::optional<double> parse_number_in(std::string_view text, double min, double max, bool min_exclusive) noexcept {
    double x = 0;
    const char* const end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, x);
    if (text.empty() || ec != std::errc{} || ptr != end || !std::isfinite(x) || x > max || x < min ||
        (min_exclusive && x == min))
        return std::nullopt;
    return x;
}

std::optional<std::int64_t> parse_int_in(std::string_view text, std::int64_t min, std::int64_t max) noexcept {
    std::int64_t x = 0;
    const char* const end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, x);
    if (text.empty() || ec != std::errc{} || ptr != end || x < min || x > max) return std::nullopt;
    return x;
}

namespace {

[[noreturn]] void bad_flag(std::string_view flag, std::string_view text, std::string_view accepted) {
    throw UsageError(std::string(flag) + ": " + quote_for_message(text) + " is invalid: expected " +
                     std::string(accepted));
}

}  // namespace

double number_flag(std::string_view flag, std::string_view text, double min, double max, bool min_exclusive,
                   std::string_view accepted) {
    const std::optional<double> v = parse_number_in(text, min, max, min_exclusive);
    if (!v) bad_flag(flag, text, accepted);
    return *v;
}

std::int64_t int_flag(std::string_view flag, std::string_view text, std::int64_t min, std::int64_t max,
                      std::string_view accepted) {
    const std::optional<std::int64_t> v = parse_int_in(text, min, max);
    if (!v) bad_flag(flag, text, accepted);
    return *v;
}

}  // namespace cbtrade
