// core/base64: RFC 4648 test vectors in both alphabets, and the strict decoder's refusals.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base64.hpp"
#include "core/random.hpp"

namespace cbtrade {
namespace {

struct Vector {
    std::string_view bytes;
    std::string_view standard;
    std::string_view url;
};

// RFC 4648 section 10, plus bytes whose encodings differ between the alphabets.
constexpr std::array<Vector, 10> vectors{{
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    {"\xfb\xff", "+/8=", "-_8"},
    {"\xff\xff\xfe", "///+", "___-"},
    {"{\"alg\":\"ES256\"}", "eyJhbGciOiJFUzI1NiJ9", "eyJhbGciOiJFUzI1NiJ9"},  // a JWT header
}};

TEST(Base64, encodes_rfc4648_vectors_in_both_alphabets) {
    for (const auto& v : vectors) {
        EXPECT_EQ(base64_encode(v.bytes), v.standard) << v.standard;
        EXPECT_EQ(base64_encode(v.bytes, Base64Alphabet::url), v.url) << v.url;
        EXPECT_EQ(base64_encoded_size(v.bytes.size(), Base64Alphabet::standard), v.standard.size());
        EXPECT_EQ(base64_encoded_size(v.bytes.size(), Base64Alphabet::url), v.url.size());
    }
}

TEST(Base64, decodes_rfc4648_vectors_in_both_alphabets) {
    for (const auto& v : vectors) {
        const Base64Decoded s = base64_decode(v.standard);
        ASSERT_TRUE(s.ok()) << v.standard << ": " << to_string(s.error);
        EXPECT_EQ(s.bytes, v.bytes);
        const Base64Decoded u = base64_decode(v.url, Base64Alphabet::url);
        ASSERT_TRUE(u.ok()) << v.url << ": " << to_string(u.error);
        EXPECT_EQ(u.bytes, v.bytes);
    }
}

TEST(Base64, random_bytes_round_trip_in_both_alphabets) {
    SplitMix64 random(7);
    for (std::size_t size = 0; size < 70; ++size) {
        std::string bytes(size, '\0');
        for (auto& b : bytes) b = static_cast<char>(random.next());
        for (const auto alphabet : {Base64Alphabet::standard, Base64Alphabet::url}) {
            const std::string text = base64_encode(bytes, alphabet);
            const Base64Decoded back = base64_decode(text, alphabet);
            ASSERT_TRUE(back.ok()) << text;
            EXPECT_EQ(back.bytes, bytes) << text;
        }
    }
}

TEST(Base64, encode_to_writes_into_the_callers_buffer_and_refuses_a_short_one) {
    const std::string_view input = "fooba";
    const std::span bytes(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    std::array<char, 8> out{};
    ASSERT_EQ(base64_encode_to(bytes, out), 8u);
    EXPECT_EQ(std::string_view(out.data(), 8), "Zm9vYmE=");
    EXPECT_EQ(base64_encode_to(bytes, std::span(out).first(7)), 0u);
    EXPECT_EQ(base64_encode_to(bytes, std::span(out).first(7), Base64Alphabet::url), 7u);
    EXPECT_EQ(std::string_view(out.data(), 7), "Zm9vYmE");
}

struct Refusal {
    std::string_view text;
    Base64Alphabet alphabet;
    Base64Error error;
    std::size_t offset;
};

TEST(Base64, decoder_refuses_bad_characters_padding_lengths_and_second_spellings) {
    const std::vector<Refusal> refusals = {
        {"Zm9v YmFy", Base64Alphabet::standard, Base64Error::bad_character, 4},  // whitespace
        {"Zm9v\nYmFy", Base64Alphabet::standard, Base64Error::bad_character, 4},
        {"-_8=", Base64Alphabet::standard, Base64Error::bad_character, 0},  // the url alphabet
        {"+/8", Base64Alphabet::url, Base64Error::bad_character, 0},        // the standard alphabet
        {"Zm9v\xc3\xa9", Base64Alphabet::standard, Base64Error::bad_character, 4},
        {"Zg", Base64Alphabet::standard, Base64Error::bad_padding, 2},     // padding missing
        {"Zg=", Base64Alphabet::standard, Base64Error::bad_padding, 3},    // half the padding
        {"Zg===", Base64Alphabet::standard, Base64Error::bad_padding, 4},  // too much
        {"Zm9v=", Base64Alphabet::standard, Base64Error::bad_padding, 4},
        {"Zg==Zg==", Base64Alphabet::standard, Base64Error::bad_padding, 4},  // data after padding
        {"=Zg=", Base64Alphabet::standard, Base64Error::bad_padding, 1},
        {"Zg==", Base64Alphabet::url, Base64Error::bad_padding, 2},  // base64url has none
        {"Z===", Base64Alphabet::standard, Base64Error::bad_length, 0},
        {"Zm9vY", Base64Alphabet::url, Base64Error::bad_length, 4},
        {"Zh==", Base64Alphabet::standard, Base64Error::non_canonical, 1},  // "f" spelled twice
        {"Zm9=", Base64Alphabet::standard, Base64Error::non_canonical, 2},
        {"Zm9", Base64Alphabet::url, Base64Error::non_canonical, 2},
    };
    for (const auto& r : refusals) {
        const Base64Decoded d = base64_decode(r.text, r.alphabet);
        EXPECT_EQ(d.error, r.error) << r.text << ": " << to_string(d.error);
        EXPECT_EQ(d.offset, r.offset) << r.text;
        EXPECT_TRUE(d.bytes.empty()) << r.text;
    }
}

}  // namespace
}  // namespace cbtrade
