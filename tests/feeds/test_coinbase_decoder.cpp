// Coinbase market-data decoder: the pass/fail corpus under tests/data/coinbase (every file must have an
// expectation here), the RFC 3339 parser, sequence-gap tracking and the no-allocation guarantee.
#include "feeds/coinbase_decoder.hpp"
#include "feeds/sequence_tracker.hpp"
#include "tests/feeds/decoder_corpus.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <random>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <new>
#include <string>
#include <vector>
#include "tests/sanitizer_build.hpp"

// Counts every heap allocation in the process, so a test can show decode() makes none. Kept out of
// line: inlined into std::allocator, g++ would pair the malloc/free inside with new/delete and warn.
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

// Under ASan the sanitizer owns operator new/delete (and pairs them itself): no replacement there.
#if !CBTRADE_TEST_ASAN
namespace {
void* counted_malloc(std::size_t size) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
void* counted_aligned_alloc(std::size_t size, std::align_val_t alignment) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    const auto align = static_cast<std::size_t>(alignment);
    return std::aligned_alloc(align, (size + align - 1) / align * align);
}
}  // namespace

// Every replaceable form, nothrow ones included: simdjson allocates with new (std::nothrow).
[[gnu::noinline]] void* operator new(std::size_t size) {
    if (void* p = counted_malloc(size)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t size) {
    return ::operator new(size);
}
[[gnu::noinline]] void* operator new(std::size_t size, std::align_val_t alignment) {
    if (void* p = counted_aligned_alloc(size, alignment)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t size, std::align_val_t alignment) {
    return ::operator new(size, alignment);
}
[[gnu::noinline]] void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return counted_malloc(size);
}
[[gnu::noinline]] void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return counted_malloc(size);
}
[[gnu::noinline]] void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
    return counted_aligned_alloc(size, alignment);
}
[[gnu::noinline]] void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
    return counted_aligned_alloc(size, alignment);
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}
[[gnu::noinline]] void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}
#endif

