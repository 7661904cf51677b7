// libFuzzer target for the market_trades part of the Coinbase decoder (feeds/coinbase_decoder.cpp).
// The input is the inside of a market_trades event list: it is wrapped in a valid envelope
// ({"channel":"market_trades",...,"events":[ INPUT ]}) so that every mutation lands on the trade
// records, the part fuzz_coinbase_decoder reaches only rarely. The message is copied into a buffer
// of exactly its size + coinbase_decoder_padding bytes, so ASan flags any read beyond the padding.
// Every emitted Trade is checked against the decoder's contract (tests/fuzz/trade_contract.hpp).
//
// Build and run: tests/fuzz/run.sh market_trades SECONDS
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "feeds/coinbase_decoder.hpp"
#include "tests/fuzz/trade_contract.hpp"

namespace {

using namespace cbtrade;

constexpr std::array<std::string_view, 2> products = {"BTC-USD", "ETH-USD"};
constexpr std::size_t max_message_bytes = 16 * 1024;
constexpr std::string_view head =
    R"({"channel":"market_trades","client_id":"","timestamp":"2025-01-15T14:03:07.418236Z","sequence_num":5,"events":[)";
constexpr std::string_view tail = "]}";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static CoinbaseDecoder decoder(products, max_message_bytes);
    static std::uint64_t receive_tsc = 0;

    const std::size_t length = head.size() + size + tail.size();
    const std::size_t capacity = length + coinbase_decoder_padding;
    const std::unique_ptr<char[]> buffer(new char[capacity]);
    std::memcpy(buffer.get(), head.data(), head.size());
    if (size != 0) std::memcpy(buffer.get() + head.size(), data, size);
    std::memcpy(buffer.get() + head.size() + size, tail.data(), tail.size());
    std::memset(buffer.get() + length, '"', coinbase_decoder_padding);

    std::array<Trade, 16> trades{};  // small enough that output_full is reachable
    std::array<Tick, 2> ticks{};
    const std::uint64_t over_cap_before = decoder.counters().trades_over_cap;
    const DecodeResult result = decoder.decode(buffer.get(), length, capacity, ++receive_tsc, ticks, trades);

    auto check = [](bool ok) {
        if (!ok) std::abort();
    };
    check(result.ticks_emitted == 0);
    check(result.trades_emitted <= trades.size());
    const bool trades_allowed = result.status == DecodeStatus::ok || result.status == DecodeStatus::output_full;
    if (!trades_allowed) check(result.trades_emitted == 0);
    if (result.status == DecodeStatus::output_full) check(decoder.counters().trades_over_cap > over_cap_before);
    if (length > max_message_bytes) check(result.status == DecodeStatus::message_too_large);
    fuzz::check_trades({trades.data(), result.trades_emitted}, receive_tsc, products.size());
    return 0;
}
