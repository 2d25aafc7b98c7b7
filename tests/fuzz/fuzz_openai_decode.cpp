// Bytes from an OpenAI-compatible node: the SSE splitter fed in random
// pieces must give the events a whole-buffer reference split gives (LF,
// CRLF and CR line ends, comments, multi-line data); every event goes
// through parse_chunk and accumulate without throwing, as the pool's
// stream does; and decode_embeddings (fast scanner + fallback) and
// decode_embeddings_exact agree bit for bit on the same bytes.
#include "http_harness.hpp"

#include <herd/ollama/chat.hpp>
#include <herd/openai/chat.hpp>
#include <herd/openai/codec.hpp>
#include <herd/openai/sse.hpp>

#include <cstring>

namespace {

// The events of `text` by the WHATWG rules, whole (the oracle).
std::vector<std::string> reference_events(std::string_view text) {
    std::vector<std::string> out, lines;
    std::string line;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\r' || c == '\n') {
            lines.push_back(std::move(line));
            line.clear();
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else {
            line.push_back(c);
        }
    }
    if (!line.empty()) lines.push_back(std::move(line));
    lines.emplace_back(); // finish(): the last event dispatched
    std::string data;
    bool has = false;
    for (const auto& l : lines) {
        if (l.empty()) {
            if (has) out.push_back(data);
            data.clear();
            has = false;
        } else if (l.rfind("data:", 0) == 0) {
            std::string_view v = std::string_view(l).substr(5);
            if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
            if (has) data.push_back('\n');
            data.append(v);
            has = true;
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    std::vector<std::size_t> pieces(in.ConsumeIntegralInRange<std::size_t>(1, 8));
    for (auto& n : pieces) n = in.ConsumeIntegralInRange<std::size_t>(1, 64);
    std::string text = in.ConsumeRemainingBytesAsString();

    herd::openai::sse_splitter split(1 << 20);
    std::vector<std::string> events;
    herd::chat_response response;
    auto take = [&] {
        while (auto e = split.next()) {
            herd::chat_part part;
            std::string error;
            if (*e != "[DONE]" && herd::openai::parse_chunk(*e, part, error) && error.empty())
                herd::ollama::accumulate(response, part);
            events.push_back(std::move(*e));
        }
    };
    std::string_view rest = text;
    for (std::size_t i = 0; !rest.empty(); ++i) {
        auto piece = rest.substr(0, pieces[i % pieces.size()]);
        rest.remove_prefix(piece.size());
        HERD_FUZZ_CHECK(split.feed(piece)); // inputs are far below the limit
        take();
    }
    split.finish();
    take();
    HERD_FUZZ_CHECK(events == reference_events(text));

    // The fast scanner and the SAX decoder agree bit for bit.
    herd::ollama::embed_reply fast, exact;
    auto f = herd::openai::decode_embeddings(text, fast);
    auto e = herd::openai::decode_embeddings_exact(text, exact);
    HERD_FUZZ_CHECK(f.code == e.code && f.message == e.message);
    if (!f) {
        HERD_FUZZ_CHECK(fast.embeddings.rows() == exact.embeddings.rows());
        HERD_FUZZ_CHECK(fast.embeddings.dim() == exact.embeddings.dim());
        HERD_FUZZ_CHECK(fast.embeddings.storage().size() == fast.embeddings.rows() * fast.embeddings.dim());
        HERD_FUZZ_CHECK(std::memcmp(fast.embeddings.storage().data(), exact.embeddings.storage().data(),
                                    fast.embeddings.storage().size() * sizeof(float)) == 0);
        HERD_FUZZ_CHECK(fast.model == exact.model && fast.prompt_eval_count == exact.prompt_eval_count);
    }
    return 0;
}
