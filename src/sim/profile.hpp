#pragma once
// What one simulated node is: its speed, its slots, its models and the
// faults it starts with. Shipped profiles: "zero", "gpu", "cpu" (fixed
// numbers tests and benchmarks rely on), "ollama-cpu" (calibrated against
// a real Ollama 0.24.0 on one CPU thread) and "gpu-batch".

#include "sim/fault.hpp"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herd::sim {

enum class model_kind { embedding, chat };

/// An installed model.
struct model_spec {
    std::string name;                    ///< without ":latest"
    model_kind kind = model_kind::embedding;
    std::size_t dim = 0;                 ///< vector width; a chat model's is what /api/embed gives for it
    std::size_t context_length = 512;    ///< tokens; longer input with truncate:false is a 400
    std::uint64_t size = 0;              ///< bytes, as /api/tags and /api/ps report
    std::string family = "bert";
    std::string parameter_size = "";
};

/// The models every shipped profile installs: mxbai-embed-large (1024),
/// nomic-embed-text (768), all-minilm (384) and the chat model llama3.2
/// (3072). "ollama-cpu" adds the real test server's all-minilm-1t (384) and
/// smollm2:135m (chat, 576).
std::vector<model_spec> default_models();

struct node_profile {
    using us = std::chrono::microseconds;

    std::string name = "custom";
    std::uint16_t port = 0;              ///< 0: pick a free port
    std::size_t embed_slots = 1;         ///< parallel requests per embedding model (Ollama: 1)
    std::size_t chat_slots = 4;          ///< parallel requests per chat model (OLLAMA_NUM_PARALLEL)
    us request_overhead{0};              ///< per request
    us load_overhead{0};                 ///< the part of request_overhead reported as load_duration (Ollama's
                                         ///< scheduler check, paid even when warm); at most request_overhead
    us per_input_cost{0};                ///< per embedded text
    std::chrono::nanoseconds per_char_cost{0}; ///< per byte of embedded text or prompt
    double tail_fraction = 0;            ///< this fraction of requests...
    double tail_multiplier = 1;          ///< ...takes this many times longer
    us token_interval{0};                ///< per generated chat token
    us model_load_time{0};               ///< cold start of an installed model that is not loaded
    std::vector<model_spec> models = default_models();
    std::vector<std::string> loaded;     ///< loaded at start; empty list = none
    bool gpu = false;                    ///< /api/ps size_vram == size when true, 0 when false
    std::size_t queue_limit = 512;       ///< requests allowed to wait per model (OLLAMA_MAX_QUEUE)
    std::string version = "0.5.7";
    std::uint64_t seed = 1;              ///< PRNG for the tail and faults (mixed with the node index)
    std::size_t chunk_size = 0;          ///< chunked bodies in pieces of this size; 0 = one chunk (Go's way)
    fault_spec faults;                   ///< faults at start

    /// The installed model called `name` (":latest" ignored), or nullptr.
    const model_spec* find_model(std::string_view name) const noexcept;
};

/// A shipped profile by name: one of profile_names(). Throws
/// std::invalid_argument for any other name.
node_profile profile(std::string_view name);

/// "zero, gpu, cpu, ollama-cpu, gpu-batch": the names profile() takes.
std::string_view profile_names() noexcept;

void to_json(nlohmann::json& j, const node_profile& p);
void to_json(nlohmann::json& j, const model_spec& m);

/// A node profile from config JSON: `{"profile": "gpu", ...overrides...,
/// "faults": {...}}` (profile defaults to "zero"). Profile times are numbers
/// in the field's unit (microseconds; per_char_cost nanoseconds) or duration
/// strings such as "1.5s". Throws std::invalid_argument on a bad field.
node_profile profile_from_json(const nlohmann::json& j);

/// The model name without a ":latest" tag.
std::string_view base_model_name(std::string_view name) noexcept;

/// Ollama's rule for a model name ([host/][namespace/]model[:tag]): model
/// and tag 1-80 characters, letters, digits, '_', '-', '.', not starting
/// with '-' or '.'. False for "" too (which Ollama answers differently).
bool valid_model_name(std::string_view name) noexcept;

} // namespace herd::sim
