#include "core/placement.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"

namespace cbtrade {

std::string_view hot_stage_name(HotStage s) noexcept {
    switch (s) {
        case HotStage::feed:
            return "feed";
        case HotStage::signal:
            return "signal";
        case HotStage::exec:
            return "exec";
    }
    return "?";
}

std::string describe_cores(std::span<const int> cores) {
    std::string out;
    for (std::size_t i = 0; i < cores.size();) {
        std::size_t j = i;
        while (j + 1 < cores.size() && cores[j + 1] == cores[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(cores[i]);
        if (j > i) out += '-' + std::to_string(cores[j]);
        i = j + 1;
    }
    return out;
}

namespace {

int checked_core(std::string_view key, int value, std::span<const int> allowed) {
    if (value < 0) return value;
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
        throw ConfigError(std::string(key) + "=" + std::to_string(value) + " is invalid: core " +
                          std::to_string(value) + " is not in this process's allowed cores (" +
                          describe_cores(allowed) + ")");
    return value;
}

int default_core(HotStage s, std::span<const int> allowed) {
    if (allowed.size() >= 4) return allowed[1 + static_cast<std::size_t>(s)];
    return allowed.back();
}

}  // namespace

PlacementPlan plan_placement(const Config& c, std::span<const int> allowed) {
    if (allowed.empty()) throw ConfigError("no allowed cores: cannot place the pipeline threads");
    PlacementPlan plan;
    plan.allowed.assign(allowed.begin(), allowed.end());
    const std::array<std::pair<HotStage, std::pair<std::string_view, int>>, 3> stages{{
        {HotStage::feed, {"CPU_FEED", c.cpu_feed}},
        {HotStage::signal, {"CPU_SIGNAL", c.cpu_signal}},
        {HotStage::exec, {"CPU_EXEC", c.cpu_exec}},
    }};
    for (const auto& [stage, key_value] : stages) {
        const auto& [key, value] = key_value;
        const int core = value == cpu_auto ? default_core(stage, allowed) : checked_core(key, value, allowed);
        auto it =
            std::find_if(plan.hot.begin(), plan.hot.end(), [core](const PlannedThread& t) { return t.core == core; });
        if (it == plan.hot.end()) {
            plan.hot.push_back(PlannedThread{"", core, {}});
            it = plan.hot.end() - 1;
        }
        it->stages.push_back(stage);
    }
    for (PlannedThread& t : plan.hot) {
        if (t.stages.size() == 3) {
            t.name = "cbt-hot";
            continue;
        }
        t.name = "cbt-";
        for (std::size_t i = 0; i < t.stages.size(); ++i) {
            if (i) t.name += '+';
            t.name += hot_stage_name(t.stages[i]);
        }
    }
    plan.ops_core = c.cpu_ops == cpu_auto ? cpu_none : checked_core("CPU_OPS", c.cpu_ops, allowed);
    return plan;
}

std::string describe_plan(const PlacementPlan& plan) {
    std::string out = "placement (allowed cores " + describe_cores(plan.allowed) + "):\n";
    for (const PlannedThread& t : plan.hot) {
        out += "  " + t.name + std::string(t.name.size() < 16 ? 16 - t.name.size() : 1, ' ');
        out += t.core >= 0 ? "core " + std::to_string(t.core) : std::string("not pinned");
        out += "  ";
        for (std::size_t i = 0; i < t.stages.size(); ++i) {
            if (i) out += " -> ";
            out += hot_stage_name(t.stages[i]);
        }
        out += t.stages.size() > 1 ? " (fused, round-robin)\n" : "\n";
    }
    out += "  cbt-ops         ";
    out += plan.ops_core >= 0 ? "core " + std::to_string(plan.ops_core) : std::string("not pinned");
    out += "  metrics, refits, files (low priority)\n";
    return out;
}

}  // namespace cbtrade
