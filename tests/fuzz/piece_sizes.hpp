// Pseudo-random piece sizes for fuzz targets that feed a stream parser twice (whole, then in pieces)
// and require the same outcome: splitting a stream must never change what is parsed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cbtrade::fuzz {

class PieceSizes {
public:
    explicit PieceSizes(std::uint8_t seed) : state_(seed * 2654435761u + 1) {}
    std::size_t next() {
        state_ = state_ * 1103515245u + 12345u;
        const std::uint32_t r = state_ >> 16;
        // Mostly tiny pieces (splits inside headers), sometimes large ones.
        return (r & 3) == 0 ? 1 + (r >> 2) % 2048 : 1 + (r >> 2) % 7;
    }

private:
    std::uint32_t state_;
};

}  // namespace cbtrade::fuzz
