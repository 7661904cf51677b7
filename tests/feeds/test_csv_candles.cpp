#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "feeds/csv_candles.hpp"
#include "feeds/synthetic_market.hpp"

namespace cbtrade {
namespace {

std::string error_of(const std::string& text, const CsvOptions& opts = {}) {
    try {
        (void)parse_candles_csv(text, "c.csv", opts);
    } catch (const CsvError& e) {
        return e.what();
    }
    return {};
}

const std::string header = "time,open,high,low,close,volume\n";

TEST(CsvCandles, reads_the_project_layout) {
    const auto r = parse_candles_csv(header + "1700000000,10,12,9,11,5.5\n1700000060,11,11.5,10.5,11.2,1\n", "a.csv");
    ASSERT_EQ(r.candles.size(), 2u);
    const Candle& c = r.candles[0];
    EXPECT_EQ(c.time_s, 1700000000);
    EXPECT_EQ(c.open, 10);
    EXPECT_EQ(c.high, 12);
    EXPECT_EQ(c.low, 9);
    EXPECT_EQ(c.close, 11);
    EXPECT_EQ(c.volume, 5.5);
    EXPECT_EQ(r.step_s, 60);
}

TEST(CsvCandles, reads_coinbase_column_order_and_rfc3339_times_with_crlf) {
    const auto r = parse_candles_csv(
        "start,low,high,open,close,volume\r\n"
        "2024-04-04T00:00:00Z,9,12,10,11,5\r\n"
        "2024-04-04T00:01:00.250Z,10,13,11,12,6\r\n",
        "cb.csv");
    ASSERT_EQ(r.candles.size(), 2u);
    EXPECT_EQ(r.candles[0].time_s, 1712188800);
    EXPECT_EQ(r.candles[0].low, 9);
    EXPECT_EQ(r.candles[0].high, 12);
    EXPECT_EQ(r.candles[0].open, 10);
    EXPECT_EQ(r.candles[1].time_s, 1712188860);
}

TEST(CsvCandles, each_bad_input_names_file_line_and_problem) {
    struct Case {
        std::string text;
        const char* want;
    };
    const Case cases[] = {
        {"", "c.csv: file is empty"},
        {header, "c.csv: no candle rows"},
        {"time,open,high,low,close\n1,1,1,1,1\n", "c.csv:1: header lacks column 'volume'"},
        {"time,open,high,low,close,volume,extra\n", "c.csv:1: unknown column 'extra'"},
        {"time,open,open,low,close,volume\n", "c.csv:1: column 'open' appears twice"},
        {header + "1,10,12,9,11\n", "c.csv:2: too few columns"},
        {header + "1,10,12,9,11,5,7\n", "c.csv:2: too many columns"},
        {header + "1,10,12,9,11,5\n2,ten,12,9,11,5\n", "c.csv:3: a price or volume is not a number"},
        {header + "1,nan,12,9,11,5\n", "c.csv:2: NaN or infinite value"},
        {header + "1,0,12,0,11,5\n", "c.csv:2: non-positive price"},
        {header + "1,-10,12,9,11,5\n", "c.csv:2: non-positive price"},
        {header + "1,10,9,12,11,5\n", "c.csv:2: high < low"},
        {header + "1,13,12,9,11,5\n", "c.csv:2: open or close outside [low, high]"},
        {header + "1,10,12,9,11,-5\n", "c.csv:2: negative volume"},
        {header + "1,10,12,9,11,5\n1,10,12,9,11,5\n", "c.csv:3: duplicate timestamp 1"},
        {header + "5,10,12,9,11,5\n4,10,12,9,11,5\n", "c.csv:3: timestamp 4 goes backwards"},
        {header + "yesterday,10,12,9,11,5\n", "c.csv:2: time is neither UNIX seconds nor RFC 3339"},
        {header + "2024-02-30T00:00:00Z,10,12,9,11,5\n", "c.csv:2: time is neither UNIX seconds nor RFC 3339"},
        {header + "1,10,12,9,11,5\n\n3,10,12,9,11\n", "c.csv:4: too few columns"},
        // Issue 9 item 5: numbers that parse but are not prices or sizes.
        {header + "1,1e300,1e300,1e300,1e300,5\n", "c.csv:2: price outside the sane range 1e-9 to 1e9"},
        {header + "1,1e-300,1e-300,1e-300,1e-300,5\n", "c.csv:2: price outside the sane range"},
        {header + "1,10,1e10,9,11,5\n", "c.csv:2: price outside the sane range"},
        {header + "1,10,12,9,11," + std::string(60, '9') + "\n", "c.csv:2: volume outside the sane range"},
        {header + "1,10,12,9,11,1e-300\n", "c.csv:2: volume outside the sane range"},
    };
    for (const auto& c : cases) {
        const std::string err = error_of(c.text);
        EXPECT_NE(err.find(c.want), std::string::npos) << "input:\n" << c.text << "\ngot: " << err;
    }
}

TEST(CsvCandles, flat_candle_with_zero_volume_is_kept) {
    EXPECT_EQ(parse_candles_csv(header + "1,10,10,10,10,0\n", "z.csv").candles.size(), 1u);
}

TEST(CsvCandles, absurd_prices_are_skipped_and_counted_with_skip_bad_rows) {
    const auto r = parse_candles_csv(header + "1,10,12,9,11,5\n2,1e300,1e300,1e300,1e300,5\n3,10,12,9,11,5\n", "a.csv",
                                     {.skip_bad_rows = true});
    EXPECT_EQ(r.candles.size(), 2u);
    EXPECT_EQ(r.skipped_rows, 1u);
    ASSERT_EQ(r.skip_examples.size(), 1u);
    EXPECT_EQ(r.skip_examples[0], "a.csv:3: price outside the sane range 1e-9 to 1e9");
}

// Issue 9 item 7: what the header held comes back short and escaped, and a huge first line is
// refused without being echoed.
TEST(CsvCandles, header_errors_quote_short_and_escaped) {
    using namespace std::string_literals;  // the NUL inside the header is part of the input
    std::string err = error_of("time,open,high,low,close,vol\x1b[2J\0ume\n1,1,1,1,1,1\n"s);
    EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
    EXPECT_EQ(err.find('\0'), std::string::npos) << err;
    EXPECT_NE(err.find("c.csv:1: unknown column 'vol\\x1b[2j"), std::string::npos) << err;
    const std::string wide_column(5000, 'w');
    err = error_of("time,open,high,low,close," + wide_column + "\n");
    EXPECT_EQ(err, "c.csv:1: header line is 5025 bytes, over the 1024-byte limit (is this a candle CSV?)");
    err = error_of(std::string(50u << 20, 'h'));  // the 50 MB header line
    EXPECT_LT(err.size(), 200u);
    err = error_of("time,open,high,low,close,volume," + std::string(900, 'v') + "\n");
    EXPECT_LT(err.size(), 200u) << err;
    try {
        (void)parse_candles_csv("", "dir/a\nb.csv");
    } catch (const CsvError& e) {
        EXPECT_EQ(std::string(e.what()), "dir/a\\nb.csv: file is empty");
    }
}

TEST(CsvCandles, skip_bad_rows_counts_and_keeps_the_good_ones) {
    const std::string text = header + "1,10,12,9,11,5\n2,10,9,12,11,5\n2,10,12,9,11\n3,10,12,9,11,5\n3,10,12,9,11,5\n";
    const auto r = parse_candles_csv(text, "s.csv", {.skip_bad_rows = true});
    EXPECT_EQ(r.candles.size(), 2u);
    EXPECT_EQ(r.skipped_rows, 3u);
    ASSERT_EQ(r.skip_examples.size(), 3u);
    EXPECT_NE(r.skip_examples[0].find("s.csv:3: high < low"), std::string::npos);
    EXPECT_NE(error_of(header + "1,x,1,1,1,1\n", {.skip_bad_rows = true}).find("all 1 were bad"), std::string::npos);
}

TEST(CsvCandles, counts_time_gaps) {
    const auto r =
        parse_candles_csv(header + "0,1,1,1,1,1\n60,1,1,1,1,1\n120,1,1,1,1,1\n300,1,1,1,1,1\n360,1,1,1,1,1\n", "g.csv");
    EXPECT_EQ(r.step_s, 60);
    EXPECT_EQ(r.time_gaps, 1u);
}

TEST(CsvCandles, generated_file_round_trips) {
    const auto candles = SyntheticMarket({.seed = 77}).take(5000);
    std::string text = candles_csv_header();
    for (const auto& c : candles) append_candle_csv(text, c);
    const std::string path = ::testing::TempDir() + "cbtrade_roundtrip.csv";
    std::ofstream(path, std::ios::binary) << text;
    const auto r = read_candles_csv(path);
    ASSERT_EQ(r.candles.size(), candles.size());
    for (std::size_t i = 0; i < candles.size(); ++i) {
        ASSERT_EQ(r.candles[i].time_s, candles[i].time_s);
        ASSERT_DOUBLE_EQ(r.candles[i].close, candles[i].close);
        ASSERT_DOUBLE_EQ(r.candles[i].volume, candles[i].volume);
    }
}

// A file several read blocks long (1 MiB each), with a bad row and CRLF endings: reading it from disk
// gives what parsing the whole text gives, rows cut at block edges included.
TEST(CsvCandles, file_read_in_blocks_equals_the_whole_text_parsed) {
    const auto candles = SyntheticMarket({.seed = 5}).take(60000);
    std::string text = "time,open,high,low,close,volume\r\n";
    for (std::size_t i = 0; i < candles.size(); ++i) {
        std::string row;
        append_candle_csv(row, candles[i]);
        row.pop_back();
        row += "\r\n";
        text += i == 33333 ? "1,2,3\r\n" : row;
    }
    ASSERT_GT(text.size(), std::size_t{3} << 20);
    const std::string path = ::testing::TempDir() + "cbtrade_blocks.csv";
    std::ofstream(path, std::ios::binary) << text;
    const CsvOptions skip{.skip_bad_rows = true};
    const auto from_file = read_candles_csv(path, skip);
    const auto from_text = parse_candles_csv(text, path, skip);
    ASSERT_EQ(from_file.candles.size(), candles.size() - 1);
    ASSERT_EQ(from_file.candles.size(), from_text.candles.size());
    EXPECT_EQ(
        std::memcmp(from_file.candles.data(), from_text.candles.data(), from_file.candles.size() * sizeof(Candle)), 0);
    EXPECT_EQ(from_file.skipped_rows, 1u);
    EXPECT_EQ(from_file.skip_examples, from_text.skip_examples);
    EXPECT_NE(from_file.skip_examples.at(0).find(":33335: "), std::string::npos) << from_file.skip_examples.at(0);
    EXPECT_EQ(from_file.step_s, from_text.step_s);
    EXPECT_EQ(from_file.time_gaps, from_text.time_gaps);
    std::remove(path.c_str());
}

TEST(CsvCandles, exact_rows_read_back_as_the_same_doubles_for_any_price) {
    // A sub-cent token, a six-figure price, volumes with 8 decimals and one that is not a short decimal.
    const std::vector<Candle> candles = {
        {1700000000, 0.00001234, 0.00001301, 0.00001201, 0.0000125, 123456789.12345678},
        {1700000060, 97012.35, 108268.45, 0.01, 66181.6, 355.82896243},
        {1700000120, 1.0 / 3.0, 2.0 / 3.0, 0.1, 0.2, 1e-8}};
    std::string text = candles_csv_header();
    for (const auto& c : candles) append_candle_csv_exact(text, c);
    EXPECT_NE(text.find("1700000000,0.00001234,0.00001301,0.00001201,0.0000125,123456789.12345678\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find('e', candles_csv_header().size()), std::string::npos) << "fixed notation only";
    const auto r = parse_candles_csv(text, "exact.csv");
    ASSERT_EQ(r.candles.size(), candles.size());
    for (std::size_t i = 0; i < candles.size(); ++i) {
        EXPECT_EQ(r.candles[i].open, candles[i].open);
        EXPECT_EQ(r.candles[i].high, candles[i].high);
        EXPECT_EQ(r.candles[i].low, candles[i].low);
        EXPECT_EQ(r.candles[i].close, candles[i].close);
        EXPECT_EQ(r.candles[i].volume, candles[i].volume);
    }
}

TEST(CsvCandles, missing_file_names_the_path) {
    try {
        (void)read_candles_csv("/nonexistent/x.csv");
        FAIL();
    } catch (const CsvError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/x.csv: CSV file cannot be read"), std::string::npos)
            << e.what();
    }
}

// Issue 9 items 1-2: the reader never maps the file and never waits on a FIFO.
TEST(CsvCandles, fifo_and_directory_are_clear_errors_not_hangs) {
    ::alarm(20);
    char tmpl[] = "/tmp/cbtrade-csv-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    const std::string fifo = dir + "/p.csv";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_THROW(
        {
            try {
                (void)read_candles_csv(fifo);
            } catch (const CsvError& e) {
                EXPECT_EQ(std::string(e.what()), fifo + ": CSV file is a FIFO (named pipe), not a regular file");
                throw;
            }
        },
        CsvError);
    EXPECT_THROW((void)read_candles_csv(dir), CsvError);
    ::unlink(fifo.c_str());
    ::rmdir(dir.c_str());
    ::alarm(0);
}

TEST(SyntheticMarket, candles_are_valid_and_seeded) {
    const auto a = SyntheticMarket({.seed = 3}).take(20000);
    const auto b = SyntheticMarket({.seed = 3}).take(20000);
    const auto c = SyntheticMarket({.seed = 4}).take(20000);
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(Candle)));
    EXPECT_NE(0, std::memcmp(a.data(), c.data(), a.size() * sizeof(Candle)));
    for (std::size_t i = 0; i < a.size(); ++i) {
        ASSERT_GT(a[i].low, 0);
        ASSERT_LE(a[i].low, std::min(a[i].open, a[i].close));
        ASSERT_GE(a[i].high, std::max(a[i].open, a[i].close));
        ASSERT_GT(a[i].volume, 0);
        if (i) {
            ASSERT_EQ(a[i].time_s - a[i - 1].time_s, 60);
        }
    }
}

}  // namespace
}  // namespace cbtrade
