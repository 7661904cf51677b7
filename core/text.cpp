#include "core/text.hpp"

#include <algorithm>

namespace cbtrade {

namespace {

void append_escaped(std::string& out, std::string_view shown) {
    static constexpr char hex[] = "0123456789abcdef";
    for (const char ch : shown) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            case '\'':
                out.append("\\'");
                break;
            case '\\':
                out.append("\\\\");
                break;
            default:
                if (c >= 0x20 && c < 0x7f) {
                    out.push_back(ch);
                } else {
                    out.append("\\x");
                    out.push_back(hex[c >> 4]);
                    out.push_back(hex[c & 0xf]);
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
    append_escaped(out, shown);
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

}  // namespace cbtrade
