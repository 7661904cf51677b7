#include "core/text.hpp"

#include <algorithm>
#include <charconv>
#include <cstdarg>
#include <cstdio>

namespace cbtrade {

namespace {

// Calls put(piece) for each escaped piece of `shown`: one printable byte or an escape.
template <class Put>
void escape_each(std::string_view shown, Put&& put) {
    static constexpr char hex[] = "0123456789abcdef";
    for (const char ch : shown) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '\n':
                put("\\n");
                break;
            case '\r':
                put("\\r");
                break;
            case '\t':
                put("\\t");
                break;
            case '\'':
                put("\\'");
                break;
            case '\\':
                put("\\\\");
                break;
            default:
                if (c >= 0x20 && c < 0x7f) {
                    put(std::string_view(&ch, 1));
                } else {
                    const char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xf]};
                    put(std::string_view(esc, 4));
                }
        }
    }
}

std::string escaped(std::string_view text, std::size_t max_bytes, bool quoted) {
    const bool cut = text.size() > max_bytes;
    const std::string_view shown = cut ? text.substr(0, max_bytes) : text;
    std::string out;
    out.reserve(shown.size() + 32);
    if (quoted) out.push_back('\'');
    escape_each(shown, [&](std::string_view piece) { out.append(piece); });
    if (quoted) out.push_back('\'');
    if (cut) out.append("... (").append(std::to_string(text.size())).append(" bytes)");
    return out;
}

}  // namespace

std::string quote_for_message(std::string_view text, std::size_t max_bytes) {
    return escaped(text, max_bytes, true);
}

std::string escape_for_message(std::string_view text, std::size_t max_bytes) {
    return escaped(text, max_bytes, false);
}

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

std::size_t ascii_ifind(std::string_view text, std::string_view what) noexcept {
    const auto it = std::search(text.begin(), text.end(), what.begin(), what.end(),
                                [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
    return it == text.end() && !what.empty() ? std::string_view::npos : static_cast<std::size_t>(it - text.begin());
}

std::string_view quote_for_message_into(std::span<char> out, std::string_view text, std::size_t max_bytes) noexcept {
    if (out.empty()) return {};
    const bool cut = text.size() > max_bytes;
    // The closing quote and the "... (N bytes)" note are written after the text, so their room is
    // kept back from it.
    char note[40] = "'";
    std::size_t note_len = 1;
    if (cut) {
        constexpr std::string_view prefix = "... (";
        prefix.copy(note + note_len, prefix.size());
        note_len += prefix.size();
        note_len = static_cast<std::size_t>(std::to_chars(note + note_len, note + sizeof note, text.size()).ptr - note);
        constexpr std::string_view suffix = " bytes)";
        suffix.copy(note + note_len, suffix.size());
        note_len += suffix.size();
    }
    const std::size_t cap = out.size() - 1;  // room for the terminating NUL
    if (cap < note_len + 1) {
        out[0] = '\0';
        return {};
    }
    std::size_t used = 0;
    std::size_t limit = cap - note_len;
    bool full = false;
    // Pieces are all-or-nothing, so the output never ends inside an escape.
    auto put = [&](std::string_view piece) {
        if (full || used + piece.size() > limit) {
            full = true;
            return;
        }
        piece.copy(out.data() + used, piece.size());
        used += piece.size();
    };
    put("'");
    escape_each(cut ? text.substr(0, max_bytes) : text, put);
    full = false;
    limit = cap;
    put(std::string_view(note, note_len));
    out[used] = '\0';
    return {out.data(), used};
}

void format_into(std::span<char> out, const char* fmt, ...) noexcept {
    if (out.empty()) return;
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(out.data(), out.size(), fmt, args);
    va_end(args);
}

}  // namespace cbtrade
