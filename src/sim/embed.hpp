#pragma once
// /api/embed and the legacy /api/embeddings: request validation with
// Ollama's texts, and the response body, whose vectors come from the
// deterministic rule (herd/sim/embedding_rule.hpp) through a cache of their
// rendered JSON so a zero-latency node answers in microseconds.

#include "sim/json_util.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace herd::sim {

struct embed_request {
    std::string model;
    std::vector<std::string> inputs;
    bool truncate = true;
    std::size_t dimensions = 0; ///< 0 (also for <= 0 or >= the model's): the full vector
    std::optional<std::chrono::nanoseconds> keep_alive;
    bool legacy = false;        ///< /api/embeddings {model, prompt}
    std::string options;        ///< the "options" object's JSON text, keys sorted; "" when absent or null
};

/// Reads an embed request body (`legacy`: /api/embeddings) with Ollama's
/// checks in Ollama's order: the body's JSON and field types (400), the
/// model name (missing: 404 "model '' not found", legacy 400 "model is
/// required"; malformed: 400 "invalid model name"), then the input (not a
/// string or list of strings: 400 "invalid input type"). Missing, null, ""
/// and [] input give a request with no inputs, which Ollama answers 200.
/// Whether the model exists is the caller's check.
std::variant<embed_request, api_error> parse_embed(std::string_view body, bool legacy);

/// Rough token count Ollama would report for `text` (4 bytes a token, plus
/// the two special tokens).
std::size_t estimate_tokens(std::string_view text) noexcept;

/// Rendered JSON arrays of rule vectors, keyed by (model, dims, text).
/// Bounded by bytes; cleared when full (a corpus rarely repeats, a benchmark
/// always does). One thread only.
class vector_cache {
public:
    explicit vector_cache(std::size_t max_bytes = 32 * 1024 * 1024) : max_bytes_(max_bytes) {}

    /// Appends "[v1,v2,...]" for `text` to `out`.
    void append(std::string& out, std::string_view model, std::string_view text, std::size_t full_dim,
                std::size_t dimensions);

    std::size_t size() const noexcept { return map_.size(); }

private:
    std::unordered_map<std::string, std::string> map_;
    std::string key_; // reused for lookups so a hit allocates nothing
    std::size_t bytes_ = 0, max_bytes_;
};

struct embed_timing {
    std::chrono::nanoseconds total{0}, load{0};
    std::size_t prompt_eval_count = 0;
};

/// The response body. `wrong_count` adds (repeating the last text's vector)
/// or drops vectors, to play a buggy node. Durations and the count are left
/// out when zero (Go's omitempty), as for a request with no inputs. The
/// legacy body is `{"embedding":[...]}` in float64 digits, ignoring
/// dimensions.
void render_embed(std::string& out, const embed_request& r, std::size_t full_dim, vector_cache& cache,
                  int wrong_count, const embed_timing& t);

/// The /v1/embeddings body (OpenAI's shape, as Ollama's /v1 writes it):
/// {"object": "list", "data": [{"object": "embedding", "embedding": [...],
/// "index": i}], "model", "usage": {"prompt_tokens", "total_tokens"}} with
/// the same rule vectors as render_embed; `wrong_count` as there.
/// `reversed` writes the items last index first (servers may reorder).
void render_openai_embed(std::string& out, const embed_request& r, std::size_t full_dim, vector_cache& cache,
                         int wrong_count, std::size_t prompt_tokens, bool reversed);

} // namespace herd::sim
