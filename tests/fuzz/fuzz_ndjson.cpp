// Streamed chat/generate answers: the NDJSON splitter fed in random pieces
// must give the lines a whole-buffer split gives, never hold a pending line
// past max_line, and every line goes through parse_part and accumulate
// without throwing, as the pool's stream does with a node's bytes.
#include "http_harness.hpp"

#include <herd/ollama/chat.hpp>
#include <herd/ollama/ndjson.hpp>

namespace {

// The lines of `text` split at '\n' ('\r' before it dropped, empties skipped).
std::vector<std::string> reference_lines(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string_view::npos; start = nl + 1) {
        std::string line(text.substr(start, nl - start));
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) out.push_back(std::move(line));
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    std::size_t max_line = in.ConsumeIntegralInRange<std::size_t>(1, 4096);
    std::vector<std::size_t> pieces(in.ConsumeIntegralInRange<std::size_t>(1, 8));
    for (auto& n : pieces) n = in.ConsumeIntegralInRange<std::size_t>(1, 64);
    std::string text = in.ConsumeRemainingBytesAsString();

    herd::ollama::ndjson_splitter split(max_line);
    std::vector<std::string> lines;
    herd::chat_response response;
    std::string_view rest = text;
    bool overflow = false;
    for (std::size_t i = 0; !rest.empty() && !overflow; ++i) {
        auto piece = rest.substr(0, pieces[i % pieces.size()]);
        rest.remove_prefix(piece.size());
        overflow = !split.feed(piece);
        while (auto line = split.next()) {
            herd::chat_part part;
            std::string error;
            if (herd::ollama::parse_part(*line, part, error) && error.empty())
                herd::ollama::accumulate(response, part);
            lines.push_back(std::move(*line));
        }
        HERD_FUZZ_CHECK(overflow || split.rest().size() <= max_line);
    }
    if (!overflow) {
        HERD_FUZZ_CHECK(lines == reference_lines(text));
    }
    return 0;
}
