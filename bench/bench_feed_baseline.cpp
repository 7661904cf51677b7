// Our feed path side by side with the conventional baseline (issue 10 item 11), against the same
// loopback TLS server (bench/loopback_feed_server.hpp), which stamps each ticker message with
// read_tsc() just before handing it to TLS. Each benchmark measures, per message, exchange send ->
// a consumer thread holding the parsed tick: TLS on both ends, the loopback socket, WebSocket
// framing, JSON, and the hand-over between two threads.
//
// BM_feed_ours_split: CoinbaseFeed (io_uring, wolfSSL, our frame parser, simdjson) polled by a feed
//   thread pinned to core A, each Tick pushed into a core/spsc_ring.hpp SpscRing, a consumer thread
//   pinned to core B spinning on it: the daemon's split placement.
// BM_feed_ours_fused: the same feed polled by one pinned thread that consumes the ticks itself (the
//   daemon's fused placement, used with fewer than 4 cores).
// BM_feed_baseline: bench/beast_baseline_client.hpp (Boost.Beast over Asio SSL, Boost.JSON) reading
//   on one thread, a std::mutex + std::condition_variable queue to a consumer thread, neither
//   pinned: the job as it is usually built.
//
// p50/p99/p99.9/max (ns) are counters; bench/run_suite.sh divides ours by the baseline's (targets:
// p50 at most 1/3, p99 at most 1/5). The argument is the server's pause between messages (us).
// Cores: BENCH_CORES="A,B" (default: the first two allowed). On a machine shared with other work
// the spinning threads compete with it: read the medians, and the tails as that machine's.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/beast_baseline_client.hpp"
#include "bench/bench_cores.hpp"
#include "bench/loopback_feed_server.hpp"
#include "bench/percentiles.hpp"
#include "core/cpu.hpp"
#include "core/spsc_ring.hpp"
#include "core/thread_placement.hpp"
#include "feeds/coinbase_feed.hpp"
#include "io/uring_loop.hpp"

namespace {

using namespace cbtrade;

constexpr std::uint64_t warm_up_messages = 200;
constexpr std::uint64_t measured_messages = 20'000;
constexpr std::int64_t max_run_ns = 30'000'000'000;  // a busy machine still ends the run

const TscClock& tsc_clock() {
    static const TscClock clock = TscClock::calibrate(50);
    return clock;
}

using bench::AffinityGuard;
using bench::bench_cores;

// Latency of one message: now minus the server's stamp for its sequence number.
struct LatencyRecorder {
    const bench::LoopbackFeedServer& server;
    bench::LatencySamples samples{measured_messages + 16};
    std::uint64_t seen = 0;
    std::uint64_t unstamped = 0;

    void record(std::uint64_t sequence_num, std::uint64_t now_tsc) {
        if (++seen <= warm_up_messages) return;
        const std::uint64_t sent = server.send_tsc(sequence_num);
        if (sent == 0) {
            ++unstamped;
            return;
        }
        samples.add_ns(static_cast<double>(tsc_clock().to_ns(now_tsc, sent)));
    }
    [[nodiscard]] bool done() const { return seen >= warm_up_messages + measured_messages; }
    void report(benchmark::State& state) {
        samples.report(state);
        state.counters["messages"] = static_cast<double>(samples.size());
        state.counters["unstamped"] = static_cast<double>(unstamped);
    }
};

// Our threads' idle policy when a poll found nothing (IDLE_POLICY=yield in the daemon): give the
// core to any runnable thread. With spinning instead, on a machine with as few cores as threads,
// the in-process exchange would wait for a core while our threads spin, and its stamp would time
// that wait: a measurement of this box, not of the feed. The production placement (a core per hot
// thread, the exchange elsewhere) spins.
inline void idle() noexcept {
    sched_yield();
}

struct OurFeed {
    io::UringLoop loop;
    std::unique_ptr<CoinbaseFeed> feed;
    std::string error;

