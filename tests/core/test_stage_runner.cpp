// core/stage_runner and core/thread_placement: stages polled in turn, fused and split over rings,
// drained on stop with nothing lost, idle policies, placement on allowed cores.
#include "core/stage_runner.hpp"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <memory>
#include <thread>

#include "core/spsc_ring.hpp"
#include "core/thread_placement.hpp"

namespace cbtrade {
namespace {

using Ring = SpscRing<std::uint64_t, 64>;

// Produces `total` numbers into a ring as fast as it takes them; counts what it could not push yet
// and retries (the policy of a stage that must not lose records).
class Producer final : public Stage {
public:
    Producer(Ring& out, std::uint64_t total) : out_(out), total_(total) {}
    std::string_view name() const noexcept override { return "producer"; }
    std::size_t poll(std::int64_t) noexcept override {
        std::size_t n = 0;
        while (next_ < total_ && n < 16 && out_.try_push(next_)) ++next_, ++n;
        pushed_.store(next_, std::memory_order_relaxed);
        return n;
    }
    bool drained(std::int64_t) const noexcept override { return next_ == total_; }
    std::uint64_t next_ = 0;                // the runner's thread only
    std::atomic<std::uint64_t> pushed_{0};  // progress, for the test thread

private:
    Ring& out_;
    std::uint64_t total_;
};

// Doubles what it reads into the next ring.
class Doubler final : public Stage {
public:
    Doubler(Ring& in, Ring& out) : in_(in), out_(out) {}
    std::string_view name() const noexcept override { return "doubler"; }
    std::size_t poll(std::int64_t) noexcept override {
        std::size_t n = 0;
        std::uint64_t v = 0;
        while (n < 16 && out_.write_available() > 0 && in_.try_pop(v)) {
            (void)out_.try_push(v * 2);
            ++n;
        }
        return n;
    }
    bool drained(std::int64_t) const noexcept override { return upstream_finished() && in_.empty(); }

private:
    Ring& in_;
    Ring& out_;
};

class Sink final : public Stage {
public:
    explicit Sink(Ring& in) : in_(in) {}
    std::string_view name() const noexcept override { return "sink"; }
    std::size_t poll(std::int64_t) noexcept override {
        std::size_t n = 0;
        std::uint64_t v = 0;
        while (in_.try_pop(v)) {
            if (v != expected_) ++wrong_;
            expected_ += 2;
            ++count_;
            ++n;
        }
        return n;
    }
    bool drained(std::int64_t) const noexcept override { return upstream_finished() && in_.empty(); }
    std::uint64_t count_ = 0;
    std::uint64_t wrong_ = 0;

private:
    Ring& in_;
    std::uint64_t expected_ = 0;
};

struct Pipeline {
    explicit Pipeline(std::uint64_t total) : producer(a, total), doubler(a, b), sink(b) {
        doubler.set_upstream(&producer);
        sink.set_upstream(&doubler);
    }
    Ring a, b;
    Producer producer;
    Doubler doubler;
    Sink sink;
};

TEST(StageRunner, fused_runner_polls_every_stage_and_drains_on_stop) {
    auto p = std::make_unique<Pipeline>(100'000);
    RunnerOptions o;
    o.idle = IdlePolicy::yield;
    o.drain_timeout_ns = 60'000'000'000;
    StageRunner runner(o, {&p->producer, &p->doubler, &p->sink});
    runner.start();
    while (p->producer.pushed_.load() < 50'000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    runner.request_stop();  // mid-run: the producer finishes its total, the rest drains
    runner.join();
    EXPECT_FALSE(runner.drain_timed_out());
    EXPECT_EQ(p->sink.count_, 100'000u);
    EXPECT_EQ(p->sink.wrong_, 0u);
    EXPECT_TRUE(p->sink.finished());
    EXPECT_GT(runner.busy_rounds(), 0u);
}

TEST(StageRunner, split_runners_over_rings_lose_nothing) {
    auto p = std::make_unique<Pipeline>(300'000);
    RunnerOptions first, second;
    first.drain_timeout_ns = second.drain_timeout_ns = 60'000'000'000;  // a loaded CI machine
    first.name = "split-a";
    first.idle = IdlePolicy::yield;
    second.name = "split-b";
    second.idle = IdlePolicy::sleep;
    StageRunner a(first, {&p->producer});
    StageRunner b(second, {&p->doubler, &p->sink});
    b.start();
    a.start();
    // Stop both at once, early: draining must still deliver every record in order.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    b.request_stop();
    a.request_stop();
    a.join();
    b.join();
    EXPECT_FALSE(a.drain_timed_out());
    EXPECT_FALSE(b.drain_timed_out());
    EXPECT_EQ(p->sink.count_, 300'000u);
    EXPECT_EQ(p->sink.wrong_, 0u);
}

class NeverDrains final : public Stage {
public:
    std::string_view name() const noexcept override { return "stuck"; }
    std::size_t poll(std::int64_t) noexcept override { return 0; }
    bool drained(std::int64_t) const noexcept override { return false; }
};

TEST(StageRunner, gives_up_draining_after_the_timeout_and_says_so) {
    NeverDrains stuck;
    RunnerOptions o;
    o.idle = IdlePolicy::sleep;
    o.drain_timeout_ns = 20'000'000;
    StageRunner runner(o, {&stuck});
    runner.start();
    runner.request_stop();
    runner.join();
    EXPECT_TRUE(runner.drain_timed_out());
    EXPECT_TRUE(stuck.finished());
}

class Waiter final : public Stage {
public:
    std::string_view name() const noexcept override { return "waiter"; }
    std::size_t poll(std::int64_t) noexcept override { return 0; }
    bool wait_for_work(std::int64_t timeout_ns) noexcept override {
        if (timeout_ns > 0) waits_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    std::atomic<int> waits_{0};
};

TEST(StageRunner, sleep_policy_waits_in_the_stage_that_can_wait) {
    Waiter w;
    RunnerOptions o;
    o.idle = IdlePolicy::sleep;
    StageRunner runner(o, {&w});
    runner.start();
    while (w.waits_.load() < 3) std::this_thread::yield();
    runner.request_stop();
    runner.join();
    EXPECT_GE(w.waits_.load(), 3);
}

TEST(ThreadPlacement, allowed_cores_lists_this_process_set) {
    const std::vector<int> cores = allowed_cores();
    ASSERT_FALSE(cores.empty());
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    EXPECT_EQ(static_cast<int>(cores.size()), CPU_COUNT(&set));
    for (const int c : cores) EXPECT_TRUE(core_allowed(c));
    EXPECT_FALSE(core_allowed(-1));
    EXPECT_FALSE(core_allowed(CPU_SETSIZE + 5));
}

TEST(ThreadPlacement, runner_pins_its_thread_to_the_configured_core) {
    const int core = allowed_cores().back();
    struct Where final : Stage {
        std::string_view name() const noexcept override { return "where"; }
        std::size_t poll(std::int64_t) noexcept override {
            cpu.store(sched_getcpu(), std::memory_order_relaxed);
            return 0;
        }
        std::atomic<int> cpu{-1};
    } where;
    RunnerOptions o;
    o.core = core;
    o.idle = IdlePolicy::sleep;
    StageRunner runner(o, {&where});
    const std::vector<std::string> lines = runner.start();
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0], "pinned to core " + std::to_string(core));
    while (where.cpu.load() < 0) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(where.cpu.load(), core);
    runner.request_stop();
}

TEST(ThreadPlacement, pinning_to_a_core_that_does_not_exist_is_refused_with_a_reason) {
    std::thread t([] {
        const PlacementOutcome o = pin_current_thread(CPU_SETSIZE - 1);
        EXPECT_FALSE(o.ok);
        EXPECT_NE(o.message.find("core"), std::string::npos);
        const PlacementOutcome neg = pin_current_thread(-3);
        EXPECT_FALSE(neg.ok);
    });
    t.join();
}

TEST(ThreadPlacement, background_thread_ends_at_idle_or_nice_19) {
    std::thread t([] {
        const PlacementOutcome o = make_current_thread_background();
        ASSERT_TRUE(o.ok) << o.message;
        const int policy = sched_getscheduler(0);
        if (o.message == "SCHED_IDLE") EXPECT_EQ(policy, SCHED_IDLE);
        else EXPECT_EQ(o.message, "nice 19");
    });
    t.join();
}

TEST(ThreadPlacement, realtime_priority_is_granted_or_refused_with_how_to_allow_it) {
    std::thread t([] {
        const PlacementOutcome o = try_realtime_priority(10);
        if (o.ok) {
            EXPECT_EQ(sched_getscheduler(0), SCHED_FIFO);
        } else {
            EXPECT_NE(o.message.find("RLIMIT_RTPRIO"), std::string::npos) << o.message;
        }
        EXPECT_FALSE(try_realtime_priority(0).ok);
        EXPECT_FALSE(try_realtime_priority(100).ok);
    });
    t.join();
}

}  // namespace
}  // namespace cbtrade
