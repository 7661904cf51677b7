// core/text: quoting outside text inside error messages (DESIGN.md section 4, issue 9 item 7).
//
// An error line that repeats what a user, file or server gave us must stay one short, printable
// line: a 50 MB header must not come back as a 50 MB message, and a newline, NUL or terminal escape
// sequence must not reach the terminal raw. quote_for_message() is the one way to do that.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace cbtrade {

inline constexpr std::size_t default_quote_bytes = 64;
// Paths and other names the user chose may be longer before they are cut.
inline constexpr std::size_t default_name_bytes = 256;

// 'text' in single quotes, with at most max_bytes of the input shown. Bytes outside printable ASCII
// and the quote and backslash themselves are escaped (\n \r \t \' \\ \xNN), so the result is one
// line of printable ASCII. A longer input is cut and marked: 'abc'... (1048576 bytes).
[[nodiscard]] std::string quote_for_message(std::string_view text, std::size_t max_bytes = default_quote_bytes);

// ASCII case folding for protocol text (schemes, host names, header values), independent of the
// locale: 'A'-'Z' become 'a'-'z', every other byte stays.
[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
[[nodiscard]] bool ascii_iequals(std::string_view a, std::string_view b) noexcept;
// Position of the first occurrence of `what` in `text`, ignoring ASCII case; npos if none.
[[nodiscard]] std::size_t ascii_ifind(std::string_view text, std::string_view what) noexcept;

// The same escaping and cut without the quotes, for a name that starts a message ("path:line: ...").
[[nodiscard]] std::string escape_for_message(std::string_view text, std::size_t max_bytes = default_name_bytes);

// quote_for_message without allocating, for the hot path (a server's error message in the feed):
// writes into `out` (always NUL-terminated, never ending inside an escape; a buffer too small for
// all of the shown prefix shows less) and returns the written text.
std::string_view quote_for_message_into(std::span<char> out, std::string_view text,
                                        std::size_t max_bytes = default_quote_bytes) noexcept;

// printf into a fixed buffer, cut to fit and always NUL-terminated: how a hot-path object keeps its
// last error without allocating (the feed, a connection).
void format_into(std::span<char> out, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

}  // namespace cbtrade
