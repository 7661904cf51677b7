// Coinbase market_trades decoding: the pass/fail corpus under tests/data/coinbase/market_trades (every
// file must have an expectation here), exact Trade values, ordering, the per-message cap and the
// refusal counters.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/rfc3339.hpp"
#include "feeds/coinbase_decoder.hpp"
#include "tests/feeds/decoder_corpus.hpp"

namespace cbtrade {
namespace {

namespace fs = std::filesystem;
using testing::btc;
using testing::eth;
using testing::PaddedMessage;
using testing::read_file;
using testing::test_products;

using testing::CorpusExpectation;
using testing::decode_text;
using testing::Decoded;
using testing::delta;

const fs::path trades_dir = testing::corpus_dir / "market_trades";

Decoded decode_corpus(std::string_view subdir, std::string_view name) {
    return testing::decode_file(trades_dir / subdir / name);
}

Decoded decode_trades(CoinbaseDecoder& decoder, std::string_view text, std::size_t trade_capacity = 1024) {
    return decode_text(decoder, text, 16, testing::test_receive_tsc, trade_capacity);
}

std::int64_t ns(std::string_view rfc3339) {
    const std::optional<std::int64_t> v = parse_rfc3339_ns(rfc3339);
    EXPECT_TRUE(v.has_value()) << rfc3339;
    return v.value_or(0);
}

struct ExpectedTrade {
    std::uint16_t product_index;
    std::uint64_t trade_id;
    double price, size;
    std::string_view time;
    std::uint8_t side;
    std::uint8_t flags;
};

void expect_trade(const Trade& t, const ExpectedTrade& want) {
    SCOPED_TRACE("trade " + std::to_string(want.trade_id));
    EXPECT_EQ(t.product_index, want.product_index);
    EXPECT_EQ(t.trade_id, want.trade_id);
    EXPECT_EQ(t.price, want.price);
    EXPECT_EQ(t.size, want.size);
    EXPECT_EQ(t.exchange_time_ns, ns(want.time));
    EXPECT_EQ(t.taker_side, want.side);
    EXPECT_EQ(t.flags, want.flags);
    EXPECT_EQ(t.receive_tsc, testing::test_receive_tsc);
}

constexpr std::uint8_t buy = 1, sell = 2, unknown_side = 0;

// ---- the corpus: outcome of every file ---------------------------------------------------------

const std::map<std::string, CorpusExpectation>& pass_expectations() {
    constexpr auto ok = DecodeStatus::ok;
    constexpr auto mt = ChannelKind::market_trades;
    static const std::map<std::string, CorpusExpectation> table = {
        {"snapshot_newest_first.json", {ok, mt, 0, 0, nullptr, 3}},
        {"update_one_trade.json", {ok, mt, 0, 0, nullptr, 1}},
        {"two_events_two_products_pretty.json", {ok, mt, 0, 0, nullptr, 3}},
        {"trade_id_json_integer.json", {ok, mt, 0, 0, nullptr, 1}},
        {"unknown_product_among_known.json", {ok, mt, 0, 1, &DecoderCounters::unknown_product, 1}},
        {"snapshot_empty.json", {ok, mt, 0, 0, nullptr, 0}},
        {"unordered_times.json", {ok, mt, 0, 0, nullptr, 4}},
        {"side_missing_or_unknown.json", {ok, mt, 0, 0, nullptr, 2}},
        {"envelope_after_events.json", {ok, mt, 0, 0, nullptr, 1}},
        {"real_shape_ccxt_comment.json", {ok, mt, 0, 0, nullptr, 1}},
        {"trade_in_the_future_within_tolerance.json", {ok, mt, 0, 0, nullptr, 1}},
    };
    return table;
}

const std::map<std::string, CorpusExpectation>& fail_expectations() {
    constexpr auto ok = DecodeStatus::ok;
    constexpr auto mt = ChannelKind::market_trades;
    const CorpusExpectation bad_price{ok, mt, 0, 1, &DecoderCounters::trade_bad_price};
    const CorpusExpectation bad_size{ok, mt, 0, 1, &DecoderCounters::trade_bad_size};
    const CorpusExpectation bad_id{ok, mt, 0, 1, &DecoderCounters::trade_bad_id};
    const CorpusExpectation bad_time{ok, mt, 0, 1, &DecoderCounters::trade_bad_time};
    const CorpusExpectation missing{ok, mt, 0, 1, &DecoderCounters::missing_field};
    const CorpusExpectation malformed_in_trades{DecodeStatus::malformed_json, mt, 0, 0,
                                                &DecoderCounters::malformed_json};
    static const std::map<std::string, CorpusExpectation> table = {
        {"price_zero.json", bad_price},
        {"price_negative.json", bad_price},
        {"price_absurd.json", bad_price},
        {"price_below_sane.json", bad_price},
        {"price_json_number.json", bad_price},
        {"price_nan.json", bad_price},
        {"price_empty.json", bad_price},
        {"size_zero.json", bad_size},
        {"size_negative.json", bad_size},
        {"size_absurd.json", bad_size},
        {"size_below_sane.json", bad_size},
        {"size_non_numeric.json", bad_size},
        {"size_json_number.json", bad_size},
        {"trade_id_uuid.json", bad_id},
        {"trade_id_negative_integer.json", bad_id},
        {"trade_id_fraction.json", bad_id},
        {"trade_id_over_64_bits.json", bad_id},
        {"trade_id_empty.json", bad_id},
        {"time_month_13.json", bad_time},
        {"time_json_number.json", bad_time},
        {"time_far_future.json", bad_time},
        {"time_no_zone.json", bad_time},
        {"missing_time.json", missing},
        {"missing_size.json", missing},
        {"missing_price.json", missing},
        {"missing_trade_id.json", missing},
        {"missing_product_id.json", missing},
        {"unknown_product.json", {ok, mt, 0, 1, &DecoderCounters::unknown_product}},
        {"trades_not_array.json", malformed_in_trades},
        {"trade_not_object.json", malformed_in_trades},
        {"missing_timestamp.json", {DecodeStatus::missing_field, mt, 0, 0, &DecoderCounters::missing_field}},
        {"bad_timestamp.json", {DecodeStatus::bad_timestamp, mt, 0, 0, &DecoderCounters::bad_timestamp}},
        {"truncated.json", {DecodeStatus::malformed_json, ChannelKind::none, 0, 0, &DecoderCounters::malformed_json}},
        // simdjson's structural pass sees the unbalanced bracket before the channel is read.
        {"trailing_garbage.json",
         {DecodeStatus::malformed_json, ChannelKind::none, 0, 0, &DecoderCounters::malformed_json}},
    };
    return table;
}

void check_corpus(std::string_view subdir, const std::map<std::string, CorpusExpectation>& expectations) {
    testing::check_corpus_folder(trades_dir / subdir, expectations);
}

TEST(MarketTradesCorpus, every_pass_file_decodes_as_its_readme_says) {
    check_corpus("pass", pass_expectations());
}

TEST(MarketTradesCorpus, every_fail_file_is_counted_and_never_yields_a_trade) {
    check_corpus("fail", fail_expectations());
}

// ---- exact values of the pass corpus ----------------------------------------------------------

TEST(MarketTrades, snapshot_sent_newest_first_comes_out_oldest_first_flagged_snapshot) {
    const Decoded d = decode_corpus("pass", "snapshot_newest_first.json");
    ASSERT_EQ(d.trades.size(), 3u);
    expect_trade(d.trades[0],
                 {btc, 635541194, 97010.01, 1.5, "2025-01-15T14:02:59.999999Z", sell, trade_flag_snapshot});
    expect_trade(d.trades[1], {btc, 635541195, 97012.34, 0.25, "2025-01-15T14:03:06.5Z", buy, trade_flag_snapshot});
    expect_trade(d.trades[2],
                 {btc, 635541196, 97012.35, 0.0015, "2025-01-15T14:03:07.101Z", sell, trade_flag_snapshot});
    EXPECT_EQ(d.result.sequence_num, 2u);
}

TEST(MarketTrades, update_yields_one_exact_trade_without_flags) {
    const Decoded d = decode_corpus("pass", "update_one_trade.json");
    ASSERT_EQ(d.trades.size(), 1u);
    expect_trade(d.trades[0], {btc, 635541197, 97013.5, 0.00042, "2025-01-15T14:03:07.4Z", buy, 0});
    EXPECT_EQ(d.result.sequence_num, 7u);
    EXPECT_TRUE(d.result.has_sequence);
}

TEST(MarketTrades, every_event_and_product_is_decoded_and_the_message_sorted_by_time) {
    const Decoded d = decode_corpus("pass", "two_events_two_products_pretty.json");
    ASSERT_EQ(d.trades.size(), 3u);
    expect_trade(d.trades[0], {eth, 1199, 3301.1, 0.5, "2025-01-15T14:03:06Z", buy, 0});
    expect_trade(d.trades[1], {eth, 1200, 3301.2, 2.0, "2025-01-15T14:03:07Z", sell, 0});
    expect_trade(d.trades[2], {btc, 635541198, 97014.0, 0.1, "2025-01-15T14:03:07.2Z", buy, 0});
}

TEST(MarketTrades, trade_id_as_json_integer_is_accepted) {
    const Decoded d = decode_corpus("pass", "trade_id_json_integer.json");
    ASSERT_EQ(d.trades.size(), 1u);
    expect_trade(d.trades[0], {btc, 635541199, 97015.25, 0.01, "2025-01-15T14:03:07.3Z", sell, 0});
}

TEST(MarketTrades, unknown_product_is_skipped_and_the_known_one_kept) {
    const Decoded d = decode_corpus("pass", "unknown_product_among_known.json");
    ASSERT_EQ(d.trades.size(), 1u);
    expect_trade(d.trades[0], {eth, 1201, 3302.0, 0.75, "2025-01-15T14:03:07.15Z", sell, 0});
}

TEST(MarketTrades, unordered_trades_are_sorted_by_time_then_id) {
    const Decoded d = decode_corpus("pass", "unordered_times.json");
    ASSERT_EQ(d.trades.size(), 4u);
    for (std::uint64_t i = 0; i < 4; ++i) {
        EXPECT_EQ(d.trades[i].trade_id, 635541300 + i);
        EXPECT_EQ(d.trades[i].price, 97019.0 + static_cast<double>(i));
    }
}

TEST(MarketTrades, missing_or_unknown_side_reads_as_unknown) {
    const Decoded d = decode_corpus("pass", "side_missing_or_unknown.json");
    ASSERT_EQ(d.trades.size(), 2u);
    expect_trade(d.trades[0], {btc, 635541401, 97031.0, 0.6, "2025-01-15T14:03:07.2Z", unknown_side, 0});
    expect_trade(d.trades[1], {btc, 635541402, 97030.0, 0.5, "2025-01-15T14:03:07.3Z", unknown_side, 0});
}

TEST(MarketTrades, events_before_the_channel_are_decoded) {
    const Decoded d = decode_corpus("pass", "envelope_after_events.json");
    ASSERT_EQ(d.trades.size(), 1u);
    expect_trade(d.trades[0], {btc, 635541500, 97040.5, 0.003, "2025-01-15T14:03:07.01Z", sell, 0});
}

TEST(MarketTrades, the_real_capture_shape_decodes) {
    const Decoded d = decode_corpus("pass", "real_shape_ccxt_comment.json");
    ASSERT_EQ(d.trades.size(), 1u);
    expect_trade(d.trades[0], {eth, 0, 1260.01, 0.3, "2019-08-14T20:42:27.265Z", buy, trade_flag_snapshot});
}

TEST(MarketTrades, a_trade_at_the_future_tolerance_edge_is_kept_one_beyond_refused) {
    const Decoded edge = decode_corpus("pass", "trade_in_the_future_within_tolerance.json");
    ASSERT_EQ(edge.trades.size(), 1u);
    EXPECT_EQ(edge.trades[0].exchange_time_ns - ns("2025-01-15T14:03:07.418236Z"), coinbase_trade_future_tolerance_ns);
    std::string text = read_file(trades_dir / "pass" / "trade_in_the_future_within_tolerance.json");
    const std::string at = "2025-01-15T14:04:07.418236Z";
    const std::size_t pos = text.find(at);
    ASSERT_NE(pos, std::string::npos);
    text.replace(pos, at.size(), "2025-01-15T14:04:07.418237Z");  // one microsecond more
    CoinbaseDecoder decoder(test_products);
    const Decoded beyond = decode_text(decoder, text);
    EXPECT_EQ(beyond.result.trades_emitted, 0u);
    EXPECT_EQ(delta(beyond, &DecoderCounters::trade_bad_time), 1u);
}

// ---- behaviour beyond the corpus --------------------------------------------------------------

std::string trades_message(std::size_t count, std::string_view type = "update") {
    std::string text = R"({"channel":"market_trades","client_id":"","timestamp":"2025-01-15T14:03:07.5Z",)"
                       R"("sequence_num":3,"events":[{"type":")" +
                       std::string(type) + R"(","trades":[)";
    for (std::size_t i = 0; i < count; ++i) {
        if (i != 0) text += ',';
        // Newest first, as the wire sends them.
        const std::size_t id = 1000 + count - i;
        text +=
            R"({"trade_id":")" + std::to_string(id) +
            R"(","product_id":"BTC-USD","price":"97000.5","size":"0.001","side":"BUY","time":"2025-01-15T14:03:07.)" +
            std::to_string(100000 + id) + R"(Z"})";
    }
    text += "]}]}";
    return text;
}

