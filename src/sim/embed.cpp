#include "sim/embed.hpp"

#include "sim/json_util.hpp"
#include "sim/profile.hpp"
#include "sim/wire.hpp"

#include <herd/sim/embedding_rule.hpp>

#include <nlohmann/json.hpp>

namespace herd::sim {

std::variant<embed_request, api_error> parse_embed(std::string_view body, bool legacy) {
    auto parsed = parse_body(body, legacy ? "api.EmbeddingRequest" : "api.EmbedRequest");
    if (auto* e = std::get_if<api_error>(&parsed)) return std::move(*e);
    auto& j = std::get<nlohmann::json>(parsed);

    // Ollama's order: field types, the model name, then the input.
    embed_request r;
    r.legacy = legacy;
    const std::string_view owner = legacy ? "EmbeddingRequest" : "EmbedRequest";
    std::string err;
    std::int64_t dimensions = 0;
    // The legacy request has no truncate and no dimensions: they are ignored.
    if (!read_go_field(j, owner, "model", r.model, err) ||
        (!legacy && (!read_go_field(j, owner, "truncate", r.truncate, err) ||
                     !read_go_field(j, owner, "dimensions", dimensions, err))))
        return bad_request(err);
    r.dimensions = dimensions > 0 ? static_cast<std::size_t>(dimensions) : 0; // <= 0: the full vector
    if (auto o = j.find("options"); o != j.end() && !o->is_null()) {
        if (!o->is_object())
            return bad_request("json: cannot unmarshal " + std::string(go_kind(*o)) + " into Go struct field " +
                               std::string(owner) + ".options of type map[string]interface {}");
        r.options = o->dump();
    }
    try {
        r.keep_alive = keep_alive_from_json(j);
    } catch (const std::invalid_argument& e) {
        return bad_request(e.what());
    }
    if (r.model.empty()) {
        if (legacy) return bad_request("model is required");
        return api_error{404, wire::error_json("model '' not found"), false};
    }
    if (!valid_model_name(r.model)) return bad_request("invalid model name");

    if (legacy) {
        // An empty or missing prompt gets an empty vector.
        std::string prompt;
        if (!read_go_field(j, owner, "prompt", prompt, err)) return bad_request(err);
        if (!prompt.empty()) r.inputs.push_back(std::move(prompt));
        return r;
    }
    // "", [], null and no input at all embed nothing (a 200 with no vectors).
    auto input = j.find("input");
    if (input == j.end() || input->is_null()) return r;
    if (input->is_string()) {
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

// About 4 bytes a word piece, plus BERT's [CLS] and [SEP] ("hello" is 3).
std::size_t estimate_tokens(std::string_view text) noexcept { return text.size() / 4 + 2; }

void vector_cache::append(std::string& out, std::string_view model, std::string_view text, std::size_t full_dim,
                          std::size_t dimensions) {
    if (dimensions == 0 || dimensions >= full_dim) dimensions = full_dim; // Ollama: the vector unchanged
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

namespace {

// Go's omitempty: a zero duration or count is left out.
void append_nonzero(std::string& out, std::string_view key, std::uint64_t v) {
    if (v == 0) return;
    out += ",\"";
    out += key;
    out += "\":";
    wire::append_uint(out, v);
}

} // namespace

namespace {

// The text whose vector is row `i` of an answer with `wrong_count` extra
// (or missing) rows: extra rows repeat the last text's vector.
std::string_view text_of_row(const embed_request& r, long i) {
    if (r.inputs.empty()) return {};
    return r.inputs[std::min<std::size_t>(static_cast<std::size_t>(i), r.inputs.size() - 1)];
}

} // namespace

void render_openai_embed(std::string& out, const embed_request& r, std::size_t full_dim, vector_cache& cache,
                         int wrong_count, std::size_t prompt_tokens, bool reversed) {
    out.clear();
    out += "{\"object\":\"list\",\"data\":[";
    long count = static_cast<long>(r.inputs.size()) + wrong_count;
    for (long k = 0; k < count; ++k) {
        long i = reversed ? count - 1 - k : k;
        if (k) out += ',';
        out += "{\"object\":\"embedding\",\"embedding\":";
        cache.append(out, base_model_name(r.model), text_of_row(r, i), full_dim, r.dimensions);
        out += ",\"index\":";
        wire::append_uint(out, static_cast<std::uint64_t>(i));
        out += '}';
    }
    out += "],\"model\":";
    wire::append_json_string(out, r.model);
    out += ",\"usage\":{\"prompt_tokens\":";
    wire::append_uint(out, prompt_tokens);
    out += ",\"total_tokens\":";
    wire::append_uint(out, prompt_tokens);
    out += "}}";
}

void render_embed(std::string& out, const embed_request& r, std::size_t full_dim, vector_cache& cache,
                  int wrong_count, const embed_timing& t) {
    out.clear();
    if (r.legacy) {
        // Go writes the legacy vector as float64s.
        out += "{\"embedding\":[";
        if (!r.inputs.empty()) {
            auto v = expected_embedding(base_model_name(r.model), r.inputs.front(), full_dim);
            for (std::size_t i = 0; i < v.size(); ++i) {
                if (i) out += ',';
                wire::append_double(out, v[i]);
            }
        }
        out += "]}";
        return;
    }
    out += "{\"model\":";
    wire::append_json_string(out, r.model);
    out += ",\"embeddings\":[";
    long count = static_cast<long>(r.inputs.size()) + wrong_count;
    for (long i = 0; i < count; ++i) {
        if (i) out += ',';
        cache.append(out, base_model_name(r.model), text_of_row(r, i), full_dim, r.dimensions);
    }
    out += ']';
    append_nonzero(out, "total_duration", static_cast<std::uint64_t>(t.total.count()));
    append_nonzero(out, "load_duration", static_cast<std::uint64_t>(t.load.count()));
    append_nonzero(out, "prompt_eval_count", t.prompt_eval_count);
    out += '}';
}

} // namespace herd::sim
