// Feed stage latency: bytes received to Tick.
//
// BM_feed_loopback_tls: the whole feed stage (CoinbaseFeed: io_uring receive -> wolfSSL decrypt ->
// WebSocket frame -> simdjson decode) against an in-process wolfSSL server on a loopback socket.
// Per tick it records TSC(poll returned the Tick) - Tick::receive_tsc (the io_uring completion that
// brought the bytes), i.e. where tick-to-decision latency starts up to the Tick being in hand.
// The server sleeps 50 us (the benchmark argument) between messages so each is measured on its own.
//
// BM_feed_stage_in_memory: the same decrypt -> frame -> decode work with the ciphertext already in
// memory (no kernel, no io_uring): the CPU cost of the stage per message.
//
// Certificates are made at start with the openssl CLI (tests/io/test_pki.hpp).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <x86intrin.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/loopback_feed_server.hpp"
#include "bench/percentiles.hpp"
#include "core/cpu.hpp"
#include "feeds/coinbase_decoder.hpp"
#include "feeds/coinbase_feed.hpp"
#include "feeds/ws_frame.hpp"
#include "feeds/ws_handshake.hpp"
#include "feeds/ws_session.hpp"
#include "io/tls_client.hpp"
#include "io/uring_loop.hpp"
#include "tests/feeds/ticker_messages.hpp"
#include "tests/io/blocking_socket_transport.hpp"
#include "tests/io/memory_pipe.hpp"
#include "tests/io/test_pki.hpp"

namespace {

using namespace cbtrade;

double tsc_per_ns() {
    static const double ratio = [] {
        const auto t0 = std::chrono::steady_clock::now();
        const std::uint64_t c0 = __rdtsc();
        while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(50)) {}
        const std::uint64_t c1 = __rdtsc();
        const auto ns =
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
        return static_cast<double>(c1 - c0) / static_cast<double>(ns);
    }();
    return ratio;
}

using bench::bench_pki;
using testing::server_frame;
using testing::ticker_json;

void BM_feed_loopback_tls(benchmark::State& state) {
    if (!bench_pki().ok()) {
        state.SkipWithError(bench_pki().error.c_str());
        return;
    }
    io::UringLoop loop;
    if (const int rc = loop.init(256); rc < 0) {
        state.SkipWithError(io::uring_unavailable_message(rc).c_str());
        return;
    }
    bench::LoopbackFeedServer server(std::chrono::microseconds(state.range(0)));
    if (!server.listening()) {
        state.SkipWithError("cannot listen on loopback");
        return;
    }

    FeedOptions o;
    o.url = "wss://localhost:" + std::to_string(server.port());
    o.products = {"BTC-USD"};
    o.ca_file = bench_pki().ca_pem;
    o.ciphers = "TLS13-AES128-GCM-SHA256";
    o.stale_sec = 60;
    o.trades = false;  // the server here speaks ticker only (freshness would wait for a trades snapshot)
    CoinbaseFeed feed(loop, o);
    std::string error;
    if (feed.start(error) != 0) {
        state.SkipWithError(error.c_str());
        return;
    }
    std::vector<Tick> ticks(256);
    // Warm-up: connect, handshake, first snapshot.
    const std::int64_t deadline = now_ns() + 5'000'000'000;
    while (!feed.fresh() && now_ns() < deadline && !feed.failed()) (void)feed.poll(now_ns(), ticks);
    if (!feed.fresh()) {
        state.SkipWithError(feed.last_error()[0] ? feed.last_error() : "no snapshot within 5 s");
        return;
    }
    const double per_ns = tsc_per_ns();
    bench::LatencySamples samples;
    std::uint64_t total = 0;
    for (auto _ : state) {
        std::size_t n = 0;
        while (n == 0 && !feed.failed()) n = feed.poll(now_ns(), ticks);
        const std::uint64_t got = __rdtsc();
        for (std::size_t i = 0; i < n; ++i)
            samples.add(std::chrono::nanoseconds(
                            static_cast<std::int64_t>(static_cast<double>(got - ticks[i].receive_tsc) / per_ns)),
                        1);
        total += n;
        benchmark::DoNotOptimize(ticks.data());
    }
    feed.stop();
    for (int i = 0; i < 20; ++i) (void)loop.wait(1'000'000);
    samples.report(state);
    state.counters["ticks"] = static_cast<double>(total);
    state.counters["gaps"] = static_cast<double>(feed.counters().gaps.value());
}
BENCHMARK(BM_feed_loopback_tls)->Arg(50)->Unit(benchmark::kMicrosecond)->Iterations(5000)->UseRealTime();

// The stage's CPU work per message with the ciphertext already in memory.
void BM_feed_stage_in_memory(benchmark::State& state) {
    if (!bench_pki().ok()) {
        state.SkipWithError(bench_pki().error.c_str());
        return;
    }
    cbtrade::testing::MemoryPipe pipe(1 << 20);
    io::TlsContext server_ctx;
    io::TlsContext client_ctx;
    std::string error;
    if (server_ctx.init_server(bench_pki().server_pem, bench_pki().server_key, error) != 0 ||
        client_ctx.init_client({bench_pki().ca_pem, "TLS13-AES128-GCM-SHA256"}, error) != 0) {
        state.SkipWithError(error.c_str());
        return;
    }
    io::TlsSession server;
    io::TlsSession client;
    (void)server.start(server_ctx, pipe.b(), "");
    (void)client.start(client_ctx, pipe.a(), "localhost");
    int c = -EAGAIN;
    int sv = -EAGAIN;
    for (int i = 0; i < 50 && (c != 0 || sv != 0); ++i) {
        c = client.handshake();
        sv = server.handshake();
    }
    if (c != 0 || sv != 0) {
        state.SkipWithError(client.error()[0] != '\0' ? client.error() : "in-memory handshake did not finish");
        return;
    }
    ws::FrameParser parser;
    const std::string_view products[] = {"BTC-USD"};
    CoinbaseDecoder decoder(products);
    std::vector<Tick> ticks(64);
    std::vector<std::byte> plain(16384);
    // Each iteration: encrypt a batch of messages (timing paused), then decrypt + frame + decode
    // them all; the reported time per item is the stage's CPU cost per message.
    constexpr int batch = 64;
    std::uint64_t seq = 1;
    std::uint64_t total = 0;
    for (auto _ : state) {
        state.PauseTiming();
        for (int i = 0; i < batch; ++i, ++seq) {
            const std::string frame =
                server_frame(ticker_json(seq, seq == 1, 42000.0 + static_cast<double>(seq % 1000) * 0.01));
            (void)server.write({reinterpret_cast<const std::byte*>(frame.data()), frame.size()});
        }
        state.ResumeTiming();
        for (long n; (n = client.read(plain)) > 0;) {
            std::span<const char> in(reinterpret_cast<const char*>(plain.data()), static_cast<std::size_t>(n));
            while (!in.empty()) {
                const ws::FrameParseResult r = parser.parse(in);
                in = in.subspan(r.consumed);
                if (r.event.kind == ws::FrameEventKind::text) {
                    const DecodeResult d = decoder.decode(r.event.data, r.event.size,
                                                          r.event.size + ws::message_padding_bytes, __rdtsc(), ticks);
                    total += d.ticks_emitted;
                }
            }
        }
    }
    state.counters["ticks"] = static_cast<double>(total);
    state.SetItemsProcessed(static_cast<std::int64_t>(total));
}
BENCHMARK(BM_feed_stage_in_memory)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
