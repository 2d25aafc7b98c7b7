#pragma once
// parse_json_float: one JSON number to the nearest float, bit-identical to
// strtof on the same text (round-to-nearest-even, the default rounding
// mode), without std::from_chars' generic path.
//
// Ollama writes each float32 in Go's shortest form ("0.012345678",
// "-1.2345e-7"): at most 9 significant digits, so the decimal mantissa
// always fits in 64 bits. This reads the JSON grammar by hand in one pass
// (eight digits per step with one 8-byte load, straight into a uint64,
// the decimal exponent counted on the way), then converts:
// - w <= 2^53, |q| <= 22: one double division or multiplication (both
//   factors exact, so the result is the double nearest the decimal), then
//   to float; exact unless that double sits on a midpoint between two
//   floats, which is checked. Every fixed-notation float Ollama writes
//   below 2^53 (all of an embedding's) takes this step.
// - else fast_float's Eisel-Lemire step (compute_float, Debian's
//   libfast-float-dev), and where it cannot decide (more than 19 digits,
//   or too close to a halfway point), fast_float::from_chars, its exact
//   slow path.
// Hand-written around fast_float because its 3.9 from_chars has no JSON
// grammar (it takes "1.", ".5", "inf", "nan") and costs about as much as
// std::from_chars per float here (~190 vs ~230 instructions; this ~140,
// see bench/README.md). Assumes the default rounding mode.
//
// Before all that, the shape of a unit vector's component ("0.0123",
// "-0.98765432", 1 to 15 fraction digits) with 16 more bytes readable takes
// parse_unit_fraction below: one 16-byte load, no loop, against ~230
// instructions for the general path (on x86-64, where SSE2 is always
// there). A whole row of them takes unit_fraction_row.hpp, which finds
// the items' ends 64 bytes at a time and converts each with
// unit_fraction_value.
//
// Returns the end of the number, or nullptr when [p, end) does not start
// with a JSON number or the number rounds beyond FLT_MAX (strtof's
// infinity with ERANGE). A magnitude below the smallest denormal becomes
// ±0 as strtof makes it. Never reads past `end`. Thread-safe (no state).

#include <fast_float/fast_float.h>

#include <bit>
#include <cstdint>

// The one-load path needs SSE2 (every x86-64) and little-endian bytes;
// elsewhere every number takes the general path.
#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HERD_UNIT_FRACTION 1
#include <emmintrin.h>
#else
#define HERD_UNIT_FRACTION 0
#endif

