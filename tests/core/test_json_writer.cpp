// core/json_writer: escaping, nesting, layout and misuse, for every JSON the project writes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/json_writer.hpp"

namespace cbtrade {
namespace {

TEST(JsonWriter, escapes_quotes_backslashes_and_control_characters) {
    std::string out;
    append_json_string(out, std::string("a\"b\\c\nd\te\x01\x1f\x7f", 12) + std::string(1, '\0') + "\xc3\xa9");
    EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f\\u007f\\u0000\xc3\xa9\"");
}

TEST(JsonWriter, product_ids_from_outside_cannot_break_out_of_their_string) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().member("type", "subscribe").key("product_ids").begin_array();
    w.string("BTC-USD\"],\"channel\":\"user").end_array().end_object();
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(out, R"({"type":"subscribe","product_ids":["BTC-USD\"],\"channel\":\"user"]})");
}

TEST(JsonWriter, compact_nesting_with_every_value_kind) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.member("i", -3).member("u", std::uint64_t{18446744073709551615u}).member("d", 0.1).member("b", true);
    w.key("n").null().key("f").fixed(97012.345, 2).key("nan").number(std::nan("")).key("inf").fixed(HUGE_VAL, 2);
    w.key("a").begin_array().number(1).begin_object().end_object().begin_array().end_array().end_array();
    w.end_object();
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(out, R"({"i":-3,"u":18446744073709551615,"d":0.1,"b":true,"n":null,"f":97012.35,"nan":null,)"
                   R"("inf":null,"a":[1,{},[]]})");
}

TEST(JsonWriter, pretty_layout_puts_one_member_per_line) {
    std::string out;
    JsonWriter w(out, 2);
    w.begin_object().member("a", 1).key("b").begin_array().number(2).number(3).end_array().key("c").begin_object();
    w.end_object().end_object();
    EXPECT_EQ(out, "{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ],\n  \"c\": {}\n}");
}

TEST(JsonWriter, misuse_is_reported_by_complete_not_thrown) {
    {
        std::string out;
        JsonWriter w(out);
        w.begin_object().member("a", 1);
        EXPECT_FALSE(w.complete()) << "object left open";
    }
    {
        std::string out;
        JsonWriter w(out);
        w.begin_array().key("x").number(1).end_array();
        EXPECT_FALSE(w.complete()) << "key inside an array";
    }
    {
        std::string out;
        JsonWriter w(out);
        w.begin_object().key("a").end_object();
        EXPECT_FALSE(w.complete()) << "key without a value";
    }
    {
        std::string out;
        JsonWriter w(out);
        for (int i = 0; i < 40; ++i) w.begin_array();
        for (int i = 0; i < 40; ++i) w.end_array();
        EXPECT_FALSE(w.complete()) << "deeper than max_depth";
    }
    {
        std::string out;
        JsonWriter w(out);
        w.number(1).number(2);
        EXPECT_FALSE(w.complete()) << "two top-level values";
    }
}

TEST(JsonWriter, doubles_round_trip_exactly) {
    for (const double v : {0.1, 1e-300, 97012.35, 1.0 / 3, -0.0, std::numeric_limits<double>::max()}) {
        std::string out;
        JsonWriter(out).number(v);
        EXPECT_EQ(std::stod(out), v) << out;
    }
}

}  // namespace
}  // namespace cbtrade
