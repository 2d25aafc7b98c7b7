// take_unit_fractions (src/ollama/unit_fraction_row.hpp): a row read 64
// bytes at a time must give every item's strtof value, bit for bit, and
// stop exactly at the first item it must leave to the general path.
#include "ollama/json_float.hpp"
#include "ollama/unit_fraction_row.hpp"
#include "support/float_text.hpp"

#include <catch2/catch.hpp>

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#if HERD_UNIT_FRACTION
using herd::ollama::detail::parse_json_float;
using herd::ollama::detail::take_unit_fractions;
using herd::test::go_form;
using herd::test::printed;
using herd::test::random_finite;

namespace {

std::uint32_t bits(float f) { return std::bit_cast<std::uint32_t>(f); }

/// The row "[items...]" read the way the decoder reads it: the fast run,
/// then one item the general way, then the fast run again. Empty when an
/// item did not parse.
std::vector<float> read_row(const std::string& row) {
    std::vector<float> got;
    const char* p = row.data() + 1;
    const char* end = row.data() + row.size();
    for (;;) {
        p = take_unit_fractions(p, end, got);
        float f;
        const char* next = parse_json_float(p, end, f);
        if (!next) return {};
        got.push_back(f);
        if (*next == ']') return got;
        if (*next != ',') return {};
        p = next + 1;
    }
}

/// One item as Ollama or another server might write it: mostly unit
/// fractions of 1 to 17 digits, some next to a float midpoint, some of
/// other shapes.
std::string random_item(std::mt19937_64& rng) {
    std::uniform_real_distribution<double> unit(0, 1);
    const auto kind = rng() % 20;
    const double x = unit(rng) * (rng() % 2 ? 1 : 1e-4);
    const std::string sign = rng() % 2 ? "-" : "";
    if (kind < 14) return sign + printed(x, std::chars_format::fixed, 1 + static_cast<int>(rng() % 17));
    if (kind < 16) {
        const float a = static_cast<float>(x);
        const double mid = (static_cast<double>(a) + std::nextafter(a, 2.0f)) / 2; // exact in double
        return sign + printed(rng() % 2 ? mid : std::nextafter(mid, 0.0), std::chars_format::fixed, 15);
    }
    if (kind < 18) return go_form(static_cast<float>(unit(rng) - 0.5) * 0.4f); // Go's own form
    const char* other[] = {"0", "-0", "-0.0", "1.5", "0.5e-3", "-0.25E+1", "12"};
    return rng() % 3 ? go_form(random_finite(rng)) : other[rng() % 7];
}

} // namespace

TEST_CASE("take_unit_fractions: mixed rows at every alignment read as strtof reads each item") {
    std::mt19937_64 rng(20261201);
    std::size_t rows = 0, items = 0, wrong = 0;
    std::string first_wrong;
    for (int r = 0; r < 6000; ++r) {
        std::vector<std::string> texts(1 + rng() % 300);
        std::string row = "[";
        for (auto& t : texts) {
            t = random_item(rng);
            row += t;
            row += ',';
        }
        row.back() = ']';
        row += r % 2 ? "}" : "],\"total_duration\":12000000}"; // the row's end near or far from the body's
        const auto got = read_row(row);
        REQUIRE(got.size() == texts.size());
        ++rows;
        for (std::size_t i = 0; i < texts.size(); ++i, ++items) {
            const float expected = std::strtof(texts[i].c_str(), nullptr);
            if (bits(got[i]) != bits(expected) && wrong++ == 0) first_wrong = texts[i];
        }
    }
    INFO("first wrong: " << first_wrong);
    CHECK(rows == 6000);
    CHECK(items > 800'000);
    CHECK(wrong == 0);
}

TEST_CASE("take_unit_fractions: stops at the first item of another shape, having taken those before it") {
    std::string lead;
    std::vector<float> expected;
    for (int i = 0; i < 9; ++i) {
        const std::string item = (i % 2 ? "-0.0123456" : "0.98765") + std::to_string(i);
        lead += item + ",";
        expected.push_back(std::strtof(item.c_str(), nullptr));
    }
    const std::string tail = ",0.5,0.25,0.125,0.0625,0.03125,0.015625,0.0078125,0.00390625,0.001953125,0.5,0.25,0.125]";
    // Each of these must be left, at its first byte, to the general path:
    // not JSON, or JSON of another shape, or a unit fraction whose end is
    // not ','.
    for (std::string odd : {"0.x5", "-0.", "-0.,5", "00.5", "0.5e3", "0.5E-3", "-0.5 ", "0.1234567890123456",
                            "1.5", "-1.5", "0", ".5", "-.5", "0.5]", "0.5}", "\"0.5\""}) {
        INFO(odd);
        const std::string row = lead + odd + tail;
        std::vector<float> got;
        const char* stop = take_unit_fractions(row.data(), row.data() + row.size(), got);
        CHECK(stop == row.data() + lead.size());
        REQUIRE(got.size() == expected.size());
        for (std::size_t i = 0; i < got.size(); ++i) CHECK(bits(got[i]) == bits(expected[i]));
    }
}

TEST_CASE("take_unit_fractions: never reads within 80 bytes of the end, and a window of digits is no item") {
    std::vector<float> got;
    std::string short_row;
    for (int i = 0; i < 19; ++i) short_row += "0.5,";
    short_row += "0.5"; // 79 bytes of items: one short of a window and its last item's digits
    REQUIRE(short_row.size() == 79);
    CHECK(take_unit_fractions(short_row.data(), short_row.data() + short_row.size(), got) == short_row.data());
    CHECK(got.empty());
    const std::string digits = "0." + std::string(100, '7') + ",0.5]";
    CHECK(take_unit_fractions(digits.data(), digits.data() + digits.size(), got) == digits.data());
    CHECK(got.empty());
}
#endif
