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
// unit_fraction_value, so they are exact as before. Hand-written for the
// same reason as json_float.hpp: this loop is most of a client's time on
// a 1024-dim embedding (bench/README.md).

#include "ollama/json_float.hpp"

#include <bit>
#include <cstdint>
#include <vector>

#if HERD_UNIT_FRACTION
namespace herd::ollama::detail {

/// Appends to `values` the floats of the items at p that are "0.ddd" or
/// "-0.ddd" (1..15 fraction digits) each followed by ',', and returns
/// where it stopped: the start of the first item it did not take (another
/// shape, an item followed by ']' or anything but ',', one
/// unit_fraction_value cannot decide), or a point within 80 bytes of
/// `end`, where it does not read. The caller parses from there the general
/// way. Never reads at or past `end`.
inline const char* take_unit_fractions(const char* p, const char* end, std::vector<float>& values) {
    while (end - p >= 80) { // a window of 64, and an item's digits read 16 bytes from up to p + 63
        const std::uint64_t non_digit = std::uint64_t{non_digits16(p)} | std::uint64_t{non_digits16(p + 16)} << 16 |
                                        std::uint64_t{non_digits16(p + 32)} << 32 |
                                        std::uint64_t{non_digits16(p + 48)} << 48;
        unsigned s = 0; // the current item's offset in the window
        for (;;) {
            // "0.d" has its first digit at s+2, "-0.d" at s+3: either way
            // the item ends at the first non-digit from s+3 on. Not finding
            // it in the window, the next window starts at this item.
            const std::uint64_t ends = s < 61 ? non_digit & (~std::uint64_t{0} << (s + 3)) : 0;
            if (ends == 0) break;
            const auto e = static_cast<unsigned>(std::countr_zero(ends));
            const bool negative = p[s] == '-';
            const unsigned first = s + 2 + negative;
            float f;
            // The first digit's bit is checked too: "0.x5" would otherwise
            // pass as a two-digit fraction.
            if (!zero_point_at(p + s + negative) || (non_digit >> first & 1) || e - first > 15 || p[e] != ',' ||
                !unit_fraction_value(p + first, e - first, negative, f))
                return p + s;
            values.push_back(f);
            s = e + 1;
        }
        if (s == 0) return p; // an item longer than the window: not this shape
        p += s;
    }
    return p;
}

} // namespace herd::ollama::detail
#endif
