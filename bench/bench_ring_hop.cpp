// The ring hop beside its physical floor, between the same two pinned cores (issue 10 item 11).
//
// BM_cache_line_ping_pong: the floor. Two threads, one atomic word each on its own cache line; the
// caller writes a sequence number into its line, the responder sees it and writes it back into the
// other. A round trip is two cache-line transfers between the cores, nothing else: no stage can
// hand a record over faster.
//
// BM_ring_hop: the same round trip through the daemon's own rings (pipeline/rings.hpp, on
// core/spsc_ring.hpp: Boost.Lockfree spsc_queue, storage apart from the indices): there on ring A
// (MarketRing, a 128-byte MarketEvent carrying a Trade, as feed -> signal), back on ring B
// (PriceRing, a 128-byte PriceRecord, as signal -> exec). The difference to the floor is what a ring
// adds: the index loads and stores, the full check, and a record of two cache lines instead of one
// word.
//
// Both report the one-way latency (half the round trip, TSC-timed one by one) as p50/p99/p99.9/max
// counters. Target: ring hop at most 1.5x the floor (bench/run_suite.sh checks the ratio).
// Cores: BENCH_CORES="A,B" (default: the first two allowed cores). Both threads spin, so on a
// machine with other work the tails show its scheduling (and a run stops after 5 s with fewer round
// trips: see the round_trips counter); the medians are the comparison.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>

#include "bench/bench_cores.hpp"
#include "bench/percentiles.hpp"
#include "core/cpu.hpp"
#include "core/thread_placement.hpp"
#include "pipeline/rings.hpp"

namespace {

using namespace cbtrade;

// At most this many round trips, and at most this long: on a machine busy with other work two
// spinning threads rarely run at once, and the run must still end.
constexpr std::int64_t round_trips = 200'000;
constexpr std::int64_t max_run_ns = 5'000'000'000;

const TscClock& tsc_clock() {
    static const TscClock clock = TscClock::calibrate(50);
    return clock;
}

using bench::AffinityGuard;
using bench::bench_cores;

struct alignas(cache_line) Line {
    std::atomic<std::uint64_t> value{0};
};

// Runs `responder` on core B while the benchmark thread (pinned to core A) runs `one_round_trip`
// round_trips times, timing each; reports half of each round trip.
template <class Responder, class RoundTrip>
void measure(benchmark::State& state, Responder responder, RoundTrip one_round_trip) {
    const auto [core_a, core_b] = bench_cores();
    if (core_a == core_b) {
        state.SkipWithError("needs two cores (BENCH_CORES=A,B)");
        return;
    }
    AffinityGuard restore;
    if (!pin_current_thread(core_a).ok) {
        state.SkipWithError(("cannot pin to core " + std::to_string(core_a)).c_str());
        return;
    }
    std::atomic<bool> stop{false};
    std::thread peer([&, core = core_b] {
        (void)pin_current_thread(core);
        responder(stop);
    });
    const TscClock& clock = tsc_clock();
    bench::LatencySamples samples(static_cast<std::size_t>(round_trips) + 16);
    std::uint64_t seq = 0;
    for (auto _ : state) {
        const std::int64_t deadline = now_ns() + max_run_ns;
        for (std::int64_t i = 0; i < round_trips; ++i) {
            if ((i & 1023) == 0 && now_ns() > deadline) break;
            ++seq;
            const std::uint64_t t0 = read_tsc();
            one_round_trip(seq);
            const std::uint64_t t1 = read_tsc();
            samples.add_ns(static_cast<double>(clock.to_ns(t1, t0)) / 2.0);
        }
    }
    stop.store(true, std::memory_order_relaxed);  // the responder spins on it too: no wake-up needed
    peer.join();
    state.SetItemsProcessed(static_cast<std::int64_t>(seq));
    state.counters["round_trips"] = static_cast<double>(seq);
    state.counters["core_a"] = core_a;
    state.counters["core_b"] = core_b;
    samples.report(state);
}

void BM_cache_line_ping_pong(benchmark::State& state) {
    Line ping, pong;
    measure(
        state,
        [&](const std::atomic<bool>& stop) {
            std::uint64_t expect = 1;
            while (!stop.load(std::memory_order_relaxed)) {
                if (ping.value.load(std::memory_order_acquire) != expect) continue;
                pong.value.store(expect++, std::memory_order_release);
            }
        },
        [&](std::uint64_t seq) {
            ping.value.store(seq, std::memory_order_release);
            while (pong.value.load(std::memory_order_acquire) != seq) {}
        });
}
BENCHMARK(BM_cache_line_ping_pong)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ring_hop(benchmark::State& state) {
    auto there = std::make_unique<MarketRing>();
    auto back = std::make_unique<PriceRing>();
    measure(
        state,
        [&](const std::atomic<bool>& stop) {
            MarketEvent e{};
            while (!stop.load(std::memory_order_relaxed)) {
                if (!there->try_pop(e)) continue;
                PriceRecord r{};
                r.exchange_time_ns = e.trade.exchange_time_ns;
                r.price = e.trade.price;
                r.receive_tsc = e.trade.receive_tsc;
                r.flags = price_flag_has_price;
                while (!back->try_push(r)) {}
            }
        },
        [&](std::uint64_t seq) {
            MarketEvent e{};
            e.kind = EventKind::trade;
            e.trade.trade_id = seq;
            e.trade.price = 42000.0;
            e.trade.exchange_time_ns = static_cast<std::int64_t>(seq);
            e.trade.receive_tsc = seq;
            while (!there->try_push(e)) {}
            PriceRecord r{};
            while (!back->try_pop(r)) {}
            benchmark::DoNotOptimize(r);
        });
    if (there->full_count() != 0 || back->full_count() != 0) state.SkipWithError("a ring was full");
}
BENCHMARK(BM_ring_hop)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
BENCHMARK_MAIN();
