// The one RFC 3339 parser and formatter (core/rfc3339.hpp): decoder, CSV reader, reports, sim.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "core/rfc3339.hpp"

namespace cbtrade {
namespace {

static_assert(parse_rfc3339_ns("1970-01-01T00:00:00Z") == 0);
static_assert(parse_rfc3339_ns("2023-02-09T20:19:35.39625135Z") == 1675973975396251350);
static_assert(!parse_rfc3339_ns("2023-02-29T00:00:00Z"));

TEST(Rfc3339, zero_to_nine_fraction_digits) {
    const std::array<std::pair<std::string_view, std::int64_t>, 10> cases = {{
        {"2025-01-15T14:03:07Z", 1736949787000000000},
        {"2025-01-15T14:03:07.4Z", 1736949787400000000},
        {"2025-01-15T14:03:07.41Z", 1736949787410000000},
        {"2025-01-15T14:03:07.418Z", 1736949787418000000},
        {"2025-01-15T14:03:07.4182Z", 1736949787418200000},
        {"2025-01-15T14:03:07.41823Z", 1736949787418230000},
        {"2025-01-15T14:03:07.418236Z", 1736949787418236000},
        {"2025-01-15T14:03:07.4182360Z", 1736949787418236000},
        {"2025-01-15T14:03:07.41823601Z", 1736949787418236010},
        {"2025-01-15T14:03:07.418236019Z", 1736949787418236019},
    }};
    for (const auto& [text, ns] : cases) EXPECT_EQ(parse_rfc3339_ns(text), std::optional<std::int64_t>(ns)) << text;
}

TEST(Rfc3339, calendar_edges) {
    EXPECT_EQ(parse_rfc3339_ns("2000-02-29T23:59:59.999999999Z"), 951868799999999999);
    EXPECT_EQ(parse_rfc3339_ns("2261-12-31T23:59:59.999999999Z"), 9214646399999999999);
    EXPECT_EQ(parse_rfc3339_ns("2024-12-31T23:59:60Z"), parse_rfc3339_ns("2025-01-01T00:00:00Z"));  // leap second
    EXPECT_EQ(parse_rfc3339_ns("2025-01-15t14:03:07z"), parse_rfc3339_ns("2025-01-15T14:03:07Z"));
}

TEST(Rfc3339, offsets_are_applied_and_extra_fraction_digits_truncated) {
    EXPECT_EQ(parse_rfc3339_ns("2025-01-15T15:03:07+01:00"), parse_rfc3339_ns("2025-01-15T14:03:07Z"));
    EXPECT_EQ(parse_rfc3339_ns("2025-01-15T09:33:07.5-04:30"), parse_rfc3339_ns("2025-01-15T14:03:07.5Z"));
    EXPECT_EQ(parse_rfc3339_ns("2025-01-15T14:03:07.1234567891234Z"), 1736949787123456789);
}

TEST(Rfc3339, bad_timestamps_are_refused) {
    for (std::string_view text : {"",
                                  "2025-01-15T14:03:07",
                                  "2025-01-15T14:03:07.Z",
                                  "2025-01-15T14:03:07.5",
                                  "2025-13-15T14:03:07Z",
                                  "2025-00-15T14:03:07Z",
                                  "2025-01-32T14:03:07Z",
                                  "2025-01-00T14:03:07Z",
                                  "2023-02-29T14:03:07Z",
                                  "2100-02-29T00:00:00Z",
                                  "2025-04-31T00:00:00Z",
                                  "2025-01-15T24:03:07Z",
                                  "2025-01-15T14:60:07Z",
                                  "2025-01-15T14:03:61Z",
                                  "1969-12-31T23:59:59Z",
                                  "2262-01-01T00:00:00Z",
                                  "2025-01-15T14:03:07ZZ",
                                  "2025-01-15T14:03:07+0100",
                                  "2025-01-15T14:03:07+24:00",
                                  "2025/01/15T14:03:07Z",
                                  "2O25-01-15T14:03:07Z",
                                  "2025-01-15T14:03:07.12a4Z",
                                  "1970-01-01T00:30:00+01:00",
                                  "-025-01-15T14:03:07Z",
                                  "2025-01-15T14:03:07 Z",
                                  "2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105"}) {
        EXPECT_EQ(parse_rfc3339_ns(text), std::nullopt) << text;
    }
}

TEST(Rfc3339, streaming_parser_matches_the_plain_one_across_cache_hits_and_misses) {
    Rfc3339Parser parser;
    for (std::string_view text :
         {"2025-01-15T14:03:07.4Z", "2025-01-15T14:03:07.5Z", "2025-01-15T14:03:07Z", "2025-01-15T14:03:07.Z",
          "2025-01-15T14:03:07+01:00", "2025-01-15T14:03:08.1Z", "2025-13-15T14:03:08.1Z", "2025-01-15T14:03:08.2Z",
          "2025-01-15T14:03:08", "", "2025-01-15T14:03:0", "2025-01-15T14:03:08.3Z", "1970-01-01T00:30:00+01:00"}) {
        EXPECT_EQ(parser.parse_ns(text), parse_rfc3339_ns(text)) << text;
    }
}

TEST(Rfc3339, whole_seconds_for_candle_times) {
    EXPECT_EQ(parse_rfc3339_seconds("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_rfc3339_seconds("2024-01-01T00:00:00.123456789Z"), 1704067200);
    EXPECT_EQ(parse_rfc3339_seconds("2024-01-01T02:00:00+02:00"), 1704067200);
    EXPECT_EQ(parse_rfc3339_seconds("2023-12-31T22:30:00-01:30"), 1704067200);
    EXPECT_EQ(parse_rfc3339_seconds("2024-02-29 12:00:00Z"), 1709208000);
    EXPECT_FALSE(parse_rfc3339_seconds("2024-01-01T00:00:00"));  // no zone
    EXPECT_FALSE(parse_rfc3339_seconds("2024-13-01T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339_seconds("2024-01-01T00:00:00.Z"));
    EXPECT_FALSE(parse_rfc3339_seconds("2024-01-01T00:00:00Zjunk"));
    EXPECT_FALSE(parse_rfc3339_seconds(""));
}

TEST(Rfc3339, impossible_calendar_dates_are_refused_not_rolled_over) {
    // The CSV reader once read 2024-02-30 as March 1; every caller now shares this parser.
    for (std::string_view text : {"2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
                                  "2024-06-31 00:00:00Z", "1900-02-29T00:00:00Z"}) {
        EXPECT_EQ(parse_rfc3339_seconds(text), std::nullopt) << text;
    }
    EXPECT_TRUE(parse_rfc3339_seconds("2024-02-29T00:00:00Z"));
    EXPECT_TRUE(parse_rfc3339_seconds("2000-02-29T00:00:00Z"));
}

TEST(Rfc3339, space_separator_is_accepted_as_rfc3339_section_5_6_allows) {
    EXPECT_EQ(parse_rfc3339_ns("2025-01-15 14:03:07Z"), parse_rfc3339_ns("2025-01-15T14:03:07Z"));
}

TEST(Rfc3339, formats_seconds_and_fractions) {
    EXPECT_EQ(format_rfc3339_s(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339_s(1704067200 + 3661), "2024-01-01T01:01:01Z");
    EXPECT_EQ(format_rfc3339_s(951782400), "2000-02-29T00:00:00Z");
    EXPECT_EQ(format_rfc3339_s(-1), "1969-12-31T23:59:59Z");
    EXPECT_EQ(format_rfc3339_us(1736949787418236), "2025-01-15T14:03:07.418236Z");
    EXPECT_EQ(format_rfc3339_us(-1), "1969-12-31T23:59:59.999999Z");
    char text[rfc3339_max_chars];
    EXPECT_EQ(std::string_view(text, format_rfc3339(1736949787418236019, 9, text)), "2025-01-15T14:03:07.418236019Z");
    EXPECT_EQ(std::string_view(text, format_rfc3339(1736949787999999999, 3, text)), "2025-01-15T14:03:07.999Z")
        << "truncated, never rounded into the next second";
}

TEST(Rfc3339, formatting_extreme_seconds_does_not_overflow) {
    EXPECT_EQ(format_rfc3339_s(253402300799), "9999-12-31T23:59:59Z");
    EXPECT_EQ(format_rfc3339_s(253402300800), "10000-01-01T00:00:00Z");
    EXPECT_LE(format_rfc3339_s(INT64_MAX / 2).size(), rfc3339_max_chars);
}

TEST(Rfc3339, format_then_parse_round_trips_every_day_for_three_centuries) {
    char text[rfc3339_max_chars];
    for (std::int64_t day = 0; day < 106'000; day += 1) {
        const std::int64_t ns = day * 86'400'000'000'000 + (day * 7'919 % 86'400) * 1'000'000'000 + day % 1'000'000'000;
        const std::size_t n = format_rfc3339(ns, 9, text);
        ASSERT_EQ(parse_rfc3339_ns(std::string_view(text, n)), ns) << std::string_view(text, n);
    }
}

}  // namespace
}  // namespace cbtrade
