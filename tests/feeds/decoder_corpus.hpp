// Helpers shared by the decoder corpus tests (ticker and market_trades): where the corpus lives, the
// product list every corpus file is decoded with, a receive buffer with the padding the decoder
// requires after a message, and the check that every file of a corpus folder decodes as its
// README (and the test's table) says.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/records.hpp"
#include "feeds/coinbase_decoder.hpp"

namespace cbtrade::testing {

inline const std::filesystem::path corpus_dir = std::filesystem::path(CBTRADE_TEST_DATA) / "coinbase";
inline constexpr std::array<std::string_view, 2> test_products = {"BTC-USD", "ETH-USD"};
inline constexpr std::uint16_t btc = 0;
inline constexpr std::uint16_t eth = 1;
inline constexpr std::uint64_t test_receive_tsc = 777;

// A message in a receive buffer with the padding the decoder requires after it.
struct PaddedMessage {
    std::vector<char> bytes;
    std::size_t length = 0;

    explicit PaddedMessage(std::string_view text)
        : bytes(text.size() + coinbase_decoder_padding, '\0'), length(text.size()) {
        std::copy(text.begin(), text.end(), bytes.begin());
    }
    const char* data() const { return bytes.data(); }
    std::size_t capacity() const { return bytes.size(); }
};

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The corpus files of one folder (README.md excluded), sorted.
inline std::vector<std::string> corpus_files(const std::filesystem::path& folder) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        const std::string name = entry.path().filename().string();
        if (name != "README.md") names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

struct Decoded {
    DecodeResult result;
    std::vector<Tick> ticks;
    std::vector<Trade> trades;
    DecoderCounters before;
    DecoderCounters after;
};

inline Decoded decode_text(CoinbaseDecoder& decoder, std::string_view text, std::size_t tick_capacity = 16,
                           std::uint64_t receive_tsc = test_receive_tsc, std::size_t trade_capacity = 1024) {
    PaddedMessage message(text);
    std::vector<Tick> ticks(tick_capacity);
    std::vector<Trade> trades(trade_capacity);
    Decoded d{};
    d.before = decoder.counters();
    d.result = decoder.decode(message.data(), message.length, message.capacity(), receive_tsc, ticks, trades);
    d.after = decoder.counters();
    d.ticks.assign(ticks.begin(), ticks.begin() + d.result.ticks_emitted);
    d.trades.assign(trades.begin(), trades.begin() + d.result.trades_emitted);
    return d;
}

// Decodes one corpus file with a fresh decoder for test_products.
inline Decoded decode_file(const std::filesystem::path& path) {
    CoinbaseDecoder decoder(test_products);
    return decode_text(decoder, read_file(path));
}

using Counter = std::uint64_t DecoderCounters::*;

inline std::uint64_t delta(const Decoded& d, Counter counter) {
    return d.after.*counter - d.before.*counter;
}

struct CorpusExpectation {
    DecodeStatus status;
    ChannelKind channel;
    std::uint32_t ticks;
    std::uint32_t records_skipped;
    Counter counter;  // the reason counter this message must raise by one (nullptr: none)
    std::uint32_t trades = 0;
};

// Every file in `folder` has an expectation and meets it; every expectation has its file. Whatever
// comes out obeys the records' contract (sane prices and sizes, known products, trades oldest first).
inline void check_corpus_folder(const std::filesystem::path& folder,
                                const std::map<std::string, CorpusExpectation>& expectations) {
    const std::vector<std::string> names = corpus_files(folder);
    ASSERT_FALSE(names.empty());
    for (const std::string& name : names) {
        SCOPED_TRACE((folder / name).string());
        const auto it = expectations.find(name);
        ASSERT_NE(it, expectations.end()) << "corpus file without an expectation in this test";
        const CorpusExpectation& want = it->second;
        const Decoded d = decode_file(folder / name);
        EXPECT_EQ(d.result.status, want.status);
        EXPECT_EQ(d.result.channel, want.channel);
        EXPECT_EQ(d.result.ticks_emitted, want.ticks);
        EXPECT_EQ(d.result.trades_emitted, want.trades);
        EXPECT_EQ(d.result.records_skipped, want.records_skipped);
        EXPECT_EQ(delta(d, &DecoderCounters::messages), 1u);
        EXPECT_EQ(delta(d, &DecoderCounters::ticks), want.ticks);
        EXPECT_EQ(delta(d, &DecoderCounters::trades), want.trades);
        if (want.counter != nullptr) {
            EXPECT_EQ(delta(d, want.counter), 1u);
        }
        for (const Tick& tick : d.ticks) {
            EXPECT_GT(tick.price, 0.0);
            EXPECT_LT(tick.product_index, test_products.size());
        }
        for (std::size_t i = 0; i < d.trades.size(); ++i) {
            EXPECT_TRUE(sane_price(d.trades[i].price));
            EXPECT_TRUE(sane_size(d.trades[i].size));
            EXPECT_LT(d.trades[i].product_index, test_products.size());
            if (i != 0) {
                EXPECT_LE(d.trades[i - 1].exchange_time_ns, d.trades[i].exchange_time_ns) << "oldest first";
            }
        }
    }
    for (const auto& [name, want] : expectations) {
        EXPECT_TRUE(std::filesystem::exists(folder / name)) << name << " expected but missing";
    }
}

}  // namespace cbtrade::testing
