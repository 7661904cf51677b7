// The pipeline's hot threads make no heap allocation after warm-up (issue 10 item 11): the whole
// Pipeline, fused on one thread and split over three, with USE_TICK_PRICE=true so every trade goes
// through the candle builder, a copy of the signal engine, the model, a Decision and the trader;
// 20,000 decisions of warm-up, then 100,000 counted by tests/pipeline/counting_malloc.hpp on every
// thread the plan calls hot. The feed's own receive path (TLS, WebSocket, decoder) has its check in
// tests/feeds/test_feed_allocations.cpp; bench_tick_to_decision counts the two together over TLS.
#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "core/metrics.hpp"
#include "core/thread_placement.hpp"
#include "feeds/csv_candles.hpp"
#include "pipeline/history.hpp"
#include "pipeline/pipeline.hpp"
#include "tests/pipeline/counting_malloc.hpp"  // this program's malloc
#include "tests/pipeline/scripted_source.hpp"

namespace cbtrade {
namespace {

namespace alloc = testing::alloc;

constexpr std::uint64_t warm_up = 20'000;
constexpr std::uint64_t counted = 100'000;
constexpr std::int64_t trade_step_ns = 1'000'000;

// Trades generated as they are pushed (a script of 120,000 events would itself be 15 MB): a fresh
// status, then one trade per millisecond of exchange time after the history, a clock event before
// every 100th trade (wall time running with exchange time), as the feed stage sends them.
class TradeStream final : public SourceStage {
public:
    TradeStream(MarketRing& out, std::int64_t t0_ns, double price, std::uint64_t trades)
        : out_(out), t0_ns_(t0_ns), price_(price), trades_(trades) {}

    std::string_view name() const noexcept override { return "trades"; }
    std::size_t poll(std::int64_t) noexcept override {
        std::size_t n = 0;
        if (finish_.load(std::memory_order_relaxed)) trades_ = std::min(trades_, next_ - 1);
        while (n < 8 && next_ <= trades_ && out_.write_available() > 0) {
            MarketEvent e{};
            if (next_ == 0) {
                e = testing::status_event(true);
            } else if (next_ % 100 == 1 && !clock_sent_) {
                e = testing::clock_event(time_of(next_));
                clock_sent_ = true;
            } else {
                const double p = price_ * (1 + 0.004 * std::sin(static_cast<double>(next_) * 2e-4) +
                                           0.0003 * static_cast<double>(next_ % 7));
                e = testing::trade_event(time_of(next_), p, 0.0125, next_);
                clock_sent_ = false;
            }
            e.push_tsc = read_tsc();
            if (e.kind == EventKind::trade) {
                e.trade.receive_tsc = e.push_tsc;
                ++next_;
            } else if (e.kind == EventKind::status) {
                ++next_;
            }
            (void)out_.try_push(e);
            ++n;
        }
        pushed_.store(next_, std::memory_order_release);
        return n;
    }
    bool drained(std::int64_t) const noexcept override { return next_ > trades_; }

    std::int64_t last_message_ns() const noexcept override { return now_ns(); }
    bool fresh() const noexcept override { return true; }
    std::string_view phase() const noexcept override { return "generated"; }
    std::uint64_t reconnects() const noexcept override { return 0; }
    std::uint64_t gaps() const noexcept override { return 0; }
    std::uint64_t ticks() const noexcept override { return 0; }
    std::uint64_t trades() const noexcept override { return pushed_.load(std::memory_order_relaxed); }
    bool next_error(std::string&) override { return false; }
    [[nodiscard]] std::uint64_t pushed() const noexcept { return pushed_.load(std::memory_order_acquire); }
    // Any thread: no more trades after the next poll.
    void finish() noexcept { finish_.store(true, std::memory_order_relaxed); }

private:
    [[nodiscard]] std::int64_t time_of(std::uint64_t k) const noexcept {
        return t0_ns_ + static_cast<std::int64_t>(k) * trade_step_ns;
    }

