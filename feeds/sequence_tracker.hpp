// Per-connection gap detection on the Coinbase envelope sequence_num. Coinbase numbers every
// message it sends on one connection (all channels share the counter, restarting on reconnect,
// coinbase-api.md 1.6); a jump means messages were dropped for us and will not be replayed. For
// the ticker a gap is harmless (each message is a full state) but it is counted and exported.
#pragma once

#include <cstdint>

namespace cbtrade {

class SequenceTracker {
public:
    struct Counters {
        std::uint64_t messages = 0;         // sequence numbers observed since construction
        std::uint64_t gaps = 0;             // jumps by more than one
        std::uint64_t messages_missed = 0;  // sum of the numbers skipped by those jumps
        std::uint64_t regressions = 0;      // repeated or decreasing numbers on one connection
    };

    // Returns how many messages were skipped just before this one (0 when contiguous).
    [[nodiscard]] std::uint64_t observe(std::uint64_t sequence_num) noexcept {
        ++counters_.messages;
        const bool first_on_connection = !has_last_;
        const std::uint64_t last = last_;
        has_last_ = true;
        last_ = sequence_num;
        // The first number on a connection is whatever the server starts at: not a gap.
        // last + 1 is not computed at the top of the range: 2^64-1 followed by 0 is a regression.
        if (first_on_connection || (last != UINT64_MAX && sequence_num == last + 1)) return 0;
        if (sequence_num <= last) {
            ++counters_.regressions;
            return 0;
        }
        const std::uint64_t missed = sequence_num - last - 1;
        ++counters_.gaps;
        // Saturates: a server jumping to 2^64-1 on each of two connections must not wrap the sum.
        counters_.messages_missed =
            missed > UINT64_MAX - counters_.messages_missed ? UINT64_MAX : counters_.messages_missed + missed;
        return missed;
    }

    // Call on every new connection: numbering restarts there. Counters keep accumulating.
    void reset_connection() noexcept { has_last_ = false; }

    [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
    [[nodiscard]] bool has_last() const noexcept { return has_last_; }
    [[nodiscard]] std::uint64_t last() const noexcept { return last_; }

private:
    Counters counters_{};
    std::uint64_t last_ = 0;
    bool has_last_ = false;
};

}  // namespace cbtrade