namespace cbtrade {
namespace {

using testing::btc;
using testing::corpus_dir;
using testing::eth;
using testing::PaddedMessage;
using testing::read_file;
using testing::test_products;

using testing::CorpusExpectation;
using testing::Counter;
using testing::decode_text;
using testing::Decoded;
using testing::delta;

CoinbaseDecoder make_decoder() {
    return CoinbaseDecoder(test_products);
}

Decoded decode_corpus(std::string_view subdir, std::string_view name) {
    return testing::decode_file(corpus_dir / subdir / name);
}

struct ExpectedTick {
    std::uint16_t product_index;
    double price, best_bid, best_bid_qty, best_ask, best_ask_qty;
    std::uint8_t flags;
};

void expect_tick(const Tick& tick, const ExpectedTick& want, std::int64_t exchange_time_ns,
                 std::uint64_t sequence_num) {
    EXPECT_EQ(tick.product_index, want.product_index);
    EXPECT_EQ(tick.price, want.price);
    EXPECT_EQ(tick.best_bid, want.best_bid);
    EXPECT_EQ(tick.best_bid_qty, want.best_bid_qty);
    EXPECT_EQ(tick.best_ask, want.best_ask);
    EXPECT_EQ(tick.best_ask_qty, want.best_ask_qty);
    EXPECT_EQ(tick.flags, want.flags);
    EXPECT_EQ(tick.exchange_time_ns, exchange_time_ns);
    EXPECT_EQ(static_cast<std::uint64_t>(tick.sequence_num), sequence_num);
    EXPECT_EQ(tick.receive_tsc, 777u);
}

constexpr std::uint8_t both_sides = tick_flag_has_best_bid | tick_flag_has_best_ask;

// ---- the corpus: outcome of every file ---------------------------------------------------------

const std::map<std::string, CorpusExpectation>& pass_expectations() {
    static const std::map<std::string, CorpusExpectation> table = {
        {"ticker_snapshot.json", {DecodeStatus::ok, ChannelKind::ticker, 1, 0, nullptr}},
        {"ticker_update.json", {DecodeStatus::ok, ChannelKind::ticker, 1, 0, nullptr}},
        {"ticker_multi_event_multi_ticker.json", {DecodeStatus::ok, ChannelKind::ticker, 3, 0, nullptr}},
        {"ticker_batch_with_best.json", {DecodeStatus::ok, ChannelKind::ticker_batch, 1, 0, nullptr}},
        {"ticker_batch_without_best.json", {DecodeStatus::ok, ChannelKind::ticker_batch, 1, 0, nullptr}},
        {"ticker_batch_empty_record.json",
         {DecodeStatus::ok, ChannelKind::ticker_batch, 0, 1, &DecoderCounters::empty_ticker}},
        {"ticker_unknown_product_among_known.json",
         {DecodeStatus::ok, ChannelKind::ticker, 1, 1, &DecoderCounters::unknown_product}},
        {"heartbeats_string_counter.json",
         {DecodeStatus::ok, ChannelKind::heartbeats, 0, 0, &DecoderCounters::heartbeats}},
        {"heartbeats_integer_counter.json",
         {DecodeStatus::ok, ChannelKind::heartbeats, 0, 0, &DecoderCounters::heartbeats}},
        {"subscriptions_ack.json",
         {DecodeStatus::ok, ChannelKind::subscriptions, 0, 0, &DecoderCounters::subscription_acks}},
        {"subscriptions_ack_empty.json",
         {DecodeStatus::ok, ChannelKind::subscriptions, 0, 0, &DecoderCounters::subscription_acks}},
        {"error_authentication_failure.json",
         {DecodeStatus::ok, ChannelKind::error, 0, 0, &DecoderCounters::error_messages}},
        {"error_rate_limit_exceeded.json",
         {DecodeStatus::ok, ChannelKind::error, 0, 0, &DecoderCounters::error_messages}},
        {"unknown_channel_candles.json",
         {DecodeStatus::ok, ChannelKind::unknown, 0, 0, &DecoderCounters::unknown_channel}},
        {"unknown_channel_l2_data.json",
         {DecodeStatus::ok, ChannelKind::unknown, 0, 0, &DecoderCounters::unknown_channel}},
    };
    return table;
}

const std::map<std::string, CorpusExpectation>& fail_expectations() {
    constexpr auto ticker = ChannelKind::ticker;
    const CorpusExpectation bad_price{DecodeStatus::ok, ticker, 0, 1, &DecoderCounters::bad_price};
    const CorpusExpectation bad_sequence{DecodeStatus::bad_sequence, ticker, 0, 0, &DecoderCounters::bad_sequence};
    const CorpusExpectation malformed{DecodeStatus::malformed_json, ChannelKind::none, 0, 0,
                                      &DecoderCounters::malformed_json};
    const CorpusExpectation malformed_in_ticker{DecodeStatus::malformed_json, ticker, 0, 0,
                                                &DecoderCounters::malformed_json};
    static const std::map<std::string, CorpusExpectation> table = {
        {"price_non_numeric.json", bad_price},
        {"price_nan.json", bad_price},
        {"price_zero.json", bad_price},
        {"price_negative.json", bad_price},
        {"price_json_number.json", bad_price},
        {"price_huge_exponent.json", bad_price},
        {"price_huge_digit_string.json", bad_price},
        {"price_infinity.json", bad_price},
        {"price_leading_space.json", bad_price},
        {"price_empty.json", bad_price},
        {"best_bid_negative.json", bad_price},
        {"price_1e300.json", bad_price},
        {"price_tiny.json", bad_price},
        {"price_60_digits.json", bad_price},
        {"best_ask_huge.json", bad_price},
        {"best_bid_quantity_huge.json", bad_price},
        {"sequence_negative.json", bad_sequence},
        {"sequence_fraction.json", bad_sequence},
        {"sequence_string.json", bad_sequence},
        {"sequence_2_pow_64.json", bad_sequence},
        {"price_missing.json", {DecodeStatus::ok, ticker, 0, 1, &DecoderCounters::missing_field}},
        {"missing_product_id.json", {DecodeStatus::ok, ticker, 0, 1, &DecoderCounters::missing_field}},
        {"unknown_product.json", {DecodeStatus::ok, ticker, 0, 1, &DecoderCounters::unknown_product}},
        // simdjson's structural pass already sees the unbalanced brackets: nothing is read.
        {"truncated.json", malformed},
        {"truncated_last_bracket.json", malformed},
        {"trailing_garbage.json", malformed_in_ticker},
        {"events_not_array.json", malformed_in_ticker},
        {"deeply_nested.json", malformed_in_ticker},
        {"deeply_nested_root.json", malformed},
        {"not_an_object.json", malformed},
        {"empty.json", malformed},
        {"garbage_bytes.bin", malformed},
        {"invalid_utf8.json", malformed},
        {"bad_timestamp.json", {DecodeStatus::bad_timestamp, ticker, 0, 0, &DecoderCounters::bad_timestamp}},
        {"missing_timestamp.json", {DecodeStatus::missing_field, ticker, 0, 0, &DecoderCounters::missing_field}},
        {"missing_channel.json",
         {DecodeStatus::missing_field, ChannelKind::none, 0, 0, &DecoderCounters::missing_field}},
        {"heartbeat_counter_not_numeric.json",
         {DecodeStatus::missing_field, ChannelKind::heartbeats, 0, 0, &DecoderCounters::missing_field}},
        {"heartbeat_counter_missing.json",
         {DecodeStatus::missing_field, ChannelKind::heartbeats, 0, 0, &DecoderCounters::missing_field}},
    };
    return table;
}

std::vector<std::string> corpus_files(std::string_view subdir) {
    return testing::corpus_files(corpus_dir / subdir);
}

void check_corpus(std::string_view subdir, const std::map<std::string, CorpusExpectation>& expectations) {
    testing::check_corpus_folder(corpus_dir / subdir, expectations);
}

TEST(CoinbaseCorpus, every_pass_file_decodes_as_its_readme_says) {
    check_corpus("pass", pass_expectations());
}

TEST(CoinbaseCorpus, every_fail_file_is_counted_and_never_yields_a_tick) {
    check_corpus("fail", fail_expectations());
}

// ---- exact values of the pass corpus ----------------------------------------------------------

TEST(CoinbaseDecoder, ticker_snapshot_yields_exact_tick_with_snapshot_flag) {
    const Decoded d = decode_corpus("pass", "ticker_snapshot.json");
    ASSERT_EQ(d.ticks.size(), 1u);
    expect_tick(d.ticks[0], {btc, 97010.12, 97010.11, 0.125, 97010.12, 0.35, tick_flag_snapshot | both_sides},
                1736949785107364019, 2);
    EXPECT_TRUE(d.result.has_sequence);
    EXPECT_EQ(d.result.sequence_num, 2u);
}

TEST(CoinbaseDecoder, ticker_update_yields_exact_tick) {
    const Decoded d = decode_corpus("pass", "ticker_update.json");
    ASSERT_EQ(d.ticks.size(), 1u);
    expect_tick(d.ticks[0], {btc, 97012.35, 97012.34, 0.41, 97012.35, 0.0203, both_sides}, 1736949787418236000, 7);
}

TEST(CoinbaseDecoder, every_event_and_every_ticker_of_a_message_becomes_a_tick) {
    const Decoded d = decode_corpus("pass", "ticker_multi_event_multi_ticker.json");
    ASSERT_EQ(d.ticks.size(), 3u);
    constexpr std::int64_t t = 1736949789000000000;
    expect_tick(d.ticks[0], {btc, 97013.01, 97013, 1.5, 97013.01, 0.002, both_sides}, t, 12);
    expect_tick(d.ticks[1], {eth, 3301.5, 3301.49, 12, 3301.5, 3.25, both_sides}, t, 12);
    expect_tick(d.ticks[2], {btc, 97013.5, 97013.49, 0.75, 97013.5, 0.1, both_sides}, t, 12);
}

TEST(CoinbaseDecoder, ticker_batch_with_best_fields_is_flagged_batch) {
    const Decoded d = decode_corpus("pass", "ticker_batch_with_best.json");
    ASSERT_EQ(d.ticks.size(), 1u);
    expect_tick(d.ticks[0], {eth, 3302.07, 3302.06, 4.2, 3302.07, 0.9, tick_flag_batch | both_sides},
                1736949790500000000, 15);
}

TEST(CoinbaseDecoder, ticker_batch_without_best_fields_has_no_book_flags) {
    const Decoded d = decode_corpus("pass", "ticker_batch_without_best.json");
    ASSERT_EQ(d.ticks.size(), 1u);
    expect_tick(d.ticks[0], {btc, 97020, 0, 0, 0, 0, tick_flag_batch | tick_flag_snapshot}, 1736949795000000001, 21);
}

TEST(CoinbaseDecoder, unknown_product_is_skipped_and_the_known_one_kept) {
    const Decoded d = decode_corpus("pass", "ticker_unknown_product_among_known.json");
    ASSERT_EQ(d.ticks.size(), 1u);
    expect_tick(d.ticks[0], {eth, 3303, 3302.99, 1, 3303, 2, both_sides}, 1736949810900000000, 50);
}

TEST(CoinbaseDecoder, heartbeat_counter_is_read_from_a_string) {
    const Decoded d = decode_corpus("pass", "heartbeats_string_counter.json");
    EXPECT_TRUE(d.result.has_heartbeat_counter);
    EXPECT_EQ(d.result.heartbeat_counter, 3049u);
    EXPECT_EQ(d.result.sequence_num, 3049u);
}

TEST(CoinbaseDecoder, heartbeat_counter_is_read_from_an_integer) {
    const Decoded d = decode_corpus("pass", "heartbeats_integer_counter.json");
    EXPECT_TRUE(d.result.has_heartbeat_counter);
    EXPECT_EQ(d.result.heartbeat_counter, 4021u);
    EXPECT_EQ(d.result.sequence_num, 8u);
}

TEST(CoinbaseDecoder, subscription_acks_carry_their_sequence) {
    EXPECT_EQ(decode_corpus("pass", "subscriptions_ack.json").result.sequence_num, 1u);
    EXPECT_EQ(decode_corpus("pass", "subscriptions_ack_empty.json").result.sequence_num, 3u);
}

TEST(CoinbaseDecoder, error_messages_expose_their_text_until_the_next_decode) {
    CoinbaseDecoder decoder = make_decoder();
    const Decoded auth = decode_text(decoder, read_file(corpus_dir / "pass" / "error_authentication_failure.json"));
    EXPECT_EQ(auth.result.error_message, "authentication failure");
    EXPECT_FALSE(auth.result.has_sequence);
    const Decoded rate = decode_text(decoder, read_file(corpus_dir / "pass" / "error_rate_limit_exceeded.json"));
    EXPECT_EQ(rate.result.error_message, "rate limit exceeded");
}

TEST(CoinbaseDecoder, error_text_with_escapes_is_unescaped) {
    CoinbaseDecoder decoder = make_decoder();
    const Decoded d = decode_text(decoder, R"({"message":"bad \"x\"\n","type":"error"})");
    EXPECT_EQ(d.result.channel, ChannelKind::error);
    EXPECT_EQ(d.result.error_message, "bad \"x\"\n");
}

// ---- behaviour beyond the corpus --------------------------------------------------------------

TEST(CoinbaseDecoder, envelope_fields_after_events_are_still_applied) {
    CoinbaseDecoder decoder = make_decoder();
    const Decoded d =
        decode_text(decoder, R"({"events":[{"tickers":[{"price":"10.5","product_id":"ETH-USD"}],"type":"snapshot"}],)"
                             R"("sequence_num":99,"timestamp":"1970-01-01T00:00:01.5Z","channel":"ticker"})");
    ASSERT_EQ(d.result.status, DecodeStatus::ok);
    ASSERT_EQ(d.ticks.size(), 1u);
    expect_tick(d.ticks[0], {eth, 10.5, 0, 0, 0, 0, tick_flag_snapshot}, 1'500'000'000, 99);
}

TEST(CoinbaseDecoder, a_side_without_its_price_is_not_flagged) {
    CoinbaseDecoder decoder = make_decoder();
    const Decoded d = decode_text(
        decoder,
        R"({"channel":"ticker","timestamp":"2025-01-15T14:03:07Z","sequence_num":1,"events":[{"type":"update",)"
        R"("tickers":[{"product_id":"BTC-USD","price":"5","best_bid_quantity":"3","best_ask":"6","best_ask_quantity":"0"}]}]})");
    ASSERT_EQ(d.ticks.size(), 1u);
    EXPECT_EQ(d.ticks[0].flags, tick_flag_has_best_ask);
    EXPECT_EQ(d.ticks[0].best_bid_qty, 0.0);
    EXPECT_EQ(d.ticks[0].best_ask, 6.0);
    EXPECT_EQ(d.ticks[0].best_ask_qty, 0.0);
}

TEST(CoinbaseDecoder, full_output_span_keeps_the_first_ticks_and_counts_the_rest) {
    CoinbaseDecoder decoder = make_decoder();
    const Decoded d = decode_text(decoder, read_file(corpus_dir / "pass" / "ticker_multi_event_multi_ticker.json"), 2);
    EXPECT_EQ(d.result.status, DecodeStatus::output_full);
    EXPECT_EQ(d.result.ticks_emitted, 2u);
    EXPECT_EQ(d.ticks[1].product_index, eth);
    EXPECT_EQ(delta(d, &DecoderCounters::output_full), 1u);
}

TEST(CoinbaseDecoder, receive_tsc_is_stamped_on_every_tick) {
    CoinbaseDecoder decoder = make_decoder();
    const Decoded d =
        decode_text(decoder, read_file(corpus_dir / "pass" / "ticker_multi_event_multi_ticker.json"), 16, 123456789);
    ASSERT_EQ(d.ticks.size(), 3u);
    for (const Tick& tick : d.ticks) EXPECT_EQ(tick.receive_tsc, 123456789u);
}

TEST(CoinbaseDecoder, missing_padding_is_refused_before_parsing) {
    CoinbaseDecoder decoder = make_decoder();
    const std::string text = read_file(corpus_dir / "pass" / "ticker_update.json");
    std::vector<Tick> out(4);
    const DecodeResult r = decoder.decode(text.data(), text.size(), text.size() + coinbase_decoder_padding - 1, 0, out);
    EXPECT_EQ(r.status, DecodeStatus::insufficient_padding);
    EXPECT_EQ(r.ticks_emitted, 0u);
}

TEST(CoinbaseDecoder, oversized_message_is_refused_and_counted) {
    CoinbaseDecoder decoder(test_products, 256);
    const Decoded d = decode_text(decoder, read_file(corpus_dir / "pass" / "ticker_update.json"));
    EXPECT_EQ(d.result.status, DecodeStatus::message_too_large);
    EXPECT_EQ(delta(d, &DecoderCounters::oversized), 1u);
}

TEST(CoinbaseDecoder, sequence_is_reported_even_when_the_message_fails_later) {
    const Decoded d = decode_corpus("fail", "events_not_array.json");
    EXPECT_EQ(d.result.status, DecodeStatus::malformed_json);
    EXPECT_TRUE(d.result.has_sequence);
    EXPECT_EQ(d.result.sequence_num, 7u);
}

TEST(CoinbaseDecoder, every_prefix_of_a_ticker_message_is_malformed_and_tickless) {
    CoinbaseDecoder decoder = make_decoder();
    std::string text = read_file(corpus_dir / "pass" / "ticker_multi_event_multi_ticker.json");
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '}')) text.pop_back();
    for (std::size_t length = 0; length < text.size(); ++length) {
        const Decoded d = decode_text(decoder, std::string_view(text).substr(0, length));
        EXPECT_EQ(d.result.ticks_emitted, 0u) << "prefix length " << length;
        EXPECT_NE(d.result.status, DecodeStatus::ok) << "prefix length " << length;
    }
}