    bool start(std::uint16_t port) {
        if (const int rc = loop.init(256); rc < 0) {
            error = io::uring_unavailable_message(rc);
            return false;
        }
        FeedOptions o;
        o.url = "wss://localhost:" + std::to_string(port);
        o.products = {"BTC-USD"};
        o.ca_file = bench::bench_pki().ca_pem;
        o.ciphers = "TLS13-AES128-GCM-SHA256";
        o.stale_sec = 60;
        o.trades = false;  // the server speaks ticker only
        feed = std::make_unique<CoinbaseFeed>(loop, o);
        if (feed->start(error) != 0) return false;
        std::vector<Tick> ticks(64);
        const std::int64_t deadline = now_ns() + 5'000'000'000;
        while (!feed->fresh() && now_ns() < deadline && !feed->failed()) (void)feed->poll(now_ns(), ticks);
        if (!feed->fresh()) error = feed->last_error()[0] != '\0' ? feed->last_error() : "no snapshot within 5 s";
        return feed->fresh();
    }
    // The feed connected to `server` and fresh; false after reporting why on `state`.
    bool start_against(const bench::LoopbackFeedServer& server, benchmark::State& state) {
        if (!server.listening()) {
            state.SkipWithError("cannot listen on loopback");
            return false;
        }
        if (!start(server.port())) {
            state.SkipWithError(error.c_str());
            return false;
        }
        return true;
    }
    ~OurFeed() {
        if (feed) {
            feed->stop();
            for (int i = 0; i < 20; ++i) (void)loop.wait(1'000'000);
        }
    }
};

void BM_feed_ours_split(benchmark::State& state) {
    const auto [core_a, core_b] = bench_cores();
    if (core_a == core_b) {
        state.SkipWithError("needs two cores (BENCH_CORES=A,B)");
        return;
    }
    bench::LoopbackFeedServer server(std::chrono::microseconds(state.range(0)));
    OurFeed ours;
    if (!ours.start_against(server, state)) return;
    AffinityGuard restore;
    (void)pin_current_thread(core_a);
    auto ring = std::make_unique<SpscRing<Tick, 4096>>();
    LatencyRecorder recorder{server};
    std::atomic<bool> stop{false};
    std::thread consumer([&, core = core_b] {
        (void)pin_current_thread(core);
        Tick t{};
        while (!stop.load(std::memory_order_relaxed)) {
            if (!ring->try_pop(t)) {
                idle();
                continue;
            }
            recorder.record(t.sequence_num, read_tsc());
        }
    });
    std::vector<Tick> ticks(256);
    std::uint64_t pushed = 0;
    for (auto _ : state) {
        const std::int64_t deadline = now_ns() + max_run_ns;
        while (pushed < warm_up_messages + measured_messages && now_ns() < deadline && !ours.feed->failed()) {
            const std::size_t n = ours.feed->poll(now_ns(), ticks);
            for (std::size_t i = 0; i < n; ++i) pushed += ring->try_push(ticks[i]) ? 1 : 0;
            if (n == 0) idle();
        }
    }
    while (!ring->empty()) std::this_thread::yield();
    stop.store(true, std::memory_order_relaxed);
    consumer.join();
    recorder.report(state);
    state.counters["ring_full"] = static_cast<double>(ring->full_count());
}
BENCHMARK(BM_feed_ours_split)->Arg(50)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_feed_ours_fused(benchmark::State& state) {
    bench::LoopbackFeedServer server(std::chrono::microseconds(state.range(0)));
    OurFeed ours;
    if (!ours.start_against(server, state)) return;
    AffinityGuard restore;
    (void)pin_current_thread(bench_cores().first);
    LatencyRecorder recorder{server};
    std::vector<Tick> ticks(256);
    for (auto _ : state) {
        const std::int64_t deadline = now_ns() + max_run_ns;
        while (!recorder.done() && now_ns() < deadline && !ours.feed->failed()) {
            const std::size_t n = ours.feed->poll(now_ns(), ticks);
            for (std::size_t i = 0; i < n; ++i) recorder.record(ticks[i].sequence_num, read_tsc());
            if (n == 0) idle();
        }
    }
    recorder.report(state);
}
BENCHMARK(BM_feed_ours_fused)->Arg(50)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_feed_baseline(benchmark::State& state) {
    bench::LoopbackFeedServer server(std::chrono::microseconds(state.range(0)));
    if (!server.listening()) {
        state.SkipWithError("cannot listen on loopback");
        return;
    }
    std::unique_ptr<bench::BeastBaselineFeed> client;
    try {
        client = std::make_unique<bench::BeastBaselineFeed>("localhost", server.port(), bench::bench_pki().ca_pem);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    LatencyRecorder recorder{server};
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<bench::BaselineTick> queue;
    bool finished = false;
    std::thread consumer([&] {
        for (;;) {
            std::unique_lock lock(mutex);
            ready.wait(lock, [&] { return !queue.empty() || finished; });
            if (queue.empty()) return;
            const bench::BaselineTick t = queue.front();
            queue.pop_front();
            lock.unlock();
            recorder.record(t.sequence_num, read_tsc());
        }
    });
    std::uint64_t queued = 0;
    std::string failure;
    for (auto _ : state) {
        const std::int64_t deadline = now_ns() + max_run_ns;
        try {
            while (queued < warm_up_messages + measured_messages && now_ns() < deadline) {
                for (const bench::BaselineTick& t : client->read_ticks()) {
                    {
                        std::lock_guard lock(mutex);
                        queue.push_back(t);
                    }
                    ready.notify_one();
                    ++queued;
                }
            }
        } catch (const std::exception& e) {
            failure = e.what();
        }
    }
    {
        std::lock_guard lock(mutex);
        finished = true;
    }
    ready.notify_one();
    consumer.join();
    client.reset();
    if (!failure.empty()) state.SkipWithError(failure.c_str());
    recorder.report(state);
}
BENCHMARK(BM_feed_baseline)->Arg(50)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