TEST(MarketTrades, more_trades_than_the_per_message_cap_are_counted_and_dropped) {
    const std::size_t count = coinbase_max_trades_per_message + 88;
    CoinbaseDecoder decoder(test_products, 256 * 1024);
    const Decoded d = decode_trades(decoder, trades_message(count), 2 * count);
    EXPECT_EQ(d.result.status, DecodeStatus::output_full);
    EXPECT_EQ(d.result.trades_emitted, coinbase_max_trades_per_message);
    EXPECT_EQ(delta(d, &DecoderCounters::trades_over_cap), 88u);
    EXPECT_EQ(delta(d, &DecoderCounters::trades), coinbase_max_trades_per_message);
    // The first trades on the wire (the newest) are kept, then put oldest first.
    EXPECT_EQ(d.trades.back().trade_id, 1000 + count);
    EXPECT_EQ(d.trades.front().trade_id, 1000 + count - coinbase_max_trades_per_message + 1);
    for (std::size_t i = 1; i < d.trades.size(); ++i) EXPECT_EQ(d.trades[i].trade_id, d.trades[i - 1].trade_id + 1);
}

TEST(MarketTrades, a_small_trade_span_keeps_what_fits_and_counts_the_rest) {
    CoinbaseDecoder decoder(test_products);
    const Decoded d = decode_trades(decoder, trades_message(10), 4);
    EXPECT_EQ(d.result.status, DecodeStatus::output_full);
    EXPECT_EQ(d.result.trades_emitted, 4u);
    EXPECT_EQ(delta(d, &DecoderCounters::trades_over_cap), 6u);
}