namespace herd::ollama::detail {

inline bool is_digit(char c) noexcept { return static_cast<unsigned char>(c - '0') < 10; }

/// Appends the run of decimal digits at p (at most 8 of them) to w and
/// returns how many there were: one 8-byte load, no per-digit branch.
/// Needs 8 readable bytes at p; ends a run the scalar way otherwise.
inline int take_digits(const char*& p, const char* end, std::uint64_t& w) noexcept {
    if (end - p < 8) {
        int n = 0;
        for (; p < end && is_digit(*p); ++p, ++n) w = w * 10 + static_cast<unsigned>(*p - '0');
        return n;
    }
    std::uint64_t v;
    __builtin_memcpy(&v, p, 8);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    // Byte i of `odd` is zero exactly when char i is '0'..'9'.
    const std::uint64_t odd = ((v & 0xF0F0F0F0F0F0F0F0u) | (((v + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4)) ^
                              0x3333333333333333u;
    const int n = odd ? std::countr_zero(odd) / 8 : 8;
    if (n == 0) return 0;
    // The n digits moved to the top bytes, '0' below: an 8-digit number.
    const int pad = 64 - 8 * n;
    v = pad ? (v << pad) | (0x3030303030303030u >> (64 - pad)) : v;
    static constexpr std::uint64_t scale[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    w = w * scale[n] + fast_float::parse_eight_digits_unrolled(v);
    p += n;
    return n;
}

/// Whether the double d lies exactly on a midpoint between two floats (its
/// 29 bits below float precision are 1000...0): rounding it to float would
/// then round the decimal it came from twice, perhaps the wrong way.
inline bool on_float_midpoint(double d) noexcept {
    return (std::bit_cast<std::uint64_t>(d) & 0x1FFFFFFFu) == 0x10000000u;
}

/// The float nearest w x 10^q (w < 2^64) when one exact step decides it;
/// false otherwise (a slower exact path must).
[[gnu::always_inline]] inline bool float_from_decimal(std::uint64_t w, std::int64_t q, bool negative,
                                                      float& out) noexcept {
    // Both factors exact in double, so the quotient/product is the double
    // nearest x. Rounding that double to float again is exact unless it
    // landed on a midpoint between two floats: x may then lie on either
    // side of it, so that case goes on. Every decimal Ollama writes in fixed notation (at most
    // 9 significant digits, 1e-6 <= |x| < 1e21) takes this step.
    static constexpr double powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (w <= (std::uint64_t(1) << 53) && q >= -22 && q <= 22) {
        double d = static_cast<double>(w);
        d = q < 0 ? d / powers[-q] : d * powers[q];
        if (!on_float_midpoint(d)) {
            float v = static_cast<float>(d);
            out = negative ? -v : v;
            return true;
        }
    }
    // Eisel-Lemire (fast_float): decides all but products too close to a
    // halfway point (power2 < 0).
    fast_float::adjusted_mantissa am = fast_float::compute_float<fast_float::binary_format<float>>(q, w);
    if (am.power2 < 0) return false;
    fast_float::to_float(negative, am, out);
    return true;
}

#if HERD_UNIT_FRACTION
/// Bit i set where p[i] is not a digit '0'..'9', for the 16 bytes at p
/// (which must be readable).
[[gnu::always_inline]] inline unsigned non_digits16(const char* p) noexcept {
    const __m128i values = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8('0'));
    const __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values);
    return ~static_cast<unsigned>(_mm_movemask_epi8(digit)) & 0xFFFFu;
}

/// 16 readable bytes whose first n (0..16) are 0xFF and the rest zero: a
/// mask that keeps the first n bytes of a 16-byte load.
inline const unsigned char* first_bytes_mask(unsigned n) noexcept {
    alignas(16) static constexpr unsigned char ones_then_zeros[32] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    return ones_then_zeros + 16 - n;
}
/// Whether the 2 bytes at p are "0." (one little-endian uint16 compare).
[[gnu::always_inline]] inline bool zero_point_at(const char* p) noexcept {
    std::uint16_t two;
    __builtin_memcpy(&two, p, 2);
    return two == ('0' | '.' << 8);
}

/// The float nearest 0.d1..dn (negated when `negative`), from the n digits
/// at `digits` (1 <= n <= 15; 16 bytes readable there); false in the one
/// case a slower path must decide.
///
/// The 16 bytes are read at once; the n digits, padded with zeros, are the
/// integer W = D x 10^(16-n). W is exact in a double (its odd part is below
/// 2^n x 5^16 <= 2^15 x 5^16 < 2^53), and so is 1e16, so W / 1e16 is the
/// double nearest the decimal; rounding it to float is then exact unless it
/// sits on a midpoint between two floats (float_from_decimal's argument):
/// false then.
[[gnu::always_inline]] inline bool unit_fraction_value(const char* digits, unsigned n, bool negative,
                                                       float& out) noexcept {
    const __m128i values = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(digits)), _mm_set1_epi8('0'));
    const __m128i keep = _mm_loadu_si128(reinterpret_cast<const __m128i*>(first_bytes_mask(n)));
    const __m128i kept = _mm_and_si128(values, keep); // byte i: digit i, the first the most significant
    // Digits to numbers in three SIMD steps (all lanes signed 16 or 32 bit,
    // far from overflow): pairs (10a+b), fours (100x+y), eights (10000x+y).
    const __m128i pairs = _mm_add_epi16(_mm_mullo_epi16(_mm_and_si128(kept, _mm_set1_epi16(0x00FF)), _mm_set1_epi16(10)),
                                        _mm_srli_epi16(kept, 8));
    const __m128i fours = _mm_madd_epi16(pairs, _mm_set_epi16(1, 100, 1, 100, 1, 100, 1, 100));
    const __m128i eights =
        _mm_madd_epi16(_mm_packs_epi32(fours, fours), _mm_set_epi16(1, 10000, 1, 10000, 1, 10000, 1, 10000));
    const auto high = static_cast<std::uint32_t>(_mm_cvtsi128_si32(eights));
    const auto low = static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_srli_si128(eights, 4)));
    const std::uint64_t w = std::uint64_t{high} * 100000000u + low;
    const double d = static_cast<double>(w) / 1e16;
    if (on_float_midpoint(d)) return false;
    // The sign as a bit, not a branch: a vector's signs are a coin toss,
    // and a mispredicted branch costs about as much as this whole parse.
    out = std::bit_cast<float>(std::bit_cast<std::uint32_t>(static_cast<float>(d)) |
                               static_cast<std::uint32_t>(negative) << 31);
    return true;
}

