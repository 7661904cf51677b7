// core/price_gate: the price sanity gate before the strategy (DESIGN.md section 2, issue 9 item 5).
//
// The decoders already refuse numbers outside the sane range (core/records.hpp). Inside it, one
// bad print (a fat-finger trade, a corrupted message) can still be 30% away from the market; a
// stop or take acting on it would trade on a price that never was. The gate holds a price that
// jumps more than max_jump_fraction from the last accepted price until the following prices
// confirm the new level:
//   - a price within the band of the last accepted price is accepted (and cancels a pending jump:
//     the market came back, the jump was a lone outlier);
//   - a price outside the band is held; each following price within the band of the latest held
//     price confirms it, and the confirm_count-th confirmation is accepted (the move was real);
//   - a price outside both bands starts a new pending level.
// Held prices are counted (outliers(), exported as bot_price_outliers_total) and must not reach
// the strategy or the trader. Allocation-free and noexcept: it runs on the hot path.
#pragma once

#include <cstdint>

namespace cbtrade {

// MAX_PRICE_JUMP_PCT default: a 5% move between consecutive trades is far beyond what a liquid
// product does in normal trading, and a real move of that size is still taken after
// price_gate_default_confirm_count more prices.
inline constexpr double price_gate_default_max_jump_pct = 5.0;
inline constexpr std::uint32_t price_gate_default_confirm_count = 2;

class PriceGate {
public:
    enum class Verdict : std::uint8_t {
        accept,     // trade on it
        confirmed,  // trade on it: the last of a jump's confirmations, the new reference level
        hold,       // do not trade on it (yet): a jump waiting for confirmation
        refuse,     // do not trade on it: not a finite positive number
    };

    // max_jump_fraction: e.g. 0.05 for MAX_PRICE_JUMP_PCT=5 (values <= 0 or non-finite: 0.05).
    // confirm_count: following prices needed to accept a jump (0 is treated as 1).
    PriceGate(double max_jump_fraction, std::uint32_t confirm_count) noexcept;

    [[nodiscard]] Verdict check(double price) noexcept;

    // Forget the reference (e.g. after a long feed outage, when any level may be right): the next
    // price is accepted as it is. Counters are kept.
    void reset() noexcept;

    [[nodiscard]] static bool tradable(Verdict v) noexcept { return v == Verdict::accept || v == Verdict::confirmed; }
    [[nodiscard]] std::uint64_t outliers() const noexcept { return outliers_; }  // prices held
    [[nodiscard]] std::uint64_t confirmed_jumps() const noexcept { return confirmed_jumps_; }
    [[nodiscard]] std::uint64_t refused() const noexcept { return refused_; }
    [[nodiscard]] double reference() const noexcept { return reference_; }  // 0 before the first price
    [[nodiscard]] bool pending() const noexcept { return pending_count_ > 0; }
    [[nodiscard]] double max_jump_fraction() const noexcept { return max_jump_; }
    [[nodiscard]] std::uint32_t confirm_count() const noexcept { return confirm_count_; }

private:
    [[nodiscard]] bool within(double price, double level) const noexcept;

    double max_jump_;
    std::uint32_t confirm_count_;
    double reference_ = 0;             // last accepted price
    double pending_level_ = 0;         // latest held price
    std::uint32_t pending_count_ = 0;  // prices held at the pending level (0: nothing pending)
    std::uint64_t outliers_ = 0;
    std::uint64_t confirmed_jumps_ = 0;
    std::uint64_t refused_ = 0;
};

}  // namespace cbtrade
