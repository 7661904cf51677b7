// core/cpu: the cache-line size, the clocks every stage stamps with, and the conversion of raw
// timestamp-counter readings to nanoseconds.
//
// Latency figures (tick-to-decision, per-stage) start from read_tsc() in the io_uring completion
// and end with read_tsc() in the exec stage: one instruction each, no syscall. The conversion to
// nanoseconds happens off the hot path with the factor TscClock::calibrate() measured against
// CLOCK_MONOTONIC at start-up. Where the TSC is not usable (no invariant TSC, not x86-64),
// calibrate() switches read_tsc() to CLOCK_MONOTONIC nanoseconds, and the factor becomes 1.
#pragma once

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <string>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace cbtrade {

// One cache line on every x86-64 and most ARM64 cores. Our own constant: g++ 12 warns when the
// standard's hardware_destructive_interference_size appears in a header (its value may change
// between compiler versions, and with it the layout of records crossing translation units).
inline constexpr std::size_t cache_line = 64;

// Nanoseconds of CLOCK_MONOTONIC (vDSO, ~20 ns, no syscall): deadlines, backoff, staleness.
[[nodiscard]] inline std::int64_t now_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Nanoseconds of CLOCK_REALTIME: exchange-time comparisons (history freshness, JWT times).
[[nodiscard]] inline std::int64_t wall_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace cpu_detail {
// Set once by TscClock::calibrate() before any hot thread starts, read-only afterwards (the
// thread start that follows publishes it). False: read_tsc() returns CLOCK_MONOTONIC ns.
inline bool tsc_is_clock = true;
}  // namespace cpu_detail

// A timestamp for latency measurement: raw TSC ticks, or monotonic ns where the TSC is unusable.
// Only differences mean anything; convert them with TscClock::to_ns.
[[nodiscard, gnu::always_inline]] inline std::uint64_t read_tsc() noexcept {
#if defined(__x86_64__)
    if (cpu_detail::tsc_is_clock) [[likely]]
        return __rdtsc();
#endif
    return static_cast<std::uint64_t>(now_ns());
}

// Whether this CPU has an invariant TSC (CPUID 0x80000007 EDX bit 8): constant rate across
// frequency and power states, synchronised across cores. Without it TSC differences are not time.
[[nodiscard]] bool cpu_has_invariant_tsc() noexcept;

// The conversion from read_tsc() differences to nanoseconds. One per process, calibrated at
// start-up (cold: it sleeps for `calibration_ms`), then shared read-only by every thread.
class TscClock {
public:
    // Measures TSC ticks against CLOCK_MONOTONIC over about calibration_ms. Without an invariant TSC
    // (or on a CPU that has none) it switches read_tsc() to CLOCK_MONOTONIC, with a factor of 1.
    // Call before starting threads that read the clock.
    static TscClock calibrate(int calibration_ms = 20) noexcept;
    // A clock for tests and tools that need no precision: CLOCK_MONOTONIC-calibrated in ~1 ms.
    static TscClock quick() noexcept { return calibrate(1); }

    [[nodiscard]] double ns_per_tick() const noexcept { return ns_per_tick_; }
    [[nodiscard]] bool uses_tsc() const noexcept { return uses_tsc_; }
    // A tick difference in nanoseconds (0 for a negative difference: clocks never run backwards
    // across cores with an invariant TSC, but a difference of stamps taken out of order can).
    [[nodiscard]] std::uint64_t to_ns(std::uint64_t later, std::uint64_t earlier) const noexcept {
        return later > earlier ? static_cast<std::uint64_t>(static_cast<double>(later - earlier) * ns_per_tick_) : 0;
    }
    // "TSC 2.60 GHz (invariant)" or "CLOCK_MONOTONIC (no invariant TSC)", for start-up lines.
    [[nodiscard]] std::string describe() const;

private:
    double ns_per_tick_ = 1.0;
    bool uses_tsc_ = false;
};

}  // namespace cbtrade
