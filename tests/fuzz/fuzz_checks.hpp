// Shared by the fuzz targets: a failed check aborts (libFuzzer reports it with the input), and the
// printable-ASCII test every error message must pass.
#pragma once

#include <cstdlib>
#include <string_view>

namespace cbtrade::fuzz {

inline void check(bool ok) {
    if (!ok) std::abort();
}

inline bool printable(std::string_view s) {
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f) return false;
    }
    return true;
}

}  // namespace cbtrade::fuzz
