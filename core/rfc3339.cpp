#include "core/rfc3339.hpp"

namespace cbtrade {

namespace {
char* put_digits(char* out, std::uint64_t value, unsigned width) noexcept {
    for (unsigned i = width; i-- > 0;) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

// Seconds since the epoch plus a fraction in ns: no multiplication, so any int64 second prints.
std::size_t format_parts(std::int64_t unix_s, std::uint64_t fraction, unsigned fraction_digits, char* out) noexcept {
    constexpr std::int64_t s_per_day = 86'400;
    // Floor division: times before the epoch still print the right calendar second.
    std::int64_t days = unix_s / s_per_day;
    std::int64_t in_day = unix_s % s_per_day;
    if (in_day < 0) {
        in_day += s_per_day;
        --days;
    }
    const CivilDate date = civil_from_days(days);
    const auto seconds = static_cast<std::uint64_t>(in_day);
    char* p = out;
    std::int64_t year = date.year;
    if (year < 0) {
        *p++ = '-';
        year = -year;
    }
    unsigned year_digits = 4;
    for (std::int64_t y = year; y > 9999; y /= 10) ++year_digits;
    p = put_digits(p, static_cast<std::uint64_t>(year), year_digits);
    *p++ = '-';
    p = put_digits(p, date.month, 2);
    *p++ = '-';
    p = put_digits(p, date.day, 2);
    *p++ = 'T';
    p = put_digits(p, seconds / 3600, 2);
    *p++ = ':';
    p = put_digits(p, seconds / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, seconds % 60, 2);
    if (fraction_digits > 9) fraction_digits = 9;
    if (fraction_digits > 0) {
        *p++ = '.';
        std::uint64_t scaled = fraction;
        for (unsigned i = fraction_digits; i < 9; ++i) scaled /= 10;
        p = put_digits(p, scaled, fraction_digits);
    }
    *p++ = 'Z';
    return static_cast<std::size_t>(p - out);
}

}  // namespace

std::size_t format_rfc3339(std::int64_t unix_ns, unsigned fraction_digits, char* out) noexcept {
    std::int64_t seconds = unix_ns / 1'000'000'000;
    std::int64_t fraction = unix_ns % 1'000'000'000;
    if (fraction < 0) {
        fraction += 1'000'000'000;
        --seconds;
    }
    return format_parts(seconds, static_cast<std::uint64_t>(fraction), fraction_digits, out);
}

std::string format_rfc3339_s(std::int64_t unix_s) {
    char text[rfc3339_max_chars];
    return {text, format_parts(unix_s, 0, 0, text)};
}

std::string format_rfc3339_us(std::int64_t unix_us) {
    char text[rfc3339_max_chars];
    std::int64_t seconds = unix_us / 1'000'000;
    std::int64_t micros = unix_us % 1'000'000;
    if (micros < 0) {
        micros += 1'000'000;
        --seconds;
    }
    return {text, format_parts(seconds, static_cast<std::uint64_t>(micros) * 1'000, 6, text)};
}

}  // namespace cbtrade
