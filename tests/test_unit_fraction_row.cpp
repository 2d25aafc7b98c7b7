// take_unit_fractions (src/ollama/unit_fraction_row.hpp): a row read 64
// bytes at a time must give every item's strtof value, bit for bit, and
// stop exactly at the first item it must leave to the general path. Each
// reader this CPU runs is tested (SSE2 always, AVX2 where present), and
// the one take_unit_fractions picks.
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
using herd::ollama::detail::take_unit_fractions_sse2;
using herd::test::go_form;
using herd::test::printed;
using herd::test::random_finite;

namespace {

std::uint32_t bits(float f) { return std::bit_cast<std::uint32_t>(f); }

using row_reader = const char* (*)(const char*, const char*, std::vector<float>&);
struct named_reader {
    const char* name;
    row_reader read;
};

/// The readers to test on this CPU.
std::vector<named_reader> readers() {
    std::vector<named_reader> all{{"sse2", take_unit_fractions_sse2}, {"dispatch", take_unit_fractions}};
#if HERD_UNIT_FRACTION_AVX2
    if (__builtin_cpu_supports("avx2")) all.push_back({"avx2", herd::ollama::detail::take_unit_fractions_avx2});
    else WARN("no AVX2 on this CPU: take_unit_fractions_avx2 is not tested here");
#endif
    return all;
}

/// The row "[items...]" read the way the decoder reads it: the fast run,
/// then one item the general way, then the fast run again. Empty when an
/// item did not parse.
std::vector<float> read_row(const std::string& row, row_reader take) {
    std::vector<float> got;
    const char* p = row.data() + 1;
    const char* end = row.data() + row.size();
    for (;;) {
        p = take(p, end, got);
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
  for (const auto& reader : readers()) {
    INFO(reader.name);
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
        const auto got = read_row(row, reader.read);
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
}

TEST_CASE("take_unit_fractions: a million components of normalised vectors in Go's form read as strtof reads them") {
    // The rows Ollama sends: every component "0.ddd" or "-0.ddd" (a few in
    // exponent form), 384 to a row; signs, lengths and alignments at random.
    std::mt19937_64 rng(1201);
    std::normal_distribution<float> component(0, 0.05f);
    std::vector<std::string> texts(384);
    for (const auto& reader : readers()) {
        INFO(reader.name);
        std::size_t items = 0, wrong = 0;
        std::string first_wrong;
        for (int r = 0; r < 2600; ++r) {
            std::string row = "[";
            for (auto& t : texts) {
                t = go_form(rng() % 64 ? component(rng) : component(rng) * 1e-6f);
                row += t;
                row += ',';
            }
            row.back() = ']';
            const auto got = read_row(row, reader.read);
            REQUIRE(got.size() == texts.size());
            for (std::size_t i = 0; i < texts.size(); ++i, ++items)
                if (bits(got[i]) != bits(std::strtof(texts[i].c_str(), nullptr)) && wrong++ == 0) first_wrong = texts[i];
        }
        INFO("first wrong: " << first_wrong);
        CHECK(items > 990'000);
        CHECK(wrong == 0);
    }
}

TEST_CASE("take_unit_fractions: stops at the first item of another shape, having taken those before it") {
    const std::string tail = ",0.5,0.25,0.125,0.0625,0.03125,0.015625,0.0078125,0.00390625,0.001953125,0.5,0.25,0.125]";
    // Each of these must be left, at its first byte, to the general path:
    // not JSON, or JSON of another shape, or a unit fraction whose end is
    // not ',', wherever it falls in a 64-byte window.
    for (int leading = 0; leading <= 12; ++leading) {
        std::string lead;
        std::vector<float> expected;
        for (int i = 0; i < leading; ++i) {
            const std::string item = (i % 2 ? "-0.0123456" : "0.98765") + std::to_string(i);
            lead += item + ",";
            expected.push_back(std::strtof(item.c_str(), nullptr));
        }
        for (std::string odd : {"0.x5", "-0.", "-0.,5", "0.,0.5", "-0.,0.5", "00.5", "0.5e3", "0.5E-3", "-0.5 ",
                                "0.1234567890123456", "-0.1234567890123456", "1.5", "-1.5", "0", ".5", "-.5", "--0.5",
                                "0.5.5", "0.5-5", "0.5]", "0.5}", "\"0.5\""}) {
            INFO(odd << " after " << leading << " items");
            const std::string row = lead + odd + tail;
            for (const auto& reader : readers()) {
                INFO(reader.name);
                std::vector<float> got;
                const char* stop = reader.read(row.data(), row.data() + row.size(), got);
                CHECK(stop == row.data() + lead.size());
                REQUIRE(got.size() == expected.size());
                for (std::size_t i = 0; i < got.size(); ++i) CHECK(bits(got[i]) == bits(expected[i]));
            }
        }
    }
}

TEST_CASE("take_unit_fractions: never reads within 80 bytes of the end, and a window of digits is no item") {
    std::string short_row;
    for (int i = 0; i < 19; ++i) short_row += "0.5,";
    short_row += "0.5"; // 79 bytes of items: one short of a window and its last item's digits
    REQUIRE(short_row.size() == 79);
    const std::string digits = "0." + std::string(100, '7') + ",0.5]";
    for (const auto& reader : readers()) {
        INFO(reader.name);
        std::vector<float> got;
        CHECK(reader.read(short_row.data(), short_row.data() + short_row.size(), got) == short_row.data());
        CHECK(got.empty());
        CHECK(reader.read(digits.data(), digits.data() + digits.size(), got) == digits.data());
        CHECK(got.empty());
    }
}
#endif