TEST(CoinbaseDecoder, decoder_state_does_not_leak_between_messages) {
    CoinbaseDecoder decoder = make_decoder();
    const Decoded heartbeat = decode_text(decoder, read_file(corpus_dir / "pass" / "heartbeats_integer_counter.json"));
    EXPECT_TRUE(heartbeat.result.has_heartbeat_counter);
    const Decoded ack = decode_text(decoder, read_file(corpus_dir / "pass" / "subscriptions_ack.json"));
    EXPECT_FALSE(ack.result.has_heartbeat_counter);
    EXPECT_TRUE(ack.result.error_message.empty());
    EXPECT_EQ(decoder.counters().messages, 2u);
}

TEST(CoinbaseDecoder, product_list_must_be_non_empty_and_unique) {
    EXPECT_THROW(CoinbaseDecoder(std::span<const std::string_view>{}), std::invalid_argument);
    constexpr std::array<std::string_view, 2> duplicate = {"BTC-USD", "BTC-USD"};
    EXPECT_THROW(CoinbaseDecoder{duplicate}, std::invalid_argument);
    const CoinbaseDecoder decoder = make_decoder();
    EXPECT_EQ(decoder.product_index("ETH-USD"), std::optional<std::uint16_t>(eth));
    EXPECT_EQ(decoder.product_index("ETH-US"), std::nullopt);
    EXPECT_EQ(decoder.product_id(btc), "BTC-USD");
}

