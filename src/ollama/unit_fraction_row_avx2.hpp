#pragma once
// take_unit_fractions_avx2: unit_fraction_row.hpp's row reader for CPUs
// with AVX2 (chosen at run time: Debian builds for baseline x86-64).
//
// Of the SSE2 reader's ~45 instructions a float, most go to checking each
// item's shape (sign, "0.", first digit, ',') and to its scalar
// conversion. Here a window's shape is checked at once from five byte
// masks (non-digits, ',', '-', '.', '0'): a window of well-formed items
// needs no per-item check beyond its length, and four items are converted
// together (digits to integers, the exact double division and the
// midpoint test, as in unit_fraction_value, in 256-bit lanes): 5.3 -> 3.6
// ns a float (bench/README.md). A window the masks do not vouch for (the
// row's end, an exponent, anything odd) is walked item by item as the
// SSE2 reader does. Hand-written for the same reason as json_float.hpp.

#include "ollama/unit_fraction_window.hpp"

#include <bit>
#include <cstdint>
#include <vector>

#if HERD_UNIT_FRACTION && (defined(__x86_64__) || defined(__i386__))
#define HERD_UNIT_FRACTION_AVX2 1
#include <immintrin.h>

namespace herd::ollama::detail::avx2 {

/// Bit i set where p[i] == c, for the 64 bytes in lo and hi.
[[gnu::target("avx2"), gnu::always_inline]] inline std::uint64_t equal64(__m256i lo, __m256i hi, char c) noexcept {
    const __m256i x = _mm256_set1_epi8(c);
    return std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, x)))} |
           std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, x)))} << 32;
}

/// Bit i set where p[i] is not a digit, for the 32 bytes in v.
[[gnu::target("avx2"), gnu::always_inline]] inline std::uint32_t non_digits32(__m256i v) noexcept {
    const __m256i d = _mm256_sub_epi8(v, _mm256_set1_epi8('0'));
    return ~static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(9)), d)));
}

[[gnu::target("avx2"), gnu::always_inline]] inline __m256i load_pair(const void* low, const void* high) noexcept {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(static_cast<const __m128i*>(low))),
                                   _mm_loadu_si128(static_cast<const __m128i*>(high)), 1);
}

/// Items found but not yet converted (at most four), and where the row's
/// floats go: `values` is grown ahead (room for a window's items and the
/// pending ones) and cut back to what was written when the reader returns.
class row_writer {
public:
    explicit row_writer(std::vector<float>& values) : values_(values), used_(values.size()) { grow(); }
    row_writer(const row_writer&) = delete;
    row_writer& operator=(const row_writer&) = delete;
    ~row_writer() { values_.resize(used_); }

    /// Before each window: room for its items (at most 16) and the pending.
    void make_room() {
        if (values_.size() - used_ < room) grow();
    }

    /// Adds an item; converts the four pending when it is the fourth.
    /// Returns the start of an item that cannot be decided (the general
    /// path must parse it; the items before it are written), or nullptr.
    [[gnu::target("avx2")]] const char* add(const char* start, const char* digits, unsigned n, bool negative) {
        const unsigned k = count_;
        start_[k] = start;
        digits_[k] = digits;
        n_[k] = n;
        sign_[k] = std::uint32_t{negative} << 31;
        if (++count_ < 4) return nullptr;
        if (convert4()) {
            count_ = 0;
            used_ += 4;
            return nullptr;
        }
        return flush();
    }

    /// Converts the pending items one at a time (fewer than four, or four
    /// with one on a float midpoint); same result as add().
    const char* flush() noexcept {
        for (unsigned i = 0; i < count_; ++i) {
            if (!unit_fraction_value(digits_[i], n_[i], sign_[i] != 0, values_[used_])) {
                count_ = 0;
                return start_[i];
            }
            ++used_;
        }
        count_ = 0;
        return nullptr;
    }

    /// Where the reader stops: the pending items converted (flush), then
    /// the first of them that cannot be decided, or else `at`.
    const char* stop_at(const char* at) noexcept {
        const char* undecided = flush();
        return undecided ? undecided : at;
    }

private:
    static constexpr std::size_t room = 20; // a window's 16 items ("0.d," each), 3 pending, 1 spare
    // Grown by a chunk, not by the row's size: `end` may be a whole body's.
    void grow() { values_.resize(used_ + room + 256); }

