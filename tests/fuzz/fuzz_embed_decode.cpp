// The /api/embed reply decoder. decode_embed (the fast scanner, falling
// back to the exact decoder) and decode_embed_exact (nlohmann's SAX parser
// alone) must agree on every input: both fail, or both succeed with the
// same floats bit for bit, the same shape, model and counts. A DOM parse
// is the independent judge of the shape: a reply decode accepts must be an
// object whose "embeddings" is rows of numbers of one length; one that is
// such an object (numbers well inside float range, no "error") must be
// accepted.
#include "http_harness.hpp"

#include <herd/ollama/codec.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

namespace {

using herd::ollama::embed_reply;

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void check_against_dom(std::string_view body, bool accepted, const embed_reply& r) {
    // The DOM keeps the last of duplicate keys; the decoders refuse a second
    // "embeddings" (which rows would be meant?), so the judge counts them.
    int embeddings_keys = 0;
    auto j = nlohmann::json::parse(
        body,
        [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
            if (event == nlohmann::json::parse_event_t::key && depth == 1 && parsed == "embeddings") ++embeddings_keys;
            return true;
        },
        false);
    if (!accepted) {
        // Only a plainly good reply must have been accepted.
        if (!j.is_object() || embeddings_keys != 1 || !j["embeddings"].is_array()) return;
        if (j.contains("error") && j["error"].is_string()) return;
        std::size_t dim = 0, row = 0;
        for (auto& v : j["embeddings"]) {
            if (!v.is_array() || (row++ && v.size() != dim)) return;
            dim = v.size();
            for (auto& x : v)
                if (!x.is_number() || std::fabs(x.get<double>()) > 1e38) return;
        }
        HERD_FUZZ_CHECK(!"decode_embed refused a good reply");
    }
    HERD_FUZZ_CHECK(j.is_object());
    auto& e = j["embeddings"];
    HERD_FUZZ_CHECK(e.is_array() && e.size() == r.embeddings.rows());
    for (std::size_t i = 0; i < e.size(); ++i) {
        HERD_FUZZ_CHECK(e[i].is_array() && e[i].size() == r.embeddings.dim());
        auto row = r.embeddings.row(i);
        for (std::size_t k = 0; k < row.size(); ++k) {
            const auto& x = e[i][k];
            HERD_FUZZ_CHECK(x.is_number());
            if (x.is_number_integer()) {
                HERD_FUZZ_CHECK(x.is_number_unsigned() ? same_bits(row[k], static_cast<float>(x.get<std::uint64_t>()))
                                                       : same_bits(row[k], static_cast<float>(x.get<std::int64_t>())));
            } else {
                // The DOM holds a double: its float may differ by double rounding, by one ulp at most.
                float viaDouble = static_cast<float>(x.get<double>());
                HERD_FUZZ_CHECK(std::isfinite(row[k]) &&
                                (same_bits(row[k], viaDouble) || std::nextafter(row[k], viaDouble) == viaDouble ||
                                 (row[k] == 0 && viaDouble == 0)));
            }
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    embed_reply fast, exact;
    auto f1 = herd::ollama::decode_embed(body, fast);
    auto f2 = herd::ollama::decode_embed_exact(body, exact);
    HERD_FUZZ_CHECK(bool(f1) == bool(f2));
    HERD_FUZZ_CHECK(f1.code == f2.code && f1.message == f2.message);
    if (!f1) {
        HERD_FUZZ_CHECK(fast.embeddings.rows() == exact.embeddings.rows());
        HERD_FUZZ_CHECK(fast.embeddings.dim() == exact.embeddings.dim());
        const auto& a = fast.embeddings.storage();
        const auto& b = exact.embeddings.storage();
        HERD_FUZZ_CHECK(a.size() == b.size() && a.size() == fast.embeddings.rows() * fast.embeddings.dim());
        HERD_FUZZ_CHECK(a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
        HERD_FUZZ_CHECK(fast.model == exact.model && fast.total_duration == exact.total_duration &&
                        fast.load_duration == exact.load_duration &&
                        fast.prompt_eval_count == exact.prompt_eval_count);
    }
    check_against_dom(body, !f1, fast);
    return 0;
}
