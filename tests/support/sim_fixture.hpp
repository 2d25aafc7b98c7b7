#pragma once
// A herd-sim cluster on loopback plus a pool config pointing at it, with
// timeouts short enough for tests.

#include <herd/matrix.hpp>
#include <herd/pool_config.hpp>
#include <herd/sim/embedding_rule.hpp>

#include "sim/cluster.hpp"

#include <span>
#include <string>
#include <vector>

namespace herd::test {

inline std::vector<sim::node_profile> profiles(std::initializer_list<const char*> names) {
    std::vector<sim::node_profile> out;
    for (auto n : names) out.push_back(sim::profile(n));
    return out;
}

/// Profile `base` without `model` (neither installed nor loaded).
inline sim::node_profile profile_without(const char* base, const std::string& model) {
    auto p = sim::profile(base);
    std::erase_if(p.models, [&](auto& m) { return m.name == model; });
    std::erase(p.loaded, model);
    return p;
}

/// pool_config as shipped, pointed at the cluster (model all-minilm).
inline pool_config default_config(const sim::cluster& c) {
    pool_config cfg;
    cfg.nodes = c.urls();
    cfg.model = "all-minilm";
    return cfg;
}

inline pool_config test_config(const sim::cluster& c) {
    pool_config cfg;
    cfg.nodes = c.urls();
    cfg.model = "all-minilm";
    cfg.request_timeout = std::chrono::milliseconds(800);
    cfg.first_load_timeout = std::chrono::milliseconds(800);
    cfg.call_timeout = std::chrono::seconds(20);
    cfg.connect_timeout = std::chrono::milliseconds(500);
    cfg.retry.max_attempts = 8;
    cfg.retry.min_per_second = 200;
    cfg.health.base_ejection = std::chrono::milliseconds(100);
    cfg.health.probe_interval = std::chrono::milliseconds(50);
    return cfg;
}

inline std::string text_for(std::size_t i) { return "chunk " + std::to_string(i) + " of the corpus"; }

/// True when `v` is herd-sim's vector for `text` under `model`.
inline bool is_rule_vector(std::string_view model, std::string_view text, std::span<const float> v,
                           std::size_t full_dim) {
    return sim::matches_rule(model, text, v.data(), v.size(), full_dim);
}

/// `n` texts text_for(0..n-1), each after `prefix`.
inline std::vector<std::string> corpus(std::size_t n, const std::string& prefix = "") {
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(prefix + text_for(i));
    return out;
}

/// Rows of `m` that are not herd-sim's all-minilm vector of the text at the
/// same index (a lost, duplicated or misplaced input shows up here).
inline std::size_t wrong_rows(const matrix& m, const std::vector<std::string>& texts) {
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < texts.size(); ++i)
        if (!is_rule_vector("all-minilm", texts[i], m[i], 384)) ++wrong;
    return wrong;
}

} // namespace herd::test
