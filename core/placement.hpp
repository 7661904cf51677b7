// core/placement: which thread runs which hot stage, on which core (issue 10 item 2). Placement is
// configuration, not code: CPU_FEED, CPU_SIGNAL, CPU_EXEC and CPU_OPS each take a core number,
// `none` (not pinned) or `auto`. Stages given the same value share one thread, polled in pipeline
// order (feed, signal, exec); `none` is a value like a core, so hot stages all `none` share one
// unpinned thread. `auto`, per stage:
//   4 or more allowed cores: feed, signal and exec on the 2nd, 3rd and 4th allowed core, each alone
//                            (the 1st is left to the kernel, interrupts and the ops thread);
//   fewer:                   all three fused on the last allowed core.
// The ops thread is always its own thread at low priority; `auto` leaves it unpinned.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"

namespace cbtrade {

enum class HotStage : std::uint8_t { feed, signal, exec };
[[nodiscard]] std::string_view hot_stage_name(HotStage s) noexcept;

struct PlannedThread {
    std::string name;              // thread name, at most 15 characters ("cbt-hot", "cbt-feed", ...)
    int core = cpu_none;           // cpu_none: not pinned
    std::vector<HotStage> stages;  // in pipeline order
};

struct PlacementPlan {
    std::vector<PlannedThread> hot;  // one to three threads
    int ops_core = cpu_none;
    std::vector<int> allowed;  // the process's allowed cores the plan was made for
};

// Throws ConfigError naming the key when a core is not in `allowed` (exit 2).
[[nodiscard]] PlacementPlan plan_placement(const Config& c, std::span<const int> allowed);

// The plan as start-up lines, e.g. "  cbt-hot  core 1  feed -> signal -> exec".
[[nodiscard]] std::string describe_plan(const PlacementPlan& plan);

// "0-3,6" for a core list.
[[nodiscard]] std::string describe_cores(std::span<const int> cores);

}  // namespace cbtrade
