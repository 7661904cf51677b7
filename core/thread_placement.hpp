// core/thread_placement: where a thread runs and how urgently (DESIGN.md section 2). Hot stages are
// pinned to a core (and may ask for real-time priority); the ops thread runs at SCHED_IDLE, or at
// nice 19 where SCHED_IDLE is refused, so it only ever takes time the hot threads leave.
//
// All of it is cold: called once per thread at start-up. Each call reports what it did as a line for
// the start-up plan, or why it could not (a warning, not an error: an unpinned daemon still trades).
#pragma once

#include <string>
#include <vector>

namespace cbtrade {

// The cores this process may run on (sched_getaffinity), ascending. Never empty: when the call
// fails the online cores are assumed.
[[nodiscard]] std::vector<int> allowed_cores();

// Whether `core` is in allowed_cores().
[[nodiscard]] bool core_allowed(int core);

struct PlacementOutcome {
    bool ok = false;
    std::string message;  // what was done, or the warning when ok is false
};

// Pins the calling thread to one core (it must be in the allowed set).
[[nodiscard]] PlacementOutcome pin_current_thread(int core);

// The calling thread at the lowest priority: SCHED_IDLE, else nice 19 (both per thread on Linux).
[[nodiscard]] PlacementOutcome make_current_thread_background();

// SCHED_FIFO at `priority` (1..99) for the calling thread. Without CAP_SYS_NICE or an RLIMIT_RTPRIO
// allowance the kernel refuses: ok is false and the message says so and how to allow it.
[[nodiscard]] PlacementOutcome try_realtime_priority(int priority);

// The calling thread's name as ps and top show it (at most 15 characters; longer is cut).
void name_current_thread(const std::string& name) noexcept;

}  // namespace cbtrade
