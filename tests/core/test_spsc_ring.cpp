// core/spsc_ring: order, capacity, the full-ring count, the cache-line layout, and a two-thread
// stress run (also built under ThreadSanitizer by scripts/test.sh).
#include "core/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "core/records.hpp"
#include "tests/sanitizer_build.hpp"

namespace cbtrade {
namespace {

struct Small {
    std::uint64_t seq;
    std::uint32_t check;
};

TEST(SpscRing, pops_in_push_order_and_holds_exactly_capacity) {
    SpscRing<Small, 8> ring;
    EXPECT_TRUE(ring.empty());
    for (std::uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(ring.try_push({i, static_cast<std::uint32_t>(i * 7)}));
    EXPECT_EQ(ring.read_available(), 8u);
    EXPECT_FALSE(ring.try_push({99, 0}));
    Small s{};
    for (std::uint64_t i = 0; i < 8; ++i) {
        ASSERT_TRUE(ring.try_pop(s));
        EXPECT_EQ(s.seq, i);
        EXPECT_EQ(s.check, i * 7);
    }
    EXPECT_FALSE(ring.try_pop(s));
}

TEST(SpscRing, full_ring_is_counted_never_silent) {
    SpscRing<Small, 4> ring;
    for (std::uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(ring.try_push({i, 0}));
    EXPECT_EQ(ring.full_count(), 0u);
    EXPECT_FALSE(ring.try_push({4, 0}));
    EXPECT_FALSE(ring.try_push({5, 0}));
    EXPECT_EQ(ring.full_count(), 2u);
    Small s{};
    ASSERT_TRUE(ring.try_pop(s));
    EXPECT_EQ(s.seq, 0u);  // the refused records did not overwrite anything
    EXPECT_TRUE(ring.try_push({6, 0}));
    EXPECT_EQ(ring.full_count(), 2u);
    std::vector<std::uint64_t> rest;
    while (ring.try_pop(s)) rest.push_back(s.seq);
    EXPECT_EQ(rest, (std::vector<std::uint64_t>{1, 2, 3, 6}));
}

TEST(SpscRing, pop_many_takes_what_is_there_up_to_the_limit) {
    SpscRing<Small, 16> ring;
    for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(ring.try_push({i, 0}));
    Small out[4];
    ASSERT_EQ(ring.pop_many(out, 4), 4u);
    EXPECT_EQ(out[3].seq, 3u);
    Small more[16];
    ASSERT_EQ(ring.pop_many(more, 16), 6u);
    EXPECT_EQ(more[0].seq, 4u);
    EXPECT_EQ(more[5].seq, 9u);
    EXPECT_EQ(ring.pop_many(more, 16), 0u);
}

TEST(SpscRing, storage_never_shares_a_cache_line_with_either_index) {
    // A small record is where Boost alone would put slot 0 right after the read index.
    auto ring = std::make_unique<SpscRing<Small, 64>>();
    const auto base = reinterpret_cast<std::uintptr_t>(ring->index_block());
    EXPECT_EQ(base % cache_line, 0u);
    const std::uintptr_t write_index_line = base / cache_line;
    const std::uintptr_t read_index_line = (base + cache_line) / cache_line;  // Boost pads the write index to a line
    // Walk the ring once around so every slot has been the front at some point.
    for (std::uint64_t i = 0; i < 65; ++i) {
        ASSERT_TRUE(ring->try_push({i, 0}));
        const auto slot = reinterpret_cast<std::uintptr_t>(ring->front());
        const std::uintptr_t first_line = slot / cache_line;
        const std::uintptr_t last_line = (slot + sizeof(Small) - 1) / cache_line;
        EXPECT_NE(first_line, write_index_line);
        EXPECT_NE(first_line, read_index_line);
        EXPECT_NE(last_line, read_index_line);
        EXPECT_EQ(slot % cache_line, 0u);
        Small s{};
        ASSERT_TRUE(ring->try_pop(s));
    }
    static_assert(sizeof(SpscRing<Small, 64>) % cache_line == 0, "nothing after the ring shares its last line");
}

TEST(SpscRing, carries_one_cache_line_records_in_one_slot) {
    static_assert(sizeof(SpscRing<Tick, 16>::Slot) == cache_line);
    SpscRing<Tick, 16> ring;
    Tick t{};
    t.price = 42000.5;
    t.sequence_num = 12345;
    ASSERT_TRUE(ring.try_push(t));
    Tick out{};
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out.price, 42000.5);
    EXPECT_EQ(out.sequence_num, 12345u);
}

// Two threads, millions of records through a small ring (so it is full and empty often): every
// record arrives once, in order, with its payload intact, and the full count matches the retries.
TEST(SpscRing, stress_two_threads_order_and_count) {
#if CBTRADE_TEST_TSAN
    constexpr std::uint64_t records = 1'000'000;  // TSan runs ~10x slower
#else
    constexpr std::uint64_t records = 5'000'000;
#endif
    auto ring = std::make_unique<SpscRing<Small, 256>>();
    std::uint64_t refused = 0;
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < records; ++i) {
            const Small s{i, static_cast<std::uint32_t>(i * 2654435761u)};
            while (!ring->try_push(s)) {
                ++refused;
                std::this_thread::yield();
            }
        }
    });
    std::uint64_t received = 0, out_of_order = 0, corrupt = 0;
    Small batch[64];
    while (received < records) {
        const std::size_t n = ring->pop_many(batch, 64);
        if (n == 0) {
            std::this_thread::yield();
            continue;
        }
        for (std::size_t k = 0; k < n; ++k) {
            if (batch[k].seq != received) ++out_of_order;
            if (batch[k].check != static_cast<std::uint32_t>(batch[k].seq * 2654435761u)) ++corrupt;
            ++received;
        }
    }
    producer.join();
    EXPECT_EQ(received, records);
    EXPECT_EQ(out_of_order, 0u);
    EXPECT_EQ(corrupt, 0u);
    EXPECT_EQ(ring->full_count(), refused);
    Small s{};
    EXPECT_FALSE(ring->try_pop(s));
}

}  // namespace
}  // namespace cbtrade
