// core/stage_runner: one thread polling one or several pipeline stages in turn (DESIGN.md section 2).
// With enough cores each hot stage gets its own pinned runner and spins; on small machines the
// three hot stages share one runner, round-robin, over the same rings. Which is configuration
// (CPU_FEED, CPU_SIGNAL, CPU_EXEC), not code: a stage does not know who else its thread polls.
//
// Stopping drains: after request_stop() each stage gets begin_stop() once (the feed closes its
// connection), and the runner keeps polling until every stage reports drained() -- its producers
// have finished and its input ring is empty -- so no record in flight is lost on a clean stop.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/config.hpp"  // IdlePolicy (IDLE_POLICY)

namespace cbtrade {

// A pipeline stage: a non-blocking poll() object. Hot-path rules apply to poll(): no allocation,
// lock, exception, log or blocking call.
class Stage {
public:
    virtual ~Stage() = default;
    [[nodiscard]] virtual std::string_view name() const noexcept = 0;

    // Does the work that is ready without blocking; returns how many records it handled (0: idle).
    virtual std::size_t poll(std::int64_t now_ns) noexcept = 0;

    // Blocks for at most timeout_ns or until work may be ready. False: this stage cannot wait (the
    // runner sleeps instead). Only the sleep idle policy calls it, after an idle round; the runner
    // asks once at start with timeout 0 which stage (the first that answers true) it waits in.
    virtual bool wait_for_work(std::int64_t /*timeout_ns*/) noexcept { return false; }

    // Called once on the runner's thread after stop was requested (e.g. the feed sends a close).
    virtual void begin_stop(std::int64_t /*now_ns*/) noexcept {}

    // After stop: true when this stage will never have work again. The default: its upstream stage
    // (if any) has finished. Stages with an input ring add "and the ring is empty".
    [[nodiscard]] virtual bool drained(std::int64_t /*now_ns*/) const noexcept { return upstream_finished(); }

    // The stage that feeds this one (its producer), for the drain order.
    void set_upstream(const Stage* upstream) noexcept { upstream_ = upstream; }
    [[nodiscard]] bool upstream_finished() const noexcept { return upstream_ == nullptr || upstream_->finished(); }
    [[nodiscard]] bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
    void mark_finished() noexcept { finished_.store(true, std::memory_order_release); }

private:
    const Stage* upstream_ = nullptr;
    // writer: the runner polling this stage, once, after its last push; reader: the runner of the
    // downstream stage. Release/acquire: a reader that sees true also sees every record this
    // stage pushed, so "upstream finished and my ring is empty" means nothing more will come.
    std::atomic<bool> finished_{false};
};

struct RunnerOptions {
    std::string name = "stage";  // thread name (ps, top): 15 characters at most are kept
    int core = -1;               // pin to this core; -1: not pinned
    IdlePolicy idle = IdlePolicy::spin;
    bool background = false;                        // SCHED_IDLE (or nice 19): the ops thread
    int rt_priority = 0;                            // SCHED_FIFO priority 1..99 for a hot thread; 0: normal scheduling
    std::int64_t drain_timeout_ns = 3'000'000'000;  // give up draining after this long (reported)
    std::int64_t sleep_ns = 50'000;                 // the sleep policy's pause when no stage can wait
};

class StageRunner {
public:
    StageRunner(RunnerOptions options, std::vector<Stage*> stages);
    ~StageRunner();  // requests stop and joins
    StageRunner(const StageRunner&) = delete;
    StageRunner& operator=(const StageRunner&) = delete;

    // Starts the thread, applies the placement on it and returns the placement lines for the
    // start-up plan (warnings start with "warning: "). Cold.
    std::vector<std::string> start();
    // Any thread. The runner drains and exits on its own; join() waits for it.
    void request_stop() noexcept { stop_.store(true, std::memory_order_release); }
    void join();

    // Runs the loop on the calling thread until request_stop() and drained (tests, replay).
    void run_here() noexcept;

    [[nodiscard]] const RunnerOptions& options() const noexcept { return options_; }
    [[nodiscard]] std::span<Stage* const> stages() const noexcept { return stages_; }
    // Rounds polled and rounds in which some stage had work. Written by the runner; any reader.
    [[nodiscard]] std::uint64_t rounds() const noexcept { return rounds_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t busy_rounds() const noexcept { return busy_rounds_.load(std::memory_order_relaxed); }
    // True when the last stop gave up draining after drain_timeout_ns (some record may be lost).
    [[nodiscard]] bool drain_timed_out() const noexcept { return drain_timed_out_.load(std::memory_order_relaxed); }

private:
    void idle_once() noexcept;

    RunnerOptions options_;
    std::vector<Stage*> stages_;
    Stage* waiter_ = nullptr;  // first stage whose wait_for_work blocks, for the sleep policy
    std::thread thread_;
    // writer: any thread (request_stop); reader: the runner. Release/acquire: nothing rides on it
    // but it keeps the stop request ordered after whatever the requester set before it.
    std::atomic<bool> stop_{false};
    // writer: the runner; readers: the ops thread (status, metrics). Relaxed: statistics.
    std::atomic<std::uint64_t> rounds_{0};
    std::atomic<std::uint64_t> busy_rounds_{0};
    std::atomic<bool> drain_timed_out_{false};
};

}  // namespace cbtrade