TEST(CoinbaseDecoder, long_product_ids_are_matched_on_every_byte) {
    constexpr std::array<std::string_view, 4> products = {"BTC-USD", "ADA-PERP-INTX", "ADA-PERP-INTY", "BTC-USDC"};
    CoinbaseDecoder decoder(products);
    auto index_of = [&](std::string_view id) -> std::optional<std::uint16_t> {
        const std::string text =
            std::string(
                R"({"channel":"ticker","timestamp":"2025-01-15T14:03:07Z","events":[{"tickers":[{"product_id":")") +
            std::string(id) + R"(","price":"1"}]}]})";
        const Decoded d = decode_text(decoder, text);
        if (d.ticks.size() != 1) return std::nullopt;
        return d.ticks[0].product_index;
    };
    EXPECT_EQ(index_of("BTC-USD"), std::optional<std::uint16_t>(0));
    EXPECT_EQ(index_of("ADA-PERP-INTX"), std::optional<std::uint16_t>(1));
    EXPECT_EQ(index_of("ADA-PERP-INTY"), std::optional<std::uint16_t>(2));
    EXPECT_EQ(index_of("BTC-USDC"), std::optional<std::uint16_t>(3));
    EXPECT_EQ(index_of("BTC-US"), std::nullopt);
    EXPECT_EQ(index_of("BTC-USDT"), std::nullopt);
    EXPECT_EQ(index_of("ADA-PERP-INTZ"), std::nullopt);
    EXPECT_EQ(index_of("ADA-PERP-INT"), std::nullopt);
    EXPECT_EQ(decoder.counters().unknown_product, 4u);
}

