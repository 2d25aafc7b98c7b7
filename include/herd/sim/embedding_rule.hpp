#pragma once
// The deterministic embedding rule herd-sim answers with, so any client can
// check that a vector belongs to its input (shared/DESIGN.md):
//   seed = FNV-1a 64 over model + '\0' + text
//   xorshift64* from seed (0x9E3779B97F4A7C15 when the seed is 0)
//   value_i = (x >> 40) / 2^24 * 2 - 1, then L2-normalised in double,
//   rounded to float.
// `dimensions` (Ollama's option) keeps the first k values of the full-size
// vector and normalises again, as Ollama does.

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

namespace herd::sim {

constexpr std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t h = 0xcbf29ce484222325ULL) noexcept {
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/// The raw (unnormalised) draws for model/text, `dim` of them.
inline std::vector<double> raw_draws(std::string_view model, std::string_view text, std::size_t dim) {
    std::uint64_t x = fnv1a64(text, fnv1a64(std::string_view("\0", 1), fnv1a64(model)));
    if (x == 0) x = 0x9E3779B97F4A7C15ULL;
    std::vector<double> v(dim);
    for (auto& d : v) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        std::uint64_t r = x * 0x2545F4914F6CDD1DULL;
        d = static_cast<double>(r >> 40) / 16777216.0 * 2.0 - 1.0;
    }
    return v;
}

/// The embedding herd-sim returns for `text` under `model`, with the model's
/// full dimension `dim`, truncated to `dimensions` when 0 < dimensions < dim.
inline std::vector<float> expected_embedding(std::string_view model, std::string_view text, std::size_t dim,
                                             std::size_t dimensions = 0) {
    auto raw = raw_draws(model, text, dim);
    if (dimensions > 0 && dimensions < dim) raw.resize(dimensions);
    double norm = 0;
    for (double d : raw) norm += d * d;
    norm = std::sqrt(norm);
    std::vector<float> out(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i)
        out[i] = static_cast<float>(norm > 0 ? raw[i] / norm : 0.0);
    return out;
}

/// True when `got` is the rule's vector for model/text (within float
/// rounding of a JSON round trip).
inline bool matches_rule(std::string_view model, std::string_view text, const float* got, std::size_t n,
                         std::size_t full_dim, float tolerance = 1e-6f) {
    auto want = expected_embedding(model, text, full_dim, n < full_dim ? n : 0);
    if (want.size() != n) return false;
    for (std::size_t i = 0; i < n; ++i)
        if (std::fabs(want[i] - got[i]) > tolerance) return false;
    return true;
}

} // namespace herd::sim
