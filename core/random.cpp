#include "core/random.hpp"

#include <random>

#include "core/cpu.hpp"

namespace cbtrade {

std::uint64_t SplitMix64::entropy_seed() noexcept {
    // std::random_device reads the kernel's getrandom(); it only throws where no source exists at all.
    try {
        std::random_device source;
        return (static_cast<std::uint64_t>(source()) << 32) ^ source() ^ 0x9e3779b97f4a7c15ull;
    } catch (...) {
        return static_cast<std::uint64_t>(read_tsc()) * 0x9e3779b97f4a7c15ull;
    }
}

}  // namespace cbtrade
