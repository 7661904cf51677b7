// core/decimal: the fast parser against std::from_chars, and exact order-size text on increments.
#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core/decimal.hpp"

namespace cbtrade {
namespace {

// What the decoder must match: std::from_chars over the whole string, finite values only.
std::optional<double> reference_decimal(std::string_view text) {
    double value = 0.0;
    const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || stop != text.data() + text.size() || !std::isfinite(value))
        return std::nullopt;
    return value;
}

void expect_same_as_from_chars(std::string_view text) {
    const std::optional<double> fast = parse_decimal(text);
    const std::optional<double> reference = reference_decimal(text);
    ASSERT_EQ(fast.has_value(), reference.has_value()) << text;
    if (fast) {
        EXPECT_EQ(std::bit_cast<std::uint64_t>(*fast), std::bit_cast<std::uint64_t>(*reference)) << text;
    }
}

TEST(Decimal, fast_path_is_bit_identical_to_from_chars_on_random_prices) {
    std::mt19937_64 rng(20250115);
    std::string text;
    for (int i = 0; i < 200'000; ++i) {
        text.clear();
        if (rng() % 8 == 0) text += '-';
        const int integer_digits = 1 + static_cast<int>(rng() % 12);
        const int fraction_digits = static_cast<int>(rng() % 14);
        for (int d = 0; d < integer_digits; ++d) text += static_cast<char>('0' + rng() % 10);
        if (fraction_digits != 0 || rng() % 16 == 0) text += '.';
        for (int d = 0; d < fraction_digits; ++d) text += static_cast<char>('0' + rng() % 10);
        expect_same_as_from_chars(text);
        if (HasFatalFailure()) return;
    }
}

TEST(Decimal, edge_shapes_match_from_chars) {
    for (std::string_view text : {"0",
                                  "-0",
                                  "0.0",
                                  "1.",
                                  ".5",
                                  "-.5",
                                  "-",
                                  ".",
                                  "+1",
                                  " 1",
                                  "1 ",
                                  "1e5",
                                  "1E-3",
                                  "1.5e300",
                                  "1e400",
                                  "inf",
                                  "-inf",
                                  "NaN",
                                  "nan(0x1)",
                                  "infinity",
                                  "0x1p3",
                                  "9007199254740992",
                                  "9007199254740993",
                                  "9007199254740993.5",
                                  "1234567890123456789",
                                  "12345678901234567890",
                                  "0.0000000000000000000001",
                                  "0.00000000000000000000001",
                                  "00097012.35",
                                  "97012.350000000000000",
                                  "97O12.35",
                                  "1..2",
                                  "1.2.3",
                                  "",
                                  "-0.0000001",
                                  "18446744073709551616"}) {
        expect_same_as_from_chars(text);
    }
    EXPECT_EQ(parse_decimal(std::string(64, '1')).has_value(), true);
    EXPECT_EQ(parse_decimal(std::string(65, '1')), std::nullopt);  // refused unparsed
}

TEST(Decimal, prefix_parser_stops_at_the_field_end_for_the_csv_reader) {
    const std::string_view row = "42007.62,3.5\n";
    double v = 0;
    const char* stop = parse_plain_decimal_prefix(row.data(), row.data() + row.size(), v);
    EXPECT_EQ(stop, row.data() + 8);
    EXPECT_EQ(v, 42007.62);
    const std::string_view exponent = "1e5,";
    EXPECT_EQ(parse_plain_decimal_prefix(exponent.data(), exponent.data() + exponent.size(), v), exponent.data() + 1)
        << "stops before the exponent: the caller falls back to from_chars";
}

TEST(DecimalIncrement, reads_exchange_increments_exactly) {
    struct Case {
        std::string_view text;
        std::uint64_t units;
        unsigned scale;
    };
    for (const Case& c : {Case{"0.00000001", 1, 8}, Case{"0.01", 1, 2}, Case{"0.010", 1, 2}, Case{"1", 1, 0},
                          Case{"10", 10, 0}, Case{"0.005", 5, 3}, Case{"0.000000000000000001", 1, 18}}) {
        const auto inc = DecimalIncrement::parse(c.text);
        ASSERT_TRUE(inc) << c.text;
        EXPECT_EQ(inc->units, c.units) << c.text;
        EXPECT_EQ(inc->scale, c.scale) << c.text;
    }
    for (std::string_view bad : {"", "0", "0.000", "-0.01", "1e-8", ".01", "1.", "0.0000000000000000001", "abc",
                                 "0.0.1", " 0.01", "1234567890123456789"}) {
        EXPECT_FALSE(DecimalIncrement::parse(bad)) << bad;
    }
    EXPECT_EQ(DecimalIncrement::parse("0.00000001")->value(), 1e-8);
}

TEST(Decimal, order_sizes_floor_to_the_increment_as_exact_text) {
    const DecimalIncrement satoshi = *DecimalIncrement::parse("0.00000001");
    const DecimalIncrement cent = *DecimalIncrement::parse("0.01");
    const DecimalIncrement nickel = *DecimalIncrement::parse("0.05");
    EXPECT_EQ(floored_decimal(0.29, satoshi), "0.29") << "0.29 * 1e8 is 28999999.999999996 in doubles";
    EXPECT_EQ(floored_decimal(0.123456789, satoshi), "0.12345678");
    EXPECT_EQ(floored_decimal(0.000000019, satoshi), "0.00000001");
    EXPECT_EQ(floored_decimal(12.0, satoshi), "12");
    EXPECT_EQ(floored_decimal(97012.349999, cent), "97012.34");
    EXPECT_EQ(floored_decimal(1e-9, satoshi), "") << "floors to zero: no order";
    EXPECT_EQ(floored_decimal(0.19, nickel), "0.15");
    EXPECT_EQ(floored_decimal(5.0, *DecimalIncrement::parse("10")), "");
    EXPECT_EQ(floored_decimal(123.0, *DecimalIncrement::parse("10")), "120");
    EXPECT_EQ(floored_decimal(99999999999999999999.0 / 10, cent), "10000000000000000000");
    for (const double bad : {-0.5, std::nan(""), HUGE_VAL, 1e20, 1e300})
        EXPECT_EQ(floored_decimal(bad, cent), "") << bad;
}

TEST(Decimal, floored_text_never_exceeds_the_value_and_is_within_one_increment) {
    std::mt19937_64 rng(7);
    const DecimalIncrement satoshi = *DecimalIncrement::parse("0.00000001");
    for (int i = 0; i < 100'000; ++i) {
        const double value =
            std::ldexp(static_cast<double>(rng() >> 11), -53) * std::pow(10.0, static_cast<int>(rng() % 12) - 4);
        const std::string text = floored_decimal(value, satoshi);
        // Compare with the decimal the double stands for (its shortest text), in long double: the
        // floor is exact in decimal, and a 64-bit mantissa resolves 1e-8 at these magnitudes.
        char shortest[64];
        *std::to_chars(shortest, shortest + 63, value, std::chars_format::fixed).ptr = '\0';
        const long double meant = std::strtold(shortest, nullptr);
        const long double back = text.empty() ? 0.0L : std::strtold(text.c_str(), nullptr);
        ASSERT_LE(back, meant) << shortest << " -> " << text;
        ASSERT_LT(meant - back, 1e-8L) << shortest << " -> " << text;
        if (!text.empty()) {
            const auto point = text.find('.');
            ASSERT_TRUE(point == std::string::npos || text.size() - point - 1 <= 8) << text;
            if (point != std::string::npos) {
                ASSERT_NE(text.back(), '0') << "trailing zero: " << text;
            }
        }
    }
}

}  // namespace
}  // namespace cbtrade
