#pragma once
// Where the live tests find real Ollama servers (HERD_TEST_NODES,
// HERD_TEST_MODEL, HERD_TEST_CHAT_MODEL; scripts/live-test sets them), and
// the corpus they embed.
//
// Without HERD_TEST_NODES the live test program skips every test (see
// live/main.cpp): it never fakes a server.

#include <herd/pool_config.hpp>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace herd::live {

/// The exit code ctest treats as "skipped" (SKIP_RETURN_CODE).
inline constexpr int skip_code = 77;

inline std::string env(const char* name, std::string fallback = {}) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

inline bool enabled() { return !env("HERD_TEST_NODES").empty(); }

/// The real nodes, as URLs ("http://127.0.0.1:11434").
inline std::vector<std::string> nodes() { return pool_config::parse_node_list(env("HERD_TEST_NODES")); }
inline std::string embed_model() { return env("HERD_TEST_MODEL", "all-minilm"); }
inline std::string chat_model() { return env("HERD_TEST_CHAT_MODEL", "smollm2:135m"); }

/// Width of all-minilm's vectors.
inline constexpr std::size_t dim = 384;

/// The default pool_config with only the nodes and the model set.
inline pool_config config(std::vector<std::string> node_urls = nodes()) {
    pool_config cfg;
    cfg.nodes = std::move(node_urls);
    cfg.model = embed_model();
    return cfg;
}

/// Port of a loopback node URL ("http://127.0.0.1:11434" -> 11434). The
/// live tests only ever talk to 127.0.0.0/8.
inline std::uint16_t loopback_port(const std::string& url) {
    auto rest = url.rfind("http://127.", 0) == 0 ? url.substr(7) : std::string();
    auto colon = rest.rfind(':');
    if (rest.empty() || colon == std::string::npos)
        throw std::invalid_argument("live tests need http://127.x.y.z:PORT nodes, not " + url);
    return static_cast<std::uint16_t>(std::stoi(rest.substr(colon + 1)));
}

/// Text i of the live corpus: a sentence of 4..23 words that differs from
/// every other one in meaning enough for its vector to be told apart
/// (the tests check that too), so rows out of order are caught.
inline std::string text(std::size_t i) {
    static const char* const words[] = {
        "llamas",  "graze",   "on",     "high",    "plateaus", "while", "engineers", "measure",
        "latency", "across",  "every",  "node",    "rivers",   "carry", "silt",      "toward",
        "the",     "delta",   "quiet",  "servers", "hum",      "under", "autumn",    "rain",
        "copper",  "wires",   "bright", "stars",   "ancient",  "maps",  "describe",  "forgotten",
        "islands", "kitchen", "smells", "of",      "bread",    "and",   "strong",    "coffee"};
    constexpr std::size_t n_words = sizeof(words) / sizeof(words[0]);
    std::uint64_t state = 0x9e3779b97f4a7c15ULL * (i + 1);
    auto next = [&] {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::size_t>(state >> 33);
    };
    std::string s = "Note " + std::to_string(i) + ":";
    for (std::size_t w = 0, count = 4 + (i * 7) % 20; w < count; ++w) s += std::string(" ") + words[next() % n_words];
    return s;
}

inline std::vector<std::string> corpus(std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(text(i));
    return out;
}

} // namespace herd::live
