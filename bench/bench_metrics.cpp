// The metrics hot path (a counter increment, a latency observation) and a full /metrics render of
// the contract. Hot-path figures are per operation, from batches of `batch` operations (see
// percentiles.hpp); the target is <= 5 ns each.
//   ninja -C build bench/bench_metrics && build/bench/bench_metrics
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "bench/percentiles.hpp"
#include "core/bot_metrics.hpp"
#include "core/metrics.hpp"

namespace {

using cbtrade::BotMetrics;
using cbtrade::BuildInfo;
using cbtrade::MetricsRegistry;

constexpr std::size_t batch = 1000;

void BM_counter_inc(benchmark::State& state) {
    MetricsRegistry registry;
    BotMetrics m(registry, BuildInfo{});
    cbtrade::Counter& c = m.ticks;
    cbtrade::bench::LatencySamples samples;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < batch; ++i) c.inc();
        samples.add(std::chrono::steady_clock::now() - start, batch);
    }
    const auto ops = static_cast<std::uint64_t>(state.iterations()) * batch;
    if (c.value() != ops) state.SkipWithError("lost increments");
    state.SetItemsProcessed(static_cast<std::int64_t>(ops));
    state.counters["time_per_op"] =
        benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    samples.report(state);
}

// Latencies spread over every bucket, as a live histogram sees them (the bucket index varies, so
// the search is not trivially predicted).
std::array<std::uint64_t, 1024> latency_mix() {
    std::array<std::uint64_t, 1024> ns{};
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (auto& v : ns) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = (x % 1000) << ((x >> 59) % 21);  // 0 .. ~1e9 ns, log-spread
    }
    return ns;
}

void BM_histogram_observe(benchmark::State& state) {
    MetricsRegistry registry;
    BotMetrics m(registry, BuildInfo{});
    cbtrade::Histogram& h = m.tick_to_decision;
    const auto ns = latency_mix();
    cbtrade::bench::LatencySamples samples;
    std::size_t k = 0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < batch; ++i) h.observe_ns(ns[k++ & (ns.size() - 1)]);
        samples.add(std::chrono::steady_clock::now() - start, batch);
    }
    const auto ops = static_cast<std::uint64_t>(state.iterations()) * batch;
    if (h.snapshot().count() != ops) state.SkipWithError("lost observations");
    state.SetItemsProcessed(static_cast<std::int64_t>(ops));
    state.counters["time_per_op"] =
        benchmark::Counter(static_cast<double>(ops), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    samples.report(state);
}

void BM_latency_bucket(benchmark::State& state) {
    const auto ns = latency_mix();
    std::size_t k = 0;
    for (auto _ : state) {
        const unsigned b = cbtrade::latency_bucket(ns[k++ & (ns.size() - 1)]);
        benchmark::DoNotOptimize(b);
    }
}

// The whole contract, as one scrape renders it (into a reused buffer, as a keep-alive connection would).
void BM_render_contract(benchmark::State& state) {
    MetricsRegistry registry;
    BotMetrics m(registry, BuildInfo{"0.1.0", "5.5.4 accelerated", "yes"});
    m.tick_to_decision.observe_ns(1200);
    m.equity_usd.set(1012.3456);
    std::string out;
    for (auto _ : state) {
        out.clear();
        registry.render_prometheus(out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(out.size()) * state.iterations());
    state.counters["bytes"] = static_cast<double>(out.size());
}

}  // namespace

BENCHMARK(BM_counter_inc);
BENCHMARK(BM_histogram_observe);
BENCHMARK(BM_latency_bucket);
BENCHMARK(BM_render_contract);

BENCHMARK_MAIN();
