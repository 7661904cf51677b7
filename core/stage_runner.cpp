#include "core/stage_runner.hpp"

#include <sched.h>
#include <time.h>

#include <chrono>
#include <utility>

#include "core/cpu.hpp"
#include "core/thread_placement.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace cbtrade {

StageRunner::StageRunner(RunnerOptions options, std::vector<Stage*> stages)
    : options_(std::move(options)), stages_(std::move(stages)) {}

StageRunner::~StageRunner() {
    request_stop();
    join();
}

std::vector<std::string> StageRunner::start() {
    std::vector<std::string> lines;
    std::atomic<bool> placed{false};
    thread_ = std::thread([this, &lines, &placed] {
        name_current_thread(options_.name);
        if (options_.core >= 0) {
            const PlacementOutcome o = pin_current_thread(options_.core);
            lines.push_back(o.ok ? o.message : "warning: " + o.message);
        } else {
            lines.emplace_back("not pinned");
        }
        if (options_.background) {
            const PlacementOutcome o = make_current_thread_background();
            lines.push_back(o.ok ? o.message : "warning: " + o.message);
        } else if (options_.rt_priority > 0) {
            const PlacementOutcome o = try_realtime_priority(options_.rt_priority);
            lines.push_back(o.ok ? o.message : "warning: " + o.message);
        }
        lines.push_back("idle " + std::string(idle_policy_name(options_.idle)));
        // The lines are complete before the flag: start() reads them after seeing it (acquire).
        placed.store(true, std::memory_order_release);
        run_here();
    });
    while (!placed.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::microseconds(100));
    return lines;
}

void StageRunner::join() {
    if (thread_.joinable()) thread_.join();
}

void StageRunner::idle_once() noexcept {
    switch (options_.idle) {
        case IdlePolicy::spin:
#if defined(__x86_64__)
            _mm_pause();
#endif
            return;
        case IdlePolicy::yield:
            sched_yield();
            return;
        case IdlePolicy::sleep:
            if (waiter_ != nullptr && waiter_->wait_for_work(1'000'000)) return;
            timespec ts{0, static_cast<long>(options_.sleep_ns)};
            nanosleep(&ts, nullptr);
            return;
    }
}

void StageRunner::run_here() noexcept {
    // The first stage that can block for work (the feed's io_uring) is where the sleep policy waits.
    for (Stage* s : stages_)
        if (s->wait_for_work(0)) {
            waiter_ = s;
            break;
        }
    bool stopping = false;
    std::int64_t drain_deadline = 0;
    for (;;) {
        const std::int64_t now = now_ns();
        std::size_t work = 0;
        for (Stage* s : stages_) work += s->poll(now);
        rounds_.store(rounds_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        if (work != 0) busy_rounds_.store(busy_rounds_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);

        if (stop_.load(std::memory_order_acquire)) [[unlikely]] {
            if (!stopping) {
                stopping = true;
                drain_deadline = now + options_.drain_timeout_ns;
                for (Stage* s : stages_) s->begin_stop(now);
                continue;  // poll once more after begin_stop before judging drained()
            }
            // In pipeline order: a stage is finished once drained; the next one in this runner can
            // then see it finished within the same round.
            bool all = true;
            for (Stage* s : stages_) {
                if (s->finished()) continue;
                if (work == 0 && s->drained(now)) s->mark_finished();
                else all = false;
            }
            if (all) return;
            if (now >= drain_deadline) {
                drain_timed_out_.store(true, std::memory_order_relaxed);
                for (Stage* s : stages_) s->mark_finished();
                return;
            }
        }
        if (work == 0) idle_once();
    }
}

}  // namespace cbtrade