/// "0.ddd" or "-0.ddd" with 1..15 fraction digits not followed by an
/// exponent, and at least 16 bytes readable after the point: what Ollama
/// writes for nearly every component of a normalised embedding. Returns
/// the end of the number, or nullptr when the text has another shape (or
/// unit_fraction_value cannot decide): parse_json_float's general path
/// then does.
[[gnu::always_inline]] inline const char* parse_unit_fraction(const char* p, const char* end, float& out) noexcept {
    if (end - p < 19) return nullptr; // sign, "0.", 16 bytes
    const bool negative = *p == '-';
    if (!zero_point_at(p + negative)) return nullptr;
    const char* f = p + negative + 2;
    const auto n = static_cast<unsigned>(std::countr_zero(non_digits16(f) | 0x10000u));
    if (n == 0 || n == 16 || f[n] == 'e' || f[n] == 'E') return nullptr;
    if (!unit_fraction_value(f, n, negative, out)) return nullptr;
    return f + n;
}
#endif

inline const char* parse_json_float(const char* p, const char* end, float& out) noexcept {
#if HERD_UNIT_FRACTION
    if (const char* next = parse_unit_fraction(p, end, out)) return next;
#endif
    const char* const start = p;
    bool negative = false;
    if (p < end && *p == '-') {
        negative = true;
        ++p;
    }
    if (p >= end || !is_digit(*p)) return nullptr;
    std::uint64_t w = 0;
    int digits = 0; // digits read into w (leading zeros of a fraction too)
    std::int64_t q = 0;
    if (*p == '0') {
        ++p;
    } else {
        int n;
        do digits += n = take_digits(p, end, w);
        while (n == 8 && p < end && is_digit(*p));
    }
    if (p < end && *p == '.') {
        ++p;
        const char* first = p;
        int n;
        do digits += n = take_digits(p, end, w);
        while (n == 8 && p < end && is_digit(*p));
        if (p == first) return nullptr; // "1." is not JSON
        q = -(p - first);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        ++p;
        bool exp_negative = false;
        if (p < end && (*p == '-' || *p == '+')) exp_negative = *p++ == '-';
        if (p >= end || !is_digit(*p)) return nullptr;
        std::int64_t e = 0;
        do {
            if (e < 100000) e = e * 10 + (*p - '0'); // beyond any float either way
            ++p;
        } while (p < end && is_digit(*p));
        q += exp_negative ? -e : e;
    }
    // w may have wrapped past 19 digits, or the fast steps cannot decide:
    // the exact slow path on the same text (it ends where this scan ended).
    if (digits > 19 || !float_from_decimal(w, q, negative, out)) {
        auto r = fast_float::from_chars(start, p, out);
        if (r.ec != std::errc{} || r.ptr != p) return nullptr;
    }
    constexpr std::uint32_t exponent_bits = 0x7f800000u;
    if ((std::bit_cast<std::uint32_t>(out) & exponent_bits) == exponent_bits) return nullptr; // rounded to infinity
    return p;
}

} // namespace herd::ollama::detail
