// core/decimal: decimal text <-> numbers, the one copy for the decoders, the CSV reader, the REST
// answers and order sizes.
//
// Parsing: prices arrive as JSON strings several times per message, and libstdc++'s from_chars
// costs ~20 ns each; the plain "digits[.digits]" shape every real price has takes Clinger's fast
// path instead: a mantissa of at most 2^53 and a power of ten up to 10^22 are both exact doubles,
// and IEEE division rounds correctly, so mantissa / 10^k is the correctly rounded value, the same
// bits from_chars returns (tests/core/test_decimal.cpp compares them). Every other shape
// (exponents, long digit strings, "inf", garbage) goes to std::from_chars.
//
// Formatting on an increment: order sizes must be exact decimal strings on the product's
// base_increment / quote_increment ("0.00000001", "0.01"), never float printing. DecimalIncrement
// reads the increment's text exactly; format_floored() floors a quantity to a whole number of
// increments in decimal arithmetic (128-bit), starting from the double's shortest round-trip text,
// so 0.29 BTC stays "0.29" and never becomes "0.28999999".
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <system_error>

namespace cbtrade {

// Longer strings are refused unparsed: no price needs them, and it bounds the parse cost.
inline constexpr std::size_t decimal_max_chars = 64;

namespace decimal_detail {
inline constexpr std::array<double, 23> exact_powers_of_ten = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

constexpr bool is_digit(char c) noexcept {
    return static_cast<unsigned char>(c - '0') <= 9;
}
}  // namespace decimal_detail

// The longest plain decimal ("digits[.digits]", optional leading '-') at the start of [p, end) when
// its value is exact on the fast path; returns where it stopped (p when there is none). The caller
// checks that the stop is where the field ends, else falls back to parse_decimal / from_chars.
[[nodiscard, gnu::always_inline]] inline const char* parse_plain_decimal_prefix(const char* p, const char* end,
                                                                                double& out) noexcept {
    using namespace decimal_detail;
    const char* const start = p;
    const bool negative = p != end && *p == '-';
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
    if (integer_digits == 0 || (has_point && fraction_digits == 0) || integer_digits + fraction_digits > 19 ||
        mantissa > (std::uint64_t{1} << 53))
        return start;
    const double value = static_cast<double>(mantissa) / exact_powers_of_ten[fraction_digits];
    out = negative ? -value : value;
    return p;
}

// The whole of `text` as a finite number in std::from_chars general format (optional '-', no '+',
// no spaces, no hex), else nullopt. "nan" and "inf" parse there but are refused here.
[[nodiscard, gnu::always_inline]] inline std::optional<double> parse_decimal(std::string_view text) noexcept {
    if (text.empty() || text.size() > decimal_max_chars) return std::nullopt;
    const char* const end = text.data() + text.size();
    double value = 0.0;
    if (parse_plain_decimal_prefix(text.data(), end, value) == end) return value;
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (error != std::errc{} || stop != end || !std::isfinite(value)) return std::nullopt;
    return value;
}

// A positive decimal step as its exact digits: "0.00000001" is {1, 8}, "0.005" is {5, 3}, "1" is
// {1, 0}, "10" is {10, 0}. From a product's base_increment or quote_increment (coinbase-api.md).
struct DecimalIncrement {
    std::uint64_t units = 1;  // the step is units * 10^-scale
    unsigned scale = 0;       // fraction digits, at most max_decimal_scale

    // Parses "digits[.digits]" > 0 with at most max_decimal_scale fraction digits and 18 significant
    // digits; trailing fraction zeros are dropped ("0.010" is {1, 2}). nullopt for anything else.
    [[nodiscard]] static std::optional<DecimalIncrement> parse(std::string_view text) noexcept;
    // The step as a double (for sizing arithmetic; never for the order text).
    [[nodiscard]] double value() const noexcept;
};
inline constexpr unsigned max_decimal_scale = 18;

// Longest text format_floored writes: 20 integer digits (values below 1e20), '.', 18 fraction digits.
inline constexpr std::size_t decimal_text_max_chars = 48;

// Floors `value` (finite, >= 0, < 1e20) to a whole number of increments and writes it as exact
// decimal text into out[0, decimal_text_max_chars): no exponent, no trailing fraction zeros ("0.29",
// "12", "0.00012345"). Returns the length, or 0 when the value is negative, not finite, too large,
// or floors to zero (an order of size 0 is no order).
[[nodiscard]] std::size_t format_floored(double value, DecimalIncrement increment, char* out) noexcept;
// The same as a string (cold paths); empty when format_floored returns 0.
[[nodiscard]] std::string floored_decimal(double value, DecimalIncrement increment);

}  // namespace cbtrade
