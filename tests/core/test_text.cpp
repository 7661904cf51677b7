// core/text: quoted outside text is one short line of printable ASCII, whatever the input.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/text.hpp"

namespace cbtrade {
namespace {

TEST(QuoteForMessage, plain_text_is_quoted_as_is) {
    EXPECT_EQ(quote_for_message("wss://example.com:99999"), "'wss://example.com:99999'");
    EXPECT_EQ(quote_for_message(""), "''");
}

TEST(QuoteForMessage, control_bytes_and_escapes_never_reach_the_terminal_raw) {
    EXPECT_EQ(quote_for_message("a\nb\r\tc"), "'a\\nb\\r\\tc'");
    EXPECT_EQ(quote_for_message(std::string("x\0y", 3)), "'x\\x00y'");
    EXPECT_EQ(quote_for_message("\x1b[31mred"), "'\\x1b[31mred'");
    EXPECT_EQ(quote_for_message("it's a\\b"), "'it\\'s a\\\\b'");
    EXPECT_EQ(quote_for_message("\xc3\xa9\x7f"), "'\\xc3\\xa9\\x7f'");
}

TEST(QuoteForMessage, long_input_is_cut_and_its_size_named) {
    const std::string big(1 << 20, 'A');
    const std::string q = quote_for_message(big, 8);
    EXPECT_EQ(q, "'AAAAAAAA'... (1048576 bytes)");
    EXPECT_LT(quote_for_message(big).size(), 100u);
}

TEST(QuoteForMessage, output_is_printable_ascii_for_every_byte) {
    std::string all;
    for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
    const std::string q = quote_for_message(all, all.size());
    for (const char ch : q) {
        const auto c = static_cast<unsigned char>(ch);
        EXPECT_TRUE(c >= 0x20 && c < 0x7f) << int(c);
    }
}

TEST(EscapeForMessage, names_are_escaped_and_cut_without_quotes) {
    EXPECT_EQ(escape_for_message("data/b.csv"), "data/b.csv");
    EXPECT_EQ(escape_for_message("a\nb\x1b[2J"), "a\\nb\\x1b[2J");
    const std::string long_name(1000, 'p');
    EXPECT_EQ(escape_for_message(long_name), std::string(default_name_bytes, 'p') + "... (1000 bytes)");
}

TEST(QuoteForMessageInto, matches_the_allocating_form_when_it_fits) {
    char buf[256];
    for (const std::string& t : {std::string("plain"), std::string("a\nb\x1b[2J\0z", 9), std::string(1000, 'q')}) {
        EXPECT_EQ(quote_for_message_into(buf, t), quote_for_message(t)) << t.substr(0, 20);
        EXPECT_EQ(buf[quote_for_message(t).size()], '\0');
    }
}

TEST(QuoteForMessageInto, a_small_buffer_shows_less_but_stays_quoted_and_never_splits_an_escape) {
    char buf[16];
    const std::string_view q = quote_for_message_into(buf, "\x1b\x1b\x1b\x1b\x1b");
    EXPECT_EQ(q, "'\\x1b\\x1b\\x1b'");  // 3 escapes fit before the closing quote
    char tiny[4];
    EXPECT_EQ(quote_for_message_into(tiny, "abcdef"), "'a'");
    char none[1];
    EXPECT_EQ(quote_for_message_into(none, "abc"), "");
}

}  // namespace
}  // namespace cbtrade

namespace cbtrade {
namespace {

TEST(AsciiCase, folds_only_ascii_letters) {
    EXPECT_EQ(ascii_lower('A'), 'a');
    EXPECT_EQ(ascii_lower('z'), 'z');
    EXPECT_EQ(ascii_lower('['), '[');
    EXPECT_EQ(ascii_lower('\xc3'), '\xc3');
    EXPECT_TRUE(ascii_iequals("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(ascii_iequals("Content-Length", "Content-Lengt"));
    EXPECT_FALSE(ascii_iequals("\xc3\x89", "\xc3\xa9")) << "no Unicode folding";
    EXPECT_TRUE(ascii_iequals("", ""));
}

TEST(AsciiCase, find_ignores_case_and_says_npos_when_absent) {
    EXPECT_EQ(ascii_ifind("<HTML><Title>x</TITLE>", "<title>"), 6u);
    EXPECT_EQ(ascii_ifind("abc", "abcd"), std::string_view::npos);
    EXPECT_EQ(ascii_ifind("abc", "x"), std::string_view::npos);
    EXPECT_EQ(ascii_ifind("abc", ""), 0u);
    EXPECT_EQ(ascii_ifind("", "a"), std::string_view::npos);
}

TEST(FormatInto, formats_and_cuts_to_the_buffer_always_terminated) {
    char buf[16];
    std::memset(buf, 'z', sizeof buf);
    format_into(buf, "port %u on %s", 443u, "localhost.example");
    EXPECT_STREQ(buf, "port 443 on loc");
    format_into(std::span<char>(buf, 4), "%d", 12345);
    EXPECT_STREQ(buf, "123");
    format_into(std::span<char>(buf, 0), "%s", "untouched");  // an empty buffer is left alone
    EXPECT_STREQ(buf, "123");
}

}  // namespace
}  // namespace cbtrade
