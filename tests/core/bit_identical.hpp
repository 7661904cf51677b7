// Bit-for-bit comparison of doubles and model weights, for the tests that promise determinism
// (a refit, a replay, a recording read back). Not memcmp: a struct's padding bytes hold nothing and
// may differ between two equal values, and comparing doubles with == would take -0.0 for 0.0 and
// never take a NaN for itself.
#pragma once

#include <bit>
#include <cstdint>

#include "core/model.hpp"

namespace cbtrade::testing {

inline bool same_bits(double a, double b) {
    return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

template <class Array>
bool same_bits(const Array& a, const Array& b) {
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!same_bits(a[i], b[i])) return false;
    return true;
}

// Every member equal, the doubles bit for bit.
inline bool bit_identical(const ModelWeights& a, const ModelWeights& b) {
    return a.mode == b.mode && a.n_features == b.n_features && a.converged == b.converged &&
           a.iterations == b.iterations && same_bits(a.intercept, b.intercept) && same_bits(a.coef, b.coef) &&
           same_bits(a.mean, b.mean) && same_bits(a.scale, b.scale) && same_bits(a.std_w, b.std_w) &&
           same_bits(a.ref_volatility, b.ref_volatility);
}

}  // namespace cbtrade::testing
