#pragma once
// The items of a 64-byte window of an embedding row ("0.ddd," and
// "-0.ddd,"), found one at a time by checking each: shared by the SSE2 and
// AVX2 row readers (unit_fraction_row.hpp, unit_fraction_row_avx2.hpp).

#include "ollama/json_float.hpp"

#include <bit>
#include <cstdint>

#if HERD_UNIT_FRACTION
namespace herd::ollama::detail {

/// Bit i set where p[i] is not a digit, for the 64 bytes at p.
[[gnu::always_inline]] inline std::uint64_t non_digits64(const char* p) noexcept {
    return std::uint64_t{non_digits16(p)} | std::uint64_t{non_digits16(p + 16)} << 16 |
           std::uint64_t{non_digits16(p + 32)} << 32 | std::uint64_t{non_digits16(p + 48)} << 48;
}

/// Walks the items of the window at p (its non-digit mask `non_digit`)
/// from its first byte, checking each: "0.d" or "-0.d" with 1..15 fraction
/// digits, then ','. Calls take(start, digits, n, negative) for each item
/// of that shape; take returns false when it cannot decide the item.
/// Returns the offset after the last item taken; `stopped` is set when it
/// stopped at an item of another shape or one take refused (the offset is
/// then that item's start). An item not ending within the window ends the
/// walk unstopped: the next window starts there. Reads 16 bytes past each
/// item's first digit, so needs p + 80 readable.
template <class Take>
[[gnu::always_inline]] inline unsigned checked_items(const char* p, std::uint64_t non_digit, bool& stopped, Take&& take) {
    unsigned s = 0; // the current item's offset in the window
    for (;;) {
        // "0.d" has its first digit at s+2, "-0.d" at s+3: either way the
        // item ends at the first non-digit from s+3 on.
        const std::uint64_t ends = s < 61 ? non_digit & (~std::uint64_t{0} << (s + 3)) : 0;
        if (ends == 0) return s;
        const auto e = static_cast<unsigned>(std::countr_zero(ends));
        const bool negative = p[s] == '-';
        const unsigned first = s + 2 + negative;
        // The first digit's bit is checked too: "0.x5" would otherwise pass
        // as a two-digit fraction.
        if (!zero_point_at(p + s + negative) || (non_digit >> first & 1) || e - first > 15 || p[e] != ',' ||
            !take(p + s, p + first, e - first, negative)) {
            stopped = true;
            return s;
        }
        s = e + 1;
    }
}

} // namespace herd::ollama::detail
#endif
