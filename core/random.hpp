// core/random: splitmix64, the one small generator the project uses for jitter, WebSocket mask keys,
// synthetic markets and the simulator. Tiny, fast, fully specified (the same sequence on every
// machine for a given seed), and not cryptographic: JWT nonces and TLS use wolfCrypt's RNG instead.
#pragma once

#include <cstdint>

namespace cbtrade {

class SplitMix64 {
public:
    explicit constexpr SplitMix64(std::uint64_t seed = 0) noexcept : state_(seed) {}

    // A seed that differs between processes and calls (std::random_device), for jitter and masks.
    [[nodiscard]] static std::uint64_t entropy_seed() noexcept;

    [[nodiscard]] constexpr std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1) with 53 random bits.
    [[nodiscard]] constexpr double next_unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // Uniform in (0, 1): never 0, so log() of it is finite (Box-Muller).
    [[nodiscard]] constexpr double next_open_unit() noexcept {
        return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53;
    }
    // Uniform in [0, bound]; bound + 1 must not overflow. Modulo bias is negligible for jitter.
    [[nodiscard]] constexpr std::uint64_t next_at_most(std::uint64_t bound) noexcept {
        return bound == 0 ? 0 : next() % (bound + 1);
    }

private:
    std::uint64_t state_;
};

}  // namespace cbtrade