    /// The four pending items' floats, as unit_fraction_value makes each:
    /// the digits, zero-padded to 16, are W = high x 10^8 + low, exact in a
    /// double (high x 10^8 is, and W is: unit_fraction_value's argument),
    /// and W / 1e16 the double nearest the decimal. False, writing
    /// nothing, when one of them sits on a midpoint between two floats.
    [[gnu::target("avx2"), gnu::always_inline]] bool convert4() noexcept {
        const __m256i zero = _mm256_set1_epi8('0');
        const __m256i a = _mm256_and_si256(_mm256_sub_epi8(load_pair(digits_[0], digits_[1]), zero),
                                           load_pair(first_bytes_mask(n_[0]), first_bytes_mask(n_[1])));
        const __m256i b = _mm256_and_si256(_mm256_sub_epi8(load_pair(digits_[2], digits_[3]), zero),
                                           load_pair(first_bytes_mask(n_[2]), first_bytes_mask(n_[3])));
        // Pairs (10a+b), fours (100x+y), then eights (10000x+y) of both.
        const __m256i pair_weights = _mm256_set1_epi16(0x010A);
        const __m256i four_weights = _mm256_set1_epi32(0x00010064);
        const __m256i fours_a = _mm256_madd_epi16(_mm256_maddubs_epi16(a, pair_weights), four_weights);
        const __m256i fours_b = _mm256_madd_epi16(_mm256_maddubs_epi16(b, pair_weights), four_weights);
        // Lane 0 then holds items 0 and 2, lane 1 items 1 and 3: (high, low)
        // each; ordered to the four highs, then the four lows.
        const __m256i eights = _mm256_madd_epi16(_mm256_packus_epi32(fours_a, fours_b), _mm256_set1_epi32(0x00012710));
        const __m256i ordered = _mm256_permutevar8x32_epi32(eights, _mm256_setr_epi32(0, 4, 2, 6, 1, 5, 3, 7));
        const __m256d high = _mm256_cvtepi32_pd(_mm256_castsi256_si128(ordered));
        const __m256d low = _mm256_cvtepi32_pd(_mm256_extracti128_si256(ordered, 1));
        const __m256d w = _mm256_add_pd(_mm256_mul_pd(high, _mm256_set1_pd(1e8)), low);
        const __m256d d = _mm256_div_pd(w, _mm256_set1_pd(1e16));
        const __m256i tail = _mm256_and_si256(_mm256_castpd_si256(d), _mm256_set1_epi64x(0x1FFFFFFF));
        if (_mm256_movemask_epi8(_mm256_cmpeq_epi64(tail, _mm256_set1_epi64x(0x10000000))) != 0) return false;
        const __m128 f = _mm_or_ps(_mm256_cvtpd_ps(d), _mm_loadu_ps(reinterpret_cast<const float*>(sign_)));
        _mm_storeu_ps(values_.data() + used_, f);
        return true;
    }

    std::vector<float>& values_;
    std::size_t used_;
    unsigned count_ = 0;
    const char* start_[4];
    const char* digits_[4];
    unsigned n_[4];
    std::uint32_t sign_[4];
};

/// Whether the masks of a window show only whole items "0.d..." or
/// "-0.d..." each ended by ',' up to its last ',' (`upto`: bits 0..that
/// ','), none with an empty fraction. Their lengths are left to check.
[[gnu::always_inline]] inline bool well_formed(std::uint64_t non_digit, std::uint64_t comma, std::uint64_t minus,
                                               std::uint64_t dot, std::uint64_t zero, std::uint64_t upto) noexcept {
    const std::uint64_t starts = (1 | comma << 1) & upto;
    const std::uint64_t negative = starts & minus, positive = starts & ~minus;
    const std::uint64_t zeros = positive | negative << 1, dots = positive << 1 | negative << 2;
    return (minus & upto) == negative && (zero & zeros) == zeros && (dot & upto) == dots &&
           (non_digit & upto) == ((comma | dot | minus) & upto) && (dot << 1 & comma) == 0;
}

} // namespace herd::ollama::detail::avx2

namespace herd::ollama::detail {

/// Same contract as take_unit_fractions_sse2 (unit_fraction_row.hpp): the
/// same floats, the same stop. Call only where the CPU has AVX2.
[[gnu::target("avx2")]] inline const char* take_unit_fractions_avx2(const char* p, const char* end,
                                                                    std::vector<float>& values) {
    avx2::row_writer out(values);
    while (end - p >= 80) {
        out.make_room();
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
        const std::uint64_t non_digit = std::uint64_t{avx2::non_digits32(lo)} | std::uint64_t{avx2::non_digits32(hi)} << 32;
        const std::uint64_t comma = avx2::equal64(lo, hi, ',');
        const std::uint64_t minus = avx2::equal64(lo, hi, '-');
        const std::uint64_t upto = comma ? ~std::uint64_t{0} >> std::countl_zero(comma) : 0;
        unsigned s = 0;
        if (comma && avx2::well_formed(non_digit, comma, minus, avx2::equal64(lo, hi, '.'),
                                       avx2::equal64(lo, hi, '0'), upto)) {
            for (std::uint64_t ends = comma; ends != 0; ends &= ends - 1) {
                const auto e = static_cast<unsigned>(std::countr_zero(ends));
                const unsigned negative = minus >> s & 1;
                const unsigned first = s + 2 + negative;
                if (e - first > 15) return out.stop_at(p + s);
                if (const char* stop = out.add(p + s, p + first, e - first, negative != 0)) return stop;
                s = e + 1;
            }
        } else {
            bool stopped = false;
            const char* refused = nullptr;
            s = checked_items(p, non_digit, stopped, [&](const char* start, const char* digits, unsigned n, bool negative) {
                refused = out.add(start, digits, n, negative);
                return refused == nullptr;
            });
            if (refused) return refused;
            if (stopped) return out.stop_at(p + s);
            if (s == 0) break; // an item longer than the window: not this shape
        }
        p += s;
    }
    return out.stop_at(p);
}

} // namespace herd::ollama::detail
#endif
