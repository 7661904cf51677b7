// libFuzzer target for the API key readers (exec/api_key: the key JSON Coinbase hands out; exec/jwt:
// the private key text, PEM SEC1 / PKCS#8 or base64 Ed25519, parsed with wolfCrypt), the bytes of
// COINBASE_API_PRIVATE_KEY or COINBASE_API_PRIVATE_KEY_FILE.
//
// Byte 0 picks the reader (even: key text with a fixed name; odd: key JSON, then its key text under
// its name), the rest is the input. Checked on every input: no crash, UB or leak; a refusal is a
// ConfigError of one printable line of bounded length that never quotes the key: no run of 16 or
// more base64 characters from the input's non-PEM-armour lines appears in it (messages name the
// origin, a PEM label, a length or an offset only); an accepted key signs REST and WebSocket tokens
// of three unpadded base64url parts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "exec/api_key.hpp"
#include "exec/jwt.hpp"

namespace {

using namespace cbtrade;

void check(bool ok) {
    if (!ok) std::abort();
}

bool base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// No 16-character window of a base64 run in the input's body lines (those without "-----", which
// hold PEM labels the messages may name) appears in `message`; PEM labels on other lines are named
// only when they are capital letters and spaces.
void check_no_key_text(std::string_view input, const std::string& message) {
    constexpr std::size_t window = 16;
    std::size_t line_start = 0;
    while (line_start <= input.size()) {
        std::size_t line_end = input.find('\n', line_start);
        if (line_end == std::string_view::npos) line_end = input.size();
        const std::string_view line = input.substr(line_start, line_end - line_start);
        if (line.find("-----") == std::string_view::npos) {
            std::size_t run = 0;
            for (std::size_t i = 0; i < line.size(); ++i) {
                run = base64_char(line[i]) ? run + 1 : 0;
                if (run < window) continue;
                const std::string_view w = line.substr(i + 1 - window, window);
                // Capital letters only may be a PEM label the message names ("PRIVATE KEY" repeated);
                // a window of real key text is that with odds of (26/64)^16.
                if (w.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string_view::npos) continue;
                check(message.find(w) == std::string::npos);
            }
        }
        line_start = line_end + 1;
    }
}

void check_refusal(std::string_view input, const std::exception& e) {
    const std::string m = e.what();
    check(!m.empty() && m.size() <= 512);
    for (const char ch : m) {
        const auto c = static_cast<unsigned char>(ch);
        check(c >= 0x20 && c < 0x7f);
    }
    check_no_key_text(input, m);
}

// JWS compact form: three unpadded base64url parts.
void check_token(const std::string& token) {
    check(token.size() < 4096);
    std::size_t dots = 0;
    for (const char c : token) {
        if (c == '.') ++dots;
        else check((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
    }
    check(dots == 2);
}

void sign_with(const std::string& name, std::string_view key_text, std::string_view input) {
    try {
        JwtSigner signer(name, key_text, "fuzz");
        check(signer.key_name() == name);
        check_token(signer.rest_jwt("POST", "api.coinbase.com", "/api/v3/brokerage/orders", 1'736'949'787));
        check_token(signer.ws_jwt(1'736'949'787));
    } catch (const ConfigError& e) {
        check_refusal(input, e);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        sign_with("organizations/0a1b/apiKeys/9f8e", input, input);
        return 0;
    }
    try {
        const ApiKeyText key = parse_key_json(input, "fuzz");
        check(!key.name.empty());
        sign_with(key.name, key.private_key, key.private_key);
    } catch (const ConfigError& e) {
        check_refusal(input, e);
    }
    return 0;
}
