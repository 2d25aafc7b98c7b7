// The input of `herd embed`: the JSONL/plain-lines reader, read in windows
// of random sizes as the batch engine does, against a resume index. Every
// text read has its id, ids of released inputs are gone, skipped ids are
// in the index, and the reader never throws on bad lines (it reports them).
#include "http_harness.hpp"

#include "cli/corpus_io.hpp"

#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    auto format = static_cast<herd::cli::input_format>(in.ConsumeIntegralInRange<int>(0, 2));
    std::size_t window = in.ConsumeIntegralInRange<std::size_t>(1, 16);
    herd::cli::done_index done; // ids a resumed run skips
    for (int n = in.ConsumeIntegralInRange<int>(0, 4); n > 0; --n) done.add(in.ConsumeRandomLengthString(16));
    done.add("0");
    done.add("\"a\"");
    done.seal();
    std::istringstream text(in.ConsumeRemainingBytesAsString());
    herd::cli::corpus_reader reader(text, format, "id", "text", done);
    std::vector<std::string> texts;
    std::size_t total = 0;
    for (std::size_t got; (got = reader.read(texts, window)) > 0; total += got) {
        HERD_FUZZ_CHECK(got <= window);
        for (std::size_t i = total; i < total + got; ++i) HERD_FUZZ_CHECK(!done.contains(reader.id(i)));
        reader.release(total + got);
        bool gone = false;
        try {
            (void)reader.id(total);
        } catch (const std::out_of_range&) {
            gone = true;
        }
        HERD_FUZZ_CHECK(gone);
    }
    HERD_FUZZ_CHECK(texts.size() == total);
    HERD_FUZZ_CHECK(total + reader.skipped() + reader.errors().size() <= reader.lines());
    for (const auto& e : reader.errors()) HERD_FUZZ_CHECK(e.line >= 1 && e.line <= reader.lines() && !e.reason.empty());
    return 0;
}
