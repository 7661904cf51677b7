// core/base64: RFC 4648 base64 in its two alphabets, the one copy the project uses.
//
//   standard: section 4, "+/" with '=' padding (WebSocket handshake keys, PEM bodies, Basic auth).
//   url:      section 5, "-_" without padding: base64url as RFC 7515 (JWS/JWT) requires.
//
// Decoding is strict, because what it reads comes from outside (keys in env files, tokens): a
// character outside the alphabet, whitespace, padding in the wrong place or missing, a length no
// encoder produces, or non-zero bits in the last character's unused part (RFC 4648 section 3.5:
// a second spelling of the same bytes) are refused with the offset of the first bad character.
// The error never quotes the input: it may be a secret.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cbtrade {

enum class Base64Alphabet : std::uint8_t {
    standard,  // "+/", padded with '='
    url,       // "-_", no padding (base64url, RFC 7515 section 2)
};

// Characters base64_encode() writes for `bytes` input bytes.
[[nodiscard]] constexpr std::size_t base64_encoded_size(std::size_t bytes, Base64Alphabet alphabet) noexcept {
    return alphabet == Base64Alphabet::standard ? (bytes + 2) / 3 * 4
                                                : bytes / 3 * 4 + (bytes % 3 == 0 ? 0 : bytes % 3 + 1);
}

[[nodiscard]] std::string base64_encode(std::span<const std::uint8_t> bytes,
                                        Base64Alphabet alphabet = Base64Alphabet::standard);
[[nodiscard]] std::string base64_encode(std::string_view bytes, Base64Alphabet alphabet = Base64Alphabet::standard);
// Writes base64_encoded_size() characters into `out` (no allocation); returns that count, or 0 when
// `out` is too small (and the input is not empty).
[[nodiscard]] std::size_t base64_encode_to(std::span<const std::uint8_t> bytes, std::span<char> out,
                                           Base64Alphabet alphabet = Base64Alphabet::standard) noexcept;

enum class Base64Error : std::uint8_t {
    none,
    bad_character,  // not in the alphabet (whitespace, the other alphabet's "+/" or "-_", ...)
    bad_padding,    // '=' where it cannot be, missing '=' (standard), any '=' (url)
    bad_length,     // a length no encoder produces (one character left over)
    non_canonical,  // the last character has bits set that encode nothing
};
[[nodiscard]] std::string_view to_string(Base64Error error) noexcept;

struct Base64Decoded {
    std::string bytes;  // the decoded bytes when ok()
    Base64Error error = Base64Error::none;
    std::size_t offset = 0;  // where in the text the error was found
    [[nodiscard]] bool ok() const noexcept { return error == Base64Error::none; }
};

[[nodiscard]] Base64Decoded base64_decode(std::string_view text, Base64Alphabet alphabet = Base64Alphabet::standard);

}  // namespace cbtrade