TEST(MarketTrades, the_ticks_only_decode_counts_trades_as_over_the_cap) {
    CoinbaseDecoder decoder(test_products);
    const PaddedMessage message(trades_message(3));
    std::vector<Tick> ticks(4);
    const DecodeResult r = decoder.decode(message.data(), message.length, message.capacity(), 1, ticks);
    EXPECT_EQ(r.status, DecodeStatus::output_full);
    EXPECT_EQ(r.trades_emitted, 0u);
    EXPECT_EQ(decoder.counters().trades_over_cap, 3u);
}

TEST(MarketTrades, a_bad_trade_is_skipped_and_its_neighbours_kept) {
    std::string text = trades_message(3);
    const std::size_t pos = text.find(R"("size":"0.001")");
    ASSERT_NE(pos, std::string::npos);
    text.replace(pos, 14, R"("size":"-0.01")");
    CoinbaseDecoder decoder(test_products);
    const Decoded d = decode_text(decoder, text);
    EXPECT_EQ(d.result.status, DecodeStatus::ok);
    EXPECT_EQ(d.result.trades_emitted, 2u);
    EXPECT_EQ(d.result.records_skipped, 1u);
    EXPECT_EQ(delta(d, &DecoderCounters::trade_bad_size), 1u);
}

TEST(MarketTrades, a_message_that_fails_late_yields_no_trade) {
    std::string text = trades_message(3);
    text.insert(text.size() - 2, R"(,{"type":"update","trades":"oops"})");
    CoinbaseDecoder decoder(test_products);
    const Decoded d = decode_text(decoder, text);
    EXPECT_EQ(d.result.status, DecodeStatus::malformed_json);
    EXPECT_EQ(d.result.trades_emitted, 0u);
    EXPECT_EQ(delta(d, &DecoderCounters::trades), 0u);
}

