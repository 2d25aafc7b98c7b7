#pragma once
// Floats as text, for the float parser's tests: Go's JSON form of a float32
// (what Ollama writes), std::to_chars' forms, and random finite floats.
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

namespace herd::test {

// Go's encoding/json for a float32 (what Ollama writes): shortest digits,
// fixed notation for 1e-6 <= |x| < 1e21, else exponent form ("e-07" -> "e-7").
inline std::string go_form(float v) {
    char buf[64];
    float a = std::fabs(v);
    bool sci = a != 0 && (a < 1e-6f || a >= 1e21f);
    auto r = std::to_chars(buf, buf + sizeof buf, v, sci ? std::chars_format::scientific : std::chars_format::fixed);
    std::string s(buf, r.ptr);
    if (sci && s.size() >= 4 && s[s.size() - 4] == 'e' && s[s.size() - 3] == '-' && s[s.size() - 2] == '0')
        s.erase(s.size() - 2, 1);
    return s;
}

inline std::string printed(double v, std::chars_format f, int precision = -1) {
    char buf[800];
    auto r = precision < 0 ? std::to_chars(buf, buf + sizeof buf, v, f) : std::to_chars(buf, buf + sizeof buf, v, f, precision);
    return {buf, r.ptr};
}

inline float random_finite(std::mt19937_64& rng) {
    for (;;) {
        float f = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));
        if (std::isfinite(f)) return f;
    }
}

} // namespace herd::test
