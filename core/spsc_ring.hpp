// core/spsc_ring: the single-producer single-consumer ring between two pipeline stages (DESIGN.md
// section 2), on Boost.Lockfree's spsc_queue with a compile-time capacity (no allocation, ever).
//
// Memory layout, and why it is wrapped:
//   line 0        write index (Boost)          <- producer writes, consumer reads
//   line 1        read index (Boost)           <- consumer writes, producer reads
//   line 2..      slots, each padded to whole cache lines (Slot below)
//   after slots   the full-ring counter, on its own line (producer writes, ops thread reads)
// Boost 1.81 pads only between its two indices: the slot storage follows the read index directly
// and is aligned only to alignof(T), so with a small T the first slot would share the read index's
// line and every push would invalidate the consumer's index. Wrapping T in a cache-line-aligned
// Slot makes the storage start on a fresh line, and alignas on the ring keeps the write index off
// whatever precedes it in memory. tests/core/test_spsc_ring.cpp checks the addresses.
//
// A full ring is never silent: try_push returns false and counts it (full_count()). What happens to
// the record is the caller's policy, written where each ring is declared (pipeline/pipeline.hpp).
#pragma once

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "core/cpu.hpp"

namespace cbtrade {

template <class T, std::size_t Capacity>
class alignas(cache_line) SpscRing {
    static_assert(std::is_trivially_copyable_v<T>, "records crossing threads are copied bytewise");
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0, "capacity: a power of two");

public:
    // One slot per record, padded to whole cache lines so the storage starts on its own line.
    struct alignas(cache_line) Slot {
        T value;
    };
    static_assert(alignof(Slot) == cache_line && sizeof(Slot) % cache_line == 0);

    static constexpr std::size_t capacity = Capacity;

    SpscRing() = default;
    SpscRing(const SpscRing&) = delete;
    SpscRing& operator=(const SpscRing&) = delete;

    // Producer only. False when full: nothing was written and the full count went up.
    [[nodiscard]] bool try_push(const T& record) noexcept {
        if (queue_.push(Slot{record})) [[likely]]
            return true;
        full_count_.store(full_count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return false;
    }

    // Consumer only. False when empty.
    [[nodiscard]] bool try_pop(T& out) noexcept {
        return queue_.consume_one([&out](const Slot& s) noexcept { out = s.value; });
    }

    // Consumer only: up to out_size records into out; returns how many.
    [[nodiscard]] std::size_t pop_many(T* out, std::size_t out_size) noexcept {
        std::size_t n = 0;
        while (n < out_size && queue_.consume_one([&](const Slot& s) noexcept { out[n] = s.value; })) ++n;
        return n;
    }

    // Consumer only: the oldest record without removing it (nullptr when empty). Valid until the
    // next pop. For the layout test and for stages that peek before deciding.
    [[nodiscard]] const T* front() noexcept { return queue_.read_available() ? &queue_.front().value : nullptr; }

    // Consumer side: records waiting. Producer side: free slots. Exact for the calling side only.
    [[nodiscard]] std::size_t read_available() const noexcept { return queue_.read_available(); }
    [[nodiscard]] std::size_t write_available() const noexcept { return queue_.write_available(); }
    [[nodiscard]] bool empty() const noexcept { return queue_.read_available() == 0; }

    // Pushes refused because the ring was full, since construction. Any thread.
    [[nodiscard]] std::uint64_t full_count() const noexcept { return full_count_.load(std::memory_order_relaxed); }

    // The address of the queue object (its write index is the first member), for the layout test.
    [[nodiscard]] const void* index_block() const noexcept { return &queue_; }

private:
    boost::lockfree::spsc_queue<Slot, boost::lockfree::capacity<Capacity>> queue_;
    // writer: the producer (load + store: it is the only writer); reader: the ops thread, for
    // bot_ring_full_total. Relaxed: a count, nothing else is published with it. Own line: the
    // producer touches it only when the ring is full, the ops thread reads it every second.
    alignas(cache_line) std::atomic<std::uint64_t> full_count_{0};
};

}  // namespace cbtrade
