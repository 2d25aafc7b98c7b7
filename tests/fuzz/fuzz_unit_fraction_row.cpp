// The embedding row readers (src/ollama/unit_fraction_row.hpp) on any
// bytes: the SSE2 reader and, where the CPU has it, the AVX2 reader stop at
// the same byte with the same floats, and each float they take is what the
// general parser (parse_json_float) reads from that item, bit for bit, the
// items lying back to back from the start, each ended by ','. The input is
// copied to a buffer of exactly its size, so a read past the end is an
// AddressSanitizer report.
#include "http_harness.hpp"
#include "ollama/unit_fraction_row.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
#if HERD_UNIT_FRACTION
    using namespace herd::ollama::detail;
    const std::vector<char> bytes(data, data + size);
    const char* const begin = bytes.data();
    const char* const end = begin + size;
    std::vector<float> taken;
    const char* const stop = take_unit_fractions_sse2(begin, end, taken);
    HERD_FUZZ_CHECK(stop >= begin && stop <= end);
    const char* item = begin;
    for (float f : taken) {
        float general;
        const char* next = parse_json_float(item, end, general);
        HERD_FUZZ_CHECK(next && next < end && *next == ',');
        HERD_FUZZ_CHECK(std::memcmp(&f, &general, sizeof f) == 0);
        item = next + 1;
    }
    HERD_FUZZ_CHECK(item == stop);
#if HERD_UNIT_FRACTION_AVX2
    if (__builtin_cpu_supports("avx2")) {
        std::vector<float> avx2;
        HERD_FUZZ_CHECK(take_unit_fractions_avx2(begin, end, avx2) == stop);
        HERD_FUZZ_CHECK(avx2.size() == taken.size());
        HERD_FUZZ_CHECK(taken.empty() || std::memcmp(avx2.data(), taken.data(), taken.size() * sizeof(float)) == 0);
    }
#endif
#else
    (void)data;
    (void)size;
#endif
    return 0;
}
