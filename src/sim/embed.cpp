#include "sim/embed.hpp"

#include "sim/json_util.hpp"
#include "sim/profile.hpp"
#include "sim/wire.hpp"

#include <herd/sim/embedding_rule.hpp>

#include <nlohmann/json.hpp>

namespace herd::sim {

std::variant<embed_request, api_error> parse_embed(std::string_view body, bool legacy) {
    auto parsed = parse_body(body);
    if (auto* e = std::get_if<api_error>(&parsed)) return std::move(*e);
    auto& j = std::get<nlohmann::json>(parsed);

    embed_request r;
    r.legacy = legacy;
    try {
        read_field(j, "model", r.model);
        read_field(j, "truncate", r.truncate);
        read_field(j, "dimensions", r.dimensions);
        r.keep_alive = keep_alive_from_json(j);
    } catch (const std::invalid_argument& e) {
        return bad_request(e.what());
    }

    auto input = j.find(legacy ? "prompt" : "input");
    if (legacy) {
        // Ollama answers an empty or missing prompt with an empty vector.
        if (input != j.end() && !input->is_null()) {
            if (!input->is_string()) return bad_request("invalid prompt type");
            if (!input->get_ref<const std::string&>().empty())
                r.inputs.push_back(std::move(input->get_ref<std::string&>()));
        }
        return r;
    }
    if (input == j.end() || input->is_null()) return bad_request("input is required");
    if (input->is_string()) {
        // "" embeds nothing, as Ollama.
        if (!input->get_ref<const std::string&>().empty())
            r.inputs.push_back(std::move(input->get_ref<std::string&>()));
    } else if (input->is_array()) {
        r.inputs.reserve(input->size());
        for (auto& v : *input) {
            if (!v.is_string()) return bad_request("invalid input type");
            r.inputs.push_back(std::move(v.get_ref<std::string&>()));
        }
    } else {
        return bad_request("invalid input type");
    }
    return r;
}

std::size_t estimate_tokens(std::string_view text) noexcept { return text.size() / 4 + 1; }

void vector_cache::append(std::string& out, std::string_view model, std::string_view text, std::size_t full_dim,
                          std::size_t dimensions) {
    if (dimensions == 0 || dimensions > full_dim) dimensions = full_dim;
    key_.clear();
    key_ += model;
    key_ += '\0';
    wire::append_uint(key_, dimensions);
    key_ += '\0';
    key_ += text;
    if (auto it = map_.find(key_); it != map_.end()) {
        out += it->second;
        return;
    }
    std::string rendered;
    rendered.reserve(dimensions * 12 + 2);
    rendered += '[';
    auto v = expected_embedding(model, text, full_dim, dimensions);
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) rendered += ',';
        wire::append_float(rendered, v[i]);
    }
    rendered += ']';
    out += rendered;
    if (bytes_ + rendered.size() + key_.size() > max_bytes_) {
        map_.clear();
        bytes_ = 0;
    }
    bytes_ += rendered.size() + key_.size();
    map_.emplace(key_, std::move(rendered));
}

void render_embed(std::string& out, const embed_request& r, std::size_t full_dim, vector_cache& cache,
                  int wrong_count, const embed_timing& t) {
    out.clear();
    if (r.legacy) {
        out += "{\"embedding\":";
        if (r.inputs.empty()) out += "[]";
        else cache.append(out, base_model_name(r.model), r.inputs.front(), full_dim, r.dimensions);
        out += '}';
        return;
    }
    out += "{\"model\":";
    wire::append_json_string(out, r.model);
    out += ",\"embeddings\":[";
    long count = static_cast<long>(r.inputs.size()) + wrong_count;
    for (long i = 0; i < count; ++i) {
        if (i) out += ',';
        std::string_view text;
        if (!r.inputs.empty())
            text = r.inputs[std::min<std::size_t>(static_cast<std::size_t>(i), r.inputs.size() - 1)];
        cache.append(out, base_model_name(r.model), text, full_dim, r.dimensions);
    }
    out += "],\"total_duration\":";
    wire::append_uint(out, static_cast<std::uint64_t>(t.total.count()));
    out += ",\"load_duration\":";
    wire::append_uint(out, static_cast<std::uint64_t>(t.load.count()));
    out += ",\"prompt_eval_count\":";
    wire::append_uint(out, t.prompt_eval_count);
    out += '}';
}

} // namespace herd::sim
