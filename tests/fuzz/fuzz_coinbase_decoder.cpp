// libFuzzer target for the Coinbase market-data decoder (feeds/coinbase_decoder.cpp) and the RFC 3339
// parser it uses. Each input is one WebSocket text message, copied into a buffer of exactly
// size + coinbase_decoder_padding bytes so ASan flags any read beyond the padding the decoder is
// promised. Every emitted Tick and Trade is checked against the decoder's contract; a violation aborts.
//
// Build and run: tests/fuzz/run.sh coinbase_decoder [seconds]
#include "feeds/coinbase_decoder.hpp"
#include "core/rfc3339.hpp"
#include "feeds/sequence_tracker.hpp"
#include "tests/fuzz/trade_contract.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace {

using namespace cbtrade;

constexpr std::array<std::string_view, 2> products = {"BTC-USD", "ETH-USD"};
constexpr std::size_t max_message_bytes = 16 * 1024;

void check(bool ok) {
    if (!ok) std::abort();
}

void check_tick(const Tick& tick, std::uint64_t receive_tsc) {
    check(std::isfinite(tick.price) && tick.price > 0.0);
    check(tick.product_index < products.size());
    check(std::isfinite(tick.best_bid) && tick.best_bid >= 0.0);
    check(std::isfinite(tick.best_ask) && tick.best_ask >= 0.0);
    check(std::isfinite(tick.best_bid_qty) && tick.best_bid_qty >= 0.0);
    check(std::isfinite(tick.best_ask_qty) && tick.best_ask_qty >= 0.0);
    check(((tick.flags & tick_flag_has_best_bid) != 0) == (tick.best_bid > 0.0));
    check(((tick.flags & tick_flag_has_best_ask) != 0) == (tick.best_ask > 0.0));
    check(tick.exchange_time_ns >= 0);
    check(tick.receive_tsc == receive_tsc);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static CoinbaseDecoder decoder(products, max_message_bytes);
    static SequenceTracker sequences;
    static std::uint64_t receive_tsc = 0;

    // Exactly the promised padding, filled with a quote so a reader that runs past the message into
    // it sees something that could look like JSON rather than a convenient NUL.
    const std::size_t capacity = size + coinbase_decoder_padding;
    const std::unique_ptr<char[]> buffer(new char[capacity]);
    if (size != 0) std::memcpy(buffer.get(), data, size);
    std::memset(buffer.get() + size, '"', coinbase_decoder_padding);

    std::array<Tick, 4> out{};      // small on purpose: exercises output_full
    std::array<Trade, 8> trades{};  // likewise
    const std::uint64_t messages_before = decoder.counters().messages;
    const DecodeResult result = decoder.decode(buffer.get(), size, capacity, ++receive_tsc, out, trades);

    check(decoder.counters().messages == messages_before + 1);
    check(result.ticks_emitted <= out.size());
    const bool ticks_allowed = result.status == DecodeStatus::ok || result.status == DecodeStatus::output_full;
    check(result.trades_emitted <= trades.size());
    if (!ticks_allowed) check(result.ticks_emitted == 0 && result.trades_emitted == 0);
    if (result.ticks_emitted != 0) {
        check(result.channel == ChannelKind::ticker || result.channel == ChannelKind::ticker_batch);
    }
    if (result.trades_emitted != 0) check(result.channel == ChannelKind::market_trades);
    cbtrade::fuzz::check_trades({trades.data(), result.trades_emitted}, receive_tsc, products.size());
    if (size > max_message_bytes) check(result.status == DecodeStatus::message_too_large);
    for (std::uint32_t i = 0; i < result.ticks_emitted; ++i) check_tick(out[i], receive_tsc);
    if (!result.error_message.empty()) {
        volatile char first = result.error_message.front();  // must still be readable
        volatile char last = result.error_message.back();
        (void)first;
        (void)last;
    }
    if (result.has_sequence) (void)sequences.observe(result.sequence_num);

    // The timestamp parser sees the raw input too: it must never read out of bounds or go negative.
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const std::optional<std::int64_t> ns = parse_rfc3339_ns(text)) check(*ns >= 0);
    return 0;
}
