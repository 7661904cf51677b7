// Tick to decision through the daemon's own pipeline, beside the conventional baseline doing the
// same job (issue 10 item 11).
//
// The exchange is bench/loopback_feed_server.hpp in this process: TLS 1.3 (AES-128-GCM) on
// 127.0.0.1, a ticker and a market_trades snapshot, then one message per `pace` (50 us asked; the
// sleep makes it ~60-110 us): market_trades updates of one BTC-USD trade each, every tenth message a
// ticker update. Trade k is stamped at exchange time t0 + k ms, t0 the end of the 600-candle
// synthetic history the model is fitted on, so the record that reaches the exec stage says which
// message brought it, and the server's stamp of when it handed that message to TLS.
//
// BM_t2d/fused_*, BM_t2d/split_*: cbtrade's Pipeline (pipeline/pipeline.hpp) as `cbtrade live`
//   builds it: CoinbaseFeed (io_uring, wolfSSL, WebSocket, simdjson decoder) as the FeedStage,
//   SignalStage, ExecStage (Trader + PaperBroker), OpsStage, placed by CPU_FEED/CPU_SIGNAL/CPU_EXEC.
//   Fused: the three hot stages on one thread pinned to core A. Split: feed on core A, signal and
//   exec on core B -- only two threads, because this kind of machine has two cores (with four, the
//   daemon gives each stage its own). _spin and _yield: IDLE_POLICY. USE_TICK_PRICE=true, so the
//   signal stage evaluates the model on every trade and every trade's record carries a Decision:
//   that is what is timed, when the exec stage takes it off ring B (ExecProbe, the same point as
//   the daemon's bot_tick_to_decision_seconds).
// BM_t2d/baseline: the same job built the usual way: a Boost.Beast WebSocket client over Asio SSL
//   (OpenSSL, the same cipher suite) reading on one thread, each message parsed by Boost.JSON, the
//   trades handed over a std::mutex + std::condition_variable queue to a consumer thread, which
//   builds the candles and evaluates the same model (core/candle_builder, core/signal_engine) and
//   holds the Decision. Neither thread pinned, as such code usually runs.
//
// Counters, ns, over 100,000 decisions after 20,000 of warm-up:
//   p50_ns p99_ns p999_ns max_ns          exchange send -> decision held: everything between the
//                                         two ends, the loopback TCP and the wake-ups included
//   rx_p50_ns rx_p99_ns rx_p999_ns rx_max_ns   tick to decision: from the moment user space got the
//                                         bytes (ours: the io_uring completion, Trade::receive_tsc;
//                                         the baseline's: its blocking socket read returning) to
//                                         the decision held
//   hot_allocs                            heap allocations (malloc, calloc, realloc, aligned forms;
//                                         operator new ends in them) made by the hot threads (cbt-*
//                                         but cbt-ops) during the measured window; must be 0
//   baseline_allocs_per_decision          the baseline's threads, the same count per decision
// Cores: BENCH_CORES="A,B" (default: the first two allowed). The exchange thread runs on core B
// unless BENCH_EXCHANGE_CORE says another core or "none". BENCH_RT_PRIORITY=N runs our hot threads
// at SCHED_FIFO N (RT_PRIORITY) where permitted.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/beast_baseline_client.hpp"
#include "bench/bench_cores.hpp"
#include "bench/loopback_feed_server.hpp"
#include "bench/percentiles.hpp"
#include "core/bot_metrics.hpp"
#include "core/candle_builder.hpp"
#include "core/config.hpp"
#include "core/cpu.hpp"
#include "core/metrics.hpp"
#include "core/placement.hpp"
#include "core/random.hpp"
#include "core/rfc3339.hpp"
#include "core/signal_engine.hpp"
#include "core/thread_placement.hpp"
#include "feeds/coinbase_feed.hpp"
#include "feeds/csv_candles.hpp"
#include "feeds/synthetic_market.hpp"
#include "io/uring_loop.hpp"
#include "pipeline/feed_stage.hpp"
#include "pipeline/history.hpp"
#include "pipeline/pipeline.hpp"
#include "tests/pipeline/scripted_source.hpp"
#include "tests/pipeline/counting_malloc.hpp"  // this program's malloc: counts allocations by thread

