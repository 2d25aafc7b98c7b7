#pragma once
// take_unit_fractions: the items of an embedding row, "0.ddd," and
// "-0.ddd,", read 64 bytes at a time.
//
// parse_unit_fraction (json_float.hpp) reads one item with one 16-byte
// load, but the next item's load then waits for this one's end: load,
// digit mask, count, add, on every float. Here four loads make one 64-bit
// mask of the non-digits of a 64-byte window, and each item's end is the
// next set bit (a shift and a count), so the loads of the items in a
// window no longer wait for each other. The values still go through
// unit_fraction_value, so they are exact as before. Where the CPU has
// AVX2, take_unit_fractions_avx2 (unit_fraction_row_avx2.hpp) does the
// same with fewer instructions a float. Hand-written for the same reason
// as json_float.hpp: this loop is most of a client's time on a 1024-dim
// embedding (bench/README.md).

#include "ollama/unit_fraction_row_avx2.hpp"
#include "ollama/unit_fraction_window.hpp"

#include <vector>

#if HERD_UNIT_FRACTION
namespace herd::ollama::detail {

/// Appends to `values` the floats of the items at p that are "0.ddd" or
/// "-0.ddd" (1..15 fraction digits) each followed by ',', and returns
/// where it stopped: the start of the first item it did not take (another
/// shape, an item followed by ']' or anything but ',', one
/// unit_fraction_value cannot decide), or a point within 80 bytes of
/// `end`, where it does not read. The caller parses from there the general
/// way. Never reads at or past `end`. Throws only what growing `values`
/// throws.
inline const char* take_unit_fractions_sse2(const char* p, const char* end, std::vector<float>& values) {
    while (end - p >= 80) { // a window of 64, and an item's digits read 16 bytes from up to p + 63
        bool stopped = false;
        const unsigned s =
            checked_items(p, non_digits64(p), stopped, [&](const char*, const char* digits, unsigned n, bool negative) {
                float f;
                if (!unit_fraction_value(digits, n, negative, f)) return false;
                values.push_back(f);
                return true;
            });
        if (stopped) return p + s;
        if (s == 0) return p; // an item longer than the window: not this shape
        p += s;
    }
    return p;
}

/// take_unit_fractions_sse2's contract, by the fastest reader this CPU
/// runs (checked once).
inline const char* take_unit_fractions(const char* p, const char* end, std::vector<float>& values) {
#if HERD_UNIT_FRACTION_AVX2
    static const bool has_avx2 = __builtin_cpu_supports("avx2");
    if (has_avx2) return take_unit_fractions_avx2(p, end, values);
#endif
    return take_unit_fractions_sse2(p, end, values);
}

} // namespace herd::ollama::detail
#endif
