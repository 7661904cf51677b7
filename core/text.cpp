#include "core/text.hpp"

namespace cbtrade {

std::string quote_for_message(std::string_view text, std::size_t max_bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    const bool cut = text.size() > max_bytes;
    const std::string_view shown = cut ? text.substr(0, max_bytes) : text;
    std::string out;
    out.reserve(shown.size() + 32);
    out.push_back('\'');
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
    out.push_back('\'');
    if (cut) out.append("... (").append(std::to_string(text.size())).append(" bytes)");
    return out;
}

}  // namespace cbtrade
