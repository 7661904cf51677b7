#include "core/cpu.hpp"

#include <cstdio>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace cbtrade {

bool cpu_has_invariant_tsc() noexcept {
#if defined(__x86_64__)
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
    if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (edx & (1u << 8)) != 0;
#else
    return false;
#endif
}

TscClock TscClock::calibrate(int calibration_ms) noexcept {
    TscClock clock;
#if defined(__x86_64__)
    if (cpu_has_invariant_tsc()) {
        cpu_detail::tsc_is_clock = true;
        // Bracket both readings of each end by the monotonic clock, so a preemption between the two
        // reads costs at most the bracket's width in error; over 20 ms that is well under 0.01%.
        const std::int64_t t0 = now_ns();
        const std::uint64_t c0 = __rdtsc();
        std::uint64_t c1 = c0;
        const std::int64_t until = t0 + static_cast<std::int64_t>(calibration_ms > 0 ? calibration_ms : 1) * 1'000'000;
        std::int64_t t1 = now_ns();
        while (t1 < until) {
            c1 = __rdtsc();
            t1 = now_ns();
        }
        if (c1 > c0 && t1 > t0) {
            clock.ns_per_tick_ = static_cast<double>(t1 - t0) / static_cast<double>(c1 - c0);
            clock.uses_tsc_ = true;
            return clock;
        }
    }
#endif
    (void)calibration_ms;
    cpu_detail::tsc_is_clock = false;
    clock.ns_per_tick_ = 1.0;
    clock.uses_tsc_ = false;
    return clock;
}

std::string TscClock::describe() const {
    if (!uses_tsc_) return "CLOCK_MONOTONIC (no invariant TSC)";
    char text[64];
    std::snprintf(text, sizeof text, "TSC %.2f GHz (invariant)", 1.0 / ns_per_tick_);
    return text;
}

}  // namespace cbtrade
