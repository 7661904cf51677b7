// core/numbers: one strict range-checked parser for configuration values and command-line flags.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "core/numbers.hpp"

namespace cbtrade {
namespace {

TEST(Numbers, whole_text_in_range_is_accepted) {
    EXPECT_EQ(parse_number_in("2.5", 0, 10), 2.5);
    EXPECT_EQ(parse_number_in("10", 0, 10), 10.0);
    EXPECT_EQ(parse_int_in("-3", -5, 5), -3);
    EXPECT_EQ(parse_int_in("0", 0, 0), 0);
}

TEST(Numbers, infinities_nan_out_of_range_and_trailing_text_are_refused) {
    for (const char* bad : {"inf", "-inf", "infinity", "nan", "1e300", "1e400", "", " 1", "1 ", "1x", "0x10", "+1"})
        EXPECT_FALSE(parse_number_in(bad, 0, 1e6)) << bad;
    EXPECT_FALSE(parse_number_in("0", 0, 1, true));
    EXPECT_FALSE(parse_number_in("-0.1", 0, 1));
    for (const char* bad : {"1.5", "99999999999999999999", "-1", "", "7 ", "1e3"})
        EXPECT_FALSE(parse_int_in(bad, 0, 1000)) << bad;
}

TEST(Numbers, flag_errors_are_usage_errors_naming_flag_value_and_range) {
    try {
        (void)number_flag("--duration-sec", "inf", 0, 31536000, true, "seconds above 0 and at most 31536000");
        FAIL();
    } catch (const UsageError& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::usage);
        EXPECT_EQ(std::string(e.what()),
                  "--duration-sec: 'inf' is invalid: expected seconds above 0 and at most 31536000");
    }
    try {
        (void)int_flag("--hold-sec", std::string(1000, '9') + "\x1b", 0, 86400, "seconds");
        FAIL();
    } catch (const UsageError& e) {
        const std::string what = e.what();
        EXPECT_LT(what.size(), 160u) << what;
        EXPECT_EQ(what.find('\x1b'), std::string::npos);
    }
    EXPECT_EQ(int_flag("--hold-sec", "86400", 0, 86400, "seconds"), 86400);
}

}  // namespace
}  // namespace cbtrade
