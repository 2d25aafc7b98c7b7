#pragma once
// A seeded PRNG (splitmix64) for the tail and the faults that act at a
// rate: the same seed gives the same slow and failed requests every run.

#include <cstdint>

namespace herd::sim {

class prng {
public:
    explicit prng(std::uint64_t seed) noexcept : state_(seed) {}

    std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    /// Uniform in [0, 1).
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// True with probability `p`; draws nothing when p <= 0, so a node
    /// without the fault keeps the same sequence for the rest.
    bool chance(double p) noexcept { return p > 0 && uniform() < p; }

private:
    std::uint64_t state_;
};

} // namespace herd::sim
