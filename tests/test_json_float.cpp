// parse_json_float (src/ollama/json_float.hpp) against strtof: every float
// Ollama can write, and others, must come back bit for bit.
#include "ollama/json_float.hpp"
#include "support/float_text.hpp"

#include <catch2/catch.hpp>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <regex>
#include <string>

using herd::ollama::detail::parse_json_float;
using herd::test::go_form;
using herd::test::printed;
using herd::test::random_finite;

namespace {

// Parses `text` both ways; true when both consumed all of it to the same bits
// (or both report an overflow).
bool same_as_strtof(const std::string& text) {
    errno = 0;
    char* strtof_end = nullptr;
    float expected = std::strtof(text.c_str(), &strtof_end);
    bool overflow = errno == ERANGE && std::isinf(expected);
    // Bare, and inside a row with more bytes after it (the one-load path
    // for "0.ddd" needs 16 readable bytes after the point).
    const std::string in_row = text + ",0.1234567890123456789]";
    for (const std::string* s : {&text, &in_row}) {
        float got = 0;
        const char* end = parse_json_float(s->data(), s->data() + s->size(), got);
        if (overflow) {
            if (end != nullptr) return false;
            continue;
        }
        if (end != s->data() + text.size() || strtof_end != text.data() + text.size() ||
            std::bit_cast<std::uint32_t>(got) != std::bit_cast<std::uint32_t>(expected))
            return false;
    }
    return true;
}

} // namespace

TEST_CASE("parse_json_float: 10 million random floats in every written form parse as strtof does") {
    std::mt19937_64 rng(20261130);
    std::uniform_real_distribution<float> embedding(-0.2f, 0.2f); // Ollama's usual range
    std::size_t checked = 0, wrong = 0;
    std::string first_wrong;
    auto check = [&](const std::string& text) {
        ++checked;
        if (!same_as_strtof(text) && wrong++ == 0) first_wrong = text;
    };
    for (int i = 0; i < 2'000'000; ++i) {
        float any = random_finite(rng);
        check(go_form(any));                                                  // shortest, Go's notation
        check(go_form(embedding(rng)));                                       // shortest, embedding-sized
        check(printed(any, std::chars_format::scientific));                   // shortest, always exponent form
        check(printed(any, std::chars_format::scientific, 8));                // 9-digit mantissa
        check(printed(static_cast<double>(any) * (1 + 1e-12 * static_cast<double>(i % 7) - 3e-12),
                      std::chars_format::scientific, 16));                    // 17 digits, off the float
    }
    INFO("first wrong: " << first_wrong);
    CHECK(checked == 10'000'000);
    CHECK(wrong == 0);
}

TEST_CASE("parse_json_float: signs, zeros, denormals, limits and halfway points") {
    for (std::string s : {"0", "-0", "0.0", "-0.0", "0e5", "-0e-5", "1", "-1", "1.5", "1E3", "1e+3", "1e-3",
                          "1.17549435e-38", "1.1754942e-38", "1e-45", "1.4e-45", "-1.4e-45", "7e-46", "8e-46",
                          "1e-46", "-1e-50", "1e-400", "3.4028235e38", "-3.4028235e38", "3.40282356e38",
                          "16777217", "16777219", "33554435", "1.6777217e7", "0.16777217e8",
                          "9007199254740993", "123456789012345678901234567890", "0.000000000000000000001",
                          "1.00000005960464477539062500000001", "1.000000059604644775390625",
                          "1.00000005960464477539062499999999"}) {
        INFO(s);
        CHECK(same_as_strtof(s));
    }
    float z = 1;
    const std::string neg_zero = "-0";
    CHECK(parse_json_float(neg_zero.data(), neg_zero.data(), z) == nullptr); // empty range: nothing read
    REQUIRE(parse_json_float(neg_zero.data(), neg_zero.data() + 2, z));
    CHECK(std::signbit(z));
    // Every denormal and the normals around FLT_MIN, shortest and 9 digits.
    std::size_t wrong = 0;
    for (std::uint32_t bits = 1; bits < 0x00900000u; bits += 97) {
        float f = std::bit_cast<float>(bits);
        wrong += !same_as_strtof(printed(f, std::chars_format::scientific));
        wrong += !same_as_strtof(printed(f, std::chars_format::scientific, 8));
    }
    CHECK(wrong == 0);
    // Exact halfway points between neighbouring floats (ties to even) and
    // the closest decimals on either side of them.
    std::mt19937_64 rng(7);
    wrong = 0;
    for (int i = 0; i < 20000; ++i) {
        float a = std::fabs(random_finite(rng));
        float b = std::nextafter(a, std::numeric_limits<float>::infinity());
        if (std::isinf(b)) continue;
        double mid = (static_cast<double>(a) + b) / 2; // exact in double
        wrong += !same_as_strtof(printed(mid, std::chars_format::scientific, 120));
        wrong += !same_as_strtof(printed(std::nextafter(mid, 0.0), std::chars_format::scientific, 120));
        wrong += !same_as_strtof(printed(std::nextafter(mid, 1e300), std::chars_format::scientific, 16));
    }
    CHECK(wrong == 0);
}

