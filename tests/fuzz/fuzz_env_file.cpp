// libFuzzer target for the env-file reader (core/config: parse_env_text, then every key's
// validation through apply_entries), with the size limit in place: inputs over max_env_file_bytes
// are what read_whole_file refuses before parsing, so they are not parsed here either.
// Checked on every input: no crash or UB, and every error and warning is one line of printable
// ASCII of bounded length (quoted input is cut and escaped, a syntax error never shows the line).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/config.hpp"

namespace {

void check_message(const std::string& m) {
    if (m.size() > 1024) std::abort();  // one key + a 64-byte quote + what is accepted
    for (const char ch : m) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f) std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > cbtrade::max_env_file_bytes) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const cbtrade::ConfigEntries entries = cbtrade::parse_env_text(text, "fuzz.env");
        const cbtrade::LoadedConfig lc = cbtrade::apply_entries(entries);
        for (const auto& w : lc.warnings) check_message(w);
    } catch (const cbtrade::ConfigError& e) {
        check_message(e.what());
    }
    return 0;
}
