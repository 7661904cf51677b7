// Feed-stage decode cost: one Coinbase WebSocket text message -> Ticks or Trades
// (feeds/coinbase_decoder.hpp).
// The message sits in a padded buffer and is decoded in place, as the feed client does with its
// receive buffer. Percentiles are over batches of `batch` messages (bench/percentiles.hpp).
//
//   ninja -C build-decoder bench/bench_ticker_decode && build-decoder/bench/bench_ticker_decode
#include "bench/percentiles.hpp"
#include "feeds/coinbase_decoder.hpp"
#include "core/rfc3339.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <string_view>
#include <vector>

namespace {

using cbtrade::CoinbaseDecoder;
using cbtrade::Tick;

constexpr std::array<std::string_view, 2> products = {"BTC-USD", "ETH-USD"};
constexpr std::size_t batch = 32;

// tests/data/coinbase/pass/ticker_update.json: the shape of a real ticker update, 445 bytes.
constexpr std::string_view ticker_update =
    R"({"channel":"ticker","client_id":"","timestamp":"2025-01-15T14:03:07.418236Z","sequence_num":7,"events":[{"type":"update","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"97012.35","volume_24_h":"8123.4471","low_24_h":"95110","high_24_h":"97890.01","low_52_w":"38501.02","high_52_w":"108268.45","price_percent_chg_24_h":"1.23451","best_bid":"97012.34","best_bid_quantity":"0.41","best_ask":"97012.35","best_ask_quantity":"0.0203"}]}]})";

constexpr std::string_view ticker_two_products =
    R"({"channel":"ticker","client_id":"","timestamp":"2025-01-15T14:03:09.1Z","sequence_num":12,"events":[{"type":"update","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"97013.01","volume_24_h":"8124.1","low_24_h":"95110","high_24_h":"97890.01","low_52_w":"38501.02","high_52_w":"108268.45","price_percent_chg_24_h":"1.2352","best_bid":"97013","best_bid_quantity":"1.5","best_ask":"97013.01","best_ask_quantity":"0.002"},{"type":"ticker","product_id":"ETH-USD","price":"3301.5","volume_24_h":"91234.5","low_24_h":"3210.11","high_24_h":"3333.33","low_52_w":"2100","high_52_w":"4100","price_percent_chg_24_h":"-0.51","best_bid":"3301.49","best_bid_quantity":"12","best_ask":"3301.5","best_ask_quantity":"3.25"}]}]})";

// A market_trades update with one trade (the usual case) and one with four, newest first as on the wire.
constexpr std::string_view trades_one =
    R"({"channel":"market_trades","client_id":"","timestamp":"2025-01-15T14:03:07.418236Z","sequence_num":9,"events":[{"type":"update","trades":[{"trade_id":"635541197","product_id":"BTC-USD","price":"97013.5","size":"0.00042","side":"BUY","time":"2025-01-15T14:03:07.4Z"}]}]})";
constexpr std::string_view trades_four =
    R"({"channel":"market_trades","client_id":"","timestamp":"2025-01-15T14:03:07.418236Z","sequence_num":10,"events":[{"type":"update","trades":[{"trade_id":"635541201","product_id":"BTC-USD","price":"97013.52","size":"0.0015","side":"SELL","time":"2025-01-15T14:03:07.41Z"},{"trade_id":"635541200","product_id":"BTC-USD","price":"97013.51","size":"0.25","side":"SELL","time":"2025-01-15T14:03:07.405Z"},{"trade_id":"635541199","product_id":"BTC-USD","price":"97013.5","size":"1.5","side":"BUY","time":"2025-01-15T14:03:07.401Z"},{"trade_id":"635541198","product_id":"BTC-USD","price":"97013.49","size":"0.00042","side":"BUY","time":"2025-01-15T14:03:07.4Z"}]}]})";

constexpr std::string_view heartbeat =
    R"({"channel":"heartbeats","client_id":"","timestamp":"2025-01-15T14:03:08.000112Z","sequence_num":8,"events":[{"current_time":"2025-01-15 14:03:08.0001 +0000 UTC m=+4021.53","heartbeat_counter":4021}]})";

void decode_message(benchmark::State& state, std::string_view text, std::uint32_t expected_ticks,
                    std::uint32_t expected_trades = 0) {
    std::vector<char> buffer(text.size() + cbtrade::coinbase_decoder_padding, '\0');
    std::copy(text.begin(), text.end(), buffer.begin());
    CoinbaseDecoder decoder(products);
    std::array<Tick, 8> out{};
    std::array<cbtrade::Trade, 8> trades{};
    cbtrade::bench::LatencySamples samples;
    std::uint64_t tsc = 0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < batch; ++i) {
            const cbtrade::DecodeResult result =
                decoder.decode(buffer.data(), text.size(), buffer.size(), ++tsc, out, trades);
            benchmark::DoNotOptimize(result);
            benchmark::DoNotOptimize(out.data());
            benchmark::DoNotOptimize(trades.data());
        }
        samples.add(std::chrono::steady_clock::now() - start, batch);
    }
    const std::uint64_t messages = static_cast<std::uint64_t>(state.iterations()) * batch;
    if (decoder.counters().ticks != messages * expected_ticks) state.SkipWithError("unexpected tick count");
    if (decoder.counters().trades != messages * expected_trades) state.SkipWithError("unexpected trade count");
    state.SetItemsProcessed(static_cast<std::int64_t>(messages));
    state.SetBytesProcessed(static_cast<std::int64_t>(messages * text.size()));
    // kIsRate|kInvert turns "messages" into seconds per message; Google Benchmark prints it scaled (ns).
    state.counters["time_per_msg"] =
        benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    samples.report(state);
}

void BM_decode_ticker_update_445B(benchmark::State& state) {
    decode_message(state, ticker_update, 1);
}
void BM_decode_ticker_two_products(benchmark::State& state) {
    decode_message(state, ticker_two_products, 2);
}
void BM_decode_market_trades_one(benchmark::State& state) {
    decode_message(state, trades_one, 0, 1);
}
void BM_decode_market_trades_four_newest_first(benchmark::State& state) {
    decode_message(state, trades_four, 0, 4);
}
void BM_decode_heartbeat(benchmark::State& state) {
    decode_message(state, heartbeat, 0);
}

void BM_parse_rfc3339_ns(benchmark::State& state) {
    std::string_view text = "2025-01-15T14:03:07.418236Z";
    for (auto _ : state) {
        benchmark::DoNotOptimize(text);
        benchmark::DoNotOptimize(cbtrade::parse_rfc3339_ns(text));
    }
}

BENCHMARK(BM_decode_ticker_update_445B);
BENCHMARK(BM_decode_ticker_two_products);
BENCHMARK(BM_decode_market_trades_one);
BENCHMARK(BM_decode_market_trades_four_newest_first);
BENCHMARK(BM_decode_heartbeat);
BENCHMARK(BM_parse_rfc3339_ns);

}  // namespace

BENCHMARK_MAIN();