TEST_CASE("parse_json_float: unit-vector components, every fraction length, near float midpoints") {
    // "0.ddd" and "-0.ddd" with 1 to 17 fraction digits (16 and 17 leave
    // the one-load path), and decimals next to the midpoint between two
    // floats in (0, 1), where rounding the double to float must not round
    // twice the wrong way.
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> unit(0, 1);
    std::size_t wrong = 0;
    std::string first_wrong;
    auto check = [&](const std::string& s) {
        if (!same_as_strtof(s) && wrong++ == 0) first_wrong = s;
    };
    for (int i = 0; i < 300'000; ++i) {
        double x = unit(rng);
        int digits = 1 + i % 17;
        check(printed(x, std::chars_format::fixed, digits));
        check("-" + printed(x * 1e-3, std::chars_format::fixed, digits));
        float a = static_cast<float>(x);
        double mid = (static_cast<double>(a) + std::nextafter(a, 2.0f)) / 2;
        check(printed(mid, std::chars_format::fixed, 15));
        check(printed(std::nextafter(mid, 0.0), std::chars_format::fixed, 15));
    }
    for (std::string s : {"0.0", "-0.0", "0.000000000000000", "0.5", "0.999999999999999", "-0.000000000000001"}) check(s);
    INFO("first wrong: " << first_wrong);
    CHECK(wrong == 0);
    // Not JSON even with bytes after it: no digit after the point, or a
    // second leading zero.
    float f = 0;
    for (std::string s : {"0.,1234567890123456789", "-0.]1234567890123456789"}) {
        INFO(s);
        CHECK(parse_json_float(s.data(), s.data() + s.size(), f) == nullptr);
    }
    const std::string two_zeros = "00.5,234567890123456789"; // the number is "0"; the caller refuses the rest
    CHECK(parse_json_float(two_zeros.data(), two_zeros.data() + two_zeros.size(), f) == two_zeros.data() + 1);
    // An exponent after the digits leaves the one-load path, and is read.
    const std::string exponent = "0.5e-3,234567890123456789";
    CHECK(parse_json_float(exponent.data(), exponent.data() + exponent.size(), f) == exponent.data() + 6);
    CHECK(f == 0.5e-3f);
}

TEST_CASE("parse_json_float: overflow and text that is not a JSON number") {
    float f = 0;
    for (std::string s : {"3.5e38", "-1e39", "1e400", "340282366920938463463374607431768211456"}) {
        INFO(s);
        CHECK(parse_json_float(s.data(), s.data() + s.size(), f) == nullptr);
    }
    for (std::string s : {"", "-", "+1", ".5", "1.", "1.e5", "1e", "1e+", "e5", "inf", "-inf", "nan", "NaN", "Infinity",
                          "-.5", "- 1", "x"}) {
        INFO(s);
        CHECK(parse_json_float(s.data(), s.data() + s.size(), f) == nullptr);
    }
    // The longest JSON number at the front; what follows is the caller's.
    for (auto [s, n] : {std::pair<std::string, std::size_t>{"01", 1}, {"1.5,2", 3}, {"-2e3]", 4}, {"7 ", 1},
                        {"0x10", 1}, {"1.25e-2e", 7}}) {
        INFO(s);
        const char* end = parse_json_float(s.data(), s.data() + s.size(), f);
        REQUIRE(end != nullptr);
        CHECK(static_cast<std::size_t>(end - s.data()) == n);
        CHECK(same_as_strtof(s.substr(0, n)));
    }
}

TEST_CASE("parse_json_float: random strings of number characters, against strtof on what it read") {
    std::mt19937_64 rng(11);
    static constexpr char alphabet[] = "0123456789000000.-+eE";
    const std::regex json_number(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)");
    std::size_t wrong = 0, parsed = 0;
    for (int i = 0; i < 300'000; ++i) {
        std::string s(1 + rng() % 24, ' ');
        for (auto& c : s) c = alphabet[rng() % (sizeof alphabet - 1)];
        float f = 0;
        const char* end = parse_json_float(s.data(), s.data() + s.size(), f);
        if (!end) continue;
        ++parsed;
        std::string read(s.c_str(), end);
        wrong += !std::regex_match(read, json_number) || !same_as_strtof(read);
    }
    CHECK(parsed > 10'000);
    CHECK(wrong == 0);
}
