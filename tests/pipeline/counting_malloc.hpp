// A counting malloc for the hot-path allocation checks (issue 10 item 11): the pipeline test that
// asserts none (tests/pipeline/test_pipeline_allocations.cpp) and the tick-to-decision benchmark
// that reports the count (bench/bench_tick_to_decision.cpp).
//
// It replaces glibc's malloc, calloc, realloc and the aligned forms for the whole program (wolfSSL
// allocates with malloc; libstdc++'s operator new ends in malloc or aligned_alloc), so include it
// in exactly ONE translation unit of a program. Under ASan or TSan the sanitizer owns malloc: the
// replacement is left out and available() says so.
//
// Counting is off until the caller switches it on (after warm-up, from the thread that sees the
// records); then every allocation is counted by the calling thread's name, read once per thread
// while counting: "cbt-*" but "cbt-ops" are the daemon's hot threads (core/placement names them),
// "base-*" the benchmark's conventional baseline.
#pragma once

#include <sys/prctl.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include "tests/sanitizer_build.hpp"

namespace cbtrade::testing::alloc {

enum class ThreadKind : std::int8_t { unknown, other, hot, baseline };

inline std::atomic<bool> counting{false};
inline std::atomic<std::uint64_t> hot_allocations{0};
inline std::atomic<std::uint64_t> baseline_allocations{0};
inline std::atomic<std::uint64_t> other_allocations{0};
inline thread_local ThreadKind this_thread_kind = ThreadKind::unknown;

[[nodiscard]] constexpr bool available() noexcept {
#if CBTRADE_TEST_ASAN || CBTRADE_TEST_TSAN
    return false;
#else
    return true;
#endif
}

[[nodiscard]] inline ThreadKind kind_of_this_thread() noexcept {
    char name[17] = {};
    if (::prctl(PR_GET_NAME, name) != 0) return ThreadKind::other;
    if (std::strncmp(name, "cbt-", 4) == 0)
        return std::strcmp(name, "cbt-ops") == 0 ? ThreadKind::other : ThreadKind::hot;
    if (std::strncmp(name, "base-", 5) == 0) return ThreadKind::baseline;
    return ThreadKind::other;
}

inline void count_allocation() noexcept {
    if (!counting.load(std::memory_order_relaxed)) return;
    if (this_thread_kind == ThreadKind::unknown) this_thread_kind = kind_of_this_thread();
    switch (this_thread_kind) {
        case ThreadKind::hot:
            hot_allocations.fetch_add(1, std::memory_order_relaxed);
            break;
        case ThreadKind::baseline:
            baseline_allocations.fetch_add(1, std::memory_order_relaxed);
            break;
        default:
            other_allocations.fetch_add(1, std::memory_order_relaxed);
            break;
    }
}

// Counting off, counts zero (between runs in one program).
inline void reset() noexcept {
    counting.store(false);
    hot_allocations.store(0);
    baseline_allocations.store(0);
    other_allocations.store(0);
}

}  // namespace cbtrade::testing::alloc

// The replacements keep glibc's declarations, parameter names included, and forward to glibc's own
// entry points (__libc_*): names reserved for the implementation, which is what is reached here.
// Defined in a header on purpose: the one translation unit that includes it owns them.
#if !CBTRADE_TEST_ASAN && !CBTRADE_TEST_TSAN
// NOLINTBEGIN(bugprone-reserved-identifier,misc-definitions-in-headers)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void* malloc(std::size_t __size) {
    cbtrade::testing::alloc::count_allocation();
    return __libc_malloc(__size);
}
void* calloc(std::size_t __nmemb, std::size_t __size) {
    cbtrade::testing::alloc::count_allocation();
    return __libc_calloc(__nmemb, __size);
}
void* realloc(void* __ptr, std::size_t __size) {
    cbtrade::testing::alloc::count_allocation();
    return __libc_realloc(__ptr, __size);
}
void* aligned_alloc(std::size_t __alignment, std::size_t __size) {
    cbtrade::testing::alloc::count_allocation();
    return __libc_memalign(__alignment, __size);
}
void* memalign(std::size_t __alignment, std::size_t __size) {
    cbtrade::testing::alloc::count_allocation();
    return __libc_memalign(__alignment, __size);
}
int posix_memalign(void** __memptr, std::size_t __alignment, std::size_t __size) {
    cbtrade::testing::alloc::count_allocation();
    if (__alignment < sizeof(void*) || (__alignment & (__alignment - 1)) != 0) return EINVAL;
    void* p = __libc_memalign(__alignment, __size);
    if (p == nullptr) return ENOMEM;
    *__memptr = p;
    return 0;
}
}
// NOLINTEND(bugprone-reserved-identifier,misc-definitions-in-headers)
#endif
