// exec/token_pool: pre-signed single-use JWTs for POST /orders, signed on the ops thread and taken
// by the exec thread (DESIGN.md section 2: no signing on the hot path; a signature costs 12-70 us,
// bench/bench_jwt.cpp).
//
// A token carries nbf = the time it was signed and exp = nbf + 120 s (coinbase-api.md 2.2). The
// pool keeps `slots` tokens; the ops thread replaces any that is older than refresh_after_ns (30 s
// by default) and fills the empty ones, so the exec thread normally finds one at most 30 s old. The
// exec thread takes the youngest that is younger than usable_for_ns (60 s): a token is never sent
// with less than 60 s of its 120 s left, which covers the clock skew `cbtrade live` accepts (30 s)
// and the order's own round trip. If the ops thread falls behind for a minute, take() finds nothing
// and the order is not sent (counted as no_token), rather than signed on the exec thread.
//
// Each token is used once (a new nonce per order). Slots are handed over with one atomic state per
// slot (empty -> writing -> ready -> taken -> empty), compare-and-swap on both sides, no lock; ages
// use a monotonic clock both sides pass in (tests inject it).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/cpu.hpp"

namespace cbtrade {

// The longest token a slot holds: a CDP JWT with a long key name and the orders uri is ~600 bytes.
inline constexpr std::size_t token_max_chars = 1536;

struct TokenPoolOptions {
    std::int64_t refresh_after_ns = 30'000'000'000;  // the ops thread replaces tokens older than this
    std::int64_t usable_for_ns = 60'000'000'000;     // the exec thread sends none older than this
};

class TokenPool {
public:
    static constexpr std::size_t slots = 4;

    explicit TokenPool(TokenPoolOptions options = {}) noexcept : options_(options) {}
    TokenPool(const TokenPool&) = delete;
    TokenPool& operator=(const TokenPool&) = delete;

    [[nodiscard]] const TokenPoolOptions& options() const noexcept { return options_; }

    // Exec thread. Appends the youngest usable token to `out` (which must have the capacity: no
    // allocation) and frees its slot. false, `out` unchanged, when none is younger than usable_for_ns.
    [[nodiscard]] bool take(std::int64_t now_ns, std::string& out) noexcept;

    // Ops thread. Signs a token into every empty slot and every ready one older than
    // refresh_after_ns: `sign(char* out, std::size_t capacity)` writes one token and returns its
    // length (0: signing failed; the slot stays as it was). Returns how many tokens were signed.
    template <class Sign>
    std::size_t refill(std::int64_t now_ns, Sign&& sign);

    // Tokens the exec thread could take now (any thread; for status and tests).
    [[nodiscard]] std::size_t usable(std::int64_t now_ns) const noexcept;
    // Tokens taken and signed so far (any thread; relaxed statistics).
    [[nodiscard]] std::uint64_t taken() const noexcept { return taken_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t signed_count() const noexcept { return signed_.load(std::memory_order_relaxed); }

private:
    enum State : std::uint32_t { empty, writing, ready, taken_state };
    struct alignas(cache_line) Slot {
        // Handover: the writer of `text`/`length` owns the slot in `writing` (exec: in
        // `taken_state`); the release store of `ready` (`empty`) publishes them to the CAS winner.
        std::atomic<std::uint32_t> state{empty};
        // Read before a CAS to choose a slot (hence atomic); re-checked after winning it.
        std::atomic<std::int64_t> signed_ns{0};
        std::size_t length = 0;
        char text[token_max_chars];
    };
    [[nodiscard]] bool young_enough(std::int64_t signed_ns, std::int64_t now_ns, std::int64_t limit) const noexcept {
        return now_ns - signed_ns < limit;
    }

    TokenPoolOptions options_;
    std::array<Slot, slots> slots_{};
    std::atomic<std::uint64_t> taken_{0};
    std::atomic<std::uint64_t> signed_{0};
};

template <class Sign>
std::size_t TokenPool::refill(std::int64_t now_ns, Sign&& sign) {
    std::size_t made = 0;
    for (Slot& s : slots_) {
        std::uint32_t st = s.state.load(std::memory_order_acquire);
        if (st == ready && young_enough(s.signed_ns.load(std::memory_order_relaxed), now_ns, options_.refresh_after_ns))
            continue;
        if (st != empty && st != ready) continue;  // the exec thread holds it
        // Own the slot: a ready one the exec thread takes first is simply not replaced.
        if (!s.state.compare_exchange_strong(st, writing, std::memory_order_acquire, std::memory_order_relaxed))
            continue;
        const std::size_t n = sign(s.text, sizeof s.text);
        if (n == 0 || n > sizeof s.text) {
            s.state.store(st, std::memory_order_release);  // as it was (an old token stays until it ages out)
            continue;
        }
        s.length = n;
        s.signed_ns.store(now_ns, std::memory_order_relaxed);
        s.state.store(ready, std::memory_order_release);
        signed_.store(signed_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer
        ++made;
    }
    return made;
}

inline bool TokenPool::take(std::int64_t now_ns, std::string& out) noexcept {
    for (int attempt = 0; attempt < 8; ++attempt) {
        Slot* best = nullptr;
        std::int64_t best_ns = 0;
        for (Slot& s : slots_) {
            if (s.state.load(std::memory_order_relaxed) != ready) continue;
            const std::int64_t t = s.signed_ns.load(std::memory_order_relaxed);
            if (young_enough(t, now_ns, options_.usable_for_ns) && (best == nullptr || t > best_ns)) {
                best = &s;
                best_ns = t;
            }
        }
        if (best == nullptr) return false;
        std::uint32_t expected = ready;
        if (!best->state.compare_exchange_strong(expected, taken_state, std::memory_order_acquire,
                                                 std::memory_order_relaxed))
            continue;  // the ops thread is replacing it: choose again
        // Won: text, length and signed_ns are those published with `ready` (it may be a newer token).
        const bool usable =
            young_enough(best->signed_ns.load(std::memory_order_relaxed), now_ns, options_.usable_for_ns) &&
            out.size() + best->length <= out.capacity();
        if (usable) out.append(best->text, best->length);
        best->state.store(usable ? empty : ready, std::memory_order_release);
        if (usable) {
            taken_.store(taken_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer
            return true;
        }
        if (out.size() + best->length > out.capacity()) return false;
    }
    return false;
}

inline std::size_t TokenPool::usable(std::int64_t now_ns) const noexcept {
    std::size_t n = 0;
    for (const Slot& s : slots_)
        if (s.state.load(std::memory_order_acquire) == ready &&
            young_enough(s.signed_ns.load(std::memory_order_relaxed), now_ns, options_.usable_for_ns))
            ++n;
    return n;
}

}  // namespace cbtrade
