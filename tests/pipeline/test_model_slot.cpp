// pipeline/model_slot: a reader thread switching to newer weights without a lock while the writer
// publishes and reclaims; nothing the reader can still use is freed (TSan/ASan check the memory).
#include "pipeline/model_slot.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace cbtrade {
namespace {

ModelWeights weights(double v) {
    ModelWeights w{};
    w.intercept = v;
    for (double& c : w.coef) c = v;
    return w;
}

TEST(ModelSlot, reader_adopts_only_newer_models_and_old_ones_are_reclaimed_after) {
    ModelSlot slot;
    const PublishedModel* current = nullptr;
    EXPECT_EQ(slot.adopt_newer(current), nullptr);
    slot.publish(weights(1), 100);
    current = slot.adopt_newer(current);
    ASSERT_NE(current, nullptr);
    EXPECT_EQ(current->generation, 1u);
    EXPECT_EQ(current->fit_end, 100u);
    EXPECT_EQ(slot.adopt_newer(current), nullptr);
    slot.publish(weights(2), 200);
    slot.publish(weights(3), 300);
    EXPECT_EQ(slot.reclaim(), 0u) << "the reader still uses generation 1";
    EXPECT_EQ(slot.live_objects(), 3u);
    current = slot.adopt_newer(current);
    ASSERT_NE(current, nullptr);
    EXPECT_EQ(current->generation, 3u) << "the newest, skipping 2";
    EXPECT_EQ(slot.reclaim(), 2u);
    EXPECT_EQ(slot.live_objects(), 1u);
    EXPECT_EQ(current->weights.intercept, 3);
}

TEST(ModelSlot, concurrent_publish_adopt_reclaim_never_reads_freed_or_torn_weights) {
    ModelSlot slot;
    slot.publish(weights(1), 1);
    std::atomic<bool> done{false};
    std::uint64_t torn = 0, adopted = 0, backwards = 0;
    std::thread reader([&] {
        const PublishedModel* current = nullptr;
        std::uint64_t last_gen = 0;
        while (!done.load(std::memory_order_acquire)) {
            if (const PublishedModel* m = slot.adopt_newer(current)) {
                current = m;
                ++adopted;
                if (m->generation < last_gen) ++backwards;
                last_gen = m->generation;
            }
            if (current == nullptr) continue;  // generation 1 was published before this thread started
            // Every field of one publication holds the same value: a torn or freed read would not.
            const double v = current->weights.intercept;
            for (const double c : current->weights.coef)
                if (c != v) ++torn;
        }
    });
    for (int i = 2; i <= 20000; ++i) {
        slot.publish(weights(i), static_cast<std::uint64_t>(i));
        (void)slot.reclaim();
    }
    done.store(true, std::memory_order_release);
    reader.join();
    EXPECT_EQ(torn, 0u);
    EXPECT_EQ(backwards, 0u);
    EXPECT_GE(adopted, 1u);
    (void)slot.reclaim();
    EXPECT_LE(slot.live_objects(), 20000u);
}

}  // namespace
}  // namespace cbtrade
