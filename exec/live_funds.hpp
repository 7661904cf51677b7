// exec/live_funds: what the exchange says the account holds, handed from the thread that asks it
// (exec/live_equity.hpp, USE_LIVE_EQUITY=true) to the exec thread, which sizes entries from it.
// A seqlock over atomics: one writer, one reader, no lock and no allocation on the reading side;
// the reader never sees half of one snapshot and half of another.
//
// A snapshot carries the exec stage's count of settled orders at the moment the accounts were
// asked for (`settled`): the exec stage applies it only when no order settled since, so a balance
// read before a fill is never laid over that fill (it waits for the next refresh instead).
#pragma once

#include <atomic>
#include <cstdint>

namespace cbtrade {

struct AccountFunds {
    double quote_available = 0;  // spendable quote currency (PRODUCT_ID's second half, e.g. USD)
    double base_total = 0;       // base currency held, available + on hold (e.g. BTC)
    std::uint64_t settled = 0;   // the exec stage's settled-order count when the accounts were asked for
};

class LiveFunds {
public:
    // The writer thread only.
    void publish(const AccountFunds& f) noexcept {
        const std::uint64_t s = seq_.load(std::memory_order_relaxed);
        seq_.store(s + 1, std::memory_order_relaxed);  // odd: a write is under way
        std::atomic_thread_fence(std::memory_order_release);
        quote_.store(f.quote_available, std::memory_order_relaxed);
        base_.store(f.base_total, std::memory_order_relaxed);
        settled_.store(f.settled, std::memory_order_relaxed);
        seq_.store(s + 2, std::memory_order_release);
    }

    // The reader thread only: true with the snapshot in `out` when one newer than `seen` is whole
    // (`seen` then moves on); false when there is none or a write is under way (ask again later).
    [[nodiscard]] bool read_new(std::uint64_t& seen, AccountFunds& out) const noexcept {
        const std::uint64_t s1 = seq_.load(std::memory_order_acquire);
        if (s1 == seen || (s1 & 1) != 0) return false;
        AccountFunds f;
        f.quote_available = quote_.load(std::memory_order_relaxed);
        f.base_total = base_.load(std::memory_order_relaxed);
        f.settled = settled_.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (seq_.load(std::memory_order_relaxed) != s1) return false;
        seen = s1;
        out = f;
        return true;
    }

    // Snapshots published so far (any thread).
    [[nodiscard]] std::uint64_t published() const noexcept { return seq_.load(std::memory_order_relaxed) / 2; }

private:
    std::atomic<std::uint64_t> seq_{0};
    std::atomic<double> quote_{0};
    std::atomic<double> base_{0};
    std::atomic<std::uint64_t> settled_{0};
};
static_assert(std::atomic<double>::is_always_lock_free && std::atomic<std::uint64_t>::is_always_lock_free);

}  // namespace cbtrade
