// The two cores a two-thread benchmark runs on, and a guard that gives the benchmark thread its
// allowed cores back. BENCH_CORES="A,B" picks them; the default is the first two allowed cores.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "core/thread_placement.hpp"

namespace cbtrade::bench {

// Read once, before any benchmark pins the main thread (the allowed set is per thread). The same
// core twice when only one is allowed: callers report that instead of measuring a context switch.
inline std::pair<int, int> bench_cores() {
    static const std::pair<int, int> cores = [] {
        if (const char* env = std::getenv("BENCH_CORES")) {
            const std::string text(env);
            const auto comma = text.find(',');
            if (comma != std::string::npos)
                return std::pair<int, int>{std::atoi(text.substr(0, comma).c_str()),
                                           std::atoi(text.c_str() + comma + 1)};
        }
        const std::vector<int> allowed = allowed_cores();
        return std::pair<int, int>{allowed.front(), allowed.size() > 1 ? allowed[1] : allowed.front()};
    }();
    return cores;
}

// Restores the calling thread's allowed cores when it leaves the scope.
class AffinityGuard {
public:
    AffinityGuard() : saved_(pthread_getaffinity_np(pthread_self(), sizeof set_, &set_) == 0) {}
    ~AffinityGuard() {
        if (saved_) (void)pthread_setaffinity_np(pthread_self(), sizeof set_, &set_);
    }
    AffinityGuard(const AffinityGuard&) = delete;
    AffinityGuard& operator=(const AffinityGuard&) = delete;

private:
    cpu_set_t set_{};
    bool saved_;
};

}  // namespace cbtrade::bench