// ---- zero allocations per message ---------------------------------------------------------------

TEST(CoinbaseDecoder, decoding_makes_no_heap_allocation_after_construction) {
#if CBTRADE_TEST_ASAN
    GTEST_SKIP() << "ASan replaces the allocator; the release build runs this test";
#endif
    std::vector<PaddedMessage> messages;
    for (std::string_view subdir : {"pass", "fail", "market_trades/pass", "market_trades/fail"}) {
        for (const std::string& name : corpus_files(subdir))
            messages.emplace_back(read_file(corpus_dir / subdir / name));
    }
    const std::uint64_t allocations_at_start = g_allocations.load();
    CoinbaseDecoder decoder = make_decoder();
    // The counter sees the parser's own (nothrow) allocations, so a zero delta below means something.
    ASSERT_GT(g_allocations.load(), allocations_at_start);
    std::array<Tick, 16> out{};
    std::array<Trade, 16> trades_out{};
    std::uint64_t ticks = 0, trades = 0;
    for (const PaddedMessage& m : messages) {  // warm-up
        ticks += decoder.decode(m.data(), m.length, m.capacity(), 0, out, trades_out).ticks_emitted;
    }
    const std::uint64_t allocations_before = g_allocations.load();
    for (std::size_t i = 0; i < 10'000; ++i) {
        const PaddedMessage& m = messages[i % messages.size()];
        const DecodeResult r = decoder.decode(m.data(), m.length, m.capacity(), i, out, trades_out);
        ticks += r.ticks_emitted;
        trades += r.trades_emitted;
    }
    EXPECT_EQ(g_allocations.load(), allocations_before);
    EXPECT_GT(ticks, 0u);
    EXPECT_GT(trades, 0u);
}

