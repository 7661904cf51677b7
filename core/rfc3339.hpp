// core/rfc3339: the one parser and formatter of RFC 3339 timestamps, used by the market-data decoder
// ("2023-02-09T20:19:35.39625135Z", 0 to 9 fraction digits), the CSV reader, reports, the REST
// client and the simulator. Strict about the calendar everywhere: 2024-02-30 is an error, never
// March 1. Hand-written because it sits on the per-message path: no locale, no allocation, no tables
// beyond twelve month offsets, constexpr so the tests can check it at compile time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace cbtrade {

namespace rfc3339_detail {

// Reads `count` decimal digits at `pos`; -1 if any is not a digit.
constexpr int read_digits(std::string_view text, std::size_t pos, std::size_t count) noexcept {
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9') return -1;
        value = value * 10 + (c - '0');
    }
    return value;
}

constexpr bool is_leap_year(int year) noexcept {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

constexpr int days_in_month(int year, int month) noexcept {
    constexpr int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

// Days from 1970-01-01 to year-month-day (year >= 1970).
constexpr std::int64_t days_since_epoch(int year, int month, int day) noexcept {
    constexpr int days_before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    const std::int64_t previous_year = year - 1;
    const std::int64_t leap_days_before_year =
        previous_year / 4 - previous_year / 100 + previous_year / 400 - (1969 / 4 - 1969 / 100 + 1969 / 400);
    std::int64_t days =
        365 * static_cast<std::int64_t>(year - 1970) + leap_days_before_year + days_before_month[month - 1] + (day - 1);
    if (month > 2 && is_leap_year(year)) ++days;
    return days;
}

// The date and time of day ("YYYY-MM-DDTHH:MM:SS", the first 19 characters) as seconds since the
// epoch, ignoring any zone; nullopt if malformed or out of range. text.size() must be >= 19.
[[nodiscard]] constexpr std::optional<std::int64_t> parse_local_seconds(std::string_view text) noexcept {
    // RFC 3339 section 5.6 lets applications use a space instead of 'T' (CSV exports do).
    if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
        text[13] != ':' || text[16] != ':')
        return std::nullopt;
    const int year = read_digits(text, 0, 4);
    const int month = read_digits(text, 5, 2);
    const int day = read_digits(text, 8, 2);
    const int hour = read_digits(text, 11, 2);
    const int minute = read_digits(text, 14, 2);
    const int second = read_digits(text, 17, 2);
    if (year < 1970 || year > 2261 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60)
        return std::nullopt;
    if (day > days_in_month(year, month)) return std::nullopt;
    return days_since_epoch(year, month, day) * 86'400 + hour * 3600 + minute * 60 + second;
}

struct FractionAndZone {
    std::int64_t fraction_ns;
    std::int64_t offset_s;  // to subtract from the local time
};

// What follows the seconds: [.fraction](Z|z|+HH:MM|-HH:MM), up to the end of text.
[[nodiscard]] constexpr std::optional<FractionAndZone> parse_fraction_and_zone(std::string_view text) noexcept {
    std::size_t pos = 19;
    FractionAndZone result{0, 0};
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        std::int64_t scale = 100'000'000;
        const std::size_t first_digit = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            result.fraction_ns += (text[pos] - '0') * scale;
            scale /= 10;  // reaches 0 after nine digits: further digits are truncated
            ++pos;
        }
        if (pos == first_digit) return std::nullopt;
    }
    if (pos >= text.size()) return std::nullopt;
    const char zone = text[pos];
    if (zone == 'Z' || zone == 'z') return pos + 1 == text.size() ? std::optional(result) : std::nullopt;
    if (zone != '+' && zone != '-') return std::nullopt;
    if (text.size() - pos != 6 || text[pos + 3] != ':') return std::nullopt;
    const int offset_hour = read_digits(text, pos + 1, 2);
    const int offset_minute = read_digits(text, pos + 4, 2);
    if (offset_hour < 0 || offset_hour > 23 || offset_minute < 0 || offset_minute > 59) return std::nullopt;
    result.offset_s = (offset_hour * 3600 + offset_minute * 60) * (zone == '+' ? 1 : -1);
    return result;
}