    MarketRing& out_;
    std::int64_t t0_ns_;
    double price_;
    std::uint64_t trades_;
    std::uint64_t next_ = 0;  // 0: the status event; k >= 1: trade k
    bool clock_sent_ = false;
    std::atomic<std::uint64_t> pushed_{0};
    std::atomic<bool> finish_{false};
};

// Switches counting on after warm_up decisions and off after `counted` more, on the exec thread.
class WindowProbe final : public ExecProbe {
public:
    void on_record(const PriceRecord& r, std::uint64_t) noexcept override {
        if (!(r.flags & price_flag_has_decision)) {
            return;
        }
        const std::uint64_t n = ++decisions_;
        if (n == warm_up + 1) alloc::counting.store(true, std::memory_order_relaxed);
        if (n == warm_up + counted) {
            alloc::counting.store(false, std::memory_order_relaxed);
            window_closed_.store(true, std::memory_order_release);
        }
    }
    [[nodiscard]] bool window_closed() const noexcept { return window_closed_.load(std::memory_order_acquire); }
    [[nodiscard]] std::uint64_t decisions() const noexcept { return decisions_; }  // after stop

private:
    std::uint64_t decisions_ = 0;
    std::atomic<bool> window_closed_{false};
};

struct Counted {
    std::uint64_t hot = 0;
    std::uint64_t decisions = 0;
    bool window_closed = false;
    std::size_t hot_threads = 0;
    std::uint64_t ring_full = 0;  // ring B refusals
};

Counted run(const std::vector<std::pair<std::string, std::string>>& placement) {
    alloc::reset();
    ConfigEntries entries;
    entries["USE_TICK_PRICE"] = ConfigEntry{"true", "test"};
    entries["IDLE_POLICY"] = ConfigEntry{"yield", "test"};
    for (const auto& [k, v] : placement) entries[k] = ConfigEntry{v, "test"};
    const Config c = apply_entries(entries).config;

    const testing::Market m = testing::make_market(600, 0);
    std::string text = candles_csv_header();
    for (const Candle& candle : m.history) append_candle_csv(text, candle);
    const std::string path = ::testing::TempDir() + "cbtrade_alloc_" + std::to_string(::getpid()) + ".csv";
    std::ofstream(path, std::ios::binary) << text;
    const PreparedHistory h = prepare_history(c, path);
    EXPECT_TRUE(h.model.has_value()) << h.not_trading;

    MetricsRegistry registry;
    BotMetrics metrics(registry, BuildInfo{});
    const TscClock clock = TscClock::quick();
    WindowProbe probe;
    PipelineSetup s = testing::setup_from(c, h, metrics, clock);
    s.exec_probe = &probe;
    TradeStream* source = nullptr;
    const std::int64_t t0 = (m.history.back().time_s + 60) * 1'000'000'000;
    s.source = [&](MarketRing& out, BotMetrics&) {
        // Trades until the window closed: a record ring B refuses (counted, as a busy machine may
        // make it in the split placement) only lengthens the run.
        auto p = std::make_unique<TradeStream>(out, t0, m.history.back().close, 4 * (warm_up + counted));
        source = p.get();
        return std::unique_ptr<SourceStage>(std::move(p));
    };
    Counted out;
    out.hot_threads = s.plan.hot.size();
    {
        Pipeline p(std::move(s));
        (void)p.start();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(100);
        while (!probe.window_closed() && source->pushed() <= 4 * (warm_up + counted) &&
               std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        source->finish();
        p.stop();
        out.ring_full = p.summary().ring_full[1];
    }
    alloc::counting.store(false);
    out.hot = alloc::hot_allocations.load();
    out.decisions = probe.decisions();
    out.window_closed = probe.window_closed();
    return out;
}

TEST(PipelineAllocations, the_counter_sees_an_allocation_on_a_hot_thread) {
    if (!alloc::available()) GTEST_SKIP() << "a sanitizer owns malloc; the release build runs this test";
    alloc::reset();
    std::thread t([] {
        (void)pthread_setname_np(pthread_self(), "cbt-check");
        alloc::counting.store(true);
        int* volatile p = new int(7);
        alloc::counting.store(false);
        delete p;
    });
    t.join();
    EXPECT_EQ(alloc::hot_allocations.load(), 1u) << "operator new on a cbt-* thread must be counted";
}

TEST(PipelineAllocations, fused_hot_thread_makes_none_after_warm_up) {
    if (!alloc::available()) GTEST_SKIP() << "a sanitizer owns malloc; the release build runs this test";
    const Counted c = run({{"CPU_FEED", "none"}, {"CPU_SIGNAL", "none"}, {"CPU_EXEC", "none"}});
    EXPECT_EQ(c.hot_threads, 1u);
    ASSERT_TRUE(c.window_closed) << "only " << c.decisions << " decisions reached the exec stage";
    EXPECT_GE(c.decisions, warm_up + counted);
    EXPECT_EQ(c.hot, 0u) << "heap allocations on the hot thread over " << counted << " decisions";
}

TEST(PipelineAllocations, split_hot_threads_make_none_after_warm_up) {
    if (!alloc::available()) GTEST_SKIP() << "a sanitizer owns malloc; the release build runs this test";
    const std::vector<int> cores = allowed_cores();
    const Counted c = run({{"CPU_FEED", "none"},
                           {"CPU_SIGNAL", std::to_string(cores.front())},
                           {"CPU_EXEC", std::to_string(cores.back())}});
    EXPECT_EQ(c.hot_threads, cores.size() > 1 ? 3u : 2u);
    ASSERT_TRUE(c.window_closed) << "only " << c.decisions << " decisions reached the exec stage (ring B full "
                                 << c.ring_full << " times)";
    EXPECT_GE(c.decisions, warm_up + counted);
    EXPECT_EQ(c.hot, 0u) << "heap allocations on the hot threads over " << counted << " decisions";
}

}  // namespace
}  // namespace cbtrade
