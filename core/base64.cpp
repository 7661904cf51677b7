// RFC 4648 base64, standard and URL-safe alphabets. See base64.hpp.
#include "core/base64.hpp"

#include <array>

namespace cbtrade {

namespace {

constexpr std::string_view standard_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::uint8_t not_base64 = 0xff;

constexpr std::array<std::uint8_t, 256> decode_table(std::string_view chars) {
    std::array<std::uint8_t, 256> table{};
    for (auto& v : table) v = not_base64;
    for (std::size_t i = 0; i < chars.size(); ++i)
        table[static_cast<unsigned char>(chars[i])] = static_cast<std::uint8_t>(i);
    return table;
}
constexpr auto standard_table = decode_table(standard_chars);
constexpr auto url_table = decode_table(url_chars);

}  // namespace

std::string_view to_string(Base64Error error) noexcept {
    switch (error) {
        case Base64Error::none:
            return "ok";
        case Base64Error::bad_character:
            return "character outside the base64 alphabet";
        case Base64Error::bad_padding:
            return "bad '=' padding";
        case Base64Error::bad_length:
            return "length is not a whole base64 encoding";
        case Base64Error::non_canonical:
            return "unused bits set in the last character";
    }
    return "unknown base64 error";
}

std::size_t base64_encode_to(std::span<const std::uint8_t> bytes, std::span<char> out,
                             Base64Alphabet alphabet) noexcept {
    const std::size_t size = base64_encoded_size(bytes.size(), alphabet);
    if (out.size() < size) return 0;
    const std::string_view chars = alphabet == Base64Alphabet::standard ? standard_chars : url_chars;
    char* o = out.data();
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
        *o++ = chars[(v >> 18) & 63];
        *o++ = chars[(v >> 12) & 63];
        *o++ = chars[(v >> 6) & 63];
        *o++ = chars[v & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 0) return size;
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (rest == 2 ? std::uint32_t{bytes[i + 1]} << 8 : 0);
    *o++ = chars[(v >> 18) & 63];
    *o++ = chars[(v >> 12) & 63];
    if (rest == 2) *o++ = chars[(v >> 6) & 63];
    if (alphabet == Base64Alphabet::standard) {
        *o++ = '=';
        if (rest == 1) *o++ = '=';
    }
    return size;
}

std::string base64_encode(std::span<const std::uint8_t> bytes, Base64Alphabet alphabet) {
    std::string out(base64_encoded_size(bytes.size(), alphabet), '\0');
    (void)base64_encode_to(bytes, out, alphabet);
    return out;
}

std::string base64_encode(std::string_view bytes, Base64Alphabet alphabet) {
    return base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), alphabet);
}

Base64Decoded base64_decode(std::string_view text, Base64Alphabet alphabet) {
    const bool padded = alphabet == Base64Alphabet::standard;
    const auto& table = padded ? standard_table : url_table;
    Base64Decoded result;
    auto fail = [&](Base64Error error, std::size_t offset) {
        result.bytes.clear();
        result.error = error;
        result.offset = offset;
        return result;
    };

    // Data characters end at the first '=' (standard only); everything after it must be padding.
    std::size_t data_chars = text.size();
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '=') {
            if (!padded) return fail(Base64Error::bad_padding, i);
            data_chars = i;
            break;
        }
        if (table[static_cast<unsigned char>(c)] == not_base64) return fail(Base64Error::bad_character, i);
    }
    if (padded) {
        for (std::size_t i = data_chars; i < text.size(); ++i)
            if (text[i] != '=') return fail(Base64Error::bad_padding, i);
        const std::size_t pads = text.size() - data_chars;
        const std::size_t want = (4 - data_chars % 4) % 4;
        if (data_chars % 4 == 1) return fail(Base64Error::bad_length, data_chars - 1);
        if (pads != want) return fail(Base64Error::bad_padding, data_chars + (pads < want ? pads : want));
    } else if (data_chars % 4 == 1) {
        return fail(Base64Error::bad_length, data_chars - 1);
    }
    // The last character of a partial group carries bits beyond the final byte: they must be zero.
    if (data_chars % 4 != 0) {
        const std::uint8_t last = table[static_cast<unsigned char>(text[data_chars - 1])];
        const std::uint8_t unused_mask = data_chars % 4 == 2 ? 0x0f : 0x03;
        if ((last & unused_mask) != 0) return fail(Base64Error::non_canonical, data_chars - 1);
    }

    result.bytes.resize(data_chars / 4 * 3 + (data_chars % 4 == 0 ? 0 : data_chars % 4 - 1));
    char* o = result.bytes.data();
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < data_chars; ++i) {
        acc = (acc << 6) | table[static_cast<unsigned char>(text[i])];
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return result;
}

}  // namespace cbtrade
