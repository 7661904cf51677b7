// pipeline/model_slot: new model weights from the ops thread reach the signal stage without a lock,
// and are freed only when the signal stage can no longer read them (issue 10 item 7).
//
// The ops thread publishes each refit as a new heap object (latest_, release). The signal stage
// checks latest_ between records (acquire, one load), switches to a newer one, and then says which
// it uses (in_use_, release). It never reads an older object again, so everything older than
// in_use_ is garbage: the ops thread frees it in reclaim(). One reader, one writer; no epochs needed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/model.hpp"

namespace cbtrade {

struct PublishedModel {
    ModelWeights weights;
    std::uint64_t generation;  // 1, 2, ... in publication order
    std::uint64_t fit_end;     // candles (history + live) the fit had seen
};

class ModelSlot {
public:
    ModelSlot() = default;
    ModelSlot(const ModelSlot&) = delete;
    ModelSlot& operator=(const ModelSlot&) = delete;

    // Publisher (start-up, then the ops thread): makes `w` the newest model. Cold: allocates.
    const PublishedModel& publish(const ModelWeights& w, std::uint64_t fit_end) {
        auto p = std::make_unique<PublishedModel>(PublishedModel{w, ++generations_, fit_end});
        const PublishedModel* raw = p.get();
        owned_.push_back(std::move(p));
        latest_.store(raw, std::memory_order_release);
        return *raw;
    }

    // Reader (the signal stage): the newest model when it is newer than `current` (nullptr: none
    // yet), else nullptr. Acknowledges the switch, so the old one may be freed. Hot: two atomics.
    [[nodiscard]] const PublishedModel* adopt_newer(const PublishedModel* current) noexcept {
        const PublishedModel* latest = latest_.load(std::memory_order_acquire);
        if (latest == current || latest == nullptr) return nullptr;
        in_use_.store(latest, std::memory_order_release);
        return latest;
    }

    // Publisher: frees every model older than the one the reader uses; returns how many.
    std::size_t reclaim() {
        const PublishedModel* used = in_use_.load(std::memory_order_acquire);
        if (used == nullptr) return 0;
        std::size_t freed = 0;
        while (!owned_.empty() && owned_.front()->generation < used->generation) {
            owned_.erase(owned_.begin());
            ++freed;
        }
        return freed;
    }

    // Publisher side: models allocated and not yet freed.
    [[nodiscard]] std::size_t live_objects() const noexcept { return owned_.size(); }
    [[nodiscard]] std::uint64_t generations() const noexcept { return generations_; }

private:
    std::vector<std::unique_ptr<PublishedModel>> owned_;  // publisher only, oldest first
    std::uint64_t generations_ = 0;                       // publisher only
    // writer: the publisher; reader: the signal stage. Release/acquire: the weights written before
    // the store are visible to the reader that loads the pointer.
    std::atomic<const PublishedModel*> latest_{nullptr};
    // writer: the signal stage; reader: the publisher (reclaim). Release/acquire: once the publisher
    // sees generation g in use, the reader has stopped touching anything older (its loads of the
    // old weights happen before its store of the new pointer).
    std::atomic<const PublishedModel*> in_use_{nullptr};
};

}  // namespace cbtrade