[[nodiscard]] constexpr std::optional<std::int64_t> combine(std::int64_t local_seconds, FractionAndZone tail) noexcept {
    const std::int64_t seconds = local_seconds - tail.offset_s;
    if (seconds < 0) return std::nullopt;  // 1970-01-01T00:30:00+01:00 would be before the epoch
    return seconds * 1'000'000'000 + tail.fraction_ns;
}

}  // namespace rfc3339_detail

// Accepts YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), 'T'/'t'/' ' and 'Z'/'z'.
// More than 9 fraction digits are accepted and truncated (sub-nanosecond detail is meaningless
// here, and rejecting them would drop every tick if the exchange ever sent more). Years 1970 to
// 2261 only, so the result always fits in int64 nanoseconds. Second 60 (a leap second) is
// accepted and lands on the next second, as POSIX time does. Anything else: nullopt.
[[nodiscard]] constexpr std::optional<std::int64_t> parse_rfc3339_ns(std::string_view text) noexcept {
    using namespace rfc3339_detail;
    // "YYYY-MM-DDTHH:MM:SS" is 19 characters; the shortest valid form adds "Z".
    if (text.size() < 20) return std::nullopt;
    const std::optional<std::int64_t> local_seconds = parse_local_seconds(text);
    if (!local_seconds) return std::nullopt;
    const std::optional<FractionAndZone> tail = parse_fraction_and_zone(text);
    if (!tail) return std::nullopt;
    return combine(*local_seconds, *tail);
}

// parse_rfc3339_ns for a stream of timestamps: messages arrive many per second, so the date and time
// of day of the previous one are remembered and only the fraction and zone are parsed again when the
// first 19 characters repeat. Same results as parse_rfc3339_ns.
class Rfc3339Parser {
public:
    [[nodiscard]] std::optional<std::int64_t> parse_ns(std::string_view text) noexcept {
        using namespace rfc3339_detail;
        if (text.size() < 20) return std::nullopt;
        if (!has_cached_ || std::memcmp(text.data(), cached_prefix_, sizeof cached_prefix_) != 0) {
            const std::optional<std::int64_t> local_seconds = parse_local_seconds(text);
            if (!local_seconds) return std::nullopt;
            std::memcpy(cached_prefix_, text.data(), sizeof cached_prefix_);
            cached_seconds_ = *local_seconds;
            has_cached_ = true;
        }
        const std::optional<FractionAndZone> tail = parse_fraction_and_zone(text);
        if (!tail) return std::nullopt;
        return combine(cached_seconds_, *tail);
    }

private:
    char cached_prefix_[19] = {};
    std::int64_t cached_seconds_ = 0;
    bool has_cached_ = false;
};

// Whole seconds (the fraction truncated): candle times in CSV files and REST answers.
[[nodiscard]] constexpr std::optional<std::int64_t> parse_rfc3339_seconds(std::string_view text) noexcept {
    const std::optional<std::int64_t> ns = parse_rfc3339_ns(text);
    if (!ns) return std::nullopt;
    return *ns / 1'000'000'000;
}

struct CivilDate {
    std::int64_t year;
    unsigned month;  // 1..12
    unsigned day;    // 1..31
};
// The proleptic Gregorian date of a day number (days since 1970-01-01), H. Hinnant's algorithm.
[[nodiscard]] constexpr CivilDate civil_from_days(std::int64_t days) noexcept {
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

// Longest text format_rfc3339 writes: "-YYYYYY-MM-DDTHH:MM:SS.fffffffffZ" fits with room to spare.
inline constexpr std::size_t rfc3339_max_chars = 40;

// ns since the epoch as UTC text with `fraction_digits` (0..9, truncated, never rounded up into the
// next second) fraction digits: format_rfc3339(0, 0) == "1970-01-01T00:00:00Z". Writes into out
// (at least rfc3339_max_chars) and returns the length; no allocation.
std::size_t format_rfc3339(std::int64_t unix_ns, unsigned fraction_digits, char* out) noexcept;
// Convenience forms for cold paths.
[[nodiscard]] std::string format_rfc3339_s(std::int64_t unix_s);
[[nodiscard]] std::string format_rfc3339_us(std::int64_t unix_us);

}  // namespace cbtrade