// ---- sequence gaps ------------------------------------------------------------------------------

TEST(SequenceTracker, contiguous_numbers_have_no_gap) {
    SequenceTracker tracker;
    for (std::uint64_t n = 0; n < 100; ++n) EXPECT_EQ(tracker.observe(n), 0u);
    EXPECT_EQ(tracker.counters().gaps, 0u);
    EXPECT_EQ(tracker.counters().messages, 100u);
}

TEST(SequenceTracker, a_jump_counts_one_gap_and_the_missed_messages) {
    SequenceTracker tracker;
    EXPECT_EQ(tracker.observe(5), 0u);  // first number on a connection is not a gap
    EXPECT_EQ(tracker.observe(6), 0u);
    EXPECT_EQ(tracker.observe(10), 3u);
    EXPECT_EQ(tracker.observe(11), 0u);
    EXPECT_EQ(tracker.observe(13), 1u);
    EXPECT_EQ(tracker.counters().gaps, 2u);
    EXPECT_EQ(tracker.counters().messages_missed, 4u);
}

TEST(SequenceTracker, repeats_and_decreases_are_regressions_not_gaps) {
    SequenceTracker tracker;
    EXPECT_EQ(tracker.observe(7), 0u);
    EXPECT_EQ(tracker.observe(7), 0u);
    EXPECT_EQ(tracker.observe(3), 0u);
    EXPECT_EQ(tracker.observe(4), 0u);
    EXPECT_EQ(tracker.counters().regressions, 2u);
    EXPECT_EQ(tracker.counters().gaps, 0u);
}