namespace {

using namespace cbtrade;
using bench::LoopbackFeedServer;
namespace alloc = testing::alloc;

constexpr std::uint64_t warm_up_decisions = 20'000;
constexpr std::uint64_t measured_decisions = 100'000;
constexpr std::int64_t trade_step_ns = 1'000'000;     // exchange time between trades
constexpr std::int64_t max_run_ns = 120'000'000'000;  // a busy machine still ends the run
constexpr auto exchange_pace = std::chrono::microseconds(50);

const TscClock& tsc_clock() {
    static const TscClock clock = TscClock::calibrate(50);
    return clock;
}

// ---- the market: history for the model, and the live messages continuing it ----------------------

struct BenchMarket {
    std::vector<Candle> history;
    std::string history_path;
    std::int64_t t0_ns = 0;  // the end of the history: trade k is at t0 + k * trade_step_ns
    double base_price = 0;

    BenchMarket() {
        SyntheticMarketParams p;
        p.seed = 11;
        SyntheticMarket m(p);
        history = m.take(600);
        std::string text = candles_csv_header();
        for (const Candle& c : history) append_candle_csv(text, c);
        history_path = "/tmp/cbtrade_bench_t2d_" + std::to_string(::getpid()) + ".csv";
        std::ofstream(history_path, std::ios::binary) << text;
        t0_ns = (history.back().time_s + 60) * 1'000'000'000;
        base_price = history.back().close;
    }
    ~BenchMarket() { std::remove(history_path.c_str()); }

    [[nodiscard]] std::int64_t trade_time_ns(std::uint64_t seq) const noexcept {
        return t0_ns + static_cast<std::int64_t>(seq) * trade_step_ns;
    }
    [[nodiscard]] std::uint64_t seq_of(std::int64_t exchange_time_ns) const noexcept {
        return exchange_time_ns > t0_ns ? static_cast<std::uint64_t>((exchange_time_ns - t0_ns) / trade_step_ns) : 0;
    }
    // A slow wave with noise around the last close: the model sees a market that moves.
    [[nodiscard]] double price(std::uint64_t seq) const noexcept {
        SplitMix64 r(seq * 0x9E3779B97F4A7C15ull + 1);
        const double noise = static_cast<double>(r.next() >> 11) * 0x1.0p-53 - 0.5;
        return std::round(base_price * (1 + 0.004 * std::sin(static_cast<double>(seq) * 2e-4) + 0.0004 * noise) * 100) /
               100;
    }

    // Message `seq` as the exchange sends it (the server frames and stamps it).
    [[nodiscard]] std::string message(std::uint64_t seq) const {
        if (seq == 1) return testing::ticker_json(seq, true, base_price);
        // The snapshot's one trade lies inside the history (the signal stage skips it).
        if (seq == 2) return trades_json(seq, "snapshot", 1, t0_ns - 30'000'000'000, base_price);
        if (seq % 10 == 0) return testing::ticker_json(seq, false, price(seq));
        return trades_json(seq, "update", seq, trade_time_ns(seq), price(seq));
    }

    static std::string trades_json(std::uint64_t seq, const char* type, std::uint64_t trade_id, std::int64_t time_ns,
                                   double price) {
        char time[rfc3339_max_chars];
        const std::size_t time_len = format_rfc3339(time_ns, 6, time);
        char buf[512];
        const int n = std::snprintf(
            buf, sizeof buf,
            R"({"channel":"market_trades","client_id":"","timestamp":"%.*s","sequence_num":%llu,)"
            R"("events":[{"type":"%s","trades":[{"trade_id":"%llu","product_id":"BTC-USD","price":"%.2f",)"
            R"("size":"0.0125","side":"%s","time":"%.*s"}]}]})",
            static_cast<int>(time_len), time, static_cast<unsigned long long>(seq), type,
            static_cast<unsigned long long>(trade_id), price, seq % 2 ? "BUY" : "SELL", static_cast<int>(time_len),
            time);
        return {buf, static_cast<std::size_t>(n)};
    }
};

const BenchMarket& market() {
    static const BenchMarket m;
    return m;
}

// The configuration both sides decide with; ours adds the URL and placement.
Config bench_config(const std::vector<std::pair<std::string, std::string>>& extra) {
    ConfigEntries e;
    e["USE_TICK_PRICE"] = ConfigEntry{"true", "bench"};
    e["PRODUCT_ID"] = ConfigEntry{"BTC-USD", "bench"};
    for (const auto& [k, v] : extra) e[k] = ConfigEntry{v, "bench"};
    return apply_entries(e).config;
}

// ---- what is timed ----------------------------------------------------------------------------------

// Held by the thread that takes the decisions (our exec stage, the baseline's consumer): times each
// one, and switches the allocation count on for the measured window.
class DecisionClock {
public:
    explicit DecisionClock(const LoopbackFeedServer& server) : server_(server) {}

