// Decimal strings from the wire ("97012.35") to double, with exactly std::from_chars's result.
// Prices arrive as JSON strings several times per message, and libstdc++'s from_chars costs ~20 ns
// each; the plain "digits[.digits]" shape every real price has takes Clinger's fast path instead:
// a mantissa of at most 2^53 and a power of ten up to 10^22 are both exact doubles, and IEEE
// division rounds correctly, so mantissa / 10^k is the correctly rounded value, the same bits
// from_chars returns (tests/feeds/test_coinbase_decoder.cpp compares them). Every other shape
// (exponents, long digit strings, "inf", garbage) goes to std::from_chars.
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace cbtrade {

// Longer strings are refused unparsed: no price needs them, and it bounds the parse cost.
inline constexpr std::size_t decimal_max_chars = 64;

namespace decimal_detail {
inline constexpr std::array<double, 23> exact_powers_of_ten = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

constexpr bool is_digit(char c) noexcept { return static_cast<unsigned char>(c - '0') <= 9; }
}  // namespace decimal_detail

// The whole of `text` as a finite number in std::from_chars general format (optional '-', no '+',
// no spaces, no hex), else nullopt. "nan" and "inf" parse there but are refused here.
[[nodiscard, gnu::always_inline]] inline std::optional<double> parse_decimal(std::string_view text) noexcept {
    using namespace decimal_detail;
    if (text.empty() || text.size() > decimal_max_chars) return std::nullopt;
    const char* p = text.data();
    const char* const end = p + text.size();
    const bool negative = *p == '-';
    if (negative) ++p;
    std::uint64_t mantissa = 0;
    const char* const integer_start = p;
    while (p != end && is_digit(*p)) mantissa = mantissa * 10 + static_cast<unsigned>(*p++ - '0');
    const auto integer_digits = static_cast<std::size_t>(p - integer_start);
    std::size_t fraction_digits = 0;
    bool has_point = false;
    if (p != end && *p == '.') {
        has_point = true;
        const char* const fraction_start = ++p;
        while (p != end && is_digit(*p)) mantissa = mantissa * 10 + static_cast<unsigned>(*p++ - '0');
        fraction_digits = static_cast<std::size_t>(p - fraction_start);
    }
    // 19 digits cannot overflow the accumulator; "1." and ".5" are left to from_chars to judge.
    if (p == end && integer_digits != 0 && (!has_point || fraction_digits != 0) &&
        integer_digits + fraction_digits <= 19 && mantissa <= (std::uint64_t{1} << 53)) {
        const double value = static_cast<double>(mantissa) / exact_powers_of_ten[fraction_digits];
        return negative ? -value : value;
    }
    double value = 0.0;
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (error != std::errc{} || stop != end || !std::isfinite(value)) return std::nullopt;
    return value;
}

}  // namespace cbtrade