TEST(SequenceTracker, reconnect_restarts_numbering_without_a_gap) {
    SequenceTracker tracker;
    EXPECT_EQ(tracker.observe(0), 0u);
    EXPECT_EQ(tracker.observe(1), 0u);
    EXPECT_EQ(tracker.observe(2), 0u);
    tracker.reset_connection();
    EXPECT_FALSE(tracker.has_last());
    EXPECT_EQ(tracker.observe(0), 0u);
    EXPECT_EQ(tracker.observe(2), 1u);
    EXPECT_EQ(tracker.counters().regressions, 0u);
    EXPECT_EQ(tracker.counters().gaps, 1u);
}

// Issue 9 item 8: two connections each jumping to the top of the range once wrapped messages_missed
// to 18446744073709551610; the sum saturates and the top of the range never wraps to 0.
TEST(SequenceTracker, gap_arithmetic_saturates_and_never_wraps) {
    SequenceTracker tracker;
    EXPECT_EQ(tracker.observe(1), 0u);
    EXPECT_EQ(tracker.observe(UINT64_MAX - 2), UINT64_MAX - 4);
    tracker.reset_connection();
    EXPECT_EQ(tracker.observe(1), 0u);
    EXPECT_EQ(tracker.observe(UINT64_MAX), UINT64_MAX - 2);
    EXPECT_EQ(tracker.counters().gaps, 2u);
    EXPECT_EQ(tracker.counters().messages_missed, UINT64_MAX);
    // After 2^64-1, 0 is not "the next number": it is a regression, not contiguous.
    EXPECT_EQ(tracker.observe(0), 0u);
    EXPECT_EQ(tracker.counters().regressions, 1u);
}

TEST(SequenceTracker, decoder_sequences_feed_the_tracker) {
    CoinbaseDecoder decoder = make_decoder();
    SequenceTracker tracker;
    for (std::string_view name :
         {"subscriptions_ack.json", "ticker_snapshot.json", "ticker_update.json", "heartbeats_integer_counter.json"}) {
        const Decoded d = decode_text(decoder, read_file(corpus_dir / "pass" / name));
        ASSERT_TRUE(d.result.has_sequence) << name;
        (void)tracker.observe(d.result.sequence_num);
    }
    // 1, 2, 7, 8: one gap of four messages (3..6).
    EXPECT_EQ(tracker.counters().gaps, 1u);
    EXPECT_EQ(tracker.counters().messages_missed, 4u);
}

}  // namespace
}  // namespace cbtrade
