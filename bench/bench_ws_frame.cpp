// WebSocket frame parsing cost on the feed thread: the per-frame overhead (header decode, checks,
// event) and a whole ticker-sized text frame (~450 bytes, 16-bit length, copied into the padded
// message buffer). Each sample times a batch of frames parsed from one buffer, as arrive in one read.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/percentiles.hpp"
#include "feeds/ws_frame.hpp"

namespace {

using cbtrade::bench::LatencySamples;
using namespace cbtrade::ws;

constexpr std::size_t frames_per_batch = 64;

std::string server_frame(Opcode opcode, std::string_view payload) {
    std::string out(frame_size(payload.size(), false), '\0');
    if (encode_frame(out, FrameSpec{opcode, true, false, {}}, payload) != out.size()) std::abort();
    return out;
}

std::string ticker_json() {
    std::string json =
        R"({"channel":"ticker","client_id":"","timestamp":"2025-01-15T14:03:07.418236Z","sequence_num":7,)"
        R"("events":[{"type":"update","tickers":[{"type":"ticker","product_id":"BTC-USD","price":"97012.35",)"
        R"("volume_24_h":"8123.4471","low_24_h":"95110","high_24_h":"97890.01","low_52_w":"38501.02",)"
        R"("high_52_w":"108268.45","price_percent_chg_24_h":"1.23451","best_bid":"97012.34",)"
        R"("best_bid_quantity":"0.41","best_ask":"97012.35","best_ask_quantity":"0.0203"}]}]})";
    return json;
}

// Parses every frame in `stream` (frames_per_batch of them), timing the batch.
void parse_batches(benchmark::State& state, const std::string& stream) {
    FrameParser parser;
    LatencySamples samples;
    std::size_t bytes = 0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        std::span<const char> rest(stream.data(), stream.size());
        while (!rest.empty()) {
            const FrameParseResult r = parser.parse(rest);
            benchmark::DoNotOptimize(r.event.data);
            rest = rest.subspan(r.consumed);
        }
        samples.add(std::chrono::steady_clock::now() - start, frames_per_batch);
        bytes += stream.size();
    }
    if (parser.counters().of(FrameEventKind::protocol_error) != 0) state.SkipWithError("protocol error");
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frames_per_batch));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    samples.report(state);
}

// Empty-payload frames: what remains is the header decode, validation, counters and the event.
void BM_ws_frame_header(benchmark::State& state) {
    std::string stream;
    for (std::size_t i = 0; i < frames_per_batch; ++i) stream += server_frame(Opcode::binary, "");
    parse_batches(state, stream);
}
BENCHMARK(BM_ws_frame_header);

// A real-shaped ticker message (~450 bytes): header plus copy into the padded buffer.
void BM_ws_ticker_text_frame(benchmark::State& state) {
    const std::string json = ticker_json();
    state.counters["payload_bytes"] = static_cast<double>(json.size());
    std::string stream;
    for (std::size_t i = 0; i < frames_per_batch; ++i) stream += server_frame(Opcode::text, json);
    parse_batches(state, stream);
}
BENCHMARK(BM_ws_ticker_text_frame);

// The same frame arriving split in two reads at an awkward place (inside the 16-bit length).
void BM_ws_ticker_text_frame_split_header(benchmark::State& state) {
    const std::string frame = server_frame(Opcode::text, ticker_json());
    FrameParser parser;
    LatencySamples samples;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < frames_per_batch; ++i) {
            const FrameParseResult first = parser.parse(std::span(frame.data(), 3));
            const FrameParseResult second = parser.parse(std::span(frame.data() + 3, frame.size() - 3));
            benchmark::DoNotOptimize(first.event.data);
            benchmark::DoNotOptimize(second.event.data);
        }
        samples.add(std::chrono::steady_clock::now() - start, frames_per_batch);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frames_per_batch));
    samples.report(state);
}
BENCHMARK(BM_ws_ticker_text_frame_split_header);

// Outgoing side: a masked client frame (a subscribe message or a pong).
void BM_ws_encode_masked_frame(benchmark::State& state) {
    const std::string payload = R"({"type":"subscribe","channel":"ticker","product_ids":["BTC-USD"]})";
    std::vector<char> out(frame_size(payload.size(), true) * frames_per_batch);
    MaskKeyGenerator keys(1);
    LatencySamples samples;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        std::size_t at = 0;
        for (std::size_t i = 0; i < frames_per_batch; ++i)
            at += encode_client_frame(std::span(out.data() + at, out.size() - at), Opcode::text, payload, keys.next());
        benchmark::DoNotOptimize(out.data());
        samples.add(std::chrono::steady_clock::now() - start, frames_per_batch);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(frames_per_batch));
    samples.report(state);
}
BENCHMARK(BM_ws_encode_masked_frame);

}  // namespace

BENCHMARK_MAIN();