TEST(MarketTrades, trade_and_ticker_messages_share_one_decoder_without_leaking_state) {
    CoinbaseDecoder decoder(test_products);
    const Decoded trades = decode_text(decoder, trades_message(2, "snapshot"));
    ASSERT_EQ(trades.result.trades_emitted, 2u);
    EXPECT_EQ(trades.trades[0].flags, trade_flag_snapshot);
    const Decoded ticker = decode_text(decoder, read_file(testing::corpus_dir / "pass" / "ticker_update.json"));
    EXPECT_EQ(ticker.result.channel, ChannelKind::ticker);
    EXPECT_EQ(ticker.result.ticks_emitted, 1u);
    EXPECT_EQ(ticker.result.trades_emitted, 0u);
    const Decoded again = decode_text(decoder, trades_message(1));
    ASSERT_EQ(again.result.trades_emitted, 1u);
    EXPECT_EQ(again.trades[0].flags, 0);
    EXPECT_EQ(again.result.ticks_emitted, 0u);
}

TEST(MarketTrades, every_prefix_of_a_trades_message_is_malformed_and_tradeless) {
    CoinbaseDecoder decoder(test_products);
    const std::string text = read_file(trades_dir / "pass" / "two_events_two_products_pretty.json");
    for (std::size_t n = 0; n + 1 < text.size(); ++n) {
        const Decoded d = decode_text(decoder, std::string_view(text).substr(0, n));
        ASSERT_NE(d.result.status, DecodeStatus::ok) << "prefix of " << n << " bytes";
        ASSERT_EQ(d.result.trades_emitted, 0u) << "prefix of " << n << " bytes";
    }
}

}  // namespace
}  // namespace cbtrade
