#include "core/decimal.hpp"

#include <charconv>

namespace cbtrade {

namespace {
__extension__ using u128 = unsigned __int128;  // 1e20 * 10^18 steps fit; GCC and Clang both have it

constexpr u128 pow10_u128(unsigned k) noexcept {
    u128 v = 1;
    for (unsigned i = 0; i < k; ++i) v *= 10;
    return v;
}
}  // namespace

std::optional<DecimalIncrement> DecimalIncrement::parse(std::string_view text) noexcept {
    if (text.empty() || text.size() > decimal_max_chars) return std::nullopt;
    std::uint64_t units = 0;
    unsigned scale = 0;
    unsigned significant = 0;
    bool point = false;
    bool any_digit = false;
    for (const char c : text) {
        if (c == '.') {
            if (point) return std::nullopt;
            point = true;
            continue;
        }
        if (!decimal_detail::is_digit(c)) return std::nullopt;
        any_digit = true;
        if (point && ++scale > max_decimal_scale) return std::nullopt;
        if (units != 0 || c != '0') ++significant;
        if (significant > 18) return std::nullopt;
        units = units * 10 + static_cast<unsigned>(c - '0');
    }
    if (!any_digit || (point && text.back() == '.') || text.front() == '.') return std::nullopt;
    if (units == 0) return std::nullopt;
    while (scale > 0 && units % 10 == 0) {  // "0.010" is the same step as "0.01"
        units /= 10;
        --scale;
    }
    return DecimalIncrement{units, scale};
}

double DecimalIncrement::value() const noexcept {
    return static_cast<double>(units) / decimal_detail::exact_powers_of_ten[scale];
}

std::size_t format_floored(double value, DecimalIncrement increment, char* out) noexcept {
    if (!(value >= 0) || !(value < 1e20) || increment.units == 0 || increment.scale > max_decimal_scale) return 0;
    // The shortest fixed text that reads back as the same double: the decimal the caller meant.
    char text[400];
    const auto [stop, error] = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed);
    if (error != std::errc{}) return 0;
    // Whole number of 10^-scale steps, truncating digits beyond the scale (a floor, value >= 0).
    u128 steps = 0;
    unsigned fraction_seen = 0;
    bool point = false;
    for (const char* p = text; p != stop; ++p) {
        if (*p == '.') {
            point = true;
            continue;
        }
        if (point) {
            if (fraction_seen == increment.scale) break;
            ++fraction_seen;
        }
        steps = steps * 10 + static_cast<unsigned>(*p - '0');
    }
    steps *= pow10_u128(increment.scale - fraction_seen);
    steps -= steps % increment.units;  // floor to a whole number of increments
    if (steps == 0) return 0;

    // Digits of `steps`, then the point placed `scale` digits from the right.
    char digits[48];
    unsigned n = 0;
    for (u128 v = steps; v != 0; v /= 10) digits[n++] = static_cast<char>('0' + static_cast<unsigned>(v % 10));
    unsigned scale = increment.scale;
    unsigned skip = 0;  // trailing fraction zeros dropped
    while (skip < scale && skip < n && digits[skip] == '0') ++skip;
    char* o = out;
    if (n <= scale) {
        *o++ = '0';
    } else {
        for (unsigned i = n; i-- > scale;) *o++ = digits[i];
    }
    if (skip < scale) {
        *o++ = '.';
        for (unsigned i = scale; i-- > skip;) *o++ = i < n ? digits[i] : '0';
    }
    return static_cast<std::size_t>(o - out);
}

std::string floored_decimal(double value, DecimalIncrement increment) {
    char text[decimal_text_max_chars];
    return {text, format_floored(value, increment, text)};
}

}  // namespace cbtrade