    // A Decision for the trade at exchange_time_ns is held at held_tsc; receive_tsc 0: not known.
    void on_decision(std::int64_t exchange_time_ns, std::uint64_t receive_tsc, std::uint64_t held_tsc) noexcept {
        const std::uint64_t n = ++decisions_;
        if (n == warm_up_decisions + 1) alloc::counting.store(true, std::memory_order_relaxed);
        if (n > warm_up_decisions && n <= warm_up_decisions + measured_decisions) {
            const TscClock& clock = tsc_clock();
            if (receive_tsc != 0) rx_.add_ns(static_cast<double>(clock.to_ns(held_tsc, receive_tsc)));
            const std::uint64_t sent = server_.send_tsc(market().seq_of(exchange_time_ns));
            if (sent != 0) send_.add_ns(static_cast<double>(clock.to_ns(held_tsc, sent)));
            else ++unstamped_;
        }
        if (n == warm_up_decisions + measured_decisions) {
            alloc::counting.store(false, std::memory_order_relaxed);
            done_.store(true, std::memory_order_release);
        }
    }
    [[nodiscard]] bool done() const noexcept { return done_.load(std::memory_order_acquire); }

    // After the deciding thread stopped.
    void report(benchmark::State& state) {
        send_.report(state);
        rx_.report(state, "rx_");
        state.counters["decisions"] = static_cast<double>(send_.size());
        state.counters["unstamped"] = static_cast<double>(unstamped_);
    }

private:
    const LoopbackFeedServer& server_;
    bench::LatencySamples send_{measured_decisions + 16};
    bench::LatencySamples rx_{measured_decisions + 16};
    std::uint64_t decisions_ = 0;
    std::uint64_t unstamped_ = 0;
    std::atomic<bool> done_{false};
};

class ExecDecisionProbe final : public ExecProbe {
public:
    explicit ExecDecisionProbe(DecisionClock& clock) : clock_(clock) {}
    void on_record(const PriceRecord& r, std::uint64_t held_tsc) noexcept override {
        // Trade records with their Decision; candle-close records carry the closing trade's TSC
        // but not its time, and the next trade record times that trade anyway.
        if ((r.flags & price_flag_has_price) && (r.flags & price_flag_has_decision))
            clock_.on_decision(r.exchange_time_ns, r.receive_tsc, held_tsc);
    }

private:
    DecisionClock& clock_;
};

int exchange_core() {
    if (const char* env = std::getenv("BENCH_EXCHANGE_CORE")) {
        if (std::strcmp(env, "none") == 0) return -1;
        return std::atoi(env);
    }
    return bench::bench_cores().second;
}

// The exchange, listening; null after telling the state why not.
std::unique_ptr<LoopbackFeedServer> start_exchange(benchmark::State& state) {
    auto server = std::make_unique<LoopbackFeedServer>(
        exchange_pace, [](std::uint64_t seq) { return market().message(seq); }, exchange_core());
    if (server->listening()) return server;
    state.SkipWithError("cannot listen on loopback");
    return nullptr;
}

// ---- ours ---------------------------------------------------------------------------------------------

void BM_t2d(benchmark::State& state, bool split, const char* idle) {
    const auto [core_a, core_b] = bench::bench_cores();
    if (split && core_a == core_b) {
        state.SkipWithError("split needs two cores (BENCH_CORES=A,B)");
        return;
    }
    alloc::reset();
    const BenchMarket& m = market();
    const std::unique_ptr<LoopbackFeedServer> exchange = start_exchange(state);
    if (!exchange) return;
    const LoopbackFeedServer& server = *exchange;
    const char* rt = std::getenv("BENCH_RT_PRIORITY");
    const std::string a = std::to_string(core_a), b = std::to_string(split ? core_b : core_a);
    Config c;
    try {
        c = bench_config({{"COINBASE_WS_URL", "wss://localhost:" + std::to_string(server.port())},
                          {"TLS_CA_FILE", bench::bench_pki().ca_pem},
                          {"CPU_FEED", a},
                          {"CPU_SIGNAL", b},
                          {"CPU_EXEC", b},
                          {"CPU_OPS", "none"},
                          {"IDLE_POLICY", idle},
                          {"RT_PRIORITY", rt != nullptr ? rt : "0"}});
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    const PreparedHistory h = prepare_history(c, m.history_path);
    if (!h.model) {
        state.SkipWithError(("no model: " + h.not_trading).c_str());
        return;
    }
    MetricsRegistry registry;
    BotMetrics metrics(registry, BuildInfo{});
    const TscClock& clock = tsc_clock();
    io::UringLoop loop;
    if (const int rc = loop.init(256); rc < 0) {
        state.SkipWithError(io::uring_unavailable_message(rc).c_str());
        return;
    }
    CoinbaseFeed feed(loop, feed_options_from(c));
    std::string error;
    if (feed.start(error) < 0) {
        state.SkipWithError(error.c_str());
        return;
    }
    DecisionClock decisions(server);
    ExecDecisionProbe probe(decisions);
    PipelineSetup s = testing::setup_from(c, h, metrics, clock);
    s.exec_probe = &probe;
    FeedStage* feed_stage = nullptr;
    s.source = [&](MarketRing& out, BotMetrics& bm) {
        auto stage = std::make_unique<FeedStage>(loop, feed, out, bm, clock);
        feed_stage = stage.get();
        return std::unique_ptr<SourceStage>(std::move(stage));
    };
    std::string label = "exchange@" + (exchange_core() < 0 ? std::string("any") : std::to_string(exchange_core()));
    PipelineSummary summary;
    {
        Pipeline p(std::move(s));
        for (const std::string& line : p.start()) label += " " + line;
        for (auto _ : state) {
            const std::int64_t deadline = now_ns() + max_run_ns;
            while (!decisions.done() && now_ns() < deadline && !feed_stage->failed())
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        alloc::counting.store(false);
        p.stop();
        summary = p.summary();
    }
    if (!decisions.done()) {
        state.SkipWithError(feed.last_error()[0] != '\0' ? feed.last_error()
                                                         : "fewer decisions than measured in 120 s");
        return;
    }
    decisions.report(state);
    // -1: a sanitizer build, where nothing is counted.
    state.counters["hot_allocs"] = alloc::available() ? static_cast<double>(alloc::hot_allocations.load()) : -1;
    state.counters["ring_full"] =
        static_cast<double>(summary.ring_full[0] + summary.ring_full[1] + summary.ring_full[2]);
    state.counters["gaps"] = static_cast<double>(summary.gaps);
    state.counters["reconnects"] = static_cast<double>(summary.reconnects);
    state.counters["metric_t2d_p50_ns"] = summary.t2d_p50_ns;  // the daemon's own histogram, for comparison
    state.SetLabel(label);
}

// Each placement with the production idle policy (spin) and with yield, which shares a core
// better on a machine where the cores are not the daemon's alone.
BENCHMARK_CAPTURE(BM_t2d, fused_spin, false, "spin")->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_t2d, fused_yield, false, "yield")->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_t2d, split_spin, true, "spin")->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_t2d, split_yield, true, "yield")->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- the baseline ---------------------------------------------------------------------------------------

void BM_t2d_baseline(benchmark::State& state) {
    alloc::reset();
    const BenchMarket& m = market();
    const std::unique_ptr<LoopbackFeedServer> exchange = start_exchange(state);
    if (!exchange) return;
    const LoopbackFeedServer& server = *exchange;
    const Config c = bench_config({});
    const PreparedHistory h = prepare_history(c, m.history_path);
    if (!h.model) {
        state.SkipWithError(("no model: " + h.not_trading).c_str());
        return;
    }
    std::unique_ptr<bench::BeastBaselineFeed> client;
    try {
        client = std::make_unique<bench::BeastBaselineFeed>("localhost", server.port(), bench::bench_pki().ca_pem);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    DecisionClock decisions(server);
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<bench::BaselineTrade> queue;
    bool finished = false;
    std::atomic<bool> stop{false};
    std::string failure;

    // The consumer: candles and the model, as the signal stage does them (USE_TICK_PRICE).
    std::thread consumer([&] {
        (void)pthread_setname_np(pthread_self(), "base-decide");
        SignalEngine engine(c);
        for (const Candle& candle : h.candles) (void)engine.on_candle(candle);
        engine.set_model(&*h.model);
        SignalEngine preview(c);
        CandleBuilder builder(granularity_seconds(c.granularity), 2'000'000'000, CandleBuilder::FirstInterval::emit);
        const std::int64_t history_end_ns = m.t0_ns;
        std::array<Candle, 64> closed{};
        for (;;) {
            std::unique_lock lock(mutex);
            ready.wait(lock, [&] { return !queue.empty() || finished; });
            if (queue.empty()) return;
            const bench::BaselineTrade bt = queue.front();
            queue.pop_front();
            lock.unlock();
            if (bt.exchange_time_ns < history_end_ns) continue;
            Trade t{};
            t.price = bt.price;
            t.size = bt.size;
            t.exchange_time_ns = bt.exchange_time_ns;
            t.trade_id = bt.trade_id;
            for (std::size_t n = builder.on_trade(t, closed), i = 0; i < n; ++i) (void)engine.on_candle(closed[i]);
            const Candle* open = builder.open_candle();
            if (open == nullptr || !engine.features().warm()) continue;
            Candle hypothetical = *open;
            hypothetical.close = t.price;
            preview = engine;
            if (preview.on_candle(hypothetical)) decisions.on_decision(t.exchange_time_ns, bt.receive_tsc, read_tsc());
            if (decisions.done()) stop.store(true, std::memory_order_relaxed);
        }
    });
    std::thread reader([&] {
        (void)pthread_setname_np(pthread_self(), "base-read");
        try {
            while (!stop.load(std::memory_order_relaxed)) {
                for (const bench::BaselineTrade& t : client->read_trades()) {
                    {
                        std::lock_guard lock(mutex);
                        queue.push_back(t);
                    }
                    ready.notify_one();
                }
            }
        } catch (const std::exception& e) {
            failure = e.what();
        }
        {
            std::lock_guard lock(mutex);
            finished = true;
        }
        ready.notify_one();
    });
    for (auto _ : state) {
        const std::int64_t deadline = now_ns() + max_run_ns;
        while (!decisions.done() && now_ns() < deadline && !stop.load(std::memory_order_relaxed))
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    alloc::counting.store(false);
    stop.store(true, std::memory_order_relaxed);
    reader.join();  // the exchange keeps sending: its next message ends the blocking read
    consumer.join();
    client.reset();
    if (!decisions.done()) {
        state.SkipWithError(failure.empty() ? "fewer decisions than measured in 120 s" : failure.c_str());
        return;
    }
    decisions.report(state);
    state.counters["baseline_allocs_per_decision"] =
        static_cast<double>(alloc::baseline_allocations.load()) / static_cast<double>(measured_decisions);
    state.SetLabel("exchange@" + (exchange_core() < 0 ? std::string("any") : std::to_string(exchange_core())) +
                   " base-read, base-decide: not pinned");
}
BENCHMARK(BM_t2d_baseline)->Name("BM_t2d/baseline")->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
