#include "core/price_gate.hpp"

#include <cmath>

namespace cbtrade {

PriceGate::PriceGate(double max_jump_fraction, std::uint32_t confirm_count) noexcept
    : max_jump_(std::isfinite(max_jump_fraction) && max_jump_fraction > 0 ? max_jump_fraction
                                                                          : price_gate_default_max_jump_pct / 100),
      confirm_count_(confirm_count == 0 ? 1 : confirm_count) {}

bool PriceGate::within(double price, double level) const noexcept {
    // Relative to the level the move starts from: 100 -> 105 and 105 -> 100 are both ~5%.
    return std::fabs(price - level) <= max_jump_ * level;
}

PriceGate::Verdict PriceGate::check(double price) noexcept {
    if (!std::isfinite(price) || price <= 0) {
        ++refused_;
        return Verdict::refuse;
    }
    if (reference_ == 0 || within(price, reference_)) {
        reference_ = price;
        pending_count_ = 0;
        return Verdict::accept;
    }
    if (pending_count_ > 0 && within(price, pending_level_)) {
        // One more price at the new level: the confirm_count-th following price settles it.
        if (pending_count_ >= confirm_count_) {
            reference_ = price;
            pending_count_ = 0;
            ++confirmed_jumps_;
            return Verdict::confirmed;
        }
        ++pending_count_;
    } else {
        pending_count_ = 1;  // a new level, away from both the reference and any earlier pending one
    }
    pending_level_ = price;
    ++outliers_;
    return Verdict::hold;
}

void PriceGate::reset() noexcept {
    reference_ = 0;
    pending_count_ = 0;
}

}  // namespace cbtrade
